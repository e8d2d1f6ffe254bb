"""How low the feedback passes' gap can go on a scenario: the floor under
`equilibrium.tolerance`.

The passes (`sim.equilibrium`) stop when route flows change by less than the tolerance
between consecutive passes. A pass is a simulation with a live congestion picture: a lot
that books another route changes the queues every later lot sees, so the route flows move
by some share however well the delays have been learnt. This command measures that share
two ways on replication `R`'s streams:

- the gap series over more passes than the scenario runs (`--passes`; the tolerance out of
  reach), whose first gaps are the scenario's own: where it levels off is as low as more
  passes take it;
- the settled state run again with its learnt delays (what route choice adds to the live
  picture) scaled by 1 + s for small s (`--shares`): the route flows' gap against the run
  with the delays as learnt, what a change of the delays too small to matter moves; with
  the delays as learnt the run repeats exactly (gap 0), a change too small to turn any
  lot's choice moves nothing either, and the same delays on the next replication's streams
  give the scale of the replications' own noise.

A tolerance under the floor is never met; one just above it stops the passes by chance.
Nothing here is read at run time. Run from the repository folder: `.venv/bin/python -m
sim.feedbackgap SCENARIO [--days D] [--replication 0] [--passes N] [--shares
0.001,0.01]`.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.argtypes import positive_number, whole_number
from sim.engine import simulate
from sim.equilibrium import Settled, flow_gap, pass_plan, route_flows, settle
from sim.errors import InputError
from sim.network import Plan, revise
from sim.pipeline import prepare

SHARES = (0.001, 0.003, 0.01, 0.03)    # the delays x (1 + s): changes too small to matter
EXTRA_PASSES = 3                       # --passes by default: the scenario's and three more


@dataclass(frozen=True)
class GapFloor:
    """What `measure` found on one replication's streams."""

    replication: int
    pass_days: float
    own_passes: int                       # the passes the scenario runs, their gaps below
    own_gaps: tuple[float, ...]
    tolerance: float
    gaps: tuple[float, ...]               # over `passes` passes, the tolerance out of reach
    perturbed: tuple[tuple[float, float], ...]     # (s, gap) of the delays x (1 + s)
    other_streams: float                  # the same delays on the next replication's streams

    @property
    def passes(self) -> int:
        """The passes of the longer series."""
        return len(self.gaps) + 1

    @property
    def floor(self) -> float:
        """The least of the last two passes' gaps: as low as more passes took it."""
        return min(self.gaps[-2:], default=math.nan)


def with_passes(plan: Plan, passes: int) -> Plan:
    """`plan` settling over exactly `passes` feedback passes, whatever their gap."""
    eq = plan.equilibrium.model_copy(update={
        "max_iterations": passes, "min_iterations": passes, "tolerance": 1e-9})
    return revise(plan, equilibrium=eq)


def rerun_flows(settled: Settled, scale: float = 1.0, replication: int | None = None
                ) -> np.ndarray:
    """Route flows (TEU/yr per route) of a pass run from `settled`'s learnt state, with the
    delays route choice adds to the live picture x `scale`, on `replication`'s streams
    (default: the settling's)."""
    def scaled(delays: dict[int, float]) -> dict[int, float]:
        return {i: d * scale for i, d in delays.items()}

    result = simulate(pass_plan(settled.plan),
                      settled.replication if replication is None else replication,
                      settled.choices, scaled(settled.route_unforeseen), settled.route_spread,
                      tables=("routes",),
                      route_delay_event=scaled(settled.route_unforeseen_event),
                      event_until=settled.event_until)
    return route_flows(result, settled.choices)


def measure(plan: Plan, replication: int = 0, passes: int | None = None,
            shares: Sequence[float] = SHARES) -> GapFloor:
    """The gap floor of `plan` on `replication`'s streams (module docstring); `passes`
    defaults to the scenario's `max_iterations` plus `EXTRA_PASSES`. The longer series runs
    the scenario's own passes again from the cold start (the passes' running means are not
    resumed from a settled state), so its first gaps are the scenario's to the digit."""
    settings = plan.equilibrium
    if settings.max_iterations < 2:
        raise InputError(Path(plan.source_file), "equilibrium.max_iterations",
                         "at least 2 feedback passes (the scenario runs none, so it has no "
                         f"gap), got {settings.max_iterations}")
    own = settle(plan, replication=replication)
    n = settings.max_iterations + EXTRA_PASSES if passes is None else passes
    longer = settle(with_passes(plan, n), own.choices, replication=replication)
    learnt = rerun_flows(own)
    return GapFloor(
        replication=replication, pass_days=settings.pass_days(plan.horizon.days),
        own_passes=own.report.passes, own_gaps=own.report.gaps,
        tolerance=settings.tolerance, gaps=longer.report.gaps,
        perturbed=tuple((s, flow_gap(rerun_flows(own, 1.0 + s), learnt)) for s in shares),
        other_streams=flow_gap(rerun_flows(own, replication=replication + 1), learnt))


def lines(found: GapFloor, name: str) -> list[str]:
    """What the command prints of `found` (route flows' gaps as percentages)."""
    def pct(gaps: Sequence[float]) -> str:
        return ", ".join(f"{100 * g:.1f}%" for g in gaps) or "none"

    moved = "; ".join(f"x{1 + s:g}: {100 * g:.1f}%" for s, g in found.perturbed)
    return [
        f"{name}, replication {found.replication}, passes of {found.pass_days:g} days: the "
        "route flows' gap between consecutive passes (a box moved counts twice)",
        f"  as the scenario runs them ({found.own_passes} passes): {pct(found.own_gaps)}, "
        f"tolerance {100 * found.tolerance:g}%",
        f"  over {found.passes} passes: {pct(found.gaps)}",
        f"  the settled state run again, its learnt delays {moved}",
        f"  the same delays on replication {found.replication + 1}'s streams: "
        f"{100 * found.other_streams:.1f}%",
        f"  floor: {100 * found.floor:.1f}% (the least of the last two passes' gaps); a "
        "tolerance under it is never met"]


def _shares(text: str) -> tuple[float, ...]:
    """Comma-separated numbers in (0, 1) (argparse type of --shares)."""
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        values = ()
    if not values or not all(0 < v < 1 for v in values):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers in (0, 1), got {text!r}")
    return values


def main() -> None:
    """`python -m sim.feedbackgap`: print the gap floor of a scenario."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("scenario", type=Path)
    parser.add_argument("--days", type=positive_number("days"), default=None,
                        help="the run's horizon, as cqsim run --days (the passes run "
                             "equilibrium.days cut to it; default: the scenario's)")
    parser.add_argument("--replication", type=whole_number(0), default=0,
                        help="whose random streams the passes run on (default 0)")
    parser.add_argument("--passes", type=whole_number(2), default=None,
                        help=f"passes of the longer series (default: the scenario's "
                             f"max_iterations + {EXTRA_PASSES})")
    parser.add_argument("--shares", type=_shares, default=SHARES,
                        help="the learnt delays x (1 + s) for each s (default "
                             f"{','.join(f'{s:g}' for s in SHARES)})")
    args = parser.parse_args()
    try:
        found = measure(prepare(args.scenario, days=args.days), args.replication,
                        args.passes, args.shares)
    except InputError as exc:   # one line and exit 2, as cqsim answers bad input
        parser.exit(2, f"feedbackgap: error: {exc.message()}\n")
    print("\n".join(lines(found, args.scenario.name)))


if __name__ == "__main__":
    main()
