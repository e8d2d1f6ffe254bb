"""Bounded work: estimate a run's lots, events and peak memory from its plan, before running,
and refuse a run or a sweep whose estimate passes a limit.

The estimate is linear in what the plan asks for:

- lots per replication = sum over flows of TEU/yr / lot TEU x days / 365 x SPLIT_FACTOR
  (a lot splits when a vehicle fills);
- events per replication = lots x (EVENTS_PER_LOT + EVENTS_PER_LEG x mean legs of the flow's
  candidate routes) + vehicle stops x EVENTS_PER_STOP + lockages + monthly demand steps
  + EVENTS_PER_JOB x (background jobs at hubs + other vessels at locks);
- peak memory = BASE_MEMORY + lots per replication x BYTES_PER_LOT x replications run at
  once (a lot that waits, e.g. at a full yard, is an object until the end of the run; a
  delivered lot costs 36 bytes in the recorder plus its row in the end-of-run tables).

The constants were fitted to measured runs (docs/validation.md, "Bounded work", and
`benchmarks/budget.py`, which prints estimate and measurement side by side); they err on
the high side, so the limits refuse early rather than late.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sim.errors import InputError
from sim.specs import ScheduledService
from sim.units import DAYS_PER_MONTH, DAYS_PER_WEEK, DAYS_PER_YEAR, HOURS_PER_DAY

if TYPE_CHECKING:
    from sim.network import Plan
    from sim.routing import ChoiceSet

SPLIT_FACTOR = 1.2        # lots created per demand lot (measured 1.12-1.17 on the baselines)
EVENTS_PER_LOT = 2.0      # fitted on stable runs: 1.5 per lot ...
EVENTS_PER_LEG = 2.5      # ... plus 2.2 per leg of its route ...
EVENTS_PER_STOP = 2.0     # ... plus 2.0 per vehicle stop (a saturated run has fewer per lot)
EVENTS_PER_JOB = 3.0      # assumption: a background job or another vessel at a lock is an
#  arrival and a service end (57k each a year on baseline-2023, docs/performance.md), 3 with a wait
BYTES_PER_LOT = 1000.0    # peak bytes per lot: ~300 when lots flow, ~900 when they wait
BASE_MEMORY = 150e6       # interpreter, libraries, plan and route sets (measured 127-137 MB)

DEFAULT_MAX_MEMORY = 4e9  # bytes; `--max-memory` raises it, `--no-limit` lifts it
# CPU seconds of an estimated event, compiled and plain: a baseline-2023 replication is
# estimated at 1.1e6 events and took 3.74 s compiled, 7.2 s plain (benchmarks.stages and
# benchmarks.native, 2026-12-04, load 1.0); an estimate's time is this, not a promise
CPU_PER_EVENT = {"compiled": 3.4e-6, "plain": 6.5e-6}
DEFAULT_MAX_EVENTS = 5e8  # events over all replications and passes: ~30 min compiled, ~1 h plain
# a study (pathway, plan) runs hundreds of simulations on purpose: assumption, 1e11 events
# (about 4 days of one core compiled, 8 plain) is past what anyone means to run on a
# workstation or a small cluster; the shipped plan-2025 search is estimated at 4.3e9 (2025,
# a full screen) to 8.6e9 (2035), its pathway to 2035 3.4e8 (`--max-events 1`, 2026-12-05,
# docs/planning.md)
DEFAULT_MAX_STUDY_EVENTS = 1e11
MAX_VARIANTS = 100_000    # variants of one sweep: each is a plan held in memory


@dataclass(frozen=True)
class Limits:
    """What a run may cost; None = no limit."""

    max_memory: float | None = DEFAULT_MAX_MEMORY
    max_events: float | None = DEFAULT_MAX_EVENTS

    def __post_init__(self) -> None:
        # NaN compares false with every estimate: it would be no limit at all, silently
        for name in ("max_memory", "max_events"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"Limits.{name} must be a number > 0 or None, got {value!r}")


DEFAULT_LIMITS = Limits()
DEFAULT_STUDY_LIMITS = Limits(max_events=DEFAULT_MAX_STUDY_EVENTS)


@dataclass(frozen=True)
class Estimate:
    """Estimated cost: lots and events per replication, replications to simulate (feedback
    passes included) and peak resident memory."""

    lots_per_replication: float
    events_per_replication: float
    runs: int
    memory_bytes: float

    @property
    def events(self) -> float:
        """Events over every replication and feedback pass."""
        return self.events_per_replication * self.runs

    def cpu_seconds(self, engine: str = "compiled") -> float:
        """CPU time of all the events on one core with `engine` ("compiled" or "plain"),
        at the measured cost of an estimated event (`CPU_PER_EVENT`)."""
        return self.events * CPU_PER_EVENT[engine]

    def describe(self) -> str:
        """One-line summary, e.g. `47k lots and 422k events per replication x 3 simulations
        (replications with their feedback passes), their simulation about 4s of one core
        compiled (about 8s plain), peak memory 197 MB` (the events err high, `estimate`;
        loading the scenario is not counted)."""
        return (f"{_si(self.lots_per_replication)} lots and "
                f"{_si(self.events_per_replication)} events per replication x {self.runs:,} "
                f"{'simulation' if self.runs == 1 else 'simulations'} (replications with their "
                f"feedback passes), their simulation {_duration(self.cpu_seconds())} of "
                f"one core compiled "
                f"({_duration(self.cpu_seconds('plain'))} plain), peak memory "
                f"{_bytes(self.memory_bytes)}")


def combine(estimates: Sequence[Estimate]) -> Estimate:
    """Runs one after the other (compare, rank): events add up, memory is the largest."""
    runs = sum(e.runs for e in estimates)
    return Estimate(max(e.lots_per_replication for e in estimates),
                    sum(e.events for e in estimates) / max(runs, 1), runs,
                    max(e.memory_bytes for e in estimates))


def _si(x: float) -> str:
    if not math.isfinite(x):
        return "unbounded"
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= size:
            return f"{x / size:.3g}{unit}"
    return f"{x:.3g}"


def _duration(seconds: float) -> str:
    """An estimated CPU time as `sim.progress.format_duration` writes an ETA: 'under 1s',
    'about 42s', 'about 4h06m'."""
    from sim.progress import format_duration

    return "under 1s" if seconds < 1 else f"about {format_duration(seconds)}"


def _bytes(x: float) -> str:
    if not math.isfinite(x):
        return "unbounded"
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if x >= size:
            return f"{x / size:.3g} {unit}"
    return f"{x / 1e6:.2g} MB"


def parse_size(text: str) -> float:
    """`4GB`, `500 MB`, `2e9` -> bytes; ValueError otherwise."""
    units = {"": 1.0, "B": 1.0, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}
    clean = text.strip().upper().replace(" ", "")
    number = clean.rstrip("KMGTB")
    unit = clean[len(number):]
    value = float(number) * units[unit] if unit in units else math.nan
    if not math.isfinite(value) or value <= 0:
        raise ValueError(text)
    return value


def estimate(plan: Plan, choices: Sequence[ChoiceSet] | None = None,
             concurrent: int = 1) -> Estimate:
    """Cost of simulating `plan` (every replication), from the plan alone.

    `choices` (route choice sets) give the legs per route (one leg when not given);
    `concurrent` replications run at once, each with its own memory."""
    years = plan.horizon.days / DAYS_PER_YEAR
    lots_by_flow = [f.teu_per_year / plan.lot_teu_of(f.commodity) * years * SPLIT_FACTOR
                    for f in plan.flows]
    legs = [1.0] * len(plan.flows)
    for cs in choices or ():
        if cs.routes:
            legs[cs.flow] = sum(len(r.legs) for r in cs.routes) / len(cs.routes)
    lots = sum(lots_by_flow)
    per_lots = sum(n * (EVENTS_PER_LOT + EVENTS_PER_LEG * k)
                   for n, k in zip(lots_by_flow, legs, strict=True))
    stops = 0.0
    for line in plan.network.lines:
        if isinstance(line.spec, ScheduledService):
            stops += (line.spec.departures_per_week * plan.horizon.days / DAYS_PER_WEEK
                      * len(line.stops))
    lockages = 0.0
    for lock in plan.network.locks.values():
        lockages += 2 * lock.lanes * plan.horizon.days * HOURS_PER_DAY / lock.cycle_hours
    months = plan.horizon.days / DAYS_PER_MONTH * len(plan.flows)
    # other traffic is not bounded by the demand (a batch of 0.001 TEU at 1e9 TEU/yr is 1e12
    # jobs a year): found by the input audit, a run that validated and never ended
    jobs = years * (sum(b.jobs_per_year for b in plan.network.background.values())
                    + sum(c.per_year for op in plan.network.lock_traffic.values()
                          for c in op.classes.values()))
    events = per_lots + EVENTS_PER_STOP * stops + 2 * lockages + months + EVENTS_PER_JOB * jobs
    at_once = max(1, min(concurrent, plan.replications))
    memory = (BASE_MEMORY + lots * BYTES_PER_LOT) * at_once
    return Estimate(lots, events, runs_of(plan), memory)


def runs_of(plan: Plan, replications: int | None = None) -> int:
    """Simulations `plan` makes at most: its replications with their feedback passes, each
    replication settled on its own streams or all settled once (`plan.equilibrium`);
    `replications`: that many instead of the plan's. With feedback (`max_iterations` > 1)
    the passes are `max_iterations` simulations before the replication's own (`sim.equilibrium`
    `_passes`): baseline-2023's 3 replications, each settled on its own in 3 passes, are 12
    simulations."""
    reps = plan.replications if replications is None else replications
    iterations = plan.equilibrium.max_iterations
    passes = iterations if iterations > 1 else 0                # feedback passes
    return reps * (1 + passes) if plan.equilibrium.per_replication else reps + passes


def check(est: Estimate, limits: Limits, file: str, what: str = "run") -> None:
    """Refuse (InputError) an estimate beyond a limit, naming the estimate and the way out."""
    over = []
    if limits.max_memory is not None and est.memory_bytes > limits.max_memory:
        over.append(f"memory {_bytes(est.memory_bytes)} > --max-memory "
                    f"{_bytes(limits.max_memory)}")
    if limits.max_events is not None and est.events > limits.max_events:
        over.append(f"{_si(est.events)} events > --max-events {_si(limits.max_events)}")
    if over:
        raise InputError(file, "", f"a {what} within the limits ({'; '.join(over)}; estimate: "
                                   f"{est.describe()}); shorten the horizon, lower the demand or "
                                   "the replications, or pass --max-memory, --max-events or "
                                   "--no-limit")
