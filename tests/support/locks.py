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


# ----------------------------------------------------------------------------- cases
# Shared by tests/engine/test_lock.py, tests/engine/test_background.py and
# benchmarks/lock_validation.py (the table of docs/validation.md): same seeds, same lengths.

CYCLE, BATCH, VESSEL_T = 1.5, 4, 1000.0
YEAR_H = 8760.0


def equal_vessels(per_hour: float, **kw: Any) -> dict[str, Any]:
    """A class of equal vessels, `per_hour` each way (2 x per_hour in all)."""
    return {"vessels_per_year": 2 * per_hour * YEAR_H, "vessel_t": VESSEL_T, "source": "t",
            **kw}


def batch_case(tmp: Path, rho: float, days: float = 2000,
               replications: int = 4) -> tuple[float, Any]:
    """(theory, cqsim estimate) of the mean wait of equal vessels at one flight each way:
    the idle-start batch server (sim.queueing.headway_batch_wait)."""
    from sim.pipeline import run
    from sim.queueing import headway_batch_wait
    from tests.support.queues import estimate

    lam = rho * BATCH / CYCLE
    path = lock_scenario(tmp, {"classes": {"bulk": equal_vessels(lam)}}, cycle=CYCLE,
                         chamber_t=BATCH * VESSEL_T, days=days, warmup=20,
                         replications=replications, seed=int(10 * rho))
    waits = run(path).by_replication("locks")["bulk_wait_mean_h"]
    return headway_batch_wait(lam, CYCLE, BATCH), estimate(waits)


def priority_case(tmp: Path) -> tuple[list[float], list[Any]]:
    """(exact fixed-cycle class waits, cqsim estimates) for two classes entering by priority
    at rho 0.3 + 0.6."""
    from sim.pipeline import run
    from sim.queueing import priority_fixed_cycle_waits
    from tests.support.queues import estimate

    lams = [0.3 * BATCH / CYCLE, 0.6 * BATCH / CYCLE]
    op = {"priority_when": "always",
          "classes": {"first": equal_vessels(lams[0], priority=0),
                      "second": equal_vessels(lams[1], priority=1)}}
    path = lock_scenario(tmp, op, cycle=CYCLE, chamber_t=BATCH * VESSEL_T, days=1000,
                         warmup=20, replications=4, seed=3)
    classes = run(path).by_replication("lock_classes")
    return (priority_fixed_cycle_waits(lams, CYCLE, BATCH),
            [estimate(classes.loc[classes["vessel_class"] == n, "wait_mean_h"])
             for n in ("first", "second")])


CLOSURES = {"events": 16.0, "median": 10.0, "sigma": 0.5, "rho": 0.75}


def closure_case(tmp: Path) -> tuple[float, Any, float, float]:
    """(closure_wait, cqsim estimate of the wait, closed h/yr expected, measured) for random
    closures all year at rho 0.75."""
    from sim.pipeline import run
    from sim.queueing import closure_wait, lognormal_moments
    from tests.support.queues import estimate

    c = CLOSURES
    lam = c["rho"] * BATCH / CYCLE
    op = {"classes": {"bulk": equal_vessels(lam)},
          "outages": [{"shape": "random", "name": "weather", "events_per_year": c["events"],
                       "median_hours": c["median"], "sigma": c["sigma"], "source": "t"}]}
    path = lock_scenario(tmp, op, cycle=CYCLE, chamber_t=BATCH * VESSEL_T, days=3650,
                         warmup=30, replications=4, seed=5)
    locks = run(path).by_replication("locks")
    mean_d, second_d = lognormal_moments(c["median"], c["sigma"])
    theory = closure_wait(lam, CYCLE, BATCH, c["events"] / YEAR_H, mean_d, second_d)
    closed = float(locks["closed_h_per_year"].mean())
    return theory, estimate(locks["bulk_wait_mean_h"]), c["events"] * mean_d, closed


def background_network(tmp: Path, background: dict, border: dict | None = None, days: float = 120,
             replications: int = 1, warmup: float = 0.0, seed: int = 1) -> Path:
    """a -- b by a daily train carrying a small flow; hub `x` (a port) and border `g` sit
    apart on their own link and see only background traffic."""
    a, b = nb.hub("a", 0.0), nb.hub("b", 1.0)
    x = nb.hub("x", 2.0, handling_servers=2, handling_teu_per_hour=50.0,
               handling_setup_hours=0.5, yard_teu=5_000.0, dwell_hours=10.0)
    g = nb.hub("g", 3.0, kind="border", gauge_change=True, **(border or {}))
    nb.write_geodata(tmp / "geo", [a, b, x, g],
                     [nb.link("a-b", a, b), nb.link("x-g", x, g)])
    doc = nb.scenario(str(tmp / "geo"), {"ab": nb.train(["a", "b"])},
                      [nb.flow("a", "b", 5_000)],
                      horizon={"days": days, "warmup_days": warmup}, seed=seed,
                      replications=replications,
                      variability={"dwell_cv": 0.0, "running_time_cv": 0.0})
    doc["network"]["background"] = background
    return nb.write_scenario(tmp / "scenario.yaml", doc)


MDC = {"servers": 3, "service": 2.0, "rho": 0.8}   # 0.5 h set-up + 82 TEU / 54.67 TEU/h


def border_mdc_case(tmp: Path) -> tuple[float, Any, Any, float]:
    """(Cosmetatos M/D/3 wait, cqsim estimate, ciw estimate, cqsim utilization) of a
    gauge-change border fed by Poisson background trains."""
    from sim.pipeline import run
    from sim.queueing import mdc_wait
    from tests.support.queues import estimate

    servers, service, rho = int(MDC["servers"]), MDC["service"], MDC["rho"]
    lam = rho * servers / service               # trains per hour
    path = background_network(
        tmp, {"g": {"trains_per_year": lam * YEAR_H, "batch_teu": 82, "source": "test"}},
        border={"handling_servers": servers, "handling_setup_hours": 0.5,
                "handling_teu_per_hour": 82 / 1.5, "dwell_hours": 0.0},
        days=720, warmup=20, replications=6, seed=8)
    hubs = run(path).by_replication("hubs")
    g = hubs[hubs["hub"] == "g"]
    ours = estimate(g["wait_mean_h"].to_numpy())
    ciw = estimate([ciw_mdc_wait(lam, service, servers, 700 * 24, 20 * 24, seed=60 + r)
                    for r in range(6)])
    return mdc_wait(lam, service, servers), ours, ciw, float(g["utilization"].mean())
