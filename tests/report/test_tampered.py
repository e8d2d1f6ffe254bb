"""A run directory whose files were changed after the run: `cqsim report` reads each table
checked against its shape (`sim.report.rundir.SHAPES`), so what does not fit is one line
naming the file and the column, exit 2, and nothing is written (it used to crash with a
traceback, or to exit 0)."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from sim.cli import main
from sim.report import rundir as rd
from sim.staging import verify
from tests.support.paths import BASELINE


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """10 days of the baseline, one replication, with its report (seconds)."""
    out = tmp_path_factory.mktemp("tampered") / "run"
    done = CliRunner().invoke(main, ["run", str(BASELINE), "--days", "10", "--replications",
                                     "1", "--no-map", "--out", str(out)])
    assert done.exit_code == 0, (done.stderr, done.exception)
    assert verify(out) == [] and (out / "report.html").is_file()
    return out


def _write(name: str, text: str) -> Callable[[Path], object]:
    return lambda d: (d / name).write_text(text, encoding="utf-8")


def _cell(name: str, column: str, value: str) -> Callable[[Path], None]:
    """Put `value` in `column` of the first row of `name`."""
    def damage(d: Path) -> None:
        lines = (d / name).read_text(encoding="utf-8").splitlines()
        cells = lines[1].split(",")
        cells[lines[0].split(",").index(column)] = value
        lines[1] = ",".join(cells)
        (d / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return damage


def _run_json(**fields: object) -> Callable[[Path], None]:
    def damage(d: Path) -> None:
        meta = json.loads((d / "run.json").read_text())
        (d / "run.json").write_text(json.dumps({**meta, **fields}, indent=2))
    return damage


def _links_without_km(d: Path) -> None:
    import geopandas as gpd

    links = gpd.read_file(d / "flows.gpkg", layer="links")
    links.drop(columns=["km"]).to_file(d / "flows.gpkg", layer="links", driver="GPKG")


def _header_only(d: Path) -> None:
    table = d / "corridors.csv"
    table.write_text(table.read_text().splitlines()[0] + "\n")


# name: (damage, the file named, the field named)
CASES: dict[str, tuple[Callable[[Path], object], str, str]] = {
    "week as text": (_write("timeseries.csv", "week,corridor,teu_per_week,teu_per_week_ci95\n"
                                              "x,east,1,\n"), "timeseries.csv", "line 2.week"),
    "a figure as text": (_cell("corridors.csv", "teu_per_year", "abc"), "corridors.csv",
                         "line 2.teu_per_year"),
    "hubs.csv without utilization": (_write("hubs.csv", "hub,name\nqinzhou,Q\n"), "hubs.csv",
                                     "header"),
    "trade.csv another table": (_write("trade.csv", "a,b\n1,2\n"), "trade.csv", "header"),
    "a daily queue as text": (_cell("locks_daily.csv", "queue_t", "zz"), "locks_daily.csv",
                              "line 2.queue_t"),
    "lines.csv another table": (_write("lines.csv", "a\n1\n"), "lines.csv", "header"),
    "links.csv another table": (_write("links.csv", "a\n1\n"), "links.csv", "header"),
    "markets.csv another table": (_write("markets.csv", "x\n1\n"), "markets.csv", "header"),
    "corridors.csv empty": (_write("corridors.csv", ""), "corridors.csv", "header"),
    "corridors.csv header only": (_header_only, "corridors.csv", "rows"),
    "corridors.parquet swapped": (lambda d: shutil.copyfile(d / "hubs.parquet",
                                                            d / "corridors.parquet"),
                                  "corridors.parquet", "header"),
    "flows.gpkg links without km": (_links_without_km, "flows.gpkg:links", "header"),
    "run.json geodata a number": (_run_json(geodata=5), "run.json", "geodata"),
    "run.json scenario a list": (_run_json(scenario=[1]), "run.json", "scenario"),
}


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file beside and below `folder` with its sha256."""
    return {p.relative_to(folder.parent).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.parent.rglob("*")) if p.is_file()}


def _refused(folder: Path, named: str, field: str) -> str:
    """`cqsim report folder` (report.html into it, as by default) is refused: exit 2, one
    line naming the file and the field, and nothing beside or below the folder changed."""
    before = _snapshot(folder)
    done = CliRunner().invoke(main, ["report", str(folder)])
    assert done.exit_code == 2, (done.stderr, done.exception)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"cqsim: error: {folder / named}: {field}: "
                                                   "expected "), lines
    assert _snapshot(folder) == before
    return lines[0]


@pytest.mark.parametrize("case", list(CASES))
def test_every_table_is_checked_as_it_is_read(run: Path, tmp_path: Path, case: str) -> None:
    damage, named, field = CASES[case]
    folder = tmp_path / "run"
    shutil.copytree(run, folder)
    damage(folder)
    _refused(folder, named, field)


def test_an_intact_run_still_renders(run: Path, tmp_path: Path) -> None:
    """The control of the test above: the checks refuse nothing cqsim writes."""
    folder = tmp_path / "run"
    shutil.copytree(run, folder)
    done = CliRunner().invoke(main, ["report", str(folder), "--out", str(tmp_path / "r.html")])
    assert done.exit_code == 0, (done.stderr, done.exception)


def test_the_shapes_name_the_text_columns_the_engine_declares() -> None:
    """Every column of a table the report reads holds numbers but the text columns of its
    `Shape`: they are the columns `sim.engine.recorder` declares without a unit."""
    from sim.engine.recorder import all_tables

    declared = {t.name: t for t in all_tables()}
    for name, shape in rd.SHAPES.items():
        if name not in declared:  # trade.csv (sim.trade), attribution.csv (sim.compare)
            continue
        text = {c.column for c in declared[name].columns if not c.unit and c.per is None}
        assert text == {*shape.keys, *shape.text}, name
        columns = {c.column for c in declared[name].columns}
        assert {n.split("|")[0] for n in shape.needs} <= columns, name
