"""Sweep executors side by side: wall time of a sweep on the local pool and on a Dask scheduler
started by hand (`dask scheduler` + `dask worker --nworkers N --nthreads 1`), whether their
Parquet contents are identical, and the per-run overhead of each executor.

    .venv/bin/python benchmarks/sweeps.py                      # the shipped ILSTC sweep
    .venv/bin/python benchmarks/sweeps.py --workers 2 --overhead-runs 200

Per-run overhead = (wall time x workers - simulation time inside the runs) / runs, measured on
a sweep of tiny runs (about 10 ms each) so that the executor's own cost dominates. Figures are
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

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "tests"))

from sim.sweep import TIMING_COLUMNS, execute_sweep  # noqa: E402


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
    from netbuilder import line_network

    line_network(folder, teu_per_year=20_000, horizon={"days": 30})
    doc = {"base": "scenario.yaml", "replications": runs // 2,
           "parameters": {"grid": {"network.services.ab.departures_per_week": [7, 14]}}}
    (folder / "sweep.yaml").write_text(yaml.safe_dump(doc))
    return folder / "sweep.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep", nargs="?", default=str(ROOT / "scenarios/sweeps/ilstc-expansion.yaml"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--overhead-runs", type=int, default=200)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cqsim-bench-"))
    print(f"machine: {os.cpu_count()} cores; workers: {args.workers} x 1 thread")

    pool_s, pool = timed(Path(args.sweep), tmp / "pool", workers=args.workers)
    cluster = HandStartedCluster(args.workers)
    try:
        dask_s, on_dask = timed(Path(args.sweep), tmp / "dask", scheduler=cluster.address)
        tiny = tiny_sweep(tmp / "tiny", args.overhead_runs)
        tiny_pool_s, tiny_pool = timed(tiny, tmp / "tiny-pool", workers=args.workers)
        tiny_dask_s, tiny_dask = timed(tiny, tmp / "tiny-dask", scheduler=cluster.address)
    finally:
        cluster.close()
    for name, runs in (("pool", pool), ("dask", on_dask), ("tiny pool", tiny_pool),
                       ("tiny dask", tiny_dask)):
        if (runs["status"] != "ok").any():
            raise SystemExit(f"{name}: failed runs: {runs['error'].unique()[:3]}")
    same = comparable(pool).equals(comparable(on_dask))
    n = len(pool)
    print(f"{Path(args.sweep).name}: {n} runs, simulation {pool['wall_s'].sum():.1f} s of CPU")
    print(f"  local pool     : {pool_s:6.1f} s wall ({pool_s / n:.2f} s/run)")
    print(f"  dask scheduler : {dask_s:6.1f} s wall ({dask_s / n:.2f} s/run)")
    print(f"  identical Parquet contents (sorted by run_id, timing columns excluded): {same}")
    for name, wall, runs in (("local pool", tiny_pool_s, tiny_pool),
                             ("dask scheduler", tiny_dask_s, tiny_dask)):
        k = len(runs)
        over = (wall * args.workers - runs["wall_s"].sum()) / k
        print(f"  per-run overhead, {name:14s}: {over * 1e3:6.1f} ms "
              f"({k} runs of {runs['wall_s'].mean() * 1e3:.0f} ms in {wall:.1f} s)")
    if not same:
        raise SystemExit("executors disagree")


if __name__ == "__main__":
    main()
