"""Are the result tables of a scenario identical between two versions of cqsim?

Runs one scenario with the same seed in two source trees and compares every result table
exactly: each `<table>.parquet` (by replication) and `<table>.csv` (summary), `trade.csv`,
the layers of `flows.gpkg` and the keys both `run.json` files have, except those that say
where and how long (PROVENANCE). Prints one line per
table (identical / different, and where) and exits 1 on any difference.

    python benchmarks/same_tables.py                       # cca0c95 vs the work tree
    python benchmarks/same_tables.py --ref main --new HEAD --days 120 --replications 2

A revision is exported with `git archive` into a temporary directory; `--new worktree` (the
default) uses this checkout as it is on disk, uncommitted edits included. Both runs use this
interpreter with PYTHONPATH set to their own tree, so they share every dependency.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = "cca0c95"  # main before the architecture work (issue 9)
SCENARIO = "scenarios/baseline-2023.yaml"
WORKTREE = "worktree"
# run.json keys that say where and how long, not what: they differ between two trees
PROVENANCE = ("wall_seconds", "source_file", "code_version", "commit", "git_commit", "created_utc",
              "geodata",  # where and when it ran, not what it found
              "manifest")  # the code version and each file's hash: the files are compared here


def export(rev: str, into: Path) -> Path:
    """A copy of the tree at `rev` (or this work tree itself for `worktree`)."""
    if rev == WORKTREE:
        return ROOT
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", rev],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def simulate(tree: Path, out: Path, args: argparse.Namespace) -> None:
    """`cqsim run` of the scenario in `tree`, with `tree` first on the import path."""
    cmd = [sys.executable, "-m", "sim.cli", "run", args.scenario, "--out", str(out),
           "--no-map"]
    for flag in ("seed", "replications", "days"):
        value = getattr(args, flag)
        if value is not None:
            cmd += [f"--{flag}", str(value)]
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"same_tables: run in {tree} failed ({done.returncode}):\n{done.stderr}")


def _frame_difference(a: pd.DataFrame, b: pd.DataFrame) -> str:
    """Empty when `a` and `b` are exactly equal (NaN equals NaN), else where they differ."""
    if list(a.columns) != list(b.columns):
        only_a = [c for c in a.columns if c not in b.columns]
        only_b = [c for c in b.columns if c not in a.columns]
        return f"columns differ (only in ref {only_a}, only in new {only_b}, order)"
    if a.shape != b.shape:
        return f"shape {a.shape} vs {b.shape}"
    for col in a.columns:
        x, y = a[col], b[col]
        if x.dtype != y.dtype:
            return f"column {col}: dtype {x.dtype} vs {y.dtype}"
        if x.dtype.kind in "fc":
            same = np.array_equal(x.to_numpy(), y.to_numpy(), equal_nan=True)
        else:
            same = x.astype(object).where(x.notna(), None).tolist() == \
                y.astype(object).where(y.notna(), None).tolist()
        if not same:
            bad = int(np.flatnonzero(~((x == y) | (x.isna() & y.isna())).to_numpy())[0])
            return f"column {col}: first difference at row {bad}: {x.iloc[bad]!r} vs " \
                   f"{y.iloc[bad]!r}"
    return ""


def _read(path: Path) -> object:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".csv":
        return path.read_bytes()
    if path.suffix == ".json":
        meta = json.loads(path.read_text())
        for key in PROVENANCE:
            meta.pop(key, None)
        return meta
    raise ValueError(path)


def compare_file(a: Path, b: Path) -> str:
    """Empty when the two result files hold the same results, else what differs."""
    if a.suffix == ".gpkg":
        import pyogrio

        layers_a = sorted(pyogrio.list_layers(a)[:, 0])
        layers_b = sorted(pyogrio.list_layers(b)[:, 0])
        if layers_a != layers_b:
            return f"layers {layers_a} vs {layers_b}"
        for layer in layers_a:
            fa = pyogrio.read_dataframe(a, layer=layer)
            fb = pyogrio.read_dataframe(b, layer=layer)
            why = _frame_difference(fa.drop(columns="geometry").assign(wkb=fa.geometry.to_wkb()),
                                    fb.drop(columns="geometry").assign(wkb=fb.geometry.to_wkb()))
            if why:
                return f"layer {layer}: {why}"
        return ""
    x, y = _read(a), _read(b)
    if isinstance(x, pd.DataFrame) and isinstance(y, pd.DataFrame):
        return _frame_difference(x, y)
    if isinstance(x, dict) and isinstance(y, dict):
        keys = sorted(k for k in x.keys() & y.keys() if x[k] != y[k])
        return f"keys differ: {keys}" if keys else ""
    if x == y:
        return ""
    if isinstance(x, bytes):
        why = _frame_difference(pd.read_csv(a), pd.read_csv(b))
        return why or "bytes differ (same values once parsed)"
    return "contents differ"


def compare_dirs(ref: Path, new: Path) -> int:
    """Print one line per result file; return the number of files that differ."""
    names = sorted({p.name for p in ref.iterdir()} | {p.name for p in new.iterdir()})
    # renderings of the tables (map.png, report.html) are not results
    names = [n for n in names if not n.startswith(".") and not n.endswith((".png", ".html"))]
    differ = 0
    width = max(len(n) for n in names)
    for name in names:
        a, b = ref / name, new / name
        if not a.exists() or not b.exists():
            why = "only in " + ("new" if b.exists() else "ref")
        else:
            why = compare_file(a, b)
        differ += bool(why)
        print(f"{name:<{width}}  {'DIFFERENT: ' + why if why else 'identical'}")
    return differ


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ref", default=REFERENCE, help=f"reference revision ({REFERENCE})")
    parser.add_argument("--new", default=WORKTREE,
                        help="revision to check, or 'worktree' for this checkout (default)")
    parser.add_argument("--scenario", default=SCENARIO, help=f"relative to each tree ({SCENARIO})")
    parser.add_argument("--replications", type=int, default=None,
                        help="default: the scenario's")
    parser.add_argument("--days", type=float, default=None, help="default: the scenario's")
    parser.add_argument("--seed", type=int, default=None, help="default: the scenario's")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="same-tables-") as tmp:
        tmp_path = Path(tmp)
        outs = []
        for label, rev in (("ref", args.ref), ("new", args.new)):
            tree = export(rev, tmp_path / f"tree-{label}")
            out = tmp_path / f"out-{label}"
            simulate(tree, out, args)
            outs.append(out)
        print(f"{args.scenario}: {args.ref} (ref) vs {args.new} (new), replications "
              f"{args.replications or 'as scenario'}, days {args.days or 'as scenario'}")
        differ = compare_dirs(*outs)
    print("all result tables identical" if not differ else f"{differ} file(s) differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
