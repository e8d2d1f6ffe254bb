"""Run replications of a plan, serially or on a local process pool, with optional progress.

Replication r of seed s always uses the streams (s, r, component), whichever executor runs
it, so results are identical on every executor.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from sim.network import Plan, build
from sim.routing import ChoiceSet, choice_sets
from sim.scenario import Scenario, as_scenario, run_overrides

if TYPE_CHECKING:  # the engine and tables load on the first run, not for bad input
    from sim.engine.recorder import ReplicationResult
    from sim.results import Results


def prepare(scenario: Scenario | str | Path, *, seed: int | None = None,
            replications: int | None = None, days: float | None = None) -> Plan:
    """Load (if a path), apply run overrides and build the plan; InputError on bad input."""
    scenario = as_scenario(scenario)
    return build(run_overrides(scenario, seed=seed, replications=replications, days=days))


def _one(args: tuple[Plan, int, Sequence[ChoiceSet], Mapping[int, float] | None]
         ) -> ReplicationResult:
    from sim.engine import simulate

    plan, rep, choices, route_delay = args
    return simulate(plan, rep, choices, route_delay)


def iter_replications(plan: Plan, choices: Sequence[ChoiceSet], workers: int = 1,
                      route_delay: Mapping[int, float] | None = None
                      ) -> Iterator[ReplicationResult]:
    """Yield replication results in completion order (serial when workers <= 1).

    `route_delay`: learnt hours per route index added to route choice (sim.equilibrium).
    """
    jobs = [(plan, r, choices, route_delay) for r in range(plan.replications)]
    if workers <= 1 or len(jobs) <= 1:
        yield from map(_one, jobs)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(_one, jobs)


def run(scenario: Scenario | str | Path | Plan, *, seed: int | None = None,
        replications: int | None = None, days: float | None = None, workers: int = 1,
        progress: bool | None = None) -> Results:
    """Simulate every replication of a scenario and return its `Results`.

    `progress=None` shows a bar only when stderr is a terminal and there is more than one
    replication; True shows a bar on a terminal and plain lines otherwise (the first when
    the replications start); False shows nothing.
    """
    from sim.equilibrium import solve
    from sim.progress import Progress
    from sim.results import Results

    start = time.perf_counter()
    plan = scenario if isinstance(scenario, Plan) else prepare(
        scenario, seed=seed, replications=replications, days=days)
    choices = choice_sets(plan)
    eq = solve(plan, choices)  # demand response to cost, MSA feedback of simulated delays
    plan = eq.plan
    if progress is None:
        progress = sys.stderr.isatty() and plan.replications > 1
    reps: list[ReplicationResult] = []
    with Progress(plan.replications, 0, plan.name, None if progress else False,
                  unit="replications", transient=True) as bar:
        for result in iter_replications(plan, choices, workers, eq.route_delay):
            reps.append(result)
            bar.advance()
    reps.sort(key=lambda r: r.replication)
    return Results(plan=plan, replications=reps, wall_seconds=time.perf_counter() - start,
                   equilibrium=eq.report.as_dict())
