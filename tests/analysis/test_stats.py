"""Confidence intervals over replications and the replications a change needs (`sim.stats`)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from sim.stats import mean_ci, replications_to_resolve


def test_the_replications_a_change_needs_by_hand() -> None:
    d = np.array([1.0, 3.0])            # mean 2, s = sqrt(2)
    s = math.sqrt(2.0)
    # n = 4: t(3) s / 2 = 2.25 > 2; n = 5: t(4) s / sqrt(5) = 1.76 <= 2
    assert stats.t.ppf(0.975, 3) * s / 2 > 2 >= stats.t.ppf(0.975, 4) * s / math.sqrt(5)
    assert replications_to_resolve(d) == 5
    assert replications_to_resolve(np.array([1.0, 1.0])) == 2      # no spread: resolved
    assert replications_to_resolve(np.array([1.0, -1.0])) is None  # no change to resolve
    assert replications_to_resolve(np.array([1.0])) is None        # no spread measured
    assert replications_to_resolve(np.array([1e-6, 1.0, -1.0]), most=100) is None


def test_at_the_replications_named_the_interval_would_exclude_zero() -> None:
    rng = np.random.default_rng(7)
    for _ in range(50):
        d = rng.normal(rng.uniform(-1, 1), rng.uniform(0.1, 3), size=int(rng.integers(2, 9)))
        need = replications_to_resolve(d)
        if need is None:
            continue
        mean, sd = abs(d.mean()), d.std(ddof=1)
        assert stats.t.ppf(0.975, need - 1) * sd / math.sqrt(need) <= mean
        if need > d.size:         # and not at one fewer
            assert stats.t.ppf(0.975, need - 2) * sd / math.sqrt(need - 1) > mean
        _, half = mean_ci(d)
        assert (need == d.size) == (half <= mean)


def test_an_unresolved_total_gets_a_line_naming_the_replications() -> None:
    from sim.cli.render import unresolved_lines

    deltas = pd.DataFrame([
        {"variant": "x", "metric": "trade_bn_cny_per_year", "scope": "total", "delta": 0.07,
         "delta_ci95": 0.16, "replications": 4, "replications_to_resolve": 10},
        {"variant": "x", "metric": "teu_per_year", "scope": "total", "delta": 6000.0,
         "delta_ci95": 2000.0, "replications": 4, "replications_to_resolve": np.nan},
        {"variant": "x", "metric": "trade_bn_cny_per_year", "scope": "south", "delta": 1.0,
         "delta_ci95": 3.0, "replications": 4, "replications_to_resolve": 30}])
    lines = unresolved_lines(deltas, "x")
    assert len(lines) == 1
    assert "trade" in lines[0] and "+0.07 ± 0.16" in lines[0] and "--replications 10" in lines[0]
    assert unresolved_lines(deltas, "y") == []
