"""Peak memory against horizon: one replication of a scenario for 1, 5 and 10 years, each in
a fresh process, so that one run's memory cannot hide in another's.

    .venv/bin/python -m benchmarks.memory [scenarios/baseline.yaml] [--years 1 5 10]

Prints a Markdown table: horizon, lots delivered, the size of the recorder's per-lot typed
arrays, lots still waiting at hubs when the run ends, the resident set size after imports
and set-up, when the simulation ends (before the end-of-run tables) and its peak
(ru_maxrss, including the tables), and the simulation time. tracemalloc is not used: it
would slow the run about 3x. Linux only (/proc). Results are quoted in docs/validation.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, resource, sys, time
from sim.engine import Model
from sim.pipeline import prepare

def rss_mb():
    return int(open("/proc/self/statm").read().split()[1]) * resource.getpagesize() / 2**20

scenario, days = sys.argv[1], float(sys.argv[2])
plan = prepare(scenario, replications=1, days=days)
imports = rss_mb()
start = time.perf_counter()
model = Model(plan, 0)
model.advance()
# the state when the simulation ends, before the end-of-run tables are built
end_rss, waiting = rss_mb(), len(model.at_hubs)
model.finish()
seconds = time.perf_counter() - start
rec = model.recorder
arrays = sum(a.itemsize * len(a) for a in (rec.route_ids, rec.teu, rec.transit, rec.wait, rec.at))
print(json.dumps({
    "days": days, "lots": len(rec.teu), "seconds": seconds, "recorder_mb": arrays / 2**20,
    "imports_rss_mb": imports, "end_rss_mb": end_rss, "waiting_lots": waiting,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""

def measure(scenario: str, years: float) -> dict[str, float]:
    """Run one horizon in a fresh interpreter and return its figures."""
    done = subprocess.run([sys.executable, "-c", CHILD, scenario, str(365.0 * years)],
                          capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="scenarios/baseline.yaml")
    parser.add_argument("--years", type=float, nargs="+", default=[1.0, 5.0, 10.0])
    args = parser.parse_args()
    print(f"scenario {args.scenario}, 1 replication, fresh process per horizon\n")
    print("| years | lots delivered | recorder arrays (MB) | lots waiting at hubs at the end "
          "| RSS after set-up (MB) | RSS at end of simulation (MB) | peak RSS incl. tables (MB) "
          "| simulation (s) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for years in args.years:
        row = measure(args.scenario, years)
        print(f"| {years:g} | {row['lots']:,} | {row['recorder_mb']:.1f} | "
              f"{row['waiting_lots']:,} | {row['imports_rss_mb']:.0f} | "
              f"{row['end_rss_mb']:.0f} | {row['peak_rss_mb']:.0f} | {row['seconds']:.1f} |",
              flush=True)


if __name__ == "__main__":
    main()
