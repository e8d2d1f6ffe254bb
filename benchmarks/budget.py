"""The run-cost estimate of `sim.budget` beside the measured cost, to calibrate and check it.

    .venv/bin/python -m benchmarks.budget [--quick]

Each case runs one replication in a fresh process (so one case's memory cannot hide in
another's) and prints: lots created, events scheduled and peak resident memory (VmHWM), as
estimated from the plan before running and as measured. The cases cover a stable network
(the baselines), long horizons, and a saturated network whose lots wait at full yards (demand
x 4 and x 16). Linux only (/proc). Results are quoted in docs/validation.md ("Bounded work").
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, sys, time
from sim.budget import estimate
from sim.engine import Model
from sim.network import build
from sim.routing import choice_sets
from sim.scenario import DemandGrowth, load_scenario, with_overrides

def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")

path, days, demand = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
scenario = with_overrides(load_scenario(path), **{"horizon.days": days,
                                                  "horizon.warmup_days": 0.0})
if demand != 1.0:
    scenario = scenario.model_copy(update={"changes": (*scenario.changes, DemandGrowth(
        kind="demand_growth", factor=demand, why="benchmark"))})
plan = build(scenario)
choices = choice_sets(plan)
est = estimate(plan, choices)
model = Model(plan, 0, choices)
t0 = time.perf_counter()
model.run()
print(json.dumps({"est_lots": est.lots_per_replication, "est_events": est.events_per_replication,
                  "est_mb": est.memory_bytes / 1e6, "lots": model._lot_id,
                  "events": next(model.env._eid), "peak_mb": peak_mb(),
                  "wall_s": time.perf_counter() - t0}))
"""

CASES = [  # (scenario, days, demand factor)
    ("tests/bad_inputs/ok.yaml", 365.0, 1.0),
    ("scenarios/baseline.yaml", 365.0, 1.0),
    ("scenarios/baseline-2023.yaml", 365.0, 1.0),
    ("scenarios/baseline.yaml", 1095.0, 1.0),
    ("scenarios/baseline.yaml", 120.0, 4.0),
    ("scenarios/baseline.yaml", 120.0, 16.0),
]


def measure(scenario: str, days: float, demand: float) -> dict[str, float]:
    """One case in a fresh interpreter."""
    done = subprocess.run([sys.executable, "-c", CHILD, scenario, str(days), str(demand)],
                          capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the first three cases")
    args = parser.parse_args()
    print("| scenario | days | demand | lots est. / measured | events est. / measured "
          "| peak MB est. / measured | s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for scenario, days, demand in CASES[:3] if args.quick else CASES:
        r = measure(scenario, days, demand)
        print(f"| {Path(scenario).name} | {days:g} | x{demand:g} | {r['est_lots']:,.0f} / "
              f"{r['lots']:,} | {r['est_events']:,.0f} / {r['events']:,} | "
              f"{r['est_mb']:,.0f} / {r['peak_mb']:,.0f} | {r['wall_s']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
