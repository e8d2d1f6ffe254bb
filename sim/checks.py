"""Checks on every run: each hub's observed wait beside queueing theory for its measured
rates, hubs that are unstable (queue still growing), warm-ups that were too short (for a
queue, or for the boxes in transit), and lines that end the horizon with a backlog.

Planners read the `checks` table to see when a result should not be trusted: a hub whose
offered load is at or above its capacity has no steady state, and a mean taken while the
queues were still filling up from empty is biased low. Formulas: `sim.queueing`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.errors import plural
from sim.kpis import TEXT, Table, col, teu_weighted_mean, weighted_quantile
from sim.queueing import (
    ggc_wait,
    mmc_wait,
    relaxation_time,
    squared_cv,
    start_up_bias,
    utilization,
    warmup_needed,
)
from sim.units import HOURS_PER_DAY, HOURS_PER_WEEK, HOURS_PER_YEAR

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from sim.network import Plan
    from sim.results import Results

GROWTH_SHARE = 0.05      # queue grew by more than this share of the period's arrivals ...
GROWTH_MIN_JOBS = 10     # ... and by more than this many jobs: the queue is still growing
WARMUP_BIAS = 0.05       # start-up bias of a mean wait above this share: warm-up too short
# delivered TEU short of those created in the period by more than this share, with a warm-up
# shorter than most boxes' door-to-door time: the statistics began before the network was full
START_UP_SHORTFALL = 0.02

# checks.csv: the columns `hub_check` writes, in their order (a hub's table, `sim.engine.hub`)
CHECKS = Table("checks", ("hub",), (
    col("hub", TEXT, label="hub id"),
    col("servers", "positions", fixed=True, label="handling positions in all (an input; a "
                                                  "directional border has a set each way)"),
    col("arrivals", "jobs", "year", "handling jobs arrived"),
    col("arrival_rate_per_h", "jobs/h", label="handling jobs arrived per hour of the "
                                              "statistics period"),
    col("service_mean_h", "h", label="mean handling time of a job (position-hours)"),
    col("arrival_cv2", "ratio", label="squared coefficient of variation of the times between "
                                      "arrivals (1 for Poisson arrivals; empty: too few)"),
    col("service_cv2", "ratio", label="squared coefficient of variation of the handling "
                                      "times (empty: too few)"),
    col("utilization", "share", label="offered load per position: arrival rate x mean "
                                      "handling time / positions (1 or more: no steady "
                                      "state)"),
    col("wait_observed_h", "h", label="mean wait of the jobs handled, as simulated (hubs.csv "
                                      "wait_mean_h)"),
    col("wait_mmc_h", "h", label="mean wait queueing theory gives for the measured rates, "
                                 "Poisson arrivals and exponential handling (M/M/c)"),
    col("wait_approx_h", "h", label="mean wait for the measured rates and variability: "
                                    "Allen-Cunneen G/G/c (Kingman G/G/1 at one position)"),
    col("approximation", TEXT, label="the approximation wait_approx_h uses"),
    col("queue_growth", "jobs", "year", "jobs arrived less jobs handled: the queue's growth"),
    col("unstable", "0/1", label="1 when the queue is still growing (utilization 1 or "
                                 "more, or it grew by more than 5% of the arrivals and 10 "
                                 "jobs), else 0"),
    col("relaxation_h", "h", label="relaxation time: hours the queue takes to forget that "
                                   "it started empty (heavy-traffic approximation)"),
    col("start_up_bias", "share", label="approximate relative bias of the mean wait from "
                                        "starting empty, with this warm-up"),
    col("warmup_needed_days", "days", label="warm-up that brings start_up_bias to 5%"),
    col("warmup_short", "0/1", label="1 when start_up_bias is above 5%: the warm-up is too "
                                     "short; else 0")))


@dataclass(frozen=True)
class QueueCounts:
    """What a hub counted since the warm-up, as a queue: all a check needs."""

    hub: str
    servers: int
    arrivals: int       # jobs arrived
    jobs: int           # jobs handled
    busy: float         # position-hours of handling, and the sum of their squares
    busy_sq: float
    gaps: int           # inter-arrival times seen, their sum and sum of squares
    gap_sum: float
    gap_sq: float
    wait_sum: float     # hours handled jobs waited for yard space and a position


def hub_check(s: QueueCounts, period: float, warmup: float) -> dict[str, object]:
    """One row of the checks table for a hub, from its counts since the warm-up."""
    servers = s.servers
    lam = s.arrivals / period if period > 0 else 0.0
    service = s.busy / s.jobs if s.jobs else float("nan")
    ca2 = squared_cv(s.gap_sum, s.gap_sq, s.gaps)
    cs2 = squared_cv(s.busy, s.busy_sq, s.jobs)
    ca2_or_poisson = 1.0 if math.isnan(ca2) else ca2
    cs2_or_fixed = 0.0 if math.isnan(cs2) else cs2
    rho = utilization(lam, service, servers) if s.jobs else float("nan")
    growth = s.arrivals - s.jobs
    if s.jobs and lam > 0:
        wait_mmc = mmc_wait(lam, service, servers)
        wait_approx = ggc_wait(lam, service, servers, ca2_or_poisson, cs2_or_fixed)
        relax = relaxation_time(lam, service, servers, ca2_or_poisson, cs2_or_fixed)
    else:
        wait_mmc = wait_approx = float("nan")
        relax = 0.0
    unstable = (not math.isnan(rho) and rho >= 1.0) or (
        growth > max(GROWTH_MIN_JOBS, GROWTH_SHARE * s.arrivals))
    bias = start_up_bias(relax, period, warmup)
    needed = warmup_needed(relax, period, WARMUP_BIAS)
    return {
        "hub": s.hub, "servers": servers, "arrivals": s.arrivals,
        "arrival_rate_per_h": lam, "service_mean_h": service, "arrival_cv2": ca2,
        "service_cv2": cs2, "utilization": rho,
        "wait_observed_h": s.wait_sum / s.jobs if s.jobs else float("nan"),
        "wait_mmc_h": wait_mmc, "wait_approx_h": wait_approx,
        "approximation": "Kingman G/G/1" if servers == 1 else "Allen-Cunneen G/G/c",
        "queue_growth": growth, "unstable": int(unstable), "relaxation_h": relax,
        "start_up_bias": bias, "warmup_needed_days": needed / HOURS_PER_DAY,
        "warmup_short": int(bias > WARMUP_BIAS)}


# assumption: a line that ends the horizon with more than two weeks of its capacity still
# waiting to board has demand above its capacity (or a closure not yet cleared): its
# boarding waits are a backlog's, not a queue's in steady state. Full lines in steady state
# end a year with up to about 1.5 weeks queued (the coastal trains' return legs in a
# one-replication baseline-2023 run, 2026-12-02); a backlog that grew all year (the Almaty
# trains at 3 a week, a frequency since raised) ended at 2.8 weeks.
BACKLOG_WEEKS = 2.0


def _backlogs(lines: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """The rows of a lines table whose queue at the end of the horizon exceeds
    `BACKLOG_WEEKS` of their capacity, and each one's capacity a week: the timetable's, the
    slots a dispatch rule skipped included (`capacity_teu` counts the vehicles that ran, so a
    line that held its trains for a load would read a short queue as weeks of capacity)."""
    offered = lines["capacity_teu_per_year"]
    if {"departures_per_year", "skipped_departures_per_year"} <= set(lines.columns):
        ran = lines["departures_per_year"]
        slots = ran + lines["skipped_departures_per_year"].fillna(0.0)
        offered = offered * (slots / ran.where(ran > 0)).fillna(1.0)
    weekly = offered * HOURS_PER_WEEK / HOURS_PER_YEAR
    late = lines[(weekly > 0) & (lines["queue_end_teu"] > BACKLOG_WEEKS * weekly)]
    return late, weekly[late.index]


def backlogged_lines(lines: pd.DataFrame) -> list[str]:
    """`line (TEU queued at the end, capacity a week)` for each line of a lines table (mean
    over replications) whose queue at the end of the horizon exceeds `BACKLOG_WEEKS` of its
    capacity: the hubs' checks do not see it (freight queues for a departure, not a
    handling position)."""
    late, weekly = _backlogs(lines)
    return [f"{row.line} ({row.queue_end_teu:,.0f} TEU queued, {cap:,.0f} a week)"
            for row, cap in zip(late.itertuples(), weekly, strict=True)]


def backlogged_names(lines: pd.DataFrame) -> list[str]:
    """The lines `backlogged_lines` names, by name alone: what a sweep's run keeps
    (`sim.sweep.tasks.run_kpis`, `lines_backlogged`)."""
    return [str(name) for name in _backlogs(lines)[0]["line"]]


def backlog_note(late: Sequence[str]) -> str:
    """What to say of lines ending the horizon with a backlog (`late`: each named, with what
    shows it): by a run, a comparison's runs and a sweep alike."""
    return (f"lines ending the horizon with more than {BACKLOG_WEEKS:g} weeks of their "
            f"capacity waiting to board (demand above capacity, or a closure not yet "
            f"cleared): {', '.join(late)}")


def diverted_hubs(hubs: pd.DataFrame) -> list[str]:
    """`hub (TEU gone elsewhere of TEU that came, per year)` for each hub of a hubs table
    (mean over replications) whose other users' calls went elsewhere, the wait ahead longer
    than their `diverts_after_hours`: that traffic left the modelled network, so the hub's
    figures are of the calls that stayed."""
    column = "background_diverted_teu_per_year"
    if column not in hubs:
        return []
    gone = hubs[hubs[column] > 0]
    return [f"{row.hub} ({getattr(row, column):,.0f} of "
            f"{getattr(row, column) + row.background_teu_per_year:,.0f} TEU/yr)"
            for row in gone.itertuples()]


def unfilled(shortfall: float, short_days: float) -> bool:
    """The statistics began before the network held its boxes in transit: the TEU delivered
    fall short of those created by more than `START_UP_SHORTFALL`, with a warm-up shorter
    than most boxes' door-to-door time (`short_days` > 0). A run starts empty, so until then
    fewer boxes arrive than leave."""
    return short_days > 0 and shortfall > START_UP_SHORTFALL


@dataclass(frozen=True)
class StartUp:
    """How far the TEU delivered in a run's period fall short of those created in it
    (`shortfall`, a share), beside its warm-up and its boxes' uncongested door-to-door days
    (routes.csv `base_h` weighted by the TEU each route had created in the period: the mean,
    and the 95th percentile). Of what was created, not of what was delivered: in a run
    shorter than the long routes' transit only the short routes' lots arrive, and a warm-up
    sized from them reads a day or two where the sea and China-Europe routes take 12-18
    (trial64 #8); uncongested, so a lower bound where queues add to the time."""

    shortfall: float
    mean_days: float
    most_days: float
    warmup_days: float

    @property
    def short_days(self) -> float:
        """Days by which the warm-up falls short of most boxes' door-to-door time (<= 0: it
        does not)."""
        return self.most_days - self.warmup_days

    @property
    def unfilled(self) -> bool:
        """The statistics began before the network held its boxes in transit (`unfilled`)."""
        return unfilled(self.shortfall, self.short_days)

    def note(self) -> str:
        """What `unfilled` means for this run, and the warm-up that would fill it."""
        return (f"the TEU delivered in the period are {100 * self.shortfall:.1f}% below those "
                f"created in it: a run starts empty, and its {self.warmup_days:g}-day warm-up "
                f"is shorter than the boxes' door-to-door times (uncongested, routes.csv "
                f"base_h of the TEU created: mean {self.mean_days:.1f} days, 95th percentile "
                f"{self.most_days:.1f}), so fewer arrived than left (a warm-up of at least "
                f"{math.ceil(self.most_days)} days, horizon.warmup_days, fills the network "
                "first)")


def start_up(routes: pd.DataFrame, warmup_days: float) -> StartUp | None:
    """The start-up measures of a routes table (one replication's, or their mean); None when
    nothing was created. A run too short for any box to arrive is 100% short, and its
    door-to-door days are still known (of the TEU created, not of those delivered)."""
    created = float(routes["teu_created_per_year"].sum())
    delivered = float(routes["teu_delivered_per_year"].sum())
    if created <= 0:
        return None
    weight = routes["teu_created_per_year"].to_numpy(dtype=float)
    hours = routes["base_h"].to_numpy(dtype=float)
    ok = weight > 0
    mean_days = teu_weighted_mean(hours, weight) / HOURS_PER_DAY
    most_days = weighted_quantile(hours[ok], weight[ok], 0.95) / HOURS_PER_DAY
    return StartUp(1.0 - delivered / created, mean_days, most_days, warmup_days)


def unfilled_start(routes: pd.DataFrame, warmup_days: float) -> str | None:
    """A note when the statistics began before the network held its boxes in transit
    (`StartUp.unfilled`); None when all is well."""
    found = start_up(routes, warmup_days)
    return found.note() if found is not None and found.unfilled else None


def unfilled_runs(runs: pd.DataFrame, shown: int = 4, *,
                  warmup_from: str = "the base") -> str | None:
    """A note naming the variants of a sweep's runs table (`sim.sweep.tasks.run_kpis`) whose
    ok runs began their statistics before the network was full (`unfilled` on the mean of
    their `start_up_shortfall` and `warmup_short_days`, as `run` judges the mean of its
    replications): a change of transit time then moves the delivered TEU the variants are
    compared on; `warmup_from` says where their warm-up is set (the base, or the sweep's
    `fixed:` or its values). None when none did (or the table predates the columns)."""
    if not {"start_up_shortfall", "warmup_short_days"} <= set(runs) or not len(runs):
        return None
    ok = runs[runs["status"] == "ok"]
    means = ok.groupby("variant", sort=True)[["start_up_shortfall", "warmup_short_days"]].mean()
    hit = means[[unfilled(float(short), float(days)) for short, days in zip(
        means["start_up_shortfall"], means["warmup_short_days"], strict=True)]]
    if hit.empty:
        return None
    names = _first(list(map(str, hit.index)), shown)
    return (f"{_hit_of(len(hit), len(means))} ({names}) began "
            f"{'its' if len(hit) == 1 else 'their'} statistics before the network held its "
            "boxes in transit: the TEU "
            f"delivered fall up to {100 * hit['start_up_shortfall'].max():.1f}% short of "
            "those created (mean over the runs), with a warm-up shorter than most boxes' "
            "door-to-door time, so a change of transit time moves the delivered TEU compared "
            f"here (a longer horizon.warmup_days in {warmup_from}; `cqsim run` on the base "
            "says how long)")


def _hit_of(hit: int, of: int) -> str:
    """How many of a sweep's variants a note names: "2 of 3 variants", "1 of 1 variant"."""
    return f"{hit:,} of {plural(of, 'variant')}"


def _first(names: Sequence[str], shown: int) -> str:
    """The first `shown` of `names`, and how many more: "a, b and 3 more"."""
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return f"{', '.join(names[:shown])}{more}"


# what a sweep's run keeps of its feedback passes (`sim.sweep.tasks.run_kpis`): passes run,
# whether the route flows settled (1) or not (0; NaN: no pass ran), the last pass's change of
# route flows (NaN: not measured)
FEEDBACK_COLUMNS = ("feedback_passes", "feedback_settled", "feedback_gap")
# the numeric checks a sweep's run keeps (the start-up's, `start_up`, and the feedback
# passes'): not KPIs, so a sweep's summary.csv keeps their means per variant apart, after
# the KPIs and without a CI, and uncertainty.csv no quantiles of them
# (`sim.sweep.store.kpi_columns`, `check_columns`)
RUN_CHECK_COLUMNS = ("start_up_shortfall", "warmup_short_days", *FEEDBACK_COLUMNS)


def unsettled_runs(runs: pd.DataFrame, plans: Mapping[str, Plan],
                   shown: int = 4) -> list[str]:
    """Notes naming the variants of a sweep's runs table (`sim.sweep.tasks.run_kpis`) any of
    whose ok runs' feedback passes did not settle (`FEEDBACK_COLUMNS`), as `run`, `compare`
    and `rank` warn of their own: `feedback_note` of the ok runs, one note per group of
    variants whose plans (`plans`: variant -> its plan) give the same advice
    (`feedback_advice`: a sweep that varies the horizon, equilibrium.days or max_iterations
    was given the first variant's alone), one note for all when they share it. Empty when
    all settled (or the table predates the columns; a run kept before them, resumed, has
    NaN passes: not measured, left out)."""
    if not set(FEEDBACK_COLUMNS) <= set(runs) or not len(runs):
        return []
    ok = runs[(runs["status"] == "ok") & runs["feedback_passes"].notna()]
    reports = {str(v): [{"passes": p, "converged": c == 1, "gap": g} for p, c, g in zip(
        sub["feedback_passes"], sub["feedback_settled"], sub["feedback_gap"], strict=True)]
        for v, sub in ok.groupby("variant", sort=True)}
    groups: dict[str, list[str]] = {}
    for v in reports:
        groups.setdefault(feedback_advice(plans[v]), []).append(v)
    notes = []
    for variants in groups.values():
        hit = [v for v in variants if feedback_note(reports[v], plans[v]) is not None]
        if hit:
            note = feedback_note([r for v in variants for r in reports[v]], plans[hit[0]],
                                 "runs")
            group = "" if len(groups) == 1 else (
                " alike in horizon and equilibrium settings" if len(variants) > 1 else
                " alone in its horizon and equilibrium settings")
            notes.append(f"{_hit_of(len(hit), len(variants))}{group} "
                         f"({_first(hit, shown)}): {note}")
    return notes


def backlogged_runs(runs: pd.DataFrame, shown: int = 4) -> str | None:
    """A note naming the variants of a sweep's runs table any of whose ok runs ended with a
    line's backlog (`lines_backlogged`, `backlogged_names`), and each such line with how many
    runs ended so, as `run`, `compare` and `rank` warn of their own (`backlog_note`). None
    when none did (or the table predates the column)."""
    if "lines_backlogged" not in runs or not len(runs):
        return None
    ok = runs[runs["status"] == "ok"]
    named = ok["lines_backlogged"].fillna("").astype(str).str.split(", ")
    counts = pd.Series([n for names in named for n in names if n]).value_counts(sort=False)
    if counts.empty:
        return None
    counts = counts.sort_values(ascending=False, kind="stable")
    hit = sorted({str(v) for v, names in zip(ok["variant"], named, strict=True)
                  if any(names)})
    late = [f"{line} (in {count} of {len(ok)} runs)" for line, count in counts.items()]
    return (f"{_hit_of(len(hit), ok['variant'].nunique())} ({_first(hit, shown)}): "
            + backlog_note([_first(late, 2 * shown)]))


def sweep_notes(runs: pd.DataFrame, plans: Mapping[str, Plan], *,
                warmup_from: str = "the base") -> list[str]:
    """What a sweep's runs table says of its runs' checks, as `run`, `compare` and `rank`
    warn of their own: a warm-up too short (`unfilled_runs`), feedback passes that did not
    settle (`unsettled_runs`, `plans`: variant -> its plan), lines that ended with a backlog
    (`backlogged_runs`). The one list `cqsim sweep` and `cqsim uncertainty` say."""
    return [note for note in (unfilled_runs(runs, warmup_from=warmup_from),
                              *unsettled_runs(runs, plans), backlogged_runs(runs)) if note]


def flagged(checks: pd.DataFrame) -> list[str]:
    """Human-readable notes on the hubs a checks table flags (empty when all is well)."""
    notes = []
    unstable = checks.loc[checks["unstable"] > 0, "hub"].tolist()
    if unstable:
        notes.append("unstable (queue still growing, utilization >= 1): "
                     + ", ".join(map(str, unstable)))
    short = checks.loc[checks["warmup_short"] > 0, "hub"].tolist()
    if short:
        notes.append("warm-up too short for the queue's relaxation time: "
                     + ", ".join(map(str, short)))
    return notes


@dataclass(frozen=True)
class RunWarning:
    """One finding of a run's own checks: what it says and the results table that shows it."""

    text: str
    table: str


def run_warnings(results: Results) -> list[RunWarning]:
    """What a run's checks found, empty when all is well: hubs unstable or warmed up too
    briefly, statistics begun before the network held its boxes, lines ending the horizon
    with a backlog, hubs whose other users' calls went elsewhere, delay feedback that did
    not settle, no freight created at all. `cqsim run` and `cqsim compare` print them,
    run.json keeps them and the report shows them first, so a planner who only opens the
    report sees them too."""
    found = [RunWarning(note, "checks.csv") for note in flagged(results.summary("checks"))]
    start = unfilled_start(results.summary("routes"), results.plan.horizon.warmup_days)
    if start:
        found.append(RunWarning(start, "routes.csv"))
    late = backlogged_lines(results.summary("lines"))
    if late:
        found.append(RunWarning(backlog_note(late), "lines.csv"))
    gone = diverted_hubs(results.summary("hubs"))
    if gone:
        found.append(RunWarning(
            "other users' calls went elsewhere, the wait ahead longer than their "
            f"diverts_after_hours (left out of the modelled network): {', '.join(gone)}",
            "hubs.csv"))
    unsettled = unsettled_feedback(results)
    if unsettled:
        found.append(RunWarning(unsettled, "run.json"))
    none = no_freight(results)
    if none:
        found.append(RunWarning(none, "conservation.csv"))
    return found


def no_freight(results: Results) -> str | None:
    """What to say of a run whose flows ask for freight but whose every replication created
    none, None otherwise. Lots arrive at a flow's TEU a year over its lot size, so a lot
    larger than a flow's TEU over the horizon, or a season at 0 for the whole horizon, can
    leave every figure at 0 while the run balances ("created 0 = delivered 0"), which read
    as a network that carried nothing rather than a run that asked for nothing."""
    if not any(f.teu_per_year > 0 for f in results.plan.flows):
        return None
    if any(r.conservation["created_teu"] > 0 for r in results.replications):
        return None
    return (f"no freight was created in {results.plan.horizon.days:g} days, in any "
            "replication, although the flows ask for some: every figure is 0. A lot "
            "(demand.lot_teu, demand.classes' lot_teu) larger than a flow's TEU over the "
            "horizon, or a season at 0 throughout it, does this; lengthen the horizon "
            "(--days) or make the lots smaller")


def percent_span(shares: Sequence[float], apart: str = "") -> str:
    """Shares as a percentage to one decimal: "6.1%", or their range "5.0-6.2%" followed by
    `apart` where its ends read differently; gaps of 14.27% and 14.33% read "14.3-14.3%"
    (trial66). The feedback's gaps as the warning and the run's console line say them."""
    low, high = (f"{100 * x:.1f}" for x in (min(shares), max(shares)))
    return f"{low}%" if low == high else f"{low}-{high}%{apart}"


def unsettled_feedback(results: Results) -> str | None:
    """What to say of feedback passes that stopped with the route flows still moving by more
    than the tolerance (`sim.equilibrium`, run.json `equilibrium`), None when they settled
    or there were none. The delays they learnt then carry the passes' noise, which can
    exceed a small difference between scenarios (docs/modelling.md, "Three passes"); so it
    is a warning, with its gap, its tolerance and the settings that give the passes more
    room, not only a line among the figures."""
    eq = results.equilibrium
    kept = eq.get("by_replication")      # with per_replication: each replication's passes
    reports: list[dict[str, Any]] = kept if isinstance(kept, list) else [eq]
    return feedback_note(reports, results.plan)


def feedback_note(reports: Sequence[Mapping[str, Any]], plan: Plan,
                  of: str = "replications") -> str | None:
    """`unsettled_feedback` of the settling reports (`sim.equilibrium.EquilibriumReport`
    as a dict: `passes`, `converged`, `gap`) of runs of `plan`, `of` what they are (a run's
    replications, a sweep variant's runs): None when they settled or ran no passes."""
    moving = [r for r in reports if r.get("passes") and not r.get("converged")]
    if not moving:
        return None
    gaps = [float(r["gap"]) for r in moving
            if isinstance(r.get("gap"), (int, float)) and not isinstance(r["gap"], bool)
            and not math.isnan(r["gap"])]
    shown = percent_span(gaps) if gaps else "by an unmeasured share"
    where = f" in {len(moving)} of {len(reports)} {of}" if len(reports) > 1 else ""
    return (f"the delay feedback did not settle{where}: route flows still changed {shown} "
            f"in the last of {max(int(r['passes']) for r in moving)} passes, "
            + feedback_advice(plan))


def feedback_advice(plan: Plan) -> str:
    """What `feedback_note` says of `plan`'s settings: the tolerance the passes stopped
    above, and the horizon, equilibrium.days and max_iterations that give them more room,
    with min_iterations as many: a variant runs the passes its reference ran
    (`sim.equilibrium.pass_range`), so a base that settles early stops its variants there
    too, and only passes the base runs in every replication settle them (docs/modelling.md,
    "A fourth pass, tried"). A sweep's variants that vary those settings are warned of
    apart, each with its own (`unsettled_runs`). The gap levels off above zero however
    many passes run (`sim.feedbackgap`: about 3% on baseline-2023), so the advice names the
    command that measures that floor."""
    settings, horizon = plan.equilibrium, plan.horizon.days
    days = settings.pass_days(horizon)
    if settings.days is None:
        longer = f"a longer horizon (--days: the passes run the whole {days:g} days)"
    elif days < settings.days:
        longer = (f"a longer horizon (--days: the passes ran {days:g} days, cut from "
                  f"equilibrium.days {settings.days:g})")
    else:
        longer = f"longer passes (equilibrium.days, now {days:g})"
    return (f"above the tolerance of {100 * settings.tolerance:g}% (equilibrium.tolerance), "
            "so the delays learnt carry the passes' noise, which can exceed a small "
            f"difference between scenarios; run {longer} or more passes "
            f"(equilibrium.max_iterations, now {settings.max_iterations}, and min_iterations "
            "as many: a variant runs the passes its base ran); more passes take the gap no "
            "lower than the passes' own floor, which `python -m sim.feedbackgap SCENARIO` "
            "measures")
