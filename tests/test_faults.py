"""Faults: a run killed with SIGKILL while writing leaves every result file complete (the
earlier one or the new one), never torn, and the next run cleans up; Ctrl-C (SIGINT) stops
a run with a message and exit code 130, no traceback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyogrio
import pytest

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"
_SCRIPT = Path(sys.executable).with_name("cqsim")
CQSIM = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "sim.cli"]
PNG_END = b"IEND\xaeB`\x82"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*CQSIM, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONWARNINGS": "ignore"})


def _complete(path: Path) -> None:
    """Raise unless `path` is a whole, readable result file."""
    suffix = path.suffix
    if suffix == ".csv":
        pd.read_csv(path)
    elif suffix == ".parquet":
        pd.read_parquet(path)
    elif suffix == ".gpkg":
        for layer in pyogrio.list_layers(path)[:, 0]:
            pyogrio.read_dataframe(path, layer=layer)
    elif suffix == ".png":
        data = path.read_bytes()
        assert data.startswith(b"\x89PNG") and data.endswith(PNG_END), path
    elif suffix == ".json":
        json.loads(path.read_text())
    else:
        raise AssertionError(f"unexpected file {path.name}")


def _kill_when(out: Path, ready, args: list[str], timeout: float = 120.0) -> bool:
    """Start a run, SIGKILL it as soon as `ready(names in out)` holds; True if it was
    killed before finishing."""
    proc = _start(*args)
    deadline = time.monotonic() + timeout
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            names = [p.name for p in out.iterdir()] if out.is_dir() else []
            if ready(names):
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
                return proc.returncode == -signal.SIGKILL
            time.sleep(0.002)
        return False
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def _check_dir(out: Path) -> list[str]:
    """Every visible file is complete; return the temporary (hidden) leftovers."""
    leftovers = []
    for path in out.iterdir():
        if path.name.startswith("."):
            assert ".tmp" in path.name, f"stray file {path.name}"
            leftovers.append(path.name)
        else:
            _complete(path)
    return leftovers


def test_sigkill_mid_write_never_leaves_a_torn_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    base = ["run", str(BASELINE), "--days", "10", "--out", str(out)]
    done = subprocess.run([*CQSIM, *base, "--seed", "1"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    earlier = sorted(p.name for p in out.iterdir())
    assert "run.json" in earlier and "flows.gpkg" in earlier

    new = [*base, "--seed", "2"]
    moments = {
        "a table half-written": lambda names: any(
            n.endswith(".tmp.csv") for n in names),
        "GeoPackage half-written": lambda names: any(
            n.startswith(".flows.") and ".tmp" in n for n in names),
    }
    killed = 0
    for label, ready in moments.items():
        if _kill_when(out, ready, new):
            killed += 1
            _check_dir(out)
            visible = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
            assert visible == earlier, f"{label}: files went missing"
    assert killed >= 1, "could not catch the run while writing"

    done = subprocess.run([*CQSIM, *new], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert _check_dir(out) == [], "the next run left temporary files behind"
    assert json.loads((out / "run.json").read_text())["seed"] == 2


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_ctrl_c_stops_a_run_cleanly(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _start("run", str(BASELINE), "--days", "3650", "--out", str(out))
    try:
        # wait until it is simulating (imports and set-up take about 1 s of CPU)
        deadline = time.monotonic() + 120
        while proc.poll() is None and _cpu_seconds(proc.pid) < 2.5:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before it could be interrupted"
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert time.monotonic() - started < 10
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert not out.exists() or not any(out.iterdir())
