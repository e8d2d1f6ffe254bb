"""Routing: candidate routes by generalized cost, logit choice, rerouting under congestion."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from sim.engine import simulate
from sim.engine.logit import offered
from sim.network import build
from sim.routing import FIRST, _choice_key, _Search, choice_sets, choose, handling_hours
from sim.scenario import load_scenario, with_overrides
from tests.support import netbuilder as nb


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
    plan = build(load_scenario(_two_channels(tmp_path, 1000)))
    (cs,) = choice_sets(plan)
    picks = [choose(cs, [0.0, 0.0], u / 1000, scale=8.0) for u in range(1000)]
    assert 0.6 < picks.count(0) / 1000 < 1.0
    # the cheap route's queue is over the booking limit: everything goes the other way
    refused = [choose(cs, [500.0, 0.0], u / 100, 8.0, max_extra=168.0) for u in range(100)]
    assert set(refused) == {1}
    # both are backed up: the shorter backlog is booked, not the cheaper route
    jammed = [choose(cs, [300.0, 500.0], u / 100, 8.0, max_extra=168.0) for u in range(100)]
    assert set(jammed) == {0}
    jammed = [choose(cs, [500.0, 300.0], u / 100, 8.0, max_extra=168.0) for u in range(100)]
    assert set(jammed) == {1}


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
    """The k cheapest simple paths, cheapest first, with their costs, are networkx's (on
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
        part = search.part(keep, frozenset(), frozenset())
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
                assert [p for p, _ in found] == expected
                assert [c for _, c in found] == [nx.path_weight(graph, p, "w")
                                                 for p in expected]
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


def test_the_route_search_counts_the_transfer_cost(tmp_path: Path) -> None:
    """A change of service costs `routing.transfer_cost_cny`: searched without it, the
    two-leg route looks cheapest and, with one route kept, is the only one offered."""
    a, b, c = nb.hub("a", 0), nb.hub("b", 1), nb.hub("c", 2)
    nb.write_geodata(tmp_path / "geo", [a, b, c], [
        nb.link("a-b", a, b), nb.link("b-c", b, c), nb.link("a-c", a, c)])
    services = {"direct": nb.train(["a", "c"], price=1500),
                "ab": nb.train(["a", "b"], price=500), "bc": nb.train(["b", "c"], price=500)}
    doc = nb.scenario(str(tmp_path / "geo"), services, [nb.flow("a", "c", 1000)],
                      routing={"transfer_cost_cny": 1000, "k_routes": 1})
    plan = build(load_scenario(nb.write_scenario(tmp_path / "s.yaml", doc)))
    (cs,) = choice_sets(plan)
    # at 10 CNY/TEU-h: direct 1500 + 22.2 h x 10 = 1722; via b 500 + 500 + 1000 (transfer)
    # + 44.3 h x 10 = 2443, dearer; without the transfer, 1443: cheaper than the direct one
    assert [len(r.legs) for r in cs.routes] == [1]
    assert [plan.network.lines[leg.line].service for leg in cs.routes[0].legs] == ["direct"]
    assert cs.routes[0].price_cny == 1500.0
