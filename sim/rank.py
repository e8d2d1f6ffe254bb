"""The ranking of candidate expansions of a base scenario by what they add (paired, common
random numbers; `sim.compare`) per unit of capacity they add."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import ValidationError

from sim.compare import TOTAL, Comparison, compare
from sim.errors import InputError
from sim.network import HOURS_PER_YEAR, Plan, build
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
        raise InputError(path, str(sorted(map(str, unknown))[0]),
                         "a changes file (name, description, changes) or a scenario with "
                         "extends")
    if not isinstance(raw.get("changes"), list) or not raw["changes"]:
        raise InputError(path, "changes", "a non-empty list of changes")
    data = base.model_dump(mode="json")
    data["changes"] = list(data.get("changes") or []) + raw["changes"]
    data["name"] = name or str(raw.get("name") or path.stem)
    data["description"] = str(raw.get("description") or "")
    data["source_file"] = str(resolved)
    # the candidate's changes are positions in its own file
    where = base.provenance
    own = len(where.files)
    data["provenance"] = Provenance(
        files=(*where.files, str(resolved)), keys=where.keys,
        changes=(*where.changes, *((own, j) for j in range(len(raw["changes"])))),
        sections=(*where.sections, tuple(str(k) for k in raw))).model_dump(mode="json")
    if data["demand"].get("reference_scenario") is None:
        data["demand"]["reference_scenario"] = base.source_file
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, Provenance.model_validate(data["provenance"]),
                               resolved) from None
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
    base_s = as_scenario(base)
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
