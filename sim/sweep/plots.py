"""Sweep plots: each KPI against each parameter with a 95% CI band, and a tornado chart of
the sensitivity table (`sim.sweep.summary`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.atomic import write_png
from sim.sweep.store import kpi_columns
from sim.sweep.summary import is_numeric, main_effect
from sim.sweep.tasks import HEADLINE_KPIS

LABELS = {"total_teu": "total TEU delivered", "total_trade_value_cny": "trade value (bn CNY)",
          "total_co2_t": "CO2 (kt)", "transit_mean_h": "mean transit (h)",
          "max_hub_utilization": "max hub utilization"}
SCALES = {"total_trade_value_cny": 1e9, "total_co2_t": 1e3}  # plotted in the units above


def label(kpi: str) -> str:
    """Axis label of a KPI, with the unit it is plotted in."""
    return LABELS.get(kpi, kpi)


def short(path: str) -> str:
    """A readable label for a dotted scenario path: its last two parts."""
    return ".".join(path.split(".")[-2:])


def plotted_kpis(runs: pd.DataFrame, params: Sequence[str]) -> list[str]:
    """Headline KPIs plus each corridor's TEU that carries freight."""
    cols = kpi_columns(runs, params)
    chosen = [c for c in (*HEADLINE_KPIS, "total_co2_t", "transit_mean_h",
                          "max_hub_utilization") if c in cols]
    chosen += [c for c in cols if c.endswith("_teu") and not c.startswith("total")
               and c not in {"created_teu", "delivered_teu", "waiting_teu", "in_transit_teu"}
               and runs[c].fillna(0).abs().sum() > 0]
    return chosen


def kpi_plots(runs: pd.DataFrame, params: Sequence[str], kpis: Sequence[str],
              folder: Path) -> list[Path]:
    """One PNG per KPI (plots/<kpi>.png), one panel per parameter, mean and CI band."""
    written = []
    for kpi in kpis:
        fig = Figure(figsize=(4.2 * len(params), 3.4), layout="constrained")
        axes = fig.subplots(1, len(params), squeeze=False)[0]
        for ax, param in zip(axes, params, strict=True):
            eff = main_effect(runs, param, kpi)
            numeric = is_numeric(runs[param])
            x = eff["value"].astype(float).to_numpy() if numeric else np.arange(len(eff))
            scale = SCALES.get(kpi, 1.0)
            half = eff["ci95"].fillna(0.0).to_numpy() / scale
            mean = eff["mean"].to_numpy() / scale
            ax.plot(x, mean, marker="o", color="tab:blue")
            ax.fill_between(x, mean - half, mean + half, color="tab:blue",
                            alpha=0.25, linewidth=0, label="95% CI of the mean")
            if not numeric:
                ax.set_xticks(x, [str(v) for v in eff["value"]])
            ax.set_xlabel(short(param))
            ax.set_ylabel(label(kpi))
            ax.grid(alpha=0.3)
        axes[0].legend(loc="best", fontsize="small")
        fig.suptitle(f"{label(kpi)}: mean over runs at each parameter value")
        fig.text(0.01, 0.005, "source: cqsim sweep runs.parquet (simulated)", fontsize=6,
                 color="0.4")
        written.append(write_png(folder / f"{kpi}.png", fig, dpi=110))
    return written


def tornado_plot(sens: pd.DataFrame, path: Path) -> Path:
    """Tornado chart: per KPI, bars from the KPI at each parameter's low to its high value."""
    kpis = list(dict.fromkeys(sens["kpi"])) or ["(no numeric parameter varied)"]
    fig = Figure(figsize=(7.5, 1.2 + 0.9 * max(1, sens["parameter"].nunique()) * len(kpis)),
                 layout="constrained")
    axes = fig.subplots(len(kpis), 1, squeeze=False)[:, 0]
    for ax, kpi in zip(axes, kpis, strict=True):
        scale = SCALES.get(kpi, 1.0)
        sub = sens[sens["kpi"] == kpi].iloc[::-1].copy()  # largest on top
        for col in ("kpi_at_low", "kpi_at_high", "swing", "swing_ci95"):
            sub[col] = sub[col] / scale
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
            ax.text(left, y + 0.32, f"{row['low']:g} -> {row['high']:g}", fontsize=7)
        ax.axvline(centre, color="0.3", linewidth=0.8)
        ax.set_yticks(range(len(sub)), [short(p) for p in sub["parameter"]])
        ax.set_xlabel(f"{label(kpi)} (bar: low -> high value; whisker: 95% CI)")
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle("Sensitivity: swing from each parameter's low to high value (linear fit)")
    fig.text(0.01, 0.005, "source: cqsim sweep sensitivity.csv (simulated)", fontsize=6,
             color="0.4")
    return write_png(path, fig, dpi=110)
