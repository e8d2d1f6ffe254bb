"""Background traffic (sim/engine/background.py): other users' jobs take a hub's yard and
positions, are counted apart, leave tracked freight balanced, and a gauge-change border fed
by Poisson background trains waits as the M/D/c queue it is (against ciw)."""

from __future__ import annotations

from pathlib import Path

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


@pytest.mark.parametrize("patience_h,shut_days,diverts", [
    (168.0, 60, True),      # shut for 60 days: calls due more than a week ahead go elsewhere
    (168.0, 5, False),      # shut for 5 days: every call waits at anchor
    (None, 60, False),      # no patience given: every job waits however long
])
def test_background_goes_elsewhere_from_a_hub_shut_longer_than_it_waits(
        tmp_path: Path, patience_h: float | None, shut_days: int, diverts: bool) -> None:
    """A port shut for longer than its callers wait loses the calls due more than that
    before it reopens (diverted, never handled); a shorter stop keeps them all."""
    teu_per_year = 365_000.0                    # 1,000 TEU a day in jobs of 100 TEU
    spec: dict = {"teu_per_year": teu_per_year, "batch_teu": 100, "source": "test"}
    if patience_h is not None:
        spec["diverts_after_hours"] = patience_h
    path = _network(tmp_path, {"x": spec}, days=365)
    doc = yaml.safe_load(path.read_text())
    doc["changes"] = [{"kind": "disruption", "hub": "x", "start_day": 100,
                       "end_day": 100 + shut_days, "capacity_factor": 0.0, "why": "test"}]
    path.write_text(yaml.safe_dump(doc))
    x = run(path).hubs.set_index("hub").loc["x"]
    diverted, handled = x["background_diverted_teu_per_year"], x["background_teu_per_year"]
    if diverts:
        # the calls due from day 100 until a week before day 160: 53 days of 1,000 TEU
        # (Poisson, sd about 230 TEU)
        assert diverted == pytest.approx(53 * 1_000, rel=0.1)
        assert handled + diverted == pytest.approx(teu_per_year, rel=0.05)
    else:
        assert diverted == 0.0
        assert handled == pytest.approx(teu_per_year, rel=0.03)
    # the jobs that waited are handled within the year: no backlog is left at its end
    assert x["queue_end_jobs"] < 5
