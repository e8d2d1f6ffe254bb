"""Checks on every run: each hub's observed wait beside queueing theory for its measured
rates, hubs that are unstable (queue still growing), and warm-ups that were too short.

Planners read the `checks` table to see when a result should not be trusted: a hub whose
offered load is at or above its capacity has no steady state, and a mean taken while the
queues were still filling up from empty is biased low. Formulas: `sim.queueing`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Sequence

import numpy as np
import pandas as pd

from sim.queueing import ggc_wait, mmc_wait, mser, squared_cv, utilization

if TYPE_CHECKING:
    from sim.engine.hub import Hub

HOURS_PER_DAY = 24.0
GROWTH_SHARE = 0.05      # queue grew by more than this share of the period's arrivals ...
GROWTH_MIN_JOBS = 10     # ... and by more than this many jobs: the queue is still growing
WARMUP_MIN_DAYS = 20     # fewer days with handling than this: too little data to judge
WARMUP_SHARE = 0.05      # MSER would cut more than this share of the days ...
WARMUP_BIAS = 0.05       # ... and cutting them moves the mean wait by more than this share
WARMUP_ABS_HOURS = 0.1   # ... and by more than 6 minutes (smaller biases do not matter)

COLUMNS = ["hub", "servers", "arrivals", "arrival_rate_per_h", "service_mean_h",
           "arrival_cv2", "service_cv2", "utilization", "wait_observed_h", "wait_mmc_h",
           "wait_approx_h", "approximation", "queue_growth", "unstable", "warmup_cut_days",
           "warmup_short"]


def warmup_cut(daily_wait: Sequence[float], daily_jobs: Sequence[int], first_day: int) -> int:
    """Days after `first_day` that MSER would still discard, 0 when the bias they carry is
    immaterial (less than WARMUP_BIAS of the mean wait) or the data are too few."""
    jobs = np.asarray(daily_jobs[first_day:], dtype=float)
    waits = np.asarray(daily_wait[first_day:], dtype=float)
    days = np.flatnonzero(jobs > 0)
    if days.size < WARMUP_MIN_DAYS:
        return 0
    means = waits[days] / jobs[days]
    cut = mser(means)
    if cut <= WARMUP_SHARE * days.size:
        return 0
    full = waits.sum() / jobs.sum()
    kept = waits[days[cut]:].sum() / jobs[days[cut]:].sum()
    if abs(full - kept) <= WARMUP_BIAS * kept + WARMUP_ABS_HOURS:
        return 0
    return int(days[cut])


def hub_check(hub: "Hub", period: float, first_day: int) -> dict[str, object]:
    """One row of the checks table for a hub, from its counters since the warm-up."""
    s = hub.stats
    servers = hub.spec.handling_servers
    lam = s.arrivals / period if period > 0 else 0.0
    service = s.busy / s.jobs if s.jobs else float("nan")
    ca2 = squared_cv(s.gap_sum, s.gap_sq, s.gaps)
    cs2 = squared_cv(s.busy, s.busy_sq, s.jobs)
    rho = utilization(lam, service, servers) if s.jobs else float("nan")
    growth = s.arrivals - s.jobs
    if s.jobs and lam > 0:
        wait_mmc = mmc_wait(lam, service, servers)
        wait_approx = ggc_wait(lam, service, servers, 1.0 if math.isnan(ca2) else ca2,
                               0.0 if math.isnan(cs2) else cs2)
    else:
        wait_mmc = wait_approx = float("nan")
    unstable = (not math.isnan(rho) and rho >= 1.0) or (
        growth > max(GROWTH_MIN_JOBS, GROWTH_SHARE * s.arrivals))
    cut = warmup_cut(hub.daily_wait, hub.daily_jobs, first_day)
    return {
        "hub": hub.spec.id, "servers": servers, "arrivals": s.arrivals,
        "arrival_rate_per_h": lam, "service_mean_h": service, "arrival_cv2": ca2,
        "service_cv2": cs2, "utilization": rho,
        "wait_observed_h": s.wait_sum / s.jobs if s.jobs else float("nan"),
        "wait_mmc_h": wait_mmc, "wait_approx_h": wait_approx,
        "approximation": "Kingman G/G/1" if servers == 1 else "Allen-Cunneen G/G/c",
        "queue_growth": growth, "unstable": int(unstable),
        "warmup_cut_days": cut, "warmup_short": int(cut > 0)}


def checks_table(hubs: list["Hub"], stats_from: float, end: float) -> pd.DataFrame:
    """Per hub: observed wait vs theory and the trust flags (1 = flagged) of one run."""
    period = end - stats_from
    first_day = int(stats_from // HOURS_PER_DAY)
    rows = [hub_check(h, period, first_day) for h in hubs]
    return pd.DataFrame(rows, columns=COLUMNS)


def flagged(checks: pd.DataFrame) -> list[str]:
    """Human-readable notes on the hubs a checks table flags (empty when all is well)."""
    notes = []
    unstable = checks.loc[checks["unstable"] > 0, "hub"].tolist()
    if unstable:
        notes.append("unstable (queue still growing, utilization >= 1): "
                     + ", ".join(map(str, unstable)))
    short = checks.loc[checks["warmup_short"] > 0, "hub"].tolist()
    if short:
        notes.append("warm-up too short (waits still trending): " + ", ".join(map(str, short)))
    return notes
