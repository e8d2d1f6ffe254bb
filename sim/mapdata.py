"""Map geometry shared by the static map (`sim/maps.py`) and the browser report
(`sim/report/`): one projection, the basemap clipped and simplified, one line per link and
direction offset to the right of travel, and the extent of the Chongqing close-up; and the
difference map's one rule (compare.png's and report.html's): ALT - BASE per link and
direction with its 95% CI (`link_deltas`), drawn a gain or a loss only where that CI leaves
out 0 (`difference_colour`).

Works on the (links, hubs) GeoDataFrames that `sim.flows.flows_frames` builds and
`flows.gpkg` stores, so the report can draw a run it only reads from disk.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

# Lambert conformal conic centred on the network (about 65E, 40N) with standard parallels at
# 25N and 55N: shapes are true locally from Singapore to Hamburg, so a close-up keeps its
# angles, and both maps share one set of coordinates (metres).
EURASIA_CRS = ("+proj=lcc +lat_0=40 +lon_0=65 +lat_1=25 +lat_2=55 +x_0=0 +y_0=0 "
               "+datum=WGS84 +units=m +no_defs")
BASEMAP_FILE = "basemap.gpkg"
CHONGQING_PREFIX = "cq_"
CLOSE_UP_KM = 420.0  # hubs within this distance of the Chongqing hubs' centre are in the close-up
CORRIDOR_COLOURS = {"east": "#1f77b4", "west": "#d62728", "south": "#2ca02c",
                    "north": "#9467bd", "air": "#ff7f0e", "coastal": "#17becf",
                    "feeder": "#7f7f7f"}
DIRECTIONS = ("down", "up")  # down: from_hub -> to_hub, as in links.csv
# lon/lat window the maps open on (Europe to Japan, Moscow to Singapore): links to market ends
# beyond it (Los Angeles, Santos) leave the frame, their far hubs are marked at its edge
MAP_WINDOW = (-15.0, -12.0, 150.0, 66.0)


# the difference map: a gain, a loss, and a change within the noise (its 95% CI holds 0 or is
# not known), which is drawn as neither
GAIN, LOSS, NOISE = "#2166ac", "#b2182b", "#b0b0b0"
NOISE_LABEL = "within the noise (95% CI holds 0 or is not known)"


def corridor_colour(corridor: str) -> str:
    """The colour of a corridor on every map and chart (unknown corridors in dark grey)."""
    return CORRIDOR_COLOURS.get(corridor, "#444444")


SPARE_COLOURS = ("#8c564b", "#e377c2", "#bcbd22", "#393b79", "#637939", "#843c39")


def _shade(colour: str, t: float) -> str:
    """`colour` mixed with white (t > 0) or black (t < 0) by |t|."""
    rgb = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    end = 255 if t > 0 else 0
    return "#" + "".join(f"{round(c + (end - c) * abs(t)):02x}" for c in rgb)


def gateway_colours(gateways: Sequence[str]) -> dict[str, str]:
    """A colour per gateway, the same on every chart: a gateway that is a channel (east,
    west, ...) has the channel's colour, the gateways of one channel (coastal_ningbo,
    coastal_shanghai, ... of coastal) shades of it, any other one a spare colour."""
    family: dict[str, list[str]] = {}
    out: dict[str, str] = {}
    spare = iter(SPARE_COLOURS * (1 + len(gateways) // len(SPARE_COLOURS)))
    for g in sorted(set(gateways)):
        channel = g.split("_")[0]
        if g in CORRIDOR_COLOURS:
            out[g] = CORRIDOR_COLOURS[g]
        elif channel in CORRIDOR_COLOURS:
            family.setdefault(channel, []).append(g)
        else:
            out[g] = next(spare)
    for channel, members in family.items():
        n = len(members)
        for k, g in enumerate(members):  # darker to lighter, the middle one the channel's
            out[g] = _shade(CORRIDOR_COLOURS[channel], 0.0 if n == 1 else -0.4 + 0.8 * k / (n - 1))
    return out


def project(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """`frame` in the map projection (metres)."""
    return frame.to_crs(EURASIA_CRS)


def basemap(path: Path, bounds: tuple[float, float, float, float],
            tolerance_m: float) -> gpd.GeoDataFrame | None:
    """Countries of `path` (a basemap.gpkg) projected, clipped to `bounds` (projected metres,
    padded) and simplified to `tolerance_m`: small enough to inline in an HTML page."""
    import geopandas as gpd
    from shapely.geometry import box

    if not path.is_file():
        return None
    world = gpd.read_file(path)
    # clip in lon/lat first (a conic projection folds the far side of the globe over the map)
    world = world.clip(box(-30.0, -15.0, 160.0, 80.0))
    proj = project(world)
    proj["geometry"] = proj.geometry.make_valid()
    minx, miny, maxx, maxy = bounds
    proj = proj.clip(box(minx, miny, maxx, maxy))
    proj = proj[~proj.geometry.is_empty]
    proj["geometry"] = proj.geometry.simplify(tolerance_m, preserve_topology=True)
    return proj[~proj.geometry.is_empty]


def padded_bounds(frame: gpd.GeoDataFrame, pad: float = 0.06) -> tuple[float, float, float,
                                                                          float]:
    """Total bounds of `frame` grown by `pad` of its width and height on each side."""
    minx, miny, maxx, maxy = (float(v) for v in frame.total_bounds)
    dx, dy = (maxx - minx) * pad, (maxy - miny) * pad
    return minx - dx, miny - dy, maxx + dx, maxy + dy


def _in_window(lon: float, lat: float) -> bool:
    return MAP_WINDOW[0] <= lon <= MAP_WINDOW[2] and MAP_WINDOW[1] <= lat <= MAP_WINDOW[3]


def map_bounds(links: gpd.GeoDataFrame, pad: float = 0.03) -> tuple[float, float, float, float]:
    """Projected extent of the maps: the links (lon/lat) whose both ends lie in MAP_WINDOW,
    padded (all links when none does), so a far market end does not shrink Eurasia to a dot."""
    ends = [g.coords[0] + g.coords[-1] for g in links.geometry]
    inside = [_in_window(a, b) and _in_window(c, d) for a, b, c, d in ends]
    return padded_bounds(project(links[inside] if any(inside) else links), pad)


def off_map(hubs: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The hubs (lon/lat) outside MAP_WINDOW."""
    return hubs[[not _in_window(p.x, p.y) for p in hubs.geometry]]


def directed_lines(links: gpd.GeoDataFrame,
                   offset_m: float | Callable[[float], float]) -> gpd.GeoDataFrame:
    """One row per link and direction, the geometry offset `offset_m` (metres, or a function
    of the direction's TEU giving metres: half its line width and a gap) to the right of
    travel and running in the direction of travel, so an arrow along it points the right way.
    Columns: link, direction, from_hub, to_hub, corridor, mode, km, teu (of that direction),
    geometry. `links` must be projected."""
    import geopandas as gpd
    from shapely.geometry import LineString

    rows = []
    for rec in links.itertuples(index=False):
        geom = rec.geometry
        for direction in DIRECTIONS:
            teu = float(getattr(rec, f"teu_{direction}"))
            line = geom if direction == "down" else LineString(list(geom.coords)[::-1])
            dist = offset_m(teu) if callable(offset_m) else offset_m
            shifted = line.offset_curve(-dist) if dist > 0 else line
            if shifted.geom_type != "LineString" or shifted.is_empty:
                shifted = line  # a line too wiggly to offset is drawn on its axis
            src, dst = ((rec.from_hub, rec.to_hub) if direction == "down"
                        else (rec.to_hub, rec.from_hub))
            rows.append({"link": rec.link, "direction": direction, "from_hub": src,
                         "to_hub": dst, "corridor": rec.corridor, "mode": rec.mode,
                         "km": rec.km, "teu": teu, "geometry": shifted})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=links.crs)


def close_up_hubs(hubs: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The hubs near Chongqing (within CLOSE_UP_KM of the centre of the `cq_` hubs); `hubs`
    must be projected. Empty when the network has no Chongqing hub."""
    cq = hubs[hubs["hub"].astype(str).str.startswith(CHONGQING_PREFIX)]
    if cq.empty:
        return cq
    cx, cy = float(cq.geometry.x.mean()), float(cq.geometry.y.mean())
    dist = np.hypot(hubs.geometry.x - cx, hubs.geometry.y - cy)
    return hubs[dist <= CLOSE_UP_KM * 1e3]


def close_up_bounds(hubs: gpd.GeoDataFrame) -> tuple[float, float, float, float] | None:
    """Projected extent of the Chongqing close-up (its hubs, padded), or None."""
    near = close_up_hubs(hubs)
    if near.empty:
        return None
    minx, miny, maxx, maxy = padded_bounds(near, 0.15)
    pad = 25e3  # at least 25 km around a lone hub
    return minx - pad, miny - pad, maxx + pad, maxy + pad


def line_width(teu: np.ndarray | float, top: float, widest: float,
               thinnest: float = 0.6) -> np.ndarray | float:
    """Line width for `teu` when `top` draws `widest`: area-like (square-root) scaling, so a
    link with a tenth of the busiest flow still reads as a line rather than a hairline."""
    return thinnest + widest * np.sqrt(np.clip(np.asarray(teu, dtype=float), 0, None)
                                       / max(top, 1e-9))


# Label placement: candidate offsets (display units) around a point, nearest first, in the
# order right, above-right, above, left, below-right, below, below-left, above-left.
_DIRS = ((1, 0), (0.7, 0.7), (0, 1), (-1, 0), (0.7, -0.7), (0, -1), (-0.7, -0.7),
         (-0.7, 0.7))
_RADII = (4.0, 12.0, 22.0, 34.0, 48.0)


@dataclass(frozen=True)
class Label:
    """Where a label goes: offset (dx, dy) of its anchor from the point, in display units
    (y up), its alignment, and whether it is far enough to need a leader line."""

    dx: float
    dy: float
    ha: str  # "left" | "center" | "right"
    va: str  # "bottom" | "middle" | "top"
    leader: bool


def busiest_first(hubs: pd.DataFrame) -> pd.DataFrame:
    """`hubs` busiest first (their `teu_per_year`; ties and a frame without it in table
    order): the order `place_labels` should get them, so the busiest hubs' labels take the
    best places on every map (map.png and the report's)."""
    teu = hubs["teu_per_year"].fillna(0.0) if "teu_per_year" in hubs else 0.0
    return hubs.assign(_t=teu).sort_values("_t", ascending=False, kind="stable").drop(
        columns="_t")


def place_labels(points: np.ndarray, sizes: list[tuple[float, float]],
                 frame: tuple[float, float, float, float]) -> list[Label]:
    """Greedy collision-free label placement in display space: each label (in the order
    given: put the most important first) takes the nearest candidate position whose box
    overlaps no label already placed, no other point and stays inside `frame` (x0, y0, x1,
    y1); if none is free it takes the least-overlapping one, so every point gets a label.
    `points` is an (n, 2) array and `sizes` the (width, height) of each label, both in the
    same display units (pixels or points)."""
    boxes: list[tuple[float, float, float, float]] = []
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    out: list[Label] = []
    dot = 3.0
    for i, ((x, y), (w, h)) in enumerate(zip(pts, sizes, strict=True)):
        best: tuple[float, Label, tuple[float, float, float, float]] | None = None
        for r in _RADII:
            for ux, uy in _DIRS:
                dx, dy = ux * r, uy * r
                ha = "left" if ux > 0.1 else ("right" if ux < -0.1 else "center")
                va = "bottom" if uy > 0.1 else ("top" if uy < -0.1 else "middle")
                x0 = x + dx - (0 if ha == "left" else w if ha == "right" else w / 2)
                y0 = y + dy - (0 if va == "bottom" else h if va == "top" else h / 2)
                box = (x0, y0, x0 + w, y0 + h)
                cost = sum(_overlap(box, b) for b in boxes)
                cost += sum(_overlap(box, (px - dot, py - dot, px + dot, py + dot))
                            for j, (px, py) in enumerate(pts) if j != i)
                fx0, fy0, fx1, fy1 = frame
                cost += w * h - _overlap(box, (fx0, fy0, fx1, fy1))
                cost += 1e-3 * r  # prefer near positions among free ones
                if best is None or cost < best[0]:
                    best = (cost, Label(dx, dy, ha, va, r > _RADII[1]), box)
                if cost < 1.0:
                    break
            if best is not None and best[0] < 1.0:
                break
        assert best is not None
        out.append(best[1])
        boxes.append(best[2])
    return out


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0.0


def text_size(text: str, font_size: float) -> tuple[float, float]:
    """Approximate (width, height) of a one- or multi-line label in the units of
    `font_size` (average glyph about 0.58 em wide)."""
    lines = text.split("\n")
    return max(len(s) for s in lines) * 0.58 * font_size, len(lines) * 1.25 * font_size


def short_name(hub_id: str, name: str) -> str:
    """A map label: the place, without the facility ("Alashankou border station" ->
    "Alashankou", "Port of Hamburg" -> "Hamburg", "cq_tuanjiecun" -> "Tuanjiecun")."""
    if hub_id.startswith(CHONGQING_PREFIX):
        return hub_id[len(CHONGQING_PREFIX):].replace("_", " ").title()
    text = name.split(" (")[0].removeprefix("Port of ").removeprefix("Ports of ").strip()
    words = text.split()
    if words[:2] == ["Three", "Gorges"]:
        return "Three Gorges locks"
    place = []  # the capitalised words before the first lower-case one ("Laem Chabang port")
    for word in words:
        if not word[:1].isupper():
            break
        place.append(word)
    return " ".join(place[:2]) or (words[0] if words else hub_id)


def link_deltas(base: pd.DataFrame, alt: pd.DataFrame, *, paired: bool,
                variant: str = "") -> pd.DataFrame:
    """ALT - BASE TEU per year per link and direction with the 95% CI of each (columns link,
    direction, base, alt, delta, delta_ci95, ...: `sim.kpis.key_deltas`), from each run's
    TEU per year by replication (columns replication, link, direction, value): paired by
    replication (`paired`: common random numbers, `sim.kpis.crn_paired`) or Welch's
    interval; a link one run lacks carries 0 there. Empty (with those columns) where either
    run has no links. The one rule of compare.png's map and report.html's."""
    import pandas as pd

    from sim.kpis import key_deltas

    if base.empty or alt.empty:
        return pd.DataFrame(columns=["link", "direction", "base", "alt", "delta",
                                     "delta_ci95"])
    return key_deltas(base, alt, ["link", "direction"], paired, variant, absent_is_zero=True)


def difference_colour(delta: float, half: float) -> str:
    """The colour of a change `delta` with 95% CI half-width `half` on a difference map:
    `GAIN` or `LOSS` where the CI leaves out 0, `NOISE` where it holds 0 or is not known
    (`sim.stats.resolved`): a change within the noise is drawn as neither."""
    from sim.stats import resolved

    return (GAIN if delta > 0 else LOSS) if resolved(delta, half) else NOISE


def difference_legend(alt: str) -> list[tuple[str, str]]:
    """(label, colour) of each colour of the difference map of ALT (named `alt`)."""
    return [(f"more TEU/yr in {alt}", GAIN), (f"less TEU/yr in {alt}", LOSS),
            (NOISE_LABEL, NOISE)]


def difference_caption(paired: bool) -> str:
    """What the difference map's colours mean, said alike by compare.png and report.html:
    with hundreds of links tested at once, about one in twenty that did not change is
    coloured by chance; a CI not known (`sim.stats.paired_ci`) is grey."""
    return (f"blue or red where its {'paired' if paired else 'Welch'} 95% CI leaves out 0 "
            "(by chance for about 1 in 20 unchanged links), grey where it holds 0 or is not "
            "known")
