"""Feed the delays the simulation produced back into route choice and demand (method of
successive averages), until route flows settle.

Pass n simulates replication 0 (horizon `equilibrium.days`, at most the scenario's) with the
current learnt delay per route; the observed extra delay of each route (mean door-to-door
transit minus its uncongested `base_hours`, floored at 0) updates the learnt delay by MSA
over the route's own observations,

    d_k = d_(k-1) + (observed_k - d_(k-1)) / k,

k the number of passes so far in which the route delivered a lot (`_seen`): d is the mean of
the delays it met. A route that delivered nothing in a pass brings no news and keeps its
estimate; one first used in a later pass learns what it met in full (a step of 1/n, n the
pass, would average it with the cold start's 0: a route first used in pass 2 would learn half
its delay). Demand is re-derived from the generalized costs including d
(`sim.demand`). The gap is the sum over routes of the change of their TEU between
consecutive passes over the total (a box moved from one route to another counts twice);
iteration stops when it falls below `equilibrium.tolerance` (once
`equilibrium.min_iterations` passes have run) or after `equilibrium.max_iterations` passes.
The flows can stop moving while the delays planned on still differ from those met (under
MSA the steps shrink as 1/k whether or not they agree), so each pass also gives the delay
gap, sum TEU |observed - assumed| / sum TEU observed over the routes that delivered lots,
assumed the delay the route had learnt before the pass (`_delay_gap`): 1.0 on a first pass
from a cold start, toward 0 as the delays assumed and produced agree.
Passes use the scenario's seed, so the result is deterministic.

Route choice in the run sees the queues live (the congestion picture at booking: backlogs
at boarding, the locks' queues), so it must not be handed d whole, or it would count the
waits it sees twice. The passes also learn, by the same MSA, the part of d that the picture
did not foresee, u = observed - (mean hours the picture showed at booking, over the route's
delivered lots), over the same passes as d, and route choice adds u to the picture in the
passes and the run: its expected cost of a route is then d, the cost the logsums of demand
are taken at.

A dated event (a disruption with dates, a lock's maintenance: `sim.routing.dated_spans`) is
learnt for its own days: the lots booked while one is in force on their route (those still
on the way at a pass's end at their age then) give `route_unforeseen_event`, what route
choice adds to that route in those hours only; the lots whose journeys met none give the
usual delay, its unforeseen part and the spread, so route choice on the rest of the year
does not answer to a closure; the lots caught by one they were booked before count in
neither. The year's demand answers to the year's access: each route's usual delay and its
events' weighed by their share of the route's bookings (`year_blend`), and the share of the
whole period's bookings at which it was offered. An event at a hub or a lock lasts, for
this, until the backlog it left has cleared (`_aftermath`, read from the pass's daily
queues).
Without dated events every lot is usual.

A route queued beyond `routing.max_excess_wait_hours` is not offered to the lots booked then
(a capacity that binds rations it). The passes learn, by MSA over the passes in which the
route's flow booked lots (a pass in which it booked none says nothing of it), the share of
each flow's bookings at which each of its routes was offered (1, offered, before any such
pass), and the market logsums weigh each route by it (implicit availability,
`sim.demand.market_choice`): relieving a binding capacity makes its routes available more
often, which the logsum, and so the trade induced, sees.

The passes of one replication's streams are a single draw: the delays they learn, and the
trade the logsums then induce, carry its noise (on baseline-2023 the trade induced by the
ILSTC expansion came out -0.20, +0.05, -0.04 and +0.75 bn CNY/yr with four seeds). With
`equilibrium.per_replication`, replication r runs its own passes on its own streams
(`for_replication`), so that noise is in the spread over replications and in every
confidence interval; otherwise every replication runs with what replication 0's passes
learnt, and intervals are conditional on them. A market reference is settled the same way
(`market_reference`), over the plan's own pass horizon (a year's delays and a winter's
must not be compared), unless a comparison's base run already settled the very plan it asks
for (`settles_reference_of`): the alternative then takes the base's settled state. A plan
settling against a reference meets it pass by pass: each pass's demand answers to the
reference's state after the same pass (`Settled.market_passes`), it runs as many passes as
the reference ran on the same streams (`pass_range`), and the reference settles with the
plan's feedback settings as with its choice parameters, so a plan that changes nothing
retraces the reference's passes (`settle`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import cast

import numpy as np
import pandas as pd

from sim import cache
from sim.demand import (
    MarketPasses,
    MarketRef,
    demand_factors,
    file_plan,
    market_factors,
    market_state,
    plain_reference,
    reference_costs,
    reference_version,
    respond,
    same_candidates,
)
from sim.engine import simulate
from sim.engine.recorder import ReplicationResult
from sim.market.empties import with_empties
from sim.network import EventKey, Plan, revise, with_horizon_days
from sim.results import BY_MARKET
from sim.routing import ChoiceSet, choice_sets
from sim.specs import FlowKey
from sim.units import CNY_PER_BN, HOURS_PER_DAY


@dataclass(frozen=True)
class EquilibriumReport:
    """How the feedback went: passes run, whether flows settled, and the gaps seen."""

    passes: int
    converged: bool
    gap: float                       # last relative change of route TEU (NaN: not measured)
    gaps: tuple[float, ...]
    tolerance: float
    demand_factor_min: float
    demand_factor_max: float
    induced_teu_per_year: float      # sum over flows of (factor - 1) x base TEU
    # trade: the TEU and bn CNY a year of the trade flows before the response to cost (the
    # market table with any demand_growth, and trade flows written in or added, add_flow), and
    # what the market flows' logsum response adds (induced by cheaper access)
    market_input_teu_per_year: float = 0.0
    market_input_bn_cny_per_year: float = 0.0
    market_induced_teu_per_year: float = 0.0
    market_induced_bn_cny_per_year: float = 0.0
    # the same induced trade per market (both directions, every class): (market, TEU/yr,
    # bn CNY/yr), so a comparison can say which markets an expansion's trade came from
    market_induced_by_market: tuple[tuple[str, float, float], ...] = ()
    reference_from_base_run: bool = False   # market reference taken from a comparison's base
    # per pass, how far the delays met were from those planned on (`_delay_gap`; NaN: no
    # delay met), and the last pass's: whether the delays, not only the flows, settled
    delay_gap: float = float("nan")
    delay_gaps: tuple[float, ...] = ()

    def as_dict(self) -> dict[str, object]:
        """JSON-ready fields (NaN as None); `reference_from_base_run` only when true, so a
        run of one scenario reports what it always did."""
        def clean(x: float) -> float | None:
            return None if np.isnan(x) else round(float(x), 6)
        return {"passes": self.passes, "converged": self.converged, "gap": clean(self.gap),
                "gaps": [clean(g) for g in self.gaps], "tolerance": self.tolerance,
                "delay_gap": clean(self.delay_gap),
                "delay_gaps": [clean(g) for g in self.delay_gaps],
                "demand_factor_min": clean(self.demand_factor_min),
                "demand_factor_max": clean(self.demand_factor_max),
                "induced_teu_per_year": clean(self.induced_teu_per_year),
                "market_input_teu_per_year": clean(self.market_input_teu_per_year),
                "market_input_bn_cny_per_year": clean(self.market_input_bn_cny_per_year),
                "market_induced_teu_per_year": clean(self.market_induced_teu_per_year),
                "market_induced_bn_cny_per_year": clean(self.market_induced_bn_cny_per_year),
                **({BY_MARKET: {
                    m: {"teu_per_year": clean(teu), "bn_cny_per_year": clean(bn)}
                    for m, teu, bn in self.market_induced_by_market}}
                   if self.market_induced_by_market else {}),
                **({"reference_from_base_run": True} if self.reference_from_base_run else {})}


@dataclass(frozen=True)
class Settled:
    """A plan settled for replication: demand responded to cost, the candidate routes of every
    flow and the delay (and spread) per route index that route choice learnt from the
    feedback passes."""

    plan: Plan
    base: Plan                               # the plan before demand answered (to settle again)
    choices: tuple[ChoiceSet, ...]
    route_delay: dict[int, float]
    report: EquilibriumReport
    route_spread: dict[int, float] = field(default_factory=dict)
    # logsum and expected GC per market flow before the first feedback pass and after each
    # (the last is the settled state, `market`)
    market_passes: MarketPasses = ()
    market_reference: MarketRef | None = None          # the settled one on the reference
    initial_delay: Mapping[int, float] | None = None  # where the learning started
    replication: int = 0                    # whose random streams the passes ran on
    # per route index, the hours of `route_delay` that the congestion picture at booking did
    # not foresee: what the run's route choice adds to the picture (the rest it sees live)
    route_unforeseen: dict[int, float] = field(default_factory=dict)
    initial_unforeseen: Mapping[int, float] | None = None
    # the same, learnt from the lots booked while a dated event was in force: what route
    # choice adds in those hours (`Network.dated_spans`; empty without such events)
    route_unforeseen_event: dict[int, float] = field(default_factory=dict)
    # the hour each dated event at a hub or lock counts as over, by (kind, id, start hour):
    # when its backlog cleared (`_aftermath`); its hours to then count as the event's
    event_until: dict[EventKey, float] = field(default_factory=dict)
    # per route index, the share of its flow's bookings over the whole period (dated events
    # included) at which it was offered (not queued beyond the rebooking bound): the
    # availability the market logsums see
    route_offered: dict[int, float] = field(default_factory=dict)
    # the market reference's states per replication (`market_passes`), given (a comparison's
    # base run)
    given_reference: Mapping[int, MarketPasses] | None = None
    # per route index, the delay the year's demand answered to (`Learnt.for_demand`: the
    # usual delay, and its dated events' by their share of its bookings); `route_delay`
    # without dated events
    route_delay_demand: dict[int, float] = field(default_factory=dict)

    @property
    def market(self) -> MarketRef:
        """The settled logsum and expected GC per market flow (empty without a market)."""
        return self.market_passes[-1] if self.market_passes else {}


def pass_plan(plan: Plan) -> Plan:
    """`plan` over the horizon of its feedback passes (`equilibrium.days`, cut to its own)."""
    return with_horizon_days(plan, plan.equilibrium.pass_days(plan.horizon.days))


def route_flows(result: ReplicationResult, choices: Sequence[ChoiceSet]) -> np.ndarray:
    """TEU/yr booked on each route of `choices`, in their order (0 where none)."""
    routes = result.tables["routes"].set_index("route")
    index = [r.index for cs in choices for r in cs.routes]
    return routes["teu_created_per_year"].reindex(index).fillna(0.0).to_numpy()


def flow_gap(flows: np.ndarray, previous: np.ndarray) -> float:
    """The passes' gap: the sum over routes of the change of their TEU, over the previous
    total (a box moved from one route to another counts twice)."""
    return float(np.abs(flows - previous).sum() / max(previous.sum(), 1e-9))


def _report(base: Plan, factors: Sequence[float], passes: int, converged: bool,
            gaps: list[float], reused: bool = False,
            delay_gaps: Sequence[float] = ()) -> EquilibriumReport:
    induced = sum((k - 1.0) * f.teu_per_year for f, k in zip(base.flows, factors, strict=True))
    # the range of demand's response over the flows that answer to cost: empties are sized
    # to the loaded boxes afterwards (`with_empties`), and two lanes' empties between the
    # same hubs share one cost key, so their factors mean nothing (review60 #6)
    demand = [k for f, k in zip(base.flows, factors, strict=True) if f.flow_class != "empty"]
    # each trade flow's TEU at the trade it counts for (0 at trade.excluded_hubs), as the
    # recorder declares it
    trade = [(f, k, base.trade_cny_per_teu(f.commodity, f.flow_class, f.origin,
                                           f.destination) / CNY_PER_BN)
             for f, k in zip(base.flows, factors, strict=True) if f.flow_class == "trade"]
    market = [(f, k, v) for f, k, v in trade if f.market]
    by_market: dict[str, tuple[float, float]] = {}   # market -> induced (TEU/yr, bn CNY/yr)
    for f, k, v in market:
        teu, bn = by_market.get(str(f.market), (0.0, 0.0))
        by_market[str(f.market)] = (teu + (k - 1.0) * f.teu_per_year,
                                    bn + (k - 1.0) * f.teu_per_year * v)
    return EquilibriumReport(
        market_input_teu_per_year=sum(f.teu_per_year for f, _, _ in trade),
        market_input_bn_cny_per_year=sum(f.teu_per_year * v for f, _, v in trade),
        market_induced_teu_per_year=sum(teu for teu, _ in by_market.values()),
        market_induced_bn_cny_per_year=sum(bn for _, bn in by_market.values()),
        market_induced_by_market=tuple((m, teu, bn) for m, (teu, bn) in sorted(by_market.items())),
        passes=passes, converged=converged, gap=gaps[-1] if gaps else float("nan"),
        gaps=tuple(gaps), tolerance=base.equilibrium.tolerance,
        demand_factor_min=min(demand, default=1.0), demand_factor_max=max(demand, default=1.0),
        induced_teu_per_year=induced, reference_from_base_run=reused,
        delay_gap=delay_gaps[-1] if delay_gaps else float("nan"), delay_gaps=tuple(delay_gaps))


SHRINK_LOTS = 20   # lots of a route that weigh as much as its gateway's spread (shrinkage)


def _seen(counts: dict[int, int], i: int) -> int:
    """Count one more pass in which route `i` brought news of what `counts` counts (a lot
    delivered on usual days, one booked in a dated event, a booking of its flow) and return
    k, the number of such passes so far: the step 1/k of its running means (`_step`), so each
    is the mean of the route's own observations, whatever pass it was first observed in."""
    k = counts[i] = counts.get(i, 0) + 1
    return k


def _delay_gap(teu: np.ndarray, observed: np.ndarray, assumed: np.ndarray) -> float:
    """How far a pass's delays were from those it was planned on: sum TEU |observed -
    assumed| over sum TEU observed, over the routes that delivered lots (`observed` not
    NaN); NaN when they met no delay (nothing to be consistent about). AequilibraE's MSA
    stops on a relative gap of costs; this is the same question asked of the delays."""
    met = ~np.isnan(observed) & (teu > 0)
    total = float((teu[met] * observed[met]).sum())
    if total <= 0:
        return float("nan")
    return float((teu[met] * np.abs(observed[met] - assumed[met])).sum() / total)


def _step(old: float, observed: float, k: int) -> float:
    """MSA: the mean of k observations from the mean of the first k - 1 (`old`) and the k-th
    (`observed`); at k = 1 the observation alone (the cold or warm start is replaced)."""
    return old + (observed - old) / k


def _spreads(routes: pd.DataFrame, choices: Sequence[ChoiceSet], lot_teu: float,
             previous: dict[int, float], n: int) -> dict[int, float]:
    """Spread of transit (standard deviation, h: what a reliability ratio values) of every
    route, from a pass: its own, shrunk toward the TEU-weighted spread of its gateway by
    the weight TEU / (TEU + SHRINK_LOTS lots), so a route that delivered nothing in the pass
    takes its gateway's (0 where the gateway delivered nothing); averaged over every pass
    (MSA, step 1/n with n the pass, `previous` the mean of the first n - 1). Unlike the
    delays, averaged over the passes in which the route delivered (`_seen`), a route with no
    lot delivered is not left at its estimate: every pass observes every route's spread."""
    seen: dict[int, tuple[float, float]] = {}
    by_gateway: dict[str, list[float]] = {}
    # one dict per column: a row lookup (routes.loc) per route cost more than the pass's sums
    teus, sds = (routes[c].to_dict()
                 for c in ("teu_usual_delivered_per_year", "transit_usual_sd_h"))
    for cs in choices:
        for r in cs.routes:
            if r.index not in teus:
                continue
            teu, sd = float(teus[r.index]), float(sds[r.index])
            if teu > 0 and not np.isnan(sd):
                seen[r.index] = (teu, sd)
                acc = by_gateway.setdefault(r.gateway, [0.0, 0.0])
                acc[0] += teu
                acc[1] += teu * sd
    out = dict(previous)
    for cs in choices:
        for r in cs.routes:
            total = by_gateway.get(r.gateway)
            prior = total[1] / total[0] if total else 0.0
            teu, own = seen.get(r.index, (0.0, prior))
            w = teu / (teu + SHRINK_LOTS * lot_teu)
            observed = max(0.0, w * own + (1 - w) * prior)
            old = previous.get(r.index, 0.0)
            out[r.index] = _step(old, observed, n)
    return out


def _factors(base: Plan, choices: Sequence[ChoiceSet], mref: MarketRef | None,
             delay: dict[int, float], spread: dict[int, float], offered: dict[int, float]
             ) -> tuple[tuple[float, ...], MarketRef]:
    """Demand factor of every flow (elasticity for plain flows, logsum for market flows) and
    the market state (`market_state`), against the reference's state `mref` (plain flows:
    `_plain_reference`)."""
    reference = _plain_reference(base, choices, mref)
    factors = list(demand_factors(base, choices, reference, delay))
    state = market_state(base, choices, delay, spread, offered)
    for i, k in market_factors(base, state, mref).items():
        factors[i] = k
    return tuple(factors), state


@dataclass(frozen=True)
class Learnt:
    """What the feedback passes of one settling learnt (what `sim.cache` keeps): per route
    index the delay, its part the congestion picture did not foresee, the spread of transit
    and the share of bookings it was offered at; the passes run and their gaps."""

    delay: dict[int, float]
    unforeseen: dict[int, float]
    spread: dict[int, float]
    offered: dict[int, float]
    passes: int
    converged: bool
    gaps: tuple[float, ...]
    states: MarketPasses = ()   # the market state after each pass
    unforeseen_event: dict[int, float] = field(default_factory=dict)   # in dated events
    until: dict[EventKey, float] = field(default_factory=dict)   # their backlogs' ends
    # per route, the delay of the lots booked in its dated events (those still on the way
    # at a pass's end at their age then) and their share of the route's bookings: what the
    # year's demand weighs them by (`for_demand`)
    delay_event: dict[int, float] = field(default_factory=dict)
    event_share: dict[int, float] = field(default_factory=dict)
    delay_gaps: tuple[float, ...] = ()   # per pass, `_delay_gap`

    def for_demand(self) -> dict[int, float]:
        """The delay per route that demand and the market logsums answer to: the usual
        days' and, where a route was booked in its dated events, its events' weighed by
        their share of its bookings (`year_blend`)."""
        return year_blend(self.delay, self.delay_event, self.event_share)


def year_blend(usual: Mapping[int, float], event: Mapping[int, float],
               share: Mapping[int, float]) -> dict[int, float]:
    """Per route, (1 - s) x its usual value + s x its value in its dated events, s the share of
    the route's bookings made in them: a year's trade answers to the year's access, the
    delay a booking on the route meets as often as it meets it. The time the route was not
    offered (a closure queued beyond the rebooking bound) is the availability's part (the
    whole period's `offered_share`), so the delay is weighed by bookings, not by time, or an
    event would count twice. A closure of a week weighs little, one of the whole year is the
    year (with usual days alone it kept the route's cold start, no delay, and closing a port
    all year induced trade). A route with no lot learnt in its events keeps its usual
    value."""
    out = dict(usual)
    for i, s in share.items():
        if i in event:
            out[i] = (1.0 - s) * usual.get(i, 0.0) + s * event[i]
    return out


AFTERMATH_REFERENCE_DAYS = 28   # the days before an event whose queues are its usual range


def _aftermath(plan: Plan, tables: Mapping[str, pd.DataFrame], previous: Mapping[EventKey, float],
               n: int) -> dict[EventKey, float]:
    """The hour each dated event at a hub or a lock counts as over: the end of the first day
    ending at or after the event's end on which the part's queue (a hub's TEU, a lock's
    tonnes both ways; the daily series hold each day's queue at its end) was back within the
    range of the AFTERMATH_REFERENCE_DAYS days that ended by its start, or the end of the
    pass if it never was; averaged over the passes (MSA, step 1/n: every pass measures every
    such event). Other parts (a service, a link)
    keep no daily queue: their events end with their windows.

    assumption: back within its range of the four weeks before is back to usual (a queue
    that swings from day to day has no sharper level). An event with no day of the
    statistics period before it (in the warm-up, whose days are not kept) is not extended;
    another event in the four weeks before widens the range and so shortens this one."""
    hubs, locks = tables.get("hubs_daily"), tables.get("locks_daily")
    out = dict(previous)
    for kind, ident, start, end in plan.network.dated_windows():
        if kind == "hub" and hubs is not None:
            queue = hubs[hubs["hub"] == ident].set_index("day")["queue_teu"]
        elif kind == "lock" and locks is not None:
            queue = locks[locks["lock"] == ident].groupby("day")["queue_t"].sum()
        else:
            continue
        ends = (queue.index.to_numpy(dtype=float) + 1) * HOURS_PER_DAY   # each day's end, h
        before = queue[(ends <= start)
                       & (ends > start - AFTERMATH_REFERENCE_DAYS * HOURS_PER_DAY)]
        if before.empty:
            continue
        after = queue[ends >= end]
        # a running sum of waiting TEU or tonnes can leave a float's dust where none wait
        back = after[after <= before.max() + 1e-6]
        cleared = ((float(back.index[0]) + 1) * HOURS_PER_DAY if len(back)
                   else float(ends.max()))
        key = (kind, ident, start)
        old = previous.get(key, end)
        out[key] = _step(old, max(end, cleared), n)
    return out


def _at(refs: MarketPasses | None, n: int) -> MarketRef | None:
    """The reference's state after its pass `n` (0: before the first), or its settled state
    when it ran fewer passes; None when the plan is its own reference."""
    return None if refs is None else refs[min(n, len(refs) - 1)]


def pass_range(min_iterations: int, max_iterations: int, refs: MarketPasses | None
               ) -> tuple[int, int]:
    """The fewest and most feedback passes a settling runs: its settings', or, against a
    reference met pass by pass (a cold start), exactly the passes the reference ran on the
    same streams. The delays MSA learns are means over the passes, the cold start's surge
    among them, so a plan that ran more passes than its reference learnt lower delays and
    induced trade from nothing: a placebo whose four passes met a reference settled in
    three induced +0.051 +/- 0.012 bn CNY/yr (40 replications, 365 days), -0.005 +/- 0.013
    against one settled in four (2026-12-07)."""
    if refs is not None and len(refs) > 1:
        return len(refs) - 1, len(refs) - 1
    return min_iterations, max_iterations


def _passes(base: Plan, choices: tuple[ChoiceSet, ...], refs: MarketPasses | None,
            replication: int, initial_delay: Mapping[int, float],
            initial_unforeseen: Mapping[int, float], factors: tuple[float, ...]) -> Learnt:
    """The MSA feedback passes of `settle` on the streams of `replication`, from the demand
    factors `factors` that the initial delays give; after pass n, demand answers to the
    reference's state after its own pass n (`_at`), and the plan runs as many passes as the
    reference did (`pass_range`). Each route's running means step by 1/k, k the passes in
    which it was observed (`_seen`, one count per kind of observation)."""
    settings = base.equilibrium
    first, last = pass_range(settings.min_iterations, settings.max_iterations, refs)
    index = [r.index for cs in choices for r in cs.routes]
    base_hours = {r.index: r.base_hours for cs in choices for r in cs.routes}
    delay = {i: initial_delay.get(i, 0.0) for i in index}
    unforeseen = {i: initial_unforeseen.get(i, 0.0) for i in index}
    # per route, the passes in which it delivered a lot on usual days (its delay and their
    # unforeseen part), in which its flow booked lots (the share offered), in which it
    # delivered lots booked in dated events (their delay and unforeseen part) and in which
    # it was booked at all (the share of its bookings made in dated events): the counts k its
    # running means step by (`_seen`)
    seen_usual: dict[int, int] = {}
    seen_offered: dict[int, int] = {}
    seen_event: dict[int, int] = {}
    seen_share: dict[int, int] = {}
    # learnt from the lots booked in dated events
    unforeseen_event: dict[int, float] = {}
    delay_event: dict[int, float] = {}
    shares: dict[int, float] = {}
    until: dict[EventKey, float] = {}
    dated = bool(base.network.dated_spans())
    spread: dict[int, float] = {}
    offered: dict[int, float] = {}
    gaps: list[float] = []
    delay_gaps: list[float] = []
    base_h = np.array([base_hours[i] for i in index], dtype=float)
    states: list[MarketRef] = []
    converged = False
    passes = 0
    previous: np.ndarray | None = None
    demand_delay = dict(delay)      # what demand answers to: `year_blend` after each pass
    for n in range(1, last + 1):
        plan = pass_plan(with_empties(respond(base, factors), choices, demand_delay, spread,
                                      offered))
        result = simulate(plan, replication, choices, unforeseen, spread,
                          tables=("routes", "hubs_daily", "locks_daily") if dated else ("routes",),
                          route_delay_event=unforeseen_event, event_until=until)
        routes = result.tables["routes"].set_index("route")
        if dated:
            until = _aftermath(plan, result.tables, until, n)
        passes = n
        flows = route_flows(result, choices)
        if previous is not None:
            gaps.append(flow_gap(flows, previous))
        previous = flows
        # one array per column, by position in `index` (a row lookup per route costs more)
        usual_h, usual_seen, event_h, event_seen, booked, booked_event = (
            routes[c].reindex(index).to_numpy(dtype=float)
            for c in ("transit_usual_mean_h", "foreseen_usual_mean_h",
                      "transit_event_open_mean_h", "foreseen_event_open_mean_h",
                      "teu_created_per_year", "teu_event_created_per_year"))
        delay_gaps.append(_delay_gap(booked, np.maximum(usual_h - base_h, 0.0),
                                     np.array([delay[i] for i in index], dtype=float)))
        # the share offered over the whole period, events included: what a year's demand
        # answers to (route choice reads the live queues, not this)
        for i, a in routes["offered_share"].reindex(index).items():
            if not np.isnan(a):   # its flow booked lots in the pass
                offered[i] = _step(offered.get(i, 1.0), float(a), _seen(seen_offered, i))
        for j, i in enumerate(index):
            # usual days (every lot, without dated events): the delay demand and the logsums
            # answer to, and its part the picture did not foresee, each the mean over the
            # passes in which the route delivered such lots; a route that delivered none
            # brings no news and keeps its estimates
            if not np.isnan(usual_h[j]):
                k = _seen(seen_usual, i)
                observed = max(0.0, float(usual_h[j]) - base_hours[i])
                delay[i] = _step(delay[i], observed, k)
                unforeseen[i] = _step(unforeseen[i], observed - float(usual_seen[j]), k)
            # the lots booked in dated events (those still on the way at the end at their
            # age then, so a closure that never clears is learnt): what route choice adds in
            # their hours only (less what the picture showed them at booking), and the delay
            # the year's demand weighs by their share of the route's bookings
            if not np.isnan(event_h[j]):
                k = _seen(seen_event, i)
                observed = max(0.0, float(event_h[j]) - base_hours[i])
                unforeseen_event[i] = _step(unforeseen_event.get(i, 0.0),
                                            observed - float(event_seen[j]), k)
                delay_event[i] = _step(delay_event.get(i, 0.0), observed, k)
            if dated and booked[j] > 0:
                shares[i] = _step(shares.get(i, 0.0), float(booked_event[j] / booked[j]),
                                  _seen(seen_share, i))
        if base.market is not None:
            spread = _spreads(routes, choices, base.lot_teu, spread, n)
        demand_delay = year_blend(delay, delay_event, shares)
        factors, state = _factors(base, choices, _at(refs, n), demand_delay, spread, offered)
        states.append(state)
        if gaps and gaps[-1] < settings.tolerance and n >= first:
            converged = True
            break
    return Learnt(delay=delay, unforeseen=unforeseen, spread=spread, offered=offered,
                  passes=passes, converged=converged, gaps=tuple(gaps), states=tuple(states),
                  delay_gaps=tuple(delay_gaps),
                  unforeseen_event=unforeseen_event, until=until, delay_event=delay_event,
                  event_share=shares)


def _plain_reference(base: Plan, choices: Sequence[ChoiceSet], mref: MarketRef | None
                     ) -> dict[FlowKey, float]:
    """The costs the plain (non-market) flows answer to: in a market plan, the reference's
    settled costs (`plain_reference`; none when the plan is its own reference, so they carry
    their inputs); otherwise the reference network's uncongested costs."""
    if base.elasticity == 0:
        return {}
    if base.market is not None:
        return plain_reference(mref or {})
    return reference_costs(base, choices)


def settle(base: Plan, choices: Sequence[ChoiceSet] | None = None,
           initial_delay: Mapping[int, float] | None = None, replication: int = 0,
           initial_unforeseen: Mapping[int, float] | None = None,
           given_reference: Mapping[int, MarketPasses] | None = None) -> Settled:
    """Route choice sets (unless given), demand response and (when `max_iterations` > 1) MSA
    feedback of simulated delays (and, for market flows, of the spread of transit times): what
    every replication of `base` then runs with.

    `initial_delay` (learnt delay per route index, e.g. a pathway's previous year) is where
    the learning starts: without feedback passes it is the delay demand sees; with them,
    the first pass's demand answers to it. `initial_unforeseen` is the same for the part of
    the delay the congestion picture does not foresee (what route choice adds to the
    picture in the run, and in the first pass). The passes run on the random streams of
    `replication` (and so does the settling of the market reference). `given_reference`: the
    market reference's states per replication when already computed (see
    `market_reference`), carried to every replication's settling.

    Against a market reference, each pass's demand answers to the reference's state after
    the same pass (`_at`), the passes are as many as the reference's (`pass_range`), and
    the settled demand answers to its settled state. Why: the reference
    settled from the same cold start, its first passes' delays averaged in; measured against
    its settled state alone, a plan's first pass saw every route cheaper than the reference
    and shipped more, its delays learnt that surge, and an unchanged network (a placebo)
    settled with less trade than its own reference (-0.060 +/- 0.022 bn CNY/yr, 20
    replications, 2026-12-04). A plan that starts warm (`initial_delay`, a pathway's later
    year) answers to the settled state throughout."""
    choices = tuple(choice_sets(base) if choices is None else choices)
    refs = market_reference(base, replication, given_reference)
    if refs is not None and (initial_delay or initial_unforeseen):
        refs = refs[-1:]          # a warm start meets the settled reference at once
    mref = refs[-1] if refs else None           # the reference's settled state
    delay: dict[int, float] = dict(initial_delay or {})
    unforeseen: dict[int, float] = dict(initial_unforeseen or {})
    spread: dict[int, float] = {}
    offered: dict[int, float] = {}
    learns = base.equilibrium.max_iterations > 1
    # without passes the first demand is the settled one: it meets the settled reference
    factors, state = _factors(base, choices, _at(refs, 0) if learns else mref, delay, spread,
                              offered)
    states: MarketPasses = (state,)
    passes, converged = 0, False
    gaps: list[float] = []
    delay_gaps: tuple[float, ...] = ()
    unforeseen_event: dict[int, float] = {}
    until: dict[EventKey, float] = {}
    if learns:
        learnt = cache.kept(
            lambda: ["settle", repr(revise(base, replications=1)), repr(choices),
                     repr(sorted(delay.items())), repr(sorted(unforeseen.items())),
                     str(replication), repr(refs)],
            lambda: _passes(base, choices, refs, replication, delay, unforeseen, factors),
            Learnt)
        delay, unforeseen, spread, offered = (learnt.delay, learnt.unforeseen, learnt.spread,
                                              learnt.offered)
        demand_delay = learnt.for_demand()
        factors, state = _factors(base, choices, mref, demand_delay, spread, offered)
        # the settled state recomputed, not the last pass's: equal in value, but a cached
        # pass's state comes back unpickled, and its NaN logsums (flows with no route
        # offered) would no longer compare equal to the same plan settled afresh
        states = (*states, *learnt.states[:-1], state)
        passes, converged, gaps = learnt.passes, learnt.converged, list(learnt.gaps)
        delay_gaps = learnt.delay_gaps
        unforeseen_event, until = learnt.unforeseen_event, learnt.until
    else:
        demand_delay = delay
    return Settled(plan=with_empties(respond(base, factors), choices, demand_delay, spread,
                                     offered),
                   base=base, choices=choices, route_delay=delay,
                   report=_report(base, factors, passes, converged, gaps,
                                  reused=given_reference is not None and mref is not None,
                                  delay_gaps=delay_gaps),
                   route_spread=spread, market_passes=states, market_reference=mref,
                   initial_delay=initial_delay, replication=replication,
                   route_unforeseen=unforeseen, initial_unforeseen=initial_unforeseen,
                   route_offered=offered, given_reference=given_reference,
                   route_unforeseen_event=unforeseen_event, event_until=until,
                   route_delay_demand=demand_delay)


def for_replication(settled: Settled, replication: int) -> Settled:
    """What replication `replication` runs with: `settled` itself, or, when the plan asks
    for `equilibrium.per_replication` and has feedback passes, the same plan settled again
    on that replication's streams."""
    plan = settled.base
    if (replication == settled.replication or not plan.equilibrium.per_replication
            or plan.equilibrium.max_iterations <= 1):
        return settled
    return settle(plan, settled.choices, settled.initial_delay, replication,
                  settled.initial_unforeseen, settled.given_reference)


def market_reference(plan: Plan, replication: int = 0,
                     given: Mapping[int, MarketPasses] | None = None) -> MarketPasses | None:
    """Logsum and expected GC of every market flow on the reference network, pass by pass
    (`Settled.market_passes`, the last settled), as it settled (its learnt delays and
    spreads included, on the streams of `replication` when the plan settles per
    replication) with this plan's choice parameters and feedback settings; None when the
    plan is its own reference (no reference named, or the same network and demand as the
    file named): its market flows then carry the table's volumes. `given`: that settled state per
    replication, already computed (a comparison's base run when `settles_reference_of`
    holds), taken instead of settling the reference again."""
    found = _reference_file(plan)
    if found is None:
        return None
    path, mtime, choice_json, days, seed, equilibrium_json = found
    own = replication if plan.equilibrium.per_replication else 0
    if given is not None:
        return tuple(dict(state) for state in given[own])
    return tuple(dict(state) for state in
                 _settled_reference(path, mtime, choice_json, days, seed, equilibrium_json,
                                    own))


def settles_reference_of(base: Plan, plan: Plan) -> bool:
    """Whether settling `base` (each replication, as its run does) is the very computation
    that gives `plan`'s market reference: the two plans as the feedback passes read them
    (`pass_plan`: network, demand, market, choice parameters, seed, pass horizon,
    equilibrium, routing, lots) are equal, the number of replications aside. Decided by
    comparing the plans, not assumed from the file named."""
    found = _reference_file(plan)
    if found is None:
        return False

    def as_read(p: Plan) -> Plan:
        return revise(pass_plan(p), replications=1)
    return as_read(base) == as_read(_reference_plan(*found))


def _reference_file(plan: Plan) -> tuple[str, int, str, float, int, str] | None:
    """(path, version, choice parameters as JSON, pass horizon in days, seed, feedback
    settings as JSON) of the file whose settling gives `plan`'s market reference; None when
    the plan is its own reference.

    The reference settles on `plan`'s own streams (its seed): a base and a variant run
    with another seed (`cqsim run --seed`, a sweep's `seed`, `compare --independent`) then
    meet a reference drawn on those streams, so a variant that changes nothing retraces it.
    Settled on the file's seed instead, such a variant's induced trade was the difference of
    two unpaired draws (a placebo at seed 902: +-0.18 bn CNY/yr over 40 replications, +-0.014
    at the file's seed; 2026-12-05).

    The reference settles over `plan`'s own pass horizon: a plan cut to 120 days (--days)
    learns a winter's delays, and a reference that learnt a whole year's (the summer lock
    queues included) made any change look like induced trade (+2 bn CNY/yr in a null one)."""
    if plan.market is None:
        return None
    named = reference_version(plan)
    if named is None:
        return None
    ref = file_plan(*named)
    if ref.market is None:
        return None
    if same_candidates(ref, plan, same_choice=False) and ref.flows == plan.flows and \
            ref.market.rows == plan.market.rows:
        return None
    return (*named, plan.market.section.choice.model_dump_json(),
            pass_plan(plan).horizon.days, plan.seed, plan.equilibrium.model_dump_json())


def _reference_plan(path: str, mtime: int, choice_json: str, days: float, seed: int,
                    equilibrium_json: str) -> Plan:
    """The reference file's plan with the given choice parameters, pass horizon, seed and
    feedback settings: what is settled."""
    from sim.market.spec import Choice
    from sim.scenario import Equilibrium

    ref = revise(file_plan(path, mtime), choice=Choice.model_validate_json(choice_json),
                 seed=seed, equilibrium=Equilibrium.model_validate_json(equilibrium_json))
    return with_horizon_days(ref, days)


@lru_cache(maxsize=8)
def _settled_reference(path: str, mtime: int, choice_json: str, days: float, seed: int,
                       equilibrium_json: str, replication: int
                       ) -> tuple[tuple[tuple[FlowKey, tuple[float, float]], ...], ...]:
    """Market logsums of a reference file settled with the given choice parameters over
    `days` of passes with `seed` and the given feedback settings, on the streams of
    `replication`, pass by pass."""
    ref = _reference_plan(path, mtime, choice_json, days, seed, equilibrium_json)
    return tuple(tuple(state.items())
                 for state in settle(ref, replication=replication).market_passes)


def combined(reports: Sequence[dict[str, object]]) -> dict[str, object]:
    """One report for a run whose replications settled apart (`per_replication`): the mean
    of each figure, settled only when every replication settled, the most passes run, and
    every replication's own report (its gaps too) under `by_replication` (paired comparisons
    take their intervals from them). A single report, or identical ones, are returned as
    they are."""
    if not reports:
        return {}
    if all(r == reports[0] for r in reports):
        return dict(reports[0])
    out: dict[str, object] = {k: v for k, v in reports[0].items()
                              if k not in ("gaps", "delay_gaps")}
    for key, value in reports[0].items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[key] = _mean([r.get(key) for r in reports])
    markets = cast(dict[str, dict[str, float]], reports[0].get(BY_MARKET) or {})
    if markets:    # the mean of each market's figures
        out[BY_MARKET] = {m: {key: _mean([cast(dict, r[BY_MARKET])[m][key] for r in reports])
                              for key in fields} for m, fields in markets.items()}
    out["passes"] = max(int(cast(int, r["passes"])) for r in reports)
    out["converged"] = all(bool(r["converged"]) for r in reports)
    out["by_replication"] = [dict(r) for r in reports]
    return out


def delay_gap_shown(report: Mapping[str, object]) -> str | None:
    """The last pass's delay gap (`_delay_gap`) of run.json's `equilibrium` report as a
    percentage ("8%"), a range over the replications where they settled apart
    (`by_replication`: "8-9% (by replication)"); None where no delay was met or the report
    predates it. What the console and the report say."""
    kept = report.get("by_replication")
    found = [r.get("delay_gap") for r in kept if isinstance(r, dict)] \
        if isinstance(kept, list) else [report.get("delay_gap")]
    gaps = sorted(round(100 * float(g)) for g in found
                  if isinstance(g, int | float) and not isinstance(g, bool) and g == g)
    if not gaps:
        return None
    return f"{gaps[0]}%" if gaps[0] == gaps[-1] else f"{gaps[0]}-{gaps[-1]}% (by replication)"


def _mean(values: Sequence[object]) -> float | None:
    """The mean of the figures given (None: not measured, skipped); None when none is."""
    seen = [float(cast(float, v)) for v in values if v is not None]
    return float(np.mean(seen)) if seen else None
