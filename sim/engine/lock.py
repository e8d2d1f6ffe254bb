"""The ship lock as operated (Three Gorges practice, cg_lock_* in seeds/published-figures.csv).

- **Flights.** `lanes` flights each way (`south` downstream, `north` upstream). A flight
  starts a lockage as soon as a vessel waits and its previous lockage started at least
  `cycle_hours` before; the vessels leave the flight `passage_hours` later (by month when
  the reservoir level sets four or five steps). A chamber takes vessels up to `chamber_t`
  tonnes of size (what they carry fully loaded; a vessel loaded lighter one way takes the
  same room) and `chamber_vessels` vessels.
- **Vessel classes.** The simulated container vessels and the scenario's other classes
  (bulk, dangerous goods, ro-ro, passenger) queue per direction. Vessels enter first come
  first served by declaration (arrival at the confirmation line); while priority applies
  (`priority_when`) they enter by class priority first. Dangerous goods enter only in their
  daily window, in dedicated lockages.
- **Outages.** Scenario disruptions of the lock and its random outages (fog, wind, floods)
  stop or shrink every lockage; maintenance takes one flight out and the flight serving the
  other direction turns round every `reversal_hours`, after its last lockage has cleared.
- **Total control.** A vessel of a diverting class (bulk) goes another way when the tonnes
  ahead of it would take longer than `divert_wait_hours` to pass: the one behavioural
  parameter, estimated (docs/validation.md), that bounds the queue as the dispatcher does.
- **Ship lift.** Classes that use the lift queue for it, both directions, one vessel a trip.

Other vessels are not processes: their arrivals are drawn lazily (when a flight looks at the
queue or a day ends) and merged by arrival time, which is exact because nothing is served in
between.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Generator, Iterator
from functools import partial
from typing import TYPE_CHECKING

import simpy
from mypy_extensions import mypyc_attr

from sim.engine.component import Component, Row, WaitPoint
from sim.engine.daily import DailySeries
from sim.engine.loop import Delay, delay, later
from sim.engine.windows import factor_at
from sim.kpis import TEXT, Table, col
from sim.network import DIRECTIONS
from sim.outages import closed_hours, direction_at, flight_segments, outage_windows
from sim.rng import draws
from sim.specs import CONTAINER_CLASS, LockOperation, LockSpec, VesselClass
from sim.units import HOURS_PER_DAY, HOURS_PER_MONTH, HOURS_PER_YEAR, relative_season

if TYPE_CHECKING:
    from sim.engine.model import Model

NO_OPERATION = LockOperation(source="none: container vessels only")

# (arrival h, size: t when fully loaded, cargo t, event to fire for a container vessel)
Vessel = tuple[float, float, float, simpy.Event | None]


class _Arrivals:
    """Lazy Poisson arrivals of one class in one direction, thinned by monthly factors."""

    __slots__ = ("peak", "season", "gaps", "uniform", "size", "next")

    def __init__(self, model: Model, name: str, per_hour: float, season: tuple[float, ...],
                 vessels: VesselClass) -> None:
        rng = model.stream(name)
        self.season = season
        self.peak = per_hour * max(season)          # candidate rate, thinned per month
        self.gaps = draws(rng.standard_exponential)
        self.uniform = draws(rng.random)
        mean, cv = vessels.vessel_t, vessels.vessel_t_cv
        if cv > 0:
            shape = 1.0 / (cv * cv)
            draw = draws(lambda n: rng.standard_gamma(shape, n))
            self.size = lambda: mean / shape * draw()
        else:
            self.size = lambda: mean
        self.next = self._after(0.0)

    def _after(self, t: float) -> float:
        if self.peak <= 0:
            return math.inf
        top = max(self.season)
        while True:
            t += self.gaps() / self.peak
            if self.uniform() * top < self.season[int(t // HOURS_PER_MONTH) % 12]:
                return t

    def until(self, now: float) -> Iterator[tuple[float, float]]:
        """(arrival h, size in t fully loaded) of every vessel arrived by `now`, in order."""
        while self.next <= now:
            t = self.next
            self.next = self._after(t)
            yield t, self.size()


class ClassStats:
    """Counters of one vessel class in one direction since the warm-up."""

    __slots__ = ("vessels", "tonnes", "wait", "diverted", "diverted_t")

    def __init__(self) -> None:
        self.vessels = 0
        self.tonnes = 0.0
        self.wait = 0.0            # vessel-hours waited before entering
        self.diverted = 0
        self.diverted_t = 0.0


class _Side:
    """The queues of one direction: a deque per class, first come first served within it."""

    def __init__(self, names: list[str], daily: DailySeries) -> None:
        self.queues: dict[str, deque[Vessel]] = {n: deque() for n in names}
        self.queued_t = 0.0         # cargo waiting
        self.queued_size = 0.0      # room the waiting vessels take (t fully loaded)
        self.sizes = dict.fromkeys(names, 0.0)    # the same, per class
        self.queued = 0
        self.waiters: list[simpy.Event] = []       # idle flights waiting for a vessel
        self.stats = {n: ClassStats() for n in names}
        self.lockages = 0
        self.daily = daily

    def push(self, name: str, vessel: Vessel) -> None:
        self.queues[name].append(vessel)
        self.queued_size += vessel[1]
        self.sizes[name] += vessel[1]
        self.queued_t += vessel[2]
        self.queued += 1

    def wake(self) -> None:
        for event in self.waiters:
            event.succeed()
        self.waiters.clear()


_LOCK_ID = "lock id"
_LOCK_DIRECTION = "down (downstream) or up (upstream)"
LOCKS = Table("locks", ("lock", "direction"), (
    col("lock", TEXT, label=_LOCK_ID), col("direction", TEXT, label=_LOCK_DIRECTION),
    col("lockages", "lockages", "year", "lockages run in this direction, all flights"),
    col("lockages_per_day", "lockages/day", label="lockages a day, all flights serving"),
    col("vessels", "vessels", "year", "vessels that entered the flights"),
    col("vessels_per_lockage", "vessels", label="mean vessels a lockage; empty where the "
                                                "flights ran none"),
    col("t_per_lockage", "t", label="mean tonnes of cargo a lockage; empty where the flights "
                                    "ran none"),
    col("container_t", "t", "year", "tonnes of cargo of the simulated container vessels "
                                    "through the flights"),
    col("bulk_t", "t", "year", "tonnes of every other class through the flights"),
    col("total_t", "t", "year", "tonnes of cargo through the flights, every class"),
    col("utilization", "share", label="tonnes lifted / tonnes the flights can lift"),
    col("slot_use", "share", label="lockages / the lockages the flights can run (one a lane "
        "every cycle, all period): how near the lock is to saturation, whatever the tonnes"),
    col("wait_mean_h", "h", label="mean wait of all vessels before entering, of those that "
                                  "entered; empty where none did (a lock closed all period: "
                                  "not a wait of 0, queue_end_vessels counts what waits)"),
    col("container_wait_mean_h", "h", label="mean wait of the container vessels before "
                                            "entering; empty where none entered"),
    col("bulk_wait_mean_h", "h", label="mean wait of the other classes; empty where none "
                                       "entered"),
    col("queue_mean_vessels", "vessels", label="vessels waiting, time average"),
    col("diverted_t", "t", "year", "tonnes that went another way (total control)"),
    col("queue_end_t", "t", label="tonnes of cargo waiting at the end"),
    col("queue_end_vessels", "vessels", label="vessels waiting at the end"),
    col("closed_h", "h", "year", "hours the lock was closed (outages, disruptions)"),
    col("lift_trips", "trips", "year", "ship-lift trips in this direction (a vessel a trip)"),
    col("lift_t", "t", "year", "tonnes of cargo through the ship lift"),
    col("lift_wait_mean_h", "h", label="mean wait of the vessels for the ship lift; empty "
                                       "where it lifted none")))
LOCK_CLASSES = Table("lock_classes", ("lock", "direction", "vessel_class", "via"), (
    col("lock", TEXT, label=_LOCK_ID), col("direction", TEXT, label=_LOCK_DIRECTION),
    col("vessel_class", TEXT, label="vessel class (container: the simulated container "
                                    "vessels; the others as the scenario names them)"),
    col("via", TEXT, label="locks (the flights) or lift (the ship lift)"),
    col("vessels", "vessels", "year", "vessels of the class that passed"),
    col("t", "t", "year", "tonnes of cargo they carried"),
    col("wait_mean_h", "h", label="their mean wait before entering; empty where none "
                                  "passed"),
    col("diverted_vessels", "vessels", "year", "vessels that went another way (total "
                                               "control)"),
    col("diverted_t", "t", "year", "tonnes of cargo the diverted vessels carried")))
LOCKS_DAILY = Table("locks_daily", ("lock", "direction", "day"), (
    col("lock", TEXT, label=_LOCK_ID), col("direction", TEXT, label=_LOCK_DIRECTION),
    col("day", "day", label="day of the simulation clock (hours 24 d to 24 (d + 1)), those "
                            "after the warm-up"),
    col("queue_vessels", "vessels", label="vessels waiting at the end of the day"),
    col("queue_t", "t", label="tonnes waiting at the end of the day"),
    col("lockages_per_day", "lockages", label="lockages started that day"),
    col("t_per_day", "t", label="tonnes that entered the flights that day"),
    col("wait_mean_h", "h", label="mean wait of the vessels that entered that day")),
    series=True)


class Approach(WaitPoint):
    """A lock's approach in one direction: vessels wait there to enter
    (`Lock.excess_wait`)."""

    def __init__(self, lock: Lock, direction: str) -> None:
        self.lock = lock
        self.direction = direction

    def wait(self) -> float:
        """Hours a vessel arriving at this approach now would wait (`Lock.excess_wait`)."""
        return self.lock.excess_wait(self.direction)


@mypyc_attr(allow_interpreted_subclasses=True)
class Lock(Component):
    """A ship lock: flights of chambers each way, its vessel classes and its ship lift."""

    tables = (LOCKS, LOCK_CLASSES, LOCKS_DAILY)

    def __init__(self, model: Model, spec: LockSpec) -> None:
        super().__init__(model)
        self._points: dict[str, WaitPoint] = {}  # direction -> its place (`wait_point`)
        self.spec = spec
        op = model.plan.network.lock_traffic.get(spec.id, NO_OPERATION)
        self.op = op
        horizon = model.plan.horizon.days * HOURS_PER_DAY
        self.windows = tuple(sorted(model.windows("lock", spec.id) + outage_windows(
            op.outages, horizon, model.plan.seed, model.replication, f"lock:{spec.id}")))
        season = relative_season(op.seasonality or (1.0,) * 12)
        self.classes = dict(op.classes)
        names = [CONTAINER_CLASS, *(n for n, c in op.classes.items() if not c.lift)]
        self.sides = {d: _Side(names, DailySeries(model.first_day, model.days,
                                                  ("queue_vessels", "queue_t"),
                                                  ("lockages_per_day", "t_per_day")))
                      for d in DIRECTIONS}
        self.priority = {CONTAINER_CLASS: op.container_priority,
                         **{n: c.priority for n, c in op.classes.items()}}
        self.arrivals: dict[str, list[tuple[str, _Arrivals]]] = {d: [] for d in DIRECTIONS}
        self.lift_arrivals: list[tuple[str, str, _Arrivals]] = []
        for name, vessels in op.classes.items():
            for d in DIRECTIONS:
                share = vessels.downstream_share if d == "down" else 1 - vessels.downstream_share
                stream = _Arrivals(model, f"lock:{spec.id}:{name}:{d}",
                                   vessels.per_year * share / HOURS_PER_YEAR, season, vessels)
                if vessels.lift:
                    self.lift_arrivals.append((name, d, stream))
                else:
                    self.arrivals[d].append((name, stream))
        self.flights = spec.flights()
        self._normal = {d: float(sum(1 for _, n in self.flights if n == d)) for d in DIRECTIONS}
        self._maintenance = [m.hours for m in op.maintenance]
        self._windowed = [(n, c) for n, c in op.classes.items()
                          if c.entry_hours is not None and not c.lift]
        self._loads = {d: {n: c.load(d) for n, c in op.classes.items()} for d in DIRECTIONS}
        self._windows_of = {d: {n: _entry_window(c, d) for n, c in op.classes.items()}
                            for d in DIRECTIONS}
        self.segments = {flight: flight_segments(flight, normal,
                                                 "up" if normal == "down" else "down",
                                                 op.maintenance)
                         for flight, normal in self.flights}
        self.lift_queue: deque[tuple[str, str, float, float]] = deque()
        self.lift_stats = {(n, d): ClassStats() for n, d, _ in self.lift_arrivals}
        self.lift_trips = dict.fromkeys(DIRECTIONS, 0)
        self._cap = op.chamber_vessels or 10**9

    # ------------------------------------------------------------------ queue
    def passage_hours(self, now: float) -> float:
        """Hours to pass the flight now (four or five steps by month)."""
        by_month = self.op.passage_hours_by_month
        if by_month is None:
            return self.spec.passage_hours
        return by_month[int(now // HOURS_PER_MONTH) % 12]

    def serving(self, direction: str, now: float) -> float:
        """Flights serving `direction` now, a flight in timed reversal counting half."""
        if not self._maintained(now):
            return self._normal[direction]
        total = 0.0
        for flight, normal in self.flights:
            served, _ = direction_at(self.segments[flight], normal, now)
            if served is None:
                continue
            alternating = any(s <= now < e and m for s, e, m in self.segments[flight])
            if alternating:
                total += 0.5
            elif served == direction:
                total += 1.0
        return total

    def _rate(self, direction: str, now: float) -> float:
        """Tonnes per hour the lock can pass in `direction` now (closures aside)."""
        return self.serving(direction, now) * self.spec.chamber_t / self.spec.cycle_hours

    def admit(self, direction: str) -> None:
        """Bring every vessel arrived by now into the queue, in arrival order; a diverting
        vessel that sees more than `divert_wait_hours` of tonnes ahead of it (`ahead`: what
        enters before it under the entry rule in force) goes another way
        (`maintenance_divert_wait_hours`, when set, while a flight is in maintenance)."""
        now: float = self.env._now
        streams = self.arrivals[direction]
        for _, stream in streams:       # a plain loop: this runs at every look at the queue
            if stream.next <= now:
                break
        else:
            return
        side = self.sides[direction]
        pending = [(t, size, name) for name, stream in streams
                   for t, size in stream.until(now)]
        pending.sort()
        limit = self.op.divert_bound(self._maintained(now))
        rate = self._rate(direction, now) if limit is not None else 0.0
        loads = self._loads[direction]
        for t, size, name in pending:
            cargo = size * loads[name]
            if limit is not None and self.classes[name].diverts and (
                    rate <= 0 or self.ahead(direction, name, now) / rate > limit):
                stats = side.stats[name]
                stats.diverted += 1
                stats.diverted_t += cargo
                continue
            side.push(name, (t, size, cargo, None))

    def pass_vessel(self, direction: str, tonnes: float) -> simpy.Event:
        """A container vessel joins the queue; the event fires when it leaves the lock."""
        self.admit(direction)
        side = self.sides[direction]
        event = self.env.event()
        side.push(CONTAINER_CLASS, (self.env._now, tonnes, tonnes, event))
        side.wake()
        return event

    def wait_point(self, direction: str) -> WaitPoint:
        """`excess_wait` of `direction` as a `WaitPoint`, the same object each time (route
        choice reads a place shared by several routes once)."""
        return self._points.setdefault(direction, Approach(self, direction))

    def excess_wait(self, direction: str, vessel_class: str = CONTAINER_CLASS) -> float:
        """Hours a vessel of `vessel_class` (route choice's lots: the container vessels)
        arriving now would wait: the room taken by the vessels that enter before it under
        the entry rule in force now (`ahead`) over the lift rate. While priority applies, a
        container vessel does not wait for the bulk queue, which enters after it."""
        self.admit(direction)
        now = self.env._now
        rate = self._rate(direction, now)
        queued = self.ahead(direction, vessel_class, now)
        return queued / rate if rate > 0 else (math.inf if queued > 0 else 0.0)

    def ahead(self, direction: str, vessel_class: str, now: float) -> float:
        """Room (t fully loaded) taken by the queued vessels that would enter before a
        vessel of `vessel_class` arriving at `now`. `_fill` takes vessels by (`_rank`,
        arrival), and every queued vessel arrived by now, so those of a rank no later than
        its own; first come first served (every class of one rank): the whole queue."""
        side = self.sides[direction]
        if not self._by_priority(now):   # every class of one rank: the running total
            return side.queued_size      # (admit asks it of every diverting arrival)
        own = self._rank(vessel_class, True)
        first = [n for n in side.queues if self._rank(n, True) <= own]
        if len(first) == len(side.queues):
            return side.queued_size      # the whole queue, as that total
        return sum(side.sizes[n] for n in first)

    # ------------------------------------------------------------------ flights
    def start(self) -> None:
        # the processes wait on `delay`s, which SimPy takes for timeouts (its type says Event)
        for flight, normal in self.flights:
            self.env.process(self._flight(flight, normal))  # type: ignore[arg-type]
        if self.lift_arrivals and self.op.lift is not None:
            self.env.process(self._lift())  # type: ignore[arg-type]

    def _rank(self, name: str, by_priority: bool) -> int:
        """Where class `name` stands in the order of entry (lower first, then by arrival):
        its priority while priority applies, else the same for every class (first come
        first served). The one home of who enters first: `_fill` and `ahead` use it."""
        return self.priority[name] if by_priority else 0

    def _by_priority(self, now: float) -> bool:
        when = self.op.priority_when
        if when == "always":
            return True
        if when == "never":
            return False
        return self._maintained(now)

    def _maintained(self, now: float) -> bool:
        """Whether a flight is under maintenance now."""
        return any(start <= now < end for start, end in self._maintenance)

    def _flight(self, flight: str, normal: str) -> Generator[simpy.Event | Delay, object, None]:
        env = self.env
        spec = self.spec
        segments = self.segments[flight]
        last_dir, clear_at = normal, 0.0
        while True:
            now = env._now
            direction, until = direction_at(segments, normal, now)
            if direction is None:                      # under maintenance
                yield delay(env, until - now)
                continue
            if direction != last_dir and clear_at > now:
                yield delay(env, clear_at - now)       # turning round: the flight empties
                continue
            last_dir = direction
            side = self.sides[direction]
            self.admit(direction)
            factor, reopen = factor_at(self.windows, now) if self.windows else (1.0, math.inf)
            if factor <= 0:
                yield delay(env, min(reopen, until) - now)
                continue
            opens = self._window_opens(direction, now) if self._windowed else math.inf
            if now < opens < now + spec.cycle_hours:
                yield delay(env, opens - now)          # keep the flight for the window
                continue
            taken = self._fill(side, direction, spec.chamber_t * factor, now)
            if taken is None:                          # nothing that may enter fits now
                wake = env.event()
                side.waiters.append(wake)
                nxt = min([until, reopen, self._next_arrival(direction),
                           self._window_opens(direction, now)])
                yield wake | env.timeout(nxt - now) if nxt < math.inf else wake
                if wake in side.waiters:
                    side.waiters.remove(wake)
                continue
            side.lockages += 1
            side.daily.count("lockages_per_day", now)
            passage = self.passage_hours(now)
            clear_at = now + passage
            if taken:
                later(env, passage, partial(_release, taken))
            yield delay(env, spec.cycle_hours)

    def _next_arrival(self, direction: str) -> float:
        return min((s.next for _, s in self.arrivals[direction]), default=math.inf)

    def _window_opens(self, direction: str, now: float) -> float:
        """Next start of a daily entry window of a class that has vessels waiting (inf when
        none waits or a window is open now)."""
        side = self.sides[direction]
        day = now // HOURS_PER_DAY * HOURS_PER_DAY
        hour = now - day
        out = math.inf
        for name, vessels in self._windowed:
            window = _entry_window(vessels, direction)
            if window is None or not side.queues.get(name):
                continue
            if window[0] <= hour < window[1]:
                return math.inf
            start = day + window[0]
            out = min(out, start if start > now else start + HOURS_PER_DAY)
        return out

    def _fill(self, side: _Side, direction: str, room: float,
              now: float) -> list[simpy.Event] | None:
        """Fill one chamber; the container vessels' events to fire when they leave, or None
        when no vessel that may enter now fits."""
        hour = now % HOURS_PER_DAY
        windows = self._windows_of[direction]
        windowed: list[str] = []
        eligible: list[str] = []
        for name, queue in side.queues.items():
            if not queue:
                continue
            window = windows.get(name)
            if window is None:
                eligible.append(name)
            elif window[0] <= hour < window[1]:
                windowed.append(name)
        if windowed:               # dangerous goods in their window: a dedicated lockage
            eligible = windowed
        if not eligible:
            return None
        by_priority = self._by_priority(now)
        heads = [(self._rank(n, by_priority), side.queues[n][0][0], n) for n in eligible]
        heapq.heapify(heads)
        events: list[simpy.Event] = []
        used, count = 0.0, 0
        while heads and count < self._cap:
            _, _, name = heads[0]
            queue = side.queues[name]
            arrived, size, tonnes, event = queue[0]
            if used + size > room + 1e-9:
                break
            queue.popleft()
            used += size
            count += 1
            side.queued_size -= size
            side.sizes[name] = side.sizes[name] - size if queue else 0.0   # no drift
            side.queued_t -= tonnes
            side.queued -= 1
            stats = side.stats[name]
            stats.vessels += 1
            stats.tonnes += tonnes
            stats.wait += now - arrived
            side.daily.wait(now, now - arrived)
            side.daily.count("t_per_day", now, tonnes)
            if event is not None:
                events.append(event)
            if queue:
                heapq.heapreplace(heads, (heads[0][0], queue[0][0], name))
            else:
                heapq.heappop(heads)
        if count == 0:
            return None
        return events

    # ------------------------------------------------------------------ ship lift
    def _lift(self) -> Generator[simpy.Event | Delay, object, None]:
        """One vessel a trip, both directions, first come first served."""
        env = self.env
        assert self.op.lift is not None
        trip = self.op.lift.trip_hours
        queue = self.lift_queue
        while True:
            now = env._now
            arrived = sorted((t, d, size, name) for name, d, s in self.lift_arrivals
                             for t, size in s.until(now))
            queue.extend((name, d, t, size * self._loads[d][name])
                         for t, d, size, name in arrived)
            factor, reopen = factor_at(self.windows, now) if self.windows else (1.0, math.inf)
            if factor <= 0:
                yield delay(env, reopen - now)
                continue
            if not queue:
                nxt = min(s.next for _, _, s in self.lift_arrivals)
                if nxt == math.inf:
                    return
                yield delay(env, nxt - now)
                continue
            name, d, t, tonnes = queue.popleft()
            stats = self.lift_stats[(name, d)]
            stats.vessels += 1
            stats.tonnes += tonnes
            stats.wait += now - t
            self.lift_trips[d] += 1
            yield delay(env, trip)

    # ------------------------------------------------------------------ component
    def close_day(self, day: int) -> None:
        for d in DIRECTIONS:
            self.admit(d)
            side = self.sides[d]
            side.daily.close_day(day, queue_vessels=side.queued, queue_t=side.queued_t)

    def reset_stats(self) -> None:
        for side in self.sides.values():
            side.stats = {n: ClassStats() for n in side.stats}
            side.lockages = 0
        self.lift_stats = {k: ClassStats() for k in self.lift_stats}
        self.lift_trips = dict.fromkeys(DIRECTIONS, 0)

    def rows(self, period: float, end: float) -> Iterator[tuple[str, Row]]:
        days = period / HOURS_PER_DAY
        start = end - period
        closed = closed_hours(self.windows, end, start)
        for d in DIRECTIONS:
            side = self.sides[d]
            self.admit(d)
            stats = side.stats
            vessels = sum(s.vessels for s in stats.values())
            total = sum(s.tonnes for s in stats.values())
            wait = sum(s.wait for s in stats.values())
            other = [s for n, s in stats.items() if n != CONTAINER_CLASS]
            other_n = sum(s.vessels for s in other)
            box = stats[CONTAINER_CLASS]
            residual = sum(end - max(v[0], start) for q in side.queues.values() for v in q)
            lift = [s for (n, dd), s in self.lift_stats.items() if dd == d]
            lift_n = sum(s.vessels for s in lift)
            yield "locks", {
                "lock": self.spec.id, "direction": d, "lockages": side.lockages,
                "lockages_per_day": side.lockages / days, "vessels": vessels,
                "vessels_per_lockage": vessels / side.lockages if side.lockages else math.nan,
                "t_per_lockage": total / side.lockages if side.lockages else math.nan,
                "container_t": box.tonnes, "bulk_t": total - box.tonnes, "total_t": total,
                "utilization": total / self.spec.lift_t(period),
                "slot_use": side.lockages / self.spec.lockages(period),
                "wait_mean_h": wait / vessels if vessels else math.nan,
                "container_wait_mean_h": (box.wait / box.vessels if box.vessels
                                          else math.nan),
                "bulk_wait_mean_h": (sum(s.wait for s in other) / other_n
                                     if other_n else math.nan),
                "queue_mean_vessels": (wait + residual) / period,
                "diverted_t": sum(s.diverted_t for s in stats.values()),
                "queue_end_t": side.queued_t, "queue_end_vessels": side.queued,
                "closed_h": closed,
                "lift_trips": self.lift_trips[d], "lift_t": sum(s.tonnes for s in lift),
                "lift_wait_mean_h": (sum(s.wait for s in lift) / lift_n if lift_n
                                     else math.nan)}
            for name, s in stats.items():
                yield "lock_classes", _class_row(self.spec.id, d, name, "locks", s)
        for (name, d), s in self.lift_stats.items():
            yield "lock_classes", _class_row(self.spec.id, d, name, "lift", s)
        for d in DIRECTIONS:
            for row in self.sides[d].daily.rows(lock=self.spec.id, direction=d):
                yield "locks_daily", row


def _class_row(lock: str, direction: str, name: str, via: str, s: ClassStats) -> Row:
    return {"lock": lock, "direction": direction, "vessel_class": name, "via": via,
            "vessels": s.vessels, "t": s.tonnes,
            "wait_mean_h": s.wait / s.vessels if s.vessels else math.nan,
            "diverted_vessels": s.diverted, "diverted_t": s.diverted_t}


def _entry_window(vessels: VesselClass, direction: str) -> tuple[float, float] | None:
    """The daily entry window of a class in `direction` (None: no window, any time)."""
    entry = vessels.entry_hours or {}
    return entry.get("down") if direction == "down" else entry.get("up")


def _release(vessels: list[simpy.Event], _done: object) -> None:
    """A lockage is over: every container vessel in it leaves the lock."""
    for vessel in vessels:
        vessel.succeed()
