"""Daily series: per-day accumulators that components keep beside their counters.

A component owns one `DailySeries` per thing it reports by day (a lock direction, a hub).
It adds each wait when the waiting ends (`wait`) and the model's day clock asks it for its
stocks at the end of every day (`close_day`). Memory is a few arrays of one number per day
of the statistics period, whatever the traffic.

Day numbers are days of the simulation clock (day d covers hours 24 d to 24 (d + 1)), the
clock of a scenario's `start_day`/`end_day`, so a closure and the backlog it leaves line up
in `locks_daily.csv` and `hubs_daily.csv`. Only days after the warm-up are kept.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from sim.units import HOURS_PER_DAY


class DailySeries:
    """End-of-day stocks, events counted per day, and the mean wait of the jobs whose wait
    ended that day."""

    __slots__ = ("first", "days", "stocks", "counts", "wait_sum", "wait_count")

    def __init__(self, first_day: int, days: int, stocks: tuple[str, ...],
                 counts: tuple[str, ...] = ()) -> None:
        self.first = first_day
        self.days = days
        # plain lists: one element updated per event, where numpy scalars are slow
        self.stocks = {name: [math.nan] * days for name in stocks}
        self.counts = {name: [0.0] * days for name in counts}
        self.wait_sum = [0.0] * days
        self.wait_count = [0] * days

    def count(self, name: str, now: float, amount: float = 1.0) -> None:
        """An event `name` (e.g. a lockage) at hour `now`: count it in the day of `now`."""
        day = int(now // HOURS_PER_DAY) - self.first
        if 0 <= day < self.days:
            # not +=: compiled, += on a list's item adds as Python objects, this as doubles
            counts = self.counts[name]
            counts[day] = counts[day] + amount

    def wait(self, now: float, hours: float) -> None:
        """A job stops waiting at hour `now` after `hours`: count it in the day of `now`."""
        day = int(now // HOURS_PER_DAY) - self.first
        if 0 <= day < self.days:
            self.wait_sum[day] = self.wait_sum[day] + hours
            self.wait_count[day] = self.wait_count[day] + 1

    def close_day(self, day: int, **stocks: float) -> None:
        """The stocks at the end of simulation day `day` (names as given at creation)."""
        i = day - self.first
        if 0 <= i < self.days:
            for name, value in stocks.items():
                self.stocks[name][i] = value

    def rows(self, **keys: Any) -> Iterator[dict[str, Any]]:
        """One row per day: `keys`, `day`, the stocks and `wait_mean_h` (NaN on a day when
        no wait ended)."""
        for i in range(self.days):
            n = self.wait_count[i]
            row = {**keys, "day": self.first + i}
            row.update({name: float(values[i]) for name, values in self.stocks.items()})
            row.update({name: float(values[i]) for name, values in self.counts.items()})
            row["wait_mean_h"] = self.wait_sum[i] / n if n else math.nan
            yield row


def day_span(stats_from: float, end: float) -> tuple[int, int]:
    """(first day, number of days) of the statistics period [stats_from, end) in hours:
    whole days only, from the first day that starts at or after the warm-up."""
    first = math.ceil(stats_from / HOURS_PER_DAY - 1e-9)
    last = math.floor(end / HOURS_PER_DAY + 1e-9)
    return first, max(last - first, 0)
