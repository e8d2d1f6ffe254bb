"""Confidence intervals over replications (no dependency inside `sim`, so any layer, the
result tables and the readers of result files alike, can use it)."""

from __future__ import annotations

import numpy as np


def t_quantile(p: float, dof: float) -> float:
    """Quantile `p` of Student's t with `dof` degrees of freedom (scipy.stats.t.ppf computes
    it with the same function; scipy.special loads without scipy.stats, 0.3 s+ faster)."""
    from scipy.special import stdtrit

    return float(stdtrit(dof, p))


def mean_ci(samples: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Mean and half-width of the t confidence interval (NaN with fewer than 2 samples)."""
    samples = np.asarray(samples, dtype=float)
    n = samples.size
    mean = float(samples.mean()) if n else float("nan")
    if n < 2:
        return mean, float("nan")
    half = t_quantile(0.5 + level / 2.0, n - 1) * samples.std(ddof=1) / np.sqrt(n)
    return mean, float(half)
