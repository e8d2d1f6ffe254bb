"""Write results: tidy CSV summaries, Parquet by replication, a GeoPackage of flows, metadata.

Every file is written to a temporary name in the same directory and renamed into place, so a
run killed mid-write leaves the earlier file or none, never a torn one.
"""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import pandas as pd

from sim.results import Results


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it over `target` on success."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}",
                               dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        tmp_path.unlink()  # writers (GDAL, pyarrow) want to create the file themselves
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_atomic(target: Path, write: Callable[[Path], None]) -> Path:
    """Write a file through `write(tmp_path)` and move it into place atomically."""
    with atomic_path(target) as tmp:
        write(tmp)
    return target


def flows_frames(results: Results) -> tuple["object", "object"]:
    """(links, hubs) GeoDataFrames of mean flows, EPSG:4326."""
    import geopandas as gpd
    from shapely.geometry import LineString, Point

    net = results.plan.network
    links = results.links
    both = links.groupby("link", as_index=False).agg(
        teu=("teu", "sum"), teu_km=("teu_km", "sum"), co2_t=("co2_t", "sum"),
        capacity_teu=("capacity_teu", "sum"))
    down = links[links["direction"] == "down"].set_index("link")["teu"]
    up = links[links["direction"] == "up"].set_index("link")["teu"]
    rows = []
    for _, row in both.iterrows():
        spec = net.links[row["link"]]
        rows.append({
            "link": spec.id, "from_hub": spec.from_hub, "to_hub": spec.to_hub,
            "mode": spec.mode, "corridor": spec.corridor, "km": spec.km,
            "teu": row["teu"], "teu_down": float(down.get(spec.id, 0.0)),
            "teu_up": float(up.get(spec.id, 0.0)), "teu_km": row["teu_km"],
            "co2_t": row["co2_t"],
            "utilization": row["teu"] / row["capacity_teu"] if row["capacity_teu"] else 0.0,
            "geometry": LineString(spec.coords)})
    link_gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    hubs = results.hubs
    hub_gdf = gpd.GeoDataFrame(
        hubs.drop(columns=["lon", "lat"]),
        geometry=[Point(xy) for xy in zip(hubs["lon"], hubs["lat"])], crs="EPSG:4326")
    return link_gdf, hub_gdf


def _write_gpkg(results: Results, path: Path) -> None:
    links, hubs = flows_frames(results)
    links.to_file(path, layer="links", driver="GPKG")  # type: ignore[attr-defined]
    hubs.to_file(path, layer="hubs", driver="GPKG", mode="a")  # type: ignore[attr-defined]


def remove_stale_temporaries(out: Path) -> list[Path]:
    """Delete temporary files (`.<name>.<random>.tmp<suffix>`) that a killed run left in
    `out`; returns what was removed. (Two runs writing one directory at once is not
    supported anyway: each would overwrite the other's files.)"""
    stale = [p for p in out.glob(".*.tmp*") if p.is_file()]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def write_results(results: Results, out: Path, *, map_png: bool = True) -> list[Path]:
    """Write every table, flows.gpkg, map.png and run.json into `out`; return the paths."""
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out)
    written: list[Path] = []
    for name in results.names:
        summary = results.summary(name)
        written.append(write_atomic(out / f"{name}.csv",
                                    lambda p, df=summary: df.to_csv(p, index=False)))
        reps = results.by_replication(name)
        written.append(write_atomic(out / f"{name}.parquet",
                                    lambda p, df=reps: df.to_parquet(p, index=False)))
    written.append(write_atomic(out / "flows.gpkg", lambda p: _write_gpkg(results, p)))
    if map_png:
        from sim.maps import flow_map

        def _png(p: Path) -> None:
            fig = flow_map(results)
            fig.savefig(p, dpi=130, format="png")
            import matplotlib.pyplot as plt
            plt.close(fig)

        written.append(write_atomic(out / "map.png", _png))
    from sim.trade import trade_table
    written.append(write_atomic(out / "trade.csv",
                                lambda p: trade_table(results).to_csv(p, index=False)))
    meta = run_metadata(results)
    written.append(write_atomic(out / "run.json",
                                lambda p: p.write_text(json.dumps(meta, indent=2))))
    return written


def run_metadata(results: Results) -> dict[str, object]:
    """What was run, how, and whether freight balanced: for reproducing a result."""
    from importlib.metadata import version

    plan = results.plan
    cons = results.by_replication("conservation")
    return {
        "scenario": plan.name, "source_file": plan.source_file, "seed": plan.seed,
        "replications": plan.replications, "days": plan.horizon.days,
        "warmup_days": plan.horizon.warmup_days, "cqsim_version": version("cqsim"),
        "wall_seconds": round(results.wall_seconds, 3),
        "conservation_ok": results.conservation_ok(),
        "created_teu": cons["created_teu"].tolist(),
        "residual_teu": cons["residual_teu"].tolist(),
        "equilibrium": results.equilibrium,
    }


def read_table(out: Path, name: str, by_replication: bool = False) -> pd.DataFrame:
    """Read a table written by `write_results`."""
    return pd.read_parquet(out / f"{name}.parquet") if by_replication else pd.read_csv(
        out / f"{name}.csv")
