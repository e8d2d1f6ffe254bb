"""`--import MODULE`: a `cqsim` command imports the modules named before it reads its input,
so the component kinds and KPIs they register (docs/architecture.md, "Worked example") are
known to it and to its worker processes, and its results folder records them; a module that
cannot be imported is one line naming the option, exit 2, nothing written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from sim.cli import main
from sim.staging import sha256_file
from tests.support.paths import ROOT
from tests.support.worked_example import dry_port_network

EXAMPLE = "tests.support.worked_example_module"   # the doc's example, as a module
OK_SWEEP = ROOT / "tests" / "bad_inputs" / "ok_sweep.yaml"   # 2 variants of 10 days


def _cqsim(*args: object) -> subprocess.CompletedProcess[str]:
    """`cqsim ARGS` in a process of its own, from the repository (where EXAMPLE is found)."""
    return subprocess.run([sys.executable, "-m", "sim", *map(str, args)], capture_output=True,
                          text=True, timeout=600, cwd=ROOT)


def test_every_command_takes_import() -> None:
    for name, command in main.commands.items():
        assert any("--import" in p.opts for p in command.params), name


def test_run_knows_an_imported_kind_and_kpi_and_records_the_module(tmp_path: Path) -> None:
    scenario = dry_port_network(tmp_path, inspected_share=0.5, inspection_hours=48.0)
    refused = _cqsim("run", scenario, "--days", 40, "--replications", 1, "--no-map",
                     "--no-report", "--out", tmp_path / "refused")
    lines = refused.stderr.strip().splitlines()
    assert refused.returncode == 2 and len(lines) == 1 and "'dry_port'" in lines[0], lines
    assert not (tmp_path / "refused").exists()

    out = tmp_path / "out"
    done = _cqsim("run", "--import", EXAMPLE, scenario, "--days", 40, "--replications", 1,
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
        done = _cqsim("sweep", "--import", EXAMPLE, OK_SWEEP, "--workers", workers,
                      "--no-plots", "--out", out)
        assert done.returncode == 0, done.stderr
        runs.append(pd.read_parquet(out / "runs.parquet").drop(columns=["wall_s", "worker"]))
    assert "total_slow_share" in runs[1].columns and (runs[1]["status"] == "ok").all()
    pd.testing.assert_frame_equal(runs[0], runs[1])


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
