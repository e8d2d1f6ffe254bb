"""`sim.engine.model.nearest` is the builtin `round` to an int (ties to even), compiled as C
calls: route choice rounds about a million waits a year with it, and a single differing
int would change which picture of the queues a lot books on (perf42)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.engine.model import nearest


def test_nearest_is_round_on_ties_edges_and_random_floats() -> None:
    edges = [0.0, -0.0, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999999999999994,
             -0.49999999999999994, 2.0**52 - 0.5, 2.0**52 + 1, 2.0**53, -(2.0**53), 1e300,
             -1e300, 5e-324, -5e-324, 1e-310]
    rng = np.random.default_rng(42)
    draws = [*rng.uniform(-1e6, 1e6, 20_000), *(rng.integers(-10**6, 10**6, 5_000) + 0.5),
             *rng.exponential(3.0, 20_000)]
    for x in [*edges, *map(float, draws)]:
        assert nearest(x) == round(x), x


@pytest.mark.parametrize("x", [math.inf, -math.inf, math.nan])
def test_nearest_refuses_what_round_refuses(x: float) -> None:
    with pytest.raises((OverflowError, ValueError)) as mine:
        nearest(x)
    with pytest.raises((OverflowError, ValueError)) as builtin:
        round(x)
    assert mine.type is builtin.type
