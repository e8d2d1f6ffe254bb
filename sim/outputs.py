"""Write results: tidy CSV summaries, Parquet by replication, a GeoPackage of flows, metadata.

Every file is written atomically (`sim.atomic`): a run killed mid-write leaves the earlier
file or none, never a torn one.

flows.gpkg and map.png need geopandas and matplotlib, which take longer to import (over a
second) than the tables take to write. Where it is safe (Linux, no other thread in this
process) a `SpatialWriter` child process imports them while the simulation runs and writes
the two files while this process writes the tables: a run uses a second core for them. The
child dies with its parent, and an error in it is an error of the run.
"""

from __future__ import annotations

import ctypes
import json
import os
import pickle
import signal
import sys
import tempfile
import threading
import traceback
from importlib import import_module
from pathlib import Path

import pandas as pd

from sim.atomic import (
    remove_stale_temporaries,
    write_atomic,
    write_csv,
    write_parquet,
    write_png,
    write_text,
)
from sim.flows import flows_frames
from sim.results import Results


def _write_gpkg(results: Results, path: Path) -> None:
    links, hubs = flows_frames(results)
    links.to_file(path, layer="links", driver="GPKG", use_arrow=True)
    hubs.to_file(path, layer="hubs", driver="GPKG", mode="a", use_arrow=True)


def _write_spatial(results: Results, out: Path, map_png: bool) -> list[Path]:
    """flows.gpkg and (if asked) map.png."""
    written = [write_atomic(out / "flows.gpkg", lambda p: _write_gpkg(results, p))]
    if map_png:
        import matplotlib.pyplot as plt

        from sim.maps import flow_map

        fig = flow_map(results)
        written.append(write_png(out / "map.png", fig, dpi=130))
        plt.close(fig)
    return written


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


def _prepare_spatial(map_png: bool) -> None:
    """Import what the spatial outputs need (the slow part of writing them)."""
    import_module("geopandas")
    if map_png:
        import matplotlib

        matplotlib.use("Agg")
        import_module("sim.maps")


class SpatialWriter:
    """flows.gpkg and map.png, written by a child process.

    Created before the simulation (as `cqsim run` does), it forks at once: the child imports
    geopandas and (for `map_png`) matplotlib while this process simulates, then waits for
    `start` to hand it the results (pickled to a temporary file) and writes them while this
    process writes the tables. Where forking is not safe (`_can_fork`), `start` writes them here.
    """

    def __init__(self, map_png: bool = True) -> None:
        self.pid: int | None = None
        self._pipe: int | None = None
        self._paths: list[Path] = []
        if not _can_fork():
            return
        # what both processes need is imported once, before the fork (pandas: half a second)
        import_module("sim.results")
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(write)
            self._child(read, map_png)
        os.close(read)
        self.pid, self._pipe = pid, write

    @staticmethod
    def _child(pipe: int, map_png: bool) -> None:
        code = 1
        try:
            _die_with_parent()
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C: just stop
            _prepare_spatial(map_png)
            with os.fdopen(pipe, "rb") as fh:
                job = fh.read()
            if job:  # nothing: the run ended without results
                with open(job, "rb") as fh:
                    results, out, map_png = pickle.load(fh)
                os.unlink(job)
                _write_spatial(results, out, map_png)
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)

    def start(self, results: Results, out: Path, map_png: bool) -> None:
        """Write flows.gpkg and (if `map_png`) map.png of `results` into `out`."""
        self._paths = [out / "flows.gpkg", *([out / "map.png"] if map_png else [])]
        if self.pid is None or self._pipe is None:
            _write_spatial(results, out, map_png)
            return
        fd, job = tempfile.mkstemp(prefix="cqsim-results-", suffix=".pickle")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump((results, out, map_png), fh, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            with os.fdopen(self._pipe, "wb") as fh:
                fh.write(os.fsencode(job))
        except BrokenPipeError:  # the child failed already: wait() says so
            os.unlink(job)
        self._pipe = None

    def cancel(self) -> None:
        """Stop the child (the run failed or was interrupted): it leaves at most a
        temporary file, which the next run removes."""
        if self._pipe is not None:
            os.close(self._pipe)
            self._pipe = None
        if self.pid is not None:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pid = None

    def wait(self) -> list[Path]:
        """The paths written; RuntimeError when the child failed."""
        if self._pipe is not None:  # never started: the child has nothing to do
            os.close(self._pipe)
            self._pipe = None
        if self.pid is not None:
            _, status = os.waitpid(self.pid, 0)
            self.pid = None
            if os.waitstatus_to_exitcode(status) != 0:
                raise RuntimeError("writing flows.gpkg and map.png failed (the error is above)")
        return self._paths


def write_results(results: Results, out: Path, *, map_png: bool = True,
                  spatial: SpatialWriter | None = None) -> list[Path]:
    """Write every table, flows.gpkg, map.png and run.json into `out`; return the paths.

    `spatial`: a `SpatialWriter` made before the results (its child has imported what the
    map needs meanwhile); default: one made now.
    """
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out)
    summaries = {name: results.summary(name) for name in results.names}  # sent with results
    spatial = spatial or SpatialWriter(map_png)
    try:
        spatial.start(results, out, map_png)
        written: list[Path] = []
        for name in results.names:
            written.append(write_csv(out / f"{name}.csv", summaries[name]))
            written.append(write_parquet(out / f"{name}.parquet",
                                         results.by_replication(name)))
        from sim.trade import trade_by_replication, trade_table
        written.append(write_csv(out / "trade.csv", trade_table(results)))
        written.append(write_parquet(out / "trade.parquet", trade_by_replication(results)))
    except BaseException:
        spatial.cancel()
        raise
    written.extend(spatial.wait())
    written.append(write_text(out / "run.json", json.dumps(run_metadata(results), indent=2)))
    return written


def run_metadata(results: Results) -> dict[str, object]:
    """What was run, how, and whether freight balanced: for reproducing a result."""
    from datetime import datetime, timezone

    from sim.version import git_commit, package_version

    plan = results.plan
    cons = results.by_replication("conservation")
    return {
        "scenario": plan.name, "source_file": plan.source_file, "seed": plan.seed,
        "replications": plan.replications, "days": plan.horizon.days,
        "warmup_days": plan.horizon.warmup_days, "cqsim_version": package_version(),
        "git_commit": git_commit(),
        "created_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "geodata": str(Path(plan.geodata).resolve()),
        "wall_seconds": round(results.wall_seconds, 3),
        "conservation_ok": results.conservation_ok(),
        "created_teu_horizon": cons["created_teu_horizon"].tolist(),
        "residual_teu": cons["residual_teu"].tolist(),
        "equilibrium": results.equilibrium,
    }


def read_table(out: Path, name: str, by_replication: bool = False) -> pd.DataFrame:
    """Read a table written by `write_results`."""
    return pd.read_parquet(out / f"{name}.parquet") if by_replication else pd.read_csv(
        out / f"{name}.csv")
