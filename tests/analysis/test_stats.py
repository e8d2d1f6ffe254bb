"""Confidence intervals over replications and the replications a change needs (`sim.stats`)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.stats import (
    alike_needed,
    difference,
    difference_ci,
    mean_ci,
    meeting,
    paired_ci,
    replications_to_resolve,
    resolved,
    rounding_free,
    unpaired_replications_to_resolve,
)


def test_the_replications_a_change_needs_by_hand() -> None:
    d = np.array([1.0, 3.0])            # mean 2, s = sqrt(2)
    s = math.sqrt(2.0)
    # n = 4: t(3) s / 2 = 2.25 > 2; n = 5: t(4) s / sqrt(5) = 1.76 <= 2
    assert stats.t.ppf(0.975, 3) * s / 2 > 2 >= stats.t.ppf(0.975, 4) * s / math.sqrt(5)
    assert replications_to_resolve(d) == 5
    assert replications_to_resolve(np.array([1.0, 1.0])) == 6      # no spread: the sign test's
    assert replications_to_resolve(np.array([1.0] * 7)) == 7
    assert replications_to_resolve(np.array([1.0, -1.0])) is None  # no change to resolve
    assert replications_to_resolve(np.array([1.0])) is None        # no spread measured
    assert replications_to_resolve(np.array([1e-6, 1.0, -1.0]), most=100) is None


def test_an_unpaired_change_is_counted_by_the_interval_shown() -> None:
    """`compare --independent` shows Welch's interval: the count it names is Welch's too. A
    draw whose replications, taken in order, happen to differ alike (1, 1.2, 0.9) looked
    resolved by their paired interval though Welch's holds 0 by far (until 2026-12-06 the
    unpaired rows took the paired count: none to resolve). By hand: means 20 and 21.03,
    variances 100 and 99.0; at i replications each, Welch's degrees of freedom are
    (vb + va)^2 (i - 1) / (vb^2 + va^2), about 2 (i - 1), and t(dof) x sqrt(199.0 / i) <=
    1.033 first at i = 718 (`difference` names it from 5 replications a side: from these 3
    it gives none, `unsized`)."""
    base, alt = np.array([10.0, 20.0, 30.0]), np.array([11.0, 21.2, 30.9])
    assert difference(base, alt, paired=True).need is None       # paired: resolved
    assert difference(base, alt, paired=False).need is None      # 3 a side: too few to size
    need = unpaired_replications_to_resolve(base, alt)
    vb, va = base.var(ddof=1), alt.var(ddof=1)
    mean = alt.mean() - base.mean()

    def half(i: int) -> float:
        dof = (vb + va) ** 2 * (i - 1) / (vb ** 2 + va ** 2)
        return float(stats.t.ppf(0.975, dof) * math.sqrt((vb + va) / i))

    assert need is not None and half(need) <= mean < half(need - 1), need
    assert need == 718
    # the delta and interval beside the count are the ones shown (`difference_ci`)
    for paired in (True, False):
        assert difference(base, alt, paired)[:2] == difference_ci(base, alt, paired)
    # a change Welch's interval resolves needs none; flat or single samples: not known
    assert difference(base, base + 40, paired=False).need is None
    assert difference(np.array([1.0]), np.array([2.0, 3.0]), paired=False).need is None


def test_an_unpaired_change_without_spread_is_counted_as_the_interval_reads_it() -> None:
    """Independent samples each of one amount up to float rounding (0.1 + 0.2 beside 0.3)
    have no Welch interval over few replications (`difference_ci`), as paired differences
    of one amount have none: the count must then be the sign test's 6, as paired, not the
    replications run; and a change that reads 0 +- 0 has none to resolve. Welch's count
    took the rounding for a spread: 3 (the 3 run) and 7 (for no change)."""
    tenths = np.array([0.1 + 0.2, 0.3, 0.3])
    moved = difference(tenths, np.ones(3), paired=False)
    assert math.isnan(moved.half) and moved.need == 6
    assert moved.need == difference(tenths, np.ones(3), paired=True).need
    same = difference(tenths, np.full(3, 0.3), paired=False)
    assert same[:2] == (0.0, 0.0) and same.need is None


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
         "delta_ci95": 0.16, "replications": 5, "replications_to_resolve": 10},
        {"variant": "x", "metric": "teu_per_year", "scope": "total", "delta": 6000.0,
         "delta_ci95": 2000.0, "replications": 5, "replications_to_resolve": np.nan},
        {"variant": "x", "metric": "trade_bn_cny_per_year", "scope": "south", "delta": 1.0,
         "delta_ci95": 3.0, "replications": 5, "replications_to_resolve": 30}])
    lines = unresolved_lines(deltas, "x")
    assert len(lines) == 1
    assert "trade" in lines[0] and "+0.07 ± 0.16" in lines[0] and "--replications 10" in lines[0]
    assert unresolved_lines(deltas, "y") == []


def test_differences_all_of_one_amount_have_no_known_interval_over_few_replications() -> None:
    """Two replications that each moved the same whole lot (-324 TEU/yr) gave "-324 ± 0",
    coloured and called resolved: a spread of 0 over so few is one too small to show, not
    none. Their CI is not known until the sign test alone tells them from none (6 at 95%:
    2 x 0.5^6 < 0.05 <= 2 x 0.5^5); differences all 0 stay 0 ± 0 (no change)."""
    assert (alike_needed(), alike_needed(0.9), alike_needed(0.99)) == (6, 5, 8)
    lot = np.array([-324.0, -324.0])
    delta, half = paired_ci(lot)
    assert delta == -324.0 and math.isnan(half) and resolved(delta, half) is None
    assert math.isnan(difference_ci(np.zeros(2), lot, paired=True)[1])
    assert math.isnan(paired_ci(np.array([0.1 + 0.2, 0.3, 0.3]))[1])   # up to float rounding
    assert paired_ci(np.full(6, -324.0)) == (-324.0, 0.0)               # sign test: told
    assert resolved(*paired_ci(np.full(6, -324.0))) is True
    assert paired_ci(np.zeros(3)) == (0.0, 0.0)
    assert paired_ci(np.array([1.0, 3.0]))[1] > 0                       # a spread: a t interval
    # nothing known at 2, so how many would tell it: the sign test's 6, not the 2 run
    assert difference(np.zeros(2), lot, paired=True).need == 6
    assert difference(np.zeros(6), np.full(6, -324.0), paired=True).need is None  # resolved
    # independent samples with no spread at all: the same rule on the smaller sample
    assert math.isnan(difference_ci(np.ones(3), np.full(3, 2.0), paired=False)[1])
    assert difference_ci(np.ones(6), np.full(6, 2.0), paired=False) == (1.0, 0.0)
    assert difference_ci(np.ones(3), np.ones(3), paired=False) == (0.0, 0.0)
    # ... up to float rounding, as the paired rule (the same lots summed in another order
    # gave a 1.7e-13-wide interval, called resolved; review 45, M1)
    tenths = np.array([0.1 + 0.2, 0.3, 0.3]) * 1000
    assert math.isnan(difference_ci(tenths, np.array([0.6, 0.6, 0.1 + 0.2 + 0.3]) * 1000,
                                    paired=False)[1])
    assert difference_ci(tenths, np.full(3, 300.0), paired=False) == (0.0, 0.0)


def test_independent_samples_get_welch_s_interval() -> None:
    """`compare --independent` reads Welch's interval (unequal variances, Welch-Satterthwaite
    degrees of freedom): the samples here differ in spread, so a wrong dof shows."""
    base, alt = np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 9.0])
    ci = stats.ttest_ind(alt, base, equal_var=False).confidence_interval(0.95)
    delta, half = difference_ci(base, alt, paired=False)
    # means 2 and 5: delta 3; half-width 8.20770 at 2.306 degrees of freedom
    assert delta == 3.0 and half == pytest.approx((ci.high - ci.low) / 2, rel=1e-9)
    assert half == pytest.approx(8.20770, abs=1e-5)


def test_no_change_at_all_is_not_resolved() -> None:
    """Differences all 0 give 0 +- 0: no change is not a change told from none."""
    assert resolved(*paired_ci(np.zeros(6))) is False


def test_pairs_equal_up_to_float_rounding_moved_nothing() -> None:
    """Six pairs each 5.6e-14 apart (the same lots summed in another order) were six
    differences of one amount: a change of 5.6e-14 with a 0-wide interval, told from none.
    A pair within `ALIKE_RTOL` of its values differs by 0, as Welch's flat samples do; a real
    difference beside such pairs keeps its interval."""
    base, alt = np.full(6, 300.0), np.full(6, (0.1 + 0.2) * 1000)
    assert (alt - base != 0).all() and difference_ci(base, alt, paired=True) == (0.0, 0.0)
    moved = alt + np.array([0, 0, 0, 10.0, 20.0, 30.0])
    delta, half = difference_ci(base, moved, paired=True)
    ci = stats.ttest_1samp(moved - base, 0.0).confidence_interval(0.95)   # scipy's, not ours
    assert delta == pytest.approx(10.0) and delta == pytest.approx((ci.low + ci.high) / 2)
    assert half == pytest.approx((ci.high - ci.low) / 2, rel=1e-9)
    assert not resolved(delta, half)
    # and no replications are advised to resolve it (trial47 M1: "about 11 would tell a
    # change of that size from none" for 1.1e-13 bn CNY/yr against 556)
    trade = np.array([556.4673, 556.4673])
    assert difference(trade, trade + np.array([0.0, 2.3e-13]), paired=True).need is None
    # attribution's total and remainder, differences of sums, by the same rule against the
    # size of BASE's total (review47 L1: a resolved 5.7e-14 ± 0 under gateways of 0 ± 0)
    assert list(rounding_free(np.array([5.7e-14, -1.1e-13, 0.25]), trade.sum())) == [0, 0, 0.25]


def test_a_total_with_no_known_interval_is_said_so_not_said_to_include_0() -> None:
    from sim.cli.render import console, delta_table, unresolved_lines

    deltas = pd.DataFrame([
        {"variant": "x", "metric": "trade_bn_cny_per_year", "scope": "total", "delta": -0.04,
         "delta_ci95": np.nan, "replications": 2, "replications_to_resolve": 6}])
    lines = unresolved_lines(deltas, "x")
    assert len(lines) == 1
    assert "CI not known" in lines[0] and "is not known" in lines[0]
    assert "includes 0" not in lines[0] and "--replications 6" in lines[0]
    screen = console(200)
    with screen.capture() as out:
        screen.print(delta_table(deltas, "x", 2, "common random numbers"))
    assert "-0.04 (CI not known)" in out.get()


def test_holm_adjusts_over_the_family() -> None:
    """rank tested each of k candidates at 95% on its own: with 10, about a 40% chance that
    one with no effect looked resolved (review 50, #8). Holm's step-down p-values: sorted
    0.01, 0.02, 0.04 times 3, 2, 1, kept monotone; a test with no p-value is not counted."""
    from sim.stats import holm, holm_resolved

    np.testing.assert_allclose(holm([0.04, 0.01, 0.02]), [0.04, 0.03, 0.04])
    np.testing.assert_allclose(holm([0.01, np.nan, 0.04]), [0.02, np.nan, 0.04])
    # kept monotone where scaling alone is not: 0.01, 0.013, 0.5 times 3, 2, 1 = 0.03,
    # 0.026, 0.5, and a p-value is never below the one before it: 0.03, 0.03, 0.5
    np.testing.assert_allclose(holm([0.01, 0.013, 0.5]), [0.03, 0.03, 0.5])
    assert holm_resolved([0.04, 0.01, 0.02]) == [True, True, True]
    # 0.03 alone is told at 95%, but not as one of three with 0.3 and 0.5
    assert holm_resolved([0.03, 0.3, 0.5]) == [False, False, False]
    assert holm_resolved([np.nan]) == [None]


def test_paired_p_value_agrees_with_the_interval() -> None:
    """The p-value rank adjusts is read by `paired_ci`'s rule: below 0.05 exactly where the
    95% interval leaves out 0, not known where the interval is not."""
    from sim.stats import paired_p_value

    rng = np.random.default_rng(3)
    for _ in range(50):
        d = rng.normal(0.5, 1.0, size=int(rng.integers(2, 12)))
        mean, half = paired_ci(d)
        assert (paired_p_value(d) < 0.05) == bool(resolved(mean, half))
    assert np.isnan(paired_p_value(np.array([1.0, 1.0])))   # one amount, too few: not known
    assert paired_p_value(np.array([1.0] * 6)) == pytest.approx(2 * 0.5 ** 6)
    assert paired_p_value(np.zeros(4)) == 1.0


def test_a_count_from_fewer_than_five_pairs_is_not_given() -> None:
    """From 2 pairs (one degree of freedom) compare and rank printed "--replications 474
    would tell" (review 50, #16); below `PILOT_PAIRS` they say to run that many first, but
    a count of the sign test's (differences all one amount) is exact and stands."""
    from sim.stats import PILOT_PAIRS, pilot_too_small

    assert PILOT_PAIRS == 5
    assert pilot_too_small(2) and pilot_too_small(4) and not pilot_too_small(5)
    assert not pilot_too_small(2, alike=True)


def test_too_few_pairs_give_no_rerun_count() -> None:
    """From 2 pairs the console and the report said "run at least --replications 5 to
    estimate", but compare.csv's replications_to_resolve (the same `difference`) held a
    count, 3 (trial64 #5): an analyst reading the CSV reran with 3. The count is NaN below
    `PILOT_PAIRS`, paired or not; pairs all one amount keep the sign test's exact count."""
    from sim.stats import unsized

    base = np.array([655.0, 654.9])
    alt = np.array([654.95, 654.75])
    found = difference(base, alt, paired=True)
    assert np.isnan(found.half) or abs(found.delta) <= found.half   # unresolved
    assert found.need is None, f"a rerun count of {found.need} from 2 pairs"
    assert unsized(found.delta, found.half, 2)
    assert replications_to_resolve(alt - base) is not None          # the estimate it withholds
    unpaired = difference(np.array([1.0, 3.0, 2.0]), np.array([2.0, 1.0, 3.5]), paired=False)
    assert not resolved(unpaired.delta, unpaired.half) and unpaired.need is None
    # from 5 pairs a count stands; pairs all one amount have the sign test's from 2
    five = difference(np.array([1.0, 3.0, 2.0, 5.0, 4.0]), np.array([1.5, 2.0, 3.5, 4.0, 5.5]),
                      paired=True)
    assert not resolved(five.delta, five.half) and five.need is not None
    assert not unsized(five.delta, five.half, 5)
    alike = difference(np.array([1.0, 2.0]), np.array([2.0, 3.0]), paired=True)
    assert np.isnan(alike.half) and alike.need == 6 and not unsized(alike.delta, alike.half, 2)
    assert not unsized(0.0, 1.0, 2) and not unsized(2.0, 1.0, 2)   # unmoved; resolved


def test_compare_csv_s_count_from_too_few_pairs_is_nan_and_the_advice_stands() -> None:
    """compare.csv and the _compare tables (`sim.kpis.key_deltas`) write NaN from fewer than
    5 pairs, and the console's line and the report's note, reading the same frame, still say
    to run 5 first (trial64 #5)."""
    from sim.cli.render import unresolved_lines
    from sim.kpis import key_deltas, kpi
    from sim.report.page import _unresolved_note

    k = kpi("teu")

    def rows(values: list[float]) -> pd.DataFrame:
        return pd.DataFrame({"replication": range(len(values)), "metric": k.column,
                             "scope": "total", "value": values})

    d = key_deltas(rows([100.0, 200.0]), rows([110.0, 195.0]), ["metric", "scope"], True, "x")
    assert d["replications_to_resolve"].isna().all() and d["replications"].tolist() == [2]
    line, = unresolved_lines(d, "x")
    assert "run at least --replications 5 to estimate" in line, line
    assert "run at least 5 to estimate" in _unresolved_note(d, [k])
    five = key_deltas(rows([100.0, 200.0, 300.0, 400.0, 500.0]),
                      rows([110.0, 190.0, 320.0, 395.0, 505.0]), ["metric", "scope"], True, "x")
    assert five["replications_to_resolve"].notna().all()
    line, = unresolved_lines(five, "x")
    assert f"about {int(five['replications_to_resolve'].iloc[0])} would tell" in line
    # rank reads its table's NaN count the same way (rank.csv)
    from sim.rank import unresolved_note
    table = pd.DataFrame({"extra_trade_resolved": [False, False],
                          "extra_trade_bn_cny_per_year": [0.1, 0.0],
                          "extra_trade_bn_cny_per_year_ci95": [0.3, 0.0],
                          "extra_trade_replications_to_resolve": [np.nan, np.nan]})
    assert "run at least --replications 5 to estimate" in (unresolved_note(table, 2) or "")
    assert "run at least" not in (unresolved_note(table.iloc[1:], 2) or "")   # unmoved


def test_meeting_counts_the_target_itself_and_leaves_out_what_was_not_measured() -> None:
    """P(meet)'s counts: a run exactly at the target meets it; a NaN (nothing measured) is
    neither a hit nor a run."""
    assert meeting(np.array([899.9, 900.0, 950.0, np.nan]), 900.0) == (2, 3)
    assert meeting(np.array([]), 900.0) == (0, 0)


def test_an_unpaired_difference_s_pairs_are_counted_once_for_csv_and_rule() -> None:
    """Unpaired samples whose NaNs fall in different replications (a wait measured in some
    only): compare.csv's `replications` is the count `difference` withholds its rerun count
    by (`sim.stats.pairs`: the smaller side's measured replications, 2 here), so the console
    reading the CSV still says to run 5 first (review65 #7: the CSV read 1, and said
    nothing)."""
    from sim.cli.render import unresolved_lines
    from sim.kpis import key_deltas, kpi
    from sim.stats import pairs, unsized

    k = kpi("teu")

    def rows(values: list[float]) -> pd.DataFrame:
        return pd.DataFrame({"replication": range(len(values)), "metric": k.column,
                             "scope": "total", "value": values})

    base, alt = [10.0, np.nan, 12.0], [np.nan, 9.0, 14.0]
    assert pairs(np.array(base), np.array(alt), paired=False) == 2
    assert pairs(np.array(base), np.array(alt), paired=True) == 1
    d = key_deltas(rows(base), rows(alt), ["metric", "scope"], False, "x")
    row = d.iloc[0]
    assert row["replications"] == 2 and np.isnan(row["replications_to_resolve"])
    assert unsized(float(row["delta"]), float(row["delta_ci95"]), int(row["replications"]))
    line, = unresolved_lines(d, "x")
    assert "run at least --replications 5 to estimate" in line, line
