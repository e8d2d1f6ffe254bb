"""`cqsim calibrate`: the simulated figures of a scenario against the published ones, fitting
and validation figures apart; `--estimate` re-estimates the market model's free parameters
through the simulation and writes the estimates file the scenario reads."""

from __future__ import annotations

import datetime as dt
import shlex
import sys
from pathlib import Path

import click


@click.command(name="calibrate")
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--replications", type=click.IntRange(min=1), default=None,
              help="Override the number of replications.")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Override the seed.")
@click.option("--days", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Override the horizon (counts are annualised over what is simulated).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Processes for replications.")
@click.option("--targets", "targets_file", type=click.Path(path_type=Path), default=None,
              help="Calibration table (default: seeds/calibration.csv).")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Also write the comparison as CSV to this file.")
@click.option("--estimate", is_flag=True,
              help="Re-estimate the market model's free parameters (the market.choice paths "
                   "fitting figures name) through the simulation, then evaluate.")
@click.option("--estimates-out", type=click.Path(path_type=Path), default=None,
              help="Where --estimate writes (default: estimates/<scenario stem>.yaml beside "
                   "the scenario).")
@click.option("--max-passes", type=click.IntRange(min=1, max=50), default=10,
              show_default=True, help="Estimation passes at most.")
def calibrate_cmd(scenario: Path, replications: int | None, seed: int | None,
                  days: float | None, workers: int, targets_file: Path | None,
                  out: Path | None, estimate: bool, estimates_out: Path | None,
                  max_passes: int) -> None:
    """Simulate SCENARIO and compare it with the published figures, fitting and validation
    figures apart; exit 1 if a fitting figure is out of its band."""
    from sim.atomic import write_csv
    from sim.calibration import calibrate, calibration_frame, load_calibration_targets
    from sim.cli.render import calibration_table, console
    from sim.network import revise
    from sim.pipeline import prepare, run

    targets = load_calibration_targets(targets_file)
    plan = prepare(scenario, seed=seed, replications=replications, days=days)
    screen = console(160)
    if estimate:
        from sim.market.estimates import write_estimates
        from sim.market.estimation import estimate as run_estimation

        if plan.market is None:
            raise click.UsageError(f"{scenario}: --estimate needs a market section")
        result = run_estimation(
            plan, targets, lambda p: run(p, workers=workers, progress=False),
            max_passes=max_passes, progress=screen.print)
        target = estimates_out or scenario.parent / "estimates" / f"{scenario.stem}.yaml"
        write_estimates(target, scenario.stem, dt.date.today().isoformat(),
                        "cqsim " + shlex.join(["calibrate", *sys.argv[2:]]),
                        [r.target.id for r in result.rows], result.estimates)
        screen.print(f"estimated in {result.passes} pass(es)"
                     f"{'' if result.converged else ' (not converged: the closest pass kept)'}; "
                     f"wrote {target}")
        for e in result.estimates:
            screen.print(f"  {e.path} = {e.value:.4g} ± {e.se:.2g} (se)")
        choice = plan.market.section.choice
        from sim.market.estimation import set_param

        for e in result.estimates:
            choice = set_param(choice, e.path, e.value)
        plan = revise(plan, choice=choice)
    results = run(plan, workers=workers)
    rows = calibrate(results, targets)
    reps = len(results.replications)
    measured = f"{plan.horizon.days - plan.horizon.warmup_days:g} days measured, " \
               f"{reps} replication(s)" + ("  (± = 95% CI)" if reps > 1 else "")
    fitting = [r for r in rows if r.target.role == "fit"]
    validating = [r for r in rows if r.target.role == "validate"]
    screen.print(calibration_table(
        fitting, f"{plan.name}: FITTING figures (a parameter was set or estimated to each: "
                 f"they check the fit, not the model), {measured}"))
    if validating:
        screen.print(calibration_table(
            validating, f"{plan.name}: VALIDATION figures (held out: nothing was set to "
                        f"them), {measured}"))
    if out is not None:
        write_csv(out, calibration_frame(rows))
        screen.print(f"wrote {out}")
    outside = [r.target.id for r in fitting if not r.ok]
    missed = [r.target.id for r in validating if not r.ok]
    if missed:
        screen.print(f"validation figures outside their band: {', '.join(missed)}")
    if outside:
        screen.print(f"[bold red]fitting figures outside the band:[/bold red] "
                     f"{', '.join(outside)}")
        raise SystemExit(1)
    screen.print(f"all {len(fitting)} fitting figures within their bands; "
                 f"{len(validating) - len(missed)} of {len(validating)} validation figures "
                 f"within theirs")
