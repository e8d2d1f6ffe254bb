"""Reference simulators for batch-service (lock) and gauge-change queues, independent of
cqsim's engine: a plain-Python batch server and the same queues in ciw (`ciw.Slotted` for a
lock flight, deterministic service for an M/D/c border). Used by the validation tests and
docs/validation.md.

A lock flight is a batch server: a lockage takes up to `batch` waiting vessels and the next
may start `cycle` hours later. Two start rules exist:
- fixed cycle (Bailey 1954): lockages every `cycle` hours whether anyone waits or not;
- idle start (cqsim's lock): a lockage starts as soon as a vessel waits and the previous one
  started at least `cycle` hours ago.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ciw
import numpy as np

from tests.support import netbuilder as nb


def batch_server_waits(lam: float, cycle: float, batch: int, hours: float, warmup: float,
                       seed: int, idle_start: bool,
                       closures: Sequence[tuple[float, float]] = ()) -> np.ndarray:
    """Waits (h) of the Poisson(lam) customers that arrive after `warmup`, first come first
    served, at a batch server; `closures` are (start, end) hours with no service start."""
    rng = np.random.default_rng(seed)
    n = int(lam * hours * 1.2 + 50)
    arrivals = np.cumsum(rng.exponential(1.0 / lam, n))
    arrivals = arrivals[arrivals < hours]
    shut = sorted(closures)

    def open_from(t: float) -> float:
        """The first time >= t outside every closure."""
        for start, end in shut:
            if start <= t < end:
                t = end
        return t

    waits = np.empty(arrivals.size)
    epoch = -np.inf          # start of the last service
    used = batch             # customers it took (full: the next customer needs a new start)
    for i, t in enumerate(arrivals):
        if used < batch and epoch >= t:
            used += 1        # a start already planned at or after t has room
            waits[i] = epoch - t
            continue
        if idle_start:
            start = max(t, epoch + cycle)
        else:               # next point of the fixed grid at or after t (and after epoch)
            start = max(np.ceil(t / cycle) * cycle, epoch + cycle)
        while True:         # a start inside a closure moves to its end (grid: next point)
            moved = open_from(start)
            if moved == start:
                break
            start = moved if idle_start else np.ceil(moved / cycle) * cycle
        epoch, used = start, 1
        waits[i] = start - t
    return waits[arrivals >= warmup]


def ciw_slotted_waits(lams: Sequence[float], cycle: float, batch: int, hours: float,
                      warmup: float, seed: int) -> list[float]:
    """Mean wait (h) per priority class (0 first) of a fixed-cycle batch server in ciw:
    `ciw.Slotted` starts up to `batch` customers every `cycle` hours in priority order;
    service is instantaneous (the passage time adds no wait)."""
    ciw.seed(seed)
    names = [f"Class {k}" for k in range(len(lams))]
    net = ciw.create_network(
        arrival_distributions={name: [ciw.dists.Exponential(rate=lam)]
                               for name, lam in zip(names, lams, strict=True)},
        service_distributions={name: [ciw.dists.Deterministic(value=1e-9)] for name in names},
        number_of_servers=[ciw.Slotted(slots=[cycle], slot_sizes=[batch])],
        priority_classes={name: k for k, name in enumerate(names)})
    sim = ciw.Simulation(net)
    sim.simulate_until_max_time(hours)
    out = []
    for name in names:
        waits = [r.waiting_time for r in sim.get_all_records()
                 if r.customer_class == name and r.arrival_date >= warmup]
        out.append(float(np.mean(waits)))
    return out


def ciw_mdc_wait(lam: float, service: float, servers: int, hours: float, warmup: float,
                 seed: int) -> float:
    """Mean wait in queue (h) of an M/D/c queue in ciw: a gauge-change border whose trains
    arrive as a Poisson stream and take a fixed time at one of `servers` positions."""
    ciw.seed(seed)
    net = ciw.create_network(arrival_distributions=[ciw.dists.Exponential(rate=lam)],
                             service_distributions=[ciw.dists.Deterministic(value=service)],
                             number_of_servers=[servers])
    sim = ciw.Simulation(net)
    sim.simulate_until_max_time(warmup + hours)
    waits = [r.waiting_time for r in sim.get_all_records() if r.arrival_date >= warmup]
    return float(np.mean(waits))


# ----------------------------------------------------------------------------- cqsim lock


def lock_scenario(tmp: Path, operation: dict[str, Any], *, cycle: float = 1.5,
                  chamber_t: float = 4000.0, passage: float = 3.0, lanes: int = 1,
                  days: float = 365, warmup: float = 30, replications: int = 1,
                  seed: int = 1, barge_per_week: float | None = None,
                  changes: list[dict[str, Any]] | None = None) -> Path:
    """A lock `lk` on the river link a-b; a flow between two rail hubs elsewhere keeps the
    demand table valid. The lock sees only `operation`'s vessel classes, plus container
    barges a -> b when `barge_per_week` is given."""
    a, b = nb.hub("a", 0, kind="river_port"), nb.hub("b", 2, kind="river_port")
    c, d = nb.hub("c", 4), nb.hub("d", 5)
    lock = nb.lock("lk", 1, lanes=lanes, cycle_hours=cycle, chamber_t=chamber_t,
                   passage_hours=passage)
    nb.write_geodata(tmp / "geo", [a, b, c, d],
                     [nb.link("a-b", a, b, mode="river", corridor="east", lock="lk",
                              lock_at=0.5),
                      nb.link("c-d", c, d)], locks=[lock])
    services: dict[str, Any] = {"cd": nb.train(["c", "d"])}
    flows = [nb.flow("c", "d", 1000)]
    if barge_per_week is not None:
        services["barge"] = {"corridor": "east", "mode": "river", "stops": ["a", "b"],
                             "departures_per_week": barge_per_week, "vehicle_teu": 100,
                             "price_cny_per_teu": 500, "source": "test"}
        flows.append(nb.flow("a", "b", 20_000))
    doc = nb.scenario(str(tmp / "geo"), services, flows,
                      horizon={"days": days, "warmup_days": warmup}, seed=seed,
                      replications=replications,
                      variability={"dwell_cv": 0.0, "running_time_cv": 0.0})
    doc["network"]["locks"] = {"lk": {"source": "test", **operation}}
    if changes:
        doc["changes"] = changes
    return nb.write_scenario(tmp / "lock.yaml", doc)
