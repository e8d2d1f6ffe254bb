"""Background traffic (sim/engine/background.py): other users' jobs take a hub's yard and
positions, are counted apart, leave tracked freight balanced, and a gauge-change border fed
by Poisson background trains waits as the M/D/c queue it is (against ciw)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.errors import InputError
from sim.pipeline import run
from sim.scenario import load_scenario
from tests.support import locks as L

YEAR_H = 8760.0


_network = L.background_network


def test_background_uses_the_yard_and_positions_and_is_counted_apart(tmp_path: Path) -> None:
    teu_per_year = 200_000.0
    path = _network(tmp_path, {"x": {"teu_per_year": teu_per_year, "batch_teu": 100,
                                     "source": "test"}}, days=730, warmup=30)
    res = run(path)
    hubs = res.hubs.set_index("hub")
    jobs_per_year = teu_per_year / 100
    # Poisson count over 700 days: sd about 2.7% of the mean
    assert hubs.loc["x", "background_teu_per_year"] == pytest.approx(teu_per_year, rel=0.1)
    assert hubs.loc["x", "background_jobs_per_year"] == pytest.approx(jobs_per_year, rel=0.1)
    assert hubs.loc["x", "teu_per_year"] == 0.0        # no tracked freight passes x
    assert hubs.loc["a", "background_teu_per_year"] == 0.0
    # utilization: each job holds a position 0.5 h + 100/50 h on one of 2 positions
    lam = hubs.loc["x", "arrivals_per_year"] / YEAR_H
    assert hubs.loc["x", "utilization"] == pytest.approx(lam * 2.5 / 2, rel=0.02)
    # Little's law for the yard: TEU in the yard = TEU rate x time in yard (wait, handling,
    # 10 h dwell)
    stay = hubs.loc["x", "wait_mean_h"] + 2.5 + 10.0
    assert hubs.loc["x", "yard_mean_teu"] == pytest.approx(lam * 100 * stay, rel=0.03)
    cons = res.by_replication("conservation").iloc[0]
    assert abs(cons["residual_teu"]) < 1e-6 and cons["created_teu_horizon"] > 0


def test_background_trains_at_a_border_and_seasonality(tmp_path: Path) -> None:
    """Trains per year at a gauge-change border; a season that puts every train in the
    first six months leaves the second half-year empty."""
    season = [2.0] * 6 + [0.0] * 6
    path = _network(tmp_path, {"g": {"trains_per_year": 3650, "batch_teu": 82,
                                     "seasonality": season, "source": "test"}}, days=365)
    res = run(path)
    g = res.hubs.set_index("hub").loc["g"]
    assert g["background_jobs_per_year"] == pytest.approx(3650, rel=0.08)
    assert g["background_teu_per_year"] == pytest.approx(82 * g["background_jobs_per_year"])
    assert g["trains_gauge_changed_per_year"] == 0   # only Chongqing's trains count here
    short = _network(tmp_path, {"g": {"trains_per_year": 3650, "batch_teu": 82,
                                      "seasonality": season, "source": "test"}}, days=180)
    first_half = run(short).hubs.set_index("hub").loc["g", "background_jobs_per_year"]
    # all of a year's trains run in the first 182.5 days: 180 days see about 2 x the rate
    assert first_half == pytest.approx(2 * 3650, rel=0.08)


@pytest.mark.slow
def test_border_fed_by_background_trains_is_md_c(tmp_path: Path) -> None:
    """Poisson trains with a fixed gauge-change time at c = 3 positions are an M/D/3 queue:
    cqsim against ciw (the same queue, independent code) and Cosmetatos' formula."""
    theory, ours, ciw, util = L.border_mdc_case(tmp_path)
    assert ours.half < 0.15 * theory, ours
    assert ours.covers(theory), (theory, ours)
    assert abs(ours.mean - ciw.mean) < ours.half + ciw.half, (ours, ciw)
    assert util == pytest.approx(L.MDC["rho"], rel=0.03)


@pytest.mark.parametrize("entry,field", [
    ({"teu_per_year": 1000, "trains_per_year": 10, "batch_teu": 82, "source": "t"},
     "network.background.x"),
    ({"teu_per_year": 1000, "batch_teu": 82, "direction": "inbound", "source": "t"},
     "network.background.x.direction"),
    ({"teu_per_year": 1000, "batch_teu": 82},
     "network.background.x: expected the missing field source"),
    ({"teu_per_year": 1000, "batch_teu": 82, "source": "t", "hub": "y"},
     "network.background.x.hub: expected nothing, or the key it is under (x)"),
])
def test_bad_background_is_refused_naming_the_field(tmp_path: Path, entry: dict,
                                                    field: str) -> None:
    path = _network(tmp_path, {"x": entry})
    with pytest.raises(InputError) as err:
        from sim.network import build
        build(load_scenario(path))
    assert field in str(err.value)


def test_background_at_an_unknown_hub_is_refused(tmp_path: Path) -> None:
    from sim.network import build
    path = _network(tmp_path, {"nowhere": {"teu_per_year": 1000, "batch_teu": 82,
                                           "source": "t"}})
    with pytest.raises(InputError, match="network.background.nowhere"):
        build(load_scenario(path))


def _shut(tmp_path: Path, patience_h: float | None, windows: list[tuple[int, int, float]],
          seed: int = 1) -> pd.Series:
    """hubs.csv's row of port x (1,000 TEU a day of other users' calls of 100 TEU) through
    the capacity `windows` (start day, end day, factor), over a year."""
    spec: dict = {"teu_per_year": 365_000.0, "batch_teu": 100, "source": "test"}
    if patience_h is not None:
        spec["diverts_after_hours"] = patience_h
    path = _network(tmp_path, {"x": spec}, days=365, seed=seed)
    doc = yaml.safe_load(path.read_text())
    doc["changes"] = [{"kind": "disruption", "hub": "x", "start_day": a, "end_day": b,
                       "capacity_factor": f, "why": "test"} for a, b, f in windows]
    path.write_text(yaml.safe_dump(doc))
    return run(path).hubs.set_index("hub").loc["x"]


@pytest.mark.parametrize("windows", [
    [(100, 160, 0.0)],                          # shut 60 days
    [(100, 130, 0.0), (130, 160, 0.0)],         # back to back: one closure of 60 days
    [(100, 160, 0.5), (100, 160, 0.0)],         # overlapping: shut, as 0 x 0.5
])
def test_background_goes_elsewhere_from_a_hub_shut_longer_than_it_waits(
        tmp_path: Path, windows: list[tuple[int, int, float]]) -> None:
    """A port shut for 60 days loses the calls due more than a week before it reopens; the
    same calls arrive either way (common random numbers), so those handled when they wait
    are those handled plus those gone elsewhere when they go."""
    waits, goes = _shut(tmp_path, None, windows), _shut(tmp_path, 168.0, windows)
    assert waits["background_diverted_teu_per_year"] == 0.0
    diverted = goes["background_diverted_teu_per_year"]
    # due from day 100 to day 153 (a week before the end): 53 days of 1,000 TEU, Poisson
    # with an sd of about 2,300 TEU; every call of the whole 60 days would be 60,000
    assert 45_000 < diverted < 57_000
    assert goes["background_teu_per_year"] + diverted == pytest.approx(
        waits["background_teu_per_year"], rel=0.005)
    # the calls that waited are handled within the year: no backlog is left at its end
    assert goes["queue_end_jobs"] < 5


def test_a_run_warns_of_the_calls_that_went_elsewhere(tmp_path: Path) -> None:
    """The console, run.json and the report's first lines say which hub lost its other
    users' calls and how many (hubs.csv alone said it: the planner's probe)."""
    from sim.checks import run_warnings

    spec = {"teu_per_year": 365_000.0, "batch_teu": 100, "diverts_after_hours": 168.0,
            "source": "test"}
    path = _network(tmp_path, {"x": spec}, days=365)
    doc = yaml.safe_load(path.read_text())
    doc["changes"] = [{"kind": "disruption", "hub": "x", "start_day": 100, "end_day": 160,
                       "capacity_factor": 0.0, "why": "test"}]
    path.write_text(yaml.safe_dump(doc))
    said = [w.text for w in run_warnings(run(path)) if w.table == "hubs.csv"]
    assert len(said) == 1 and said[0].startswith("other users' calls went elsewhere")
    assert "x (5" in said[0] and "TEU/yr)" in said[0]
    from click.testing import CliRunner

    from sim.cli import main

    said = CliRunner().invoke(main, ["run", str(path), "--out", str(tmp_path / "out"),
                                     "--no-report", "--no-map"])
    assert said.exit_code == 0, said.output     # the console says it too (it did not)
    assert "cqsim: warning: other users' calls went elsewhere" in said.stderr
    assert "hubs.csv" in said.stderr
    doc["changes"][0]["end_day"] = 105          # a stop shorter than the week: no word
    path.write_text(yaml.safe_dump(doc))
    assert not [w for w in run_warnings(run(path)) if w.table == "hubs.csv"]


def test_a_short_stop_keeps_every_call(tmp_path: Path) -> None:
    """Shut for 5 days, less than the week a call waits: none goes elsewhere."""
    x = _shut(tmp_path, 168.0, [(100, 105, 0.0)])
    assert x["background_diverted_teu_per_year"] == 0.0
    assert x["background_teu_per_year"] == pytest.approx(365_000.0, rel=0.05)


def test_a_port_at_a_low_factor_loses_the_calls_its_queue_would_keep_a_week(
        tmp_path: Path) -> None:
    """Not shut but at 10% of its rate for 60 days, the port's queue grows past a week's
    work: the calls that would wait longer go elsewhere, as at a shut port, and the queue
    stays near a week (it grew without bound before)."""
    waits = _shut(tmp_path, None, [(100, 160, 0.1)])
    goes = _shut(tmp_path, 168.0, [(100, 160, 0.1)])
    assert goes["background_diverted_teu_per_year"] > 20_000
    assert goes["wait_max_h"] < 0.5 * waits["wait_max_h"]


def test_a_border_s_trains_read_their_wait_in_trains(tmp_path: Path) -> None:
    """At a gauge-change border a train holds a position for hours (here 4 h, from 12
    trains a day on 2 positions), not the minutes its boxes take at the handling rate: the
    wait a train reads is the trains ahead of it in its direction times that, so a 24 h
    limit holds its longest wait near a day (it read the box rate, some 13 times too low,
    and trains waited days: the planner's probe of the feature)."""
    def border(patience: float | None) -> pd.Series:
        spec: dict = {"trains_per_year": 3650, "batch_teu": 82, "source": "test"}
        if patience is not None:
            spec["diverts_after_hours"] = patience
        path = _network(tmp_path, {"g": spec}, days=365, border={
            "handling_servers": 2, "outbound_trains_per_day": 12, "inbound_trains_per_day": 12})
        doc = yaml.safe_load(path.read_text())
        doc["changes"] = [{"kind": "disruption", "hub": "g", "start_day": 100, "end_day": 160,
                           "capacity_factor": 0.2, "why": "test"}]
        path.write_text(yaml.safe_dump(doc))
        return run(path).hubs.set_index("hub").loc["g"]

    waits, goes = border(None), border(24.0)
    assert waits["wait_max_h"] > 500                 # 60 days at a fifth of the trains
    assert goes["background_diverted_teu_per_year"] > 10_000
    # a day, plus what the reading leaves out: the train in handling (4 h / 0.2)
    assert goes["wait_max_h"] < 24 + 2 * 20
