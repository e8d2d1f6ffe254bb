"""Nested logit over gateways and routes, its logsum, and the trade it induces.

For one flow (market x class x direction) with routes r in gateways g, value per TEU p:

    V_r  = -lambda x GC_r / p
    I_g  = ln sum_{r in g} exp(V_r / mu)                  (inclusive value of gateway g)
    A_g  = asc_g + mu x I_g
    P(g) = exp(A_g) / sum_h exp(A_h),   P(r | g) = exp(V_r / mu - I_g)
    LS   = ln sum_g exp(A_g)                              (logsum, utils)

A change of the network changes LS; its money equivalent per TEU is dGC = -(p / lambda) x dLS
(the compensating variation of the logit), and the flow's trade answers to it with the trade
elasticity sigma in the ad valorem form

    V = V0 x ((p + GC0 + dGC) / (p + GC0)) ^ -sigma

with GC0 the flow's expected generalized cost on the reference network (`sim.demand`).
The engine calls the probabilities once per flow each time the congestion picture is
refreshed, and draws each lot from the cached cumulative weights: they are computed in
`sim.engine.logit`, compiled with the engine, and re-exported here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sim.engine.logit import cumulative, probabilities
from sim.market.spec import Choice

if TYPE_CHECKING:
    from sim.network import Plan
    from sim.routing import ChoiceSet

__all__ = ["Nests", "available", "cumulative", "flow_nests", "induced_factor", "nests_of",
           "probabilities"]


@dataclass(frozen=True)
class Nests:
    """The nest structure of one flow's routes: the gateway of each route and the constants."""

    nest: tuple[int, ...]        # nest index of each route
    gateways: tuple[str, ...]    # name of each nest
    asc: tuple[float, ...]       # constant of each nest (utils)
    scale: float                 # lambda / p: utils per CNY/TEU
    mu: float                    # nest scale (1: multinomial logit)


def nests_of(gateways: Sequence[str], market: str, value_cny_per_teu: float,
             choice: Choice, commodity: str = "") -> Nests:
    """Nests of a flow whose routes belong to `gateways` (one name per route); a gateway's
    constant is `asc[g]` plus its market's `asc[g@market]` plus its class's
    `asc[g#commodity]` where given."""
    names = tuple(dict.fromkeys(gateways))
    asc = tuple(choice.asc.get(g, 0.0) + choice.asc.get(f"{g}@{market}", 0.0)
                + choice.asc.get(f"{g}#{commodity}", 0.0) for g in names)
    return Nests(nest=tuple(names.index(g) for g in gateways), gateways=names, asc=asc,
                 scale=choice.cost_scale / value_cny_per_teu, mu=choice.nest_scale)


def flow_nests(plan: Plan, cs: ChoiceSet) -> Nests:
    """Nests of a market flow's candidate routes under the plan's choice parameters (the
    flow's market and class pick their constants; its class gives the value per TEU)."""
    assert plan.market is not None, "a market flow needs the plan's market section"
    flow = plan.flows[cs.flow]
    return nests_of([r.gateway for r in cs.routes], flow.market,
                    plan.classes[flow.commodity].value_cny_per_teu,
                    plan.market.section.choice, flow.commodity)


def available(n: Nests, costs: Sequence[float], shares: Sequence[float]
              ) -> tuple[list[float], list[bool]]:
    """Costs and open flags for `probabilities` of routes offered at a share of bookings:
    a route offered at a share a enters its nest as a x exp(V / mu) (Cascetta and Papola's
    implicit availability), as if dearer by -(mu / scale) ln a; never offered, it is out."""
    return ([c - n.mu * math.log(a) / n.scale if 0 < a < 1 else c
             for c, a in zip(costs, shares, strict=True)], [a > 0 for a in shares])


def induced_factor(value: float, gc0: float, dgc: float, sigma: float) -> float:
    """V / V0 = ((p + GC0 + dGC) / (p + GC0)) ^ -sigma, for value per TEU p. A cost cannot
    fall below nothing, so dGC is bounded below by -GC0 (an unbounded fall, from a logsum
    far above the reference's, reads as the largest gain, not as none); a market no longer
    reached (dGC = +inf) trades nothing."""
    base = value + gc0
    return ((base + max(dgc, -gc0)) / base) ** (-sigma)
