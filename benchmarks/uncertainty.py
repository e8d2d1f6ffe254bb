"""Speed of a Sobol study of a baseline year (issue 12 item 6): wall time of
`cqsim uncertainty scenarios/baseline-2023.yaml --method sobol` on a local pool, with the
simulation seconds of its runs, so that a loaded machine shows as such.

    python -m benchmarks.uncertainty --samples 1032 --workers 2    # the goal: under 15 min
    python -m benchmarks.uncertainty --samples 108 --workers 2     # a smaller study

Prints the load average before and after: on a shared machine, repeat and say so.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=1032,
                        help="runs in all; baseline-2023 has 6 inputs: 1032 = 128 x 8 + 8")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--days", type=float, default=None)
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "baseline-2023.yaml"))
    args = parser.parse_args()
    from sim.uncertainty import run_uncertainty

    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        result = run_uncertainty(args.scenario, Path(tmp) / "study", samples=args.samples,
                                 method="sobol", workers=args.workers, days=args.days,
                                 progress=False)
        wall = time.perf_counter() - t0
    runs = result.runs
    sim_s = runs["wall_s"].sum()
    print(f"load average after: {os.getloadavg()}")
    print(f"{len(runs)} runs ({result.failed} failed), Sobol N = {result.study.base_n}, "
          f"{len(result.study.inputs)} inputs, {args.workers} workers")
    print(f"wall {wall:.1f} s = {wall / 60:.1f} min; simulation inside runs {sim_s:.0f} s "
          f"(mean {runs['wall_s'].mean():.2f} s per run); runs per minute "
          f"{60 * len(runs) / wall:.1f}")
    met = wall < 900 and len(runs) >= 1000
    print(f"goal: 1,000 runs under 15 min: {'met' if met else 'not shown by this run'}")


if __name__ == "__main__":
    main()
