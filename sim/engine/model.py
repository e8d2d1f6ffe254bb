"""One replication: build runtime objects from a `Plan`, generate demand, run, collect.

Processes get their context explicitly (the `Model` they belong to); nothing is hung on the
simpy Environment and nothing is global.
"""

from __future__ import annotations

import gc
import math
from bisect import bisect_right
from collections.abc import Callable, Collection, Generator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import simpy

from sim.components import kind_of
from sim.engine.component import Component, WaitPoint
from sim.engine.daily import day_span
from sim.engine.freight import Lot, Path
from sim.engine.hub import Hub
from sim.engine.lines import LineBase
from sim.engine.links import Link
from sim.engine.lock import Lock
from sim.engine.logit import cumulative, offered, probabilities
from sim.engine.loop import Poisson, begin, run_until
from sim.engine.recorder import Recorder, ReplicationResult
from sim.engine.windows import inside
from sim.errors import ConservationError
from sim.network import EventKey, Plan
from sim.rng import draws, stream
from sim.routing import ChoiceSet, Route, choice_sets, weights
from sim.specs import Spec
from sim.units import HOURS_PER_DAY, HOURS_PER_YEAR

TOLERANCE_TEU = 1e-6
MAX_PICTURES = 4096     # choice weights kept per flow, by congestion picture seen

# a flow's places to queue (indices into the model's places), and per candidate route the
# positions of its places among the flow's
Waits = tuple[tuple[int, ...], tuple[tuple[int, ...], ...]]
# cumulative choice weights of a flow's routes, and which of them were offered
Picked = tuple[list[float], tuple[bool, ...]]


def nearest(x: float) -> int:
    """`round(x)`, ties to even, the same int: compiled, `math.floor` is a C call where the
    builtin `round` is looked up and called as a Python object (`Model.picture` rounds
    about a million waits a year). x - floor(x) is exact for any finite double."""
    whole = math.floor(x)
    rest = x - whole
    if rest > 0.5 or (rest == 0.5 and whole % 2 == 1):
        return whole + 1
    return whole


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while the event loop runs, back on after.

    A run allocates hundreds of thousands of short-lived objects (events, lots, callbacks)
    that reference counting frees, and makes no reference cycles (checked with
    `gc.DEBUG_SAVEALL` on a baseline year: none); the collector's passes over the whole heap
    took about a sixth of a run's time for nothing. Whatever cycles a run did make are
    collected once it is on again."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class Model:
    """All runtime state of one replication of a plan."""

    def __init__(self, plan: Plan, replication: int,
                 choices: Sequence[ChoiceSet] | None = None,
                 route_delay: Mapping[int, float] | None = None,
                 route_spread: Mapping[int, float] | None = None,
                 route_delay_event: Mapping[int, float] | None = None,
                 event_until: Mapping[EventKey, float] | None = None) -> None:
        self.plan = plan
        self.replication = replication
        # hours of delay per route index learnt from earlier passes that the congestion
        # picture at booking does not foresee: route choice adds them to it (sim.equilibrium)
        self.route_delay = dict(route_delay or {})
        # the same, learnt from the lots booked while a dated event was in force on their
        # route: what route choice adds to a route in its events' hours (the recorder's
        # `spans`; a route not learnt there keeps its usual delay)
        self.route_delay_event = dict(route_delay_event or {})
        # hours of spread (SD of transit) per route index, learnt likewise (market choice)
        self.route_spread = dict(route_spread or {})
        self.env = simpy.Environment()
        self.choices = tuple(choices) if choices is not None else choice_sets(plan)
        net = plan.network
        self._lot_id = 0
        # the key of each flow (`Flow.key`), by index: what names a flow's random streams
        self.flow_keys: tuple[str, ...] = tuple(f.key for f in plan.flows)
        self.created_teu = 0.0
        self.delivered_teu = 0.0
        self.stats_from = plan.horizon.warmup_days * HOURS_PER_DAY
        # each route's dated events, until their backlogs cleared (`event_until`)
        self.recorder = Recorder(plan, self.choices, self.stats_from, event_until)
        # days of the statistics period, for the components' daily series
        self.first_day, self.days = day_span(self.stats_from, plan.horizon.days * HOURS_PER_DAY)
        self._days_closed = 0
        # one runtime object per component, of the class its kind registers; locks, hubs and
        # links first (lines hold references to them), then lines in the plan's order (a
        # lot's legs name lines by that index)
        self.locks: dict[str, Lock] = {i: self._build(s) for i, s in net.locks.items()}
        self.hubs: dict[str, Hub] = {i: self._build(s) for i, s in net.hubs.items()}
        self.links: dict[str, Link] = {i: self._build(s) for i, s in net.links.items()}
        self.lines: list[LineBase] = [
            kind_of(line.spec).runtime_class()(self, line) for line in net.lines]
        self.background: list[Component] = [self._build(s) for s in net.background.values()]
        self.components: list[Component] = [
            *self.locks.values(), *self.hubs.values(), *self.links.values(), *self.lines,
            *self.background]
        self._wait_points = {r.index: self._waits(r) for cs in self.choices for r in cs.routes}
        # every place to queue route choice reads (`picture`), by index
        self._places: list[WaitPoint] = []
        self._place_index: dict[int, int] = {}
        self._grid = plan.routing.wait_resolution_hours
        self._daily = [part for part in self.components
                       if type(part).close_day is not Component.close_day]

    def _build(self, spec: Spec) -> Any:
        """The runtime object of a spec, of the class its kind registers."""
        return kind_of(spec).runtime_class()(self, spec)

    def windows(self, kind: str, ident: str) -> tuple[tuple[float, float, float], ...]:
        """Capacity windows of a component in this replication (fixed and drawn)."""
        plan = self.plan
        return plan.network.windows(kind, ident, plan.seed, self.replication,
                                    plan.horizon.days * HOURS_PER_DAY)

    def stream(self, name: str) -> np.random.Generator:
        """Random stream `name` of this replication (`sim.rng`)."""
        return stream(self.plan.seed, self.replication, name)

    @property
    def at_hubs(self) -> dict[int, Lot]:
        """Lots at hubs between arrival and their onward queue, by lot id: a new dict,
        gathered from every hub's own at each call (a snapshot, not a view)."""
        return {i: lot for hub in self.hubs.values() for i, lot in hub.lots.items()}

    def _waits(self, route: Route) -> tuple[WaitPoint, ...]:
        """Where a route queues (boarding stops, locks), as expected-wait estimators."""
        return tuple(point for leg in route.legs
                     for point in self.lines[leg.line].wait_points(leg.board, leg.alight))

    # ------------------------------------------------------------------ freight flow
    def next_lot_id(self) -> int:
        """A new lot's id: 1, 2, ... in the order lots are made (created or split)."""
        self._lot_id += 1
        return self._lot_id

    def forward(self, lot: Lot, hub: Hub) -> None:
        """A lot is cleared at `hub`: queue it for its next leg, or deliver it."""
        path = lot.path
        leg = lot.leg
        if leg >= len(path.lines):
            hub.yard.leave(lot.teu)
            self.delivered_teu += lot.teu
            self.recorder.delivered(lot, self.env._now)
            return
        self.lines[path.lines[leg]].enqueue(path.boards[leg], lot)

    def _waits_of(self, routes: tuple[Route, ...]) -> Waits:
        """Where a flow's candidate routes queue: each place once (routes share their first
        boarding, a lock), as indices into the model's places, and per route the positions
        of its places among the flow's in order."""
        index: dict[int, int] = {}
        places: list[int] = []
        per_route = []
        for r in routes:
            at = []
            for point in self._wait_points[r.index]:
                k = index.get(id(point))
                if k is None:
                    k = index[id(point)] = len(places)
                    places.append(self._place(point))
                at.append(k)
            per_route.append(tuple(at))
        return tuple(places), tuple(per_route)

    def _place(self, point: WaitPoint) -> int:
        """The model's index of a place to queue (one per estimator object)."""
        k = self._place_index.get(id(point))
        if k is None:
            k = self._place_index[id(point)] = len(self._places)
            self._places.append(point)
        return k

    def picture(self, places: tuple[int, ...]) -> tuple[float, ...]:
        """The congestion picture at `places` now: each place's extra wait (hours), rounded
        to `routing.wait_resolution_hours` (assumption: shippers book on waits in whole
        hours; a picture seen before then has its choice weights cached)."""
        grid = self._grid
        every = self._places
        if grid <= 0:
            return tuple([every[k].wait() for k in places])
        out = []
        for k in places:
            x = every[k].wait()
            out.append(nearest(x / grid) * grid if x != math.inf else x)
        return tuple(out)

    @staticmethod
    def _live_hours(waits: Waits, picture: tuple[float, ...]) -> list[float]:
        """Waits beyond the uncongested expectation that the picture of the flow's places
        shows, per candidate route (a route's waits added in its own order, from 0 as `sum`
        adds: typed, the additions are C doubles)."""
        live: list[float] = []
        for at in waits[1]:
            total = 0.0
            for k in at:
                total += picture[k]
            live.append(total)
        return live

    def _picker(self, cs: ChoiceSet, event: tuple[bool, ...] = ()
                ) -> Callable[[list[float]], Picked]:
        """Cumulative choice weights of a flow's routes given the hours queued beyond normal
        that the congestion picture shows on each: the nested logit over gateways for a
        market flow (`sim.market.choice`), else the relative-cost logit of
        `sim.routing.weights`, on the queued hours plus the delay learnt for each route that
        the picture does not foresee; a route queued beyond `max_excess_wait_hours` is not
        offered (which routes were is returned beside the weights). Called when the picture
        is refreshed, so a lot is drawn from cached weights. `event`: which routes have a
        dated event in force (their delays learnt in events apply; none: every route's usual
        delay)."""
        plan = self.plan
        flow = plan.flows[cs.flow]
        routes = cs.routes
        vot = cs.value_of_time
        max_extra = plan.routing.max_excess_wait_hours
        learnt = [self.route_delay.get(r.index, 0.0) for r in routes]
        if any(event):
            learnt = [self.route_delay_event.get(r.index, d) if on else d
                      for r, d, on in zip(routes, learnt, event, strict=True)]
        if flow.market and plan.market is not None:
            # imported here: sim.market.choice imports the engine (`sim.engine.logit`)
            from sim.market.choice import flow_nests

            choice = plan.market.section.choice
            nests = flow_nests(plan, cs)
            rr = choice.reliability_ratio
            static: list[float] = [
                r.generalized_cost(vot, learnt[k], rr * self.route_spread.get(r.index, 0.0))
                for k, r in enumerate(routes)]

            def nested(queued: list[float]) -> Picked:
                # by position (one queued figure per route): compiled, C doubles, where a
                # zip is a call of the builtin and an iterator step per route; the lengths
                # checked once, as zip(strict=True) did, not truncated
                if len(queued) != len(static):
                    raise ValueError(f"{len(queued)} queued hours for {len(static)} routes")
                open_ = offered(queued, max_extra)
                # the queued hours' cost on top of each route's (`Route.generalized_cost`,
                # reckoned once per picker): no call per route at each new picture, and the
                # floats the tables were made with (cost + vot x queued, which is not
                # vot x (hours + queued) to the last bit)
                costs: list[float] = [static[k] + vot * queued[k] for k in range(len(static))]
                probs, _ = probabilities(nests, costs, open_)
                return cumulative(probs), tuple(open_)
            return nested
        scale = plan.routing.logit_scale

        def plain(queued: list[float]) -> Picked:
            open_ = offered(queued, max_extra)
            extra = [x + d for x, d in zip(queued, learnt, strict=True)]
            return cumulative(weights(cs, extra, scale, open_=open_)), tuple(open_)
        return plain

    def _demand(self, cs: ChoiceSet) -> _Arrivals:
        """Poisson lot arrivals of one flow, rate following the monthly seasonality."""
        return _Arrivals(self, cs)

    # ------------------------------------------------------------------ running
    def _reset_stats(self) -> Generator[simpy.Event, object, None]:
        yield self.env.timeout(self.stats_from)
        for part in self.components:
            part.reset_stats()

    def inventory(self) -> tuple[float, float]:
        """(TEU in transit on vehicles, TEU waiting at hubs and in queues), as every component
        counts it from its own state."""
        moving: list[float] = []
        held: list[float] = []
        for part in self.components:
            on_vehicles, waiting_here = part.inventory()
            moving.extend(on_vehicles)
            held.extend(waiting_here)
        # fsum: exact whatever the order (vehicles are a set, iterated in memory order, so a
        # plain sum could differ in its last bits between two runs of one seed)
        return math.fsum(moving), math.fsum(held)

    def check_conservation(self) -> dict[str, float]:
        """Every TEU created is delivered, in transit or waiting; raise if not."""
        in_transit, waiting = self.inventory()
        residual = self.created_teu - self.delivered_teu - in_transit - waiting
        row = {"created_teu": self.created_teu, "delivered_teu": self.delivered_teu,
               "in_transit_teu": in_transit, "waiting_teu": waiting, "residual_teu": residual}
        if abs(residual) > TOLERANCE_TEU * max(1.0, self.created_teu):
            raise ConservationError(f"freight lost: {row}")
        return row

    def _close_days(self, until: float) -> None:
        """Tell every component with a daily series that each day ending by `until` is over."""
        daily = self._daily
        while self._days_closed < self.days:
            day = self.first_day + self._days_closed
            if (day + 1) * HOURS_PER_DAY > until + 1e-9:
                break
            for part in daily:
                part.close_day(day)
            self._days_closed += 1

    def _day_clock(self) -> Generator[simpy.Event, object, None]:
        """Close each day of the statistics period at its end (the last one after the run:
        the run stops before events at its end time)."""
        for k in range(self.days):
            yield self.env.timeout((self.first_day + k + 1) * HOURS_PER_DAY - self.env._now)
            self._close_days(self.env._now)

    def start(self) -> None:
        """Start every process (lock lanes, timetables, demand); `run` calls it."""
        for part in self.components:
            part.start()
        if self.days:
            self.env.process(self._day_clock())
        for cs in self.choices:
            begin(self.env, self._demand(cs).clock.next)
        if self.stats_from > 0:
            self.env.process(self._reset_stats())

    def run(self, tables: Collection[str] | None = None) -> ReplicationResult:
        """Simulate the horizon and return this replication's records (every table, or
        those named in `tables`)."""
        self.advance()
        return self.finish(tables)

    def advance(self) -> None:
        """Start every process and simulate the horizon: the state before the end-of-run
        tables (`benchmarks.memory` measures it there)."""
        self.start()
        with gc_paused():
            run_until(self.env, self.plan.horizon.days * HOURS_PER_DAY)

    def finish(self, tables: Collection[str] | None = None) -> ReplicationResult:
        """Close the last days, check that no freight was lost and return the records."""
        end = self.plan.horizon.days * HOURS_PER_DAY
        self._close_days(end)
        conservation = self.check_conservation()
        return self.recorder.result(self, conservation, end, tables)


class _Arrivals:
    """The lot arrivals of one flow: a Poisson stream whose rate follows the monthly
    seasonality, each lot drawn a route from the flow's choice weights, re-read from the
    queues every `routing.refresh_hours`. Callbacks re-armed with `later`, in the order of
    the generator process they replace (`sim.engine.loop`)."""

    __slots__ = ("model", "cs", "env", "clock", "choices", "tonnes", "origin", "aware",
                 "paths", "waits", "pick", "entry",
                 "seen_until", "refresh", "last", "lot_teu", "picture", "weights", "patterns",
                 "spans", "bounds", "next_bound", "pattern", "regimes")

    def __init__(self, model: Model, cs: ChoiceSet) -> None:
        plan = model.plan
        flow = plan.flows[cs.flow]
        name = flow.key
        self.model = model
        self.cs = cs
        self.env = model.env
        self.choices = draws(stream(plan.seed, model.replication, f"choice:{name}").random)
        self.tonnes = plan.classes[flow.commodity].tonnes_per_teu
        self.lot_teu = plan.lot_teu_of(flow.commodity)
        self.clock = Poisson(model.env, flow.teu_per_year / self.lot_teu / HOURS_PER_YEAR,
                             plan.seasonality, draws(stream(
                                 plan.seed, model.replication,
                                 f"demand:{name}").standard_exponential), self.arrive)
        self.origin = model.hubs[flow.origin]
        self.aware = plan.routing.congestion_aware and len(cs.routes) > 1
        routes = cs.routes
        self.paths = tuple(Path(r) for r in routes)     # what a lot reads of its route
        self.waits = model._waits_of(routes)
        self.pick = model._picker(cs)
        self.last = len(routes) - 1
        # each pattern of routes offered once (most entries share a few)
        self.patterns: dict[tuple[bool, ...], tuple[bool, ...]] = {}
        # what a lot is drawn from, as one tuple (`_entry`): the routes offered, the
        # cumulative choice weights and the hours of queueing foreseen per route (the first
        # picture: none)
        self.entry = self._entry(*self.pick([0.0] * len(routes)), [0.0] * len(routes))
        self.seen_until, self.refresh = 0.0, plan.routing.refresh_hours
        self.picture: tuple[float, ...] | None = None
        # the entry of each picture seen (pictures recur: most places read 0 most days).
        # About 30,000 a year, each one tuple of numbers and a shared pattern: the garbage
        # collector stops tracking such a tuple the first time it sees it, where lists (or
        # three tuples an entry) it would go through at every collection after the run
        self.weights: dict[tuple[float, ...], tuple[Any, ...]] = {}
        # each route's dated events (`sim.routing.dated_spans`), the hours at which which of
        # them are in force may change, and per pattern of routes in an event the picker,
        # first entry and cache of entries (`_regime`): the delays learnt differ
        known = model.recorder.spans
        self.spans = tuple(known.get(r.index, ()) for r in routes) if known else ()
        self.bounds = sorted({t for spans in self.spans for span in spans for t in span})
        self.next_bound = self.bounds[0] if self.bounds else math.inf
        self.pattern = (False,) * len(routes)
        self.regimes: dict[tuple[bool, ...], tuple[Any, ...]] = {
            self.pattern: (self.pick, self.entry, self.weights)}

    def _entry(self, cum: list[float], open_: tuple[bool, ...],
               foreseen: list[float]) -> tuple[Any, ...]:
        """(routes offered, cumulative weight of each route..., hours foreseen on each
        route...)."""
        return (self.patterns.setdefault(open_, open_), *cum, *foreseen)

    def arrive(self, _event: object) -> None:
        """A lot arrives: its route drawn from the choice weights, refreshed from the
        congestion picture every `refresh_hours`, not per lot."""
        env = self.env
        model = self.model
        u = self.choices()
        if env._now >= self.next_bound:
            self._regime(env._now)
        if self.aware and env._now >= self.seen_until:  # the congestion picture is
            self.seen_until = env._now + self.refresh    # refreshed every `refresh_hours`
            picture = model.picture(self.waits[0])
            if picture != self.picture:
                self.picture = picture
                known = self.weights.get(picture)
                if known is None:
                    if len(self.weights) >= MAX_PICTURES:
                        self.weights.clear()
                    live = model._live_hours(self.waits, picture)
                    # a halted lock shows no end: foreseen as the rebooking bound
                    bound = model.plan.routing.max_excess_wait_hours
                    known = self.weights[picture] = self._entry(
                        *self.pick(live), [x if x < math.inf else bound for x in live])
                self.entry = known
        entry = self.entry
        n = self.last + 1
        # the cumulative weights are entry[1:n + 1]
        k = min(bisect_right(entry, u * entry[n], 1, n + 1) - 1, self.last)
        lot = Lot(model.next_lot_id(), self.cs.flow, self.paths[k], self.lot_teu,
                  self.tonnes, env._now)
        lot.foreseen = entry[1 + n + k]
        model.created_teu += lot.teu
        model.recorder.created(lot, entry[0])
        self.origin.receive([lot])
        self.clock.next()

    def _regime(self, now: float) -> None:
        """At a bound of the routes' dated events: which routes have one in force now; on a
        change, the picker, entry and cache of that pattern, and the picture read afresh."""
        pattern = tuple(inside(spans, now) for spans in self.spans)
        later = bisect_right(self.bounds, now)
        self.next_bound = self.bounds[later] if later < len(self.bounds) else math.inf
        if pattern == self.pattern:
            return
        self.pattern = pattern
        known = self.regimes.get(pattern)
        if known is None:
            pick = self.model._picker(self.cs, pattern)
            zeros = [0.0] * len(self.paths)
            known = self.regimes[pattern] = (pick, self._entry(*pick(zeros), zeros), {})
        self.pick, self.entry, self.weights = known
        self.picture = None
        self.seen_until = 0.0


def simulate(plan: Plan, replication: int = 0,
             choices: Sequence[ChoiceSet] | None = None,
             route_delay: Mapping[int, float] | None = None,
             route_spread: Mapping[int, float] | None = None,
             tables: Collection[str] | None = None,
             route_delay_event: Mapping[int, float] | None = None,
             event_until: Mapping[EventKey, float] | None = None) -> ReplicationResult:
    """Run one replication of `plan` and return its records (every table, or those named
    in `tables`).

    The model is a web of references (components, processes, the event queue and the model
    point at each other), so reference counting cannot free it: it is dropped while the
    collector is still paused and the youngest generation, where a run's objects all are,
    is collected at once. Left to the collector, each finished model reached the oldest
    generation first and stayed there: every feedback pass kept its predecessor's memory
    (about 30 MB per 120-day pass of baseline-2023, 85 MB per year)."""
    with gc_paused():
        model = Model(plan, replication, choices, route_delay, route_spread, route_delay_event,
                      event_until)
        result = model.run(tables)
        del model
    gc.collect(0)
    return result
