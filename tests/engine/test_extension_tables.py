"""An added kind's own table: a name another table has is refused, and so is a row key its
table does not declare (trial49 #1: a dry port's table named `hubs` gave hub `d` NaN TEU in
hubs.csv, one named `routes` replaced routes.csv, both without a word)."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

import sim
from sim.components import unregister
from sim.engine.hub import Hub
from sim.engine.recorder import all_tables, component_tables
from sim.errors import InputError
from sim.kpis import Table, col, remove_kpi
from tests.support.worked_example import cqsim_in_repo, dry_port_network, example_code


@pytest.fixture()
def example() -> Iterator[types.ModuleType]:
    module = types.ModuleType("architecture_example_tables")
    sys.modules[module.__name__] = module
    try:
        for block in example_code():
            exec(compile(block, "architecture.md", "exec"), module.__dict__)
        yield module
    finally:
        unregister("dry_port")
        remove_kpi("slow_share")
        sys.modules.pop(module.__name__, None)


def _own_table_named(monkeypatch: pytest.MonkeyPatch, example: types.ModuleType,
                     name: str) -> None:
    """The example's table renamed `name`, its rows written under that name (the probes)."""
    port = example.DryPort
    monkeypatch.setattr(port, "tables", (*Hub.tables, Table(name, ("hub",), (
        col("hub"), col("inspections", "jobs", "year", "jobs inspected")))))
    rows = port.rows

    def renamed(self: object, period: float, end: float) -> Iterator[tuple[str, dict]]:
        for table, row in rows(self, period, end):
            yield (name if table == "dry_ports" else table), row

    monkeypatch.setattr(port, "rows", renamed)


@pytest.mark.parametrize("name, whose", [("hubs", "declared by sim.engine.hub.Hub"),
                                         ("routes", "the recorder's own table")])
def test_a_kind_table_named_like_another_is_refused(
        example: types.ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        name: str, whose: str) -> None:
    _own_table_named(monkeypatch, example, name)
    with pytest.raises(InputError) as err:
        component_tables()
    assert err.value.field == "DryPort.tables" and err.value.got == name
    assert whose in err.value.expected and "architecture_example_tables" in err.value.file
    with pytest.raises(InputError):
        all_tables()
    with pytest.raises(InputError):   # a run refuses it too: no NaN rows, no table replaced
        sim.run(dry_port_network(tmp_path, inspected_share=0.5, inspection_hours=48.0),
                replications=1)


def test_the_same_declaration_twice_is_one_table(example: types.ModuleType,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A kind built on Hub keeps Hub's tables (the same declarations): one table each."""
    monkeypatch.setattr(example.DryPort, "tables", (*Hub.tables, *Hub.tables))
    names = [t.name for t in component_tables()]
    assert names.count("hubs") == 1 and "dry_ports" not in names


def test_a_row_key_the_table_does_not_declare_is_refused(
        example: types.ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    rows = example.DryPort.rows

    def misspelt(self: object, period: float, end: float) -> Iterator[tuple[str, dict]]:
        for table, row in rows(self, period, end):
            if table == "dry_ports":
                row = {"hub": row["hub"], "inspectons": row["inspections"]}
            yield table, row

    monkeypatch.setattr(example.DryPort, "rows", misspelt)
    with pytest.raises(InputError) as err:
        sim.run(dry_port_network(tmp_path, inspected_share=0.5, inspection_hours=48.0),
                replications=1)
    assert err.value.file == "table dry_ports" and err.value.got == "inspectons"
    assert "hub, inspections" in err.value.expected


@pytest.mark.parametrize("name", ["routes", "dry_port"])
def test_rows_of_a_table_no_kind_declares_are_refused(
        example: types.ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        name: str) -> None:
    """Rows written under a recorder table's name joined that table's rows (routes.csv
    gained a row of a hub), and under a misspelt name were dropped: both are refused."""
    rows = example.DryPort.rows

    def renamed(self: object, period: float, end: float) -> Iterator[tuple[str, dict]]:
        for table, row in rows(self, period, end):
            yield (name if table == "dry_ports" else table), row

    monkeypatch.setattr(example.DryPort, "rows", renamed)
    with pytest.raises(InputError) as err:
        sim.run(dry_port_network(tmp_path, inspected_share=0.5, inspection_hours=48.0),
                replications=1)
    assert err.value.field == "DryPort.rows" and err.value.got == name
    assert "dry_ports" in err.value.expected


def test_the_command_line_refuses_the_clash_as_it_imports(tmp_path: Path) -> None:
    """One line naming the module, the class and the table, exit 2, nothing written."""
    code = example_code()[0].replace('Table("dry_ports"', 'Table("routes"')
    assert code != example_code()[0]
    (tmp_path / "clash_port.py").write_text(code, encoding="utf-8")
    scenario = dry_port_network(tmp_path, inspected_share=0.5, inspection_hours=1.0)
    out = tmp_path / "out"
    done = cqsim_in_repo("run", "--import", tmp_path / "clash_port.py", scenario,
                         "--replications", "1", "--workers", "1", "--out", out)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "module clash_port: DryPort.tables" in lines[0], lines
    assert "'routes'" in lines[0] and not out.exists()


def test_a_kind_table_adds_figures_to_a_sweep_run(example: types.ModuleType,
                                                  tmp_path: Path) -> None:
    """A sweep's run row carried nothing of an added kind's table (trial49 #5): a peak or a
    sum over it, declared with `add_run_figure`, is a column of the row, labelled as
    declared."""
    from sim.kpis import Peak, Summed, add_run_figure, label, remove_run_figure
    from sim.pipeline import prepare, replicate_one, settle
    from sim.sweep.tasks import run_kpis

    total = Summed(name="total_inspections", table="dry_ports", source="inspections_per_year",
                   unit="jobs", per="year", label="jobs inspected, all dry ports")
    busiest = Peak(name="max_inspections", table="dry_ports", source="inspections_per_year",
                   key="hub", unit="jobs", label="most jobs inspected at a dry port")
    plan = prepare(dry_port_network(tmp_path, inspected_share=0.5, inspection_hours=48.0),
                   replications=1)
    try:
        for figure in (total, busiest):
            assert add_run_figure(figure) is figure
        add_run_figure(total)                   # the module imported again: kept once
        with pytest.raises(ValueError, match="already declared"):
            add_run_figure(Summed(name="total_inspections", table="dry_ports",
                                  source="inspections", unit="jobs", per="year"))
        result = replicate_one(settle(plan), 0)
        row = run_kpis(result, plan)
        inspected = float(result.tables["dry_ports"]["inspections_per_year"].sum())
        assert inspected > 0
        assert row["total_inspections_per_year"] == row["max_inspections"] == inspected
        assert row["max_inspections_at"] == "d"
        assert label("total_inspections_per_year") == \
            "jobs inspected, all dry ports, jobs/yr"
        # a figure named as a column cqsim writes of each run overwrote it, relabelled
        # (the total TEU: review51 #5): refused when declared, or, for a name only a run
        # shows taken (a corridor's, the conservation's), when the row is made
        with pytest.raises(ValueError, match="'total_teu_per_year': a column cqsim writes"):
            add_run_figure(Summed(name="total_teu", table="dry_ports",
                                  source="inspections_per_year", unit="TEU", per="year"))
        add_run_figure(Summed(name="west_teu", table="dry_ports",
                              source="inspections_per_year", unit="TEU", per="year"))
        with pytest.raises(ValueError, match="'west_teu_per_year' is one cqsim writes"):
            run_kpis(result, plan)
    finally:
        remove_run_figure("total_inspections")
        remove_run_figure("max_inspections")
        remove_run_figure("west_teu")
