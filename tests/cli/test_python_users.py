"""What a Python or notebook user meets: a short repr, the trade table, `python -m sim`,
the seeds inside any install."""

from __future__ import annotations

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
