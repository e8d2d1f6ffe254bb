"""Sweep plots: each KPI against each parameter with a 95% CI band, and a tornado chart.

Main effect of parameter p on KPI y: for each value of p, the mean of y over every ok run with
that value (the other parameters varied as the design varies them) and the 95% t interval of
that mean. Sensitivity: a linear least-squares fit of y on all numeric parameters (each scaled
to [0, 1] over its range) plus replication blocks gives each parameter's swing (change in y
from its lowest to its highest value, others held) with a 95% CI; the tornado chart ranks
parameters by |swing|.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from sim.atomic import write_png
from sim.results import mean_ci

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


def main_effect(runs: pd.DataFrame, param: str, kpi: str) -> pd.DataFrame:
    """Per value of `param`: runs, mean of `kpi` and 95% CI half-width (ok runs only)."""
    ok = runs[(runs["status"] == "ok") & runs[kpi].notna()]
    rows = []
    for value, sub in ok.groupby(param, sort=True):
        mean, half = mean_ci(sub[kpi].to_numpy())
        rows.append({"value": value, "runs": len(sub), "mean": mean, "ci95": half})
    return pd.DataFrame(rows, columns=["value", "runs", "mean", "ci95"])


def _numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)


def kpi_plots(runs: pd.DataFrame, params: Sequence[str], kpis: Sequence[str],
              folder: Path) -> list[Path]:
    """One PNG per KPI (plots/<kpi>.png), one panel per parameter, mean and CI band."""
    written = []
    for kpi in kpis:
        fig = Figure(figsize=(4.2 * len(params), 3.4), layout="constrained")
        axes = fig.subplots(1, len(params), squeeze=False)[0]
        for ax, param in zip(axes, params, strict=True):
            eff = main_effect(runs, param, kpi)
            numeric = _numeric(runs[param])
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


def _blocks(runs: pd.DataFrame) -> np.ndarray:
    """Replication dummies (all but the first): runs of one replication share random numbers,
    so blocking on it removes their common noise from the swings (common random numbers)."""
    if "replication" not in runs or runs["replication"].nunique() < 2:
        return np.empty((len(runs), 0))
    levels = sorted(runs["replication"].unique())[1:]
    return np.column_stack([(runs["replication"] == r).to_numpy(dtype=float) for r in levels])


def sensitivity(runs: pd.DataFrame, params: Sequence[str], kpis: Sequence[str]) -> pd.DataFrame:
    """Swing of each KPI from each numeric parameter's low to high value (linear fit, 95% CI)."""
    cols = ["kpi", "parameter", "low", "high", "kpi_at_low", "kpi_at_high", "swing",
            "swing_ci95", "swing_pct_of_mean"]
    ok = runs[runs["status"] == "ok"] if "status" in runs else runs
    varied = [p for p in params if p in ok and _numeric(ok[p]) and ok[p].nunique() > 1]
    rows = []
    for kpi in kpis:
        if kpi not in ok:
            continue
        data = ok[[*varied, kpi]].dropna()
        y = data[kpi].to_numpy(dtype=float)
        if not varied:
            continue
        lows = data[varied].min().to_numpy(dtype=float)
        highs = data[varied].max().to_numpy(dtype=float)
        unit = (data[varied].to_numpy(dtype=float) - lows) / (highs - lows)
        design = np.column_stack([np.ones(len(y)), unit, _blocks(ok.loc[data.index])])
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        dof = len(y) - np.linalg.matrix_rank(design)
        if dof < 1:
            continue
        resid = y - design @ coef
        sigma2 = float(resid @ resid) / dof
        cov = sigma2 * np.linalg.pinv(design.T @ design)
        tcrit = stats.t.ppf(0.975, dof)
        centre = unit.mean(axis=0)
        ybar = float(y.mean())  # low/high values: the other parameters and blocks at their mean
        for i, param in enumerate(varied):
            swing = float(coef[i + 1])
            rows.append({
                "kpi": kpi, "parameter": param, "low": lows[i], "high": highs[i],
                "kpi_at_low": ybar - swing * centre[i],
                "kpi_at_high": ybar + swing * (1 - centre[i]), "swing": swing,
                "swing_ci95": float(tcrit * np.sqrt(max(cov[i + 1, i + 1], 0.0))),
                "swing_pct_of_mean": 100.0 * swing / ybar if ybar else float("nan")})
    out = pd.DataFrame(rows, columns=cols)
    if len(out):
        out = out.assign(_abs=out["swing"].abs()).sort_values(
            ["kpi", "_abs"], ascending=[True, False]).drop(columns="_abs")
    return out.reset_index(drop=True)


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
