"""Write results: tidy CSV summaries, Parquet by replication, a GeoPackage of flows, metadata.

Every file is written atomically (`sim.atomic`): a run killed mid-write leaves the earlier
file or none, never a torn one.

flows.gpkg and map.png need geopandas and matplotlib, which take longer to import than the
tables take to write. Where it is safe (Linux, no other thread in this process) they are
written by a forked child process while this one writes the tables, so a run uses a second
core for them; the child dies with its parent, and an error in it is an error of the run.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
import threading
import traceback
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


class _SpatialOutputs:
    """flows.gpkg and map.png, written by a forked child while the caller goes on, or at
    once when forking is not safe (`_can_fork`)."""

    def __init__(self, results: Results, out: Path, map_png: bool) -> None:
        self.paths = [out / "flows.gpkg", *([out / "map.png"] if map_png else [])]
        self.pid: int | None = None
        if not _can_fork():
            _write_spatial(results, out, map_png)
            return
        pid = os.fork()
        if pid == 0:  # the child: write, report an error on stderr, never return
            code = 1
            try:
                _die_with_parent()
                signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C: just stop
                _write_spatial(results, out, map_png)
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        self.pid = pid

    def cancel(self) -> None:
        """Stop the child (the caller failed or was interrupted): it leaves at most a
        temporary file, which the next run removes."""
        if self.pid is not None:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pid = None

    def wait(self) -> list[Path]:
        """The paths written; RuntimeError when the child failed."""
        if self.pid is not None:
            _, status = os.waitpid(self.pid, 0)
            self.pid = None
            if os.waitstatus_to_exitcode(status) != 0:
                raise RuntimeError("writing flows.gpkg and map.png failed (the error is above)")
        return self.paths


def write_results(results: Results, out: Path, *, map_png: bool = True) -> list[Path]:
    """Write every table, flows.gpkg, map.png and run.json into `out`; return the paths."""
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out)
    summaries = {name: results.summary(name) for name in results.names}  # shared with the child
    spatial = _SpatialOutputs(results, out, map_png)
    try:
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
