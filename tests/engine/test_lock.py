"""The lock as operated (sim/engine/lock.py) against queueing theory and its own rules:
equal vessels wait as the idle-start batch server of sim/queueing.py; priority classes wait
as ciw's `Slotted` lock; maintenance turns the other flight round at the published rate;
dangerous goods enter only in their window; diversion bounds the queue; the lift carries its
classes; closures leave backlogs; the daily series add up."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.engine import Model
from sim.engine.lock import Lock
from sim.network import build
from sim.pipeline import run
from sim.results import Results
from sim.scenario import load_scenario
from sim.specs import LockOperation
from tests.support import locks as L
from tests.support.locks import BATCH, CYCLE, VESSEL_T, YEAR_H

_bulk = L.equal_vessels


def _locks(res: Results) -> pd.DataFrame:
    return res.by_replication("locks")


def _classes(res: Results) -> pd.DataFrame:
    return res.by_replication("lock_classes")


@pytest.mark.slow
@pytest.mark.parametrize("rho", [0.8, pytest.param(0.9, marks=pytest.mark.slow)])
def test_equal_vessels_wait_as_the_batch_server(tmp_path: Path, rho: float) -> None:
    """One flight each way, 4 vessels a lockage, Poisson arrivals: the exact idle-start
    batch-server wait (Bailey's chain), both directions pooled as replications."""
    theory, est = L.batch_case(tmp_path, rho, days=1000 if rho < 0.85 else 2000)
    assert est.half < 0.10 * theory, est
    assert est.covers(theory), (theory, est)


@pytest.mark.slow
def test_priority_classes_wait_as_ciw_slotted(tmp_path: Path) -> None:
    """Two classes entering by priority at rho 0.9: cqsim's lock (idle start) against the
    exact fixed-cycle priority waits, which ciw's `Slotted` reproduces
    (tests/engine/test_lock_theory.py). At this load the lock is seldom idle, so the two
    start rules wait alike: each class within 10%."""
    theory, estimates = L.priority_case(tmp_path)
    for value, est in zip(theory, estimates, strict=True):
        assert abs(est.mean - value) < 0.10 * value + est.half, (value, est)
    assert theory[0] < theory[1]


@pytest.mark.slow
def test_random_closures_wait_as_the_closure_formula(tmp_path: Path) -> None:
    """Random closures all year (a `random` outage: Poisson events, lognormal durations)
    against `closure_wait` (vacation decomposition; within 5% of a reference simulation),
    and the closed hours against the outage spec."""
    theory, est, closed_expected, closed = L.closure_case(tmp_path)
    assert abs(est.mean - theory) < 0.15 * theory + est.half, (theory, est)
    assert closed == pytest.approx(closed_expected, rel=0.15)


def test_maintenance_turns_the_other_flight_round(tmp_path: Path) -> None:
    """With the north flight down, the south flight alternates every 48 h and loses the
    time its last lockage needs to clear before it turns (passage - cycle): under a
    saturating demand it runs 24/cycle x (1 - (passage - cycle)/48) lockages a day."""
    lam = 1.5 * BATCH / CYCLE                  # more than one flight can pass
    op = {"classes": {"bulk": _bulk(lam)},
          "maintenance": [{"flight": "north", "start_day": 0, "end_day": 60,
                           "reversal_hours": 48, "source": "t"}]}
    path = L.lock_scenario(tmp_path, op, cycle=CYCLE, chamber_t=BATCH * VESSEL_T,
                           passage=4.0, days=60, warmup=0)
    locks = _locks(run(path)).set_index("direction")
    per_day = locks["lockages_per_day"].sum()
    expected = 24 / CYCLE * (1 - (4.0 - CYCLE) / 48)
    assert per_day == pytest.approx(expected, rel=0.02)
    # one flight left for both directions: together they use the share of one direction's
    # slots the turning round leaves (slot_use counts a direction's lanes every cycle)
    assert locks["slot_use"].sum() == pytest.approx(expected * CYCLE / 24, rel=0.02)
    gap = abs(locks.loc["down", "lockages_per_day"] - locks.loc["up", "lockages_per_day"]) * 60
    assert gap <= 48 / CYCLE + 1


def test_priority_applies_only_while_a_flight_is_down(tmp_path: Path) -> None:
    """`priority_when: one_flight` (the published rule): first come first served in normal
    operation (both classes wait alike), by priority while a flight is down."""
    lams = [0.15 * BATCH / CYCLE, 0.35 * BATCH / CYCLE]
    classes = {"first": _bulk(lams[0], priority=0), "second": _bulk(lams[1], priority=1)}
    maintenance = [{"flight": "south", "start_day": 10, "end_day": 40, "reversal_hours": 24,
                    "source": "t"}]

    def waits(op: dict) -> pd.Series:
        path = L.lock_scenario(tmp_path, op, cycle=CYCLE, chamber_t=BATCH * VESSEL_T,
                               days=40, warmup=10, replications=3)
        return _classes(run(path)).groupby("vessel_class")["wait_mean_h"].mean()

    normal = waits({"classes": classes, "priority_when": "one_flight"})
    assert normal["first"] == pytest.approx(normal["second"], rel=0.15)
    fcfs = waits({"classes": classes, "maintenance": maintenance, "priority_when": "never"})
    assert fcfs["first"] == pytest.approx(fcfs["second"], rel=0.1)
    ranked = waits({"classes": classes, "maintenance": maintenance})
    assert ranked["first"] < 0.85 * ranked["second"]
    assert ranked["first"] < fcfs["first"]


def test_dangerous_goods_enter_in_their_window_in_dedicated_lockages(tmp_path: Path) -> None:
    op = {"classes": {
        "bulk": _bulk(0.7 * BATCH / CYCLE),
        "dg": {"vessels_per_year": 1200, "vessel_t": 500, "priority": 0, "source": "t",
               "entry_hours": {"down": [13.0, 14.0], "up": [7.5, 8.5]}}}}
    res = run(L.lock_scenario(tmp_path, op, cycle=CYCLE, chamber_t=BATCH * VESSEL_T,
                              days=200, warmup=10))
    dg = _classes(res).set_index(["vessel_class", "direction"]).loc["dg"]
    # Poisson arrivals over the day, one entry window a day: about 12 h on average
    assert (dg["vessels_per_year"] > 500).all()          # 600 a year each way
    assert dg["wait_mean_h"].between(8.0, 16.0).all()
    daily = res.by_replication("locks_daily")
    assert daily["wait_mean_h"].notna().all()


def test_diversion_bounds_the_queue_and_conserves_vessels(tmp_path: Path) -> None:
    """Demand 1.3 x capacity: without diversion the queue grows all year; with total
    control at 24 h the waits stay near that bound and the excess goes another way."""
    lam = 1.3 * BATCH / CYCLE
    op = {"divert_wait_hours": 24.0, "classes": {"bulk": _bulk(lam, diverts=True)}}
    res = run(L.lock_scenario(tmp_path, op, cycle=CYCLE, chamber_t=BATCH * VESSEL_T,
                              days=200, warmup=20))
    classes = _classes(res)
    classes = classes[classes["vessel_class"] == "bulk"].set_index("direction")
    locks = _locks(res).set_index("direction")
    for d in ("down", "up"):
        row = classes.loc[d]
        assert row["wait_mean_h"] < 24.0 + 2 * CYCLE
        assert row["wait_mean_h"] > 12.0
        offered = lam * YEAR_H                                  # vessels a year
        through = row["vessels_per_year"] + row["diverted_vessels_per_year"]
        assert through == pytest.approx(offered, rel=0.05)       # nothing lost
        assert row["diverted_vessels_per_year"] == pytest.approx(offered * (1 - 1 / 1.3),
                                                                 rel=0.1)
        assert locks.loc[d, "queue_end_vessels"] < 24 / CYCLE * BATCH + 2 * BATCH


def test_lift_carries_its_classes(tmp_path: Path) -> None:
    op = {"classes": {"bulk": _bulk(0.5 * BATCH / CYCLE),
                      "small": {"vessels_per_year": 4000, "vessel_t": 800, "lift": True,
                                "source": "t"}},
          "lift": {"trip_hours": 1.0, "max_vessel_t": 3000, "source": "t"}}
    res = run(L.lock_scenario(tmp_path, op, cycle=CYCLE, chamber_t=BATCH * VESSEL_T,
                              days=365, warmup=0))
    classes = _classes(res)
    lift = classes[classes["via"] == "lift"]
    assert lift["vessels_per_year"].sum() == pytest.approx(4000, rel=0.02)   # 4028 measured
    assert set(classes.loc[classes["via"] == "locks", "vessel_class"]) == {"container", "bulk"}
    # M/D/1 with rho = 4000/8760 h: Pollaczek-Khinchine wait 0.42 h (a lift trip is 1 h)
    rho = 4000 / YEAR_H
    n = lift["vessels_per_year"]
    wait = (n * lift["wait_mean_h"]).sum() / n.sum()
    assert wait == pytest.approx(rho / (2 * (1 - rho)), rel=0.01)   # 0.41893 measured
    locks = _locks(res)
    assert locks["lift_trips_per_year"].sum() == pytest.approx(n.sum())


def test_a_closure_leaves_a_backlog_that_clears(tmp_path: Path) -> None:
    """A 48-h stop at rho 0.8: the backlog at its end is the arrivals during it, and the
    queue drains at (mu - lam), back near normal about D rho / (1 - rho) = 8 days later."""
    lam = 0.8 * BATCH / CYCLE
    op = {"classes": {"bulk": _bulk(lam)}}
    changes = [{"kind": "disruption", "lock": "lk", "start_day": 100, "end_day": 102,
                "capacity_factor": 0.0}]
    res = run(L.lock_scenario(tmp_path, op, cycle=CYCLE, chamber_t=BATCH * VESSEL_T,
                              days=130, warmup=10, replications=4, changes=changes))
    daily = res.summary("locks_daily")
    down = daily[daily["direction"] == "down"].set_index("day")
    assert down.loc[101, "queue_vessels"] == pytest.approx(lam * 48, rel=0.2)
    assert down.loc[99, "queue_vessels"] < 15
    assert down.loc[115:, "queue_vessels"].mean() < 15     # cleared within ~8-14 days
    assert down.loc[104, "queue_vessels"] > 0.5 * down.loc[101, "queue_vessels"]
    assert np.isfinite(down["queue_t"]).all()


def test_vessels_come_back_lighter_and_take_the_same_room(tmp_path: Path) -> None:
    """A class with a lighter load downstream: as many vessels each way, cargo by the load
    factor, and the chamber packed by size, so both directions fill lockages alike."""
    op = {"classes": {"bulk": _bulk(0.7 * BATCH / CYCLE, load_factor={"down": 0.5})}}
    res = run(L.lock_scenario(tmp_path, op, cycle=CYCLE, chamber_t=BATCH * VESSEL_T,
                              days=365, warmup=10))
    classes = _classes(res)
    bulk = classes[classes["vessel_class"] == "bulk"].set_index("direction")
    assert bulk.loc["down", "vessels_per_year"] == pytest.approx(
        bulk.loc["up", "vessels_per_year"], rel=0.05)
    per_vessel = bulk["t_per_year"] / bulk["vessels_per_year"]
    assert per_vessel["down"] == pytest.approx(0.5 * VESSEL_T)
    assert per_vessel["up"] == pytest.approx(VESSEL_T)
    locks = _locks(res).set_index("direction")
    assert locks.loc["down", "vessels_per_lockage"] == pytest.approx(
        locks.loc["up", "vessels_per_lockage"], rel=0.05)
    assert locks["vessels_per_lockage"].max() <= BATCH


def test_bottlenecks_rank_a_lock_by_its_slots(tmp_path: Path) -> None:
    """Half-empty chambers at a saturated lock: vessels of 1.5 t-units in chambers of 4 fit
    two a lockage (75% of the tonnes) while every slot runs. The bottleneck table shows the
    slots, which the queue answers to, and locks.csv keeps both."""
    from sim.compare import UTILIZATION_OF, bottlenecks

    lam = 1.5 * 2 / CYCLE                    # more vessels than two a lockage can take
    heavy = {**_bulk(lam), "vessel_t": 1.5 * VESSEL_T}
    path = L.lock_scenario(tmp_path, {"classes": {"bulk": heavy}},
                           cycle=CYCLE, chamber_t=BATCH * VESSEL_T, days=30, warmup=5)
    res = run(path)
    locks = res.summary("locks").set_index("direction")
    assert locks.loc["down", "slot_use"] == pytest.approx(1.0, abs=0.02)
    assert locks.loc["down", "utilization"] == pytest.approx(0.75, abs=0.02)
    row = bottlenecks(res, "x").query("kind == 'lock'").iloc[0]
    assert row["id"] == "lk:down" and row["utilization"] == locks.loc["down", "slot_use"]
    assert row["utilization_of"] == UTILIZATION_OF["lock"] == "lockage slots used"


def test_a_maintenance_bound_lets_vessels_wait_through_the_maintenance(tmp_path: Path) -> None:
    """`maintenance_divert_wait_hours`: while a flight is down, a diverting class waits up
    to that bound instead of `divert_wait_hours`. At rho 0.7 with one flight left (demand
    about 1.45 x what it passes) the 24-h bound holds the queue near 24 h of the flight's
    rate; a bound no wait reaches lets it grow by the excess all maintenance. Before the
    maintenance both runs are the same run; set to `divert_wait_hours` it changes nothing."""
    lam = 0.7 * BATCH / CYCLE
    maintenance = [{"flight": "north", "start_day": 40, "end_day": 70, "reversal_hours": 48,
                    "source": "t"}]

    def daily(name: str, **bound: float) -> pd.DataFrame:
        op = {"divert_wait_hours": 24.0, "classes": {"bulk": _bulk(lam, diverts=True)},
              "maintenance": maintenance, **bound}
        res = run(L.lock_scenario(tmp_path / name, op, cycle=CYCLE,
                                  chamber_t=BATCH * VESSEL_T, days=80, warmup=10))
        return res.by_replication("locks_daily").set_index(["direction", "day"])

    bounded, same = daily("bounded"), daily("same", maintenance_divert_wait_hours=24.0)
    waiting = daily("waiting", maintenance_divert_wait_hours=1e4)
    pd.testing.assert_frame_equal(bounded, same)
    before = [d < 40 for _, d in bounded.index]
    pd.testing.assert_frame_equal(bounded[before], waiting[before])
    room = 24 * 0.5 * BATCH / CYCLE            # vessels the flight passes in 24 h one way
    served = 24 / CYCLE * (1 - (3.0 - CYCLE) / 48) / 2 * BATCH   # vessels a day one way
    excess = (lam * 24 - served) * 28           # arrivals beyond it by the end of day 68
    for d in ("down", "up"):      # day 68: at the end of day 69 the maintenance has ended
        assert bounded.loc[(d, 68), "queue_vessels"] < room + 2 * BATCH
        assert waiting.loc[(d, 68), "queue_vessels"] == pytest.approx(excess, rel=0.25)


def test_a_maintenance_bound_needs_the_normal_one() -> None:
    with pytest.raises(ValueError, match="maintenance_divert_wait_hours"):
        LockOperation(maintenance_divert_wait_hours=100.0, source="t")


def _queued_lock(tmp: Path, op: dict) -> tuple[Lock, float]:
    """The lock `lk` of a model not started (no flight serves), queued downstream with 8
    bulk vessels (priority 5), 2 dangerous-goods vessels (priority 1) and 2 container
    vessels (priority 4) of 1000 t, which arrived in that order; and the room ahead of a
    container vessel under priority (the dangerous goods and the container vessels)."""
    classes = {"bulk": _bulk(0.0, priority=5), "dg": _bulk(0.0, priority=1)}
    path = L.lock_scenario(tmp, {"classes": classes, "container_priority": 4, **op},
                           cycle=CYCLE, chamber_t=BATCH * VESSEL_T, days=60, warmup=0)
    model = Model(build(load_scenario(path)), 0)
    lock = model.locks["lk"]
    side = lock.sides["down"]
    for name in ["bulk"] * 8 + ["dg"] * 2:
        side.push(name, (0.0, VESSEL_T, VESSEL_T, None))
    for _ in range(2):
        lock.pass_vessel("down", VESSEL_T)
    return lock, 4 * VESSEL_T


def test_a_container_lot_sees_only_the_queue_that_enters_before_its_vessel(
        tmp_path: Path) -> None:
    """Route choice's picture of a lock (`Approach.wait`) is the wait of a container vessel
    arriving now: while vessels enter by priority, the bulk queue (priority 5, after the
    container vessels' 4) is not ahead of it, the dangerous goods (1) and the container
    vessels queued before it are; a bulk vessel still sees the whole queue."""
    lock, ahead = _queued_lock(tmp_path, {"priority_when": "always"})
    rate = lock._rate("down", 0.0)
    assert lock.wait_point("down").wait() == pytest.approx(ahead / rate)
    assert lock.excess_wait("down", "bulk") == pytest.approx(12 * VESSEL_T / rate)
    # a lockage takes the four vessels ahead (by priority): none is left before a container
    assert lock._fill(lock.sides["down"], "down", BATCH * VESSEL_T, 0.0) is not None
    assert lock.wait_point("down").wait() == 0.0
    assert lock.excess_wait("down", "bulk") == pytest.approx(8 * VESSEL_T / rate)


def test_without_priority_a_container_lot_sees_the_whole_queue(tmp_path: Path) -> None:
    """First come first served (`priority_when: one_flight` with both flights up) the
    picture is the whole queue, bulk included; once a flight is down, priority applies and
    the bulk queue drops out of the container lots' picture."""
    maintenance = [{"flight": "north", "start_day": 10, "end_day": 20, "reversal_hours": 48,
                    "source": "t"}]
    lock, ahead = _queued_lock(tmp_path, {"maintenance": maintenance})
    point = lock.wait_point("down")
    assert point.wait() == pytest.approx(12 * VESSEL_T / lock._rate("down", 0.0))
    lock.env.run(until=24 * 10)               # the north flight down, nothing served
    assert point.wait() == pytest.approx(ahead / lock._rate("down", 24 * 10))


def test_a_diverting_class_ranked_first_counts_only_the_queue_ahead_of_it(
        tmp_path: Path) -> None:
    """The diversion bound reads the room ahead of the arriving vessel under the entry rule
    in force (`Lock.ahead`, as route choice's picture does), not the whole queue: a
    diverting class entering first by priority is not sent away by a queue of a class
    entering after it, which grows without bound (rho 0.9 + 0.3 at both flights)."""
    classes = {"first": _bulk(0.3 * BATCH / CYCLE, priority=0, diverts=True),
               "second": _bulk(0.9 * BATCH / CYCLE, priority=1)}
    path = L.lock_scenario(tmp_path, {"classes": classes, "priority_when": "always",
                                      "divert_wait_hours": 24.0},
                           cycle=CYCLE, chamber_t=BATCH * VESSEL_T, days=60, warmup=10)
    got = _classes(run(path)).groupby("vessel_class")[["diverted_vessels_per_year",
                                                          "wait_mean_h"]].sum()
    assert got.loc["first", "diverted_vessels_per_year"] == 0
    assert got.loc["first", "wait_mean_h"] < 24
    assert got.loc["second", "wait_mean_h"] > 100      # its queue grows: days of wait
