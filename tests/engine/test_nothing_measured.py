"""A mean that nothing measured is NaN, not 0: a hub or lock closed all run, a line nobody
boards. Written as 0.0 it read as "no wait" (a port closed with ~200 jobs queued showed a
mean wait of 0.0 h), averaged into the summary over replications as a 0 and made closing a
congested hub read as its wait improving in hubs_compare.csv (trial64 finding 2). NaN is
"-" in the console and the report, empty in CSV, and the summary over replications
averages the replications that measured it."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim.pipeline import run
from sim.results import Results, summarize
from tests.support import locks as L

ROOT = Path(__file__).resolve().parents[2]
CLOSED = {"start_day": 0, "end_day": 100, "capacity_factor": 0, "why": "test: closed all run"}


def _lock_run(tmp: Path, changes: list[dict[str, Any]] | None = None) -> Results:
    """The lock network of `tests.support.locks` (lock lk on a-b, container barges a -> b
    and bulk vessels both ways; a train c -> d whose way back no flow rides), 40 days."""
    tmp.mkdir(parents=True, exist_ok=True)
    op = {"classes": {"bulk": L.equal_vessels(0.5 * L.BATCH / L.CYCLE)}}
    path = L.lock_scenario(tmp, op, cycle=L.CYCLE, chamber_t=L.BATCH * L.VESSEL_T, days=40,
                           warmup=5, barge_per_week=7, changes=changes)
    return run(path)


def test_a_closed_hub_does_not_read_as_no_wait(tmp_path: Path) -> None:
    """Trial64's reproduction (60 days there, 30 here): Qinzhou closed all run ends with
    jobs queued; its mean wait was 0.0 h, checks.csv's wait_observed_h (documented as the
    same figure) NaN. Its utilization stays a true 0: no position was busy."""
    import sim

    scenario = tmp_path / "closed.yaml"
    scenario.write_text(
        f"name: qinzhou-closed\nextends: {ROOT / 'scenarios' / 'baseline.yaml'}\nchanges:\n"
        "  - {kind: disruption, hub: qinzhou, start_day: 0, end_day: 200, "
        "capacity_factor: 0, why: test}\n", encoding="utf-8")
    results = sim.run(sim.load_scenario(scenario), replications=1, days=30, progress=False)
    hubs = results.summary("hubs").set_index("hub")
    assert hubs.loc["qinzhou", "queue_end_jobs"] > 0
    wait = float(hubs.loc["qinzhou", "wait_mean_h"])
    assert math.isnan(wait) or wait > 24, f"mean wait {wait} h at a port closed all run"
    assert math.isnan(hubs.loc["qinzhou", "service_mean_h"])
    assert math.isnan(hubs.loc["qinzhou", "wait_max_h"])     # not a longest wait of 0 h
    assert hubs.loc["qinzhou", "utilization"] == 0.0
    checks = results.summary("checks").set_index("hub")
    assert math.isnan(checks.loc["qinzhou", "wait_observed_h"])
    # compare's bottleneck table lists it, first, though its utilization is 0 (ranked by
    # utilization alone it was left out; review65 #9)
    from sim.cli.render import bottleneck_table
    from sim.compare import STALLED, bottlenecks

    necks = bottlenecks(results, "closed")
    first = necks[necks["kind"] == "hub"].iloc[0]
    assert first["id"] == "qinzhou" and first["utilization_of"] == STALLED
    assert first["queue_end"] == hubs.loc["qinzhou", "queue_end_jobs"]
    assert (necks["kind"] == "hub").sum() == 4          # and the 3 most utilized
    assert bottleneck_table(necks).row_count == len(necks)
    # the report's hubs table first too: it listed hubs by utilization, so the closed port
    # came last of some 40, under compare's bottlenecks that put it first (review66)
    from tests.report.conftest import rows_after

    sim.write_results(results, tmp_path / "out", map_png=False, report=True)
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    first = rows_after(page, "<h3>Hubs, stalled and most utilised first</h3>")[0]
    assert first[0].startswith("Qinzhou"), first


def test_a_lock_closed_all_run_and_a_line_nobody_boards_measure_no_wait(
        tmp_path: Path) -> None:
    """Three Gorges closed all run showed wait_mean_h 0.0 with 3,566 vessels queued; a line
    no box boarded showed boarding_wait_mean_h 0.0. The per-lockage means are of no lockage
    either; the tonnes and lockages are true zeros."""
    results = _lock_run(tmp_path, [{"kind": "disruption", "lock": "lk", **CLOSED}])
    locks = results.summary("locks").set_index("direction")
    for d in ("down", "up"):
        row = locks.loc[d]
        assert row["queue_end_vessels"] > 0 and row["vessels_per_year"] == 0
        for column in ("wait_mean_h", "container_wait_mean_h", "bulk_wait_mean_h",
                       "lift_wait_mean_h", "vessels_per_lockage", "t_per_lockage"):
            assert math.isnan(row[column]), (d, column, row[column])
        assert row["utilization"] == 0.0 and row["slot_use"] == 0.0
    classes = results.summary("lock_classes")
    assert classes["wait_mean_h"].isna().all()
    lines = results.summary("lines").set_index("line")
    assert lines.loc["cd:back", "teu_per_year"] == 0
    assert math.isnan(lines.loc["cd:back", "boarding_wait_mean_h"])
    assert lines.loc["cd", "boarding_wait_mean_h"] > 0       # measured where boxes boarded
    assert lines.loc["cd:back", "load_factor"] == 0.0        # capacity offered, none used
    hubs = results.summary("hubs").set_index("hub")
    assert math.isnan(hubs.loc["b", "wait_mean_h"])          # behind the lock: no job


def test_a_closure_does_not_read_as_a_shorter_wait_in_the_comparison(tmp_path: Path) -> None:
    """hubs_compare.csv and locks_compare.csv paired the closed place's 0.0 with BASE's
    wait: a delta of minus BASE's wait, closing a congested hub read as its wait improving.
    A side that measured nothing has no wait, and the delta none either ("-")."""
    from sim.cli.render import place_delta_table
    from sim.compare import paired_deltas, split_deltas
    from tests.support.console import place_rows

    base = _lock_run(tmp_path / "base")
    alt = _lock_run(tmp_path / "alt", [{"kind": "disruption", "lock": "lk", **CLOSED},
                                       {"kind": "disruption", "hub": "b", **CLOSED}])
    deltas = paired_deltas(base, alt, "closed")
    _, places = split_deltas(deltas)
    for place, metric, scope in (("lock", "lock_wait_mean_h", "lk"),
                                 ("lock", "lock_container_wait_mean_h", "lk"),
                                 ("hub", "hub_wait_mean_h", "b")):
        row = places[place].set_index(["metric", "scope"]).loc[(metric, scope)]
        assert np.isfinite(row["base"]), (metric, row.to_dict())
        assert math.isnan(row["alt"]) and math.isnan(row["delta"]), (metric, row.to_dict())
    table = place_delta_table(deltas, "closed", "lock")
    assert table is not None
    rows = place_rows(table, "lk")
    assert rows["wait all vessels h"][1:] == ["-", "-"], rows


def test_a_wait_is_averaged_over_the_replications_that_measured_it() -> None:
    """A hub closed in one replication and open in the other: its mean wait is the open
    one's, not halved by a 0 ("mean over the replications that measured it"); its
    utilization, a true 0 while closed, is averaged over both."""
    table = pd.DataFrame({"hub": ["x", "x"], "replication": [0, 1],
                          "wait_mean_h": [np.nan, 6.0], "utilization": [0.0, 0.5]})
    out = summarize(table, ["hub"], replications=2).iloc[0]
    assert out["wait_mean_h"] == 6.0 and out["utilization"] == 0.25


def test_a_run_figure_peaks_over_the_rows_that_measured_it(tmp_path: Path) -> None:
    """A line that offered no capacity has no load factor (NaN): the run's fullest-service
    figure of a sweep (`max_line_load_factor`) is the highest of the others, not NaN; so is
    a link's busier way in flows.gpkg."""
    from sim.flows import _busier
    from sim.sweep.tasks import run_kpis

    results = _lock_run(tmp_path)
    result = results.replications[0]
    lines = result.tables["lines"].copy()
    lines.loc[lines["line"] == "cd:back", "load_factor"] = np.nan
    result.tables["lines"] = lines
    row = run_kpis(result, results.plan)
    assert row["max_line_load_factor"] == pytest.approx(np.nanmax(lines["load_factor"]))
    assert row["max_line_load_factor_at"] == str(
        lines.loc[lines["load_factor"].idxmax(), "line"])
    assert _busier(math.nan, 0.4) == 0.4 and _busier(0.3, math.nan) == 0.3
    assert math.isnan(_busier(math.nan, math.nan))


def test_a_run_figure_no_row_measured_names_no_row(tmp_path: Path) -> None:
    """No line offered capacity: the fullest-service figure is NaN and its `_at` is empty,
    not the table's first line (argmax of all NaN is 0; review65 #6)."""
    from sim.sweep.tasks import run_kpis

    results = _lock_run(tmp_path)
    result = results.replications[0]
    lines = result.tables["lines"].copy()
    lines["load_factor"] = np.nan
    result.tables["lines"] = lines
    row = run_kpis(result, results.plan)
    assert math.isnan(float(row["max_line_load_factor"]))
    assert row["max_line_load_factor_at"] == ""
