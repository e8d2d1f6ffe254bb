"""The data dictionary (`sim.data_dictionary`, docs/outputs.md): every column of cqsim's
result tables has a label and a unit, the doc is what the declarations give now, and what the
dictionary says of a column (text or number, a CI in the summary) is what a run writes."""

from __future__ import annotations

import pandas as pd
import pytest

import sim
from sim.engine.recorder import all_tables, shipped_tables
from sim.kpis import Table, col
from sim.results import DICTIONARY_COLUMNS, data_dictionary, outputs_markdown
from tests.support.paths import ROOT

DOC = ROOT / "docs" / "outputs.md"
OK = ROOT / "tests" / "bad_inputs" / "ok.yaml"  # 3 hubs, 10 days: a run of a second


@pytest.mark.parametrize("table", shipped_tables(), ids=lambda t: t.name)
def test_every_column_of_cqsim_has_a_label_and_a_unit(table: Table) -> None:
    """A column without them is one an analyst cannot read (a user trial found 109 without a
    label, 66 without a unit)."""
    missing = [c.column for c in table.columns if not c.label.strip() or not c.unit.strip()]
    assert not missing, f"{table.name}: no label or no unit for {missing}"


def test_docs_outputs_md_is_what_the_declarations_give() -> None:
    assert DOC.read_text() == outputs_markdown(), (
        "docs/outputs.md is stale: write it again with `python -m sim.results docs/outputs.md`")


def test_the_dictionary_has_a_row_per_declared_column() -> None:
    found = data_dictionary()
    assert tuple(found.columns) == DICTIONARY_COLUMNS
    declared = [(t.name, c.column) for t in all_tables() for c in t.columns]
    assert list(zip(found["table"], found["column"], strict=True)) == declared
    assert set(found["period"]) <= {"per year", "per week", "over the horizon", "none"}
    for row in found.itertuples():
        suffix = {"per year": "_per_year", "per week": "_per_week",
                  "over the horizon": "_horizon"}.get(row.period)
        assert suffix is None or row.column.endswith(suffix), row
    assert sim.data_dictionary().equals(found)    # the package's API


def test_an_added_kinds_column_without_a_unit_reads_as_text() -> None:
    """An extension may declare a text column without a unit (docs/architecture.md, "Worked
    example"): the dictionary calls it text; a number without a unit shows no unit."""
    table = Table("dry_ports", ("hub",), (col("hub"), col("inspections", per="year")))
    found = data_dictionary([table]).set_index("column")
    assert found.loc["hub", "unit"] == "text"
    assert found.loc["hub", "summary"] == "key: names the row"
    assert found.loc["inspections_per_year", "unit"] == ""
    assert found.loc["inspections_per_year", "period"] == "per year"


def test_the_checks_table_declares_the_columns_hub_check_writes() -> None:
    """checks.csv is declared column by column beside `sim.checks.hub_check`, which writes
    it (one home; a list of its columns was kept apart from the declaration): every key of a
    row it writes is a declared column, in order."""
    from sim.checks import CHECKS, QueueCounts, hub_check

    checks = next(t for t in shipped_tables() if t.name == "checks")
    assert checks is CHECKS
    row = hub_check(QueueCounts(hub="h", servers=2, arrivals=100, jobs=98, busy=150.0,
                                busy_sq=260.0, gaps=99, gap_sum=990.0, gap_sq=11000.0,
                                wait_sum=40.0), period=1000.0, warmup=100.0)
    assert list(row) == [c.name for c in CHECKS.columns]


@pytest.fixture(scope="module")
def results() -> sim.Results:
    return sim.run(sim.load_scenario(OK), replications=2)


def test_a_run_holds_what_the_dictionary_says(results: sim.Results) -> None:
    """Text columns hold words, the others numbers, and the summary has `<col>_ci95` exactly
    where the dictionary says so."""
    found = data_dictionary()
    checked = 0
    for name in results.names:
        rows = results.by_replication(name)
        summary = results.summary(name)
        if rows.empty:
            continue
        for r in found[found["table"] == name].itertuples():
            text = r.unit == "text"
            assert pd.api.types.is_numeric_dtype(rows[r.column]) != text, (name, r.column)
            ci = f"{r.column}_ci95"
            assert (ci in summary.columns) == (f"95% CI in {ci}" in r.summary), (name, r.column)
            checked += 1
    assert checked > 100
