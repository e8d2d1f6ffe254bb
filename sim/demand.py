"""Demand that answers to the network: each flow's TEU follow the generalized cost of reaching
its market, through a constant elasticity.

    TEU = base TEU x (GC / GC_reference) ^ elasticity

GC is the logsum (expected best) generalized cost over the flow's candidate routes, in the
same relative-cost logit the route choice uses (`sim.routing.weights`), plus any delay per
route learnt from earlier simulation passes (`sim.equilibrium`). GC_reference is the same
quantity on the reference network: the scenario named by `demand.reference_scenario` (the
network on which the base TEU were observed), or the scenario's own network when none is
named. A cheaper or faster route, or a new one, lowers GC and so induces trade; congestion
raises it and so deters trade.

In a plan with a market section (Chongqing's trade by market) the market flows answer to
their nested-logit logsum (`market_factors`), and the other flows (domestic, transit,
Chengdu's boxes) to GC_reference as the reference network settled, congestion included: the
base TEU were observed on it congested, so a plan that is its own reference carries them as
they are. Without a market section GC_reference is the reference network's uncongested GC.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path

from sim.network import Plan, build, revise
from sim.routing import ChoiceSet, choice_sets, market_value_of_time
from sim.scenario import load_scenario
from sim.specs import FlowKey


def logsum_cost(costs: Sequence[float], scale: float) -> float:
    """Expected best generalized cost under the relative-cost logit of `sim.routing.weights`.

    With utilities -scale x (c / best - 1) this is best x (1 - ln(sum exp(u)) / scale): it
    equals `best` for one route and falls when a route is added, as consumer surplus should.
    """
    best = min(costs)
    if scale <= 0 or best <= 0 or len(costs) == 1:
        return best
    total = sum(math.exp(-scale * (c / best - 1.0)) for c in costs)
    return best * (1.0 - math.log(total) / scale)


def flow_costs(plan: Plan, choices: Sequence[ChoiceSet],
               route_delay: Mapping[int, float] | None = None) -> dict[FlowKey, float]:
    """Logsum generalized cost (CNY/TEU) of every flow, with learnt delays added per route."""
    delay = route_delay or {}
    out: dict[FlowKey, float] = {}
    for cs in choices:
        flow = plan.flows[cs.flow]
        costs = [r.generalized_cost(cs.value_of_time, delay.get(r.index, 0.0))
                 for r in cs.routes]
        out[flow.row_key] = logsum_cost(costs, plan.routing.logit_scale)
    return out


def reference_costs(plan: Plan, choices: Sequence[ChoiceSet]) -> dict[FlowKey, float]:
    """Uncongested logsum costs on the reference network (this plan's own when none named).

    A named reference is always read from its file, even when it is the plan's own: a
    variant of a file (an override, a sweep point, a ranked candidate) keeps that file's
    name but not its network, and must be measured against the file as written.
    """
    named = reference_version(plan)
    if named is None:
        return flow_costs(plan, choices)
    ref = file_plan(*named)
    if same_candidates(ref, plan):  # the plan's routes are the reference's: reuse them
        return flow_costs(ref, choices)
    return dict(_file_costs(*named))


def reference_version(plan: Plan) -> tuple[str, int] | None:
    """(path, version) of the reference scenario file `plan` names, the version its mtime
    (0: no such file, which loading it then reports), what `file_plan` caches on; None when
    it names none."""
    if plan.reference_scenario is None:
        return None
    path = Path(plan.reference_scenario)
    return str(path), path.stat().st_mtime_ns if path.is_file() else 0


def same_candidates(a: Plan, b: Plan, *, same_choice: bool = True) -> bool:
    """Whether two plans have the same candidate routes (`choice_sets` reads no more): the
    network, routing and lots, each flow's ends, class, market and gateway with the value of
    time its routes are searched at, and the market's gateways. A market flow's value of
    time is its class's in the market's choice (`market_value_of_time`); `same_choice=False`
    compares the plans as if both had `a`'s choice parameters (a reference settled with a
    plan's)."""
    choice = a.market.section.choice if a.market and not same_choice else None

    def keys(p: Plan) -> list[tuple[object, ...]]:
        return [(f.origin, f.destination, f.commodity, f.market, f.gateway,
                 market_value_of_time(p, f, choice)) for f in p.flows]

    def gateways(p: Plan) -> tuple[object, ...] | None:
        s = p.market.section if p.market else None
        return None if s is None else (s.origin, s.ends, s.gateways, s.routes_per_gateway)
    return (a.network == b.network and a.routing == b.routing and a.lot_teu == b.lot_teu
            and keys(a) == keys(b) and gateways(a) == gateways(b))


@lru_cache(maxsize=8)
def file_plan(path: str, mtime: int) -> Plan:
    """The plan of a scenario file, cached per file version (`mtime`)."""
    return build(load_scenario(path))


@lru_cache(maxsize=8)
def _file_costs(path: str, mtime: int) -> tuple[tuple[FlowKey, float], ...]:
    """Reference costs of a scenario file, cached per file version (`mtime`)."""
    ref = file_plan(path, mtime)
    return tuple(flow_costs(ref, choice_sets(ref)).items())


def demand_factors(plan: Plan, choices: Sequence[ChoiceSet], reference: Mapping[FlowKey, float],
                   route_delay: Mapping[int, float] | None = None) -> tuple[float, ...]:
    """Multiplier on each flow's base TEU; 1 where the reference has no such flow."""
    if plan.elasticity == 0:
        return (1.0,) * len(plan.flows)
    costs = flow_costs(plan, choices, route_delay)
    factors = [1.0] * len(plan.flows)
    for cs in choices:
        flow = plan.flows[cs.flow]
        if flow.market:
            continue  # answers to its logsum (market_factors)
        key = flow.row_key
        ref = reference.get(key)
        if ref is not None and ref > 0 and costs[key] > 0:
            factors[cs.flow] = (costs[key] / ref) ** plan.elasticity
    return tuple(factors)


def respond(base: Plan, factors: Sequence[float]) -> Plan:
    """A copy of `base` whose flows carry `factors` x their base TEU."""
    if all(f == 1.0 for f in factors):
        return base
    flows = [f.model_copy(update={"teu_per_year": f.teu_per_year * k})
             for f, k in zip(base.flows, factors, strict=True)]
    return revise(base, flows=flows)  # validated there


# ----------------------------------------------------------------------------- market flows

MarketRef = dict[FlowKey, tuple[float, float]]   # flow -> (logsum in utils, expected GC CNY/TEU)
# a settling's market states: before its first feedback pass, then after each pass (the last
# is the settled state), so a plan settling against it can meet each pass with its own
MarketPasses = tuple[MarketRef, ...]


def route_costs(plan: Plan, cs: ChoiceSet, delay: Mapping[int, float],
                spread: Mapping[int, float]) -> list[float]:
    """Generalized cost (CNY/TEU) of each route of a market flow: tariff and transfers, value of
    time on the expected hours (learnt delay included) and on the learnt spread."""
    rr = plan.market.section.choice.reliability_ratio if plan.market else 0.0
    vot = cs.value_of_time
    return [r.generalized_cost(vot, delay.get(r.index, 0.0), rr * spread.get(r.index, 0.0))
            for r in cs.routes]


def market_choice(plan: Plan, cs: ChoiceSet, delay: Mapping[int, float],
                  spread: Mapping[int, float], offered: Mapping[int, float] | None = None
                  ) -> tuple[list[float], float, list[float]]:
    """(probability of each route, logsum in utils, generalized cost of each route in
    CNY/TEU) of a market flow at the learnt delays and spreads.

    `offered` is the share of the flow's bookings at which each route was offered (not
    queued beyond `routing.max_excess_wait_hours`), learnt from the passes: a route offered
    in a share a of them enters the logit as exp(V / mu) x a, Cascetta and Papola's implicit
    availability (a capacity that binds makes its routes scarce, and the logsum sees it); a
    route never offered drops out. Missing: offered always."""
    from sim.market.choice import available, flow_nests, probabilities

    nests = flow_nests(plan, cs)
    costs = route_costs(plan, cs, delay, spread)
    got = offered or {}
    shares = [got.get(r.index, 1.0) for r in cs.routes]
    probs, ls = probabilities(nests, *available(nests, costs, shares))
    return probs, ls, costs


def market_state(plan: Plan, choices: Sequence[ChoiceSet], delay: Mapping[int, float],
                 spread: Mapping[int, float], offered: Mapping[int, float] | None = None
                 ) -> MarketRef:
    """Logsum and expected generalized cost (tariffs and time, what shippers pay) of every
    market flow (`market_choice`); for every other flow of a market plan (domestic, transit,
    Chengdu's boxes) NaN and its logsum cost at the learnt delays (`flow_costs`), which such
    flows answer to (`plain_reference`)."""
    out: MarketRef = {}
    if plan.market is None:
        return out
    plain = flow_costs(plan, [cs for cs in choices if not plan.flows[cs.flow].market], delay)
    for cs in choices:
        flow = plan.flows[cs.flow]
        key = flow.row_key
        if not flow.market:
            out[key] = (math.nan, plain[key])
            continue
        probs, ls, costs = market_choice(plan, cs, delay, spread, offered)
        out[key] = (ls, sum(p * c for p, c in zip(probs, costs, strict=True)))
    return out


def plain_reference(reference: MarketRef) -> dict[FlowKey, float]:
    """The costs a market plan's other flows answer to (`demand_factors`): those of the
    reference network as it settled, congestion included, since their base TEU were observed
    on it congested (against its uncongested costs the base year would shrink its own
    inputs by its own congestion)."""
    return {key: gc for key, (ls, gc) in reference.items() if math.isnan(ls)}


def market_factors(plan: Plan, state: MarketRef, reference: MarketRef | None) -> dict[int, float]:
    """Trade induced on each market flow (flow index -> V / V0) by the change of its logsum
    from the reference: dGC = -(p / lambda) dLS, V / V0 = ((p + GC0 + dGC) / (p + GC0))^-sigma.
    No reference (the plan is its own reference), or a flow the reference offered no route
    (its trade was observed without access, so the logsum gives no basis for a change): the
    table's volumes, factor 1."""
    from sim.market.choice import induced_factor

    if plan.market is None:
        return {}
    choice = plan.market.section.choice
    out: dict[int, float] = {}
    for i, flow in enumerate(plan.flows):
        if not flow.market:
            continue
        key = flow.row_key
        if reference is None or key not in reference or key not in state:
            out[i] = 1.0
            continue
        value = plan.classes[flow.commodity].value_cny_per_teu
        ls0, gc0 = reference[key]
        if not math.isfinite(ls0):
            out[i] = 1.0
            continue
        dgc = -(value / choice.cost_scale) * (state[key][0] - ls0)
        out[i] = induced_factor(value, gc0, dgc, choice.trade_elasticity)
    return out

