"""Where the CPU of one baseline year goes, stage by stage, in this process.

    python -m benchmarks.stages                  # baseline-2023, 365 days
    python -m benchmarks.stages --repeat 3       # the replication 3 times, least CPU kept

Stages as `cqsim run` goes through them (`sim.pipeline`): build the plan, enumerate the route
choice sets, the market's reference (None when the scenario is its own), settle (demand
response and the MSA feedback passes) and one replication. CPU time (`time.process_time`),
so other jobs on a shared machine slow it less than wall time; the load average is printed
beside it. SimPy steps are the events the replication scheduled (its event counter).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "baseline-2023.yaml"))
    parser.add_argument("--days", type=float, default=365.0)
    parser.add_argument("--repeat", type=int, default=1,
                        help="replications timed (the same one again): least CPU kept")
    args = parser.parse_args()
    from sim import equilibrium
    from sim.engine import Model
    from sim.pipeline import prepare
    from sim.routing import choice_sets

    clock = time.process_time
    load = os.getloadavg()[0]
    t0 = clock()
    plan = prepare(args.scenario, replications=1, days=args.days)
    t1 = clock()
    choices = tuple(choice_sets(plan))
    t2 = clock()
    equilibrium.market_reference(plan)
    t3 = clock()
    settled = equilibrium.settle(plan, choices)
    t4 = clock()
    replication = []
    for _ in range(max(args.repeat, 1)):
        model = Model(settled.plan, 0, settled.choices, settled.route_unforeseen,
                      settled.route_spread)
        start = clock()
        model.run()
        replication.append(clock() - start)
    steps = next(model.env._eid)
    print(f"{Path(args.scenario).name}, {args.days:g} days, load average {load:.2f} -> "
          f"{os.getloadavg()[0]:.2f}")
    print(f"CPU s: build {t1 - t0:.2f} | choice sets {t2 - t1:.2f} | reference {t3 - t2:.2f} "
          f"| settle {t4 - t3:.2f} | replication {min(replication):.2f} "
          f"(of {', '.join(f'{r:.2f}' for r in replication)})")
    print(f"SimPy steps of the replication {steps:,}; lots {model._lot_id:,}")


if __name__ == "__main__":
    main()
