"""Flow maps: simulated TEU on every link over the countries basemap (plots stay out of
the engine; they read `Results` only)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sim.results import Results

if TYPE_CHECKING:
    import geopandas as gpd

CORRIDOR_COLOURS = {"east": "#1f77b4", "west": "#d62728", "south": "#2ca02c",
                    "north": "#9467bd", "air": "#ff7f0e", "feeder": "#7f7f7f"}
BASEMAP_FILE = "basemap.gpkg"
MAX_WIDTH = 7.0


def line_width(teu: np.ndarray | float, top: float) -> np.ndarray | float:
    """Points of line width for `teu`: area-like (square-root) scaling, so a corridor with a
    tenth of the busiest flow still reads as a line rather than a hairline."""
    return 0.6 + MAX_WIDTH * np.sqrt(np.asarray(teu, dtype=float) / top)
LABEL_SPACING_DEG = 1.5   # no label closer than this to one already placed (degrees)
CHONGQING_PREFIX = "cq_"


def short_name(hub_id: str, name: str) -> str:
    """A map label: the place, without the facility ("Alashankou border station" ->
    "Alashankou", "Port of Hamburg" -> "Hamburg")."""
    if hub_id.startswith(CHONGQING_PREFIX):
        return hub_id[len(CHONGQING_PREFIX):].replace("_", " ").title()
    text = name.split(" (")[0].removeprefix("Port of ").strip()
    words = text.split()
    return " ".join(words[:2]) if words[:2] == ["Three", "Gorges"] else (words[0] if words
                                                                          else hub_id)


def label_hubs(ax: Axes, hubs: gpd.GeoDataFrame, *,
               min_spacing_deg: float = LABEL_SPACING_DEG) -> None:
    """Label hubs by short name, busiest first, skipping any hub within `min_spacing_deg` of
    one already labelled; the Chongqing hubs, too close together to label one by one, get a
    single "Chongqing" label listing them."""
    import pandas as pd

    frame = pd.DataFrame({"hub": hubs["hub"], "name": hubs["name"],
                          "teu": hubs["teu"] if "teu" in hubs else 0.0,
                          "x": hubs.geometry.x, "y": hubs.geometry.y})
    cq = frame[frame["hub"].str.startswith(CHONGQING_PREFIX)]
    placed: list[tuple[float, float]] = []
    if len(cq):
        names = ", ".join(short_name(h, n) for h, n in zip(cq["hub"], cq["name"], strict=True))
        x, y = float(cq["x"].mean()), float(cq["y"].mean())
        ax.annotate(f"Chongqing\n({names})", (x, y), xytext=(4, -4), textcoords="offset points",
                    fontsize=6.5, fontweight="bold", va="top", zorder=6)
        placed.append((x, y))
    rest = frame.drop(cq.index).sort_values("teu", ascending=False, kind="stable")
    for _, h in rest.iterrows():
        if any((h["x"] - x) ** 2 + (h["y"] - y) ** 2 < min_spacing_deg ** 2 for x, y in placed):
            continue
        ax.annotate(short_name(h["hub"], h["name"]), (h["x"], h["y"]), xytext=(3, 3),
                    textcoords="offset points", fontsize=6, zorder=6)
        placed.append((h["x"], h["y"]))


def draw_flows(results: Results, ax: Axes, *, title: str | None = None,
               max_teu: float | None = None, labels: bool = True) -> Axes:
    """Draw one scenario's flows on `ax`; pass a shared `max_teu` to compare maps."""
    import geopandas as gpd

    from sim.flows import flows_frames

    links, hubs = flows_frames(results)
    basemap = Path(results.plan.geodata) / BASEMAP_FILE
    minx, miny, maxx, maxy = links.total_bounds
    pad_x, pad_y = (maxx - minx) * 0.04 + 1, (maxy - miny) * 0.08 + 1
    if basemap.is_file():
        gpd.read_file(basemap).plot(ax=ax, color="#eeeeee", edgecolor="#bbbbbb",
                                    linewidth=0.4)
    top = max_teu or float(links["teu"].max()) or 1.0
    idle = links[links["teu"] <= 0]
    if len(idle):
        idle.plot(ax=ax, color="#999999", linewidth=0.6, linestyle=":")
    for corridor, sub in links[links["teu"] > 0].groupby("corridor"):
        sub.plot(ax=ax, color=CORRIDOR_COLOURS.get(str(corridor), "black"),
                 linewidth=line_width(sub["teu"].to_numpy(), top), alpha=0.85)
    hubs.plot(ax=ax, color="black", markersize=10, zorder=5)
    if labels:
        label_hubs(ax, hubs)
    ax.set_xlim(minx - pad_x, maxx + pad_x)
    ax.set_ylim(miny - pad_y, maxy + pad_y)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    handles = [Line2D([], [], color=c, linewidth=3, label=k)
               for k, c in CORRIDOR_COLOURS.items() if k in set(links["corridor"])]
    for teu in (top / 100, top / 10, top):
        handles.append(Line2D([], [], color="black", linewidth=float(line_width(teu, top)),
                              label=f"{teu / 1000:,.0f}k TEU"))
    handles.append(Line2D([], [], color="#999999", linestyle=":", label="no flow"))
    ax.legend(handles=handles, loc="lower left", fontsize=7, framealpha=0.9)
    ax.set_title(title or f"{results.plan.name}: simulated TEU per link "
                 f"({results.plan.horizon.days:g} days, mean of "
                 f"{len(results.replications)} replication(s))", fontsize=9)
    return ax


def flow_map(results: Results, *, figsize: tuple[float, float] = (14, 7.5)) -> Figure:
    """A figure with the flow map of one scenario."""
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    draw_flows(results, ax)
    return fig
