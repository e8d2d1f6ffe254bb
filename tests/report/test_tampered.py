"""A run directory whose files were changed after the run: `cqsim report` refuses it with one
line naming the file (the manifest in run.json says what cqsim wrote), exit 2, writes nothing
and leaves the manifest as it was (it used to crash, or to exit 0 and hash the changed files
into the manifest, so the change could no longer be seen). A run directory without a
manifest (written before cqsim wrote one) is read with each table checked against its shape:
what does not fit is one line naming the file and the column, not a traceback."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sim.cli import main
from sim.errors import InputError
from sim.report import rundir as rd
from sim.staging import RECORDS_DIGEST, records_digest, verify
from tests.support.paths import BASELINE

from .conftest import cqsim


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


def _linked(name: str) -> Callable[[Path], None]:
    """`name` replaced by a link to an identical copy beside the folder."""
    def damage(d: Path) -> None:
        copy = d.parent / f"copy-{name}"
        shutil.copyfile(d / name, copy)
        (d / name).unlink()
        (d / name).symlink_to(copy)
    return damage


def _header_only(d: Path) -> None:
    table = d / "corridors.csv"
    table.write_text(table.read_text().splitlines()[0] + "\n")


# name: (damage, the file named, its field with the manifest, without it (None: it renders))
CASES: dict[str, tuple[Callable[[Path], object], str, str, str | None]] = {
    "week as text": (_write("timeseries.csv", "week,corridor,teu_per_week,teu_per_week_ci95\n"
                                              "x,east,1,\n"), "timeseries.csv", "manifest",
                     "line 2.week"),
    "a figure as text": (_cell("corridors.csv", "teu_per_year", "abc"), "corridors.csv",
                         "manifest", "line 2.teu_per_year"),
    "hubs.csv without utilization": (_write("hubs.csv", "hub,name\nqinzhou,Q\n"), "hubs.csv",
                                     "manifest", "header"),
    "trade.csv another table": (_write("trade.csv", "a,b\n1,2\n"), "trade.csv", "manifest",
                                "header"),
    "a daily queue as text": (_cell("locks_daily.csv", "queue_t", "zz"), "locks_daily.csv",
                              "manifest", "line 2.queue_t"),
    "lines.csv another table": (_write("lines.csv", "a\n1\n"), "lines.csv", "manifest",
                                "header"),
    "links.csv another table": (_write("links.csv", "a\n1\n"), "links.csv", "manifest",
                                "header"),
    "markets.csv another table": (_write("markets.csv", "x\n1\n"), "markets.csv", "manifest",
                                  "header"),
    "corridors.csv empty": (_write("corridors.csv", ""), "corridors.csv", "manifest",
                            "header"),
    "corridors.csv header only": (_header_only, "corridors.csv", "manifest", "rows"),
    # pandas reads a column of True/False as booleans, which it counts as numbers
    "a figure as true or false": (_write("corridors.csv", "corridor,teu_per_year,"
                                         "trade_bn_cny_per_year\neast,True,1\nwest,False,2\n"),
                                  "corridors.csv", "manifest", "line 2.teu_per_year"),
    "corridors.csv without its TEU": (lambda d: (d / "corridors.csv").write_text(
        "corridor,trade_bn_cny_per_year\neast,1\n"), "corridors.csv", "manifest", "header"),
    "corridors.parquet swapped": (lambda d: shutil.copyfile(d / "hubs.parquet",
                                                            d / "corridors.parquet"),
                                  "corridors.parquet", "manifest", "header"),
    "flows.gpkg links without km": (_links_without_km, "flows.gpkg", "manifest", "header"),
    "run.json geodata a number": (_run_json(geodata=5), "run.json", "geodata", "geodata"),
    "run.json scenario a list": (_run_json(scenario=[1]), "run.json", "scenario", "scenario"),
    "run.json another seed": (_run_json(seed=7), "run.json", "seed", None),
    "a file added": (_write("locks_daily2.csv", "lock\n"), "locks_daily2.csv", "manifest",
                     None),
    "a file removed": (lambda d: (d / "markets.csv").unlink(), "markets.csv", "manifest", None),
    "a file swapped for a link to a copy": (_linked("markets.csv"), "markets.csv", "manifest",
                                            None),
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
def test_a_run_directory_changed_after_the_run_is_refused(run: Path, tmp_path: Path,
                                                         case: str) -> None:
    damage, named, field, _ = CASES[case]
    folder = tmp_path / "run"
    shutil.copytree(run, folder)
    damage(folder)
    line = _refused(folder, named, field)
    if field == "manifest":
        assert "run.json's manifest" in line and "cqsim run" in line
        assert ("a link stands in its place" in line) == case.endswith("a copy"), line
        assert verify(folder), "the change can still be seen"


@pytest.mark.parametrize("case", [c for c, v in CASES.items() if v[3] is not None])
def test_without_a_manifest_every_table_is_checked_as_it_is_read(run: Path, tmp_path: Path,
                                                                 case: str) -> None:
    damage, named, _, field = CASES[case]
    assert field is not None
    folder = tmp_path / "run"
    shutil.copytree(run, folder)
    meta = json.loads((folder / "run.json").read_text())
    del meta["manifest"]  # a run directory written before cqsim wrote manifests
    (folder / "run.json").write_text(json.dumps(meta, indent=2))
    damage(folder)
    _refused(folder, f"{named}:links" if named == "flows.gpkg" else named, field)


def test_a_run_without_a_manifest_still_renders(run: Path, tmp_path: Path) -> None:
    """The control of the test above: an intact run without a manifest is not refused."""
    folder = tmp_path / "run"
    shutil.copytree(run, folder)
    meta = json.loads((folder / "run.json").read_text())
    del meta["manifest"]
    (folder / "run.json").write_text(json.dumps(meta, indent=2))
    done = CliRunner().invoke(main, ["report", str(folder), "--out", str(tmp_path / "r.html")])
    assert done.exit_code == 0, (done.stderr, done.exception)


def test_the_command_line_refuses_a_changed_file_and_keeps_the_manifest(run: Path,
                                                                        tmp_path: Path) -> None:
    """The audit's case, as a user meets it: markets.csv replaced by another table."""
    folder = tmp_path / "run"
    shutil.copytree(run, folder)
    (folder / "markets.csv").write_text("x\n1\n")
    manifest = (folder / "run.json").read_bytes()
    page = (folder / "report.html").read_bytes()
    proc = cqsim("report", str(folder))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"cqsim: error: {folder / 'markets.csv'}: manifest: expected the file as cqsim wrote "
        "it (its sha256 differs from run.json's manifest): run `cqsim run` again, or put back "
        "the file cqsim wrote"]
    assert (folder / "run.json").read_bytes() == manifest
    assert (folder / "report.html").read_bytes() == page
    assert verify(folder) == ["markets.csv: sha256 differs from the manifest"]
    assert verify(str(folder)) == verify(folder)   # as a notebook passes it (README)


@pytest.mark.parametrize("alter", [
    lambda m: m["elements"]["service"].update({next(iter(m["elements"]["service"])): "0" * 64}),
    lambda m: m.update(changes=[{"kind": "remove", "service": "south-sea-singapore"}]),
    lambda m: m.update(seed=m["seed"] + 1),
])
def test_a_hand_altered_record_of_the_manifest_is_refused(run: Path, tmp_path: Path,
                                                          alter: Any) -> None:
    """An `elements` digest or a change record edited by hand was believed, and moved what a
    comparison report paired (fuzz2 M3): the manifest's records carry their own digest."""
    folder = tmp_path / "run"
    shutil.copytree(run, folder)
    meta = json.loads((folder / "run.json").read_text())
    alter(meta["manifest"])
    (folder / "run.json").write_text(json.dumps(meta, indent=2))
    assert verify(folder) == ["run.json: manifest's records changed since cqsim wrote them "
                              f"({RECORDS_DIGEST} differs)"]
    with pytest.raises(InputError, match=r"run\.json"):
        rd.RunDir.open(folder)


@pytest.mark.parametrize(("key", "value"), [("warnings", []), ("description", "EDITED"),
                                            ("conservation_ok", False)])
def test_a_hand_altered_field_of_run_json_is_refused(run: Path, tmp_path: Path, key: str,
                                                    value: Any) -> None:
    """run.json's warnings or description edited by hand were shown by the report as the
    run's (docaudit2): the manifest digests the fields beside it too."""
    folder = tmp_path / "run"
    shutil.copytree(run, folder)
    meta = json.loads((folder / "run.json").read_text())
    meta[key] = value
    (folder / "run.json").write_text(json.dumps(meta, indent=2))
    assert verify(folder) == ["run.json: fields beside the manifest changed since cqsim "
                              "wrote them (fields_sha256 differs)"]
    done = CliRunner().invoke(main, ["report", str(folder), "--out", str(tmp_path / "r.html")])
    assert done.exit_code == 2 and done.stderr.strip().splitlines() == [
        f"cqsim: error: {folder / 'run.json'}: manifest: expected the fields of run.json as "
        "cqsim wrote them beside its manifest (their digest differs: edited since): run "
        "`cqsim run` again"], done.output


def test_a_report_made_again_updates_only_its_own_entry(run: Path, tmp_path: Path) -> None:
    """report.html is not read: deleted or changed, it is written anew, and its entry is the
    only one of the manifest that changes; the record of the code that wrote the run stays
    (it became the report's code, as if this code had made the run)."""
    folder = tmp_path / "run"
    shutil.copytree(run, folder)
    meta = json.loads((folder / "run.json").read_text())
    meta["manifest"]["code_version"] = {"cqsim": "0.0.9", "git_commit": "0" * 40}
    # a run by older code: its manifest as that code wrote it, its records' digest with it
    meta["manifest"][RECORDS_DIGEST] = records_digest(meta["manifest"])
    (folder / "run.json").write_text(json.dumps(meta, indent=2))
    (folder / "report.html").unlink()
    before = json.loads((folder / "run.json").read_text())["manifest"]
    done = CliRunner().invoke(main, ["report", str(folder)])
    assert done.exit_code == 0, (done.stderr, done.exception)
    after = json.loads((folder / "run.json").read_text())["manifest"]
    assert verify(folder) == []
    assert after["files"].pop("report.html") != before["files"].pop("report.html")
    assert after == before


def test_the_shapes_name_the_text_columns_the_engine_declares() -> None:
    """Every column of a table the report reads holds numbers but the text columns of its
    `Shape`: they are the columns `sim.engine.recorder` declares as text (`Column.is_text`)."""
    from sim.engine.recorder import all_tables

    declared = {t.name: t for t in all_tables()}
    for name, shape in rd.SHAPES.items():
        if name not in declared:  # trade.csv (sim.trade), attribution.csv (sim.compare)
            continue
        text = {c.column for c in declared[name].columns if c.is_text}
        assert text == {*shape.keys, *shape.text}, name
        columns = {c.column for c in declared[name].columns}
        assert {n.split("|")[0] for n in shape.needs} <= columns, name


def test_a_changed_variant_of_a_comparison_asks_for_the_comparison_again(
        run: Path, tmp_path: Path) -> None:
    """A variant's run directory sits in a `cqsim compare` folder: that command makes it."""
    folder = tmp_path / "cmp" / "0-base"
    shutil.copytree(run, folder)
    (folder.parent / "compare.json").write_text("{}")
    (folder / "markets.csv").write_text("x\n1\n")
    with pytest.raises(InputError, match=r"run `cqsim compare` again"):
        rd.check_intact(folder)


# a file browser's, at any depth
OS_FILES = (".DS_Store", "Thumbs.db", "desktop.ini", "._report.html", "sub/.DS_Store")


@pytest.mark.parametrize("junk", [".DS_Store", "Thumbs.db"])
def test_os_metadata_does_not_lock_a_run_folder(run: Path, tmp_path: Path, junk: str) -> None:
    """Finder's .DS_Store, Explorer's Thumbs.db or desktop.ini, AppleDouble `._*` files
    in a run folder (opened by double-click, as the README says) are no file cqsim did
    not write: `cqsim report`, `sim.read_run` and a re-run into it without --overwrite still
    take it (all three refused the whole folder; trial64 #4). A file of the user's is still
    refused."""
    import sim
    from sim.staging import check_out

    folder = tmp_path / "run"
    shutil.copytree(run, folder)
    (folder / junk).write_bytes(b"\0\0\0\1Bud1")
    for name in OS_FILES:
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).write_bytes(b"\0\0\0\1Bud1")
    assert verify(folder) == []
    sim.read_run(folder)
    done = CliRunner().invoke(main, ["report", str(folder)])
    assert done.exit_code == 0, (done.stderr, done.exception)
    assert check_out(folder, command="run").holds == "cqsim"
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match=r"files cqsim did not write: notes\.txt\)"):
        check_out(folder, command="run")
    empty = tmp_path / "made-in-finder"
    empty.mkdir()
    (empty / junk).write_bytes(b"\0")
    assert check_out(empty, command="run").holds == ""
