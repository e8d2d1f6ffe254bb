"""The KPI kernel: corridor KPIs from lots, totals from corridors, labels for people."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.kpis import KPIS, corridor_row, label, measure_of, teu_weighted_mean, totals


def _lots() -> pd.DataFrame:
    return pd.DataFrame({"corridor": ["west", "west", "east"], "teu": [40.0, 20.0, 40.0],
                         "value_cny": [4e6, 1e6, 2e6], "co2_t": [10.0, 5.0, 2.0],
                         "transit_h": [100.0, 400.0, 200.0], "wait_h": [10.0, 40.0, 0.0],
                         "at_h": [1.0, 2.0, 3.0]})


def test_a_corridor_row_has_every_kpi() -> None:
    row = corridor_row(_lots()[lambda d: d["corridor"] == "west"])
    assert list(row) == [k.column for k in KPIS]
    assert row["teu"] == 60 and row["lots"] == 2 and row["trade_value_cny"] == 5e6
    assert row["transit_mean_h"] == pytest.approx((40 * 100 + 20 * 400) / 60)
    assert row["transit_p95_h"] == 400.0


def test_totals_sum_counts_and_weigh_times_by_teu() -> None:
    lots = _lots()
    corridors = pd.DataFrame([{"corridor": c, **corridor_row(lots[lots["corridor"] == c])}
                              for c in ("west", "east")])
    total = totals(corridors)
    everything = corridor_row(lots)
    for name in ("teu", "trade_value_cny", "lots", "co2_t", "transit_mean_h", "wait_mean_h"):
        assert total[name] == pytest.approx(everything[name]), name  # same as over all lots
    assert "transit_p95_h" not in total   # a percentile does not add up


def test_weighted_mean_skips_empty_corridors() -> None:
    assert teu_weighted_mean(np.array([5.0, np.nan]), np.array([2.0, 0.0])) == 5.0
    assert math.isnan(teu_weighted_mean(np.array([np.nan]), np.array([0.0])))


def test_labels_name_the_scope_kpi_and_unit() -> None:
    assert label("west_teu") == "west channel: TEU delivered, kTEU over the horizon"
    assert label("total_transit_mean_h") == "mean transit, days"
    assert label("max_hub_utilization") == "busiest hub's utilization, share"
    assert measure_of("created_teu") is None and label("created_teu") == "created teu"
