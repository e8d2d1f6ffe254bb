"""Sweep plots a planner can read: labels in words with units, a few short tick labels that do
not overlap, no text on the bars, the source note clear of the axis labels, and the busiest
hub named."""

from __future__ import annotations

from itertools import combinations

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

matplotlib.use("Agg")

from sim.cli.render import variant_table  # noqa: E402
from sim.sweep.plots import kpi_figure, label, plotted_kpis, tornado_figure  # noqa: E402
from sim.sweep.summary import sensitivity, summarize_variants  # noqa: E402
from sim.sweep.tasks import HEADLINE_KPIS  # noqa: E402
from sim.trade import GOODS_TRADE  # noqa: E402
from tests.support.figures import source_artist  # noqa: E402

TRAINS = "network.services.south-rail-sea-qinzhou.departures_per_week"
PRICE = "network.services.south-rail-sea-qinzhou.price_cny_per_teu"


def _runs() -> pd.DataFrame:
    """A synthetic runs table: TEU in the hundred thousands (the ticks that used to collide)."""
    rng = np.random.default_rng(7)
    rows = []
    for trains in (14, 21, 28, 35):
        for price in (4000, 4500, 5000):
            for rep in range(3):
                rows.append({"status": "ok", TRAINS: trains, PRICE: price, "replication": rep,
                             "total_teu_per_year": 435_500 + 250 * trains - 10 * price / 100
                             + rng.normal(0, 40),
                             "total_trade_bn_cny_per_year": 41 + 0.1 * trains,
                             GOODS_TRADE: 49 + 0.1 * trains,   # + 8 declared not simulated
                             "max_hub_utilization": 0.7 + 0.001 * trains,
                             "max_hub_utilization_at": "cq_guoyuan" if rep else "qinzhou"})
    return pd.DataFrame(rows)


def _texts_overlap(texts: list) -> list[tuple[str, str]]:
    shown = [t for t in texts if t.get_text() and t.get_visible()]
    boxes = [t.get_window_extent() for t in shown]
    return [(a.get_text(), b.get_text()) for (a, ba), (b, bb)
            in combinations(zip(shown, boxes, strict=True), 2) if ba.overlaps(bb)]


def test_kpi_plot_is_labelled_in_words_with_legible_ticks() -> None:
    runs = _runs()
    fig = kpi_figure(runs, [TRAINS, PRICE], "max_hub_utilization")
    fig.canvas.draw()
    # the hub is named (in a title wrapped onto lines)
    assert "cq_guoyuan in 24 of 36 runs" in " ".join(fig.get_suptitle().split())
    fig = kpi_figure(runs, [TRAINS, PRICE], "total_teu_per_year")
    fig.canvas.draw()
    for ax in fig.axes:
        assert "." not in ax.get_xlabel() and ":" in ax.get_xlabel()  # "south-...: price ..."
        assert "TEU" in ax.get_ylabel() and "/yr" in ax.get_ylabel()  # unit of time
        for axis in (ax.xaxis, ax.yaxis):
            labels = [t for t in axis.get_ticklabels() if t.get_text()]
            assert 2 <= len(labels) <= 7
            assert all(len(t.get_text()) <= 7 for t in labels)
            assert _texts_overlap(labels) == []
        assert ax.yaxis.get_offset_text().get_text() == ""
    note = source_artist(fig).get_window_extent()  # the source footnote
    for ax in fig.axes:
        assert not note.overlaps(ax.xaxis.label.get_window_extent())


def test_the_busiest_in_most_runs_skips_runs_that_named_none() -> None:
    """Runs where no line measured a load factor name none (`_at` empty, or NaN read back
    from runs.csv): the plot names the line busiest in most of the runs that named one."""
    runs = pd.DataFrame({"max_line_load_factor_at": ["", "", "", np.nan, "a", "a", "b"]})
    text = label("max_line_load_factor", runs)
    assert text.endswith("(a in 2 of 3 runs)"), text
    none = pd.DataFrame({"max_line_load_factor_at": ["", ""]})
    assert label("max_line_load_factor", none) == label("max_line_load_factor")


def test_a_swing_its_interval_and_its_end_values_by_hand() -> None:
    """sensitivity.csv's swing, its 95% CI and the KPI at each end, on a design whose fit is
    a difference of means: only the tornado's drawing was tested, never the numbers."""
    # x at 2 (twice) and 6 (four times): unit 0 and 1. y: 9, 11 at the low end (mean 10);
    # 13, 15, 13, 15 at the high (mean 14). The fit's swing is 14 - 10 = 4; residuals +-1,
    # 6 of them, dof 6 - 2 = 4, sigma2 = 6 / 4 = 1.5; var(swing) = 1.5 (1/2 + 1/4) = 1.125;
    # half-width t(0.975, 4) x sqrt(1.125) = 2.7764451 x 1.0606602 = 2.944865.
    # ybar = 76 / 6, centre = 4 / 6: at low 76/6 - 4 x 4/6 = 10, at high 76/6 + 4 x 2/6 = 14
    runs = pd.DataFrame({"status": "ok", "x": [2, 2, 6, 6, 6, 6],
                         "y": [9.0, 11.0, 13.0, 15.0, 13.0, 15.0]})
    row = sensitivity(runs, ["x"], ["y"]).iloc[0]
    assert (row["low"], row["high"]) == (2, 6)
    assert row["swing"] == pytest.approx(4.0)
    assert row["swing_ci95"] == pytest.approx(2.944865, rel=1e-6)
    assert (row["kpi_at_low"], row["kpi_at_high"]) == (pytest.approx(10.0), pytest.approx(14.0))
    assert row["swing_pct_of_mean"] == pytest.approx(100 * 4 / (76 / 6))


def test_tornado_has_no_text_on_its_bars() -> None:
    runs = _runs()
    sens = sensitivity(runs, [TRAINS, PRICE], ["total_teu_per_year",
                                                "total_trade_bn_cny_per_year"])
    fig = tornado_figure(sens)
    fig.canvas.draw()
    note = source_artist(fig).get_window_extent()
    for ax in fig.axes:
        assert len(ax.texts) == 0  # values are in the tick labels, not written over the bars
        ticks = [t.get_text() for t in ax.get_yticklabels()]
        assert any("→" in t and "departures per week" in t for t in ticks)
        assert _texts_overlap(list(ax.get_xticklabels())) == []
        assert not note.overlaps(ax.xaxis.label.get_window_extent())


def test_a_sweep_headlines_the_goods_trade_the_target_is_of() -> None:
    """A sweep's sensitivity table, tornado, first plots and terminal table showed the
    channels' trade (`total_trade_bn_cny_per_year`) labelled as goods trade, 8 bn CNY/yr
    short of the goods trade in the same runs.parquet that the 900 target is of. They show
    the goods trade, labelled so, beside the loaded TEU."""
    from rich.console import Console

    runs = _runs()
    params = [TRAINS, PRICE]
    assert GOODS_TRADE in HEADLINE_KPIS and "total_trade_bn_cny_per_year" not in HEADLINE_KPIS
    assert plotted_kpis(runs, params)[:2] == ["total_teu_per_year", GOODS_TRADE]
    assert set(sensitivity(runs, params, HEADLINE_KPIS)["kpi"]) == set(HEADLINE_KPIS)
    fig = kpi_figure(runs, params, GOODS_TRADE)
    assert all(ax.get_ylabel().startswith("goods trade") for ax in fig.axes)
    variants = runs.assign(variant=[f"v{t}-{p}" for t, p in zip(runs[TRAINS], runs[PRICE],
                                                                  strict=True)])
    summary = summarize_variants(variants, params)
    screen = Console(width=200, record=True)
    screen.print(variant_table(summary, params))
    text = screen.export_text()
    assert "goods trade bn CNY/yr" in text
    first = summary.iloc[0]
    assert f"{first[GOODS_TRADE]:.1f}" in text     # 50.4: the goods trade, not the channels'
    assert f"{first['total_trade_bn_cny_per_year']:.1f}" not in text


def _drawn_inside(fig: Figure) -> list[str]:
    """The texts of `fig` drawn (Agg) past its edges: its titles, axis labels and source line
    by their window extents, every axes' drawn artists (ticks in view) by its tight box."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    edge = fig.bbox.padded(0.5)

    def inside(box: Bbox) -> bool:
        return edge.x0 <= box.x0 and box.x1 <= edge.x1 and edge.y0 <= box.y0 and box.y1 <= edge.y1

    texts = list(fig.texts) + [a for ax in fig.axes for a in (   # fig's: title, source line
        ax.xaxis.label, ax.yaxis.label, ax.title)]
    out = [t.get_text() for t in texts if t.get_text()
           and not inside(t.get_window_extent(renderer))]
    return out + [f"axes {i}" for i, ax in enumerate(fig.axes)
                  if not inside(ax.get_tightbbox(renderer))]


@pytest.mark.parametrize("kpi", [GOODS_TRADE, "total_trade_bn_cny_per_year",
                                 "max_hub_utilization"])
def test_a_one_parameter_sweep_s_plot_keeps_its_title_and_labels_inside(kpi: str) -> None:
    """A sweep of one parameter drew its plot 4.2 inches wide: the title ran past both edges
    and the y label lost its unit (bn CNY/yr) past the top and bottom. Every title and label
    is drawn inside the figure, whole: the unit of time is in the y label."""
    runs = _runs()
    for params in ([TRAINS], [TRAINS, PRICE]):
        fig = kpi_figure(runs, params, kpi)
        assert _drawn_inside(fig) == []
        for ax in fig.axes:
            assert " ".join(ax.get_ylabel().split()) == label(kpi)   # wrapped, not cut
        assert " ".join(fig.get_suptitle().split()).startswith(label(kpi, runs))
    sens = sensitivity(runs, [TRAINS], [GOODS_TRADE, "total_trade_bn_cny_per_year"])
    assert _drawn_inside(tornado_figure(sens)) == []



def test_tick_labels_differ_however_close_the_ticks() -> None:
    """A goods-trade axis read 564.4, 564.5, 564.5, 564.6, 564.6 at four significant digits
    (trial48 L2): the ticks take the digits they need to differ, the short form otherwise."""
    from sim.sweep.plots import _ShortTicks

    ticks = _ShortTicks()
    close = [564.4, 564.45, 564.5, 564.55, 564.6]
    ticks.set_locs(close)
    assert [ticks(v) for v in close] == ["564.4", "564.45", "564.5", "564.55", "564.6"]
    wide = [0.0, 5_000.0, 10_000.0, 2_500_000.0]
    ticks.set_locs(wide)
    assert [ticks(v) for v in wide] == ["0", "5,000", "10k", "2.5M"]


def test_tornado_bars_span_each_parameters_low_to_high_largest_on_top() -> None:
    """A tornado bar runs from the KPI at the parameter's low value to its high value, green
    where the KPI rises and red where it falls, the largest swing on top (sensitivity.csv
    lists the largest first)."""
    from matplotlib.colors import to_rgb

    sens = pd.DataFrame({"kpi": "total_teu_per_year", "parameter": ["a.rises", "b.falls"],
                         "low": [1.0, 1.0], "high": [2.0, 2.0],
                         "kpi_at_low": [10_000.0, 12_000.0], "kpi_at_high": [14_000.0, 10_000.0],
                         "swing": [4_000.0, -2_000.0], "swing_ci95": [500.0, 500.0],
                         "swing_pct_of_mean": [33.0, -17.0]})
    (ax,) = tornado_figure(sens).axes
    bars = sorted(ax.patches, key=lambda bar: bar.get_y())     # bottom first
    assert [t.get_text().split("\n")[0] for t in ax.get_yticklabels()] == ["b: falls",
                                                                          "a: rises"]
    (falls, rises) = bars
    # drawn in thousands of TEU (`sim.kpis.shown`)
    assert (rises.get_x(), rises.get_width()) == (pytest.approx(10.0), pytest.approx(4.0))
    assert (falls.get_x(), falls.get_width()) == (pytest.approx(10.0), pytest.approx(2.0))
    assert to_rgb(rises.get_facecolor()) == to_rgb("tab:green")
    assert to_rgb(falls.get_facecolor()) == to_rgb("tab:red")


def test_a_kpi_plot_draws_the_confidence_band_around_the_mean() -> None:
    """The band of a KPI's plot is the 95% CI of the mean at each value: it has a width
    where the replications differ."""
    runs = _runs()
    fig = kpi_figure(runs, [TRAINS], "total_teu_per_year")
    band = fig.axes[0].collections[0].get_paths()[0].vertices
    first = band[np.isclose(band[:, 0], 14)][:, 1]
    assert first.max() - first.min() > 0.01   # thousand TEU: replications some 40 TEU apart


def test_sweep_plots_say_what_their_per_year_figures_are_annualised_from() -> None:
    """A sweep's PNG read on its own gave a 60-day sweep's goods trade as 565 bn CNY/yr with
    nothing saying it came from days 30-60 at a seasonal factor of 0.80 (the console and
    sweep.json said so; trial50): the source line carries the period it is given."""
    runs = _runs()
    period = "annualised from days 30-60 (mean seasonal factor 0.799)"
    figures = [kpi_figure(runs, [TRAINS], GOODS_TRADE, period=period),
               tornado_figure(sensitivity(runs, [TRAINS], [GOODS_TRADE]), period=period)]
    for fig in figures:
        assert period in " ".join(source_artist(fig).get_text().split())
        fig.canvas.draw()
    assert "annualised" not in source_artist(kpi_figure(runs, [TRAINS], GOODS_TRADE)).get_text()
