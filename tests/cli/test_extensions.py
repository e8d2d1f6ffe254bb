"""`--import MODULE`: a `cqsim` command imports the modules named before it reads its input,
so the component kinds and KPIs they register (docs/architecture.md, "Worked example") are
known to it and to its worker processes, and its results folder records them; a module that
cannot be imported is one line naming the option, exit 2, nothing written."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from sim import extensions
from sim.cli import main
from sim.errors import InputError
from sim.extensions import carried, load
from sim.kpis import KPI, add_kpi, remove_kpi
from sim.staging import sha256_file
from sim.sweep import execute_run, prepare_sweep
from tests.support.dask_cluster import dask_cluster
from tests.support.paths import ROOT
from tests.support.worked_example import MODULE as EXAMPLE
from tests.support.worked_example import cqsim_in_repo, dry_port_network

OK_SWEEP = ROOT / "tests" / "bad_inputs" / "ok_sweep.yaml"   # 2 variants of 10 days

# a module of KPIs alone, as a user writes one (docs/architecture.md, "A KPI is one declaration")
SLOW_SHARE = """\
from sim.kpis import KPI, add_kpi, teu_weighted_mean

add_kpi(KPI(name="slow_share", unit="share", label="share of TEU over 20 days door to door",
            short="slow", total="teu_mean",
            of=lambda lots: teu_weighted_mean(lots["transit_h"] > 20 * 24, lots["teu"])))
"""


def test_a_kpi_declared_compared_is_paired_in_compare_csv(tmp_path: Path) -> None:
    """An extension's KPI joined compare.csv only by reassigning `sim.kpis.COMPARED`, a core
    tuple (trial49 #4): declared `compared=True`, it is paired after cqsim's own."""
    from tests.support import netbuilder as nb

    (tmp_path / "slow_compared.py").write_text(
        SLOW_SHARE.replace('total="teu_mean",', 'total="teu_mean", compared=True,'))
    base = nb.line_network(tmp_path, horizon={"days": 60, "warmup_days": 10},
                           replications=2)
    alt = nb.write_scenario(tmp_path / "alt.yaml", {
        "extends": base.name, "name": "alt", "changes": [
            {"kind": "scale", "service": "ab", "field": "departures_per_week", "factor": 2}]})
    out = tmp_path / "out"
    done = cqsim_in_repo("compare", "--import", tmp_path / "slow_compared.py", base, alt,
                         "--workers", 1, "--no-report", "--out", out)
    assert done.returncode == 0, done.stderr
    metrics = list(dict.fromkeys(pd.read_csv(out / "compare.csv")["metric"]))
    assert metrics == ["teu_per_year", "trade_bn_cny_per_year", "transit_open_mean_h",
                       "co2_t_per_year",
                       "slow_share"], metrics


def test_every_command_takes_import() -> None:
    for name, command in main.commands.items():
        assert any("--import" in p.opts for p in command.params), name


def test_run_knows_an_imported_kind_and_kpi_and_records_the_module(tmp_path: Path) -> None:
    scenario = dry_port_network(tmp_path, inspected_share=0.5, inspection_hours=48.0)
    refused = cqsim_in_repo("run", scenario, "--days", 40, "--replications", 1, "--no-map",
                     "--no-report", "--out", tmp_path / "refused")
    lines = refused.stderr.strip().splitlines()
    assert refused.returncode == 2 and len(lines) == 1 and "'dry_port'" in lines[0], lines
    assert not (tmp_path / "refused").exists()

    out = tmp_path / "out"
    done = cqsim_in_repo("run", "--import", EXAMPLE, scenario, "--days", 40, "--replications", 1,
                  "--no-map", "--no-report", "--out", out)
    assert done.returncode == 0, done.stderr
    assert pd.read_csv(out / "dry_ports.csv")["hub"].tolist() == ["d"]
    assert "slow_share" in pd.read_csv(out / "corridors.csv").columns
    code = json.loads((out / "run.json").read_text())["manifest"]["code_version"]
    module = ROOT / "tests" / "support" / "worked_example_module.py"
    assert code["imports"] == [{"module": EXAMPLE, "file": str(module),
                                "sha256": sha256_file(module)}]


def test_worker_processes_import_the_modules_too(tmp_path: Path) -> None:
    """The sweep's base has no dry port: its plan brings no class of the module to the
    workers, so only `--import` carried to them gives them the KPI's columns."""
    runs = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        done = cqsim_in_repo("sweep", "--import", EXAMPLE, OK_SWEEP, "--workers", workers,
                      "--no-plots", "--out", out)
        assert done.returncode == 0, done.stderr
        runs.append(pd.read_parquet(out / "runs.parquet").drop(columns=["wall_s", "worker"]))
    assert "total_slow_share" in runs[1].columns and (runs[1]["status"] == "ok").all()
    pd.testing.assert_frame_equal(runs[0], runs[1])


@pytest.mark.parametrize("command", [["run", ROOT / "tests" / "bad_inputs" / "ok.yaml"],
                                     ["sweep", OK_SWEEP]])
def test_out_may_not_hold_an_imported_module(tmp_path: Path, command: list[object]) -> None:
    """`--out DIR --overwrite` replaced DIR with the module `--import` named in it, as it
    refuses to replace a folder holding the scenario."""
    module = tmp_path / "o1" / "mykpis.py"
    module.parent.mkdir()
    module.write_text(SLOW_SHARE)
    done = cqsim_in_repo(*command, "--import", module, "--out", module.parent, "--overwrite")
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert "a folder that does not hold an input" in lines[0] and "--out" in lines[0], lines
    assert module.read_text() == SLOW_SHARE and [p.name for p in module.parent.iterdir()] == [
        "mykpis.py"]


def test_resume_names_the_imported_module_that_changed(tmp_path: Path) -> None:
    """A sweep resumed after its module was edited said cqsim's code had changed."""
    module = tmp_path / "mykpis.py"
    module.write_text(SLOW_SHARE)
    args = ("sweep", "--import", module, OK_SWEEP, "--workers", 1, "--no-plots", "--out",
            tmp_path / "out")
    assert cqsim_in_repo(*args).returncode == 0
    module.write_text(SLOW_SHARE + "# edited\n")
    done = cqsim_in_repo(*args, "--resume")
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert f"{module} (code of the module --import mykpis) changed since they were made" \
        in lines[0], lines[0]


@pytest.mark.slow
def test_a_shared_dask_worker_computes_only_the_kpis_of_the_command(tmp_path: Path) -> None:
    """A Dask worker keeps the modules an earlier sweep imported there; a later sweep without
    `--import` on the same scheduler got that sweep's KPI columns (its manifest naming no
    module). It computes the KPIs of the process that started it: `--workers 1`'s table."""
    module = tmp_path / "mykpis.py"
    module.write_text(SLOW_SHARE)
    with dask_cluster(tmp_path) as (address, _):
        runs = {}
        for name, extra in (("imported", ["--import", module]), ("after", [])):
            done = cqsim_in_repo("sweep", *extra, OK_SWEEP, "--scheduler", address, "--no-plots",
                          "--out", tmp_path / name)
            assert done.returncode == 0, done.stderr
            runs[name] = pd.read_parquet(tmp_path / name / "runs.parquet")
    done = cqsim_in_repo("sweep", OK_SWEEP, "--workers", 1, "--no-plots",
                         "--out", tmp_path / "here")
    assert done.returncode == 0, done.stderr
    here = pd.read_parquet(tmp_path / "here" / "runs.parquet")
    assert "total_slow_share" in runs["imported"].columns
    assert "total_slow_share" not in runs["after"].columns
    pd.testing.assert_frame_equal(runs["after"].drop(columns=["wall_s", "worker"]),
                                  here.drop(columns=["wall_s", "worker"]))


@contextmanager
def _lots_kpi(name: str) -> Iterator[None]:
    """A KPI `name` (lots delivered) declared in this process inside the block only."""
    add_kpi(KPI(name=name, unit="lots", per="year", label="lots again",
                of=lambda lots: len(lots)))
    try:
        yield
    finally:
        remove_kpi(name)


def test_a_worker_computes_the_kpis_of_the_process_that_made_the_task() -> None:
    """What `carried` hands a worker names this process's KPIs: one the worker declared
    besides (an earlier command's module) is no column, and one it lacks fails the run with
    what to do."""
    task = prepare_sweep(OK_SWEEP).tasks[0]
    alone = execute_run(task)
    call = carried(execute_run)
    with _lots_kpi("kept_by_worker"):       # the worker's own, not the task's
        row = call(task)
    assert row["status"] == "ok" and set(row) == set(alone), set(row) ^ set(alone)

    with _lots_kpi("only_here"):            # the task's, not the worker's
        call = carried(execute_run)
    row = call(task)
    assert row["status"] == "failed", row
    assert "KPI only_here is declared where the runs were started" in row["error"]
    assert "importable on the worker" in row["error"]


@pytest.mark.parametrize("command", [
    ["run", "s.yaml", "--out", "out"], ["validate", "s.yaml"], ["list", "hubs", "s.yaml"],
    ["compare", "s.yaml", "t.yaml", "--out", "out"], ["sweep", "w.yaml", "--out", "out"],
    ["calibrate", "s.yaml"], ["uncertainty", "s.yaml", "--out", "out"],
    ["pathway", "p.yaml", "--out", "out"], ["plan", "c.yaml", "--out", "out"],
    ["rank", "s.yaml", "t.yaml", "--out", "out"], ["report", "."],
])
@pytest.mark.parametrize("module, said", [
    ("no_such_module_of_cqsim", "ModuleNotFoundError: No module named"),
    ("raises.py", "RuntimeError: broken extension"),
    ("missing.py", "an existing .py file"),
])
def test_a_module_that_cannot_be_imported_is_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str], module: str,
        said: str) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))     # the file's folder joins it
    monkeypatch.setattr(sys, "dont_write_bytecode", True)   # Python's own cache of it
    monkeypatch.chdir(tmp_path)
    (tmp_path / "raises.py").write_text('raise RuntimeError("broken extension")\n')
    result = CliRunner().invoke(main, [*command, "--import", module])
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cqsim: error: --import: "), lines
    assert said in lines[0] and module in lines[0], lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raises.py"]   # nothing written


def test_a_file_another_module_shadows_is_refused_before_anything_is_imported(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`load` of a .py file whose name another module on the path takes refuses it before
    importing either: that module was imported and recorded, so a caller that caught the
    error handed it to the workers; and a module that fails to import leaves its folder
    off the path."""
    first, named = tmp_path / "first", tmp_path / "named"
    for folder in (first, named):
        folder.mkdir()
        (folder / "shadowed_ext.py").write_text("X = 1\n")
    (named / "raises.py").write_text('raise RuntimeError("broken extension")\n')
    monkeypatch.setattr(sys, "path", [str(first), *sys.path])
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    monkeypatch.setattr(extensions, "_IMPORTED", [])
    try:
        with pytest.raises(InputError, match="no other module takes .shadowed_ext is "
                                             f"{first / 'shadowed_ext.py'}"):
            load([str(named / "shadowed_ext.py")])
        assert "shadowed_ext" not in sys.modules
        with pytest.raises(InputError, match="RuntimeError: broken extension"):
            load([str(named / "raises.py")])
        assert extensions.imported() == () and str(named) not in sys.path
    finally:
        sys.modules.pop("shadowed_ext", None)



def test_the_code_of_several_modules_is_hashed_once_they_are_in(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`load` of three modules hashes their code once, after the last import (it hashed
    after each, every file of every module so far again), and the hash covers all three."""
    for name in ("ext_one", "ext_two", "ext_three"):
        (tmp_path / f"{name}.py").write_text("X = 1\n")
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    monkeypatch.setattr(extensions, "_IMPORTED", [])
    monkeypatch.setattr(extensions, "_CODE", {})
    hashed: list[list[str]] = []
    real = extensions._hashed

    def counted(registered):  # type: ignore[no-untyped-def]
        hashed.append(sorted(p.name for p in extensions.code_files()))
        return real(registered)

    monkeypatch.setattr(extensions, "_hashed", counted)
    try:
        load([str(tmp_path / f"{n}.py") for n in ("ext_one", "ext_two", "ext_three")])
        assert hashed == [["ext_one.py", "ext_three.py", "ext_two.py"]]
    finally:
        for name in ("ext_one", "ext_two", "ext_three"):
            sys.modules.pop(name, None)


def test_a_kpi_whose_of_raises_is_one_line_naming_it(tmp_path: Path) -> None:
    """The user's KPI code failing (a column that is not in the lots) is their input's
    error: one line naming the KPI, its module and the error, exit 2, nothing written; it
    was a pandas traceback, exit 1."""
    from tests.support.netbuilder import line_network

    module = tmp_path / "bad_kpi.py"
    module.write_text('from sim.kpis import KPI, add_kpi\n\n'
                      'add_kpi(KPI(name="nope_sum", unit="TEU", label="a column not there",\n'
                      '            of=lambda lots: lots["nope"].sum()))\n')
    out = tmp_path / "out"
    failed = cqsim_in_repo("run", "--import", module, line_network(tmp_path), "--days", 10,
                    "--replications", 1, "--no-map", "--no-report", "--out", out)
    lines = failed.stderr.strip().splitlines()
    assert failed.returncode == 2 and len(lines) == 1, failed.stderr
    assert lines[0].startswith("cqsim: error: module bad_kpi: KPI nope_sum: ") and \
        "KeyError: 'nope'" in lines[0], lines[0]
    assert not out.exists()
