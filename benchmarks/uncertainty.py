"""Speed of a Sobol study of a baseline year (issue 12 item 6): wall time of
`cqsim uncertainty scenarios/baseline-2023.yaml --method sobol` on a local pool, with the
simulation seconds of its runs, so that a loaded machine shows as such.

    python -m benchmarks.uncertainty --samples 1928 --workers 2  # goal: 1,000 runs in 15 min
    python -m benchmarks.uncertainty --samples 104 --workers 2     # a smaller study

A study of G input groups runs N x (G + 2) design points plus 8 noise runs, N the largest power
of two that fits `--samples` (baseline-2023 has 13 groups: 1928 gives N = 128, the nearest
study above 1,000 runs; 1544 gives N = 64, 968 runs; 104 gives N = 4).

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
    parser.add_argument("--samples", type=int, default=1928,
                        help="runs in all: N x (G + 2) + 8 for G input groups (baseline-2023: "
                             "13 groups, 1928 = 128 x 15 + 8)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--days", type=float, default=None)
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "baseline-2023.yaml"))
    args = parser.parse_args()
    from sim.errors import InputError
    from sim.uncertainty import run_uncertainty

    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        try:
            result = run_uncertainty(args.scenario, Path(tmp) / "study", samples=args.samples,
                                     method="sobol", workers=args.workers, days=args.days,
                                     progress=False)
        except InputError as exc:    # one line, as cqsim says it
            raise SystemExit(f"benchmarks.uncertainty: error: {exc}") from None
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
