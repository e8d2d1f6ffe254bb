"""Paired comparisons of scenario variants with common random numbers: run the variants, take
the paired deltas, name the bottlenecks, draw the deltas (ranking candidates: `sim.rank`).

Common random numbers (CRN): every random draw comes from `stream(seed, replication,
component)`, so replication r of every variant run with the same seed sees the same arrivals,
route-choice draws, dwell and running times wherever the variants share a component. The
delta ALT - BASE is then taken replication by replication and its t confidence interval is
built from those paired differences: the noise both variants share cancels. `independent`
runs each ALT with the seed shifted by INDEPENDENT_SEED_OFFSET (x its position), which shows
the interval one would get without CRN: Welch's, for its replications are not pairs.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from sim.errors import InputError, wrong_type
from sim.figsource import CALENDAR_AXIS, per_year, source_line, wrap
from sim.kpis import (
    PLACES,
    compared,
    compared_by_replication,
    drop_quiet,
    hubs_by_concern,
    key_deltas,
    stalled_hubs,
)
from sim.network import revise
from sim.paths import one_or_many
from sim.pipeline import prepare, run
from sim.report.rundir import GATEWAY_ITEM, MARKET_ITEM
from sim.results import BY_MARKET, Results
from sim.scenario import Scenario, Touched, as_scenario, touched
from sim.stats import (
    NOT_KNOWN,
    NOT_KNOWN_WHY,
    deltas_kind,
    difference_ci,
    mean_ci,
    paired_ci,
    paired_differences,
    rounding_free,
)
from sim.units import CNY_PER_BN

if TYPE_CHECKING:   # matplotlib is imported when a figure is drawn
    from matplotlib.figure import Figure

# daily.png's source line: the variants' daily tables, each a mean over its replications
DAILY_SOURCE = ("source: cqsim compare, each variant's locks_daily.csv and hubs_daily.csv "
                "(simulated; mean over replications)")
INDEPENDENT_SEED_OFFSET = 1_000_003  # a prime far from any seed a scenario is likely to use


# ----------------------------------------------------------------------------- running


@dataclass(frozen=True)
class Variant:
    """One simulated variant: its label, its results and the seed it ran with."""

    name: str
    results: Results
    seed: int


def run_variants(base: Scenario | str | Path, alts: Sequence[Scenario | str | Path], *,
                 replications: int | None = None, days: float | None = None,
                 independent: bool = False, workers: int = 1,
                 names: Sequence[str] | None = None) -> tuple[Variant, list[Variant]]:
    """Run BASE and every ALT with BASE's seed (CRN), or shifted seeds when `independent`.

    An ALT whose market reference is BASE's plan, settled the same way (`settles_reference_of`),
    takes it from BASE's run, replication by replication, instead of settling it again."""
    from sim.equilibrium import settles_reference_of  # the engine loads on the first run

    base_s = as_scenario(base)
    base_plan = prepare(base_s, replications=replications, days=days)
    seed = base_plan.seed
    # an ALT naming no demand reference is measured against BASE's, so it can induce trade
    reference = base_plan.reference_scenario or base_s.source_file or None
    out_base = Variant(base_plan.name, run(base_plan, workers=workers, progress=False), seed)
    settled = {r.replication: r.market_passes for r in out_base.results.replications}
    variants = []
    for i, alt in enumerate(alts):
        alt_seed = seed + INDEPENDENT_SEED_OFFSET * (i + 1) if independent else seed
        plan = prepare(alt, seed=alt_seed % (2**63), replications=base_plan.replications)
        # BASE's horizon, so both variants count statistics over the same period
        plan = revise(plan, horizon=base_plan.horizon,
                      reference_scenario=plan.reference_scenario or reference)
        name = names[i] if names else plan.name
        given = settled if settles_reference_of(base_plan, plan) else None
        variants.append(Variant(name, run(plan, workers=workers, progress=False,
                                          given_reference=given, name=name), alt_seed))
    return out_base, variants


# ----------------------------------------------------------------------------- metrics


def metrics(results: Results, touched: Collection[Touched] = ()) -> pd.DataFrame:
    """Per replication, the compared KPIs (`sim.kpis.compared`: TEU/yr, trade bn CNY/yr, mean
    transit h, CO2 t/yr) per corridor and in total, then each place's figures per place
    (`sim.kpis.PLACES`: the locks' per lock, the hubs' per hub, the lines' per line), those
    shown only where a change named the place at the elements `touched` ((kind, id),
    `touched_by`); columns replication, metric, scope, value (metric: the KPI's or figure's
    column)."""
    rows = compared_by_replication(results.by_replication("corridors"))
    places = pd.DataFrame([row for place in PLACES.values()
                           for row in place.rows(place.frame(results.by_replication), touched)],
                          columns=list(rows.columns))
    return pd.concat([rows, places], ignore_index=True) if len(places) else rows


def touched_by(base: Results, alt: Results) -> frozenset[Touched]:
    """The hubs, services, locks and links named by a change one of the runs made and the
    other did not, or set apart in the two scenarios (a file's edit or `with_overrides`):
    `sim.scenario.touched`, from each plan's record of its changes and elements."""
    return touched(base.plan.origin.changes, alt.plan.origin.changes,
                   base.plan.origin.elements, alt.plan.origin.elements)


def split_deltas(deltas: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """(the channels' KPI deltas: compare.csv, each place's deltas by place: its
    `Place.file`, locks_compare.csv, hubs_compare.csv and lines_compare.csv)."""
    at_places = deltas["metric"].isin([m for place in PLACES.values() for m in place.metrics])
    return (deltas[~at_places].reset_index(drop=True),
            {name: deltas[deltas["metric"].isin(place.metrics)].reset_index(drop=True)
             for name, place in PLACES.items()})


def paired_deltas(base: Results, alt: Results, variant: str,
                  paired: bool = True) -> pd.DataFrame:
    """Mean BASE, mean ALT and the mean paired delta ALT - BASE with its 95% CI half-width
    (`paired` False, runs on unrelated streams (`compare --independent`): Welch's interval
    of the two samples, as the report and compare.png's map read such runs) of every figure
    of `metrics` (a place's as `sim.kpis.PLACES` says: a hub's TEU gone
    elsewhere only where either variant has any, its utilization, wait, TEU and yard peak and
    a line's figures only where a change one made names the hub or the line's service
    (`touched_by`); a hub or line one variant lacks counted 0 there for the TEU it diverts,
    handles or boards and the departures it runs (`Place.zero_where_absent`; it has no wait,
    utilization, yard or load factor: left out); a lock only where both have it);
    where that CI includes 0 or is not known although the figure moved,
    `replications_to_resolve` estimates how many replications would exclude 0 at the spread
    seen (`sim.stats.difference`; NaN from fewer than 5 pairs, `sim.stats.unsized`), so a
    planner can rerun with enough instead of reading an unresolved change as none. Read as
    the report reads two run folders (`sim.kpis.key_deltas`)."""
    named = touched_by(base, alt)
    deltas = key_deltas(metrics(base, named), metrics(alt, named), ["metric", "scope"],
                        paired, variant, places=True)
    return drop_quiet(deltas[["variant", *deltas.columns.drop("variant")]]
                      if len(deltas) else deltas)


def unmoved(deltas: pd.DataFrame) -> list[str]:
    """The variants whose every paired delta is exactly 0, CI too: their changes moved no
    compared figure in any replication. Under common random numbers a change that acts moves
    something, so this flags a change that names a field with no effect in that scenario
    (e.g. a TEU/h rate at a border whose trains follow their gauge-change capacities)."""
    moved = deltas.assign(moved=(deltas["delta"].fillna(0.0) != 0)
                          | (deltas["delta_ci95"].fillna(0.0) != 0))
    by_variant = moved.groupby("variant", sort=False)["moved"].any()
    return [str(v) for v, any_moved in by_variant.items() if not any_moved]


# what each kind's utilization divides (a link's is its services' load factor, not the
# track's or the waterway's capacity; a lock's is its lockage slots, what its queue answers
# to: its chambers may go out part-empty, `locks.csv`'s `utilization` is the tonnes)
UTILIZATION_OF = {"hub": "handling capacity in use", "link": "slots filled on its services",
                  "lock": "lockage slots used"}


# what a stalled hub's row says in place of what its utilization divides
STALLED = "handled no job while jobs queued (closed or blocked all period)"


def bottlenecks(results: Results, variant: str, top: int = 3) -> pd.DataFrame:
    """The most utilized hubs, links and locks of a variant, with their queues and what
    each utilization measures (`utilization_of`). Hubs that handled no job while jobs
    queued (`stalled_hubs`) come first among the hubs, whatever their utilization (0: a
    ranking by it left a port closed all period out; review65 #9), longest queue first."""
    rows = []
    summary = results.summary("hubs")
    ordered = hubs_by_concern(summary)
    stalled = stalled_hubs(ordered)
    hubs = pd.concat([ordered[stalled], ordered[~stalled].head(top)])
    for _, h in hubs.iterrows():
        rows.append({"variant": variant, "kind": "hub", "id": h["hub"],
                     "utilization": h["utilization"],
                     "utilization_of": STALLED if stalled[h.name] else UTILIZATION_OF["hub"],
                     "wait_mean_h": h["wait_mean_h"],
                     "queue_end": h["queue_end_jobs"], "queue_unit": "jobs"})
    links = results.summary("links").sort_values("utilization", ascending=False).head(top)
    for _, ln in links.iterrows():
        rows.append({"variant": variant, "kind": "link", "id": f"{ln['link']}:{ln['direction']}",
                     "utilization": ln["utilization"],
                     "utilization_of": UTILIZATION_OF["link"], "wait_mean_h": np.nan,
                     "queue_end": np.nan, "queue_unit": ""})
    locks = results.summary("locks")
    if len(locks):
        for _, lk in locks.sort_values("slot_use", ascending=False).head(top).iterrows():
            rows.append({"variant": variant, "kind": "lock",
                         "id": f"{lk['lock']}:{lk['direction']}",
                         "utilization": lk["slot_use"],
                         "utilization_of": UTILIZATION_OF["lock"],
                         "wait_mean_h": lk["container_wait_mean_h"],
                         "queue_end": lk["queue_end_t"], "queue_unit": "t"})
    return pd.DataFrame(rows)


def _gateway_rows(results: Results) -> pd.DataFrame:
    """Per replication and gateway: loaded TEU/yr and trade bn CNY/yr of the trade class."""
    gw = results.by_replication("gateways")
    gw = gw[gw["flow_class"] == "trade"]
    return gw.groupby(["replication", "gateway"], as_index=False)[
        ["teu_per_year", "trade_bn_cny_per_year"]].sum()


def _waiting_rows(results: Results) -> pd.DataFrame:
    """Per replication: the trade class's TEU and trade (bn CNY) a year that left their
    origins less those created there, i.e. the change of the stock waiting at the origins over
    the statistics period. Trade counts a lot as it leaves its origin, so this is the part of
    a change of trade that is boxes held at the year's ends, not trade created."""
    routes = results.by_replication("routes")
    routes = routes[routes["flow_class"] == "trade"]
    keys = list(zip(routes["commodity"], routes["flow_class"], routes["origin"],
                    routes["destination"], strict=True))
    per_teu = {key: results.plan.trade_cny_per_teu(*key) for key in set(keys)}
    value = np.array([per_teu[key] for key in keys], dtype=float)
    gap = routes["teu_departed_per_year"] - routes["teu_created_per_year"]
    return pd.DataFrame({"replication": routes["replication"], "teu_per_year": gap,
                         "trade_bn_cny_per_year": gap * value / CNY_PER_BN}
                        ).groupby("replication").sum()


def _on_the_way_rows(results: Results) -> pd.DataFrame:
    """Per replication: the trade class's TEU a year delivered less those that left their
    origins, i.e. the change of the stock on the way (on vehicles, at hubs) over the
    statistics period. The gateways count boxes delivered and trade counts them as they
    leave, so this is the part of a change of the gateways' TEU that is boxes still
    travelling at the year's ends (a jam, a slower route); none of the trade."""
    routes = results.by_replication("routes")
    routes = routes[routes["flow_class"] == "trade"]
    gap = routes["teu_delivered_per_year"] - routes["teu_departed_per_year"]
    return pd.DataFrame({"replication": routes["replication"], "teu_per_year": gap}
                        ).groupby("replication").sum()


def attribution(base: Results, alt: Results, variant: str) -> pd.DataFrame:
    """Where ALT's change of trade came from, per year: the paired delta of each gateway's
    loaded TEU and trade (the trade flow class), `total` (all gateways together: trade that
    did not exist in BASE) and `shifted` (what the gateways that lost gave up, i.e. moved to
    others), each with its 95% CI over paired replications (`sim.stats.paired_ci`); then the
    two parts of the total the settle stage gives: `input growth` (the trade the scenario's
    inputs add: demand_growth of the market table, a trade flow added by add_flow) and
    `induced by access` (the market flows' logsum response to cheaper access), with a CI
    when every
    replication settled on its own streams (else exact given the one settling; `input
    growth`, an input the same in every replication, is exact either way: 0 wide); `waiting at
    origins`, the change of the trade held at its origins at the year's ends (`_waiting_rows`:
    trade counts lots as they leave); and `remainder`, the total less those three (chiefly
    the chance of whole lots created), so the parts add up. `shifted` counts in each column
    the gateways that lost in it: a tariff cut can bring a gateway more boxes of less value.
    The TEU column has one part more, `on the way at the ends` (`_on_the_way_rows`): the
    gateways count boxes delivered, trade counts them as they leave.
    Last, `induced:<market>` per market: its part of the induced trade (they add up to
    `induced by access`), so a planner sees which markets an expansion's trade comes from
    and which only carry the noise of the settling."""
    a, b = _gateway_rows(alt), _gateway_rows(base)
    both = b.merge(a, on=["replication", "gateway"], how="outer",
                   suffixes=("_base", "_alt")).fillna(0.0)
    rows = []
    for gateway, sub in both.groupby("gateway", sort=True):
        row: dict[str, Any] = {"variant": variant, "item": f"{GATEWAY_ITEM}{gateway}"}
        for col in ("teu_per_year", "trade_bn_cny_per_year"):
            row[f"base_{col}"] = float(sub[f"{col}_base"].mean())
            row[f"delta_{col}"], row[f"delta_{col}_ci95"] = difference_ci(
                sub[f"{col}_base"].to_numpy(), sub[f"{col}_alt"].to_numpy(), paired=True)
        rows.append(row)
    totals: dict[str, np.ndarray] = {}
    by_rep = both.groupby("replication")   # each replication's BASE total: the remainder's size
    scale = {col: by_rep[f"{col}_base"].sum().to_numpy() for col in ("teu_per_year",
                                                                      "trade_bn_cny_per_year")}
    for item in ("total", "shifted"):
        row = {"variant": variant, "item": item}
        for col in ("teu_per_year", "trade_bn_cny_per_year"):
            delta = pd.Series(paired_differences(both[f"{col}_base"], both[f"{col}_alt"]),
                              index=both.index)
            if item == "shifted":  # what the gateways that lost (on average) gave up
                losers = both["gateway"].map(delta.groupby(both["gateway"]).mean() < 0)
                delta = -delta.where(losers, 0.0)
            d = delta.groupby(both["replication"]).sum().to_numpy()
            if item == "total":
                totals[col] = d
            row[f"base_{col}"] = np.nan
            row[f"delta_{col}"], row[f"delta_{col}_ci95"] = paired_ci(d)
        rows.append(row)
    left = dict(totals)
    for item, key in (("input growth", "market_input"), ("induced by access", "market_induced")):
        changes = {col: _settled_change(base, alt, (f"{key}_{unit}_per_year",))
                   for unit, col in (("teu", "teu_per_year"), ("bn_cny", "trade_bn_cny_per_year"))}
        for col, d in changes.items():
            left[col] = left[col] - (d if d.size == left[col].size else d[0])
        rows.append(_settled_row(variant, item, changes, exact=item == "input growth"))
    for item, stock in (("waiting at origins", _waiting_rows),
                        ("on the way at the ends", _on_the_way_rows)):
        change = stock(alt).sub(stock(base), fill_value=0.0).sort_index()
        row = {"variant": variant, "item": item}
        for col in left:
            if col not in change:    # a part of the TEU alone (on the way): no trade's
                row[f"delta_{col}"] = row[f"delta_{col}_ci95"] = np.nan
                continue
            d = change[col].to_numpy()
            left[col] = left[col] - d
            row[f"delta_{col}"], row[f"delta_{col}_ci95"] = paired_ci(d)
        rows.append(row)
    row = {"variant": variant, "item": "remainder"}
    for col, d in left.items():   # what the parts leave of the total, less float rounding
        row[f"delta_{col}"], row[f"delta_{col}_ci95"] = paired_ci(rounding_free(d, scale[col]))
    rows.append(row)
    for market in _induced_markets(alt):
        rows.append(_settled_row(variant, f"{MARKET_ITEM}{market}", {
            col: _settled_change(base, alt, (BY_MARKET, market, unit))
            for unit, col in (("teu_per_year", "teu_per_year"),
                              ("bn_cny_per_year", "trade_bn_cny_per_year"))}))
    return pd.DataFrame(rows)


def _settled_row(variant: str, item: str, changes: dict[str, np.ndarray],
                 exact: bool = False) -> dict[str, Any]:
    """A row of attribution.csv from changes of the settle stage (`_settled_change`, per
    column): the mean and its CI when each replication settled on its own streams, else the
    one exact change. `exact`: a change of the inputs, not a sample (`input growth`), whose
    replications agree because they must: its t interval (0 wide) stands, where `paired_ci`
    would call differences all of one amount over few replications not known."""
    row: dict[str, Any] = {"variant": variant, "item": item}
    for col, d in changes.items():
        row[f"delta_{col}"] = float(d[0])
        if d.size > 1:
            row[f"delta_{col}"], row[f"delta_{col}_ci95"] = (mean_ci(d) if exact else
                                                             paired_ci(d))
    return row


def _settle_reports(results: Results) -> list[dict[str, Any]]:
    """The settle stage's report of each replication that settled on its own streams, or
    the one report of a run whose replications share a settling."""
    eq = results.equilibrium or {}
    return cast(list[dict[str, Any]], eq.get("by_replication") or [eq])


def _induced_markets(results: Results) -> list[str]:
    """The markets whose induced trade the settle stage of `results` reported, sorted."""
    return sorted({m for r in _settle_reports(results) for m in (r.get(BY_MARKET) or {})})


def _settled_change(base: Results, alt: Results, path: tuple[str, ...]) -> np.ndarray:
    """ALT - BASE of a figure of the settle stage's report, found by its keys `path` (e.g.
    (BY_MARKET, market, "bn_cny_per_year"); absent: 0): one paired delta per replication
    when both settled per replication (`equilibrium.per_replication`), else the single delta
    of their one settling (exact given it: no interval).

    The settle stage counts a table's year, without its season; each side's figure is taken
    at its run's mean seasonal factor (`Plan.season`, 1 over whole years), so that it is
    per year of the statistics period as the gateway rows it is subtracted from are."""
    def figure(report: dict[str, Any]) -> float:
        value: Any = report
        for key in path:
            value = (value or {}).get(key)
        return float(value or 0.0)

    a, b = ([figure(r) * x.plan.season for r in _settle_reports(x)] for x in (alt, base))
    if len(a) != len(b):   # one side settled once: its figure pairs with every replication
        a, b = (a * len(b), b) if len(a) == 1 else (a, b * len(a))
    return np.asarray(a) - np.asarray(b)


@dataclass(frozen=True)
class Comparison:
    """Deltas of every ALT against BASE, and the bottlenecks of every variant."""

    base: Variant
    alts: list[Variant]
    deltas: pd.DataFrame
    bottlenecks: pd.DataFrame
    independent: bool
    attribution: pd.DataFrame | None = None   # per gateway, induced and shifted (market model)
    # a placebo variant (BASE with a change too small to matter, e.g. scenarios/placebo.yaml)
    # and every other ALT's deltas and attribution paired with it instead of with BASE
    placebo: Variant | None = None
    against_placebo: pd.DataFrame | None = None
    attribution_placebo: pd.DataFrame | None = None


# a delta's CI is taken over the replications' differences: a t interval needs two
MIN_REPLICATIONS = 2


def check_replications(replications: int | None, base: Scenario,
                       keyword: str = "replications") -> None:
    """Refuse a comparison of fewer than MIN_REPLICATIONS replications, whose deltas would
    have no CI: `replications` as the caller set it (`keyword`: `--replications`, or the
    Python keyword), else BASE's own. The one rule of `cqsim compare`, `cqsim rank` and
    `compare`."""
    if replications is not None and replications < MIN_REPLICATIONS:
        raise InputError(keyword, "", f"at least {MIN_REPLICATIONS} replications for a "
                                      f"confidence interval of each delta", replications)
    if replications is None and base.replications < MIN_REPLICATIONS:
        raise InputError(Path(base.source_file), "replications",
                         f"at least {MIN_REPLICATIONS} replications for a confidence interval "
                         f"of each delta (pass {keyword})", base.replications)


def compare(base: Scenario | str | Path,
            alts: Sequence[Scenario | str | Path] | Scenario | str | Path, *,
            replications: int | None = None, days: float | None = None,
            independent: bool = False, workers: int = 1,
            names: Sequence[str] | str | None = None,
            placebo: Scenario | str | Path | None = None,
            allow_unrelated: bool = False) -> Comparison:
    """Run the variants and take paired deltas (CRN unless `independent`); `alts` (and
    `names`) one or a list; at least MIN_REPLICATIONS replications.

    Each ALT (and the placebo) must be BASE plus changes, as `cqsim compare` requires
    (`sim.boundary.check_related`, InputError otherwise): else its deltas hold the edits of
    the files between them too. `allow_unrelated` compares them anyway.

    `placebo`: BASE with a change too small to matter, run as one more ALT (last). A variant
    settles on its own: its demand answers to logsums learnt from its own feedback passes,
    where BASE, its own reference, answers to nothing; so any change, however small, moves
    the settled figures by what that costs (docs/modelling.md, "A placebo comparison").
    Each other ALT is then also paired with the placebo (`against_placebo`,
    `attribution_placebo`), which settles as it does."""
    from sim.boundary import check_related

    base = as_scenario(base, "compare")
    check_replications(replications, base)
    if isinstance(alts, Mapping):
        raise wrong_type("compare", "the alternatives as a path, a Scenario or a list of "
                         "them", alts, "changes to make? sim.with_overrides(base, **fields)")
    every = [as_scenario(a, "compare") for a in one_or_many(alts, (Scenario,))]
    if not every:
        raise ValueError("compare: expected at least one alternative to compare with BASE, "
                         "got none")
    named = None if names is None else one_or_many(names)
    if named is not None and len(named) != len(every):
        raise ValueError(f"compare: expected one name for each alternative ({len(every)}), "
                         f"got {len(named)}")
    if placebo is not None:
        placebo = as_scenario(placebo, "compare")
        every.append(placebo)
        named = None if named is None else [*named, placebo.name]
    if not allow_unrelated:
        for alt in every:
            check_related(base, alt, allowed_by="call with allow_unrelated=True")
    b, variants = run_variants(base, every, replications=replications, days=days,
                               independent=independent, workers=workers, names=named)
    pairing = "independent seeds" if independent else "common random numbers"
    deltas, where = _paired(b, variants, pairing, paired=not independent)
    necks = pd.concat([bottlenecks(b.results, b.name)]
                      + [bottlenecks(v.results, v.name) for v in variants], ignore_index=True)
    if placebo is None:
        return Comparison(b, variants, deltas, necks, independent, where)
    p = variants[-1]
    against, where_p = _paired(p, variants[:-1], f"{pairing}, against {p.name}",
                               paired=not independent)
    return Comparison(b, variants, deltas, necks, independent, where, p, against, where_p)


def _paired(ref: Variant, variants: Sequence[Variant], pairing: str,
            paired: bool = True) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Every variant's deltas against `ref` (labelled `pairing`; `paired`: replication by
    replication, else Welch's, `paired_deltas`) and, with a market model, where its change
    of trade came from (`attribution`)."""
    from sim.trade import part_year

    deltas = pd.concat([paired_deltas(ref.results, v.results, v.name, paired)
                        for v in variants], ignore_index=True)
    deltas["pairing"] = pairing
    # read on its own, compare.csv gave a 120-day run's per-year deltas as a year's (trial66)
    plan = ref.results.plan
    period = part_year([(plan.horizon, plan.season)])
    per_year = deltas["metric"].astype(str).str.endswith("_per_year").to_numpy(bool) \
        if len(deltas) else np.zeros(0, bool)
    deltas["per_year_from"] = np.where(per_year, period, "")
    if plan.market is None:
        return deltas, None
    # every row of attribution.csv is per year: each says what a part year annualises
    return deltas, pd.concat([attribution(ref.results, v.results, v.name) for v in variants],
                             ignore_index=True).assign(per_year_from=period)


def draw_daily(cmp: Comparison, hubs: int = 3) -> Figure:
    """Figure: daily series of every variant (mean over replications): vessels waiting at
    each lock direction, and TEU queued at the hubs whose queues differ most between the
    variants (locks_daily.csv and hubs_daily.csv)."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    variants = [cmp.base, *cmp.alts]
    locks = {v.name: v.results.summary("locks_daily") for v in variants}
    hub_days = {v.name: v.results.summary("hubs_daily") for v in variants}
    panels: list[tuple[str, str, str, str]] = []   # (table, id, direction, title)
    for lock, direction in locks[cmp.base.name][["lock", "direction"]].drop_duplicates() \
            .itertuples(index=False):
        panels.append(("locks", str(lock), str(direction),
                       f"{lock} {direction}: vessels waiting"))
    peak = pd.concat([h.groupby("hub")["queue_teu"].max().rename(n)
                      for n, h in hub_days.items()], axis=1).fillna(0.0)
    spread = (peak.max(axis=1) - peak.min(axis=1)).where(peak.max(axis=1) > 0)
    for hub in spread.dropna().sort_values(ascending=False).index[:hubs]:
        panels.append(("hubs", str(hub), "", f"{hub}: TEU queued"))
    if not panels:             # no lock and no hub ever queued: say so
        fig, ax = plt.subplots(figsize=(8, 1.5))
        ax.axis("off")
        ax.text(0.5, 0.5, "no queues at locks or hubs in any variant", ha="center",
                va="center")
        source_line(fig, DAILY_SOURCE)
        return fig
    fig, axes = plt.subplots(len(panels), 1, figsize=(11, 2.4 * len(panels)), squeeze=False)
    for ax, (table, ident, direction, title) in zip(axes[:, 0], panels, strict=True):
        for v in variants:
            if table == "locks":
                d = locks[v.name]
                d = d[(d["lock"] == ident) & (d["direction"] == direction)]
                y = d["queue_vessels"]
            else:
                d = hub_days[v.name]
                d = d[d["hub"] == ident]
                y = d["queue_teu"]
            ax.plot(d["day"], y, lw=1, label=v.name)
        ax.set_title(title, fontsize=9, loc="left")
        ax.set_xlabel(CALENDAR_AXIS)   # as report.html's charts say it
    axes[0, 0].legend(fontsize=8)
    fig.suptitle(f"Daily series, mean over {len(cmp.base.results.replications)} replications")
    source_line(fig, DAILY_SOURCE)
    fig.tight_layout()
    return fig


def draw_comparison(cmp: Comparison, *, file: str | None = None) -> Figure:
    """Figure: deltas with 95% CI error bars per corridor and variant (TEU, trade, transit,
    CO2; no bar where the CI is not known, `sim.stats.NOT_KNOWN`, which the title then says)
    above a map of the change of flows of each variant (`sim.maps.draw_difference`). Its
    source line names `file`, the table of its deltas where one was written (`cqsim
    compare`: compare.csv; drawn from Python: none, unless given), and what the per-year
    figures are annualised from (`sim.trade.part_year`)."""
    if not isinstance(cmp, Comparison):   # before a figure is opened
        folder = isinstance(cmp, (str, os.PathLike))
        raise wrong_type("draw_comparison", "the Comparison of sim.compare.compare", cmp,
                         "a comparison's folder is not read back as a Comparison: "
                         "compare.csv holds its deltas, sim.read_run(DIR/'0-<base>') and "
                         "sim.read_run(DIR/'1-<alt>') its runs, "
                         "sim.maps.draw_difference(base, alt, ax) maps the change of flows "
                         "between them" if folder else "")
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from sim.maps import difference_note, draw_difference

    panels = compared()
    panel = 4.2   # inches per KPI
    fig = plt.figure(figsize=(panel * len(panels), 4.6 + 7.6 * len(cmp.alts)),
                     layout="constrained")
    rows = fig.subfigures(1 + len(cmp.alts), 1, squeeze=False,
                          height_ratios=[4.6] + [7.6] * len(cmp.alts))
    top, *maps = list(rows[:, 0])
    axes = top.subplots(1, len(panels))
    names = [v.name for v in cmp.alts]
    width = 0.8 / max(1, len(names))
    unknown = False    # a delta drawn whose CI is not known: drawn without an error bar
    for ax, k in zip(axes, panels, strict=True):
        sub = cmp.deltas[cmp.deltas["metric"] == k.column]
        scopes = list(dict.fromkeys(sub["scope"]))
        x = np.arange(len(scopes))
        for i, name in enumerate(names):
            d = sub[sub["variant"] == name].set_index("scope").reindex(scopes)
            at, delta = x + (i - (len(names) - 1) / 2) * width, k.show(d["delta"].to_numpy())
            err = k.show(d["delta_ci95"].to_numpy())
            known = np.isfinite(err)
            unknown |= bool((np.isfinite(delta) & ~known).any())
            ax.bar(at, delta, width, label=name)
            ax.errorbar(at[known], delta[known], yerr=err[known], fmt="none", ecolor="black",
                        capsize=3, lw=1)
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xticks(x, scopes, rotation=45, ha="right")
        # wrapped to its panel: a long label ran into the next panel's title
        ax.set_title(wrap(f"Δ {k.label} ({k.display_unit})", panel * 72 * 0.9, 9), fontsize=9)
    axes[0].legend(fontsize=8)
    pairing = "independent seeds" if cmp.independent else "common random numbers"
    deltas = "deltas" if cmp.independent else "paired deltas"
    top.suptitle(f"ALT − {cmp.base.name}: {deltas_kind(not cmp.independent)} over "
                 f"{len(cmp.base.results.replications)} replications ({pairing})"
                 + (f"\nno error bar: {NOT_KNOWN} ({NOT_KNOWN_WHY})" if unknown else ""))
    for sub_fig, variant in zip(maps, cmp.alts, strict=True):
        draw_difference(cmp.base.results, variant.results, sub_fig.subplots())
    from sim.trade import part_year

    period = part_year((v.results.plan.horizon, v.results.plan.season)
                       for v in (cmp.base, *cmp.alts))
    held = f", {file}" if file else ""
    source_line(fig, per_year(f"source: cqsim compare{held} (simulated; {deltas}); maps: "
                              f"{difference_note()}", period))
    return fig
