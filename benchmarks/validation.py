"""Theory against simulation for every queueing case of tests/engine/test_theory.py, with the same
seeds, run lengths and replications, printed as the Markdown table of docs/validation.md.

    .venv/bin/python -m benchmarks.validation        # about a minute on one core
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from sim.queueing import jackson_tandem_sojourn, mmc_wait, scheduled_wait
from tests.engine.test_theory import MMC_CASES, TANDEM, WARMUP_DAYS
from tests.support import queues as Q


def _row(case: str, quantity: str, theory: float, sim: Q.Estimate,
         other: Q.Estimate | None = None) -> str:
    ok = "yes" if sim.covers(theory) else "NO"
    other_text = f"{other}" if other is not None else "-"
    return f"| {case} | {quantity} | {theory:.3f} | {sim} | {other_text} | {ok} |"


def main() -> None:
    argparse.ArgumentParser(description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    print("| case | quantity | theory | cqsim (99% CI) | ciw (99% CI) | theory in cqsim CI |")
    print("|---|---|---:|---:|---:|:---:|")
    for servers, rho, days, reps in MMC_CASES:
        lam, service = rho * servers, 1.0
        seed = 1000 * servers + round(100 * rho)
        with tempfile.TemporaryDirectory() as tmp:
            results = Q.simulate(Q.mmc_scenario(Path(tmp), servers, lam, service, days,
                                                WARMUP_DAYS, reps, seed=seed))
        hubs = results.by_replication("hubs")
        hub = hubs[hubs["hub"] == "q"]
        period = Q.stats_hours(results)
        other = Q.estimate(Q.ciw_mmc_waits(servers, lam, service, period,
                                           WARMUP_DAYS * 24.0, reps, seed=seed))
        case = f"M/M/{servers}, rho {rho} ({reps} x {days} d)"
        print(_row(case, "wait in queue (h)", mmc_wait(lam, service, servers),
                   Q.estimate(hub["wait_mean_h"]), other), flush=True)
        print(_row(case, "utilization", rho, Q.estimate(hub["utilization"])))
        little = hub["arrivals"] / period * (hub["wait_mean_h"] + hub["service_mean_h"])
        gap = ((hub["in_system_mean"] - little) / little).abs().max()
        print(f"| {case} | Little's law: max \\|L - lambda W\\| / L | 0 | {gap:.2e} | - | "
              f"{'yes' if gap < 0.01 else 'NO'} |")

    with tempfile.TemporaryDirectory() as tmp:
        results = Q.simulate(Q.tandem_scenario(Path(tmp), days=500, warmup_days=WARMUP_DAYS,
                                               replications=8, **TANDEM))
    corridors = results.by_replication("corridors")
    sojourn = Q.estimate(corridors[corridors["corridor"] == "west"]["transit_mean_h"]
                         - Q.LINK_HOURS)
    other = Q.estimate(Q.ciw_tandem_sojourns(TANDEM["lam"], TANDEM["service1_h"],
                                             TANDEM["service2_h"], Q.stats_hours(results),
                                             WARMUP_DAYS * 24.0, 8))
    theory = jackson_tandem_sojourn(TANDEM["lam"], [TANDEM["service1_h"],
                                                    TANDEM["service2_h"]])
    print(_row("2 x M/M/1 tandem, rho 0.6 and 0.75 (8 x 500 d)", "sojourn (h)", theory,
               sojourn, other))

    with tempfile.TemporaryDirectory() as tmp:
        results = Q.simulate(Q.scheduled_scenario(Path(tmp), per_week=7.0, lam=0.25,
                                                  days=365, replications=6))
    lines = results.by_replication("lines")
    boarding = Q.estimate(lines[lines["line"] == "train"]["boarding_wait_mean_h"])
    print(_row("daily train, Poisson lots (6 x 365 d)", "wait to board (h)",
               scheduled_wait(24.0), boarding))


if __name__ == "__main__":
    main()
