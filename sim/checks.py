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

import pandas as pd

from sim.kpis import weighted_quantile
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

GROWTH_SHARE = 0.05      # queue grew by more than this share of the period's arrivals ...
GROWTH_MIN_JOBS = 10     # ... and by more than this many jobs: the queue is still growing
WARMUP_BIAS = 0.05       # start-up bias of a mean wait above this share: warm-up too short
# delivered TEU short of those created in the period by more than this share, with a warm-up
# shorter than most boxes' door-to-door time: the statistics began before the network was full
START_UP_SHORTFALL = 0.02

COLUMNS = ["hub", "servers", "arrivals", "arrival_rate_per_h", "service_mean_h",
           "arrival_cv2", "service_cv2", "utilization", "wait_observed_h", "wait_mmc_h",
           "wait_approx_h", "approximation", "queue_growth", "unstable", "relaxation_h",
           "start_up_bias", "warmup_needed_days", "warmup_short"]


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
# one-replication baseline-2023 run, 2026-12-02); the Almaty trains' backlog that grew all
# year (3 a week, until 2026-12-02) ended at 2.8 weeks.
BACKLOG_WEEKS = 2.0


def backlogged_lines(lines: pd.DataFrame) -> list[str]:
    """`line (TEU queued at the end, capacity a week)` for each line of a lines table (mean
    over replications) whose queue at the end of the horizon exceeds `BACKLOG_WEEKS` of its
    capacity: the hubs' checks do not see it (freight queues for a departure, not a
    handling position)."""
    weekly = lines["capacity_teu_per_year"] * HOURS_PER_WEEK / HOURS_PER_YEAR
    late = lines[(weekly > 0) & (lines["queue_end_teu"] > BACKLOG_WEEKS * weekly)]
    return [f"{row.line} ({row.queue_end_teu:,.0f} TEU queued, {cap:,.0f} a week)"
            for row, cap in zip(late.itertuples(), weekly[late.index], strict=True)]


def unfilled_start(routes: pd.DataFrame, warmup_days: float) -> str | None:
    """A note when the statistics began before the network held its boxes in transit: the
    TEU delivered in the period fall short of those created in it by more than
    `START_UP_SHORTFALL`, and the warm-up is shorter than the time most boxes take door to
    door (about their 95th percentile: that of the routes' own 95th percentiles, weighted by
    the TEU each delivered). A run starts empty, so until then fewer boxes arrive than leave.
    None when all is well."""
    created = float(routes["teu_created_per_year"].sum())
    delivered = float(routes["teu_delivered_per_year"].sum())
    if created <= 0 or delivered <= 0:
        return None
    weight = routes["teu_delivered_per_year"].to_numpy(dtype=float)
    mean_days = float((routes["transit_mean_h"].fillna(0.0) * weight).sum()) / delivered \
        / HOURS_PER_DAY
    most_days = weighted_quantile(routes["transit_p95_h"].fillna(0.0).to_numpy(dtype=float),
                                  weight, 0.95) / HOURS_PER_DAY
    short = 1.0 - delivered / created
    if warmup_days >= most_days or short <= START_UP_SHORTFALL:
        return None
    return (f"the TEU delivered in the period are {100 * short:.1f}% below those created in "
            f"it: a run starts empty, and its {warmup_days:g}-day warm-up is shorter than the "
            f"boxes' door-to-door times (mean {mean_days:.1f} days, 95th percentile about "
            f"{most_days:.0f}), so fewer arrived than left (a warm-up of about "
            f"{math.ceil(most_days)} days, horizon.warmup_days, fills the network first)")


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
