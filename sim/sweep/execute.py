"""Run a sweep: prepare its tasks, run the ones not done on an executor, write each finished run
at once, and assemble the results folder."""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.atomic import write_csv, write_parquet
from sim.sweep.spec import SweepSpec
from sim.sweep.store import check_out, collect, part_path, write_meta
from sim.sweep.summary import sensitivity, summarize_variants
from sim.sweep.tasks import HEADLINE_KPIS, Sweep, prepare_sweep


@dataclass
class SweepOutcome:
    """What a sweep produced: the run rows, per-variant summary and where they were written."""

    runs: pd.DataFrame
    summary: pd.DataFrame
    sensitivity: pd.DataFrame
    out: Path | None
    executor: str
    wall_seconds: float
    resumed: int = 0
    files: list[Path] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return int((self.runs["status"] != "ok").sum()) if len(self.runs) else 0


def execute_sweep(spec: SweepSpec | str | Path, out: str | Path | None = None, *,
                  workers: int | None = None, scheduler: str | None = None,
                  local_cluster: bool = False, resume: bool = False,
                  progress: bool | None = None, plots: bool = True,
                  settle_here: bool = True) -> SweepOutcome:
    """Run a sweep into `out` (a temporary folder when None) and assemble its results.

    Executor: a local process pool of `workers` processes (default: CPU count; 1 runs in this
    process), an existing Dask scheduler at `scheduler` (tcp://HOST:PORT), or a Dask
    LocalCluster of `workers` processes when `local_cluster`. `progress=None` shows a bar on
    a terminal and periodic plain lines otherwise; False is silent. `settle_here=False`
    leaves settling each variant to the workers (`sim.sweep.tasks.prepare_sweep`).
    """
    from sim.progress import Progress
    from sim.sweep.executors import describe, dispatch, new_pool

    start = time.perf_counter()
    wanted = workers or os.cpu_count() or 1
    # a local pool starts before the variants are settled and settles them (each variant's
    # routes enumerated once, in parallel); the same warm processes then run the sweep
    warm = new_pool(wanted) if wanted > 1 and not (scheduler or local_cluster) else None
    try:
        sweep = prepare_sweep(spec, settle_here=settle_here, pool=warm)
    except BaseException:
        if warm is not None:
            warm.shutdown(cancel_futures=True)
        raise
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if out is None:
        tmp = tempfile.TemporaryDirectory(prefix="cqsim-sweep-")
        folder = Path(tmp.name)
    else:
        folder = Path(out)
    try:
        done = check_out(sweep, folder, resume)
        (folder / "runs").mkdir(parents=True, exist_ok=True)
        todo = [t for t in sweep.tasks if t.run_id not in done]
        workers = workers or min(os.cpu_count() or 1, max(1, len(todo)))
        executor = describe(workers, scheduler, local_cluster)
        write_meta(sweep, folder, {"status": "running", "executor": executor})

        with Progress(len(sweep.tasks), len(sweep.tasks) - len(todo), sweep.name,
                           progress) as bar:
            def record(row: dict[str, Any]) -> None:
                part = part_path(folder, row["run_id"])
                write_parquet(part, pd.DataFrame([row]))
                bar.advance(row["status"] != "ok")

            if warm is not None and workers <= 1:
                warm.shutdown()
                warm = None
            dispatch(todo, record, workers=workers, scheduler=scheduler,
                     local_cluster=local_cluster, notify=bar.note, pool=warm,
                     key_prefix=f"cqsim-{sweep.fingerprint[:12]}")
        outcome = assemble(sweep, folder, plots=plots and out is not None)
        outcome.executor = executor
        outcome.resumed = len(done)
        outcome.wall_seconds = time.perf_counter() - start
        write_meta(sweep, folder, {
            "status": "complete", "executor": executor,
            "wall_seconds": round(outcome.wall_seconds, 3), "resumed_runs": len(done),
            "failed_runs": outcome.failed})
        if tmp is not None:
            outcome.out, outcome.files = None, []
        return outcome
    finally:
        if warm is not None:
            warm.shutdown(cancel_futures=True)
        if tmp is not None:
            tmp.cleanup()


def assemble(sweep: Sweep, out: Path, *, plots: bool = True) -> SweepOutcome:
    """Consolidate the part files into runs.parquet, summary.csv, sensitivity.csv and plots."""
    from sim.sweep.plots import kpi_plots, plotted_kpis, tornado_plot

    runs = collect(out, sweep.params)
    summary = summarize_variants(runs, sweep.params)
    sens = sensitivity(runs, sweep.params, HEADLINE_KPIS)
    files = [
        write_parquet(out / "runs.parquet", runs),
        write_csv(out / "summary.csv", summary),
        write_csv(out / "sensitivity.csv", sens),
    ]
    if plots and (runs["status"] == "ok").any():
        files += kpi_plots(runs, sweep.params, plotted_kpis(runs, sweep.params), out / "plots")
        files.append(tornado_plot(sens, out / "plots" / "sensitivity.png"))
    return SweepOutcome(runs, summary, sens, out, "", 0.0, files=files)


def run_sweep(spec: SweepSpec | str | Path, out: str | Path | None = None, *,
              workers: int | None = None, scheduler: str | None = None,
              local_cluster: bool = False, resume: bool = False,
              progress: bool | None = False, plots: bool = True) -> pd.DataFrame:
    """Run a sweep (file path or `SweepSpec`) and return one row per run, for notebooks.

    Same executors and files as `cqsim sweep`; with `out=None` nothing is kept on disk.
    """
    return execute_sweep(spec, out, workers=workers, scheduler=scheduler,
                         local_cluster=local_cluster, resume=resume, progress=progress,
                         plots=plots).runs
