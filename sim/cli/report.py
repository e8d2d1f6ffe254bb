"""`cqsim report`: the HTML report of one run or a comparison of runs."""

from __future__ import annotations

from pathlib import Path

import click

from sim import cache
from sim.cli.common import IMPORTS, InputPath, named_inputs


@click.command()
@click.argument("run_dirs", nargs=-1, required=True,
                type=InputPath(path_type=Path, file_okay=False))
@click.option("-o", "--out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="The HTML file (default RUN_DIR/report.html of the first run; replacing "
                   "only a report cqsim wrote, unless --overwrite).")
@click.option("--overwrite", is_flag=True,
              help="Replace --out even when it is not a report cqsim wrote.")
@IMPORTS
def report(run_dirs: tuple[Path, ...], out: Path | None, overwrite: bool) -> None:
    """Write one self-contained HTML report of RUN_DIR (several: a comparison against the
    first). It works offline: open it by double-click. A RUN_DIR whose files differ from its
    manifest (run.json) is refused."""
    from sim.errors import InputError
    from sim.report import REPORT_FILE, REPORT_MARKER, RunDir, write_report
    from sim.staging import (
        begins_with,
        check_file_out,
        check_not_inside_results,
        results_file,
    )

    seen: set[Path] = set()
    for run_dir in run_dirs:
        if run_dir.resolve() in seen:
            raise InputError(run_dir, "RUN_DIR", "each run folder once (it is given twice)")
        seen.add(run_dir.resolve())
    for run_dir in run_dirs:     # not a run folder: refused before --out's folder is probed
        if not (run_dir / "run.json").is_file():     # (a file made and removed there)
            RunDir.open(run_dir)
    wanted = out if out is not None else run_dirs[0] / REPORT_FILE
    holder = results_file(wanted) if wanted.name != REPORT_FILE else None
    if holder is not None:   # said first: --overwrite, which check_file_out offers, cannot
        raise InputError(wanted, "--out", f"a file that is not one of the results of "
                                          f"{holder} (it would overwrite {wanted.name}, even "
                                          "with --overwrite)")
    from sim.report.rundir import read_by

    # nor a file a run read (its scenario, its geodata), --overwrite or not, as calibrate;
    # of a run that did not record them (written before cqsim kept them, a comparison's
    # run, not a run folder at all), no file that is not a report cqsim wrote
    read = {run_dir: read_by(run_dir) for run_dir in run_dirs}
    unknown = next((d for d, files in read.items() if files is None), None)
    target = check_file_out(wanted, ours=begins_with(REPORT_MARKER), what="a report",
                            overwrite=overwrite,
                            inputs=[*named_inputs(),
                                    *(f for files in read.values() for f in files or ())],
                            unknown_inputs="" if unknown is None else
                            f"{unknown} holds no run.json of cqsim's that records the "
                            "files its run read")
    if target.name != REPORT_FILE:      # its own report.html a results folder lists
        check_not_inside_results(str(target), target)
    cache.release()     # accepted: warnings from reading its input print before "wrote"
    path = write_report(list(run_dirs), target)
    click.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    _warn_unrelated(run_dirs)


def _warn_unrelated(run_dirs: tuple[Path, ...]) -> None:
    """Say on the console, as the report says, which run is not the first plus changes
    (`sim.report.deltas.not_a_variant`): its differences are not its changes' alone."""
    from sim.cli.common import show_warning
    from sim.report import RunDir
    from sim.report.deltas import not_a_variant

    # the report has just opened and checked them: run.json is all the rule reads
    base = RunDir(run_dirs[0])
    for run_dir in run_dirs[1:]:
        why = not_a_variant(base, RunDir(run_dir))
        if why is not None:
            show_warning(f"{run_dir}: not {base.name} plus changes ({why}): its differences "
                         "hold more than its changes; the report marks none resolved")
