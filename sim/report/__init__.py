"""The planner's report: one self-contained HTML file (`cqsim report`) read from run
directories, for one run or a comparison (the first directory is the base)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sim.errors import InputError
from sim.paths import one_or_many
from sim.report.rundir import REPORT_FILE, RunDir

REPORT_MARKER = "<title>cqsim report"   # in the head of every report (`page.render`)


def write_report(run_dirs: Sequence[str | Path] | str | Path, out: str | Path | None = None,
                 *, shown_as: Sequence[str | Path] | None = None) -> Path:
    """Write the report of `run_dirs` (one run directory, or a list: the first the base) to
    `out` (default: report.html in the first run directory) and return its path. Reads only
    the files `cqsim run` wrote, first checked against the run's manifest
    (`RunDir.check_intact`: InputError naming a file changed since).
    `shown_as`: the folders the report names (where the runs will be once a staging folder is
    swapped in)."""
    from sim.atomic import write_text
    from sim.report.page import render
    from sim.staging import updating

    runs = [RunDir.open(p) for p in one_or_many(run_dirs)]
    for run, shown in zip(runs, shown_as or (), strict=False):
        run.shown_as = Path(shown)
    target = Path(out) if out is not None else runs[0].path / REPORT_FILE
    page = render(runs)
    try:
        # a results folder's manifest lists report.html too: its entry alone is updated
        with updating(target.parent, target.name):
            return write_text(target, page)
    except OSError as exc:
        raise InputError(target, "--out", f"a file in a place this user can write to "
                                          f"({exc.strerror or type(exc).__name__})") from None


__all__ = ["REPORT_FILE", "REPORT_MARKER", "RunDir", "write_report"]
