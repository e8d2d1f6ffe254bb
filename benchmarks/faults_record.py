"""Fault injections for the record of docs/validation.md, section 8: the same trials against
any revision of cqsim (an unpacked `git archive`), judged only by what a user sees (exit
codes, stderr lines, the files in the results folder and beside it), so that old and new code
are measured alike.

    git archive REV | tar -x -C /tmp/cqsim-REV
    .venv/bin/python -m benchmarks.faults_record /tmp/cqsim-REV     # that revision's code
    .venv/bin/python -m benchmarks.faults_record .                  # this checkout

Trials (counts in the table it prints): SIGKILL at random points of a run's writing; two runs
into one folder at once; SIGINT while a run writes; SIGINT in the first 0.6 s (imports);
SIGKILL of a sweep's main process; SIGKILL during a sweep's final assembly, then --resume;
a sweep on a scheduler with no worker; where a LocalCluster listens. Not a benchmark of
speed: it lives here because it is run by hand, on two revisions, and takes minutes.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import yaml

ROOT = Path(__file__).resolve().parent.parent
OK = ROOT / "tests" / "bad_inputs" / "ok.yaml"
BASELINE = ROOT / "scenarios" / "baseline.yaml"
SEED = 20261130


def _env(code: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(code), "PYTHONWARNINGS": "ignore"}


def _cqsim(code: Path) -> list[str]:
    """The console script of that revision: its entry point, as pip would write it."""
    entry = "sim.console" if (code / "sim" / "console.py").exists() else "sim.cli"
    return [sys.executable, "-c", f"import sys; from {entry} import entry; sys.exit(entry())"]


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(code: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*_cqsim(code), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_env(code),
                            preexec_fn=_default_sigint)


def _files(folder: Path) -> dict[str, float]:
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime for p in folder.rglob("*")
            if p.is_file()} if folder.is_dir() else {}


def _new_files(parent: Path, since: float) -> int:
    return sum(1 for p in parent.rglob("*") if p.is_file() and p.stat().st_mtime > since)


def _one_result(out: Path, old: dict[str, float], start: float) -> bool:
    """`out` holds the earlier result untouched, or a complete new one (all its files
    newer than `start`, the same names as before plus or minus nothing)."""
    now = _files(out)
    if now == old:
        return True
    return set(now) == set(old) and all(t > start for t in now.values())


def _hidden_beside(out: Path) -> list[str]:
    """Temporary names a command left in or beside `out` (a lock file counts as harmless)."""
    inside = [p.name for p in out.rglob(".*")] if out.is_dir() else []
    beside = [p.name for p in out.parent.glob(f".{out.name}.*") if not p.name.endswith("lock")]
    return inside + beside


def _wait(cond: Callable[[], bool], proc: subprocess.Popen[str], timeout: float = 300) -> bool:
    deadline = time.monotonic() + timeout
    while not cond():
        if proc.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.002)
    return True


def kill_while_writing(code: Path, tmp: Path, trials: int) -> tuple[int, int]:
    """SIGKILL after a random number of files have been written; a failure: `out` holds
    neither the earlier result nor the new one."""
    out = tmp / "kill" / "out"
    base = ["run", str(BASELINE), "--days", "10", "--out", str(out)]
    subprocess.run([*_cqsim(code), *base, "--seed", "1"], env=_env(code), check=True,
                   capture_output=True)
    old = _files(out)
    rng = random.Random(SEED)
    failed = done = 0
    for _ in range(trials):
        start = time.time()
        n = rng.randrange(1, len(old))
        proc = _start(code, *base, "--seed", "2")
        if _wait(lambda n=n, start=start: _new_files(out.parent, start) >= n, proc):
            proc.kill()
            done += 1
        proc.communicate()
        if not _one_result(out, old, start):
            failed += 1
        if _files(out) != old:  # a new complete result: it is the earlier one from now on
            old = _files(out)
    return done, failed


def concurrent_runs(code: Path, tmp: Path, trials: int) -> tuple[int, int]:
    """Two runs into one folder at once; a failure: both accepted (exit 0)."""
    failed = 0
    for i in range(trials):
        out = tmp / f"both{i}" / "out"
        a = _start(code, "run", str(BASELINE), "--days", "10", "--no-map", "--out", str(out))
        b = _start(code, "run", str(BASELINE), "--days", "11", "--no-map", "--out", str(out),
                   "--seed", "5")
        a.communicate()
        b.communicate()
        if a.returncode == 0 and b.returncode == 0:
            failed += 1
    return trials, failed


def interrupt_while_writing(code: Path, tmp: Path, trials: int) -> tuple[int, int]:
    """SIGINT once the run writes its first file; a failure: not exit 130 with one line and
    no traceback, a temporary file left, or `out` neither the old nor a new whole result."""
    out = tmp / "int" / "out"
    base = ["run", str(BASELINE), "--days", "5", "--out", str(out)]
    subprocess.run([*_cqsim(code), *base], env=_env(code), check=True, capture_output=True)
    failed = done = 0
    rng = random.Random(SEED)
    for _ in range(trials):
        old = _files(out)
        start = time.time()
        n = rng.randrange(1, 8)
        proc = _start(code, *base, "--seed", "3")
        if _wait(lambda n=n, start=start: _new_files(out.parent, start) >= n, proc):
            proc.send_signal(signal.SIGINT)
            done += 1
        _, err = proc.communicate()
        lines = err.strip().splitlines()
        ok = (proc.returncode == 130 and len(lines) == 1 and "Traceback" not in err
              and not _hidden_beside(out) and _one_result(out, old, start))
        failed += not ok
    return done, failed


def interrupt_while_importing(code: Path, tmp: Path, trials: int) -> tuple[int, int]:
    """SIGINT at 0 to 0.6 s after start; a failure: a traceback, or not exactly one line
    (except a process killed by the signal before Python had set up its handler: nothing
    printed, nothing written, exit status 130 in a shell)."""
    failed = 0
    for i in range(trials):
        proc = _start(code, "run", str(OK), "--out", str(tmp / f"imp{i}"))
        time.sleep(0.6 * i / max(1, trials - 1))
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate()
        lines = err.strip().splitlines()
        unstarted = proc.returncode == -signal.SIGINT and not lines
        if "Traceback" in err or not (unstarted or (len(lines) == 1
                                                    and proc.returncode == 130)):
            failed += 1
            print(f"  SIGINT at {0.6 * i / max(1, trials - 1):.2f} s: exit {proc.returncode}, "
                  f"{len(lines)} lines: {lines[-1][:100] if lines else ''}", flush=True)
    return trials, failed


def _sweep_file(tmp: Path) -> Path:
    sys.path.insert(0, str(ROOT))
    from tests.support.netbuilder import line_network

    line_network(tmp, teu_per_year=400_000, horizon={"days": 120})
    path = tmp / "sweep.yaml"
    path.write_text(yaml.safe_dump({"base": "scenario.yaml", "replications": 6, "parameters": {
        "grid": {"network.services.ab.departures_per_week": [7, 10, 14, 21]}}}))
    return path


def _parts(out: Path) -> int:
    return sum(1 for _ in out.parent.rglob("v*.parquet"))


def kill_sweep(code: Path, tmp: Path) -> tuple[int, int]:
    """SIGKILL of `cqsim sweep`'s main process; a failure: a child alive 10 s later."""
    path = _sweep_file(tmp / "orphans")
    out = tmp / "orphans" / "out"
    proc = _start(code, "sweep", str(path), "--out", str(out), "--workers", "2", "--no-plots")
    _wait(lambda: _parts(out) >= 1, proc)
    children = psutil.Process(proc.pid).children(recursive=True)
    proc.kill()
    proc.communicate()
    _, alive = psutil.wait_procs(children, timeout=10)
    for p in alive:
        p.kill()
    return 1, int(bool(alive))


def kill_sweep_assembly(code: Path, tmp: Path) -> tuple[int, int]:
    """SIGKILL while the sweep assembles its results, then --resume; a failure: a
    temporary file left after the resume."""
    path = _sweep_file(tmp / "assembly")
    out = tmp / "assembly" / "out"
    args = ["sweep", str(path), "--out", str(out), "--workers", "1", "--no-plots"]
    proc = _start(code, *args)
    _wait(lambda: any(p.name.startswith(".runs.") or p.name == "runs.parquet"
                      for p in out.parent.rglob("*")), proc)
    proc.kill()
    proc.communicate()
    subprocess.run([*_cqsim(code), *args, "--resume"], env=_env(code), capture_output=True)
    left = [p.name for p in out.parent.rglob(".*") if "lock" not in p.name]
    return 1, int(bool(left))


def no_worker(code: Path, tmp: Path, wait_s: float = 60) -> tuple[int, int]:
    """A sweep on a scheduler with no worker; a failure: still waiting after `wait_s`."""
    sched = subprocess.Popen([str(Path(sys.executable).parent / "dask"), "scheduler", "--host",
                              "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file",
                              str(tmp / "s.json")], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not (tmp / "s.json").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        address = json.loads((tmp / "s.json").read_text())["address"]
        extra = ["--no-worker-timeout", "5"] if (code / "sim" / "lifeline.py").exists() else []
        proc = _start(code, "sweep", str(_sweep_file(tmp / "noworker")), "--out",
                      str(tmp / "noworker" / "out"), "--scheduler", address, "--no-plots",
                      *extra)
        try:
            proc.wait(wait_s)
            return 1, 0
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            return 1, 1
    finally:
        sched.kill()
        sched.wait()


LISTEN = """
import psutil, sys
from sim.sweep.spec import load_sweep
from sim.sweep.tasks import prepare_sweep
import sim.sweep.executors as ex
sweep = prepare_sweep(load_sweep(sys.argv[1]), None, 1)
seen = []
def notify(msg):
    if msg.startswith("dask:") and not seen:
        me = psutil.Process()
        for p in [me, *me.children(recursive=True)]:
            seen.extend(c.laddr.ip for c in p.net_connections("inet")
                        if c.status == psutil.CONN_LISTEN)
if hasattr(ex, "dask_client"):
    with ex.dask_client(None, workers=1) as client:
        ex.run_dask(sweep.tasks[:1], lambda row: None, client=client, key_prefix="x",
                    notify=notify)
else:
    ex.run_dask(sweep.tasks[:1], lambda row: None, address=None, workers=1, key_prefix="x",
                notify=notify)
print(sorted(set(seen)))
"""


def local_cluster_listens(code: Path, tmp: Path) -> tuple[int, int]:
    """Where a LocalCluster's processes listen; a failure: any address but loopback."""
    done = subprocess.run([sys.executable, "-c", LISTEN, str(_sweep_file(tmp / "listen"))],
                          env=_env(code), capture_output=True, text=True, timeout=300)
    seen = eval(done.stdout.strip().splitlines()[-1])  # noqa: S307 - our own print
    print(f"  LocalCluster listens on {seen}", flush=True)
    return 1, int(any(ip not in ("127.0.0.1", "::1") for ip in seen))


def main() -> None:
    code = Path(sys.argv[1]).resolve()
    trials = {
        "SIGKILL at random points of a run's writing": lambda t: kill_while_writing(code, t, 8),
        "two runs into one folder at once": lambda t: concurrent_runs(code, t, 5),
        "SIGINT while a run writes": lambda t: interrupt_while_writing(code, t, 5),
        "SIGINT in the first 0.6 s": lambda t: interrupt_while_importing(code, t, 20),
        "SIGKILL of a sweep's main process": lambda t: kill_sweep(code, t),
        "SIGKILL in a sweep's assembly, then --resume": lambda t: kill_sweep_assembly(code, t),
        "a sweep on a scheduler with no worker": lambda t: no_worker(code, t),
        "where a LocalCluster listens": lambda t: local_cluster_listens(code, t),
    }
    print(f"code: {code}\n\n| trial | tried | failed |\n|---|---:|---:|", flush=True)
    for label, trial in trials.items():
        with tempfile.TemporaryDirectory(prefix="cqsim-faults-") as tmp:
            tried, failed = trial(Path(tmp))
        print(f"| {label} | {tried} | {failed} |", flush=True)


if __name__ == "__main__":
    main()
