"""The ranking of candidate expansions of a base scenario by what they add (paired, common
random numbers; `sim.compare`) per unit of capacity they add."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from sim.compare import Comparison, compare, metrics
from sim.errors import InputError, given
from sim.kpis import TOTAL, kpi
from sim.network import Plan, build
from sim.scenario import (
    Provenance,
    Scenario,
    as_scenario,
    check_scenario,
    load_scenario,
    read_yaml_file,
    validation_error,
    with_overrides,
)
from sim.specs import BorderSpec, HubSpec
from sim.stats import difference_ci, resolved
from sim.units import HOURS_PER_YEAR


def candidate(base: Scenario, path: str | Path, name: str | None = None) -> Scenario:
    """A candidate expansion: a scenario file that `extends`, or a file with a `changes:`
    list (and optional `name`, `description`) appended to BASE's changes."""
    path = Path(path)
    resolved, raw = read_yaml_file(path, "candidate file")
    if "extends" in raw:
        scenario = load_scenario(path)
        return with_overrides(scenario, name=name) if name else scenario
    unknown = set(raw) - {"name", "description", "changes"}
    if unknown:
        raise InputError(resolved, str(sorted(map(str, unknown))[0]),
                         "a changes file (name, description, changes) or a scenario with "
                         "extends")
    if not isinstance(raw.get("changes"), list) or not raw["changes"]:
        raise InputError(resolved, "changes", "a non-empty list of changes",
                         given(raw["changes"]) if "changes" in raw else None)
    data = base.model_dump(mode="json")
    data["changes"] = list(data.get("changes") or []) + raw["changes"]
    # as written, so the schema checks them as it checks a scenario's (a list was made text)
    data["name"] = name or (path.stem if raw.get("name") is None else raw["name"])
    data["description"] = "" if raw.get("description") is None else raw["description"]
    data["source_file"] = str(resolved)
    # the candidate's changes are positions in its own file
    where = base.provenance
    own = len(where.files)
    data["provenance"] = Provenance(   # its name and description are its own file's
        files=(*where.files, str(resolved)),
        keys={**where.keys, **{k: own for k in ("name", "description") if k in raw}},
        changes=(*where.changes, *((own, j) for j in range(len(raw["changes"])))),
        sections=(*where.sections, tuple(str(k) for k in raw)),
        overrides=where.overrides).model_dump(mode="json")
    if data["demand"].get("reference_scenario") is None:
        data["demand"]["reference_scenario"] = base.source_file
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        error = validation_error(exc, Provenance.model_validate(data["provenance"]), resolved)
        if name and error.field == "name":   # given on the command line, not in a file
            raise InputError("--candidate", "", error.expected, name) from None
        raise error from None
    check_scenario(scenario)
    return scenario


@dataclass(frozen=True)
class Capacity:
    """TEU/yr of capacity a candidate adds over BASE, by kind of component."""

    lines: float
    hubs: float
    locks: float

    @property
    def total(self) -> float:
        return self.lines + self.hubs + self.locks


def _capacities(plan: Plan) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """TEU/yr of every line (per direction), hub (handling) and lock (lift of both
    directions at the mean tonnes per TEU of the plan's demand), each from its spec."""
    flows = plan.flows
    teu = sum(f.teu_per_year for f in flows)
    t_per_teu = sum(f.teu_per_year * plan.classes[f.commodity].tonnes_per_teu
                    for f in flows) / teu
    net = plan.network
    return ({line.id: line.spec.capacity_teu_per_year() for line in net.lines},
            {hid: _hub_capacity(plan, hid, hub) for hid, hub in net.hubs.items()},
            {lid: 2 * lock.lift_t(HOURS_PER_YEAR) / t_per_teu
             for lid, lock in net.locks.items()})


def _hub_capacity(plan: Plan, hub_id: str, hub: HubSpec) -> float:
    """TEU/yr a hub handles: servers x TEU/h x 8760; at a gauge-change border with a
    published capacity in trains a day each way, those trains a day x 365 x the mean TEU of
    the trains that stop there (its positions and handling rate do not set its capacity
    then: `BorderSpec.train_hours`)."""
    if isinstance(hub, BorderSpec) and hub.trains_a_day:
        assert hub.outbound_trains_per_day is not None and hub.inbound_trains_per_day is not None
        teu = [line.spec.vehicle_capacity_teu for line in plan.network.lines
               if hub_id in line.stops]
        if teu:
            return (hub.outbound_trains_per_day + hub.inbound_trains_per_day) * 365.0 * (
                sum(teu) / len(teu))
    return hub.handling_teu_per_year()


def added_capacity(base: Plan, cand: Plan) -> Capacity:
    """Sum of the capacity increases (decreases ignored) of lines, hubs and locks, TEU/yr:
    a line departures/week x vehicle TEU x 52.14 weeks (or continuous TEU/day x 365), a hub
    servers x TEU/h x 8760 (a border with capacities in trains a day: those x 365 x the mean
    train TEU there, `_hub_capacity`), a lock lanes x chamber t x 8760 / cycle h, both ways,
    / mean t per TEU."""
    def gain(a: dict[str, float], b: dict[str, float]) -> float:
        return sum(max(0.0, v - a.get(k, 0.0)) for k, v in b.items())
    (bl, bh, bk), (cl, ch, ck) = _capacities(base), _capacities(cand)
    return Capacity(lines=gain(bl, cl), hubs=gain(bh, ch), locks=gain(bk, ck))


def rank(base: Scenario | str | Path, candidates: dict[str, Scenario], *,
         replications: int | None = None, days: float | None = None, workers: int = 1,
         per: str = "capacity") -> tuple[pd.DataFrame, Comparison]:
    """Each candidate's extra TEU and trade (paired, CRN) and per added TEU/yr of capacity,
    ranked by extra trade per added capacity (`per="capacity"`) or by extra trade."""
    base_s = as_scenario(base)
    names = list(candidates)
    cmp = compare(base_s, [candidates[n] for n in names], replications=replications,
                  days=days, workers=workers, names=names)
    base_plan = build(base_s)
    rows = []
    for name in names:
        cap = added_capacity(base_plan, build(candidates[name]))
        d = cmp.deltas[(cmp.deltas["variant"] == name) & (cmp.deltas["scope"] == TOTAL)]
        teu = d[d["metric"] == kpi("teu").column].iloc[0]
        trade = d[d["metric"] == kpi("trade_bn_cny").column].iloc[0]
        c = cap.total
        rows.append({
            "candidate": name, "added_capacity_teu_per_year": c,
            "added_line_capacity_teu_per_year": cap.lines,
            "added_hub_capacity_teu_per_year": cap.hubs,
            "added_lock_capacity_teu_per_year": cap.locks,
            "extra_teu_per_year": teu["delta"], "extra_teu_per_year_ci95": teu["delta_ci95"],
            "extra_trade_bn_cny_per_year": trade["delta"],
            "extra_trade_bn_cny_per_year_ci95": trade["delta_ci95"],
            # compare's reading of the same paired delta (`sim.compare.paired_deltas`):
            # whether its 95% CI leaves out 0, else about how many replications would
            # (None where the CI is not a number: unknown, not unresolved)
            "extra_trade_resolved": resolved(trade["delta"], trade["delta_ci95"]),
            "extra_trade_replications_to_resolve": trade["replications_to_resolve"],
            # TEU/yr gained per TEU/yr of capacity added (a share), and CNY of trade a year
            # per TEU/yr of capacity added
            "extra_teu_per_capacity_teu": teu["delta"] / c if c else np.nan,
            "extra_teu_per_capacity_teu_ci95": teu["delta_ci95"] / c if c else np.nan,
            "extra_trade_cny_per_capacity_teu": trade["delta"] * 1e9 / c if c else np.nan,
            "extra_trade_cny_per_capacity_teu_ci95":
                trade["delta_ci95"] * 1e9 / c if c else np.nan,
        })
    table = pd.DataFrame(rows)
    extra = "extra_trade_bn_cny_per_year"
    key = "extra_trade_cny_per_capacity_teu" if per == "capacity" else extra
    # candidates adding no capacity (e.g. shorter dwell) rank after, by absolute extra trade
    table = table.assign(_no=table[key].isna()).sort_values(
        ["_no", key, extra], ascending=[True, False, False]).drop(columns="_no")
    table.insert(0, "rank", range(1, len(table) + 1))
    table = table.reset_index(drop=True)
    table["order_resolved_with_next"] = neighbours_resolved(
        table, per, extra_trade_by_replication(cmp))
    return table, cmp


def extra_trade_by_replication(cmp: Comparison) -> dict[str, np.ndarray]:
    """Per candidate, its extra goods trade over the base (bn CNY/yr) in each replication,
    in the base's order of replications (NaN where either run failed)."""
    column = kpi("trade_bn_cny").column

    def trade(results: Any) -> pd.Series:
        m = metrics(results)
        return m[(m["metric"] == column) & (m["scope"] == TOTAL)].set_index(
            "replication")["value"]

    base = trade(cmp.base.results)
    return {v.name: (trade(v.results).reindex(base.index) - base).to_numpy(dtype=float)
            for v in cmp.alts}


def neighbours_resolved(table: pd.DataFrame, per: str,
                        extra: Mapping[str, np.ndarray]) -> list[bool | None]:
    """Per candidate in rank order, whether the measure it is ranked by sets it apart from the
    next one's: the 95% CI of their difference, replication by replication (rank's runs
    share common random numbers), lies above 0 (True) or does not (False: the order between
    the two is not resolved; with failed runs the replications both ran may even read it
    the other way). `extra`: each candidate's extra trade per replication
    (`extra_trade_by_replication`). None for the last, where the difference has no interval
    (failed runs, differences all of one amount: `sim.stats.paired_ci`), and across the rule
    that puts candidates adding no capacity last."""
    capacity = "added_capacity_teu_per_year"
    rows = table.to_dict("records")
    out: list[bool | None] = []
    for a, b in zip(rows, rows[1:], strict=False):
        scale = [1.0, 1.0]
        if per == "capacity":
            has = [float(r[capacity]) > 0 for r in (a, b)]
            if has[0] != has[1]:      # ordered by the rule, not by the measure
                out.append(None)
                continue
            if has[0]:                # CNY of trade a year per TEU/yr of capacity added
                scale = [1e9 / float(r[capacity]) for r in (a, b)]
        delta, half = difference_ci(extra[b["candidate"]] * scale[1],
                                    extra[a["candidate"]] * scale[0], paired=True)
        out.append(None if not np.isfinite(half) else delta - half > 0)
    return [*out, None] if rows else []


def overlap_note(table: pd.DataFrame, replications: int) -> str | None:
    """The line naming the neighbours in the ranking whose difference is not told from none
    over `replications` (`order_resolved_with_next` False): the order between them rests on
    noise, even where each is told from the base. None when every neighbour is set apart."""
    if table.empty or "order_resolved_with_next" not in table:
        return None
    rows = table.to_dict("records")
    pairs = [f"{a['candidate']} ({a['rank']}) and {b['candidate']} ({b['rank']})"
             for a, b in zip(rows, rows[1:], strict=False)
             if a["order_resolved_with_next"] is False]
    if not pairs:
        return None
    return (f"the order of {'; '.join(pairs)} is not resolved: the 95% CI of their "
            f"difference over {replications} replications (paired, replication by "
            "replication) includes 0, so which of them to fund first is not told by these "
            "runs; more replications would tell")


def rank_notes(table: pd.DataFrame, replications: int) -> list[str]:
    """The notes a ranking carries (console, rank.json): that no candidate is told from none,
    else which neighbours' order is not resolved; the second would only repeat the first."""
    first = unresolved_note(table, replications)
    if first is not None:
        return [first]
    second = overlap_note(table, replications)
    return [second] if second is not None else []


def unresolved_note(table: pd.DataFrame, replications: int) -> str | None:
    """The line saying that no candidate's extra trade (bn CNY/yr) is told from none at 95%
    over `replications` (each CI includes 0, or has none: failed runs, `sim.stats.paired_ci`),
    so the order is the noise's, not a funding order; None when some candidate's is
    resolved."""
    if table.empty:
        return None
    flags = table["extra_trade_resolved"]
    if flags.isin([True]).any():     # None (unknown) is not resolved
        return None
    unknown = int(flags.isna().sum())
    if unknown == len(table):
        return (f"no candidate's extra trade has a 95% CI over {replications} replications "
                "(failed runs, too few pairs, or pairs that all moved it by one amount), so "
                "this order is not tested against noise")
    need = table["extra_trade_replications_to_resolve"].dropna()
    # the largest count is the least clear change's (small against its noise): with it,
    # about every candidate's CI would leave out 0
    more = (f"; about --replications {int(need.max())} would tell each of these changes "
            "from none (the least clear one needs the most; an estimate from this run)"
            if len(need) else "")
    which = (f"every 95% CI over {replications} replications includes 0" if not unknown else
             f"{len(table) - unknown} of the {len(table)} candidates' 95% CIs over "
             f"{replications} replications include 0, the other {unknown} have none (failed "
             "runs, or pairs that all moved it by one amount)")
    return f"no candidate's extra trade is told from none: {which}, so this order rests on " \
        f"noise{more}"
