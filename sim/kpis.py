"""KPIs and table columns, each declared once: name, unit, label, how it totals over corridors
and whether it is a count over the statistics period.

Every table column is a `Column`; the corridor KPIs (`KPIS`) add how they are computed from
the delivered lots, how corridors make a total, and how the terminal and plots show them.
The result tables (`sim.engine.recorder`), sweeps (`sim.sweep`), comparisons (`sim.compare`),
the command line (`sim.cli.render`) and the sweep plots all read these declarations, so a
KPI is added, renamed or relabelled here and nowhere else.

The TEU-weighted mean (of transit, of waits) is one function, `teu_weighted_mean`, whether
it weighs lots within a corridor or corridors within the total.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import pandas as pd

from sim.specs import Corridor

Per = Literal["year", "week", "horizon"]
Total = Literal["sum", "teu_mean", "none"]


@dataclass(frozen=True, kw_only=True)
class Column:
    """One column of a result table."""

    name: str                   # as written in the rows
    unit: str = ""              # of the value: "TEU", "h", "t", "CNY", "share", ...
    label: str = ""             # for people: plot axes, terminal tables
    per: Per | None = None      # a count over the statistics period ("year"), a week, or
                                # the whole horizon; None for stocks, times, shares, labels

    @property
    def column(self) -> str:
        """The column's name in the result table."""
        return self.name


@dataclass(frozen=True, kw_only=True)
class KPI(Column):
    """A corridor KPI: a column of the corridors table, computed from the delivered lots."""

    of: Callable[[pd.DataFrame], float]   # value over a frame of delivered lots
    total: Total = "sum"                   # how the corridors' values make the total
    scale: float = 1.0                     # shown as value / scale ...
    shown_as: str = ""                     # ... in this unit
    digits: int = 0

    def show(self, value: float) -> float:
        """The value in the unit it is shown in."""
        return value / self.scale

    @property
    def display_unit(self) -> str:
        """The unit it is shown in, with the period where it is a count over the period."""
        unit = self.shown_as or self.unit
        return f"{unit} over the horizon" if self.per == "year" else unit


def teu_weighted_mean(values: np.ndarray | pd.Series, teu: np.ndarray | pd.Series) -> float:
    """Mean of `values` weighted by TEU, over the entries with TEU and a value (NaN if none)."""
    values = np.asarray(values, dtype=float)
    teu = np.asarray(teu, dtype=float)
    ok = np.isfinite(values) & (teu > 0)
    return float(np.average(values[ok], weights=teu[ok])) if ok.any() else float("nan")


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Quantile of `values` where each value counts `weights` times (e.g. TEU)."""
    if values.size == 0:
        return float("nan")
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cum, q * cum[-1])])


# lots frame columns: corridor, teu, value_cny, co2_t, transit_h, wait_h, at_h (one row a lot)
KPIS: tuple[KPI, ...] = (
    KPI(name="teu", unit="TEU", per="year", label="TEU delivered",
        of=lambda lots: lots["teu"].to_numpy().sum(), scale=1e3, shown_as="kTEU"),
    KPI(name="trade_value_cny", unit="CNY", per="year", label="trade carried",
        of=lambda lots: lots["value_cny"].sum(), scale=1e9, shown_as="bn CNY", digits=1),
    KPI(name="lots", unit="lots", per="year", label="lots delivered",
        of=lambda lots: len(lots)),
    KPI(name="transit_mean_h", unit="h", label="mean transit", total="teu_mean",
        of=lambda lots: teu_weighted_mean(lots["transit_h"], lots["teu"]),
        scale=24.0, shown_as="days", digits=1),
    KPI(name="transit_p95_h", unit="h", label="95th pct transit", total="none",
        of=lambda lots: weighted_quantile(lots["transit_h"].to_numpy(),
                                          lots["teu"].to_numpy(), 0.95),
        scale=24.0, shown_as="days", digits=1),
    KPI(name="wait_mean_h", unit="h", label="mean wait", total="teu_mean",
        of=lambda lots: teu_weighted_mean(lots["wait_h"], lots["teu"]),
        scale=24.0, shown_as="days", digits=1),
    KPI(name="co2_t", unit="t", per="year", label="CO2 well to wheel",
        of=lambda lots: lots["co2_t"].sum(), scale=1e3, shown_as="kt", digits=1),
)
BY_NAME: dict[str, KPI] = {k.column: k for k in KPIS}
SCOPES = frozenset((*get_args(Corridor), "total"))   # what a flat KPI column is about


@dataclass(frozen=True, kw_only=True)
class Peak(Column):
    """The highest value of a column over the rows of a component table (a bottleneck)."""

    table: str                  # the component table ...
    source: str                 # ... and its column
    key: str                    # the column naming the row (where the peak is)

    @property
    def at(self) -> str:
        """The column saying where the peak is (`<peak>_at`: an id, `id:direction`)."""
        return f"{self.column}_at"


PEAKS: tuple[Peak, ...] = (
    Peak(name="max_hub_utilization", table="hubs", source="utilization", key="hub",
         unit="share", label="busiest hub's utilization"),
    Peak(name="max_link_utilization", table="links", source="utilization", key="link",
         unit="share", label="busiest link's utilization"),
    Peak(name="max_lock_utilization", table="locks", source="utilization", key="lock",
         unit="share", label="busiest lock's utilization"),
    Peak(name="max_line_load_factor", table="lines", source="load_factor", key="line",
         unit="share", label="fullest service's load factor"),
)


def kpi(column: str) -> KPI:
    """The KPI of a corridors-table column."""
    return BY_NAME[column]


def corridor_row(lots: pd.DataFrame) -> dict[str, float]:
    """Every KPI over a frame of delivered lots (one corridor's, or all)."""
    return {k.column: k.of(lots) for k in KPIS}


def total(k: KPI, corridors: pd.DataFrame) -> float:
    """KPI `k` of all corridors together, from the corridors' own values (NaN when it does
    not add up: a percentile)."""
    if k.total == "sum":
        return float(corridors[k.column].sum())
    if k.total == "teu_mean":
        return teu_weighted_mean(corridors[k.column], corridors[kpi("teu").column])
    return float("nan")


def totals(corridors: pd.DataFrame) -> dict[str, float]:
    """Every KPI that has a total, over all corridors (rows of one replication, or means)."""
    return {k.column: total(k, corridors) for k in KPIS if k.total != "none"}


def measure_of(column: str) -> tuple[Column, str] | None:
    """The KPI behind a flat measure column (`<corridor>_<kpi>`, `total_<kpi>`, as sweeps
    write them) with its scope (the corridor or "total"), or a peak with scope ""; None
    otherwise."""
    for peak in PEAKS:
        if column == peak.column:
            return peak, ""
    scope, _, rest = column.partition("_")
    if scope in SCOPES and rest in BY_NAME:
        return BY_NAME[rest], scope
    return None


def label(column: str) -> str:
    """'[corridor channel: ]label, unit shown' of a measure column, for axes and headers;
    the column in words when no KPI is behind it."""
    found = measure_of(column) if column not in BY_NAME else (BY_NAME[column], "")
    if found is None:
        return column.replace("_", " ")
    k, scope = found
    unit = k.display_unit if isinstance(k, KPI) else k.unit
    where = f"{scope} channel: " if scope not in ("", "total") else ""
    return f"{where}{k.label}, {unit}" if unit else f"{where}{k.label}"


def shown(column: str, values: np.ndarray) -> np.ndarray:
    """Values of a measure column in the unit `label` names."""
    found = measure_of(column) if column not in BY_NAME else (BY_NAME[column], "")
    k = found[0] if found else None
    return values / k.scale if isinstance(k, KPI) else values
