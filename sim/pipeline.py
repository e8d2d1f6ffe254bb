"""The pipeline every command runs: load -> validate -> build a Plan -> settle -> replicate.

- `prepare` loads a scenario file (if given a path), validates it, builds its `Plan` and
  applies run settings (seed, replications, days) through `sim.network.revise`.
- `settle` (`sim.equilibrium`) finds every flow's candidate routes, lets demand answer to
  generalized cost and, when asked, feeds simulated delays back (MSA): the plan that is then
  replicated, with what route choice learnt.
- `replicate` simulates every replication of a settled plan, serially or on a local process
  pool, into `Results`. Replication r of seed s always draws from the streams (s, r,
  component), whichever executor runs it, so results are identical on every executor.

`sim.run`, `cqsim run`, `compare`, `rank`, `calibrate` and every sweep run go through these
functions, so no command settles or replicates a plan its own way.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError

from sim.errors import InputError
from sim.network import Plan, blame_unjoined, build, revise, with_horizon_days
from sim.scenario import MIN_DAYS, Replications, Scenario, Seed, as_scenario
from sim.specs import expected
from sim.units import MAX_DAYS

if TYPE_CHECKING:  # the engine and tables load on the first run, not for bad input
    from collections.abc import Mapping

    from sim.demand import MarketPasses
    from sim.engine.recorder import ReplicationResult
    from sim.equilibrium import Settled
    from sim.results import Results
    from sim.routing import ChoiceSet


# the run settings a caller passes as keywords, each as the scenario field it sets takes it
# (`days`, the horizon's), and the processes of a run
KEYWORDS: dict[str, Any] = {
    "seed": Seed, "replications": Replications, "workers": Annotated[int, Field(ge=1)],
    "days": Annotated[float, Field(ge=MIN_DAYS, le=MAX_DAYS, allow_inf_nan=False)]}


def check_keywords(**given: object) -> None:
    """Refuse a keyword's value (`days=0`) in the keyword's name ("days: expected at least
    1"): the caller typed it, not the scenario file's field it sets. None is not given."""
    for name, value in given.items():
        if value is None:
            continue
        try:   # as `revise` takes it then
            TypeAdapter(KEYWORDS[name]).validate_python(value)
        except ValidationError as exc:
            raise InputError(name, "", expected(exc.errors()[0], words=True), value) from None


def with_run_settings(plan: Plan, *, seed: int | None = None, replications: int | None = None,
                      days: float | None = None) -> Plan:
    """`plan` with the run settings given (None keeps the plan's); `days` keeps the warm-up
    when it is shorter than the new horizon, else drops it."""
    check_keywords(seed=seed, replications=replications, days=days)
    if days is not None:
        plan = with_horizon_days(plan, days)
    return revise(plan, seed=seed, replications=replications)


def prepare(scenario: Scenario | str | Path, *, seed: int | None = None,
            replications: int | None = None, days: float | None = None) -> Plan:
    """Load (if a path), validate and build the plan with its run settings; InputError on
    bad input."""
    plan = build(as_scenario(scenario, "prepare"))
    return with_run_settings(plan, seed=seed, replications=replications, days=days)


_CHOICES: list[tuple[Plan, tuple[ChoiceSet, ...]]] = []   # per-process memo, newest last
CHOICES_KEPT = 4


def choices_of(plan: Plan) -> tuple[ChoiceSet, ...]:
    """The route choice sets of `plan`: those of one of the last few plans seen in this
    process with the same candidates (`sim.demand.same_candidates`: network, routing, lots,
    flows and their values of time), else enumerated and remembered. What `settle` starts
    from; a pathway reads its route keys from them without settling."""
    from sim.demand import same_candidates
    from sim.routing import choice_sets

    choices = next((c for known, c in _CHOICES if same_candidates(known, plan)), None)
    if choices is None:
        choices = tuple(choice_sets(plan))
        _CHOICES.append((plan, choices))
        del _CHOICES[:-CHOICES_KEPT]
    return choices


def settle(plan: Plan, choices: Sequence[ChoiceSet] | None = None,
           initial_delay: Mapping[int, float] | None = None,
           initial_unforeseen: Mapping[int, float] | None = None,
           given_reference: Mapping[int, MarketPasses] | None = None) -> Settled:
    """Choice sets (unless given, e.g. by `sim.boundary.admit`), demand response and delay
    feedback of `plan` (see `sim.equilibrium`).

    Without `choices`, the choice sets of the last few plans settled in this process are
    reused when `plan` has the same candidates (`sim.demand.same_candidates`: network,
    routing, lots, flows and their values of time): the variants of an uncertainty study that
    vary demand, values or elasticities then enumerate their routes once. `initial_delay`:
    learnt delay per route index to start from (a pathway's previous year);
    `initial_unforeseen`: its part the congestion picture does not show (`sim.equilibrium`);
    `given_reference`: the market reference already settled, per replication (a comparison's
    base run, see `sim.equilibrium.settles_reference_of`)."""
    from sim.equilibrium import settle as settle_plan

    if choices is None:
        choices = choices_of(plan)
    return settle_plan(plan, choices, initial_delay,
                       initial_unforeseen=initial_unforeseen, given_reference=given_reference)


def replicate_one(settled: Settled, replication: int) -> ReplicationResult:
    """Simulate replication `replication` of a settled plan (settled again on its own
    streams first when the plan asks for `equilibrium.per_replication`), its settling
    report and settled market state attached: every executor runs a replication the same
    way."""
    from sim.engine import simulate
    from sim.equilibrium import for_replication

    own = for_replication(settled, replication)
    result = simulate(own.plan, replication, own.choices, own.route_unforeseen,
                      own.route_spread, route_delay_event=own.route_unforeseen_event,
                      event_until=own.event_until)
    result.equilibrium = own.report.as_dict()
    result.market_passes = own.market_passes
    return result


def replicate(settled: Settled, *, workers: int = 1, progress: bool | None = None,
              started: float | None = None) -> Results:
    """Every replication of a settled plan, serially or on `workers` processes.

    `progress=None` shows a bar only when stderr is a terminal and there is more than one
    replication; True shows a bar on a terminal and plain lines otherwise (the first when
    the replications start); False shows nothing. `started`: when the run began (for
    `Results.wall_seconds`), default now.
    """
    from sim.equilibrium import combined
    from sim.progress import Progress
    from sim.results import Results

    start = time.perf_counter() if started is None else started
    plan = settled.plan
    if progress is None:
        progress = sys.stderr.isatty() and plan.replications > 1
    one = partial(replicate_one, settled)
    reps: list[ReplicationResult] = []
    with Progress(plan.replications, 0, plan.name, None if progress else False,
                  unit="replications", transient=True) as bar:
        if workers <= 1 or plan.replications <= 1:
            done = map(one, range(plan.replications))
            for result in done:
                reps.append(result)
                bar.advance()
        else:
            from sim.extensions import carried

            with ProcessPoolExecutor(max_workers=min(workers, plan.replications)) as pool:
                for result in pool.map(carried(one), range(plan.replications)):
                    reps.append(result)
                    bar.advance()
    reps.sort(key=lambda r: r.replication)
    return Results(plan=plan, replications=reps, wall_seconds=time.perf_counter() - start,
                   equilibrium=combined([r.equilibrium for r in reps]))


def run(scenario: Scenario | str | Path | Plan, *, seed: int | None = None,
        replications: int | None = None, days: float | None = None, workers: int = 1,
        progress: bool | None = None, choices: Sequence[ChoiceSet] | None = None,
        given_reference: Mapping[int, MarketPasses] | None = None,
        name: str | None = None) -> Results:
    """Simulate every replication of a scenario (a file, a `Scenario` or a built `Plan`) and
    return its `Results`; `seed`, `replications` and `days` override the scenario's, for a
    Plan as for a file. `progress`: see `replicate`; `choices`: the plan's route choice sets
    when already found (the input boundary finds them to estimate the cost of a run);
    `given_reference`: see `settle`; `name`: what the run is called in its folder and a
    report (default the scenario's). The files it reads are hashed as it starts
    (`sim.inputs.record`), so its folder says what it ran."""
    from sim.inputs import record

    start = time.perf_counter()
    check_keywords(seed=seed, replications=replications, days=days, workers=workers)
    if isinstance(scenario, Plan):
        loaded, plan = None, scenario
    else:
        loaded = as_scenario(scenario, "run")
        plan = build(loaded)
    plan = with_run_settings(plan, seed=seed, replications=replications, days=days)
    origin = record(plan)
    try:
        settled = settle(plan, choices, given_reference=given_reference)
    except InputError as exc:   # a flow no service joins: the removal that cut it, if one did
        if loaded is None:
            raise
        raise blame_unjoined(loaded, exc) from None
    results = replicate(settled, workers=workers, progress=progress, started=start)
    results.name, results.origin = name or plan.name, origin
    return results
