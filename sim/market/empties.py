"""Empty boxes repositioned where a lane runs unbalanced (`market.empties`).

For a lane (a gateway, a depot in China, hubs abroad) the loaded TEU a year that the
settled plan sends each way between the depot and each hub abroad are

    L_out(E) = sum over loaded flows (of the classes `from_classes`) and their routes
               through the lane's gateway that pass the depot and then E, the last hub of
               the lane they reach (the flow's end, or the port where its sea leg ends):
               flow TEU x P(route)
    L_in(E)  = the same from E to the depot

with P the choice probabilities at the learnt delays, spreads and availability of routes (a
market flow's nested logit, `sim.demand.market_choice`); a flow outside the market (transit,
Chengdu's boxes) counts with equal weight on each of its routes, so it counts whole where all
of them pass the depot, as in the shipped scenarios. A share s (the lane's
`repositioned_share`, else the section's) of the imbalance goes back empty on the lane's
gateway (each gateway balances its own boxes: the imbalance of the Russia lane's north
trains is not sent back on the west trains):

    empty out to E = s x max(0, L_in(E) - L_out(E)),  empty in from E = s x max(0, L_out - L_in)

The empties are lots like any other (they take slots on trains, handling at terminals and
borders, and pay the tariff) but carry no value and count for no trade.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sim.network import Plan, revise
from sim.routing import ChoiceSet


def loaded_teu(plan: Plan, choices: Sequence[ChoiceSet], delay: Mapping[int, float],
               spread: Mapping[int, float], offered: Mapping[int, float] | None = None
               ) -> dict[tuple[str, str, str, str], float]:
    """Loaded TEU/yr per (gateway, depot in China, hub abroad, 'out' | 'in') of every lane."""
    from sim.demand import market_choice

    out: dict[tuple[str, str, str, str], float] = {}
    if plan.market is None or plan.market.section.empties is None:
        return out
    lanes = plan.market.section.empties.lanes
    counted = set(plan.market.section.empties.from_classes)
    for cs in choices:
        flow = plan.flows[cs.flow]
        if flow.flow_class not in counted or flow.teu_per_year <= 0:
            continue
        if flow.market:
            probs, _, _ = market_choice(plan, cs, delay, spread, offered)
        else:
            probs = [1.0 / len(cs.routes)] * len(cs.routes)
        for lane in lanes:
            for route, p in zip(cs.routes, probs, strict=True):
                if p <= 0 or route.gateway != lane.gateway or lane.china not in route.hubs:
                    continue
                key = _lane_end(lane.gateway, lane.china, lane.abroad, route.hubs)
                if key is not None:
                    out[key] = out.get(key, 0.0) + flow.teu_per_year * p
    return out


def _lane_end(gateway: str, china: str, abroad: Sequence[str], hubs: Sequence[str]
              ) -> tuple[str, str, str, str] | None:
    """The lane key of a route (its `hubs`, in order) through the depot `china`: the last
    hub of the lane's `abroad` it reaches after the depot ('out'), else the first it left
    from before the depot ('in'); None if it passes none. The last, not the flow's end: the
    river's boxes for Duisburg come back from Hamburg or Rotterdam, where the sea leg ends
    (keyed on the flow's end, the EU, Vietnam and Russia trade on the river, 14k empty TEU/yr,
    was never counted; review49 H1)."""
    at = hubs.index(china)
    after = [h for h in hubs[at + 1:] if h in abroad]
    if after:
        return gateway, china, after[-1], "out"
    before = [h for h in hubs[:at] if h in abroad]
    return (gateway, china, before[0], "in") if before else None


def with_empties(plan: Plan, choices: Sequence[ChoiceSet], delay: Mapping[int, float],
                 spread: Mapping[int, float], offered: Mapping[int, float] | None = None
                 ) -> Plan:
    """`plan` whose empty flows carry the repositioned share of their lane's imbalance."""
    if plan.market is None or plan.market.section.empties is None:
        return plan
    empties = plan.market.section.empties
    loaded = loaded_teu(plan, choices, delay, spread, offered)
    share = {(lane.gateway, lane.china, end): empties.share_of(lane)
             for lane in empties.lanes for end in lane.abroad}
    flows = []
    for f in plan.flows:
        if f.flow_class != "empty":
            flows.append(f)
            continue
        if (f.gateway, f.origin, f.destination) in share:        # out from the depot
            lane = f.gateway, f.origin, f.destination
            way, back = "out", "in"
        else:
            lane = f.gateway, f.destination, f.origin
            way, back = "in", "out"
        teu = share[lane] * max(0.0, loaded.get((*lane, back), 0.0) - loaded.get((*lane, way), 0.0))
        flows.append(f.model_copy(update={"teu_per_year": teu}))
    return revise(plan, flows=flows)
