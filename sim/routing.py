"""Candidate routes by generalized cost, and a logit choice among them that feels congestion.

A route is a sequence of legs; a leg rides one line from a boarding stop to an alighting
stop. Generalized cost = tariff + value of time x expected time (waits, running, stops,
borders, locks, handling and dwell). Candidate routes are the k cheapest simple paths on a
graph whose nodes are hubs and legs, so parallel services between two hubs stay distinct.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import warnings
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING

from sim import cache
from sim.errors import InputError
from sim.market.spec import Choice, Gateway
from sim.network import UNJOINED, EventKey, Line, Plan, merge_spans
from sim.specs import Flow, HubSpec
from sim.units import HOURS_PER_DAY

# networkx and igraph are imported where the routes are found: a command stopped by bad
# input never gets there, and igraph's import (it brings matplotlib) took a second of the
# two and a half `cqsim run` spent on a file it refused
if TYPE_CHECKING:
    import networkx as nx


@dataclass(frozen=True, slots=True)
class Leg:
    """Ride line `line` (index into the network's lines) from stop `board` to `alight`."""

    line: int
    board: int
    alight: int


@dataclass(frozen=True)
class Route:
    """One candidate route of a flow, with its static (uncongested) figures per TEU."""

    index: int
    legs: tuple[Leg, ...]
    hubs: tuple[str, ...]
    corridor: str
    km: float
    price_cny: float
    base_hours: float
    co2_kg_per_t: float
    gateway: str = ""          # the gateway a market flow's route belongs to, else its corridor

    def generalized_cost(self, vot: float, delay: float = 0.0, spread: float = 0.0) -> float:
        """Generalized cost, CNY/TEU, at value of time `vot`: tariff and transfers, and `vot` x
        the expected hours, with `delay` (hours beyond normal: learnt, queued) and `spread`
        (a market flow's reliability ratio x its learnt spread) added in that order. The one
        home of the formula: route choice (`weights`), demand (`sim.demand.flow_costs`,
        `route_costs`) and the engine's pickers read it here; the additions keep the order
        the callers wrote them in (base hours + delay + spread), so the floats are as they
        were (x + 0.0 is x)."""
        return self.price_cny + vot * (self.base_hours + delay + spread)


@dataclass(frozen=True)
class ChoiceSet:
    """The candidate routes of one flow (origin, destination, commodity)."""

    flow: int
    value_of_time: float
    routes: tuple[Route, ...]


def dated_spans(plan: Plan, route: Route, until: Mapping[EventKey, float] | None = None
                ) -> tuple[tuple[float, float], ...]:
    """The hours in which a dated event is in force at a part of `route` (its hubs, and the
    services it rides with their stops, links and locks): the route's own events, which
    route choice learns apart (`Network.dated_spans`). A line's vehicles feel every window
    of its service, its links and the hubs they stop or pass at (a border holds a train
    that goes through), on the stretch ridden or not, so all of them count. `until`: the
    hours the events' backlogs cleared (`Network.dated_spans`)."""
    return plan.network.dated_spans(route_parts(plan, route), until)


def route_parts(plan: Plan, route: Route) -> set[tuple[str, str]]:
    """The parts (kind, id) whose capacity windows a route's freight feels: its hubs, and the
    services it rides with their stops, links and locks (`dated_spans`)."""
    net = plan.network
    parts: set[tuple[str, str]] = {("hub", h) for h in route.hubs}
    for leg in route.legs:
        line = net.lines[leg.line]
        parts.add(("service", line.service))
        parts.update(("hub", stop) for stop in line.stops)
        for hop in line.hops:
            parts.add(("link", hop.link.id))
            if hop.link.lock:
                parts.add(("lock", hop.link.lock))
    return parts


def shut_throughout(plan: Plan, route: Route) -> bool:
    """Whether `route` is shut (disruptions at capacity factor 0) over the whole statistics
    period, by one part or by closures of its parts that overlap or follow back to back:
    its freight can then only wait."""
    start = plan.horizon.warmup_days * HOURS_PER_DAY
    end = plan.horizon.days * HOURS_PER_DAY
    shut = merge_spans((a, b) for part in route_parts(plan, route)   # back to back: one
                       for a, b, factor in plan.network.disruptions.get(part, ()) if factor == 0)
    return any(a <= start and b >= end for a, b in shut)


def handling_hours(hub: HubSpec, teu: float) -> float:
    """Expected hours to handle `teu` at a hub, once a position is free, plus its expected
    dwell (`HubSpec.expected_dwell_hours`: a kind may add to the mean dwell)."""
    return hub.mean_handling_hours(teu) + hub.expected_dwell_hours()


def _leg_figures(plan: Plan, line: Line, board: int,
                 alight: int) -> tuple[float, float, float, float]:
    """(km, price CNY/TEU, expected hours, kg CO2 per t) of riding `line` from board to
    alight."""
    net = plan.network
    spec = line.spec
    hops = line.hops[board:alight]
    km = sum(h.link.km for h in hops)
    price = spec.price_cny_per_teu * km / line.km
    hours = spec.boarding_hours(plan.lot_teu)
    for k, hop in enumerate(hops):
        hours += hop.link.hours
        if hop.link.lock is not None:
            hours = net.locks[hop.link.lock].expected_hours(hours)
        if k + 1 < len(hops):  # an intermediate stop passed through
            hours = net.hubs[line.stops[board + k + 1]].pass_through_hours(hours, spec)
    co2 = sum(h.link.km * net.emission_factors[h.link.mode].g_per_tkm for h in hops) / 1000.0
    return km, price, hours, co2


def _graph(plan: Plan, vot: float) -> nx.DiGraph:
    """Hubs and legs, weighted by generalized cost for value of time `vot`.

    A path's weight is its route's generalized cost (`_route`) plus the transfer cost less
    the origin's handling: each leg pays a transfer, the first included, and handling where
    it alights, and the origin's is nowhere. For one flow that is a constant, so its paths
    come in the order of their routes' costs; `_routes` takes the cost ratio on the routes.

    Freight is not re-booked where trains change gauge, so a leg that starts or ends at such
    a border is left out unless a flow starts or ends there: fewer dead-end paths to
    enumerate.
    """
    hubs = plan.network.hubs
    ends = {f.origin for f in plan.flows} | {f.destination for f in plan.flows}

    def usable(stop: str) -> bool:
        return hubs[stop].transfers or stop in ends

    import networkx as nx

    g = nx.DiGraph()
    for li, line in enumerate(plan.network.lines):
        n = len(line.stops)
        for i in range(n - 1):
            if not usable(line.stops[i]):
                continue
            for j in range(i + 1, n):
                if not usable(line.stops[j]):
                    continue
                _, price, hours, _ = _leg_figures(plan, line, i, j)
                alight = plan.network.hubs[line.stops[j]]
                node = ("leg", li, i, j)
                transfer = plan.routing.transfer_cost_cny
                g.add_edge(line.stops[i], node, w=price + transfer + vot * hours)
                g.add_edge(node, line.stops[j],
                           w=vot * handling_hours(alight, plan.lot_teu))
    return g


def _route(plan: Plan, index: int, legs: tuple[Leg, ...], origin: str,
           gateway: str | None = None) -> Route:
    """Route `index`, from `origin` by `legs`, with its figures per TEU: handling at the
    origin and where each leg alights, a transfer cost between legs, the corridor it counts
    for (`_channel`)."""
    net = plan.network
    price = co2 = 0.0
    hours = handling_hours(net.hubs[origin], plan.lot_teu)
    km_by_corridor: dict[str, float] = {}
    hubs = [origin]
    km = 0.0
    for leg in legs:
        line = net.lines[leg.line]
        leg_km, p, h, c = _leg_figures(plan, line, leg.board, leg.alight)
        stop = line.stops[leg.alight]
        price, hours, co2 = price + p, hours + h + handling_hours(
            net.hubs[stop], plan.lot_teu), co2 + c
        km += leg_km
        km_by_corridor[line.spec.corridor] = km_by_corridor.get(line.spec.corridor, 0.0) + leg_km
        hubs.append(stop)
    price += plan.routing.transfer_cost_cny * (len(legs) - 1)
    corridor = _channel(plan, km_by_corridor, gateway)
    return Route(index=index, legs=legs, hubs=tuple(hubs), corridor=corridor, km=km,
                 price_cny=price, base_hours=hours, co2_kg_per_t=co2,
                 gateway=gateway if gateway is not None else corridor)


def _channel(plan: Plan, km_by_corridor: Mapping[str, float], gateway: str | None) -> str:
    """The corridor a route counts for: of its gateway's own corridors (the inland channel a
    shipper chose: trucks to Shanghai are the coastal gateway's even where the sea leg, on a
    ship of the `east` corridor, is longer), else of all but the feeders, the one it rides
    furthest."""
    own: set[str] = set()
    if gateway is not None and plan.market is not None:
        spec = plan.market.section.gateways.get(gateway)
        own = set(spec.corridors) if spec is not None else {gateway}
    main = ({k: v for k, v in km_by_corridor.items() if k in own}
            or {k: v for k, v in km_by_corridor.items() if k != "feeder"} or km_by_corridor)
    return max(main, key=lambda k: main[k])


def needless_transfer(plan: Plan, legs: tuple[Leg, ...]) -> bool:
    """True when a change of service buys nothing or is not offered: the first vehicle runs
    on to the second one's next hub, the second one already called at the first one's
    boarding hub by the same stops, or the change would be at a gauge-change border."""
    lines = plan.network.lines
    for a, b in pairwise(legs):
        first, second = lines[a.line].stops, lines[b.line].stops
        if not plan.network.hubs[first[a.alight]].transfers:
            return True  # gauge-change borders pass through trains; no re-booking there
        if a.alight + 1 < len(first) and b.board + 1 < len(second) and \
                first[a.alight + 1] == second[b.board + 1]:
            return True
        back = b.board - (a.alight - a.board)
        if back >= 0 and second[back:b.board + 1] == first[a.board:a.alight + 1]:
            return True
    return False


HOME_KM = 100.0
"""assumption: hubs within 100 km of a flow's origin or destination are its city's (Chongqing's
zone, Guoyuan, Tuanjiecun and Jiangbei lie within 30 km of each other; Chengdu is 270 km
away)."""


def _km(a: HubSpec, b: HubSpec) -> float:
    """Great-circle distance between two hubs, km."""
    p = math.pi / 180.0
    h = (math.sin((b.lat - a.lat) * p / 2) ** 2
         + math.cos(a.lat * p) * math.cos(b.lat * p) * math.sin((b.lon - a.lon) * p / 2) ** 2)
    return 12742.0 * math.asin(math.sqrt(h))


def near(plan: Plan, hub: str) -> frozenset[str]:
    """The hubs of `hub`'s city: those within `HOME_KM` of it."""
    hubs = plan.network.hubs
    at = hubs[hub]
    return frozenset(h for h, spec in hubs.items() if _km(spec, at) < HOME_KM)


def doubles_back(plan: Plan, origin: str, legs: Sequence[Leg], home: frozenset[str],
                 away: frozenset[str]) -> bool:
    """True when a route's stops, those it passes included, come back to the origin's city
    (`home`) after leaving it, or reach the destination's city (`away`) before arriving:
    trucked to Shanghai, railed back to Chongqing, then the train to Moscow, or by river past
    Nanjing to Shanghai and back, is a detour no shipper books. So is a route between two
    countries that comes back into the origin's country after leaving it, or leaves the
    destination's after reaching it (`recrosses`): trucked to Hanoi, then flown back to Pudong
    and on to Los Angeles."""
    lines = plan.network.lines
    stops = [origin]
    for leg in legs:
        on = lines[leg.line].stops[leg.board:leg.alight + 1]
        stops += on[1:] if on[0] == stops[-1] else on
    left = next((k for k, h in enumerate(stops) if h not in home), len(stops))
    arrived = next((k + 1 for k in range(len(stops) - 1, -1, -1) if stops[k] not in away), 0)
    return (any(h in home for h in stops[left:]) or any(h in away for h in stops[:arrived])
            or recrosses([plan.network.hubs[h].country for h in stops]))


def recrosses(countries: Sequence[str]) -> bool:
    """True when a route from one country to another (the countries of its stops, in order)
    comes back into its origin's country after leaving it, or leaves its destination's after
    first reaching it. A route within one country may pass abroad (Hong Kong's air cargo lands
    at Chek Lap Kok and is trucked to its end at Shenzhen)."""
    first, last = countries[0], countries[-1]
    if first == last:
        return False
    out = next(k for k, c in enumerate(countries) if c != first)
    into = next(k for k, c in enumerate(countries) if c == last)
    return first in countries[out:] or any(c != last for c in countries[into:])


def _main_services(plan: Plan, legs: Iterable[Leg]) -> tuple[str, ...]:
    """The services a route rides but for its feeders (urban drays): what makes it a way of
    shipping of its own."""
    lines = plan.network.lines
    return tuple(lines[leg.line].service for leg in legs
                 if lines[leg.line].spec.corridor != "feeder")


def _family(plan: Plan, legs: Iterable[Leg]) -> tuple[str, ...]:
    """The modes a route rides in turn but for its feeders (rail, rail then sea, road...):
    routes of one family compete more closely than routes of two, so a gateway keeps its
    cheapest routes of each (a cross-border train and a rail-sea route are two ways of
    shipping even where trucks are cheaper than both)."""
    lines = plan.network.lines
    modes = [lines[leg.line].spec.mode for leg in legs
             if lines[leg.line].spec.corridor != "feeder"]
    return tuple(m for i, m in enumerate(modes) if i == 0 or modes[i - 1] != m)


# Paths found before the rest (`_Search.paths`): most searches end within the first few
# (baseline-2023: 4 or fewer paths read in five of six), and Yen's algorithm costs in
# proportion to the paths it is asked for.
FIRST = 4


class _Search:
    """A graph of hubs and legs (`_graph`, or a gateway's part of it) in the form Yen's
    algorithm runs on: igraph's, in C. It enumerates the same cheapest simple paths as
    networkx's `shortest_simple_paths` in a fraction of the time (every shipped scenario's
    choice sets are the same with either; docs/performance.md). `via`, `own` and `home`:
    what a path of a gateway's part must pass, ride, and get on or off its own corridors at
    to be a route of the gateway (`gateway_paths`)."""

    __slots__ = ("graph", "nodes", "edges", "weights", "index", "via", "own", "home")

    def __init__(self, nodes: list[Hashable], edges: list[tuple[int, int]],
                 weights: list[float], via: frozenset[str] = frozenset(),
                 own: frozenset[str] = frozenset(),
                 home: frozenset[str] = frozenset()) -> None:
        import igraph

        self.graph = igraph.Graph(n=len(nodes), edges=edges, directed=True)
        self.nodes = nodes
        self.edges = edges
        self.weights = weights
        self.index = {node: i for i, node in enumerate(nodes)}
        self.via = via
        self.own = own
        self.home = home

    @classmethod
    def of(cls, g: nx.DiGraph) -> _Search:
        """`g` with its edges' weights `w`, in its order of nodes and edges."""
        nodes = list(g.nodes)
        index = {node: i for i, node in enumerate(nodes)}
        edges, weights = [], []
        for u, v, w in g.edges(data="w"):
            edges.append((index[u], index[v]))
            weights.append(w)
        return cls(nodes, edges, weights)

    def part(self, keep: Sequence[bool], via: frozenset[str], own: frozenset[str],
             home: frozenset[str]) -> _Search:
        """The subgraph of the nodes whose `keep` is true, in the same order."""
        new = list(itertools.accumulate(keep, initial=0))   # a kept node's new id
        nodes = [n for n, k in zip(self.nodes, keep, strict=True) if k]
        edges, weights = [], []
        for (u, v), w in zip(self.edges, self.weights, strict=True):
            if keep[u] and keep[v]:
                edges.append((new[u], new[v]))
                weights.append(w)
        return _Search(nodes, edges, weights, via, own, home)

    def paths(self, origin: str, destination: str, limit: int) -> Iterator[list[Hashable]]:
        """Up to `limit` cheapest simple paths (their nodes), cheapest first, none when the
        ends are not joined; the first `FIRST` found before the rest. Their graph costs are
        not returned: the cost ratio is taken on the routes' own (`_routes`)."""
        if origin not in self.index or destination not in self.index:
            return
        done = 0
        for k in sorted({min(FIRST, limit), limit}):
            with warnings.catch_warnings():     # igraph warns of unreachable spur nodes
                warnings.simplefilter("ignore", RuntimeWarning)
                found = self.graph.get_k_shortest_paths(
                    self.index[origin], self.index[destination], k=k,
                    weights=self.weights, output="epath")
            for path in found[done:]:
                if not path:
                    return
                nodes = [self.nodes[self.edges[path[0]][0]]]
                nodes += [self.nodes[self.edges[e][1]] for e in path]
                yield nodes
            if len(found) < k:
                return
            done = k


def _routes(plan: Plan, paths: Iterable[list[Hashable]], origin: str,
            vot: float, start: int, keep: int,
            cities: tuple[frozenset[str], frozenset[str]],
            gateway: str | None = None) -> list[Route]:
    """Routes of `paths` (their nodes, cheapest first): no service ridden twice, no
    needless transfer, no detour back (`doubles_back`), none whose generalized cost at `vot`
    (`Route.generalized_cost`) is dearer than `max_cost_ratio` x the best's, at most `keep`;
    through a gateway, none that rides the same services as a cheaper one but for its
    feeders (a detour by another urban dray is no alternative), and beyond the `keep`
    cheapest, the cheapest of each other family of modes (`_family`). `cities`: the hubs of
    the origin's and the destination's city (`near`).

    The ratio is taken on the routes' own costs, not the paths': a path's graph cost is its
    route's plus the transfer cost less the origin's handling (`_graph`), an offset that
    leaves the order of a flow's paths as it is but not their ratios (at baseline-2023's
    2,500 CNY transfer and ratio 1.6 the graph's costs let through routes up to 1,500 CNY
    dearer than the ratio allows)."""
    chosen: list[Route] = []
    best = None
    seen: set[tuple[str, ...]] = set()
    families: set[tuple[str, ...]] = set()
    lines = plan.network.lines
    ports = (frozenset(plan.market.section.gateways[gateway].via)
             if gateway is not None and plan.market is not None
             and gateway in plan.market.section.gateways else frozenset())
    for path in paths:
        legs = tuple(Leg(n[1], n[2], n[3]) for n in path if isinstance(n, tuple))
        services = [lines[leg.line].service for leg in legs]
        if (len(set(services)) != len(services) or needless_transfer(plan, legs)
                or doubles_back(plan, origin, legs, *cities)):
            continue  # riding one service twice, leaving a vehicle that runs on, a detour
        family: tuple[str, ...] = ()
        if gateway is not None:  # a gateway's alternatives differ in more than their drays
            main = _main_services(plan, legs)
            family = (*_family(plan, legs), *sorted(ports.intersection(path)))
            if main in seen or (len(chosen) >= keep and family in families):
                continue
            seen.add(main)
        route = _route(plan, start + len(chosen), legs, origin, gateway)
        cost = route.generalized_cost(vot)
        best = cost if best is None else best
        if cost > plan.routing.max_cost_ratio * best:
            break
        chosen.append(route)
        families.add(family)
        if gateway is None and len(chosen) == keep:
            break
    return chosen


def gateway_graphs(plan: Plan, g: _Search) -> dict[str, _Search]:
    """The graph of each gateway of the plan's market: legs of lines of its corridors, its
    onward corridors and feeders only, without the hubs by which other gateways of a shared
    corridor are told apart (`via`); with what a path of it must pass and ride to be a
    route of the gateway (`gateway_paths` reads them)."""
    assert plan.market is not None
    section = plan.market.section
    lines = plan.network.lines
    gateways = dict(section.gateways) or {
        c: Gateway(corridors=(c,)) for c in sorted({ln.spec.corridor for ln in lines} - {"feeder"})}
    reach = {name: {*gw.corridors, *gw.onward} for name, gw in gateways.items()}
    out: dict[str, _Search] = {}
    for name, gw in gateways.items():
        corridors = {*reach[name], "feeder"}
        # a market whose end hub is another gateway's via hub (Hong Kong through Shenzhen) is
        # reached by that gateway only
        other_via = {h for other, o in gateways.items() if other != name
                     and reach[other] & reach[name] for h in o.via} - set(gw.via)
        other_via.discard(section.origin)
        # ... but a hub from which a service of the gateway's own corridors runs to one of its
        # ports is its own as well (the Nansha rail-sea trains leave from Guoyuan, the east's
        # river port: without this no route could board them)
        other_via -= {h for ln in lines if ln.spec.corridor in gw.corridors
                      and set(gw.via) & set(ln.stops) for h in ln.stops}
        keep = [lines[n[1]].spec.corridor in corridors if isinstance(n, tuple)
                else n not in other_via for n in g.nodes]
        # a route of the gateway must pass one of `via` (if any) and ride a service of one
        # of its own corridors, getting on or off them at one of `home` (if any)
        out[name] = g.part(keep, frozenset(gw.via), frozenset(gw.corridors),
                           frozenset(gw.home))
    return out


def gateway_paths(plan: Plan, sub: _Search, origin: str, destination: str,
                  limit: int) -> Iterator[list[Hashable]]:
    """Cheapest paths of a gateway's graph (`gateway_graphs`) that are routes of the
    gateway: they pass one of its `via` hubs (if any) and ride a service of its own
    corridors (a path on its onward corridors alone is another gateway's route), getting on
    or off them at one of its `home` hubs (if any)."""
    via, own, home = sub.via, sub.own, sub.home
    lines = plan.network.lines
    for p in sub.paths(origin, destination, limit):
        if via and not via.intersection(p):
            continue
        legs = [n for n in p if isinstance(n, tuple) and lines[n[1]].spec.corridor in own]
        if legs and (not home or any(lines[n[1]].stops[i] in home
                                     for n in legs for i in (n[2], n[3]))):
            yield p


def _empties_lane(plan: Plan, flow: Flow) -> str | None:
    """`market.empties.lanes.<i>`, the lane an empties flow comes from (None: not found)."""
    section = plan.market.section if plan.market is not None else None
    if section is None or section.empties is None:
        return None
    ends = {flow.origin, flow.destination}
    for i, lane in enumerate(section.empties.lanes):
        if lane.china in ends and ends - {lane.china} <= set(lane.abroad) and (
                not flow.gateway or flow.gateway == lane.gateway):
            return f"market.empties.lanes.{i}"
    return None


def _flow_at(plan: Plan, fi: int) -> tuple[str, str]:
    """(file, field) where flow `fi` was written: a row of demand.flows, the market table,
    market.empties or a change."""
    if fi < len(plan.flow_sources):
        return plan.flow_sources[fi]
    return plan.source_file, f"demand.flows.{fi}"


# Fields of a Plan that route choice sets do not read: run settings, what the simulation and
# demand response use, and where the plan was written (read only to word an InputError, and
# a plan whose sets raise one is never kept). Every other field, a new one included, is part
# of the key of the kept choice sets.
NOT_ROUTING = frozenset({"name", "source_file", "geodata", "seed", "replications", "horizon",
                         "seasonality", "variability", "elasticity", "reference_scenario",
                         "trade", "equilibrium", "flow_sources", "origin"})


def choice_sets(plan: Plan) -> tuple[ChoiceSet, ...]:
    """Candidate routes of every flow, or InputError for a flow no service can carry.

    A market flow (`Flow.market`) gets up to `market.routes_per_gateway` routes through each
    gateway that reaches its market (the nests of the nested logit); other flows the
    `routing.k_routes` cheapest.

    Kept in `sim.cache` under the plan's routing inputs (every field but `NOT_ROUTING`) and
    the code: enumerating the paths (Yen's algorithm, tens of thousands of shortest-path
    searches for baseline-2023) is a fifth of a run whose feedback passes are kept, and the
    same sets recur in every run of a scenario, of its seeds and of its comparisons.
    """
    return cache.kept(lambda: _choice_key(plan), lambda: _choice_sets(plan), tuple)


def _choice_key(plan: Plan) -> list[str]:
    """The cache key's parts of a plan's choice sets: its routing inputs and the code."""
    return ["choice_sets", repr([(f.name, getattr(plan, f.name))
                                 for f in dataclasses.fields(plan)
                                 if f.name not in NOT_ROUTING])]


def _choice_sets(plan: Plan) -> tuple[ChoiceSet, ...]:
    """`choice_sets`, computed."""
    graphs: dict[float, _Search] = {}
    by_gateway: dict[float, dict[str, _Search]] = {}

    def gateways_at(vot: float, g: _Search) -> dict[str, _Search]:
        """The gateways' graphs at `vot` (`gateway_graphs`), made the first time asked."""
        gws = by_gateway.get(vot)
        if gws is None:
            gws = by_gateway[vot] = gateway_graphs(plan, g)
        return gws

    out: list[ChoiceSet] = []
    index = 0
    city: dict[str, frozenset[str]] = {}
    for fi, flow in enumerate(plan.flows):
        for end in (flow.origin, flow.destination):
            if end not in city:
                city[end] = near(plan, end)
        cities = city[flow.origin], city[flow.destination]
        market = bool(flow.market) and plan.market is not None
        vot = market_value_of_time(plan, flow)
        g = graphs.get(vot)
        if g is None:
            g = graphs[vot] = _Search.of(_graph(plan, vot))
        routes: list[Route] = []
        if market:
            gws = gateways_at(vot, g)
            keep = plan.market.section.routes_per_gateway if plan.market else 1
            offered_by: dict[tuple[str, ...], str] = {}
            for name, sub in gws.items():
                paths = gateway_paths(plan, sub, flow.origin, flow.destination, keep * 8)
                found = _routes(plan, paths, flow.origin, vot, index, keep, cities, name)
                for r in found:
                    main = _main_services(plan, r.legs)
                    other = offered_by.setdefault(main, name)
                    if other != name:
                        raise InputError(
                            plan.source_file, f"market.gateways.{name}",
                            f"gateways told apart by corridors, onward or via (a route "
                            f"{flow.origin} -> {flow.destination} by {' > '.join(main)} is "
                            f"also one of gateway {other})", name)
                index += len(found)
                routes += found
        else:
            bound = None
            if flow.gateway and plan.market is not None:
                gws = gateways_at(vot, g)
                if flow.gateway not in gws:
                    file, field = _flow_at(plan, fi)
                    raise InputError(file, f"{field}.gateway",
                                     f"a gateway of market.gateways ({', '.join(gws)})",
                                     flow.gateway)
                bound = gws[flow.gateway]
            limit = plan.routing.k_routes * 8
            paths = (g.paths(flow.origin, flow.destination, limit) if bound is None else
                     gateway_paths(plan, bound, flow.origin, flow.destination, limit))
            routes = _routes(plan, paths, flow.origin, vot, index, plan.routing.k_routes,
                             cities, flow.gateway or None)
            index += len(routes)
        if not routes:
            file, field = _flow_at(plan, fi)
            if field == "market.empties":
                field = _empties_lane(plan, flow) or field
            if market:
                field = f"{field}: market {flow.market} ({flow.commodity}, {flow.origin} -> " \
                        f"{flow.destination})"
            raise InputError(file, field, UNJOINED, f"{flow.origin} -> {flow.destination}")
        out.append(ChoiceSet(flow=fi, value_of_time=vot, routes=tuple(routes)))
    return tuple(out)


def market_value_of_time(plan: Plan, flow: Flow, choice: Choice | None = None) -> float:
    """The value of time a flow's routes are searched and chosen at, CNY/TEU-h: a market
    flow's is its class's in the market's choice (`Choice.value_of_time`; `choice` in place
    of the plan's own), any other flow's its class's inventory cost."""
    cls = plan.classes[flow.commodity]
    if not flow.market or plan.market is None:
        return cls.value_of_time_cny_per_teu_hour
    return (choice or plan.market.section.choice).value_of_time(cls)


def weights(cs: ChoiceSet, extra_hours: Sequence[float], scale: float,
            max_extra: float = math.inf, open_: Sequence[bool] | None = None
            ) -> list[float]:
    """Choice weights of a flow's routes by logit over relative generalized cost.

    Utility is -scale x (cost / best cost - 1), so `scale` reads as: a route 10% dearer than
    the best is chosen exp(-0.1 x scale) times as often. `extra_hours` are the hours beyond
    normal each route is expected to take; only the routes in `open_` are offered (default:
    those whose extra hours are within `max_extra`, `sim.engine.logit.offered`).
    """
    routes = cs.routes
    if len(routes) == 1:
        return [1.0]
    vot = cs.value_of_time
    if open_ is None:
        # imported here: the engine imports this module (its route choice is compiled there)
        from sim.engine.logit import offered

        open_ = offered(extra_hours, max_extra)
    costs = [r.generalized_cost(vot, x) for r, x in zip(routes, extra_hours, strict=True)]
    best = min(c for c, ok in zip(costs, open_, strict=True) if ok)
    if best <= 0:
        return [1.0 if c == best and ok else 0.0 for c, ok in zip(costs, open_, strict=True)]
    return [math.exp(-scale * (c / best - 1.0)) if ok else 0.0
            for c, ok in zip(costs, open_, strict=True)]
