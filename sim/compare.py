"""Paired comparisons of scenario variants with common random numbers, and the ranking of
candidate expansions by what they add per unit of added capacity.

Common random numbers (CRN): every random draw comes from `stream(seed, replication,
component)`, so replication r of every variant run with the same seed sees the same arrivals,
route-choice draws, dwell and running times wherever the variants share a component. The
delta ALT - BASE is then taken replication by replication and its t confidence interval is
built from those paired differences: the noise both variants share cancels. `independent`
runs each ALT with the seed shifted by INDEPENDENT_SEED_OFFSET (x its position), which shows
the interval one would get without CRN.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from sim.errors import InputError
from sim.network import HOURS_PER_YEAR, Plan, build
from sim.results import Results, mean_ci
from sim.runner import prepare, run
from sim.scenario import Scenario, load_scenario, read_yaml, validation_error, with_overrides
from sim.trade import annual_factor, channel_trade, total_trade

INDEPENDENT_SEED_OFFSET = 1_000_003  # a prime far from any seed a scenario is likely to use
TOTAL = "total"


# ----------------------------------------------------------------------------- running


@dataclass(frozen=True)
class Variant:
    """One simulated variant: its label, its results and the seed it ran with."""

    name: str
    results: Results
    seed: int


def _as_scenario(s: Scenario | str | Path) -> Scenario:
    return s if isinstance(s, Scenario) else load_scenario(s)


def _against(alt: Scenario, base: Scenario) -> Scenario:
    """ALT with BASE as its demand reference when ALT names none (so it can induce trade)."""
    if alt.demand.reference_scenario is None and base.source_file:
        ref = base.demand.reference_scenario or base.source_file
        return with_overrides(alt, **{"demand.reference_scenario": ref})
    return alt


def run_variants(base: Scenario | str | Path, alts: Sequence[Scenario | str | Path], *,
                 replications: int | None = None, days: float | None = None,
                 independent: bool = False, workers: int = 1,
                 names: Sequence[str] | None = None) -> tuple[Variant, list[Variant]]:
    """Run BASE and every ALT with BASE's seed (CRN), or shifted seeds when `independent`."""
    base_s = _as_scenario(base)
    base_plan = prepare(base_s, replications=replications, days=days)
    seed = base_plan.seed
    out_base = Variant(base_plan.name, run(base_plan, workers=workers, progress=False), seed)
    variants = []
    for i, alt in enumerate(alts):
        alt_s = _against(_as_scenario(alt), base_s)
        alt_seed = seed + INDEPENDENT_SEED_OFFSET * (i + 1) if independent else seed
        plan = prepare(alt_s, seed=alt_seed % (2**63), replications=base_plan.replications,
                       days=base_plan.horizon.days)
        if plan.horizon.warmup_days != base_plan.horizon.warmup_days:
            plan = _same_warmup(plan, base_plan)
        name = names[i] if names else plan.name
        variants.append(Variant(name, run(plan, workers=workers, progress=False), alt_seed))
    return out_base, variants


def _same_warmup(plan: Plan, base: Plan) -> Plan:
    """`plan` on BASE's horizon, so both variants count statistics over the same period."""
    return replace(plan, horizon=base.horizon)


# ----------------------------------------------------------------------------- metrics


def metrics(results: Results) -> pd.DataFrame:
    """Per replication: TEU/yr, trade bn CNY/yr, mean transit h and CO2 kt/yr, per corridor
    and in total (columns replication, metric, scope, value)."""
    k = annual_factor(results)
    cor = results.by_replication("corridors")
    rows = []
    for r in cor.to_dict("records"):
        rep, c = int(r["replication"]), str(r["corridor"])
        rows += [(rep, "teu_per_year", c, r["teu"] * k),
                 (rep, "transit_mean_h", c, r["transit_mean_h"]),
                 (rep, "co2_kt_per_year", c, r["co2_t"] * k / 1e3)]
    for _, sub in cor.groupby("replication"):
        rep = int(sub["replication"].iloc[0])
        teu = sub["teu"].to_numpy()
        transit = sub["transit_mean_h"].to_numpy()
        ok = teu > 0
        mean_transit = float(np.average(transit[ok], weights=teu[ok])) if ok.any() else np.nan
        rows += [(rep, "teu_per_year", TOTAL, teu.sum() * k),
                 (rep, "transit_mean_h", TOTAL, mean_transit),
                 (rep, "co2_kt_per_year", TOTAL, sub["co2_t"].sum() * k / 1e3)]
    trade = channel_trade(results)
    rows += [(int(r["replication"]), "trade_bn_cny", str(r["corridor"]), float(r["bn_cny"]))
             for r in trade.to_dict("records")]
    totals = total_trade(results)
    rows += [(int(rep), "trade_bn_cny", TOTAL, float(v))
             for rep, v in zip(totals.index, totals.to_numpy(), strict=True)]
    return pd.DataFrame(rows, columns=["replication", "metric", "scope", "value"])


def paired_deltas(base: Results, alt: Results, variant: str) -> pd.DataFrame:
    """Mean BASE, mean ALT and the mean paired delta ALT - BASE with its 95% CI half-width."""
    a, b = metrics(alt), metrics(base)
    both = b.merge(a, on=["replication", "metric", "scope"], suffixes=("_base", "_alt"))
    rows = []
    for (metric, scope), sub in both.groupby(["metric", "scope"], sort=False):
        d = (sub["value_alt"] - sub["value_base"]).to_numpy()
        d = d[~np.isnan(d)]
        delta, half = mean_ci(d) if d.size else (np.nan, np.nan)
        base_mean = float(sub["value_base"].mean())
        rows.append({"variant": variant, "metric": metric, "scope": scope,
                     "base": base_mean, "alt": float(sub["value_alt"].mean()),
                     "delta": delta, "delta_ci95": half,
                     "delta_pct": 100 * delta / base_mean if base_mean else np.nan,
                     "replications": int(d.size)})
    return pd.DataFrame(rows)


def bottlenecks(results: Results, variant: str, top: int = 3) -> pd.DataFrame:
    """The most utilized hubs, links and locks of a variant, with their queues."""
    rows = []
    hubs = results.summary("hubs").sort_values("utilization", ascending=False).head(top)
    for _, h in hubs.iterrows():
        rows.append({"variant": variant, "kind": "hub", "id": h["hub"],
                     "utilization": h["utilization"], "wait_mean_h": h["wait_mean_h"],
                     "queue_end": h["queue_end"]})
    links = results.summary("links").sort_values("utilization", ascending=False).head(top)
    for _, ln in links.iterrows():
        rows.append({"variant": variant, "kind": "link", "id": f"{ln['link']}:{ln['direction']}",
                     "utilization": ln["utilization"], "wait_mean_h": np.nan,
                     "queue_end": np.nan})
    locks = results.summary("locks")
    if len(locks):
        for _, lk in locks.sort_values("utilization", ascending=False).head(top).iterrows():
            rows.append({"variant": variant, "kind": "lock",
                         "id": f"{lk['lock']}:{lk['direction']}",
                         "utilization": lk["utilization"],
                         "wait_mean_h": lk["container_wait_mean_h"],
                         "queue_end": lk["queue_end_t"]})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Comparison:
    """Deltas of every ALT against BASE, and the bottlenecks of every variant."""

    base: Variant
    alts: list[Variant]
    deltas: pd.DataFrame
    bottlenecks: pd.DataFrame
    independent: bool


def compare(base: Scenario | str | Path, alts: Sequence[Scenario | str | Path], *,
            replications: int | None = None, days: float | None = None,
            independent: bool = False, workers: int = 1,
            names: Sequence[str] | None = None) -> Comparison:
    """Run the variants and take paired deltas (CRN unless `independent`)."""
    b, variants = run_variants(base, alts, replications=replications, days=days,
                               independent=independent, workers=workers, names=names)
    deltas = pd.concat([paired_deltas(b.results, v.results, v.name) for v in variants],
                       ignore_index=True)
    deltas["pairing"] = "independent seeds" if independent else "common random numbers"
    necks = pd.concat([bottlenecks(b.results, b.name)]
                      + [bottlenecks(v.results, v.name) for v in variants], ignore_index=True)
    return Comparison(b, variants, deltas, necks, independent)


def draw_comparison(cmp: Comparison) -> Any:
    """Figure: deltas with 95% CI error bars per corridor and variant (TEU and trade)."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    panels = [("teu_per_year", "TEU/yr", 1e3, "thousand TEU/yr"),
              ("trade_bn_cny", "trade", 1.0, "bn CNY/yr"),
              ("transit_mean_h", "transit", 24.0, "days"),
              ("co2_kt_per_year", "CO2", 1.0, "kt/yr")]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.2))
    names = [v.name for v in cmp.alts]
    width = 0.8 / max(1, len(names))
    for ax, (metric, title, scale, unit) in zip(axes, panels, strict=True):
        sub = cmp.deltas[cmp.deltas["metric"] == metric]
        scopes = list(dict.fromkeys(sub["scope"]))
        x = np.arange(len(scopes))
        for i, name in enumerate(names):
            d = sub[sub["variant"] == name].set_index("scope").reindex(scopes)
            err = d["delta_ci95"].fillna(0.0).to_numpy() / scale
            ax.bar(x + (i - (len(names) - 1) / 2) * width, d["delta"].to_numpy() / scale,
                   width, yerr=err, capsize=3, label=name)
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xticks(x, scopes, rotation=45, ha="right")
        ax.set_title(f"Δ {title} ({unit})")
    axes[0].legend(fontsize=8)
    pairing = "independent seeds" if cmp.independent else "common random numbers"
    fig.suptitle(f"ALT − {cmp.base.name}: paired deltas, 95% CI over "
                 f"{len(cmp.base.results.replications)} replications ({pairing})")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- ranking


def candidate(base: Scenario, path: str | Path, name: str | None = None) -> Scenario:
    """A candidate expansion: a scenario file that `extends`, or a file with a `changes:`
    list (and optional `name`, `description`) appended to BASE's changes."""
    path = Path(path)
    raw = read_yaml(path)
    if "extends" in raw:
        scenario = load_scenario(path)
        return with_overrides(scenario, name=name) if name else scenario
    unknown = set(raw) - {"name", "description", "changes"}
    if unknown:
        raise InputError(path, sorted(unknown)[0],
                         "a changes file (name, description, changes) or a scenario with "
                         "extends")
    if not isinstance(raw.get("changes"), list) or not raw["changes"]:
        raise InputError(path, "changes", "a non-empty list of changes")
    data = base.model_dump(mode="json")
    data["changes"] = list(data.get("changes") or []) + raw["changes"]
    data["name"] = name or str(raw.get("name") or path.stem)
    data["description"] = str(raw.get("description") or "")
    data["source_file"] = str(path.resolve())
    if data["demand"].get("reference_scenario") is None:
        data["demand"]["reference_scenario"] = base.source_file
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, [(path, {"changes": data["changes"]})]) from None


@dataclass(frozen=True)
class Capacity:
    """TEU/yr of capacity a candidate adds over BASE, by kind of component."""

    lines: float
    hubs: float
    locks: float

    @property
    def total(self) -> float:
        return self.lines + self.hubs + self.locks


def _line_capacity(plan: Plan) -> dict[str, float]:
    out = {}
    for line in plan.network.lines:
        spec = line.spec
        if spec.schedule == "scheduled":
            assert spec.departures_per_week is not None and spec.vehicle_teu is not None
            out[line.id] = spec.departures_per_week * spec.vehicle_teu * 52.0
        else:
            assert spec.capacity_teu_per_day is not None
            out[line.id] = spec.capacity_teu_per_day * 365.0
    return out


def _hub_capacity(plan: Plan) -> tuple[dict[str, float], dict[str, float]]:
    """(handling TEU/yr of freight hubs, lift of locks in TEU/yr at the mean t/TEU)."""
    flows = plan.flows
    teu = sum(f.teu_per_year for f in flows)
    t_per_teu = sum(f.teu_per_year * plan.classes[f.commodity].tonnes_per_teu
                    for f in flows) / teu
    hubs, locks = {}, {}
    for hid, h in plan.network.hubs.items():
        if h.kind == "lock":
            assert h.lock_lanes and h.lock_chamber_t and h.lock_cycle_hours
            lift_t = 2 * h.lock_lanes * h.lock_chamber_t * HOURS_PER_YEAR / h.lock_cycle_hours
            locks[hid] = lift_t / t_per_teu
        else:
            hubs[hid] = h.handling_servers * h.handling_teu_per_hour * HOURS_PER_YEAR
    return hubs, locks


def added_capacity(base: Plan, cand: Plan) -> Capacity:
    """Sum of the capacity increases (decreases ignored) of lines, hubs and locks, TEU/yr:
    a line departures x vehicle TEU x 52 (or continuous TEU/day x 365), a hub servers x
    TEU/h x 8760, a lock lanes x chamber t x 8760 / cycle h, both ways, / mean t per TEU."""
    def gain(a: dict[str, float], b: dict[str, float]) -> float:
        return sum(max(0.0, v - a.get(k, 0.0)) for k, v in b.items())
    bh, bl = _hub_capacity(base)
    ch, cl = _hub_capacity(cand)
    return Capacity(lines=gain(_line_capacity(base), _line_capacity(cand)),
                    hubs=gain(bh, ch), locks=gain(bl, cl))


def rank(base: Scenario | str | Path, candidates: dict[str, Scenario], *,
         replications: int | None = None, days: float | None = None, workers: int = 1,
         per: str = "capacity") -> tuple[pd.DataFrame, Comparison]:
    """Each candidate's extra TEU and trade (paired, CRN) and per added TEU/yr of capacity,
    ranked by extra trade per added capacity (`per="capacity"`) or by extra trade."""
    base_s = _as_scenario(base)
    names = list(candidates)
    cmp = compare(base_s, [candidates[n] for n in names], replications=replications,
                  days=days, workers=workers, names=names)
    base_plan = build(base_s)
    rows = []
    for name in names:
        cap = added_capacity(base_plan, build(candidates[name]))
        d = cmp.deltas[(cmp.deltas["variant"] == name) & (cmp.deltas["scope"] == TOTAL)]
        teu = d[d["metric"] == "teu_per_year"].iloc[0]
        trade = d[d["metric"] == "trade_bn_cny"].iloc[0]
        c = cap.total
        rows.append({
            "candidate": name, "added_capacity_teu_per_year": c,
            "added_line_capacity": cap.lines, "added_hub_capacity": cap.hubs,
            "added_lock_capacity": cap.locks,
            "extra_teu_per_year": teu["delta"], "extra_teu_ci95": teu["delta_ci95"],
            "extra_trade_bn_cny": trade["delta"], "extra_trade_ci95": trade["delta_ci95"],
            "extra_teu_per_capacity_teu": teu["delta"] / c if c else np.nan,
            "extra_teu_per_capacity_ci95": teu["delta_ci95"] / c if c else np.nan,
            "extra_trade_cny_per_capacity_teu": trade["delta"] * 1e9 / c if c else np.nan,
            "extra_trade_cny_per_capacity_ci95": trade["delta_ci95"] * 1e9 / c if c else np.nan,
        })
    table = pd.DataFrame(rows)
    key = "extra_trade_cny_per_capacity_teu" if per == "capacity" else "extra_trade_bn_cny"
    # candidates adding no capacity (e.g. shorter dwell) rank after, by absolute extra trade
    table = table.assign(_no=table[key].isna()).sort_values(
        ["_no", key, "extra_trade_bn_cny"], ascending=[True, False, False]).drop(columns="_no")
    table.insert(0, "rank", range(1, len(table) + 1))
    return table.reset_index(drop=True), cmp
