"""Units of time, in one place: the simulation clock runs in hours; and bn CNY, trade's unit.

A year is 365 days (8760 h) and a month a twelfth of it, so that annual rates, monthly
seasonality and weekly series agree with each other. `annual_factor` turns a count over the
statistics period (horizon minus warm-up) into a count per year.
"""

from __future__ import annotations

from typing import Protocol

HOURS_PER_DAY = 24.0
DAYS_PER_WEEK = 7.0
DAYS_PER_YEAR = 365.0
MONTHS_PER_YEAR = 12
HOURS_PER_WEEK = HOURS_PER_DAY * DAYS_PER_WEEK          # 168
HOURS_PER_YEAR = HOURS_PER_DAY * DAYS_PER_YEAR          # 8760
HOURS_PER_MONTH = HOURS_PER_YEAR / MONTHS_PER_YEAR      # 730
DAYS_PER_MONTH = DAYS_PER_YEAR / MONTHS_PER_YEAR        # 30.42
WEEKS_PER_YEAR = DAYS_PER_YEAR / DAYS_PER_WEEK          # 52.14
CNY_PER_BN = 1e9      # trade and costs are reported in bn CNY, as customs and the plan count
T_PER_MT = 1e6        # bulk through the locks is reported in Mt, as the lock authority counts it
MAX_DAYS = 36_600     # the longest horizon, or day of one, a file may name: 100 years
WHOLE_YEARS_DAYS = 1e-9   # a statistics period within this of whole years is whole years


class HasPeriod(Protocol):
    """A horizon: simulated days and the warm-up days before statistics count."""

    @property
    def days(self) -> float: ...

    @property
    def warmup_days(self) -> float: ...


def stats_days(horizon: HasPeriod) -> float:
    """Days over which statistics are counted: the horizon minus its warm-up."""
    return horizon.days - horizon.warmup_days


def annual_factor(horizon: HasPeriod) -> float:
    """Multiplier from a count over the statistics period to a count per year."""
    return DAYS_PER_YEAR / stats_days(horizon)


def whole_years(horizon: HasPeriod) -> bool:
    """Whether the statistics period is a whole number of years (one or more, within
    `WHOLE_YEARS_DAYS`), whose per-year figures are a simulated year's (or the mean of
    years), not a part year's annualised: the one rule of whether figures are said to be
    annualised from part of a year (`sim.trade.part_year`, `sim.trade.season_note`) and of
    `period_season`'s exact 1."""
    years = stats_days(horizon) / DAYS_PER_YEAR
    return round(years) >= 1 and abs(years - round(years)) < WHOLE_YEARS_DAYS / DAYS_PER_YEAR


def relative_season(seasonality: tuple[float, ...]) -> tuple[float, ...]:
    """Monthly factors relative to their mean (mean 1), so a year's total is its rate x a
    year whatever scale the scenario wrote them in: `Plan.seasonality` and
    `period_season`'s one normalisation. Unchanged when they sum to 0 or none are given."""
    total = sum(seasonality)
    if not seasonality or total <= 0:
        return tuple(seasonality)
    mean = total / len(seasonality)
    return tuple(s / mean for s in seasonality)


def period_season(seasonality: tuple[float, ...], horizon: HasPeriod) -> float:
    """Mean monthly factor (January first) over the statistics period, the factors taken
    relative to their mean (as `Plan.seasonality` already is), so a scenario's raw factors
    serve too: what a count annualised from part of a year carries of its season (1.0 for
    whole years, exactly: a full cycle of factors relative to their mean averages 1 from any
    start, which the sum by months would miss by a rounding)."""
    start, end = horizon.warmup_days, horizon.days
    if end <= start or not seasonality or sum(seasonality) <= 0:
        return 1.0
    if whole_years(horizon):
        return 1.0
    relative = relative_season(seasonality)
    total, month = 0.0, int(start // DAYS_PER_MONTH)
    while month * DAYS_PER_MONTH < end:     # each month the period overlaps, by its days in it
        overlap = min(end, (month + 1) * DAYS_PER_MONTH) - max(start, month * DAYS_PER_MONTH)
        total += relative[month % len(relative)] * max(0.0, overlap)
        month += 1
    return total / (end - start)
