"""Hubs at run time: a yard (full yard holds freight back upstream), handling positions,
and customs/clearance dwell (`Hub`). Borders also hold through trains for the border and,
where the gauge changes, handle them whole (`Border`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import simpy
from mypy_extensions import mypyc_attr

from sim.checks import CHECKS, QueueCounts, hub_check
from sim.engine.component import Component, Row
from sim.engine.daily import DailySeries
from sim.engine.freight import Lot
from sim.engine.loop import Due, Wait, later, pause, pending, succeed
from sim.engine.windows import factor_at, reopens_at
from sim.kpis import TEXT, Table, col
from sim.rng import draws
from sim.specs import BorderSpec, HubSpec

if TYPE_CHECKING:
    from sim.engine.model import Model


BACKGROUND = "background"    # the owner of other users' jobs (`Hub.clearance_hours`)


def gamma_sampler(rng: np.random.Generator, cv: float) -> Callable[[float], float]:
    """A function mean -> gamma-distributed draw with the given coefficient of variation."""
    if cv <= 0:
        return lambda mean: mean
    shape = 1.0 / (cv * cv)
    scale = cv * cv
    draw = draws(lambda n: rng.standard_gamma(shape, n))
    return lambda mean: mean * scale * draw() if mean > 0 else 0.0


class Yard:
    """Yard space in TEU; entering blocks (FIFO) while the yard is full. A blocked entry
    waits on a `pending` (SimPy's `env.event()` with one waiter, in the same place in the
    queue once let in)."""

    __slots__ = ("env", "capacity", "level", "waiting", "area", "last", "peak")

    def __init__(self, env: simpy.Environment, capacity: float) -> None:
        self.env = env
        self.capacity = capacity
        self.level = 0.0
        self.waiting: deque[tuple[float, Due]] = deque()
        self.area = 0.0     # integral of level over time, TEU-hours
        self.last = 0.0
        self.peak = 0.0

    def _tick(self) -> None:
        now: float = self.env._now      # typed: compiled, the arithmetic is on C doubles
        self.area += self.level * (now - self.last)
        self.last = now

    def enter(self, teu: float) -> Due | None:
        """Claim space; returns an event to wait for when the yard is full, else None."""
        if not self.waiting and self.level + teu <= self.capacity + 1e-9:
            self._tick()
            self.level += teu
            if self.level > self.peak:
                self.peak = self.level
            return None
        event = pending()
        self.waiting.append((teu, event))
        return event

    def leave(self, teu: float) -> None:
        """Free space and let waiting freight in, first come first served."""
        self._tick()
        self.level -= teu
        while self.waiting and self.level + self.waiting[0][0] <= self.capacity + 1e-9:
            amount, event = self.waiting.popleft()
            self.level += amount
            succeed(self.env, event)
        if self.level > self.peak:
            self.peak = self.level

    def reset_stats(self) -> None:
        """Start the time average and the peak afresh (end of the warm-up), at the level
        held now."""
        self._tick()
        self.area = 0.0
        self.peak = self.level


class Servers:
    """c identical handling positions with one FIFO queue (waiters on `pending`s, as the
    yard's)."""

    __slots__ = ("env", "free", "queue")

    def __init__(self, env: simpy.Environment, count: int) -> None:
        self.env = env
        self.free = count
        self.queue: deque[Due] = deque()

    def acquire(self) -> Due | None:
        """Take a position; returns an event to wait for when all are busy, else None."""
        if self.free > 0 and not self.queue:
            self.free -= 1
            return None
        event = pending()
        self.queue.append(event)
        return event

    def release(self) -> None:
        """Free a position: the first waiter takes it (made due now), else it is free."""
        if self.queue:
            succeed(self.env, self.queue.popleft())
        else:
            self.free += 1


class _Job:
    """Freight handled together at a hub: one lot from a shipper, one vehicle's batch, or a
    background job (no lots: other users' boxes, counted apart). A background train at a
    gauge-change border passes through: no yard, no dwell, a position of its direction's
    `pool` for `hours`."""

    __slots__ = ("lots", "teu", "since", "background", "pool", "hours", "waited", "duration")

    def __init__(self, lots: list[Lot], teu: float, since: float, background: bool = False,
                 pool: Servers | None = None, hours: float | None = None) -> None:
        self.lots = lots
        self.teu = teu
        self.since = since
        self.background = background
        self.pool = pool
        self.hours = hours
        self.waited = 0.0       # hours waited for the yard and a position (set at the start)
        self.duration = 0.0     # hours of handling (set at the start)


class HubStats:
    """Counters of one hub since the end of the warm-up."""

    __slots__ = ("teu", "jobs", "wait_sum", "wait_max", "busy", "vehicles", "arrivals",
                 "busy_sq", "gaps", "gap_sum", "gap_sq", "area", "last", "since",
                 "busy_in_period", "background_teu", "background_jobs",
                 "background_diverted_teu")

    def __init__(self, now: float = 0.0) -> None:
        self.teu = 0.0          # tracked TEU handled (lots and through trains)
        self.background_teu = 0.0   # other users' TEU handled (background jobs)
        self.background_jobs = 0
        self.background_diverted_teu = 0.0  # other users' TEU gone elsewhere (wait too long)
        self.jobs = 0           # handling jobs (lots from shippers, vehicle batches, trains)
        self.wait_sum = 0.0     # hours jobs waited for yard space and a position
        self.wait_max = 0.0
        self.busy = 0.0         # position-hours spent handling
        self.vehicles = 0       # through trains handled (gauge change)
        self.arrivals = 0       # jobs arrived (for Little's law and arrival rates)
        self.busy_sq = 0.0      # sum of squared handling times (service variability)
        self.gaps = 0           # inter-arrival times seen, their sum and sum of squares
        self.gap_sum = 0.0
        self.gap_sq = 0.0
        self.area = 0.0         # integral of jobs in system over time (Little's L)
        self.last = now         # time of the last change of jobs in system
        self.since = now        # start of the statistics period
        self.busy_in_period = 0.0  # position-hours handling within the period (utilization):
        # a job begun in the warm-up counts only its part after `since`


HUBS = Table("hubs", ("hub",), (
    col("hub", TEXT, label="hub id"), col("name", TEXT, label="the hub's name"),
    col("kind", TEXT, label="kind of hub (zone, rail_terminal, river_port, sea_port, airport, "
                            "border, ...)"),
    col("teu", "TEU", "year", "TEU handled"),
    col("background_teu", "TEU", "year", "other users' TEU handled (background traffic)"),
    col("background_jobs", "jobs", "year", "background jobs (trains, calls) handled"),
    col("background_diverted_teu", "TEU", "year",
        "other users' TEU gone elsewhere: the wait ahead exceeded their diverts_after_hours"),
    col("jobs", "jobs", "year", "handling jobs (lots, vehicle batches, trains)"),
    col("arrivals", "jobs", "year", "handling jobs arrived (handled or still waiting)"),
    col("trains_gauge_changed", "trains", "year",
        "through trains handled (gauge change at a border)"),
    col("wait_mean_h", "h", label="mean wait of a handling job for yard space and a handling "
                                  "position (closures included), background jobs too, of "
                                  "the jobs handled; empty where none was (a hub closed all "
                                  "period: not a wait of 0, queue_end_jobs counts what "
                                  "waits)"),
    col("wait_max_h", "h", label="longest such wait; empty where no job was handled"),
    col("utilization", "share", label="share of the handling positions' hours spent "
                                      "handling: 0 at a hub closed all period, however long "
                                      "its queue (queue_end_jobs; wait_mean_h empty), so a "
                                      "ranking by it puts such a hub last"),
    col("yard_mean_teu", "TEU", label="TEU in the yard, time average"),
    col("yard_peak_teu", "TEU", label="most TEU in the yard at once"),
    col("yard_teu", "TEU", label="yard capacity: the hub's yard_teu as the scenario sets it "
                                 "(hubs_daily.csv yard_stock_teu: what it holds)", fixed=True),
    col("queue_end_jobs", "jobs", label="jobs waiting for the yard or a position at the end"),
    col("in_system_mean_jobs", "jobs", label="jobs at the hub (waiting or in handling), time "
                                             "average"),
    col("service_mean_h", "h", label="mean handling time of a job (position-hours); empty "
                                     "where none was handled"),
    col("lon", "deg", fixed=True, label="longitude (WGS 84)"),
    col("lat", "deg", fixed=True, label="latitude (WGS 84)")))



HUBS_DAILY = Table("hubs_daily", ("hub", "day"), (
    col("hub", TEXT, label="hub id"),
    col("day", "day", label="day of the simulation clock (hours 24 d to 24 (d + 1)), those "
                            "after the warm-up"),
    col("queue_teu", "TEU", label="TEU at the yard's gate or waiting for a handling "
                                  "position (gauge change at a border) at the end of the day"),
    col("yard_stock_teu", "TEU", label="TEU in the yard at the end of the day"),
    col("wait_mean_h", "h", label="mean wait of the jobs whose handling started that day")),
    series=True)


@mypyc_attr(allow_interpreted_subclasses=True)
class Hub(Component):
    """A hub's state for one replication: yard, handling positions, dwell, the lots here."""

    tables = (HUBS, HUBS_DAILY, CHECKS)

    def __init__(self, model: Model, spec: HubSpec) -> None:
        super().__init__(model)
        self.spec = spec
        self.windows = model.windows("hub", spec.id)
        rng = self.stream(f"hub:{spec.id}")
        self.lots: dict[int, Lot] = {}    # lots between arrival and onward queue
        self.yard = Yard(self.env, spec.yard_teu)
        self.servers = Servers(self.env, spec.handling_servers)
        self.stats = HubStats()
        self.waiting_teu = 0.0  # TEU at the yard's gate or waiting for a position
        self.daily = DailySeries(model.first_day, model.days, ("queue_teu", "yard_stock_teu"))
        self.in_system = 0      # jobs between arrival and end of handling
        self.last_arrival: float | None = None
        # dwell is drawn from a stream of the job's owner (a flow, a line's trains, the
        # background), not of the hub: a variant that sends more jobs through this hub
        # leaves every other owner's draws where they were (common random numbers)
        self._dwell_cv = model.plan.variability.dwell_cv
        self._dwells: dict[str, Callable[[float], float]] = {}
        self._rate = spec.handling_teu_per_hour
        self._setup = spec.handling_setup_hours
        self._expo = spec.handling_dist == "exponential"
        self._expo_draw = draws(rng.standard_exponential)
        self._dwell_hours = spec.dwell_hours    # the spec's, read at every clearance

    # --------------------------------------------------------------- handling
    def handling_time(self, teu: float) -> float:
        """Hours a position takes for a job of `teu`: the spec's mean
        (`HubSpec.mean_handling_hours`, written out on fields read once: it runs per job),
        times an exponential draw where `handling_dist` is exponential."""
        mean = self._setup + teu / self._rate
        return mean * self._expo_draw() if self._expo else mean

    def _handle(self, teu: float, servers: Servers | None = None,
                hours: float | None = None) -> Generator[Wait, object, float]:
        """Wait for a position (of `servers`, else the hub's), handle `teu` (for `hours`,
        else the handling time), release. Returns hours waited, closures included. Run
        within a vehicle's trip (`sim.engine.loop.drive`): its waits are `pause`s."""
        env = self.env
        t0 = env._now
        self.waiting_teu += teu
        pool = servers if servers is not None else self.servers
        request = pool.acquire()
        if request is not None:
            yield request
        while True:
            factor, until = factor_at(self.windows, env._now) if self.windows else (1.0, 0.0)
            if factor > 0:
                break
            yield pause(env, until - env._now)  # closed: wait for the window to end
        waited = env._now - t0
        self.waiting_teu -= teu
        self.daily.wait(env._now, waited)
        duration = (self.handling_time(teu) if hours is None else hours) / factor
        yield pause(env, duration)
        self._handled(teu, duration, False, pool)
        return waited

    def _handled(self, teu: float, duration: float, background: bool = False,
                 servers: Servers | None = None) -> None:
        """A handling job ends: free its position and count it."""
        (servers if servers is not None else self.servers).release()
        stats = self.stats
        stats.busy += duration
        stats.busy_in_period += min(duration, self.env._now - stats.since)
        stats.busy_sq += duration * duration
        stats.jobs += 1
        if background:
            stats.background_teu += teu
            stats.background_jobs += 1
        else:
            stats.teu += teu

    # --------------------------------------------------------------- counting
    def _arrive(self) -> None:
        """A job enters: count it, its inter-arrival gap and the jobs-in-system area."""
        now: float = self.env._now
        stats = self.stats
        stats.area += self.in_system * (now - stats.last)
        stats.last = now
        self.in_system += 1
        stats.arrivals += 1
        if self.last_arrival is not None:
            gap = now - self.last_arrival
            stats.gaps += 1
            stats.gap_sum += gap
            stats.gap_sq += gap * gap
        self.last_arrival = now

    def _done(self, waited: float) -> None:
        """A job's handling ends: count it out and its wait."""
        now: float = self.env._now
        stats = self.stats
        stats.area += self.in_system * (now - stats.last)
        stats.last = now
        self.in_system -= 1
        stats.wait_sum += waited
        if waited > stats.wait_max:
            stats.wait_max = waited

    def in_system_mean(self, end: float, period: float) -> float:
        """Time-average number of jobs at the hub (waiting or in handling) over `period`."""
        stats = self.stats
        return (stats.area + self.in_system * (end - stats.last)) / period if period else 0.0

    # --------------------------------------------------------------- freight
    def receive(self, lots: list[Lot]) -> None:
        """Freight arrives (from a shipper or off a vehicle): yard, handling, dwell, onward.

        The visit is a chain of callbacks, not a process: a lot that finds yard space and a
        free position costs one timeout for its handling (and one for its dwell).
        """
        teu = 0.0
        here = self.lots
        for lot in lots:
            here[lot.id] = lot
            teu += lot.teu
        self._book(lots)
        self._enter(_Job(lots, teu, self.env._now))

    def _book(self, lots: list[Lot]) -> None:
        """Lots that will board here: the line counts them as booked from now."""
        lines = self.model.lines
        for lot in lots:
            path = lot.path     # compiled, the line is a list item and its sums C doubles,
            leg = lot.leg       # not Python lookups and additions
            if leg < len(path.lines):
                booked = lines[path.lines[leg]].booked_teu
                board = path.boards[leg]
                booked[board] = booked[board] + lot.teu

    def _reopening(self) -> tuple[float, float]:
        """(hours from now until the hub's capacity factor is above 0, that factor then);
        infinite hours if it never reopens."""
        now = self.env._now
        if not self.windows:
            return 0.0, 1.0
        opens = reopens_at(self.windows, now)
        if opens == float("inf"):
            return opens, 0.0
        return opens - now, factor_at(self.windows, opens)[0]

    def expected_wait(self, teu: float, outbound: bool) -> float:
        """Hours a job of `teu` arriving now would wait, as a caller reads a port's
        announced stops and its queue: until the hub reopens, then the queue ahead
        (`_queue_hours`) at the capacity factor then (the handling under way left out: an
        estimate from below)."""
        shut, factor = self._reopening()
        if shut == float("inf"):
            return shut
        return shut + self._queue_hours(teu, outbound) / factor

    def _queue_hours(self, teu: float, outbound: bool) -> float:
        """Hours the queue ahead of a job takes at full capacity: the TEU waiting at the
        positions' handling rate (set-up times left out)."""
        return self.waiting_teu / (self.positions() * self._rate)

    def divert_background(self, teu: float) -> None:
        """A background job goes elsewhere: counted, never handled here. It draws no dwell,
        so the hub's later background dwells shift against a variant where it waited (the
        arrivals and directions do not: `Background` draws them either way)."""
        self.stats.background_diverted_teu += teu

    def receive_background(self, teu: float, outbound: bool) -> None:
        """A background job arrives: it takes yard space and a handling position like
        freight, dwells, and leaves (its direction matters only at a border)."""
        self._enter(_Job([], teu, self.env._now, background=True))

    def _enter(self, job: _Job) -> None:
        """A job arrives: the yard's gate, then the queue for a handling position."""
        teu = job.teu
        self._arrive()
        self.waiting_teu += teu
        blocked = None if job.pool is not None else self.yard.enter(teu)
        if blocked is None:
            self._queue(job)
        else:
            blocked.call = lambda _ev: self._queue(job)

    def _queue(self, job: _Job) -> None:
        request = (job.pool or self.servers).acquire()
        if request is None:
            self._start(job)
        else:
            request.call = lambda _ev: self._start(job)

    def _start(self, job: _Job, _event: object = None) -> None:
        env = self.env
        now: float = env._now
        factor, until = factor_at(self.windows, now) if self.windows else (1.0, 0.0)
        if factor <= 0:  # closed: the job holds its position until the window ends
            later(env, until - now, partial(self._start, job))
            return
        waited = now - job.since
        self.waiting_teu -= job.teu
        self.daily.wait(now, waited)
        hours = self.handling_time(job.teu) if job.hours is None else job.hours
        job.waited = waited
        job.duration = duration = hours / factor
        # a lambda, not a partial of the bound method: compiled, a native object called
        # through vectorcall (about 170,000 jobs a year)
        later(env, duration, lambda _ev: self._finish(job, _ev))

    def _finish(self, job: _Job, _event: object) -> None:
        self._handled(job.teu, job.duration, job.background, job.pool)
        self._done(job.waited)
        if job.pool is not None:        # a through train: it leaves the border
            return
        owner = self.model.flow_keys[job.lots[0].flow] if job.lots else BACKGROUND
        dwell = self.clearance_hours(job.teu, owner)
        if dwell > 0:
            later(self.env, dwell, lambda _ev: self._clear(job, _ev))
        else:
            self._clear(job)

    def _clear(self, job: _Job, _event: object = None) -> None:
        """Cleared: each lot goes on to its next leg, or is delivered; a background job
        leaves the yard."""
        if job.background:
            self.yard.leave(job.teu)
            return
        model = self.model
        here = self.lots
        waited = job.waited
        for lot in job.lots:
            del here[lot.id]
            lot.wait += waited
            model.forward(lot, self)

    def clearance_hours(self, teu: float, owner: str) -> float:
        """Hours `teu` handled together dwell here (customs, clearance, a border), drawn
        around the hub's mean dwell from the stream of `owner` at this hub: a flow's key
        (`Flow.key`) for its freight, `line:<id>` for a line's trains at a border,
        `BACKGROUND` for other users' jobs."""
        mean = self._dwell_hours
        if self._dwell_cv <= 0 or mean <= 0:
            return mean
        draw = self._dwells.get(owner)
        if draw is None:
            draw = self._dwells[owner] = gamma_sampler(
                self.stream(f"dwell:{self.spec.id}:{owner}"), self._dwell_cv)
        return draw(mean)

    def positions(self) -> int:
        """Handling positions in all (a directional border has a set for each way)."""
        return self.spec.handling_servers

    def through(self, teu: float, outbound: bool,
                line: str) -> Generator[Wait, object, None] | None:
        """A vehicle of `line` carrying `teu` passes through (`outbound`: travelling away
        from China):
        None when it just stands for the service's stop time; a process to run (border,
        gauge change) otherwise, that the vehicle's trip runs (`sim.engine.loop.drive`:
        it may yield SimPy events and `pause`s)."""
        return None

    # --------------------------------------------------------------- component
    def reset_stats(self) -> None:
        self.stats = HubStats(self.env._now)
        self.yard.reset_stats()

    def inventory(self) -> tuple[Iterable[float], Iterable[float]]:
        return (), [lot.teu for lot in self.lots.values()]

    def queue_counts(self) -> QueueCounts:
        """What this hub counted since the warm-up, as a queue (for the checks)."""
        s = self.stats
        return QueueCounts(
            hub=self.spec.id, servers=self.positions(), arrivals=s.arrivals,
            jobs=s.jobs, busy=s.busy, busy_sq=s.busy_sq, gaps=s.gaps, gap_sum=s.gap_sum,
            gap_sq=s.gap_sq, wait_sum=s.wait_sum)

    def rows(self, period: float, end: float) -> Iterator[tuple[str, Row]]:
        s = self.stats
        spec = self.spec
        yard = self.yard
        yield "hubs", {
            "hub": spec.id, "name": spec.name, "kind": spec.kind, "teu": s.teu,
            "background_teu": s.background_teu, "background_jobs": s.background_jobs,
            "background_diverted_teu": s.background_diverted_teu,
            "jobs": s.jobs, "arrivals": s.arrivals, "trains_gauge_changed": s.vehicles,
            "wait_mean_h": s.wait_sum / s.jobs if s.jobs else np.nan,
            "wait_max_h": s.wait_max if s.jobs else np.nan,
            "utilization": s.busy_in_period / (self.positions() * period),
            "yard_mean_teu": (yard.area + yard.level * (end - yard.last)) / period,
            "yard_peak_teu": yard.peak, "yard_teu": spec.yard_teu,
            "queue_end_jobs": len(self.servers.queue) + len(yard.waiting),
            "in_system_mean_jobs": self.in_system_mean(end, period),
            "service_mean_h": s.busy / s.jobs if s.jobs else np.nan,
            "lon": spec.lon, "lat": spec.lat}
        yield "checks", hub_check(self.queue_counts(), period, self.model.stats_from)
        for row in self.daily.rows(hub=spec.id):
            yield "hubs_daily", row

    def close_day(self, day: int) -> None:
        self.daily.close_day(day, queue_teu=self.waiting_teu, yard_stock_teu=self.yard.level)


@mypyc_attr(allow_interpreted_subclasses=True)
class Zone(Hub):
    """Where shippers are: freight starts or ends here and is handled nowhere (`ZoneSpec`).

    assumption: a zone's nominal position takes no time (the spec's ample figures gave
    0.14 s a lot): freight that finds room and a free position is counted as handled and
    goes on at once, without an event or a clearance; a zone given a yard, a position
    count, a dwell or closures that bind runs as a hub, and so does a kind built on it that
    overrides `clearance_hours` (its hook is called for every job, whatever its dwell)."""

    def __init__(self, model: Model, spec: HubSpec) -> None:
        super().__init__(model, spec)
        # decided once: closures, a dwell or a clearance hook of its own make every job run
        # as at a hub; the base hook at dwell 0 returns 0 without a draw, so skipping it
        # changes nothing
        self._as_hub = bool(self.windows) or self._dwell_hours > 0 or (
            type(self).clearance_hours is not Hub.clearance_hours)

    def receive(self, lots: list[Lot]) -> None:
        yard = self.yard
        servers = self.servers
        teu = 0.0
        for lot in lots:
            teu += lot.teu
        if (self._as_hub or yard.waiting or servers.queue
                or servers.free <= 0 or yard.level + teu > yard.capacity + 1e-9):
            super().receive(lots)
            return
        self._book(lots)
        yard.enter(teu)
        servers.acquire()
        self._arrive()
        self.daily.wait(self.env._now, 0.0)
        self._handled(teu, 0.0)
        self._done(0.0)
        for lot in lots:
            self.model.forward(lot, self)


@mypyc_attr(allow_interpreted_subclasses=True)
class Border(Hub):
    """A border crossing: through trains stop for the border dwell and, where the gauge
    changes, are handled whole at a handling position."""

    def __init__(self, model: Model, spec: BorderSpec) -> None:
        super().__init__(model, spec)
        # the spec as a BorderSpec, under a name of its own: compiled, a subclass that
        # redeclared `spec` had the one reference visited twice by the garbage collector,
        # which could then clear the live spec's attributes (`tests/engine/test_native.py`)
        self.border = spec
        # gauge-change positions by direction (outbound: away from China); one shared pool
        # unless the border has a published capacity for each direction
        second = Servers(self.env, spec.handling_servers) if spec.directional else self.servers
        self.pools = {True: self.servers, False: second}
        # read at every through train and background job (`directional` is a property
        # of the spec, computed in Python)
        self._changes_gauge = spec.gauge_change
        self._directional = spec.directional

    def positions(self) -> int:
        return self.border.handling_servers * (2 if self.border.directional else 1)

    def through(self, teu: float, outbound: bool,
                line: str) -> Generator[Wait, object, None] | None:
        return self._pass_vehicle(teu, outbound, line)

    def receive_background(self, teu: float, outbound: bool) -> None:
        """A background train: where the gauge changes it is handled whole at a position of
        its direction, like Chongqing's through trains; elsewhere it takes the yard."""
        if self._changes_gauge:
            hours = self.border.train_hours(teu, outbound) if self._directional else None
            self._enter(_Job([], teu, self.env._now, True, self.pools[outbound], hours))
        else:
            super().receive_background(teu, outbound)

    def _queue_hours(self, teu: float, outbound: bool) -> float:
        """Where the gauge changes, the trains waiting for a position of the job's direction
        times a train's time there (`BorderSpec.train_hours`), not the boxes at the
        handling rate: a train holds a position 5-7 h where the rate reads minutes."""
        if not self._changes_gauge:
            return super()._queue_hours(teu, outbound)
        hours = self.border.train_hours(teu, outbound if self._directional else None)
        return len(self.pools[outbound].queue) * hours / self.border.handling_servers

    def _gauge_change(self, teu: float, outbound: bool) -> Generator[Wait, object, None]:
        """A Chongqing train, whole, at a gauge-change position of its direction."""
        self._arrive()
        hours = self.border.train_hours(teu, outbound) if self._directional else None
        waited = yield from self._handle(teu, self.pools[outbound], hours)
        self._done(waited)
        self.stats.vehicles += 1

    def _pass_vehicle(self, teu: float, outbound: bool,
                      line: str) -> Generator[Wait, object, None]:
        """Gauge change (if any) and border dwell of a through train of `line` carrying
        `teu`."""
        if self._changes_gauge and teu > 0:
            yield from self._gauge_change(teu, outbound)
        dwell = self.clearance_hours(teu, f"line:{line}")
        if dwell > 0:
            yield pause(self.env, dwell)
