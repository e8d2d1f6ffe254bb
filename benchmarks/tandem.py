"""The same three-stage tandem of M/M/c hubs run three ways: cqsim's scenario path, a minimal
hand-written SimPy script (the floor) and ciw (an independent queueing library).

Stage k has c servers with exponential handling; lots arrive as a Poisson process. Each
function returns (wall seconds, lots completed, mean sojourn hours) so the three can be
checked against each other as well as timed.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import simpy

ROOT = Path(__file__).resolve().parent.parent
ARRIVAL_PER_HOUR = 2.0          # lots per hour
SERVICE_PER_HOUR = 1.0          # lots per hour per server
SERVERS = 3                     # utilization 2 / 3 at every stage
STAGES = 3


def bare_simpy(lots: int, seed: int = 1) -> tuple[float, int, float]:
    """The floor: one process per lot, one simpy.Resource per stage, nothing else."""
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    stages = [simpy.Resource(env, SERVERS) for _ in range(STAGES)]
    sojourn: list[float] = []

    def lot() -> simpy.events.ProcessGenerator:
        start = env.now
        for stage in stages:
            with stage.request() as req:
                yield req
                yield env.timeout(rng.exponential(1.0 / SERVICE_PER_HOUR))
        sojourn.append(env.now - start)

    def source() -> simpy.events.ProcessGenerator:
        for _ in range(lots):
            yield env.timeout(rng.exponential(1.0 / ARRIVAL_PER_HOUR))
            env.process(lot())

    env.process(source())
    t0 = time.perf_counter()
    env.run()
    return time.perf_counter() - t0, len(sojourn), float(np.mean(sojourn))


def ciw_tandem(lots: int, seed: int = 1) -> tuple[float, int, float]:
    """The same network in ciw."""
    import ciw

    horizon = lots / ARRIVAL_PER_HOUR
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(ARRIVAL_PER_HOUR)] + [None] * (STAGES - 1),
        service_distributions=[ciw.dists.Exponential(SERVICE_PER_HOUR)] * STAGES,
        number_of_servers=[SERVERS] * STAGES,
        routing=[[1.0 if j == i + 1 else 0.0 for j in range(STAGES)] for i in range(STAGES)],
    )
    ciw.seed(seed)
    sim = ciw.Simulation(network)
    t0 = time.perf_counter()
    sim.simulate_until_max_time(horizon)
    wall = time.perf_counter() - t0
    recs = [r for r in sim.get_all_records() if r.node == STAGES]
    done = {r.id_number for r in recs}
    first = {r.id_number: r.arrival_date for r in sim.get_all_records() if r.node == 1}
    sojourn = [r.exit_date - first[r.id_number] for r in recs if r.id_number in first]
    return wall, len(done), float(np.mean(sojourn))


def cqsim_scenario(folder: Path, lots: int) -> Path:
    """Write geodata and a scenario for the tandem: hubs s0..s2 (M/M/c) and an exit hub,
    joined by continuous services so fast they add no measurable time."""
    from tests.support import netbuilder as nb

    hubs = [nb.hub(f"s{i}", float(i), handling_servers=SERVERS,
                   handling_teu_per_hour=SERVICE_PER_HOUR, handling_dist="exponential",
                   yard_teu=1e9) for i in range(STAGES)]
    links = [nb.link(f"l{i}", hubs[i], hubs[i + 1], mode="road", hours=1e-6)
             for i in range(STAGES - 1)]
    nb.write_geodata(folder / "geo", hubs, links)
    services = {f"c{i}": {"corridor": "west", "mode": "road", "stops": [f"s{i}", f"s{i + 1}"],
                          "schedule": "continuous", "capacity_teu_per_day": 1e8,
                          "price_cny_per_teu": 1, "bidirectional": False, "source": "bench"}
                for i in range(STAGES - 1)}
    horizon_days = lots / ARRIVAL_PER_HOUR / 24.0
    doc = nb.scenario(str(folder / "geo"), services,
                      [nb.flow("s0", f"s{STAGES - 1}", ARRIVAL_PER_HOUR * 8760.0)],
                      horizon={"days": horizon_days},
                      variability={"dwell_cv": 0.0, "running_time_cv": 0.0})
    doc["demand"]["lot_teu"] = 1.0
    return nb.write_scenario(folder / "tandem.yaml", doc)


def cqsim_tandem(lots: int) -> tuple[float, int, float]:
    """The tandem through cqsim's own path: scenario file -> plan -> engine."""
    from sim.engine import Model
    from sim.pipeline import prepare

    with tempfile.TemporaryDirectory() as tmp:
        plan = prepare(cqsim_scenario(Path(tmp), lots))
        model = Model(plan, 0)
        t0 = time.perf_counter()
        result = model.run()
        wall = time.perf_counter() - t0
    west = result.tables["corridors"].set_index("corridor").loc["west"]
    done = int(result.conservation["delivered_teu"])   # 1 TEU a lot, no split
    return wall, done, float(west["transit_mean_h"])


def theory_sojourn() -> float:
    """Jackson network: sum of M/M/c sojourn times of the stages."""
    from math import factorial

    a = ARRIVAL_PER_HOUR / SERVICE_PER_HOUR
    rho = a / SERVERS
    tail = a ** SERVERS / factorial(SERVERS) / (1 - rho)
    p_wait = tail / (sum(a ** k / factorial(k) for k in range(SERVERS)) + tail)
    wait = p_wait / (SERVERS * SERVICE_PER_HOUR - ARRIVAL_PER_HOUR)
    return STAGES * (wait + 1.0 / SERVICE_PER_HOUR)
