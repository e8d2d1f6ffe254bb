"""One recorder per replication: compact per-lot records (typed arrays, not Python objects)
and the end-of-run tables: its own, built from those records, and the rows each runtime
component writes about itself.
"""

from __future__ import annotations

from array import array
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.components import BUILT_IN, kinds
from sim.engine.component import Row
from sim.engine.windows import inside, meets
from sim.errors import InputError
from sim.kpis import TEXT, Table, col, corridor_row, kpis
from sim.network import EventKey, Plan
from sim.routing import ChoiceSet, dated_spans
from sim.specs import CORRIDORS
from sim.units import CNY_PER_BN, HOURS_PER_DAY, HOURS_PER_WEEK, annual_factor

if TYPE_CHECKING:
    from sim.demand import MarketPasses
    from sim.engine.freight import Lot
    from sim.engine.model import Model



# the recorder's own tables
# what flows and routes are named by, in several tables
_FLOW_CLASS = ("flow class: trade (Chongqing's goods trade), domestic, transit, chengdu or "
               "empty (repositioned boxes)")
_CORRIDOR = ("corridor the route counts for: a market route its gateway's own corridor, any "
             "other the corridor it rides furthest but for feeders")
ROUTES = Table("routes", ("route",), (
    col("route", "index", label="route number, from 0 (legs.csv names routes by it)"),
    col("origin", TEXT, label="hub where the flow starts (hubs.csv hub)"),
    col("destination", TEXT, label="hub where the flow ends"),
    col("commodity", TEXT, label="commodity class of the flow, as the scenario names it"),
    col("corridor", TEXT, label=_CORRIDOR),
    col("gateway", TEXT, label="gateway of the route (a corridor for flows outside the "
                               "market)"),
    col("flow_class", TEXT, label=_FLOW_CLASS),
    col("market", TEXT, label="partner market of the flow (empty: a flow of no market row)"),
    col("path", TEXT, label="hubs the route passes, in order, joined by ' > '"),
    col("services", TEXT, label="service ridden on each leg, in order, joined by ' > '"),
    col("km", "km", fixed=True, label="length of the route"),
    col("price_cny_per_teu", "CNY/TEU", fixed=True,
        label="price of a TEU on the route: the services' tariffs for the km ridden, plus "
              "a transfer cost between legs"),
    col("base_h", "h", label="uncongested door-to-door time"),
    col("teu_created", "TEU", "year", "TEU booked on the route (created)"),
    col("teu_departed", "TEU", "year", "TEU that left the route's origin (trade is counted so)"),
    col("teu_delivered", "TEU", "year", "TEU delivered at the route's destination"),
    col("transit_mean_h", "h", label="mean door-to-door hours of the lots delivered "
                                     "(TEU-weighted)"),
    col("transit_p95_h", "h", label="95th percentile of the lots' door-to-door hours"),
    col("transit_sd_h", "h", label="standard deviation of the lots' door-to-door hours "
                                   "(TEU-weighted): the spread route choice values"),
    col("foreseen_mean_h", "h", label="queueing beyond normal that route choice saw on the "
                                      "route when its delivered lots were booked"),
    col("transit_usual_mean_h", "h", label="transit_mean_h of the lots booked outside the "
                                           "scenario's dated events whose journeys met none "
                                           "(what route choice learns for usual days; "
                                           "transit_mean_h when there is no dated event)"),
    col("teu_usual_delivered", "TEU", "year", "TEU delivered of those lots"),
    col("transit_usual_sd_h", "h", label="transit_sd_h of those lots"),
    col("foreseen_usual_mean_h", "h", label="foreseen_mean_h of those lots"),
    col("teu_event_created", "TEU", "year", "TEU booked on the route in the statistics "
                                            "period while a dated event was in force on it "
                                            "(a disruption with dates, a lock's "
                                            "maintenance; 0 without one)"),
    col("transit_event_open_mean_h", "h", label="door-to-door hours of those lots, those "
                                                "still on the way at the end counted at "
                                                "their age then (a lower bound: what a "
                                                "closure that never clears costs them): what "
                                                "route choice learns for those days"),
    col("foreseen_event_open_mean_h", "h", label="queueing the congestion picture showed "
                                                 "those lots at booking"),
    col("offered_share", "share", label="share of the flow's TEU booked while the route was "
                                        "offered (not queued beyond max_excess_wait_hours)")))
LEGS = Table("legs", ("route", "leg"), (
    col("route", "index", label="route number (routes.csv route)"),
    col("leg", "index", label="leg of the route, from 0 at its origin"),
    col("service", TEXT, label="service ridden on the leg"),
    col("line", TEXT, label="service line ridden: the service in one running direction "
                            "(lines.csv line)"),
    col("board", TEXT, label="hub where the lots board"),
    col("alight", TEXT, label="hub where they alight"),
    col("teu", "TEU", "year", "TEU that rode the leg (alighted in the statistics period)"),
    col("ride_mean_h", "h", label="boarding to alighting"),
    col("door_mean_h", "h", label="the shipper's hand-over at the route's origin to alighting")))
TIMESERIES = Table("timeseries", ("week", "corridor"), (
    col("week", "week", label="week of the horizon, from 0"),
    col("corridor", TEXT, label="corridor, as corridors.csv names it"),
    col("teu", "TEU", "week", "TEU delivered in the week, every box, empties included"),
    col("days", "days", label="days of the week inside the statistics period: 7, fewer in the "
                              "week the warm-up ends and the one the horizon ends (their TEU "
                              "are of those days only)", fixed=True)))
GATEWAYS = Table("gateways", ("gateway", "flow_class"), (
    col("gateway", TEXT, label="gateway of the route (a corridor for flows outside the "
                               "market)"),
    col("flow_class", TEXT, label=_FLOW_CLASS),
    col("label", TEXT, label="what the gateway is, as the scenario's market.gateways labels it"),
    col("teu", "TEU", "year", "TEU delivered (empty boxes on the rows of flow class empty)"),
    col("trade_bn_cny", "bn CNY", "year", "Chongqing's trade carried through the gateway "
                                           "(declared: left their origin in the period; "
                                           "trade class)"),
    col("value_bn_cny", "bn CNY", "year", "value of the goods delivered, every class")))
MARKETS = Table("markets", ("market", "direction", "gateway"), (
    col("market", TEXT, label="partner market, as the scenario's market table names it"),
    col("direction", TEXT, label="export (from the Chongqing zone) or import"),
    col("gateway", TEXT, label="gateway the market's trade goes through"),
    col("label", TEXT, label="what the market is, as the scenario's market.labels names it"),
    col("teu", "TEU", "year", "loaded TEU delivered"),
    col("trade_bn_cny", "bn CNY", "year", "trade carried on the simulated channels "
                                           "(declared: left the origin in the period)"),
    col("share", "share", label="share of the market's trade in this direction")))
CONSERVATION = Table("conservation", (), (
    col("created_teu", "TEU", "horizon", "TEU created over the whole horizon, warm-up "
                                         "included"),
    col("delivered_teu", "TEU", "horizon", "TEU delivered over the whole horizon"),
    col("in_transit_teu", "TEU", label="on vehicles at the end"),
    col("waiting_teu", "TEU", label="at hubs and in queues at the end"),
    col("residual_teu", "TEU", label="created - delivered - in transit - waiting")))

def corridors_table() -> Table:
    """The corridors table: one column per KPI declared (`sim.kpis`)."""
    return Table("corridors", ("corridor",), (
        col("corridor", TEXT, label="corridor (east, west, south, north, air, coastal; feeder "
                                    "where a route rides feeders alone): routes.csv corridor "
                                    "says which routes count for it"), *kpis()))


@dataclass
class ReplicationResult:
    """Tidy tables of one replication, plus its conservation balance."""

    replication: int
    tables: dict[str, pd.DataFrame]
    conservation: dict[str, float]
    events: dict[str, float] = field(default_factory=dict)
    equilibrium: dict[str, object] = field(default_factory=dict)  # its settling (sim.equilibrium)
    # the market state it ran with, before and after each feedback pass (the last: settled)
    market_passes: MarketPasses = ()


class Recorder:
    """Collects deliveries lot by lot into typed arrays; builds the tables at the end."""

    def __init__(self, plan: Plan, choices: Sequence[ChoiceSet], stats_from: float,
                 until: Mapping[EventKey, float] | None = None) -> None:
        self.plan = plan
        self.stats_from = stats_from
        self.routes = {r.index: (cs.flow, r) for cs in choices for r in cs.routes}
        self.position = {r.index: k for cs in choices for k, r in enumerate(cs.routes)}
        # per flow: TEU booked under each pattern of its routes offered (True: offered)
        self.bookings: dict[int, dict[tuple[bool, ...], float]] = {
            cs.flow: {} for cs in choices}
        n = max(self.routes, default=-1) + 1
        # per route index, summed lot by lot: lists, whose items compiled code adds to as C
        # doubles (a numpy array's item is a Python index, add and store, ~15 times dearer;
        # the sums are the same IEEE additions)
        self.route_created: list[float] = [0.0] * n
        # of the lots booked in the statistics period (a cohort, followed to the end): TEU x
        # hour booked, and of those delivered, TEU, TEU x hour booked and TEU-hours door to
        # door; the ones still on the way at the end are the difference (`open_mean`)
        self.route_created_at: list[float] = [0.0] * n
        self.cohort_done: list[float] = [0.0] * n
        self.cohort_done_at: list[float] = [0.0] * n
        self.cohort_done_h: list[float] = [0.0] * n
        self.route_departed: list[float] = [0.0] * n    # TEU that boarded their first vehicle
        self.route_delivered: list[float] = [0.0] * n
        self.route_transit: list[float] = [0.0] * n     # TEU-hours door to door, for the mean
        self.route_foreseen: list[float] = [0.0] * n    # TEU-hours of queueing seen at booking
        # the hours of each route's dated events, their backlogs included (`until`;
        # `sim.routing.dated_spans`; routes with none left out), and per route the
        # delivered TEU, TEU-hours door to door and TEU-hours foreseen of the lots whose
        # journeys met none ("usual"; in a plan without events, every lot)
        self.spans = {r.index: spans for cs in choices for r in cs.routes
                      if (spans := dated_spans(plan, r, until))} if (
            choices and plan.network.dated_spans()) else {}
        self.usual = np.zeros((3, n))
        # per route, of the lots booked on it in the statistics period inside its events:
        # [TEU, TEU x hour booked, TEU-hours foreseen at booking], and of those delivered,
        # [TEU, TEU x hour booked, TEU-hours door to door]: the ones still on the way at the
        # end are the difference
        self.event_booked = np.zeros((3, n))
        self.event_done = np.zeros((3, n))
        self.route_ids = array("i")
        self.usual_lot = array("b")     # per delivered lot: 1 if its journey met no event
        self.teu = array("d")
        self.transit = array("d")
        self.wait = array("d")
        self.at = array("d")
        # their `append`s bound once: compiled, a call of the bound method each, where
        # `self.teu.append(x)` looks the method up on the array's type at every lot
        self._add_route, self._add_usual = self.route_ids.append, self.usual_lot.append
        self._add_teu, self._add_transit = self.teu.append, self.transit.append
        self._add_wait, self._add_at = self.wait.append, self.at.append
        # (route, leg) -> [TEU, TEU-h on board, TEU-h since the hand-over at the origin]
        self.rides: dict[tuple[int, int], list[float]] = {}

    def created(self, lot: Lot, offered: tuple[bool, ...]) -> None:
        """A lot is booked on its route, when the flow's routes marked in `offered` were."""
        if lot.created >= self.stats_from:
            idx: int = lot.path.index
            sums = self.route_created
            sums[idx] = sums[idx] + lot.teu
            at = self.route_created_at
            at[idx] = at[idx] + lot.teu * lot.created
            booked = self.bookings[lot.flow]
            booked[offered] = booked.get(offered, 0.0) + lot.teu
            if self.spans and inside(self.spans.get(idx, ()), lot.created):
                booked_in = self.event_booked
                booked_in[0, idx] += lot.teu
                booked_in[1, idx] += lot.teu * lot.created
                booked_in[2, idx] += lot.teu * lot.foreseen

    def departed(self, lot: Lot, now: float) -> None:
        """A lot boards the first vehicle of its route: it leaves its origin (is declared)."""
        if now >= self.stats_from:
            idx: int = lot.path.index
            sums = self.route_departed
            sums[idx] = sums[idx] + lot.teu

    def rode(self, lot: Lot, now: float) -> None:
        """A lot alights from the vehicle of its current leg: count its time on board."""
        if now < self.stats_from:
            return
        key = (lot.path.index, lot.leg)
        acc = self.rides.get(key)
        if acc is None:     # not setdefault: that builds the default list at every call
            acc = self.rides[key] = [0.0, 0.0, 0.0]
        acc[0] = acc[0] + lot.teu      # not +=: that adds as Python objects, compiled
        acc[1] = acc[1] + lot.teu * (now - lot.boarded)
        acc[2] = acc[2] + lot.teu * (now - lot.created)

    def delivered(self, lot: Lot, now: float) -> None:
        """A lot reaches its route's destination at hour `now`: in the statistics period,
        add its TEU and door-to-door hours to its route's sums (its cohort's too, if booked
        in the period; the usual or event sums, where the route has dated events) and keep
        its record for the corridor, gateway, market and weekly tables (`_lots`)."""
        if now < self.stats_from:
            return
        idx: int = lot.path.index
        teu, transit, foreseen = self.route_delivered, self.route_transit, self.route_foreseen
        teu[idx] = teu[idx] + lot.teu
        transit[idx] = transit[idx] + lot.teu * (now - lot.created)
        foreseen[idx] = foreseen[idx] + lot.teu * lot.foreseen
        if lot.created >= self.stats_from:     # of the cohort `created` counts
            got, got_at, got_h = self.cohort_done, self.cohort_done_at, self.cohort_done_h
            got[idx] = got[idx] + lot.teu
            got_at[idx] = got_at[idx] + lot.teu * lot.created
            got_h[idx] = got_h[idx] + lot.teu * (now - lot.created)
        if self.spans:
            spans = self.spans.get(idx, ())
            booked_in = inside(spans, lot.created)
            usual = not booked_in and not meets(spans, lot.created, now)
            self._add_usual(usual)
            if usual:
                acc = self.usual
                acc[0, idx] += lot.teu
                acc[1, idx] += lot.teu * (now - lot.created)
                acc[2, idx] += lot.teu * lot.foreseen
            elif booked_in and lot.created >= self.stats_from:   # as `event_booked` counts
                done = self.event_done
                done[0, idx] += lot.teu
                done[1, idx] += lot.teu * lot.created
                done[2, idx] += lot.teu * (now - lot.created)
        self._add_route(idx)
        self._add_teu(lot.teu)
        self._add_transit(now - lot.created)
        self._add_wait(lot.wait)
        self._add_at(now)

    # ------------------------------------------------------------------ tables
    def _spreads(self, usual: bool = False) -> tuple[dict[int, float], dict[int, float]]:
        """95th percentile of door-to-door hours of the lots delivered per route, and their
        standard deviation (TEU-weighted, as the mean); `usual`: of the lots whose journeys
        met no dated event."""
        ids = np.frombuffer(self.route_ids, dtype=np.int32)
        transit, teus = np.asarray(self.transit), np.asarray(self.teu)
        if usual and self.spans:
            keep = np.frombuffer(self.usual_lot, dtype=np.int8).astype(bool)
            ids, transit, teus = ids[keep], transit[keep], teus[keep]
        if not len(ids):
            return {}, {}
        order = np.argsort(ids, kind="stable")
        keys, starts = np.unique(ids[order], return_index=True)
        hours = np.split(transit[order], starts[1:])
        teu = np.split(teus[order], starts[1:])
        top = _p95(transit[np.lexsort((transit, ids))], starts)
        p95, sd = {}, {}
        for k, h, w, q in zip(keys, hours, teu, top, strict=True):
            # np.average(h, weights=w) as numpy computes it, without its checks (about
            # 1,600 routes a replication; every lot's TEU is above 0)
            total = w.sum()
            mean = float(np.multiply(h, w).sum() / total)
            p95[int(k)] = float(q)
            sd[int(k)] = float(np.sqrt(np.multiply((h - mean) ** 2, w).sum() / total))
        return p95, sd

    def _offered(self, idx: int) -> float:
        """Share of its flow's TEU booked while route `idx` was offered (NaN: none booked)."""
        fi, _ = self.routes[idx]
        k = self.position[idx]
        booked = self.bookings[fi]
        total = sum(booked.values())
        return sum(t for pattern, t in booked.items() if pattern[k]) / total if total else np.nan

    def _route_table(self, end: float) -> list[Row]:
        plan = self.plan
        p95, sd = self._spreads()
        # the usual lots' sums (TEU, TEU-hours door to door, foreseen): every lot's without
        # dated events
        usual = self.usual if self.spans else np.vstack(
            (self.route_delivered, self.route_transit, self.route_foreseen))
        usual_sd = self._spreads(usual=True)[1] if self.spans else sd
        rows = []
        for idx, (fi, route) in sorted(self.routes.items()):
            flow = plan.flows[fi]
            rows.append({
                "route": idx, "origin": flow.origin, "destination": flow.destination,
                "commodity": flow.commodity, "corridor": route.corridor,
                "gateway": route.gateway, "flow_class": flow.flow_class, "market": flow.market,
                "path": " > ".join(route.hubs),
                "services": " > ".join(plan.network.lines[leg.line].service for leg in route.legs),
                "km": route.km, "price_cny_per_teu": route.price_cny,
                "base_h": route.base_hours,
                "teu_created": self.route_created[idx],
                "teu_departed": self.route_departed[idx],
                "teu_delivered": self.route_delivered[idx],
                "transit_mean_h": (self.route_transit[idx] / self.route_delivered[idx]
                                   if self.route_delivered[idx] > 0 else np.nan),
                "transit_p95_h": p95.get(idx, np.nan),
                "transit_sd_h": sd.get(idx, np.nan),
                "foreseen_mean_h": (self.route_foreseen[idx] / self.route_delivered[idx]
                                    if self.route_delivered[idx] > 0 else np.nan),
                "offered_share": self._offered(idx)})
            teu, transit, foreseen = usual[:, idx]
            rows[-1].update({"transit_usual_mean_h": transit / teu if teu > 0 else np.nan,
                             "foreseen_usual_mean_h": foreseen / teu if teu > 0 else np.nan,
                             "teu_usual_delivered": teu,
                             "transit_usual_sd_h": usual_sd.get(idx, np.nan),
                             "teu_event_created": self.event_booked[0, idx],
                             "transit_event_open_mean_h": self._event_open_mean(idx, end),
                             "foreseen_event_open_mean_h": (
                                 self.event_booked[2, idx] / self.event_booked[0, idx]
                                 if self.event_booked[0, idx] > 0 else np.nan)})
        return rows

    def _event_open_mean(self, idx: int, end: float) -> float:
        """Mean door-to-door hours of the lots booked on route `idx` in its dated events in
        the statistics period, those not delivered by `end` at their age then (NaN: none)."""
        booked, done = self.event_booked[:, idx], self.event_done[:, idx]
        return open_mean(booked[0], booked[1], done[0], done[1], done[2], end)

    def _leg_table(self) -> list[Row]:
        """Time on board per leg of every route (boarding to alighting, stops and borders
        passed on the way included): the measured counterpart of published leg times."""
        net = self.plan.network
        rows = []
        for (idx, k), (teu, teu_h, door_h) in sorted(self.rides.items()):
            leg = self.routes[idx][1].legs[k]
            line = net.lines[leg.line]
            rows.append({"route": idx, "leg": k, "service": line.service, "line": line.id,
                         "board": line.stops[leg.board], "alight": line.stops[leg.alight],
                         "teu": teu, "ride_mean_h": teu_h / teu if teu > 0 else np.nan,
                         "door_mean_h": door_h / teu if teu > 0 else np.nan})
        return rows

    def _per_route(self) -> dict[str, np.ndarray]:
        """Per route index: labels (corridor, gateway, flow class, market, direction), the
        value and the trade value per TEU (the value when the flow is Chongqing's trade and
        touches no `trade.excluded_hubs`, else 0) and kg CO2 per TEU."""
        plan = self.plan
        n = len(self.routes)
        flows = [plan.flows[self.routes[i][0]] for i in range(n)]
        value = np.array([plan.classes[f.commodity].value_cny_per_teu for f in flows])
        return {
            "corridor": np.array([self.routes[i][1].corridor for i in range(n)], dtype=object),
            "gateway": np.array([self.routes[i][1].gateway for i in range(n)], dtype=object),
            "flow_class": np.array([f.flow_class for f in flows], dtype=object),
            "market": np.array([f.market for f in flows], dtype=object),
            "direction": np.array([_direction(plan, f.origin) for f in flows], dtype=object),
            "value": value,
            "trade": np.array([plan.trade_cny_per_teu(f.commodity, f.flow_class, f.origin,
                                                      f.destination) for f in flows]),
            "co2": np.array([plan.classes[f.commodity].tonnes_per_teu
                             * self.routes[i][1].co2_kg_per_t / 1000.0
                             for i, f in enumerate(flows)])}

    def _lots(self, per: dict[str, np.ndarray]) -> pd.DataFrame:
        """One row a lot delivered in the statistics period."""
        ids = np.frombuffer(self.route_ids, dtype=np.int32) if len(self.route_ids) else \
            np.zeros(0, dtype=np.int32)
        teu = np.asarray(self.teu)
        labels = ("gateway", "flow_class", "market", "direction", "corridor")
        return pd.DataFrame({
            **{k: per[k][ids] if ids.size else np.array([], dtype=object) for k in labels},
            "teu": teu,
            "value_cny": teu * (per["value"][ids] if ids.size else 0.0),
            "co2_t": teu * (per["co2"][ids] if ids.size else 0.0),
            "transit_h": np.asarray(self.transit), "wait_h": np.asarray(self.wait),
            "at_h": np.asarray(self.at)})

    def _declared(self, per: dict[str, np.ndarray]) -> pd.DataFrame:
        """Trade declared per route: the TEU that left their origin (boarded the first vehicle
        of their route) in the statistics period x the trade value. Customs count a shipment
        when it is declared, at departure, not when it arrives: counted so, trade does not
        depend on which lots of the last weeks happen to be delivered before the horizon (a
        40-TEU lot of laptops is 0.23 bn CNY), while boxes that cannot leave (a backlog at
        their origin) are not counted."""
        n = len(self.routes)
        frame = pd.DataFrame({k: per[k] for k in ("corridor", "gateway", "flow_class",
                                                   "market", "direction")})
        return frame.assign(trade_cny=np.asarray(self.route_departed[:n]) * per["trade"])

    def _corridor_table(self, lots: pd.DataFrame, declared: pd.DataFrame,
                        end: float) -> list[Row]:
        """Every KPI (`sim.kpis`) per corridor, the channels and gateways of CORRIDORS first;
        trade as declared (`_declared`); the TEU booked in the period and their transit,
        those still on the way at `end` at their age then (`open_mean`): a corridor whose
        freight was all stranded has a row too."""
        n = len(self.routes)
        cohort = pd.DataFrame({
            "corridor": declared["corridor"], "booked": self.route_created[:n],
            "booked_at": self.route_created_at[:n], "done": self.cohort_done[:n],
            "done_at": self.cohort_done_at[:n], "done_h": self.cohort_done_h[:n]}
        ).groupby("corridor").sum()
        names = list(CORRIDORS) + sorted((set(lots["corridor"].unique()) | set(
            declared.loc[declared["trade_cny"] > 0, "corridor"])
            | set(cohort.index[cohort["booked"] > 0])) - set(CORRIDORS))
        trade = declared.groupby("corridor")["trade_cny"].sum()
        by_corridor: dict = cohort.to_dict("index")
        rows = []
        for name in names:
            sums = by_corridor.get(name)
            rows.append({"corridor": name, **corridor_row(lots[lots["corridor"] == name], {
                "trade_bn_cny": float(trade.get(name, 0.0)) / CNY_PER_BN,
                "teu_created": 0.0 if sums is None else float(sums["booked"]),
                "transit_open_mean_h": float("nan") if sums is None else open_mean(
                    float(sums["booked"]), float(sums["booked_at"]), float(sums["done"]),
                    float(sums["done_at"]), float(sums["done_h"]), end)})})
        return rows

    def _gateway_table(self, lots: pd.DataFrame, declared: pd.DataFrame) -> list[Row]:
        """TEU delivered, trade declared and value delivered per gateway and flow class (every
        candidate, zeros included; the boxes of flow class `empty` are empty TEU). A flow of
        no market row (written in, or added by add_flow; every flow without a market
        section) counts for its route's corridor, labelled so."""
        plan = self.plan
        keys = dict.fromkeys((r.gateway, plan.flows[fi].flow_class)
                             for fi, r in self.routes.values())
        sums: dict = lots.groupby(["gateway", "flow_class"])[
            ["teu", "value_cny"]].sum().to_dict("index")
        trade = declared.groupby(["gateway", "flow_class"])["trade_cny"].sum()
        zero = {"teu": 0.0, "value_cny": 0.0}
        named = plan.market.section.gateways if plan.market is not None else {}
        return [{"gateway": g, "flow_class": fc,
                 "label": named[g].label if g in named else f"{g} corridor" + (
                     " (flows of no market row)" if named else ""),
                 "teu": float(got["teu"]),
                 "trade_bn_cny": float(trade.get((g, fc), 0.0)) / CNY_PER_BN,
                 "value_bn_cny": float(got["value_cny"]) / CNY_PER_BN}
                for g, fc in sorted(keys) for got in (sums.get((g, fc), zero),)]

    def _market_table(self, lots: pd.DataFrame, declared: pd.DataFrame) -> list[Row]:
        """TEU delivered, trade declared and share of each market's trade per direction and
        gateway."""
        plan = self.plan
        keys = sorted({(plan.flows[fi].market, _direction(plan, plan.flows[fi].origin),
                        r.gateway) for fi, r in self.routes.values()
                       if plan.flows[fi].market})
        teu = lots[lots["market"] != ""].groupby(["market", "direction", "gateway"])["teu"].sum()
        market = declared[declared["market"] != ""]
        trade = market.groupby(["market", "direction", "gateway"])["trade_cny"].sum()
        totals = market.groupby(["market", "direction"])["trade_cny"].sum()
        labels = plan.market.section.labels if plan.market is not None else {}
        rows: list[Row] = []
        for key in keys:
            got = float(trade.get(key, 0.0))
            total = float(totals.get(key[:2], 0.0))
            rows.append({"market": key[0], "direction": key[1], "gateway": key[2],
                         "label": labels.get(key[0], ""),
                         "teu": float(teu.get(key, 0.0)), "trade_bn_cny": got / CNY_PER_BN,
                         "share": got / total if total > 0 else np.nan})
        return rows

    def _timeseries(self, lots: pd.DataFrame, end: float) -> list[Row]:
        week = (lots["at_h"] // HOURS_PER_WEEK).astype(int)
        ts = lots.assign(week=week).groupby(["week", "corridor"], as_index=False)["teu"].sum()
        start = np.maximum(ts["week"] * HOURS_PER_WEEK, self.stats_from)
        stop = np.minimum((ts["week"] + 1) * HOURS_PER_WEEK, end)
        ts["days"] = ((stop - start) / HOURS_PER_DAY).round(6)
        return ts.to_dict("records")  # type: ignore[call-overload,unused-ignore]

    def result(self, model: Model, conservation: dict[str, float], end: float,
               only: Collection[str] | None = None) -> ReplicationResult:
        """Every table of this replication (or those named in `only`): the recorder's own
        (corridors, routes, legs, timeseries, conservation) and the rows every component
        writes (hubs, lines, links, locks, checks and whatever else a registered kind
        declares)."""
        def wanted(name: str) -> bool:
            return only is None or name in only

        period = end - self.stats_from
        rows: dict[str, list[Row]] = {}
        if any(map(wanted, ("corridors", "timeseries", "gateways", "markets"))):
            per = self._per_route()
            lots, declared = self._lots(per), self._declared(per)
            rows.update({
                "corridors": self._corridor_table(lots, declared, end),
                "timeseries": self._timeseries(lots, end),
                "gateways": self._gateway_table(lots, declared),
                "markets": self._market_table(lots, declared)})
        if wanted("routes"):
            rows["routes"] = self._route_table(end)
        if wanted("legs"):
            rows["legs"] = self._leg_table()
        rows["conservation"] = [conservation]
        written = [t.name for t in component_tables()]
        parts: dict[str, list[Row]] = {name: [] for name in written if wanted(name)}
        if parts:
            rows.update(parts)
            for part in model.components:
                for table, row in part.rows(period, end):
                    if table in parts:
                        parts[table].append(row)
                    elif table not in written:   # a recorder table's name, or a typo
                        raise _undeclared(type(part), table, written)
        per_year = annual_factor(self.plan.horizon)
        tables = {t.name: t.frame(rows[t.name], per_year) for t in all_tables()
                  if wanted(t.name)}
        return ReplicationResult(replication=model.replication, tables=tables,
                                 conservation=conservation)


def open_mean(booked: float, booked_at: float, done: float, done_at: float, done_h: float,
              end: float) -> float:
    """Mean door-to-door hours of a cohort of lots followed to `end`: `booked` TEU, booked
    at TEU x hour `booked_at` in all; of them `done` TEU delivered, booked at `done_at`, in
    `done_h` TEU-hours door to door. The lots still on the way at `end` count at their age
    then, so the mean is a lower bound of the cohort's transit that a lot stranded longer
    only raises (its counted hours, min(its transit, its age at `end`), never fall as its
    transit grows). NaN when nothing was booked. The one reading of routes.csv's
    `transit_event_open_mean_h` and of the corridors' `transit_open_mean_h`."""
    if booked <= 0:
        return float("nan")
    still = booked - done
    age = still * end - (booked_at - done_at)    # their hours since booking, summed
    return float((done_h + max(0.0, age)) / booked)


def _p95(ranked: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """`np.percentile(h, 95)` of each group of `ranked` (groups one after the other from
    `starts`, each sorted) at once, computed as numpy computes it one group at a time (its
    "linear" method: the virtual index (n - 1) x 0.95 into the sorted values, then `_lerp`,
    which interpolates from the upper neighbour when the fraction is 0.5 or more), so the
    same doubles: per group, numpy's call costs about 300,000 instructions. A group with a
    NaN (sorted last) gives that NaN, as numpy does: a lot's hours are never NaN, but were
    they, the table would say so, as its means do, not show a plausible percentile."""
    counts = np.diff(np.append(starts, len(ranked)))
    virtual = (counts - 1) * 0.95
    below = np.floor(virtual).astype(np.intp)
    t = virtual - below
    a = ranked[starts + below]
    b = ranked[starts + np.minimum(below + 1, counts - 1)]
    diff = b - a
    last = ranked[starts + counts - 1]
    return np.where(np.isnan(last), last, np.where(t >= 0.5, b - diff * (1 - t), a + diff * t))


def component_tables(built_in: bool | None = None) -> tuple[Table, ...]:
    """The tables component kinds write, in registration order, each once; `built_in` True
    or False: only those of the kinds cqsim ships (`sim.components.BUILT_IN`) or of the
    others. InputError naming the kind's module and class when its table takes the name of
    a recorder table or of another kind's table declared otherwise (`_clash`): the first
    declaration used to win silently, and the rows of both went into one table."""
    own = {t.name for t in _recorder_tables()}
    seen: dict[str, tuple[Table, type]] = {}
    chosen: dict[str, Table] = {}
    for kind in kinds():
        cls = kind.runtime_class()
        for table in getattr(cls, "tables", ()):
            first = seen.setdefault(table.name, (table, cls))
            if table.name in own or first[0] != table:
                raise _clash(cls, table, None if table.name in own else first[1])
            if built_in is None or (kind.name in BUILT_IN) == built_in:
                chosen.setdefault(table.name, table)
    return tuple(chosen.values())


def _undeclared(cls: type, table: str, declared: Sequence[str]) -> InputError:
    """The error of a component's rows for a table no kind declares: they went into a
    recorder table of that name (routes) or were dropped (a misspelt name)."""
    return InputError(f"module {cls.__module__}", f"{cls.__qualname__}.rows",
                      f"rows of a table a kind declares in its `tables` "
                      f"({', '.join(declared)})", table)


def _clash(cls: type, table: Table, other: type | None) -> InputError:
    """The error of a kind's table named as a recorder table (`other` None) or as another
    kind's table with other keys or columns (`other`, the class that declared it first)."""
    whose = "the recorder's own table (sim.engine.recorder)" if other is None else \
        f"declared by {other.__module__}.{other.__qualname__} with other keys or columns"
    return InputError(f"module {cls.__module__}", f"{cls.__qualname__}.tables",
                      f"a table name of its own ({table.name!r} is {whose}; a kind built on "
                      "Hub keeps Hub's tables and names its own table apart)", table.name)


def all_tables() -> tuple[Table, ...]:
    """Every result table of a replication: the recorder's, then the components'."""
    return (*_recorder_tables(), *component_tables())


def _recorder_tables() -> tuple[Table, ...]:
    return (corridors_table(), ROUTES, LEGS, TIMESERIES, GATEWAYS, MARKETS, CONSERVATION)


def shipped_tables() -> tuple[Table, ...]:
    """The result tables of cqsim's own: the recorder's and those of the kinds it ships."""
    return (*_recorder_tables(), *component_tables(built_in=True))


def added_tables() -> tuple[Table, ...]:
    """The tables of the kinds registered in this process besides cqsim's (an extension's,
    docs/architecture.md "Worked example"), none of cqsim's own (a kind built on `Hub` writes
    the hubs table too): what the report's section of added kinds' tables shows."""
    shipped = {t.name for t in shipped_tables()}
    return tuple(t for t in component_tables(built_in=False) if t.name not in shipped)


def _direction(plan: Plan, origin: str) -> str:
    """export when a flow leaves the market model's Chongqing zone, import when it arrives
    there, '' outside the market model."""
    if plan.market is None:
        return ""
    return "export" if origin == plan.market.section.origin else "import"
