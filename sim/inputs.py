"""The files a scenario reads, and their digests: what a resumed study (`sweep`, `uncertainty`,
`pathway --resume`) checks is unchanged before it adds runs to the ones it kept.

A scenario's dump names its geodata, market table, estimates and reference scenario by path
only, so a study fingerprinted by the dump alone resumed after a geojson was edited and mixed
the runs of two networks in one table. `read_files` lists every file a run of the scenario
reads (its `extends` chain, the geodata, the market table and estimates, the estimates of its
uncertain inputs, and the reference scenario with all of its own files); `digests` hashes
their contents, and `changed_input` names the first that differs from what a study kept.

A run's folder records the same digests (`record`, run.json's manifest), with what no file
holds: the fields set in Python (`with_overrides`) and every change the run applied, so a run
of an edited scenario never looks like a run of its files alone.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.errors import InputError
from sim.geodata import HUBS_FILE, LINKS_FILE, LOCKS_FILE
from sim.scenario import Elements, Scenario, element_digests, load_scenario
from sim.specs import Spec
from sim.uncertain import FromCalibration

if TYPE_CHECKING:
    from sim.network import Plan

ABSENT = "absent"       # the digest of a file a run would read if it were there (locks)
CODE = "code"           # the key of the code's version among a study's digests


def _own_files(scenario: Scenario) -> list[Path]:
    """The files this scenario reads itself (not through its reference scenario)."""
    files = [Path(f) for f in scenario.provenance.files] or (
        [Path(scenario.source_file)] if scenario.source_file else [])
    geodata = Path(scenario.network.geodata)
    files += [geodata / name for name in (HUBS_FILE, LINKS_FILE, LOCKS_FILE)]
    if scenario.market is not None:
        files.append(Path(scenario.market.table))
        if scenario.market.estimates:
            files.append(Path(scenario.market.estimates))
    files += [Path(d.estimates) for d in scenario.uncertain.values()
              if isinstance(d, FromCalibration) and d.estimates]
    return files


def read_files(scenarios: Iterable[Scenario]) -> list[Path]:
    """Every file a run of any of `scenarios` reads, each once, in a stable order; a
    reference scenario's own files included (a reference that does not load adds only
    itself: its run reports the error)."""
    return _with_references([(_own_files(s), s.demand.reference_scenario) for s in scenarios])


def plan_files(plan: Plan) -> list[Path]:
    """Every file a run of `plan` reads, as `read_files` of its scenario, but with the plan's
    own reference scenario (a comparison gives an ALT that names none BASE's file)."""
    return _with_references([([Path(f) for f in plan.origin.files], plan.reference_scenario)])


def _with_references(starts: Iterable[tuple[list[Path], str | None]]) -> list[Path]:
    """The files given, each with the reference scenario its run reads, and that reference's
    own files and references in turn: each once, sorted."""
    found: dict[Path, None] = {}
    seen: set[str] = set()
    todo = list(starts)
    while todo:
        own, reference = todo.pop()
        found.update(dict.fromkeys(own))
        if reference is None or reference in seen:
            continue
        seen.add(reference)
        found[Path(reference)] = None
        try:
            scenario = load_scenario(reference)
        except InputError:
            continue
        todo.append((_own_files(scenario), scenario.demand.reference_scenario))
    return sorted(found)


@dataclass(frozen=True)
class Origin:
    """What a plan keeps of the scenario it was built from, for its run's folder (`record`):
    the files that scenario reads itself, the fields set in Python (`with_overrides`) and
    every change applied, each with the file and field that wrote it (`set_by`); `chain`,
    its extends chain with the sections each file sets (`Provenance.chain`), so a report of
    two run folders can tell whether one is the other plus changes; `description`, the
    scenario's own, which the report's header shows; `elements`, a digest of each service,
    lock and background traffic it sets (`sim.scenario.element_digests`), so a comparison
    names what the two set apart, however it was set; and of each hub's spec as the plan
    has it (a geodata copy's edit too)."""

    files: tuple[str, ...] = ()
    chain: tuple[tuple[str, tuple[str, ...]], ...] = ()
    description: str = ""
    overrides: tuple[tuple[str, Any], ...] = ()
    changes: tuple[dict[str, Any], ...] = ()
    elements: Elements = field(default_factory=dict)


PYTHON = "no file (set in Python)"   # the `set_by` of a change no scenario file wrote


def origin_of(scenario: Scenario, hubs: Mapping[str, Spec] | None = None) -> Origin:
    """The `Origin` of a plan built from `scenario`, whose hubs are `hubs` (digested with the
    scenario's elements, `element_digests`)."""
    written = len(scenario.provenance.changes)   # the merged changes that files wrote
    changes = []
    for i, change in enumerate(scenario.changes):
        file, at = scenario.locate(f"changes.{i}") if i < written else (PYTHON, "")
        fields = change.model_dump(mode="json", exclude_defaults=True)
        changes.append({"kind": fields.pop("kind"),
                        "set_by": f"{file}: {at}" if at else file, **fields})
    return Origin(files=tuple(str(f) for f in _own_files(scenario)),
                  chain=scenario.provenance.chain, description=scenario.description,
                  overrides=tuple(scenario.provenance.overrides.items()),
                  changes=tuple(changes), elements=element_digests(scenario, hubs))


def record(plan: Plan) -> dict[str, Any]:
    """Where a run of `plan` came from, as its folder's run.json records it (the manifest):
    `inputs`, the sha256 of every file it reads (`plan_files`) and the code's version, as
    they are now (a run takes them before it starts); `overrides`, the fields set in Python;
    `changes`, every change applied and what wrote it; `elements`, a digest of each service,
    lock and background traffic as the scenario sets them, and of each hub's spec
    (`Origin.elements`); `extends`,
    the scenario's extends chain, root base first, each file with the sections it sets
    (`Origin.chain`)."""
    from sim.cache import code_version

    with warnings.catch_warnings():   # a reference's warnings are its own run's to give
        warnings.simplefilter("ignore")
        files = plan_files(plan)
    return {"inputs": digests(files, code_version()),
            "overrides": dict(plan.origin.overrides), "changes": list(plan.origin.changes),
            "elements": {kind: dict(ids) for kind, ids in plan.origin.elements.items()},
            "extends": [{"file": f, "sets": list(sets)} for f, sets in plan.origin.chain]}


def digests(files: Iterable[Path], code: str) -> dict[str, str]:
    """The sha256 of each file's contents by its absolute path (`ABSENT` when missing), and
    the code's version under `CODE`."""
    from sim.staging import sha256_file

    out = {CODE: code}
    for path in files:
        out[os.path.abspath(path)] = sha256_file(path) if path.is_file() else ABSENT
    return out


def shown(path: str) -> str:
    """A path as a message shows it: relative to the working folder when inside it."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def changed_input(held: Mapping[str, str], now: Mapping[str, str]) -> str | None:
    """What differs between the digests a study kept and the current ones, as a clause ("X
    changed since they were made", or a file only one side reads), None when nothing does.
    A file is named before the code's version: an edited module of `--import`'s changes
    both, and is named with the module that brought it (`study_digests`)."""
    from sim.extensions import code_files

    brought = {os.path.abspath(path): module for path, module in code_files().items()}
    for path in sorted(set(held) | set(now)):
        if path != CODE and held.get(path) != now.get(path):
            what = shown(path) + (f" (code of the module --import {brought[path]})"
                                  if path in brought else "")
            if path not in now:   # another study's file: not changed, just not these inputs'
                return f"{what} is read by the runs kept, not by these inputs"
            if path not in held:
                return f"{what} is read by these inputs, not by the runs kept"
            return f"{what} changed since they were made"
    if held.get(CODE) != now.get(CODE):
        return "cqsim's code (its source or the libraries it runs on) changed since they " \
               "were made"
    return None


def study_digests(files: Iterable[Path]) -> dict[str, str]:
    """The digests a study (sweep, pathway, plan) keeps of what its runs read: `files`, the
    files of the code `--import` brought (`sim.extensions.code_files`, so that an edit of
    one is named) and the code's identity (`sim.cache.code_identity`)."""
    from sim.cache import code_identity
    from sim.extensions import code_files

    return digests([*files, *code_files()], code_identity())


def study_identity(path: str | Path, spec: Any, base: Scenario,
                   **extra: Any) -> tuple[dict[str, str], str]:
    """What a study's manifest keeps so that its runs are never mixed with another's: the
    digests of its file and of every file its runs read, with the code (`study_digests`), and a
    fingerprint of those with its spec and base as loaded and `extra` (a plan's year)."""
    import hashlib
    import json

    inputs = study_digests([Path(path), *read_files([base])])
    identity = json.dumps({"spec": spec.model_dump(mode="json", exclude={"source_file"}),
                           "base": base.model_dump(mode="json", exclude={"source_file"}),
                           "inputs": inputs, **extra}, sort_keys=True, default=str)
    return inputs, hashlib.sha256(identity.encode()).hexdigest()


def read_meta(file: Path) -> dict[str, Any]:
    """The metadata a study keeps beside its runs (`pathway.json`, `plan.json`): {} when
    there is none; InputError when it is not the JSON object cqsim writes (its runs then
    cannot be told apart from another study's)."""
    import json

    if not file.is_file():
        return {}
    try:
        held = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        held = None
    if not isinstance(held, dict):
        raise InputError(file, "", "the JSON object cqsim writes beside its runs (choose "
                                   "another --out, or delete this folder)")
    return held


def check_resume(held: object, now: Mapping[str, str], file: str | Path) -> None:
    """Refuse to resume a study whose kept digests (`held`, from its metadata: None when it
    kept none) differ from `now`: InputError naming `file`, `--resume` and what changed."""
    if not isinstance(held, dict):
        return
    what = changed_input(held, now)
    if what is not None:
        raise InputError(file, "--resume", f"the inputs of the runs kept ({what}; use "
                         "another --out or drop --resume)")
