"""The floor for whole-command speed: a bare SimPy M/M/3 queue of N customers, as a whole
process (interpreter start, imports, simulation, a one-line summary).

    python -m benchmarks.mm3 [--customers 200000]

Arrivals Poisson at 2 per hour, service exponential at 1 per hour per server (utilization
2/3, as benchmarks/tandem.py), one SimPy process per customer and a simpy.Resource(3).
"""

from __future__ import annotations

import argparse

import numpy as np
import simpy

ARRIVAL_PER_HOUR = 2.0
SERVICE_PER_HOUR = 1.0
SERVERS = 3


def mm3(customers: int, seed: int = 1) -> float:
    """Simulate `customers` through the queue; return their mean time in system (h)."""
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    servers = simpy.Resource(env, SERVERS)
    total = [0.0]

    def customer() -> simpy.events.ProcessGenerator:
        start = env.now
        with servers.request() as req:
            yield req
            yield env.timeout(rng.exponential(1.0 / SERVICE_PER_HOUR))
        total[0] += env.now - start

    def source() -> simpy.events.ProcessGenerator:
        for _ in range(customers):
            yield env.timeout(rng.exponential(1.0 / ARRIVAL_PER_HOUR))
            env.process(customer())

    env.process(source())
    env.run()
    return total[0] / customers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000)
    args = parser.parse_args()
    print(f"M/M/3, {args.customers} customers: mean time in system {mm3(args.customers):.3f} h")


if __name__ == "__main__":
    main()
