"""Run a sweep: prepare its tasks, run the ones not done on an executor, write each finished run
at once, and assemble the results folder."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim import cache
from sim.atomic import write_csv, write_parquet
from sim.budget import DEFAULT_LIMITS, Limits
from sim.errors import SweepWarning, plural
from sim.inputs import CODE
from sim.sweep.spec import SweepSpec
from sim.sweep.store import (
    assemble_into,
    collect,
    open_work,
    part_path,
    work_folder,
    write_meta,
)
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
    replaced: str = ""  # what `out` held before, when it held a result

    @property
    def failed(self) -> int:
        return int((self.runs["status"] != "ok").sum()) if len(self.runs) else 0


def execute_sweep(spec: Sweep | SweepSpec | str | Path, out: str | Path | None = None, *,
                  workers: int | None = None, scheduler: str | None = None,
                  local_cluster: bool = False, resume: bool = False,
                  progress: bool | None = None, plots: bool = True,
                  limits: Limits | None = DEFAULT_LIMITS, overwrite: bool = False,
                  inputs: tuple[str | Path, ...] = (), security: Any = None,
                  no_worker_timeout: float | None = None,
                  dashboard_address: str | None = None,
                  settle_here: bool = True, command: str = "sweep") -> SweepOutcome:
    """Run a sweep (prepared, or a file) into `out` (a temporary folder when None) and
    assemble its results; `limits` bound its estimated cost (sim.budget).

    `out` is written whole (`sim.staging`): the finished runs wait in a work folder beside
    it (`resume` continues an interrupted sweep from there), and the assembled results
    replace `out` at the end. `overwrite`: replace a folder cqsim did not write, or drop an
    interrupted sweep's runs; `inputs`: files `out` must not hold; `command`: the command the
    folder's manifest names (`uncertainty` for a study, so neither command takes the other's
    folder without `overwrite`).

    Dask: `security` (a distributed.Security) for a tls:// scheduler; a sweep that has had no
    worker for `no_worker_timeout` seconds stops; a LocalCluster serves its dashboard at
    `dashboard_address` (default: loopback only).

    Executor: a local process pool of `workers` processes (default: CPU count; 1 runs in this
    process), an existing Dask scheduler at `scheduler` (tcp://HOST:PORT), or a Dask
    LocalCluster of `workers` processes when `local_cluster`. `progress=None` shows a bar on
    a terminal and periodic plain lines otherwise; False is silent. `settle_here=False`
    leaves settling each variant to the workers (`sim.sweep.tasks.prepare_sweep`).

    A local pool starts before the variants are settled and settles them (each variant's
    routes enumerated once, in parallel); the same warm processes then run the sweep.
    """
    from sim.staging import ResultFolder
    from sim.sweep.executors import new_pool

    start = time.perf_counter()
    wanted = workers or os.cpu_count() or 1
    warm = new_pool(wanted) if wanted > 1 and not (scheduler or local_cluster) else None
    with contextlib.ExitStack() as stack:
        if warm is not None:
            stack.callback(warm.shutdown, cancel_futures=True)
        sweep = spec if isinstance(spec, Sweep) else prepare_sweep(
            spec, limits, wanted, settle_here=settle_here, pool=warm)
        if out is None:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(
                prefix="cqsim-sweep-")))
            final = None
            (folder / "runs").mkdir()
            done: set[str] = set()
        else:
            final = stack.enter_context(ResultFolder(   # nor may it hold a file the runs read
                out, command=command, overwrite=overwrite,
                inputs=(*inputs, *(f for f in sweep.inputs if f != CODE)), accepts=False))
            folder = work_folder(final.final)
            if not folder.exists():  # removed again if the sweep stops before a run is done
                stack.callback(_drop_if_empty, folder)
            done = open_work(sweep, final.final, folder, resume=resume, overwrite=overwrite)
        cache.release()     # the input is accepted: the workers read what its checks settled
        progressed = _execute(sweep, folder, done, workers=workers, scheduler=scheduler,
                           local_cluster=local_cluster, progress=progress,
                           security=security, no_worker_timeout=no_worker_timeout,
                           dashboard_address=dashboard_address, pool=warm)
        if final is None:
            outcome = _finish(sweep, folder, progressed, start, plots=False)
            outcome.out, outcome.files = None, []
            return outcome
        assemble_into(folder, final.path)
        outcome = _finish(sweep, final.path, progressed, start, plots=plots)
        seed = sweep.tasks[0].head()["seed"] if sweep.tasks else None
        final.commit("sweep.json", {"scenario": sweep.spec.base, "sweep": sweep.name,
                                    "seed": seed, "runs": len(sweep.tasks)})
        shutil.rmtree(folder, ignore_errors=True)
        outcome.replaced = final.replaced
        outcome.out = final.final
        outcome.files = [final.final / p.relative_to(final.path) for p in outcome.files]
        return outcome
    raise AssertionError("unreachable")  # pragma: no cover


def _drop_if_empty(work: Path) -> None:
    """Remove a work folder that holds no finished run (an error or an interrupt before the
    first run ended): nothing is left behind."""
    if work.is_dir() and not any((work / "runs").glob("v*.parquet")):
        shutil.rmtree(work, ignore_errors=True)


@dataclass
class _Progress:
    done: int
    executor: str


def _execute(sweep: Sweep, folder: Path, done: set[str], *, workers: int | None,
             scheduler: str | None, local_cluster: bool, progress: bool | None,
             security: Any, no_worker_timeout: float | None,
             dashboard_address: str | None, pool: Any = None) -> _Progress:
    """Run the runs of `sweep` not in `done`, each written at once to `folder`/runs."""
    from sim.progress import Progress
    from sim.sweep.executors import (
        LOOPBACK_DASHBOARD,
        NO_WORKER_TIMEOUT_S,
        connected,
        counted,
        describe,
        run_dask,
        run_pool,
        run_serial,
    )

    todo = [t for t in sweep.tasks if t.run_id not in done]
    workers = workers or min(os.cpu_count() or 1, max(1, len(todo)))
    executor = describe(workers, scheduler, local_cluster)
    write_meta(sweep, folder, {"status": "running", "executor": executor})

    with contextlib.ExitStack() as stack:
        # connected before anything is shown: a bad --scheduler is one line
        client = stack.enter_context(connected(
            scheduler, local_cluster, workers=workers, needed=bool(todo), security=security,
            dashboard_address=dashboard_address or LOOPBACK_DASHBOARD))
        bar = stack.enter_context(Progress(len(sweep.tasks), len(sweep.tasks) - len(todo),
                                           sweep.name, progress))

        def write(row: dict[str, Any]) -> None:
            write_parquet(part_path(folder, row["run_id"]), pd.DataFrame([row]))

        record = counted(write, bar)   # each run written, then counted on the bar

        if client is not None:
            run_dask(todo, record, client=client, notify=bar.note,
                     key_prefix=f"cqsim-{sweep.fingerprint[:12]}",
                     no_worker_timeout=no_worker_timeout or NO_WORKER_TIMEOUT_S)
        elif todo and workers > 1:
            run_pool(todo, record, workers=workers, notify=bar.note, pool=pool)
        elif todo:
            run_serial(todo, record)
    return _Progress(len(done), executor)


def _finish(sweep: Sweep, folder: Path, progress: _Progress, start: float, *,
            plots: bool) -> SweepOutcome:
    """Assemble the runs in `folder` and mark its metadata complete."""
    outcome = assemble(sweep, folder, plots=plots)
    outcome.executor = progress.executor
    outcome.resumed = progress.done
    outcome.wall_seconds = time.perf_counter() - start
    write_meta(sweep, folder, {
        "status": "complete", "executor": progress.executor,
        "wall_seconds": round(outcome.wall_seconds, 3), "resumed_runs": progress.done,
        "failed_runs": outcome.failed, "season_notes": sweep.season_notes()})
    return outcome


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
        period = sweep.periods()
        files += kpi_plots(runs, sweep.params, plotted_kpis(runs, sweep.params), out / "plots",
                           period=period)
        files.append(tornado_plot(sens, out / "plots" / "sensitivity.png", period=period))
    return SweepOutcome(runs, summary, sens, out, "", 0.0, files=files)


def run_sweep(spec: SweepSpec | str | Path, out: str | Path | None = None, *,
              workers: int | None = None, scheduler: Any = None,
              local_cluster: bool = False, resume: bool = False, overwrite: bool = False,
              security: Any = None, no_worker_timeout: float | None = None,
              progress: bool | None = False, plots: bool = True) -> pd.DataFrame:
    """Run a sweep (file path or `SweepSpec`) and return one row per run, for notebooks.

    Same executors, options and files as `cqsim sweep` (`overwrite`: start again where an
    interrupted or finished sweep is in `out`); with `out=None` nothing is kept on disk.
    `scheduler` may be an address, a Dask cluster or a `Client`. Failed runs are rows with
    status `failed` and an `error`, warned of (`SweepWarning`): a mean over the rows left
    would break the replications' pairing.
    """
    address = getattr(getattr(scheduler, "scheduler", None), "address", None) \
        if scheduler is not None and not isinstance(scheduler, str) else None
    outcome = execute_sweep(spec, out, workers=workers,
                            scheduler=address or scheduler, local_cluster=local_cluster,
                            resume=resume, overwrite=overwrite, security=security,
                            no_worker_timeout=no_worker_timeout, progress=progress,
                            plots=plots)
    if outcome.failed:
        first = outcome.runs.loc[outcome.runs["status"] == "failed", "error"].iloc[0]
        warnings.warn(SweepWarning(
            f"{outcome.failed} of {plural(len(outcome.runs), 'sweep run')} failed "
            f"(status 'failed'; the first: {first}): compare variants over the runs of every "
            "variant, not a mean of what is left"), stacklevel=2)
    return outcome.runs
