"""Routing: candidate routes by generalized cost, logit choice, rerouting under congestion."""

from __future__ import annotations

import dataclasses
import math
import re
from itertools import islice
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import yaml

from sim.engine import simulate
from sim.engine.logit import offered
from sim.network import Plan, build
from sim.routing import (
    FIRST,
    ChoiceSet,
    Route,
    _choice_key,
    _graph,
    _Search,
    choice_sets,
    handling_hours,
    market_value_of_time,
    near,
    shut_throughout,
    weights,
)
from sim.scenario import load_scenario, with_overrides
from tests.support import netbuilder as nb
from tests.support.market import market_doc


def _two_channels(tmp_path: Path, teu_per_year: float, aware: bool = True) -> Path:
    """a -> b by a cheap, small rail service (west) or a dearer, big river one (east)."""
    a, b = nb.hub("a", 0), nb.hub("b", 1)
    nb.write_geodata(tmp_path / "geo", [a, b], [
        nb.link("rail", a, b, mode="rail", corridor="west"),
        nb.link("river", a, b, mode="river", corridor="east")])
    services = {
        "cheap": nb.train(["a", "b"], per_week=7, teu=100, price=1000, corridor="west"),
        "dear": {"corridor": "east", "mode": "river", "stops": ["a", "b"],
                 "departures_per_week": 7, "vehicle_teu": 2000, "price_cny_per_teu": 1300,
                 "source": "test"},
    }
    doc = nb.scenario(str(tmp_path / "geo"), services, [nb.flow("a", "b", teu_per_year)],
                      horizon={"days": 150}, routing={"congestion_aware": aware})
    return nb.write_scenario(tmp_path / "s.yaml", doc)


def _share_west(path: Path) -> float:
    routes = simulate(build(load_scenario(path))).tables["routes"].set_index("corridor")
    return routes.loc["west", "teu_created_per_year"] / routes["teu_created_per_year"].sum()


def test_candidate_routes_are_ordered_by_generalized_cost(tmp_path: Path) -> None:
    plan = build(load_scenario(_two_channels(tmp_path, 1000)))
    (cs,) = choice_sets(plan)
    assert [r.corridor for r in cs.routes] == ["west", "east"]
    assert cs.routes[0].price_cny < cs.routes[1].price_cny


def test_logit_prefers_the_cheaper_route_and_honours_refusal(tmp_path: Path) -> None:
    """The weights a lot's route is drawn by (`weights`, as the engine draws): the cheaper
    route the larger share, none for a route queued past the booking limit, and where both
    are, the shorter backlog alone."""
    plan = build(load_scenario(_two_channels(tmp_path, 1000)))
    (cs,) = choice_sets(plan)
    cheap, dear = weights(cs, [0.0, 0.0], scale=8.0)
    assert 0.6 < cheap / (cheap + dear) < 1.0
    # the cheap route's queue is over the booking limit: everything goes the other way
    refused = weights(cs, [500.0, 0.0], 8.0, max_extra=168.0)
    assert refused[0] == 0.0 and refused[1] > 0.0
    # both are backed up: the shorter backlog is booked, not the cheaper route
    jammed = weights(cs, [300.0, 500.0], 8.0, max_extra=168.0)
    assert jammed[0] > 0.0 and jammed[1] == 0.0
    jammed = weights(cs, [500.0, 300.0], 8.0, max_extra=168.0)
    assert jammed[0] == 0.0 and jammed[1] > 0.0


def test_a_route_queued_exactly_the_bound_is_still_offered() -> None:
    """`max_excess_wait_hours` is the most a route may be queued and still be booked: at the
    bound it is offered beside a route below it; only beyond it is it refused."""
    assert offered([2.0, 1.0, 3.0], 2.0) == [True, True, False]


def test_traffic_moves_to_the_other_channel_when_one_saturates(tmp_path: Path) -> None:
    light = _share_west(_two_channels(tmp_path, 3_000))
    heavy = _share_west(_two_channels(tmp_path, 60_000))
    blind = _share_west(_two_channels(tmp_path, 60_000, aware=False))
    # 100 TEU a day of rail capacity is about 36,500 TEU/yr of which light demand takes
    # little; heavy demand saturates it and the congestion-aware choice sheds to the river
    assert light > 0.6
    assert heavy < light - 0.15
    assert blind == pytest.approx(light, abs=0.1)


def test_parallel_services_between_two_hubs_stay_distinct(tmp_path: Path) -> None:
    plan = build(load_scenario(_two_channels(tmp_path, 1000)))
    (cs,) = choice_sets(plan)
    services = {plan.network.lines[r.legs[0].line].service for r in cs.routes}
    assert services == {"cheap", "dear"}


def test_path_search_finds_networkx_shortest_simple_paths() -> None:
    """The k cheapest simple paths, cheapest first, are networkx's (on
    random graphs whose path costs do not tie), through the first batch and past it, on a
    part of the graph too; none between nodes that are not joined."""
    rng = np.random.default_rng(7)
    counts = []
    for trial in range(6):
        g = nx.gnp_random_graph(18, 0.22, seed=trial, directed=True)
        nx.set_edge_attributes(g, {e: float(rng.uniform(1, 100)) for e in g.edges}, "w")
        g.add_node("alone")
        search = _Search.of(g)
        keep = [n == "alone" or n % 5 != 4 for n in g.nodes]
        part = search.part(keep, frozenset(), frozenset(), frozenset())
        g_part = g.subgraph([n for n, k in zip(g.nodes, keep, strict=True) if k])
        for s, graph in ((search, g), (part, g_part)):
            for origin, destination in [(0, 9), (3, 11), (2, 17), (5, 0), (1, "alone")]:
                if origin not in graph or destination not in graph:
                    assert not list(s.paths(origin, destination, 12))
                    continue
                try:
                    expected = list(islice(nx.shortest_simple_paths(
                        graph, origin, destination, weight="w"), 12))
                except nx.NetworkXNoPath:
                    expected = []
                found = list(s.paths(origin, destination, 12))
                assert found == expected
                counts.append(len(found))
    assert max(counts) > FIRST and 0 in counts     # past the first batch; pairs not joined


def test_handling_hours_include_the_setup(tmp_path: Path) -> None:
    """Every test hub has a setup of 0 h (netbuilder), where leaving it out of a route's hours
    changes nothing."""
    a = nb.hub("a", 0, handling_setup_hours=2.0, handling_teu_per_hour=10.0, dwell_hours=5.0)
    b = nb.hub("b", 1)
    nb.write_geodata(tmp_path / "geo", [a, b], [nb.link("a-b", a, b)])
    doc = nb.scenario(str(tmp_path / "geo"), {"ab": nb.train(["a", "b"])},
                      [nb.flow("a", "b", 1000)])
    plan = build(load_scenario(nb.write_scenario(tmp_path / "s.yaml", doc)))
    # 2 h setup + 20 TEU / 10 TEU/h + 5 h dwell = 9 h
    assert handling_hours(plan.network.hubs["a"], 20.0) == pytest.approx(9.0)


def test_the_choice_sets_key_holds_lot_teu(tmp_path: Path) -> None:
    """A route's handling and boarding hours read the lot size: a key without it would bring
    back the cached routes of another lot size."""
    scenario = load_scenario(nb.line_network(tmp_path, per_week=3, teu_per_year=30_000))
    plan = build(scenario)
    other = build(with_overrides(scenario, **{"demand.lot_teu": plan.lot_teu * 2}))
    assert other.lot_teu != plan.lot_teu
    assert _choice_key(other) != _choice_key(plan)


def test_the_memo_and_the_disk_key_of_choice_sets_read_the_same_plan_fields() -> None:
    """Choice sets are reused on two keys: on disk every Plan field but `NOT_ROUTING`, in the
    process `sim.demand.same_candidates` (network, routing, lot size, flows, market; classes
    through each flow's value of time). A field routing starts to read that the disk key
    takes in but the memo does not compare would hand a process stale routes, and a result
    would hang on what the worker ran before (review64 #5): a new Plan field fails here
    until it is put in NOT_ROUTING or compared by same_candidates."""
    from sim.routing import NOT_ROUTING

    fields = {f.name for f in dataclasses.fields(Plan)}
    assert NOT_ROUTING <= fields
    assert fields - NOT_ROUTING == {"network", "routing", "lot_teu", "flows", "market",
                                    "classes"}


def test_plans_of_two_lot_sizes_have_other_candidate_routes(tmp_path: Path) -> None:
    """`same_candidates` (may a reference's costs be taken on this plan's routes?) reads the
    lot size: a route's handling and boarding hours depend on it."""
    from sim.demand import same_candidates

    scenario = load_scenario(nb.line_network(tmp_path, per_week=3, teu_per_year=30_000))
    plan = build(scenario)
    other = build(with_overrides(scenario, **{"demand.lot_teu": plan.lot_teu * 2}))
    assert same_candidates(plan, build(scenario))
    assert not same_candidates(plan, other)


def test_the_route_search_counts_the_transfer_cost(tmp_path: Path) -> None:
    """A change of service costs `routing.transfer_cost_cny`: searched without it, the
    two-leg route looks cheapest and, with one route kept, is the only one offered."""
    plan = _direct_or_via_b(tmp_path, transfer_cost_cny=1000, k_routes=1)
    (cs,) = choice_sets(plan)
    # at 10 CNY/TEU-h: direct 1500 + 22.2 h x 10 = 1722; via b 500 + 500 + 1000 (transfer)
    # + 44.3 h x 10 = 2443, dearer; without the transfer, 1443: cheaper than the direct one
    assert [len(r.legs) for r in cs.routes] == [1]
    assert [plan.network.lines[leg.line].service for leg in cs.routes[0].legs] == ["direct"]
    assert cs.routes[0].price_cny == 1500.0


@pytest.mark.parametrize(("start_day", "factor", "shut"), [
    (10, 0.0, True),     # from the warm-up's end to the horizon's: the whole period measured
    (11, 0.0, False),    # its first measured day open
    (10, 0.5, False),    # at half capacity freight still moves
])
def test_a_route_is_shut_throughout_only_when_closed_over_the_whole_statistics_period(
        tmp_path: Path, start_day: float, factor: float, shut: bool) -> None:
    """`shut_throughout` (what `cqsim validate` warns of: boxes created that can only
    wait) means capacity factor 0 from the first measured hour to the last."""
    path = nb.line_network(tmp_path, horizon={"days": 60, "warmup_days": 10})
    doc = yaml.safe_load(path.read_text())
    doc["changes"] = [{"kind": "disruption", "hub": "b", "start_day": start_day,
                       "end_day": 60, "capacity_factor": factor, "why": "test"}]
    plan = build(load_scenario(nb.write_scenario(path, doc)))
    (cs,) = choice_sets(plan)
    assert shut_throughout(plan, cs.routes[0]) is shut


def _a_b_and_a_c(tmp_path: Path, train: dict, km: tuple[float, float] = (100.0, 100.0)
                 ) -> tuple:
    """The choice sets of flows a -> b and a -> c on one train a - b - c (links of `km`,
    10 h each)."""
    a, b, c = nb.hub("a", 0), nb.hub("b", 1), nb.hub("c", 2)
    nb.write_geodata(tmp_path / "geo", [a, b, c], [
        nb.link("a-b", a, b, km=km[0]), nb.link("b-c", b, c, km=km[1])])
    doc = nb.scenario(str(tmp_path / "geo"), {"abc": train},
                      [nb.flow("a", "b", 1000), nb.flow("a", "c", 1000)])
    short, whole = choice_sets(build(load_scenario(nb.write_scenario(tmp_path / "s.yaml",
                                                                      doc))))
    return short, whole


def test_a_ride_on_part_of_a_line_pays_its_share_of_the_tariff_by_km(tmp_path: Path) -> None:
    """A line's `price_cny_per_teu` is for its whole run: a box that rides 100 of its 400 km
    pays a quarter of it."""
    short, whole = _a_b_and_a_c(tmp_path, nb.train(["a", "b", "c"], price=1000),
                                km=(100.0, 300.0))
    assert [r.price_cny for r in short.routes] == [pytest.approx(250.0)]
    assert [r.price_cny for r in whole.routes] == [pytest.approx(1000.0)]


def test_a_route_counts_for_the_corridor_it_rides_furthest_but_for_its_feeders(
        tmp_path: Path) -> None:
    """A dray of 300 km to a rail terminal, then 100 km by the west's train: the route is
    the west's, though the feeder is the longer leg."""
    a, b, c = nb.hub("a", 0), nb.hub("b", 3), nb.hub("c", 5)
    nb.write_geodata(tmp_path / "geo", [a, b, c], [
        nb.link("a-b", a, b, mode="road", km=300.0, corridor="feeder"),
        nb.link("b-c", b, c, km=100.0)])
    services = {"dray": {"corridor": "feeder", "mode": "road", "stops": ["a", "b"],
                         "departures_per_week": 70, "vehicle_teu": 2, "price_cny_per_teu": 300,
                         "source": "test"},
                "rail": nb.train(["b", "c"])}
    doc = nb.scenario(str(tmp_path / "geo"), services, [nb.flow("a", "c", 1000)])
    plan = build(load_scenario(nb.write_scenario(tmp_path / "s.yaml", doc)))
    (cs,) = choice_sets(plan)
    assert [len(r.legs) for r in cs.routes] == [2]
    assert cs.routes[0].corridor == "west"
    assert cs.routes[0].km == pytest.approx(400.0)


def test_a_city_s_hubs_are_those_within_100_km(tmp_path: Path) -> None:
    """`near` (a route must not come back into its origin's city): at latitude 30 a degree
    of longitude is 111.2 x cos 30 = 96.3 km, so a hub 0.9 deg east (86.7 km) is the
    city's and one 1.2 deg east (115.6 km) is not."""
    a, b, c = nb.hub("a", 0), nb.hub("b", 0.9), nb.hub("c", 1.2)
    nb.write_geodata(tmp_path / "geo", [a, b, c], [nb.link("a-b", a, b), nb.link("b-c", b, c)])
    doc = nb.scenario(str(tmp_path / "geo"), {"abc": nb.train(["a", "b", "c"])},
                      [nb.flow("a", "c", 1000)])
    plan = build(load_scenario(nb.write_scenario(tmp_path / "s.yaml", doc)))
    assert 111.195 * math.cos(math.radians(30)) * 1.2 > 100 > \
        111.195 * math.cos(math.radians(30)) * 0.9
    assert near(plan, "a") == {"a", "b"}
    assert near(plan, "c") == {"b", "c"}


def test_a_route_dearer_than_max_cost_ratio_times_the_best_is_no_candidate(
        tmp_path: Path) -> None:
    """At `max_cost_ratio` 1 only the cheapest route is a candidate; at the default 3 the
    river, about a tenth dearer, is one too."""
    path = _two_channels(tmp_path, 1000)
    doc = yaml.safe_load(path.read_text())
    doc["routing"]["max_cost_ratio"] = 1.0
    (cs,) = choice_sets(build(load_scenario(nb.write_scenario(path, doc))))
    assert [r.corridor for r in cs.routes] == ["west"]
    doc["routing"]["max_cost_ratio"] = 3.0
    (cs,) = choice_sets(build(load_scenario(nb.write_scenario(path, doc))))
    assert [r.corridor for r in cs.routes] == ["west", "east"]


def test_choice_weights_count_the_hours_a_route_is_queued() -> None:
    """Two routes alike but for 100 h queued on the first: at 10 CNY/TEU-h its cost is
    1000 + 1000 = 2000 against 1000, twice the best, so its weight is exp(-6 x 1)."""
    def route(i: int) -> Route:
        return Route(index=i, legs=(), hubs=("a", "b"), corridor="west", km=100.0,
                     price_cny=1000.0, base_hours=0.0, co2_kg_per_t=0.0)
    cs = ChoiceSet(flow=0, value_of_time=10.0, routes=(route(0), route(1)))
    assert weights(cs, [100.0, 0.0], 6.0) == pytest.approx([math.exp(-6.0), 1.0])
    assert weights(cs, [0.0, 0.0], 6.0) == pytest.approx([1.0, 1.0])


def test_a_plain_flow_of_a_market_plan_is_routed_at_its_inventory_value_of_time(
        tmp_path: Path) -> None:
    """At `vot_position` 1 the market's choice values a market flow's hour at its revealed
    time cost (materials: 200,000 CNY x 0.6% a day / 24 = 50 CNY/TEU-h); a domestic flow
    beside it keeps its class's inventory cost (2 CNY/TEU-h)."""
    doc = market_doc(tmp_path, market={"choice": {"vot_position": 1.0}})
    plan = build(load_scenario(nb.write_scenario(tmp_path / "m.yaml", doc)))
    domestic = next(f for f in plan.flows if not f.market)
    traded = next(f for f in plan.flows if f.market and f.commodity == "materials")
    assert market_value_of_time(plan, domestic) == 2.0
    assert market_value_of_time(plan, traded) == pytest.approx(200_000 * 0.006 / 24)
    searched = {cs.value_of_time for cs in choice_sets(plan)
                if plan.flows[cs.flow] == domestic}
    assert searched == {2.0}


def test_a_route_s_hours_count_the_stops_it_passes_not_the_one_it_leaves_at(
        tmp_path: Path) -> None:
    """A daily train a - b - c (10 h a link, 2 h at each stop), lots of 10 TEU at hubs that
    handle 100 TEU/h: a -> b takes 0.1 h handling + 12 h (half a headway) + 10 h + 0.1 h =
    22.2 h; a -> c passes b, 2 h more, and rides 10 h more: 34.2 h."""
    short, whole = _a_b_and_a_c(tmp_path, nb.train(["a", "b", "c"], stop_hours=2.0))
    assert [r.base_hours for r in short.routes] == [pytest.approx(22.2)]
    assert [r.base_hours for r in whole.routes] == [pytest.approx(34.2)]


def test_no_transfer_to_a_line_that_already_called_where_the_first_was_boarded(
        tmp_path: Path) -> None:
    """a -> c: riding a - b, then changing at b to the a - b - c train that called at a
    first, buys nothing (`needless_transfer`): the through train is the only candidate."""
    a, b, c = nb.hub("a", 0), nb.hub("b", 1), nb.hub("c", 2)
    nb.write_geodata(tmp_path / "geo", [a, b, c], [nb.link("a-b", a, b), nb.link("b-c", b, c)])
    services = {"ab": nb.train(["a", "b"], price=100), "abc": nb.train(["a", "b", "c"])}
    doc = nb.scenario(str(tmp_path / "geo"), services, [nb.flow("a", "c", 1000)])
    plan = build(load_scenario(nb.write_scenario(tmp_path / "s.yaml", doc)))
    (cs,) = choice_sets(plan)
    assert [[plan.network.lines[leg.line].service for leg in r.legs] for r in cs.routes] == \
        [["abc"]]


def test_a_route_s_generalized_cost_adds_delay_then_spread_to_its_hours() -> None:
    """`Route.generalized_cost`, the one formula of route choice, demand and the engine:
    tariff + value of time x (base hours + delay + spread), summed in that order (the tables
    were made with it), and with no delay or spread the bare route's cost."""
    r = Route(index=0, legs=(), hubs=("a", "b"), corridor="west", km=100.0,
              price_cny=1000.0, base_hours=0.1, co2_kg_per_t=0.0)
    assert r.generalized_cost(10.0) == 1000.0 + 10.0 * 0.1
    assert r.generalized_cost(10.0, 0.2, 0.7) == 1000.0 + 10.0 * (0.1 + 0.2 + 0.7)
    free = dataclasses.replace(r, price_cny=0.0)
    assert free.generalized_cost(10.0, 0.2, 0.7) == 10.0             # (0.1 + 0.2) + 0.7 is 1
    assert free.generalized_cost(10.0, 0.2, 0.7) != 10.0 * (0.1 + (0.2 + 0.7))  # 0.99...9


def _direct_or_via_b(tmp_path: Path, **routing: float) -> Plan:
    """a -> c by a direct train (1500 CNY) or two (500 each) changing at b."""
    a, b, c = nb.hub("a", 0), nb.hub("b", 1), nb.hub("c", 2)
    nb.write_geodata(tmp_path / "geo", [a, b, c], [
        nb.link("a-b", a, b), nb.link("b-c", b, c), nb.link("a-c", a, c)])
    services = {"direct": nb.train(["a", "c"], price=1500),
                "ab": nb.train(["a", "b"], price=500), "bc": nb.train(["b", "c"], price=500)}
    doc = nb.scenario(str(tmp_path / "geo"), services, [nb.flow("a", "c", 1000)],
                      routing=routing)
    return build(load_scenario(nb.write_scenario(tmp_path / "s.yaml", doc)))


def test_a_path_s_graph_cost_is_its_route_s_plus_the_transfer_less_the_origin_s_handling(
        tmp_path: Path) -> None:
    """The search graph charges a transfer on every leg, the first included, and handling
    where a leg alights, the origin's nowhere (`_graph`): the same offset on every path of a
    flow, so the paths come in the order of their routes' costs."""
    plan = _direct_or_via_b(tmp_path, transfer_cost_cny=1000, k_routes=2,
                            max_cost_ratio=3.0)
    (cs,) = choice_sets(plan)
    vot = cs.value_of_time
    graph = _graph(plan, vot)
    paths = list(_Search.of(graph).paths("a", "c", 8))
    assert len(paths) == len(cs.routes) == 2
    offset = (plan.routing.transfer_cost_cny
              - vot * handling_hours(plan.network.hubs["a"], plan.lot_teu))
    assert offset != 0
    for path, route in zip(paths, cs.routes, strict=True):
        assert nx.path_weight(graph, path, "w") == pytest.approx(
            route.generalized_cost(vot) + offset, rel=1e-12)


def test_the_cost_ratio_is_taken_on_the_routes_own_costs(tmp_path: Path) -> None:
    """At 10 CNY/TEU-h the direct route costs about 1722 and the one via b 2443, 1.42 x;
    at `max_cost_ratio` 1.3 it is no candidate. On the graph's costs, each 1000 (the
    transfer) above the route's less the origin's handling, the ratio was 1.26 and the
    route let through."""
    plan = _direct_or_via_b(tmp_path, transfer_cost_cny=1000, k_routes=2, max_cost_ratio=1.3)
    (cs,) = choice_sets(plan)
    costs = [r.generalized_cost(cs.value_of_time) for r in cs.routes]
    assert [len(r.legs) for r in cs.routes] == [1]
    assert costs == [pytest.approx(1722, abs=1)]
    plan = _direct_or_via_b(tmp_path, transfer_cost_cny=1000, k_routes=2, max_cost_ratio=1.5)
    (cs,) = choice_sets(plan)
    costs = [r.generalized_cost(cs.value_of_time) for r in cs.routes]
    assert [len(r.legs) for r in cs.routes] == [1, 2]
    assert costs[1] / costs[0] == pytest.approx(1.419, abs=1e-3)


def _cut_flow(tmp_path: Path, changes: list[dict]) -> Path:
    """a - b - c by two trains (ab, bc), a flow a -> b, and `changes` on top."""
    a, b, c = nb.hub("a", 0), nb.hub("b", 1), nb.hub("c", 2)
    nb.write_geodata(tmp_path / "geo", [a, b, c], [nb.link("a-b", a, b), nb.link("b-c", b, c)])
    doc = nb.scenario(str(tmp_path / "geo"), {"ab": nb.train(["a", "b"]),
                                              "bc": nb.train(["b", "c"])},
                      [nb.flow("a", "b", 1000)], changes=changes)
    return nb.write_scenario(tmp_path / "s.yaml", doc)


def test_a_removal_that_leaves_an_added_flow_without_a_route_is_named(tmp_path: Path) -> None:
    """A remove_service that leaves an earlier add_flow with no route was blamed on the flow
    alone ("changes.0.flow: expected an origin-destination pair joined by services"): the
    removal that cut it leads the line, as a change that breaks the network does (trial64
    #9); a flow no service ever joined is still the flow's own error."""
    import sim
    from sim.boundary import admit
    from sim.errors import InputError

    add = {"kind": "add_flow", "flow": nb.flow("a", "c", 100)}
    path = _cut_flow(tmp_path, [add, {"kind": "remove_service", "service": "bc"}])
    at = re.escape(str(path))
    blamed = (rf"^{at}: changes\.1: expected a change the network can take, but after it "
              rf"{at}: changes\.0\.flow: expected an origin-destination pair joined by "
              r"services, got 'a -> c'$")
    with pytest.raises(InputError, match=blamed):
        admit(path)
    with pytest.raises(InputError, match=blamed):
        sim.run(path, progress=False)
    other = tmp_path / "other"
    other.mkdir()   # a removal that cut nothing the flow needs: the flow's error alone
    d = nb.hub("d", 3)
    path = _cut_flow(other, [{"kind": "add_hub", "hub": {**d["properties"], "lon": 3.0,
                                                         "lat": 30.0}},
                             {**add, "flow": nb.flow("a", "d", 100)},
                             {"kind": "remove_service", "service": "bc"}])
    alone = rf"^{re.escape(str(path))}: changes\.1\.flow: expected an origin-destination pair"
    with pytest.raises(InputError, match=alone):
        admit(path)
