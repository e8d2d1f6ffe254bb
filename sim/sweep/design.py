"""The variants of a sweep: every combination of a grid, or points sampled over ranges."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from sim.sweep.spec import Parameters


def design(params: Parameters) -> list[dict[str, Any]]:
    """The variants: every grid combination (last parameter fastest), the sampled points, or
    the explicit points."""
    if params.points is not None:
        return [dict(p) for p in params.points]
    if params.grid is not None:
        names = list(params.grid)
        return [dict(zip(names, combo, strict=True))
                for combo in itertools.product(*params.grid.values())]
    sample = params.sample
    assert sample is not None
    names = list(sample.ranges)
    if sample.method == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=len(names), seed=np.random.default_rng(sample.seed)
                                  ).random(sample.n)
    else:
        unit = np.random.default_rng(sample.seed).random((sample.n, len(names)))
    variants = []
    for row in unit:
        point: dict[str, Any] = {}
        for name, u in zip(names, row, strict=True):
            rng = sample.ranges[name]
            value = rng.low + float(u) * (rng.high - rng.low)
            point[name] = rng.whole(value) if rng.integer else value
        variants.append(point)
    return variants
