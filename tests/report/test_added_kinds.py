"""The report's section of the tables added component kinds write (docs/architecture.md,
"Worked example": the dry port's dry_ports.csv): labelled and in units as declared where the
process writing the report knows the kind, by its columns' names and with a note where it
does not; none in a run of cqsim's own kinds."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from sim.components import REGISTRY
from sim.report import RunDir, write_report
from sim.report import figures as fg
from sim.report.page import ADDED_ROWS
from tests.support.worked_example import MODULE, cqsim_in_repo

from .conftest import reseal, rows_after

SECTION = "<h2>Tables of added component kinds</h2>"
NOTE = "pass <code>--import MODULE</code> (the module of its kind) to <code>cqsim report</code>"


def _section(page: str) -> str:
    """The section of added kinds' tables (up to the next section or the footer)."""
    return page.split(SECTION, 1)[1].split("<h2>", 1)[0].split("<footer>", 1)[0]


def test_the_table_of_an_added_kind_shows_as_declared(dry_port_run: Path,
                                                     tmp_path: Path) -> None:
    """`cqsim run --import` writes a report that knows the kind, as `cqsim report --import`
    does: its table under the declaration's label and unit (jobs per year), with its CI cut
    at 0 as a count's; the tables cqsim ships (hubs.csv, checks.csv, which the kind writes
    too) are not repeated."""
    row = pd.read_csv(dry_port_run / "dry_ports.csv").iloc[0]
    value = fg.level(row["inspections_per_year"], row["inspections_per_year_ci95"], 0)
    again = cqsim_in_repo("report", "--import", MODULE, dry_port_run, "-o", tmp_path / "r.html")
    assert again.returncode == 0, again.stderr
    for page in (dry_port_run / "report.html", tmp_path / "r.html"):
        section = _section(page.read_text(encoding="utf-8"))
        assert section.count("<h3>") == 1 and "<h3>dry_ports.csv</h3>" in section, section
        assert "jobs inspected<small>jobs/yr</small>" in section, section
        assert "inspections_per_year" not in section and NOTE not in section
        assert rows_after(section, "<h3>dry_ports.csv</h3>") == [["d", value]]


def test_without_the_declaration_the_columns_show_by_name(dry_port_run: Path,
                                                          tmp_path: Path) -> None:
    """This process has not imported the kind's module: the table shows by its columns'
    names, the unit its name says, value ± CI as the file has it, and a note saying to pass
    `--import`."""
    assert "dry_port" not in REGISTRY
    row = pd.read_csv(dry_port_run / "dry_ports.csv").iloc[0]
    page = write_report([dry_port_run], tmp_path / "r.html").read_text(encoding="utf-8")
    section = _section(page)
    assert "inspections_per_year<small>/yr</small>" in section and NOTE in section, section
    assert "jobs inspected" not in section
    value = fg.pm(row["inspections_per_year"], row["inspections_per_year_ci95"], 2)
    assert rows_after(section, "<h3>dry_ports.csv</h3>") == [["d", value]]


def test_a_long_table_is_cut_saying_how_many_rows_are_left_out(dry_port_run: Path,
                                                               tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(dry_port_run, run)
    n = ADDED_ROWS + 7
    pd.DataFrame({"hub": [f"d{i}" for i in range(n)], "inspections_per_year": 1.0,
                  "inspections_per_year_ci95": 0.5}).to_csv(run / "dry_ports.csv", index=False)
    reseal(run)
    section = _section(write_report([run], tmp_path / "r.html").read_text(encoding="utf-8"))
    rows = rows_after(section, "<h3>dry_ports.csv</h3>")
    assert [r[0] for r in rows] == [f"d{i}" for i in range(ADDED_ROWS)]
    assert f"The first {ADDED_ROWS} of its {n} rows; the other 7 are in dry_ports.csv" \
        in section


def test_a_run_of_cqsim_s_own_kinds_has_no_such_section(one_run: Path) -> None:
    assert RunDir.open(one_run).added_tables() == []
    assert SECTION not in (one_run / "report.html").read_text(encoding="utf-8")
