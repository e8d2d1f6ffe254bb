"""One boundary for input: everything a command reads is parsed and checked here, before any
simulation, and `cqsim validate` runs exactly these checks.

`admit` takes a scenario file (or a loaded `Scenario`) and the command-line overrides to a
checked `Plan` and its route choice sets, in the order that fails cheapest first:

1. the scenario file and its `extends` chain (`sim.readers`, `sim.scenario`): size, depth,
   duplicate keys, schema, strict numbers, references between fields;
2. overrides and the geodata (`sim.network.build`): structure, ids, references, changes;
3. the basemap (`basemap.gpkg`), when the geodata folder has one: a corrupt one is refused
   here, not after the tables are written;
4. routes for every flow (`sim.routing.choice_sets`);
5. the cost estimate against the limits (`sim.budget`);
6. the reference scenario of the demand response (`demand.reference_scenario`), loaded and
   built as the run will.

`count_variants` and `check_sweep` do the same for a sweep before its variants exist.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sim import cache
from sim.budget import (
    BASE_MEMORY,
    DEFAULT_LIMITS,
    MAX_VARIANTS,
    Estimate,
    Limits,
    check,
    combine,
    estimate,
)
from sim.errors import InputError, InputWarning, plural
from sim.geodata import BASEMAP_FILE
from sim.network import HOURS_PER_DAY, Plan, blame_unjoined, build
from sim.readers import check_geopackage
from sim.routing import ChoiceSet, choice_sets
from sim.scenario import Horizon, Scenario, load_scenario, not_changes_of, run_overrides
from sim.trade import part_year, references
from sim.units import period_season, stats_days, whole_years

PLAN_BYTES = 1e6  # memory a sweep holds per variant (plan and route sets: 63 kB pickled)


@dataclass(frozen=True)
class Admitted:
    """A scenario that passed every check: its plan, route choice sets and cost estimate."""

    scenario: Scenario
    plan: Plan
    choices: tuple[ChoiceSet, ...]
    estimate: Estimate


def admit(scenario: Scenario | str | Path, *, seed: int | None = None,
          replications: int | None = None, days: float | None = None, workers: int = 1,
          limits: Limits | None = DEFAULT_LIMITS) -> Admitted:
    """Every check a run relies on (module docstring); InputError on the first failure,
    with nothing left in the cache (`sim.cache.held`: the route choice sets come before the
    budget's check)."""
    with cache.held(InputError):
        return _admit(scenario, seed=seed, replications=replications, days=days,
                      workers=workers, limits=limits)


def _admit(scenario: Scenario | str | Path, *, seed: int | None, replications: int | None,
           days: float | None, workers: int, limits: Limits | None) -> Admitted:
    """`admit`, its cache entries held."""
    loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    plan = build(run_overrides(loaded, seed=seed, replications=replications, days=days))
    _warn_outside_horizon(loaded, plan)
    _warn_no_warmup(loaded, plan)
    basemap = Path(plan.geodata) / BASEMAP_FILE
    if basemap.exists():
        check_geopackage(basemap, loaded.locate("network.geodata"))
    try:
        choices = choice_sets(plan)
    except InputError as exc:   # a flow no service joins: the removal that cut it, if one did
        raise blame_unjoined(loaded, exc) from None
    _warn_idle_gateways(loaded, plan, choices)
    _warn_shut_flows(loaded, plan, choices)
    cost = estimate(plan, choices, workers)
    if limits is not None:
        check(cost, limits, loaded.source_file)
    check_reference(loaded, plan, choices)
    references()       # the trade figures every run reports against (seeds/targets.csv)
    return Admitted(loaded, plan, choices, cost)


def _warn_outside_horizon(scenario: Scenario, plan: Plan) -> None:
    """A disruption, a lock's maintenance or a scheduled lock outage that the run's horizon
    leaves wholly outside it (no effect).

    A disruption change is checked against the scenario's own horizon when it is loaded
    (refused there: the file contradicts itself); a horizon shortened on the command line,
    and a lock's operation (shared by scenarios of other horizons), only warn."""
    end = plan.horizon.days * HOURS_PER_DAY
    for (kind, ident), windows in plan.network.disruptions.items():
        for start, _, _ in windows:
            if start >= end:
                warnings.warn(InputWarning(
                    f"{scenario.source_file}: the disruption of {kind} {ident} from day "
                    f"{start / HOURS_PER_DAY:g} lies after the end of this "
                    f"{plan.horizon.days:g}-day run and has no effect"), stacklevel=3)
    for lock, op in scenario.network.locks.items():
        for what in ("maintenance", "outages"):
            for i, w in enumerate(getattr(op, what)):
                day = getattr(w, "start_day", None)   # random outages have no window
                if day is not None and day >= plan.horizon.days:
                    file, field = scenario.locate(f"network.locks.{lock}.{what}.{i}")
                    warnings.warn(InputWarning(
                        f"{file}: {field}: starts on day {day:g}, after the end of this "
                        f"{plan.horizon.days:g}-day run, and has no effect"), stacklevel=3)


def _warn_idle_gateways(scenario: Scenario, plan: Plan, choices: Sequence[ChoiceSet]) -> None:
    """A market gateway no candidate route matches (its corridors without a service, or a
    `via` off every route) carries nothing: a warning, not a refusal, for a scenario may
    close a channel on purpose, but a slip in it left a gateway out without a word."""
    if plan.market is None:
        return
    used = {route.gateway for cs in choices for route in cs.routes}
    for name in plan.market.section.gateways:
        if name not in used:
            file, field = scenario.locate(f"market.gateways.{name}")
            warnings.warn(InputWarning(
                f"{file}: {field}: no route of any flow matches this gateway (its corridors, "
                "onward and via), so it carries nothing in this run"), stacklevel=3)


def _warn_shut_flows(scenario: Scenario, plan: Plan, choices: Sequence[ChoiceSet]) -> None:
    """Flows whose every route crosses a part shut (capacity factor 0) for the whole
    statistics period: their boxes are still created and only wait, filling the yards they
    wait in (a flow's demand answers to cost by its elasticity, never to zero). A scenario
    may mean it, but a planner closing a channel should know what its tied flows do."""
    from sim.routing import shut_throughout

    shut = [plan.flows[cs.flow] for cs in choices   # empties are sized later, from the rest
            if plan.flows[cs.flow].flow_class != "empty" and cs.routes
            and all(shut_throughout(plan, r) for r in cs.routes)]
    if not shut:
        return
    teu = sum(f.teu_per_year for f in shut)
    named = ", ".join(f"{f.origin} -> {f.destination} ({f.commodity})" for f in shut[:3])
    more = f" and {len(shut) - 3} more" if len(shut) > 3 else ""
    warnings.warn(InputWarning(
        f"{scenario.source_file}: {plural(len(shut), 'flow')} ({named}{more}; "
        f"{teu:,.0f} TEU/yr) have every route through a part shut for the whole statistics "
        "period: their boxes are still created and wait through it in the yards they reach "
        "(remove the flows, or give them a route, to model them going elsewhere)"),
        stacklevel=3)


def _warn_no_warmup(scenario: Scenario, plan: Plan) -> None:
    """A horizon shortened (`--days`) to no more than the scenario's warm-up runs without
    one: its statistics then include the start from empty queues."""
    warmup = scenario.horizon.warmup_days
    if warmup > 0 and plan.horizon.warmup_days == 0:
        warnings.warn(InputWarning(
            f"{scenario.source_file}: --days {plan.horizon.days:g} is not longer than the "
            f"{warmup:g}-day warm-up (horizon.warmup_days), so this run has none: its "
            "statistics include the start from empty"), stacklevel=3)


def no_warmup_note(base: Scenario, days: float | None, file: str | Path) -> str | None:
    """A study file's `days:` no longer than its base's warm-up runs every simulation without
    one (as `--days` does a run, `_warn_no_warmup`): the line saying so, else None."""
    warmup = base.horizon.warmup_days
    if days is None or warmup <= 0 or days > warmup:
        return None
    return (f"{file}: days: {days:g} is not longer than the base's {warmup:g}-day warm-up "
            "(horizon.warmup_days), so its runs have none: their statistics include the "
            "start from empty")


def study_horizon(base: Scenario, days: float | None) -> dict[str, float]:
    """Days each run of a study simulates, its warm-up and the statistics period between
    (days; `days`: the study file's `days:`, else the base's horizon), as its record keeps
    them: every bn CNY/yr and TEU/yr figure is annualised from that period."""
    h = run_overrides(base, days=days).horizon
    return {"days": h.days, "warmup_days": h.warmup_days, "statistics_days": stats_days(h)}


def part_year_note(base: Scenario, days: float | None, file: str | Path) -> str | None:
    """The line saying that a study's statistics period is not a whole number of years (a
    `days:` of 60, say), so its per-year figures are annualised from part of a year and then
    set against the annual target; None for whole years."""
    horizon, factor = _study_season(base, days)
    if whole_years(horizon):
        return None
    period = stats_days(horizon)
    where = f"{file}: days: {days:g}" if days is not None else f"{base.source_file}: horizon"
    return (f"{where}: statistics over days {horizon.warmup_days:g}-{horizon.days:g} "
            f"({period:g} days), a part year: the bn CNY/yr and TEU/yr figures "
            "are annualised from it and carry that part of the year's season (its mean "
            f"seasonal factor {factor:.3f}; a whole year: 1), yet are set against the annual "
            "target")


def study_period(base: Scenario, days: float | None) -> str:
    """What a study's per-year figures are annualised from where its statistics period is
    part of a year (`sim.trade.part_year`: "annualised from days 30-60 (mean seasonal factor
    0.799)"), "" for whole years: the end of its figures' source lines, which a PNG read on
    its own did not say (fan.png drew a 60-day pathway's 560 bn CNY/yr beside the published
    713.7; trial51)."""
    return part_year([_study_season(base, days)])


def _study_season(base: Scenario, days: float | None) -> tuple[Horizon, float]:
    """A study's horizon (BASE's, or cut to `days`; validated) and the mean seasonal factor
    of its statistics period (`sim.units.period_season`)."""
    horizon = run_overrides(base, days=days).horizon
    return horizon, period_season(base.demand.seasonality, horizon)


def check_reference(scenario: Scenario, plan: Plan, choices: tuple[ChoiceSet, ...]) -> None:
    """Load and build the reference scenario as the demand response will (its costs are
    cached for the run); an error in it names this scenario's `demand.reference_scenario`."""
    if plan.reference_scenario is None or plan.elasticity == 0:
        return
    from sim.demand import reference_costs

    try:
        reference_costs(plan, choices)
    except InputError as exc:
        file, field = scenario.locate("demand.reference_scenario")
        raise InputError(exc.file, exc.field, exc.expected, exc.got,
                         via=f"{file}: {field}") from None


def count_variants(grid: Mapping[str, Sequence[object]] | None, sample_n: int | None) -> int:
    """Variants of a sweep design, counted without building them."""
    if grid is not None:
        return math.prod(len(values) for values in grid.values())
    return int(sample_n or 0)


def repeated(per_run: Estimate, copies: int, at_once: int, held: float = 0.0,
             runs: int | None = None) -> Estimate:
    """`copies` of a run estimated as `per_run` (its replications and feedback passes), `at_once`
    of them in memory together, plus `held` bytes kept for the whole study (a sweep's plans);
    `runs`: the simulations of all the copies when each runs its own count (else `copies` x
    `per_run.runs`)."""
    return Estimate(per_run.lots_per_replication, per_run.events_per_replication,
                    copies * per_run.runs if runs is None else runs,
                    BASE_MEMORY + held + at_once * (per_run.memory_bytes - BASE_MEMORY))


def check_sweep(variants: int, per_run: Estimate, workers: int, limits: Limits | None,
                file: str, runs: int | None = None, what: str | None = None) -> Estimate:
    """Refuse a sweep too large to hold or to run, before its variants are built; `per_run`
    is the estimate of one variant (all its replications); `runs`: the simulations of all
    the variants together when points run their own replications (`point_replications`:
    `cqsim uncertainty`'s noise point runs 8, each design point 1), else `variants` x
    `per_run.runs`; `what`: how a refusal names it (a sweep of N variants)."""
    if limits is not None and (limits.max_memory is not None or
                               limits.max_events is not None) and variants > MAX_VARIANTS:
        raise InputError(file, "parameters", f"at most {MAX_VARIANTS:,} variants (each is a "
                                             "plan held in memory; pass --no-limit to try)",
                         f"{variants:,} variants")
    total = repeated(per_run, variants, max(1, workers), held=variants * PLAN_BYTES,
                     runs=runs)
    if limits is not None:
        check(total, limits, file, what=what or f"sweep of {plural(variants, 'variant')}")
    return total


def check_variants(estimates: Sequence[Estimate], workers: int, limits: Limits | None,
                   file: str, what: str | None = None) -> Estimate:
    """Refuse a sweep whose variants, each estimated on its own plan, pass `limits`: a grid,
    sample or points value (a smaller lot, more demand, a longer horizon) or a variant's own
    replications (`point_replications`) can make it far dearer than the base that
    `check_sweep` priced before the variants were built. `workers` of the dearest run at
    once; `what` as `check_sweep`'s."""
    every = combine(estimates)
    dearest = max((e.memory_bytes for e in estimates), default=BASE_MEMORY)
    total = Estimate(every.lots_per_replication, every.events_per_replication, every.runs,
                     BASE_MEMORY + len(estimates) * PLAN_BYTES
                     + max(1, workers) * (dearest - BASE_MEMORY))
    if limits is not None:
        check(total, limits, file,
              what=what or f"sweep of {plural(len(estimates), 'variant')}")
    return total


def check_study(base: Scenario, runs: int, workers: int, limits: Limits | None, file: str,
                what: str, days: float | None = None) -> Estimate:
    """Refuse a study (pathway, plan) estimated beyond `limits` before anything runs: `runs`
    simulations of BASE (one replication each, with its feedback passes) at its horizon or
    `days`, `workers` of them at once."""
    per_run = estimate(build(run_overrides(base, replications=1, days=days)))
    total = repeated(per_run, runs, max(1, min(workers, runs)))
    if limits is not None:
        check(total, limits, file, what=what)
    return total


def check_related(base: Scenario, alt: Scenario, *,
                  allowed_by: str = "pass --allow-unrelated") -> None:
    """Refuse an alternative that is not BASE plus changes (`sim.scenario.not_changes_of`):
    the comparison would measure the edits of a file between them too (`allowed_by` says
    how to run it anyway: the command's option, or `sim.compare.compare`'s keyword). A
    scenario read from no file (built in Python) has no chain to judge, and passes."""
    if not base.source_file or not alt.provenance.files:
        return
    why = not_changes_of(base.source_file, alt.provenance.chain)
    if why is not None:
        raise InputError(alt.source_file, "extends", f"a scenario built on BASE "
                         f"{Path(base.source_file).name} by changes only ({why}: compare "
                         f"against a file it extends by changes only, or {allowed_by})")


def _warn_base_settings(base: Scenario, alt: Scenario) -> None:
    """An alternative's own seed, replications or horizon is not run: a comparison runs
    BASE's (paired replications need one seed and horizon); say so, as it once went
    without a word."""
    own = alt.provenance.sections[-1] if alt.provenance.sections else ()
    for key in ("seed", "replications", "horizon"):
        if key in own and getattr(alt, key) != getattr(base, key):
            warnings.warn(InputWarning(
                f"{alt.source_file}: {key}: not used: a comparison runs BASE's seed, "
                "replications and horizon (--replications and --days set them for all)"),
                stacklevel=3)


def admit_comparison(base: Scenario, alts: Sequence[Scenario], *, replications: int | None,
                     days: float | None, workers: int, limits: Limits | None,
                     related: bool = True) -> tuple[Admitted, list[Admitted]]:
    """`admit` BASE and every alternative as `compare` and `rank` will run them (BASE's
    seed, replications and horizon), each alternative checked to be BASE plus changes unless
    `related` is False; the limits apply to all the runs together."""
    named: dict[str, Scenario] = {base.name: base}
    for alt in alts:    # variants are told apart by name in every table and figure
        if alt.name in named:
            other = named[alt.name]
            raise InputError(alt.source_file or "ALTS", "name",
                             f"a scenario name used once in a comparison ({other.source_file} "
                             f"is named '{alt.name}' too; give each variant its own name)",
                             alt.name)
        named[alt.name] = alt
    first = admit(base, replications=replications, days=days, workers=workers, limits=None)
    plan = first.plan
    others = []
    for alt in alts:
        if related:
            check_related(base, alt)
        _warn_base_settings(base, alt)
        others.append(admit(alt, seed=plan.seed, replications=plan.replications,
                            days=plan.horizon.days, workers=workers, limits=None))
    if limits is not None:   # a scenario too dear on its own is named, then all together
        for scenario, admitted in ((base, first), *zip(alts, others, strict=True)):
            check(admitted.estimate, limits, scenario.source_file or scenario.name,
                  what=f"run of {scenario.name} in the comparison")
        check(combine([first.estimate, *(a.estimate for a in others)]), limits,
              base.source_file, what=f"comparison of {len(others) + 1} scenarios")
    return first, others
