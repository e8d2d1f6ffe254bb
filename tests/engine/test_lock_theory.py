"""Batch-service (lock) and M/D/c (border) formulas of sim/queueing.py against closed forms,
a plain-Python reference simulator and ciw (tests/support/locks.py).

Each simulated case runs independent replications with seeds fixed by a rule; the formula
must lie inside the 99% t interval of the replication means, and that interval must be
narrower than `PRECISION` of the value so the comparison can fail. Measured values are in
docs/validation.md.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.queueing import (
    batch_left_distribution,
    breakdown_wait,
    clearing_time,
    closure_wait,
    fixed_cycle_wait,
    headway_batch_wait,
    lognormal_moments,
    mdc_wait,
    mmc_wait,
    priority_fixed_cycle_waits,
)
from tests.support import locks as L
from tests.support.queues import estimate

PRECISION = 0.10
CYCLE, BATCH = 1.55, 4      # about a Three Gorges lockage headway; four vessels a lockage


def test_single_batch_closed_form() -> None:
    """Batch 1: L' = max(L + A - 1, 0) has E[L] = a^2 / (2 (1 - a)), so the wait is
    T/2 + T a / (2 (1 - a)) (derived in docs/validation.md)."""
    for a in (0.3, 0.7, 0.9):
        cycle = 2.0
        assert fixed_cycle_wait(a / cycle, cycle, 1) == pytest.approx(
            cycle / 2 + cycle * a / (2 * (1 - a)), rel=1e-9)


def test_limits_and_instability() -> None:
    assert fixed_cycle_wait(0.0, CYCLE, BATCH) == CYCLE / 2   # wait for the next epoch only
    assert headway_batch_wait(0.0, CYCLE, BATCH) == 0.0       # an idle lock starts at once
    assert headway_batch_wait(1e-4, CYCLE, BATCH) == pytest.approx(0.0, abs=1e-3)
    assert fixed_cycle_wait(BATCH / CYCLE, CYCLE, BATCH) == math.inf
    assert headway_batch_wait(1.01 * BATCH / CYCLE, CYCLE, BATCH) == math.inf
    left = batch_left_distribution(0.95 * BATCH / CYCLE, CYCLE, BATCH)
    assert left.sum() == pytest.approx(1.0) and left.min() >= 0
    with pytest.raises(ValueError):
        batch_left_distribution(1.0, CYCLE, 0)


def test_priority_waits_conserve_work() -> None:
    """The class waits weighted by their rates give the first-come-first-served wait (same
    vessels, same starts), and the top class waits as if alone."""
    lams = [0.3 * BATCH / CYCLE, 0.6 * BATCH / CYCLE]
    hi, lo = priority_fixed_cycle_waits(lams, CYCLE, BATCH)
    assert hi == pytest.approx(fixed_cycle_wait(lams[0], CYCLE, BATCH))
    assert (lams[0] * hi + lams[1] * lo) / sum(lams) == pytest.approx(
        fixed_cycle_wait(sum(lams), CYCLE, BATCH))
    assert hi < lo


def test_formulas_known_values() -> None:
    assert clearing_time(24.0, 0.9) == pytest.approx(216.0)
    assert clearing_time(24.0, 1.0) == math.inf
    mean, second = lognormal_moments(10.0, 0.0)
    assert (mean, second) == (10.0, 100.0)
    assert mdc_wait(0.5, 1.0, 1) == pytest.approx(0.5 * mmc_wait(0.5, 1.0, 1))  # M/D/1 exact
    # no closures: the closure formulas fall back to the plain server
    assert closure_wait(2.0, CYCLE, BATCH, 0.0, 10.0, 200.0) == pytest.approx(
        fixed_cycle_wait(2.0, CYCLE, BATCH))
    assert breakdown_wait(2.0, CYCLE, BATCH, 0.0, 10.0, 200.0) > CYCLE / 2


def test_closure_wait_by_hand_for_lockages_of_one_vessel() -> None:
    """`closure_wait` at batch 1, cycle 2 h, 0.2 vessels/h, closures 0.01/h of 10 h mean and
    200 h^2 second moment: availability 1 / 1.1, so the plain server's load is inflated to
    0.2 x 1.1 x 2 = 0.44; its wait T/2 + T a / (2 (1 - a)) = 1 + 0.88 / 1.12, plus the
    residual closure 0.01 x 200 / (2 x 0.56) = 2 / 1.12: 3.5714 h."""
    assert closure_wait(0.2, 2.0, 1, 0.01, 10.0, 200.0) == pytest.approx(
        1.0 + 0.88 / 1.12 + 2.0 / 1.12, rel=1e-9)


@pytest.mark.parametrize("rho", [0.8, 0.9])
@pytest.mark.parametrize("idle_start", [False, True])
def test_batch_server_against_reference_simulation(rho: float, idle_start: bool) -> None:
    """Bailey's exact wait (fixed cycle) and its idle-start variant (cqsim's lock rule)
    against the plain-Python batch server, 6 replications of 60,000 h."""
    lam = rho * BATCH / CYCLE
    theory = (headway_batch_wait if idle_start else fixed_cycle_wait)(lam, CYCLE, BATCH)
    means = [L.batch_server_waits(lam, CYCLE, BATCH, 60_000, 2_000, int(100 * rho) + r,
                                  idle_start).mean() for r in range(6)]
    est = estimate(means)
    assert est.half < PRECISION * theory, est
    assert est.covers(theory), (theory, est)


@pytest.mark.slow
def test_ciw_slotted_priorities_against_exact() -> None:
    """ciw's `Slotted` schedule, with two priority classes, against the exact class waits:
    an independent simulator of the same fixed-cycle lock."""
    lams = [0.3 * BATCH / CYCLE, 0.6 * BATCH / CYCLE]
    theory = priority_fixed_cycle_waits(lams, CYCLE, BATCH)
    runs = np.array([L.ciw_slotted_waits(lams, CYCLE, BATCH, 15_000, 1_000, seed=20 + r)
                     for r in range(5)])
    for k in range(2):
        est = estimate(runs[:, k])
        assert est.half < 0.15 * theory[k], (k, est)
        assert est.covers(theory[k]), (k, theory[k], est)


@pytest.mark.slow
@pytest.mark.parametrize("per_day,closed_h_per_year,mean_h", [(55, 320, 20), (60, 160, 10)])
def test_closures_against_reference_simulation(per_day: float, closed_h_per_year: float,
                                               mean_h: float) -> None:
    """Poisson closures with exponential durations, stationary over the year: `closure_wait`
    against the reference server over 8 replications of 10 years (rho_eff 0.87, 0.93)."""
    lam = per_day / 24
    rate = closed_h_per_year / mean_h / 8760
    horizon = 8760 * 10
    means = []
    for r in range(8):
        rng = np.random.default_rng(1000 + r)
        starts = np.sort(rng.uniform(0, horizon, rng.poisson(rate * horizon)))
        ends = starts + rng.exponential(mean_h, starts.size)
        means.append(L.batch_server_waits(lam, 1.456, 4, horizon, horizon * 0.05, r, False,
                                          list(zip(starts, ends, strict=True))).mean())
    theory = closure_wait(lam, 1.456, 4, rate, mean_h, 2 * mean_h**2)
    est = estimate(means)
    assert est.half < 0.25 * theory, est
    assert est.covers(theory), (theory, est)


@pytest.mark.slow
@pytest.mark.parametrize("servers,rho", [(3, 0.5), (3, 0.8)])
def test_ciw_mdc_against_cosmetatos(servers: int, rho: float) -> None:
    """A gauge-change border as M/D/c in ciw against Cosmetatos' approximation (a few
    percent off the exact value, inside these intervals)."""
    service = 1.0
    lam = rho * servers / service
    theory = mdc_wait(lam, service, servers)
    means = [L.ciw_mdc_wait(lam, service, servers, 12_000, 500, seed=40 + r)
             for r in range(5)]
    est = estimate(means)
    assert est.half < 0.15 * theory, est
    assert est.covers(theory), (theory, est)
