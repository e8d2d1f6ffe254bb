"""The compiled engine (`sim.native`) against the plain Python one, side by side in one run.

    python -m sim.native && python -m benchmarks.native           # baseline-2023, 365 days
    python -m benchmarks.native --rounds 3 --scenario scenarios/baseline.yaml

Each round runs one replication in a fresh process with the compiled engine and one with
`CQSIM_COMPILED=off`, alternating, and prints the CPU of each (`time.process_time` around
`sim.pipeline.replicate_one`: the simulation and its tables) and their ratio. The feedback
passes before it are read from the settled-state cache after the first round (`sim.cache`),
so only the replication is timed; the tables of the two are compared too.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import hashlib, json, sys, time
from sim import pipeline
import sim.engine.hub as hub
plan = pipeline.prepare(sys.argv[1], replications=1, days=float(sys.argv[2]))
settled = pipeline.settle(plan)
start = time.process_time()
result = pipeline.replicate_one(settled, 0)
cpu = time.process_time() - start
digest = hashlib.sha256()
for name, table in sorted(result.tables.items()):
    digest.update(name.encode() + table.to_csv(index=False).encode())
print(json.dumps({"cpu": cpu, "engine": hub.__file__, "tables": digest.hexdigest()[:12]}))
"""


def one(scenario: str, days: float, compiled: bool) -> dict[str, object]:
    """One replication in a fresh process; its CPU, engine module and tables' digest."""
    env = dict(os.environ)
    if not compiled:
        env["CQSIM_COMPILED"] = "off"
    done = subprocess.run([sys.executable, "-c", CHILD, scenario, str(days)], cwd=ROOT,
                          env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "baseline-2023.yaml"))
    parser.add_argument("--days", type=float, default=365.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    from sim import native

    if native.built() is None:
        sys.exit("no compiled engine for these sources: run python -m sim.native first")
    one(args.scenario, args.days, compiled=False)      # settles once, into the cache
    print(f"{Path(args.scenario).name}, {args.days:g} days, one replication per process")
    for k in range(args.rounds):
        fast = one(args.scenario, args.days, compiled=True)
        plain = one(args.scenario, args.days, compiled=False)
        same = "same tables" if fast["tables"] == plain["tables"] else "TABLES DIFFER"
        print(f"round {k + 1}: compiled {fast['cpu']:.2f} s | plain {plain['cpu']:.2f} s CPU "
              f"| plain / compiled {float(plain['cpu']) / float(fast['cpu']):.2f}x | {same} "
              f"| load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
