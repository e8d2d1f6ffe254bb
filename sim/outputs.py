"""Write results: tidy CSV summaries, Parquet by replication, a GeoPackage of flows, metadata.

A results folder is written whole or not at all (`sim.staging`): the files go to a staging
folder beside it, which replaces the folder in one step once every file is written, with a
manifest (scenario, seed, code version, size and sha256 of every file) in `run.json`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from sim.atomic import (
    write_atomic,
    write_csv,
    write_parquet,
    write_png,
    write_text,
)
from sim.flows import flows_frames
from sim.results import Results


def _write_gpkg(results: Results, path: Path) -> None:
    links, hubs = flows_frames(results)
    links.to_file(path, layer="links", driver="GPKG")
    hubs.to_file(path, layer="hubs", driver="GPKG", mode="a")


def write_results(results: Results, out: str | Path, *, map_png: bool = True,
                  overwrite: bool = False) -> list[Path]:
    """Write every table, flows.gpkg, map.png and run.json into the folder `out`, whole or
    not at all, replacing what an earlier cqsim command wrote there; return the paths.

    `out` must be absent, empty or a folder cqsim wrote (`overwrite`: any folder); see
    `sim.staging.check_out`."""
    from sim.staging import ResultFolder

    with ResultFolder(out, command="run", overwrite=overwrite) as folder:
        written = write_run(results, folder.path, map_png=map_png)
        final = folder.commit("run.json", run_about(results))
    return [final / p.relative_to(folder.path) for p in written]


def run_about(results: Results) -> dict[str, object]:
    """What the manifest of a run says it is."""
    plan = results.plan
    return {"scenario": plan.name, "source_file": plan.source_file, "seed": plan.seed,
            "replications": plan.replications, "days": plan.horizon.days}


def write_run(results: Results, folder: Path, *, map_png: bool = True) -> list[Path]:
    """Write every table, flows.gpkg, map.png and run.json (without its manifest) into
    `folder`, a new folder of a command's staging folder; return the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    out = folder
    written: list[Path] = []
    for name in results.names:
        written.append(write_csv(out / f"{name}.csv", results.summary(name)))
        written.append(write_parquet(out / f"{name}.parquet", results.by_replication(name)))
    written.append(write_atomic(out / "flows.gpkg", lambda p: _write_gpkg(results, p)))
    if map_png:
        import matplotlib.pyplot as plt

        from sim.maps import flow_map

        fig = flow_map(results)
        written.append(write_png(out / "map.png", fig, dpi=130))
        plt.close(fig)
    from sim.trade import trade_by_replication, trade_table
    written.append(write_csv(out / "trade.csv", trade_table(results)))
    written.append(write_parquet(out / "trade.parquet", trade_by_replication(results)))
    written.append(write_text(out / "run.json", json.dumps(run_metadata(results), indent=2)))
    return written


def run_metadata(results: Results) -> dict[str, object]:
    """What was run, how, and whether freight balanced: for reproducing a result."""
    from datetime import datetime, timezone

    from sim.version import git_commit, package_version

    plan = results.plan
    cons = results.by_replication("conservation")
    return {
        "scenario": plan.name, "source_file": plan.source_file, "seed": plan.seed,
        "replications": plan.replications, "days": plan.horizon.days,
        "warmup_days": plan.horizon.warmup_days, "cqsim_version": package_version(),
        "git_commit": git_commit(),
        "created_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "geodata": str(Path(plan.geodata).resolve()),
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
