"""Differences ALT - BASE read from run directories' tables by replication.

When both runs used the same seed and number of replications (common random numbers, as
`cqsim compare` runs them), replication r of one is paired with replication r of the other
and the CI is the t interval of the paired differences, as in `sim.compare`. Otherwise the
runs are independent and the CI is Welch's interval for a difference of two means.
"""

from __future__ import annotations

import pandas as pd

from sim import kpis
from sim.report import rundir as rd
from sim.scenario import not_changes_of, touched
from sim.stats import resolved

TOTAL = kpis.TOTAL
PAIRED = "paired by replication (common random numbers)"
WELCH = "independent runs (Welch interval)"


def not_a_variant(base: rd.RunDir, alt: rd.RunDir) -> str | None:
    """Why ALT's scenario is not BASE's plus changes, by the rule `cqsim compare` refuses such
    a pair by (`sim.scenario.not_changes_of`): its differences then hold the edits of a file
    between them too, not only ALT's changes. None when it is, or when a run does not say
    (a scenario built in Python, or a run older than its record whose files changed since)."""
    base_file = base.meta.get("source_file")
    if not isinstance(base_file, str) or not base_file or alt.chain is None:
        return None
    return not_changes_of(base_file, alt.chain)


def paired(base: rd.RunDir, alt: rd.RunDir) -> bool:
    """True when replication r of ALT can be paired with replication r of BASE
    (`sim.kpis.crn_paired`): a statement on the replications' random numbers, true of
    unrelated scenarios too (as `cqsim compare --allow-unrelated` pairs them); what such a
    difference means is `not_a_variant`'s."""
    return kpis.crn_paired(base.seed, base.replications, alt.seed, alt.replications)


def metrics(run: rd.RunDir) -> pd.DataFrame:
    """Per replication, the KPIs `cqsim compare` compares (`sim.kpis.compared`) per channel
    and in total, in the corridors table's units (columns replication, metric, scope,
    value), computed as compare computes them."""
    cor = run.by_replication("corridors")
    if cor.empty:
        return pd.DataFrame(columns=["replication", "metric", "scope", "value"])
    return kpis.compared_by_replication(rd.current(cor, rd.channel_measures(), run.per_year))


def channel_deltas(base: rd.RunDir, alt: rd.RunDir) -> pd.DataFrame:
    """ALT - BASE per metric and scope (channel or total), with 95% CIs and the pairing."""
    pair = paired(base, alt)
    out = kpis.key_deltas(metrics(base), metrics(alt), ["metric", "scope"], pair, alt.name)
    if out.empty:
        return out
    out["pairing"] = PAIRED if pair else WELCH
    return out


def place_deltas(base: rd.RunDir, alt: rd.RunDir, place: str) -> pd.DataFrame:
    """ALT - BASE of the figures per lock, hub or line (`place`; `sim.kpis.PLACES`, as
    locks_compare.csv, hubs_compare.csv and lines_compare.csv have them: a hub's TEU gone
    elsewhere only where either run has any, its other figures and a line's only where a
    variant touches the hub or the line's service (`sim.scenario.touched`: named by a change
    one run made and the other did not, from run.json's records of the changes, none in a
    run written before they were kept; or set apart in the two scenarios, `elements`), a hub
    or line one run lacks counted 0 there for the TEU it diverts, handles or boards and the
    departures it runs (`Place.zero_where_absent`), its wait, utilization, yard and load
    factor left out; a lock only where both have it), with 95% CIs; empty where a run has no
    such table."""
    of = kpis.PLACES[place]
    # a run written before the changes were kept: what ALT changed is not known (BASE's own
    # changes would read as ALT's), so no place shows its touched figures
    named = (frozenset() if base.changes is None or alt.changes is None else
             touched(base.changes, alt.changes, base.elements, alt.elements))
    frames, columns = [], []
    for run in (base, alt):
        table = of.frame(run.by_replication)
        if table.empty:
            return pd.DataFrame()
        frames.append(pd.DataFrame(of.rows(table, named),
                                   columns=["replication", "metric", "scope", "value"]))
        columns.append({metric for _, metric, _, _ in of.read(table)})
    # a figure only where both runs' tables have its column (a table written before it: not
    # 0), whichever places are touched (a hub only ALT has: none of BASE's rows has it)
    common = columns[0] & columns[1]
    frames = [f[f["metric"].isin(common)] for f in frames]
    if frames[0].empty and frames[1].empty:
        return pd.DataFrame()
    return kpis.drop_quiet(kpis.key_deltas(frames[0], frames[1], ["metric", "scope"],
                                         paired(base, alt), alt.name, places=True))


def link_table(run: rd.RunDir) -> pd.DataFrame:
    """The run's TEU/yr per link and direction by replication (columns replication, link,
    direction, value; empty where it has no links table), as `sim.mapdata.link_deltas`
    takes it."""
    links = run.by_replication("links")
    if links.empty:
        return pd.DataFrame(columns=["replication", "link", "direction", "value"])
    return links[["replication", "link", "direction"]].assign(
        value=rd.LINK_TEU.values(links, run.per_year)[0].to_numpy())


# the totals a placebo must not move, each with how its change is said ({unit}: its KPI's
# unit of time, "TEU/yr"; the KPI declaration names the column)
PLACEBO_KPIS = {"teu": "loaded {unit}", "trade_bn_cny": "{unit} of channel trade"}


def placebo_moved(deltas: pd.DataFrame, placebo: str) -> list[tuple[str, float, float]]:
    """(metric, delta, 95% CI) of each total TEU or trade figure the placebo moved: its
    interval excludes 0. A change too small to matter that moves a total says the
    comparison carries a bias (or an unlucky draw: one interval in twenty) of about that size,
    so deltas of that size are read against the placebo (`placebo_compare.csv`)."""
    rows = deltas[(deltas["variant"] == placebo) & (deltas["scope"] == "total")
                  & deltas["metric"].isin([kpis.kpi(k).column for k in PLACEBO_KPIS])]
    return [(str(r.metric), float(r.delta), float(r.delta_ci95)) for r in rows.itertuples()
            if resolved(r.delta, r.delta_ci95)]


def placebo_said(moved: list[tuple[str, float, float]]) -> str:
    """What `placebo_moved` found, in words: "-0.036 ± 0.024 bn CNY/yr of channel trade;
    ..."."""
    said = {k.column: words.format(unit=kpis.per_unit(k.unit, k.per))
            for k, words in ((kpis.kpi(name), w) for name, w in PLACEBO_KPIS.items())}
    return "; ".join(f"{d:+.3g} ± {h:.2g} {said[m]}" for m, d, h in moved)
