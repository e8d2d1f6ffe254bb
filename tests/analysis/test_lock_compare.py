"""`cqsim compare` on a network with a lock: the locks' paired deltas go to
locks_compare.csv, the console and the report, the channels' to compare.csv; daily.png is
drawn."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from sim.cli import main
from sim.kpis import LOCK_METRICS
from tests.support import locks as L


@pytest.mark.slow
def test_lock_deltas_are_written_apart(tmp_path: Path) -> None:
    op = {"classes": {"bulk": L.equal_vessels(0.7 * L.BATCH / L.CYCLE)}}
    base = L.lock_scenario(tmp_path, op, cycle=L.CYCLE, chamber_t=L.BATCH * L.VESSEL_T,
                           days=60, warmup=5, replications=2, barge_per_week=7)
    wider = tmp_path / "wider.yaml"
    wider.write_text(yaml.safe_dump({"extends": "lock.yaml", "name": "wider", "changes": [
        {"kind": "set", "lock": "lk", "field": "lanes", "value": 2}]}))
    same = tmp_path / "same.yaml"   # a change that acts on nothing: flagged, not silent
    same.write_text(yaml.safe_dump({"extends": "lock.yaml", "name": "same", "changes": [
        {"kind": "scale", "lock": "lk", "field": "lanes", "factor": 1.0}]}))
    res = CliRunner().invoke(main, ["compare", str(base), str(wider), str(same), "--out",
                                    str(tmp_path / "cmp")])
    assert res.exit_code == 0, res.output
    channels = pd.read_csv(tmp_path / "cmp" / "compare.csv")
    locks = pd.read_csv(tmp_path / "cmp" / "locks_compare.csv")
    assert set(locks["metric"]) == set(LOCK_METRICS)
    assert not channels["metric"].isin(LOCK_METRICS).any()
    locks = locks[locks["variant"] == "wider"]
    wait = locks.set_index("metric").loc["lock_wait_mean_h"]
    assert wait["delta"] < 0 and wait["alt"] < wait["base"]     # a second flight each way
    assert "wait all vessels h" in res.output
    # the containers' wait of the base, over both directions, is weighed by the container
    # vessels of each, read from lock_classes, as `cqsim calibrate` weighs `wait.container`
    # (the wiring; here a container vessel carries as much each way, so tonnes would weigh
    # alike: tests/analysis/test_kpis.py tells the two weightings apart)
    (base_dir,) = (tmp_path / "cmp").glob("0-*")
    classes = pd.read_parquet(base_dir / "lock_classes.parquet")
    box = classes[(classes["vessel_class"] == "container") & (classes["via"] == "locks")]
    per_rep = [(g["wait_mean_h"] * g["vessels_per_year"]).sum() / g["vessels_per_year"].sum()
               for _, g in box.groupby("replication")]
    container = locks.set_index("metric").loc["lock_container_wait_mean_h"]
    assert container["base"] == pytest.approx(sum(per_rep) / len(per_rep), rel=1e-12)
    # the report shows the same deltas (it read none before 2026-12-02)
    page = (tmp_path / "cmp" / "report.html").read_text(encoding="utf-8")
    lockages = locks.set_index("metric").loc["lockages_per_year"]
    assert "At the locks" in page and f"{lockages['alt']:,.0f}" in page
    assert (tmp_path / "cmp" / "daily.png").stat().st_size > 0
    warned = [ln for ln in res.output.splitlines() if "no compared figure moved" in ln]
    assert len(warned) == 1 and warned[0].startswith("cqsim: warning: same:")
    about = json.loads((tmp_path / "cmp" / "compare.json").read_text(encoding="utf-8"))
    assert about["manifest"]["unmoved"] == ["same"]


def test_the_console_place_table_shows_a_lock_figure_without_a_value_as_a_dash() -> None:
    """A lock that no container vessel used has no container wait (NaN in
    locks_compare.csv): the console's table printed `nan` where the report shows a dash; it
    formats with the report's `pm` and `fmt` now, the one formatter (review 41, L3)."""
    import sim.cli.render as render
    from sim.cli.render import place_delta_table
    from tests.support.console import place_rows

    nan = float("nan")
    deltas = pd.DataFrame([
        {"variant": "v", "metric": "lock_container_wait_mean_h", "scope": "l", "base": nan,
         "alt": 3.0, "delta": nan, "delta_ci95": nan},
        {"variant": "v", "metric": "lock_t_per_year", "scope": "l", "base": 2.5e6,
         "alt": 3.0e6, "delta": 0.5e6, "delta_ci95": 0.25e6}])
    table = place_delta_table(deltas, "v", "lock")
    assert table is not None
    rows = place_rows(table, "l")
    assert rows == {"wait containers h": ["-", "3.0", "-"],
                    "passed Mt/yr": ["2.50", "3.00", "+0.50 ± 0.25"]}
    assert not hasattr(render, "_pm")
