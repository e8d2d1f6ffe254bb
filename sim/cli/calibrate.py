"""`cqsim calibrate`: the simulated figures of a scenario against the published ones, fitting
and validation figures apart; `--estimate` re-estimates the market model's free parameters
through the simulation and writes the estimates file the scenario reads."""

from __future__ import annotations

import datetime as dt
import os
import shlex
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sim.cli.common import (
    IMPORTS,
    InputPath,
    OutPath,
    admitted,
    limit_options,
    limits,
    named_inputs,
    override_options,
    show_warning,
)
from sim.errors import InputError

if TYPE_CHECKING:
    from sim.boundary import Admitted
    from sim.budget import Limits
    from sim.calibration import CalibrationTarget
    from sim.network import Plan

# the tables `cqsim calibrate` prints, one per role of a figure (`sim.calibration.ROLES`):
# role -> (heading, what its figures are called)
ROLE_TABLES = {
    "fit": ("FITTING figures (a parameter was set or estimated to each: they check the fit, "
            "not the model)", "fitting figures"),
    "validate": ("VALIDATION figures (held out: nothing was set to them)",
                 "validation figures"),
    "dependent": ("DEPENDENT figures (a held parameter was once set or estimated to each, "
                  "or each shares its source series with a fitting figure: not independent "
                  "evidence)",
                  "dependent figures"),
    "check": ("ACCOUNTING CHECKS (mostly inputs derived from or summing to the figure: in "
              "band, the network carried its inputs; they do not validate the model)",
              "accounting checks"),
}


@click.command(name="calibrate")
@click.argument("scenario", type=InputPath(path_type=Path))
@override_options
@click.option("--targets", "targets_file", type=InputPath(path_type=Path), default=None,
              help="Calibration table (default: seeds/calibration.csv).")
@click.option("--out", type=OutPath(), default=None,
              help="Also write the comparison as CSV to this file (replacing only a table "
                   "cqsim wrote, unless --overwrite).")
@click.option("--overwrite", is_flag=True,
              help="Replace --out or --estimates-out even when it is a file cqsim did not "
                   "write.")
@click.option("--estimate", is_flag=True,
              help="Re-estimate the market model's free parameters (the market.choice paths "
                   "and shares of empties that fitting figures name) through the "
                   "simulation, then evaluate.")
@click.option("--estimates-out", type=click.Path(path_type=Path), default=None,
              help="Where --estimate writes (default: estimates/<scenario stem>.yaml beside "
                   "the scenario; replacing only an estimates file cqsim wrote, unless "
                   "--overwrite).")
@click.option("--max-passes", type=click.IntRange(min=1, max=50), default=10,
              show_default=True, help="Estimation passes at most.")
@click.option("--no-variants", is_flag=True,
              help="Skip the runs of the other scenarios the table's `scenario` column names "
                   "(for baseline-2023, the maintenance records: a second scenario's runs, "
                   "which more than double the time); their figures are shown as not measured. "
                   "Fitting figures never name one, so the exit status is the same.")
@limit_options
@IMPORTS
def calibrate_cmd(scenario: Path, seed: int | None, replications: int | None,
                  days: float | None, workers: int, targets_file: Path | None,
                  out: Path | None, overwrite: bool, estimate: bool,
                  estimates_out: Path | None, max_passes: int, no_variants: bool,
                  max_memory: float, max_events: float, no_limit: bool) -> None:
    """Simulate SCENARIO and compare it with the published figures, fitting and validation
    figures apart; exit 1 if a fitting figure is out of its band. Counts are annualised over
    the days measured. A figure of another scenario (the table's `scenario` column) is
    measured on its run, with SCENARIO's seed, replications and horizon, when that scenario
    is SCENARIO plus changes (not at all with --no-variants)."""
    from sim.calibration import load_calibration_targets, unknown_names
    from sim.targets import seeds_dir
    from sim.units import DAYS_PER_YEAR, stats_days

    if estimates_out is not None and not estimate:   # it would be ignored without a word
        raise click.UsageError("--estimates-out: expected --estimate too (only an estimation "
                               "writes an estimates file)")
    targets = load_calibration_targets(targets_file)
    # --out before the scenario is prepared (seconds): not a folder, a device, a named input,
    # a file cqsim did not write; the files the scenario reads are known once it is
    if out is not None:
        check_table_out(out, overwrite, [*named_inputs(), *seeds_dir().glob("*")])
    checked = admitted(scenario, seed, replications, days, workers, max_memory, max_events,
                       no_limit)
    others = _other_scenarios(checked, targets, workers,
                              limits(max_memory, max_events, no_limit), skip=no_variants)
    from sim.boundary import Admitted
    from sim.inputs import read_files

    variants = [a for a in others.values() if isinstance(a, Admitted)]
    # neither output may replace a file the run reads, --overwrite or not: the scenarios and
    # what they read, --targets, and the seeds (the default table of figures, their sources)
    reads = [*named_inputs(), *read_files([checked.scenario, *(a.scenario for a in variants)]),
             *seeds_dir().glob("*")]
    if out is not None:   # again, now that every file the scenario reads is known
        out = check_table_out(out, overwrite, reads)
    if estimate:   # checked before the estimation runs, which takes minutes
        estimates_out = _check_estimation(checked, scenario, targets, targets_file, out,
                                          estimates_out, overwrite, reads)
    plan = checked.plan
    unknown = unknown_names([t for t in targets if not t.scenario], plan) + [
        name for file, a in others.items() if isinstance(a, Admitted)
        for name in unknown_names([t for t in targets if t.scenario == file], a.plan)]
    if unknown:
        show_warning(f"{targets_file or 'seeds/calibration.csv'}: {len(unknown)} name(s) this "
                     f"scenario does not have, so those figures measure nothing: "
                     f"{'; '.join(unknown[:4])}{' ...' if len(unknown) > 4 else ''}")
    measured = stats_days(plan.horizon)
    if measured < DAYS_PER_YEAR and len(set(plan.seasonality)) > 1:
        show_warning(f"{plan.source_file}: {measured:g} days measured with seasonality on: "
                     "counts annualised from part of a year carry that part's season "
                     "(measure a whole year, e.g. --days 365 plus the warm-up)")

    from sim import cache
    from sim.atomic import write_csv
    from sim.calibration import calibrate, calibration_frame
    from sim.cli.render import calibration_table, console
    from sim.pipeline import run

    cache.release()     # the input is accepted: the runs and the estimation store at once
    screen = console(160)
    choices: tuple | None = checked.choices
    runs_of: dict[str, tuple[Plan, tuple | None]] = {   # the other scenarios to run
        file: (a.plan, a.choices) for file, a in others.items() if isinstance(a, Admitted)}
    if estimate:
        from sim.market.estimates import write_estimates
        if plan.replications < 2:   # the figures' CI is not known: their noise reads as 0
            show_warning(f"{scenario}: --estimate with one replication: the standard errors "
                         "leave out the simulation's noise (2 or more measure it)")
        from sim.market.estimation import estimate as run_estimation
        from sim.market.estimation import set_param
        from sim.network import revise

        result = run_estimation(
            plan, targets, lambda p: run(p, workers=workers, progress=False),
            max_passes=max_passes, progress=screen.print)
        target = estimates_out
        assert target is not None   # checked above
        write_estimates(target, scenario.stem, dt.date.today().isoformat(),
                        "cqsim " + shlex.join(["calibrate", *sys.argv[2:]]),
                        [r.target.id for r in result.rows], result.estimates,
                        result.correlation)
        screen.print(f"estimated in {result.passes} pass(es)"
                     f"{'' if result.converged else ' (not converged: the closest pass kept)'}; "
                     f"wrote {target}")
        for e in result.estimates:
            screen.print(f"  {e.path} = {e.value:.4g} ± {e.se:.2g} (se)")
        assert plan.market is not None   # checked with the options
        section = plan.market.section
        for e in result.estimates:
            section = set_param(section, e.path, e.value)
        plan, choices = revise(plan, section=section), None
        for file, (other, _) in list(runs_of.items()):   # other scenarios' figures too
            if other.market is not None:
                section = other.market.section
                for e in result.estimates:
                    section = set_param(section, e.path, e.value)
                runs_of[file] = (revise(other, section=section), None)
    results = run(plan, workers=workers, choices=choices)
    rows = calibrate(results, targets, {
        file: a if isinstance(a, str) else run(runs_of[file][0], workers=workers,
                                                choices=runs_of[file][1])
        for file, a in others.items()})
    reps = len(results.replications)
    measured_text = f"{measured:g} days measured, {reps} replication(s)" + (
        "  (± = 95% CI)" if reps > 1 else "")
    by_role = {role: [r for r in rows if r.target.role == role] for role in ROLE_TABLES}
    for role, (heading, _) in ROLE_TABLES.items():
        if by_role[role] or role == "fit":
            screen.print(calibration_table(by_role[role],
                                           f"{plan.name}: {heading}, {measured_text}"))
    if out is not None:
        write_csv(out, calibration_frame(rows))
        screen.print(f"wrote {out}", soft_wrap=True)
    off = {role: [r.target.id for r in got if not r.ok and not r.not_measured]
           for role, got in by_role.items()}
    held = [role for role in ROLE_TABLES if role != "fit"]
    for role in held:
        if off[role]:
            screen.print(f"{ROLE_TABLES[role][1]} outside their band: {', '.join(off[role])}")
    for why in dict.fromkeys(r.not_measured for r in rows if r.not_measured):
        ids = ", ".join(r.target.id for r in rows if r.not_measured == why)
        screen.print(f"{ids}: {why}", soft_wrap=True)
    unmeasured = {role: sum(bool(r.not_measured) for r in got) for role, got in by_role.items()}
    if off["fit"]:
        screen.print(f"[bold red]fitting figures outside the band:[/bold red] "
                     f"{', '.join(off['fit'])}")
        raise SystemExit(1)
    fitted = (f"all {len(by_role['fit'])} fitting figures within their bands" if not
              unmeasured["fit"] else f"{len(by_role['fit']) - unmeasured['fit']} of "
              f"{len(by_role['fit'])} fitting figures within their bands "
              f"({unmeasured['fit']} not measured)")
    screen.print(f"{fitted}; " + " and ".join(
        f"{len(by_role[r]) - len(off[r]) - unmeasured[r]} of {len(by_role[r])} "
        f"{ROLE_TABLES[r][1]}" + (f" ({unmeasured[r]} not measured)" if unmeasured[r] else "")
        for r in held) + " within theirs")


def _other_scenarios(checked: Admitted, targets: list[CalibrationTarget], workers: int,
                     limits: Limits | None, skip: bool = False) -> dict[str, Admitted | str]:
    """Each scenario file the figures name (`CalibrationTarget.scenario`), admitted as `cqsim
    compare` admits an alternative (the calibrated scenario's seed, replications and horizon,
    the limits applied to all the runs together), or why its figures are not measured: no
    such file beside the calibrated scenario, or it is not the calibrated scenario plus
    changes (`sim.scenario.not_changes_of`), so a figure of baseline-2023's maintenance is
    not read off another base's, or `skip` (`--no-variants`: their runs are left out, to save
    their time)."""
    from sim.boundary import admit
    from sim.budget import check, combine
    from sim.calibration import variant_scenario

    base, plan = checked.scenario, checked.plan
    out: dict[str, Admitted | str] = {}
    for name in dict.fromkeys(t.scenario for t in targets if t.scenario):
        if skip:
            out[name] = f"not measured: --no-variants (the runs of {name} were skipped)"
            continue
        loaded = variant_scenario(base.source_file, name)
        if isinstance(loaded, str):
            out[name] = loaded
            continue
        out[name] = admit(loaded, seed=plan.seed, replications=plan.replications,
                          days=plan.horizon.days, workers=workers, limits=None)
    runs = [a for a in out.values() if not isinstance(a, str)]
    if limits is not None and runs:   # each alone, then all together, as compare checks them
        for a in runs:
            check(a.estimate, limits, a.scenario.source_file or a.scenario.name)
        check(combine([checked.estimate, *(a.estimate for a in runs)]), limits,
              base.source_file or base.name,
              what=f"calibration with {len(runs)} other scenario(s)")
    return out


def _check_estimation(checked: Admitted, scenario: Path, targets: list[CalibrationTarget],
                      targets_file: Path | None, out: Path | None,
                      estimates_out: Path | None, overwrite: bool,
                      reads: list[Path]) -> Path:
    """Where `--estimate` writes (`--estimates-out`, default estimates/<scenario stem>.yaml
    beside the scenario), refused before the estimation runs: not a file cqsim may write,
    one the run reads (its own estimates file excepted), --out, a scenario without a market
    section, or a fitting figure naming a parameter the scenario does not have."""
    from sim.calibration import CALIBRATION_FILE
    from sim.market.estimates import ESTIMATES_MARKER
    from sim.market.estimation import free_parameters, get_param, start_problem
    from sim.staging import begins_with, check_file_out
    from sim.targets import seeds_dir

    market = checked.scenario.market   # an estimation rewrites its own estimates file
    own = os.path.realpath(market.estimates) if market and market.estimates else None
    target = check_file_out(
        estimates_out or scenario.parent / "estimates" / f"{scenario.stem}.yaml",
        ours=begins_with(ESTIMATES_MARKER), what="an estimates file", overwrite=overwrite,
        option="--estimates-out", inputs=[f for f in reads if os.path.realpath(f) != own])
    if target == out:   # the table would replace the estimates without a word
        raise InputError("--estimates-out", "", "a file other than --out", str(out))
    plan = checked.plan
    if plan.market is None:
        raise click.UsageError(f"{scenario}: --estimate needs a market section")
    for path, figure in free_parameters(targets):   # before the minutes of running
        try:
            value = get_param(plan.market.section, path)
        except ValueError:
            raise InputError(targets_file or seeds_dir() / CALIBRATION_FILE,
                             f"{figure.id}.parameter", "a market.choice parameter or a "
                             "share of empties of gateways with lanes in this scenario",
                             path) from None
        problem = start_problem(path, value)
        if problem:
            raise InputError(str(scenario), path, problem, f"{value:g}")
    return target


def check_table_out(out: Path, overwrite: bool, inputs: Iterable[str | os.PathLike[str]]
                    ) -> Path:
    """The calibration table's `--out`, refused (`sim.staging.check_file_out`) when it is not
    a file cqsim may write or replace, or is one of `inputs`."""
    from sim.calibration import CALIBRATION_COLUMNS
    from sim.staging import check_file_out, first_line

    return check_file_out(out, ours=first_line(",".join(CALIBRATION_COLUMNS)),
                          what="a table", overwrite=overwrite, inputs=inputs)
