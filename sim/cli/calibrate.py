"""`cqsim calibrate`: the simulated figures of a scenario against the published ones."""

from __future__ import annotations

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
def calibrate_cmd(scenario: Path, replications: int | None, seed: int | None,
                  days: float | None, workers: int, targets_file: Path | None,
                  out: Path | None) -> None:
    """Simulate SCENARIO and compare it with the published figures; exit 1 if one is out
    of its band."""
    from sim.atomic import write_csv
    from sim.calibration import calibrate, calibration_frame, load_calibration_targets
    from sim.cli.render import calibration_table, console
    from sim.pipeline import prepare, run

    targets = load_calibration_targets(targets_file)
    plan = prepare(scenario, seed=seed, replications=replications, days=days)
    results = run(plan, workers=workers)
    rows = calibrate(results, targets)
    reps = len(results.replications)
    screen = console(160)
    screen.print(calibration_table(
        rows, f"{plan.name}: calibration, {plan.horizon.days - plan.horizon.warmup_days:g} "
              f"days measured, {reps} replication(s)" + ("  (± = 95% CI)" if reps > 1 else "")))
    if out is not None:
        write_csv(out, calibration_frame(rows))
        screen.print(f"wrote {out}")
    outside = [r.target.id for r in rows if not r.ok]
    if outside:
        screen.print(f"[bold red]outside the band:[/bold red] {', '.join(outside)}")
        raise SystemExit(1)
    screen.print(f"all {len(rows)} calibrated figures within their bands")
