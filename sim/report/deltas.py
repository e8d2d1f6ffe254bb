"""Differences ALT - BASE read from run directories' tables by replication.

When both runs used the same seed and number of replications (common random numbers, as
`cqsim compare` runs them), replication r of one is paired with replication r of the other
and the CI is the t interval of the paired differences, as in `sim.compare`. Otherwise the
runs are independent and the CI is Welch's interval for a difference of two means.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.report import rundir as rd
from sim.stats import mean_ci, t_quantile

TOTAL = "total"
PAIRED = "paired by replication (common random numbers)"
WELCH = "independent runs (Welch interval)"

# metric -> (label with unit, digits)
METRICS = {"teu_per_year": ("throughput, TEU/yr", 0),
           "trade_bn_cny_per_year": ("trade carried, bn CNY/yr", 1),
           "transit_mean_h": ("mean transit, h", 1),
           "co2_t_per_year": ("CO2, t/yr", 0)}


def paired(base: rd.RunDir, alt: rd.RunDir) -> bool:
    """True when replication r of ALT can be paired with replication r of BASE."""
    return base.seed == alt.seed and base.replications == alt.replications


def metrics(run: rd.RunDir) -> pd.DataFrame:
    """Per replication: TEU/yr, trade bn CNY/yr, TEU-weighted mean transit h and CO2 t/yr
    per channel and in total (columns replication, metric, scope, value)."""
    cor = run.by_replication("corridors")
    if cor.empty:
        return pd.DataFrame(columns=["replication", "metric", "scope", "value"])
    teu = rd.TEU.values(cor, run.per_year)[0]
    co2 = rd.CO2.values(cor, run.per_year)[0] * 1e3  # t/yr
    frame = cor.assign(v_teu=teu.to_numpy(), v_co2=co2.to_numpy(),
                       v_transit=cor["transit_mean_h"].astype(float))
    rows = []
    for r in frame.itertuples(index=False):
        rep, c = int(r.replication), str(r.corridor)
        rows += [(rep, "teu_per_year", c, r.v_teu), (rep, "transit_mean_h", c, r.v_transit),
                 (rep, "co2_t_per_year", c, r.v_co2)]
    for rep, sub in frame.groupby("replication"):
        ok = (sub["v_teu"] > 0) & sub["v_transit"].notna()
        transit = float(np.average(sub["v_transit"][ok], weights=sub["v_teu"][ok])) \
            if ok.any() else np.nan
        rows += [(int(rep), "teu_per_year", TOTAL, float(sub["v_teu"].sum())),
                 (int(rep), "transit_mean_h", TOTAL, transit),
                 (int(rep), "co2_t_per_year", TOTAL, float(sub["v_co2"].sum()))]
    trade = run.by_replication("trade")
    if not trade.empty:
        for r in trade.to_dict("records"):
            item = str(r["item"])  # the channels' total, as for every other metric
            if item.startswith("corridor:") or item == "channels":
                scope = TOTAL if item == "channels" else item.removeprefix("corridor:")
                rows.append((int(r["replication"]), "trade_bn_cny_per_year", scope,
                             float(r["value"])))
    return pd.DataFrame(rows, columns=["replication", "metric", "scope", "value"])


def _delta(b: np.ndarray, a: np.ndarray, pair: bool) -> tuple[float, float]:
    """Mean difference a - b and its 95% CI half-width."""
    if pair:
        d = a - b
        d = d[~np.isnan(d)]
        return mean_ci(d) if d.size else (np.nan, np.nan)
    b, a = b[~np.isnan(b)], a[~np.isnan(a)]
    if b.size < 2 or a.size < 2:
        return float(np.mean(a) - np.mean(b)) if a.size and b.size else np.nan, np.nan
    vb, va = b.var(ddof=1) / b.size, a.var(ddof=1) / a.size
    se = np.sqrt(vb + va)
    if se == 0:
        return float(a.mean() - b.mean()), 0.0
    dof = (vb + va) ** 2 / (vb ** 2 / (b.size - 1) + va ** 2 / (a.size - 1))
    return float(a.mean() - b.mean()), t_quantile(0.975, dof) * se


def _mean(values: np.ndarray) -> float:
    """Mean of the values that are not NaN; NaN (quietly) when there are none."""
    ok = values[~np.isnan(values)]
    return float(ok.mean()) if ok.size else np.nan


def _table_deltas(b: pd.DataFrame, a: pd.DataFrame, keys: list[str], pair: bool,
                  variant: str, *, absent_is_zero: bool = False) -> pd.DataFrame:
    """Per key: mean of BASE and ALT and the delta with its CI (columns keys, base, alt,
    delta, delta_ci95, variant). `b` and `a` carry replication, keys and value. With
    `absent_is_zero` (flows) a key one run lacks counts as 0 there; otherwise it is left out."""
    both = b.merge(a, on=keys + ["replication"], how="outer" if absent_is_zero else "inner",
                   suffixes=("_base", "_alt"))
    rows = []
    for key, sub in both.groupby(keys, sort=False):
        vb, va = sub["value_base"].to_numpy(float), sub["value_alt"].to_numpy(float)
        if absent_is_zero:
            vb, va = np.nan_to_num(vb), np.nan_to_num(va)
        delta, half = _delta(vb, va, pair)
        row = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
        row.update(base=_mean(vb), alt=_mean(va), delta=delta,
                   delta_ci95=half, variant=variant)
        rows.append(row)
    return pd.DataFrame(rows)


def channel_deltas(base: rd.RunDir, alt: rd.RunDir) -> pd.DataFrame:
    """ALT - BASE per metric and scope (channel or total), with 95% CIs and the pairing."""
    pair = paired(base, alt)
    out = _table_deltas(metrics(base), metrics(alt), ["metric", "scope"], pair, alt.name)
    if out.empty:
        return out
    out["delta_pct"] = 100 * out["delta"] / out["base"].where(out["base"] != 0)
    out["pairing"] = PAIRED if pair else WELCH
    return out


def link_deltas(base: rd.RunDir, alt: rd.RunDir) -> pd.DataFrame:
    """ALT - BASE TEU/yr per link and direction, with 95% CIs."""
    frames = []
    for run in (base, alt):
        links = run.by_replication("links")
        if links.empty:
            return pd.DataFrame(columns=["link", "direction", "base", "alt", "delta",
                                         "delta_ci95"])
        frames.append(links[["replication", "link", "direction"]].assign(
            value=rd.LINK_TEU.values(links, run.per_year)[0].to_numpy()))
    return _table_deltas(frames[0], frames[1], ["link", "direction"], paired(base, alt),
                         alt.name, absent_is_zero=True)
