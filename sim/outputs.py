"""Write results: tidy CSV summaries, Parquet by replication, a GeoPackage of flows, the map,
the report and metadata.

A results folder is written whole or not at all (`sim.staging`): the files go to a staging
folder beside it, which replaces the folder in one step once every file is written, with a
manifest (scenario, seed, code version, size and sha256 of every file) in `run.json`. Every
file is written atomically (`sim.atomic`) too.

flows.gpkg, map.png and report.html need geopandas, matplotlib and plotly, which take longer
to import (over a second) than the tables take to write. Where it is safe (Linux, no other
thread in this process) `Writers` forks two helper processes: they import those while this
process simulates; then one writes flows.gpkg and draws the map while this process writes
the tables, and the other writes the report once the tables and flows.gpkg are there. A
run uses the second core for them. A helper dies with its parent, and an error in it is an
error of the run.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import pickle
import signal
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable
from functools import partial
from importlib import import_module
from pathlib import Path
from typing import ClassVar

import pandas as pd

from sim.atomic import (
    write_atomic,
    write_csv,
    write_parquet,
    write_png,
    write_text,
)
from sim.flows import flows_frames
from sim.results import Results, need_results

Mark = Callable[[], None]


def _write_gpkg(results: Results, path: Path) -> None:
    links, hubs = flows_frames(results)
    links.to_file(path, layer="links", driver="GPKG", use_arrow=True)
    hubs.to_file(path, layer="hubs", driver="GPKG", mode="a", use_arrow=True)


def _write_spatial(results: Results, out: Path, map_png: bool,
                   mark: Mark = lambda: None) -> None:
    """flows.gpkg (then `mark()`) and, if asked, map.png."""
    write_atomic(out / "flows.gpkg", lambda p: _write_gpkg(results, p))
    mark()
    if map_png:
        import matplotlib.pyplot as plt

        from sim.maps import flow_map

        fig = flow_map(results)
        write_png(out / "map.png", fig, dpi=130)
        plt.close(fig)


def _write_report(out: Path, shown: Path, mark: Mark = lambda: None) -> None:
    from sim.report import write_report

    write_report([out], shown_as=[shown])


def _prepare_spatial(map_png: bool) -> None:
    """Import what flows.gpkg and the map need (the slow part of writing them)."""
    import_module("geopandas")
    if map_png:
        import matplotlib

        matplotlib.use("Agg")
        import_module("sim.maps")


def _prepare_report() -> None:
    """Import what the report needs."""
    for name in ("geopandas", "pyarrow.parquet", "plotly.io", "plotly.offline",
                 "sim.report.page"):
        import_module(name)


def _can_fork() -> bool:
    """Forking is safe here: Linux (the child can be told to die with its parent) and no
    other thread that could hold a lock the child would inherit (a notebook kernel has some)."""
    return sys.platform == "linux" and hasattr(os, "fork") and threading.active_count() == 1


def _die_with_parent() -> None:
    """Linux: this (child) process gets SIGKILL when its parent dies, so a killed or
    interrupted run leaves no writer behind."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Helper:
    """A child process that does one job for this one, forked at once.

    The child runs `prepare` (imports, typically) while this process goes on, then waits for
    `start` to hand it the job: a function and its arguments, pickled to a temporary file.
    The job may call `mark()` once, which `wait_mark` here waits for (a milestone, such as a
    file the next step needs). Where forking is not safe (`_can_fork`), `start` runs the job
    here.
    """

    _parent_fds: ClassVar[set[int]] = set()   # every helper's pipe ends held by this process

    def __init__(self, prepare: Callable[[], None], what: str) -> None:
        self.what = what
        self.pid: int | None = None
        self._job: int | None = None    # write end: the job to the child
        self._mark: int | None = None   # read end: the child's mark
        self._file: str | None = None   # the pickled job, until the child has opened it
        if not _can_fork():
            return
        job_read, job_write = os.pipe()
        mark_read, mark_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            for fd in (job_write, mark_read, *Helper._parent_fds):
                os.close(fd)   # another helper's pipes: it must see its own end of file
            self._child(prepare, job_read, mark_write)
        os.close(job_read)
        os.close(mark_write)
        self.pid, self._job, self._mark = pid, job_write, mark_read
        Helper._parent_fds.update((job_write, mark_read))

    @staticmethod
    def _child(prepare: Callable[[], None], job_fd: int, mark_fd: int) -> None:
        code = 1
        try:
            _die_with_parent()
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C: just stop
            prepare()
            with os.fdopen(job_fd, "rb") as fh:
                job = fh.readline().rstrip(b"\n")  # a line: a process forked later may
            if job:  # hold the pipe open; nothing: the run ended without results
                with open(job, "rb") as fh:
                    os.unlink(job)
                    fn, args = pickle.load(fh)

                def mark() -> None:
                    try:
                        os.write(mark_fd, b"m")
                    except BrokenPipeError:  # nobody waits for it
                        pass

                fn(*args, mark=mark)
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)

    def _close(self, name: str) -> None:
        fd = getattr(self, name)
        if fd is not None:
            os.close(fd)
            Helper._parent_fds.discard(fd)
            setattr(self, name, None)

    def start(self, fn: Callable[..., None], *args: object) -> None:
        """Run `fn(*args, mark=...)` in the child (here, without one)."""
        if self.pid is None or self._job is None:
            fn(*args, mark=lambda: None)
            return
        fd, self._file = tempfile.mkstemp(prefix="cqsim-job-", suffix=".pickle")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump((fn, args), fh, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            os.write(self._job, os.fsencode(self._file) + b"\n")
        except BrokenPipeError:  # the child failed already: wait() says so
            pass
        self._close("_job")

    def _forget_file(self) -> None:
        """Remove the job's file if the child did not get to open it."""
        if self._file is not None:
            Path(self._file).unlink(missing_ok=True)
            self._file = None

    def wait_mark(self) -> None:
        """Return once the job called `mark()` (or ended: `wait` says whether it failed)."""
        if self._mark is not None:
            os.read(self._mark, 1)
            self._close("_mark")

    def cancel(self) -> None:
        """Stop the child (the run failed or was interrupted): it leaves at most a
        temporary file, which the next run removes."""
        self._close("_job")
        self._close("_mark")
        if self.pid is not None:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pid = None
        self._forget_file()

    def wait(self) -> None:
        """Wait for the job to end; RuntimeError when it failed."""
        self._close("_job")   # never started: the child has nothing to do
        self._close("_mark")
        if self.pid is not None:
            _, status = os.waitpid(self.pid, 0)
            self.pid = None
            self._forget_file()
            if os.waitstatus_to_exitcode(status) != 0:
                raise RuntimeError(f"writing {self.what} failed (the error is above)")


class Writers:
    """The helpers `write_results` uses: one for flows.gpkg and map.png, one for report.html.
    Made before the simulation (as `cqsim run` does), their imports overlap it."""

    def __init__(self, map_png: bool = True, report: bool = False) -> None:
        self.map_png, self.report = map_png, report
        # what every process needs is imported once, before the forks (pandas: half a second)
        import_module("sim.results")
        gc.freeze()  # the helpers' collections leave the shared objects' pages shared
        try:
            self.spatial = Helper(partial(_prepare_spatial, map_png),
                                  "flows.gpkg" + (" and map.png" if map_png else ""))
            self.reporter = Helper(_prepare_report, "report.html") if report else None
        finally:
            gc.unfreeze()  # here, everything is collectable again

    def helpers(self) -> list[Helper]:
        return [self.spatial, *([self.reporter] if self.reporter else [])]

    def cancel(self) -> None:
        for helper in self.helpers():
            helper.cancel()

    def wait(self) -> None:
        for helper in self.helpers():
            helper.wait()


def write_results(results: Results, out: str | Path, *, map_png: bool = True,
                  report: bool = False, overwrite: bool = False) -> list[Path]:
    """Write every table, flows.gpkg, map.png (`map_png`), run.json and report.html
    (`report`) into the folder `out`, whole or not at all, replacing what an earlier cqsim
    command wrote there; return the paths.

    `out` must be absent, empty or a folder cqsim wrote (`overwrite`: any folder); see
    `sim.staging.check_out`."""
    from sim.staging import ResultFolder

    need_results(results, "write_results")
    # a refusal names this call's parameters, not the command line's --out and --overwrite
    with ResultFolder(out, command="run", overwrite=overwrite, option="out",
                      overwrite_as="overwrite=True") as folder:
        written = write_run(results, folder.path, writers=Writers(map_png, report),
                            shown_as=folder.final)
        final = folder.commit("run.json", run_about(results))
    return [final / p.relative_to(folder.path) for p in written]


def run_about(results: Results) -> dict[str, object]:
    """What the manifest of a run says it is: its scenario, the name it goes by, its
    settings, and where it came from (`sim.inputs.record`: the files it read with their
    sha256, the fields set in Python, the changes applied). Every way of writing a run's
    folder (`cqsim run`, a comparison's run directories, `write_results`) commits this, so
    none writes a folder that looks like a run of the scenario's files alone."""
    from sim.inputs import record

    plan = results.plan
    return {"scenario": plan.name, "name": results.name, "source_file": plan.source_file,
            "seed": plan.seed, "replications": plan.replications, "days": plan.horizon.days,
            # a Results that `sim.run` did not make (none of its own): the files as they are
            **(results.origin or record(plan))}


def write_run(results: Results, folder: Path, *, map_png: bool = True,
              writers: Writers | None = None, shown_as: Path | None = None) -> list[Path]:
    """Write every table, flows.gpkg, map.png, run.json (without its manifest) and, if the
    writers say so, report.html into `folder` (a command's staging folder); return the paths.

    `writers`: `Writers` made before the results (their helpers have imported what the map
    and report need meanwhile), whose `map_png` and `report` then apply; default: made now,
    no report. `shown_as`: the folder the report names (the final one, not the staging one).
    """
    folder.mkdir(parents=True, exist_ok=True)
    out = folder
    summaries = {name: results.summary(name) for name in results.names}  # sent with results
    writers = writers or Writers(map_png, False)
    try:
        writers.spatial.start(_write_spatial, results, out, writers.map_png)
        written: list[Path] = []
        for name in results.names:
            written.append(write_csv(out / f"{name}.csv", summaries[name]))
            written.append(write_parquet(out / f"{name}.parquet",
                                         results.by_replication(name)))
        written.append(write_csv(out / "trade.csv", results.trade))
        written.append(write_parquet(out / "trade.parquet", results.by_replication("trade")))
        written.append(write_text(out / "run.json",
                                  json.dumps(run_metadata(results), indent=2)))
        if writers.reporter:  # it reads the tables and flows.gpkg
            writers.spatial.wait_mark()
            writers.reporter.start(_write_report, out, shown_as or out)
        writers.wait()
    except BaseException:
        writers.cancel()
        raise
    written.append(out / "flows.gpkg")
    written += [out / "map.png"] if writers.map_png else []
    written += [out / "report.html"] if writers.reporter else []
    return written


def run_metadata(results: Results) -> dict[str, object]:
    """What was run, how, and whether freight balanced: for reproducing a result."""
    from datetime import datetime, timezone

    from sim.checks import run_warnings
    from sim.native import engine_name
    from sim.version import git_commit, package_version

    plan = results.plan
    cons = results.by_replication("conservation")
    return {
        "scenario": plan.name, "name": results.name, "source_file": plan.source_file,
        # what the scenario is, in its own words: the report's header says it
        "description": plan.origin.description,
        "seed": plan.seed, "replications": plan.replications, "days": plan.horizon.days,
        "warmup_days": plan.horizon.warmup_days,
        # the statistics period's mean seasonal factor: 1 for whole years, else the season
        # its per-year figures carry (the report's note, `sim.trade.season_note`)
        "seasonal_factor": round(plan.season, 6),
        "cqsim_version": package_version(),
        "git_commit": git_commit(), "engine": engine_name(),
        "created_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "geodata": str(Path(plan.geodata).resolve()),
        "wall_seconds": round(results.wall_seconds, 3),
        "conservation_ok": results.conservation_ok(),
        "created_teu_horizon": cons["created_teu_horizon"].tolist(),
        "residual_teu": cons["residual_teu"].tolist(),
        "equilibrium": results.equilibrium,
        "warnings": [{"text": w.text, "table": w.table} for w in run_warnings(results)],
    }


def read_table(out: Path, name: str, by_replication: bool = False) -> pd.DataFrame:
    """Read a table written by `write_results`."""
    return pd.read_parquet(out / f"{name}.parquet") if by_replication else pd.read_csv(
        out / f"{name}.csv")
