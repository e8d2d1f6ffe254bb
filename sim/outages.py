"""Outage windows: when a component (a lock flight, a hub, a link, a service) works at reduced
capacity or not at all. Pure functions of their specs and a random stream, so a replication
draws the same windows on any executor and a scenario variant that leaves an outage spec
unchanged draws the same windows for it (common random numbers).

Three shapes:
- scheduled: a fixed window of days (a works closure, a strike, the Sept 2025 Polish closure);
- random: events per year starting in given months, lognormal durations (fog, wind, floods);
- maintenance of one lock flight: that flight is down and the other alternates direction
  every `reversal_hours` (Three Gorges practice, cg_lock_maint_* in seeds/published-figures.csv).

A window is (start h, end h, capacity factor); overlapping windows multiply
(`sim.engine.windows.factor_at`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from sim.rng import stream
from sim.specs import Maintenance, RandomOutage, ScheduledOutage
from sim.units import HOURS_PER_MONTH

Window = tuple[float, float, float]              # (start h, end h, capacity factor)
Segment = tuple[float, float, str | None]        # (start h, end h, direction served or None)


def scheduled_window(outage: ScheduledOutage) -> Window:
    """The window of a scheduled outage, in hours."""
    return (*outage.hours, outage.capacity_factor)


def random_windows(outage: RandomOutage, hours: float, rng: np.random.Generator) -> list[Window]:
    """Draw the windows of a random outage over [0, hours).

    Months are drawn in order, each with its own Poisson count, so a longer horizon only
    appends windows: the first year's windows do not depend on the horizon.
    """
    season = set(outage.months)
    rate = outage.events_per_year / (len(season) * HOURS_PER_MONTH)  # events per season hour
    mu = math.log(outage.median_hours)
    out: list[Window] = []
    month = 0
    while month * HOURS_PER_MONTH < hours:
        count = int(rng.poisson(rate * HOURS_PER_MONTH))
        starts = np.sort(rng.uniform(0.0, HOURS_PER_MONTH, count)) + month * HOURS_PER_MONTH
        lengths = rng.lognormal(mu, outage.sigma, count) if outage.sigma > 0 else np.full(
            count, outage.median_hours)
        if month % 12 + 1 in season:
            for start, length in zip(starts.tolist(), lengths.tolist(), strict=True):
                if outage.max_hours is not None:
                    length = min(length, outage.max_hours)
                if start < hours:
                    out.append((start, start + length, outage.capacity_factor))
        month += 1
    return out


def outage_windows(outages: Iterable[ScheduledOutage | RandomOutage], hours: float,
                   seed: int, replication: int, owner: str) -> tuple[Window, ...]:
    """Every window of `owner`'s outages in one replication, sorted by start.

    Each random outage draws from its own stream `outage:<owner>:<name>`, so adding an
    outage to a component leaves the windows of every other outage unchanged.
    """
    out: list[Window] = []
    for outage in outages:
        if isinstance(outage, ScheduledOutage):
            out.append(scheduled_window(outage))
        else:
            rng = stream(seed, replication, f"outage:{owner}:{outage.name}")
            out.extend(random_windows(outage, hours, rng))
    return tuple(sorted(out))


def closed_hours(windows: Sequence[Window], end: float, start: float = 0.0) -> float:
    """Hours of [start, end) in which capacity is zero (overlaps counted once)."""
    shut = sorted((max(start, s), min(e, end)) for s, e, f in windows
                  if f <= 0 and s < end and e > start)
    total, reach = 0.0, start
    for s, e in shut:
        if e > reach:
            total += e - max(s, reach)
            reach = e
    return total


def flight_segments(flight: str, direction: str, other: str,
                    maintenances: Sequence[Maintenance]) -> tuple[Segment, ...]:
    """When flight `flight` (normally serving `direction`) serves which direction.

    Outside maintenance it serves `direction`. While it is maintained it serves none. While
    the other flight is maintained it alternates: `direction` first, then `other`, each for
    `reversal_hours`. Segments cover only the maintenance periods; between them the normal
    direction applies (see `direction_at`).
    """
    out: list[Segment] = []
    for m in sorted(maintenances, key=lambda m: m.start_day):
        start, end = m.hours
        if m.flight == flight:
            out.append((start, end, None))
            continue
        t, k = start, 0
        while t < end:
            nxt = min(t + m.reversal_hours, end)
            out.append((t, nxt, direction if k % 2 == 0 else other))
            t, k = nxt, k + 1
    return tuple(out)


def direction_at(segments: Sequence[Segment], normal: str,
                 t: float) -> tuple[str | None, float]:
    """(direction served at hour t, hour when that may next change); `normal` outside the
    segments, None while the flight is down."""
    for start, end, served in segments:
        if start <= t < end:
            return served, end
        if t < start:
            return normal, start
    return normal, math.inf
