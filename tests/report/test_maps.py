"""map.png: projected, every hub labelled without overlap, a Chongqing inset in which a dry
port 40 km from Tuanjiecun stands apart, direction and a legend in TEU per year."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from pyproj import Geod  # noqa: E402
from shapely.geometry import LineString, Point  # noqa: E402

from sim import mapdata  # noqa: E402
from sim.maps import LABEL_GID, draw_map  # noqa: E402
from tests.support.paths import BASELINE, ROOT  # noqa: E402


def _with_dry_port(run: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The run's flows plus a dry port 40 km east of Tuanjiecun, linked to it."""
    links = gpd.read_file(run / "flows.gpkg", layer="links")
    hubs = gpd.read_file(run / "flows.gpkg", layer="hubs")
    tj = hubs.loc[hubs["hub"] == "cq_tuanjiecun"].geometry.iloc[0]
    lon, lat, _ = Geod(ellps="WGS84").fwd(tj.x, tj.y, 90.0, 40_000.0)
    port = hubs.iloc[[0]].assign(hub="cq_dry_port", name="Dry port (new)", teu=1.0,
                                 geometry=[Point(lon, lat)])
    link = links.iloc[[0]].assign(link="cq_tuanjiecun-cq_dry_port", from_hub="cq_tuanjiecun",
                                  to_hub="cq_dry_port", corridor="feeder", km=45.0,
                                  teu_down=20_000.0, teu_up=5_000.0,
                                  geometry=[LineString([(tj.x, tj.y), (lon, lat)])])
    return (gpd.GeoDataFrame(pd.concat([links, link]), crs=links.crs),
            gpd.GeoDataFrame(pd.concat([hubs, port]), crs=hubs.crs))


def _labels(ax: plt.Axes) -> list:
    return [t for t in ax.texts if t.get_gid() == LABEL_GID]


def test_every_hub_labelled_without_overlap_and_the_dry_port_in_the_inset(
        one_run: Path) -> None:
    links, hubs = _with_dry_port(one_run)
    fig, ax = plt.subplots(figsize=(13, 8.2), layout="constrained")
    inset = draw_map(ax, links, hubs, geodata=ROOT / "geodata")
    assert inset is not None
    fig.canvas.draw()
    main, close = _labels(ax), _labels(inset)
    texts = {t.get_text() for t in main} | {t.get_text() for t in close}
    for name in ("Qianjiang", "Dry Port", "Tuanjiecun", "Wanzhou", "Chengdu", "Duisburg",
                 "Frankfurt", "Alashankou", "Khorgos", "Qinzhou", "Hanoi"):
        assert name in texts, name
    assert len(main) + len(close) >= len(hubs)  # every hub has a label somewhere
    for labels in (main, close):
        # the text itself (an Annotation's own extent includes its leader line)
        boxes = [Text.get_window_extent(t).expanded(0.98, 0.9) for t in labels]
        clashes = [(a.get_text(), b.get_text()) for (a, ba), (b, bb) in
                   combinations(zip(labels, boxes, strict=True), 2) if ba.overlaps(bb)]
        assert clashes == []
    # in the inset the dry port and Tuanjiecun are apart by more than a marker's width
    two = hubs.set_index("hub").loc[["cq_tuanjiecun", "cq_dry_port"]]
    pts = inset.transData.transform(
        mapdata.project(two).get_coordinates().to_numpy())
    assert abs(pts[0] - pts[1]).max() > 12
    plt.close(fig)


def test_map_png_is_projected_with_a_legend_per_year(one_run: Path) -> None:
    import sim

    res = sim.run(sim.prepare(BASELINE, days=20, replications=1),
                  progress=False)
    fig = sim.flow_map(res)
    ax = fig.axes[0]
    assert abs(ax.get_xlim()[1] - ax.get_xlim()[0]) > 1e6  # metres, not degrees
    legend = " ".join(t.get_text() for t in ax.get_legend().get_texts())
    assert "TEU/yr" in legend and "direction" in legend
    assert "TEU per year" in ax.get_title()
    plt.close(fig)


def test_the_width_legend_reads_its_flows_in_thousands_and_millions() -> None:
    """The legend of line widths names the busiest flow, a tenth and a hundredth of it:
    1,234,567 TEU/yr reads 1.2M, 123,457 reads 123k, 12,346 reads 12k."""
    from sim.maps import _width_handles

    labels = [h.get_label() for h in _width_handles(1_234_567.0, "TEU/yr")]
    assert labels == ["12k TEU/yr", "123k TEU/yr", "1.2M TEU/yr"]
    assert [h.get_label() for h in _width_handles(9_500.0, "TEU/yr")] == [
        "95 TEU/yr", "950 TEU/yr", "9.5k TEU/yr"]


def test_a_line_s_width_grows_with_the_square_root_of_its_flow() -> None:
    """A hundredth of the busiest flow is drawn a tenth as wide above the thinnest line
    (0.6 + 10 * 0.1), not a hundredth: it still reads as a line."""
    assert mapdata.line_width(500.0, 50_000.0, 10.0) == pytest.approx(1.6)
    assert mapdata.line_width(50_000.0, 50_000.0, 10.0) == pytest.approx(10.6)
    assert mapdata.line_width(-5.0, 50_000.0, 10.0) == pytest.approx(0.6)


def test_the_map_hover_cuts_a_flow_s_interval_at_0_as_the_tables_do() -> None:
    """A link's or hub's TEU/yr in the map's hover read '162 ± 824' where the page says a
    figure that cannot be negative is shown 'v (0 to u)' (trial64 #9): the same formatter
    (`figures.level`) as the tables'."""
    from types import SimpleNamespace

    from sim.report.figures import _hub_hover, _link_hover

    lines = pd.DataFrame({"from_hub": ["a", "a"], "to_hub": ["b", "b"],
                          "corridor": ["south", "south"], "mode": ["rail", "rail"],
                          "km": [10.0, 10.0], "teu": [162.0, 5000.0],
                          "teu_ci95": [824.0, 100.0], "utilization": [0.1, 0.5]})
    low, high = _link_hover(lines, {"a": "A", "b": "B"})
    assert "162 (0 to 986) TEU/yr" in low and "±" not in low, low
    assert "5,000 ± 100 TEU/yr" in high, high
    hubs = pd.DataFrame({"hub": ["a"], "name": ["A"], "kind": ["port"],
                         "teu_per_year": [114.0], "teu_per_year_ci95": [618.0],
                         "utilization": [0.1], "wait_mean_h": [1.0], "yard_peak_teu": [3.0]})
    (hover,) = _hub_hover(hubs, SimpleNamespace(per_year=1.0))   # type: ignore[arg-type]
    assert "handled 114 (0 to 732) TEU/yr" in hover, hover


def test_a_map_says_its_period_as_the_other_figures_do() -> None:
    """Map titles said "annualised from 120 days" their own way, and "annualised from 365
    days" of whole years (review65 #11): they say what `sim.trade.part_year` says (the days,
    the season where it is off 1), and nothing of a whole year."""
    from sim.maps import _About, _per_year
    from sim.scenario import Horizon

    def about(days: float, warmup: float, season: float | None) -> _About:
        return _About(None, 1, 1, Horizon(days=days, warmup_days=warmup), season)

    assert _per_year(about(395, 30, 1.0)) == ""
    assert _per_year(about(150, 30, 1.0)) == "annualised from days 30-150, "
    assert _per_year(about(150, 30, 0.9), about(395, 30, 1.0)) == \
        "annualised from days 30-150 (mean seasonal factor 0.900), "


@pytest.mark.parametrize("name", ["short", "a scenario name long enough to wrap the title of "
                                           "the map onto a second line " * 2])
def test_a_map_s_title_legend_and_source_line_fit_the_figure(tmp_path: Path,
                                                             name: str) -> None:
    """On the whole network (as wide as the figure, the map's height fixed by its width), a
    title of two lines ran 7 px off the top of the figure and the legend under the map over
    the source line: the constrained layout left too little room, and 1d6f71a's period made
    the README's difference map of a comparison two lines long (trial66). The figure grows
    to hold them."""
    import sim
    from sim.figsource import SOURCE_GID
    from tests.support import netbuilder as nb

    doc = nb.scenario(str(ROOT / "geodata"),
                      {"ab": nb.train(["cq_tuanjiecun", "qinzhou"], per_week=7)},
                      [nb.flow("cq_tuanjiecun", "qinzhou", 20_000)],
                      horizon={"days": 20, "warmup_days": 5})
    doc["name"] = name
    results = sim.run(sim.load_scenario(nb.write_scenario(tmp_path / "s.yaml", doc)),
                      progress=False)
    fig = sim.flow_map(results)
    fig.canvas.draw()
    ax = fig.axes[0]
    title = ax.title.get_window_extent()
    legend = ax.get_legend().get_window_extent()
    source = fig.findobj(lambda a: a.get_gid() == SOURCE_GID)[0].get_window_extent()
    assert title.y1 <= fig.bbox.y1, (title, fig.bbox)
    assert legend.y0 >= source.y1, (legend, source)
    assert fig.get_figwidth() == 13        # as wide as asked
    plt.close(fig)


def test_hub_labels_are_placed_busiest_first(one_run: Path, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    """`label_hubs` places labels in the order it is given, most important first: the
    hubs outside the Chongqing inset came in table order, sorted by a column of the
    off-map hubs (`far`, none of them on the map: every key NaN) since the off-map arrows
    were added."""
    import sim
    import sim.maps

    links, hubs = sim.maps._frames(sim.read_run(one_run))
    seen: list[pd.DataFrame] = []
    monkeypatch.setattr(sim.maps, "label_hubs", lambda ax, order, texts: seen.append(order))
    fig, ax = plt.subplots(figsize=(13, 8.2), layout="constrained")
    draw_map(ax, links, hubs, geodata=None)
    plt.close(fig)
    order = seen[0]             # the main map's (the inset's own come after)
    rest = order.iloc[1:]       # after the inset's anchor
    teu = rest["teu_per_year"].to_numpy()
    assert len(rest) > 5 and (teu[:-1] >= teu[1:]).all(), list(rest["hub"])



def test_the_report_s_maps_place_hub_labels_busiest_first() -> None:
    """The report's maps placed their labels in the flows layer's table order while map.png
    placed them busiest first (review66): both order them by `mapdata.busiest_first`, so the
    busiest hub's label takes the best place."""
    from sim.report.figures import _label_annotations

    hubs = gpd.GeoDataFrame({"hub": ["a", "b", "c", "d"],
                             "teu_per_year": [1.0, 3.0, float("nan"), 2.0]},
                            geometry=[Point(0, 0), Point(1, 0), Point(2, 0), Point(3, 0)])
    notes = _label_annotations(hubs, ["A", "B", "C", "D"], (-1.0, -1.0, 4.0, 1.0), 300.0)
    assert [n["text"] for n in notes] == ["B", "D", "A", "C"]
    assert list(mapdata.busiest_first(hubs)["hub"]) == ["b", "d", "a", "c"]
    assert list(mapdata.busiest_first(hubs.drop(columns="teu_per_year"))["hub"]) == list("abcd")
