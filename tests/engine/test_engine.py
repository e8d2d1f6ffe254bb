"""Each engine mechanism on a small network: services, splitting, yards, handling, dwell,
gauge change, the lock, disruptions, conservation and determinism."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.engine import Model, simulate
from sim.errors import ConservationError
from sim.network import build
from sim.scenario import load_scenario
from tests.support import netbuilder as nb


def _plan(path: Path):
    return build(load_scenario(path))


def _run(path: Path, replication: int = 0):
    return simulate(_plan(path), replication)


def _table(result, name: str, key: str) -> pd.DataFrame:
    return result.tables[name].set_index(key)


def test_scheduled_service_caps_each_departure_and_splits_lots(tmp_path: Path) -> None:
    # 25 TEU trains, 10 TEU lots, demand above capacity: lots must split to fill trains.
    path = nb.line_network(tmp_path, per_week=7, teu_per_year=20_000)
    doc = yaml.safe_load(path.read_text())
    doc["network"]["services"]["ab"]["vehicle_teu"] = 25
    nb.write_scenario(path, doc)
    result = _run(path)
    links = result.tables["links"].set_index(["link", "direction"])
    down = links.loc[("a-b", "down")]
    assert down["teu_per_year"] <= down["vehicles_per_year"] * 25 + 1e-9
    assert down["teu_per_year"] >= 0.95 * down["vehicles_per_year"] * 25  # trains leave full
    lines = _table(result, "lines", "line")
    assert lines.loc["ab", "load_factor"] > 0.95
    # 10 TEU lots fill 25 TEU trains only by splitting: more delivered records than lots
    west = _table(result, "corridors", "corridor").loc["west"]
    assert west["lots_per_year"] > west["teu_per_year"] / 10


def test_wait_for_a_daily_train_is_about_half_a_headway(tmp_path: Path) -> None:
    path = nb.line_network(tmp_path, per_week=7, teu_per_year=5_000)
    waits = [_table(_run(path, r), "lines", "line").loc["ab", "boarding_wait_mean_h"]
             for r in range(4)]
    assert np.mean(waits) == pytest.approx(12.0, rel=0.08)   # measured 2.7% off


def test_handling_utilization_matches_offered_load(tmp_path: Path) -> None:
    a = nb.hub("a", 0, handling_servers=1, handling_teu_per_hour=4.0)
    b = nb.hub("b", 1)
    nb.write_geodata(tmp_path / "geo", [a, b], [nb.link("a-b", a, b)])
    doc = nb.scenario(str(tmp_path / "geo"), {"ab": nb.train(["a", "b"], per_week=14)},
                      [nb.flow("a", "b", 17_520)], horizon={"days": 200})
    result = _run(nb.write_scenario(tmp_path / "s.yaml", doc))
    # 17,520 TEU/yr = 2 TEU/h offered to one position handling 4 TEU/h: utilization 0.5
    util = _table(result, "hubs", "hub").loc["a", "utilization"]
    assert util == pytest.approx(0.5, abs=0.02)   # measured 0.0073 off


def test_full_yard_holds_freight_upstream(tmp_path: Path) -> None:
    def run(yard: float):
        a = nb.hub("a", 0, yard_teu=yard)
        b = nb.hub("b", 1)
        nb.write_geodata(tmp_path / "geo", [a, b], [nb.link("a-b", a, b)])
        doc = nb.scenario(str(tmp_path / "geo"),
                          {"ab": nb.train(["a", "b"], per_week=2, teu=200)},
                          [nb.flow("a", "b", 20_000)], horizon={"days": 120})
        return _run(nb.write_scenario(tmp_path / "s.yaml", doc))

    small, large = run(200.0), run(100_000.0)
    hubs_small = _table(small, "hubs", "hub")
    assert hubs_small.loc["a", "yard_peak_teu"] <= 200 + 1e-9
    # lots queue at the gate of the small yard, not inside it
    assert hubs_small.loc["a", "wait_mean_h"] > _table(large, "hubs", "hub").loc["a",
                                                                               "wait_mean_h"]
    assert _table(large, "hubs", "hub").loc["a", "yard_peak_teu"] > 200


def test_clearance_dwell_adds_to_transit(tmp_path: Path) -> None:
    def transit(dwell: float) -> float:
        a, b = nb.hub("a", 0, dwell_hours=dwell), nb.hub("b", 1)
        nb.write_geodata(tmp_path / "geo", [a, b], [nb.link("a-b", a, b)])
        doc = nb.scenario(str(tmp_path / "geo"), {"ab": nb.train(["a", "b"], per_week=70)},
                          [nb.flow("a", "b", 5_000)], horizon={"days": 120},
                          variability={"dwell_cv": 0.0, "running_time_cv": 0.0})
        result = _run(nb.write_scenario(tmp_path / "s.yaml", doc))
        return _table(result, "corridors", "corridor").loc["west", "transit_mean_h"]

    # no variability: 47.9924 h measured
    assert transit(48.0) - transit(0.0) == pytest.approx(48.0, abs=0.05)


def test_a_hubs_dwell_draws_belong_to_each_flow(tmp_path: Path) -> None:
    """Common random numbers at a shared hub: more freight of one flow through a hub with
    ample positions leaves the dwell, and so the transit, of another flow's lots as they
    were (drawn from the hub's one stream, the extra jobs took the other flow's draws)."""
    def routes(other_teu: float) -> pd.DataFrame:
        a = nb.hub("a", 0, dwell_hours=12.0, handling_servers=500, yard_teu=1e6)
        b, c = nb.hub("b", 1), nb.hub("c", 1, 1.0)
        nb.write_geodata(tmp_path / "geo", [a, b, c],
                         [nb.link("a-b", a, b), nb.link("a-c", a, c)])
        doc = nb.scenario(str(tmp_path / "geo"),
                          {"ab": nb.train(["a", "b"], per_week=70, teu=500),
                           "ac": nb.train(["a", "c"], per_week=70, teu=500)},
                          [nb.flow("a", "b", 5_000), nb.flow("a", "c", other_teu)],
                          horizon={"days": 120}, variability={"dwell_cv": 0.5})
        return _run(nb.write_scenario(tmp_path / "s.yaml", doc)).tables["routes"].set_index(
            "destination")

    base, more = routes(5_000.0), routes(15_000.0)
    assert more.loc["c", "teu_delivered_per_year"] > 2 * base.loc["c", "teu_delivered_per_year"]
    assert base.loc["b", "transit_sd_h"] > 1.0          # the dwell is drawn, not fixed
    for column in ("teu_delivered_per_year", "transit_mean_h", "transit_sd_h"):
        assert more.loc["b", column] == base.loc["b", column]


def test_gauge_change_border_handles_every_loaded_train(tmp_path: Path) -> None:
    a = nb.hub("a", 0)
    x = nb.hub("x", 1, kind="border", gauge_change=True, handling_servers=1,
               handling_setup_hours=3.0, handling_teu_per_hour=1000.0, dwell_hours=0.0)
    b = nb.hub("b", 2)
    nb.write_geodata(tmp_path / "geo", [a, x, b], [nb.link("a-x", a, x), nb.link("x-b", x, b)])
    doc = nb.scenario(str(tmp_path / "geo"), {"axb": nb.train(["a", "x", "b"], per_week=7,
                                                                stop_hours=0.0)},
                      [nb.flow("a", "b", 20_000)], horizon={"days": 90},
                      variability={"dwell_cv": 0.0, "running_time_cv": 0.0})
    result = _run(nb.write_scenario(tmp_path / "s.yaml", doc))
    hubs = _table(result, "hubs", "hub")
    lines = _table(result, "lines", "line")
    trains = lines.loc["axb", "loaded_departures_per_year"]
    assert hubs.loc["x", "trains_gauge_changed_per_year"] == pytest.approx(trains) and trains > 0
    # a through train spends setup + load/rate at the border: about 3.1 h per 100 TEU train
    assert hubs.loc["x", "utilization"] == pytest.approx(trains * 3.1 / 8760, rel=0.05)


def _river(tmp_path: Path, bulk_mt: float, chamber_t: float = 12_000.0) -> Path:
    a, b = nb.hub("a", 0, kind="river_port"), nb.hub("b", 2, kind="river_port")
    lock = nb.lock("lk", 1, lanes=1, cycle_hours=2.0, chamber_t=chamber_t,
                   passage_hours=3.0)
    nb.write_geodata(tmp_path / "geo", [a, b],
                     [nb.link("a-b", a, b, mode="river", corridor="east", lock="lk",
                              lock_at=0.5)], locks=[lock])
    barge = {"corridor": "east", "mode": "river", "stops": ["a", "b"],
             "departures_per_week": 14, "vehicle_teu": 200, "price_cny_per_teu": 500,
             "source": "test"}
    doc = nb.scenario(str(tmp_path / "geo"), {"barge": barge}, [nb.flow("a", "b", 50_000)],
                      horizon={"days": 120}, variability={"dwell_cv": 0.0,
                                                          "running_time_cv": 0.0})
    doc["network"]["locks"] = {"lk": {"classes": {"bulk": {
        "mt_per_year": bulk_mt, "vessel_t": 3000, "source": "test"}}, "source": "test"}}
    return nb.write_scenario(tmp_path / "s.yaml", doc)


def test_lock_is_shared_with_bulk_traffic(tmp_path: Path) -> None:
    quiet = _run(_river(tmp_path, bulk_mt=1.0))
    busy = _run(_river(tmp_path, bulk_mt=95.0))
    q = quiet.tables["locks"].set_index("direction").loc["down"]
    b = busy.tables["locks"].set_index("direction").loc["down"]
    assert b["bulk_t_per_year"] > 10 * q["bulk_t_per_year"]
    assert b["container_wait_mean_h"] > q["container_wait_mean_h"]
    # one lane lifts at most 12,000 t every 2 h
    assert b["total_t_per_year"] <= 12_000 * (8760 / 2.0) + 1e-6
    assert b["utilization"] > 0.8
    transit_q = _table(quiet, "corridors", "corridor").loc["east", "transit_mean_h"]
    transit_b = _table(busy, "corridors", "corridor").loc["east", "transit_mean_h"]
    assert transit_b > transit_q


def test_disruption_closes_a_hub_for_its_window(tmp_path: Path) -> None:
    path = nb.line_network(tmp_path, per_week=14, teu_per_year=20_000)
    doc = yaml.safe_load(path.read_text())
    doc["horizon"] = {"days": 84}
    doc["changes"] = [{"kind": "disruption", "hub": "b", "start_day": 28, "end_day": 56,
                       "capacity_factor": 0.0}]
    result = _run(nb.write_scenario(path, doc))
    weekly = result.tables["timeseries"].groupby("week")["teu_per_week"].sum()
    # week 4 starts at the closure: only jobs begun before it finish; weeks 5-7 see nothing
    assert weekly.get(4, 0.0) < 0.25 * weekly[3]
    assert all(weekly.get(w, 0.0) == 0.0 for w in (5, 6, 7))
    assert weekly.get(9, 0.0) > 0  # reopened: the backlog is delivered


def test_weekly_series_says_how_many_days_each_week_measured(tmp_path: Path) -> None:
    """The week the warm-up ends and the week the horizon ends are partly measured: their
    `days` say so, so their TEU are not read as a full week's."""
    path = nb.line_network(tmp_path, horizon={"days": 40, "warmup_days": 5})
    ts = _run(path).tables["timeseries"]
    days = ts.groupby("week")["days"].first()
    assert days.get(0) == pytest.approx(2.0)                  # days 5-7
    assert all(days[w] == pytest.approx(7.0) for w in days.index if 0 < w < 5)
    assert days.get(5) == pytest.approx(5.0)                  # days 35-40
    assert days.sum() == pytest.approx(35.0, abs=0.01)


def test_load_factor_of_full_trains_is_one_across_the_warm_up(tmp_path: Path) -> None:
    """Trains on the road when the warm-up ends offer their later hops to the period that
    counts those hops' TEU-km: a full line reads 1, not more (it read up to 1.14 in a
    60-day baseline run when the offer stayed with the warm-up)."""
    a, b, c = nb.hub("a", 0.0), nb.hub("b", 1.0), nb.hub("c", 2.0)
    nb.write_geodata(tmp_path / "geo", [a, b, c], [nb.link("a-b", a, b, hours=60.0),
                                                   nb.link("b-c", b, c, hours=60.0)])
    doc = nb.scenario(str(tmp_path / "geo"), {"abc": nb.train(["a", "b", "c"], per_week=7)},
                      [nb.flow("a", "c", 60_000)],     # twice what a daily 100-TEU train takes
                      horizon={"days": 30, "warmup_days": 9.5})
    lines = _run(nb.write_scenario(tmp_path / "s.yaml", doc)).tables["lines"]
    outbound = lines.set_index("line").loc["abc"]
    assert outbound["load_factor"] == pytest.approx(1.0, abs=1e-9)


def test_continuous_service_rate_bounds_throughput(tmp_path: Path) -> None:
    a, b = nb.hub("a", 0), nb.hub("b", 1)
    nb.write_geodata(tmp_path / "geo", [a, b], [nb.link("a-b", a, b, mode="road")])
    truck = {"corridor": "south", "mode": "road", "stops": ["a", "b"],
             "schedule": "continuous", "capacity_teu_per_day": 20, "price_cny_per_teu": 100,
             "source": "test"}
    doc = nb.scenario(str(tmp_path / "geo"), {"truck": truck}, [nb.flow("a", "b", 36_500)],
                      horizon={"days": 100})
    result = _run(nb.write_scenario(tmp_path / "s.yaml", doc))
    teu = _table(result, "corridors", "corridor").loc["south", "teu_per_year"]
    assert 0.9 * 20 * 365 <= teu <= (20 * 100 + 10) * 365 / 100  # 100 TEU/day asked, 20 carried


def test_conservation_holds_and_a_lost_lot_is_caught(tmp_path: Path) -> None:
    path = nb.line_network(tmp_path, per_week=3, teu_per_year=30_000)
    result = _run(path)
    cons = result.conservation
    assert cons["waiting_teu"] > 0 and abs(cons["residual_teu"]) < 1e-6
    assert cons["created_teu"] == pytest.approx(
        cons["delivered_teu"] + cons["in_transit_teu"] + cons["waiting_teu"])
    model = Model(_plan(path), 0)
    model.start()
    model.env.run(until=24 * 20)
    queue = next(q for line in model.lines for q in line.queues if q)
    queue.pop()  # freight vanishes without being delivered
    with pytest.raises(ConservationError):
        model.check_conservation()


def test_conservation_catches_freight_created_from_nothing(tmp_path: Path) -> None:
    """A lot counted twice is freight from nothing: the balance is checked both ways, not
    only for freight lost."""
    model = Model(_plan(nb.line_network(tmp_path, per_week=3, teu_per_year=30_000)), 0)
    model.start()
    model.env.run(until=24 * 20)
    queue = next(q for line in model.lines for q in line.queues if q)
    queue.append(queue[0])  # one lot waiting twice: more held than was created
    with pytest.raises(ConservationError):
        model.check_conservation()


def test_same_seed_identical_tables_other_seed_differs(tmp_path: Path) -> None:
    path = nb.line_network(tmp_path, per_week=7, teu_per_year=20_000)
    plan = _plan(path)
    first, second = simulate(plan, 0), simulate(plan, 0)
    for name, table in first.tables.items():
        pd.testing.assert_frame_equal(table, second.tables[name])
    other = simulate(plan, 1)
    assert not first.tables["corridors"].equals(other.tables["corridors"])


def test_freight_held_at_a_full_yard_gate_counts_as_backlog(tmp_path: Path) -> None:
    """Route choice must see freight still outside a full yard, not only the queue inside."""
    a = nb.hub("a", 0, yard_teu=100.0)
    b = nb.hub("b", 1)
    nb.write_geodata(tmp_path / "geo", [a, b], [nb.link("a-b", a, b)])
    doc = nb.scenario(str(tmp_path / "geo"), {"ab": nb.train(["a", "b"], per_week=1, teu=100)},
                      [nb.flow("a", "b", 20_000)], horizon={"days": 60})
    model = Model(_plan(nb.write_scenario(tmp_path / "s.yaml", doc)), 0)
    model.start()
    model.env.run(until=24 * 30)
    line = model.lines[0]
    at_gate = sum(amount for amount, _ in model.hubs["a"].yard.waiting)
    assert at_gate > 0 and line.queued_teu[0] <= 100
    at_hub = sum(lot.teu for lot in model.at_hubs.values() if lot.leg == 0)  # gate, handling
    assert line.booked_teu[0] == pytest.approx(line.queued_teu[0] + at_hub)
    assert line.booked_teu[0] >= line.queued_teu[0] + at_gate
    assert line.excess_wait(0) == line.line.spec.headway_hours * (line.booked_teu[0] // 100)


def test_a_stop_the_through_vehicles_reach_nearly_full_shows_its_longer_wait(
        tmp_path: Path) -> None:
    """At an intermediate stop a lot waits for the room the vehicles bring, not for whole
    vehicle-loads: route choice reads one headway per vehicle's room (as the last calls had
    it) of freight booked ahead, and no end when they come full."""
    a, b, c = nb.hub("a", 0), nb.hub("b", 1), nb.hub("c", 2)
    nb.write_geodata(tmp_path / "geo", [a, b, c], [nb.link("a-b", a, b), nb.link("b-c", b, c)])
    doc = nb.scenario(str(tmp_path / "geo"),
                      {"abc": nb.train(["a", "b", "c"], per_week=7, teu=100)},
                      [nb.flow("a", "c", 29_000), nb.flow("b", "c", 2_000)],
                      horizon={"days": 60})
    model = Model(_plan(nb.write_scenario(tmp_path / "s.yaml", doc)), 0)
    model.start()
    model.env.run(until=24 * 40)
    line = next(x for x in model.lines if x.line.stops[0] == "a")
    assert line.room[0] == pytest.approx(100.0)        # every train leaves a empty
    assert line.room[1] < 40.0                         # and reaches b about 80% full
    headway = line.line.spec.headway_hours
    assert line.excess_wait(1) == headway * (line.booked_teu[1] // line.room[1])
    line.room[1] = 0.0                                 # trains that came full of late
    line.booked_teu[1] = 5.0
    assert line.excess_wait(1) == float("inf")
    line.booked_teu[1] = 0.0
    assert line.excess_wait(1) == 0.0


def test_a_class_ships_in_its_own_lot_size(tmp_path: Path) -> None:
    """`demand.classes.<class>.lot_teu` sizes that class's lots (the demand's lot otherwise):
    the same TEU a year arrive as four times as many lots of a quarter of the size."""
    a, b = nb.hub("a", 0), nb.hub("b", 1)
    nb.write_geodata(tmp_path / "geo", [a, b], [nb.link("a-b", a, b)])
    doc = nb.scenario(str(tmp_path / "geo"), {"ab": nb.train(["a", "b"], per_week=7)},
                      [nb.flow("a", "b", 20_000)], horizon={"days": 60})
    plain = Model(_plan(nb.write_scenario(tmp_path / "s.yaml", doc)), 0)
    doc["demand"]["classes"]["general"]["lot_teu"] = 2.5
    small = Model(_plan(nb.write_scenario(tmp_path / "t.yaml", doc)), 0)
    for model in (plain, small):
        model.start()
        model.env.run(until=24 * 60)
    assert plain.plan.lot_teu_of("general") == 10 and small.plan.lot_teu_of("general") == 2.5
    lots = {m: m.next_lot_id() - 1 for m in (plain, small)}      # lots created so far
    assert plain.created_teu == pytest.approx(10 * lots[plain])
    assert small.created_teu == pytest.approx(2.5 * lots[small])
    assert lots[small] == pytest.approx(4 * lots[plain], rel=0.1)
    assert small.created_teu == pytest.approx(plain.created_teu, rel=0.1)


def test_a_gateway_of_no_market_section_is_labelled_as_its_corridor(tmp_path: Path) -> None:
    """A flow of no market row counts for its route's corridor in gateways.csv, whose label
    was empty (trial47: an add_flow's trade on a gateway `coastal` with no label)."""
    from sim.pipeline import run

    results = run(nb.line_network(tmp_path, teu_per_year=2_000), days=20)
    gateways = results.summary("gateways")
    assert list(gateways["gateway"]) == ["west"]
    assert list(gateways["label"]) == ["west corridor"]
