"""compare.png's map of the change per link: a link is drawn as a gain or a loss only where
the change's 95% CI leaves out 0, and its caption says so (it promised paired CIs in
compare.csv, which has only the corridors' and the total's)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib
import pandas as pd

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from sim.compare import compare, draw_comparison  # noqa: E402
from sim.mapdata import GAIN, LOSS, NOISE, NOISE_LABEL, link_deltas  # noqa: E402
from sim.maps import difference_colours, draw_difference, draw_flows  # noqa: E402
from sim.stats import NOT_KNOWN  # noqa: E402
from tests.support.netbuilder import (  # noqa: E402
    flow,
    hub,
    link,
    scenario,
    train,
    write_geodata,
    write_scenario,
)


def _run(teu: dict[tuple[str, str], list[float]]) -> pd.DataFrame:
    """A run's TEU per year by replication, as `link_deltas` takes it."""
    return pd.DataFrame([(r, k, d, v) for (k, d), values in teu.items()
                         for r, v in enumerate(values)],
                        columns=["replication", "link", "direction", "value"])


def test_a_link_whose_change_is_noise_is_grey_not_a_gain() -> None:
    """A Qinzhou change drew links all over Europe red or blue: each by the sign of its mean
    change, however wide that change's interval. x gains in every replication, z loses in
    every one; y's mean rises (+233 TEU/yr) but its paired 95% CI holds 0: grey."""
    base = _run({("x", "down"): [1000, 1100, 900], ("y", "down"): [5000, 5000, 5000],
                 ("z", "up"): [200, 200, 200]})
    alt = _run({("x", "down"): [2000, 2150, 1950], ("y", "down"): [8000, 2500, 5200],
                ("z", "up"): [100, 110, 90], ("w", "up"): [40, 0, 0]})
    deltas = link_deltas(base, alt, paired=True)
    y = deltas.set_index(["link", "direction"]).loc[("y", "down")]
    assert y["delta"] > 0 and y["delta_ci95"] > y["delta"]
    assert difference_colours(deltas) == {"x:down": GAIN, "y:down": NOISE, "z:up": LOSS,
                                          "w:up": NOISE}   # w: new in ALT, in one replication
    # one replication: no interval, so no change is known to be more than noise
    one = link_deltas(_run({("x", "down"): [1000]}), _run({("x", "down"): [2000]}),
                      paired=True)
    assert difference_colours(one) == {"x:down": NOISE}


def test_a_link_that_moved_one_lot_in_each_of_two_replications_is_grey() -> None:
    """An ILSTC change drew a China-Europe line red: one 81-TEU lot fewer in both of its 2
    replications, a paired CI "-324 ± 0". No spread over 2 replications is not a known
    interval (`sim.stats.paired_ci`): grey, with a CI not known, until 6 agree."""
    two = link_deltas(_run({("u", "up"): [405.0, 486.0]}), _run({("u", "up"): [81.0, 162.0]}),
                      paired=True)
    assert two["delta"].iloc[0] == -324.0 and pd.isna(two["delta_ci95"].iloc[0])
    assert difference_colours(two) == {"u:up": NOISE}
    six = link_deltas(_run({("u", "up"): [405.0] * 6}), _run({("u", "up"): [81.0] * 6}),
                      paired=True)
    assert difference_colours(six) == {"u:up": LOSS}


def _scenarios(tmp_path: Path) -> tuple[Path, Path]:
    """BASE (two train services, 2 replications) and ALT "more" (twice the a-b trains)."""
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
    return base, more


def _words(text: str) -> str:
    """`text` with its line breaks as spaces: a title wrapped to its axes reads the same."""
    return " ".join(text.split())


def test_compare_map_s_caption_says_what_its_colours_mean(tmp_path: Path) -> None:
    base, more = _scenarios(tmp_path)
    fig: Any = draw_comparison(compare(base, [more]))
    titles = [_words(ax.get_title()) for ax in fig.axes
              if "change of freight" in _words(ax.get_title())]
    assert len(titles) == 1
    assert "compare.csv" not in titles[0]           # it has no row per link
    assert "95% CI leaves out 0" in titles[0] and "grey where it holds 0" in titles[0]
    legend = [t.get_text() for ax in fig.axes if ax.get_legend() is not None
              for t in ax.get_legend().get_texts()]
    assert NOISE_LABEL in legend
    plt.close(fig)


def test_the_difference_map_s_whole_caption_fits_its_figure(tmp_path: Path) -> None:
    """The README's `draw_difference(base, alt, plt.subplots()[1])` drew its caption, some
    230 characters at 9 pt, on one line that ran off both edges of the figure, and of a
    13 x 8.2 in one (trial50): it is wrapped between words to the axes' width, every word
    kept, and drawn within the figure's width; within its height too where the layout makes
    room for it (constrained, as `flow_map`'s; this test's map is taller than the shipped
    network's, which leaves room above it). A title the caller gives is drawn as given."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from sim.mapdata import difference_caption

    base, more = _scenarios(tmp_path)
    cmp = compare(base, [more])
    caption = (f"more − test: change of freight per link and direction, TEU per year "
               f"(annualised from days 5-30, mean of 2 replications; "
               f"{difference_caption(True)})")
    for size, layout in ((None, None), ((13, 8.2), None), ((4, 3), None),
                         ((13, 8.2), "constrained"), (None, "constrained")):
        fig, ax = plt.subplots(figsize=size, layout=layout)
        draw_difference(cmp.base.results, cmp.alts[0].results, ax)
        assert _words(ax.get_title()) == caption
        assert "\n" in ax.get_title()          # too long for one line at any of these widths
        FigureCanvasAgg(fig).draw()
        title, page = ax.title.get_window_extent(), fig.bbox
        assert page.x0 <= title.x0 and title.x1 <= page.x1, (size, title, page)
        if layout:
            assert page.y0 <= title.y0 and title.y1 <= page.y1, (size, title, page)
        plt.close(fig)
    fig, ax = plt.subplots()
    draw_difference(cmp.base.results, cmp.alts[0].results, ax, title=caption)
    assert ax.get_title() == caption
    plt.close(fig)


def test_the_difference_map_carries_its_source_and_period(tmp_path: Path) -> None:
    """The README's difference map drew no source line and said no period its TEU per year
    are annualised from, where `sim.flow_map` says both (trial64 #9): `difference_map` is
    its figure with the source line, as `flow_map` is a flow map's, and the period is in
    `draw_difference`'s title, as in `draw_flows`'."""
    from sim.figsource import SOURCE_GID
    from sim.maps import MAP_NOTE, difference_map

    base, more = _scenarios(tmp_path)
    cmp = compare(base, [more])
    fig = difference_map(cmp.base.results, cmp.alts[0].results)
    source = _words(fig.get_supxlabel())
    assert source.startswith("source: ALT − BASE of the flows simulated by cqsim") and \
        _words(MAP_NOTE) in source, source
    assert [t.get_gid() for t in fig.texts if t.get_gid() == SOURCE_GID]
    title = _words(fig.axes[0].get_title())
    assert "(annualised from days 5-30, mean of 2 replications;" in title, title
    plt.close(fig)


def test_a_map_s_legend_fits_its_figure(tmp_path: Path) -> None:
    """A map's legend stood in one row under it: a flow map's entries ran off both edges of
    the README's `plt.subplots()` figure (6.4 in; tfix50). It takes as few rows as fit the
    figure's width, one where that fits, and keeps every entry."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    base, more = _scenarios(tmp_path)
    cmp = compare(base, [more])
    for size in ((4, 3), None, (13, 8.2)):
        for draw in (lambda ax: draw_flows(cmp.base.results, ax),
                     lambda ax: draw_difference(cmp.base.results, cmp.alts[0].results, ax)):
            fig, ax = plt.subplots(figsize=size)
            draw(ax)
            FigureCanvasAgg(fig).draw()
            legend = ax.get_legend()
            box, page = legend.get_window_extent(), fig.bbox
            assert page.x0 <= box.x0 and box.x1 <= page.x1, (size, box, page)
            rows = {round(t.get_window_extent().y0) for t in legend.get_texts()}
            assert len(legend.get_texts()) == len(legend.legend_handles)     # every entry
            if size == (13, 8.2):
                assert len(rows) == 1                  # one row where one fits
            if size == (4, 3):
                assert len(rows) > 1
            plt.close(fig)


def test_the_map_pairs_only_runs_that_can_be_paired(tmp_path: Path) -> None:
    """A caller drawing two runs of other seeds got paired CIs: `paired` now defaults to what
    the runs allow (one seed, as many replications), as the report decides; compare.png's
    title says which intervals its bars have."""
    base, more = _scenarios(tmp_path)
    for independent, pairing in ((True, "Welch 95% CI"), (False, "paired 95% CI")):
        cmp = compare(base, [more], independent=independent)
        fig, ax = plt.subplots()
        draw_difference(cmp.base.results, cmp.alts[0].results, ax)
        assert pairing in _words(ax.get_title())
        plt.close(fig)
        # compare.png's bars say the same of their intervals as the console's tables
        # (`sim.stats.deltas_kind`): its title read "deltas, 95% CI" for Welch's
        fig = draw_comparison(cmp)
        kind = "deltas, Welch 95% CI" if independent else "paired deltas, 95% CI"
        assert f"ALT − {cmp.base.name}: {kind} over" in _words(fig.subfigs[0].get_suptitle())
        plt.close(fig)


def test_compare_png_names_a_variant_by_its_name_only(tmp_path: Path) -> None:
    """`compare(..., names=[...])` names the variant in the bars' legend; the map's title and
    legend named it by its plan ("more") instead, and so did `draw_flows` (map.png)."""
    base, more = _scenarios(tmp_path)
    cmp = compare(base, [more], names=["twice the trains"])
    fig: Any = draw_comparison(cmp)
    title = next(_words(ax.get_title()) for ax in fig.axes
                 if "change of freight" in _words(ax.get_title()))
    assert title.startswith("twice the trains − ")
    legend = [t.get_text() for ax in fig.axes if ax.get_legend() is not None
              for t in ax.get_legend().get_texts()]
    assert "twice the trains" in legend and "more TEU/yr in twice the trains" in legend
    assert not [t for t in legend if t.endswith(" more")]
    plt.close(fig)
    # map.png's title too: the name the run goes by, not its plan's
    fig, ax = plt.subplots()
    draw_flows(cmp.alts[0].results, ax)
    assert _words(ax.get_title()).startswith("twice the trains: freight per link")
    plt.close(fig)


def _error_bars(fig: Any) -> int:
    """How many deltas compare.png's bar panels draw an error bar for."""
    from matplotlib.collections import LineCollection
    return sum(len(c.get_segments()) for ax in fig.axes if ax.get_title().startswith("Δ")
               for c in ax.collections if isinstance(c, LineCollection))


def _bars_title(fig: Any) -> str:
    return next(t.get_text() for sub in fig.subfigs for t in sub.texts
                if "95% CI over" in t.get_text())


def test_a_delta_whose_ci_is_not_known_has_no_error_bar_and_the_title_says_so(
        tmp_path: Path) -> None:
    """A NaN CI (one replication, or differences all one amount) was drawn as a capped bar
    of zero width, reading as a change known exactly, under "95% CI over N replications"."""
    base, more = _scenarios(tmp_path)
    cmp = compare(base, [more])
    shown = cmp.deltas["metric"].isin(["teu_per_year", "trade_bn_cny_per_year",
                                       "transit_open_mean_h", "co2_t_per_year"])
    known = int((shown & cmp.deltas["delta_ci95"].notna()).sum())
    fig: Any = draw_comparison(cmp)
    assert _error_bars(fig) == known and NOT_KNOWN not in _bars_title(fig)
    plt.close(fig)
    total = cmp.deltas["scope"] == "total"
    cmp.deltas.loc[total, "delta_ci95"] = float("nan")     # as `paired_ci` leaves it
    fig = draw_comparison(cmp)
    assert _error_bars(fig) == int((shown & ~total & cmp.deltas["delta_ci95"].notna()).sum())
    assert f"no error bar: {NOT_KNOWN}" in _bars_title(fig)
    plt.close(fig)


def test_compare_png_says_paired_only_of_paired_deltas(tmp_path: Path) -> None:
    base, more = _scenarios(tmp_path)
    for independent in (False, True):
        fig: Any = draw_comparison(compare(base, [more], independent=independent))
        title = _bars_title(fig)
        assert ("paired" in title) is not independent, title
        assert ("independent seeds" in title) is independent
        plt.close(fig)
