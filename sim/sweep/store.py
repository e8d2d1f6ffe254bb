"""A sweep's folders: the work folder of a sweep in progress (one durable part file per
finished run, and the sweep's metadata), and the parts collected into one table.

A sweep into `DIR` keeps its parts in the work folder `.DIR.cqsim-sweep` beside it until every
run is done; the results are then assembled in a staging folder and swapped in whole
(`sim.staging`), so `DIR` holds the previous complete result until then, and the work folder
is deleted. A sweep interrupted or killed keeps its work folder: `--resume` continues it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sim.atomic import write_text
from sim.checks import RUN_CHECK_COLUMNS
from sim.errors import InputError
from sim.inputs import check_resume
from sim.sweep.tasks import Sweep

WORK = "cqsim-sweep"


def work_folder(out: Path) -> Path:
    """Where a sweep into `out` keeps its finished runs until it is complete."""
    return out.parent / f".{out.name}.{WORK}"

ID_COLUMNS = ("run_id", "variant", "replication", "seed")
STATUS_COLUMNS = ("status", "error")
TIMING_COLUMNS = ("wall_s", "worker")  # where and how long: differ between executors


def part_path(out: Path, run_id: str) -> Path:
    """Where a run's part file is kept: one parquet file per run, written as it finishes."""
    return out / "runs" / f"{run_id}.parquet"


def part_statuses(parts: Path, pattern: str) -> dict[str, list[str]]:
    """The status of every row of each part file in `parts` matching `pattern`, by run id;
    a part that cannot be read (cut short by a crash, or not cqsim's) is deleted, so its run
    is made again (sweeps, pathways and plans keep runs as part files)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = {}
    for part in sorted(parts.glob(pattern)):
        try:
            out[part.stem] = [str(s) for s in
                              pq.read_table(part, columns=["status"]).column("status").to_pylist()]
        except MemoryError:   # pyarrow's ArrowMemoryError too (an ArrowException): no
            raise             # memory says nothing of the file
        except OSError as err:   # a torn file's footer reads as an OSError without errno
            if err.errno in _NOT_THE_FILE:   # the machine's trouble, not the file's: say it
                raise InputError(part, "", "a part file this process can read (it is kept, "
                                 "not run again: the machine refused it, not the file; "
                                 "resume when it can)", err.strerror) from None
            part.unlink(missing_ok=True)
        except (pa.ArrowException, ValueError, KeyError):   # not parquet, or no status
            part.unlink(missing_ok=True)
    return out


# errors reading a part file that say nothing of the file (too many open files, no
# permission, no memory): said in one line, the finished run neither deleted nor made again
_NOT_THE_FILE = frozenset({errno.EMFILE, errno.ENFILE, errno.EACCES, errno.EPERM,
                           errno.ENOMEM, errno.EIO})


def finished_runs(out: Path) -> set[str]:
    """Run ids with a part file recording success (failed runs are retried on resume)."""
    return {run for run, status in part_statuses(out / "runs", "v*.parquet").items()
            if status == ["ok"]}


def _kept(folder: Path) -> tuple[str | None, object]:
    """The fingerprint and input digests a sweep's metadata in `folder` holds (None each when
    it holds none)."""
    try:
        meta = json.loads((folder / "sweep.json").read_text())
        return meta.get("fingerprint"), meta.get("inputs")
    except (OSError, ValueError, AttributeError):
        return None, None


def _link_parts(source: Path, dest: Path) -> None:
    """Put every part file of `source` into `dest` (hard links: nothing copied where the file
    system allows)."""
    (dest / "runs").mkdir(parents=True, exist_ok=True)
    for part in (source / "runs").glob("v*.parquet"):
        target = dest / "runs" / part.name
        if target.exists():
            continue
        try:
            os.link(part, target)
        except OSError:
            shutil.copy2(part, target)


def open_work(sweep: Sweep, out: Path, work: Path, *, resume: bool,
              overwrite: bool) -> set[str]:
    """Make the work folder of a sweep into `out` ready (call with `out` locked); return the
    run ids already finished (skipped). Refuses to mix two different sweeps, and to drop an
    interrupted sweep's runs without `overwrite`."""
    if work.is_dir() and not resume:
        if not overwrite:
            done = len(list((work / "runs").glob("v*.parquet")))
            raise InputError(out, "--out", f"a folder with no interrupted sweep (one with {done} "
                             "finished runs waits beside it); --resume to continue it, or "
                             "--overwrite to start again")
        shutil.rmtree(work)
    if resume:
        where = (work if work.is_dir() else out) / "sweep.json"
        # without a work folder: a complete sweep (to retry its failed runs)
        held, inputs = _kept(where.parent)
        check_resume(inputs, sweep.inputs, sweep.spec.source_file or out)
        if held is not None and held != sweep.fingerprint:
            raise InputError(where, "fingerprint", "the same sweep as the one being resumed "
                             "(the sweep file or its base scenario changed; use another --out)")
        if not work.is_dir() and held is not None:
            _link_parts(out, work)
    (work / "runs").mkdir(parents=True, exist_ok=True)
    for stale in (work / "runs").glob(".*.tmp*"):  # torn writes of a killed sweep
        stale.unlink(missing_ok=True)
    return finished_runs(work) if resume else set()


def assemble_into(work: Path, staging: Path) -> None:
    """Start the final folder of a sweep: its part files and metadata from `work`."""
    _link_parts(work, staging)
    with contextlib.suppress(FileNotFoundError):
        shutil.copy2(work / "sweep.json", staging / "sweep.json")


def write_meta(sweep: Sweep, out: Path, extra: dict[str, Any]) -> Path:
    """Write `out`/sweep.json: what the sweep is (file, base, variants, run settings), the
    cqsim version that ran it, and `extra` (the caller's status and summary)."""
    from sim.version import package_version

    first = sweep.tasks[0] if sweep.tasks else None
    plan = (first.settled.plan if first.settled else first.plan) if first else None
    meta = {"name": sweep.name, "sweep_file": sweep.spec.source_file, "base": sweep.spec.base,
            "fingerprint": sweep.fingerprint, "inputs": sweep.inputs,
            "parameters": sweep.params,
            "variants": {f"v{k:04d}": v for k, v in enumerate(sweep.variants)},
            "runs": len(sweep.tasks), "seed": plan.seed if plan else None,
            "replications": plan.replications if plan else None,
            "days": plan.horizon.days if plan else None,
            "cqsim_version": package_version(), **extra}
    return write_text(out / "sweep.json", json.dumps(meta, indent=2, default=str))


def collect(out: Path, params: Sequence[str] = ()) -> pd.DataFrame:
    """All part files of a results folder as one table, sorted by run id, columns ordered."""
    parts = sorted((out / "runs").glob("v*.parquet"))
    if not parts:
        return pd.DataFrame(columns=[*ID_COLUMNS, *params, *STATUS_COLUMNS])
    runs = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    first = [*ID_COLUMNS, *params, *STATUS_COLUMNS]
    last = [c for c in TIMING_COLUMNS if c in runs]
    middle = [c for c in runs.columns if c not in first and c not in last]
    runs = runs[[c for c in first if c in runs] + middle + last]
    return runs.sort_values("run_id", kind="stable").reset_index(drop=True)


def kpi_columns(runs: pd.DataFrame, params: Sequence[str]) -> list[str]:
    """The numeric measure columns of a runs table (not ids, parameters, timings or the
    runs' checks, `check_columns`): what summary.csv gives a mean and CI of and
    uncertainty.csv quantiles of."""
    skip = {*ID_COLUMNS, *params, *STATUS_COLUMNS, *TIMING_COLUMNS, *RUN_CHECK_COLUMNS}
    return [c for c in runs.select_dtypes("number").columns if c not in skip]


def check_columns(runs: pd.DataFrame) -> list[str]:
    """The runs' numeric checks a runs table has (`sim.checks.RUN_CHECK_COLUMNS`: the
    start-up's shortfall and warm-up, the feedback passes'): not KPIs; summary.csv keeps
    their means apart, after the KPIs, and the sweep warns of them."""
    return [c for c in RUN_CHECK_COLUMNS if c in runs]
