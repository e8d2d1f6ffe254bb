"""The lock and border cases of tests/engine/test_lock.py, test_lock_theory.py and
test_background.py, with the same seeds, run lengths and replications, printed as the
Markdown table of docs/validation.md section 7.

    .venv/bin/python -m benchmarks.lock_validation      # a few minutes on one core
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from sim.queueing import breakdown_wait, closure_wait
from tests.support import locks as L
from tests.support.queues import Estimate, estimate

# (vessels a day each way, closed h a year, mean closure h): closures all year, exponential
CLOSURE_FORMULA_CASES = [(50, 320, 20), (55, 320, 20), (60, 320, 20), (60, 160, 10),
                         (55, 160, 40), (55, 500, 10)]


def _row(case: str, quantity: str, theory: float, sim: Estimate, other: str = "-") -> str:
    ok = "yes" if sim.covers(theory) else "NO"
    return f"| {case} | {quantity} | {theory:.3f} | {sim} | {other} | {ok} |"


def main() -> None:
    argparse.ArgumentParser(description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    print("| case | quantity | theory | cqsim (99% CI) | other | theory in cqsim CI |")
    print("|---|---|---:|---:|---:|:---:|")
    for rho, days in ((0.8, 1000), (0.9, 2000)):
        with tempfile.TemporaryDirectory() as tmp:
            theory, est = L.batch_case(Path(tmp), rho, days=days)
        print(_row(f"lock, equal vessels, rho {rho} (4 x {days} d x 2 directions)",
                   "wait (h), Bailey chain, idle start", theory, est), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        theory_p, estimates = L.priority_case(Path(tmp))
    for name, value, est in zip(("first", "second"), theory_p, estimates, strict=True):
        print(_row("lock, two priority classes, rho 0.3 + 0.6 (4 x 1000 d)",
                   f"wait of class {name} (h), exact fixed cycle", value, est), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        theory, est, closed_expected, closed = L.closure_case(Path(tmp))
    print(_row("lock, random closures 16/yr, median 10 h, rho 0.75 (4 x 3650 d)",
               "wait (h), closure_wait", theory, est,
               f"closed {closed:.0f} h/yr vs {closed_expected:.0f}"), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        theory, ours, ciw, util = L.border_mdc_case(Path(tmp))
    print(_row("border, Poisson background trains, M/D/3, rho 0.8 (6 x 720 d)",
               "wait (h), Cosmetatos", theory, ours, f"ciw {ciw}; utilization {util:.3f}"))


def closure_formulas() -> None:
    """`closure_wait` and `breakdown_wait` against the reference batch server (fixed cycle
    1.456 h, 4 a lockage) with Poisson closures: 8 runs of 10 years per case."""
    print("| vessels/day | closed h/yr | mean closure h | reference (99% CI) | closure_wait "
          "| breakdown_wait |")
    print("|---:|---:|---:|---:|---:|---:|")
    cycle, batch, horizon = 1.456, 4, 8760 * 10
    for per_day, closed, mean_h in CLOSURE_FORMULA_CASES:
        lam, rate = per_day / 24, closed / mean_h / 8760
        means = []
        for r in range(8):
            rng = np.random.default_rng(1000 + r)
            starts = np.sort(rng.uniform(0, horizon, rng.poisson(rate * horizon)))
            ends = starts + rng.exponential(mean_h, starts.size)
            means.append(L.batch_server_waits(lam, cycle, batch, horizon, horizon * 0.05, r,
                                              False, list(zip(starts, ends, strict=True)))
                         .mean())
        args = (lam, cycle, batch, rate, mean_h, 2 * mean_h**2)
        print(f"| {per_day} | {closed} | {mean_h} | {estimate(means)} | "
              f"{closure_wait(*args):.2f} | {breakdown_wait(*args):.2f} |", flush=True)


if __name__ == "__main__":
    main()
    closure_formulas()
