"""Confidence intervals over replications (no dependency inside `sim`, so any layer, the
result tables and the readers of result files alike, can use it)."""

from __future__ import annotations

import numpy as np


def mean_ci(samples: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Mean and half-width of the t confidence interval (NaN with fewer than 2 samples)."""
    samples = np.asarray(samples, dtype=float)
    n = samples.size
    mean = float(samples.mean()) if n else float("nan")
    if n < 2:
        return mean, float("nan")
    from scipy.special import stdtrit  # the t quantile, without loading scipy.stats (0.3 s+)

    half = stdtrit(n - 1, 0.5 + level / 2.0) * samples.std(ddof=1) / np.sqrt(n)
    return mean, float(half)
