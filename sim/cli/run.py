"""`cqsim run` and `cqsim validate`."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd
from rich.console import Console
from rich.table import Table

from sim.checks import flagged
from sim.network import build
from sim.results import Results
from sim.routing import choice_sets
from sim.scenario import load_scenario


def corridor_table(results: Results) -> Table:
    """The per-corridor KPI table printed after a run."""
    df = results.corridors
    reps = len(results.replications)
    table = Table(title=f"{results.plan.name}: {results.plan.horizon.days:g} days, "
                        f"{reps} replication(s), seed {results.plan.seed}"
                        + ("  (± = 95% CI)" if reps > 1 else ""))
    for col in ("corridor", "TEU", "trade bn CNY", "transit d", "p95 d", "wait d", "CO2 kt"):
        table.add_column(col, justify="left" if col == "corridor" else "right")

    def fmt(row: pd.Series, col: str, scale: float = 1.0, digits: int = 0,
            ci: bool = True) -> str:
        value = row[col] / scale
        if pd.isna(value):
            return "-"
        text = f"{value:,.{digits}f}"
        half = row.get(f"{col}_ci95")
        if ci and half is not None and not pd.isna(half):
            text += f" ± {half / scale:,.{digits}f}"
        return text

    for _, row in df.iterrows():
        table.add_row(str(row["corridor"]), fmt(row, "teu"),
                      fmt(row, "trade_value_cny", 1e9, 1),
                      fmt(row, "transit_mean_h", 24, 1, False),
                      fmt(row, "transit_p95_h", 24, 1, False),
                      fmt(row, "wait_mean_h", 24, 1, False),
                      fmt(row, "co2_t", 1e3, 1, False))
    total = df["teu"].sum()
    value = df["trade_value_cny"].sum() / 1e9
    table.add_row("total", f"{total:,.0f}", f"{value:,.1f}", "", "", "", "",
                  style="bold")
    return table


def equilibrium_lines(results: Results) -> list[str]:
    """How demand answered to cost and whether the delay feedback settled (sim.equilibrium)."""
    eq = results.equilibrium
    if not eq:
        return []
    plan = results.plan
    induced = eq.get("induced_teu_per_year") or 0.0
    text = (f"demand: elasticity {plan.elasticity:g} to generalized cost vs "
            f"{Path(plan.reference_scenario).name if plan.reference_scenario else 'own network'}"
            f": {induced:+,.0f} TEU/yr induced (flow factors {eq['demand_factor_min']:.3f}-"
            f"{eq['demand_factor_max']:.3f})")
    if eq.get("passes"):
        gap, tolerance = eq.get("gap"), eq.get("tolerance")
        text += (f"; delay feedback (MSA): {eq['passes']} pass(es), "
                 f"{'converged' if eq['converged'] else 'not converged'}, last change of "
                 f"route flows {_percent(gap):.1f}% (tolerance {_percent(tolerance):g}%)")
    return [text]


def _percent(share: object) -> float:
    """A share from the equilibrium report as a percentage (NaN when not measured)."""
    return float(share) * 100 if isinstance(share, (int, float)) else float("nan")


@click.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--out", "out", type=click.Path(path_type=Path), default=None,
              help="Directory for tables, flows.gpkg and map.png (default out/<name>).")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Override the seed.")
@click.option("--replications", type=click.IntRange(min=1), default=None,
              help="Override the number of replications.")
@click.option("--days", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Override the horizon in days.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Processes for replications (same results for any number).")
@click.option("--no-map", is_flag=True, help="Skip map.png (faster).")
def run(scenario: Path, out: Path | None, seed: int | None, replications: int | None,
        days: float | None, workers: int, no_map: bool) -> None:
    """Simulate SCENARIO and write its results."""
    from sim.outputs import write_results
    from sim.runner import prepare
    from sim.runner import run as run_plan

    plan = prepare(scenario, seed=seed, replications=replications, days=days)
    results = run_plan(plan, workers=workers)
    out = out or Path("out") / plan.name
    write_results(results, out, map_png=not no_map)
    console = Console(width=None if Console().is_terminal else 110)
    console.print(corridor_table(results))
    from sim.trade import attainment_lines
    for line in attainment_lines(results) + equilibrium_lines(results):
        console.print(line)
    cons = results.by_replication("conservation")
    console.print(
        f"conservation: created {cons['created_teu'].sum():,.0f} TEU = delivered "
        f"{cons['delivered_teu'].sum():,.0f} + in transit {cons['in_transit_teu'].sum():,.0f} "
        f"+ waiting {cons['waiting_teu'].sum():,.0f} (all replications; residual "
        f"{cons['residual_teu'].abs().max():.2g}) - OK")
    console.print(f"wrote {out}/ in {results.wall_seconds:.1f} s of simulation")
    notes = flagged(results.summary("checks"))
    if notes:
        click.echo(f"cqsim: warning: {'; '.join(notes)} (see {out}/checks.csv)", err=True)


@click.command()
@click.argument("scenario", type=click.Path(path_type=Path))
def validate(scenario: Path) -> None:
    """Check SCENARIO (schema, geodata, references, routes) without running it."""
    plan = build(load_scenario(scenario))
    choices = choice_sets(plan)
    routes = sum(len(cs.routes) for cs in choices)
    click.echo(f"{scenario}: valid ({len(plan.network.hubs)} hubs, "
               f"{len(plan.network.links)} links, {len(plan.network.lines)} lines, "
               f"{len(plan.flows)} flows, {routes} candidate routes)")
