"""A sweep's results folder: one durable part file per finished run, the sweep's metadata,
and the parts collected into one table."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sim.atomic import write_text
from sim.errors import InputError
from sim.sweep.tasks import Sweep

ID_COLUMNS = ("run_id", "variant", "replication", "seed")
STATUS_COLUMNS = ("status", "error")
TIMING_COLUMNS = ("wall_s", "worker")  # where and how long: differ between executors


def part_path(out: Path, run_id: str) -> Path:
    return out / "runs" / f"{run_id}.parquet"


def finished_runs(out: Path) -> set[str]:
    """Run ids with a part file recording success (failed runs are retried on resume)."""
    import pyarrow.parquet as pq

    done = set()
    for part in (out / "runs").glob("v*.parquet"):
        try:
            status = pq.read_table(part, columns=["status"]).column("status").to_pylist()
        except Exception:  # unreadable (e.g. lost in a crash): run it again
            part.unlink(missing_ok=True)
            continue
        if status == ["ok"]:
            done.add(part.stem)
    return done


def check_out(sweep: Sweep, out: Path, resume: bool) -> set[str]:
    """Ids to skip; refuse to mix two different sweeps in one folder."""
    meta = out / "sweep.json"
    parts = list((out / "runs").glob("v*.parquet"))
    if parts and not resume:
        raise InputError(out, "--out", "an empty folder, or --resume to continue the sweep in it")
    if resume and meta.is_file():
        old = json.loads(meta.read_text()).get("fingerprint")
        if old != sweep.fingerprint:
            raise InputError(meta, "fingerprint", "the same sweep as the one being resumed "
                             "(the sweep file or its base scenario changed; use another --out)")
    for stale in (out / "runs").glob(".*.tmp*"):  # torn writes of a killed sweep
        stale.unlink(missing_ok=True)
    return finished_runs(out) if resume else set()


def write_meta(sweep: Sweep, out: Path, extra: dict[str, Any]) -> Path:
    from importlib.metadata import version

    first = sweep.tasks[0] if sweep.tasks else None
    plan = (first.settled.plan if first.settled else first.plan) if first else None
    meta = {"name": sweep.name, "sweep_file": sweep.spec.source_file, "base": sweep.spec.base,
            "fingerprint": sweep.fingerprint, "parameters": sweep.params,
            "variants": {f"v{k:04d}": v for k, v in enumerate(sweep.variants)},
            "runs": len(sweep.tasks), "seed": plan.seed if plan else None,
            "replications": plan.replications if plan else None,
            "days": plan.horizon.days if plan else None,
            "cqsim_version": version("cqsim"), **extra}
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
    """The numeric measure columns of a runs table (not ids, parameters or timings)."""
    skip = {*ID_COLUMNS, *params, *STATUS_COLUMNS, *TIMING_COLUMNS}
    return [c for c in runs.select_dtypes("number").columns if c not in skip]
