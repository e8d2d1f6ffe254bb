"""The results folder: what `--out` may be, the lock, the manifest, and a new result replacing
every file of the earlier one (sim.staging). Faults (kills, interrupts) are in test_faults.py."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from sim.cli import main
from sim.errors import InputError
from sim.staging import (
    FolderLock,
    ResultFolder,
    check_out,
    updating,
    verify,
    write_manifest,
)
from tests.support.paths import CQSIM, ROOT

OK = ROOT / "tests" / "bad_inputs" / "ok.yaml"  # 3 hubs, 10 days: a run of a second


def _cqsim(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CQSIM, *args], capture_output=True, text=True, timeout=300,
                          cwd=cwd, env={**os.environ, "PYTHONWARNINGS": "ignore"})


def _refused(out: str | Path, *expected: str, **kw: object) -> str:
    with pytest.raises(InputError) as err:
        check_out(out, **kw)  # type: ignore[arg-type]
    line = str(err.value)
    assert "--out" in line and "\n" not in line
    for text in expected:
        assert text in line, line
    return line


def test_out_that_cannot_be_replaced_is_refused(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("x")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    _refused("", "empty")
    _refused("/", "root")
    _refused("/dev/null", "not a folder")
    _refused(tmp_path / "a-file", "it is a file")
    _refused(tmp_path / "a-file" / "below", "parents are folders", "a-file is a file")
    _refused(".", "working folder")
    # a name no file system takes was a traceback (OSError: File name too long)
    _refused(tmp_path / ("x" * 300), "at most 255 bytes a part", "got 300 and")
    _refused("/".join(["deep"] * 900), "4095 in all")
    _refused(tmp_path, "working folder")
    _refused(foreign, "no cqsim manifest", "notes.txt", "--overwrite")
    # a manifest cut short (an interrupted copy) is named, not called missing
    (foreign / "sweep.json").write_text('{"manifest": {"files"')
    _refused(foreign, "its sweep.json is not a manifest cqsim wrote", "notes.txt")
    (foreign / "sweep.json").unlink()
    scenario = foreign / "s.yaml"
    scenario.write_text("x")
    _refused(foreign, "an input", inputs=[scenario], overwrite=True)
    assert check_out(foreign, overwrite=True).holds == "other"
    assert check_out(tmp_path / "new" / "deeper").holds == ""
    (tmp_path / "empty").mkdir()
    assert check_out(tmp_path / "empty").holds == ""
    assert foreign.is_dir() and (foreign / "notes.txt").read_text() == "mine"


def test_a_folder_where_nothing_can_be_written_is_refused_before_running(
        tmp_path: Path) -> None:
    # /proc refuses new files even to root, whom permission bits do not stop
    result = CliRunner().invoke(main, ["run", str(OK), "--out", "/proc/cqsim-results"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "/proc/cqsim-results: --out: expected a folder in a place" \
        in lines[0], result.stderr



@pytest.mark.parametrize("char", ["\n", "\t", "\r", "\x1b"])
def test_a_result_name_with_a_control_character_is_refused_before_running(
        tmp_path: Path, char: str) -> None:
    # GDAL cannot open a path with a tab or a line break: `run --out 'a<newline>b'` ran, then
    # failed writing flows.gpkg with a traceback (exit 1)
    for args in (["run", str(OK), "--out", str(tmp_path / f"a{char}b")],
                 ["calibrate", str(OK), "--out", str(tmp_path / f"c{char}.csv")]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "--out: expected a f" in lines[0] \
            and "without control characters" in lines[0], result.stderr
    assert not any(tmp_path.iterdir())


def test_the_lock_refuses_a_second_writer(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with ResultFolder(out, command="run") as first:
        with pytest.raises(InputError, match=f"process {os.getpid()} is writing it"):
            ResultFolder(out, command="run").__enter__()
        assert first.path.is_dir() and first.path.parent == tmp_path
    assert not first.path.exists(), "an uncommitted staging folder is removed"
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "the lock file is removed"
    lock = FolderLock(out)
    lock.acquire()
    lock.release()
    assert not lock.path.exists()


def test_commit_swaps_in_a_whole_folder_with_its_manifest(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with ResultFolder(out, command="run") as folder:
        (folder.path / "a.csv").write_text("x\n1\n")
        (folder.path / "sub").mkdir()
        (folder.path / "sub" / "b.csv").write_text("y\n2\n")
        folder.commit("run.json", {"scenario": "demo", "seed": 4})
    meta = json.loads((out / "run.json").read_text())["manifest"]
    assert meta["tool"] == "cqsim" and meta["command"] == "run" and meta["seed"] == 4
    assert set(meta["files"]) == {"a.csv", "sub/b.csv"} and meta["code_version"]["cqsim"]
    assert verify(out) == []
    (out / "a.csv").write_text("x\n9\n")
    (out / "stray.txt").write_text("")
    assert verify(out) == ["stray.txt: not in the manifest",
                           "a.csv: sha256 differs from the manifest"]
    _refused(out, "files cqsim did not write: stray.txt")
    (out / "stray.txt").unlink()
    with ResultFolder(out, command="run") as again:
        (again.path / "c.csv").write_text("z\n")
        again.commit("run.json", {"scenario": "demo", "seed": 5})
    assert sorted(p.name for p in out.iterdir()) == ["c.csv", "run.json"]
    assert again.replaced.startswith("3 files of the run of demo (seed 4")
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_updating_a_folder_refreshes_only_the_files_it_names(tmp_path: Path) -> None:
    """`cqsim report` writing report.html into a results folder updates that file's entry
    alone: a file changed behind cqsim's back stays detectable (it was hashed anew with the
    rest), and the record of the code that wrote the folder stays."""
    out = tmp_path / "out"
    with ResultFolder(out, command="run") as folder:
        (folder.path / "a.csv").write_text("x\n1\n")
        folder.commit("run.json", {"scenario": "demo", "seed": 4})
    before = json.loads((out / "run.json").read_text())["manifest"]
    (out / "a.csv").write_text("x\n9\n")
    with updating(out, "report.html"):
        (out / "report.html").write_text("<html></html>")
    after = json.loads((out / "run.json").read_text())["manifest"]
    assert verify(out) == ["a.csv: sha256 differs from the manifest"]
    assert after["files"].pop("report.html")["bytes"] == 13 and after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # the lock is gone
    # a manifest that is not cqsim's is one problem, not a traceback
    meta = json.loads((out / "run.json").read_text())
    for files in ([1], {"a.csv": "x"}, {"a.csv": {"bytes": 4}}):
        meta["manifest"]["files"] = files
        (out / "run.json").write_text(json.dumps(meta))
        assert verify(out) == ["run.json: manifest not as cqsim writes it (files: a sha256 for "
                               "every file)"]


def test_updating_a_run_directory_of_a_comparison_keeps_the_comparison_whole(
        tmp_path: Path) -> None:
    """`cqsim report CMP/0-base CMP/1-alt` writes CMP/0-base/report.html: the comparison's
    manifest (compare.json) lists it too, so CMP stays a folder cqsim wrote (a new compare into
    it was refused as holding files cqsim did not write)."""
    out = tmp_path / "cmp"
    with ResultFolder(out, command="compare") as folder:
        run = folder.path / "0-base"
        run.mkdir()
        (run / "a.csv").write_text("x\n1\n")
        write_manifest(run, "run.json", {"command": "run", "seed": 1})
        folder.commit("compare.json", {"seed": 1})
    with updating(out / "0-base", "report.html"):
        (out / "0-base" / "report.html").write_text("<html></html>")
    assert verify(out / "0-base") == [] and verify(out) == []
    assert "0-base/report.html" in json.loads((out / "compare.json").read_text())[
        "manifest"]["files"]
    assert check_out(out).holds == "cqsim"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cmp"]  # the locks are gone


def test_one_commands_out_does_not_replace_anothers_results(tmp_path: Path) -> None:
    """A run's --out on a sweep's folder deleted the sweep's runs without a word (probe,
    2026-12-05): results another command wrote are replaced only with --overwrite; the same
    command's are replaced as before, and an older manifest without `command` is known by
    its file's name."""
    out = tmp_path / "study"
    with ResultFolder(out, command="sweep") as folder:
        (folder.path / "runs.parquet").write_text("x")
        folder.commit("sweep.json", {"seed": 1})
    with pytest.raises(InputError) as refused:
        check_out(out, command="run")
    assert "one `cqsim run` wrote (it holds the results of `cqsim sweep`, sweep.json)" in str(
        refused.value) and "--overwrite" in str(refused.value)
    assert check_out(out, command="sweep").holds == "cqsim"
    assert check_out(out, command="run", overwrite=True).holds == "cqsim"
    assert check_out(out).holds == "cqsim"
    meta = json.loads((out / "sweep.json").read_text())
    del meta["manifest"]["command"]
    (out / "sweep.json").write_text(json.dumps(meta))
    with pytest.raises(InputError):
        check_out(out, command="compare")
    assert check_out(out, command="sweep").holds == "cqsim"
    assert (out / "runs.parquet").is_file()


@pytest.mark.slow
def test_a_new_run_replaces_every_file_of_the_earlier_one_and_says_so(tmp_path: Path) -> None:
    out = tmp_path / ("out-" + "x" * 80)   # the line says it whole, however long the path
    first = _cqsim("run", str(OK), "--out", str(out))
    assert first.returncode == 0, first.stderr
    assert (out / "map.png").is_file() and "replaced" not in first.stdout
    second = _cqsim("run", str(OK), "--days", "5", "--no-map", "--no-report", "--out",
                    str(out))
    assert second.returncode == 0, second.stderr
    assert not (out / "map.png").exists() and not (out / "report.html").exists()
    line = next(x for x in second.stdout.splitlines() if x.startswith("replaced what"))
    assert line.startswith(f"replaced what {out}/ held:")
    assert "the run of bad-input-base (seed 1, 10 days" in line
    assert json.loads((out / "run.json").read_text())["days"] == 5
    assert verify(out) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]


@pytest.mark.slow
def test_compare_and_rank_write_whole_folders(tmp_path: Path) -> None:
    alt = tmp_path / "alt.yaml"
    alt.write_text(f"extends: {OK}\nname: alt\nchanges:\n  - {{kind: set, service: ab, "
                   "field: departures_per_week, value: 14}\n")
    out = tmp_path / "cmp"
    done = _cqsim("compare", str(OK), str(alt), "--replications", "2", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert verify(out) == [] and verify(out / "0-bad-input-base") == []
    assert json.loads((out / "compare.json").read_text())["manifest"]["alternatives"] == ["alt"]
    report = (out / "report.html").read_text()
    assert str(out / "1-alt") in report and ".cqsim-staging" not in report
    ranked = tmp_path / "rank"
    done = _cqsim("rank", str(OK), str(alt), "--replications", "2", "--out", str(ranked))
    assert done.returncode == 0, done.stderr
    assert verify(ranked) == [] and (ranked / "rank.csv").is_file()
    refused = _cqsim("run", str(OK), "--out", str(tmp_path))  # holds alt.yaml, an input
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1


def test_calibrate_out_is_a_file_cqsim_may_replace(tmp_path: Path) -> None:
    table = tmp_path / "calibration.csv"
    table.write_text("my,own,table\n")
    os.utime(tmp_path, ns=(0, 0))
    for out, expected in ((tmp_path, "it is a folder"), ("/dev/null", "device"),
                          ("", "empty"), (table, "--overwrite")):
        result = CliRunner().invoke(main, ["calibrate", str(OK), "--out", str(out)])
        assert result.exit_code == 2, result.output
        assert len(result.stderr.strip().splitlines()) == 1 and expected in result.stderr
    assert table.read_text() == "my,own,table\n"
    # the folder untouched: its write probe came before the refusal (fuzz2 L9)
    assert tmp_path.stat().st_mtime_ns == 0


def test_estimates_out_is_checked_before_the_estimation_runs(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("mine\n")
    for out, expected in ((notes, "not an estimates file of this command"),
                          (tmp_path, "it is a folder"), (notes / "e.yaml", "is a file")):
        result = CliRunner().invoke(main, ["calibrate", str(OK), "--estimate",
                                           "--estimates-out", str(out)])
        assert result.exit_code == 2, result.output
        line = result.stderr.strip()
        assert "\n" not in line and "--estimates-out" in line and expected in line, line
    assert notes.read_text() == "mine\n"
    # without --estimate nothing would write it: refused, not ignored
    result = CliRunner().invoke(main, ["calibrate", str(OK), "--estimates-out",
                                       str(tmp_path / "e.yaml")])
    assert result.exit_code == 2 and "--estimate" in result.stderr, result.output


def test_calibrate_never_writes_over_what_it_reads(tmp_path: Path) -> None:
    """`calibrate --out self.yaml --overwrite` replaced the scenario it calibrated with the
    table, and `--out X --estimates-out X` the estimates with it. Refused before anything
    runs, --overwrite or not; the scenario's own estimates file stays the default target of
    --estimate (an estimation rewrites it on purpose)."""
    own = tmp_path / "own.yaml"
    own.write_text(f"extends: {OK}\nname: own\n")
    before = own.read_text()
    kept = (ROOT / "seeds" / "calibration.csv").read_text()
    table = tmp_path / "targets.csv"   # a copy: a regression must not write over the repo's
    table.write_text(kept)
    for out in (own, OK, table):
        result = CliRunner().invoke(main, ["calibrate", str(own), "--targets", str(table),
                                           "--out", str(out), "--overwrite"])
        assert result.exit_code == 2, result.output
        line = result.stderr.strip()
        assert "\n" not in line and "not an input of this command" in line, line
    same = tmp_path / "same.out"
    result = CliRunner().invoke(main, ["calibrate", str(own), "--estimate", "--out", str(same),
                                       "--estimates-out", str(same)])
    assert result.exit_code == 2 and "a file other than --out" in result.stderr, result.output
    assert own.read_text() == before and table.read_text() == kept and not same.exists()
    # baseline-2023's own estimates file passes (the refusal here is the table's, later)
    estimates = ROOT / "scenarios" / "estimates" / "baseline-2023.yaml"
    held = estimates.read_text()
    targets = tmp_path / "calibration.csv"
    targets.write_text(kept.replace("market.empties.repositioned_share@west+north+chengdu",
                                    "market.choice.ascc.west"))
    result = CliRunner().invoke(main, [
        "calibrate", str(ROOT / "scenarios" / "baseline-2023.yaml"), "--estimate",
        "--targets", str(targets)])
    assert result.exit_code == 2 and "west_loaded_ratio_both.parameter" in result.stderr, \
        result.output
    assert estimates.read_text() == held


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc")
def test_a_result_file_in_a_place_that_refuses_files_is_refused_first() -> None:
    """os.access says yes to root everywhere; /proc still refuses a new file. The refusal
    comes before the simulation (it was a traceback after it)."""
    for option in ("--out", "--estimates-out"):
        args = ["calibrate", str(OK), option, "/proc/cqsim-test.csv"]
        result = CliRunner().invoke(main, args + (["--estimate"] if "est" in option else []))
        assert result.exit_code == 2, result.output
        line = result.stderr.strip()
        assert "\n" not in line and option in line and "can write to" in line, line


def test_a_fitting_figure_naming_no_parameter_of_the_scenario_is_refused_at_once(
        tmp_path: Path) -> None:
    """Before the estimation runs: a share of empties of a gateway without a lane, or a
    choice parameter that does not exist, is one line naming the table, the figure and the
    path, exit 2, nothing written (it was a traceback after the first pass's minutes)."""
    table = (ROOT / "seeds" / "calibration.csv").read_text()
    good = "market.empties.repositioned_share@west+north+chengdu"
    assert good in table
    for bad in ("market.empties.repositioned_share@wets", "market.choice.ascc.west"):
        targets = tmp_path / "calibration.csv"
        targets.write_text(table.replace(good, bad))
        out = tmp_path / "e.yaml"
        result = CliRunner().invoke(main, [
            "calibrate", str(ROOT / "scenarios" / "baseline-2023.yaml"), "--estimate",
            "--targets", str(targets), "--estimates-out", str(out)])
        assert result.exit_code == 2, result.output
        line = result.stderr.strip()
        assert "\n" not in line and "west_loaded_ratio_both.parameter" in line, line
        assert bad in line and str(targets) in line
        assert not out.exists()


BAD = ROOT / "tests" / "bad_inputs"


@pytest.mark.parametrize("args", [
    ["run", "wrong_type_days.yaml"],
    ["compare", "wrong_type_days.yaml", "ok_alternative.yaml"],
    ["rank", "wrong_type_days.yaml", "ok_alternative.yaml"],
    ["sweep", "sweep_bool_value.yaml", "--workers", "1"],
    ["uncertainty", "wrong_type_days.yaml"]])
def test_an_out_that_is_a_file_is_refused_before_the_input_is_read(
        tmp_path: Path, args: list[str]) -> None:
    """`run SCENARIO --out FILE` was refused after the scenario's routes were found (3.8 s of
    baseline-2023); the place is checked first now, so even a broken input is not read."""
    taken = tmp_path / "taken.csv"
    taken.write_text("mine\n")
    command, *rest = args
    result = CliRunner().invoke(main, [command, *(str(BAD / a) if a.endswith(".yaml") else a
                                                  for a in rest), "--out", str(taken)])
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "taken.csv: --out: expected a folder for the results; it is " \
        "a file" in lines[0], lines
    assert taken.read_text() == "mine\n"


def test_calibrate_out_is_refused_before_the_input_is_read(tmp_path: Path) -> None:
    """`calibrate --out FOLDER` was refused only after the scenario was prepared (its
    routes: seconds); now its place is checked first, so even a broken input is not read."""
    result = CliRunner().invoke(main, ["calibrate", str(BAD / "wrong_type_days.yaml"),
                                       "--out", str(tmp_path)])
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--out" in lines[0] and "it is a folder" in lines[0], lines
    assert list(tmp_path.iterdir()) == []


def test_report_out_replaces_only_a_report_cqsim_wrote(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert CliRunner().invoke(main, ["run", str(OK), "--no-map", "--no-report", "--out",
                                     str(run)]).exit_code == 0
    notes = tmp_path / "notes.txt"
    notes.write_text("mine\n")
    for out, expected in ((notes, "--overwrite"), ("/dev/null", "device"),
                          (tmp_path, "directory")):
        result = CliRunner().invoke(main, ["report", str(run), "-o", str(out)])
        assert result.exit_code == 2, result.output
        assert len(result.stderr.strip().splitlines()) == 1 and expected in result.stderr
    assert notes.read_text() == "mine\n"
    page = tmp_path / "page.html"
    for _ in range(2):   # a report cqsim wrote is replaced
        assert CliRunner().invoke(main, ["report", str(run), "-o", str(page)]).exit_code == 0
    assert CliRunner().invoke(main, ["report", str(run), "-o", str(notes),
                                     "--overwrite"]).exit_code == 0


def test_a_resumable_command_keeps_out_of_a_folder_of_other_files(tmp_path: Path) -> None:
    from sim.staging import check_work_folder

    own = ("pathway.csv", "pathway.json")
    folder = tmp_path / "out"
    (folder / "runs").mkdir(parents=True)
    (folder / "runs" / "s000.parquet").write_bytes(b"")
    (folder / "runs" / ".s001.abc.tmp.parquet").write_bytes(b"")   # a kill mid-write
    (folder / "pathway.json").write_text("{}")
    for junk in (".DS_Store", "runs/Thumbs.db", "._pathway.csv"):   # a file browser's
        (folder / junk).write_bytes(b"\0")
    assert check_work_folder(folder, own=own) == folder.resolve()   # its own: resumable
    for stray in ("precious.txt", "runs/notes.txt", "plan.csv"):
        (folder / stray).write_text("x")
        with pytest.raises(InputError, match=r"--out: expected an empty folder or one this "
                                             r"command wrote \(it holds .*"
                                             + stray.split("/")[-1].replace(".", r"\.")):
            check_work_folder(folder, own=own)
        (folder / stray).unlink()


@pytest.mark.slow
def test_cqsim_report_keeps_the_manifest_true(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert _cqsim("run", str(OK), "--no-map", "--no-report", "--out", str(out)).returncode == 0
    assert "report.html" not in json.loads((out / "run.json").read_text())["manifest"]["files"]
    made = _cqsim("report", str(out))
    assert made.returncode == 0, made.stderr
    assert verify(out) == []  # report.html is listed, with its hash
    assert check_out(out).holds == "cqsim"  # so a new run may replace the folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.slow
def test_no_command_replaces_a_folder_its_runs_read(tmp_path: Path) -> None:
    """`--out --overwrite` on a folder holding a file the runs read (the market table in
    seeds/, the geodata, the base scenario of a sweep) is refused by every command that
    runs a scenario: until 2026-12-04 `run` checked only the files named on the command line
    and the geodata, `compare`, `rank` and `sweep` only those named, and each deleted the
    folder for its results."""
    import shutil

    for part in ("scenarios", "geodata", "seeds"):
        shutil.copytree(ROOT / part, tmp_path / part)
    base = tmp_path / "scenarios" / "baseline.yaml"
    (tmp_path / "more.yaml").write_text(
        "changes:\n  - {kind: scale, service: south-sea-singapore, "
        "field: departures_per_week, factor: 2}\n")
    (tmp_path / "sweep.yaml").write_text(
        "name: t\nbase: scenarios/baseline.yaml\ndays: 31\nreplications: 1\nparameters:\n"
        "  grid:\n    network.services.south-sea-singapore.departures_per_week: [7, 8]\n")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    for args, folder, held in (
            (["run", str(base), "--days", "31"], "seeds", "markets-2023.csv"),
            (["compare", str(tmp_path / "scenarios" / "baseline-2023.yaml"),
              str(tmp_path / "scenarios" / "placebo.yaml"), "--days", "31"], "seeds",
             "markets-2023.csv"),
            (["rank", str(base), str(tmp_path / "more.yaml"), "--days", "31"], "geodata",
             "hubs.geojson"),
            (["sweep", str(tmp_path / "sweep.yaml"), "--workers", "1"], "scenarios",
             "baseline.yaml")):
        proc = _cqsim(*args, "--out", str(tmp_path / folder), "--overwrite")
        assert proc.returncode == 2, (args[0], proc.stderr)
        line = proc.stderr.strip()   # the input's path is cut to 80 characters
        assert "\n" not in line and line.startswith(
            f"cqsim: error: {tmp_path / folder}: --out: expected a folder that does not "
            "hold an input ("), (args[0], held, line)
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_a_run_records_the_digest_of_every_file_it_read(tmp_path: Path) -> None:
    """run.json names the sha256 of the scenario, its geodata and the code version the run
    read (as a sweep's sweep.json does), so a result can be tied to the files behind it after
    they are edited (a planner's audit, 2026-12-05: only the path was kept)."""
    from sim.staging import sha256_file
    from tests.support.netbuilder import line_network

    path = line_network(tmp_path / "net")
    done = CliRunner().invoke(main, ["run", str(path), "--out", str(tmp_path / "o"), "--no-map",
                                     "--no-report"])
    assert done.exit_code == 0, done.output
    held = json.loads((tmp_path / "o" / "run.json").read_text())["manifest"]["inputs"]
    assert held[str(path.resolve())] == sha256_file(path)
    assert any(p.endswith("hubs.geojson") for p in held) and held["code"]


MORE_TRAINS = {"network.services.ab.departures_per_week": 14}


def _about(folder: Path) -> dict:
    """The manifest of a run folder's run.json."""
    return json.loads((folder / "run.json").read_text())["manifest"]


def test_write_results_refuses_in_the_words_of_its_own_parameters(tmp_path: Path) -> None:
    """`sim.write_results` into a folder of other files said "--out: ... pass --overwrite",
    options of the command line a Python caller does not have."""
    import sim

    results = sim.run(OK)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("x")
    with pytest.raises(InputError) as err:
        sim.write_results(results, tmp_path / "mine", map_png=False)
    assert err.value.field == "out" and "pass overwrite=True to replace" in str(err.value)
    assert "--" not in str(err.value)
    sim.write_results(results, tmp_path / "mine", map_png=False, overwrite=True)
    assert not (tmp_path / "mine" / "notes.txt").exists()


def test_a_run_written_from_python_records_its_inputs_overrides_and_name(
        tmp_path: Path) -> None:
    """README's Python section: a run of `with_overrides` written by `write_results` records
    the files it read with their sha256, the field set in Python and the name its caller
    gave, as a comparison's do (an analyst's trial, 2026-12-06: its run.json said only
    `scenario: baseline`, the folder alike to a plain baseline run's)."""
    import sim
    from sim.compare import compare
    from sim.report import write_report
    from sim.staging import sha256_file

    more = sim.with_overrides(sim.load_scenario(OK), **MORE_TRAINS)
    sim.write_results(sim.run(more), tmp_path / "more", map_png=False)
    about = _about(tmp_path / "more")
    assert about["inputs"][str(OK.resolve())] == sha256_file(OK) and about["inputs"]["code"]
    assert about["overrides"] == MORE_TRAINS and about["changes"] == []
    assert about["name"] == about["scenario"] == "bad-input-base"
    # a change added in Python is recorded as no file's
    from sim.inputs import PYTHON
    from sim.scenario import SetChange

    bigger = SetChange(kind="set", service="ab", field="vehicle_teu", value=120)
    plan = sim.prepare(more.model_copy(update={"changes": (*more.changes, bigger)}))
    assert plan.origin.changes == ({"kind": "set", "set_by": PYTHON, "service": "ab",
                                    "field": "vehicle_teu", "value": 120},)

    cmp = compare(OK, [more], replications=2, names=["more-trains"])
    folders = [tmp_path / "cmp" / v.name for v in (cmp.base, *cmp.alts)]
    for v, folder in zip((cmp.base, *cmp.alts), folders, strict=True):
        sim.write_results(v.results, folder, map_png=False)
    alt = _about(folders[1])
    assert (alt["name"], alt["scenario"], alt["overrides"]) == (
        "more-trains", "bad-input-base", MORE_TRAINS)
    assert _about(folders[0])["overrides"] == {}
    page = write_report(folders, tmp_path / "cmp" / "report.html").read_text()
    assert "more-trains compared with bad-input-base</h1>" in page
    assert "network.services.ab.departures_per_week = 14" in page


def test_a_comparisons_run_folders_record_their_inputs_and_changes(tmp_path: Path) -> None:
    """The run folders inside a `cqsim compare` record what `cqsim run` does: the files read
    with their sha256 (ALT's and BASE's), and the changes applied with the file that wrote
    them; the command line's run settings are no override (run.json has them already)."""
    from sim.staging import sha256_file

    alt = tmp_path / "alt.yaml"
    alt.write_text(f"extends: {OK}\nname: alt\nchanges:\n  - {{kind: set, service: ab, "
                   "field: departures_per_week, value: 14}\n")
    done = CliRunner().invoke(main, ["compare", str(OK), str(alt), "--replications", "2",
                                     "--out", str(tmp_path / "cmp")])
    assert done.exit_code == 0, done.output
    about = _about(tmp_path / "cmp" / "1-alt")
    assert about["inputs"][str(alt.resolve())] == sha256_file(alt)
    assert about["inputs"][str(OK.resolve())] == sha256_file(OK)
    assert about["changes"] == [{"set_by": f"{alt.resolve()}: changes.0", "kind": "set",
                                 "service": "ab", "field": "departures_per_week",
                                 "value": 14}]
    assert about["overrides"] == {} and about["name"] == "alt"
    assert _about(tmp_path / "cmp" / "0-bad-input-base")["changes"] == []
    # the "wrote" line is one list of what was written, folders with their slash (it read
    # "... report.html and the run directories 0-a, 1-b/, compare.json": review45, L3)
    wrote = next(ln for ln in done.stdout.splitlines() if ln.startswith("wrote "))
    # lines_compare.csv: the change names service ab, whose lines are paired (M7)
    assert wrote.endswith("cmp/compare.csv, lines_compare.csv, bottlenecks.csv, compare.png, "
                          "daily.png, report.html, 0-bad-input-base/, 1-alt/, compare.json"), \
        wrote


def test_rank_s_console_table_keeps_every_candidate_s_name_whole() -> None:
    """`cqsim rank ... --days 60` printed "second-three…", "china-europe…" and "ilstc-expans…"
    in its 120-column table (trial51): a name is what a planner acts on. It folds onto a
    further line where the column is narrow, every letter kept."""
    import pandas as pd
    from rich.console import Console

    from sim.cli.render import rank_tables
    from sim.rank import ADDS_CAPACITY

    names = ["second-three-gorges-lock", "china-europe-frequency", "ilstc-expansion"]
    table = pd.DataFrame({
        "group": ADDS_CAPACITY, "rank": [1, 2, 3], "candidate": names,
        "added_bottleneck_capacity_teu_per_year": [425e3, 64.1e3, 146e3],
        "extra_teu_per_year": [5960.0, 670.0, 2190.0],
        "extra_teu_per_year_ci95": [7250.0, 14250.0, 19500.0],
        "extra_trade_bn_cny_per_year": [-0.35, -0.06, -0.22],
        "extra_trade_bn_cny_per_year_ci95": [2.03, 1.74, 2.61],
        "extra_trade_resolved_holm": [False] * 3,
        "extra_teu_per_capacity_teu": [0.014, 0.010, 0.015],
        "extra_teu_per_capacity_teu_ci95": [0.017, 0.222, 0.134],
        "extra_trade_cny_per_capacity_teu": [-822.0, -1006.0, -1492.0],
        "extra_trade_cny_per_capacity_teu_ci95": [4783.0, 27099.0, 17860.0]})
    for width in (120, 80):
        screen = Console(width=width, record=True)
        for t in rank_tables(table, "baseline-2023", 3):
            screen.print(t)
        text = screen.export_text()
        assert "…" not in text.split("┡", 1)[1], text        # no cell of the body is cut
        cells = "".join(line.split("│")[2].strip() for line in text.splitlines()
                        if line.startswith("│"))
        for name in names:
            assert name in cells, (name, text)


def test_rank_s_heading_says_fund_first_only_when_some_trade_is_told() -> None:
    """Three candidates with negative mean extra trade, none told from none, stood under
    "what to fund first" (trial51 F12): with none told the heading says the order is of the
    means only, not a funding order; with one told it is what to fund first."""
    import pandas as pd

    from sim.cli.render import rank_tables

    table = pd.DataFrame({
        "group": "all", "rank": [1, 2], "candidate": ["a", "b"],
        "added_bottleneck_capacity_teu_per_year": [0.0, 0.0],
        "extra_teu_per_year": [-500.0, 300.0], "extra_teu_per_year_ci95": [900.0, 900.0],
        "extra_trade_bn_cny_per_year": [-0.35, -0.06],
        "extra_trade_bn_cny_per_year_ci95": [2.03, 1.74],
        "extra_trade_resolved_holm": [False, False]})
    (t,) = rank_tables(table, "base", 4)
    assert str(t.title).startswith("in the order of their means, none's extra trade told "
                                   "from none (not a funding order)")
    (t,) = rank_tables(table.assign(extra_trade_resolved_holm=[True, False]), "base", 4)
    assert str(t.title).startswith("what to fund first")
    # the deltas in compare's words (`deltas_kind`), not a third wording (review66)
    from sim.stats import deltas_kind

    assert f"against base, {deltas_kind(True)} over 4 replications" in str(t.title)


def test_a_log_scale_parameter_at_zero_is_refused_before_estimating(tmp_path: Path) -> None:
    """A parameter estimated on a log scale (the trade elasticity, the cost scale) that the
    scenario sets to 0, which its field allows, was math.log(0), a traceback (review60 #8):
    one line naming the scenario, the parameter and what it must be, exit 2, nothing
    written."""
    table = (ROOT / "seeds" / "calibration.csv").read_text()
    good = "market.empties.repositioned_share@west+north+chengdu"
    targets = tmp_path / "calibration.csv"
    targets.write_text(table.replace(good, "market.choice.trade_elasticity"))
    scenario = tmp_path / "zero.yaml"
    scenario.write_text(f"extends: {ROOT / 'scenarios' / 'baseline-2023.yaml'}\nname: zero\n"
                        "market:\n  choice:\n    trade_elasticity: 0\n")
    out = tmp_path / "e.yaml"
    result = CliRunner().invoke(main, ["calibrate", str(scenario), "--estimate", "--targets",
                                       str(targets), "--estimates-out", str(out)])
    assert result.exit_code == 2, result.output
    line = result.stderr.strip()
    assert "\n" not in line and str(scenario) in line, line
    assert "market.choice.trade_elasticity" in line and "above 0" in line, line
    assert not out.exists()
