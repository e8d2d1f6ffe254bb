"""Every PNG cqsim writes carries its source line (`sim.figsource`), clear of the axes' labels:
map.png and the sweep plots had one, fan.png, frontier.png, compare.png and daily.png had none
(doc audit 41, finding 3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib
import pandas as pd
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402

import sim  # noqa: E402
import sim.atomic  # noqa: E402
from sim.compare import compare, draw_comparison, draw_daily  # noqa: E402
from sim.pathway import GOODS_TRADE, fan_chart  # noqa: E402
from sim.planner import frontier_plot  # noqa: E402
from sim.sweep.plots import kpi_figure, tornado_figure  # noqa: E402
from sim.sweep.summary import sensitivity  # noqa: E402
from sim.trade import Reference, references  # noqa: E402
from tests.support.figures import source_artist, source_of  # noqa: E402
from tests.support.netbuilder import (  # noqa: E402
    flow,
    hub,
    link,
    scenario,
    train,
    write_geodata,
    write_scenario,
)
from tests.sweep.test_plots import PRICE, TRAINS, _runs  # noqa: E402


def assert_sourced(fig: Any, *names: str, dpi: float | None = None) -> None:
    """`fig` has a source line that names the simulation and `names`, drawn inside the
    figure with a margin (1% of its width at the left, where a long line runs out: fan.png's
    filled 99.4% of it, 1.4 px from the edge, and passed) and over no axis label, tick label
    or figure legend; at `dpi`, the resolution it is written at (text is hinted to the pixels:
    fan.png's line filled 98.3% of the width at 100 dpi, 99.4% at the 120 it is written at)."""
    text = source_of(fig)
    assert text.startswith("source:") and "cqsim" in text, text
    for name in names:
        assert name in text, (name, text)
    if dpi is not None:
        fig.set_dpi(dpi)
    # drawn as write_png draws it: a bare Figure's base canvas runs no layout
    (fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)).draw()
    note = source_artist(fig).get_window_extent()
    page = fig.bbox
    assert note.x0 >= page.x0 + 0.01 * page.width, (note.x0, page.width)
    assert note.x1 <= page.x1 - 2 and note.y0 >= page.y0 + 1, (note, page)
    for ax in (ax for ax in fig.axes if ax.axison):
        for label in (ax.xaxis.label, *ax.get_xticklabels()):
            if label.get_text() and label.get_visible():
                assert not note.overlaps(label.get_window_extent()), label.get_text()
    for legend in fig.legends:     # one drawn outside the axes, at the foot
        assert not note.overlaps(legend.get_window_extent())


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The figures handed to write_png, checked before they are closed."""
    seen: dict[str, Any] = {}

    def keep(path: Path, fig: Any, dpi: int) -> Path:
        seen[path.name] = fig
        assert_sourced(fig, dpi=dpi)
        return path

    monkeypatch.setattr(sim.atomic, "write_png", keep)
    return seen


def test_sweep_plots_carry_their_source() -> None:
    runs = _runs()
    fig = kpi_figure(runs, [TRAINS, PRICE], "total_teu_per_year")
    assert_sourced(fig, "runs.parquet")
    fig = tornado_figure(sensitivity(runs, [TRAINS, PRICE], ["total_teu_per_year"]))
    assert_sourced(fig, "sensitivity.csv")


def test_fan_chart_carries_its_source_and_the_published_figures_ids(
        tmp_path: Path, drawn: dict[str, Any]) -> None:
    years = range(2025, 2036)
    table = pd.DataFrame({"kpi": GOODS_TRADE, "year": list(years), "samples": 32,
                          **{q: [800.0 + 10 * i for i in range(len(years))]
                             for q in ("p5", "p25", "p50", "p75", "p95")}})
    base, target = references()
    fan_chart(table, tmp_path / "fan.png", target=target, last_year=2035, base=base)
    assert_sourced(drawn["fan.png"], "pathway.csv", "seeds/targets.csv goods_trade_2023 "
                   "(mkt_trade_2023)", "target: seeds/targets.csv goods_trade_2025")


def test_fan_chart_names_the_seeds_rows_of_the_figures_it_is_given(
        tmp_path: Path, drawn: dict[str, Any]) -> None:
    """fan.png's line named goods_trade_2023 (mkt_trade_2023) and goods_trade_2025 whatever
    figures it was given (review 41, L9): it names the rows of those it draws."""
    years = range(2030, 2036)
    table = pd.DataFrame({"kpi": GOODS_TRADE, "year": list(years), "samples": 32,
                          **{q: [800.0 + 10 * i for i in range(len(years))]
                             for q in ("p5", "p25", "p50", "p75", "p95")}})
    base = Reference("2024", 720.0, "seeds/targets.csv goods_trade_2024: seeds/published-"
                     "figures.csv mkt_trade_2024 (test)", 2024, "goods_trade_2024")
    target = Reference("2030 target", 1200.0, "seeds/targets.csv goods_trade_2030: a plan",
                       2030, "goods_trade_2030")
    fan_chart(table, tmp_path / "fan.png", target=target, last_year=2035, base=base)
    fig = drawn["fan.png"]
    assert_sourced(fig, "2024 published: seeds/targets.csv goods_trade_2024 (mkt_trade_2024)",
                   "target: seeds/targets.csv goods_trade_2030")
    assert "2023" not in source_of(fig) and "2025" not in source_of(fig)
    fan_chart(table, tmp_path / "fan.png", target=target, last_year=2035)
    assert "published" not in source_of(drawn["fan.png"])


def test_frontier_plot_carries_its_source(tmp_path: Path, drawn: dict[str, Any]) -> None:
    front = pd.DataFrame({"cost_to_target_bn_cny": [0.0, 14.35], "p_meet": [0.0, 0.9],
                          "p_meet_ci95_low": [0.0, 0.7], "p_meet_ci95_high": [0.3, 1.0],
                          "co2_mean_kt_per_year": [6400.0, 6300.0]})
    frontier_plot(front, tmp_path / "frontier.png", 0.8, 900.0, 2025)
    assert_sourced(drawn["frontier.png"], "frontier.csv")


def test_a_part_year_study_s_figures_say_what_they_are_annualised_from(
        tmp_path: Path, drawn: dict[str, Any]) -> None:
    """fan.png drew a 60-day pathway's 560 bn CNY/yr beside the published 713.7, and
    frontier.png a 60-day plan's P(meet), with nothing saying the figures were annualised
    from part of a year (trial51): the study's period ends their source lines
    (`sim.boundary.study_period`, "" for whole years), as compare.png's and a sweep's do."""
    from sim.boundary import study_period
    from sim.scenario import load_scenario
    from tests.support.netbuilder import line_network

    base = load_scenario(line_network(tmp_path / "season", demand={
        "seasonality": [0.5] * 3 + [1.0] * 9}))
    period = study_period(base, 60)
    assert period.startswith("annualised from days ") and "mean seasonal factor 0." in period
    flat = load_scenario(line_network(tmp_path / "flat"))
    # no season: still a part year, its days said without a factor (trial64 #3)
    assert study_period(flat, 60) == f"annualised from days {flat.horizon.warmup_days:g}-60"
    assert study_period(flat, flat.horizon.warmup_days + 365) == ""     # a whole year
    assert study_period(base, None).startswith("annualised from days ")   # its own 60 days
    years = range(2025, 2036)
    table = pd.DataFrame({"kpi": GOODS_TRADE, "year": list(years), "samples": 32,
                          **{q: [800.0 + 10 * i for i in range(len(years))]
                             for q in ("p5", "p25", "p50", "p75", "p95")}})
    _, target = references()
    fan_chart(table, tmp_path / "fan.png", target=target, last_year=2035, period=period)
    front = pd.DataFrame({"cost_to_target_bn_cny": [0.0, 14.35], "p_meet": [0.0, 0.9],
                          "p_meet_ci95_low": [0.0, 0.7], "p_meet_ci95_high": [0.3, 1.0],
                          "co2_mean_kt_per_year": [6400.0, 6300.0]})
    frontier_plot(front, tmp_path / "frontier.png", 0.8, 900.0, 2025, period=period)
    for name in ("fan.png", "frontier.png"):
        assert " ".join(source_of(drawn[name]).split()).endswith(
            f"; per-year figures {period}"), name


def test_map_and_compare_figures_carry_their_source(tmp_path: Path) -> None:
    a, b, c, d = hub("a", 0.0), hub("b", 1.0), hub("c", 0.0, 31.0), hub("d", 1.0, 31.0)
    write_geodata(tmp_path / "geo", [a, b, c, d], [link("a-b", a, b), link("c-d", c, d)])
    base = write_scenario(tmp_path / "base.yaml", scenario(
        str(tmp_path / "geo"), {"ab": train(["a", "b"], per_week=7),
                                "cd": train(["c", "d"], per_week=7, corridor="south")},
        [flow("a", "b", 50_000), flow("c", "d", 5_000)],
        horizon={"days": 30, "warmup_days": 5}, replications=2))
    more = write_scenario(tmp_path / "more.yaml", {
        "extends": "base.yaml", "name": "more",
        "changes": [{"kind": "scale", "service": "ab", "field": "departures_per_week",
                     "factor": 2}]})
    cmp = compare(base, [more])
    from sim.maps import difference_map

    for fig, names in ((sim.flow_map(cmp.base.results), ("flows.gpkg", "basemap")),
                       (draw_comparison(cmp, file="compare.csv"), ("compare.csv", "basemap")),
                       (difference_map(cmp.base.results, cmp.alts[0].results),
                        ("links table", "basemap")),
                       (draw_daily(cmp), ("locks_daily.csv", "hubs_daily.csv"))):
        assert_sourced(fig, *names)
        plt.close(fig)


def test_daily_png_and_the_report_name_the_day_axis_alike() -> None:
    """daily.png's day axis said "simulation day", report.html's, of the same day numbers,
    "model calendar (day 0 = 1 January)" (trial64 #9): one label, figsource.CALENDAR_AXIS."""
    from types import SimpleNamespace

    from sim.figsource import CALENDAR_AXIS
    from sim.report.figures import _month_axis

    days = range(10)
    tables = {"locks_daily": pd.DataFrame({"lock": "gezhouba", "direction": "up", "day": days,
                                           "queue_vessels": 3.0}),
              "hubs_daily": pd.DataFrame({"hub": "a", "day": days, "queue_teu": 40.0})}
    run = SimpleNamespace(summary=tables.__getitem__, replications=[0, 1])
    variant = SimpleNamespace(name="base", results=run)
    daily = draw_daily(SimpleNamespace(base=variant, alts=[]))  # type: ignore[arg-type]
    assert [ax.get_xlabel() for ax in daily.axes] == [CALENDAR_AXIS] * 2
    assert _month_axis(30)["title"]["text"] == CALENDAR_AXIS
    assert CALENDAR_AXIS == "model calendar (day 0 = 1 January)"
    plt.close(daily)


def test_compare_png_says_what_its_per_year_deltas_are_annualised_from(
        tmp_path: Path) -> None:
    """compare.png gave per-year deltas with nothing saying from which days (a 90-day
    comparison: days 30-90, seasonal factor 0.895), where map.png and the sweep's plots say
    it; and drawn from Python its line named compare.csv, which nothing had written
    (trial50). It says the period as the sweep's plots do, and names compare.csv only where
    `cqsim compare` wrote it."""
    from sim.figsource import annualised

    a, b = hub("a", 0.0), hub("b", 1.0)
    write_geodata(tmp_path / "geo", [a, b], [link("a-b", a, b)])
    spec = scenario(str(tmp_path / "geo"), {"ab": train(["a", "b"], per_week=7)},
                    [flow("a", "b", 50_000)], horizon={"days": 30, "warmup_days": 5},
                    replications=2)
    spec["demand"]["seasonality"] = [0.5] + [1.0] * 11     # January, the days run, at half
    base = write_scenario(tmp_path / "base.yaml", spec)
    more = write_scenario(tmp_path / "more.yaml", {
        "extends": "base.yaml", "name": "more",
        "changes": [{"kind": "scale", "service": "ab", "field": "departures_per_week",
                     "factor": 2}]})
    cmp = compare(base, [more])
    plan = cmp.base.results.plan
    period = annualised([(plan.horizon, plan.season)])
    assert period == "annualised from days 5-30 (mean seasonal factor 0.522)"
    for file in (None, "compare.csv"):
        fig = draw_comparison(cmp, file=file)
        text = " ".join(source_of(fig).split())
        assert f"per-year figures {period}" in text, text
        assert ("compare.csv" in text) is (file is not None), text
        assert_sourced(fig, "basemap")
        plt.close(fig)


def test_the_source_line_is_read_through_matplotlib_s_public_api() -> None:
    """sim.figsource read matplotlib's private `_supxlabel` in a reader only the tests used
    (review 41, L2): the line is the figure's supxlabel, read by `get_supxlabel()` (matplotlib
    3.8, the floor) and found by its gid; the reader lives in tests/support."""
    import inspect
    import re

    from matplotlib.figure import Figure

    import sim.figsource
    from sim.figsource import source_line

    fig = Figure()
    text = source_line(fig, "source: cqsim test, runs.csv")
    assert fig.get_supxlabel() == "source: cqsim test, runs.csv" == source_of(fig)
    assert source_artist(fig) is text
    assert not re.search(r"[.\"']_supxlabel", inspect.getsource(sim.figsource))
    assert not hasattr(sim.figsource, "source_of")


def test_a_source_line_too_long_for_its_figure_is_wrapped_onto_more_lines() -> None:
    """A line longer than its figure is wide ran off the left edge (fan.png's nearly did):
    it is wrapped between words, the words kept as written, and the figure holds it."""
    from matplotlib.figure import Figure

    from sim.figsource import source_line

    fig = Figure(figsize=(4, 3))
    fig.subplots().set_xlabel("year")
    text = "source: cqsim test, " + ", ".join(f"table_{i}.csv" for i in range(30))
    source_line(fig, text)
    assert source_of(fig) == text and fig.get_supxlabel().count("\n") >= 2
    fig.tight_layout()
    assert_sourced(fig, "table_0.csv", "table_29.csv")


def test_a_wrapped_line_is_broken_into_lines_of_about_one_length() -> None:
    """Five words with room for four make two lines of two and three words, not a full line
    and a last word alone."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    from sim.figsource import wrap

    four = TextToPath().get_text_width_height_descent("aaa bbb ccc ddd", FontProperties(size=6),
                                                      ismath=False)[0]
    assert wrap("aaa bbb ccc ddd eee", four + 1, 6) == "aaa bbb ccc\nddd eee"
    assert wrap("aaa bbb", four + 1, 6) == "aaa bbb"     # fits: one line


def test_fan_chart_s_caution_of_few_draws_stays_clear_of_its_labels(
        tmp_path: Path, drawn: dict[str, Any]) -> None:
    """The caution of bands from few draws lengthens fan.png's source line: still wrapped
    inside the figure, over no label (`assert_sourced`, run by `drawn`)."""
    years = range(2023, 2036)
    table = pd.DataFrame({"kpi": GOODS_TRADE, "year": list(years), "samples": 2,
                          **{q: [800.0 + 10 * i for i in range(len(years))]
                             for q in ("p5", "p25", "p50", "p75", "p95")}})
    base, target = references()
    fan_chart(table, tmp_path / "fan.png", target=target, last_year=2035, base=base)
    assert "caution: bands from 2 draws only" in source_of(drawn["fan.png"]).replace("\n", " ")
