"""What a sweep's runs say: KPI mean and 95% CI per variant, main effects of each parameter and
each parameter's swing by a linear fit (sensitivity).

Main effect of parameter p on KPI y: for each value of p, the mean of y over every ok run with
that value (the other parameters varied as the design varies them) and the 95% t interval of
that mean. Sensitivity: a linear least-squares fit of y on all numeric parameters (each scaled
to [0, 1] over its range) plus replication blocks gives each parameter's swing (change in y
from its lowest to its highest value, others held) with a 95% CI.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from sim.errors import plural
from sim.stats import mean_ci, t_critical
from sim.sweep.store import check_columns, kpi_columns


def summarize_variants(runs: pd.DataFrame, params: Sequence[str]) -> pd.DataFrame:
    """Mean and 95% CI half-width (`<kpi>_ci95`) of every KPI per variant, over its ok runs;
    then, apart, the mean of each of the runs' checks over those that measured it
    (`check_columns`: feedback_settled's is the share of the runs whose feedback settled),
    without a CI: how far to trust the variant's KPIs, not a KPI."""
    measures = kpi_columns(runs, params)
    checks = check_columns(runs)
    rows = []
    for vid, sub in runs.groupby("variant", sort=True):
        ok = sub[sub["status"] == "ok"]
        row: dict[str, Any] = {"variant": vid, **{p: sub[p].iloc[0] for p in params},
                               "runs_ok": len(ok), "runs_failed": len(sub) - len(ok)}
        for col in measures:
            mean, half = mean_ci(ok[col].dropna().to_numpy())
            row[col] = mean
            row[f"{col}_ci95"] = half
        row.update({col: float(ok[col].mean()) for col in checks})
        rows.append(row)
    return pd.DataFrame(rows)


def main_effect(runs: pd.DataFrame, param: str, kpi: str) -> pd.DataFrame:
    """Per value of `param`: runs, mean of `kpi` and 95% CI half-width (ok runs only)."""
    ok = runs[(runs["status"] == "ok") & runs[kpi].notna()]
    rows = []
    for value, sub in ok.groupby(param, sort=True):
        mean, half = mean_ci(sub[kpi].to_numpy())
        rows.append({"value": value, "runs": len(sub), "mean": mean, "ci95": half})
    return pd.DataFrame(rows, columns=["value", "runs", "mean", "ci95"])


def is_numeric(series: pd.Series) -> bool:
    """Whether a parameter's values can be read as numbers (booleans too): swings and
    elasticities need them."""
    return pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)


def _blocks(runs: pd.DataFrame) -> np.ndarray:
    """Replication dummies (all but the first): runs of one replication share random numbers,
    so blocking on it removes their common noise from the swings (common random numbers)."""
    if "replication" not in runs or runs["replication"].nunique() < 2:
        return np.empty((len(runs), 0))
    levels = sorted(runs["replication"].unique())[1:]
    return np.column_stack([(runs["replication"] == r).to_numpy(dtype=float) for r in levels])


def _varied(ok: pd.DataFrame, params: Sequence[str]) -> list[str]:
    """The numeric parameters whose value varies over the ok runs: those a swing is fitted of."""
    return [p for p in params if p in ok and is_numeric(ok[p]) and ok[p].nunique() > 1]


class _Fit(NamedTuple):
    varied: list[str]       # the parameters fitted: those that vary over `data`
    data: pd.DataFrame      # the runs with the KPI and every varied parameter
    lows: np.ndarray        # each varied parameter's lowest and highest value
    highs: np.ndarray
    unit: np.ndarray        # the parameters scaled to [0, 1]
    design: np.ndarray      # a constant, the scaled parameters, the replication blocks
    dof: int                # residual degrees of freedom (below 1: no swing has a CI)


def _fit(ok: pd.DataFrame, varied: Sequence[str], kpi: str) -> _Fit:
    """The linear fit's inputs of `kpi` on the `varied` parameters over the ok runs that
    measured it: a parameter that varies only across runs without the KPI (NaN: a wait no
    run of one value measured) is left out, not scaled by a range of 0."""
    data = ok[[*varied, kpi]].dropna()
    varied = [p for p in varied if data[p].nunique() > 1]
    lows = data[varied].min().to_numpy(dtype=float)
    highs = data[varied].max().to_numpy(dtype=float)
    unit = (data[varied].to_numpy(dtype=float) - lows) / (highs - lows)
    design = np.column_stack([np.ones(len(data)), unit, _blocks(ok.loc[data.index])])
    return _Fit(varied, data, lows, highs, unit, design,
                len(data) - int(np.linalg.matrix_rank(design)))


def _ok(runs: pd.DataFrame) -> pd.DataFrame:
    return runs[runs["status"] == "ok"] if "status" in runs else runs


def no_sensitivity(runs: pd.DataFrame, params: Sequence[str],
                   kpis: Sequence[str]) -> str | None:
    """Why `sensitivity` finds no swing of any of `kpis`, in one line, None when it finds
    one: no numeric parameter varied, or too few runs for the fit to leave a degree of
    freedom for its CI (a sweep of 2 grid points and 1 replication wrote sensitivity.csv
    with its header alone, and said nothing: trial66)."""
    ok = _ok(runs)
    varied = _varied(ok, params)
    if not varied:
        return "no numeric parameter varies over the ok runs"
    every = [_fit(ok, varied, kpi) for kpi in kpis if kpi in ok]
    fits = [f for f in every if f.varied]
    if every and not fits:
        return "no numeric parameter varies over the ok runs that measured a KPI"
    if not fits or any(f.dof >= 1 for f in fits):
        return None
    fit = fits[0]
    blocks = fit.design.shape[1] - 1 - len(fit.varied)
    fitted = plural(len(fit.varied), "varied parameter") + (
        f" and {plural(blocks, 'replication block')}" if blocks else "")
    return (f"{len(fit.data)} ok runs are too few to fit a swing with a CI: a constant and "
            f"{fitted} leave no degree of freedom; it needs at least "
            f"{int(np.linalg.matrix_rank(fit.design)) + 1} (more grid points or replications)")


def sensitivity(runs: pd.DataFrame, params: Sequence[str], kpis: Sequence[str]) -> pd.DataFrame:
    """Swing of each KPI from each numeric parameter's low to high value (linear fit, 95% CI);
    no row where there is none (`no_sensitivity` says why)."""
    cols = ["kpi", "parameter", "low", "high", "kpi_at_low", "kpi_at_high", "swing",
            "swing_ci95", "swing_pct_of_mean"]
    ok = _ok(runs)
    varied = _varied(ok, params)
    rows = []
    for kpi in kpis:
        if kpi not in ok or not varied:
            continue
        fitted, data, lows, highs, unit, design, dof = _fit(ok, varied, kpi)
        if not fitted:
            continue
        y = data[kpi].to_numpy(dtype=float)
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        if dof < 1:
            continue
        resid = y - design @ coef
        sigma2 = float(resid @ resid) / dof
        cov = sigma2 * np.linalg.pinv(design.T @ design)
        tcrit = t_critical(dof)
        centre = unit.mean(axis=0)
        ybar = float(y.mean())  # low/high values: the other parameters and blocks at their mean
        for i, param in enumerate(fitted):
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
