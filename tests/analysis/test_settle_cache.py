"""The cache (`sim.cache`) of feedback passes and route choice sets: a plan settled once is
read back, not settled again, with the same results; any change of its inputs is another
entry; a cache that cannot be used only costs time."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

import sim.equilibrium as equilibrium
from sim import cache, extensions, routing
from sim.cli import main
from sim.errors import InputError
from sim.pipeline import prepare, settle
from tests.support.market import write_market_scenario

PASSES = {"max_iterations": 3, "min_iterations": 3, "days": 40, "tolerance": 0.001,
          "per_replication": True}


def _scenario(tmp: Path, **kw: Any) -> Path:
    return write_market_scenario(tmp, horizon={"days": 40, "warmup_days": 5},
                                 replications=2, equilibrium=PASSES, **kw)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The cache on, in a folder of the test's own (the suite runs with it off)."""
    where = tmp_path / "cache"
    monkeypatch.setenv(cache.ENV, str(where))
    return where


def _settlings(folder: Path) -> list[Path]:
    """The entries of feedback passes (the cache keeps route choice sets beside them)."""
    return [p for p in folder.glob("*.pickle")
            if isinstance(pickle.loads(p.read_bytes()), equilibrium.Learnt)]


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the feedback passes' simulations."""
    calls: list[int] = []
    real = equilibrium.simulate

    def counted(*args: Any, **kw: Any) -> Any:
        calls.append(1)
        return real(*args, **kw)
    monkeypatch.setattr(equilibrium, "simulate", counted)
    return calls


def test_a_settled_plan_is_read_back_with_the_same_state(
        tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a dated closure, so that the delays learnt in events are part of what is kept
    plan = prepare(_scenario(tmp_path, changes=[
        {"kind": "disruption", "hub": "qz", "start_day": 15, "end_day": 22,
         "capacity_factor": 0.0, "why": "test: a dated closure"}]))
    calls = _counting(monkeypatch)
    first = settle(plan)
    assert len(calls) == 3 and len(_settlings(folder)) == 1
    again = settle(plan)
    assert len(calls) == 3, "read from the cache, not simulated again"
    assert first.route_unforeseen_event
    for name in ("route_delay", "route_unforeseen", "route_unforeseen_event", "event_until",
                 "route_spread", "route_offered", "market", "report"):
        assert getattr(again, name) == getattr(first, name), name
    assert again.plan == first.plan
    monkeypatch.setenv(cache.ENV, "off")
    fresh = settle(plan)
    assert len(calls) == 6
    assert fresh.route_delay == first.route_delay and fresh.plan == first.plan


def test_every_input_of_the_passes_is_part_of_the_key(
        tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = prepare(_scenario(tmp_path))
    calls = _counting(monkeypatch)
    settle(plan)
    settle(prepare(plan.source_file, seed=plan.seed + 1))          # another seed
    equilibrium.settle(plan, replication=1)                        # another replication's streams
    settle(plan, initial_delay={0: 5.0})                           # another start of learning
    doc = yaml.safe_load(Path(plan.source_file).read_text(encoding="utf-8"))
    doc["network"]["services"]["south-rail"]["departures_per_week"] = 140
    Path(plan.source_file).write_text(yaml.safe_dump(doc), encoding="utf-8")
    settle(prepare(plan.source_file))       # the same file and name, another frequency
    assert len(calls) == 5 * 3 and len(_settlings(folder)) == 5
    settle(prepare(plan.source_file, replications=5))              # replications: the same
    assert len(calls) == 5 * 3
    monkeypatch.setattr(cache, "code_version", lambda: "another version of the code")
    settle(plan)
    assert len(calls) == 6 * 3


def test_a_run_from_the_cache_writes_the_same_tables(
        tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _scenario(tmp_path)
    runner = CliRunner()
    calls = _counting(monkeypatch)
    outs = []
    for k in range(2):
        out = tmp_path / f"out{k}"
        done = runner.invoke(main, ["run", str(path), "--no-map", "--no-report", "--out",
                                    str(out)])
        assert done.exit_code == 0, done.output
        outs.append(out)
    assert len(_settlings(folder)) == 2                       # each replication's passes
    assert len(calls) == 2 * 3, "the second run read both replications' passes"
    for table in sorted(outs[0].glob("*.csv")):
        pd.testing.assert_frame_equal(pd.read_csv(table), pd.read_csv(outs[1] / table.name))


def test_choice_sets_are_kept_under_their_routing_inputs(
        tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = prepare(_scenario(tmp_path))
    calls: list[int] = []
    real = routing._choice_sets

    def counted(p: Any) -> Any:
        calls.append(1)
        return real(p)
    monkeypatch.setattr(routing, "_choice_sets", counted)
    first = routing.choice_sets(plan)
    assert len(calls) == 1 and len(list(folder.glob("*.pickle"))) == 1
    again = routing.choice_sets(plan)
    assert len(calls) == 1, "read back, not enumerated again"
    assert again == first and repr(again) == repr(first)
    # run settings are not routing inputs: the same sets
    routing.choice_sets(prepare(plan.source_file, seed=plan.seed + 1, replications=5, days=20))
    assert len(calls) == 1
    # a tariff is: another entry
    doc = yaml.safe_load(Path(plan.source_file).read_text(encoding="utf-8"))
    doc["network"]["services"]["south-rail"]["price_cny_per_teu"] = 9_000
    Path(plan.source_file).write_text(yaml.safe_dump(doc), encoding="utf-8")
    dearer = routing.choice_sets(prepare(plan.source_file))
    assert len(calls) == 2 and dearer != first
    monkeypatch.setattr(cache, "code_version", lambda: "another version of the code")
    routing.choice_sets(plan)
    assert len(calls) == 3
    monkeypatch.setenv(cache.ENV, "off")
    assert routing.choice_sets(plan) == first and len(calls) == 4


def test_choice_sets_that_fail_are_not_kept(tmp_path: Path, folder: Path) -> None:
    doc = yaml.safe_load(_scenario(tmp_path).read_text(encoding="utf-8"))
    for name in ("east-river", "south-rail", "west-rail"):   # nothing leaves Chongqing
        del doc["network"]["services"][name]
    path = tmp_path / "cut-off.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    plan = prepare(path)
    for _ in range(2):
        with pytest.raises(InputError, match="joined by services"):
            routing.choice_sets(plan)
    assert not list(folder.glob("*.pickle"))


def test_a_run_its_budget_refuses_leaves_nothing_in_the_cache(tmp_path: Path,
                                                               folder: Path) -> None:
    """The choice sets were stored before the budget check: every refused run (exit 2)
    wrote an entry and could push useful ones out. They are stored once admitted."""
    from sim.boundary import admit
    from sim.budget import Limits

    path = _scenario(tmp_path)
    with pytest.raises(InputError):
        admit(path, limits=Limits(max_memory=4e9, max_events=1))
    assert not list(folder.glob("*.pickle"))
    admit(path, limits=None)
    assert len(list(folder.glob("*.pickle"))) == 1


def test_held_entries_are_stored_unless_the_block_is_refused(folder: Path) -> None:
    """`held` keeps what a command stores in memory (read back from there) and writes it when
    the command ends, except when it ends by refusing its input: a refused --out or sweep
    value, checked after the scenario was prepared, wrote a route choice set (fuzz41 #7)."""
    with pytest.raises(InputError), cache.held(InputError):
        cache.store("refused", 1)
        assert cache.load("refused") == 1 and not folder.exists()
        raise InputError("f.yaml", "x", "y")
    assert cache.load("refused") is None and not list(folder.glob("*.pickle"))
    with pytest.raises(RuntimeError), cache.held(InputError):
        cache.store("failed", 2)     # a run that fails after its checks: what it settled
        raise RuntimeError("not a refusal")
    with cache.held(InputError):
        with cache.held(InputError):  # an inner block stores into the outer one
            cache.store("inner", 3)
        assert not (folder / "inner.pickle").exists()
    assert (cache.load("failed"), cache.load("inner")) == (2, 3)


def test_an_inner_block_reads_what_the_outer_one_holds_and_release_stores_it(
        folder: Path) -> None:
    """`admit` holds inside the command's block: a comparison's alternative with its base's
    routing read its choice sets again (review42 M1). Once the command accepts its input
    (`release`, at its staged results folder), what it holds goes to disk for the processes
    that run it, and later entries are stored at once (M2)."""
    with cache.held(InputError):
        cache.store("outer", 1)
        with cache.held(InputError):
            assert cache.load("outer") == 1
            cache.store("inner", 2)
        assert not list(folder.glob("*.pickle"))
        with cache.held(InputError):
            cache.release()
            assert {p.stem for p in folder.glob("*.pickle")} == {"outer", "inner"}
            cache.store("after", 3)
            assert (folder / "after.pickle").exists()
        with pytest.raises(InputError), cache.held(InputError):
            cache.store("late", 4)     # a block begun after the release holds its own
            raise InputError("f.yaml", "x", "y")
        assert not (folder / "late.pickle").exists()


def test_a_staged_results_folder_releases_what_the_command_holds(tmp_path: Path,
                                                                 folder: Path) -> None:
    """`ResultFolder` is where run, compare, rank and uncertainty accept their input:
    entering it stores the held entries before any run starts (a sweep's, `accepts=False`,
    once its work folder is checked too: tests/sweep/test_sweep.py)."""
    from sim.staging import ResultFolder

    with cache.held(InputError):
        cache.store("settled", 1)
        with ResultFolder(tmp_path / "out", command="run"):
            assert (folder / "settled.pickle").exists()
    with cache.held(InputError):
        cache.store("later", 1)
        with ResultFolder(tmp_path / "out2", command="sweep", accepts=False):
            assert not (folder / "later.pickle").exists()


def test_a_refused_command_leaves_nothing_in_the_cache(tmp_path: Path, folder: Path) -> None:
    """`run --out FILE` is refused after the scenario is admitted (its route choice sets
    found): the entry is not written."""
    path = _scenario(tmp_path)
    result = CliRunner().invoke(main, ["run", str(path), "--out", str(path)])
    assert result.exit_code == 2 and "--out" in result.stderr
    assert not folder.exists() or not any(folder.iterdir())
    assert CliRunner().invoke(main, ["validate", str(path)]).exit_code == 0
    assert len(list(folder.glob("*.pickle"))) == 1, "an admitted scenario keeps its routes"


def test_a_run_keeps_what_its_forked_workers_settle(tmp_path: Path, folder: Path) -> None:
    """The replications' processes may be forked inside a `held` block not yet released
    (calibrate's, or a library caller's); each settles its own replication
    (`per_replication`) and, unable to hand it back, stores it itself rather than into its
    copy of the parent's held entries, where it was lost. (`cqsim run` forks them after its
    results folder released the block, so its CLI does not show it: final42 M1.)"""
    from sim.pipeline import run

    path = _scenario(tmp_path)
    with cache.held(InputError):
        run(path, workers=2)
    assert len(_settlings(folder)) == 2, "one settling per replication, both kept"


def test_a_torn_entry_is_computed_again(tmp_path: Path, folder: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    plan = prepare(_scenario(tmp_path))
    calls = _counting(monkeypatch)
    first = settle(plan)
    (entry,) = _settlings(folder)
    entry.write_bytes(entry.read_bytes()[:50])
    again = settle(plan)
    assert len(calls) == 6 and again.route_delay == first.route_delay
    assert isinstance(pickle.loads(entry.read_bytes()), equilibrium.Learnt), "written anew"


def test_an_unwritable_cache_costs_only_time(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(cache.ENV, str(blocker / "cache"))
    plan = prepare(_scenario(tmp_path))
    assert settle(plan).report.passes == 3
    assert cache.load("anything") is None


def test_the_oldest_entries_go_first(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "KEEP", 3)
    for k in range(5):
        cache.store(f"entry{k}", k)
        os.utime(folder / f"entry{k}.pickle", ns=(k * 10**9, k * 10**9))
    assert cache.load("entry2") == 2         # read: now the newest
    cache.store("entry5", 5)
    assert sorted(p.stem for p in folder.glob("*.pickle")) == ["entry2", "entry4", "entry5"]


def test_where_the_cache_is(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(cache.ENV, "off")
    assert cache.directory() is None
    monkeypatch.delenv(cache.ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.directory() == tmp_path / "cqsim" / "settled"


def test_the_key_reads_every_field_of_a_plan() -> None:
    # the key is the plan's repr: an object without a repr of its values (a graph, a
    # function, a default object repr) would hide its content from the key
    from tests.support.paths import BASELINE_2023

    text = repr(prepare(BASELINE_2023))
    assert " object at 0x" not in text and "Graph" not in text
    assert "<function" not in text and "<bound method" not in text


def test_no_home_directory_means_no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cache.ENV)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)

    def homeless() -> Path:
        raise RuntimeError("Could not determine home directory.")
    monkeypatch.setattr(Path, "home", staticmethod(homeless))
    assert cache.directory() is None



_KIND_MODULE = '''
from typing import Literal

from sim.components import Kind, register
from sim.engine.hub import Hub
from sim.specs import HubSpec


class CheckSpec(HubSpec):
    kind: Literal["cache_check_kind"]

    def expected_dwell_hours(self) -> float:
        return self.dwell_hours + {extra}


register(Kind("cache_check_kind", "hubs", CheckSpec, Hub))
'''


def test_a_kind_registered_from_outside_sim_is_part_of_the_key(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Route costs ask a kind's spec for its expected dwell, and a user's kind lives outside
    the `sim` package that `code_version` hashes: an edit of it must be another key (and
    another code for a resumed study, final read 43 #3), and a
    kind with no source file (typed into a notebook) runs without the cache (review 43, #1)."""
    import importlib
    import sys

    from sim.components import unregister

    assert extensions.code_version() == ""            # the shipped kinds: code_version's
    assert cache.code_identity() == cache.code_version()   # a study's manifest as before
    module = tmp_path / "cache_check_ext.py"
    monkeypatch.syspath_prepend(str(tmp_path))
    versions, identities = [], []
    try:
        for extra in (1.0, 2.0):
            unregister("cache_check_kind")
            sys.modules.pop("cache_check_ext", None)
            module.write_text(_KIND_MODULE.replace("{extra}", str(extra)))
            importlib.import_module("cache_check_ext")
            versions.append(extensions.code_version())
            identities.append(cache.code_identity())
        assert versions[0] and versions[1] and versions[0] != versions[1]
        # a resumed sweep, pathway or plan (their manifests keep code_identity) sees the edit
        assert len(set(identities)) == 2 and cache.code_version() not in identities
        assert cache.key(["x"], versions[0]) != cache.key(["x"], versions[1])
        unregister("cache_check_kind")
        notebook = type(sys)("typed_in_a_notebook")   # a module with no file
        sys.modules[notebook.__name__] = notebook
        exec(_KIND_MODULE.replace("{extra}", "3.0"), notebook.__dict__)
        assert extensions.code_version() is None
        assert cache.code_identity() != cache.code_identity()   # never the same study
        computed: list[int] = []

        def compute() -> tuple[int]:
            computed.append(1)
            return (1,)

        for _ in range(2):   # not kept: computed each time, nothing written
            cache.kept(lambda: ["x"], compute, tuple)
        assert len(computed) == 2 and not list(folder.glob(f"*{cache.SUFFIX}"))
    finally:
        unregister("cache_check_kind")
        sys.modules.pop("cache_check_ext", None)
        sys.modules.pop("typed_in_a_notebook", None)


def test_a_module_import_names_is_part_of_the_key_though_it_registers_no_kind(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A module `--import` names may declare KPIs alone: no kind's source covers it, yet an
    edit of it is other code for a resumed study's rows."""
    import sys


    monkeypatch.setattr(extensions, "_IMPORTED", [])
    monkeypatch.setattr(sys, "path", list(sys.path))
    module = tmp_path / "cache_check_kpis.py"
    identities = []
    try:
        for body in ("X = 1\n", "X = 2\n"):
            sys.modules.pop("cache_check_kpis", None)
            extensions._IMPORTED.clear()
            module.write_text(body)
            extensions.load([str(module)])
            identities.append(cache.code_identity())
    finally:
        sys.modules.pop("cache_check_kpis", None)
    assert len(set(identities)) == 2 and cache.code_version() not in identities


def test_a_kind_of_a_package_is_keyed_by_the_whole_package(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A kind whose behaviour lives in a helper module of its package: editing the helper is
    another key (only the file defining the class was hashed, so a settling of the old
    helper was read back). A kind in a single-file module is keyed by that file alone: a
    file beside it is not part of it. A package of KPIs that `--import` names is keyed by
    the whole package too."""
    import importlib
    import sys

    from sim.components import unregister

    package = tmp_path / "pkg" / "cache_check_pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "helpers.py").write_text("EXTRA = 1.0\n")
    (package / "kinds.py").write_text(_KIND_MODULE.replace(
        "{extra}", "EXTRA").replace("from typing", "from cache_check_pkg.helpers import EXTRA"
                                    "\nfrom typing"))
    single = tmp_path / "single"
    single.mkdir()
    (single / "cache_check_ext.py").write_text(_KIND_MODULE.replace("{extra}", "1.0"))
    (single / "beside.py").write_text("EXTRA = 1.0\n")
    kpis = tmp_path / "kpis" / "cache_check_kpipkg"
    kpis.mkdir(parents=True)
    (kpis / "__init__.py").write_text("")
    (kpis / "helpers.py").write_text("X = 1\n")
    (kpis / "slow.py").write_text("from cache_check_kpipkg.helpers import X\n")
    monkeypatch.setattr(extensions, "_IMPORTED", [])
    monkeypatch.setattr(sys, "path", list(sys.path))
    names = ("cache_check_pkg", "cache_check_pkg.helpers", "cache_check_pkg.kinds",
             "cache_check_ext", "cache_check_kpipkg", "cache_check_kpipkg.helpers",
             "cache_check_kpipkg.slow")
    try:
        for folder, module, edited in ((package.parent, "cache_check_pkg.kinds",
                                        package / "helpers.py"),
                                       (single, "cache_check_ext", single / "beside.py")):
            unregister("cache_check_kind")
            monkeypatch.syspath_prepend(str(folder))
            importlib.import_module(module)
            before = extensions.code_version()
            edited.write_text("EXTRA = 2.0\n")
            assert extensions.code_version() == before     # not the code loaded: a restart
            unregister("cache_check_kind")                 # the process started again
            for name in names:
                sys.modules.pop(name, None)
            importlib.import_module(module)
            after = extensions.code_version()
            assert before and after
            assert (before != after) == (module == "cache_check_pkg.kinds"), module
        unregister("cache_check_kind")
        monkeypatch.syspath_prepend(str(kpis.parent))
        extensions.load(["cache_check_kpipkg.slow"])
        before = cache.code_identity()
        (kpis / "helpers.py").write_text("X = 2\n")
        _restart(names)
        extensions.load(["cache_check_kpipkg.slow"])
        assert cache.code_identity() != before
    finally:
        unregister("cache_check_kind")
        for name in names:
            sys.modules.pop(name, None)


def test_the_modules_an_import_brings_in_are_part_of_the_key(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A single-file module `--import` names that imports a helper beside it: editing the
    helper is other code (only the named file was hashed). A namespace package named is its
    modules (it hashed as nothing). Python's own modules it brings in are not among them."""
    import sys

    (tmp_path / "cache_check_solo.py").write_text(
        "import colorsys\nfrom cache_check_helper import X\n")
    (tmp_path / "cache_check_helper.py").write_text("X = 1\n")
    (tmp_path / "cache_check_ns").mkdir()
    (tmp_path / "cache_check_ns" / "part.py").write_text("Y = 1\n")
    monkeypatch.setattr(extensions, "_IMPORTED", [])
    monkeypatch.setattr(extensions, "_BROUGHT", {}, raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.chdir(tmp_path)    # where a dotted name is found after Python's path
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    names = ("cache_check_solo", "cache_check_helper", "cache_check_ns")
    try:
        for named, edited, again in (
                ("cache_check_solo.py", "cache_check_helper.py", names[:2]),
                ("cache_check_ns", "cache_check_ns/part.py", names[2:])):
            given = str(tmp_path / named) if named.endswith(".py") else named
            extensions.load([given])
            before = cache.code_identity()
            (tmp_path / edited).write_text("X = 2\n")
            _restart(again)
            extensions.load([given])
            assert cache.code_identity() != before, edited
        assert set(extensions.code_files()) == {(tmp_path / p).resolve() for p in (
            "cache_check_solo.py", "cache_check_helper.py", "cache_check_ns/part.py")}
    finally:
        for name in names:
            sys.modules.pop(name, None)



def _restart(modules: tuple[str, ...]) -> None:
    """As a process started again: none of `modules` imported, no extension (a test's own
    list, monkeypatched)."""
    import sys

    extensions._IMPORTED[:] = [ext for ext in extensions._IMPORTED if ext.name not in modules]
    for name in modules:
        sys.modules.pop(name, None)


def test_the_extensions_code_is_hashed_once_as_loaded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Every cache lookup (choice sets, settling, in every worker) hashed every file of each
    imported package again, 0.1 s for 85 files, and hashed the files on disk: one edited
    mid-sweep stored the old code's results under the new code's key. It is hashed once, as
    imported, and an edit reaches the key only in a process started after it."""
    import sys

    package = tmp_path / "cache_once_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "helpers.py").write_text("X = 1\n")
    (package / "kpis.py").write_text("from cache_once_pkg.helpers import X\n")
    monkeypatch.setattr(extensions, "_IMPORTED", [])
    monkeypatch.setattr(sys, "path", [*sys.path, str(tmp_path)])
    names = ("cache_once_pkg", "cache_once_pkg.helpers", "cache_once_pkg.kpis")
    reads: list[Path] = []
    read_bytes = Path.read_bytes

    def counted(path: Path) -> bytes:
        reads.append(path)
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", counted)
    try:
        extensions.load(["cache_once_pkg.kpis"])
        loaded = cache.code_identity()
        assert loaded != cache.code_version()
        assert {p.name for p in reads} >= {"helpers.py", "kpis.py"}     # read as imported
        reads.clear()
        (package / "helpers.py").write_text("X = 2\n")   # edited after it was loaded
        for _ in range(3):
            assert cache.kept(lambda: ["x"], lambda: (1,), tuple) == (1,)
        assert cache.code_identity() == loaded
        assert not [p for p in reads if p.suffix == ".py"]    # no source read per lookup
        _restart(names)
        extensions.load(["cache_once_pkg.kpis"])              # a process started anew
        assert cache.code_identity() not in (loaded, cache.code_version())
    finally:
        _restart(names)


def test_a_key_tells_where_one_part_ends_and_the_next_begins() -> None:
    """The parts of a key are reprs of whole plans and route sets joined: without a mark
    between them, a text moved from the end of one part to the start of the next would be
    the same key, and a settling of other inputs would be read back."""
    assert cache.key(["ab", "c"]) != cache.key(["a", "bc"])
    assert cache.key(["a", ""]) != cache.key(["a"])
    assert cache.key(["x"], "") != cache.key(["x"], "extension")


def test_an_entry_of_another_kind_under_the_key_is_computed_again(folder: Path) -> None:
    """`kept` returns only a value of the kind asked for: what else a key's file holds (of
    other code writing there) is not handed to a caller that expects a settling."""
    from sim.extensions import code_version as extensions_version

    name = cache.key(["x"], extensions_version() or "")
    cache.store(name, "not a tuple")
    computed: list[int] = []

    def compute() -> tuple[int]:
        computed.append(1)
        return (1,)

    assert cache.kept(lambda: ["x"], compute, tuple) == (1,) and computed == [1]
    assert cache.load(name) == (1,), "stored anew"
    assert cache.kept(lambda: ["x"], compute, tuple) == (1,) and computed == [1]


def test_the_code_version_reads_file_names_and_the_libraries_versions(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A settling is kept under the code that made it: moving a line between two modules (the
    same bytes in another file) is other code, and so are other versions of Python, NumPy,
    SimPy and igraph (igraph orders routes of equal cost)."""
    import igraph
    import numpy
    import simpy

    package = tmp_path / "sim"
    package.mkdir()
    (package / "cache.py").write_text("")

    def version(a: str, b: str) -> str:
        (package / "a.py").write_text(a)
        (package / "b.py").write_text(b)
        cache.code_version.cache_clear()
        return cache.code_version()

    try:
        with monkeypatch.context() as patch:
            patch.setattr(cache, "__file__", str(package / "cache.py"))
            moved = {version("X = 1\n", ""), version("", "X = 1\n")}
            assert len(moved) == 2
            base = version("", "")
            for module, attr in ((numpy, "__version__"), (simpy, "__version__"),
                                 (igraph, "__version__"),
                                 (cache.platform, "python_version")):
                with monkeypatch.context() as other:
                    other.setattr(module, attr, (lambda: "0.0") if callable(
                        getattr(module, attr)) else "0.0")
                    assert version("", "") != base, module
            assert version("", "") == base
    finally:
        cache.code_version.cache_clear()


@pytest.mark.parametrize("said", ["OFF", " Off ", "none", "0"])
def test_the_cache_is_off_however_off_is_written(said: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """`CQSIM_CACHE_DIR=OFF` turned into a folder named OFF, written in the working folder."""
    monkeypatch.setenv(cache.ENV, said)
    assert cache.directory() is None
