"""Small queueing networks built from cqsim hubs, and the same queues in ciw, for the
validation tests (tests/engine/test_theory.py) and docs/validation.md.

A hub is an M/M/c queue when its lots arrive as a Poisson process (every demand flow is
one), each lot is one TEU, handling is exponential with no set-up time, there is no dwell
and the yard never fills. Freight leaves the hub on a continuous road service so fast
(1e8 TEU/day, 0.001 h running time) that it reaches the next hub at the instant it leaves:
a second hub downstream then sees the first one's departures, which for an M/M/c queue are
again Poisson (Burke 1956), and the two form a Jackson tandem.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ciw
import numpy as np

from sim.pipeline import run
from sim.results import Results
from sim.stats import mean_ci
from sim.units import HOURS_PER_DAY, HOURS_PER_YEAR
from tests.support import netbuilder as nb

LINK_HOURS = 0.001
FAST = 1e6  # TEU/h: a hub that handles in a microsecond (a sink)


@dataclass(frozen=True)
class Estimate:
    """A mean over independent replications with its confidence half-width."""

    mean: float
    half: float

    def covers(self, value: float) -> bool:
        return abs(self.mean - value) <= self.half

    def __str__(self) -> str:
        return f"{self.mean:.3f} ± {self.half:.3f}"


def estimate(samples: Any, level: float = 0.99) -> Estimate:
    mean, half = mean_ci(np.asarray(samples, dtype=float), level)
    return Estimate(mean, half)


def _queue_hub(ident: str, lon: float, servers: int, service_h: float) -> dict:
    return nb.hub(ident, lon, handling_servers=servers, handling_teu_per_hour=1.0 / service_h,
                  handling_dist="exponential", handling_setup_hours=0.0, dwell_hours=0.0,
                  yard_teu=1e9)


def _road(stops: list[str]) -> dict:
    return {"corridor": "west", "mode": "road", "stops": stops, "schedule": "continuous",
            "capacity_teu_per_day": 1e8, "price_cny_per_teu": 1.0, "bidirectional": False,
            "source": "test"}


def _doc(geo: Path, services: dict, origin: str, destination: str, lam: float, days: float,
         warmup_days: float, replications: int, seed: int) -> dict:
    return nb.scenario(
        str(geo), services, [nb.flow(origin, destination, lam * HOURS_PER_YEAR)],
        horizon={"days": days, "warmup_days": warmup_days}, seed=seed,
        replications=replications, demand={"lot_teu": 1},
        variability={"dwell_cv": 0.0, "running_time_cv": 0.0})


def mmc_scenario(tmp: Path, servers: int, lam: float, service_h: float, days: float,
                 warmup_days: float, replications: int, seed: int = 7) -> Path:
    """Hub `q` as an M/M/c queue (rates per hour) feeding a sink hub `sink`."""
    q = _queue_hub("q", 0.0, servers, service_h)
    sink = nb.hub("sink", 1.0, handling_servers=1, handling_teu_per_hour=FAST, yard_teu=1e9)
    nb.write_geodata(tmp / "geo", [q, sink],
                     [nb.link("q-sink", q, sink, mode="road", hours=LINK_HOURS)])
    doc = _doc(tmp / "geo", {"out": _road(["q", "sink"])}, "q", "sink", lam, days,
               warmup_days, replications, seed)
    return nb.write_scenario(tmp / "mmc.yaml", doc)


def tandem_scenario(tmp: Path, lam: float, service1_h: float, service2_h: float, days: float,
                    warmup_days: float, replications: int, seed: int = 11) -> Path:
    """Two M/M/1 hubs in series, `q1` -> `q2`, joined by a zero-time road link."""
    q1 = _queue_hub("q1", 0.0, 1, service1_h)
    q2 = _queue_hub("q2", 1.0, 1, service2_h)
    nb.write_geodata(tmp / "geo", [q1, q2],
                     [nb.link("q1-q2", q1, q2, mode="road", hours=LINK_HOURS)])
    doc = _doc(tmp / "geo", {"on": _road(["q1", "q2"])}, "q1", "q2", lam, days,
               warmup_days, replications, seed)
    return nb.write_scenario(tmp / "tandem.yaml", doc)


def scheduled_scenario(tmp: Path, per_week: float, lam: float, days: float,
                       replications: int, seed: int = 5) -> Path:
    """Lots (Poisson, rate lam per hour) wait at an instant hub for a timetabled train whose
    capacity never binds."""
    a = nb.hub("a", 0.0, handling_servers=1, handling_teu_per_hour=FAST, yard_teu=1e9)
    b = nb.hub("b", 1.0, handling_servers=1, handling_teu_per_hour=FAST, yard_teu=1e9)
    nb.write_geodata(tmp / "geo", [a, b], [nb.link("a-b", a, b)])
    services = {"train": nb.train(["a", "b"], per_week=per_week, teu=10_000,
                                  bidirectional=False)}
    doc = _doc(tmp / "geo", services, "a", "b", lam, days, 0.0, replications, seed)
    return nb.write_scenario(tmp / "scheduled.yaml", doc)


def simulate(path: Path) -> Results:
    return run(path)


def stats_hours(results: Results) -> float:
    horizon = results.plan.horizon
    return (horizon.days - horizon.warmup_days) * HOURS_PER_DAY


# ----------------------------------------------------------------------------- ciw


def ciw_mmc_waits(servers: int, lam: float, service_h: float, hours: float, warmup_h: float,
                  replications: int, seed: int = 3) -> list[float]:
    """Mean wait in queue per replication of the same M/M/c queue simulated by ciw."""
    out = []
    for r in range(replications):
        ciw.seed(seed * 1000 + r)
        net = ciw.create_network(arrival_distributions=[ciw.dists.Exponential(lam)],
                                 service_distributions=[ciw.dists.Exponential(1 / service_h)],
                                 number_of_servers=[servers])
        sim = ciw.Simulation(net)
        sim.simulate_until_max_time(warmup_h + hours)
        waits = [rec.waiting_time for rec in sim.get_all_records()
                 if rec.service_end_date >= warmup_h]
        out.append(float(np.mean(waits)))
    return out


def ciw_tandem_sojourns(lam: float, service1_h: float, service2_h: float, hours: float,
                        warmup_h: float, replications: int, seed: int = 4) -> list[float]:
    """Mean end-to-end time through two M/M/1 queues in series per ciw replication."""
    out = []
    for r in range(replications):
        ciw.seed(seed * 1000 + r)
        net = ciw.create_network(
            arrival_distributions=[ciw.dists.Exponential(lam), None],
            service_distributions=[ciw.dists.Exponential(1 / service1_h),
                                   ciw.dists.Exponential(1 / service2_h)],
            number_of_servers=[1, 1], routing=[[0.0, 1.0], [0.0, 0.0]])
        sim = ciw.Simulation(net)
        sim.simulate_until_max_time(warmup_h + hours)
        recs = sim.get_all_records()
        arrived = {rec.id_number: rec.arrival_date for rec in recs if rec.node == 1}
        times = [rec.exit_date - arrived[rec.id_number] for rec in recs
                 if rec.node == 2 and rec.exit_date >= warmup_h and rec.id_number in arrived]
        out.append(float(np.mean(times)))
    return out
