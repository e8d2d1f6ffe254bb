"""What a Python or notebook user meets: a short repr, the trade table, `python -m sim`,
the seeds inside any install."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import sim
from tests.support.paths import BASELINE, ROOT


@pytest.fixture(scope="module")
def results() -> sim.Results:
    return sim.run(sim.prepare(BASELINE, days=15, replications=2),
                   progress=False)


def test_repr_is_short_and_html_repr_shows_the_corridors(results: sim.Results) -> None:
    text = repr(results)
    assert len(text) < 300 and "baseline" in text and "2 replication(s)" in text
    page = results._repr_html_()
    assert len(page) < 5_000 and "TEU per year" in page and "west" in page


def test_trade_is_a_table_and_summary_names_the_tables(results: sim.Results) -> None:
    assert results.trade.equals(results.summary("trade"))
    assert {"total", "attainment"} <= set(results.trade["item"])
    with pytest.raises(KeyError, match="the tables are corridors"):
        results.summary("nope")


def test_every_table_the_repr_lists_is_an_attribute(results: sim.Results) -> None:
    """The repr listed 16 tables "e.g. results.corridors", but 4 were attributes and
    `results.lines` said "Did you mean 'links'?"; `by_replication` raised a bare KeyError."""
    for name in results.names:
        assert getattr(results, name).equals(results.summary(name)), name
    assert "lines" in dir(results) and "results.summary(name)" in repr(results)
    with pytest.raises(AttributeError, match=r"no attribute 'line' \(did you mean 'lines'\?\); "
                                             r"the tables are corridors, "):
        _ = results.line
    with pytest.raises(KeyError, match=r"no table 'corridor' \(did you mean 'corridors'\?\); "
                                       r"the tables are corridors, "):
        results.by_replication("corridor")
    # trade by replication, as trade.parquet holds it (it was refused; trial48 L4)
    trade = results.by_replication("trade")
    total = trade[trade["item"] == "total"]
    assert list(total["replication"]) == [r.replication for r in results.replications]
    assert total["value"].mean() == pytest.approx(
        results.trade.set_index("item").loc["total", "value"])


def test_a_path_or_a_scenario_in_place_of_another_is_taken_or_named(
        results: sim.Results) -> None:
    """`sim.run` takes a path, so users passed one elsewhere and met AttributeErrors from
    deep inside: a path is loaded where that is unambiguous, else one TypeError says what
    was expected and what to call (a run's folder is drawn by `sim.flow_map`, read back by
    `sim.read_run`: tests/report/test_read_run.py)."""
    changed = sim.with_overrides(str(BASELINE), seed=3)
    assert changed.seed == 3 and changed.provenance.overrides == {"seed": 3}
    scenario = sim.load_scenario(BASELINE)
    for call, match in (
            (lambda: sim.write_results(str(BASELINE.parent), "out"),
             r"^write_results: expected the Results of sim\.run, got a str \(a run's folder "
             r"is not read back as Results: .*sim\.read_run\(folder\) reads"),
            (lambda: sim.flow_map(scenario), r"got a Scenario \(run it first: "
                                             r"sim\.flow_map\(sim\.run\(scenario\)\)\)$"),
            (lambda: sim.write_results(scenario, "out"), r"^write_results: expected the Results"
                                                         r".*sim\.write_results\(sim\.run\("
                                                         r"scenario\), out\)\)$"),
            (lambda: sim.load_scenario(scenario), r"^load_scenario: expected a scenario file's "
                                                  r"path, got a Scenario \(loaded already"),
            (lambda: sim.run({"seed": 3}), r"^run: expected a scenario file's path or a "
                                           r"Scenario .*got a dict .*sim\.with_overrides")):
        with pytest.raises(TypeError, match=match):
            call()


def test_conservation_ok_is_false_for_freight_created_from_nothing(
        results: sim.Results) -> None:
    """A balance off either way is a breach: 5 TEU more held than created is not "ok"."""
    assert results.conservation_ok()
    rep = results.replications[0]
    off = dataclasses.replace(rep, conservation={**rep.conservation, "residual_teu": -5.0,
                                                 "created_teu": 1000.0})
    assert not dataclasses.replace(results, replications=[off]).conservation_ok()


def test_a_hubs_coordinates_are_labels_not_measures(results: sim.Results) -> None:
    """A hub's lon and lat are the same in every replication: the summary carries them as
    they are, without a mean's CI (`Column.fixed`)."""
    hubs = results.summary("hubs")
    raw = results.by_replication("hubs").drop_duplicates("hub").set_index("hub")
    assert {"lon", "lat"} <= set(hubs) and not {"lon_ci95", "lat_ci95"} & set(hubs)
    assert (hubs.set_index("hub")[["lon", "lat"]] == raw[["lon", "lat"]]).all().all()
    assert "teu_per_year_ci95" in hubs


def test_python_m_sim_runs_the_cli() -> None:
    proc = subprocess.run([sys.executable, "-m", "sim", "--help"], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0 and "Usage: cqsim" in proc.stdout and "report" in proc.stdout


@pytest.mark.slow
def test_the_wheel_ships_the_seeds(tmp_path: Path) -> None:
    """A non-editable install gets seeds/ as package data (sim.seeds), which calibrate reads."""
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                           "--no-build-isolation", "-q", str(ROOT), "-w", str(tmp_path)],
                          capture_output=True,
                          text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    wheel = next(tmp_path.glob("cqsim-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("calibration.csv", "targets.csv", "published-figures.csv", "channels.csv"):
        assert f"sim/seeds/{name}" in names
    assert "sim/report/page.py" in names and "sim/__main__.py" in names


def test_the_public_names_are_listed_once_and_each_resolves() -> None:
    """`sim.__all__` (what `from sim import *` and the docs list) names exactly the lazily
    imported API (`sim._API`), and each name resolves to its module's object."""
    assert sorted(sim.__all__) == sorted(sim._API)
    for name in sim.__all__:
        assert getattr(sim, name) is not None, name
