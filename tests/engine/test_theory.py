"""cqsim's queues against queueing theory and against an independent simulator (ciw).

Each case runs independent replications after a warm-up; the simulated mean must lie within
its 99% confidence interval of the closed form, and that interval must be narrow enough
(within 15% of the value) for the comparison to mean something. Seeds are fixed by a rule
(not tuned), so every run of the suite checks the same samples. Measured values are
reported in docs/validation.md.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from sim.queueing import (
    erlang_c,
    ggc_wait,
    jackson_tandem_sojourn,
    kingman_wait,
    lognormal_moments,
    mmc_in_system,
    mmc_wait,
    scheduled_wait,
    squared_cv,
)
from sim.units import HOURS_PER_YEAR
from tests.support import queues as Q

PRECISION = 0.15    # a CI half-width wider than this share of the theory value proves little
WARMUP_DAYS = 20    # 480 h: several relaxation times of the busiest queue here (~380 h)

# (servers, utilization, days per replication, replications)
MMC_CASES = [(1, 0.5, 400, 8), (1, 0.9, 2920, 8), (3, 0.5, 250, 8), (3, 0.9, 540, 8)]


# ----------------------------------------------------------------------------- formulas


def test_erlang_c_known_values() -> None:
    """Erlang C against values tabulated in Gross et al. (2008) and the M/M/1 identity."""
    assert erlang_c(1, 0.7) == pytest.approx(0.7)            # M/M/1: P(wait) = rho
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    # the textbook sum form, P(wait) = (a^c/c!)(c/(c-a)) / (sum_k<c a^k/k! + that)
    a, c = 2.7, 3
    top = a**c / math.factorial(c) * c / (c - a)
    assert erlang_c(c, a) == pytest.approx(
        top / (sum(a**k / math.factorial(k) for k in range(c)) + top))
    assert mmc_wait(0.9, 1.0, 1) == pytest.approx(9.0)       # rho/(mu - lam)
    assert mmc_wait(1.0, 1.0, 1) == math.inf
    assert mmc_in_system(0.5, 1.0, 1) == pytest.approx(1.0)  # rho/(1-rho)
    assert kingman_wait(0.9, 1.0, 1.0, 1.0) == pytest.approx(9.0)
    assert kingman_wait(0.9, 1.0, 1.0, 0.0) == pytest.approx(4.5)  # M/D/1 (exact)
    assert ggc_wait(2.7, 1.0, 3, 1.0, 1.0) == pytest.approx(mmc_wait(2.7, 1.0, 3))
    assert jackson_tandem_sojourn(0.5, [1.0, 1.0]) == pytest.approx(4.0)
    assert scheduled_wait(24.0) == 12.0


# ----------------------------------------------------------------------------- M/M/c


def test_squared_cv_is_the_sample_variance_over_the_mean_squared() -> None:
    """From a count, sum and sum of squares: 1, 3, 8 have mean 4 and sample variance
    (9 + 1 + 16) / 2 = 13, so 13 / 16; numpy's ddof=1 agrees."""
    x = np.array([1.0, 3.0, 8.0])
    assert squared_cv(x.sum(), (x * x).sum(), 3) == pytest.approx(13 / 16)
    assert squared_cv(x.sum(), (x * x).sum(), 3) == pytest.approx(
        np.var(x, ddof=1) / x.mean() ** 2)
    assert math.isnan(squared_cv(5.0, 25.0, 1))


def test_lognormal_moments_are_scipy_s() -> None:
    """E[D] and E[D^2] of a lognormal duration of median 10 h and log-sd 0.5."""
    from scipy.stats import lognorm

    dist = lognorm(s=0.5, scale=10.0)
    mean, second = lognormal_moments(10.0, 0.5)
    assert mean == pytest.approx(dist.mean())
    assert second == pytest.approx(dist.moment(2))


@pytest.mark.slow
@pytest.mark.parametrize("servers,rho,days,reps", MMC_CASES,
                         ids=[f"M/M/{c}-rho{r}" for c, r, _, _ in MMC_CASES])
def test_mmc_hub_matches_erlang_c_littles_law_and_ciw(tmp_path: Path, servers: int,
                                                      rho: float, days: int,
                                                      reps: int) -> None:
    lam, service = rho * servers, 1.0
    seed = 1000 * servers + round(100 * rho)
    results = Q.simulate(Q.mmc_scenario(tmp_path, servers, lam, service, days, WARMUP_DAYS,
                                        reps, seed=seed))
    hubs = results.by_replication("hubs")
    hub = hubs[hubs["hub"] == "q"]
    theory = mmc_wait(lam, service, servers)

    wait = Q.estimate(hub["wait_mean_h"])
    assert wait.covers(theory), f"wait {wait} h vs Erlang C {theory:.3f} h"
    assert wait.half < PRECISION * theory, f"CI too wide to test: {wait}"
    util = Q.estimate(hub["utilization"])
    assert util.covers(rho), f"utilization {util} vs {rho}"
    assert util.half < PRECISION * rho

    # Little's law, per replication: L (time average) = lambda x W (per job)
    period = Q.stats_hours(results)
    for _, row in hub.iterrows():  # arrivals per hour = per year / 8760
        little = row["arrivals_per_year"] / HOURS_PER_YEAR * (
            row["wait_mean_h"] + row["service_mean_h"])
        assert row["in_system_mean_jobs"] == pytest.approx(little, rel=0.01)

    # the checks table puts the same theory beside the observation, from measured rates
    checks = results.by_replication("checks")
    row = checks[checks["hub"] == "q"]
    assert np.allclose(row["wait_observed_h"], hub["wait_mean_h"])
    assert row["wait_mmc_h"].mean() == pytest.approx(theory, rel=0.1)   # at most 3.1% off
    assert (row["unstable"] == 0).all()

    # ciw, an independent simulator, on the same queue
    other = Q.estimate(Q.ciw_mmc_waits(servers, lam, service, period, WARMUP_DAYS * 24.0,
                                       reps, seed=seed))
    assert other.covers(theory), f"ciw wait {other} h vs Erlang C {theory:.3f} h"
    assert abs(wait.mean - other.mean) <= math.hypot(wait.half, other.half), \
        f"cqsim {wait} vs ciw {other}"


# ----------------------------------------------------------------------------- tandem

TANDEM = {"lam": 0.6, "service1_h": 1.0, "service2_h": 1.25}  # rho = 0.6 then 0.75


@pytest.mark.slow
def test_tandem_matches_jackson_and_ciw(tmp_path: Path) -> None:
    days, reps = 500, 8
    results = Q.simulate(Q.tandem_scenario(tmp_path, days=days, warmup_days=WARMUP_DAYS,
                                           replications=reps, **TANDEM))
    theory = jackson_tandem_sojourn(TANDEM["lam"], [TANDEM["service1_h"],
                                                    TANDEM["service2_h"]])
    routes = results.by_replication("corridors")
    transit = routes[routes["corridor"] == "west"]["transit_mean_h"] - Q.LINK_HOURS
    sojourn = Q.estimate(transit)
    assert sojourn.covers(theory), f"sojourn {sojourn} h vs Jackson {theory:.3f} h"
    assert sojourn.half < PRECISION * theory

    hubs = results.by_replication("hubs").set_index(["replication", "hub"])
    for hub, service in (("q1", TANDEM["service1_h"]), ("q2", TANDEM["service2_h"])):
        per_hub = Q.estimate(hubs.xs(hub, level="hub")["wait_mean_h"])
        expected = mmc_wait(TANDEM["lam"], service, 1)
        assert per_hub.covers(expected), f"{hub}: wait {per_hub} vs M/M/1 {expected:.3f}"

    other = Q.estimate(Q.ciw_tandem_sojourns(TANDEM["lam"], TANDEM["service1_h"],
                                             TANDEM["service2_h"], Q.stats_hours(results),
                                             WARMUP_DAYS * 24.0, reps))
    assert other.covers(theory), f"ciw sojourn {other} vs Jackson {theory:.3f}"
    assert abs(sojourn.mean - other.mean) <= math.hypot(sojourn.half, other.half)


# ----------------------------------------------------------------------------- timetable


def test_wait_for_scheduled_departure_is_half_the_headway(tmp_path: Path) -> None:
    per_week = 7.0  # daily: a 24 h headway
    results = Q.simulate(Q.scheduled_scenario(tmp_path, per_week=per_week, lam=0.25,
                                              days=365, replications=6))
    lines = results.by_replication("lines")
    boarding = Q.estimate(lines[lines["line"] == "train"]["boarding_wait_mean_h"])
    theory = scheduled_wait(168.0 / per_week)
    assert boarding.covers(theory), f"boarding wait {boarding} h vs {theory} h"
    assert boarding.half < 0.05 * theory
