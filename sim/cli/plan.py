"""`cqsim plan`: the cheapest portfolio of candidate expansions that meets a trade target."""

from __future__ import annotations

import math
from pathlib import Path

import click

from sim.cli.common import (
    IMPORTS,
    Finite,
    InputPath,
    executor_options,
    limits,
    one_executor,
    study_limit_options,
)
from sim.stats import meeting, resolved
from sim.units import CNY_PER_BN


@click.command()
@click.argument("candidates_file", type=InputPath(path_type=Path))
@click.option("--target", type=Finite(min=0), default=None,
              help="Goods trade target, bn CNY/yr (default: seeds/targets.csv "
                   "goods_trade_2025; with another --year it is that 2025 figure to be met "
                   "then, which the command warns of).")
@click.option("--year", type=click.IntRange(min=1900, max=2200), default=2025,
              show_default=True, help="Year the target is to be met.")
@click.option("--probability", type=Finite(min=0, max=1, min_open=True, max_open=True),
              default=0.8, show_default=True, help="Required P(trade >= target).")
@click.option("--first", type=click.IntRange(min=2, max=1000), default=4, show_default=True,
              help="Replications of every portfolio in the first screening stage.")
@click.option("--most", type=click.IntRange(min=2, max=10_000), default=64,
              show_default=True, help="Replications at most per portfolio in screening "
                                      "(P(meet) >= 0.8 among the 324 portfolios of "
                                      "scenarios/candidates/plan-2025.yaml for 2025 needs 43 "
                                      "to show one feasible, 6 infeasible: "
                                      "sim.planner.replications_to_decide; the command warns "
                                      "before any run when --most is below either: too few "
                                      "to decide any, or to show one feasible).")
@click.option("--confirm", type=click.IntRange(min=0, max=10_000), default=32,
              show_default=True, help="Fresh replications that confirm the choice.")
@click.option("--cost", "cost", type=click.Choice(["to-target", "whole-life"]),
              default="to-target", show_default=True,
              help="Cost the search minimises: capital + operating cost up to --year, "
                   "undiscounted; or whole-life, their present value at --discount-rate over "
                   "--appraisal-years. Both are reported.")
@click.option("--discount-rate", type=Finite(min=0, max=100), default=8.0, show_default=True,
              help="Social discount rate of the whole-life cost, %/yr (China's Methods and "
                   "Parameters for Economic Evaluation of Construction Projects, 3rd ed., "
                   "2006: 8).")
@click.option("--appraisal-years", type=click.IntRange(min=1, max=200), default=30,
              show_default=True, help="Years of the whole-life cost from the candidates' "
                                      "decided_from (assumption: 30, see docs/planning.md).")
@click.option("--no-monotone", is_flag=True,
              help="Do not assume that a subset of an infeasible portfolio is infeasible.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Results folder (default out/plan/<candidates name>).")
@executor_options
@study_limit_options
@IMPORTS
def plan(candidates_file: Path, target: float | None, year: int, probability: float, first: int,
         most: int, confirm: int, cost: str, discount_rate: float, appraisal_years: int,
         no_monotone: bool, out: Path | None, workers: int | None,
         scheduler: str | None, local_cluster: bool, max_memory: float, max_events: float,
         no_limit: bool) -> None:
    """Search CANDIDATES_FILE's portfolios; write plan.csv, frontier.csv, frontier.png."""
    from sim.boundary import part_year_note
    from sim.errors import absolute
    from sim.paths import default_out
    from sim.planner import Appraisal, Costs, label, load_candidates, run_plan

    one_executor(scheduler, local_cluster)
    if most < first:
        raise click.UsageError(f"--most: expected at least --first ({first}), got {most}")
    from sim.trade import references

    published = None
    if target is None:      # one home for the figure: seeds/targets.csv
        published = references()[1]
        target = published.bn_cny
    spec, base = load_candidates(candidates_file)
    out = out or default_out(spec.name, folder="plan")   # a slug: no "..", no "/"
    appraisal = Appraisal(cost, discount_rate, appraisal_years)
    _, result, _ = run_plan(candidates_file, out, target=target, year=year,
                            probability=probability, first=first, most=most, confirm=confirm,
                            monotone=not no_monotone, workers=workers, scheduler=scheduler,
                            local_cluster=local_cluster,
                            limits=limits(max_memory, max_events, no_limit),
                            appraisal=appraisal, target_of=published)
    held = ("--target" if published is None else published.cited() if published.year == year
            else f"the {published.year} target, {published.cited()}")
    click.echo(f"target: {target:g} bn CNY/yr of goods trade in {year} ({held}), with P >= "
               f"{probability:g}; cheapest by {cost} cost")

    def costs(c: Costs) -> str:
        return (f"cost to {year} {c.to_target / CNY_PER_BN:.2f} bn CNY (undiscounted), then "
                f"{c.operating_after / CNY_PER_BN:.2f} bn CNY/yr of operating cost; whole-life "
                f"{c.whole_life / CNY_PER_BN:.2f} bn CNY ({appraisal.describe(spec.decided_from)})")

    if result.chosen is not None:
        c = result.confirmation
        said = ("not confirmed (--confirm 0)" if c is None else
                f"P(trade >= {target:g} bn CNY/yr) on {c.replications} fresh replications: "
                f"{c.p_meet:.2f} (95% CI {c.ci95[0]:.2f}-{c.ci95[1]:.2f})")
        click.echo(f"chosen: {label(result.chosen.portfolio)}; {costs(result.chosen.costs)}; "
                   f"{said}")
    for note in result.notes:
        click.echo(f"note: {note}")
    screened = [s for s in result.screened if s.trade.size]
    # ties (every portfolio at 0.00 when none comes near) go to the most trade: the first of
    # them was the empty portfolio, "highest P(meet) screened: (nothing)" (trial51)
    best = max(screened, key=lambda s: (s.p_meet(target), s.trade.mean()), default=None)
    if best is not None:
        click.echo(f"highest P(meet) screened: {label(best.portfolio)}: "
                   f"{best.p_meet(target):.2f} over {meeting(best.trade, target)[1]} "
                   "replications, mean "
                   f"trade {best.trade.mean():.1f} bn CNY/yr; {costs(best.costs)}")
    alone = result.alone()
    if alone:   # where money goes: each candidate on its own, most trade per CNY first
        click.echo(f"trade each candidate adds alone in {year} over none (paired 95% CI over "
                   f"{min(a.pairs for _, a in alone)}+ replications), per bn CNY of its {cost} "
                   "cost, most first: " + "; ".join(
                       f"{label(s.portfolio)} {a.bn_cny_per_year:+.2f} ± {a.ci95:.2f} bn CNY/yr"
                       f"{'' if resolved(a.bn_cny_per_year, a.ci95) else ' (not told from 0)'}"
                       f" for {s.cost / CNY_PER_BN:.2f} bn CNY: {a.per_bn_cny:+.3f}"
                       + ("" if math.isnan(a.per_bn_cny_ci95) else
                          f" ± {a.per_bn_cny_ci95:.3f}") + " bn CNY/yr per bn CNY"
                       for s, a in alone))
        click.echo("note: this order reads each candidate's first replications (--first): "
                   "where the intervals overlap it is not a resolved order; run cqsim compare "
                   "per candidate with more replications to resolve it (docs/planning.md, "
                   "\"Where money goes furthest\")")
    # said on stderr before the runs and in plan.csv's note; said again beside the figures
    # it qualifies ("mean trade 596.0 bn CNY/yr" of a 60-day plan, against 900 a year)
    part = part_year_note(base, spec.days, absolute(candidates_file))
    if part:
        click.echo(f"note: {part}")
    click.echo(f"{len(screened)} portfolios screened -> {out}/ (plan.csv, frontier.csv, "
               "frontier.png)")
