"""The dispatch rule of scheduled services (`ScheduledService.min_load_share` and
`max_hold_slots`, run by `ScheduledLine._skips`) on a network small enough to check by hand:
a daily 1,000-TEU train from a to b, 100 TEU a day to carry, nothing back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sim.engine import Model, simulate
from sim.network import build
from sim.scenario import load_scenario
from tests.support import netbuilder as nb

DAYS = 60           # daily slots in the run: 60 a direction (the first within the first day)


def _model(tmp_path: Path, lot_teu: float = 10.0, changes: list | None = None,
           **rule: Any) -> Model:
    """The a-b network with `rule` on its train (and `changes`), simulated for DAYS days."""
    a, b = nb.hub("a", 0), nb.hub("b", 1)
    nb.write_geodata(tmp_path / "geo", [a, b], [nb.link("a-b", a, b)])
    doc = nb.scenario(str(tmp_path / "geo"),
                      {"ab": nb.train(["a", "b"], per_week=7, teu=1000, **rule)},
                      [nb.flow("a", "b", 36_500)], horizon={"days": DAYS})
    doc["demand"]["lot_teu"] = lot_teu
    doc["changes"] = changes or []
    plan = build(load_scenario(nb.write_scenario(tmp_path / "s.yaml", doc)))
    model = Model(plan, 0)
    model.start()
    model.env.run(until=24.0 * DAYS)
    model.check_conservation()      # raises when freight is lost or made
    return model


def _lines(model: Model) -> tuple[Any, Any]:
    """(the loaded line a -> b, the empty one b -> a)."""
    out = next(x for x in model.lines if x.line.stops[0] == "a")
    back = next(x for x in model.lines if x.line.stops[0] == "b")
    return out, back


def test_every_slot_runs_by_default(tmp_path: Path) -> None:
    """min_load_share 0 (the default) runs a vehicle at every slot, loaded or not."""
    out, back = _lines(_model(tmp_path))
    for line in (out, back):
        assert (line.stats.departures, line.stats.skipped) == (DAYS, 0)
    # the first slot may fall before any freight is ready
    assert back.stats.loaded == 0 and out.stats.loaded >= DAYS - 1
    assert out.excess_wait(0) == 0.0    # under a train-load booked: half a headway, no more


@pytest.mark.parametrize("hold", [1, 2])
def test_short_of_a_train_load_the_train_runs_after_max_hold_slots(tmp_path: Path,
                                                                   hold: int) -> None:
    """A full train-load (1,000 TEU) is never queued (100 TEU a day come): each train waits
    out `hold` slots and runs at the next with what there is, so 1 slot in hold + 1 runs
    (20 of 60 at hold 2, 30 at hold 1: slots 0 and 1 skipped, 2 runs, ...), with its
    capacity; the return train has nothing to carry and runs at no slot."""
    out, back = _lines(_model(tmp_path, min_load_share=1.0, max_hold_slots=hold))
    runs = DAYS // (hold + 1)
    assert (out.stats.departures, out.stats.skipped) == (runs, DAYS - runs)
    assert out.stats.loaded == runs
    assert out.stats.capacity == pytest.approx(1000.0 * runs)  # skipped slots offer none
    assert (back.stats.departures, back.stats.skipped) == (0, DAYS)
    assert out.queued_teu[0] < 100.0 * (hold + 1)   # held, never stranded
    # route choice expects the gap between trains, hold + 1 headways at most: half of what
    # it adds to a headway beyond the half it already counts, and no more
    headway = out.line.spec.headway_hours
    assert back.excess_wait(0) == pytest.approx(hold * headway / 2.0)
    assert 0.8 * hold * headway / 2.0 <= out.excess_wait(0) <= hold * headway / 2.0


def test_a_train_runs_when_its_share_is_queued(tmp_path: Path) -> None:
    """At 150 TEU (0.15 of the train) and 100 TEU a day in 1-TEU lots, one day's freight is
    short of the share and two days' reach it, well before the hold of 5 slots: every other
    slot runs (29 or 30 of 60, by where the first slot falls in the first day)."""
    out, _ = _lines(_model(tmp_path, lot_teu=1.0, min_load_share=0.15, max_hold_slots=5))
    assert out.stats.departures in (29, 30)
    assert out.stats.departures + out.stats.skipped == DAYS
    assert out.stats.teu >= 150.0 * (out.stats.departures - 1)


def test_a_cancelled_slot_is_neither_run_nor_skipped(tmp_path: Path) -> None:
    """A closure of days 30-40 cancels 10 daily slots each way: they are not skipped slots,
    so runs and skips add up to the 50 slots left."""
    closed = [{"kind": "disruption", "service": "ab", "start_day": 30, "end_day": 40,
               "capacity_factor": 0.0}]
    out, back = _lines(_model(tmp_path, changes=closed, min_load_share=1.0,
                              max_hold_slots=2))
    assert out.stats.departures + out.stats.skipped == DAYS - 10
    assert (back.stats.departures, back.stats.skipped) == (0, DAYS - 10)


def test_freight_is_conserved_and_the_lines_table_counts_skipped_slots(
        tmp_path: Path) -> None:
    """Through `simulate`: skipped slots per year in the lines table, beside departures."""
    a, b = nb.hub("a", 0), nb.hub("b", 1)
    nb.write_geodata(tmp_path / "geo", [a, b], [nb.link("a-b", a, b)])
    doc = nb.scenario(str(tmp_path / "geo"),
                      {"ab": nb.train(["a", "b"], per_week=7, teu=1000, min_load_share=1.0,
                                      max_hold_slots=2)},
                      [nb.flow("a", "b", 36_500)], horizon={"days": DAYS})
    result = simulate(build(load_scenario(nb.write_scenario(tmp_path / "s.yaml", doc))), 0)
    assert abs(result.conservation["residual_teu"]) < 1e-6
    lines = result.tables["lines"].set_index("line")
    per_year = 365.0 / DAYS
    assert lines.loc["ab", "departures_per_year"] == pytest.approx(20 * per_year)
    assert lines.loc["ab", "skipped_departures_per_year"] == pytest.approx(40 * per_year)


def test_a_slot_of_a_disrupted_line_waits_for_its_share_of_the_vehicle_that_runs(
        tmp_path: Path) -> None:
    """A disruption at capacity factor 0.5 runs 500-TEU trains: the share is of the train
    that can run at the slot, 500 TEU (5 days' freight, so a box waits about 3 days to
    board), not of the full 1,000, which no train of 500 carries: each train then left
    500 TEU behind, a standing backlog that held every box some 5 days longer (review67)."""
    halved = [{"kind": "disruption", "service": "ab", "start_day": 0, "end_day": DAYS,
               "capacity_factor": 0.5}]
    out, _ = _lines(_model(tmp_path, changes=halved, min_load_share=1.0, max_hold_slots=30))
    assert out.stats.departures + out.stats.skipped == DAYS
    assert out.stats.wait_sum / out.stats.teu < 4 * 24.0
