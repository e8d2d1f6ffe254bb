"""Empty boxes (market.empties): sized as the repositioned share of a lane's loaded imbalance
(against a hand computation from the nested logit), carried as lots that take slots,
counted apart from the loaded TEU, and conserved; trade counted when declared."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from sim.calibration import CalibrationTarget, calibrate
from sim.errors import InputError
from sim.market.choice import nests_of, probabilities
from sim.pipeline import prepare, replicate, settle
from tests.support.market import market_doc
from tests.support.netbuilder import write_scenario

EMPTY = {"value_cny_per_teu": 0, "value_of_time_cny_per_teu_hour": 0, "tonnes_per_teu": 2.2,
         "source": "test"}


def _doc(tmp: Path, share: float = 0.5, **kw: Any) -> dict[str, Any]:
    doc = market_doc(tmp, **kw)
    doc["demand"]["classes"]["empty"] = EMPTY
    doc["market"]["empties"] = {"repositioned_share": share, "source": "test",
                                "lanes": [{"gateway": "west", "china": "cq",
                                           "abroad": ["eu"]}]}
    return doc


def _loaded_by_gateway(settled: Any, market: str) -> dict[tuple[str, str], float]:
    """Hand computation: loaded TEU/yr per (gateway, 'out' | 'in') of a market's flows, by
    the nested logit at free-flow cost."""
    plan = settled.plan
    choice = plan.market.section.choice
    loaded: dict[tuple[str, str], float] = {}
    for cs in settled.choices:
        flow = plan.flows[cs.flow]
        if flow.market != market:
            continue
        nests = nests_of([r.gateway for r in cs.routes], flow.market,
                         plan.classes[flow.commodity].value_cny_per_teu, choice)
        probs, _ = probabilities(nests, [r.price_cny + cs.value_of_time * r.base_hours
                                         for r in cs.routes])
        way = "out" if flow.origin == "cq" else "in"
        for p, r in zip(probs, cs.routes, strict=True):
            loaded[(r.gateway, way)] = loaded.get((r.gateway, way), 0.0) + flow.teu_per_year * p
    return loaded


def test_empties_are_the_share_of_the_loaded_imbalance(tmp_path: Path) -> None:
    settled = settle(prepare(write_scenario(tmp_path / "m.yaml", _doc(tmp_path, share=0.4))))
    loaded = _loaded_by_gateway(settled, "eu")
    empties = {(f.origin, f.destination): f.teu_per_year for f in settled.plan.flows
               if f.flow_class == "empty"}
    assert loaded[("west", "out")] > loaded[("west", "in")] > 0   # electronics out, materials back
    assert empties[("eu", "cq")] == pytest.approx(
        0.4 * (loaded[("west", "out")] - loaded[("west", "in")]))
    assert empties[("cq", "eu")] == 0.0


@pytest.mark.parametrize("from_classes, counted", [(None, True), (["trade"], False)])
def test_input_flows_sized_with_their_empties_can_be_left_out(
        tmp_path: Path, from_classes: list[str] | None, counted: bool) -> None:
    """A transit input westbound adds to the west lane's imbalance unless `from_classes`
    leaves its class out (an input sized from a count of all boxes carries its empties)."""
    doc = _doc(tmp_path, share=0.5)
    doc["demand"]["flows"].append({"origin": "cq", "destination": "eu", "commodity": "materials",
                                   "teu_per_year": 3000, "flow_class": "transit",
                                   "gateway": "west", "source": "test: transit input"})
    if from_classes is not None:
        doc["market"]["empties"]["from_classes"] = from_classes
    settled = settle(prepare(write_scenario(tmp_path / "m.yaml", doc)))
    loaded = _loaded_by_gateway(settled, "eu")
    transit = 3000.0 if counted else 0.0
    empties = {(f.origin, f.destination): f.teu_per_year for f in settled.plan.flows
               if f.flow_class == "empty"}
    assert empties[("eu", "cq")] == pytest.approx(
        0.5 * (loaded[("west", "out")] + transit - loaded[("west", "in")]))


def test_each_gateway_balances_its_own_boxes(tmp_path: Path) -> None:
    """Two lanes between the same depot and end: each gateway's empties answer its own
    imbalance and ride its own services (one gateway's empties never crowd the other's)."""
    doc = _doc(tmp_path, share=0.5)
    doc["market"]["empties"]["lanes"].append({"gateway": "east", "china": "cq",
                                              "abroad": ["eu"]})
    settled = settle(prepare(write_scenario(tmp_path / "m.yaml", doc)))
    loaded = _loaded_by_gateway(settled, "eu")
    empties = {(f.gateway, f.origin, f.destination): f.teu_per_year for f in settled.plan.flows
               if f.flow_class == "empty"}
    assert set(empties) == {(g, a, b) for g in ("west", "east")
                            for a, b in (("cq", "eu"), ("eu", "cq"))}
    for g in ("west", "east"):
        assert loaded[(g, "out")] > 0
        assert empties[(g, "eu", "cq")] == pytest.approx(
            0.5 * max(0.0, loaded[(g, "out")] - loaded.get((g, "in"), 0.0)))
        assert empties[(g, "cq", "eu")] == pytest.approx(
            0.5 * max(0.0, loaded.get((g, "in"), 0.0) - loaded[(g, "out")]))
    bound = {cs.flow: {r.gateway for r in cs.routes} for cs in settled.choices}
    for fi, f in enumerate(settled.plan.flows):
        if f.flow_class == "empty":
            assert bound[fi] == {f.gateway}


def test_a_lane_s_own_share_wins_over_the_section_s(tmp_path: Path) -> None:
    doc = _doc(tmp_path, share=0.9)
    doc["market"]["empties"]["lanes"][0] |= {"repositioned_share": 0.2, "source": "test"}
    settled = settle(prepare(write_scenario(tmp_path / "m.yaml", doc)))
    loaded = _loaded_by_gateway(settled, "eu")
    empties = {(f.origin, f.destination): f.teu_per_year for f in settled.plan.flows
               if f.flow_class == "empty"}
    assert empties[("eu", "cq")] == pytest.approx(
        0.2 * (loaded[("west", "out")] - loaded[("west", "in")]))


@pytest.mark.parametrize(("lane", "field"), [
    ({"repositioned_share": 0.2}, "empties.lanes.0"),               # an unsourced share
    ({"repositioned_share": 1.2, "source": "test"}, "empties.lanes.0.repositioned_share")])
def test_a_lane_s_bad_share_is_refused_in_one_line(tmp_path: Path, lane: dict[str, Any],
                                                   field: str) -> None:
    doc = _doc(tmp_path)
    doc["market"]["empties"]["lanes"][0] |= lane
    with pytest.raises(InputError) as err:
        prepare(write_scenario(tmp_path / "m.yaml", doc))
    assert field in str(err.value) and "\n" not in str(err.value)


def test_a_lane_of_an_unknown_gateway_is_refused_in_one_line(tmp_path: Path) -> None:
    doc = _doc(tmp_path)
    doc["market"]["empties"]["lanes"][0]["gateway"] = "wets"
    path = write_scenario(tmp_path / "m.yaml", doc)
    with pytest.raises(InputError) as err:
        prepare(path)
    assert "empties.lanes.0.gateway" in str(err.value) and "wets" in str(err.value)
    # without market.gateways (a gateway per corridor) the empty flow's choice set names the
    # place it was written
    doc["market"]["gateways"] = {}
    with pytest.raises(InputError) as err:
        settle(prepare(write_scenario(tmp_path / "n.yaml", doc)))
    assert "market.empties.gateway" in str(err.value) and "wets" in str(err.value)


@pytest.mark.parametrize("value", [["empty"], [], ["trade", "cargo"]])
def test_from_classes_of_no_loaded_class_is_refused_in_one_line(tmp_path: Path,
                                                                  value: list[str]) -> None:
    doc = _doc(tmp_path)
    doc["market"]["empties"]["from_classes"] = value
    with pytest.raises(InputError) as err:
        prepare(write_scenario(tmp_path / "m.yaml", doc))
    assert "market.empties.from_classes" in str(err.value)
    assert "\n" not in str(err.value)


def test_empties_take_slots_count_apart_and_are_conserved(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = _doc(tmp_path, horizon={"days": 120, "warmup_days": 20})
    doc["demand"]["lot_teu"] = 10
    plan = prepare(write_scenario(tmp_path / "m.yaml", doc))
    results = replicate(settle(plan))
    rep = results.replications[0]
    c = rep.conservation
    assert c["created_teu"] == pytest.approx(
        c["delivered_teu"] + c["in_transit_teu"] + c["waiting_teu"], abs=1e-6)
    gw = rep.tables["gateways"].set_index(["gateway", "flow_class"])
    empty = gw.loc[("west", "empty"), "teu_per_year"]
    assert empty > 0
    assert gw.loc[("west", "empty"), "value_bn_cny_per_year"] == 0.0
    routes = rep.tables["routes"]
    cor = rep.tables["corridors"].set_index("corridor")
    all_west = routes.loc[routes["corridor"] == "west", "teu_delivered_per_year"].sum()
    assert cor.loc["west", "teu_per_year"] + cor.loc["west", "empty_teu_per_year"] == \
        pytest.approx(all_west)
    assert cor.loc["west", "empty_teu_per_year"] == pytest.approx(empty)
    ratio = CalibrationTarget(id="r", metric="r", published=0.8, low=0.0, high=1.0,
                              unit="share", measure="loaded_ratio:west:in", how_measured="",
                              source="test")
    row = calibrate(results, [ratio])[0]
    back = routes[(routes["gateway"] == "west") & (routes["destination"] == "cq")]
    loaded_back = back.loc[back["flow_class"] != "empty", "teu_delivered_per_year"].sum()
    assert row.simulated == pytest.approx(loaded_back / (loaded_back + empty))
    assert 0 < row.simulated < 1
    # both ways together: a round-trip loading factor over every box of the gateway, which
    # lies between the two directions' ratios (their TEU-weighted mean)
    ways = {way: calibrate(results, [replace(ratio, measure=f"loaded_ratio:west:{way}")])[0]
            .simulated for way in ("out", "in", "both")}
    west = routes[routes["gateway"] == "west"]
    loaded = west.loc[west["flow_class"] != "empty", "teu_delivered_per_year"].sum()
    assert ways["both"] == pytest.approx(loaded / (loaded + empty))
    assert min(ways["out"], ways["in"]) <= ways["both"] <= max(ways["out"], ways["in"])
    assert ways["in"] < ways["both"]     # the empties come back, so the round trip is fuller
    # a gateway's domestic boxes (the Yangtze's, China to China) are not among its
    # foreign-trade boxes: a loaded domestic route leaves every ratio as it was
    every = results.by_replication("routes")
    domestic = every[(every["gateway"] == "west") & (every["flow_class"] != "empty")].head(1)
    tables = {"routes": pd.concat([every, domestic.assign(
        origin="cq", destination="cq", flow_class="domestic")], ignore_index=True)}
    original = results.by_replication
    monkeypatch.setattr(results, "by_replication", lambda name: tables.get(name) if
                        name in tables else original(name))
    for way, value in ways.items():
        again = calibrate(results, [replace(ratio, measure=f"loaded_ratio:west:{way}")])[0]
        assert again.simulated == pytest.approx(value), way


def test_trade_is_counted_when_declared(tmp_path: Path) -> None:
    """Trade per corridor = TEU that left their origin in the period x the class value (trade
    flows), not what happened to be delivered before the horizon."""
    doc = market_doc(tmp_path, horizon={"days": 60, "warmup_days": 10})
    plan = prepare(write_scenario(tmp_path / "m.yaml", doc))
    rep = replicate(settle(plan)).replications[0]
    routes = rep.tables["routes"]
    value = {k: c.value_cny_per_teu for k, c in plan.classes.items()}
    trade = routes[routes["flow_class"] == "trade"]
    declared = (trade["teu_departed_per_year"] * trade["commodity"].map(value)).groupby(
        trade["corridor"]).sum() / 1e9
    delivered = (trade["teu_delivered_per_year"] * trade["commodity"].map(value)).sum() / 1e9
    cor = rep.tables["corridors"].set_index("corridor")
    for corridor, bn in declared.items():
        assert cor.loc[corridor, "trade_bn_cny_per_year"] == pytest.approx(bn)
    assert declared.sum() > delivered   # 60 days: much is still on the way at the end


def test_gateway_measures_sum_over_gateways(tmp_path: Path) -> None:
    """`gateway_value:G+H:CLASS` sums the value delivered per year through several gateways
    (`class_value:G:COMMODITY` of one commodity class of trade);
    `value_per_teu:G+H` divides their loaded value by their loaded TEU (empties left out),
    `value_per_teu:G+H:all` by every box they carried (as published counts of boxes do);
    `line_teu:S+T` sums the TEU of services' lines, both directions, and `link_teu:C:A+B`
    that of the corridor's links touching either hub."""
    doc = _doc(tmp_path, horizon={"days": 120, "warmup_days": 20})
    doc["demand"]["lot_teu"] = 10
    results = replicate(settle(prepare(write_scenario(tmp_path / "m.yaml", doc))))
    gw = results.replications[0].tables["gateways"]
    both = gw[gw["gateway"].isin(["west", "south"])]
    assert set(both["gateway"]) == {"west", "south"}

    def figure(measure: str, unit: str = "bn CNY/yr") -> float:
        target = CalibrationTarget(id="x", metric="x", published=1.0, low=0.0, high=1e12,
                                   unit=unit, measure=measure, how_measured="",
                                   source="test")
        return calibrate(results, [target])[0].simulated

    trade = both[both["flow_class"] == "trade"]
    assert figure("gateway_value:west+south:trade") == pytest.approx(
        trade["value_bn_cny_per_year"].sum())
    # several flow classes: the boxes of Chongqing's trade and the empties together
    boxes = both[both["flow_class"].isin(["trade", "empty"])]
    assert set(boxes["flow_class"]) == {"trade", "empty"}
    assert figure("gateway_teu:west+south:trade+empty", "TEU/yr") == pytest.approx(
        boxes["teu_per_year"].sum())
    loaded = both[both["flow_class"] != "empty"]
    assert figure("value_per_teu:west+south") == pytest.approx(
        loaded["value_bn_cny_per_year"].sum() * 1e9 / loaded["teu_per_year"].sum())
    assert both.loc[both["flow_class"] == "empty", "teu_per_year"].sum() > 0
    assert figure("value_per_teu:west+south:all") == pytest.approx(
        both["value_bn_cny_per_year"].sum() * 1e9 / both["teu_per_year"].sum())
    routes = results.replications[0].tables["routes"]
    plan = results.plan
    for commodity in sorted(set(routes.loc[routes["flow_class"] == "trade", "commodity"])):
        on = routes[(routes["gateway"] == "west") & (routes["commodity"] == commodity)]
        assert figure(f"class_value:west:{commodity}") == pytest.approx(
            on["teu_delivered_per_year"].sum() * plan.classes[commodity].value_cny_per_teu / 1e9)
    # `line_teu:S+T`: the TEU of services' lines, both running directions together
    lines = results.replications[0].tables["lines"]
    busy = lines[lines["teu_per_year"] > 0]
    two = sorted(set(busy["service"]))[:2]
    on = lines[lines["service"].isin(two)]
    assert len(two) == 2 and on["line"].nunique() == 4, on[["line", "teu_per_year"]]
    assert figure(f"line_teu:{'+'.join(two)}", "TEU/yr") == pytest.approx(
        on["teu_per_year"].sum())
    # `link_teu:C:A+B`: the corridor's links touching either hub, each link once
    links = results.replications[0].tables["links"]
    west = links[links["corridor"] == "west"]
    hubs = sorted(set(west["from_hub"]))[:2]
    touching = west[west["from_hub"].isin(hubs) | west["to_hub"].isin(hubs)]
    assert len(hubs) == 2 and touching["teu_per_year"].sum() > 0
    assert figure(f"link_teu:west:{'+'.join(hubs)}", "TEU/yr") == pytest.approx(
        touching["teu_per_year"].sum())


@pytest.mark.parametrize(("lane", "field"), [
    ({"abroad": ["eu", "zzz"]}, "market.empties.lanes.0.abroad.1"),
    ({"china": "zzz"}, "market.empties.lanes.0.china"),
])
def test_an_unknown_hub_of_a_lane_is_named_where_it_is_written(
        tmp_path: Path, lane: dict[str, Any], field: str) -> None:
    """The error named market.empties.origin/destination, fields no file has (probe,
    2026-12-05)."""
    doc = _doc(tmp_path)
    doc["market"]["empties"]["lanes"][0] |= lane
    with pytest.raises(InputError) as err:
        prepare(write_scenario(tmp_path / "s.yaml", doc))
    assert err.value.field == field and err.value.got == "zzz"


def test_a_river_box_for_a_market_inland_counts_where_its_sea_leg_ends() -> None:
    """The river's lane lists sea ports, where its boxes come back from; keyed on the flow's
    end, the EU, Vietnam and Russia trade on the river (ends Duisburg, Hanoi, Moscow) was in
    no lane's imbalance: about 14k empty TEU/yr missing at Guoyuan (review49 H1)."""
    import warnings

    from sim.market.empties import loaded_teu
    from sim.routing import choice_sets
    from tests.support.paths import BASELINE_2023

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = prepare(BASELINE_2023)
    loaded = loaded_teu(plan, choice_sets(plan), {}, {})
    for port in ("hamburg", "rotterdam", "haiphong"):
        for way in ("out", "in"):
            assert loaded.get(("east", "cq_guoyuan", port, way), 0.0) > 100, (port, way)
    # the trains' lanes list the flows' ends themselves: their keys stay those ends
    assert {k[2] for k in loaded if k[0] == "west"} <= {"duisburg", "moscow", "almaty"}


def test_a_lane_is_keyed_on_the_last_of_its_hubs_a_route_reaches() -> None:
    """Keyed on the first, the river's Duisburg boxes count at the first sea port they pass
    (review49 H1 back: 6.8k TEU/yr moved between the south lane's ends on baseline-2023)."""
    from sim.market.empties import _lane_end

    abroad = ("singapore", "jebel_ali", "duisburg")
    out = ("cq", "qinzhou", "singapore", "jebel_ali", "duisburg")
    assert _lane_end("south", "cq", abroad, out) == ("south", "cq", "duisburg", "out")
    # the same hubs the other way: the first left from before the depot
    assert _lane_end("south", "cq", abroad, out[::-1]) == ("south", "cq", "duisburg", "in")
