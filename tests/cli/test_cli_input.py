"""The command line at the input boundary: one-line usage errors, what messages may quote,
confined default output folders, `cqsim list`, compare's relatedness check, warnings."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner, Result

from sim.cli import main
from tests.support import netbuilder as nb
from tests.support.paths import BASELINE_2023


def _cqsim(*args: str) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.mark.parametrize("args, option", [
    (["--seed", "-1"], "--seed"), (["--days", "0"], "--days"), (["--days", "1e-9"], "--days"),
    (["--replications", "0"], "--replications"), (["--max-memory", "x"], "--max-memory"),
    (["--bogus"], "--bogus"),
    # NaN passed click.FloatRange (it compares false): --max-events nan was no limit, and
    # --days nan was blamed on the scenario's horizon.days
    (["--days", "nan"], "--days"), (["--days", "inf"], "--days"),
    (["--max-events", "nan"], "--max-events"), (["--max-events", "inf"], "--max-events"),
    (["--max-memory", "nan"], "--max-memory"), (["--max-memory", "infGB"], "--max-memory"),
])
def test_usage_errors_are_one_line_naming_the_option(tmp_path: Path, args: list[str],
                                                     option: str) -> None:
    path = nb.line_network(tmp_path)
    for command in ("run", "validate"):
        result = _cqsim(command, path, *args)
        assert result.exit_code == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and option in lines[0] and lines[0].startswith("cqsim: error:")


@pytest.mark.parametrize("args", [
    ["plan", "c.yaml", "--target", "nan"], ["plan", "c.yaml", "--probability", "nan"],
    ["plan", "c.yaml", "--target", "inf"],
    ["uncertainty", "s.yaml", "--target", "nan"], ["uncertainty", "s.yaml", "--days", "nan"],
    ["compare", "s.yaml", "t.yaml", "--days", "nan"], ["rank", "s.yaml", "--days", "nan"],
    ["calibrate", "s.yaml", "--days", "nan"], ["calibrate", "s.yaml", "--max-events", "nan"],
    ["sweep", "w.yaml", "--no-worker-timeout", "nan"], ["sweep", "w.yaml", "--max-events", "nan"],
])
def test_no_number_option_takes_nan_or_infinity(tmp_path: Path, args: list[str]) -> None:
    """plan --target nan and uncertainty --target nan exited 0 having written their files;
    uncertainty --days nan was a pydantic traceback. Each is now refused at the option."""
    option = next(a for a in args if a.startswith("--"))
    result = CliRunner().invoke(main, [args[0], *(str(tmp_path / a) if a.endswith(".yaml")
                                                 else a for a in args[1:]),
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and option in lines[0] and "finite number" in lines[0], lines
    assert not (tmp_path / "out").exists()


def test_every_float_option_is_finite() -> None:
    """Every float option of every command takes `Finite` (click's FLOAT and FloatRange
    let NaN through)."""
    from sim.cli.common import Finite

    for name, command in main.commands.items():
        for param in command.params:
            if isinstance(param.type, click.types.FloatParamType):
                assert isinstance(param.type, Finite), (name, param.name)


def test_group_level_usage_errors_are_one_line() -> None:
    for args in (["--nope"], ["nosuchcommand"], ["run"]):
        result = _cqsim(*args)
        assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1


def test_a_usage_error_points_to_the_help_of_the_command_it_is_of() -> None:
    for args, command in ((["run", "x.yaml", "--seed", "-1"], "cqsim run"),
                          (["--nope"], "cqsim")):
        result = CliRunner().invoke(main, args, prog_name="cqsim")
        assert result.exit_code == 2
        assert result.stderr.rstrip().endswith(f"(see {command} --help)"), result.stderr


def test_a_file_in_a_folder_whose_name_only_begins_as_the_named_one_s_is_not_quoted(
        tmp_path: Path) -> None:
    """Values may be quoted from the named file's folder and below it, not from a folder
    beside it whose name begins alike (`proj-private` beside `proj`: a prefix of the path
    string is not a parent folder)."""
    from sim.cli.common import quote_policy

    (tmp_path / "proj").mkdir()
    named = tmp_path / "proj" / "scenario.yaml"
    named.write_text("name: s\n")
    quote = quote_policy([named])
    assert quote(str(named)) and quote(str(tmp_path / "proj" / "geo" / "hubs.geojson"))
    assert not quote(str(tmp_path / "proj-private" / "base.yaml"))
    assert not quote(str(tmp_path / "other.yaml"))
    assert quote("--days")       # an option: the user typed the value


def test_validate_prints_the_estimate_and_checks_sweeps(tmp_path: Path) -> None:
    path = nb.line_network(tmp_path)
    result = _cqsim("validate", path)
    assert result.exit_code == 0 and "estimate:" in result.stdout and "peak memory" in \
        result.stdout
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(yaml.safe_dump({"base": path.name, "parameters": {"grid": {
        "network.services.ab.departures_per_week": [7, 14]}}}))
    result = _cqsim("validate", sweep)
    assert result.exit_code == 0 and "valid sweep (2 variants" in result.stdout
    # what all its runs cost, as a scenario's validation says (it said nothing; trial47 L7)
    assert "; estimate: " in result.stdout and "peak memory" in result.stdout
    # priced on as many workers as `cqsim sweep` runs it on: every CPU, unless --workers
    # (validate said 195 MB, sweep refused the same file at 228 MB; review47 M3)
    import os

    cpus = os.cpu_count() or 1
    assert result.stdout.rstrip().endswith(f"with {cpus} worker{'s' if cpus > 1 else ''})")
    result = _cqsim("validate", sweep, "--workers", "1")
    assert result.stdout.rstrip().endswith("with 1 worker)")
    # and its --help says so (it said "[default: 1]"; review48 L3)
    shown = " ".join(_cqsim("validate", "--help").stdout.split())
    assert "[default: 1; a sweep file: every CPU]" in shown, shown


def test_validate_reads_a_file_as_run_and_sweep_do(tmp_path: Path) -> None:
    """A scenario with a stray `base:` key was validated as a sweep (another message than
    run's); `validate SWEEP --days 5` ignored the option. Both now agree with the command."""
    base = nb.line_network(tmp_path)
    stray = tmp_path / "stray.yaml"
    stray.write_text(yaml.safe_dump({"extends": base.name, "name": "y", "base": 3}))
    said = [_cqsim(c, stray).stderr.strip() for c in ("validate", "run")]
    assert said[0] == said[1] and "base: expected no such key" in said[0], said
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(yaml.safe_dump({"name": "s", "base": base.name, "replications": 1,
                                     "parameters": {"grid": {"demand.lot_teu": [20, 40]}}}))
    assert _cqsim("validate", sweep).exit_code == 0
    result = _cqsim("validate", sweep, "--days", "5")
    assert result.exit_code == 2 and "--days" in result.stderr


def test_values_are_quoted_only_from_files_beside_the_one_named(tmp_path: Path) -> None:
    """A base outside the named file's folder (reached through extends) may hold anything:
    its values are described by type, never quoted."""
    outside = tmp_path / "elsewhere"
    project = tmp_path / "project"
    outside.mkdir()
    project.mkdir()
    doc = yaml.safe_load(nb.line_network(outside).read_text())
    doc["horizon"]["days"] = "hunter2-token"
    nb.write_scenario(outside / "base.yaml", doc)
    (project / "child.yaml").write_text("extends: ../elsewhere/base.yaml\nname: c\n")
    result = _cqsim("validate", project / "child.yaml")
    assert result.exit_code == 2 and "hunter2" not in result.stderr
    assert "horizon.days" in result.stderr and "a text of 13 characters" in result.stderr
    result = _cqsim("validate", outside / "base.yaml")  # named: quoted
    assert "'hunter2-token'" in result.stderr


@pytest.mark.parametrize("value, shown", [
    ("customs_port", "got 'customs_port'"), ("30%", "got '30%'"),
    ("x" * 41, "got a text of 41 characters"), ("a\tb", "got a text of 3 characters")])
def test_a_geodata_folder_the_named_scenario_names_quotes_a_short_value(
        tmp_path: Path, value: str, shown: str) -> None:
    """A hub's bad kind in a geodata folder beside the scenario's (the docs' copy of
    geodata/) read "got a text of 12 characters", not which kind was written (trial49
    #10): a short printable value of a layer the named scenario's network.geodata names is
    quoted; a longer or escaped text is still described."""
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    path = nb.line_network(scenarios)
    geo = tmp_path / "geo"
    shutil.move(scenarios / "geo", geo)
    hubs = json.loads((geo / "hubs.geojson").read_text())
    hubs["features"][0]["properties"]["kind"] = value
    (geo / "hubs.geojson").write_text(json.dumps(hubs))
    doc = yaml.safe_load(path.read_text())
    doc["network"]["geodata"] = "../geo"
    nb.write_scenario(path, doc)
    result = _cqsim("validate", path)
    assert result.exit_code == 2 and "features[a].kind" in result.stderr, result.stderr
    assert result.stderr.rstrip().endswith(f"{shown} (read for {path.resolve()}: "
                                           "network.geodata)"), result.stderr
    # named by a base outside the named file's folder: described, as the base's own values
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "child.yaml").write_text(
        "extends: ../scenarios/scenario.yaml\nname: c\n")
    result = _cqsim("validate", tmp_path / "project" / "child.yaml")
    assert result.exit_code == 2 and "features[a].kind" in result.stderr
    assert f"a text of {len(value)} characters" in result.stderr, result.stderr


@pytest.mark.parametrize("name, folder", [("../../escaped", "escaped"),
                                          ("/tmp/elsewhere", "tmp-elsewhere")])
def test_a_scenario_name_cannot_place_results_outside_out(tmp_path: Path, name: str,
                                                          folder: str) -> None:
    work = tmp_path / "a" / "b" / "work"
    work.mkdir(parents=True)
    doc = yaml.safe_load(nb.line_network(work).read_text())
    doc["name"] = name
    doc["horizon"]["days"] = 5
    path = nb.write_scenario(work / "named.yaml", doc)
    old = Path.cwd()
    os.chdir(work)
    try:
        result = _cqsim("run", path, "--no-map")
    finally:
        os.chdir(old)
    assert result.exit_code == 0, result.output
    assert (work / "out" / folder / "run.json").is_file()
    assert not (tmp_path / "a" / "escaped").exists() and not (tmp_path / "escaped").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]


def test_a_scenario_name_makes_no_hidden_or_empty_results_folder() -> None:
    """A leading dot made a hidden folder (`ls out` would not show the results); a name of
    dots and dashes alone leaves nothing, so the fallback is used."""
    from sim.paths import default_out, safe_slug

    assert safe_slug(".hidden") == "hidden" and safe_slug("-x.") == "x"
    assert safe_slug(".") == safe_slug("-.-") == "scenario"
    assert default_out(".cache", "plan-", "pathways") == Path("out/pathways/plan-cache")


def test_list_prints_ids_with_a_description(tmp_path: Path) -> None:
    path = nb.line_network(tmp_path)
    hubs = _cqsim("list", "hubs", path)
    assert hubs.exit_code == 0 and hubs.stdout.split()[0] == "a"
    # the fields a change scales, with the capacity they make
    assert "2 positions x 100 TEU/h (1,752,000 TEU/yr), yard 100,000 TEU" in hubs.stdout
    # and the clearance dwell a customs change scales: Qinzhou's 0 h was nowhere to read,
    # and "halve it" did nothing (trial66)
    assert "yard 100,000 TEU, dwell 0 h" in hubs.stdout
    services = _cqsim("list", "services", path)
    assert services.stdout.startswith("ab") and "7/week" in services.stdout
    flows = _cqsim("list", "flows", path).stdout.splitlines()
    # a written row by the path a change or a sweep names it by
    assert flows[0].startswith("demand.flows.0") and "a > b" in flows[0], flows
    assert "a-b" in _cqsim("list", "links", path).stdout


def test_list_shows_a_continuous_capacity_in_its_field_s_unit(tmp_path: Path) -> None:
    """`list services` gave a continuous service's capacity in TEU/yr while its field,
    capacity_teu_per_day, is per day: the listed figure typed into it was 365 times the
    capacity, accepted silently (trial46, H4)."""
    a, b = nb.hub("a", 0.0), nb.hub("b", 1.0)
    nb.write_geodata(tmp_path / "geo", [a, b], [nb.link("a-b", a, b, mode="road")])
    truck = {"corridor": "west", "mode": "road", "stops": ["a", "b"], "schedule": "continuous",
             "capacity_teu_per_day": 60, "price_cny_per_teu": 1000, "source": "test"}
    path = nb.write_scenario(tmp_path / "s.yaml", nb.scenario(
        str(tmp_path / "geo"), {"ab": truck}, [nb.flow("a", "b", 1000)]))
    listed = _cqsim("list", "services", path)
    assert listed.exit_code == 0, listed.output
    assert "60 TEU/day (21,900 TEU/yr)" in listed.stdout, listed.stdout


@pytest.mark.slow
def test_compare_refuses_an_unrelated_alternative_unless_allowed(tmp_path: Path) -> None:
    path = nb.line_network(tmp_path)
    other = tmp_path / "other.yaml"
    other.write_text(path.read_text().replace("name: test", "name: other"))
    result = _cqsim("compare", path, other, "--replications", "2", "--days", "5",
                    "--out", tmp_path / "cmp")
    assert result.exit_code == 2 and "--allow-unrelated" in result.stderr
    assert not (tmp_path / "cmp").exists()
    result = _cqsim("compare", path, other, "--replications", "2", "--days", "5",
                    "--out", tmp_path / "cmp", "--allow-unrelated")
    assert result.exit_code == 0, result.output


def test_warnings_are_held_back_when_the_input_then_fails(tmp_path: Path) -> None:
    doc = yaml.safe_load(nb.line_network(tmp_path).read_text())
    doc["changes"] = [{"kind": "scale", "hub": "a", "field": "handling_servers",
                       "factor": 1.25}]  # warns (2.5 -> 2) ...
    path = nb.write_scenario(tmp_path / "w.yaml", doc)
    result = _cqsim("validate", path)
    assert result.exit_code == 0 and result.stderr.startswith("cqsim: warning:")
    doc["demand"]["flows"][0]["origin"] = "nowhere"  # ... then fails: one line only
    nb.write_scenario(path, doc)
    result = _cqsim("validate", path)
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    # valid input that warns, then an --out that cannot be written: the error line alone
    doc["demand"]["flows"][0]["origin"] = "a"
    nb.write_scenario(path, doc)
    result = _cqsim("run", path, "--out", "/proc/cqsim-out")
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--out" in lines[0], lines


def _warning_scenario(tmp_path: Path) -> Path:
    """The line network with a change that warns as it loads (2.5 positions -> 2)."""
    doc = yaml.safe_load(nb.line_network(tmp_path).read_text())
    doc["changes"] = [{"kind": "scale", "hub": "a", "field": "handling_servers",
                       "factor": 1.25}]
    return nb.write_scenario(tmp_path / "w.yaml", doc)


@pytest.mark.parametrize("args", [["validate", "{path}"], ["list", "hubs", "{path}"],
                                  ["validate", "{sweep}"]])
def test_warnings_print_before_the_result_they_are_about(tmp_path: Path,
                                                         args: list[str]) -> None:
    """validate and list never accepted their input (`sim.cache.release`), so the held
    warnings printed when the command ended: "valid", then the warning about the same file
    (review45, M2)."""
    path = _warning_scenario(tmp_path)
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(yaml.safe_dump({"name": "s", "base": path.name, "replications": 1,
                                     "parameters": {"grid": {"demand.lot_teu": [20, 40]}}}))
    result = _cqsim(*(a.format(path=path, sweep=sweep) for a in args))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("cqsim: warning:") and len(lines) > 1, lines


def test_calibrate_warns_about_a_short_horizon_with_seasonality(tmp_path: Path) -> None:
    doc = yaml.safe_load(nb.line_network(tmp_path).read_text())
    doc["demand"]["seasonality"] = [0.8] * 6 + [1.2] * 6
    path = nb.write_scenario(tmp_path / "s.yaml", doc)
    table = tmp_path / "t.csv"
    table.write_text("id,metric,published,low,high,unit,measure,how_measured,source\n"
                     "t,trains,700,1,100000,trains/yr,loaded_departures:west:rail,how,src\n")
    result = _cqsim("calibrate", path, "--days", "30", "--targets", table)
    assert "30 days measured with seasonality on" in result.stderr
    result = _cqsim("calibrate", path, "--days", "365", "--targets", table)
    assert "seasonality" not in result.stderr


@pytest.mark.parametrize("command", ["run", "validate", "calibrate", "compare", "rank", "sweep",
                                     "uncertainty", "pathway", "plan"])
def test_workers_are_bounded(command: str, tmp_path: Path) -> None:
    """--workers 100000 forked until the machine stopped answering; every command now refuses
    more than MAX_WORKERS at the option, one line, before it reads its file."""
    from sim.cli.common import MAX_WORKERS

    files = [str(tmp_path / "a.yaml")] + ([str(tmp_path / "b.yaml")] if command == "compare"
                                          else [])
    out = [] if command == "validate" else ["--out", str(tmp_path / "out")]
    result = CliRunner().invoke(main, [command, *files, "--workers", str(MAX_WORKERS + 1), *out])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--workers" in lines[0], lines
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["sweep", "uncertainty", "pathway", "plan"])
def test_scheduler_and_local_cluster_exclude_each_other(command: str, tmp_path: Path) -> None:
    """Every command that runs many simulations refuses both executors at once: one line,
    exit 2, before it reads its file (`sim.cli.common.one_executor`)."""
    result = CliRunner().invoke(main, [command, str(tmp_path / "missing.yaml"),
                                       "--scheduler", "tcp://127.0.0.1:1", "--local-cluster",
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "exclude each other" in lines[0], lines
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small run directory to break (10 days of the line network)."""
    tmp = tmp_path_factory.mktemp("report-input")
    result = _cqsim("run", nb.line_network(tmp), "--days", "10", "--no-map", "--no-report",
                    "--out", tmp / "run")
    assert result.exit_code == 0, result.stderr
    return tmp / "run"


def _truncate_header(folder: Path) -> None:
    table = folder / "corridors.csv"
    table.write_text("\n".join(line.split(",", 1)[-1]
                               for line in table.read_text().splitlines()))


@pytest.mark.parametrize("name, damage, named, field", [  # each was a traceback
    ("run.json a list", lambda d: (d / "run.json").write_text("[1, 2]"), "run.json",
     "a JSON object"),
    ("run.json without days", lambda d: (d / "run.json").write_text("{}"), "run.json",
     "days"),
    ("run.json days as text", lambda d: (d / "run.json").write_text(
        '{"days": "ten", "seed": 1, "replications": 1}'), "run.json", "days"),
    ("binary corridors.csv", lambda d: (d / "corridors.csv").write_bytes(b"\x00\xff" * 99),
     "corridors.csv", "a table written by"),
    ("corridors.csv without its key column", _truncate_header, "corridors.csv", "corridor"),
    ("corrupt parquet", lambda d: (d / "corridors.parquet").write_bytes(b"PAR1 garbage"),
     "corridors.parquet", "a table written by"),
    ("corrupt flows.gpkg", lambda d: (d / "flows.gpkg").write_bytes(b"not sqlite" * 99),
     "flows.gpkg", "a table written by"),
])
def test_report_of_a_damaged_run_directory_is_one_line(
        run_dir: Path, tmp_path: Path, name: str, damage: Callable[[Path], object],
        named: str, field: str) -> None:
    broken = tmp_path / "run"
    shutil.copytree(run_dir, broken)
    # without its manifest (a run written before cqsim wrote one) each file's own check
    # answers; with it, the manifest does first (tests/report/test_tampered.py)
    meta = json.loads((broken / "run.json").read_text())
    (broken / "run.json").write_text(json.dumps({k: v for k, v in meta.items()
                                                 if k != "manifest"}))
    damage(broken)
    result = _cqsim("report", broken, "--out", tmp_path / "report.html")
    assert result.exit_code == 2, (name, result.stderr, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0] and field in lines[0], lines
    assert not (tmp_path / "report.html").exists()


@pytest.mark.parametrize("command", ["validate", "run", "calibrate"])
def test_a_warning_before_an_interrupt_is_not_lost(tmp_path: Path, command: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A command's checks held their warnings in a block of their own that dropped them on
    any exception: a warning, then an interrupt (or a bug) while checking, printed nothing
    of it. Only refused input prints no warning (review45, M3)."""
    import warnings

    from sim import boundary
    from sim.errors import InputWarning

    def warns_then_stops(*args: object, **kwargs: object) -> None:
        warnings.warn("doubtful input", InputWarning, stacklevel=1)
        raise KeyboardInterrupt

    monkeypatch.setattr(boundary, "admit", warns_then_stops)
    result = _cqsim(command, nb.line_network(tmp_path), *(["--out", tmp_path / "o"]
                                                          if command == "run" else []))
    assert result.exit_code == 130, result.output
    lines = result.stderr.splitlines()
    assert lines[0] == "cqsim: warning: doubtful input" and "interrupted" in lines[1], lines


def test_run_prints_each_check_warning_on_its_own_line_escaped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """run printed its checks' findings with a click.echo of its own: joined with "; " on
    one line, neither escaped nor cut, where compare prints the same texts one a line
    through `show_warning` (review45, L2)."""
    import sim.checks
    from sim.checks import RunWarning

    found = [RunWarning("hub a\x1b[2J unstable", "checks.csv"),
             RunWarning("statistics begun early", "routes.csv")]
    monkeypatch.setattr(sim.checks, "run_warnings", lambda results: found)
    out = tmp_path / "o"
    result = _cqsim("run", nb.line_network(tmp_path), "--days", "10", "--no-map",
                    "--no-report", "--out", out)
    assert result.exit_code == 0, result.output
    said = [ln for ln in result.stderr.splitlines() if ln.startswith("cqsim: warning:")]
    assert said == [f"cqsim: warning: hub a\\x1b[2J unstable (see {out}/checks.csv)",
                    f"cqsim: warning: statistics begun early (see {out}/routes.csv)"], said


def test_report_prints_warnings_about_its_input_before_the_wrote_line(
        run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """report never accepted its input (`sim.cache.release`): a warning raised while its
    run folders were read printed after "wrote ..." (review45, M2)."""
    import warnings

    from sim.errors import InputWarning
    from sim.report import rundir

    read_by = rundir.read_by

    def warns(folder: Path) -> object:
        warnings.warn(f"{folder.name}: doubtful", InputWarning, stacklevel=1)
        return read_by(folder)

    monkeypatch.setattr(rundir, "read_by", warns)
    result = _cqsim("report", run_dir, "--out", tmp_path / "r.html")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "cqsim: warning: run: doubtful" and lines[1].startswith("wrote"), lines


def test_report_says_of_an_unrelated_run_what_holds_for_either_reason(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The warning said "its differences hold that file's edits too" when its reason named
    no file in between: a chain that does not pass through the base (review45, L3)."""
    from types import SimpleNamespace

    import sim.report
    import sim.report.deltas
    from sim.cli.report import _warn_unrelated

    monkeypatch.setattr(sim.report, "RunDir", lambda folder: SimpleNamespace(name="b"))
    monkeypatch.setattr(sim.report.deltas, "not_a_variant",
                        lambda base, alt: "its chain x.yaml does not pass through b.yaml")
    _warn_unrelated((Path("b"), Path("x")))
    said = capsys.readouterr().err
    assert said == ("cqsim: warning: x: not b plus changes (its chain x.yaml does not pass "
                    "through b.yaml): its differences hold more than its changes; the report "
                    "marks none resolved\n"), said


@pytest.mark.parametrize("holds", [[], ["notes.txt"]])
def test_report_of_a_folder_that_is_not_a_run_leaves_it_untouched(
        tmp_path: Path, holds: list[str]) -> None:
    """A folder with no run.json is refused before the report's place is probed: the probe
    made and removed a file there, so the folder's time changed (fuzz 2026-12-06, N3)."""
    folder = tmp_path / "not-a-run"
    folder.mkdir()
    for name in holds:
        (folder / name).write_text("mine")
    os.utime(folder, (1_000_000_000, 1_000_000_000))
    result = _cqsim("report", folder)
    assert result.exit_code == 2, (result.stderr, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "run.json" in lines[0], lines
    assert sorted(p.name for p in folder.iterdir()) == holds
    assert folder.stat().st_mtime == 1_000_000_000


def test_report_into_a_place_nobody_can_write_is_one_line(run_dir: Path) -> None:
    result = _cqsim("report", run_dir, "--out", "/proc/cqsim-report/report.html")
    assert result.exit_code == 2, (result.stderr, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--out" in lines[0], lines


@pytest.mark.parametrize("args", [["-o", "{run}/run.json", "--overwrite"],
                                  ["-o", "{run}/corridors.csv", "--overwrite"],
                                  ["-o", "{run}/corridors.csv"],
                                  ["{run}", "-o", "{tmp}/r.html"]])
def test_report_neither_writes_over_its_run_nor_reads_it_twice(
        run_dir: Path, tmp_path: Path, args: list[str]) -> None:
    """`report RUN -o RUN/run.json --overwrite` wrote HTML over the manifest and then failed
    with a traceback (the run folder broken); `report RUN RUN` was a traceback. Both are one
    line now, and the run folder is intact."""
    from sim.staging import verify

    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    result = _cqsim("report", run, *(a.format(run=run, tmp=tmp_path) for a in args))
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and ("--out" in lines[0] or "RUN_DIR" in lines[0]), lines
    assert "pass --overwrite" not in lines[0]   # which would then be refused as well
    assert verify(run) == [] and not (tmp_path / "r.html").exists()


@pytest.mark.parametrize("name", ["scenario.yaml", "geo/hubs.geojson"])
def test_report_does_not_write_over_what_its_run_read(tmp_path: Path, name: str) -> None:
    """`report RUN --out SCENARIO --overwrite` replaced the run's scenario (or its geodata)
    with HTML, exit 0. Refused now, --overwrite or not, as calibrate refuses its inputs."""
    path = nb.line_network(tmp_path, horizon={"days": 10})
    result = _cqsim("run", path, "--no-map", "--no-report", "--out", tmp_path / "run")
    assert result.exit_code == 0, result.stderr
    before = (tmp_path / name).read_bytes()
    result = _cqsim("report", tmp_path / "run", "--out", tmp_path / name, "--overwrite")
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{name}: --out: expected a file that is not an input" \
        in lines[0], lines
    assert (tmp_path / name).read_bytes() == before


def test_report_of_a_run_without_its_inputs_overwrites_no_file_of_the_user(
        tmp_path: Path) -> None:
    """A run folder written before run.json recorded the files the run read had only its
    scenario and geodata kept from `report --out FILE --overwrite`: the file its scenario
    extends was replaced with HTML, exit 0. What such a run read is not known, so --overwrite
    replaces no file that is not a report cqsim wrote; a new file or a report still can be."""
    nb.line_network(tmp_path, horizon={"days": 10})
    child = tmp_path / "child.yaml"
    child.write_text("extends: scenario.yaml\nname: child\n")
    assert _cqsim("run", child, "--no-map", "--no-report", "--out",
                  tmp_path / "run").exit_code == 0
    meta = json.loads((tmp_path / "run" / "run.json").read_text())
    del meta["manifest"]    # as cqsim wrote it before manifests (cqsim_version only)
    (tmp_path / "run" / "run.json").write_text(json.dumps(meta))
    base = tmp_path / "scenario.yaml"
    before = base.read_bytes()
    result = _cqsim("report", tmp_path / "run", "--out", base, "--overwrite")
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "scenario.yaml: --out: expected a new file or one cqsim " \
        "wrote" in lines[0] and "records the files its run read" in lines[0], lines
    assert base.read_bytes() == before
    page = tmp_path / "page.html"
    for _ in range(2):      # a new file, then the report it now is
        assert _cqsim("report", tmp_path / "run", "--out", page, "--overwrite").exit_code == 0


@pytest.mark.parametrize("command", ["sweep", "uncertainty", "pathway", "plan"])
@pytest.mark.parametrize("address", ["tcp://[::1", "notanaddr", "h:99999", "udp://h:1"])
def test_a_scheduler_that_is_no_address_is_refused_before_any_folder(
        command: str, address: str, tmp_path: Path) -> None:
    """`pathway --scheduler 'tcp://[::1'` exited 2 having written pathway.json ("running")
    and runs/; every command now refuses it with the option, before it reads its file."""
    result = CliRunner().invoke(main, [command, str(tmp_path / "missing.yaml"),
                                       "--scheduler", address, "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--scheduler" in lines[0], lines
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("command", [
    ["pathway", "ok_pathway.yaml", "--workers", "1"],
    ["plan", "ok_candidates.yaml", "--year", "2024", "--first", "2", "--most", "2",
     "--confirm", "0", "--workers", "1"]])
def test_an_unreachable_scheduler_is_one_line_and_writes_nothing(
        command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`pathway`/`plan --scheduler tcp://127.0.0.1:1` printed their warnings (a part year),
    then wrote pathway.json or plan.json ("running") and runs/ into --out, and only then
    found the scheduler unreachable. The scheduler is now reached first, as sweep does
    (`sim.sweep.executors.connected`): its error alone, exit 2, no --out."""
    import distributed

    def unreachable(*args: object, **kw: object) -> None:
        raise OSError("Timed out trying to connect to tcp://127.0.0.1:1 after 15 s")

    monkeypatch.setattr(distributed, "Client", unreachable)
    corpus = Path(__file__).resolve().parents[1] / "bad_inputs"
    result = _cqsim(command[0], corpus / command[1], *command[2:],
                    "--scheduler", "tcp://127.0.0.1:1", "--out", tmp_path / "out")
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--scheduler: expected a reachable Dask scheduler" in lines[0], \
        lines
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("executor", [["--scheduler", "tcp://127.0.0.1:1"],
                                      ["--local-cluster"]])
def test_a_finished_plan_reruns_without_a_cluster(
        executor: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rerunning a finished plan (every run kept in runs/) with an unreachable --scheduler
    waited 15 s and exited 2 once plan connected before anything else, and --local-cluster
    started a cluster for nothing; a plan, like pathway and sweep, connects only when a
    stage has runs left. One run missing: it connects, and says the scheduler's error."""
    import distributed

    corpus = Path(__file__).resolve().parents[1] / "bad_inputs"
    args = ["plan", corpus / "ok_candidates.yaml", "--year", "2024", "--first", "2",
            "--most", "2", "--confirm", "0", "--workers", "1", "--out", tmp_path / "out"]
    first = _cqsim(*args)
    assert first.exit_code == 0, (first.output, first.exception)
    (tmp_path / "out" / "plan.csv").unlink()
    tried: list[object] = []

    def unreachable(*a: object, **kw: object) -> None:
        tried.append(a)
        raise OSError("Timed out trying to connect to tcp://127.0.0.1:1 after 15 s")

    monkeypatch.setattr(distributed, "Client", unreachable)
    monkeypatch.setattr(distributed, "LocalCluster", unreachable)
    again = _cqsim(*args, *executor)
    assert again.exit_code == 0, (again.output, again.exception)
    assert not tried and (tmp_path / "out" / "plan.csv").exists()
    next(iter(sorted((tmp_path / "out" / "runs").glob("p*.parquet")))).unlink()
    short = _cqsim(*args, *executor)
    assert short.exit_code != 0 and tried, (short.output, short.exception)
    assert short.stderr.strip().splitlines()[-1].startswith("cqsim: error:"), short.stderr


@pytest.mark.parametrize("address", ["notanaddr", "host:99999", ":", "a:b:1", "x:", ""])
def test_a_bad_dashboard_address_is_refused_before_anything_runs(tmp_path: Path,
                                                                 address: str) -> None:
    """`--dashboard-address notanaddr` was a "Cluster failed to start" traceback after the
    variants were settled."""
    result = _cqsim("sweep", tmp_path / "missing.yaml", "--local-cluster",
                    "--dashboard-address", address, "--out", tmp_path / "out")
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--dashboard-address" in lines[0] and "HOST:PORT" in lines[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args, says", [
    (["--local-cluster", "--dashboard-address", "999.1.1.1:1"],
     "--dashboard-address: expected HOST:PORT, :PORT or PORT with a host this machine "
     "resolves"),
    # resolves, but is not this machine's: the LocalCluster failed later, exit 1
    (["--local-cluster", "--dashboard-address", "192.0.2.1:8787"],
     "--dashboard-address: expected HOST:PORT, :PORT or PORT with a host of this machine"),
    (["--dashboard-address", ":8787"], "--dashboard-address: expected --local-cluster too"),
    (["--scheduler", "tcp://127.0.0.1:1", "--local-cluster"],
     "exclude each other: expected one of them")])
def test_executor_options_that_cannot_be_met_say_what_was_expected(
        tmp_path: Path, args: list[str], says: str) -> None:
    """An unresolvable dashboard host stopped the LocalCluster after the variants were
    settled: exit 1 and a raw gaierror blamed on --local-cluster; --dashboard-address without
    --local-cluster was ignored without a word; --scheduler with --local-cluster said no
    "expected". Each is one line, exit 2, before the sweep file is read."""
    result = _cqsim("sweep", tmp_path / "missing.yaml", *args, "--out", tmp_path / "out")
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], lines
    assert not (tmp_path / "out").exists()


def test_plan_most_below_first_says_what_was_expected(tmp_path: Path) -> None:
    result = _cqsim("plan", tmp_path / "missing.yaml", "--first", "4", "--most", "2",
                    "--out", tmp_path / "out")
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--most: expected at least --first (4), got 2" in lines[0], lines


@pytest.mark.parametrize(("command", "kind", "field"), [
    ("plan", "candidates file", "scenario"), ("pathway", "pathway file", "scenario"),
    ("sweep", "sweep file", "base")])
def test_a_scenario_given_for_a_study_file_says_which_file_was_expected(
        tmp_path: Path, command: str, kind: str, field: str) -> None:
    """`cqsim plan scenarios/baseline-2023.yaml` said "scenario: expected a value (the field
    is required)", not that a candidates file was expected (trial66); pathway and sweep
    alike ("expected the missing fields base, parameters")."""
    result = _cqsim(command, BASELINE_2023, "--out", tmp_path / "out")
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"cqsim: error: {BASELINE_2023.resolve()}: {field}: expected a "
                               f"{kind} (its {field}: names the base scenario); this is a "
                               "scenario file (it has "), lines
    assert lines[0].endswith(f"give it as a {kind}'s {field}:"), lines
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("address", ["127.0.0.1:0", ":8787", "8787", "localhost:65535"])
def test_the_dashboard_addresses_dask_takes_are_taken(address: str) -> None:
    from sim.cli.sweep import DashboardAddress

    assert DashboardAddress().convert(address, None, None) == address


def test_a_local_cluster_that_does_not_start_is_one_line(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """An environment failure (a host that does not resolve, no sockets): exit 1, one line
    naming --local-cluster and the cause, no traceback, no results folder."""
    import distributed

    def no_cluster(*args: object, **kw: object) -> None:
        raise RuntimeError("Cluster failed to start: boom") from OSError("no such host")

    monkeypatch.setattr(distributed, "LocalCluster", no_cluster)
    path = nb.line_network(tmp_path, horizon={"days": 20})
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(yaml.safe_dump({"base": path.name, "replications": 1, "parameters": {
        "grid": {"network.services.ab.departures_per_week": [7]}}}))
    result = _cqsim("sweep", sweep, "--local-cluster", "--workers", "1",
                    "--out", tmp_path / "out")
    assert result.exit_code == 1, (result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cqsim: error: --local-cluster:"), lines
    assert "no such host" in lines[0]
    assert not (tmp_path / "out").exists()


SHRINKING = {"dist": "triangular", "low": -150.0, "mode": -120.0, "high": -101.0,
             "source": "test"}
CANDIDATE = {"name": "more-trains", "lead_time_years": 0, "capital_cny": 1e9,
             "lead_time_source": "assumption: test", "capital_source": "assumption: test",
             "operating_cny_per_year": 0, "operating_source": "assumption: test",
             "changes": [{"kind": "scale", "service": "west-rail",
                          "field": "departures_per_week", "factor": 2.0}]}


@pytest.mark.parametrize("command, growth, words", [
    ("pathway", SHRINKING, "above -100"),
    ("plan", SHRINKING, "above -100"),
    ("pathway", {"dist": "normal", "mean": 2.0, "sd": 30.0, "source": "test"}, "above -100"),
    ("pathway", {"dist": "uniform", "low": 1e5, "high": 2e5, "source": "test"},
     "factor 1000 by 2024"),
    ("plan", {"dist": "uniform", "low": 1e5, "high": 2e5, "source": "test"},
     "factor 1000 by 2025"),
])
def test_a_growth_rate_no_market_can_have_is_refused_on_loading(
        tmp_path: Path, command: str, growth: dict, words: str) -> None:
    """A market growing at -100 %/yr or less (or compounding past demand_growth's factor
    1000): `pathway` simulated, then died with KeyError: 'year' leaving pathway.json and
    runs/; `plan` was a RuntimeError traceback. Now one line naming the file and the market's
    growth, before anything runs."""
    from tests.support.market import write_market_scenario

    write_market_scenario(tmp_path)
    doc: dict = {"scenario": "market.yaml", "base_year": 2023, "growth": {"eu": growth}}
    doc.update({"to": 2024, "samples": 2} if command == "pathway" else
               {"decided_from": 2023, "candidates": [CANDIDATE]})
    path = tmp_path / "file.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    extra = ["--workers", "1"] + (["--first", "2", "--most", "2", "--confirm", "0"]
                                  if command == "plan" else [])
    result = _cqsim(command, path, "--out", tmp_path / "out", *extra)
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "file.yaml: growth.eu: expected" in lines[0], lines
    assert words in lines[0], lines
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("old", "new", "field"), [
    ("713.7", "seven hundred", "line"),
    ("713.7", "nan", ".value"),          # nan, inf and negatives gave attainment nan or
    ("900,bn CNY", "-900,bn CNY", ".value"),  # P(meet) 1 (audit s16)
    ("900,bn CNY", "900,bn USD", "goods_trade_2025.unit"),
    ("goods_trade_2025,Goods", "goods_trade_2023,Goods", ".id"),    # a second 2023 row
    # a year 0 was accepted, and a pathway would report against it (fuzz2 M7)
    ("900,bn CNY,2025,", "900,bn CNY,0,", "line 2.year: expected a year from 1900"),
    ("900,bn CNY,2025,", "900,bn CNY,2020,", "goods_trade_2025.year: expected a year after"),
    # the id missing was said as "got a text of 16 characters" (fuzz2 M6)
    ("goods_trade_2025,Goods", "goods_trade_2052,Goods", "id: expected a row with id "
                                                         "'goods_trade_2025'")])
def test_a_damaged_targets_file_is_one_line_before_the_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, old: str, new: str,
        field: str) -> None:
    """A malformed seeds/targets.csv was ignored: the trade table fell back to figures held in
    the code. It is now refused before anything runs, naming the file and the line."""
    import sim.targets
    from sim.targets import TARGETS_FILE, packaged_seeds

    seeds = tmp_path / "seeds"
    shutil.copytree(packaged_seeds(), seeds)
    text = (seeds / TARGETS_FILE).read_text(encoding="utf-8")
    assert old in text
    (seeds / TARGETS_FILE).write_text(text.replace(old, new, 1), encoding="utf-8")
    monkeypatch.setattr(sim.targets, "packaged_seeds", lambda: seeds)
    out = tmp_path / "out"
    result = _cqsim("run", nb.line_network(tmp_path), "--out", out)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and TARGETS_FILE in lines[0] and field in lines[0], lines
    assert not out.exists()


@pytest.mark.parametrize("setting", ["seed", "replications", "name", "extends", "description"])
def test_a_run_setting_is_not_a_parameter_to_vary(tmp_path: Path, setting: str) -> None:
    """A sweep grid (or an uncertain entry) over `seed` passed validation, ran every variant
    and then failed on two `seed` columns, leaving its staging folder. It is refused at
    validation now, naming the block."""
    base = nb.line_network(tmp_path)
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(yaml.safe_dump({"name": "s", "base": base.name, "replications": 1,
                                     "parameters": {"grid": {setting: [1, 2]}}}))
    scenario = tmp_path / "u.yaml"
    scenario.write_text(yaml.safe_dump({"extends": base.name, "name": "u", "uncertain": {
        setting: {"dist": "uniform", "low": 1, "high": 9, "source": "x"}}}))
    for args, block in ((["validate", sweep], "parameters"), (["validate", scenario],
                                                               "uncertain"),
                        (["sweep", sweep, "--workers", "1", "--out", tmp_path / "o"],
                         "parameters")):
        result = _cqsim(*args)
        assert result.exit_code == 2, (args, result.output)
        lines = result.stderr.strip().splitlines()
        # a label in uncertain: is named by its own path (`uncertain_inputs`)
        assert len(lines) == 1 and (f"{block}: expected" in lines[0] or f"{block}.{setting}: "
                                    f"expected" in lines[0]) and setting in lines[0], lines
    assert not (tmp_path / "o").exists() and not list(tmp_path.glob(".o*"))


def test_an_out_inside_another_result_is_refused(tmp_path: Path) -> None:
    """Audit s16: a run's --out inside another run's folder was accepted, and the first run
    could then no longer be reported (its manifest did not list the second's files)."""
    base = nb.line_network(tmp_path)
    first = tmp_path / "first"
    assert _cqsim("run", base, "--out", first, "--no-map", "--no-report").exit_code == 0
    inner = first / "sub"
    result = _cqsim("run", base, "--out", inner, "--no-map", "--no-report")
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--out" in lines[0] and "outside other results" in lines[0]
    assert not inner.exists()
    assert _cqsim("report", first, "-o", tmp_path / "r.html").exit_code == 0
    result = _cqsim("report", first, "-o", first / "sub" / "x.html")   # nor a report
    assert result.exit_code == 2 and "outside other results" in result.stderr, result.output
    assert not (first / "sub").exists()
    assert _cqsim("report", first).exit_code == 0      # its own report.html: listed in it
    # a name too long for the file system: one line, not OSError's traceback
    result = _cqsim("report", first, "-o", tmp_path / f"{'x' * 300}.html")
    assert result.exit_code == 2 and "at most 255 bytes a part" in result.stderr, result.output


@pytest.mark.parametrize(("name", "text", "command"), [
    # a key twice (the audit, D9), an empty file, bytes not UTF-8, a list, no file at all
    ("dup.yaml", "name: a\nname: b\n", "validate"),
    ("empty.yaml", "", "validate"),
    ("latin.yaml", "name: caf\xe9\n", "validate"),       # written as Latin-1 below
    ("list.yaml", "- a\n- b\n", "validate"),
    ("missing.yaml", None, "validate"),
    ("sweep.yaml", "base: s.yaml\nbogus: 1\nparameters: {grid: {demand.lot_teu: [20]}}\n",
     "validate"),
    ("path.yaml", "scenario: s.yaml\nbase_year: 2023\nto: 2024\nseed: true\n", "pathway"),
    ("cands.yaml", "scenario: s.yaml\nbase_year: 2023\ndecided_from: 2023\nseed: null\n"
     "candidates: []\n", "plan"),
    # calibration targets were named as typed (the review of the merged messages)
    ("targets.csv", "id,metric,published\nx,y,1\n", "calibrate"),
])
def test_a_file_named_relative_is_named_by_its_absolute_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, text: str | None,
        command: str) -> None:
    """Every message names a file by its absolute path, however the user typed it: a file
    that did not parse (a duplicate key, an empty file, ...) and a sweep's, pathway's or
    candidates file's fields were named as typed (`dup.yaml`), the scenario's absolute."""
    nb.write_scenario(tmp_path / "s.yaml", yaml.safe_load(nb.line_network(tmp_path).read_text()))
    if text is not None:
        (tmp_path / name).write_bytes(text.encode("latin-1"))
    monkeypatch.chdir(tmp_path)
    extra = [] if command == "validate" else ["--out", "out"]
    args = [command, f"./{name}", *extra]
    if command == "calibrate":
        args = [command, "s.yaml", "--targets", f"./{name}"]
    result = _cqsim(*args)
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"cqsim: error: {tmp_path.resolve() / name}: "), lines
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("command", "text", "said"), [
    # pydantic's words reached the user: "a valid dictionary or instance of Parameters",
    # "a valid tuple", "Unable to extract tag using discriminator _dist_kind()"
    ("sweep", "base: s.yaml\nparameters: []\n",
     "parameters: expected a mapping (key: value lines), got []"),
    ("sweep", "base: s.yaml\nparameters: {grid: {demand.lot_teu: 20}}\n",
     "parameters.grid.demand.lot_teu: expected a list, got 20"),
    ("pathway", "scenario: s.yaml\nbase_year: 2023\nto: 2024\nexpansions: {a: 1}\n",
     "expansions: expected a list, got a mapping of 1 key"),
    ("pathway", "scenario: s.yaml\nbase_year: 2023\nto: 2024\ngrowth: {eu: 3}\n",
     "growth.eu: expected a mapping with `dist` (a distribution: one of normal"),
    ("plan", "scenario: s.yaml\nbase_year: 2023\ndecided_from: 2023\ncandidates: [1]\n",
     "candidates.0: expected a mapping (key: value lines), got 1"),
    # the field was `parameters` and the value unsaid: "parameters: expected grid.x: ..."
    ("sweep", "base: s.yaml\nparameters: {grid: {demand.lot_teu: []}}\n",
     "parameters.grid.demand.lot_teu: expected at least one value, got []"),
    # the value unsaid
    ("rank", "changes: {kind: scale}\n",
     "changes: expected a non-empty list of changes, got a mapping of 1 key"),
])
def test_a_malformed_study_file_says_what_was_expected_and_got(
        tmp_path: Path, command: str, text: str, said: str) -> None:
    base = nb.write_scenario(tmp_path / "s.yaml",
                             yaml.safe_load(nb.line_network(tmp_path).read_text()))
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    args = [base, "--changes", bad, "--replications", "2"] if command == "rank" else [bad]
    result = _cqsim(command, *args, "--out", tmp_path / "out")
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"cqsim: error: {bad}: {said}"), lines
    assert not (tmp_path / "out").exists()


def test_one_replication_says_it_has_no_intervals(tmp_path: Path) -> None:
    """With one replication the console showed no ± and no word why, and "P(meet) = 0.00
    over 1 replication(s)", a probability from one draw (trial47 L4)."""
    path = nb.line_network(tmp_path)
    result = _cqsim("run", path, "--replications", "1", "--days", "20", "--no-report",
                    "--no-map", "--out", tmp_path / "o")
    assert result.exit_code == 0, result.output
    said = " ".join(result.stdout.split())
    assert "(no confidence intervals from one replication: run 2 or more)" in said
    assert "P(meet) not estimated from one replication" in said and "P(meet) =" not in said


def test_a_misspelt_key_of_a_change_is_one_line_naming_it(tmp_path: Path) -> None:
    """The trial's file (trial64 #6): `feild:` in a change of baseline-2023 is named, with
    the field meant, on the one line of a refused input: exit 2, nothing else."""
    scenario = tmp_path / "typo.yaml"
    scenario.write_text(
        f"name: typo\nextends: {BASELINE_2023}\nchanges:\n"
        "  - {kind: set, service: south-sea-singapore, feild: departures_per_week, "
        "value: 14}\n", encoding="utf-8")
    result = _cqsim("validate", scenario)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"cqsim: error: {scenario}: changes.0.feild: expected no such key (unknown field; "
        "did you mean 'field'?)"]
