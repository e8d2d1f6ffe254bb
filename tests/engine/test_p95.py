"""`sim.engine.recorder._p95` is `np.percentile(h, 95)` of every route's door-to-door hours
at once, bit for bit: the routes table's `transit_p95_h` must not change by a last digit
(perf43; numpy's call per route cost about 2% of a replication)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine.recorder import _p95


@pytest.mark.parametrize("kind", ["uniform", "ties", "hours", "equal"])
def test_p95_is_numpys_percentile_per_group(kind: str) -> None:
    rng = np.random.default_rng(43)
    for trial in range(150):
        sizes = rng.integers(1, 60 if trial % 2 else 3000, rng.integers(1, 30))
        values = []
        for n in sizes:
            values.append({"uniform": lambda n: rng.random(n) * 1000,
                           "ties": lambda n: np.round(rng.random(n) * 50, 1),
                           "hours": lambda n: rng.exponential(100, n) + 24 * rng.integers(0, 30, n),
                           "equal": lambda n: np.full(n, rng.random() * 100)}[kind](n))
        ids = np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)
        hours = np.concatenate(values)
        shuffled = rng.permutation(len(hours))
        ids, hours = ids[shuffled], hours[shuffled]
        order = np.argsort(ids, kind="stable")
        _, starts = np.unique(ids[order], return_index=True)
        got = _p95(hours[np.lexsort((hours, ids))], starts)
        want = [np.percentile(h, 95) for h in np.split(hours[order], starts[1:])]
        assert got.tobytes() == np.array(want).tobytes()


def test_p95_is_nan_where_numpys_percentile_is() -> None:
    """A NaN among a group's hours makes numpy's percentile NaN, wherever it sorts (last):
    `_p95` read only the two values it interpolates and gave a plausible figure instead."""
    rng = np.random.default_rng(44)
    for trial in range(100):
        sizes = rng.integers(1, 200, rng.integers(1, 12))
        groups = [rng.exponential(100, n) for n in sizes]
        for h in groups[:: 2 if trial % 2 else 3]:
            h[rng.integers(0, len(h), rng.integers(1, 3))] = np.nan
        ids = np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)
        hours = np.concatenate(groups)
        _, starts = np.unique(ids, return_index=True)
        got = _p95(hours[np.lexsort((hours, ids))], starts)
        want = np.array([np.percentile(h, 95) for h in groups])
        assert np.isnan(got).any()
        assert got.tobytes() == want.tobytes()
