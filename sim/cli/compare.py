"""`cqsim compare` (paired deltas with common random numbers) and `cqsim rank` (what to fund
first)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from sim.cli.common import (
    DAYS,
    IMPORTS,
    OVERWRITE,
    WORKERS,
    InputPath,
    OutPath,
    check_out_place,
    limit_options,
    limits,
    named_inputs,
    show_warning,
)
from sim.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Callable

    from matplotlib.figure import Figure
    from rich.console import Console

    from sim.compare import Comparison, Variant
    from sim.scenario import Scenario
    from sim.staging import ResultFolder

PLACEBO_COMPARE = "placebo_compare.csv"          # each ALT's deltas paired with the placebo

ALLOW_UNRELATED = click.option(
    "--allow-unrelated", is_flag=True,
    help="Accept alternatives that are not BASE plus changes (another extends chain, or one "
         "through a file that edits more than changes).")


def _variant_report(cmp: Comparison, out: ResultFolder) -> list[str]:
    """Write each variant's results to its own run directory in the staging folder of `out`
    (base first) and a report.html comparing them; return what was written, as the "wrote"
    line names it (a folder with its slash)."""
    from sim.outputs import run_about, write_run
    from sim.report import write_report
    from sim.staging import write_manifest

    dirs = []
    for v, name in zip([cmp.base, *cmp.alts], _run_folder_names(cmp), strict=True):
        folder = out.path / name
        write_run(v.results, folder, map_png=False)
        write_manifest(folder, "run.json", {"command": "run", **run_about(v.results)})
        dirs.append(folder)
    write_report(dirs, out.path / "report.html", shown_as=[out.final / d.name for d in dirs])
    return ["report.html", *(f"{d.name}/" for d in dirs)]


def _run_folder_names(cmp: Comparison) -> list[str]:
    """The run directory of each variant (base first) in a comparison's folder: its place
    and its name made one safe path component (`0-<base>`, `1-<alt>`, ...)."""
    from sim.paths import safe_slug

    return [f"{i}-{safe_slug(v.name) if v.name != cmp.base.name or i == 0 else 'alt'}"
            for i, v in enumerate([cmp.base, *cmp.alts])]


def _comparison_about(cmp: Comparison) -> dict[str, object]:
    """What the manifest of a comparison (compare.json, rank.json) says it is, with what the
    console says of its runs: the part year its per-year figures are annualised from
    (`season_note`, None for whole years) and each variant's checks (`warnings`, as
    `_runs_warned` words them), so a reader of the file alone sees them (rank.json kept
    none, and rank writes no run folder: trial66)."""
    from sim.compare import unmoved

    plan = cmp.base.results.plan
    return {"scenario": cmp.base.name, "alternatives": [v.name for v in cmp.alts],
            "seed": cmp.base.seed, "replications": len(cmp.base.results.replications),
            "days": plan.horizon.days, "season_note": _season_note(cmp),
            "unmoved": unmoved(cmp.deltas),
            "warnings": [said for _, said, _ in _runs_warned(cmp)],
            **({"placebo": cmp.placebo.name} if cmp.placebo is not None else {})}


def _warn_unmoved(cmp: Comparison) -> None:
    """One warning per alternative whose changes moved nothing (`sim.compare.unmoved`)."""
    from sim.compare import unmoved

    for name in unmoved(cmp.deltas):
        show_warning(f"{name}: no compared figure moved in any replication (every paired "
                     f"delta is 0): its changes have no effect in this scenario; check that "
                     f"each names a field that acts here (docs/scenarios.md)")


def _warn_placebo(cmp: Comparison) -> None:
    """One warning when the placebo moved a total (`sim.report.deltas.placebo_moved`)."""
    from sim.report.deltas import placebo_moved, placebo_said

    if cmp.placebo is None:
        return
    moved = placebo_moved(cmp.deltas, cmp.placebo.name)
    if moved:
        show_warning(f"{cmp.placebo.name}: the placebo moved the total "
                     f"({placebo_said(moved)}), an interval "
                     f"that excludes 0: the comparison carries a bias, or an unlucky draw (one "
                     f"interval in twenty), of about that size; read the variants' deltas of "
                     f"that size against the placebo ({PLACEBO_COMPARE})")


def reads(base: Scenario, others: list[Scenario]) -> tuple[Path, ...]:
    """What a comparison's --out may not hold, --overwrite or not: the files named on the
    command line and every file the variants' runs read (their chains, geodata, market
    tables, estimates)."""
    from sim.inputs import read_files

    return (*named_inputs(), *read_files([base, *others]))


def _result_folder(base: Scenario, others: list[Scenario], out: Path | None, command: str,
                   overwrite: bool) -> ResultFolder:
    """The results folder of a comparison (`out`, default out/<command>-<base name>),
    checked: not one holding a file the variants read (`reads`), nor one cqsim did not
    write unless `overwrite`."""
    from sim.paths import default_out
    from sim.staging import ResultFolder

    return ResultFolder(default_out(base.name, prefix=f"{command}-") if out is None else out,
                        command=command, overwrite=overwrite, inputs=reads(base, others))


def _unsettled_caveat(cmp: Comparison, v: Variant, command: str = "compare") -> str | None:
    """`sim.cli.render.unsettled_line` for ALT `v` when its feedback or BASE's did not settle
    (`sim.checks.unsettled_feedback`); None otherwise, and for the placebo itself (its own
    warning names what it moved: `_warn_placebo`). `command`: compare or rank, which prints
    it (rank has no --placebo)."""
    from sim.checks import unsettled_feedback
    from sim.cli.render import unsettled_line

    if v is cmp.placebo or not any(unsettled_feedback(x.results) for x in (cmp.base, v)):
        return None
    return unsettled_line(cmp.deltas, v.name,
                          None if cmp.placebo is None else cmp.placebo.name, command)


def _season_note(cmp: Comparison) -> str | None:
    """What a comparison's per-year figures are annualised from (`sim.trade.season_note`),
    None for whole years."""
    from sim.trade import season_note

    plan = cmp.base.results.plan
    return season_note(plan.season, plan.horizon)


def _print_season_note(screen: Console, cmp: Comparison) -> None:
    """The note that the deltas are per year of a part of a year (`_season_note`), and so
    are attribution's parts, printed before the tables, not after some 380 lines of them
    (trial51 F2); by compare and rank alike (rank printed none: trial66)."""
    note = _season_note(cmp)
    if note:
        screen.print(f"note: {note}" + ("; so are attribution's input growth and induced "
                                         "trade" if cmp.attribution is not None else ""),
                     soft_wrap=True)


def _runs_warned(cmp: Comparison) -> list[tuple[str, str, str]]:
    """Each finding of each variant's own checks (`sim.checks.run_warnings`, as `cqsim run`
    finds them): unstable hubs, a start before the network held its boxes in transit (a
    change of transit time then moves its delivered TEU as if it were throughput), lines
    ending with a backlog, feedback that did not settle; as (the variant's run folder, what
    is said of it, the table that shows it). What the console prints and the comparison's
    manifest keeps."""
    from sim.checks import run_warnings

    return [(folder, f"{v.name}: {w.text}" + (
                "; a change of transit time then moves the delivered TEU compared here"
                if w.table == "routes.csv" else ""), w.table)
            for v, folder in zip((cmp.base, *cmp.alts), _run_folder_names(cmp), strict=True)
            for w in run_warnings(v.results)]


def _warn_runs(cmp: Comparison, manifest: str, shown: str | None) -> None:
    """One warning per finding of each variant's own checks (`_runs_warned`), each its own
    line: joined, they ran past the cut and lost their advice. `manifest`: the comparison's
    JSON file as the console names it, which keeps each whole; `shown`: the comparison's
    folder, where each variant's tables, run.json and the report keep them too (None with
    --no-report, and for rank: no run folder is written, so no line points to one)."""
    for folder, said, table in _runs_warned(cmp):
        if shown is None:
            show_warning(said, manifest)
        else:
            show_warning(f"{said} (see its {table})",
                         f"{shown}/{folder}/run.json and {shown}/report.html")


@click.command()
@click.argument("base", type=InputPath(path_type=Path))
@click.argument("alts", nargs=-1, required=True, type=InputPath(path_type=Path))
@click.option("--replications", type=int, default=None,
              help="Replications per variant (default: BASE's; at least 2 for a CI).")
@click.option("--days", type=DAYS, default=None, help="Override the horizon in days.")
@click.option("--out", type=OutPath(), default=None,
              help="Folder for compare.csv, compare.json, attribution.csv, locks_compare.csv, "
                   "hubs_compare.csv, lines_compare.csv, bottlenecks.csv, compare.png, "
                   "daily.png, the variants' run "
                   "folders and report.html (default out/compare-<base>), written whole.")
@OVERWRITE
@click.option("--independent", is_flag=True,
              help="Run each ALT with a shifted seed (no common random numbers), to see the "
                   "CI without CRN.")
@click.option("--workers", type=WORKERS, default=1, show_default=True,
              help="Processes for the replications (same results for any number).")
@click.option("--no-report", is_flag=True,
              help="Skip the run directories of the variants and report.html (faster).")
@click.option("--placebo", type=InputPath(path_type=Path), default=None,
              help="BASE with a change too small to matter (scenarios/placebo.yaml): run as "
                   "one more ALT, and every ALT is also paired with it "
                   "(placebo_compare.csv, placebo_attribution.csv): what a comparison "
                   "reports when nothing happens, and each ALT's change beyond that.")
@ALLOW_UNRELATED
@limit_options
@IMPORTS
def compare(base: Path, alts: tuple[Path, ...], replications: int | None, days: float | None,
            out: Path | None, overwrite: bool, independent: bool, workers: int, no_report: bool,
            placebo: Path | None, allow_unrelated: bool, max_memory: float, max_events: float,
            no_limit: bool) -> None:
    """Paired deltas ALT − BASE (throughput, trade, transit, CO2) and bottlenecks. Each ALT
    must be BASE plus changes (see --allow-unrelated)."""
    from sim.boundary import admit_comparison
    from sim.compare import check_replications
    from sim.scenario import load_scenario

    check_out_place(out)
    base_s = load_scenario(base)
    check_replications(replications, base_s, "--replications")
    every = (*alts, placebo) if placebo is not None else alts
    variants = [load_scenario(a) for a in every]
    admit_comparison(base_s, variants, replications=replications,
                     days=days, workers=workers, related=not allow_unrelated,
                     limits=limits(max_memory, max_events, no_limit))
    from sim.atomic import write_csv, write_png
    from sim.compare import compare as run_compare
    from sim.compare import draw_comparison, draw_daily, split_deltas
    from sim.kpis import PLACES
    from sim.report.rundir import ATTRIBUTION_FILE, PLACEBO_ATTRIBUTION_FILE
    from sim.staging import replaced_line

    with _result_folder(base_s, variants, out, "compare", overwrite) as folder:
        cmp = run_compare(base_s, variants[:len(alts)], replications=replications, days=days,
                          independent=independent, workers=workers,
                          placebo=variants[-1] if placebo is not None else None,
                          allow_unrelated=True)   # admitted above, by --allow-unrelated's rule
        channels, at_places = split_deltas(cmp.deltas)
        tables = {"compare.csv": channels}
        for place, frame in at_places.items():   # only where it has a row: most divert nothing
            if len(frame):
                tables[PLACES[place].file] = frame
        if cmp.attribution is not None:
            tables[ATTRIBUTION_FILE] = cmp.attribution
        if cmp.against_placebo is not None:
            tables[PLACEBO_COMPARE] = split_deltas(cmp.against_placebo)[0]
            if cmp.attribution_placebo is not None:
                tables[PLACEBO_ATTRIBUTION_FILE] = cmp.attribution_placebo
        tables["bottlenecks.csv"] = cmp.bottlenecks
        for name, frame in tables.items():
            write_csv(folder.path / name, frame)
        import matplotlib.pyplot as plt

        # compare.png's source line names the table of its deltas, written above
        figures: dict[str, tuple[Callable[[Comparison], Figure], int]] = {
            "compare.png": (lambda c: draw_comparison(c, file="compare.csv"), 120),
            "daily.png": (draw_daily, 110)}
        for name, (draw, dpi) in figures.items():
            fig = draw(cmp)
            write_png(folder.path / name, fig, dpi=dpi)
            plt.close(fig)
        # the "wrote" line names every file, from the files written
        written = [*tables, *figures]
        if not no_report:
            written += _variant_report(cmp, folder)
        folder.commit("compare.json", _comparison_about(cmp))
        written.append("compare.json")

    from sim.cli.render import (
        attribution_table,
        bottleneck_table,
        console,
        delta_table,
        place_delta_table,
        unresolved_lines,
    )
    screen = console(120)
    reps = len(cmp.base.results.replications)
    pairing = "independent seeds" if independent else f"common random numbers, seed " \
                                                      f"{cmp.base.seed}"
    _print_season_note(screen, cmp)
    for v in cmp.alts:
        screen.print(delta_table(cmp.deltas, v.name, reps, pairing, paired=not independent))
        for line in unresolved_lines(cmp.deltas, v.name):
            screen.print(line, soft_wrap=True)
        caveat = _unsettled_caveat(cmp, v)
        if caveat:
            screen.print(caveat, soft_wrap=True)
        for place in PLACES:
            at = place_delta_table(cmp.deltas, v.name, place, paired=not independent)
            if at is not None:
                screen.print(at)
        if cmp.attribution is not None:
            screen.print(attribution_table(cmp.attribution, v.name, paired=not independent))
        if cmp.placebo is not None and cmp.against_placebo is not None \
                and v is not cmp.placebo:        # (set together: both for the type checker)
            screen.print(delta_table(cmp.against_placebo, v.name, reps, pairing,
                                     against=cmp.placebo.name, paired=not independent))
            if cmp.attribution_placebo is not None:
                screen.print(attribution_table(cmp.attribution_placebo, v.name,
                                               against=cmp.placebo.name,
                                               paired=not independent))
    screen.print(bottleneck_table(cmp.bottlenecks))
    screen.print(f"wrote {folder.target.shown}/{', '.join(written)}", soft_wrap=True)
    if folder.replaced:
        screen.print(replaced_line(folder), soft_wrap=True)
    _warn_unmoved(cmp)
    _warn_runs(cmp, f"{folder.target.shown}/compare.json",
               None if no_report else folder.target.shown)
    _warn_placebo(cmp)


@click.command()
@click.argument("base", type=InputPath(path_type=Path))
@click.argument("files", nargs=-1, type=InputPath(path_type=Path))
@click.option("--changes", "changes", multiple=True, type=InputPath(path_type=Path),
              help="A candidate: a file with a `changes:` list, or a scenario that extends "
                   "BASE (repeatable; positional FILES work too).")
@click.option("--candidate", "named", multiple=True, metavar="NAME=FILE",
              help="A candidate with an explicit name (repeatable).")
@click.option("--replications", type=int, default=None,
              help="Replications per candidate (default: BASE's; at least 2 for a CI).")
@click.option("--days", type=DAYS, default=None, help="Override the horizon in days.")
@click.option("--per", type=click.Choice(["capacity", "none"]), default="capacity",
              show_default=True,
              help="Rank by extra trade per TEU/yr of bottleneck capacity added (those "
                   "adding none apart, by extra trade), or all by extra trade.")
@click.option("--out", type=OutPath(), default=None,
              help="Folder for rank.csv, compare.csv and rank.json (default out/rank-<base>), "
                   "written whole.")
@OVERWRITE
@click.option("--workers", type=WORKERS, default=1, show_default=True,
              help="Processes for the replications (same results for any number).")
@ALLOW_UNRELATED
@limit_options
@IMPORTS
def rank(base: Path, files: tuple[Path, ...], changes: tuple[Path, ...],
         named: tuple[str, ...], replications: int | None, days: float | None, per: str,
         out: Path | None, overwrite: bool, workers: int, allow_unrelated: bool,
         max_memory: float,
         max_events: float, no_limit: bool) -> None:
    """Rank candidate expansions of BASE: extra TEU and trade per TEU/yr of bottleneck
    capacity added. A candidate is a changes file, or a scenario that is BASE plus changes."""
    from sim.boundary import admit_comparison
    from sim.compare import check_replications
    from sim.rank import candidate
    from sim.scenario import load_scenario

    check_out_place(out)
    base_s = load_scenario(base)
    check_replications(replications, base_s, "--replications")
    candidates = {}
    for path in (*files, *changes):
        c = candidate(base_s, path)
        key = c.name if c.name not in candidates else path.stem
        if key in candidates:   # two files of one name: the first would be dropped
            raise InputError(path, "name", "a candidate name used once (rename it, or "
                             "name each with --candidate NAME=FILE)", key)
        candidates[key] = c
    for item in named:
        name, sep, file = item.partition("=")
        if not sep or not name or not file:
            raise InputError("--candidate", "", "NAME=FILE", item)
        if name in candidates:
            raise InputError("--candidate", "", "a candidate name used once", name)
        candidates[name] = candidate(base_s, Path(file), name)
    if not candidates:
        raise InputError("--changes", "", "at least one candidate file")
    admit_comparison(base_s, list(candidates.values()), replications=replications,
                     days=days, workers=workers, related=not allow_unrelated,
                     limits=limits(max_memory, max_events, no_limit))
    from sim.atomic import write_csv
    from sim.compare import split_deltas
    from sim.rank import RANK_MEASURE, RANK_ORDER, RANK_TESTS, rank_notes
    from sim.rank import rank as run_rank
    from sim.staging import replaced_line

    with _result_folder(base_s, list(candidates.values()), out, "rank",
                        overwrite) as folder:
        table, cmp = run_rank(base_s, candidates, replications=replications, days=days,
                              workers=workers, per=per)
        tables = {"rank.csv": table, "compare.csv": split_deltas(cmp.deltas)[0]}
        for name, frame in tables.items():
            write_csv(folder.path / name, frame)
        reps_run = len(cmp.base.results.replications)
        notes = rank_notes(table, reps_run)
        folder.commit("rank.json", {**_comparison_about(cmp), "per": per,
                                    "measure": RANK_MEASURE, "order": RANK_ORDER[per],
                                    "tests": RANK_TESTS, "notes": notes})
        written = [*tables, "rank.json"]    # the "wrote" line names every file
    from sim.cli.render import console, rank_tables, unresolved_lines

    screen = console(120)
    reps = len(cmp.base.results.replications)
    _print_season_note(screen, cmp)
    for shown in rank_tables(table, base_s.name, reps):
        screen.print(shown)
    screen.print(f"{RANK_MEASURE}; {RANK_ORDER[per]}; {RANK_TESTS}", soft_wrap=True)
    by_name = {v.name: v for v in cmp.alts}
    for name in table["candidate"]:     # as compare says it, candidate by candidate
        for line in unresolved_lines(cmp.deltas, str(name)):
            screen.print(line, soft_wrap=True)
        caveat = (_unsettled_caveat(cmp, by_name[str(name)], "rank") if str(name) in by_name
                  else None)
        if caveat:
            screen.print(caveat, soft_wrap=True)
    for note in notes:
        screen.print(f"note: {note}", soft_wrap=True)
    screen.print(f"wrote {folder.target.shown}/{', '.join(written)}", soft_wrap=True)
    if folder.replaced:
        screen.print(replaced_line(folder), soft_wrap=True)
    _warn_unmoved(cmp)
    _warn_runs(cmp, f"{folder.target.shown}/rank.json", None)   # no run folder is written
