"""`cqsim calibrate`: the simulated figures of a scenario against the published ones."""

from __future__ import annotations

from pathlib import Path

import click

from sim.cli.common import (
    OVERWRITE,
    InputPath,
    OutPath,
    admitted,
    limit_options,
    override_options,
    show_warning,
)


@click.command(name="calibrate")
@click.argument("scenario", type=InputPath(path_type=Path))
@override_options
@click.option("--targets", "targets_file", type=InputPath(path_type=Path), default=None,
              help="Calibration table (default: seeds/calibration.csv).")
@click.option("--out", type=OutPath(), default=None,
              help="Also write the comparison as CSV to this file (replacing only a table "
                   "cqsim wrote, unless --overwrite).")
@OVERWRITE
@limit_options
def calibrate_cmd(scenario: Path, seed: int | None, replications: int | None,
                  days: float | None, workers: int, targets_file: Path | None,
                  out: Path | None, overwrite: bool, max_memory: float, max_events: float,
                  no_limit: bool) -> None:
    """Simulate SCENARIO and compare it with the published figures; exit 1 if one is out
    of its band. Counts are annualised over the days measured."""
    from sim.calibration import load_calibration_targets
    from sim.units import DAYS_PER_YEAR, stats_days

    targets = load_calibration_targets(targets_file)
    checked = admitted(scenario, seed, replications, days, workers, max_memory, max_events,
                       no_limit)
    plan = checked.plan
    if out is not None:
        from sim.calibration import CALIBRATION_COLUMNS
        from sim.staging import check_file_out

        out = check_file_out(out, header=",".join(CALIBRATION_COLUMNS), overwrite=overwrite)
    measured = stats_days(plan.horizon)
    if measured < DAYS_PER_YEAR and len(set(plan.seasonality)) > 1:
        show_warning(f"{plan.source_file}: {measured:g} days measured with seasonality on: "
                     "counts annualised from part of a year carry that part's season "
                     "(measure a whole year, e.g. --days 365 plus the warm-up)")

    from sim.atomic import write_csv
    from sim.calibration import calibrate, calibration_frame
    from sim.cli.render import calibration_table, console
    from sim.pipeline import run

    results = run(plan, workers=workers, choices=checked.choices)
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
