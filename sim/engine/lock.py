"""The ship lock as its own mechanism: lockage cycles per lane, a chamber of limited
tonnage, and bulk background vessels sharing one first-come-first-served queue per direction.

Bulk vessels are not processes: their arrival times are drawn lazily, when a lockage
starts or the lock falls idle, and merged with the container vessels by arrival time.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator, Iterator
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import simpy

from sim.engine.component import Component, Row
from sim.engine.windows import factor_at
from sim.kpis import Table, col
from sim.network import DIRECTIONS
from sim.specs import LockSpec
from sim.units import HOURS_PER_YEAR

if TYPE_CHECKING:
    from sim.engine.model import Model



class LockStats:
    """Counters of one direction of a lock since the end of the warm-up."""

    __slots__ = ("lockages", "container_t", "bulk_t", "container_vessels", "bulk_vessels",
                 "container_wait", "bulk_wait")

    def __init__(self) -> None:
        self.lockages = 0
        self.container_t = 0.0
        self.bulk_t = 0.0
        self.container_vessels = 0
        self.bulk_vessels = 0
        self.container_wait = 0.0   # vessel-hours waited before the lockage started
        self.bulk_wait = 0.0


class _Direction:
    """Queues and bulk arrival stream of one direction."""

    def __init__(self, env: simpy.Environment, rng: np.random.Generator, bulk_per_hour: float,
                 bulk_t: float) -> None:
        self.env = env
        self.rng = rng
        self.rate = bulk_per_hour
        self.bulk_t = bulk_t
        self.containers: deque[tuple[float, float, simpy.Event]] = deque()  # (arrival, t, ev)
        self.container_t = 0.0   # tonnes in `containers`, kept as a running sum
        self.bulk: deque[float] = deque()  # arrival times of bulk vessels waiting
        self.next_bulk = self._draw(0.0)
        self.wake: simpy.Event | None = None
        self.stats = LockStats()

    def _draw(self, after: float) -> float:
        if self.rate <= 0:
            return float("inf")
        return after + float(self.rng.standard_exponential()) / self.rate

    def admit_bulk(self) -> None:
        """Bring every bulk vessel that has arrived by now into the queue."""
        now = self.env.now
        while self.next_bulk <= now:
            self.bulk.append(self.next_bulk)
            self.next_bulk = self._draw(self.next_bulk)

    def queued_t(self) -> float:
        """Tonnes waiting (after `admit_bulk`), in constant time."""
        return self.container_t + len(self.bulk) * self.bulk_t


def _release(vessels: list[simpy.Event], _done: simpy.Event) -> None:
    """A lockage is over: every container vessel in it leaves the lock."""
    for vessel in vessels:
        vessel.succeed()


LOCKS = Table("locks", ("lock", "direction"), (
    col("lock"), col("direction"), col("lockages", "lockages", "year"),
    col("container_t", "t", "year"), col("bulk_t", "t", "year"), col("total_t", "t", "year"),
    col("utilization", "share", label="tonnes lifted / tonnes the lanes can lift"),
    col("container_wait_mean_h", "h"), col("bulk_wait_mean_h", "h"), col("queue_end_t", "t")))


class Lock(Component):
    """A ship lock: `lanes` chambers per direction, one lockage per lane every cycle."""

    tables = (LOCKS,)

    def __init__(self, model: Model, spec: LockSpec) -> None:
        super().__init__(model)
        self.spec = spec
        self.windows = model.plan.network.windows("lock", spec.id)
        traffic = model.plan.network.lock_traffic.get(spec.id)
        rng = self.stream(f"lock:{spec.id}")
        bulk_vessels = 0.0
        bulk_t = 1.0
        share = {"down": 0.5, "up": 0.5}
        if traffic is not None:
            bulk_t = traffic.bulk_vessel_t
            bulk_vessels = traffic.bulk_mt_per_year * 1e6 / bulk_t / HOURS_PER_YEAR
            share = {"down": traffic.downstream_share, "up": 1.0 - traffic.downstream_share}
        streams = rng.spawn(len(DIRECTIONS))
        self.directions = {
            d: _Direction(self.env, streams[i], bulk_vessels * share[d], bulk_t)
            for i, d in enumerate(DIRECTIONS)}

    def start(self) -> None:
        for d in DIRECTIONS:
            for _ in range(self.spec.lanes):
                self.env.process(self._lane(self.directions[d]))

    def pass_vessel(self, direction: str, tonnes: float) -> simpy.Event:
        """A container vessel joins the queue; the event fires when it leaves the lock."""
        side = self.directions[direction]
        event = self.env.event()
        side.containers.append((self.env.now, tonnes, event))
        side.container_t += tonnes
        if side.wake is not None:
            side.wake.succeed()
            side.wake = None
        return event

    def excess_wait(self, direction: str) -> float:
        """Hours a vessel arriving now would wait: queued tonnes over the lift rate."""
        side = self.directions[direction]
        side.admit_bulk()
        return side.queued_t() / self.spec.lift_t(1.0)

    def _lane(self, side: _Direction) -> Generator[simpy.Event, object, None]:
        env = self.env
        spec = self.spec
        while True:
            side.admit_bulk()
            if not side.containers and not side.bulk:
                side.wake = env.event()
                wait_for = side.next_bulk - env.now
                if wait_for == float("inf"):
                    yield side.wake
                else:
                    yield side.wake | env.timeout(wait_for)
                side.wake = None
                continue
            factor, until = factor_at(self.windows, env.now) if self.windows else (1.0, 0.0)
            room = spec.chamber_t * factor
            taken = self._fill(side, room)
            if taken is None:  # closed, or the head vessel does not fit the reduced chamber
                yield env.timeout(until - env.now)
                continue
            stats = side.stats
            stats.lockages += 1
            if taken:
                done = env.timeout(spec.passage_hours)
                done.callbacks.append(partial(_release, taken))
            yield env.timeout(spec.cycle_hours)

    def _fill(self, side: _Direction, room: float) -> list[simpy.Event] | None:
        """Fill one chamber first come first served; None when not even the head fits."""
        now = self.env.now
        stats = side.stats
        events: list[simpy.Event] = []
        used = 0.0
        containers, bulk = side.containers, side.bulk
        while containers or bulk:
            container_first = bool(containers) and (not bulk or containers[0][0] <= bulk[0])
            tonnes = containers[0][1] if container_first else side.bulk_t
            if used + tonnes > room + 1e-9:
                break
            used += tonnes
            if container_first:
                arrived, _, event = containers.popleft()
                side.container_t -= tonnes
                events.append(event)
                stats.container_t += tonnes
                stats.container_vessels += 1
                stats.container_wait += now - arrived
            else:
                stats.bulk_t += tonnes
                stats.bulk_vessels += 1
                stats.bulk_wait += now - bulk.popleft()
        if used == 0.0:
            return None
        return events

    def reset_stats(self) -> None:
        for side in self.directions.values():
            side.stats = LockStats()

    def rows(self, period: float, end: float) -> Iterator[tuple[str, Row]]:
        lift = self.spec.lift_t(period)
        for d in DIRECTIONS:
            side = self.directions[d]
            s = side.stats
            total = s.container_t + s.bulk_t
            side.admit_bulk()  # the queue at the end includes bulk vessels arrived by now
            yield "locks", {
                "lock": self.spec.id, "direction": d, "lockages": s.lockages,
                "container_t": s.container_t, "bulk_t": s.bulk_t, "total_t": total,
                "utilization": total / lift,
                "container_wait_mean_h": (s.container_wait / s.container_vessels
                                          if s.container_vessels else 0.0),
                "bulk_wait_mean_h": s.bulk_wait / s.bulk_vessels if s.bulk_vessels else 0.0,
                "queue_end_t": side.queued_t()}
