"""Outage windows (sim/outages.py): random windows follow their spec, are reproducible and
stable under horizon and scenario changes; maintenance turns the other flight round."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from sim.errors import InputError
from sim.outages import (
    closed_hours,
    direction_at,
    flight_segments,
    outage_windows,
    random_windows,
)
from sim.rng import stream
from sim.specs import Maintenance, RandomOutage, ScheduledOutage
from sim.units import HOURS_PER_MONTH

FOG = RandomOutage(name="fog", events_per_year=12, months=(10, 11, 12, 1, 2, 3, 4, 5, 6),
                   median_hours=14, sigma=0.8, source="test")
YEAR = 8760.0


def test_random_windows_follow_the_spec() -> None:
    years = 200
    windows = random_windows(FOG, years * YEAR, stream(1, 0, "t"))
    # Poisson count: mean 2400, sd 49
    assert abs(len(windows) - 12 * years) < 4 * math.sqrt(12 * years)
    months = {int(start // HOURS_PER_MONTH) % 12 + 1 for start, _, _ in windows}
    assert months <= set(FOG.months) and months == set(FOG.months)
    lengths = np.array([end - start for start, end, _ in windows])
    assert np.median(lengths) == pytest.approx(14, rel=0.08)
    assert np.log(lengths).std() == pytest.approx(0.8, rel=0.08)
    assert lengths.mean() == pytest.approx(FOG.mean_hours, rel=0.1)
    assert all(f == 0.0 for _, _, f in windows)


def test_random_windows_reproducible_and_horizon_stable() -> None:
    one = random_windows(FOG, YEAR, stream(3, 1, "x"))
    again = random_windows(FOG, YEAR, stream(3, 1, "x"))
    three = random_windows(FOG, 3 * YEAR, stream(3, 1, "x"))
    assert one == again
    assert three[: len(one)] == one          # a longer run appends windows only
    assert random_windows(FOG, YEAR, stream(3, 2, "x")) != one


def test_fixed_duration_and_cap() -> None:
    fixed = RandomOutage(name="w", events_per_year=50, median_hours=5, source="t")
    assert {round(e - s, 9) for s, e, _ in random_windows(fixed, YEAR, stream(0, 0, "w"))} \
        == {5.0}
    capped = RandomOutage(name="c", events_per_year=50, median_hours=50, sigma=2,
                          max_hours=60, source="t")
    assert max(e - s for s, e, _ in random_windows(capped, 5 * YEAR, stream(0, 0, "c"))) <= 60


def test_streams_are_named_per_outage() -> None:
    """Adding an outage to a component leaves the windows of the others unchanged."""
    wind = RandomOutage(name="wind", events_per_year=6, median_hours=4, sigma=0.5, source="t")
    alone = outage_windows([FOG], YEAR, 7, 0, "lock:a")
    both = outage_windows([FOG, wind], YEAR, 7, 0, "lock:a")
    assert set(alone) <= set(both) and len(both) > len(alone)
    assert outage_windows([FOG], YEAR, 7, 0, "lock:b") != alone   # owner names the stream
    assert list(both) == sorted(both)


def test_two_outages_of_one_spec_draw_their_own_windows() -> None:
    """Each random outage has a stream of its own name: two alike but for the name (fog at
    two reaches) do not strike in the same hours."""
    twin = FOG.model_copy(update={"name": "fog at the upper reach"})
    windows = outage_windows([FOG, twin], YEAR, 7, 0, "lock:a")
    assert len(windows) > 4
    assert len(set(windows)) == len(windows)


def test_scheduled_and_closed_hours() -> None:
    sept = ScheduledOutage(start_day=254, end_day=267, source="t")
    windows = outage_windows([sept], YEAR, 0, 0, "hub:pl")
    assert windows == ((254 * 24.0, 267 * 24.0, 0.0),)
    windows = [(0, 10, 0.0), (5, 20, 0.0), (30, 40, 0.5), (8750, 8800, 0.0)]
    assert closed_hours(windows, YEAR) == 30.0
    assert closed_hours(windows, YEAR, start=8) == 22.0
    with pytest.raises(ValidationError):
        ScheduledOutage(start_day=5, end_day=5)
    with pytest.raises(ValidationError):
        RandomOutage(name="x", events_per_year=1, months=(0, 3), median_hours=1, source="t")
    with pytest.raises(ValidationError):
        RandomOutage(name="x", events_per_year=1, months=(3, 3), median_hours=1, source="t")


def test_maintenance_turns_the_other_flight_round() -> None:
    north = Maintenance(flight="north", start_day=50, end_day=55, reversal_hours=48,
                        source="t")
    down = flight_segments("north", "up", "down", [north])
    assert down == ((1200.0, 1320.0, None),)
    south = flight_segments("south", "down", "up", [north])
    assert south == ((1200.0, 1248.0, "down"), (1248.0, 1296.0, "up"),
                     (1296.0, 1320.0, "down"))
    assert direction_at(south, "down", 100.0) == ("down", 1200.0)
    assert direction_at(south, "down", 1250.0) == ("up", 1296.0)
    assert direction_at(south, "down", 1400.0) == ("down", math.inf)
    assert direction_at(down, "up", 1300.0) == (None, 1320.0)


def test_a_flight_turns_round_at_the_very_hour_of_a_reversal() -> None:
    """`direction_at` at the first hour of a segment gives that segment (a half-open
    interval), not the one before it nor the normal direction."""
    north = Maintenance(flight="north", start_day=50, end_day=55, reversal_hours=48,
                        source="t")
    south = flight_segments("south", "down", "up", [north])
    assert direction_at(south, "down", 1200.0) == ("down", 1248.0)
    assert direction_at(south, "down", 1248.0) == ("up", 1296.0)
    assert direction_at(south, "down", 1320.0) == ("down", math.inf)


def test_random_windows_start_within_the_horizon() -> None:
    """Months are drawn whole, so the last month of a horizon that ends inside it draws
    starts beyond it: none is kept. 200 events a month of all months over a month and a
    half: about 300 windows, all starting before hour 1.5 x 730."""
    busy = RandomOutage(name="b", events_per_year=2400, median_hours=1, source="t")
    hours = 1.5 * HOURS_PER_MONTH
    windows = random_windows(busy, hours, stream(0, 0, "b"))
    assert len(windows) > 200
    assert max(start for start, _, _ in windows) < hours


def test_a_disruption_change_takes_the_random_shape(tmp_path: Path) -> None:
    """Any node or link can be disrupted at random: `random` in a `disruption` change draws
    its windows per replication, reproducibly, beside the fixed ones."""
    import yaml

    from sim.network import build
    from sim.scenario import load_scenario
    from tests.support import netbuilder as nb

    path = nb.line_network(tmp_path)
    doc = yaml.safe_load(path.read_text())
    doc["changes"] = [
        {"kind": "disruption", "hub": "b", "random": {
            "name": "strike", "events_per_year": 40, "median_hours": 24, "sigma": 0.3,
            "source": "t"}},
        {"kind": "disruption", "hub": "b", "start_day": 5, "end_day": 6, "capacity_factor": 0.5}]
    net = build(load_scenario(nb.write_scenario(path, doc))).network
    ten_years = net.windows("hub", "b", 1, 0, 10 * YEAR)
    assert abs(len(ten_years) - 1 - 400) < 4 * 20
    assert (120.0, 144.0, 0.5) in ten_years
    assert ten_years == net.windows("hub", "b", 1, 0, 10 * YEAR)
    assert ten_years != net.windows("hub", "b", 1, 1, 10 * YEAR)
    assert net.windows("hub", "a", 1, 0, YEAR) == ()
    doc["changes"][0]["start_day"] = 3                  # both shapes at once: refused
    with pytest.raises(InputError, match="changes.0"):
        build(load_scenario(nb.write_scenario(path, doc)))


def test_dated_events_are_the_fixed_windows_and_maintenance_not_the_random_ones() -> None:
    """The spans route choice learns apart (`Network.dated_spans`): a disruption with dates
    and a lock's maintenance, merged where they touch, for the parts asked; random outages
    (baseline-2023's fog) are the usual variability."""
    from sim.engine.windows import inside, meets
    from sim.network import merge_spans
    from sim.pipeline import prepare

    root = Path(__file__).resolve().parents[2] / "scenarios"
    assert prepare(root / "baseline-2023.yaml").network.dated_spans() == ()
    lock = prepare(root / "three-gorges-maintenance.yaml").network
    assert lock.dated_spans() == ((51 * 24.0, 96 * 24.0),)
    assert lock.dated_spans([("hub", "qinzhou")]) == ()
    port = prepare(root / "qinzhou-congestion.yaml").network
    assert port.dated_spans([("hub", "qinzhou")]) == ((150 * 24.0, 200 * 24.0),)
    # a route's events are those of its parts: a border its train passes through included
    from sim.routing import choice_sets, dated_spans
    plan = prepare(root / "poland-border-closure.yaml")
    lines = plan.network.lines
    routes = [r for cs in choice_sets(plan) for r in cs.routes]
    through = [r for r in routes if any("malaszewicze" in lines[leg.line].stops
                                        for leg in r.legs)]
    assert through and all(dated_spans(plan, r) == ((254 * 24.0, 267 * 24.0),)
                           for r in through)
    assert not any(dated_spans(plan, r) for r in routes if r not in through)
    assert merge_spans([(5.0, 6.0), (1.0, 2.0), (2.0, 3.0), (2.5, 4.0)]) == ((1.0, 4.0),
                                                                            (5.0, 6.0))
    spans = ((10.0, 20.0), (30.0, 40.0))
    assert [inside(spans, t) for t in (5.0, 10.0, 19.9, 20.0, 35.0, 45.0)] == [
        False, True, True, False, True, False]
    assert meets(spans, 0.0, 10.0) and meets(spans, 21.0, 31.0) and not meets(spans, 21.0, 29.0)
