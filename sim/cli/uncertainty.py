"""`cqsim uncertainty`: propagate a scenario's uncertain inputs (Sobol or Latin hypercube)."""

from __future__ import annotations

from pathlib import Path

import click

from sim.cli.common import (
    DAYS,
    IMPORTS,
    OVERWRITE,
    Finite,
    InputPath,
    check_out_place,
    executor_options,
    limits,
    one_executor,
    study_limit_options,
)


@click.command()
@click.argument("scenario", type=InputPath(path_type=Path))
@click.option("--samples", type=click.IntRange(min=4, max=100_000), default=256,
              show_default=True, help="Simulation runs asked for, noise replications "
              "included (a Sobol design may use fewer: a note says how many).")
@click.option("--method", type=click.Choice(["sobol", "lhs"]), default="sobol",
              show_default=True, help="Sobol' (Saltelli, indices) or Latin hypercube.")
@click.option("--noise-replications", type=click.IntRange(min=2, max=1000), default=8,
              show_default=True, help="Replications of the scenario as it is (noise only).")
@click.option("--seed", type=click.IntRange(min=0, max=2**32 - 1), default=12345,
              show_default=True, help="Seed of the design (not of the simulation).")
@click.option("--days", type=DAYS, default=None,
              help="Horizon of every run (default: the scenario's).")
@click.option("--target", type=Finite(min=0), default=None,
              help="Goods trade target, bn CNY/yr (default: seeds/targets.csv "
                   "goods_trade_2025).")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Results folder (default out/uncertainty/<scenario name>).")
@executor_options
@click.option("--resume", is_flag=True, help="Continue an interrupted study in --out.")
@OVERWRITE
@study_limit_options
@IMPORTS
def uncertainty(scenario: Path, samples: int, method: str, noise_replications: int, seed: int,
                days: float | None, target: float | None, out: Path | None,
                workers: int | None, scheduler: str | None, local_cluster: bool,
                resume: bool, overwrite: bool, max_memory: float, max_events: float,
                no_limit: bool) -> None:
    """Vary SCENARIO's `uncertain:` inputs and write uncertainty.csv, sobol.csv, p_meet.csv."""
    from sim.paths import default_out
    from sim.scenario import load_scenario
    from sim.uncertainty import NOISE, run_uncertainty

    one_executor(scheduler, local_cluster)
    check_out_place(out)
    scen = load_scenario(scenario)
    out = out or default_out(scen.name, folder="uncertainty")   # a slug: no "..", no "/"
    result = run_uncertainty(scen, out, samples=samples, method=method,  # type: ignore[arg-type]
                             seed=seed, noise_replications=noise_replications, days=days,
                             target=target, workers=workers, scheduler=scheduler,
                             local_cluster=local_cluster, resume=resume,
                             overwrite=overwrite, limits=limits(max_memory, max_events, no_limit))
    for row in result.p_meet.to_dict("records"):
        click.echo(f"P(goods trade >= {row['target_bn_cny_per_year']:g} bn CNY/yr), "
                   f"{row['basis']}: {row['p_meet']:.2f} (95% CI {row['ci95_low']:.2f}-"
                   f"{row['ci95_high']:.2f}, {row['runs']} runs, mean "
                   f"{row['trade_mean_bn_cny_per_year']:.1f} bn CNY/yr)")
    if len(result.sobol):
        top = (result.sobol[result.sobol["output"] == "goods_trade_bn_cny_per_year"]
               .sort_values("ST", ascending=False).head(5))
        click.echo("largest total Sobol indices of goods trade:")
        for row in top.to_dict("records"):
            click.echo(f"  {row['input']}: ST {row['ST']:.2f} +- {row['ST_ci95']:.2f}, "
                       f"S1 {row['S1']:.2f} +- {row['S1_ci95']:.2f}")
    for note in result.notes:
        click.echo(f"note: {note}")
    click.echo(f"{len(result.runs)} runs ({result.failed} failed) on {result.executor} in "
               f"{result.wall_seconds:.1f} s -> {out}/ ({NOISE}: the replications of the "
               f"scenario's own values)")
    if result.failed:
        raise SystemExit(1)
