"""The KPI kernel: corridor KPIs from lots, totals from corridors, labels for people."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim.engine.recorder import corridors_table
from sim.kpis import (
    KPI,
    Table,
    View,
    col,
    corridor_row,
    kpi,
    kpis,
    label,
    measure_of,
    per_unit,
    teu_weighted_mean,
    totals,
)


def _lots() -> pd.DataFrame:
    return pd.DataFrame({"corridor": ["west", "west", "east"], "teu": [40.0, 20.0, 40.0],
                         "value_cny": [4e6, 1e6, 2e6],
                         "co2_t": [10.0, 5.0, 2.0], "transit_h": [100.0, 400.0, 200.0],
                         "wait_h": [10.0, 40.0, 0.0], "at_h": [1.0, 2.0, 3.0]})


TRADE = {"west": 4e-3, "east": 2e-3}   # bn CNY declared (the recorder counts it, not the lots)
# the TEU booked in the period and their transit, those on the way at the end at their age
# (the recorder follows them to the end: not a figure of the lots delivered)
BOOKED = {"west": (60.0, 300.0), "east": (40.0, 200.0), "all": (100.0, 260.0)}


def _given(trade: float, where: str = "all") -> dict[str, float]:
    """The KPIs the recorder gives a corridor row (`KPI.of` None)."""
    teu, hours = BOOKED[where]
    return {"trade_bn_cny": trade, "teu_created": teu, "transit_open_mean_h": hours}


def test_a_corridor_row_has_every_kpi() -> None:
    row = corridor_row(_lots()[lambda d: d["corridor"] == "west"],
                       _given(TRADE["west"], "west"))
    assert list(row) == [k.name for k in kpis()]
    assert row["teu"] == 60 and row["lots"] == 2
    assert row["value_bn_cny"] == 5e-3 and row["trade_bn_cny"] == 4e-3
    assert row["transit_mean_h"] == pytest.approx((40 * 100 + 20 * 400) / 60)
    assert row["transit_p95_h"] == 400.0


def test_counts_are_annualised_and_say_so() -> None:
    rows = [{"corridor": "west", **corridor_row(_lots(), _given(6e-3))}]
    table = corridors_table().frame(rows, per_year=365 / 50).iloc[0]   # 50 days measured
    assert table["teu_per_year"] == pytest.approx(100 * 365 / 50)
    assert table["transit_mean_h"] == rows[0]["transit_mean_h"]     # a time: as it is
    weekly = Table("t", (), (col("week"), col("teu", "TEU", "week"),
                             col("created_teu", "TEU", "horizon")))
    assert list(weekly.frame([{"week": 1, "teu": 5.0, "created_teu": 9.0}], 3.0)) == [
        "week", "teu_per_week", "created_teu_horizon"]


def test_only_a_count_per_year_is_scaled_by_the_period_measured() -> None:
    """Table.frame annualises the counts over the statistics period: a week's count, a
    total over the horizon and a time keep their values (their names say their unit)."""
    table = Table("t", ("week",), (col("week"), col("teu", "TEU", "year"),
                                   col("moved", "TEU", "week"), col("created", "TEU", "horizon"),
                                   col("wait_h", "h")))
    row = table.frame([{"week": 1, "teu": 5.0, "moved": 7.0, "created": 9.0, "wait_h": 2.0}],
                      per_year=3.0).iloc[0]
    assert row["teu_per_year"] == 15.0
    assert (row["moved_per_week"], row["created_horizon"], row["wait_h"]) == (7.0, 9.0, 2.0)


def test_a_count_s_unit_names_its_own_unit_of_time() -> None:
    """A week's count reads "/week" and a total over the horizon "over the horizon", not
    "/yr" (a horizon total labelled per year overstates a 30-day run twelve times)."""
    assert per_unit("TEU", "year") == "TEU/yr"
    assert per_unit("TEU", "week") == "TEU/week"
    assert per_unit("jobs", "horizon") == "jobs over the horizon"
    assert per_unit("h", None) == "h"
    assert col("created", "TEU", "horizon").shown_unit == "TEU over the horizon"


def test_loaded_teu_leaves_out_the_empty_boxes_that_empty_teu_counts() -> None:
    lots = _lots().assign(flow_class=["trade", "empty", "trade"])   # 40 + 40 loaded, 20 empty
    row = corridor_row(lots, _given(6e-3))
    assert row["teu"] == 80.0 and row["empty_teu"] == 20.0 and row["lots"] == 3


def test_a_summary_s_ci95_is_the_t_interval_half_width_of_the_mean() -> None:
    """`<col>_ci95` is t(0.975, n-1) * sd / sqrt(n), the sd with n-1: not the sd itself, nor
    a normal 1.96. Values by hand; t(0.975, 2) = 4.302653."""
    from sim.results import summarize

    rows = pd.DataFrame({"corridor": ["west", "east"] * 3,
                         "teu": [1.0, 10.0, 2.0, 10.0, 3.0, 16.0],
                         "replication": [0, 0, 1, 1, 2, 2]})
    out = summarize(rows, ["corridor"], counts=["teu"], replications=3).set_index("corridor")
    assert out.loc["west", "teu"] == 2.0 and out.loc["east", "teu"] == 12.0
    # west 1, 2, 3: sd 1; east 10, 10, 16: sd sqrt(12), so sd / sqrt(3) = 2
    assert out.loc["west", "teu_ci95"] == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)
    assert out.loc["east", "teu_ci95"] == pytest.approx(4.302653 * 2, rel=1e-6)


def test_an_empty_table_summarises_with_a_filled_one_s_columns() -> None:
    """An added kind's table without rows (a run whose network has none of the kind) was
    written without `_ci95` columns and with its fixed column last, a filled one with them
    and the fixed column second (trial49 #9): stacking two runs' tables mismatched."""
    from sim.results import summarize

    table = Table("customs", ("hub",), (
        col("hub", "text"), col("inspections", "jobs", "year"),
        col("threshold_h", "h", fixed=True), col("wait_mean_h", "h")))
    row = {"hub": "q", "inspections": 3, "threshold_h": 12.0, "wait_mean_h": 1.5}

    def summary(rows: list[dict[str, Any]]) -> list[str]:
        frame = table.frame(rows, 1.0).assign(replication=0)
        return list(summarize(frame, ["hub"], fixed=["threshold_h"],
                              counts=["inspections_per_year"], replications=1).columns)

    assert summary([]) == summary([row]) == [
        "hub", "threshold_h", "inspections_per_year", "inspections_per_year_ci95",
        "wait_mean_h", "wait_mean_h_ci95"]


def test_a_row_key_no_column_declares_is_refused() -> None:
    """Table.frame dropped an undeclared key without a word (trial49 #1): a misspelt key
    lost its figure, and an extension's rows under a taken table name became NaN rows. A
    declared column a row leaves out is still NaN there."""
    from sim.errors import InputError

    table = Table("ports", ("hub",), (col("hub"), col("inspections", "jobs", "year")))
    with pytest.raises(InputError) as err:
        table.frame([{"hub": "d", "inspections": 1}, {"hub": "e", "inspectons": 2}], 1.0)
    assert err.value.file == "table ports" and err.value.got == "inspectons"
    assert "(hub, inspections)" in str(err.value)
    assert math.isnan(table.frame([{"hub": "d"}], 1.0)["inspections_per_year"].iloc[0])


def test_totals_sum_counts_and_weigh_times_by_teu() -> None:
    lots = _lots()
    rows = [{"corridor": c, **corridor_row(lots[lots["corridor"] == c], _given(TRADE[c], c))}
            for c in ("west", "east")]
    total = totals(corridors_table().frame(rows, per_year=1.0))
    everything = corridor_row(lots, _given(sum(TRADE.values())))
    for k in kpis():
        if k.total != "none":   # same as over all the lots at once
            assert total[k.column] == pytest.approx(everything[k.name]), k.name
    assert "transit_p95_h" not in total   # a percentile does not add up


def test_weighted_mean_skips_empty_corridors() -> None:
    assert teu_weighted_mean(np.array([5.0, np.nan]), np.array([2.0, 0.0])) == 5.0
    assert math.isnan(teu_weighted_mean(np.array([np.nan]), np.array([0.0])))


def test_labels_name_the_scope_kpi_and_unit() -> None:
    assert label("west_teu_per_year") == "west channel: loaded TEU delivered, kTEU/yr"
    assert label("total_transit_mean_h") == ("mean transit of the TEU delivered (those still "
                                             "on the way left out), days")
    # a table writes raw values: its label names their unit, not the one they are shown in
    assert label("west_teu_per_year", scaled=False) == "west channel: loaded TEU delivered, TEU/yr"
    assert label("total_transit_mean_h", scaled=False).endswith("left out), h")
    assert label("max_hub_utilization") == "busiest hub's utilization, share"
    assert measure_of("created_teu_horizon") is None
    assert label("created_teu_horizon") == "created, TEU over the horizon"
    assert label("goods_trade_bn_cny_per_year") == \
        "goods trade (simulated channels + trade declared not simulated), bn CNY/yr"
    assert label("in_transit_teu") == "in transit, TEU"
    assert label("replication") == "replication"


def test_digits_default_by_the_unit_and_the_report_view_says_its_time() -> None:
    """`KPI.digits` defaulted to 0: a share declared without digits (0.04) read "0". Without
    digits a share or a ratio shows 2 decimals, any other unit 0; declared digits win. The
    report's own view of a count over the period must say its unit of time."""
    def declared(unit: str, **how: Any) -> KPI:
        return KPI(name="x", unit=unit, label="x", of=None, **how)

    assert declared("share").decimals == 2 and declared("ratio").decimals == 2
    assert declared("lots", per="year").decimals == 0 and declared("h").decimals == 0
    assert declared("share", digits=3).decimals == 3
    assert declared("share").view == View(1.0, "share", 2)
    counted = declared("TEU", per="year", scale=1e3, shown_as="kTEU", digits=1)
    assert counted.view == View(1e3, "kTEU/yr", 1) and counted.report_view == counted.view
    with pytest.raises(ValueError, match="unit of time"):
        declared("TEU", per="year", report=View(1.0, "TEU", 0))
    # the shipped TEU: kTEU in the terminal and plots, TEU per year in the report (as its
    # gateways, hubs, services and maps); the wait in days to 2 decimals everywhere
    assert kpi("teu").view == View(1e3, "kTEU/yr", 1)
    assert kpi("teu").report_view == View(1.0, "TEU/yr", 0)
    assert kpi("wait_mean_h").report_view == kpi("wait_mean_h").view == View(24.0, "days", 2)


def test_a_count_missing_in_a_replication_is_averaged_as_zero() -> None:
    """The recorder writes a (week, corridor) or leg row only where lots were delivered: a
    mean over the replications that had a row read week 0 of the west as 160 TEU when the
    three replications delivered 120, 0 and 200 (106.7). Counts now average the missing
    replication as 0; a time (not a count) stays the mean of the replications it has."""
    from sim.results import summarize
    from sim.stats import mean_ci

    rows = pd.DataFrame({"week": [0, 0, 0, 1, 1], "corridor": ["west", "east", "west", "west",
                                                                "east"],
                         "teu_per_week": [120.0, 50.0, 200.0, 70.0, 60.0],
                         "transit_h": [100.0, 80.0, 300.0, 90.0, 70.0],
                         "replication": [0, 0, 2, 0, 1]})
    out = summarize(rows, ["week", "corridor"], counts=["teu_per_week"], replications=3)
    west0 = out[(out.week == 0) & (out.corridor == "west")].iloc[0]
    mean, half = mean_ci(np.array([120.0, 200.0, 0.0]))
    assert west0["teu_per_week"] == pytest.approx(mean) == pytest.approx(320 / 3)
    assert west0["teu_per_week_ci95"] == pytest.approx(half)
    assert west0["transit_h"] == 200.0          # over the two replications it rode in
    assert out["teu_per_week"].sum() == pytest.approx(500 / 3)   # the totals' mean
    # every entity in every replication: the same as before (one array of all entities)
    full = summarize(rows.iloc[[0, 1]], ["week", "corridor"], counts=["teu_per_week"],
                     replications=1)
    assert list(full["teu_per_week"]) == [120.0, 50.0]


def test_a_time_some_replications_did_not_measure_is_their_mean_not_nan() -> None:
    """A route that delivered nothing in one replication has no transit time there (NaN):
    routes.csv gave NaN for 123 routes that carried 3,740 TEU/yr in two replications (review
    of 2026-12-05). The mean is now over the replications that measured it, in both paths
    (every entity in every replication, and not); a count is never NaN."""
    from sim.results import summarize
    from sim.stats import mean_ci

    rows = pd.DataFrame({"route": [1, 2, 1, 2, 1, 2], "teu": [0.0, 5.0, 3.0, 6.0, 4.0, 7.0],
                         "transit_h": [np.nan, 10.0, 771.0, 12.0, 700.0, np.nan],
                         "replication": [0, 0, 1, 1, 2, 2]})
    out = summarize(rows, ["route"], counts=["teu"], replications=3).set_index("route")
    mean, half = mean_ci(np.array([771.0, 700.0]))
    assert out.loc[1, "transit_h"] == pytest.approx(mean)
    assert out.loc[1, "transit_h_ci95"] == pytest.approx(half)
    assert out.loc[2, "transit_h"] == pytest.approx(11.0)
    assert out.loc[1, "teu"] == pytest.approx(7 / 3)            # counts as before
    ragged = summarize(rows.iloc[1:], ["route"], counts=["teu"], replications=3)
    assert ragged.set_index("route").loc[1, "transit_h"] == pytest.approx(mean)
    never = summarize(rows.assign(transit_h=np.nan), ["route"], counts=["teu"])
    assert never["transit_h"].isna().all()                      # nothing measured: NaN


def test_the_season_a_part_year_carries() -> None:
    """A count annualised from part of a year carries that part's seasonal factor (printed
    beside the attainment): 1 over whole years, the months' mean by their days otherwise."""
    from types import SimpleNamespace

    from sim.units import DAYS_PER_MONTH, period_season

    season = (1.0, 0.5, 1.5) + (1.0,) * 9
    def period(start: float, end: float) -> SimpleNamespace:
        return SimpleNamespace(warmup_days=start, days=end)
    assert period_season(season, period(0, 365)) == pytest.approx(1.0)
    assert period_season(season, period(30, 760)) == pytest.approx(1.0, abs=0.01)
    assert period_season(season, period(DAYS_PER_MONTH, 2 * DAYS_PER_MONTH)) == 0.5
    assert period_season(season, period(1.5 * DAYS_PER_MONTH, 2.5 * DAYS_PER_MONTH)) == \
        pytest.approx(1.0)                 # half February, half March
    # a scenario's raw factors (not yet of mean 1, as Plan.seasonality is) read the same
    raw = tuple(3 * f for f in season)
    assert period_season(raw, period(DAYS_PER_MONTH, 2 * DAYS_PER_MONTH)) == pytest.approx(0.5)


def test_a_plan_s_seasonality_is_the_one_normalisation(tmp_path: Path) -> None:
    """Plan.seasonality and period_season divided the factors by their mean each in its own
    code (review of the merged branches, 12): one helper now, `relative_season`."""
    import yaml

    from sim.network import build
    from sim.scenario import load_scenario
    from sim.units import relative_season
    from tests.support.netbuilder import line_network

    raw = (6.0, 3.0, 9.0) + (6.0,) * 9                  # mean 6
    path = line_network(tmp_path)
    doc = yaml.safe_load(path.read_text())
    doc["demand"]["seasonality"] = list(raw)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    plan = build(load_scenario(path))
    assert plan.seasonality == relative_season(raw) == pytest.approx((1.0, 0.5, 1.5) + (1.0,) * 9)


def test_the_season_note_has_one_text_and_one_threshold() -> None:
    """The note on a part year (console, report.html, `cqsim uncertainty`): none over whole
    years; else the period, and its factor and what carries it where the factor is off 1 by
    more than 0.005. A period whose factor is about 1 (flat seasonality, the default) is a
    part year all the same: its note names the days without the season (trial64 #3)."""
    from types import SimpleNamespace

    from sim.trade import season_note

    h = SimpleNamespace(warmup_days=30.0, days=120.0)
    for flat in (1.0, 1.004, None):
        note = season_note(flat, h)
        assert note is not None and note.startswith("annualised from days 30-120 (90 days, ")
        assert "part of a year" in note and "not a simulated year" in note
        assert "carry that part of the year's season" not in note
    note = season_note(0.929, h)
    assert note is not None and "days 30-120" in note and "0.929" in note
    # what carries the season and what does not: TEU at delivery, declared bulk a whole year
    assert "with a lag" in note and "not simulated count a whole year" in note    # review54 F2
    assert "season" in str(season_note(1.006, h)) and "1.006" in str(season_note(1.006, h))
    for start, end in ((30.0, 395.0), (0.0, 365.0), (30.0, 760.0)):   # whole years: none
        assert season_note(1.0, SimpleNamespace(warmup_days=start, days=end)) is None


def test_trade_csv_says_what_a_part_year_s_figures_are_annualised_from(
        tmp_path: Path) -> None:
    """trade.csv read on its own said only "annualized": a 90-day run of baseline-2023 gave
    a total of 634 bn CNY/yr, "vs 2023" 88.9%, with nothing in the file naming the 60 days
    or their seasonal factor of 0.895 (trial51). Each simulated row's source names them, as
    compare.png's source line does; a whole year's rows say nothing more."""
    import sim
    from sim.trade import part_year, trade_table
    from tests.support.market import market_doc
    from tests.support.netbuilder import write_scenario

    doc = market_doc(tmp_path, horizon={"days": 60})
    doc["demand"]["seasonality"] = [0.5] * 3 + [1.0] * 9     # days 0-60 in a low season
    results = sim.run(write_scenario(tmp_path / "market.yaml", doc), replications=1)
    assert abs(results.plan.season - 1.0) > 0.005
    table = trade_table(results).set_index("item")
    said = f"annualised from days {results.plan.horizon.warmup_days:g}-60 (mean seasonal factor"
    for item in ("total", "vs 2023", "attainment", "channels"):
        assert said in str(table.loc[item, "source"]), item
    for item in ("2023 goods trade", "2025 target", "other_trade"):
        assert "annualised" not in str(table.loc[item, "source"]), item
    # the period said once, in one spelling: a row read "annualized; annualised from days
    # 30-120" (review66)
    sources = table["source"].astype(str)
    assert not sources.str.contains("annualized").any()
    assert (sources.str.count("annualised") <= 1).all()
    year = results.plan.horizon.model_copy(update={"days": 365 + results.plan.horizon.warmup_days})
    assert part_year([(year, 1.0)]) == ""                        # a whole year: nothing


def test_part_year_is_said_whatever_the_season(tmp_path: Path) -> None:
    """A part-year run passed for a year where its period's mean seasonal factor was about 1:
    with flat seasonality (the documented default) and 60 days of statistics the console
    printed the total and "99.6% of 2023" with no note, and trade.csv's sources said only
    "annualized" (trial64 #3). The period decides, not the factor: the days are said, the
    factor is not (there is no season to name)."""
    import sim
    from sim.scenario import Horizon
    from sim.trade import attainment_lines, part_year, trade_table
    from tests.support.market import market_doc
    from tests.support.netbuilder import write_scenario

    assert part_year([(Horizon(days=90, warmup_days=30), 1.0)]) == "annualised from days 30-90"
    assert part_year([(Horizon(days=395, warmup_days=30), 1.0)]) == ""
    doc = market_doc(tmp_path, horizon={"days": 60})
    doc["demand"]["seasonality"] = [1.0] * 12
    results = sim.run(write_scenario(tmp_path / "flat.yaml", doc), replications=1)
    assert results.plan.season == pytest.approx(1.0)
    said = f"annualised from days {results.plan.horizon.warmup_days:g}-60"
    table = trade_table(results).set_index("item")
    for item in ("total", "vs 2023", "attainment", "channels"):
        source = str(table.loc[item, "source"])
        assert source.endswith(f"; {said}") and "seasonal factor" not in source, item
    note = attainment_lines(results)[-1]
    assert note.startswith(f"note: {said} (") and "not a simulated year" in note, note


def test_goods_trade_names_only_the_figure_against_the_target() -> None:
    """A 2023 run's goods trade is 662.9 bn CNY/yr (channels 654.9 + 8.0 of bulk declared not
    simulated), the figure the 900 target is of; but the channels' 654.9 (the corridor KPI,
    compare.csv, a sweep's `total_trade_bn_cny_per_year`) was labelled "Chongqing goods
    trade" too, so one name gave two figures 8 bn CNY/yr apart. "goods trade" names the
    first only; the channels' figure says it is what the simulated channels carry."""
    from sim.trade import GOODS_TRADE

    assert measure_of(GOODS_TRADE) is not None
    goods = label(GOODS_TRADE)
    assert goods.startswith("goods trade") and goods.endswith(", bn CNY/yr")
    channels = kpi("trade_bn_cny")
    for text in (channels.label, channels.short, label("total_trade_bn_cny_per_year"),
                 label("west_trade_bn_cny_per_year", scaled=False)):
        assert "goods trade" not in text
    assert "simulated channels" in channels.label and "not simulated" in channels.label
    assert label("total_trade_bn_cny_per_year").endswith(", bn CNY/yr")   # per year



def test_the_goods_trade_line_says_how_much_the_competing_gateways_carry() -> None:
    """"channels" counts the coastal gateways that compete with the plan's channels: half
    of baseline.yaml's 703.9 bn CNY/yr, where a planner read the four channels and air
    (trial46, M5). The console's goods trade line says how much of it they carry."""
    import sim
    from sim.trade import attainment_lines, channel_trade
    from tests.support.paths import SCENARIOS

    results = sim.run(SCENARIOS / "baseline.yaml", days=30, replications=1)
    per = channel_trade(results)
    coastal = float(per.loc[per["corridor"] == "coastal", "bn_cny"].sum())
    assert coastal > 0
    line = attainment_lines(results)[0]
    assert f"the channels count the competing coastal gateways' {coastal:,.1f})" in line


def test_the_goods_trade_line_names_no_competing_gateways_that_carry_nothing(
        tmp_path: Path) -> None:
    """A network whose coastal gateways carry nothing (every corridors table lists coastal)
    said "the channels count the competing coastal gateways' 0.0" (review 46, L2)."""
    import sim
    from sim.trade import attainment_lines
    from tests.support.market import write_market_scenario

    results = sim.run(write_market_scenario(tmp_path, horizon={"days": 60}), replications=1)
    assert "competing" not in attainment_lines(results)[0]


def test_the_goods_trade_lines_take_their_years_from_the_reference_rows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The console and trade.csv said "2023" and "(2025)" whatever seeds/targets.csv's rows
    were (review51 #6; the report was fixed by review50 #13)."""
    import sim
    import sim.trade
    from sim.trade import Reference, attainment_lines, part_year, trade_table
    from tests.support.market import write_market_scenario

    results = sim.run(write_market_scenario(tmp_path, horizon={"days": 60}), replications=1)
    monkeypatch.setattr(sim.trade, "references", lambda: (
        Reference("2024", 720.0, "seeds/targets.csv goods_trade_2024", 2024, "goods_trade_2024"),
        Reference("2030 target", 1200.0, "a plan", 2030, "goods_trade_2030")))
    trade_line, target_line = attainment_lines(results)[:2]
    assert "of 2024 (720 bn CNY/yr)" in trade_line and "2023" not in trade_line
    assert target_line.startswith("target 1200 bn CNY/yr (2030): attainment")
    table = trade_table(results)
    # 60 days: a part year, said whatever the season (trial64 #3)
    assert table.loc[table["item"] == "vs 2023", "source"].item() == \
        f"total / 2024; {part_year([(results.plan.horizon, results.plan.season)])}"


def test_the_console_total_row_has_the_ci_of_its_counts(tmp_path: Path) -> None:
    """The console's total row showed no ± where the report's had one (2,346,373 ± 24,495
    TEU/yr on baseline.yaml; trial46, L1): the counts per year now carry the CI of their
    totals over the replications."""
    import sim
    from sim.cli.render import console, corridor_table
    from sim.stats import mean_ci
    from tests.support.market import write_market_scenario

    results = sim.run(write_market_scenario(tmp_path, horizon={"days": 60}), replications=3)
    teu = kpi("teu")
    per = results.by_replication("corridors").groupby("replication")[teu.column].sum()
    mean, half = mean_ci(per.to_numpy())
    out = console(200)
    with out.capture() as captured:
        out.print(corridor_table(results))
    total = next(line for line in captured.get().splitlines() if "total" in line)
    assert f"{teu.show(mean):,.{teu.decimals}f} ± {teu.show(half):,.{teu.decimals}f}" in total


def test_the_compared_kpis_are_the_four_declared_so() -> None:
    from sim.kpis import compared

    assert [k.name for k in compared()] == ["teu", "trade_bn_cny", "transit_open_mean_h",
                                            "co2_t"]


def test_a_lock_s_figures_weigh_its_waits_by_the_vessels_and_add_its_directions() -> None:
    """lock_metrics per replication and lock over both directions: the wait of all vessels
    weighed by vessels, the container vessels' by the container vessels of each direction
    (by their tonnes until 2026-12-07, review65 #10: here 4.0 h, (3000 x 2 + 1000 x 10) /
    4000, the heavier vessels of the up direction counting more); tonnes, tonnes diverted
    and lockages summed; the tonnes shown in Mt/yr (divided by 1e6). Values by hand."""
    from sim.kpis import CONTAINER_VESSELS, LOCK_FIGURES, lock_metrics

    locks = pd.DataFrame({
        "replication": [0, 0], "lock": ["tg", "tg"], "direction": ["up", "down"],
        "vessels_per_year": [100.0, 300.0], "container_t_per_year": [3000.0, 1000.0],
        CONTAINER_VESSELS: [10.0, 30.0],
        "wait_mean_h": [4.0, 8.0], "container_wait_mean_h": [2.0, 10.0],
        "total_t_per_year": [5e6, 7e6], "diverted_t_per_year": [1e5, 0.0],
        "lockages_per_year": [1000.0, 1200.0]})
    got = {metric: value for rep, metric, lock, value in lock_metrics(locks)
           if (rep, lock) == (0, "tg")}
    assert got == {"lock_wait_mean_h": 7.0,                 # (100 * 4 + 300 * 8) / 400
                   "lock_container_wait_mean_h": 8.0,       # (10 * 2 + 30 * 10) / 40
                   "lock_t_per_year": 12e6, "lock_diverted_t_per_year": 1e5,
                   "lockages_per_year": 2200.0}
    _, unit, divisor, _ = LOCK_FIGURES["lock_t_per_year"]
    assert unit == "Mt/yr" and got["lock_t_per_year"] / divisor == 12.0
    # a direction no container vessel entered has no wait (NaN), not one of 0 h: left out
    none_up = locks.assign(**{CONTAINER_VESSELS: [0.0, 30.0],
                              "container_wait_mean_h": [float("nan"), 10.0]})
    assert {m: v for _, m, _, v in lock_metrics(none_up)}[
        "lock_container_wait_mean_h"] == 10.0
    # a table without the container vessels' counts (a run folder written before
    # lock_classes): no container wait, rather than one weighed by something else
    older = lock_metrics(locks.drop(columns=CONTAINER_VESSELS))
    assert "lock_container_wait_mean_h" not in {m for _, m, _, _ in older}
    assert "lock_wait_mean_h" in {m for _, m, _, _ in older}


def _lock_run(locks: pd.DataFrame, classes: pd.DataFrame) -> Any:
    """A run of `locks` and `lock_classes` by replication, as `Results` and a run folder give
    them (`by_replication`, `replications`)."""
    import types

    reps = sorted(set(locks["replication"]))
    return types.SimpleNamespace(
        replications=[types.SimpleNamespace(replication=r) for r in reps],
        by_replication={"locks": locks, "lock_classes": classes}.__getitem__)


def _two_way_lock() -> tuple[pd.DataFrame, pd.DataFrame]:
    """One lock `tg`, one replication, two directions whose container vessels' tonnes and
    counts weigh differently: up 10 vessels of 300 t waited 2 h, down 30 of 33.3 t waited 10
    h; the bulk and lift classes wait otherwise, another lock `gz` far longer."""
    nan = float("nan")
    locks = pd.DataFrame({
        "replication": [0, 0, 0, 0], "lock": ["tg", "tg", "gz", "gz"],
        "direction": ["up", "down", "up", "down"],
        "vessels_per_year": [110.0, 330.0, 50.0, 50.0],
        "container_t_per_year": [3000.0, 1000.0, 500.0, 500.0],
        "wait_mean_h": [3.0, 9.0, 90.0, 90.0], "container_wait_mean_h": [2.0, 10.0, 99.0, 99.0],
        "total_t_per_year": [5e6, 7e6, 1e6, 1e6], "diverted_t_per_year": [0.0] * 4,
        "lockages_per_year": [1000.0, 1200.0, 10.0, 10.0]})
    classes = pd.DataFrame({
        "replication": [0] * 8,
        "lock": ["tg"] * 6 + ["gz", "gz"],
        "direction": ["up", "down", "up", "down", "up", "down", "up", "down"],
        "vessel_class": ["container", "container", "bulk", "bulk", "lift_vessels",
                         "lift_vessels", "container", "container"],
        "via": ["locks", "locks", "locks", "locks", "lift", "lift", "locks", "locks"],
        "vessels_per_year": [10.0, 30.0, 100.0, 300.0, 7.0, 0.0, 25.0, 25.0],
        "t_per_year": [3000.0, 1000.0, 4e6, 6e6, 70.0, 0.0, 500.0, 500.0],
        "wait_mean_h": [2.0, 10.0, 3.1, 8.9, 0.5, nan, 99.0, 99.0]})
    return locks, classes


def test_compare_and_calibrate_read_one_container_wait_at_a_lock() -> None:
    """The container vessels' mean wait at a lock had two measures: `cqsim compare`'s
    (locks_compare.csv, the report) weighed the directions by container tonnes, `cqsim
    calibrate`'s (`lock:<lock>:wait.container`, `sim.lockfit`'s) by container vessels
    (review65 #10). Both read `sim.kpis.lock_wait_h` now, compare's with the container
    vessels `lock_table` joins from lock_classes (the container class through the flights):
    (10 x 2 + 30 x 10) / 40 = 8 h, where tonnes gave (3000 x 2 + 1000 x 10) / 4000 = 4 h.
    The all-vessel wait is by vessels in both: (110 x 3 + 330 x 9) / 440 = 7.5 h."""
    from sim.calibration import measured
    from sim.kpis import CONTAINER_VESSELS, PLACES, lock_table

    run = _lock_run(*_two_way_lock())
    joined = lock_table(run.by_replication)
    assert list(joined[CONTAINER_VESSELS]) == [10.0, 30.0, 25.0, 25.0]
    place = PLACES["lock"]
    got = {(m, lock): v for _, m, lock, v in place.rows(place.frame(run.by_replication))}
    assert got[("lock_container_wait_mean_h", "tg")] == 8.0
    assert list(measured(run, "lock:tg:wait.container")) == [8.0]
    assert got[("lock_wait_mean_h", "tg")] == 7.5 == measured(run, "lock:tg:wait")[0]
    assert got[("lock_container_wait_mean_h", "gz")] == 99.0


def test_a_run_without_lock_classes_has_no_container_wait_to_compare() -> None:
    """A run folder written before lock_classes (its table empty): the locks table as it is,
    so compare's differences leave the container wait out (`sim.report.deltas` keeps a
    figure only where both runs have it), not weigh it by something else."""
    from sim.kpis import CONTAINER_VESSELS, lock_table

    locks, classes = _two_way_lock()
    for absent in (pd.DataFrame(), classes.iloc[:0]):   # no file; a file of no rows
        run = _lock_run(locks, absent)
        assert CONTAINER_VESSELS not in lock_table(run.by_replication)
        assert lock_table(run.by_replication).equals(locks)
    # a lock_classes written before the ship lift (no `via`: every vessel through the
    # flights) still gives the weights, not no container wait (review67)
    before_lift = _lock_run(locks, classes[classes["via"] == "locks"].drop(columns="via"))
    assert lock_table(before_lift.by_replication)[CONTAINER_VESSELS].equals(
        lock_table(_lock_run(locks, classes).by_replication)[CONTAINER_VESSELS])


def test_a_hub_s_calls_gone_elsewhere_are_dropped_only_where_both_runs_had_none() -> None:
    from sim.kpis import drop_quiet

    gone = "background_diverted_teu_per_year"
    deltas = pd.DataFrame({"metric": [gone, gone, gone, "hub_wait_mean_h"],
                           "scope": ["a", "b", "c", "a"],
                           "base": [0.0, 0.0, 3.0, 0.0], "alt": [0.0, 5.0, 0.0, 0.0]})
    kept = drop_quiet(deltas)
    assert list(zip(kept["metric"], kept["scope"], strict=True)) == [
        (gone, "b"), (gone, "c"), ("hub_wait_mean_h", "a")]


def test_a_delta_is_alt_less_base_with_the_paired_t_interval() -> None:
    """key_deltas: ALT - BASE per key; paired, the t interval of the differences (1, 2, 3:
    sd 1, t(0.975, 2) = 4.302653); pairing needs one seed and as many replications."""
    from sim.kpis import crn_paired, key_deltas

    base = pd.DataFrame({"replication": [0, 1, 2], "scope": ["x"] * 3, "value": [1.0, 2.0, 3.0]})
    alt = base.assign(value=[2.0, 4.0, 6.0])
    row = key_deltas(base, alt, ["scope"], pair=True, variant="v").iloc[0]
    assert (row["base"], row["alt"], row["delta"]) == (2.0, 4.0, 2.0)
    assert row["delta_ci95"] == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)
    assert crn_paired(7, 5, 7, 5)
    assert not crn_paired(7, 5, 7, 3) and not crn_paired(7, 5, 8, 5)


def test_a_daily_series_ci95_is_the_t_interval_of_the_replications_that_recorded_the_day(
        ) -> None:
    """summarize_series: per day the mean and t interval over the replications with a value
    that day (a NaN day left out). Day 0: 1, 2, 3 (t(0.975, 2) = 4.302653, sd 1); day 1: 5,
    -, 7 (t(0.975, 1) = 12.706205, sd sqrt(2), so sd / sqrt(2) = 1)."""
    from sim.results import summarize_series

    rows = pd.DataFrame({"hub": ["h"] * 6, "day": [0, 1] * 3,
                         "queue_teu": [1.0, 5.0, 2.0, np.nan, 3.0, 7.0],
                         "replication": [0, 0, 1, 1, 2, 2]})
    out = summarize_series(rows, ["hub", "day"]).set_index("day")
    assert list(out["queue_teu"]) == [2.0, 6.0]
    assert out.loc[0, "queue_teu_ci95"] == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)
    assert out.loc[1, "queue_teu_ci95"] == pytest.approx(12.706205, rel=1e-6)


def test_a_replication_whose_table_has_no_row_counts_zero_in_the_run_s_summary() -> None:
    """Results.summary averages a count over every replication of the run, one whose table
    has no row at all included (nothing delivered there): 300 and 600 TEU/yr in two of
    three replications is 300, not 450."""
    from types import SimpleNamespace

    from sim.engine.recorder import ReplicationResult
    from sim.results import Results

    def rep(r: int, teu: list[float]) -> ReplicationResult:
        frame = pd.DataFrame({"corridor": ["west"] * len(teu), "teu_per_year": teu})
        return ReplicationResult(replication=r, tables={"corridors": frame}, conservation={})

    results = Results(plan=SimpleNamespace(name="p"),  # type: ignore[arg-type]
                      replications=[rep(0, [300.0]), rep(1, []), rep(2, [600.0])])
    assert results.summary("corridors").set_index("corridor").loc["west", "teu_per_year"] \
        == pytest.approx(300.0)


def test_the_console_s_delta_has_one_decimal_more_than_its_level() -> None:
    """compare's table shows a change of TEU in kTEU/yr to 2 decimals (its level has 1): a
    change is smaller than the level it changes. 1,234 ± 567 TEU/yr reads +1.23 ± 0.57."""
    from sim.cli.render import console, delta_table

    deltas = pd.DataFrame([{"variant": "v", "metric": "teu_per_year", "scope": "total",
                            "delta": 1234.0, "delta_ci95": 567.0}])
    out = console(200)
    with out.capture() as captured:
        out.print(delta_table(deltas, "v", 5, "paired"))
    total = next(line for line in captured.get().splitlines() if "total" in line)
    assert "+1.23 ± 0.57" in total


def test_the_sweep_s_variant_table_shows_each_headline_in_its_header_s_unit() -> None:
    """The headline loaded TEU is shown in kTEU/yr to a decimal, as its header says:
    1,234,567 ± 12,345 TEU/yr reads 1,234.6 ± 12.3; the goods trade in bn CNY/yr."""
    from sim.cli.render import console, variant_table

    summary = pd.DataFrame([{"variant": "v1", "p": 2.0, "runs_ok": 3, "runs_failed": 0,
                             "total_teu_per_year": 1_234_567.0,
                             "total_teu_per_year_ci95": 12_345.0,
                             "goods_trade_bn_cny_per_year": 812.34,
                             "goods_trade_bn_cny_per_year_ci95": 1.26}])
    out = console(250)
    with out.capture() as captured:
        out.print(variant_table(summary, ["p"]))
    text = captured.get()
    assert "kTEU/yr" in text and "1,234.6 ± 12.3" in text and "812.3 ± 1.3" in text


def test_the_console_title_says_the_days_measured_after_the_warm_up(tmp_path: Path) -> None:
    import sim
    from sim.cli.render import console, corridor_table
    from tests.support.netbuilder import line_network

    results = sim.run(sim.load_scenario(line_network(
        tmp_path, horizon={"days": 20, "warmup_days": 5}, replications=1)), progress=False)
    out = console(300)
    with out.capture() as captured:
        out.print(corridor_table(results))
    assert "per year over the 15 days measured" in " ".join(captured.get().split())


def test_the_run_table_says_which_transit_it_shows(tmp_path: Path) -> None:
    """`cqsim run` headed the delivered boxes' mean "transit days" (south 15.0 for the trial's
    scenario) and `cqsim compare` of the same runs the booked boxes' "transit days" (13.3):
    one label, two measures, two numbers (trial66). The run's table says what each transit
    column is, with the measure compare pairs."""
    import sim
    from sim.cli.render import console, corridor_table
    from tests.support.netbuilder import line_network

    results = sim.run(sim.load_scenario(line_network(
        tmp_path, horizon={"days": 20, "warmup_days": 5}, replications=1)), progress=False)
    out = console(300)
    with out.capture() as captured:
        out.print(corridor_table(results))
    text = " ".join(captured.get().split())
    assert f"transit days: {kpi('transit_mean_h').label}" in text, text
    assert "transit_open_mean_h" in text, text


@pytest.mark.parametrize(("per", "unit"), [("year", "TEU/yr"), ("week", "TEU/week"),
                                           ("horizon", "TEU over the horizon")])
def test_a_run_figure_s_label_keeps_its_unit_of_time(per: str, unit: str) -> None:
    """A run figure counted per week or over the horizon was labelled in its bare unit
    ("TEU"), read as a stock, while its column said "TEU over the horizon" (testaudit5)."""
    from sim.kpis import Summed, add_run_figure, label, remove_run_figure

    figure = add_run_figure(Summed(name="boxes_made", table="hubs", source="created_teu",
                                   unit="TEU", per=per, label="boxes created, all hubs"))
    try:
        assert label(figure.column) == label(figure.column, scaled=False) == \
            f"boxes created, all hubs, {unit}"
        assert figure.shown_unit == unit
    finally:
        remove_run_figure("boxes_made")


def test_the_console_s_delta_table_says_how_its_scaled_figures_read_in_compare_csv() -> None:
    """The console shows transit in days and TEU in kTEU/yr; compare.csv keeps hours and
    TEU/yr. The table's caption names each scaled column and its divisor, so a figure copied
    from the screen is not taken for the CSV's (off by 24 or 1,000)."""
    from sim.cli.render import console, delta_table

    deltas = pd.DataFrame([{"variant": "v", "metric": "transit_open_mean_h", "scope": "total",
                            "delta": 48.0, "delta_ci95": 12.0}])
    out = console(300)
    with out.capture() as captured:
        out.print(delta_table(deltas, "v", 5, "paired"))
    text = captured.get()
    assert "+2.00 ± 0.50" in text          # days on the screen
    assert "transit_open_mean_h / 24" in text and "teu_per_year / 1,000" in text
    assert "mean transit of the TEU booked" in text and "a lower bound" in text  # what it is
