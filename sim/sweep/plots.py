"""Sweep plots: each KPI against each parameter with a 95% CI band, and a tornado chart of
the sensitivity table (`sim.sweep.summary`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter, MaxNLocator

from sim import kpis
from sim.atomic import write_png
from sim.figsource import per_year, source_line, wrap
from sim.kpis import PEAKS, measure_of, run_sums, shown
from sim.sweep.store import kpi_columns
from sim.sweep.summary import is_numeric, main_effect
from sim.sweep.tasks import HEADLINE_KPIS

SOURCE = "source: cqsim sweep, {file} (simulated; mean of the runs at each value)"
PANEL_WIDTH = 4.2    # inches per parameter of a KPI's plot ...
MIN_WIDTH = 6.4      # ... and at least this: one parameter's panel was too narrow for its title
HEIGHT = 3.6         # inches
ROOM = 0.94          # the share of the width (height, for a y label) a title or label may fill


def label(kpi: str, runs: pd.DataFrame | None = None) -> str:
    """Axis label of a KPI in words with the unit it is plotted in (`sim.kpis.label`); a peak
    names where it is (the hub, link... that is busiest in most runs, its `<kpi>_at`), of
    the runs that name one (empty: no row measured it, or a failed run)."""
    text = kpis.label(kpi)
    where = f"{kpi}_at"
    if runs is None or where not in runs.columns:
        return text
    named = runs[where].dropna().astype(str)
    counts = named[named != ""].value_counts()
    if len(counts):
        text += f" ({counts.index[0]} in {counts.iloc[0]} of {int(counts.sum())} runs)"
    return text


def short(path: str) -> str:
    """A readable label for a dotted scenario path: the item and the field in words
    ("network.services.west-x.departures_per_week" -> "west-x: departures per week")."""
    parts = path.split(".")
    field = parts[-1].replace("_", " ")
    if parts[0] == "changes" and len(parts) == 3:   # "changes.2: value", not "2: value"
        return f"changes.{parts[1]}: {field}"
    return f"{parts[-2]}: {field}" if len(parts) > 1 else field


def _thousands(value: float, _pos: object = None, digits: int = 0) -> str:
    """Tick text: 12,500 -> '12.5k', 3,400,000 -> '3.4M', 0.85 -> '0.85'; `digits`
    significant digits (0: 3 for millions, else 4)."""
    v = abs(value)
    if v >= 1e6:
        return f"{value / 1e6:,.{digits or 3}g}M"
    if v >= 1e4:
        return f"{value / 1e3:,.{digits or 4}g}k"
    return f"{value:,.{digits or 4}g}"


class _ShortTicks(Formatter):
    """`_thousands` with as many significant digits as the ticks need to differ: at 4, a
    goods-trade axis read 564.4, 564.5, 564.5, 564.6, 564.6 (trial48 L2)."""

    digits = 0   # 0: `_thousands`' own

    def set_locs(self, locs: list[float]) -> None:
        super().set_locs(locs)
        if len({_thousands(v) for v in locs}) < len(locs):
            self.digits = next((d for d in range(4, 10) if len(
                {_thousands(v, None, d) for v in locs}) == len(locs)), 10)
        else:
            self.digits = 0

    def __call__(self, x: float, pos: object = None) -> str:
        return _thousands(x, pos, self.digits)


def _tidy_axis(axis: Axis) -> None:
    """At most five ticks, short numbers that differ, no offset text (legible on a narrow
    panel)."""
    axis.set_major_locator(MaxNLocator(nbins=5))
    axis.set_major_formatter(_ShortTicks())


def plotted_kpis(runs: pd.DataFrame, params: Sequence[str]) -> list[str]:
    """Headline KPIs, total CO2 and transit, the busiest hub, the TEU of each corridor
    that carries freight, and each sum over a table where any run has some
    (`sim.kpis.run_sums`, an extension's too: a sweep over `diverts_after_hours` plots the
    calls gone elsewhere; a sweep where none went draws the plots it drew before). Transit
    is that of the TEU booked, those on the way at the end at their age then, as `compare`
    pairs it (a mean over the TEU delivered drops the freight a variant strands: trial64
    #1); a runs table written before that column plots the delivered mean."""
    cols = kpi_columns(runs, params)
    teu = kpis.kpi("teu").column
    booked = f"total_{kpis.kpi('transit_open_mean_h').column}"
    transit = booked if booked in cols else f"total_{kpis.kpi('transit_mean_h').column}"
    chosen = [c for c in (*HEADLINE_KPIS, f"total_{kpis.kpi('co2_t').column}",
                          transit, PEAKS[0].column)
              if c in cols]

    def carries(c: str) -> bool:
        return bool(runs[c].fillna(0).abs().sum() > 0)

    for c in cols:
        found = measure_of(c)
        if found and found[0].column == teu and found[1] not in ("", "total") and carries(c):
            chosen.append(c)
    return chosen + [s.column for s in run_sums() if s.column in cols and carries(s.column)]


def fitted(text: str, inches: float,
           size: Literal["axes.labelsize", "figure.titlesize"]) -> str:
    """`text` wrapped to fill at most `ROOM` of `inches` in the font size of rcParams[`size`]
    ("axes.labelsize", "figure.titlesize"): a long label keeps its unit inside the figure."""
    from matplotlib import rcParams

    return wrap(text, inches * 72 * ROOM, rcParams[size])


def sourced(file: str, period: str = "") -> str:
    """The source line of a sweep's plot; `period` (`Sweep.periods`) says what its per-year
    figures are annualised from (`sim.figsource.per_year`)."""
    return per_year(SOURCE.format(file=file), period)


def kpi_figure(runs: pd.DataFrame, params: Sequence[str], kpi: str, *,
               period: str = "") -> Figure:
    """One panel per parameter: the mean of `kpi` at each of its values with the 95% CI;
    titles and labels wrapped to the room they have (`fitted`); `period`: `sourced`."""
    width = max(MIN_WIDTH, PANEL_WIDTH * len(params))
    fig = Figure(figsize=(width, HEIGHT), layout="constrained")
    axes = fig.subplots(1, len(params), squeeze=False)[0]
    # an axis label gets about the panel's width (the y label: the panel's height, less the
    # ticks and the x label below it)
    panel = width / len(params) * 0.8
    ylabel = fitted(label(kpi), HEIGHT * 0.7, "axes.labelsize")
    for ax, param in zip(axes, params, strict=True):
        eff = main_effect(runs, param, kpi)
        numeric = is_numeric(runs[param])
        x = eff["value"].astype(float).to_numpy() if numeric else np.arange(len(eff))
        half = shown(kpi, eff["ci95"].fillna(0.0).to_numpy())
        mean = shown(kpi, eff["mean"].to_numpy())
        ax.plot(x, mean, marker="o", color="tab:blue")
        ax.fill_between(x, mean - half, mean + half, color="tab:blue",
                        alpha=0.25, linewidth=0, label="95% CI of the mean")
        if numeric:
            _tidy_axis(ax.xaxis)
        else:
            ax.set_xticks(x, [str(v) for v in eff["value"]], rotation=30, ha="right")
        _tidy_axis(ax.yaxis)
        ax.set_xlabel(fitted(short(param), panel, "axes.labelsize"))
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    axes[0].legend(loc="best", fontsize="small")
    fig.suptitle(fitted(f"{label(kpi, runs)}: mean over runs at each parameter value", width,
                        "figure.titlesize"))
    source_line(fig, sourced("runs.parquet", period))
    return fig


def kpi_plots(runs: pd.DataFrame, params: Sequence[str], kpis: Sequence[str],
              folder: Path, *, period: str = "") -> list[Path]:
    """One PNG per KPI (plots/<kpi>.png), one panel per parameter, mean and CI band."""
    return [write_png(folder / f"{kpi}.png", kpi_figure(runs, params, kpi, period=period),
                      dpi=110)
            for kpi in kpis]


def tornado_plot(sens: pd.DataFrame, path: Path, *, period: str = "") -> Path:
    """Tornado chart (PNG at `path`) of the sensitivity table."""
    return write_png(path, tornado_figure(sens, period=period), dpi=110)


def tornado_figure(sens: pd.DataFrame, *, period: str = "") -> Figure:
    """Tornado chart: per KPI, bars from the KPI at each parameter's low to its high value."""
    kpis = list(dict.fromkeys(sens["kpi"])) or ["(no numeric parameter varied)"]
    fig = Figure(figsize=(9.0, 1.4 + 0.9 * max(1, sens["parameter"].nunique()) * len(kpis)),
                 layout="constrained")
    axes = fig.subplots(len(kpis), 1, squeeze=False)[:, 0]
    for ax, kpi in zip(axes, kpis, strict=True):
        sub = sens[sens["kpi"] == kpi].iloc[::-1].copy()  # largest on top
        for col in ("kpi_at_low", "kpi_at_high", "swing", "swing_ci95"):
            sub[col] = shown(kpi, sub[col].to_numpy())
        if sub.empty:
            ax.text(0.5, 0.5, "no sensitivity: too few runs or no numeric parameter varied",
                    ha="center", va="center", transform=ax.transAxes)
            continue
        centre = float((sub["kpi_at_low"] + sub["kpi_at_high"]).mean() / 2)
        for y, (_, row) in enumerate(sub.iterrows()):
            left = min(row["kpi_at_low"], row["kpi_at_high"])
            color = "tab:green" if row["swing"] >= 0 else "tab:red"
            ax.barh(y, abs(row["swing"]), left=left, color=color, alpha=0.8)
            ax.errorbar(row["kpi_at_high"], y, xerr=row["swing_ci95"], color="k", capsize=3,
                        linewidth=1)
        ax.axvline(centre, color="0.3", linewidth=0.8)
        ax.set_yticks(range(len(sub)), [f"{short(p)}\n{lo:g} → {hi:g}" for p, lo, hi in
                                        zip(sub["parameter"], sub["low"], sub["high"],
                                            strict=True)], fontsize=8)
        _tidy_axis(ax.xaxis)
        ax.set_xlabel(fitted(label(kpi), fig.get_figwidth() * 0.8, "axes.labelsize"))
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle("Sensitivity: swing from each parameter's low to high value (linear fit)\n"
                 "bar: the KPI from the low to the high value; whisker: 95% CI; green: rises",
                 fontsize=10)
    source_line(fig, sourced("sensitivity.csv", period))
    return fig
