"""Lines at run time: scheduled vehicles (trains, barges, ships) and continuous flows
(trucks, air). Freight waits in a FIFO queue per boarding stop; a departure leaves with
what is ready, up to its capacity, splitting the lot that does not fit.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from typing import TYPE_CHECKING

import simpy
from mypy_extensions import mypyc_attr

from sim.engine.component import Component, Row, WaitPoint
from sim.engine.freight import Lot, Vehicle
from sim.engine.hub import Hub, gamma_sampler
from sim.engine.links import HopStats
from sim.engine.loop import Due, Wait, again, begin, drive, later, pause
from sim.engine.windows import factor_at
from sim.kpis import TEXT, Table, col
from sim.network import Hop, Line
from sim.specs import ContinuousService, ScheduledService
from sim.units import HOURS_PER_DAY

if TYPE_CHECKING:
    from sim.engine.lock import Lock
    from sim.engine.model import Model


# weight of a call in the moving mean of the room vehicles have at a stop (assumption: a
# forwarder judges a stop by about its last ten calls)
ROOM_WEIGHT = 0.1


class LineStats:
    """Counters of one line since the end of the warm-up."""

    __slots__ = ("departures", "loaded", "skipped", "teu", "capacity", "wait_sum", "teu_km",
                 "capacity_km")

    def __init__(self) -> None:
        self.departures = 0     # vehicles (or continuous loads) started
        self.loaded = 0         # of which carried freight on some hop
        self.skipped = 0        # timetable slots the dispatch rule skipped (no departure)
        self.teu = 0.0          # TEU boarded, at any stop
        self.capacity = 0.0     # TEU capacity offered by the departures
        self.wait_sum = 0.0     # TEU-weighted boarding wait, TEU-hours
        self.teu_km = 0.0       # TEU carried x km: with capacity_km, the load factor
        self.capacity_km = 0.0


LINES = Table("lines", ("line",), (
    col("line", TEXT, label="service line: a service in one running direction"),
    col("service", TEXT, label="the service, as the scenario's network.services names it"),
    col("corridor", TEXT, label="corridor of the service"),
    col("mode", TEXT, label="transport mode (rail, road, river, sea, air)"),
    col("schedule", TEXT, label="scheduled (departures every headway) or continuous (a "
                                "rate)"),
    col("departures", "departures", "year", "departures (vehicles or continuous loads "
                                            "started)"),
    col("loaded_departures", "departures", "year", "departures that carried freight"),
    col("skipped_departures", "departures", "year", "timetable slots skipped by the "
                                                    "dispatch rule (min_load_share): too "
                                                    "little freight queued to board; not "
                                                    "in departures or capacity_teu"),
    col("teu", "TEU", "year", "TEU boarded"),
    col("capacity_teu", "TEU", "year", "TEU of capacity the departures offered (a "
                                       "continuous line: at its rate)"),
    col("load_factor", "share", label="TEU-km carried / TEU-km offered; empty where none "
                                      "was offered"),
    col("boarding_wait_mean_h", "h", label="mean wait of the TEU boarded, from ready at the "
                                           "stop to boarding (TEU-weighted); empty where "
                                           "none boarded (not a wait of 0: queue_end_teu "
                                           "counts what waits)"),
    col("queue_end_teu", "TEU", label="TEU waiting to board at the line's stops at the end")))


@mypyc_attr(allow_interpreted_subclasses=True)
class LineBase(Component):
    """What scheduled and continuous lines share: queues, hubs, hops and statistics.

    The runtime of one direction of a service (a `Line` of the plan)."""

    tables = (LINES,)

    def __init__(self, model: Model, line: Line) -> None:
        super().__init__(model)
        net = model.plan.network
        self.line = line
        self.windows = model.windows("service", line.service) + tuple(
            w for hop in line.hops for w in model.windows("link", hop.link.id))
        rng = self.stream(f"line:{line.id}")
        self.hubs: list[Hub] = [model.hubs[s] for s in line.stops]
        # vehicles travel away from China on this line (borders are directional)
        self.outbound = net.hubs[line.stops[0]].country == "CN"
        self.locks: list[Lock | None] = [
            model.locks[h.link.lock] if h.link.lock is not None else None for h in line.hops]
        # what crosses each hop is counted on its link, in the hop's direction
        self.hop_stats: list[HopStats] = [model.links[h.link.id].stats[h.direction]
                                          for h in line.hops]
        # each hop's km and running hours, read at every hop a vehicle runs: compiled, list
        # items rather than Python lookups of the hop's and its link's attributes
        self._km: list[float] = [h.link.km for h in line.hops]
        self._hours: list[float] = [h.link.hours for h in line.hops]
        self.queues: list[deque[Lot]] = [deque() for _ in line.stops]
        self.queued_teu = [0.0] * len(line.stops)
        # TEU at each boarding hub that will ride this line next: from arrival at the hub
        # (gate, handling, dwell, queue) until boarding. Freight held at a full yard's gate
        # counts, so route choice sees a backlog the queue alone would hide.
        self.booked_teu = [0.0] * len(line.stops)
        self.stats = LineStats()
        self.vehicles: set[Vehicle] = set()     # on the move: for the conservation check
        self._rng = rng
        self._running = gamma_sampler(rng, model.plan.variability.running_time_cv)
        self._points: dict[int, WaitPoint] = {}   # boarding stop -> its place (`wait_points`)

    def enqueue(self, stop: int, lot: Lot) -> None:
        """A lot is ready to board at stop index `stop`."""
        lot.ready = self.env._now
        self.queues[stop].append(lot)
        # not +=: compiled, += on a list's item adds as Python objects, this as doubles
        self.queued_teu[stop] = self.queued_teu[stop] + lot.teu

    def factor(self) -> tuple[float, float]:
        return factor_at(self.windows, self.env._now) if self.windows else (1.0, float("inf"))

    def _boarded(self, stop: int, lot: Lot, vehicle: Vehicle) -> None:
        now: float = self.env._now
        self.hubs[stop].yard.leave(lot.teu)
        self.booked_teu[stop] = self.booked_teu[stop] - lot.teu
        waited = now - lot.ready
        lot.wait += waited
        stats = self.stats
        stats.wait_sum += waited * lot.teu
        stats.teu += lot.teu
        lot.alight = lot.path.alights[lot.leg]
        lot.boarded = now
        if lot.leg == 0:
            self.model.recorder.departed(lot, now)
        vehicle.load(lot)

    def _count_hop(self, k: int, vehicle: Vehicle) -> float:
        """Count the freight a vehicle takes over hop k; return the hop's running hours."""
        stats = self.hop_stats[k]
        stats.teu += vehicle.teu
        stats.tonnes += vehicle.tonnes
        stats.vehicles += 1
        self.stats.teu_km += vehicle.teu * self._km[k]
        return self._hours[k]

    def _passes_lock(self, k: int, vehicle: Vehicle) -> bool:
        """Whether the vehicle goes through a lock on hop k (an empty vessel skips it)."""
        return (self.locks[k] is not None and vehicle.tonnes > 0
                and self.line.hops[k].lock_at is not None)

    def _run_hop(self, k: int, vehicle: Vehicle,
                 standing: float = 0.0) -> Generator[simpy.Event, object, None]:
        """Stand `standing` hours at the stop, then drive hop k (through its lock, if any);
        count the freight on it."""
        hours = self._running(self._count_hop(k, vehicle))
        hop: Hop = self.line.hops[k]
        lock = self.locks[k]
        if lock is None or hop.lock_at is None or not self._passes_lock(k, vehicle):
            yield self.env.timeout(standing + hours)
            return
        yield self.env.timeout(standing + hours * hop.lock_at)
        yield lock.pass_vessel(hop.direction, vehicle.tonnes)
        yield self.env.timeout(hours * (1.0 - hop.lock_at))

    def _idle_run(self, k: int, vehicle: Vehicle) -> bool:
        """Count the run of an empty vehicle over hop k, to the last stop, and say True when
        nothing waits for its arrival: no lot on board and no lock to pass (an empty vessel
        skips it). Its running time is still drawn, so the line's stream stays in step; no
        event is scheduled for an arrival at which nothing happens."""
        if vehicle.by_stop or vehicle.teu != 0.0 or self._passes_lock(k, vehicle):
            return False
        self._running(self._count_hop(k, vehicle))
        return True

    def excess_wait(self, stop: int) -> float:
        """Hours beyond the uncongested expectation a lot arriving at `stop` now would wait."""
        raise NotImplementedError

    def wait_points(self, board: int, alight: int) -> list[WaitPoint]:
        """Where a lot riding from stop `board` to `alight` may queue beyond the
        uncongested expectation: boarding here, and every lock on the way. One `WaitPoint`
        per place (the same object each time it is asked for), so route choice reads a
        place shared by several routes once."""
        points = [self._points.setdefault(board, Boarding(self, board))]
        for k in range(board, alight):
            lock = self.locks[k]
            if lock is not None:
                points.append(lock.wait_point(self.line.hops[k].direction))
        return points

    def capacity_teu(self, period: float) -> tuple[float, float]:
        """(TEU of capacity offered over `period` hours, the same times km)."""
        return self.stats.capacity, self.stats.capacity_km

    # --------------------------------------------------------------- component
    def reset_stats(self) -> None:
        self.stats = LineStats()

    def inventory(self) -> tuple[Iterable[float], Iterable[float]]:
        return ([v.teu for v in self.vehicles],
                [lot.teu for q in self.queues for lot in q])

    def rows(self, period: float, end: float) -> Iterator[tuple[str, Row]]:
        s = self.stats
        line = self.line
        spec = line.spec
        capacity, capacity_km = self.capacity_teu(period)
        yield "lines", {
            "line": line.id, "service": line.service, "corridor": spec.corridor,
            "mode": spec.mode, "schedule": spec.schedule, "departures": s.departures,
            "loaded_departures": s.loaded, "skipped_departures": s.skipped, "teu": s.teu,
            "capacity_teu": capacity,
            "load_factor": s.teu_km / capacity_km if capacity_km else math.nan,
            "boarding_wait_mean_h": s.wait_sum / s.teu if s.teu else math.nan,
            "queue_end_teu": sum(self.queued_teu)}


class Boarding(WaitPoint):
    """Boarding a line at one of its stops (`LineBase.excess_wait`)."""

    def __init__(self, line: LineBase, stop: int) -> None:
        self.line = line
        self.stop = stop

    def wait(self) -> float:
        """Hours beyond the uncongested expectation a lot boarding at this stop now would
        wait (`LineBase.excess_wait`)."""
        return self.line.excess_wait(self.stop)


@mypyc_attr(allow_interpreted_subclasses=True)
class ScheduledLine(LineBase):
    """Vehicles leave the first stop every headway and call at every stop in turn."""

    def __init__(self, model: Model, line: Line) -> None:
        super().__init__(model, line)
        assert isinstance(line.spec, ScheduledService)
        self.service: ScheduledService = line.spec
        # read at every look at the queue and every departure (a property of the spec,
        # computed in Python at each read)
        self._headway = line.spec.headway_hours
        self._next = Due(self._depart)   # the next departure (one due at a time: `again`)
        self._vehicle_teu = line.spec.vehicle_teu
        self._direct = len(line.stops) == 2     # one hop: an empty departure is counted
        # TEU of room a vehicle has had on arrival at each stop, before boarding there
        # (moving mean over its calls): a through vessel that reaches a stop nearly full
        # takes few of the boxes waiting there
        self.room = [float(line.spec.vehicle_teu)] * len(line.stops)
        # the dispatch rule (`ScheduledService.min_load_share`): the TEU that must be queued
        # at the line's stops for a slot to run (0: every slot runs, no look at the queues),
        # and the slots that may be skipped in a row before one runs with what there is
        self._hold_teu = line.spec.min_load_share * line.spec.vehicle_teu
        self._max_hold = line.spec.max_hold_slots or 0
        self._held_slots = 0        # slots skipped in a row
        # moving mean of the slots that ran (1) or were skipped (0), by the weight of
        # `room`: stretches the headway route choice expects (`excess_wait`)
        self._run_share = 1.0

    def start(self) -> None:
        begin(self.env, self._first)

    def excess_wait(self, stop: int) -> float:
        """Hours beyond half a headway that a lot arriving at `stop` now would wait: one
        headway for every vehicle's room (as vehicles have reached the stop of late) of
        freight at that hub ahead of it; no end when they have come full. Under the dispatch
        rule a gap between departures stands for the headway, and half of what it adds to
        one is waited too."""
        booked = self.booked_teu[stop]
        room = self.room[stop]
        if room < 1.0:
            return math.inf if booked > 0 else 0.0
        if self._hold_teu <= 0.0:
            return self._headway * (booked // room)
        # slots skipped by the dispatch rule: the mean gap between departures is a headway
        # over the share of slots that run, at most max_hold_slots + 1 headways while
        # freight waits; a lot waits half that gap (not half a headway) and a gap for each
        # vehicle's room ahead of it (an approximation: gaps that vary wait longer)
        gap = self._headway * (self._max_hold + 1)
        if self._run_share * (self._max_hold + 1) > 1.0:
            gap = self._headway / self._run_share
        return gap * (booked // room) + (gap - self._headway) / 2.0

    def _first(self, _event: object) -> None:
        """The first departure, at a uniform offset within a headway."""
        later(self.env, float(self._rng.uniform(0.0, self._headway)),
              self._depart)

    def _depart(self, _event: object) -> None:
        """A departure by the timetable. The next one is armed before this one runs, as when
        the timetable was a process that started each trip as a process (`drive`)."""
        again(self.env, self._headway, self._next)
        if self._hold_teu > 0.0 and self._skips():
            return
        if self._direct and not self.queues[0]:
            self._empty_run()
        else:
            drive(self._vehicle())

    def _skips(self) -> bool:
        """Whether the dispatch rule skips this slot, counted: fewer TEU queued at the
        line's stops than min_load_share of the vehicle that can run (its capacity at the
        slot, less than vehicle_teu during a disruption) and fewer than max_hold_slots slots
        skipped in a row, or nothing queued at all. Booked freight not yet queued (at the
        gate, in handling or dwell) does not count: it could not board at this slot. A slot
        a disruption cancels is neither run nor skipped (`_departure`)."""
        factor, _ = self.factor()
        if factor <= 0:
            return False
        queued = 0.0
        empty = True
        for k in range(len(self.queues)):
            if self.queues[k]:
                empty = False
                queued += self.queued_teu[k]
        # the share is of the vehicle that can run at this slot: a disruption's factor
        # below 1 runs a smaller one, which a load of the full vehicle_teu would overfill
        skip = empty or (queued < self._hold_teu * min(factor, 1.0)
                         and self._held_slots < self._max_hold)
        if skip:
            self._held_slots += 1
            self.stats.skipped += 1
            self._run_share += ROOM_WEIGHT * (0.0 - self._run_share)
        else:
            self._held_slots = 0
            self._run_share += ROOM_WEIGHT * (1.0 - self._run_share)
        return skip

    def _empty_run(self) -> None:
        """A departure of a one-hop line with nothing to board: what `_vehicle` counts for
        it (a departure, its capacity, an empty run of the hop with its running time drawn),
        without a generator and a vehicle (33,000 of 60,000 departures a year)."""
        capacity = self._departure()
        if capacity <= 0:
            return  # cancelled by a disruption
        self.hop_stats[0].capacity += capacity
        self.stats.capacity_km += capacity * self._km[0]
        self._idle_run(0, Vehicle())

    def _departure(self) -> float:
        """A departure by the timetable: its capacity (TEU), counted; 0 when a disruption
        cancels it."""
        factor, _ = self.factor()
        capacity = self._vehicle_teu * factor
        if capacity > 0:
            stats = self.stats
            stats.departures += 1
            stats.capacity += capacity
        return capacity

    def _vehicle(self) -> Generator[Wait, object, None]:
        env = self.env
        line = self.line
        spec = self.service
        capacity = self._departure()
        if capacity <= 0:
            return  # cancelled by a disruption
        stats = self.stats
        vehicle = Vehicle()
        self.vehicles.add(vehicle)
        loaded = False
        last = len(line.stops) - 1
        for k in range(last + 1):
            standing = 0.0
            hub = self.hubs[k]
            if k > 0:
                off = vehicle.unload(k)
                if off:
                    for lot in off:
                        self.model.recorder.rode(lot, env._now)
                        lot.leg += 1
                    hub.receive(off)
                if k == last:
                    break
                passing = hub.through(vehicle.teu, self.outbound, line.id)
                if passing is not None:  # a border: the vehicle is held there
                    yield from passing
                else:  # freight boards on arrival; the stop's time is run with the next hop
                    standing = spec.stop_hours
            hop_stats = self.hop_stats[k]
            queue = self.queues[k]
            room = capacity - vehicle.teu
            self.room[k] = self.room[k] + ROOM_WEIGHT * (room - self.room[k])
            while queue and room > 1e-9:
                lot = queue[0]
                if lot.teu <= room + 1e-9:
                    queue.popleft()
                else:
                    lot = lot.split(self.model.next_lot_id(), room)
                self.queued_teu[k] = self.queued_teu[k] - lot.teu
                self._boarded(k, lot, vehicle)
                room -= lot.teu
            if vehicle.teu > 0 and not loaded:
                loaded = True
                stats.loaded += 1
            hop_stats.capacity += capacity
            # the stats of now, not of the departure: a vehicle that left in the warm-up
            # offers its later hops to the period that counts their TEU-km (`_count_hop`)
            self.stats.capacity_km += capacity * self._km[k]
            if k + 1 == last and self._idle_run(k, vehicle):
                break
            if not self._passes_lock(k, vehicle):   # `_run_hop` without a lock, inline
                yield pause(env, standing + self._running(self._count_hop(k, vehicle)))
            else:
                yield from self._run_hop(k, vehicle, standing)
        self.vehicles.discard(vehicle)


@mypyc_attr(allow_interpreted_subclasses=True)
class ContinuousLine(LineBase):
    """Trucks or aircraft: freight leaves as fast as the line's TEU/day rate allows.

    A callback-driven server rather than a process: loading a lot is one timeout, and the
    run to the next hub is another (a process only when a lock lies on the way), so a lot
    costs about as many events here as in a bare SimPy queue.
    """

    def __init__(self, model: Model, line: Line) -> None:
        super().__init__(model, line)
        assert isinstance(line.spec, ContinuousService)
        self.service: ContinuousService = line.spec
        self.rate = self.service.capacity_teu_per_day / HOURS_PER_DAY
        self.busy = False       # a callback is due to load the next lot
        self.free_at = 0.0      # when the lot being loaded is aboard
        hop = self.line.hops[0]
        model.links[hop.link.id].offer(hop.direction, self)
        self._lock_free = self.locks[0] is None

    def offered_teu(self, period: float) -> float:
        """TEU of capacity offered over `period` hours, at the line's rate."""
        return self.service.capacity_teu_per_day * period / HOURS_PER_DAY

    def capacity_teu(self, period: float) -> tuple[float, float]:
        capacity = self.offered_teu(period)
        return capacity, capacity * self._km[0]

    def excess_wait(self, stop: int) -> float:
        """Hours to load the TEU at `stop` ahead of a lot arriving there now."""
        now: float = self.env._now      # typed: compiled, C doubles throughout
        return self.booked_teu[stop] / self.rate + max(0.0, self.free_at - now)

    def enqueue(self, stop: int, lot: Lot) -> None:
        super().enqueue(stop, lot)
        if self.busy:
            return
        self.busy = True
        wait = self.free_at - self.env._now
        if wait > 0:  # still loading the previous lot
            later(self.env, wait, self._load_next)
        else:
            self._load_next()

    def _load_next(self, _event: object = None) -> None:
        """Load the next lot and send it off; schedule another load only if one waits.

        The loader needs no event of its own when it falls idle: `free_at` says when it
        is free again, so an uncontended lot costs a single timeout on this line.
        """
        queue = self.queues[0]
        if not queue:
            self.busy = False
            return
        env = self.env
        factor, until = self.factor()
        if factor <= 0:  # closed: try again when the window ends
            later(env, until - env._now, self._load_next)
            return
        lot = queue.popleft()
        self.queued_teu[0] = self.queued_teu[0] - lot.teu
        vehicle = Vehicle()
        self.vehicles.add(vehicle)
        self._boarded(0, lot, vehicle)
        stats = self.stats
        stats.departures += 1
        stats.loaded += 1
        loading = lot.teu / (self.rate * factor)
        self.free_at = env._now + loading
        if queue:
            later(env, loading, self._load_next)
        else:
            self.busy = False
        self._depart(vehicle, loading)

    def _depart(self, vehicle: Vehicle, loading: float) -> None:
        if not self._lock_free:
            self.env.process(self._carry(vehicle, loading))
            return
        later(self.env, loading + self._running(self._count_hop(0, vehicle)),
              lambda _ev: self._arrived(vehicle, _ev))

    def _carry(self, vehicle: Vehicle, loading: float) -> Generator[simpy.Event, object, None]:
        yield self.env.timeout(loading)
        yield from self._run_hop(0, vehicle)
        self._arrive(vehicle)

    def _arrived(self, vehicle: Vehicle, _event: object) -> None:
        self._arrive(vehicle)

    def _arrive(self, vehicle: Vehicle) -> None:
        self.vehicles.discard(vehicle)
        off = vehicle.unload(1)
        for lot in off:
            self.model.recorder.rode(lot, self.env._now)
            lot.leg += 1
        self.hubs[1].receive(off)
