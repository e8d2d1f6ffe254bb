"""`cqsim pathway`: year by year from the base year, with growth, expansions and carry-over."""

from __future__ import annotations

from pathlib import Path

import click

from sim.cli.common import (
    IMPORTS,
    InputPath,
    executor_options,
    limits,
    one_executor,
    study_limit_options,
)


@click.command()
@click.argument("pathway_file", type=InputPath(path_type=Path))
@click.option("--to", "to", type=click.IntRange(min=1900, max=2200), default=None,
              help="Last year simulated (default: the file's, 2035).")
@click.option("--samples", type=click.IntRange(min=1, max=10_000), default=None,
              help="Draws of the growth rates (default: the file's).")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Results folder (default out/pathways/<name>).")
@executor_options
@click.option("--resume", is_flag=True, help="Continue an interrupted pathway in --out.")
@study_limit_options
@IMPORTS
def pathway(pathway_file: Path, to: int | None, samples: int | None, out: Path | None,
            workers: int | None, scheduler: str | None, local_cluster: bool,
            resume: bool, max_memory: float, max_events: float, no_limit: bool) -> None:
    """Simulate PATHWAY_FILE year by year; write pathway.csv and the fan chart fan.png."""
    from sim.boundary import part_year_note
    from sim.errors import absolute
    from sim.paths import default_out
    from sim.pathway import load_pathway, run_pathway
    from sim.trade import GOODS_TRADE

    one_executor(scheduler, local_cluster)
    spec, base = load_pathway(pathway_file, to, samples)
    out = out or default_out(spec.name, folder="pathways")   # a slug: no "..", no "/"
    result = run_pathway(pathway_file, out, to=to, samples=samples, workers=workers,
                         scheduler=scheduler, local_cluster=local_cluster, resume=resume,
                         limits=limits(max_memory, max_events, no_limit))
    trade = result.table[result.table["kpi"] == GOODS_TRADE]
    y, goal = result.target_year, result.target
    for row in trade.to_dict("records"):
        click.echo(f"{row['year']}: goods trade {row['p50']:.1f} bn CNY/yr (5-95%: "
                   f"{row['p5']:.1f}-{row['p95']:.1f}, {row['samples']} samples); mean "
                   f"{row[f'attainment_of_{y}_target_pct']:.1f}% of the {y} target "
                   f"({goal:g} bn CNY/yr), P(>= it) {row[f'p_meet_{y}_target']:.2f} "
                   f"(95% CI {row[f'p_meet_{y}_target_ci95_low']:.2f}-"
                   f"{row[f'p_meet_{y}_target_ci95_high']:.2f})")
    for note in result.notes:
        click.echo(f"note: {note}")
    # said on stderr before the runs; said again beside the figures it qualifies: a 60-day
    # pathway's "2023: goods trade 560.0 bn CNY/yr" read as the model missing 2023's 713.7
    part = part_year_note(base, spec.days, absolute(pathway_file))
    if part:
        click.echo(f"note: {part}")
    click.echo(f"{result.executor}, {result.wall_seconds:.1f} s -> {out}/ (pathway.csv, "
               f"fan.png)")
    if result.failed:
        click.echo(f"cqsim: {result.failed} sample(s) failed; errors in "
                   f"{out}/pathway_runs.parquet; --resume retries them", err=True)
        raise SystemExit(1)
