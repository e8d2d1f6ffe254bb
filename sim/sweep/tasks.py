"""A sweep resolved into runs: every variant validated and settled into a plan, every
(variant, replication) a `RunTask`, and the function any executor calls on one."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import time
import warnings
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from sim.budget import Estimate, Limits, estimate, runs_of
from sim.engine.recorder import ReplicationResult
from sim.equilibrium import Settled
from sim.errors import FactorWarning, InputError, plural
from sim.extensions import carried
from sim.inputs import read_files, study_digests
from sim.kpis import (
    GOODS_TRADE_KPI,
    PEAKS,
    SUMS,
    Peak,
    Summed,
    kpi,
    kpis,
    run_peaks,
    run_sums,
    totals,
)
from sim.network import Plan
from sim.pipeline import prepare, replicate_one, settle, with_run_settings
from sim.routing import choice_sets
from sim.scenario import (
    Scenario,
    factor_warning,
    large_factors,
    load_scenario,
    load_scenario_via,
    with_overrides,
)
from sim.sweep.design import design
from sim.sweep.spec import SweepSpec, check_settings, load_sweep

# what a sweep's sensitivity table, tornado and first plots show: the loaded TEU of all
# channels and the goods trade the target is of (not the channels' trade alone)
HEADLINE_KPIS = (f"total_{kpi('teu').column}", GOODS_TRADE_KPI.column)


@dataclass(frozen=True)
class RunTask:
    """One simulation: variant `variant` of the sweep, replication `replication`.

    It carries the variant's plan settled in the calling process (`settled`), or its built
    `plan` for the worker to settle (`key` names the variant: a worker settles each variant
    once and keeps the last few, so its replications and later variants on the same network
    reuse the route choice sets).
    """

    run_id: str
    variant: str
    replication: int
    params: dict[str, Any]
    settled: Settled | None = None     # the variant's plan, settled as sim.run settles it ...
    plan: Plan | None = None           # ... or built, settled where the run executes
    key: str = ""                      # identity of the variant (sweep fingerprint + id)

    def head(self) -> dict[str, Any]:
        """The identifying columns of this run's row."""
        plan = self.settled.plan if self.settled is not None else self.plan
        return {"run_id": self.run_id, "variant": self.variant,
                "replication": self.replication, "seed": plan.seed if plan else None,
                **self.params}

    def settle(self) -> Settled:
        """The variant's settled plan: carried, or settled here once per process."""
        if self.settled is not None:
            return self.settled
        assert self.plan is not None, "a RunTask carries a settled or a built plan"
        return settled_variant(self.key, self.plan)


_SETTLED: OrderedDict[str, Settled] = OrderedDict()   # per-process memo of settled variants
SETTLED_KEPT = 4


def settled_variant(key: str, plan: Plan) -> Settled:
    """`settle(plan)`, remembered under `key` for the next runs of the same variant."""
    if key in _SETTLED:
        _SETTLED.move_to_end(key)
        return _SETTLED[key]
    done = settle(plan)
    _SETTLED[key] = done
    while len(_SETTLED) > SETTLED_KEPT:
        _SETTLED.popitem(last=False)
    return done


def run_kpis(result: ReplicationResult, plan: Plan) -> dict[str, float | str]:
    """Flat KPIs of one replication of `plan`: every corridor KPI per corridor
    (`<corridor>_<kpi>`) and in total (`total_<kpi>`, `sim.kpis`), the goods trade
    (`goods_trade_bn_cny_per_year`: channels plus what no simulated route carries,
    `sim.trade`), peak utilizations with where each peak is (`max_hub_utilization_at`: the
    hub's id; `link:direction`, ...; empty when no row measured it), the sums over a table
    (`sim.kpis.SUMS`: the other users' TEU gone elsewhere from every hub, per year), the
    peaks and sums an extension declares (`sim.kpis.add_run_figure`), the conservation
    balance and the start-up check
    (`start_up_shortfall`: the share by which the TEU delivered fall short of those created;
    `warmup_short_days`: by how much the warm-up falls short of most boxes' door-to-door
    time; `sim.checks.StartUp`), the feedback passes (`sim.checks.FEEDBACK_COLUMNS`) and
    the lines ending with a backlog (`lines_backlogged`: `sim.checks.backlogged_names`),
    which the sweep warns of as `run` does (`sim.checks.unsettled_runs`, `backlogged_runs`).
    """
    from sim.checks import backlogged_names, start_up
    from sim.trade import GOODS_TRADE, outside_channels_bn

    row: dict[str, float | str] = {}
    corridors = result.tables["corridors"]
    for c in corridors.to_dict("records"):
        for k in kpis():
            row[f"{c['corridor']}_{k.column}"] = float(c[k.column])
    sums = totals(corridors)
    row.update({f"total_{name}": value for name, value in sums.items()})
    row[GOODS_TRADE] = sums[kpi("trade_bn_cny").column] + outside_channels_bn(plan)
    balance = result.tables["conservation"].to_dict("records")[0]
    row.update({str(k): float(v) for k, v in balance.items() if k != "residual_teu"})
    begun = start_up(result.tables["routes"], plan.horizon.warmup_days)
    row["start_up_shortfall"] = begun.shortfall if begun is not None else float("nan")
    row["warmup_short_days"] = begun.short_days if begun is not None else float("nan")
    passes = result.equilibrium or {}
    gap = passes.get("gap")
    ran = passes.get("passes")
    row["feedback_passes"] = float(ran) if isinstance(ran, int | float) else 0.0
    row["feedback_settled"] = (float(bool(passes.get("converged")))   # NaN: none ran
                               if row["feedback_passes"] else float("nan"))
    row["feedback_gap"] = float(gap) if isinstance(gap, int | float) else float("nan")
    lines = result.tables.get("lines")
    row["lines_backlogged"] = ", ".join(backlogged_names(lines)) if lines is not None else ""
    figures: tuple[Peak | Summed, ...] = (*run_peaks(), *run_sums())
    for figure in figures:
        df = result.tables.get(figure.table)
        if df is None or figure.source not in df or (isinstance(figure, Peak) and not len(df)):
            continue
        names = (figure.column, figure.at) if isinstance(figure, Peak) else (figure.column,)
        taken = [n for n in names if n in row]
        if taken and figure not in (*PEAKS, *SUMS):   # an extension's may take no column
            raise ValueError(f"run figure {figure.column!r} (sim.kpis.add_run_figure): the "
                             f"column {taken[0]!r} is one cqsim writes of each run already")
        if isinstance(figure, Peak):
            # over the rows that measured it (a line that offered no capacity has no load
            # factor: NaN, which max() spread to the run's figure); NaN when none did, and
            # no row named where (argmax of all NaN named the table's first row; review65 #6)
            values = df[figure.source].to_numpy(dtype=float)
            measured = values[~np.isnan(values)]
            row[figure.column] = float(measured.max()) if measured.size else float("nan")
            row[figure.at] = ""
            if measured.size:
                top = df.iloc[int(np.nanargmax(values))]
                row[figure.at] = ":".join(str(top[c]) for c in (figure.key, "direction")
                                          if c in df.columns)
        else:
            row[figure.column] = float(df[figure.source].sum())
    return row


class Headed(Protocol):
    """A task an executor runs: its id and the identifying columns of its row."""

    @property
    def run_id(self) -> str: ...

    def head(self) -> dict[str, Any]: ...


def failed_row(task: Headed, error: str, wall: float = 0.0) -> dict[str, Any]:
    """The row recorded for a run that raised or whose worker died."""
    return {**task.head(), "status": "failed", "error": error[:500], "wall_s": wall,
            "worker": _worker_name()}


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def execute_run(task: RunTask) -> dict[str, Any]:
    """Simulate one run and return its row; an exception becomes a `failed` row, not a raise."""
    start = time.perf_counter()
    try:
        settled = task.settle()
        measures = run_kpis(replicate_one(settled, task.replication), settled.plan)
    except Exception as exc:  # a failed run is data; the sweep goes on
        return failed_row(task, f"{type(exc).__name__}: {exc}", time.perf_counter() - start)
    return {**task.head(), "status": "ok", "error": "", **measures,
            "wall_s": time.perf_counter() - start, "worker": _worker_name()}


@dataclass
class Sweep:
    """A sweep file resolved into variants and runs, ready for an executor."""

    spec: SweepSpec
    base: Scenario
    params: list[str]
    variants: list[dict[str, Any]]
    tasks: list[RunTask]
    fingerprint: str
    inputs: dict[str, str]     # digest of each file the runs read, and the code's version
    estimate: Estimate   # what all its runs cost, each variant priced on its own

    @property
    def name(self) -> str:
        return self.spec.name

    def season_notes(self) -> list[str]:
        """What the per-year figures of its runs carry of the season when their statistics
        period is part of a year (`sim.trade.season_note`), one line per distinct horizon; as
        `cqsim run` says it (a 60-day sweep's figures read 13-20% below a year's; trial48
        M1)."""
        from sim.trade import season_note
        notes = (season_note(plan.season, plan.horizon) for plan in self._plans())
        return list(dict.fromkeys(note for note in notes if note))

    def periods(self) -> str:
        """What its runs' per-year figures are annualised from, for its plots' source line:
        "annualised from days 30-60 (mean seasonal factor 0.799)", each distinct horizon
        once, "" for whole years: `sim.trade.part_year`, as `season_notes` reads them."""
        from sim.trade import part_year
        return part_year((plan.horizon, plan.season) for plan in self._plans())

    def variant_plans(self) -> dict[str, Plan]:
        """Each variant's plan as its runs ran (`_plans`), by its id: what a check of its
        runs reads of its settings (`sim.checks.unsettled_runs`)."""
        return {task.variant: plan for task, plan in self._task_plans()}

    def _plans(self) -> Iterator[Plan]:
        """Each run's plan as it ran (after feedback passes where they settled it)."""
        return (plan for _, plan in self._task_plans())

    def _task_plans(self) -> Iterator[tuple[RunTask, Plan]]:
        for task in self.tasks:
            plan = task.settled.plan if task.settled is not None else task.plan
            if plan is not None:
                yield task, plan

    def changes_named(self) -> list[str]:
        """What each `changes.N...` path the sweep sets addresses: N counts the base's merged
        list, the changes of the files it extends first, not the position in the file that
        wrote it (a sweep of `changes.1.value` meant for a lock moved Malaszewicze's servers;
        trial48 H1), e.g. "changes.2.value: set lanes of lock three_gorges_locks (lock-base.yaml:
        changes.0)"."""
        out = []
        for path in self.spec.settings():
            parts = path.split(".")
            if parts[0] != "changes" or len(parts) < 2 or not parts[1].isdigit() \
                    or int(parts[1]) >= len(self.base.changes):
                continue
            change = self.base.changes[int(parts[1])]
            what = " ".join(f"{kind} {name}" for kind, name in change.touches)
            field = getattr(change, "field", None)
            file, at = self.base.locate(f"changes.{parts[1]}")
            out.append(f"{path}: {change.kind}{f' {field} of' if field else ''}"
                       f"{f' {what}' if what else ''} ({Path(file).name}: {at})")
        return out


def _variant_scenario(spec: SweepSpec, base: Scenario, kind: str,
                      point: dict[str, Any]) -> Scenario:
    """The base with fixed and varied overrides, errors naming the sweep file and field."""
    overrides = {**spec.fixed, **point}
    try:
        return with_overrides(base, **overrides)
    except InputError as exc:
        # the override at the error, inside it, or under it (a horizon's own check names
        # `horizon` for horizon.warmup_days)
        where = exc.field if exc.field in overrides else next(
            (p for p in overrides if exc.field.startswith(p)), None) or next(
            (p for p in overrides if p.startswith(exc.field + ".")), exc.field)
        prefix = "fixed" if where in spec.fixed and where not in point else f"parameters.{kind}"
        raise InputError(spec.source_file, f"{prefix}.{where}",
                         f"{exc.expected} (in base scenario {spec.base})", exc.got) from None


def load_base(spec: SweepSpec) -> Scenario:
    """The sweep's base scenario; an error in it names the sweep file and `base`."""
    with warnings.catch_warnings():   # its factors are warned of as the variants run them
        warnings.simplefilter("ignore", FactorWarning)
        if not spec.source_file:  # a spec made in Python: its base is relative to the folder
            return load_scenario(spec.base)
        return load_scenario_via(spec.source_file, "base", spec.base)


def _variant_error(spec: SweepSpec, k: int, point: dict[str, Any], exc: InputError
                   ) -> InputError:
    return InputError(spec.source_file, f"parameters (variant v{k:04d}: {point})",
                      f"a scenario that builds ({exc})")


def _settle_variants(spec: SweepSpec, plans: list[Plan], points: list[dict[str, Any]],
                     pool: Executor | None, settled: list[Settled | None]) -> None:
    """Settle each plan into `settled`, on `pool` (in parallel) when given, else here; an
    InputError names the sweep file and the variant. BrokenProcessPool when the pool broke,
    the variants it had not settled left None."""
    futures = [pool.submit(carried(settle), p) for p in plans] if pool is not None else None
    for k, plan in enumerate(plans):
        try:
            settled[k] = futures[k].result() if futures is not None else settle(plan)
        except InputError as exc:
            raise _variant_error(spec, k, points[k], exc) from None


def _warn_large_factors(spec: SweepSpec, variants: Sequence[Scenario]) -> None:
    """Warn once of each factor (`changes.N.factor`) some variant runs at a likely percentage
    (`sim.scenario.large_factors`), naming the field that set it: the sweep's (varied or
    fixed, or the `changes` it replaces) or else its base file's. A base factor every
    variant replaces is not warned of: no run uses it (review48 L2)."""
    settings, warned = spec.settings(), set()
    for scenario in variants:
        for i, change in large_factors(scenario):
            path = f"changes.{i}.factor"
            setter = next((settings[p][0] + path[len(p):] for p in
                           (path, f"changes.{i}", "changes") if p in settings), None)
            where = scenario.locate(path) if setter is None else \
                (spec.source_file or spec.name, setter)
            if where not in warned:
                warned.add(where)
                warnings.warn(factor_warning(*where, change), stacklevel=3)


def prepare_sweep(spec: SweepSpec | str | Path, limits: Limits | None = None,
                  workers: int = 1, *, settle_here: bool = True,
                  pool: Executor | None = None) -> Sweep:
    """Load the base, expand and validate every variant, build plans and (`settle_here`)
    route choice sets; otherwise the workers settle each variant (many variants, each run
    once: the settling is then spread over the workers). `pool`: settle the variants on these
    processes, in parallel (a local pool then runs the sweep warm); if it breaks, the variants
    it did not settle are left to the workers of the runs.

    Every input error surfaces here, before any run starts; with `limits`, a sweep whose
    estimated cost passes them is refused before its variants are built (sim.boundary).
    """
    from sim.boundary import check_sweep, check_variants, count_variants

    if not isinstance(spec, SweepSpec):
        spec = load_sweep(spec)
    else:   # a spec made in Python: the checks of `load_sweep` that follow its validation
        check_settings(spec, spec.source_file or spec.name)
    base = load_base(spec)
    kind = ("grid" if spec.parameters.grid is not None else
            "points" if spec.parameters.points is not None else "sample.ranges")
    reps = spec.replications or base.replications
    sample = spec.parameters.sample
    given = spec.parameters.points
    variants = len(given) if given is not None else count_variants(
        spec.parameters.grid, sample.n if sample else None)
    fixed = _variant_scenario(spec, base, kind, {})
    try:
        first = prepare(fixed, seed=spec.seed, replications=reps, days=spec.days)
    except InputError as exc:
        if not spec.fixed:   # the base alone: its own error names its file
            raise
        # the sweep's fixed values broke the build: said of the sweep file, with them (its
        # base file was blamed, the value hidden: fuzz2 M5)
        raise InputError(spec.source_file, f"fixed ({spec.fixed})",
                         f"a scenario that builds ({exc})") from None
    first_sets = choice_sets(first)
    # a point's own replications count as it runs them (an uncertainty study's noise point
    # runs 8: priced as one, the 256-sample study of plan-2025 read 387 runs, not 408)
    runs = None if spec.point_replications is None else sum(
        runs_of(first, len(chosen)) for chosen in spec.point_replications)
    # points with their own replications (an uncertainty study's) are counted in runs, as
    # the study counts them (trial51: "a sweep of 17 variants" for a study of 24 runs)
    what = None if spec.point_replications is None else (
        f"sweep of {plural(sum(len(r) for r in spec.point_replications), 'run')} "
        f"({plural(variants, 'point')}, each with its own replications)")
    check_sweep(variants, estimate(first, first_sets), workers, limits, spec.source_file,
                runs=runs, what=what)
    points = design(spec.parameters)
    tasks: list[RunTask] = []
    plans = []
    scenarios = [base]
    for k, point in enumerate(points):
        as_is = spec.first_point_as_is and k == 0    # its values recorded, not written back
        scenario = _variant_scenario(spec, base, kind, {} if as_is else point)
        scenarios.append(scenario)
        try:
            plans.append(prepare(scenario, seed=spec.seed, replications=reps, days=spec.days))
        except InputError as exc:
            raise _variant_error(spec, k, point, exc) from None
    _warn_large_factors(spec, scenarios[1:])
    # each variant priced on its own plan, with its own replications (the base's legs per
    # route: its route sets are not built yet)
    cost = check_variants([estimate(
        plan if spec.point_replications is None else
        with_run_settings(plan, replications=len(spec.point_replications[k])),
        first_sets if len(plan.flows) == len(first.flows) else None)
        for k, plan in enumerate(plans)], workers, limits, spec.source_file, what=what)
    inputs = study_digests(read_files(scenarios))
    del scenarios   # only their files were wanted
    identity = {
        "base": base.model_dump(mode="json", exclude={"source_file", "provenance"}),
        "variants": points, "replications": reps, "days": spec.days, "seed": spec.seed,
        "fixed": spec.fixed, "point_replications": spec.point_replications,
        "inputs": inputs,
        # only when set, so a sweep without it keeps the fingerprint it had before the field
        **({"first_point_as_is": True} if spec.first_point_as_is else {}),
    }
    text = json.dumps(identity, sort_keys=True, default=str)
    fingerprint = hashlib.sha256(text.encode()).hexdigest()
    settled: list[Settled | None] = [None] * len(plans)
    if settle_here:
        # a pool whose workers died or could not start (a script without the `__main__`
        # guard): the variants not settled yet are settled where their runs go, whose
        # executor retries and then records the runs as failed with the reason (`run_pool`)
        with contextlib.suppress(BrokenProcessPool):
            _settle_variants(spec, plans, points, pool, settled)
    for k, (point, plan) in enumerate(zip(points, plans, strict=True)):
        vid = f"v{k:04d}"
        chosen = (spec.point_replications[k] if spec.point_replications is not None
                  else range(reps))
        for r in chosen:
            tasks.append(RunTask(f"{vid}-r{r:03d}", vid, r, dict(point), settled[k],
                                 plan if settled[k] is None else None,
                                 f"{fingerprint[:16]}-{vid}"))
    return Sweep(spec, base, spec.parameters.names, points, tasks, fingerprint, inputs, cost)
