"""Goods trade accounting: what the simulated channels carry, in bn CNY a year, plus the trade
they do not carry, against 2023 and the plan's 2025 target.

Per replication:

    channel trade (corridor) = sum over TEU declared (leaving their origin in the statistics
                               period) of the class value per TEU, on routes of that
                               corridor, for flows of class `trade` (Chongqing's goods
                               trade: not domestic, transit or Chengdu's) not touching
                               `trade.excluded_hubs`, per year (x 365 / (days - warmup_days)):
                               the corridors table's `trade_bn_cny_per_year` (`sim.kpis`)
    goods trade (total)      = sum of channel trade (air cargo is a corridor)
                               + the market table's classes declared not simulated (sourced)
                               + trade.other_trade (a residual input: 0 with a market table)

The same declared trade per gateway (the market model's gateways) is the gateways table.

Attainment = total / target with a t confidence interval over replications; the probability
of meeting the target is the share of replications at or above it, and, from mean and sd, a
normal approximation (labelled as such) that is less coarse when replications are few.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.figsource import annualised
from sim.kpis import GOODS_TRADE_KPI, kpi
from sim.specs import COMPETING_CORRIDORS
from sim.stats import mean_ci, meeting
from sim.units import HasPeriod, annual_factor, stats_days, whole_years

if TYPE_CHECKING:
    from sim.network import Plan
    from sim.results import Results


# what a P(meet) over one scenario's replications is not, and where a forecast comes from
NOT_A_FORECAST = "not a forecast: `cqsim uncertainty` and `cqsim pathway` draw the inputs"
GOODS_TRADE = GOODS_TRADE_KPI.column   # a run's channel trade + outside_channels_bn


@dataclass(frozen=True)
class Reference:
    """A published trade figure: its value in bn CNY (a year's goods trade), the year it is
    of (seeds/targets.csv's `year`: what code reads, the label being for display) and where
    it comes from."""

    label: str
    bn_cny: float
    source: str
    year: int
    id: str = ""      # its row of seeds/targets.csv

    def cited(self) -> str:
        """What a chart that draws it names as its source: its seeds/targets.csv row and the
        published figure the row gives, where it names one ("seeds/targets.csv goods_trade_2023
        (mkt_trade_2023)"); its `source` when it has no row."""
        if not self.id:
            return self.source
        published = re.search(r"seeds/published-figures\.csv (\w+)", self.source)
        return f"seeds/targets.csv {self.id}" + (f" ({published[1]})" if published else "")


def references() -> tuple[Reference, Reference]:
    """(2023 goods trade, 2025 goods trade target) from seeds/targets.csv (`sim.targets`);
    InputError naming the file and line when it is damaged (a run checks it before it
    starts: `sim.boundary.admit`), never a figure held here instead."""
    from sim.errors import InputError
    from sim.targets import TARGETS_FILE, seeds_dir, target

    t23, t25 = target("goods_trade_2023"), target("goods_trade_2025")
    for t in (t23, t25):      # the attainment divides bn CNY/yr by it
        if t.unit.strip() != "bn CNY":
            raise InputError(seeds_dir() / TARGETS_FILE, f"{t.id}.unit", "bn CNY (goods trade "
                             "a year, as the simulation counts it)", t.unit)
    if not t23.year < t25.year:   # the attainment is progress from the one to the other
        raise InputError(seeds_dir() / TARGETS_FILE, f"{t25.id}.year", f"a year after "
                         f"{t23.id}'s ({t23.year})", t25.year)
    return (Reference(f"{t23.year}", float(t23.value),
                      f"seeds/targets.csv {t23.id}: {t23.source}", t23.year, t23.id),
            Reference(f"{t25.year} target", float(t25.value),
                      f"seeds/targets.csv {t25.id}: {t25.source}", t25.year, t25.id))


def channel_trade(results: Results) -> pd.DataFrame:
    """bn CNY/yr of the city's trade carried per replication and corridor (columns
    replication, corridor, bn_cny): the corridors table's trade column, so the console,
    corridors.csv, compare and trade.csv count the same rows."""
    cor = results.by_replication("corridors")
    column = kpi("trade_bn_cny").column
    return cor[["replication", "corridor", column]].rename(columns={column: "bn_cny"})


def unsimulated_bn(plan: Plan) -> float:
    """bn CNY/yr of the market table's classes declared not simulated (0 without a market)."""
    market = plan.market
    return sum(market.unsimulated_bn.values()) if market is not None else 0.0


def outside_channels_bn(plan: Plan) -> float:
    """bn CNY/yr of goods trade no simulated route carries: the market table's classes declared
    not simulated and the other-trade input. Total goods trade = channel trade + this."""
    return unsimulated_bn(plan) + plan.trade.other_trade_bn_cny


def total_trade(results: Results) -> pd.Series:
    """Goods trade, bn CNY/yr, per replication (channels, the market table's classes not
    simulated, and the other-trade input)."""
    per = channel_trade(results).groupby("replication")["bn_cny"].sum()
    return per + outside_channels_bn(results.plan)


@dataclass(frozen=True)
class Attainment:
    """Total trade against the 2023 figure and the target, over replications."""

    total_bn: float
    total_ci: float
    vs_2023_pct: float
    vs_2023_ci: float
    target_pct: float
    target_ci: float
    p_meet: float               # share of replications at or above the target
    p_meet_normal: float        # normal approximation from mean and sd (NaN: < 2 reps)
    replications: int
    base: Reference
    target: Reference


def attainment(results: Results) -> Attainment:
    """Attainment of the 2025 target and change on 2023, with CIs and P(meet target)."""
    base, target = references()
    totals = total_trade(results).to_numpy()
    mean, half = mean_ci(totals)
    hits, runs = meeting(totals, target.bn_cny)
    sd = float(totals.std(ddof=1)) if totals.size > 1 else float("nan")
    if totals.size < 2:
        p_normal = float("nan")
    elif sd == 0:
        p_normal = float(mean >= target.bn_cny)
    else:
        from scipy import special  # not scipy.stats, which takes a second to import

        # P(N(mean, sd) >= target): the normal survival function, as scipy.stats.norm.sf
        p_normal = float(special.ndtr(-((target.bn_cny - mean) / sd)))
    return Attainment(
        total_bn=mean, total_ci=half,
        vs_2023_pct=100 * mean / base.bn_cny, vs_2023_ci=100 * half / base.bn_cny,
        target_pct=100 * mean / target.bn_cny, target_ci=100 * half / target.bn_cny,
        p_meet=hits / runs if runs else float("nan"), p_meet_normal=p_normal,
        replications=int(totals.size), base=base, target=target)


# The ci95 of a trade.csv row that is no mean over replications (a published figure, a
# scenario input): none, not 0, which read as a simulated figure that happened not to vary
# ("713.7 ± 0.0"); the report and any CSV reader then show it without an interval.
CONSTANT = float("nan")


def trade_table(results: Results) -> pd.DataFrame:
    """The `trade` table: bn CNY/yr per corridor, the other-trade input, total and attainment;
    constants (inputs, published figures) with no interval (`CONSTANT`)."""
    plan = results.plan
    part = part_year([(plan.horizon, plan.season)])
    period = f"; {part}" if part else ""       # ends each simulated row's source
    per = channel_trade(results)
    rows = []
    for corridor, sub in per.groupby("corridor", sort=False):
        mean, half = mean_ci(sub["bn_cny"].to_numpy())
        rows.append({"item": f"corridor:{corridor}", "value": mean, "ci95": half,
                     "unit": "bn CNY/yr",
                     "source": "simulated channel freight, per year" + period})
    rows += _teu_rows(results, period)
    channels = per.groupby("replication")["bn_cny"].sum().to_numpy()
    mean, half = mean_ci(channels)
    rows.append({"item": "channels", "value": mean, "ci95": half, "unit": "bn CNY/yr",
                 "source": "simulated" + (f"; excludes flows touching "
                                          f"{', '.join(plan.trade.excluded_hubs)}"
                                          if plan.trade.excluded_hubs else "") + period})
    if plan.market is not None:
        gw = results.by_replication("gateways")
        gw = gw[gw["flow_class"] == "trade"]
        column = "trade_bn_cny_per_year"
        for gateway, sub in gw.groupby("gateway", sort=True):
            mean, half = mean_ci(sub.groupby("replication")[column].sum().to_numpy())
            rows.append({"item": f"gateway:{gateway}", "value": mean, "ci95": half,
                         "unit": "bn CNY/yr", "source": "simulated trade flows by gateway "
                                                        "(the same TEU as the corridors)"
                                                        + period})
        for cls, bn in plan.market.unsimulated_bn.items():
            rows.append({"item": f"not_simulated:{cls}", "value": bn, "ci95": CONSTANT,
                         "unit": "bn CNY/yr",
                         "source": f"market table, class declared not simulated: "
                                   f"{plan.market.section.not_simulated[cls]}"})
    rows.append({"item": "other_trade", "value": plan.trade.other_trade_bn_cny,
                 "ci95": CONSTANT,
                 "unit": "bn CNY/yr", "source": plan.trade.source or "scenario input"})
    a = attainment(results)
    rows += [
        {"item": "total", "value": a.total_bn, "ci95": a.total_ci, "unit": "bn CNY/yr",
         "source": "channels + not simulated + other_trade" + period},
        {"item": f"{a.base.label} goods trade", "value": a.base.bn_cny, "ci95": CONSTANT,
         "unit": "bn CNY/yr", "source": a.base.source},
        # the item's key stays "vs 2023" (readers look it up); its source names the year
        # of the reference row (review51 #6)
        {"item": "vs 2023", "value": a.vs_2023_pct, "ci95": a.vs_2023_ci, "unit": "%",
         "source": f"total / {a.base.label}" + period},
        {"item": f"{a.target.label}", "value": a.target.bn_cny, "ci95": CONSTANT,
         "unit": "bn CNY/yr", "source": a.target.source},
        {"item": "attainment", "value": a.target_pct, "ci95": a.target_ci, "unit": "%",
         "source": "total / target" + period},
        {"item": "p_meet_target", "value": a.p_meet, "ci95": np.nan, "unit": "probability",
         "source": f"share of {a.replications} replications with total >= target: this "
                   f"scenario's simulation noise alone, {NOT_A_FORECAST}"},
        {"item": "p_meet_target_normal", "value": a.p_meet_normal, "ci95": np.nan,
         "unit": "probability", "source": "normal approximation from mean and sd over "
                                          f"replications: {NOT_A_FORECAST}"},
    ]
    return pd.DataFrame(rows)


def part_year(periods: Iterable[tuple[HasPeriod, float | None]]) -> str:
    """What per-year figures are annualised from, of the runs (horizon, mean seasonal factor
    of the statistics period; None: not recorded) whose statistics period is not a whole
    number of years (`sim.units.whole_years`), whatever its season: "annualised from days
    30-90 (mean seasonal factor 0.895)", the factor only where it is off 1 (`seasonal`),
    "annualised from days 30-90" otherwise (`sim.figsource.annualised`); "" when all are
    whole years. What a trade.csv row's `source`, the report's trade chart and its
    differences, compare.png's and a sweep's plots say of a short run, read on their own: a
    90-day run's total of 634 bn CNY/yr and its "vs 2023" of 88.9% read as the model missing
    2023 by 11%, and a flat season's 60 days passed for a year (trial64 #3)."""
    return annualised((horizon, factor if seasonal(factor) else None)
                      for horizon, factor in periods if not whole_years(horizon))


def _teu_rows(results: Results, period: str = "") -> list[dict[str, object]]:
    """Loaded and empty TEU/yr per corridor (the corridors table's), beside its trade;
    `period`: what their sources end with (`part_year`)."""
    cor = results.by_replication("corridors")
    rows: list[dict[str, object]] = []
    for name, label in (("teu", "loaded"), ("empty_teu", "empty")):
        column = kpi(name).column
        if column not in cor:
            continue
        for corridor, sub in cor.groupby("corridor", sort=False):
            mean, half = mean_ci(sub[column].to_numpy())
            if mean == 0 and label == "empty":
                continue
            rows.append({"item": f"teu_{label}:{corridor}", "value": mean, "ci95": half,
                         "unit": "TEU/yr",
                         "source": f"simulated {label} boxes delivered, per year{period}"})
    return rows


def trade_by_replication(results: Results) -> pd.DataFrame:
    """The trade of every replication (columns replication, item, value, unit): the
    `corridor:<name>`, `channels` and `total` items of `trade_table`, for paired comparisons
    read from disk (`trade.parquet`)."""
    per = channel_trade(results)
    rows: list[tuple[int, str, float]] = [
        (int(r["replication"]), f"corridor:{r['corridor']}", float(r["bn_cny"]))
        for r in per.to_dict("records")]
    channels = per.groupby("replication")["bn_cny"].sum()
    for series, item in ((channels, "channels"), (total_trade(results), "total")):
        rows += [(int(str(rep)), item, float(v)) for rep, v in series.items()]
    frame = pd.DataFrame(rows, columns=["replication", "item", "value"])
    return frame.assign(unit="bn CNY/yr")


def attainment_lines(results: Results) -> list[str]:
    """Two or three lines for the console after a run (a third when the statistics period
    is part of a year: `season_note`)."""
    a = attainment(results)
    ci = (lambda x: f" ± {x:,.1f}") if a.replications > 1 else (lambda x: "")
    other = results.plan.trade.other_trade_bn_cny
    outside = unsimulated_bn(results.plan)
    parts = f"channels {a.total_bn - other - outside:,.1f}"
    if outside:
        parts += f" + not simulated {outside:,.1f}, market table"
    if other or results.plan.market is None:
        parts += f" + other trade {other:,.1f}, a scenario input"
    per = channel_trade(results)
    competing = per[per["corridor"].isin(COMPETING_CORRIDORS)]
    if competing["bn_cny"].sum() > 0:    # "channels" counts the competing gateways: how much
        parts += (f"; the channels count the competing "
                  f"{' and '.join(dict.fromkeys(competing['corridor']))} gateways' "
                  f"{competing.groupby('replication')['bn_cny'].sum().mean():,.1f}")
    lines = [
        f"goods trade: {a.total_bn:,.1f}{ci(a.total_ci)} bn CNY/yr ({parts}); "
        f"{a.vs_2023_pct:,.1f}%{ci(a.vs_2023_ci)} of {a.base.label} ({a.base.bn_cny:g} bn "
        "CNY/yr)",
        f"target {a.target.bn_cny:g} bn CNY/yr ({a.target.year}): attainment "
        f"{a.target_pct:,.1f}%"
        f"{ci(a.target_ci)}; " + (
            f"P(meet) = {a.p_meet:.2f} over {a.replications} replications"
            + (f", {a.p_meet_normal:.2f} by normal approximation"
               if not np.isnan(a.p_meet_normal) else "")
            + f" (this scenario's simulation noise alone, {NOT_A_FORECAST})"
            if a.replications > 1 else "P(meet) not estimated from one replication"),
    ]
    note = season_note(results.plan.season, results.plan.horizon)
    if note:
        lines.append(f"note: {note}")
    return lines


SEASON_TOLERANCE = 0.005   # a mean seasonal factor this close to 1 carries no season to name


def seasonal(factor: float | None) -> bool:
    """Whether a statistics period's mean seasonal factor (None: not recorded) is off 1 by
    more than `SEASON_TOLERANCE`: the season part of a part year's note (`season_note`,
    `part_year`). Whether there is a note at all is the period's (`sim.units.whole_years`)."""
    return factor is not None and abs(factor - 1.0) > SEASON_TOLERANCE


def season_note(factor: float | None, horizon: HasPeriod) -> str | None:
    """What per-year figures annualised from part of a year are, given the statistics
    period's mean seasonal factor (`sim.units.period_season`; None: not recorded): None for
    a whole number of years (`sim.units.whole_years`), else the period they are annualised
    from and, where the factor is off 1 (`seasonal`), the season they carry. One text for
    the console, report.html, `cqsim compare`, a sweep and `cqsim uncertainty`."""
    if whole_years(horizon):
        return None
    period = annualised([(horizon, None)])
    if not seasonal(factor):
        season = ("; its mean seasonal factor is not recorded" if factor is None else
                  f"; its mean seasonal factor, {factor:.3f}, is a whole year's (1) to within "
                  f"{SEASON_TOLERANCE:g}")
        return (f"{period} ({stats_days(horizon):g} days, part of a year): the simulated "
                f"per-year figures are that period's scaled to a year (x"
                f"{annual_factor(horizon):.3g}), not a simulated year{season}")
    return (f"{period}, whose mean "
            f"seasonal factor is {factor:.3f} (a whole year: 1): the simulated per-year "
            "figures carry that part of the year's season (TEU, counted at delivery, with a "
            "lag); the classes declared not simulated count a whole year, so the attainment "
            "carries it in part")
