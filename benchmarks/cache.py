"""What the cache of feedback passes saves (`sim/cache.py`), side by side in one run.

    python -m benchmarks.cache                        # 3 replications on 2 workers
    python -m benchmarks.cache --replications 2 --days 120

With a fresh cache in a temporary folder: the base scenario (passes computed and stored), the
alternative (its market reference read), the base again (every pass read), then the
alternative with the cache off; wall time of each command, the ratios, and whether each pair
of runs wrote byte-identical CSV tables.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(scenario: str, out: Path, cache: str, args: list[str]) -> float:
    """Wall seconds of one `cqsim run` in a fresh process."""
    env = {**os.environ, "CQSIM_CACHE_DIR": cache}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sim", "run", scenario, "--out", str(out),
                    "--no-map", "--no-report", *args], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    return time.perf_counter() - start


def _same(a: Path, b: Path) -> bool:
    """Every CSV of run folder `a` is byte-identical to `b`'s."""
    tables = sorted(p.name for p in a.glob("*.csv"))
    return bool(tables) and all(filecmp.cmp(a / t, b / t, shallow=False) for t in tables)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="scenarios/baseline-2023.yaml")
    parser.add_argument("--alt", default="scenarios/ilstc-expansion.yaml")
    parser.add_argument("--replications", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--days", type=float)
    args = parser.parse_args()
    extra = ["--replications", str(args.replications), "--workers", str(args.workers)]
    if args.days:
        extra += ["--days", f"{args.days:g}"]
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp)
        cache = str(where / "cache")
        t = {
            "base, cache empty": _run(args.base, where / "b1", cache, extra),
            "alternative, reference read": _run(args.alt, where / "a1", cache, extra),
            "base again": _run(args.base, where / "b2", cache, extra),
            "alternative, cache off": _run(args.alt, where / "a0", "off", extra),
        }
        entries = list(Path(cache).glob("*.pickle"))
        size = sum(p.stat().st_size for p in entries)
        same = _same(where / "b1", where / "b2"), _same(where / "a1", where / "a0")
    print(f"load average {os.getloadavg()[0]:.2f}; {args.replications} replications, "
          f"{args.workers} workers")
    for name, seconds in t.items():
        print(f"  {name:<30} {seconds:7.1f} s")
    again = t["base again"] / t["base, cache empty"]
    alt = t["alternative, reference read"] / t["alternative, cache off"]
    print(f"base again / base: {again:.2f}; alternative with / without the cache: {alt:.2f}")
    print(f"entries {len(entries)}, {size / 1e3:.0f} kB; "
          f"tables identical: base {same[0]}, alternative {same[1]}")


if __name__ == "__main__":
    main()
