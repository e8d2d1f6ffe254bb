"""A lock's operation in a scenario (network.locks) is checked at the input boundary: each
mistake is refused with the file and the field named."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.errors import InputError
from sim.network import build
from sim.scenario import load_scenario
from tests.support import locks as L

BULK = {"vessels_per_year": 1000, "vessel_t": 1000, "source": "t"}


@pytest.mark.parametrize("operation,field", [
    ({"classes": {"bulk": {**BULK, "vessel_t": 9000}}}, "network.locks.lk.classes.bulk.vessel_t"),
    ({"classes": {"bulk": BULK}, "maintenance": [
        {"flight": "east", "start_day": 1, "end_day": 5, "source": "t"}]},
     "network.locks.lk.maintenance.0.flight"),
    ({"classes": {"bulk": BULK}, "maintenance": [
        {"flight": "north", "start_day": 1, "end_day": 5, "source": "t"},
        {"flight": "south", "start_day": 4, "end_day": 9, "source": "t"}]},
     "network.locks.lk.maintenance.1.start_day: expected a day no earlier than the end of "
     "maintenance.0 (5): maintenance periods must not overlap, got 4"),
    ({"classes": {"bulk": BULK}, "seasonality": [0] * 12},   # named the lock, no "got"
     "network.locks.lk.seasonality: expected monthly factors from 0 to 1,000,000 with a sum "
     "of at least 0.000001, got [0"),
    ({"classes": {"bulk": {**BULK, "diverts": True}}}, "network.locks.lk"),
    ({"classes": {"small": {**BULK, "lift": True}}}, "network.locks.lk"),
    ({"classes": {"bulk": {**BULK, "mt_per_year": 1.0}}}, "network.locks.lk.classes.bulk"),
    ({"classes": {"dg": {**BULK, "entry_hours": {"down": [14, 13]}}}},
     "network.locks.lk.classes.dg"),
    # an empty window (start = end) would let the class in at no hour: its vessels never pass
    ({"classes": {"dg": {**BULK, "entry_hours": {"down": [13, 13]}}}},
     "network.locks.lk.classes.dg"),
    # a load of 0 each way: tonnes a year would need infinitely many vessels (0 t carried each)
    ({"classes": {"bulk": {"mt_per_year": 1.0, "vessel_t": 1000, "source": "t",
                           "load_factor": {"down": 0.0, "up": 0.0}}}},
     "network.locks.lk.classes.bulk"),
    # a class named as the simulated container vessels merged with them, statistics and
    # priority (lockwait66)
    ({"classes": {"container": BULK}},
     "network.locks.lk.classes.container: expected a class name other than 'container'"),
    ({"outages": [{"shape": "random", "name": "fog", "events_per_year": 3, "months": [13],
                   "median_hours": 5, "source": "t"}]}, "network.locks.lk.outages.0"),
    ({"outages": [{"shape": "sometimes", "start_day": 1, "end_day": 2}]},
     "network.locks.lk.outages.0"),
])
def test_bad_lock_operation_is_refused(tmp_path: Path, operation: dict, field: str) -> None:
    path = L.lock_scenario(tmp_path, operation, chamber_t=4000)
    with pytest.raises(InputError) as err:
        build(load_scenario(path))
    assert field in str(err.value), str(err.value)


def test_a_good_operation_builds(tmp_path: Path) -> None:
    op = {"classes": {"bulk": BULK}, "outages": [
        {"shape": "scheduled", "start_day": 3, "end_day": 4},
        {"shape": "random", "name": "fog", "events_per_year": 3, "months": [1, 2],
         "median_hours": 5, "sigma": 0.5, "source": "t"}],
        "maintenance": [{"flight": "north", "start_day": 1, "end_day": 5, "source": "t"}]}
    plan = build(load_scenario(L.lock_scenario(tmp_path, op, chamber_t=4000)))
    assert plan.network.lock_traffic["lk"].maintenance[0].flight == "north"


def test_a_lock_adds_its_passage_and_half_a_cycle_to_a_route_s_hours(tmp_path: Path) -> None:
    """A route's hours through a lock are its expected uncongested time there: a vessel
    arriving at random waits half a cycle for the next lockage, then passes."""
    plan = build(load_scenario(L.lock_scenario(tmp_path, {"classes": {"bulk": BULK}},
                                               cycle=4.0, passage=3.0)))
    # 10 h on the link + 3 h passage + 4 h cycle / 2 = 15 h
    assert plan.network.locks["lk"].expected_hours(10.0) == pytest.approx(15.0)


@pytest.mark.parametrize("chamber_t, refused", [(999.0, True), (1000.0, False)])
def test_a_barge_must_fit_the_chamber_loaded_in_tonnes(tmp_path: Path, chamber_t: float,
                                                       refused: bool) -> None:
    """A barge of 100 TEU at the default 10 t/TEU is 1,000 t: a 999 t chamber cannot lift it
    loaded, a 1,000 t one can (a check of TEU against tonnes let 100 < 999 through)."""
    op = {"classes": {"bulk": {**BULK, "vessel_t": 500}}}
    path = L.lock_scenario(tmp_path, op, chamber_t=chamber_t, barge_per_week=7)
    if not refused:
        assert build(load_scenario(path)).network.locks["lk"].chamber_t == 1000.0
        return
    with pytest.raises(InputError) as err:
        build(load_scenario(path))
    assert err.value.field == "network.services.barge.vehicle_teu" and err.value.got == 100
    assert err.value.expected == "a loaded vessel (10 t/TEU) that fits the 999 t lock chamber"
