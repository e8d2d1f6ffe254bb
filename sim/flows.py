"""Mean flows per link and hub as GeoDataFrames (EPSG:4326): the geometry behind
flows.gpkg and the maps, read from `Results` only. Flows are per year, as in the tables."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pandas as pd

from sim.results import Results

if TYPE_CHECKING:
    import geopandas as gpd


def flows_frames(results: Results) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """(links, hubs) GeoDataFrames of mean flows, EPSG:4326."""
    import geopandas as gpd
    from shapely.geometry import LineString, Point

    net = results.plan.network
    links = results.links
    both = links.groupby("link", as_index=False).agg(
        teu=("teu_per_year", "sum"), teu_km=("teu_km_per_year", "sum"),
        co2_t=("co2_t_per_year", "sum"), capacity_teu=("capacity_teu_per_year", "sum"))
    down = links[links["direction"] == "down"].set_index("link")
    up = links[links["direction"] == "up"].set_index("link")
    rows = []
    for _, row in both.iterrows():
        spec = net.links[row["link"]]
        # each way's share of its slots, and the busier: the two ways' mean hid a direction
        # at 91% behind a link at 45% (trial48 M6)
        use = {d: _at(way, spec.id, "utilization") for d, way in (("down", down), ("up", up))}
        rows.append({
            "link": spec.id, "from_hub": spec.from_hub, "to_hub": spec.to_hub,
            "mode": spec.mode, "corridor": spec.corridor, "km": spec.km,
            "teu_per_year": row["teu"],
            "teu_down_per_year": _at(down, spec.id, "teu_per_year"),
            "teu_up_per_year": _at(up, spec.id, "teu_per_year"),
            "teu_km_per_year": row["teu_km"], "co2_t_per_year": row["co2_t"],
            "utilization_down": use["down"], "utilization_up": use["up"],
            "utilization": _busier(use["down"], use["up"]),
            "geometry": LineString(spec.coords)})
    link_gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    hubs = results.hubs
    hub_gdf = gpd.GeoDataFrame(
        hubs.drop(columns=["lon", "lat"]),
        geometry=[Point(xy) for xy in zip(hubs["lon"], hubs["lat"], strict=True)],
        crs="EPSG:4326")
    return link_gdf, hub_gdf


def _busier(down: float, up: float) -> float:
    """The higher of two directions' utilizations, of those measured: a direction offered
    no capacity has none (NaN); NaN when neither was."""
    measured = [u for u in (down, up) if not math.isnan(u)]
    return max(measured) if measured else math.nan


def _at(table: pd.DataFrame, link: str, column: str) -> float:
    """`column` of a link's row in one direction's table; 0 where it has none."""
    return float(table[column].get(link, 0.0)) if column in table else 0.0
