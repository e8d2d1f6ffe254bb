"""One replication: build runtime objects from a `Plan`, generate demand, run, collect.

Processes get their context explicitly (the `Model` they belong to); nothing is hung on the
simpy Environment and nothing is global.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Mapping, Sequence
from functools import partial

import simpy

from sim.engine.freight import Lot
from sim.engine.hub import Hub
from sim.engine.lines import ContinuousLine, HopStats, LineBase, ScheduledLine
from sim.engine.lock import DIRECTIONS, Lock
from sim.engine.recorder import Recorder, ReplicationResult
from sim.errors import ConservationError
from sim.network import Plan
from sim.rng import Draws, stream
from sim.routing import ChoiceSet, Route, choice_sets, choose
from sim.units import HOURS_PER_DAY, HOURS_PER_MONTH, HOURS_PER_YEAR

TOLERANCE_TEU = 1e-6


class Model:
    """All runtime state of one replication of a plan."""

    def __init__(self, plan: Plan, replication: int,
                 choices: Sequence[ChoiceSet] | None = None,
                 route_delay: Mapping[int, float] | None = None) -> None:
        self.plan = plan
        self.replication = replication
        # hours of delay per route index learnt from earlier passes (sim.equilibrium)
        self.route_delay = dict(route_delay or {})
        self.env = simpy.Environment()
        self.choices = tuple(choices) if choices is not None else choice_sets(plan)
        net = plan.network
        seed = plan.seed
        self.at_hubs: dict[int, Lot] = {}     # lots between arrival and onward queue
        self._lot_id = 0
        self.created_teu = 0.0
        self.delivered_teu = 0.0
        self.stats_from = plan.horizon.warmup_days * HOURS_PER_DAY
        self.recorder = Recorder(plan, self.choices, self.stats_from)
        self.locks = {
            hid: Lock(self, hub, net.lock_traffic.get(hid), net.windows("hub", hid),
                      stream(seed, replication, f"lock:{hid}"))
            for hid, hub in net.hubs.items() if hub.kind == "lock"}
        self.hubs = {
            hid: Hub(self, hub, net.windows("hub", hid), stream(seed, replication, f"hub:{hid}"),
                     plan.variability.dwell_cv)
            for hid, hub in net.hubs.items() if hub.kind != "lock"}
        self.hop_stats: dict[tuple[str, str], HopStats] = {
            (lid, d): HopStats() for lid in net.links for d in DIRECTIONS}
        self.lines: list[LineBase] = []
        for i, line in enumerate(net.lines):
            cls = ScheduledLine if line.spec.schedule == "scheduled" else ContinuousLine
            windows = net.windows("service", line.service) + tuple(
                w for hop in line.hops for w in net.windows("link", hop.link.id))
            self.lines.append(cls(self, i, line, windows,
                                  stream(seed, replication, f"line:{line.id}"),
                                  plan.variability.running_time_cv))
        self._wait_points = {r.index: self._waits(r) for cs in self.choices for r in cs.routes}

    def _waits(self, route: Route) -> tuple[Callable[[], float], ...]:
        """Where a route queues: boarding stops and locks, as expected-wait estimators."""
        points: list[Callable[[], float]] = []
        for leg in route.legs:
            line = self.lines[leg.line]
            points.append(partial(line.excess_wait, leg.board))
            for hop in line.line.hops[leg.board:leg.alight]:
                if hop.link.lock is not None:
                    points.append(partial(self.locks[hop.link.lock].excess_wait,
                                          hop.direction))
        return tuple(points)

    # ------------------------------------------------------------------ freight flow
    def next_lot_id(self) -> int:
        self._lot_id += 1
        return self._lot_id

    def forward(self, lot: Lot, hub: Hub) -> None:
        """A lot is cleared at `hub`: queue it for its next leg, or deliver it."""
        legs = lot.route.legs
        if lot.leg >= len(legs):
            hub.yard.leave(lot.teu)
            self.delivered_teu += lot.teu
            self.recorder.delivered(lot, self.env.now)
            return
        leg = legs[lot.leg]
        self.lines[leg.line].enqueue(leg.board, lot)

    def _extra_hours(self, routes: tuple[Route, ...]) -> list[float]:
        """Current waits beyond the uncongested expectation, per candidate route."""
        points = self._wait_points
        learnt = self.route_delay
        return [sum(wait() for wait in points[route.index]) + learnt.get(route.index, 0.0)
                for route in routes]

    def _demand(self, cs: ChoiceSet) -> Generator[simpy.Event, object, None]:
        """Poisson lot arrivals of one flow, rate following the monthly seasonality."""
        plan = self.plan
        flow = plan.flows[cs.flow]
        name = f"{flow.origin}>{flow.destination}:{flow.commodity}"
        arrivals = Draws(stream(plan.seed, self.replication,
                                f"demand:{name}").standard_exponential)
        choices = Draws(stream(plan.seed, self.replication, f"choice:{name}").random)
        tonnes = plan.classes[flow.commodity].tonnes_per_teu
        base_rate = flow.teu_per_year / plan.lot_teu / HOURS_PER_YEAR  # lots per hour
        season = plan.seasonality
        origin = self.hubs[flow.origin]
        scale = plan.routing.logit_scale
        max_extra = plan.routing.max_excess_wait_hours
        aware = plan.routing.congestion_aware and len(cs.routes) > 1
        env = self.env
        routes = cs.routes
        static = [self.route_delay.get(r.index, 0.0) for r in routes]
        extra, seen_until, refresh = static, 0.0, plan.routing.refresh_hours
        while True:
            now = env.now
            month = int(now // HOURS_PER_MONTH)
            boundary = (month + 1) * HOURS_PER_MONTH
            rate = base_rate * season[month % 12]
            gap = arrivals()
            if rate <= 0 or now + gap / rate >= boundary:
                yield env.timeout(boundary - now)  # memoryless: redraw in the next month
                continue
            yield env.timeout(gap / rate)
            u = choices()
            if aware and env.now >= seen_until:  # the congestion picture is refreshed
                extra = self._extra_hours(routes)  # every `refresh_hours`, not per lot
                seen_until = env.now + refresh
            route = routes[choose(cs, extra, u, scale, max_extra)]
            lot = Lot(self.next_lot_id(), cs.flow, route, plan.lot_teu, tonnes, env.now)
            self.created_teu += lot.teu
            self.recorder.created(lot)
            origin.receive([lot])

    # ------------------------------------------------------------------ running
    def _reset_stats(self) -> Generator[simpy.Event, object, None]:
        yield self.env.timeout(self.stats_from)
        for hub in self.hubs.values():
            hub.reset_stats()
        for lock in self.locks.values():
            lock.reset_stats()
        for line in self.lines:
            line.reset_stats()
        for key in self.hop_stats:
            self.hop_stats[key] = HopStats()

    def inventory(self) -> tuple[float, float]:
        """(TEU in transit on vehicles, TEU waiting at hubs and in queues), counted from state."""
        # fsum: the vehicles are a set (iterated in memory order), so a plain sum could differ
        # in its last bits between two runs of one seed
        in_transit = math.fsum(v.teu for line in self.lines for v in line.vehicles)
        waiting = math.fsum([*(lot.teu for lot in self.at_hubs.values()),
                             *(lot.teu for line in self.lines for q in line.queues for lot in q)])
        return in_transit, waiting

    def check_conservation(self) -> dict[str, float]:
        """Every TEU created is delivered, in transit or waiting; raise if not."""
        in_transit, waiting = self.inventory()
        residual = self.created_teu - self.delivered_teu - in_transit - waiting
        row = {"created_teu": self.created_teu, "delivered_teu": self.delivered_teu,
               "in_transit_teu": in_transit, "waiting_teu": waiting, "residual_teu": residual}
        if abs(residual) > TOLERANCE_TEU * max(1.0, self.created_teu):
            raise ConservationError(f"freight lost: {row}")
        return row

    def start(self) -> None:
        """Start every process (timetables, locks, demand); `run` calls it."""
        for lock in self.locks.values():
            lock.start()
        for line in self.lines:
            line.start()
        for cs in self.choices:
            self.env.process(self._demand(cs))
        if self.stats_from > 0:
            self.env.process(self._reset_stats())

    def run(self) -> ReplicationResult:
        """Simulate the horizon and return this replication's records."""
        self.start()
        end = self.plan.horizon.days * HOURS_PER_DAY
        self.env.run(until=end)
        conservation = self.check_conservation()
        return self.recorder.result(self, conservation, end)


def simulate(plan: Plan, replication: int = 0,
             choices: Sequence[ChoiceSet] | None = None,
             route_delay: Mapping[int, float] | None = None) -> ReplicationResult:
    """Run one replication of `plan` and return its records."""
    return Model(plan, replication, choices, route_delay).run()
