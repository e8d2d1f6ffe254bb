"""`cqsim sweep`: scenario variants x replications on a local pool or a Dask cluster."""

from __future__ import annotations

import os
from pathlib import Path

import click

from sim.cli.common import InputPath, held_warnings, limit_options, limits


@click.command()
@click.argument("sweep_file", type=InputPath(path_type=Path))
@click.option("--out", "out", type=click.Path(path_type=Path), default=None,
              help="Results folder (default out/sweeps/<name>).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Local processes (or LocalCluster workers); default: CPU count. "
                   "1 runs in this process.")
@click.option("--scheduler", default=None, metavar="tcp://HOST:PORT",
              help="Run on an existing Dask distributed scheduler.")
@click.option("--local-cluster", is_flag=True, help="Start a Dask LocalCluster for this sweep.")
@click.option("--resume", is_flag=True,
              help="Continue an interrupted sweep in --out: finished runs are not redone.")
@click.option("--no-plots", is_flag=True, help="Skip the PNG plots (faster).")
@limit_options
def sweep(sweep_file: Path, out: Path | None, workers: int | None, scheduler: str | None,
          local_cluster: bool, resume: bool, no_plots: bool, max_memory: float,
          max_events: float, no_limit: bool) -> None:
    """Run every variant x replication of SWEEP_FILE and write runs, summary and plots."""
    from sim.sweep import execute_sweep, load_sweep, prepare_sweep

    if scheduler and local_cluster:
        raise click.UsageError("--scheduler and --local-cluster exclude each other")
    with held_warnings():
        prepared = prepare_sweep(load_sweep(sweep_file), limits(max_memory, max_events, no_limit),
                                 workers or os.cpu_count() or 1)
    from sim.paths import default_out

    spec = prepared.spec
    out = out or default_out(spec.name, folder="sweeps")
    outcome = execute_sweep(prepared, out, workers=workers, scheduler=scheduler,
                            local_cluster=local_cluster, resume=resume, plots=not no_plots)
    from sim.cli.render import console, variant_table

    screen = console(110)
    screen.print(variant_table(outcome.summary, spec.parameters.names))
    total = len(outcome.runs)
    screen.print(f"{total} runs ({outcome.resumed} done before resume, {outcome.failed} failed)"
                  f" on {outcome.executor} in {outcome.wall_seconds:.1f} s -> {out}/")
    if outcome.failed:
        click.echo(f"cqsim: {outcome.failed} of {total} runs failed; their errors are in "
                   f"{out}/runs.parquet (status, error); --resume retries them", err=True)
        raise SystemExit(1)
