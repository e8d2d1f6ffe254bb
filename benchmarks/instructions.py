"""Instructions of a baseline year's settling and replication, under callgrind (deterministic:
wall and CPU times on a shared machine follow the other jobs).

    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/cg.out \\
        .venv/bin/python -m benchmarks.instructions            # baseline-2023, 365 days
    grep summary: /tmp/cg.out.1 /tmp/cg.out.2                  # settle, replication

Instrumentation is switched on (`callgrind_control -i on`) only around `equilibrium.settle`
and one replication, with a dump after each; the reference scenario is loaded before, as
`cqsim run` loads it at admission. About 50x slower than a plain run (6-10 minutes).
"""

from __future__ import annotations

import argparse
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "baseline-2023.yaml"))
    parser.add_argument("--days", type=float, default=365.0)
    args = parser.parse_args()
    from sim import equilibrium
    from sim.demand import reference_costs
    from sim.engine import Model
    from sim.pipeline import prepare
    from sim.routing import choice_sets

    plan = prepare(args.scenario, replications=1, days=args.days)
    choices = tuple(choice_sets(plan))
    equilibrium.market_reference(plan)
    reference_costs(plan, choices)
    pid = str(os.getpid())

    def control(*what: str) -> None:
        subprocess.run(["callgrind_control", *what, pid], capture_output=True, check=False)

    control("-i", "on")
    settled = equilibrium.settle(plan, choices)
    control("-d", "settle")
    model = Model(settled.plan, 0, settled.choices, settled.route_unforeseen,
                  settled.route_spread)
    model.run()
    control("-d", "replication")
    control("-i", "off")
    print(f"SimPy steps of the replication {next(model.env._eid):,}; lots {model._lot_id:,}")


if __name__ == "__main__":
    main()
