"""`cqsim run` and `cqsim validate` end to end, as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from tests.support.netbuilder import line_network
from tests.support.paths import BASELINE, ROOT

CQSIM = [sys.executable, "-m", "sim.cli"]  # the module path, as `python -m sim.cli`


def cqsim(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*CQSIM, *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


@pytest.fixture(scope="module")
def baseline_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("run") / "out"
    proc = cqsim("run", str(BASELINE), "--days", "45", "--replications", "2", "--out",
                 str(out))
    assert proc.returncode == 0, proc.stderr
    return out, proc.stdout


@pytest.mark.slow
def test_run_writes_every_table_map_and_flows(baseline_run: tuple[Path, str]) -> None:
    out, stdout = baseline_run
    for name in ("corridors", "links", "hubs", "lines", "locks", "routes", "timeseries",
                 "conservation"):
        assert (out / f"{name}.csv").is_file() and (out / f"{name}.parquet").is_file()
    corridors = pd.read_csv(out / "corridors.csv").set_index("corridor")
    assert list(corridors.index[:5]) == ["east", "west", "south", "north", "air"]
    channels = ["east", "west", "south", "north", "air"]
    assert (corridors.loc[channels, "teu_per_year"] > 0).all()
    assert (corridors.loc[channels, "trade_bn_cny_per_year"] > 0).all()
    assert "teu_per_year_ci95" in corridors.columns
    # the console's trade total counts the rows trade.csv counts (Chengdu's boxes excluded)
    trade = pd.read_csv(out / "trade.csv").set_index("item")
    assert trade.loc["channels", "value"] == pytest.approx(
        corridors["trade_bn_cny_per_year"].sum())
    reps = pd.read_parquet(out / "corridors.parquet")
    assert sorted(reps["replication"].unique()) == [0, 1]
    # the console's balance is conservation.csv's: per replication, not summed over them
    cons = pd.read_csv(out / "conservation.csv")
    assert (f"(mean of 2 replication(s)): created {cons['created_teu_horizon'].iloc[0]:,.0f} "
            "TEU = delivered") in " ".join(stdout.split()), stdout
    links = gpd.read_file(out / "flows.gpkg", layer="links")
    hubs = gpd.read_file(out / "flows.gpkg", layer="hubs")
    assert links.crs.to_epsg() == 4326 and (links["teu_per_year"] > 0).any()
    # a link's utilization is its busier way's, as links.csv has each (it was the two ways'
    # mean: Khorgos-Almaty read 0.45 with one way at 0.91; trial48 M6)
    ways = pd.read_csv(out / "links.csv").pivot(index="link", columns="direction",
                                               values="utilization").fillna(0.0)
    layer = links.set_index("link")
    assert layer["utilization_down"].to_dict() == pytest.approx(ways["down"].to_dict())
    assert layer["utilization"].to_dict() == pytest.approx(ways.max(axis=1).to_dict())
    assert len(hubs) > 20
    assert (out / "map.png").stat().st_size > 50_000
    meta = json.loads((out / "run.json").read_text())
    assert meta["conservation_ok"] and meta["replications"] == 2
    for corridor in ("east", "west", "south", "north", "air"):
        assert corridor in stdout
    assert "conservation" in stdout


def test_validate_reports_a_valid_file() -> None:
    proc = cqsim("validate", str(BASELINE))
    assert proc.returncode == 0 and "valid" in proc.stdout


def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BASELINE.read_text().replace("vehicle_teu: 82", "vehicle_teu: -82", 1)
                   .replace("geodata: ../geodata", f"geodata: {ROOT / 'geodata'}"))
    out = tmp_path / "out"
    proc = cqsim("run", str(bad), "--out", str(out))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad.yaml" in lines[0] and "vehicle_teu" in lines[0]
    assert "Traceback" not in proc.stderr
    assert not out.exists()


@pytest.mark.slow
def test_quiet_when_not_a_terminal(tmp_path: Path) -> None:
    """No progress on stderr when it is not a terminal: what is there is warnings alone (a
    31-day run's one day of statistics warns that its warm-up is short of the long routes'
    door-to-door days, as it is)."""
    proc = cqsim("run", str(BASELINE), "--days", "31", "--replications", "2", "--no-map",
                 "--out", str(tmp_path / "o"))
    assert proc.returncode == 0 and "\r" not in proc.stderr
    assert all(line.startswith("cqsim: warning: ") for line in proc.stderr.splitlines())


@pytest.mark.slow
def test_same_seed_same_tables_on_any_worker_count(tmp_path: Path) -> None:
    args = ("run", str(BASELINE), "--days", "20", "--replications", "2", "--no-map")
    one = cqsim(*args, "--out", str(tmp_path / "one"))
    two = cqsim(*args, "--workers", "2", "--out", str(tmp_path / "two"))
    assert one.returncode == 0 and two.returncode == 0
    for name in ("corridors", "hubs", "links", "lines"):
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "one" / f"{name}.parquet"),
                                      pd.read_parquet(tmp_path / "two" / f"{name}.parquet"))


def test_same_seed_same_tables_in_another_process(tmp_path: Path) -> None:
    """Same seed, same results on any executor means in any process: a stream keyed on
    anything salted per process (Python's `hash` of a str) passes every in-process test.
    Two runs of the smallest network under different PYTHONHASHSEEDs (the slow test above
    covers the worker pool on the baseline)."""
    scenario = line_network(tmp_path)
    for name, salt in (("one", "1"), ("two", "2")):
        done = subprocess.run([sys.executable, "-m", "sim", "run", str(scenario), "--days", "5",
                               "--replications", "1", "--no-map", "--out", str(tmp_path / name)],
                              capture_output=True, text=True, timeout=120,
                              env={**os.environ, "PYTHONHASHSEED": salt})
        assert done.returncode == 0, done.stderr
    tables = sorted(p.name for p in (tmp_path / "one").glob("*.parquet"))
    assert "corridors.parquet" in tables and "routes.parquet" in tables
    assert tables == sorted(p.name for p in (tmp_path / "two").glob("*.parquet"))
    for name in tables:
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "one" / name),
                                      pd.read_parquet(tmp_path / "two" / name), obj=name)


def test_a_reader_that_goes_away_ends_the_command_quietly() -> None:
    """Audit s16: `cqsim list ... | head -1` exited 1 with nothing said, like a failure.
    The reader's end is closed before anything is read: the command stops quietly, with
    SIGPIPE's exit code (or 0 when all it printed fitted in the pipe)."""
    proc = subprocess.Popen([*CQSIM, "list", "flows", str(ROOT / "scenarios" /
                                                          "baseline-2023.yaml")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=120) in (0, 141) and err == b"", err
