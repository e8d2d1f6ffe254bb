"""Plotly figures of the report, built as plain dicts (no validation pass: fast) from the
files of run directories. Maps are drawn on projected coordinates (`sim.mapdata`), so the
browser needs no map service: the countries are traces of the page itself."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim import mapdata
from sim.figsource import CALENDAR_AXIS
from sim.report import rundir as rd
from sim.stats import NOT_KNOWN, NOT_KNOWN_WHY, resolved
from sim.units import DAYS_PER_MONTH, DAYS_PER_WEEK, DAYS_PER_YEAR

if TYPE_CHECKING:
    import geopandas as gpd

    from sim.kpis import KPI

Fig = dict[str, Any]
FONT = ("system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', 'Helvetica Neue', Arial, "
        "'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei', sans-serif")
SEA, LAND, BORDER = "#e3eef7", "#f4f1ea", "#c9c3b6"
MAP_WIDTH_PX = 1060.0  # the width the label placement assumes (the page's content width)
OVERVIEW_PX = 620  # height of the whole-network maps
WIDEST_PX, THINNEST_PX = 9.0, 0.8  # line widths of the busiest direction and of none
# assumption: plotly's toolbar (about 8 icons of 26 px) sits over a chart's top right; a
# title kept left of it and of the page's padding is not overdrawn (a 190-character one was)
TITLE_ROOM_PX = MAP_WIDTH_PX - 260
TITLE_LINE_PX = 20  # a title's further line at 14 px, which the top margin grows by
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _layout(**extra: Any) -> dict[str, Any]:
    """A figure's layout: the report's font, margins and legend, then `extra`; its title
    wrapped between words to `TITLE_ROOM_PX` (`_wrapped_title`)."""
    base: dict[str, Any] = {"font": {"family": FONT, "size": 12, "color": "#222"},
                            "margin": {"l": 60, "r": 20, "t": 40, "b": 50},
                            "paper_bgcolor": "white", "plot_bgcolor": "white",
                            "hoverlabel": {"font": {"family": FONT}},
                            "legend": {"orientation": "h", "y": -0.12}}
    base.update(extra)
    if isinstance(base.get("title"), dict):
        _wrapped_title(base)
    return base


def _wrapped_title(layout: dict[str, Any]) -> None:
    """Break `layout`'s title between words into lines that fit left of plotly's toolbar
    and grow the top margin by a line each: plotly does not wrap a title, and a long one
    (a KPI's full label, two scenarios' names) ran under the toolbar and off the chart."""
    from sim.figsource import wrap

    title = layout["title"]
    size = title.get("font", {}).get("size", 14)
    lines = wrap(html.unescape(title["text"]), TITLE_ROOM_PX, size).split("\n")
    if len(lines) > 1:
        layout["title"] = {**title, "text": "<br>".join(map(html.escape, lines))}
        margin = layout["margin"]
        layout["margin"] = {**margin, "t": margin["t"] + TITLE_LINE_PX * (len(lines) - 1)}


def fmt(value: float, digits: int = 0) -> str:
    """A number with thousands separators, '-' for NaN."""
    return "-" if value is None or not np.isfinite(value) else f"{value:,.{digits}f}"


def pm(value: float, half: float, digits: int = 0, sign: bool = False) -> str:
    """'value ± half' (the CI is left out when it is NaN); a change (`sign`) to as many more
    digits as its value and CI need to show (`visible_digits`)."""
    if value is None or not np.isfinite(value):
        return "-"
    if sign:
        digits = visible_digits(digits, value, half)
    text = f"{value:+,.{digits}f}" if sign else f"{value:,.{digits}f}"
    return text + (f" ± {half:,.{digits}f}" if half is not None and np.isfinite(half) else "")


MORE_DIGITS = 3   # at most this many digits past a figure's own to show a change at all


def visible_digits(digits: int, *figures: float | None) -> int:
    """`digits`, or more where a figure that is not 0 would round to 0 at them (up to
    `MORE_DIGITS` more): a change of 0.004 (its interval 0.002) shown at 2 digits read
    "+0.00 ± 0.00" in green, a resolved change that looked like none (trial51)."""
    need = digits
    for x in figures:
        if x is not None and np.isfinite(x) and x != 0 and round(abs(x), digits) == 0:
            need = max(need, math.ceil(-math.log10(abs(x))))
    return min(need, digits + MORE_DIGITS)


def change_pm(value: float, half: float, digits: int = 0) -> str:
    """A paired change as `pm` gives it, with its sign, and `NOT_KNOWN` after it where its
    CI is (`sim.stats.paired_ci`), so that a change with no interval is not read as exact."""
    text = pm(value, half, digits, sign=True)
    known = half is not None and np.isfinite(half)
    return text if known or value is None or not np.isfinite(value) else f"{text} ({NOT_KNOWN})"


def level(value: float, half: float, digits: int = 0) -> str:
    """`pm` for a figure that cannot be below 0 (a count, a wait, a queue): where its 95% CI
    would reach below 0 (a skewed figure, such as the queue left at the end, over few
    replications) the interval is shown cut at 0, "35,169 (0 to 88,973)", not "± 53,804"."""
    if value is None or not np.isfinite(value) or half is None or not np.isfinite(half) \
            or not 0 <= value < half:
        return pm(value, half, digits)
    return f"{value:,.{digits}f} ({0:.{digits}f} to {value + half:,.{digits}f})"


# ----------------------------------------------------------------------------- maps


def _xy(geom: Any) -> tuple[list[float], list[float]]:
    xs, ys = geom.xy
    return list(np.round(np.asarray(xs), 0)), list(np.round(np.asarray(ys), 0))


def _land_trace(land: gpd.GeoDataFrame | None) -> list[dict[str, Any]]:
    if land is None or land.empty:
        return []
    xs: list[float | None] = []
    ys: list[float | None] = []
    for geom in land.geometry:
        polys = getattr(geom, "geoms", [geom])
        for poly in polys:
            if poly.geom_type != "Polygon":
                continue
            x, y = _xy(poly.exterior)
            xs += x + [None]
            ys += y + [None]
    return [{"type": "scatter", "x": xs, "y": ys, "mode": "lines", "fill": "toself",
             "fillcolor": LAND, "line": {"color": BORDER, "width": 0.6}, "hoverinfo": "skip",
             "showlegend": False, "name": "land"}]


def hub_label(name: str, name_zh: Any = None) -> str:
    """Hover title of a hub: its name, its Chinese name when the geodata gives one."""
    zh = f" {html.escape(str(name_zh))}" if isinstance(name_zh, str) and name_zh else ""
    return f"<b>{html.escape(str(name))}</b>{zh}"


def _hub_hover(hubs: pd.DataFrame, run: rd.RunDir) -> list[str]:
    teu, teu_ci = rd.HUB_TEU.values(hubs, run.per_year)
    util = rd.HUB_UTIL.values(hubs, run.per_year)[0]
    wait = rd.HUB_WAIT.values(hubs, run.per_year)[0]
    peak = rd.HUB_YARD_PEAK.values(hubs, run.per_year)[0]
    out = []
    for i, h in enumerate(hubs.to_dict("records")):
        # a hub that handled no job measured no wait (closed all period): not "0.0 h"
        waited = (f"{fmt(wait.iloc[i], 1)} h" if np.isfinite(wait.iloc[i])
                  else "- (no job handled)")
        out.append(f"{hub_label(str(h['name']), h.get('name_zh'))}<br>"
                   f"{html.escape(str(h.get('kind', '')))}<br>"
                   f"handled {level(teu.iloc[i], teu_ci.iloc[i])} TEU/yr<br>"
                   f"utilization {fmt(util.iloc[i], 2)}, mean wait {waited}"
                   f"<br>yard peak {fmt(peak.iloc[i])} TEU")
    return out


def _label_annotations(hubs: gpd.GeoDataFrame, texts: list[str],
                       bounds: tuple[float, float, float, float],
                       height_px: float, font_px: float = 11.0) -> list[dict[str, Any]]:
    """Annotations naming hubs, placed without overlap for a map `height_px` high, the
    busiest hubs' first (`mapdata.busiest_first`), as map.png places them."""
    order = mapdata.busiest_first(hubs.assign(_text=texts))
    hubs, texts = order, list(order["_text"])
    minx, miny, maxx, maxy = bounds
    scale = min(MAP_WIDTH_PX / (maxx - minx), height_px / (maxy - miny))  # px per metre
    pts = np.column_stack([(hubs.geometry.x - minx) * scale, (hubs.geometry.y - miny) * scale])
    sizes = [mapdata.text_size(t, font_px) for t in texts]
    frame = (0.0, 0.0, (maxx - minx) * scale, (maxy - miny) * scale)
    notes = []
    for (x, y), text, lab in zip(zip(hubs.geometry.x, hubs.geometry.y, strict=True), texts,
                                 mapdata.place_labels(pts, sizes, frame), strict=True):
        note: dict[str, Any] = {"x": float(x), "y": float(y), "text": html.escape(text).replace(
            "\n", "<br>"), "font": {"size": font_px, "color": "#111"},
            "xanchor": lab.ha, "yanchor": lab.va, "bgcolor": "rgba(255,255,255,0.6)",
            "borderpad": 1}
        if lab.leader:
            note.update(showarrow=True, arrowhead=0, arrowwidth=0.7, arrowcolor="#555",
                        ax=lab.dx, ay=-lab.dy, standoff=3)
        else:
            note.update(showarrow=False, xshift=lab.dx, yshift=lab.dy)
        notes.append(note)
    return notes


def _arrow(geom: Any) -> tuple[float, float, float]:
    """(x, y, angle) of an arrow at the middle of a line, pointing along it (degrees
    clockwise from up, as Plotly's marker.angle)."""
    mid = geom.interpolate(0.5, normalized=True)
    ahead = geom.interpolate(min(1.0, 0.5 + 0.02), normalized=True)
    behind = geom.interpolate(max(0.0, 0.5 - 0.02), normalized=True)
    angle = math.degrees(math.atan2(ahead.x - behind.x, ahead.y - behind.y))
    return float(mid.x), float(mid.y), angle


def _link_traces(lines: gpd.GeoDataFrame, hover: list[str], widths: np.ndarray,
                 colours: list[str], legend: bool) -> list[dict[str, Any]]:
    traces: list[dict[str, Any]] = []
    seen: set[str] = set()
    arrows: dict[str, list[tuple[float, float, float, str, float]]] = {}
    for i, row in enumerate(lines.itertuples(index=False)):
        x, y = _xy(row.geometry)
        group = str(row.corridor)
        idle = row.teu <= 0
        traces.append({
            "type": "scatter", "x": x, "y": y, "mode": "lines",
            "line": {"color": "#9a9a9a" if idle else colours[i], "width": float(widths[i]),
                     "dash": "dot" if idle else "solid"},
            "opacity": 0.9, "name": group, "legendgroup": group,
            "showlegend": legend and group not in seen and not idle,
            "hovertemplate": hover[i] + "<extra></extra>"})
        if not idle:
            seen.add(group)
            ax, ay, angle = _arrow(row.geometry)
            arrows.setdefault(group, []).append((ax, ay, angle, hover[i], float(widths[i])))
    for group, items in arrows.items():
        traces.append({
            "type": "scatter", "mode": "markers", "legendgroup": group, "showlegend": False,
            "x": [a[0] for a in items], "y": [a[1] for a in items],
            "marker": {"symbol": "arrow", "angle": [a[2] for a in items],
                       "size": [max(7.0, 2.2 * a[4]) for a in items],
                       "color": "#333", "line": {"width": 0}},
            "text": [a[3] for a in items], "hovertemplate": "%{text}<extra></extra>",
            "name": group})
    return traces


def fit_aspect(bounds: tuple[float, float, float, float],
               height_px: float) -> tuple[float, float, float, float]:
    """`bounds` grown in one dimension to the aspect of a map MAP_WIDTH_PX x `height_px`."""
    minx, miny, maxx, maxy = bounds
    w, h = maxx - minx, maxy - miny
    want = MAP_WIDTH_PX / height_px
    if w / h < want:
        grow = (h * want - w) / 2
        return minx - grow, miny, maxx + grow, maxy
    grow = (w / want - h) / 2
    return minx, miny - grow, maxx, maxy + grow


def _map_layout(bounds: tuple[float, float, float, float], height: int, title: str,
                notes: list[dict[str, Any]]) -> dict[str, Any]:
    minx, miny, maxx, maxy = bounds
    axis = {"visible": False, "showgrid": False, "zeroline": False}
    return _layout(
        title={"text": title, "x": 0.01, "font": {"size": 14}}, height=height,
        margin={"l": 5, "r": 5, "t": 40, "b": 5}, plot_bgcolor=SEA, dragmode="pan",
        hovermode="closest", annotations=notes,
        xaxis={**axis, "range": [minx, maxx], "constrain": "domain"},
        yaxis={**axis, "range": [miny, maxy], "scaleanchor": "x", "scaleratio": 1,
               "constrain": "domain"},
        legend={"x": 0.01, "y": 0.02, "bgcolor": "rgba(255,255,255,0.85)",
                "title": {"text": "channel (width: TEU/yr)"}})


def _directed(run: rd.RunDir, bounds: tuple[float, float, float, float],
              top: float | None = None) -> tuple[gpd.GeoDataFrame, float]:
    """Projected link lines per direction, each offset right of travel by half its width and
    a gap (for a map of `bounds` MAP_WIDTH_PX wide), with TEU/yr, CI and utilization from
    links.csv; and the busiest direction's TEU/yr (the width scale, unless `top` is given)."""
    links, _ = run.flows
    annual = run.link_teu_per_year(links)
    top = top or float(annual[["teu_down", "teu_up"]].to_numpy().max()) or 1.0
    m_px = (bounds[2] - bounds[0]) / MAP_WIDTH_PX

    def offset(teu: float) -> float:
        return (float(mapdata.line_width(teu, top, WIDEST_PX, THINNEST_PX)) / 2 + 0.8) * m_px

    lines = mapdata.directed_lines(mapdata.project(annual), offset)
    table = run.table("links")
    if not table.empty:
        teu, ci = rd.LINK_TEU.values(table, run.per_year)
        extra = table[["link", "direction"]].assign(teu_ci95=ci.to_numpy(),
                                                   utilization=table.get("utilization"))
        lines = lines.merge(extra, on=["link", "direction"], how="left")
    else:
        lines = lines.assign(teu_ci95=np.nan, utilization=np.nan)
    return lines, top


def _names(hubs: pd.DataFrame) -> dict[str, str]:
    return {str(h): mapdata.short_name(str(h), str(n)) for h, n in zip(hubs["hub"],
                                                                       hubs["name"], strict=True)}


def _link_hover(lines: pd.DataFrame, names: dict[str, str]) -> list[str]:
    out = []
    for r in lines.to_dict("records"):
        util = float(r.get("utilization", np.nan))
        src, dst = str(r["from_hub"]), str(r["to_hub"])
        out.append(f"<b>{html.escape(names.get(src, src))} → "
                   f"{html.escape(names.get(dst, dst))}</b><br>"
                   f"{r['corridor']}, {r['mode']}, {fmt(r['km'])} km<br>"
                   f"{level(r['teu'], r.get('teu_ci95', np.nan))} TEU/yr"
                   + (f"<br>utilization {util:.2f}" if np.isfinite(util) else ""))
    return out


def _overview(run: rd.RunDir) -> tuple[gpd.GeoDataFrame, tuple[float, float, float, float],
                                       gpd.GeoDataFrame | None]:
    """Projected hubs, the extent of the whole network (map aspect) and its basemap."""
    links, hubs = run.flows
    bounds = fit_aspect(mapdata.map_bounds(links, 0.04), OVERVIEW_PX - 45)
    land = mapdata.basemap(run.geodata / mapdata.BASEMAP_FILE, bounds,
                           (bounds[2] - bounds[0]) / 1500) if run.geodata else None
    return mapdata.project(hubs), bounds, land


def flow_maps(run: rd.RunDir) -> tuple[Fig, Fig | None]:
    """(overview map, Chongqing close-up) of one run's flows, per direction, in TEU/yr."""
    hubs, bounds, land = _overview(run)
    names = _names(hubs)
    near = mapdata.close_up_hubs(hubs)
    overview = _flow_figure(run, hubs, near, names, land, bounds, OVERVIEW_PX,
                            f"{run.label}: freight per link and direction, TEU per year "
                            f"({_part_year([run], after=', ')}mean of {run.replications} "
                            "replication(s))", close_up=False)
    cu = mapdata.close_up_bounds(hubs)
    if cu is None:
        return overview, None
    cu = fit_aspect(cu, 560 - 45)
    land_cu = mapdata.basemap(run.geodata / mapdata.BASEMAP_FILE, cu, (cu[2] - cu[0]) / 2000) \
        if run.geodata else None
    close = _flow_figure(run, near, near, names, land_cu, cu, 560,
                         "Chongqing close-up (same flows; every hub within "
                         f"{mapdata.CLOSE_UP_KM:g} km)", close_up=True)
    return overview, close


def _flow_figure(run: rd.RunDir, hubs: gpd.GeoDataFrame, near: gpd.GeoDataFrame,
                 names: dict[str, str], land: gpd.GeoDataFrame | None,
                 bounds: tuple[float, float, float, float], height: int,
                 title: str, *, close_up: bool) -> Fig:
    lines, top = _directed(run, bounds)
    widths = mapdata.line_width(lines["teu"].to_numpy(), top, WIDEST_PX, THINNEST_PX)
    colours = [mapdata.corridor_colour(str(c)) for c in lines["corridor"]]
    traces = _land_trace(land) + _link_traces(lines, _link_hover(lines, names),
                                              np.asarray(widths), colours,
                                              legend=not close_up)
    shown = hubs if close_up else hubs.drop(index=near.index[1:]) if len(near) else hubs
    texts = [names[h] for h in shown["hub"]]
    if not close_up and len(near):
        texts[list(shown.index).index(near.index[0])] = "Chongqing area\n(see close-up)"
    traces.append({"type": "scatter", "mode": "markers", "x": list(hubs.geometry.x),
                   "y": list(hubs.geometry.y), "showlegend": False, "name": "hubs",
                   "marker": {"size": 8, "color": "white", "line": {"color": "#111",
                                                                   "width": 1.6}},
                   "text": _hub_hover(hubs, run), "hovertemplate": "%{text}<extra></extra>"})
    notes = _label_annotations(shown, texts, bounds, height - 45)
    notes += _width_legend(top)
    layout = _map_layout(bounds, height, title, notes)
    layout["showlegend"] = not close_up
    return {"data": traces, "layout": layout}


def _width_legend(top: float) -> list[dict[str, Any]]:
    """A note giving the flow each line width stands for (annotations, bottom right)."""
    steps = [top / 100, top / 10, top]
    text = "line width: " + ", ".join(
        f"{mapdata.line_width(t, top, WIDEST_PX, THINNEST_PX):.0f} px = {fmt(t)} TEU/yr"
        for t in steps)
    return [{"xref": "paper", "yref": "paper", "x": 0.99, "y": 0.01, "xanchor": "right",
             "yanchor": "bottom", "showarrow": False, "text": text + "<br>arrows: direction; "
             "each direction drawn to the right of travel; dotted: no flow",
             "font": {"size": 10}, "bgcolor": "rgba(255,255,255,0.85)", "align": "right"}]


# what a link's hover says of its change's interval (`sim.stats.resolved`): None is a CI
# that is not known (`sim.stats.paired_ci`), not one that includes 0
CI_SAID = {True: "CI excludes 0", False: "CI includes 0",
           None: f"{NOT_KNOWN}: {NOT_KNOWN_WHY}"}


# the difference map's caption where ALT is not BASE plus changes (`deltas.not_a_variant`)
UNJUDGED = "grey: not a variant and its base, so no change is marked as resolved"


def difference_map(base: rd.RunDir, alt: rd.RunDir, deltas: pd.DataFrame, *,
                   paired: bool, judged: bool = True) -> Fig:
    """Map of ALT - BASE per link and direction (TEU/yr), coloured as compare.png's
    (`sim.mapdata.difference_colour`: blue gains, red losses, grey within the noise), with
    the 95% CI of each delta in the hover text. `deltas`: `sim.mapdata.link_deltas`, paired
    by replication or not (`paired`). Not `judged` (ALT is not BASE plus changes): all grey,
    no change being ALT's alone."""
    hubs, bounds, land = _overview(alt)
    span = bounds[2] - bounds[0]
    annual = alt.link_teu_per_year(alt.flows[0])
    by = deltas.set_index(["link", "direction"])["delta"]
    for d in mapdata.DIRECTIONS:  # the delta of each direction (a link new in ALT: all its TEU)
        annual[f"teu_{d}"] = [float(by.get((k, d), v))
                              for k, v in zip(annual["link"], annual[f"teu_{d}"], strict=True)]
    top = float(np.abs(annual[["teu_down", "teu_up"]].to_numpy()).max()) or 1.0
    m_px = span / MAP_WIDTH_PX
    lines = mapdata.directed_lines(mapdata.project(annual), lambda t: (float(
        mapdata.line_width(abs(t), top, WIDEST_PX, THINNEST_PX)) / 2 + 0.8) * m_px)
    lines = lines.drop(columns=["teu"]).assign(delta=lines["teu"].to_numpy()).merge(
        deltas.drop(columns=["delta"]), on=["link", "direction"], how="left")
    widths = mapdata.line_width(lines["delta"].abs().to_numpy(), top, WIDEST_PX, THINNEST_PX)
    names = _names(hubs)
    hover = []
    colours = []
    for r in lines.itertuples(index=False):
        said = CI_SAID[resolved(r.delta, r.delta_ci95)]
        colours.append(mapdata.difference_colour(r.delta, r.delta_ci95) if judged
                       else mapdata.NOISE)
        hover.append(f"<b>{html.escape(names.get(r.from_hub, r.from_hub))} → "
                     f"{html.escape(names.get(r.to_hub, r.to_hub))}</b> ({r.corridor})<br>"
                     f"Δ {pm(r.delta, r.delta_ci95, sign=True)} TEU/yr "
                     f"({said})<br>"
                     f"base {fmt(getattr(r, 'base', np.nan))}, {html.escape(alt.label)} "
                     f"{fmt(getattr(r, 'alt', np.nan))} TEU/yr")
    lines = lines.assign(teu=lines["delta"].abs().where(lines["delta"].abs() > top * 1e-3, 0))
    traces = _land_trace(land) + _link_traces(lines, hover, np.asarray(widths), colours,
                                              legend=False)
    traces += [{"type": "scatter", "mode": "lines", "x": [None], "y": [None], "name": name,
                "line": {"color": colour, "width": 5}}
               for name, colour in mapdata.difference_legend(alt.label)]
    traces.append({"type": "scatter", "mode": "markers", "x": list(hubs.geometry.x),
                   "y": list(hubs.geometry.y), "showlegend": False, "name": "hubs",
                   "marker": {"size": 7, "color": "white", "line": {"color": "#111",
                                                                   "width": 1.4}},
                   "text": _hub_hover(hubs, alt), "hovertemplate": "%{text}<extra></extra>"})
    near = mapdata.close_up_hubs(hubs)
    shown = hubs.drop(index=near.index[1:]) if len(near) else hubs
    texts = [names[h] if h not in set(near["hub"]) else "Chongqing" for h in shown["hub"]]
    notes = _label_annotations(shown, texts, bounds, OVERVIEW_PX - 45)
    notes.append({"xref": "paper", "yref": "paper", "x": 0.99, "y": 0.01, "xanchor": "right",
                  "yanchor": "bottom", "showarrow": False, "font": {"size": 10},
                  "bgcolor": "rgba(255,255,255,0.85)", "align": "right",
                  "text": f"{mapdata.difference_caption(paired) if judged else UNJUDGED}"
                          "<br>width: |Δ| (widest "
                          f"{fmt(top)} TEU/yr); the 95% CI in the hover text"})
    layout = _map_layout(bounds, OVERVIEW_PX, f"{alt.label} − {base.label}: change of freight "
                         "per link and direction, TEU per year"
                         + _part_year([base, alt], before=" (", after=")"), notes)
    layout["legend"]["title"] = {"text": ""}
    return {"data": traces, "layout": layout}


# ----------------------------------------------------------------------------- charts


def _month_axis(days: float) -> dict[str, Any]:
    """A day axis with ticks at the model's calendar months (January first)."""
    n = int(math.ceil(days / DAYS_PER_MONTH))
    step = 1 if n <= 24 else 3 if n <= 72 else 12
    vals = [m * DAYS_PER_MONTH for m in range(0, n + 1, step)]
    text = [MONTHS[m % 12] + (f" y{m // 12 + 1}" if days > DAYS_PER_YEAR + 1 else "")
            for m in range(0, n + 1, step)]
    return {"tickvals": vals, "ticktext": text, "title": {"text": CALENDAR_AXIS},
            "showgrid": True, "gridcolor": "#eee", "range": [0, days]}


def _band(x: list[float], mean: np.ndarray, half: np.ndarray, colour: str, name: str,
          group: str, dash: str = "solid") -> list[dict[str, Any]]:
    """A mean line with a shaded 95% CI band (two traces for the band, one for the line).
    Every series drawn so is a count, a flow or a wait: the band stops at 0 (a normal
    interval over few replications reaches below it; no queue or flow does)."""
    half = np.nan_to_num(np.asarray(half, dtype=float))
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    fill = f"rgba({r},{g},{b},0.18)"
    lo = np.maximum(np.asarray(mean) - half, 0.0).tolist()
    hi = (np.asarray(mean) + half).tolist()
    return [
        {"type": "scatter", "x": x, "y": hi, "mode": "lines", "line": {"width": 0},
         "hoverinfo": "skip", "showlegend": False, "legendgroup": group},
        {"type": "scatter", "x": x, "y": lo, "mode": "lines", "line": {"width": 0},
         "fill": "tonexty", "fillcolor": fill, "hoverinfo": "skip", "showlegend": False,
         "legendgroup": group},
        {"type": "scatter", "x": x, "y": np.asarray(mean).tolist(), "mode": "lines",
         "line": {"color": colour, "width": 2, "dash": dash}, "name": name,
         "legendgroup": group, "customdata": half.tolist(),
         "hovertemplate": f"{html.escape(name)}: %{{y:,.0f}} ± %{{customdata:,.0f}}"
                          "<extra></extra>"}]


def weekly_figure(runs: list[rd.RunDir]) -> Fig | None:
    """TEU delivered per week and channel with the 95% CI band, on the model calendar; the
    partial last week and the warm-up are left out. Every box counts, empties too (the
    channels' table counts loaded boxes and empties apart), as the title says."""
    traces: list[dict[str, Any]] = []
    days = 0.0
    for k, run in enumerate(runs):
        ts = run.table("timeseries")
        if ts.empty:
            continue
        mean, half = rd.WEEKLY_TEU.values(ts, run.per_year)
        ts = ts.assign(_v=mean.to_numpy(), _h=half.to_numpy())
        full = (ts["week"] + 1) * DAYS_PER_WEEK <= run.days + 1e-9
        after = ts["week"] * DAYS_PER_WEEK >= run.warmup_days - 1e-9
        ts = ts[full & after]
        days = max(days, run.days)
        for corridor, sub in ts.groupby("corridor", sort=False):
            sub = sub.sort_values("week")
            x = (sub["week"] * DAYS_PER_WEEK + DAYS_PER_WEEK / 2).round(1).tolist()
            name = str(corridor) if len(runs) == 1 else f"{corridor} ({run.label})"
            traces += _band(x, sub["_v"].to_numpy(), sub["_h"].to_numpy(),
                            mapdata.corridor_colour(str(corridor)), name, name,
                            dash="solid" if k == 0 else "dash")
    if not traces:
        return None
    # one run's channels fit above the plot; a comparison's (channel x run) would cover the
    # title there, so they go below the axis
    legend = ({"orientation": "h", "x": 1, "xanchor": "right", "y": 1.02, "yanchor": "bottom"}
              if len(runs) == 1 else {"orientation": "h", "x": 0, "y": -0.22, "yanchor": "top"})
    return {"data": traces, "layout": _layout(
        height=430 if len(runs) == 1 else 500, hovermode="x unified", xaxis=_month_axis(days),
        legend=legend,
        yaxis={"title": {"text": "TEU delivered per week, loaded and empty"},
               "gridcolor": "#eee", "rangemode": "tozero"},
        title={"text": "Weekly throughput per channel, every box, empties included (mean, "
                       "shaded: 95% CI over replications)", "x": 0.01, "font": {"size": 14}})}


def trade_figure(runs: list[rd.RunDir], refs: dict[str, tuple[float, str]]) -> Fig | None:
    """Goods trade per run: channels stacked, plus the trade a market table declares not
    simulated (bulk...) and any other-trade input, so the stack adds up to the total;
    against the reference year's figure and the target (`refs`: label, its year included,
    -> (bn CNY/yr, source): `page.trade_refs`)."""
    traces: list[dict[str, Any]] = []
    names = [r.label for r in runs]
    parts: dict[str, list[float]] = {}
    totals, total_ci = [], []
    for run in runs:
        t = run.table("trade")
        if t.empty:
            return None
        items = t.set_index("item")
        for item in t["item"]:
            if item.startswith(("corridor:", "not_simulated:")) or item == "other_trade":
                parts.setdefault(item, [np.nan] * len(runs))
        for item in parts:
            parts[item][runs.index(run)] = float(items["value"].get(item, np.nan))
        totals.append(float(items["value"].get("total", np.nan)))
        total_ci.append(float(items["ci95"].get("total", np.nan)))
    for item, values in parts.items():
        if not any(v > 0 for v in values):  # e.g. no residual input under a market model
            continue
        label = item.removeprefix("corridor:").replace("other_trade", "other trade (input)")
        label = label.replace("not_simulated:", "not simulated: ")
        colour = mapdata.corridor_colour(label) if item.startswith("corridor:") else \
            "#999999" if item.startswith("not_simulated:") else "#cccccc"
        traces.append({"type": "bar", "x": names, "y": values, "name": label,
                       "marker": {"color": colour},
                       "hovertemplate": f"{html.escape(label)}: %{{y:,.1f}} bn CNY/yr"
                                        "<extra></extra>"})
    traces.append({"type": "scatter", "mode": "markers", "x": names, "y": totals,
                   "name": "total ± 95% CI", "marker": {"color": "#111", "size": 9,
                                                        "symbol": "diamond"},
                   "error_y": {"type": "data", "array": np.nan_to_num(total_ci).tolist(),
                               "color": "#111"},
                   "hovertemplate": "total: %{y:,.1f} bn CNY/yr<extra></extra>"})
    shapes, notes = [], []
    for label, (value, _source) in refs.items():
        shapes.append({"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": value,
                       "y1": value, "line": {"color": "#d62728" if "target" in label
                                             else "#555", "dash": "dash", "width": 1.5}})
        notes.append({"xref": "paper", "x": 1.0, "xanchor": "right", "y": value,
                      "yanchor": "bottom", "showarrow": False, "font": {"size": 11},
                      "text": f"{html.escape(label)}: {value:,.1f} bn CNY/yr"})
    return {"data": traces, "layout": _layout(
        barmode="stack", height=420, bargap=0.7 if len(runs) == 1 else 0.35, shapes=shapes,
        annotations=notes,
        yaxis={"title": {"text": "goods trade, bn CNY per year"}, "gridcolor": "#eee"},
        title={"text": "Goods trade carried, per year"
                       + (f", against the {' and the '.join(map(html.escape, refs))}"
                          if refs else "") + _part_year(runs), "x": 0.01,
               "font": {"size": 14}}, legend={"orientation": "v", "x": 1.02, "y": 1})}


def _part_year(runs: Sequence[rd.RunDir], before: str = "; ", after: str = "") -> str:
    """"; annualised from days 30-120 (mean seasonal factor 0.921)" (between `before` and
    `after`) for the runs whose statistics period is part of a year
    (`sim.trade.part_year`), "" when all are whole years: the trade chart draws them against
    a whole year's figures, and a 120-day run's 660 bn CNY/yr under 2023's 713.7 read as
    the model missing the year; the maps, the markets' chart, the Δ bar charts and the
    attribution charts say it as map.png does (a chart saved from the page loses the note
    above it)."""
    from sim.trade import part_year

    period = part_year((r, r.seasonal_factor) for r in runs)
    return f"{before}{period}{after}" if period else ""


def daily_figure(run: rd.RunDir, name: str, key: str, measures: dict[str, tuple[str, str]],
                 names: Mapping[str, str] | None = None) -> Fig | None:
    """Daily congestion series (`locks_daily` / `hubs_daily`): one panel per measure, one
    line per entity (and direction), mean with 95% CI band; an entity is named as `names`
    says (as its table names it: `RunDir.hub_places`), else by its id."""
    names = names or {}
    table = run.table(name)
    present = [m for m in measures if m in table.columns]
    if table.empty or not present:
        return None
    groups = [key] + (["direction"] if "direction" in table.columns else [])
    if key == "hub":  # the ten hubs with the longest queues, for legibility
        worst = table.groupby("hub")[present[0]].max().sort_values(ascending=False)
        table = table[table["hub"].isin(list(worst.index[:10]))]
    palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
               "#7f7f7f", "#bcbd22", "#17becf"]
    traces = []
    n = len(present)
    for p, col in enumerate(present):
        for g, (ident, sub) in enumerate(table.groupby(groups, sort=False)):
            parts = [str(p) for p in (ident if isinstance(ident, tuple) else (ident,))]
            label = " ".join([names.get(parts[0], parts[0]), *parts[1:]])
            sub = sub.sort_values("day")
            ci = sub[col + rd.CI] if col + rd.CI in sub.columns else pd.Series(np.nan,
                                                                               sub.index)
            band = _band(sub["day"].astype(float).tolist(), sub[col].to_numpy(),
                         ci.to_numpy(), palette[g % len(palette)], label, label)
            for t in band:
                t["xaxis"], t["yaxis"] = "x", f"y{p + 1 if p else ''}"
                t["showlegend"] = t.get("showlegend", True) and p == 0
            traces += band
    layout = _layout(height=260 * n + 60, hovermode="x unified",
                     xaxis={**_month_axis(run.days), "anchor": f"y{n if n > 1 else ''}"},
                     title={"text": f"{name.replace('_', ' ')}: mean over replications, "
                                    "shaded: 95% CI", "x": 0.01, "font": {"size": 14}})
    for p, col in enumerate(present):
        label, unit = measures[col]
        top = 1 - p / n
        layout[f"yaxis{p + 1 if p else ''}"] = {
            "domain": [max(0.0, top - 1 / n + 0.07), top], "gridcolor": "#eee",
            "title": {"text": f"{label} ({unit})"}, "rangemode": "tozero"}
    return {"data": traces, "layout": layout}


def difference_kind(paired: Sequence[bool]) -> str:
    """What differences are, as a title says it: paired (replication by replication, common
    random numbers), Welch's (independent runs), or each where the runs are so."""
    if all(paired):
        return "paired difference"
    if not any(paired):
        return "difference of independent runs (Welch)"
    return "difference, paired where the runs share random numbers, else Welch"


def delta_figure(deltas: pd.DataFrame, k: KPI, paired: Sequence[bool],
                 runs: Sequence[rd.RunDir] = ()) -> Fig:
    """Deltas ALT - BASE of KPI `k` per channel with 95% CI error bars, one bar per ALT, in
    the unit the report shows the KPI in (`KPI.report_view`). `paired`: per ALT, whether its
    difference is paired with BASE (`deltas.paired`) or Welch's: the title says which; of a
    count per year, it says what `runs` (those compared) annualise a part year from
    (`_part_year`), as the note above it does, which a chart saved from the page loses."""
    sub = deltas[deltas["metric"] == k.column]
    view = k.report_view
    label = f"{k.label}, {view.unit}"
    traces = []
    for variant, rows in sub.groupby("variant", sort=False):
        traces.append({"type": "bar", "x": rows["scope"].tolist(),
                       "y": view.show(rows["delta"]).tolist(), "name": str(variant),
                       "error_y": {"type": "data",
                                   "array": view.show(rows["delta_ci95"].fillna(0)).tolist()},
                       "hovertemplate": f"%{{x}}: %{{y:+,.{view.digits}f}}<extra>"
                                        + html.escape(str(variant)) + "</extra>"})
    return {"data": traces, "layout": _layout(
        height=340, barmode="group",  # the axis names the unit; the title says what it is
        yaxis={"title": {"text": f"Δ {view.unit}"}, "gridcolor": "#eee",
               "zeroline": True, "zerolinecolor": "#333"},
        title={"text": f"Δ {label}: {difference_kind(paired)}, 95% CI"
                       + (_part_year(runs) if k.per == "year" else ""), "x": 0.01,
               "font": {"size": 14}})}


def market_figure(run: rd.RunDir) -> Fig | None:
    """Chongqing's trade with each market by gateway (markets.csv), bn CNY per year: stacked
    horizontal bars, exports and imports side by side, the largest market on top; gateways
    in their channels' colours; hover: trade, TEU/yr and share of the market's trade ± CI.
    Markets are named by their labels, as the table of markets names them (by id without)."""
    table = run.table("markets")
    if table.empty or not {"market", "direction", "gateway"} <= set(table.columns):
        return None
    labels = rd.market_labels(run)
    markets = [labels.get(m, m) for m in rd.by_trade(table, "market")]
    gateways = rd.by_trade(table, "gateway")
    colours = mapdata.gateway_colours(gateways)
    directions = [d for d in ("export", "import") if d in set(table["direction"])] or \
        sorted(set(table["direction"].astype(str)))
    trade, teu, share = (m.values(table, run.per_year) for m in (rd.TRADE, rd.TEU, rd.SHARE))
    frame = table.assign(_v=trade[0], _vh=trade[1], _t=teu[0], _th=teu[1], _s=share[0],
                         _sh=share[1]).fillna({"_vh": 0.0, "_th": 0.0, "_sh": 0.0})
    hover = ("<b>%{y}</b>, %{meta}<br>" + f"{rd.TRADE.label}: %{{x:,.{rd.TRADE.digits}f}} ± "
             f"%{{customdata[0]:,.{rd.TRADE.digits}f}} {rd.TRADE.unit}<br>"
             f"{rd.TEU.label}: %{{customdata[1]:,.{rd.TEU.digits}f}} ± "
             f"%{{customdata[2]:,.{rd.TEU.digits}f}} {rd.TEU.unit}"
             f"<br>{rd.SHARE.label}: %{{customdata[3]:.0f}} ± %{{customdata[4]:.0f}} "
             f"{rd.SHARE.unit}")
    traces: list[dict[str, Any]] = []
    for p, direction in enumerate(directions):
        for g in gateways:
            sub = frame[(frame["direction"] == direction) & (frame["gateway"] == g)
                        & (frame["_v"] > 0)]
            if sub.empty:
                continue
            traces.append({
                "type": "bar", "orientation": "h", "x": sub["_v"].tolist(),
                "y": [labels.get(m, m) for m in sub["market"].astype(str)], "name": g,
                "legendgroup": g,
                "showlegend": not any(t["legendgroup"] == g for t in traces),
                "marker": {"color": colours[g]}, "xaxis": f"x{p + 1 if p else ''}",
                "meta": f"{html.escape(direction)} via {html.escape(g)}",
                "customdata": sub[["_vh", "_t", "_th", "_s", "_sh"]].to_numpy().tolist(),
                "hovertemplate": hover + "<extra></extra>"})
    if not traces:
        return None
    n = len(directions)
    layout = _layout(
        barmode="stack", height=120 + 30 * len(markets), hovermode="closest",
        yaxis={"categoryorder": "array", "categoryarray": markets, "autorange": "reversed",
               "automargin": True},
        legend={"orientation": "h", "y": -0.08 - 1.2 / len(markets), "title": {
            "text": "gateway"}},
        title={"text": f"Chongqing's trade with each market by gateway, {rd.TRADE.unit} "
                       f"({_part_year([run], after=', ')}mean of {run.replications} "
                       "replication(s))", "x": 0.01,
               "font": {"size": 14}})
    for p, direction in enumerate(directions):
        lo, hi = p / n + (0.03 if p else 0.0), (p + 1) / n - (0.03 if p < n - 1 else 0.0)
        layout[f"xaxis{p + 1 if p else ''}"] = {
            "domain": [lo, hi], "anchor": "y", "gridcolor": "#eee", "rangemode": "tozero",
            "title": {"text": f"{direction}s, {rd.TRADE.unit}"}, **({"matches": "x"} if p else {})}
    return {"data": traces, "layout": layout}


def attribution_figure(base: rd.RunDir, alt: rd.RunDir, rows: pd.DataFrame) -> Fig | None:
    """ALT - BASE of Chongqing's trade per gateway and in total (rows of attribution.csv,
    `gateway` naming each), bn CNY per year with the 95% CI of the differences replication
    by replication as error bars (paired on common random numbers; the title says when the
    runs had independent seeds); gateways in their channels' colours, the total in dark
    grey; hover adds the change of loaded TEU. The title says what a part year's figures
    are annualised from (`_part_year`)."""
    from sim.report.deltas import paired

    if rows.empty:
        return None
    how = ("paired 95% CI" if paired(base, alt) else
           "95% CI of replication r less replication r, independent seeds")
    trade, trade_ci = rd.ATTR_TRADE.values(rows, alt.per_year)
    teu, teu_ci = rd.ATTR_TEU.values(rows, alt.per_year)
    names = rows["gateway"].astype(str).tolist()
    colours = mapdata.gateway_colours(names)
    d = rd.ATTR_TRADE.digits
    return {"data": [{
        "type": "bar", "x": names, "y": trade.tolist(), "showlegend": False,
        "marker": {"color": [colours[n] if str(i).startswith(rd.GATEWAY_ITEM) else "#444444"
                             for n, i in zip(names, rows["item"], strict=True)]},
        "error_y": {"type": "data", "array": trade_ci.fillna(0).tolist(), "color": "#111"},
        "customdata": np.column_stack([trade_ci, teu, teu_ci]).tolist(),
        "hovertemplate": f"<b>%{{x}}</b><br>{rd.ATTR_TRADE.label}: %{{y:+,.{d}f}} ± "
                         f"%{{customdata[0]:,.{d}f}} {rd.ATTR_TRADE.unit}<br>"
                         f"{rd.ATTR_TEU.label}: %{{customdata[1]:+,.0f}} ± "
                         f"%{{customdata[2]:,.0f}} {rd.ATTR_TEU.unit}<extra></extra>"}],
        "layout": _layout(
            height=360, xaxis={"automargin": True},
            yaxis={"title": {"text": f"{rd.ATTR_TRADE.label}, "
                                                 f"{rd.ATTR_TRADE.unit}"},
                               "gridcolor": "#eee", "zeroline": True, "zerolinecolor": "#333"},
            title={"text": f"{html.escape(alt.label)} − {html.escape(base.label)}: change of "
                           f"Chongqing's trade per gateway, {rd.ATTR_TRADE.unit} ({how}"
                           f"{_part_year([base, alt])})",
                   "x": 0.01, "font": {"size": 14}})}
