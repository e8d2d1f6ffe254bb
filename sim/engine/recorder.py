"""One recorder per replication: compact per-lot records (typed arrays, not Python objects)
and the end-of-run tables built from them and from the runtime counters.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.checks import checks_table
from sim.engine.lock import DIRECTIONS
from sim.network import Plan
from sim.routing import ChoiceSet
from sim.specs import CORRIDORS
from sim.units import HOURS_PER_DAY, HOURS_PER_WEEK

if TYPE_CHECKING:
    from sim.engine.freight import Lot
    from sim.engine.model import Model



@dataclass
class ReplicationResult:
    """Tidy tables of one replication, plus its conservation balance."""

    replication: int
    tables: dict[str, pd.DataFrame]
    conservation: dict[str, float]
    events: dict[str, float] = field(default_factory=dict)


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Quantile of `values` where each value counts `weights` times (e.g. TEU)."""
    if values.size == 0:
        return float("nan")
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cum, q * cum[-1])])


class Recorder:
    """Collects deliveries lot by lot into typed arrays; builds the tables at the end."""

    def __init__(self, plan: Plan, choices: Sequence[ChoiceSet], stats_from: float) -> None:
        self.plan = plan
        self.stats_from = stats_from
        self.routes = {r.index: (cs.flow, r) for cs in choices for r in cs.routes}
        n = max(self.routes, default=-1) + 1
        self.route_created = np.zeros(n)
        self.route_delivered = np.zeros(n)
        self.route_transit = np.zeros(n)    # TEU-hours door to door, for the mean per route
        self.route_ids = array("i")
        self.teu = array("d")
        self.transit = array("d")
        self.wait = array("d")
        self.at = array("d")
        self.rides: dict[tuple[int, int], list[float]] = {}  # (route, leg) -> [TEU, TEU-h]

    def created(self, lot: Lot) -> None:
        if lot.created >= self.stats_from:
            self.route_created[lot.route.index] += lot.teu

    def rode(self, lot: Lot, now: float) -> None:
        """A lot alights from the vehicle of its current leg: count its time on board."""
        if now < self.stats_from:
            return
        acc = self.rides.setdefault((lot.route.index, lot.leg), [0.0, 0.0])
        acc[0] += lot.teu
        acc[1] += lot.teu * (now - lot.boarded)

    def delivered(self, lot: Lot, now: float) -> None:
        if now < self.stats_from:
            return
        self.route_delivered[lot.route.index] += lot.teu
        self.route_transit[lot.route.index] += lot.teu * (now - lot.created)
        self.route_ids.append(lot.route.index)
        self.teu.append(lot.teu)
        self.transit.append(now - lot.created)
        self.wait.append(lot.wait)
        self.at.append(now)

    # ------------------------------------------------------------------ tables
    def _route_table(self) -> pd.DataFrame:
        plan = self.plan
        rows = []
        for idx, (fi, route) in sorted(self.routes.items()):
            flow = plan.flows[fi]
            rows.append({
                "route": idx, "origin": flow.origin, "destination": flow.destination,
                "commodity": flow.commodity, "corridor": route.corridor,
                "path": " > ".join(route.hubs),
                "services": " > ".join(plan.network.lines[leg.line].service for leg in route.legs),
                "km": route.km, "price_cny_per_teu": route.price_cny,
                "base_hours": route.base_hours,
                "teu_created": self.route_created[idx],
                "teu_delivered": self.route_delivered[idx],
                "transit_mean_h": (self.route_transit[idx] / self.route_delivered[idx]
                                   if self.route_delivered[idx] > 0 else np.nan)})
        return pd.DataFrame(rows)

    def _leg_table(self) -> pd.DataFrame:
        """Time on board per leg of every route (boarding to alighting, stops and borders
        passed on the way included): the measured counterpart of published leg times."""
        net = self.plan.network
        rows = []
        for (idx, k), (teu, teu_h) in sorted(self.rides.items()):
            leg = self.routes[idx][1].legs[k]
            line = net.lines[leg.line]
            rows.append({"route": idx, "leg": k, "service": line.service, "line": line.id,
                         "board": line.stops[leg.board], "alight": line.stops[leg.alight],
                         "teu": teu, "ride_mean_h": teu_h / teu if teu > 0 else np.nan})
        return pd.DataFrame(rows, columns=["route", "leg", "service", "line", "board",
                                           "alight", "teu", "ride_mean_h"])

    def _lots(self) -> pd.DataFrame:
        plan = self.plan
        ids = np.frombuffer(self.route_ids, dtype=np.int32) if len(self.route_ids) else \
            np.zeros(0, dtype=np.int32)
        corridor = np.array([self.routes[i][1].corridor for i in range(len(self.routes))],
                            dtype=object)
        value = np.array([plan.classes[plan.flows[self.routes[i][0]].commodity]
                          .value_cny_per_teu for i in range(len(self.routes))])
        co2 = np.array([plan.classes[plan.flows[self.routes[i][0]].commodity].tonnes_per_teu
                        * self.routes[i][1].co2_kg_per_t / 1000.0
                        for i in range(len(self.routes))])
        teu = np.asarray(self.teu)
        return pd.DataFrame({
            "corridor": corridor[ids] if ids.size else np.array([], dtype=object),
            "teu": teu,
            "value_cny": teu * (value[ids] if ids.size else 0.0),
            "co2_t": teu * (co2[ids] if ids.size else 0.0),
            "transit_h": np.asarray(self.transit), "wait_h": np.asarray(self.wait),
            "at_h": np.asarray(self.at)})

    def _corridor_table(self, lots: pd.DataFrame) -> pd.DataFrame:
        rows = []
        names = list(CORRIDORS) + sorted(set(lots["corridor"]) - set(CORRIDORS))
        for name in names:
            sub = lots[lots["corridor"] == name]
            teu = sub["teu"].to_numpy()
            total = teu.sum()
            transit = sub["transit_h"].to_numpy()
            rows.append({
                "corridor": name, "teu": total, "trade_value_cny": sub["value_cny"].sum(),
                "lots": len(sub),
                "transit_mean_h": float(np.average(transit, weights=teu)) if total else np.nan,
                "transit_p95_h": weighted_quantile(transit, teu, 0.95),
                "wait_mean_h": float(np.average(sub["wait_h"], weights=teu)) if total else np.nan,
                "co2_t": sub["co2_t"].sum()})
        return pd.DataFrame(rows)

    def _timeseries(self, lots: pd.DataFrame) -> pd.DataFrame:
        week = (lots["at_h"] // HOURS_PER_WEEK).astype(int)
        ts = lots.assign(week=week).groupby(["week", "corridor"], as_index=False)["teu"].sum()
        return ts

    def result(self, model: Model, conservation: dict[str, float],
               end: float) -> ReplicationResult:
        """Every table of this replication."""
        plan = self.plan
        net = plan.network
        period = end - self.stats_from
        lots = self._lots()

        hubs = []
        for hid, hub in model.hubs.items():
            s = hub.stats
            spec = hub.spec
            hubs.append({
                "hub": hid, "name": spec.name, "kind": spec.kind, "teu": s.teu, "jobs": s.jobs,
                "arrivals": s.arrivals, "trains_gauge_changed": s.vehicles,
                "wait_mean_h": s.wait_sum / s.jobs if s.jobs else 0.0, "wait_max_h": s.wait_max,
                "utilization": s.busy_in_period / (spec.handling_servers * period),
                "yard_mean_teu": (hub.yard.area + hub.yard.level * (end - hub.yard.last)) / period,
                "yard_peak_teu": hub.yard.peak, "yard_teu": spec.yard_teu,
                "queue_end": len(hub.servers.queue) + len(hub.yard.waiting),
                "in_system_mean": hub.in_system_mean(end, period),
                "service_mean_h": s.busy / s.jobs if s.jobs else 0.0,
                "lon": spec.lon, "lat": spec.lat})

        lines = []
        for line in model.lines:
            ls = line.stats
            service = line.line.spec
            if service.schedule == "continuous":
                assert service.capacity_teu_per_day is not None
                capacity = service.capacity_teu_per_day * period / HOURS_PER_DAY
                hop = line.line.hops[0]
                model.hop_stats[(hop.link.id, hop.direction)].capacity += capacity
                capacity_km = capacity * hop.link.km
            else:
                capacity, capacity_km = ls.capacity, ls.capacity_km
            lines.append({
                "line": line.line.id, "service": line.line.service, "corridor": service.corridor,
                "mode": service.mode, "schedule": service.schedule, "departures": ls.departures,
                "loaded_departures": ls.loaded, "teu": ls.teu, "capacity_teu": capacity,
                "load_factor": ls.teu_km / capacity_km if capacity_km else 0.0,
                "boarding_wait_mean_h": ls.wait_sum / ls.teu if ls.teu else 0.0,
                "queue_end_teu": sum(line.queued_teu)})

        links = []
        for (lid, direction), hs in model.hop_stats.items():
            link = net.links[lid]
            ef = net.emission_factors[link.mode].g_per_tkm
            links.append({
                "link": lid, "direction": direction,
                "from_hub": link.from_hub if direction == "down" else link.to_hub,
                "to_hub": link.to_hub if direction == "down" else link.from_hub,
                "mode": link.mode, "corridor": link.corridor, "km": link.km,
                "teu": hs.teu, "vehicles": hs.vehicles, "capacity_teu": hs.capacity,
                "utilization": hs.teu / hs.capacity if hs.capacity else 0.0,
                "teu_km": hs.teu * link.km, "co2_t": hs.tonnes * link.km * ef / 1e6})

        locks = []
        for lid, lock in model.locks.items():
            lock_spec = lock.spec
            assert lock_spec.lock_chamber_t and lock_spec.lock_cycle_hours and lock_spec.lock_lanes
            lift = (lock_spec.lock_lanes * lock_spec.lock_chamber_t * period
                    / lock_spec.lock_cycle_hours)
            for d in DIRECTIONS:
                side = lock.directions[d]
                ks = side.stats
                total = ks.container_t + ks.bulk_t
                side.admit_bulk()
                locks.append({
                    "lock": lid, "direction": d, "lockages": ks.lockages,
                    "container_t": ks.container_t, "bulk_t": ks.bulk_t, "total_t": total,
                    "utilization": total / lift,
                    "container_wait_mean_h": (ks.container_wait / ks.container_vessels
                                              if ks.container_vessels else 0.0),
                    "bulk_wait_mean_h": ks.bulk_wait / ks.bulk_vessels if ks.bulk_vessels else 0.0,
                    "queue_end_t": side.queued_t()})

        tables = {
            "corridors": self._corridor_table(lots),
            "hubs": pd.DataFrame(hubs),
            "lines": pd.DataFrame(lines),
            "links": pd.DataFrame(links),
            "locks": pd.DataFrame(locks, columns=[
                "lock", "direction", "lockages", "container_t", "bulk_t", "total_t",
                "utilization", "container_wait_mean_h", "bulk_wait_mean_h", "queue_end_t"]),
            "routes": self._route_table(),
            "legs": self._leg_table(),
            "timeseries": self._timeseries(lots),
            "conservation": pd.DataFrame([conservation]),
            "checks": checks_table(list(model.hubs.values()), self.stats_from, end),
        }
        return ReplicationResult(replication=model.replication, tables=tables,
                                 conservation=conservation)
