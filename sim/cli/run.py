"""`cqsim run` and `cqsim validate`."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--out", "out", type=click.Path(path_type=Path), default=None,
              help="Directory for tables, flows.gpkg, map.png and report.html "
                   "(default out/<name>).")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Override the seed.")
@click.option("--replications", type=click.IntRange(min=1), default=None,
              help="Override the number of replications.")
@click.option("--days", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Override the horizon in days.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Processes for replications (same results for any number).")
@click.option("--no-map", is_flag=True, help="Skip map.png (faster).")
@click.option("--no-report", is_flag=True, help="Skip report.html (faster).")
@click.option("--progress", is_flag=True,
              help="Report progress on stderr even when it is not a terminal (plain lines; "
                   "the first when the replications start).")
def run(scenario: Path, out: Path | None, seed: int | None, replications: int | None,
        days: float | None, workers: int, no_map: bool, no_report: bool,
        progress: bool) -> None:
    """Simulate SCENARIO and write its results."""
    from sim.outputs import Writers, write_results
    from sim.pipeline import prepare
    from sim.pipeline import run as run_plan

    plan = prepare(scenario, seed=seed, replications=replications, days=days)
    # helper processes import what flows.gpkg, map.png and report.html need meanwhile
    writers = Writers(map_png=not no_map, report=not no_report)
    try:
        results = run_plan(plan, workers=workers, progress=True if progress else None)
    except BaseException:
        writers.cancel()
        raise
    out = out or Path("out") / plan.name

    from sim.checks import flagged
    from sim.cli.render import console, corridor_table, equilibrium_lines
    from sim.trade import attainment_lines

    write_results(results, out, writers=writers)
    screen = console(110)
    screen.print(corridor_table(results))
    for line in attainment_lines(results) + equilibrium_lines(results):
        screen.print(line)
    cons = results.by_replication("conservation")
    screen.print(
        f"conservation over the horizon: created {cons['created_teu_horizon'].sum():,.0f} TEU"
        f" = delivered {cons['delivered_teu_horizon'].sum():,.0f} + in transit "
        f"{cons['in_transit_teu'].sum():,.0f} "
        f"+ waiting {cons['waiting_teu'].sum():,.0f} (all replications; residual "
        f"{cons['residual_teu'].abs().max():.2g}) - OK")
    screen.print(f"wrote {out}/ in {results.wall_seconds:.1f} s of simulation")
    notes = flagged(results.summary("checks"))
    if notes:
        click.echo(f"cqsim: warning: {'; '.join(notes)} (see {out}/checks.csv)", err=True)


@click.command()
@click.argument("scenario", type=click.Path(path_type=Path))
def validate(scenario: Path) -> None:
    """Check SCENARIO (schema, geodata, references, routes) without running it."""
    from sim.network import build
    from sim.routing import choice_sets
    from sim.scenario import load_scenario

    plan = build(load_scenario(scenario))
    choices = choice_sets(plan)
    routes = sum(len(cs.routes) for cs in choices)
    click.echo(f"{scenario}: valid ({len(plan.network.hubs)} hubs, "
               f"{len(plan.network.links)} links, {len(plan.network.lines)} lines, "
               f"{len(plan.flows)} flows, {routes} candidate routes)")
