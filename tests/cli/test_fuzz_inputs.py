"""Fuzz the input boundary: hypothesis mutates a valid scenario, its geodata and a sweep file
(wrong types, deep nesting, odd unicode, huge numbers, missing and extra keys, raw-text
edits) and every command must end in exit 0, or exit 2 with exactly one line, never a
traceback or another code. `validate` and `run` must agree: the same exit code and, on bad
input, the same line (they share one boundary, sim.boundary).

The CLI runs in this process (click's CliRunner), with cost limits low enough that no
example runs long. `make test` runs a bounded budget (FUZZ_EXAMPLES per test, derandomized
so CI sees the same examples); a large budget is run by hand:

    CQSIM_FUZZ_EXAMPLES=2000 CQSIM_FUZZ_RANDOM=1 .venv/bin/pytest tests/cli/test_fuzz_inputs.py

and recorded in docs/validation.md.
"""

from __future__ import annotations

import copy
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from sim.cli import main
from tests.bad_inputs.make_corpus import BASE, GEO_HUBS, GEO_LINKS  # the corpus's valid base

FUZZ_EXAMPLES = int(os.environ.get("CQSIM_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=None,
                derandomize=not os.environ.get("CQSIM_FUZZ_RANDOM"),
                phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: bounded
                suppress_health_check=list(HealthCheck), print_blob=True)
LIMITS = ["--max-memory", "400MB", "--max-events", "3e6"]  # no example runs long
SWEEP = {"name": "fuzz", "base": "scenario.yaml", "days": 2, "replications": 1,
         "parameters": {"grid": {"network.services.ab.departures_per_week": [7, 14]}}}

NAMES = ["a", "b", "c", "ab", "a-b", "rail", "west", "general", "set", "scale", "add_flow",
         "add_service", "remove_service", "add_hub", "disruption", "demand_growth",
         "departures_per_week", "handling_servers", "teu_per_year", "geo_ok", "scenario.yaml",
         "../scenario.yaml", "/dev/zero", "", " ", "\x00", "\u202e", "重庆", "1e9", "true"]
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-2**70, 2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0, -1, 1e9, 1e300]),
    st.text(max_size=30), st.sampled_from(NAMES))
wild = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.one_of(st.sampled_from(NAMES), st.text(max_size=8)),
                                      inner, max_size=4), max_leaves=12)
plausible = st.one_of(st.integers(0, 200), st.floats(0, 5000, allow_nan=False),
                      st.sampled_from(NAMES[:17]))  # values a user might really write
values = st.one_of(plausible, plausible, wild)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into a JSON-like document (the root included)."""
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


def _mutate(data: st.DataObject, doc: Any, rounds: int) -> Any:
    """Apply `rounds` random edits: replace a value, delete it, add a key or an item."""
    doc = copy.deepcopy(doc)
    for _ in range(rounds):
        path = data.draw(st.sampled_from(_paths(doc)))
        if not path:
            doc = data.draw(values) if data.draw(st.integers(0, 9)) == 0 else doc
            continue
        parent: Any = doc
        for key in path[:-1]:
            parent = parent[key]
        key = path[-1]
        op = data.draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if op == "replace":
            parent[key] = data.draw(values)
        elif op == "delete":
            del parent[key]
        elif isinstance(parent[key], dict):
            parent[key][data.draw(st.one_of(st.sampled_from(NAMES), st.text(max_size=8)))] = \
                data.draw(values)
        elif isinstance(parent[key], list):
            parent[key].append(data.draw(values))
    return doc


def _text_edit(data: st.DataObject, text: str) -> str:
    """A raw edit of a file's text: insert, delete or replace a stretch, or nest deeply."""
    op = data.draw(st.sampled_from(["insert", "delete", "replace", "nest"] + ["none"] * 6))
    at = data.draw(st.integers(0, len(text)))
    if op == "insert":
        return text[:at] + data.draw(st.text(min_size=1, max_size=8)) + text[at:]
    if op == "delete":
        return text[:at] + text[at + data.draw(st.integers(1, 40)):]
    if op == "replace":
        return text[:at] + data.draw(st.text(max_size=4)) + text[at + 4:]
    if op == "nest":
        depth = data.draw(st.sampled_from([40, 500, 5000]))
        return text + "\ndescription: " + "[" * depth + "]" * depth + "\n"
    return text


def _dump_yaml(doc: Any) -> str | None:
    try:
        return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    except (yaml.YAMLError, RecursionError, ValueError):
        return None


def _write_network(folder: Path, scenario: str | bytes, hubs: str | None = None,
                   links: str | None = None) -> Path:
    geo = folder / "geo_ok"
    geo.mkdir()
    (geo / "hubs.geojson").write_text(hubs or json.dumps(
        {"type": "FeatureCollection", "features": GEO_HUBS}))
    (geo / "links.geojson").write_text(links or json.dumps(
        {"type": "FeatureCollection", "features": GEO_LINKS}))
    path = folder / "scenario.yaml"
    if isinstance(scenario, bytes):
        path.write_bytes(scenario)
    else:
        path.write_text(scenario, encoding="utf-8", errors="surrogatepass")
    return path


def _invoke(args: list[str], cwd: Path) -> tuple[int, str]:
    """(exit code, stderr) of one in-process command; fails the test on anything but exit 0
    (stderr then holds warnings and progress), or exit 2 with one `cqsim: error:` line."""
    old = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(main, args)
    finally:
        os.chdir(old)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback
        raise AssertionError(f"{args[0]} raised: "
                             + "".join(traceback.format_exception(result.exception))[-3000:])
    code, err = result.exit_code, result.stderr
    event(f"{args[0]} exit {code}")  # --hypothesis-show-statistics: how many got how far
    assert code in (0, 2), (args[0], code, err[-2000:])
    assert "Traceback" not in err + result.stdout
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("cqsim: error:"), (args[0], err[-2000:])
    return code, err.strip()


def _check_scenario(folder: Path, path: Path) -> None:
    """validate and run (2 days, cost limits) agree and fail cleanly."""
    code, err = _invoke(["validate", str(path), "--days", "2", *LIMITS], folder)
    out = folder / "results"
    run_code, run_err = _invoke(["run", str(path), "--days", "2", "--no-map", "--out",
                                 str(out), *LIMITS], folder)
    assert run_code == code, (err, run_err)
    if code == 2:
        assert run_err == err
        assert not out.exists() and not (folder / "out").exists()


def _mutated_text(data: st.DataObject, doc: Any) -> str | None:
    """A mutated copy of `doc` as YAML text, with perhaps a raw edit (None: not writable)."""
    text = _dump_yaml(_mutate(data, doc, data.draw(st.sampled_from([1, 1, 1, 2, 3]))))
    return None if text is None else _text_edit(data, text)


@pytest.mark.slow
@FUZZ
@given(data=st.data())
def test_mutated_scenarios_fail_cleanly(data: st.DataObject) -> None:
    text = _mutated_text(data, BASE)
    if text is None:
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _check_scenario(folder, _write_network(folder, text))


@pytest.mark.slow
@FUZZ
@given(data=st.data())
def test_mutated_geodata_fails_cleanly(data: st.DataObject) -> None:
    which = data.draw(st.sampled_from(["hubs", "links"]))
    feats = {"hubs": GEO_HUBS, "links": GEO_LINKS}[which]
    collection = _mutate(data, {"type": "FeatureCollection", "features": feats},
                         data.draw(st.integers(1, 3)))
    try:
        text = json.dumps(collection, ensure_ascii=data.draw(st.booleans()))
    except (ValueError, RecursionError):
        return
    if data.draw(st.integers(0, 4)) == 0:
        text = _text_edit(data, text).replace("\ndescription: ", "")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = _write_network(folder, _dump_yaml(BASE) or "",
                              **{which: text})  # type: ignore[arg-type]
        _check_scenario(folder, path)


@pytest.mark.slow
@FUZZ
@given(data=st.data())
def test_mutated_sweeps_fail_cleanly(data: st.DataObject) -> None:
    text = _mutated_text(data, SWEEP)
    if text is None:
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _write_network(folder, _dump_yaml(BASE) or "")
        sweep = folder / "sweep.yaml"
        sweep.write_text(text, encoding="utf-8", errors="surrogatepass")
        code, err = _invoke(["validate", str(sweep), *LIMITS], folder)
        out = folder / "results"
        run_code, run_err = _invoke(["sweep", str(sweep), "--workers", "1", "--no-plots",
                                     "--out", str(out), *LIMITS], folder)
        if code == 2:
            assert run_code == 2
            assert not out.exists()
            if _is_sweep(text):  # else validate takes the file for a scenario
                assert run_err == err


def _is_sweep(text: str) -> bool:
    try:
        doc = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError, RecursionError):
        return True  # unreadable either way: the same line
    return not isinstance(doc, dict) or "base" in doc or "parameters" in doc


@pytest.mark.slow
def test_a_few_hostile_files_in_a_real_process(tmp_path: Path) -> None:
    """The same promise from a real `cqsim` process, for a few fixed hostile files."""
    import subprocess

    script = Path(sys.executable).with_name("cqsim")
    cqsim = [str(script)] if script.exists() else [sys.executable, "-m", "sim.cli"]
    text = _dump_yaml(BASE) or ""
    cases = [text.replace("seed: 1", "seed: 1\nseed: 2"),
             text + "description: " + "[" * 5000 + "]" * 5000 + "\n",
             text.replace("teu_per_year: 2000", "teu_per_year: 1.0e+9").replace(
                 "days: 10", "days: 365"),
             "\udcff".encode("utf-8", "surrogatepass") + text.encode()]
    for i, case in enumerate(cases):
        folder = tmp_path / str(i)
        folder.mkdir()
        path = _write_network(folder, case)
        done = subprocess.run([*cqsim, "run", str(path), "--out", str(folder / "o")],
                              capture_output=True, text=True, timeout=60, cwd=folder)
        assert done.returncode == 2, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
        assert not (folder / "o").exists()
