"""Batch sweeps: scenario variants x replications on a local process pool or a Dask cluster.

A sweep file names a base scenario, parameters over scenario fields by dotted path (a full
`grid`, or a `sample`: Latin hypercube or random over ranges, with a seed), replications and
an optional horizon. Run (variant k, replication r) simulates the variant with the base
scenario's seed and replication r, so all variants share their random numbers (common random
numbers) and one run gives the same KPIs on any executor.

Each finished run is written at once, atomically, to DIR/runs/<run_id>.parquet: a sweep killed
at any moment resumes (`resume=True`) without redoing finished runs and without duplicates.
At the end the parts are assembled into DIR/runs.parquet, DIR/summary.csv (mean and 95% CI
per variant), DIR/sensitivity.csv and DIR/plots/*.png.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import socket
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, StrictBool, ValidationError, field_validator, model_validator

from sim.atomic import write_csv, write_parquet, write_text
from sim.engine import simulate
from sim.engine.recorder import ReplicationResult
from sim.equilibrium import solve
from sim.errors import InputError
from sim.network import Plan
from sim.results import mean_ci
from sim.routing import ChoiceSet, choice_sets
from sim.runner import prepare
from sim.scenario import Scenario, load_scenario, read_yaml, with_overrides
from sim.specs import Spec

Scalar = StrictBool | int | float | str
ID_COLUMNS = ("run_id", "variant", "replication", "seed")
STATUS_COLUMNS = ("status", "error")
TIMING_COLUMNS = ("wall_s", "worker")  # where and how long: differ between executors
HEADLINE_KPIS = ("total_teu", "total_trade_value_cny")

# ----------------------------------------------------------------------------- sweep file


class Range(Spec):
    """A sampled parameter: uniform over [low, high], rounded when `integer`."""

    low: float
    high: float
    integer: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.high <= self.low:
            raise ValueError("high must be greater than low")
        return self


class Sample(Spec):
    """`n` variants drawn over `ranges` by Latin hypercube (`lhs`) or plain random sampling."""

    method: Literal["lhs", "random"] = "lhs"
    n: int = Field(ge=1, le=100_000, description="number of variants")
    seed: int = Field(ge=0, le=2**63 - 1, description="seed of the design (not of the runs)")
    ranges: dict[str, Range] = Field(min_length=1)

    @field_validator("ranges", mode="before")
    @classmethod
    def _pairs(cls, value: Any) -> Any:
        """Accept `path: [low, high]` as shorthand for `path: {low: .., high: ..}`."""
        if isinstance(value, dict):
            return {k: ({"low": v[0], "high": v[1]} if isinstance(v, list) and len(v) == 2
                        else v) for k, v in value.items()}
        return value


class Parameters(Spec):
    """Exactly one of a full `grid` (path: [values]) or a `sample`."""

    grid: dict[str, list[Scalar]] | None = None
    sample: Sample | None = None

    @model_validator(mode="after")
    def _one(self) -> Parameters:
        if (self.grid is None) == (self.sample is None):
            raise ValueError("exactly one of grid or sample")
        if self.grid is not None:
            if not self.grid:
                raise ValueError("grid needs at least one parameter")
            for path, values in self.grid.items():
                if not values:
                    raise ValueError(f"grid.{path} needs at least one value")
        return self

    @property
    def names(self) -> list[str]:
        """Dotted paths of the parameters, in file order."""
        if self.grid is not None:
            return list(self.grid)
        assert self.sample is not None  # validated: exactly one of the two
        return list(self.sample.ranges)


class SweepSpec(Spec):
    """A whole sweep file, validated."""

    name: str = Field("", description="default: the file name without .yaml")
    description: str = ""
    base: str = Field(min_length=1, description="base scenario, relative to the sweep file")
    parameters: Parameters
    replications: int | None = Field(None, ge=1, le=10_000,
                                        description="default: the base scenario's")
    days: float | None = Field(None, gt=0, le=36_600, description="horizon override")
    seed: int | None = Field(None, ge=0, le=2**63 - 1,
                                description="seed of every run (default: the base's)")
    fixed: dict[str, Scalar] = Field(default_factory=dict,
                                     description="dotted-path overrides for every variant")
    source_file: str = Field("", description="set by the loader: the file read")


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and validate a sweep file; InputError naming the file and field otherwise."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "", "an existing sweep file")
    raw = read_yaml(path)
    raw.setdefault("name", path.stem)
    raw["source_file"] = str(path.resolve())
    try:
        return SweepSpec.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        expected = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            expected = "no such key (unknown field)"
        got = err.get("input") if err["type"] != "missing" else None
        raise InputError(path, loc, expected,
                         None if isinstance(got, (dict, list)) else got) from None


def design(params: Parameters) -> list[dict[str, Any]]:
    """The variants: every grid combination (last parameter fastest) or the sampled points."""
    if params.grid is not None:
        names = list(params.grid)
        return [dict(zip(names, combo, strict=True))
                for combo in itertools.product(*params.grid.values())]
    sample = params.sample
    assert sample is not None
    names = list(sample.ranges)
    if sample.method == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=len(names), seed=np.random.default_rng(sample.seed)
                                  ).random(sample.n)
    else:
        unit = np.random.default_rng(sample.seed).random((sample.n, len(names)))
    variants = []
    for row in unit:
        point: dict[str, Any] = {}
        for name, u in zip(names, row, strict=True):
            rng = sample.ranges[name]
            value = rng.low + float(u) * (rng.high - rng.low)
            point[name] = int(round(value)) if rng.integer else value
        variants.append(point)
    return variants


# ----------------------------------------------------------------------------- runs


@dataclass(frozen=True)
class RunTask:
    """One simulation: variant `variant` of the sweep, replication `replication`."""

    run_id: str
    variant: str
    replication: int
    params: dict[str, Any]
    plan: Plan
    choices: tuple[ChoiceSet, ...]
    route_delay: dict[int, float] = field(default_factory=dict)  # from sim.equilibrium

    def head(self) -> dict[str, Any]:
        """The identifying columns of this run's row."""
        return {"run_id": self.run_id, "variant": self.variant,
                "replication": self.replication, "seed": self.plan.seed, **self.params}


def kpis(result: ReplicationResult) -> dict[str, float]:
    """Flat KPIs of one replication: per corridor (wide columns), totals and peak utilizations."""
    row: dict[str, float] = {}
    corridors = result.tables["corridors"]
    measures = ("teu", "trade_value_cny", "transit_mean_h", "transit_p95_h", "wait_mean_h",
                "co2_t")
    for _, c in corridors.iterrows():
        for m in measures:
            if m in c:
                row[f"{c['corridor']}_{m}"] = float(c[m])
    teu = corridors["teu"].to_numpy(dtype=float)
    row["total_teu"] = float(teu.sum())
    row["total_trade_value_cny"] = float(corridors["trade_value_cny"].sum())
    row["total_co2_t"] = float(corridors["co2_t"].sum())
    transit = corridors["transit_mean_h"].to_numpy(dtype=float)
    ok = np.isfinite(transit) & (teu > 0)
    row["transit_mean_h"] = float(np.average(transit[ok], weights=teu[ok])) if ok.any() \
        else float("nan")
    for table, col in (("hubs", "utilization"), ("links", "utilization"),
                       ("locks", "utilization"), ("lines", "load_factor")):
        df = result.tables.get(table)
        if df is not None and col in df and len(df):
            row[f"max_{table.rstrip('s')}_{col}"] = float(df[col].max())
    for key in ("created_teu", "delivered_teu", "waiting_teu", "in_transit_teu"):
        if key in result.conservation:
            row[key] = float(result.conservation[key])
    return row


def failed_row(task: RunTask, error: str, wall: float = 0.0) -> dict[str, Any]:
    """The row recorded for a run that raised or whose worker died."""
    return {**task.head(), "status": "failed", "error": error[:500], "wall_s": wall,
            "worker": _worker_name()}


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def execute_run(task: RunTask) -> dict[str, Any]:
    """Simulate one run and return its row; an exception becomes a `failed` row, not a raise."""
    start = time.perf_counter()
    try:
        result = simulate(task.plan, task.replication, task.choices, task.route_delay)
        measures = kpis(result)
    except Exception as exc:  # a failed run is data; the sweep goes on
        return failed_row(task, f"{type(exc).__name__}: {exc}", time.perf_counter() - start)
    return {**task.head(), "status": "ok", "error": "", **measures,
            "wall_s": time.perf_counter() - start, "worker": _worker_name()}


# ----------------------------------------------------------------------------- a prepared sweep


@dataclass
class Sweep:
    """A sweep file resolved into variants and runs, ready for an executor."""

    spec: SweepSpec
    base: Scenario
    params: list[str]
    variants: list[dict[str, Any]]
    tasks: list[RunTask]
    fingerprint: str

    @property
    def name(self) -> str:
        return self.spec.name


def _variant_scenario(spec: SweepSpec, base: Scenario, kind: str,
                      point: dict[str, Any]) -> Scenario:
    """The base with fixed and varied overrides, errors naming the sweep file and field."""
    overrides = {**spec.fixed, **point}
    try:
        return with_overrides(base, **overrides)
    except InputError as exc:
        where = exc.field if exc.field in overrides else next(
            (p for p in overrides if exc.field.startswith(p)), exc.field)
        prefix = "fixed" if where in spec.fixed and where not in point else f"parameters.{kind}"
        raise InputError(spec.source_file, f"{prefix}.{where}",
                         f"{exc.expected} (in base scenario {spec.base})", exc.got) from None


def prepare_sweep(spec: SweepSpec | str | Path) -> Sweep:
    """Load the base, expand and validate every variant, build plans and route choice sets.

    Every input error surfaces here, before any run starts.
    """
    if not isinstance(spec, SweepSpec):
        spec = load_sweep(spec)
    folder = Path(spec.source_file).parent if spec.source_file else Path.cwd()
    base = load_scenario(folder / spec.base)
    kind = "grid" if spec.parameters.grid is not None else "sample.ranges"
    points = design(spec.parameters)
    tasks: list[RunTask] = []
    reps = spec.replications or base.replications
    for k, point in enumerate(points):
        scenario = _variant_scenario(spec, base, kind, point)
        vid = f"v{k:04d}"
        try:
            plan = prepare(scenario, seed=spec.seed, replications=reps, days=spec.days)
            choices = tuple(choice_sets(plan))
            settled = solve(plan, choices)  # demand response and delay feedback, as sim.run
        except InputError as exc:
            raise InputError(spec.source_file, f"parameters (variant {vid}: {point})",
                             f"a scenario that builds ({exc})") from None
        for r in range(reps):
            tasks.append(RunTask(f"{vid}-r{r:03d}", vid, r, dict(point), settled.plan,
                                 choices, settled.route_delay))
    identity = {
        "base": base.model_dump(mode="json", exclude={"source_file"}),
        "variants": points, "replications": reps, "days": spec.days, "seed": spec.seed,
        "fixed": spec.fixed,
    }
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode())
    return Sweep(spec, base, spec.parameters.names, points, tasks, digest.hexdigest())


# ----------------------------------------------------------------------------- results folder


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


def _part_path(out: Path, run_id: str) -> Path:
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


def _check_out(sweep: Sweep, out: Path, resume: bool) -> set[str]:
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


def _write_meta(sweep: Sweep, out: Path, extra: dict[str, Any]) -> Path:
    from importlib.metadata import version

    meta = {"name": sweep.name, "sweep_file": sweep.spec.source_file, "base": sweep.spec.base,
            "fingerprint": sweep.fingerprint, "parameters": sweep.params,
            "variants": {f"v{k:04d}": v for k, v in enumerate(sweep.variants)},
            "runs": len(sweep.tasks), "seed": sweep.tasks[0].plan.seed if sweep.tasks else None,
            "replications": sweep.tasks[0].plan.replications if sweep.tasks else None,
            "days": sweep.tasks[0].plan.horizon.days if sweep.tasks else None,
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


def summarize_variants(runs: pd.DataFrame, params: Sequence[str]) -> pd.DataFrame:
    """Mean and 95% CI half-width (`<kpi>_ci95`) of every KPI per variant, over its ok runs."""
    measures = kpi_columns(runs, params)
    rows = []
    for vid, sub in runs.groupby("variant", sort=True):
        ok = sub[sub["status"] == "ok"]
        row: dict[str, Any] = {"variant": vid, **{p: sub[p].iloc[0] for p in params},
                               "runs_ok": len(ok), "runs_failed": len(sub) - len(ok)}
        for col in measures:
            mean, half = mean_ci(ok[col].dropna().to_numpy())
            row[col] = mean
            row[f"{col}_ci95"] = half
        rows.append(row)
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- the sweep


def execute_sweep(spec: SweepSpec | str | Path, out: str | Path | None = None, *,
                  workers: int | None = None, scheduler: str | None = None,
                  local_cluster: bool = False, resume: bool = False,
                  progress: bool | None = None, plots: bool = True) -> SweepOutcome:
    """Run a sweep into `out` (a temporary folder when None) and assemble its results.

    Executor: a local process pool of `workers` processes (default: CPU count; 1 runs in this
    process), an existing Dask scheduler at `scheduler` (tcp://HOST:PORT), or a Dask
    LocalCluster of `workers` processes when `local_cluster`. `progress=None` shows a bar on
    a terminal and periodic plain lines otherwise; False is silent.
    """
    from sim.executors import run_dask, run_pool, run_serial
    from sim.progress import SweepProgress

    start = time.perf_counter()
    sweep = prepare_sweep(spec)
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if out is None:
        tmp = tempfile.TemporaryDirectory(prefix="cqsim-sweep-")
        folder = Path(tmp.name)
    else:
        folder = Path(out)
    try:
        done = _check_out(sweep, folder, resume)
        (folder / "runs").mkdir(parents=True, exist_ok=True)
        todo = [t for t in sweep.tasks if t.run_id not in done]
        workers = workers or min(os.cpu_count() or 1, max(1, len(todo)))
        if scheduler:
            executor = f"dask scheduler {scheduler}"
        elif local_cluster:
            executor = f"dask LocalCluster ({workers} workers)"
        else:
            executor = "this process" if workers <= 1 else f"local pool ({workers} processes)"
        _write_meta(sweep, folder, {"status": "running", "executor": executor})

        with SweepProgress(len(sweep.tasks), len(sweep.tasks) - len(todo), sweep.name,
                           progress) as bar:
            def record(row: dict[str, Any]) -> None:
                part = _part_path(folder, row["run_id"])
                write_parquet(part, pd.DataFrame([row]))
                bar.advance(row["status"] != "ok")

            if todo and (scheduler or local_cluster):
                run_dask(todo, record, address=scheduler, workers=workers, notify=bar.note,
                         key_prefix=f"cqsim-{sweep.fingerprint[:12]}")
            elif todo and workers > 1:
                run_pool(todo, record, workers=workers, notify=bar.note)
            elif todo:
                run_serial(todo, record)
        outcome = assemble(sweep, folder, plots=plots and out is not None)
        outcome.executor = executor
        outcome.resumed = len(done)
        outcome.wall_seconds = time.perf_counter() - start
        _write_meta(sweep, folder, {
            "status": "complete", "executor": executor,
            "wall_seconds": round(outcome.wall_seconds, 3), "resumed_runs": len(done),
            "failed_runs": outcome.failed})
        if tmp is not None:
            outcome.out, outcome.files = None, []
        return outcome
    finally:
        if tmp is not None:
            tmp.cleanup()


def assemble(sweep: Sweep, out: Path, *, plots: bool = True) -> SweepOutcome:
    """Consolidate the part files into runs.parquet, summary.csv, sensitivity.csv and plots."""
    from sim.sweep_plots import kpi_plots, sensitivity, tornado_plot

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


def plotted_kpis(runs: pd.DataFrame, params: Sequence[str]) -> list[str]:
    """Headline KPIs plus each corridor's TEU that carries freight."""
    cols = kpi_columns(runs, params)
    chosen = [c for c in (*HEADLINE_KPIS, "total_co2_t", "transit_mean_h",
                          "max_hub_utilization") if c in cols]
    chosen += [c for c in cols if c.endswith("_teu") and not c.startswith("total")
               and c not in {"created_teu", "delivered_teu", "waiting_teu", "in_transit_teu"}
               and runs[c].fillna(0).abs().sum() > 0]
    return chosen


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

