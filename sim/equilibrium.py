"""Feed the delays the simulation produced back into route choice and demand (method of
successive averages), until route flows settle.

Pass n simulates replication 0 (horizon `equilibrium.days`, at most the scenario's) with the
current learnt delay per route; the observed extra delay of each route (mean door-to-door
transit minus its uncongested `base_hours`, floored at 0) updates the learnt delay by MSA,

    d_n = d_(n-1) + (observed_n - d_(n-1)) / n,

and demand is re-derived from the generalized costs including d_n (`sim.demand`). The gap
is the share of route TEU that changed between consecutive passes; iteration stops when it
falls below `equilibrium.tolerance` or after `equilibrium.max_iterations` passes. Route
choice then adds d to the live queue signal in every replication of the final run. Passes
use the scenario's seed, so the result is deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from sim.demand import demand_factors, reference_costs, respond
from sim.engine import simulate
from sim.network import Plan, with_horizon_days
from sim.routing import ChoiceSet, choice_sets


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

    def as_dict(self) -> dict[str, object]:
        """JSON-ready fields (NaN as None)."""
        def clean(x: float) -> float | None:
            return None if np.isnan(x) else round(float(x), 6)
        return {"passes": self.passes, "converged": self.converged, "gap": clean(self.gap),
                "gaps": [clean(g) for g in self.gaps], "tolerance": self.tolerance,
                "demand_factor_min": clean(self.demand_factor_min),
                "demand_factor_max": clean(self.demand_factor_max),
                "induced_teu_per_year": clean(self.induced_teu_per_year)}


@dataclass(frozen=True)
class Settled:
    """A plan settled for replication: demand responded to cost, the candidate routes of every
    flow and the delay per route index that route choice learnt from the feedback passes."""

    plan: Plan
    choices: tuple[ChoiceSet, ...]
    route_delay: dict[int, float]
    report: EquilibriumReport


def _pass_plan(plan: Plan) -> Plan:
    days = min(plan.equilibrium.days or plan.horizon.days, plan.horizon.days)
    return with_horizon_days(plan, days)


def _report(base: Plan, factors: Sequence[float], passes: int, converged: bool,
            gaps: list[float]) -> EquilibriumReport:
    induced = sum((k - 1.0) * f.teu_per_year for f, k in zip(base.flows, factors, strict=True))
    return EquilibriumReport(
        passes=passes, converged=converged, gap=gaps[-1] if gaps else float("nan"),
        gaps=tuple(gaps), tolerance=base.equilibrium.tolerance,
        demand_factor_min=min(factors, default=1.0), demand_factor_max=max(factors, default=1.0),
        induced_teu_per_year=induced)


def settle(base: Plan, choices: Sequence[ChoiceSet] | None = None,
           initial_delay: Mapping[int, float] | None = None) -> Settled:
    """Route choice sets (unless given), demand response and (when `max_iterations` > 1) MSA
    feedback of simulated delays: what every replication of `base` then runs with.

    `initial_delay` (learnt delay per route index, e.g. a pathway's previous year) is where
    the learning starts: without feedback passes it is the delay route choice and demand
    see; with them, the first pass runs with it."""
    choices = tuple(choice_sets(base) if choices is None else choices)
    reference = reference_costs(base, choices) if base.elasticity != 0 else {}
    delay: dict[int, float] = dict(initial_delay or {})
    factors = demand_factors(base, choices, reference, delay)
    settings = base.equilibrium
    gaps: list[float] = []
    converged = False
    passes = 0
    if settings.max_iterations > 1:
        index = [r.index for cs in choices for r in cs.routes]
        base_hours = {r.index: r.base_hours for cs in choices for r in cs.routes}
        delay = {i: delay.get(i, 0.0) for i in index}
        previous: np.ndarray | None = None
        for n in range(1, settings.max_iterations + 1):
            plan = _pass_plan(respond(base, factors))
            routes = simulate(plan, 0, choices, delay).tables["routes"].set_index("route")
            passes = n
            flows = routes["teu_created_per_year"].reindex(index).fillna(0.0).to_numpy()
            if previous is not None:
                gaps.append(float(np.abs(flows - previous).sum() / max(previous.sum(), 1e-9)))
            previous = flows
            transit = routes["transit_mean_h"].reindex(index)
            for i in index:
                seen = transit.get(i)
                if seen is None or np.isnan(seen):
                    continue  # nothing delivered on this route: no news, keep the estimate
                observed = max(0.0, float(seen) - base_hours[i])
                delay[i] += (observed - delay[i]) / n
            factors = demand_factors(base, choices, reference, delay)
            if gaps and gaps[-1] < settings.tolerance:
                converged = True
                break
    return Settled(plan=respond(base, factors), choices=choices, route_delay=delay,
                   report=_report(base, factors, passes, converged, gaps))
