"""The market model's choice: the nested logit against a hand computation, the engine's draws
against the model's probabilities, induced trade, and conservation with market flows."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from sim.engine import Model
from sim.engine.recorder import Recorder
from sim.equilibrium import _spreads
from sim.market.choice import available, induced_factor, nests_of, probabilities
from sim.market.spec import Choice
from sim.pipeline import prepare, replicate, settle
from sim.results import Results
from sim.routing import ChoiceSet, Route, choice_sets
from sim.specs import CommodityClass
from tests.support.engine import ran_in_plain_engine
from tests.support.market import market_doc, service, write_market_scenario
from tests.support.netbuilder import write_scenario


def test_nested_logit_by_hand() -> None:
    """Two routes through gateway A (10,000 and 12,000 CNY/TEU), one through B (11,000),
    goods worth 100,000 CNY/TEU, cost scale 100 (so V = -10, -12, -11), nest scale 0.5, B's
    constant 0.5. By hand: I_A = -20 + ln(1 + e^-4), A_A = 0.5 I_A = -9.99093, A_B = 0.5 - 11
    = -10.5, P(A) = 1 / (1 + e^(A_B - A_A)) = 0.624590, P(1 | A) = 1 / (1 + e^-4)."""
    nests = nests_of(["A", "A", "B"], "eu", 100_000.0,
                     Choice(cost_scale=100.0, nest_scale=0.5, asc={"B": 0.5}))
    probs, ls = probabilities(nests, [10_000.0, 12_000.0, 11_000.0])
    assert probs == pytest.approx([0.6133556, 0.0112340, 0.3754104], abs=1e-7)
    assert ls == pytest.approx(-9.5202646, abs=1e-7)
    # a market-specific constant adds to the gateway's
    both = nests_of(["A", "B"], "eu", 100_000.0, Choice(asc={"B": 0.5, "B@eu": -0.5}))
    assert both.asc == (0.0, 0.0)
    # and a class-specific constant to both, for that class only
    rule = Choice(asc={"B": 0.5, "B@eu": -0.5, "B#laptops": -2.0})
    assert nests_of(["A", "B"], "eu", 1e5, rule, commodity="laptops").asc == (0.0, -2.0)
    assert nests_of(["A", "B"], "eu", 1e5, rule, commodity="grain").asc == (0.0, 0.0)


def test_nest_scale_one_is_multinomial_and_closed_routes_drop_out() -> None:
    nests = nests_of(["A", "A", "B"], "m", 50_000.0, Choice(cost_scale=50.0, nest_scale=1.0))
    costs = [1000.0, 1500.0, 1200.0]
    probs, ls = probabilities(nests, costs)
    expo = [math.exp(-c / 1000.0) for c in costs]
    assert probs == pytest.approx([e / sum(expo) for e in expo])
    assert ls == pytest.approx(math.log(sum(expo)))
    probs, _ = probabilities(nests, costs, [True, True, False])
    assert probs[2] == 0.0 and sum(probs) == pytest.approx(1.0)


def test_costs_flags_and_queued_hours_of_another_length_are_refused(tmp_path: Path) -> None:
    """Route choice reads costs, open flags and queued hours by position (compiled, no zip):
    a list of another length than the routes raises, where it was silently truncated."""
    nests = nests_of(["A", "A", "B"], "m", 50_000.0, Choice())
    for costs, open_ in (([1e3, 1.2e3], None), ([1e3, 1.2e3], [True, True]),
                         ([1e3, 1.2e3, 1.1e3], [True, True, True, True])):
        with pytest.raises(ValueError, match="routes"):
            probabilities(nests, costs, open_)
    plan = prepare(write_market_scenario(tmp_path))
    model = Model(plan, 0)
    kinds = set()
    for cs in model.choices:
        n = len(cs.routes)
        if n < 2:
            continue
        pick = model._picker(cs)
        assert len(pick([0.0] * n)[1]) == n
        for queued in ([0.0] * (n + 1), [0.0] * (n - 1)):
            with pytest.raises(ValueError):
                pick(queued)
        kinds.add(plan.flows[cs.flow].market != "")
    assert kinds == {True, False}   # the nested logit's picker and the plain one


def test_induced_trade_ad_valorem() -> None:
    # p = 200k, GC0 = 10k: 1% cheaper access (dGC = -2.1k) with sigma 4.5 raises trade by
    # (208.9 / 210)^-4.5 - 1 = +2.38%
    assert induced_factor(200_000.0, 10_000.0, -2_100.0, 4.5) == pytest.approx(
        (207_900 / 210_000) ** -4.5)
    assert induced_factor(200_000.0, 10_000.0, 0.0, 4.5) == 1.0
    # a cost cannot fall below nothing: a fall beyond GC0 is the largest gain (it read as no
    # change before), and a market no longer reached trades nothing
    most = (200_000 / 210_000) ** -4.5
    assert induced_factor(200_000.0, 10_000.0, -10_000.0, 4.5) == pytest.approx(most)
    assert induced_factor(200_000.0, 10_000.0, -1e9, 4.5) == pytest.approx(most)
    assert induced_factor(200_000.0, 10_000.0, -math.inf, 4.5) == pytest.approx(most)
    assert induced_factor(200_000.0, 10_000.0, math.inf, 4.5) == 0.0


def test_lots_follow_the_nested_logit(tmp_path: Path) -> None:
    """With nothing queued, the TEU each route is given match the model's probabilities."""
    doc = market_doc(tmp_path, horizon={"days": 730}, routing={"congestion_aware": False})
    doc["demand"]["lot_teu"] = 5
    doc["market"]["choice"] = {"cost_scale": 30.0, "nest_scale": 0.6,
                               "asc": {"south": 0.4, "east": -0.2}}
    plan = prepare(write_scenario(tmp_path / "m.yaml", doc))
    settled = settle(plan)
    routes = replicate(settled).replications[0].tables["routes"].set_index("route")
    choice = plan.market.section.choice
    checked = 0
    for cs in settled.choices:
        flow = plan.flows[cs.flow]
        if not flow.market:
            continue
        nests = nests_of([r.gateway for r in cs.routes], flow.market,
                         plan.classes[flow.commodity].value_cny_per_teu, choice)
        costs = [r.price_cny + cs.value_of_time * r.base_hours for r in cs.routes]
        probs, _ = probabilities(nests, costs)
        teu = routes.loc[[r.index for r in cs.routes], "teu_created_per_year"].to_numpy()
        lots = teu.sum() / plan.lot_teu
        for p, t in zip(probs, teu, strict=True):
            se = math.sqrt(p * (1 - p) / lots)
            assert abs(t / teu.sum() - p) < 4 * se + 1e-9, (flow, probs, teu)
            checked += 1
    assert checked >= 8


def test_cheaper_gateway_shifts_and_induces_trade(tmp_path: Path) -> None:
    """Halving the south sea tariff raises the south gateway's share of asean trade (shift) and
    the trade itself (induced, against the base file as reference)."""
    base = write_market_scenario(tmp_path, name="base.yaml",
                                 demand={"reference_scenario": "base.yaml"})
    doc = market_doc(tmp_path, demand={"reference_scenario": "base.yaml"})
    doc["network"]["services"]["south-sea-asean"] = service("south", "sea", ["qz", "asean"], 200)
    cheap = write_scenario(tmp_path / "cheap.yaml", doc)
    a, b = settle(prepare(base)), settle(prepare(cheap))
    assert a.market_reference is None  # the base is its own reference
    key = ("cq", "asean", "materials")
    flow_a = next(f for f in a.plan.flows if (f.origin, f.destination, f.commodity) == key)
    flow_b = next(f for f in b.plan.flows if (f.origin, f.destination, f.commodity) == key)
    assert flow_b.teu_per_year > flow_a.teu_per_year * 1.001   # induced
    assert b.market[key][0] > a.market[key][0]                 # logsum rose
    untouched = ("cq", "eu", "electronics")
    assert b.market[untouched] == pytest.approx(a.market[untouched])


def test_conservation_with_market_flows(tmp_path: Path) -> None:
    plan = prepare(write_market_scenario(tmp_path, horizon={"days": 90}))
    result = replicate(settle(plan)).replications[0]
    c = result.conservation
    assert c["created_teu"] > 0
    assert c["created_teu"] == pytest.approx(
        c["delivered_teu"] + c["in_transit_teu"] + c["waiting_teu"], abs=1e-6)


@pytest.mark.slow
def test_compare_attributes_the_change_to_gateways(tmp_path: Path) -> None:
    """A cheaper south sea leg: south gains, the others lose (shifted), the total rises
    (total, all of it induced by access here: no input growth); total = sum of the gateways'
    deltas; the induced trade comes from the market the cheaper leg serves."""
    from sim.compare import compare

    write_market_scenario(tmp_path, name="base.yaml", horizon={"days": 200, "warmup_days": 40},
                          demand={"reference_scenario": "base.yaml"})
    write_scenario(tmp_path / "cheap.yaml", {   # BASE plus a change, as compare requires
        "extends": "base.yaml", "name": "cheap",
        "changes": [{"kind": "set", "service": "south-sea-asean", "field": "price_cny_per_teu",
                     "value": 200}]})
    cmp = compare(tmp_path / "base.yaml", [tmp_path / "cheap.yaml"], replications=2)
    assert cmp.attribution is not None
    at = cmp.attribution.set_index("item")
    assert at.loc["gateway:south", "delta_teu_per_year"] > 0
    assert at.loc["shifted", "delta_teu_per_year"] > 0
    gateways = at[at.index.str.startswith("gateway:")]
    assert at.loc["total", "delta_teu_per_year"] == pytest.approx(
        gateways["delta_teu_per_year"].sum())
    assert at.loc["input growth", "delta_teu_per_year"] == 0.0
    assert at.loc["induced by access", "delta_teu_per_year"] > 0
    for col in ("delta_teu_per_year", "delta_trade_bn_cny_per_year"):  # the parts add up
        assert at.loc["total", col] == pytest.approx(
            at.loc[["input growth", "induced by access", "waiting at origins",
                    "on the way at the ends", "remainder"], col].sum())
    def paired(later: str, earlier: str) -> float:
        """The mean paired change of the trade class's TEU/yr `later` less `earlier`."""
        def gap(res: Results) -> pd.Series:
            r = res.by_replication("routes")
            r = r[r["flow_class"] == "trade"]
            return (r[later] - r[earlier]).groupby(r["replication"]).sum()
        return float((gap(cmp.alts[0].results) - gap(cmp.base.results)).mean())
    # waiting at origins: departures less creations; on the way: deliveries less departures
    assert at.loc["waiting at origins", "delta_teu_per_year"] == pytest.approx(
        paired("teu_departed_per_year", "teu_created_per_year"))
    assert at.loc["on the way at the ends", "delta_teu_per_year"] == pytest.approx(
        paired("teu_delivered_per_year", "teu_departed_per_year"))
    # a part of the TEU alone: no trade figure at all (it wrote 0 +- 0, read as measured)
    assert np.isnan(at.loc["on the way at the ends", "delta_trade_bn_cny_per_year"])
    # shifted: in each column what the gateways that lost in it gave up, never negative
    for col in ("delta_teu_per_year", "delta_trade_bn_cny_per_year"):
        losers = gateways[gateways[col] < 0]
        assert at.loc["shifted", col] == pytest.approx(-losers[col].sum())
        assert at.loc["shifted", col] >= 0
    # the induced trade by market adds up to the whole, and comes from the market whose sea
    # leg got cheaper: the EU's cargo does not sail Qinzhou-ASEAN
    markets = at[at.index.str.startswith("induced:")]
    assert sorted(markets.index) == ["induced:asean", "induced:eu"]
    for col in ("delta_teu_per_year", "delta_trade_bn_cny_per_year"):
        assert markets[col].sum() == pytest.approx(at.loc["induced by access", col])
    assert at.loc["induced:asean", "delta_trade_bn_cny_per_year"] > 0
    assert abs(at.loc["induced:eu", "delta_trade_bn_cny_per_year"]) < \
        at.loc["induced:asean", "delta_trade_bn_cny_per_year"] / 10


def test_availability_weighs_a_route_by_the_share_it_was_offered() -> None:
    """Implicit availability (Cascetta and Papola): a route offered at half the bookings
    enters its nest as 0.5 x exp(V / mu). The example above with route 1 offered half the
    time: I_A = ln(0.5 e^-20 + e^-24), A_A = 0.5 I_A, A_B = -10.5; a route never offered
    drops out."""
    nests = nests_of(["A", "A", "B"], "eu", 100_000.0,
                     Choice(cost_scale=100.0, nest_scale=0.5, asc={"B": 0.5}))
    costs, open_ = available(nests, [10_000.0, 12_000.0, 11_000.0], [0.5, 1.0, 1.0])
    probs, ls = probabilities(nests, costs, open_)
    inclusive = math.log(0.5 * math.exp(-20.0) + math.exp(-24.0))
    upper = [0.5 * inclusive, 0.5 - 11.0]
    p_a = math.exp(upper[0]) / (math.exp(upper[0]) + math.exp(upper[1]))
    within = 0.5 * math.exp(-20.0) / math.exp(inclusive)
    assert probs == pytest.approx([p_a * within, p_a * (1 - within), 1 - p_a], abs=1e-9)
    assert ls == pytest.approx(math.log(sum(math.exp(a) for a in upper)), abs=1e-9)
    # always offered: unchanged; never offered: out of the choice
    assert available(nests, [1.0, 2.0, 3.0], [1.0, 1.0, 1.0]) == ([1.0, 2.0, 3.0],
                                                                  [True, True, True])
    probs, _ = probabilities(nests, *available(nests, [1e4, 1.2e4, 1.1e4], [0.0, 1.0, 1.0]))
    assert probs[0] == 0.0 and sum(probs) == pytest.approx(1.0)


def test_each_class_s_value_of_time_lies_between_its_own_bounds() -> None:
    """VOT_c = inventory^(1 - theta) x revealed^theta, the revealed bound 0.6% of the class's
    value a day: a 1 M CNY box with an inventory cost of 10 CNY/h has 250 CNY/h revealed, 50 at
    theta 0.5; a 100k box at 1 CNY/h has 25 and 5. Both at the geometric middle of their own
    range, where one multiplier of 5 (electronics-like) would give 50 and 5 only by chance of
    equal ranges. A class whose value is nil (an empty box) keeps its hire cost."""
    def cls(value: float, vot: float) -> CommodityClass:
        return CommodityClass(value_cny_per_teu=value, value_of_time_cny_per_teu_hour=vot,
                              tonnes_per_teu=10, source="test")
    choice = Choice(vot_position=0.5)
    assert choice.value_of_time(cls(1e6, 10.0)) == pytest.approx(50.0)
    assert choice.value_of_time(cls(1e5, 1.0)) == pytest.approx(5.0)
    assert Choice(vot_position=0.0).value_of_time(cls(1e6, 10.0)) == 10.0
    assert Choice(vot_position=1.0).value_of_time(cls(1e6, 10.0)) == pytest.approx(250.0)
    assert Choice(vot_position=1.0, revealed_time_cost_per_day=0.012).value_of_time(
        cls(1e6, 10.0)) == pytest.approx(500.0)
    assert choice.value_of_time(cls(0.0, 0.3)) == 0.3
    # no inventory cost would be nothing short of the revealed end (0 ** 0 = 1 in the
    # power), then all of it: a class worth something must have one (review60 #7)
    with pytest.raises(ValidationError, match="greater than 0 for a class whose TEU"):
        cls(1e6, 0.0)


def test_reliability_is_valued_on_the_standard_deviation_of_transit() -> None:
    """The reliability ratio's source values an hour of standard deviation, so the spread
    route choice learns is the TEU-weighted SD of a route's lots, not p95 - mean (1.6 SD or
    more, which was used until 2026-12-03). Route 0: lots of 40, 40 and 20 TEU at 100, 300
    and 200 h: mean 200, SD sqrt((40 x 100^2 + 40 x 100^2) / 100) = 89.4 h, p95 290 h. A
    route that carried nothing takes its gateway's TEU-weighted spread."""
    rec = Recorder(None, (), 0.0)  # type: ignore[arg-type]  # the spreads read lots only
    for route, teu, hours in [(0, 40.0, 100.0), (0, 40.0, 300.0), (0, 20.0, 200.0),
                              (1, 40.0, 50.0), (1, 40.0, 50.0)]:
        rec.route_ids.append(route)
        rec.teu.append(teu)
        rec.transit.append(hours)
    p95, sd = rec._spreads()
    assert sd == pytest.approx({0: math.sqrt(8000.0), 1: 0.0})
    assert p95[0] == pytest.approx(290.0)   # numpy's linear interpolation
    # the passes learn the spread of the usual days' lots (every lot without dated events)
    routes = pd.DataFrame({"teu_usual_delivered_per_year": [1e9, 1e9, 0.0],
                           "transit_usual_sd_h": [sd[0], sd[1], np.nan],
                           "transit_p95_h": [p95[0], p95[1], np.nan]})

    def route(i: int) -> Route:
        return Route(index=i, legs=(), hubs=(), corridor="g", km=0.0, price_cny=0.0,
                     base_hours=0.0, co2_kg_per_t=0.0, gateway="g")
    choices = [ChoiceSet(flow=0, value_of_time=1.0, routes=(route(0), route(1), route(2)))]
    learnt = _spreads(routes, choices, lot_teu=40.0, previous={}, n=1)
    assert learnt[0] == pytest.approx(math.sqrt(8000.0), rel=1e-6)
    assert learnt[1] == pytest.approx(0.0, abs=1e-3)
    assert learnt[2] == pytest.approx(math.sqrt(8000.0) / 2)


def test_a_binding_capacity_rations_its_routes_and_the_logsum_sees_it(tmp_path: Path) -> None:
    """A south train far too small for the ASEAN trade queues beyond the rebooking bound for
    part of the year: the run offers its routes at only a share of the bookings, the feedback
    passes learn that share, and the logsum demand answers to is lower than with the routes
    always offered. Route choice closes a route on its live queue only, never on the delay
    learnt for it (that would close a busy route for good)."""
    from sim.demand import market_state
    from sim.engine import simulate

    doc = market_doc(tmp_path, horizon={"days": 240, "warmup_days": 30},
                     routing={"max_excess_wait_hours": 24},
                     equilibrium={"max_iterations": 2})
    doc["network"]["services"]["south-rail"] = service("south", "rail", ["cq", "qz"], 500,
                                                       per_week=2, teu=40)
    plan = prepare(write_scenario(tmp_path / "tight.yaml", doc))
    settled = settle(plan)
    south = [r.index for cs in settled.choices for r in cs.routes
             if r.gateway == "south" and plan.flows[cs.flow].market]
    assert south and min(settled.route_offered[i] for i in south) < 0.9
    assert all(0.0 <= a <= 1.0 for a in settled.route_offered.values())
    rationed = market_state(settled.plan, settled.choices, settled.route_delay,
                            settled.route_spread, settled.route_offered)
    free = market_state(settled.plan, settled.choices, settled.route_delay,
                        settled.route_spread)
    key = ("cq", "asean", "materials")
    assert rationed[key][0] < free[key][0] - 1e-6
    # a learnt delay far beyond the bound does not close a route whose queue is short
    others = [r.index for cs in settled.choices for r in cs.routes if r.index not in south]
    routes = simulate(settled.plan, 0, settled.choices, dict.fromkeys(others, 1e4),
                      settled.route_spread, tables=("routes",)).tables["routes"]
    open_ = routes[routes["gateway"].isin(["west", "east"])]["offered_share"].dropna()
    assert len(open_) >= 3 and (open_ == 1.0).all()


def test_a_dated_closure_is_learnt_for_its_own_days_not_the_whole_year(tmp_path: Path) -> None:
    """Qinzhou closed for six weeks late in the year: route choice learns the delays of the
    lots booked during the closure apart from the others (`Network.dated_spans`), so the
    south is avoided while the port is shut and not before. Learnt over the whole year, the
    weeks of waiting of the lots caught by the closure were spread over every booking, and
    in `qinzhou-congestion` (seven weeks) the south lost about 70% of its year from week 4."""
    doc = market_doc(tmp_path, horizon={"days": 300, "warmup_days": 30},
                     equilibrium={"max_iterations": 3})
    plain = prepare(write_scenario(tmp_path / "plain.yaml", doc))
    doc["changes"] = [{"kind": "disruption", "hub": "qz", "start_day": 200, "end_day": 242,
                       "capacity_factor": 0.0, "why": "test: the port shut"}]
    closed = prepare(write_scenario(tmp_path / "closed.yaml", doc))
    assert closed.network.dated_spans() == ((200 * 24.0, 242 * 24.0),)
    a, b = settle(plain), settle(closed)
    # the port's backlog (here a day: the services are ample) counts as the event's, in the
    # spans the run reads
    key = ("hub", "qz", 200 * 24.0)
    assert b.event_until[key] > 242 * 24.0 and not a.event_until
    assert closed.network.dated_spans(None, b.event_until) == ((200 * 24.0, b.event_until[key]),)
    south = [r.index for cs in b.choices for r in cs.routes
             if r.gateway == "south" and closed.flows[cs.flow].market]
    assert south and not a.route_unforeseen_event
    # a route's events are those of its own parts: the routes that avoid Qinzhou learn none
    via_qz = {r.index for cs in b.choices for r in cs.routes if "qz" in r.hubs}
    assert b.route_unforeseen_event and set(b.route_unforeseen_event) <= via_qz
    # the exports booked while the port was shut waited for it: learnt for those days only
    # (an import booked weeks before, caught at sea, was not to be foreseen: it counts in
    # neither)
    exports = [r.index for cs in b.choices for r in cs.routes
               if r.gateway == "south" and r.hubs[0] == "cq"]
    assert len(exports) == 2 and min(b.route_unforeseen_event[i] for i in exports) > 24 * 7
    assert max(abs(b.route_unforeseen[i] - a.route_unforeseen[i]) for i in south) < 24
    # so before the closure the south carries what it carries without one
    weekly = {name: replicate(s).replications[0].tables["timeseries"]
              .query("corridor == 'south' and 5 <= week < 25")["teu_per_week"].sum()
              for name, s in (("plain", a), ("closed", b))}
    assert weekly["closed"] == pytest.approx(weekly["plain"], rel=0.05)
    # and while the port is shut, route choice adds what it learnt there: the exports booked
    # on the south are fewer than by a choice blind to it (the same run otherwise)
    blind = dataclasses.replace(b, route_unforeseen_event={})
    booked = {name: replicate(s).replications[0].tables["routes"]
              .query("gateway == 'south' and origin == 'cq'")["teu_created_per_year"].sum()
              for name, s in (("learnt", b), ("blind", blind))}
    assert booked["learnt"] < 0.98 * booked["blind"]
    # the run reads the backlog's days as the event's: without them it learns other lots
    short = dataclasses.replace(b, event_until={})
    events = {name: replicate(s).replications[0].tables["routes"]["transit_event_open_mean_h"]
              for name, s in (("learnt", b), ("short", short))}
    assert not events["learnt"].equals(events["short"])
    # without a dated event the usual figures are the whole ones, and there are no others
    routes = replicate(a).replications[0].tables["routes"]
    for whole, usual in (("teu_delivered_per_year", "teu_usual_delivered_per_year"),
                         ("transit_mean_h", "transit_usual_mean_h"),
                         ("transit_sd_h", "transit_usual_sd_h"),
                         ("foreseen_mean_h", "foreseen_usual_mean_h")):
        assert routes[usual].equals(routes[whole]), whole
    assert routes["transit_event_open_mean_h"].isna().all()
    assert (routes["teu_event_created_per_year"] == 0).all()


def test_a_closure_all_year_costs_trade_as_the_year_s_access(tmp_path: Path) -> None:
    """Demand answers to the year's access: a route's availability over all the period's
    bookings (here the picture never shows the port's queue, so always), and its delay in
    its dated events weighed by their share of its bookings (`year_blend`). Before, it
    answered to usual days alone: a port shut all year left its routes none, so they kept
    their cold start (no delay, always offered) and closing
    Qinzhou all year induced +5.4 bn CNY/yr (2 replications of baseline-2023). Shut all
    year, the routes through the port are dearer and scarcer for demand and the trade
    induced falls below the reference's; shut for a week it moves the year's demand by
    little, and an event that changes nothing (capacity factor 1) by nothing to speak of."""
    from sim.equilibrium import year_blend

    doc = market_doc(tmp_path, horizon={"days": 240, "warmup_days": 30},
                     demand={"reference_scenario": "plain.yaml"},
                     equilibrium={"max_iterations": 3})
    write_scenario(tmp_path / "plain.yaml", doc)
    settled = {}
    for name, start, end, factor in (("year", 0, 240, 0.0), ("week", 100, 107, 0.0),
                                     ("null", 100, 150, 1.0)):
        doc["changes"] = [{"kind": "disruption", "hub": "qz", "start_day": start,
                           "end_day": end, "capacity_factor": factor, "why": "test"}]
        settled[name] = settle(prepare(write_scenario(tmp_path / f"{name}.yaml", doc)))
    year = settled["year"]
    via_qz = {r.index for cs in year.choices for r in cs.routes if "qz" in r.hubs}
    # demand reads the event's delay where the route was booked in it, never less than usual
    dearer = [i for i in via_qz if year.route_delay_demand[i] > year.route_delay[i] + 24]
    assert dearer and all(year.route_delay_demand[i] >= year.route_delay[i] for i in via_qz)
    induced = {k: v.report.market_induced_bn_cny_per_year for k, v in settled.items()}
    assert induced["year"] < 0 and induced["year"] < induced["week"]
    assert abs(induced["week"]) < 0.2 * abs(induced["year"])
    assert abs(induced["null"]) < 0.05 * abs(induced["year"])
    # the blend: usual where no event, the event's share of the bookings where one
    assert year_blend({1: 10.0, 2: 4.0}, {1: 50.0, 3: 9.0}, {1: 0.25, 3: 1.0}) == {
        1: 20.0, 2: 4.0, 3: 9.0}


def test_an_events_lots_still_on_the_way_count_at_their_age() -> None:
    """`transit_event_open_mean_h`: of the lots booked in a route's events in the statistics
    period, those delivered at their door-to-door hours and those still on the way at the
    end at their age then (a closure that never clears left no delivered lot and was not
    learnt); the picture's foreseen hours of the same lots."""
    rec = Recorder(None, (), 0.0)  # type: ignore[arg-type]  # the sums alone are read
    rec.event_booked = np.zeros((3, 2))
    rec.event_done = np.zeros((3, 2))
    # route 0: 10 TEU booked at h 100 (foreseen 5 h), delivered at h 300; 30 TEU booked at
    # h 500 (foreseen 1 h), still on the way at the end, h 1000
    for teu, at, seen in ((10.0, 100.0, 5.0), (30.0, 500.0, 1.0)):
        rec.event_booked[:, 0] += (teu, teu * at, teu * seen)
    rec.event_done[:, 0] += (10.0, 10.0 * 100.0, 10.0 * 200.0)
    assert rec._event_open_mean(0, 1000.0) == pytest.approx((10 * 200 + 30 * 500) / 40)
    assert math.isnan(rec._event_open_mean(1, 1000.0))      # none booked


def test_an_events_backlog_lasts_until_the_queue_is_back_in_its_usual_range(
        tmp_path: Path) -> None:
    """`_aftermath`: the end of the first day from the event's end on which the part's queue
    is within the range of the four weeks before it began; the horizon's end if never."""
    from sim.equilibrium import _aftermath

    doc = market_doc(tmp_path, horizon={"days": 300, "warmup_days": 30})
    doc["changes"] = [{"kind": "disruption", "hub": "qz", "start_day": 200, "end_day": 242,
                       "capacity_factor": 0.0, "why": "test"}]
    plan = prepare(write_scenario(tmp_path / "closed.yaml", doc))
    queue = {d: float(d % 6) for d in range(30, 200)}       # usual range 0-5 TEU
    queue.update(dict.fromkeys(range(200, 242), 1000.0))
    queue.update({242: 600.0, 243: 200.0, 244: 5.0, 245: 300.0})
    queue.update(dict.fromkeys(range(246, 300), 0.0))
    daily = pd.DataFrame({"hub": "qz", "day": list(queue), "queue_teu": list(queue.values())})
    key = ("hub", "qz", 200 * 24.0)
    assert _aftermath(plan, {"hubs_daily": daily}, {}, 1) == {key: 245 * 24.0}
    # averaged over the passes, from the event's own end
    assert _aftermath(plan, {"hubs_daily": daily}, {key: 242 * 24.0}, 2)[key] == \
        pytest.approx((242 + 245) / 2 * 24.0)
    never = daily.assign(queue_teu=[q if d < 242 else 50.0 for d, q in queue.items()])
    assert _aftermath(plan, {"hubs_daily": never}, {}, 1) == {key: 300 * 24.0}
    assert _aftermath(plan, {}, {}, 1) == {}     # no daily queue: the window alone
    # back on the event's last day: it ends with its window; a float's dust is no queue
    gone = daily.assign(queue_teu=[0.0 if d < 200 else 1000.0 if d < 241 else 1e-12
                                   for d in queue])
    assert _aftermath(plan, {"hubs_daily": gone}, {}, 1) == {key: 242 * 24.0}
    # a lock's queue is its tonnes both ways (a maintenance keyed by the lock's id)
    from sim.network import Network
    net = Network(hubs={}, links={}, lines=(), lock_traffic={}, emission_factors={},
                  disruptions={("lock", "tg"): ((200 * 24.0, 242 * 24.0, 0.5),)})
    locked = dataclasses.replace(plan, network=net)
    both = pd.DataFrame([{"lock": "tg", "direction": side, "day": d, "queue_t": q}
                         for d, q in queue.items() for side in ("down", "up")])
    assert _aftermath(locked, {"locks_daily": both}, {}, 1) == {
        ("lock", "tg", 200 * 24.0): 245 * 24.0}


def test_a_trade_flow_added_by_a_change_is_input_growth_not_remainder(tmp_path: Path) -> None:
    """An add_flow of trade (1,000 TEU/yr of materials at 200k CNY/TEU, 0.2 bn CNY/yr, from
    a hub the market table has no row of) is
    trade the scenario's inputs add, as a demand_growth of the market table is: it was left
    in `remainder` ("chiefly the chance of whole lots"), `input growth` reading 0 (trial47
    M2)."""
    from sim.compare import compare

    write_market_scenario(tmp_path, name="base.yaml", horizon={"days": 40, "warmup_days": 10},
                          demand={"reference_scenario": "base.yaml"})
    write_scenario(tmp_path / "more.yaml", {
        "extends": "base.yaml", "name": "more",
        "changes": [{"kind": "add_flow", "flow": {
            "origin": "qz", "destination": "asean", "commodity": "materials",
            "teu_per_year": 1000, "source": "test: a new customer at the port"}}]})
    cmp = compare(tmp_path / "base.yaml", [tmp_path / "more.yaml"], replications=2)
    assert cmp.attribution is not None
    at = cmp.attribution.set_index("item")
    assert at.loc["input growth", "delta_teu_per_year"] == pytest.approx(1000)
    assert at.loc["input growth", "delta_trade_bn_cny_per_year"] == pytest.approx(0.2)
    # at a hub whose trade is not the city's (trade.excluded_hubs) its TEU are input, its
    # trade none: no gateway counts it (review47 H1: +0.2 input growth, -0.2 remainder)
    write_market_scenario(tmp_path, name="base.yaml", horizon={"days": 40, "warmup_days": 10},
                          demand={"reference_scenario": "base.yaml"},
                          trade={"excluded_hubs": ["qz"]})
    at = compare(tmp_path / "base.yaml", [tmp_path / "more.yaml"],
                 replications=2).attribution.set_index("item")
    assert at.loc["input growth", "delta_teu_per_year"] == pytest.approx(1000)
    assert at.loc["input growth", "delta_trade_bn_cny_per_year"] == 0
    assert at.loc["total", "delta_trade_bn_cny_per_year"] == 0


def test_route_costs_weigh_the_spread_by_the_reliability_ratio(tmp_path: Path) -> None:
    """An hour of spread is worth the reliability ratio x an hour of transit; every other test
    runs at ratio 1, where dropping the ratio changes nothing."""
    from sim.demand import route_costs

    plan = prepare(write_market_scenario(tmp_path, market={"choice": {"reliability_ratio": 0.5}}))
    route = Route(index=0, legs=(), hubs=(), corridor="g", km=0.0, price_cny=1000.0,
                  base_hours=100.0, co2_kg_per_t=0.0, gateway="g")
    cs = ChoiceSet(flow=0, value_of_time=10.0, routes=(route,))
    # 1000 + 10 x (100 h + 5 h learnt delay + 0.5 x 20 h spread) = 2150 (2250 at ratio 1)
    assert route_costs(plan, cs, {0: 5.0}, {0: 20.0}) == [2150.0]


def test_the_engine_prices_routes_as_the_settling_does(tmp_path: Path) -> None:
    """One generalized cost in two homes (`sim.demand.route_costs`, `Model._picker`): at a
    reliability ratio other than 1 and learnt spreads, the run's nested logit at no queue
    must give the settling's probabilities, or the run chooses against another cost."""
    from sim.demand import market_choice

    plan = prepare(write_market_scenario(tmp_path, market={"choice": {"reliability_ratio": 0.5}}))
    spread = {i: 10.0 * (i % 3) for i in range(200)}
    model = Model(plan, 0, route_spread=spread)
    checked = 0
    for cs in model.choices:
        if not plan.flows[cs.flow].market or len(cs.routes) < 2:
            continue
        cum, _ = model._picker(cs)([0.0] * len(cs.routes))
        probs = np.diff([0.0, *cum])
        assert probs == pytest.approx(market_choice(plan, cs, {}, spread)[0], abs=1e-12)
        checked += 1
    assert checked


def test_the_reference_cost_is_the_expected_cost_over_routes(tmp_path: Path) -> None:
    """Induced trade is measured from GC0 = sum p x c over the routes (the expected cost of a
    shipment), not the cheapest route's: the sign tests of induced trade pass either way."""
    from sim.demand import market_choice, market_state
    from sim.routing import choice_sets

    plan = prepare(write_market_scenario(tmp_path))
    choices = choice_sets(plan)
    state = market_state(plan, choices, {}, {})
    dearer = 0
    for cs in choices:
        flow = plan.flows[cs.flow]
        if not flow.market or len(cs.routes) < 2:
            continue
        probs, _, costs = market_choice(plan, cs, {}, {})
        expected = math.fsum(p * c for p, c in zip(probs, costs, strict=True))
        assert state[(flow.origin, flow.destination, flow.commodity)][1] == \
            pytest.approx(expected)
        dearer += expected > min(costs) + 1e-6
    assert dearer   # a flow where the expected cost and the cheapest differ


def _route0_share(model: Model, cs: ChoiceSet, queued0: float) -> float:
    cum, _ = model._picker(cs)([queued0] + [0.0] * (len(cs.routes) - 1))
    return cum[0] / cum[-1]   # the plain picker gives weights, not probabilities


@pytest.mark.parametrize("market", [True, False])
def test_a_queue_on_a_route_lowers_its_share_in_the_run(tmp_path: Path, market: bool) -> None:
    """The run's route choice answers to the live queues: a route with a day queued (within
    the booking bound) is given less of its flow than with none, for a market flow (nested
    logit) and a plain one (relative-cost logit)."""
    # a flat plain logit (scale 0.1), so a plain flow splits over its routes too
    plan = prepare(write_market_scenario(tmp_path, routing={"logit_scale": 0.1}))
    model = Model(plan, 0)
    extra = min(24.0, plan.routing.max_excess_wait_hours)
    cs = next(c for c in model.choices if len(c.routes) >= 2
              and bool(plan.flows[c.flow].market) == market
              and 1e-6 < _route0_share(model, c, 0.0) < 1 - 1e-6)
    assert _route0_share(model, cs, extra) < _route0_share(model, cs, 0.0)


def test_each_flow_draws_its_routes_from_its_own_stream(tmp_path: Path) -> None:
    """Common random numbers: route draws come from stream (seed, replication,
    'choice:<flow>'), so two flows draw different numbers, and a flow draws the same ones
    whatever another flow's demand."""
    from sim.network import revise

    plan = prepare(write_market_scenario(tmp_path))
    model = Model(plan, 0)
    a, b = (model._demand(cs) for cs in model.choices[:2])
    first = [a.choices() for _ in range(5)]
    assert first != [b.choices() for _ in range(5)]
    last = plan.flows[-1]
    more = revise(plan, flows=(*plan.flows[:-1], last.model_copy(
        update={"teu_per_year": last.teu_per_year * 2})))
    other = Model(more, 0)
    again = other._demand(other.choices[0])
    assert [again.choices() for _ in range(5)] == first


def test_a_route_s_spread_is_shrunk_by_its_lots_and_averaged_over_the_passes() -> None:
    """`_spreads` at lots of 40 TEU: route 0 carried 800 TEU (20 lots, as much as the
    shrinkage's 20 lots: weight 1/2) at an sd of 10 h, route 1 2,400 TEU (weight 3/4) at
    30 h; their gateway's TEU-weighted sd is (800 x 10 + 2400 x 30) / 3200 = 25 h. Seen:
    10/2 + 25/2 = 17.5 h and 30 x 3/4 + 25/4 = 28.75 h; in pass 2 after 7.5 and 8.75 h the
    MSA gives 7.5 + (17.5 - 7.5) / 2 = 12.5 h and 8.75 + (28.75 - 8.75) / 2 = 18.75 h."""
    routes = pd.DataFrame({"teu_usual_delivered_per_year": [800.0, 2400.0],
                           "transit_usual_sd_h": [10.0, 30.0]})

    def route(i: int) -> Route:
        return Route(index=i, legs=(), hubs=(), corridor="g", km=0.0, price_cny=0.0,
                     base_hours=0.0, co2_kg_per_t=0.0, gateway="g")
    choices = [ChoiceSet(flow=0, value_of_time=1.0, routes=(route(0), route(1)))]
    learnt = _spreads(routes, choices, lot_teu=40.0, previous={0: 7.5, 1: 8.75}, n=2)
    assert learnt == {0: pytest.approx(12.5), 1: pytest.approx(18.75)}


def test_the_report_counts_induced_teu_of_every_flow_and_market_trade_of_market_flows(
        tmp_path: Path) -> None:
    """`_report` at demand factors 1.5 on the domestic flow (500 TEU/yr), 2 on a trade flow
    written in without a market (1,000 TEU/yr qz -> asean) and 1.1 on the EU electronics
    (10,000 TEU/yr at 2m CNY/TEU): induced 250 + 1,000 + 1,000 TEU/yr; the market's
    induced trade the electronics' alone, 1,000 TEU/yr and 2 bn CNY/yr; its input every
    trade flow's, 46,000 TEU/yr."""
    from sim.equilibrium import _report

    doc = market_doc(tmp_path)
    doc["demand"]["flows"].append({"origin": "qz", "destination": "asean",
                                   "commodity": "materials", "teu_per_year": 1000,
                                   "flow_class": "trade", "source": "test: written in"})
    plan = prepare(write_scenario(tmp_path / "s.yaml", doc))
    given = {("sh", "cq", "materials"): 1.5, ("qz", "asean", "materials"): 2.0,
             ("cq", "eu", "electronics"): 1.1}
    factors = [given.get((f.origin, f.destination, f.commodity), 1.0) for f in plan.flows]
    assert sorted((f.origin, f.destination, f.teu_per_year) for f in plan.flows
                  if f.flow_class == "trade") == [
        ("asean", "cq", 10_000), ("cq", "asean", 15_000), ("cq", "eu", 10_000),
        ("eu", "cq", 10_000), ("qz", "asean", 1000)]
    report = _report(plan, factors, passes=0, converged=False, gaps=[])
    assert report.induced_teu_per_year == pytest.approx(250 + 1000 + 1000)
    assert report.market_induced_teu_per_year == pytest.approx(1000)
    assert report.market_induced_bn_cny_per_year == pytest.approx(1000 * 2e6 / 1e9)
    assert report.market_input_teu_per_year == pytest.approx(46_000)
    # materials at 200k CNY/TEU: 1,000 + 10,000 + 15,000 + 10,000 TEU; electronics 10,000
    assert report.market_input_bn_cny_per_year == pytest.approx(
        (36_000 * 2e5 + 10_000 * 2e6) / 1e9)
    assert report.market_induced_by_market == (("asean", 0.0, 0.0),
                                               ("eu", pytest.approx(1000), pytest.approx(2.0)))


def test_an_event_past_the_passes_horizon_counts_to_its_own_end(tmp_path: Path) -> None:
    """`_aftermath` of a pass shorter than the run (`equilibrium.days`) that ends inside the
    event: its queue never came back within the pass, yet the event lasts at least to its
    own end (day 242), not to the pass's (day 230)."""
    from sim.equilibrium import _aftermath

    doc = market_doc(tmp_path, horizon={"days": 300, "warmup_days": 30})
    doc["changes"] = [{"kind": "disruption", "hub": "qz", "start_day": 200, "end_day": 242,
                       "capacity_factor": 0.0, "why": "test"}]
    plan = prepare(write_scenario(tmp_path / "closed.yaml", doc))
    queue = {d: float(d % 6) for d in range(30, 200)}       # usual range 0-5 TEU
    queue.update(dict.fromkeys(range(200, 230), 1000.0))    # the pass ends on day 230
    daily = pd.DataFrame({"hub": "qz", "day": list(queue), "queue_teu": list(queue.values())})
    assert _aftermath(plan, {"hubs_daily": daily}, {}, 1) == {("hub", "qz", 200 * 24.0):
                                                              242 * 24.0}


def test_a_warm_start_meets_the_settled_reference_from_its_first_pass(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Settling from cold, each pass's demand answers to the reference's state after the
    same pass; from a warm start (`initial_delay`, a pathway's later year) it answers to the
    reference's settled state throughout (`settle`)."""
    import sim.equilibrium as equilibrium

    states = tuple({("nowhere", "nowhere", f"after pass {n}"): (0.0, 1.0)} for n in range(4))
    monkeypatch.setattr(equilibrium, "market_reference", lambda *args, **kw: states)
    met: list[object] = []
    real = equilibrium._factors

    def spied(base: object, choices: object, mref: object, *args: object) -> object:
        met.append(mref)
        return real(base, choices, mref, *args)  # type: ignore[arg-type]
    monkeypatch.setattr(equilibrium, "_factors", spied)
    plan = prepare(write_market_scenario(
        tmp_path, horizon={"days": 20, "warmup_days": 5},
        equilibrium={"max_iterations": 3, "min_iterations": 3}))
    equilibrium.settle(plan)
    assert met == [states[0], states[1], states[2], states[3], states[3]]
    met.clear()
    equilibrium.settle(plan, initial_delay={0: 1.0})
    assert met == [states[3]] * 5


def test_a_plan_that_is_its_own_reference_does_not_report_one_from_the_base_run(
        tmp_path: Path) -> None:
    """`reference_from_base_run` says a comparison's alternative took the base run's settled
    reference; a plan with no reference of its own takes none, given one or not."""
    from sim.equilibrium import settle as settle_plan

    plan = prepare(write_market_scenario(tmp_path))
    assert plan.reference_scenario is None
    report = settle_plan(plan, given_reference={0: ({},)}).report
    assert not report.reference_from_base_run
    assert "reference_from_base_run" not in report.as_dict()


def test_a_plain_flow_s_choice_adds_the_learnt_unforeseen_delay_to_the_picture(
        tmp_path: Path) -> None:
    """The plain picker's cost of a route is its tariff and value of time on its hours, the
    hours queued and the delay learnt that the picture does not foresee (`route_delay`):
    24 h learnt on the first route weigh as 24 h queued would. Weights by hand:
    exp(-scale (cost / cheapest - 1))."""
    plan = prepare(write_market_scenario(tmp_path, routing={"logit_scale": 0.1}))
    cs = next(c for c in choice_sets(plan) if len(c.routes) >= 2
              and not plan.flows[c.flow].market)
    first = cs.routes[0].index
    model = Model(plan, 0, route_delay={first: 24.0})
    zeros = [0.0] * len(cs.routes)
    costs = [r.price_cny + cs.value_of_time * (r.base_hours + (24.0 if k == 0 else 0.0))
             for k, r in enumerate(cs.routes)]
    by_hand = [math.exp(-0.1 * (c / min(costs) - 1.0)) for c in costs]
    cum, _ = model._picker(cs)(zeros)
    assert cum == pytest.approx(np.cumsum(by_hand).tolist())


def test_in_a_dated_event_a_route_with_no_event_delay_learnt_keeps_its_usual_one(
        tmp_path: Path) -> None:
    """While a dated event is in force on its routes, route choice adds the delay learnt in
    events (`route_delay_event`), and where none was learnt for a route its usual delay,
    not nothing."""
    plan = prepare(write_market_scenario(tmp_path, routing={"logit_scale": 0.1}))
    cs = next(c for c in choice_sets(plan) if len(c.routes) >= 2
              and not plan.flows[c.flow].market)
    first = cs.routes[0].index
    zeros = [0.0] * len(cs.routes)
    on = (True,) * len(cs.routes)
    usual = Model(plan, 0, route_delay={first: 24.0})
    assert usual._picker(cs, on)(zeros) == usual._picker(cs)(zeros)
    learnt = Model(plan, 0, route_delay={first: 24.0}, route_delay_event={first: 0.0})
    assert learnt._picker(cs, on)(zeros) == Model(plan, 0)._picker(cs)(zeros)


def test_a_lot_booked_on_a_route_that_shows_no_end_of_its_queue_foresees_the_bound(
        tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """A halted lock's queue shows no end (an infinite wait): a lot booked then has foreseen
    `routing.max_excess_wait_hours` on its route, the most a booking may be queued, not
    nothing (what the passes take from its delay as foreseen). It replaces the model's
    picture, so it runs in the plain engine."""
    if ran_in_plain_engine(request):
        return
    plan = prepare(write_market_scenario(tmp_path, routing={"max_excess_wait_hours": 100.0}))
    model = Model(plan, 0)
    arrivals = next(a for a in (model._demand(cs) for cs in model.choices)
                    if a.aware and all(a.waits[1]))
    model.picture = lambda places: tuple(math.inf for _ in places)  # type: ignore[method-assign]
    booked: list[float] = []
    model.recorder.created = lambda lot, offered: booked.append(lot.foreseen)  # type: ignore[method-assign]
    arrivals.arrive(None)
    assert booked == [100.0]
