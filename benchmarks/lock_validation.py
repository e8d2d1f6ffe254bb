"""The lock and border cases of tests/engine/test_lock.py, test_lock_theory.py and
test_background.py, with the same seeds, run lengths and replications, printed as the
Markdown table of docs/validation.md section 7.

    .venv/bin/python -m benchmarks.lock_validation      # a few minutes on one core
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from tests.support import locks as L
from tests.support.queues import Estimate


def _row(case: str, quantity: str, theory: float, sim: Estimate, other: str = "-") -> str:
    ok = "yes" if sim.covers(theory) else "NO"
    return f"| {case} | {quantity} | {theory:.3f} | {sim} | {other} | {ok} |"


def main() -> None:
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


if __name__ == "__main__":
    main()
