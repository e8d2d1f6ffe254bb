"""Sweep executors side by side: wall time of a sweep on the local pool and on a Dask scheduler
started by hand (`dask scheduler` + `dask worker --nworkers N --nthreads 1`), whether their
Parquet contents are identical, and the per-run overhead of each executor.

    .venv/bin/python -m benchmarks.sweeps                      # the shipped ILSTC sweep
    .venv/bin/python -m benchmarks.sweeps --workers 2 --overhead-runs 200

Overhead is measured on sweeps of tiny runs (about 20 ms each) so the executor's own cost
dominates: the fixed cost is the wall time of a 2-run sweep (preparing the sweep, starting the
pool's processes or connecting to the scheduler, assembling results), and the per-run overhead
is (wall(N runs) - wall(2 runs)) x workers / (N - 2) minus the mean simulation time of a run:
what each extra run costs beyond its simulation (shipping it, writing its part file). Figures are
printed with the machine's core count; docs/sweeps.md quotes one such output.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from sim.sweep import TIMING_COLUMNS, execute_sweep

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent



def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HandStartedCluster:
    """What the README tells a user to type, on one machine: a scheduler and N workers."""

    def __init__(self, workers: int) -> None:
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        self.procs = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1",
                                        "--port", str(self.port), "--no-dashboard"], **quiet)]
        self.procs.append(subprocess.Popen(
            [str(BIN / "dask"), "worker", self.address, "--nworkers", str(workers),
             "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"], **quiet))
        from distributed import Client

        with Client(self.address, timeout="30s") as client:
            client.wait_for_workers(workers, timeout=60)

    def close(self) -> None:
        for proc in reversed(self.procs):
            proc.terminate()
            proc.wait(timeout=20)


def timed(sweep: Path, out: Path, **kw: object) -> tuple[float, pd.DataFrame]:
    start = time.perf_counter()
    outcome = execute_sweep(sweep, out, progress=False, plots=False, **kw)  # type: ignore[arg-type]
    return time.perf_counter() - start, outcome.runs


def comparable(runs: pd.DataFrame) -> pd.DataFrame:
    return runs.drop(columns=list(TIMING_COLUMNS)).sort_values("run_id").reset_index(drop=True)


def tiny_sweep(folder: Path, runs: int) -> Path:
    from tests.support.netbuilder import line_network

    line_network(folder, teu_per_year=20_000, horizon={"days": 30})
    doc = {"base": "scenario.yaml", "replications": runs // 2,
           "parameters": {"grid": {"network.services.ab.departures_per_week": [7, 14]}}}
    (folder / "sweep.yaml").write_text(yaml.safe_dump(doc))
    return folder / "sweep.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep", nargs="?",
                        default=str(ROOT / "scenarios/sweeps/ilstc-expansion.yaml"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--overhead-runs", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2,
                        help="pool and dask alternate this many times (shared machines are noisy)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cqsim-bench-"))
    sweep = Path(args.sweep)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
          f"workers: {args.workers} x 1 thread")
    cluster = HandStartedCluster(args.workers)
    results: list[tuple[str, float, pd.DataFrame]] = []
    try:
        for r in range(args.rounds):
            results.append(("local pool", *timed(sweep, tmp / f"pool{r}", workers=args.workers)))
            results.append(("dask scheduler",
                            *timed(sweep, tmp / f"dask{r}", scheduler=cluster.address)))
        tiny = tiny_sweep(tmp / "tiny", args.overhead_runs)
        two = tiny_sweep(tmp / "two", 2)
        overhead = []
        for name, kw in (("local pool", {"workers": args.workers}),
                         ("dask scheduler", {"scheduler": cluster.address})):
            wall, runs = timed(tiny, tmp / f"tiny-{name}", **kw)
            fixed, _ = timed(two, tmp / f"two-{name}", **kw)
            overhead.append((name, wall, fixed, runs))
    finally:
        cluster.close()
    for name, _, runs in results + [(o[0], 0.0, o[3]) for o in overhead]:
        if (runs["status"] != "ok").any():
            raise SystemExit(f"{name}: failed runs: {runs['error'].unique()[:3]}")
    reference = comparable(results[0][2])
    same = all(comparable(runs).equals(reference) for _, _, runs in results)
    n = len(reference)
    print(f"{sweep.name}: {n} runs")
    for name, wall, runs in results:
        print(f"  {name:14s}: {wall:6.1f} s wall ({wall / n:.2f} s/run; mean simulation "
              f"{runs['wall_s'].mean():.2f} s/run inside the workers)")
    print(f"  identical Parquet contents (sorted by run_id, timing columns excluded): {same}")
    for name, wall, fixed, runs in overhead:
        k = len(runs)
        per_run = (wall - fixed) * args.workers / (k - 2) - runs["wall_s"].mean()
        print(f"  {name:14s}: fixed cost {fixed:4.1f} s, per-run overhead {per_run * 1e3:5.1f} ms"
              f" ({k} runs of {runs['wall_s'].mean() * 1e3:.0f} ms in {wall:.1f} s)")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    if not same:
        raise SystemExit("executors disagree")


if __name__ == "__main__":
    main()
