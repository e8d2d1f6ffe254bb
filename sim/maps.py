"""Static flow maps (map.png, the difference map of compare.png): freight per link and
direction in TEU per year, on the countries basemap, in a Lambert conformal conic projection
with a Chongqing inset. Plots stay out of the engine: they read `Results`, or a run's folder
read back (`sim.read_run`: its flows.gpkg, as the report reads it), only; the geometry is
shared with the browser report (`sim.mapdata`)."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, cast

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.markers import MarkerStyle
from matplotlib.path import Path as MplPath
from matplotlib.transforms import IdentityTransform

from sim import mapdata
from sim.figsource import source_line, wrap
from sim.mapdata import CORRIDOR_COLOURS, short_name
from sim.results import Results, need_results

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from sim.report.rundir import RunDir
    from sim.units import HasPeriod

__all__ = ["CORRIDOR_COLOURS", "difference_colours", "difference_map", "draw_difference",
           "draw_flows", "draw_map", "flow_map", "link_table", "short_name"]

MAX_WIDTH = 7.0     # points: the busiest direction of a link
TITLE_PT = 9        # a map's title ...
TEXT_ROOM = 0.98    # ... and its legend fill at most this share of the width they have
MIN_WIDTH = 0.6
GAP_PT = 0.5        # between the two directions of a link
LABEL_PT = 6.5      # hub labels
LAND, BORDER, SEA = "#f1eee7", "#c4bdae", "#e6eff7"
LABEL_GID = "hub-label"
INSET = (0.005, 0.01, 0.33, 0.42)  # the close-up, in axes fractions (x, y, width, height)
# the projection and basemap of every map; `source_note` is a flow map's whole source line
MAP_NOTE = ("basemap: geodata/basemap.gpkg; Lambert conformal conic centred at 65°E 40°N, "
            "standard parallels 25°N and 55°N")


def source_note(file: str | None = "flows.gpkg") -> str:
    """A flow map's source line: the flows simulated by cqsim, from `file` where one holds them
    (map.png: flows.gpkg, written beside it; a notebook draws `sim.run`'s results: no file, or
    what it names), then the basemap and projection (`MAP_NOTE`)."""
    held = f" ({file})" if file else ""
    return f"source: flows simulated by cqsim{held}; {MAP_NOTE}"


def difference_note(file: str | None = None) -> str:
    """A difference map's source line: ALT − BASE of the simulated flows, from each run's
    links table (`file` where one holds it: a run folder's links.parquet), then the basemap
    and projection (`MAP_NOTE`). compare.png's maps say it too (`sim.compare`)."""
    held = f" ({file})" if file else ""
    return (f"ALT − BASE of the flows simulated by cqsim per link and direction, from each "
            f"run's links table{held} by replication; {MAP_NOTE}")


def annual_frames(results: Results) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """flows_frames with link TEU per year as the drawing reads it (teu, teu_down, teu_up)."""
    from sim.flows import flows_frames

    frames = flows_frames(results)
    links, hubs = cast("gpd.GeoDataFrame", frames[0]), cast("gpd.GeoDataFrame", frames[1])
    links = links.rename(columns={f"{c}_per_year": c for c in ("teu", "teu_down", "teu_up")})
    return links, hubs


class _About(NamedTuple):
    """What a map says of a run besides its flows."""

    geodata: Path | None    # the basemap's folder
    seed: int
    replications: int
    period: HasPeriod       # the horizon: days and warm-up (the statistics period)
    season: float | None    # its mean seasonal factor (None: not recorded)


def _drawn(value: object, call: str) -> Results | RunDir:
    """`value` as the public function `call` draws it: the Results of `sim.run`, a run's
    folder read back (`sim.read_run`), or the path of such a folder, read now (InputError,
    one line, for a folder that is not a run's); else `need_results`' TypeError."""
    from sim.report.rundir import RunDir, read_run

    if isinstance(value, RunDir):
        return value
    if isinstance(value, (str, os.PathLike)):
        return read_run(value)
    return need_results(value, call)


def _frames(run: Results | RunDir) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """(links, hubs) of `run` as the drawing reads them (link teu, teu_down, teu_up per
    year): of a run in memory `annual_frames`, of a folder its flows.gpkg as the report
    reads it (`RunDir.flows`, `RunDir.link_teu_per_year`)."""
    if isinstance(run, Results):
        return annual_frames(run)
    links, hubs = run.flows
    return run.link_teu_per_year(links), hubs


def _about(run: Results | RunDir) -> _About:
    if isinstance(run, Results):
        h = run.plan.horizon
        return _About(Path(run.plan.geodata), run.plan.seed, run.plan.replications,
                      h, run.plan.season)
    return _About(run.geodata, run.seed, run.replications, run, run.seasonal_factor)


def _per_year(*runs: _About) -> str:
    """The parenthesis after a map title's "TEU per year": what its per-year figures are
    annualised from where the statistics period is part of a year (`sim.trade.part_year`,
    as trade.csv, the report, compare.png and a sweep's plots say it: "annualised from days
    30-150, "), nothing for whole years, then the replications, by `_title`'s caller:
    without the period, a part year's map or difference reads as a year's."""
    from sim.trade import part_year

    period = part_year((r.period, r.season) for r in runs)
    return f"{period}, " if period else ""


def _link_table(run: Results | RunDir) -> pd.DataFrame:
    """`link_table` of a run in memory or of a folder (`sim.report.deltas.link_table`)."""
    if isinstance(run, Results):
        return link_table(run)
    from sim.report.deltas import link_table as folder_links

    return folder_links(run)


def _root(ax: Axes) -> Figure:
    """The figure `ax` is drawn in, through any subfigure."""
    fig = ax.figure
    while not isinstance(fig, Figure):
        fig = fig.figure
    return fig


def _title(ax: Axes, title: str | None, caption: str) -> None:
    """Title `ax` with `title` as the caller wrote it, else with the map's own `caption`
    wrapped between words to the width of `ax` (`sim.figsource.wrap`): the difference map's,
    some 230 characters at 9 pt on one line, ran off both edges of the README's
    `plt.subplots()` figure and of a 13 x 8.2 in one (trial50)."""
    if not title:
        width = ax.get_window_extent().width * 72.0 / _root(ax).dpi
        title = wrap(caption, width * TEXT_ROOM, TITLE_PT)
    ax.set_title(title, fontsize=TITLE_PT)


def _metres_per_point(ax: Axes) -> float:
    x0, x1 = ax.get_xlim()
    width_pt = ax.get_window_extent().width * 72.0 / _root(ax).dpi
    return abs(x1 - x0) / max(width_pt, 1.0)


def _draw_lines(ax: Axes, links: gpd.GeoDataFrame, top: float,
                colour_of: dict[str, str] | None = None) -> None:
    """Both directions of every link, offset to the right of travel, width by |teu|,
    an arrow at the middle of each; `links` projected, `teu` per direction."""
    m_pt = _metres_per_point(ax)

    def width(teu: float) -> float:
        return float(mapdata.line_width(abs(teu), top, MAX_WIDTH, MIN_WIDTH))

    lines = mapdata.directed_lines(links, lambda teu: (width(teu) / 2 + GAP_PT / 2) * m_pt)
    idle, paths, colours, widths, arrows = [], [], [], [], []
    for r in lines.itertuples(index=False):
        xy = np.column_stack(r.geometry.xy)
        if abs(r.teu) <= top * 1e-4:
            idle.append(xy)
            continue
        paths.append(xy)
        colours.append((colour_of or {}).get(f"{r.link}:{r.direction}") or
                       mapdata.corridor_colour(str(r.corridor)))
        widths.append(width(r.teu))
        if r.geometry.length > 40 * m_pt:  # an arrow where there is room for one
            mid = r.geometry.interpolate(0.5, normalized=True)
            a = r.geometry.interpolate(0.48, normalized=True)
            b = r.geometry.interpolate(0.52, normalized=True)
            angle = math.degrees(math.atan2(b.y - a.y, b.x - a.x))
            arrows.append((mid.x, mid.y, angle, max(3.0, widths[-1] + 1.5)))
    # one collection per kind of line (not an artist per line: the map is drawn five times)
    ax.add_collection(LineCollection(idle, colors="#9a9a9a", linewidths=0.5, linestyles=":",
                                     zorder=2, capstyle="butt"), autolim=False)
    ax.add_collection(LineCollection(paths, colors=colours, linewidths=widths, alpha=0.9,
                                     zorder=3, capstyle="butt", joinstyle="round"),
                      autolim=False)
    if arrows:
        markers = [MarkerStyle((3, 0, angle - 90)) for _, _, angle, _ in arrows]
        ax.add_collection(PathCollection(
            [m.get_path().transformed(m.get_transform()) for m in markers],
            sizes=[size ** 2 for *_, size in arrows], offsets=[(x, y) for x, y, *_ in arrows],
            offset_transform=ax.transData, transform=IdentityTransform(), facecolors="#222",
            edgecolors="none", linewidths=0, zorder=4), autolim=False)


def _draw_hubs(ax: Axes, hubs: gpd.GeoDataFrame) -> None:
    ax.scatter(hubs.geometry.x, hubs.geometry.y, s=14, facecolor="white", edgecolor="#111",
               linewidth=0.9, zorder=5)


def label_hubs(ax: Axes, hubs: gpd.GeoDataFrame, texts: list[str]) -> None:
    """Label `hubs` (projected) with `texts`, placed without overlap in display space
    (`sim.mapdata.place_labels`, most important first), leader lines for far labels."""
    fig = _root(ax)
    fig.draw_without_rendering()  # settle the layout so display coordinates are final
    to_px = ax.transData.transform
    pts = to_px(np.column_stack([hubs.geometry.x, hubs.geometry.y]))
    px_per_pt = fig.dpi / 72.0
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    sizes = []
    for text in texts:  # the size each label really takes, with its box and a margin
        probe = ax.text(0, 0, text, fontsize=LABEL_PT)
        ext = probe.get_window_extent(renderer)
        probe.remove()
        sizes.append((ext.width + 0.6 * LABEL_PT * px_per_pt, ext.height + 0.4 * LABEL_PT
                      * px_per_pt))
    box = ax.get_window_extent()
    placed = mapdata.place_labels(pts, sizes, (box.x0, box.y0, box.x1, box.y1))
    xy = zip(hubs.geometry.x, hubs.geometry.y, strict=True)
    for (x, y), text, lab in zip(xy, texts, placed, strict=True):
        ax.annotate(text, (x, y), xytext=(lab.dx / px_per_pt, lab.dy / px_per_pt),
                    textcoords="offset points", ha=lab.ha, va={"middle": "center_baseline"}.get(
                        lab.va, lab.va), fontsize=LABEL_PT, zorder=7, gid=LABEL_GID,
                    bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none",
                          "alpha": 0.65},
                    arrowprops={"arrowstyle": "-", "lw": 0.5, "color": "#444",
                                "shrinkA": 0, "shrinkB": 2} if lab.leader else None)


def _mark_off_map(ax: Axes, far: gpd.GeoDataFrame,
                  bounds: tuple[float, float, float, float]) -> None:
    """An arrow at the frame's edge toward each hub (projected) beyond the map window."""
    cx, cy = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
    hw, hh = (bounds[2] - bounds[0]) / 2 * 0.97, (bounds[3] - bounds[1]) / 2 * 0.97
    seen: list[str] = []
    kinds = far["kind"] if "kind" in far else [""] * len(far)
    for hub, name, kind, p in zip(far["hub"], far["name"], kinds, far.geometry, strict=True):
        place = short_name(str(hub), str(name))
        back_f = 0.93 - 0.05 * seen.count(place)  # a second hub of one place stacks inward
        seen.append(place)
        dx, dy = p.x - cx, p.y - cy
        t = min(hw / abs(dx) if dx else math.inf, hh / abs(dy) if dy else math.inf)
        tip = (cx + dx * t, cy + dy * t)
        back = (cx + dx * t * back_f, cy + dy * t * back_f)
        text = f"{place} airport" if kind == "airport" else place
        ax.annotate(text, tip, xytext=back, fontsize=LABEL_PT,
                    ha="center", va="center", zorder=7, color="#333", gid=LABEL_GID,
                    arrowprops={"arrowstyle": "->", "lw": 0.7, "color": "#333"})


def _frame(ax: Axes, bounds: tuple[float, float, float, float]) -> None:
    ax.set_xlim(bounds[0], bounds[2])
    ax.set_ylim(bounds[1], bounds[3])
    ax.set_aspect("equal")
    ax.set_facecolor(SEA)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")


def _basemap(ax: Axes, geodata: Path | None, bounds: tuple[float, float, float, float],
             tolerance_m: float) -> None:
    land = mapdata.basemap(geodata / mapdata.BASEMAP_FILE, bounds, tolerance_m) \
        if geodata else None
    if land is not None:  # a PathCollection: what GeoDataFrame.plot draws, made directly
        ax.add_collection(PathCollection(_polygon_paths(land.geometry), facecolors=LAND,
                                         edgecolors=BORDER, linewidths=0.4, zorder=1),
                          autolim=False)


def _polygon_paths(polygons: gpd.GeoSeries) -> list[MplPath]:
    """One compound path (exterior and holes) per polygon part."""
    import shapely

    return [MplPath.make_compound_path(*(MplPath(shapely.get_coordinates(ring), closed=True)
                                         for ring in (part.exterior, *part.interiors)))
            for part in shapely.get_parts(polygons.to_numpy())
            if part.geom_type == "Polygon"]


def draw_map(ax: Axes, links: gpd.GeoDataFrame, hubs: gpd.GeoDataFrame, *,
             geodata: Path | None, top: float | None = None, labels: bool = True,
             inset: bool = True, colour_of: dict[str, str] | None = None) -> Axes | None:
    """Draw flows (`links` with teu_down/teu_up per year, lon/lat) on `ax`, with a Chongqing
    inset (returned) when the network has Chongqing hubs and `inset` is set."""
    far = mapdata.project(mapdata.off_map(hubs))
    plinks, phubs = mapdata.project(links), mapdata.project(hubs.drop(index=far.index))
    bounds = mapdata.map_bounds(links, 0.03)
    _frame(ax, bounds)
    _root(ax).draw_without_rendering()
    _basemap(ax, geodata, bounds, (bounds[2] - bounds[0]) / 1500)
    _frame(ax, bounds)
    top = top or float(np.nanmax(np.abs(plinks[["teu_down", "teu_up"]].to_numpy()))) or 1.0
    _draw_lines(ax, plinks, top, colour_of)
    _draw_hubs(ax, phubs)
    _mark_off_map(ax, far, bounds)
    near = mapdata.close_up_hubs(phubs) if inset else phubs.iloc[:0]
    if labels:
        import pandas as pd

        rest = phubs.drop(index=near.index)
        # busiest first (the off-map ones' `far` are marked at the edge, not labelled here)
        order = mapdata.busiest_first(rest)
        texts = [short_name(str(h), str(n))
                 for h, n in zip(order["hub"], order["name"], strict=True)]
        if len(near):
            cq = near[near["hub"].astype(str).str.startswith(mapdata.CHONGQING_PREFIX)]
            anchor = cq.iloc[[0]] if len(cq) else near.iloc[[0]]
            order = pd.concat([anchor, order])
            texts = ["Chongqing (inset)"] + texts
        label_hubs(ax, order, texts)
    if not len(near):
        return None
    cu = mapdata.close_up_bounds(phubs)
    assert cu is not None
    sub = ax.inset_axes(INSET)
    w, h = cu[2] - cu[0], cu[3] - cu[1]
    box = ax.get_window_extent()
    want = (box.width * INSET[2]) / (box.height * INSET[3])
    if w / h < want:
        cu = (cu[0] - (h * want - w) / 2, cu[1], cu[2] + (h * want - w) / 2, cu[3])
    else:
        cu = (cu[0], cu[1] - (w / want - h) / 2, cu[2], cu[3] + (w / want - h) / 2)
    _frame(sub, cu)
    _basemap(sub, geodata, cu, (cu[2] - cu[0]) / 1500)
    _frame(sub, cu)
    _root(ax).draw_without_rendering()
    _draw_lines(sub, plinks, top, colour_of)
    inside = phubs.cx[cu[0]:cu[2], cu[1]:cu[3]]
    _draw_hubs(sub, inside)
    if labels:
        label_hubs(sub, inside, [short_name(str(h), str(n))
                                 for h, n in zip(inside["hub"], inside["name"], strict=True)])
    sub.set_title("Chongqing close-up", fontsize=7, pad=2)
    for spine in sub.spines.values():
        spine.set_edgecolor("#333")
    ax.indicate_inset((cu[0], cu[1], cu[2] - cu[0], cu[3] - cu[1]), sub, edgecolor="#333",
                      linewidth=0.7)
    return sub


def _width_handles(top: float, unit: str) -> list[Line2D]:
    handles = []
    for teu in (top / 100, top / 10, top):
        handles.append(Line2D([], [], color="#333", linewidth=float(
            mapdata.line_width(teu, top, MAX_WIDTH, MIN_WIDTH)), label=f"{_k(teu)} {unit}"))
    return handles


def _legend(ax: Axes, handles: list[Line2D], title: str) -> None:
    """The legend under the map, where it hides no hub: in one row where that fits the
    figure's width, else in as few even rows as fit (one row of a flow map's 12 entries ran
    off both edges of the README's `plt.subplots()` figure, 6.4 in wide)."""
    fig = _root(ax)
    room = fig.bbox.width * TEXT_ROOM
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    for rows in range(1, len(handles) + 1):
        legend = ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.005),
                           ncol=math.ceil(len(handles) / rows), fontsize=6.5, frameon=False,
                           title=title, title_fontsize=7, handlelength=2.2,
                           columnspacing=1.2)
        if legend.get_window_extent(renderer).width <= room:
            return


def _k(value: float) -> str:
    """12,345 -> '12k', 1,234,567 -> '1.2M', 950 -> '950'."""
    v = abs(value)
    return (f"{value / 1e6:,.1f}M" if v >= 1e6 else f"{value / 1e3:,.0f}k" if v >= 1e4
            else f"{value / 1e3:,.1f}k" if v >= 1e3 else f"{value:,.0f}")


def draw_flows(results: Results | RunDir | str | os.PathLike[str], ax: Axes, *,
               title: str | None = None, max_teu: float | None = None, labels: bool = True,
               inset: bool = True) -> Axes:
    """Draw one scenario's flows on `ax` in TEU per year: of the Results of `sim.run`, or of
    a run's folder (its path, or `sim.read_run` of it: its flows.gpkg); pass a shared
    `max_teu` (TEU per year of one direction) to draw several maps on one scale."""
    run = _drawn(results, "draw_flows")
    links, hubs = _frames(run)
    about = _about(run)
    top = max_teu or float(np.nanmax(links[["teu_down", "teu_up"]].to_numpy())) or 1.0
    draw_map(ax, links, hubs, geodata=about.geodata, top=top, labels=labels, inset=inset)
    present = set(links["corridor"])
    handles = [Line2D([], [], color=c, linewidth=3, label=k)
               for k, c in CORRIDOR_COLOURS.items() if k in present]
    handles += _width_handles(top, "TEU/yr")
    handles += [Line2D([], [], color="#222", marker=(3, 0, -90), linestyle="none",
                       label="direction (drawn right of travel)"),
                Line2D([], [], color="#9a9a9a", linestyle=":", label="no flow")]
    _legend(ax, handles, "channel; line width: TEU per year")
    _title(ax, title, f"{run.name}: freight per link and direction, TEU per year "
                      f"({_per_year(about)}mean of {about.replications} replication(s))")
    return ax


def flow_map(results: Results | RunDir | str | os.PathLike[str], *,
             figsize: tuple[float, float] = (13, 8.2)) -> Figure:
    """A figure with the flow map of one scenario: of the Results of `sim.run`, or of a
    run's folder (its path, or `sim.read_run` of it), drawn from its flows.gpkg; `figsize`
    wide, taller where its title and legend need it (`_fit_height`)."""
    run = _drawn(results, "flow_map")     # before a figure is opened
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    draw_flows(run, ax)
    source_line(fig, source_note())
    _fit_height(fig, ax)
    return fig


FIT_MARGIN_PX = 2.0   # room kept between the title and the top, the legend and the source


def _fit_height(fig: Figure, ax: Axes) -> None:
    """Make `fig` taller until the map's title lies inside it and its legend clears the
    source line. A map as wide as the figure has its height fixed by its width, and the
    constrained layout left a two-line title 7 px off the top and the legend over the
    source line (trial66); the extra height is shared above and below the centred map."""
    from sim.figsource import SOURCE_GID

    source = fig.findobj(lambda a: a.get_gid() == SOURCE_GID)
    legend = ax.get_legend()
    for _ in range(4):
        fig.draw_without_rendering()
        over = ax.title.get_window_extent().y1 - fig.bbox.y1
        under = (source[0].get_window_extent().y1 - legend.get_window_extent().y0
                 if source and legend is not None else -math.inf)
        need = max(over, under) + FIT_MARGIN_PX
        if need <= FIT_MARGIN_PX:
            return
        fig.set_figheight(fig.get_figheight() + 2 * need / fig.dpi)


def link_table(results: Results) -> pd.DataFrame:
    """A run's TEU per year per link and direction by replication (columns replication, link,
    direction, value), as `sim.mapdata.link_deltas` takes it."""
    return (results.by_replication("links")[["replication", "link", "direction", "teu_per_year"]]
            .rename(columns={"teu_per_year": "value"}))


def difference_colours(deltas: pd.DataFrame) -> dict[str, str]:
    """The colour of each link and direction ("link:direction") of `deltas`
    (`sim.mapdata.link_deltas`), by `sim.mapdata.difference_colour`: grey where the change
    is within the noise."""
    return {f"{link}:{direction}": mapdata.difference_colour(delta, half)
            for link, direction, delta, half in zip(
                deltas["link"], deltas["direction"], deltas["delta"].to_numpy(float),
                deltas["delta_ci95"].to_numpy(float), strict=True)}


def draw_difference(base: Results | RunDir | str | os.PathLike[str],
                    alt: Results | RunDir | str | os.PathLike[str], ax: Axes, *,
                    title: str | None = None, paired: bool | None = None) -> Axes:
    """ALT - BASE TEU per year on every link and direction (means over replications), width
    by the change, coloured by `difference_colours`: blue gains and red losses where the
    change's 95% CI (`sim.mapdata.link_deltas`: paired by replication, or Welch's) leaves
    out 0, grey where it holds 0; each run named by its `Results.name`, as compare's tables
    and bars name it. `paired` defaults to what the runs allow
    (`sim.kpis.crn_paired`: one seed, as many replications). Each run: the Results of
    `sim.run`, or a run's folder (its path, or `sim.read_run` of it: a comparison's
    DIR/0-<base> and DIR/1-<alt>), read from its flows.gpkg and links.parquet."""
    from sim.kpis import crn_paired

    base, alt = _drawn(base, "draw_difference"), _drawn(alt, "draw_difference")
    of_base, of_alt = _about(base), _about(alt)
    if paired is None:
        paired = crn_paired(of_base.seed, of_base.replications, of_alt.seed,
                            of_alt.replications)
    links, hubs = _frames(alt)
    deltas = mapdata.link_deltas(_link_table(base), _link_table(alt), paired=paired)
    by = deltas.set_index(["link", "direction"])["delta"]
    for d in mapdata.DIRECTIONS:
        links[f"teu_{d}"] = [float(by.get((k, d), 0.0)) for k in links["link"]]
    top = float(np.nanmax(np.abs(links[["teu_down", "teu_up"]].to_numpy()))) or 1.0
    draw_map(ax, links, hubs, geodata=of_alt.geodata, top=top,
             colour_of=difference_colours(deltas))
    handles = [Line2D([], [], color=colour, linewidth=3, label=label)
               for label, colour in mapdata.difference_legend(alt.name)]
    handles += _width_handles(top, "TEU/yr")
    _legend(ax, handles, "change; line width: TEU per year")
    _title(ax, title, f"{alt.name} − {base.name}: change of freight per link and "
                      f"direction, TEU per year ({_per_year(of_base, of_alt)}mean of "
                      f"{of_alt.replications} replications; "
                      f"{mapdata.difference_caption(paired)})")
    return ax


def difference_map(base: Results | RunDir | str | os.PathLike[str],
                   alt: Results | RunDir | str | os.PathLike[str], *,
                   figsize: tuple[float, float] = (13, 8.2),
                   paired: bool | None = None) -> Figure:
    """A figure with the difference map of ALT - BASE (`draw_difference`) and its source
    line (`difference_note`), as `flow_map` is a figure with a flow map: of the Results of
    `sim.run`, or of run folders (a comparison's DIR/0-<base> and DIR/1-<alt>); `figsize`
    wide, taller where its title and legend need it (`_fit_height`)."""
    base = _drawn(base, "difference_map")    # before a figure is opened
    alt = _drawn(alt, "difference_map")
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    draw_difference(base, alt, ax, paired=paired)
    on_disk = not isinstance(base, Results) and not isinstance(alt, Results)
    source_line(fig, "source: " + difference_note("links.parquet" if on_disk else None))
    _fit_height(fig, ax)
    return fig
