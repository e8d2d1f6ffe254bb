"""Confidence intervals over replications (no dependency inside `sim`, so any layer, the
result tables and the readers of result files alike, can use it)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

# the level of every `<column>_ci95` of the result tables (`sim.results.summarize`)
CI95 = 0.95
# how a change whose interval is not known (`resolved` None) is said, on the console and in
# the report alike
NOT_KNOWN = "CI not known"
# why it can be: the differences a t interval needs are missing, or have no spread to show
NOT_KNOWN_WHY = "fewer than 2 replications, or too few that all moved it by one amount"

# differences whose sample standard deviation is at most this fraction of their largest
# magnitude are one amount (float rounding of the same whole lots)
ALIKE_RTOL = 1e-9


def deltas_kind(paired: bool, one: bool = False) -> str:
    """What a table's or figure's deltas and intervals are, as its title says it: "paired
    deltas, 95% CI" of runs on common random numbers, "deltas, Welch 95% CI" of independent
    ones (`compare --independent`); `one`: a delta a row ("paired delta ± 95% CI", "delta ±
    Welch 95% CI"). The one wording of the console's tables and compare.png."""
    if one:
        return "paired delta ± 95% CI" if paired else "delta ± Welch 95% CI"
    return "paired deltas, 95% CI" if paired else "deltas, Welch 95% CI"


def t_quantile(p: float, dof: float) -> float:
    """Quantile `p` of Student's t with `dof` degrees of freedom (scipy.stats.t.ppf computes
    it with the same function; scipy.special loads without scipy.stats, 0.3 s+ faster)."""
    from scipy.special import stdtrit

    return float(stdtrit(dof, p))


def two_sided(level: float = CI95) -> float:
    """The quantile of a two-sided interval at `level` (0.975 at 95%)."""
    return 0.5 + level / 2.0


def t_critical(dof: float, level: float = CI95) -> float:
    """Student's t critical value of a two-sided interval at `level`: the standard errors
    every t interval of the project spans (replications, pairs, Welch's, a regression)."""
    return t_quantile(two_sided(level), dof)


def mean_ci(samples: np.ndarray, level: float = CI95) -> tuple[float, float]:
    """Mean and half-width of the t confidence interval (the half-width NaN with fewer than
    2 samples, the mean with none)."""
    samples = np.asarray(samples, dtype=float)
    n = samples.size
    mean = float(samples.mean()) if n else float("nan")
    if n < 2:
        return mean, float("nan")
    half = t_critical(n - 1, level) * samples.std(ddof=1) / np.sqrt(n)
    return mean, float(half)


def replications_to_resolve(differences: np.ndarray, level: float = CI95,
                            most: int = 10_000) -> int | None:
    """The fewest replications whose t interval would exclude 0 for a mean change of the size
    seen, at the spread seen: the approximate number of replications of Law (Simulation
    Modeling and Analysis, 5th ed., 2015, section 9.4.1), min i >= n with
    t(i - 1) x s / sqrt(i) <= |mean| (s the sample standard deviation of the n paired
    `differences`). An estimate from a pilot, to plan the next run: a change whose CI now
    includes 0 may be smaller than it looks. Differences all of one amount (no spread to
    measure) need `alike_needed` (`paired_ci`'s rule). None when the mean is 0 or not a
    number, fewer than 2 differences are given, or more than `most` would be needed."""
    d = np.asarray(differences, dtype=float)
    d = d[~np.isnan(d)]
    n = d.size
    if n < 2:
        return None
    mean, sd = abs(float(d.mean())), float(d.std(ddof=1))
    if not mean > 0:
        return None
    if _alike(d):                # no spread: the sign test's count (`paired_ci`)
        return max(n, alike_needed(level))
    return _fewest(n, most, lambda i: t_critical(i - 1, level) * sd / np.sqrt(i) <= mean)


def _fewest(n: int, most: int, resolves: Callable[[int], bool]) -> int | None:
    """The least i in n..`most` that `resolves` (false then true as i grows), None if none."""
    if resolves(n):
        return n
    if not resolves(most):
        return None
    return crossing(n, most, resolves)   # t / sqrt(i) falls with i: bisect for the first


def crossing(low: int, high: int, resolves: Callable[[int], bool]) -> int:
    """A count in (`low`, `high`] that `resolves` while the one before it does not, given
    that `low` does not and `high` does: bisection, the one home of the replication counts'
    searches (`_fewest`, `sim.planner.most_to_decide`). Where `resolves` is false then true
    as the count grows (a t interval's half-width), that count is the least that resolves.
    Where it is not (a Clopper-Pearson bound at a rounded count of successes, which can flip
    back and forth near the crossing), it is one crossing, not always the least, and which
    one depends on the bracket: the same predicate bisected over another (low, high) can
    give another count."""
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if resolves(mid) else (mid, high)
    return high


def unpaired_replications_to_resolve(base: np.ndarray, alt: np.ndarray,
                                     level: float = CI95, most: int = 10_000) -> int | None:
    """`replications_to_resolve` for two samples on unrelated streams (`compare
    --independent`): the fewest replications of each whose Welch interval would exclude 0
    for the change of means seen, at each side's spread seen (Law's count with the spread of
    a difference of two independent replications and Welch's degrees of freedom). Samples
    both with no spread beyond float rounding (`_flat`) that differ need `alike_needed`, as
    `difference_ci` reads them; that differ by rounding alone, none. None as there, and when
    either side has fewer than 2 replications."""
    base, alt = np.asarray(base, dtype=float), np.asarray(alt, dtype=float)
    base, alt = base[~np.isnan(base)], alt[~np.isnan(alt)]
    n = min(base.size, alt.size)
    if n < 2:
        return None
    if _flat(base) and _flat(alt):   # `difference_ci`'s rule, not rounding read as spread
        return None if _flat_delta(base, alt) == 0 else max(n, alike_needed(level))
    mean = abs(float(alt.mean() - base.mean()))
    vb, va = float(base.var(ddof=1)), float(alt.var(ddof=1))
    if not mean > 0:
        return None
    return _fewest(n, most, lambda i: _welch_half(vb, i, va, i, level) <= mean)


def alike_needed(level: float = CI95) -> int:
    """The fewest paired differences, all one amount and not 0, that tell a change from none
    at `level` without a spread to measure: the least n with 2 x 0.5^n <= 1 - level (the
    exact two-sided sign test: n differences of one sign by chance), 6 at 95%."""
    return math.ceil(math.log2(2.0 / (1.0 - level)) - 1e-12)


def _flat(x: np.ndarray) -> bool:
    """Whether the sample `x` (2 or more, none NaN) has no spread beyond float rounding:
    a standard deviation of at most `ALIKE_RTOL` of its largest magnitude (the same whole
    lots summed in another order)."""
    return float(x.std(ddof=1)) <= ALIKE_RTOL * float(np.abs(x).max())


def _alike(d: np.ndarray) -> bool:
    """Whether the differences `d` (2 or more, none NaN) are one amount other than 0, up to
    float rounding (`_flat`)."""
    return d.size >= 2 and float(np.abs(d).max()) > 0 and _flat(d)


def paired_ci(differences: np.ndarray, level: float = CI95) -> tuple[float, float]:
    """Mean of the paired differences ALT - BASE (NaN ones left out) and the half-width of
    its t interval: the one rule of a paired change's CI (compare, rank, attribution, the
    report, the maps).

    Rule: differences that are all one amount other than 0 (e.g. each replication moved the
    same whole lot) have a sample spread of 0, and a t interval 0 wide; over a few
    replications that says the spread is too small to show, not that there is none. Their
    CI is then not known (NaN: `resolved` None, shown as `NOT_KNOWN`, never as a change
    told from none) until there are `alike_needed` of them (6 at 95%), when their agreement
    in sign is itself significant (sign test) and the 0-wide interval stands. Differences
    all 0 (the change moved nothing in any replication) keep 0 +- 0: no change."""
    d = np.asarray(differences, dtype=float)
    d = d[~np.isnan(d)]
    if not d.size:
        return float("nan"), float("nan")
    mean, half = mean_ci(d, level)
    if d.size < alike_needed(level) and _alike(d):
        return mean, float("nan")
    return mean, half


def rounding_free(differences: np.ndarray | float, scale: np.ndarray | float) -> np.ndarray:
    """`differences`, 0 where one is float rounding alone of figures of size `scale` (within
    `ALIKE_RTOL` of it: the same lots summed in another order), which moved nothing."""
    d = np.asarray(differences, dtype=float)
    return np.where(np.abs(d) <= ALIKE_RTOL * np.abs(np.asarray(scale, dtype=float)), 0.0, d)


def paired_differences(base: np.ndarray, alt: np.ndarray) -> np.ndarray:
    """ALT - BASE per replication, rounding-free (`rounding_free` of the larger of the
    pair): the differences `difference_ci` and `difference` read."""
    base, alt = np.asarray(base, dtype=float), np.asarray(alt, dtype=float)
    return rounding_free(alt - base, np.maximum(np.abs(base), np.abs(alt)))


def difference_ci(base: np.ndarray, alt: np.ndarray, paired: bool,
                  level: float = CI95) -> tuple[float, float]:
    """Mean difference ALT - BASE and the half-width of its confidence interval: the t
    interval of the differences when replication r of one is paired with replication r of the
    other (common random numbers: `paired_ci`), else Welch's interval for a difference of
    two means, not known either when both samples have no spread and differ, with fewer than
    `alike_needed` in the smaller (`paired_ci`'s rule). Paired, a pair that differs by float
    rounding alone differs by 0 (`paired_differences`), as Welch's flat samples do: else 6
    such pairs made a change of 1e-14 with a 0-wide interval, told from none. NaN samples
    (and pairs with one) are left out."""
    base, alt = np.asarray(base, dtype=float), np.asarray(alt, dtype=float)
    if paired:
        return paired_ci(paired_differences(base, alt), level)
    base, alt = base[~np.isnan(base)], alt[~np.isnan(alt)]
    if base.size < 2 or alt.size < 2:
        delta = float(alt.mean() - base.mean()) if alt.size and base.size else float("nan")
        return delta, float("nan")
    if _flat(base) and _flat(alt):          # no spread on either side (`_flat`)
        delta = _flat_delta(base, alt)
        known = delta == 0 or min(base.size, alt.size) >= alike_needed(level)
        return delta, (0.0 if known else float("nan"))
    return float(alt.mean() - base.mean()), _welch_half(
        float(base.var(ddof=1)), base.size, float(alt.var(ddof=1)), alt.size, level)


def _flat_delta(base: np.ndarray, alt: np.ndarray) -> float:
    """ALT's mean less BASE's, of samples with no spread (`_flat`, none NaN), 0 where it is
    float rounding alone of figures of their size (`rounding_free`)."""
    delta = float(alt.mean() - base.mean())
    return float(rounding_free(delta, max(np.abs(base).max(), np.abs(alt).max())))


def _welch_half(var_b: float, nb: int, var_a: float, na: int, level: float) -> float:
    """Half-width of Welch's interval for a difference of two means, of samples of
    variances `var_b`, `var_a` (not both 0) and sizes `nb`, `na` (2 or more each)."""
    b, a = var_b / nb, var_a / na
    dof = (b + a) ** 2 / (b ** 2 / (nb - 1) + a ** 2 / (na - 1))
    return t_critical(dof, level) * math.sqrt(b + a)


def resolved(delta: float, half: float) -> bool | None:
    """Whether a change's confidence interval (`delta` +- `half`) leaves out 0: True, or
    False when it includes 0; None when either is not a number (fewer than 2 paired
    replications, a pair with a failed run, too few differences all of one amount:
    `paired_ci`), which is not known, not "includes 0". The one
    test compare, rank and the report apply to a difference."""
    if not (np.isfinite(delta) and np.isfinite(half)):
        return None
    return bool(abs(delta) > half)


class Difference(NamedTuple):
    """ALT - BASE over replications as compare.csv and the report's differences read it
    (`difference`)."""

    delta: float        # mean change ALT - BASE
    half: float         # half-width of its confidence interval (NaN: not known)
    need: int | None    # replications that would tell it from none; None: none to advise


def difference(base: np.ndarray, alt: np.ndarray, paired: bool,
               level: float = CI95) -> Difference:
    """The change ALT - BASE with its interval (`difference_ci`) and, when that interval
    includes 0 or is not known although they moved, the replications whose interval would
    exclude 0 at the spread seen: `replications_to_resolve` of the paired differences, or
    unpaired (`paired` False) `unpaired_replications_to_resolve`, by the interval shown.
    `need` is None when the interval excludes 0, nothing is to resolve, or the pairs are
    too few to size a rerun (`unsized`: compare.csv gave 3 from 2 pairs while the console
    said to run 5 first; trial64 #5). The one reading of a delta of compare
    (`sim.compare.paired_deltas`) and the report (`sim.kpis.key_deltas`), each interval
    computed once."""
    delta, half = difference_ci(base, alt, paired, level)
    if resolved(delta, half):        # not known (NaN) falls through: an estimate if it can
        return Difference(delta, half, None)
    if unsized(delta, half, pairs(base, alt, paired)):
        return Difference(delta, half, None)
    need = (replications_to_resolve(paired_differences(base, alt), level) if paired else
            unpaired_replications_to_resolve(base, alt, level))
    return Difference(delta, half, need)


def pairs(base: np.ndarray, alt: np.ndarray, paired: bool) -> int:
    """The pairs a difference ALT - BASE is of: paired, the replications with neither side
    NaN; unpaired (each side its own sample), the smaller side's replications that are not
    NaN, wherever its NaNs fall. The one count of compare.csv's and the _compare tables'
    `replications` (`sim.kpis.key_deltas`) and of `difference`'s `unsized` (counted
    apart, an unpaired pair whose NaNs fell in different replications read 1 in the CSV
    and 2 here; review65 #7)."""
    b, a = np.asarray(base, dtype=float), np.asarray(alt, dtype=float)
    if paired:
        return int((~np.isnan(a - b)).sum())
    return int(min((~np.isnan(b)).sum(), (~np.isnan(a)).sum()))


# fewest paired differences whose spread can size a rerun: from fewer the sample standard
# deviation has under 4 degrees of freedom, and Law's count from it (`replications_to_resolve`)
# can be off several-fold either way (from 2 pairs, one degree of freedom, a 95% interval of
# the spread runs from 0.45 to 32 times the one seen)
PILOT_PAIRS = 5


def pilot_too_small(pairs: int, alike: bool = False) -> bool:
    """Whether `pairs` paired differences are too few to estimate how many replications
    would tell a change from none: fewer than `PILOT_PAIRS`, unless they are all one amount
    (then the count is the sign test's, `alike_needed`, exact and not an estimate). The one
    rule compare, rank and the report word their "--replications N would tell" hint by
    (`unsized`)."""
    return pairs < PILOT_PAIRS and not alike


def unsized(delta: float, half: float, pairs: int) -> bool:
    """Whether a change ALT - BASE that moved (`delta` not 0) with an interval that includes
    0 (`half`, not NaN) is of too few `pairs` (2 or more) to estimate how many replications
    would tell it from none (`pilot_too_small`: pairs all one amount have a NaN interval and
    the sign test's exact count, so they are never unsized). Then `difference` gives no
    count (compare.csv's and the _compare tables' `replications_to_resolve` NaN) and the
    console, the report and rank say to run at least `PILOT_PAIRS` first: the one rule of
    both, read from a delta's own figures (compare.csv's delta, delta_ci95, replications)."""
    return (pairs >= 2 and pilot_too_small(pairs) and bool(np.isfinite(delta))
            and delta != 0 and bool(np.isfinite(half)) and abs(delta) <= half)


def paired_p_value(differences: np.ndarray, level: float = CI95) -> float:
    """Two-sided p-value of the paired t test of mean 0 on `differences` (NaN ones left
    out), read by `paired_ci`'s rule so that p < 1 - `level` exactly where its interval
    leaves out 0: NaN where that interval is not known (fewer than 2, or too few all of one
    amount); differences all one amount other than 0, `alike_needed` or more, get the exact
    sign test's 2 x 0.5^n; all 0, 1. For multiplicity control (`holm`)."""
    from scipy.special import stdtr

    d = np.asarray(differences, dtype=float)
    d = d[~np.isnan(d)]
    mean, half = paired_ci(d, level)
    if not (np.isfinite(mean) and np.isfinite(half)):
        return float("nan")
    if not np.any(d):
        return 1.0
    if _alike(d):
        return min(1.0, 2.0 * 0.5 ** d.size)
    t = abs(mean) / (float(d.std(ddof=1)) / np.sqrt(d.size))
    return float(min(1.0, 2.0 * stdtr(d.size - 1, -t)))


def holm(p_values: np.ndarray | list[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (Holm 1979): the k tests of a family read at
    adjusted p < 1 - level hold the chance that any true null is rejected to at most
    1 - level (family-wise), whatever the tests' dependence, and reject at least what
    Bonferroni does. NaN p-values (tests that could not be made) stay NaN and are not
    counted in k."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    have = np.flatnonzero(~np.isnan(p))
    k = have.size
    if not k:
        return out
    order = have[np.argsort(p[have], kind="stable")]
    adjusted = np.minimum(1.0, np.maximum.accumulate(p[order] * (k - np.arange(k))))
    out[order] = adjusted
    return out


def holm_resolved(p_values: np.ndarray | list[float], level: float = CI95
                  ) -> list[bool | None]:
    """Per test, whether it is resolved at family-wise `level` over all of them (`holm`):
    True, False, or None where it has no p-value (not known, as `resolved` says it)."""
    return [None if np.isnan(a) else bool(a < 1.0 - level) for a in holm(p_values)]


# ----------------------------------------------------------------------------- proportions


def meeting(values: np.ndarray, target: float) -> tuple[int, int]:
    """(how many of `values` are at or above `target`, how many were measured; NaN left
    out): the counts behind every P(meet) cqsim reports, so each file reads one rule."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    return int((x >= target).sum()), int(x.size)


def wilson(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95% Wilson score interval of a proportion (sound near 0 and 1, unlike p +- 2 se):
    P(meet) as uncertainty, plan and pathway report it; NaN for n = 0."""
    if n == 0:
        return float("nan"), float("nan")
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # at 0 of n and n of n the bound is 0 and 1 exactly, which rounding missed (0.999...9 at
    # 4 of 4: frontier.png's error bar went negative and matplotlib refused it, docaudit2)
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def clopper_pearson(k: int, n: int, alpha: float) -> tuple[float, float]:
    """Exact two-sided (1 - alpha) interval of a binomial proportion: the bound the plan's
    screening decides by, at its Bonferroni level (`sim.planner.search`)."""
    from scipy.special import betaincinv

    low = 0.0 if k == 0 else float(betaincinv(k, n - k + 1, alpha / 2))
    high = 1.0 if k == n else float(betaincinv(k + 1, n - k, 1 - alpha / 2))
    return low, high
