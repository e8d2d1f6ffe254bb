"""The ranking of candidate expansions of a base scenario by the trade they add (paired,
common random numbers; `sim.compare`) per TEU/yr of bottleneck capacity they add on the
routes whose traffic grew (those adding none ranked apart), with its tests read on their
own and family-wise (Holm)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import ValidationError

from sim.compare import Comparison, compare, metrics
from sim.errors import InputError, given
from sim.kpis import TOTAL, kpi
from sim.network import Plan, build
from sim.results import Results
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
from sim.stats import (
    PILOT_PAIRS,
    holm_resolved,
    paired_ci,
    paired_differences,
    paired_p_value,
    pilot_too_small,
    resolved,
    unsized,
)
from sim.units import CNY_PER_BN, DAYS_PER_YEAR, HOURS_PER_YEAR, T_PER_MT


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
        error = validation_error(exc, Provenance.model_validate(data["provenance"]), resolved,
                                 model=Scenario)
        if name and error.field == "name":   # given on the command line, not in a file
            raise InputError("--candidate", "", error.expected, name) from None
        raise error from None
    check_scenario(scenario)
    return scenario


@dataclass(frozen=True)
class Capacity:
    """TEU/yr of capacity a candidate adds over BASE. `lines`, `hubs`, `locks`: the gross
    gains of each kind of component, shown apart and never added (a box rides a line and
    passes hubs and locks in series, so their gains are not more capacity for it).
    `bottleneck`: what rank divides by (`bottleneck_gain`), credited to the parts that bind
    (`binding`: "kind:id" -> TEU/yr, `bottlenecks`)."""

    lines: float
    hubs: float
    locks: float
    bottleneck: float = 0.0
    binding: Mapping[str, float] = field(default_factory=dict)


# a part of a route whose capacity can bind: ("line", id), ("hub", id) or ("lock", id)
Part = tuple[str, str]


def _capacities(plan: Plan, locks: pd.DataFrame | None = None
                ) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """TEU/yr of every line (per direction), hub (handling) and lock (both directions,
    `lock_capacity`'s gross; `locks`: the run's locks summary), each from its spec."""
    net = plan.network
    return ({line.id: line.spec.capacity_teu_per_year() for line in net.lines},
            {hid: _hub_capacity(plan, hid, hub) for hid, hub in net.hubs.items()},
            {lid: sum(lock_capacity(plan, lid, way, locks)[0] for way in LOCK_WAYS)
             for lid in net.locks})


# a lock's two directions, as `Hop.direction` and the locks table name them
LOCK_WAYS = ("down", "up")


def lock_capacity(plan: Plan, lock_id: str, direction: str,
                  locks: pd.DataFrame | None = None) -> tuple[float, float]:
    """(gross, free) TEU/yr of one direction of a lock. From a run (`locks`: its locks
    summary; rank reads BASE's for every plan, `plan` giving the lanes): in lockage slots,
    what binds a lock its vessels do not fill (the Three Gorges flights ran 0.97 of their
    slots with their chambers 0.65-0.77 full): gross, the lockages the lanes can run in the
    hours the lock was open, and free, those less the other
    classes' share of the lockages run (by their share of the tonnes), each at the tonnes a
    lockage carried, over the demand's mean tonnes per TEU. Without a run, or with no
    lockage in it: in chamber tonnes, every lockage full, all year (the lock's free capacity
    read that way was 3.5 M TEU/yr, never the bottleneck of a saturated lock: review51 #1)."""
    lock = plan.network.locks[lock_id]
    t_per_teu = _tonnes_per_teu(plan)
    row = None
    if locks is not None and len(locks):
        match = locks[(locks["lock"] == lock_id) & (locks["direction"] == direction)]
        row = match.iloc[0] if len(match) else None
    if row is not None and row["lockages_per_year"] > 0 and (
            row["container_t_per_year"] + row["bulk_t_per_year"]) > 0:
        run_t = float(row["container_t_per_year"] + row["bulk_t_per_year"])
        per_lockage = run_t / float(row["lockages_per_year"])
        slots = lock.lockages(max(0.0, HOURS_PER_YEAR - float(row["closed_h_per_year"])))
        others = float(row["lockages_per_year"]) * float(row["bulk_t_per_year"]) / run_t
        return (slots * per_lockage / t_per_teu,
                max(0.0, slots - others) * per_lockage / t_per_teu)
    traffic = plan.network.lock_traffic.get(lock_id)
    others_t = 0.0 if traffic is None else sum(
        (c.mt_per_year * T_PER_MT if c.mt_per_year is not None
         else (c.vessels_per_year or 0.0) * c.vessel_t)
        for c in traffic.classes.values() if not c.lift) / 2   # both ways: half each
    lift = lock.lift_t(HOURS_PER_YEAR)
    return lift / t_per_teu, max(0.0, lift - others_t) / t_per_teu


def _tonnes_per_teu(plan: Plan) -> float:
    """The mean tonnes per TEU of the plan's demand (TEU-weighted)."""
    flows = plan.flows
    teu = sum(f.teu_per_year for f in flows)
    return sum(f.teu_per_year * plan.classes[f.commodity].tonnes_per_teu
               for f in flows) / teu


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
            return (hub.outbound_trains_per_day + hub.inbound_trains_per_day) * DAYS_PER_YEAR * (
                sum(teu) / len(teu))
    return hub.handling_teu_per_year()


def free_capacities(plan: Plan, locks: pd.DataFrame | None = None) -> dict[Part, float]:
    """TEU/yr each part offers the modelled freight: a line its capacity (one running
    direction); a hub its handling (`_hub_capacity`, both directions) less its other users'
    background TEU/yr (`network.background`); a lock each direction (`lock:<id>:<down|up>`)
    its free capacity (`lock_capacity`; `locks`: the run's locks summary). Never below 0:
    capacity that serves others' traffic is not the candidate's."""
    net = plan.network
    lines, hubs, _ = _capacities(plan)
    out: dict[Part, float] = {("line", k): v for k, v in lines.items()}
    for hid, cap in hubs.items():
        other = net.background.get(hid)
        used = 0.0 if other is None else other.jobs_per_year * other.batch_teu
        out[("hub", hid)] = max(0.0, cap - used)
    for lid in net.locks:
        for way in LOCK_WAYS:
            out[("lock", f"{lid}:{way}")] = lock_capacity(plan, lid, way, locks)[1]
    return out


def route_parts(plan: Plan, legs: list[tuple[str, str, str]]) -> frozenset[Part]:
    """The parts a route's boxes pass, from its legs (line id, board, alight): each line
    ridden, the hubs it stops at from boarding to alighting (a border crossed on board
    holds the train) and the locks on those hops. A line the plan lacks is named alone."""
    by_id = {line.id: line for line in plan.network.lines}
    parts: set[Part] = set()
    for line_id, board, alight in legs:
        parts.add(("line", line_id))
        line = by_id.get(line_id)
        if line is None or board not in line.stops:
            continue
        i = line.stops.index(board)
        j = line.stops.index(alight, i + 1) if alight in line.stops[i + 1:] else i
        parts.update(("hub", stop) for stop in line.stops[i:j + 1])
        # a lock one way, as a line is (review51 #2: both ways were one part)
        parts.update(("lock", f"{hop.link.lock}:{hop.direction}") for hop in line.hops[i:j]
                     if hop.link.lock)
    return frozenset(parts)


def bottlenecks(base: Mapping[Part, float], cand: Mapping[Part, float],
                routes: list[frozenset[Part]]) -> dict[Part, float]:
    """The parts that bind on `routes` (those whose traffic grew) in the candidate, each
    with the TEU/yr of bottleneck capacity credited to it: per route, the gain of its
    tightest part's capacity (min over its parts in the candidate less min in BASE, a part
    BASE lacks at 0; routes that gained nothing left out), so parts in series never add;
    a part that binds several routes once, at the largest gain of a route it binds (they
    share its capacity). `base`, `cand`: `free_capacities`."""
    best: dict[Part, float] = {}
    for parts in routes:
        if not parts:
            continue
        tight = min(sorted(parts), key=lambda p: cand.get(p, 0.0))
        gain = cand.get(tight, 0.0) - min(base.get(p, 0.0) for p in parts)
        if gain > 0:
            best[tight] = max(best.get(tight, 0.0), gain)
    return best


def bottleneck_gain(base: Mapping[Part, float], cand: Mapping[Part, float],
                    routes: list[frozenset[Part]]) -> float:
    """TEU/yr of bottleneck capacity a candidate adds on `routes`: the sum over the distinct
    parts that bind there (`bottlenecks`)."""
    return float(sum(bottlenecks(base, cand, routes).values()))


# the columns a route is known by across two runs (route numbers are each run's own)
_ROUTE_KEY = ["origin", "destination", "commodity", "flow_class", "gateway", "path",
              "services"]


def grown_routes(base: Results, cand: Results) -> list[frozenset[Part]]:
    """The parts (`route_parts`) of every route of the candidate's run whose TEU/yr departed
    (mean over replications) is above BASE's (a route BASE's run did not use at 0)."""
    def departed(results: Results) -> pd.Series:
        routes = results.summary("routes")
        return routes.groupby(_ROUTE_KEY, dropna=False)["teu_departed_per_year"].sum()

    before, after = departed(base), departed(cand)
    grew = after[after > before.reindex(after.index).fillna(0.0)]
    routes = cand.summary("routes").set_index(_ROUTE_KEY)
    legs = cand.summary("legs")
    out = []
    for key in grew.index:
        numbers = routes.loc[[key], "route"].tolist()
        for number in numbers:
            rows = legs[legs["route"] == number].sort_values("leg")
            out.append(route_parts(cand.plan, list(zip(
                rows["line"].astype(str), rows["board"].astype(str),
                rows["alight"].astype(str), strict=True))))
    return out


def added_capacity(base: Plan, cand: Plan,
                   grown: list[frozenset[Part]] | None = None,
                   locks: pd.DataFrame | None = None) -> Capacity:
    """The capacity increases (decreases ignored) of lines, hubs and locks, TEU/yr, kind by
    kind: a line departures/week x vehicle TEU x 52.14 weeks (or continuous TEU/day x 365),
    a hub servers x TEU/h x 8760 (a border with capacities in trains a day: those x 365 x
    the mean train TEU there, `_hub_capacity`), a lock both ways (`lock_capacity`: in
    lockage slots read with BASE's run, `locks` its locks summary, for both plans: a lock
    the candidate leaves as it is then offers the same, not its run's noise, which credited
    digital customs 889 TEU/yr at the lock; else in chamber tonnes); and the bottleneck gain
    on the routes `grown` (`bottleneck_gain`; 0 without them)."""
    def gain(a: dict[str, float], b: dict[str, float]) -> float:
        return sum(max(0.0, v - a.get(k, 0.0)) for k, v in b.items())
    (bl, bh, bk), (cl, ch, ck) = _capacities(base, locks), _capacities(cand, locks)
    neck = bottlenecks(free_capacities(base, locks), free_capacities(cand, locks),
                       grown or [])
    return Capacity(lines=gain(bl, cl), hubs=gain(bh, ch), locks=gain(bk, ck),
                    bottleneck=float(sum(neck.values())),
                    binding={f"{kind}:{ident}": v for (kind, ident), v in sorted(neck.items())})


# rank.csv's `group`: whom the measure ranks together
ADDS_CAPACITY = "adds bottleneck capacity"
ADDS_NONE = "adds no bottleneck capacity"
ALL = "all"


# what rank divides by, how it orders and how it tests: the console's
# footnote and rank.json (`cqsim rank`)
RANK_MEASURE = (
    "bottleneck capacity added (TEU/yr): on each route whose traffic grew, the gain of its "
    "tightest part (a line one way: departures/week x vehicle TEU x 52.14; a hub: handling "
    "less its other users' background traffic; a lock one way: the lockage slots of its open "
    "hours less the other vessels' share of those run, at the tonnes a lockage carried, per "
    "mean t/TEU), counted once per distinct tightest part; parts in series never "
    "add (rank.csv's bottleneck_parts names them). The gross line, hub and lock gains in "
    "rank.csv are by kind and must not be summed")
RANK_ORDER = {
    "capacity": "candidates adding bottleneck capacity ranked by extra trade (CNY/yr) per "
                "TEU/yr of it; those adding none ranked apart, by extra trade (bn CNY/yr), "
                "not on one scale with them; in each, extra trade not above 0 ranks last",
    "none": "ranked by extra trade (bn CNY/yr) alone (--per none), extra trade not above 0 "
            "last; bottleneck capacity shown for reference"}
RANK_TESTS = (
    "'told (Holm)': the extra trade's paired test against 0 at a family-wise 95% over all "
    "candidates (Holm); rank.csv also has each test on its own (extra_trade_resolved) and the "
    "neighbours' order on its own (order_resolved_with_next) and family-wise over the "
    "neighbour tests (order_resolved_holm)")


def rank(base: Scenario | str | Path, candidates: dict[str, Scenario], *,
         replications: int | None = None, days: float | None = None, workers: int = 1,
         per: str = "capacity") -> tuple[pd.DataFrame, Comparison]:
    """Each candidate's extra TEU and trade (paired, CRN) and per TEU/yr of bottleneck
    capacity it adds (`added_capacity`), ranked.

    `per="capacity"`: two groups, each ranked on its own (`group`, `rank` within it):
    candidates that add bottleneck capacity by extra trade per TEU/yr of it, those that add
    none (customs, tariffs) by extra trade; the two measures are not one scale. `per="none"`:
    one group by extra trade. In each, a candidate whose extra trade is not above 0 ranks
    after every one whose is. Tests of extra trade against 0 and of each neighbour's order
    are read on their own (95%) and family-wise (Holm, `sim.stats.holm`): extra trade over
    the k candidates, the order over the neighbour tests."""
    base_s = as_scenario(base)
    names = list(candidates)
    cmp = compare(base_s, [candidates[n] for n in names], replications=replications,
                  days=days, workers=workers, names=names)
    base_plan = build(base_s)
    extra_by_rep = extra_trade_by_replication(cmp)
    runs = {v.name: v.results for v in cmp.alts}
    rows = []
    for name in names:
        cap = added_capacity(base_plan, build(candidates[name]),
                             grown_routes(cmp.base.results, runs[name]),
                             cmp.base.results.summary("locks"))
        d = cmp.deltas[(cmp.deltas["variant"] == name) & (cmp.deltas["scope"] == TOTAL)]
        teu = d[d["metric"] == kpi("teu").column].iloc[0]
        trade = d[d["metric"] == kpi("trade_bn_cny").column].iloc[0]
        c = cap.bottleneck
        rows.append({
            "candidate": name, "added_bottleneck_capacity_teu_per_year": c,
            # where it is: the binding parts, largest first, with the TEU/yr credited to each
            "bottleneck_parts": "; ".join(
                f"{part} +{teu:,.0f}" for part, teu in sorted(
                    cap.binding.items(), key=lambda kv: -kv[1])),
            # gross gains by kind, for reference: in series, never to be added
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
            "extra_trade_p": paired_p_value(extra_by_rep[name]),
            "extra_trade_replications_to_resolve": trade["replications_to_resolve"],
            # the pairs the delta is of (compare.csv's `replications`, `sim.stats.pairs`):
            # fewer than the run's where a run failed, and what `unsized` reads
            "extra_trade_pairs": int(trade["replications"]),
            # TEU/yr gained per TEU/yr of bottleneck capacity added (a share), and CNY of
            # trade a year per TEU/yr of it
            "extra_teu_per_capacity_teu": teu["delta"] / c if c else np.nan,
            "extra_teu_per_capacity_teu_ci95": teu["delta_ci95"] / c if c else np.nan,
            "extra_trade_cny_per_capacity_teu": trade["delta"] * CNY_PER_BN / c if c else np.nan,
            "extra_trade_cny_per_capacity_teu_ci95":
                trade["delta_ci95"] * CNY_PER_BN / c if c else np.nan,
        })
    table = order(pd.DataFrame(rows), per)
    # family-wise over the k candidates' tests against 0 (Holm): a candidate told from
    # none on its own is one of k chances
    table.insert(list(table.columns).index("extra_trade_p") + 1, "extra_trade_resolved_holm",
                 holm_resolved(table["extra_trade_p"].to_numpy(dtype=float)))
    p = neighbours_p(table, per, extra_by_rep)
    table["order_resolved_with_next"] = neighbours_resolved(table, per, extra_by_rep)
    table["order_p"] = p
    table["order_resolved_holm"] = holm_resolved(np.asarray(p, dtype=float))
    return table, cmp


def order(table: pd.DataFrame, per: str) -> pd.DataFrame:
    """`table` (a row per candidate) in rank order, with `group` and `rank` (1 up, within
    the group) first: by `per` (`rank`), a candidate whose extra trade is not above 0 (or
    not a number) after every one whose is, in its group."""
    extra = "extra_trade_bn_cny_per_year"
    capacity = "added_bottleneck_capacity_teu_per_year"
    if per == "capacity":
        group = np.where(table[capacity] > 0, ADDS_CAPACITY, ADDS_NONE)
        key = table["extra_trade_cny_per_capacity_teu"].where(table[capacity] > 0,
                                                              table[extra])
    else:
        group, key = np.full(len(table), ALL), table[extra]
    out = table.assign(_g=[0 if g in (ADDS_CAPACITY, ALL) else 1 for g in group],
                       _gain=~(table[extra] > 0), _key=key.fillna(-np.inf),
                       _extra=table[extra].fillna(-np.inf)).sort_values(
        ["_g", "_gain", "_key", "_extra"], ascending=[True, True, False, False],
        kind="stable")
    groups = pd.Series(group, index=table.index).loc[out.index]
    out = out.drop(columns=["_g", "_gain", "_key", "_extra"]).reset_index(drop=True)
    out.insert(0, "rank", groups.groupby(groups.to_numpy()).cumcount().to_numpy() + 1)
    out.insert(0, "group", groups.to_numpy())
    return out


def extra_trade_by_replication(cmp: Comparison) -> dict[str, np.ndarray]:
    """Per candidate, its extra goods trade over the base (bn CNY/yr) in each replication,
    in the base's order of replications (NaN where either run failed)."""
    column = kpi("trade_bn_cny").column

    def trade(results: Results) -> pd.Series:
        m = metrics(results)
        return m[(m["metric"] == column) & (m["scope"] == TOTAL)].set_index(
            "replication")["value"]

    base = trade(cmp.base.results)
    # rounding-free, as compare reads the same delta (`paired_differences`): raw, 6 pairs
    # that differ by 1e-13 gave the sign test's p 0.03 where compare's CI was 0 (review51 #4)
    return {v.name: paired_differences(base.to_numpy(dtype=float), trade(v.results).reindex(
                base.index).to_numpy(dtype=float)) for v in cmp.alts}


def _neighbour_tests(table: pd.DataFrame, per: str, extra: Mapping[str, np.ndarray]
                     ) -> list[tuple[float, float, float] | None]:
    """Per neighbour pair in rank order, the paired difference of the measure they are
    ranked by (upper less lower) replication by replication: (mean, 95% half-width, p-value
    of `sim.stats.paired_p_value`); None across groups (`group`), whose order is the rule's."""
    capacity = "added_bottleneck_capacity_teu_per_year"
    rows = table.to_dict("records")
    out: list[tuple[float, float, float] | None] = []
    for a, b in zip(rows, rows[1:], strict=False):
        if a.get("group", ALL) != b.get("group", ALL):
            out.append(None)
            continue
        scale = [1.0, 1.0]
        if per == "capacity" and a.get("group") == ADDS_CAPACITY:
            # CNY of trade a year per TEU/yr of bottleneck capacity added
            scale = [CNY_PER_BN / float(r[capacity]) for r in (a, b)]
        lower, upper = extra[b["candidate"]] * scale[1], extra[a["candidate"]] * scale[0]
        d = paired_differences(lower, upper)
        out.append((*paired_ci(d), paired_p_value(d)))
    return out


def neighbours_resolved(table: pd.DataFrame, per: str,
                        extra: Mapping[str, np.ndarray]) -> list[bool | None]:
    """Per candidate in rank order, whether the measure it is ranked by sets it apart from the
    next one's, on its own: the 95% CI of their difference, replication by replication
    (rank's runs share common random numbers), lies above 0 (True) or does not (False: the
    order between the two is not resolved; with failed runs the replications both ran may
    even read it the other way). `extra`: each candidate's extra trade per replication
    (`extra_trade_by_replication`). None for the last of the table, where the difference has
    no interval (failed runs, differences all of one amount: `sim.stats.paired_ci`), and
    between groups (`group`), whose order is the rule's."""
    out = [None if t is None or not np.isfinite(t[1]) else t[0] - t[1] > 0
           for t in _neighbour_tests(table, per, extra)]
    return [*out, None] if len(table) else []


def neighbours_p(table: pd.DataFrame, per: str,
                 extra: Mapping[str, np.ndarray]) -> list[float]:
    """Per candidate in rank order, the p-value of the paired test that its measure differs
    from the next one's (`neighbours_resolved`), NaN where the test cannot be made (the
    last, between groups, no interval); 1 where the difference is 0 or reads the other way
    (a test made that found no evidence for the order given: it counts in Holm's k and is
    said unresolved; it was NaN, left out, and a tie went unsaid: review51 #3); what
    `sim.stats.holm` adjusts over the neighbour tests."""
    out = [np.nan if t is None or not np.isfinite(t[1]) else t[2] if t[0] > 0 else 1.0
           for t in _neighbour_tests(table, per, extra)]
    return [*out, np.nan] if len(table) else []


def overlap_note(table: pd.DataFrame, replications: int) -> str | None:
    """The line naming the neighbours in the ranking whose difference is not told from none
    over `replications` at a family-wise 95% over the neighbour tests (`order_resolved_holm`,
    Holm; `order_resolved_with_next`, on its own, where the table has no Holm column): the
    order between them rests on noise, even where each is told from the base. None when
    every neighbour is set apart."""
    holm = "order_resolved_holm" in table
    flag = "order_resolved_holm" if holm else "order_resolved_with_next"
    if table.empty or flag not in table:
        return None
    rows = table.to_dict("records")
    pairs = [f"{a['candidate']} ({a['rank']}) and {b['candidate']} ({b['rank']})"
             for a, b in zip(rows, rows[1:], strict=False)
             if a[flag] is False and a.get("group", ALL) == b.get("group", ALL)]
    if not pairs:
        return None
    level = (f"at a family-wise 95% over the {int(table['order_p'].notna().sum())} neighbour "
             "tests (Holm)" if holm and "order_p" in table else "at 95%")
    return (f"the order of {'; '.join(pairs)} is not resolved: their difference over "
            f"{replications} replications (paired, replication by replication) is not told "
            f"from 0 {level}, so which of them to fund first is not told by these runs; more "
            "replications would tell")


def multiplicity_note(table: pd.DataFrame) -> str | None:
    """The line naming candidates whose extra trade is told from none at 95% on its own
    (`extra_trade_resolved`) but not at a family-wise 95% over the k candidates
    (`extra_trade_resolved_holm`): with k tests, one of k chances to look resolved by noise.
    None when there are none such, or the table has no Holm column."""
    if table.empty or "extra_trade_resolved_holm" not in table:
        return None
    alone = table[table["extra_trade_resolved"].isin([True])
                  & ~table["extra_trade_resolved_holm"].isin([True])]
    if alone.empty:
        return None
    names = ", ".join(map(str, alone["candidate"]))
    k = int(table["extra_trade_p"].notna().sum())
    return (f"{names}: extra trade told from none at 95% on its own, but not at a "
            f"family-wise 95% over the {k} candidates (Holm): with {k} tests, one may look "
            "resolved by noise alone")


def rank_notes(table: pd.DataFrame, replications: int) -> list[str]:
    """The notes a ranking carries (console, rank.json): that no candidate is told from none,
    else which are told only on their own (not family-wise, `multiplicity_note`) and which
    neighbours' order is not resolved; the later would only repeat the first."""
    first = unresolved_note(table, replications)
    if first is not None:
        return [first]
    notes = [multiplicity_note(table), overlap_note(table, replications)]
    return [n for n in notes if n is not None]


def unresolved_note(table: pd.DataFrame, replications: int) -> str | None:
    """The line saying that no candidate's extra trade (bn CNY/yr) is told from none at 95%
    over `replications` (each CI includes 0, or has none: failed runs, `sim.stats.paired_ci`),
    so the order is the noise's, not a funding order; None when some candidate's is
    resolved. Whether a change is of too few pairs to size a rerun (`unsized`) is read from
    each candidate's `extra_trade_pairs` (the run's `replications` where the table has
    none)."""
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
    ci = table.get("extra_trade_bn_cny_per_year_ci95")
    # each candidate's own pairs (a candidate whose runs failed has fewer than the run's
    # replications; review65 #8), the run's where the table has none
    pairs = table.get("extra_trade_pairs", pd.Series(replications, index=table.index))
    # changes from too few pairs have no count (`unsized`: rank.csv's NaN), said all the same
    unsized_pairs = [] if ci is None or "extra_trade_bn_cny_per_year" not in table else [
        int(n) for d, h, n in zip(table["extra_trade_bn_cny_per_year"], ci, pairs, strict=True)
        if unsized(float(d), float(h), int(n))]
    few = bool(unsized_pairs)
    # counts only from pairs that all moved trade by one amount are the sign test's, exact
    # from any number of pairs (`pilot_too_small`'s `alike`, as compare's lines and the
    # report read them: review58 #4)
    alike = not few and ci is not None and len(need) > 0 and \
        not np.isfinite(ci.loc[need.index].astype(float)).any()
    # the largest count is the least clear change's (small against its noise): with it,
    # about every candidate's CI would leave out 0
    if not len(need) and not few:
        more = ""
    elif few or pilot_too_small(replications, alike):   # one or few degrees of freedom
        rough = min(unsized_pairs, default=replications)
        more = (f"; run at least --replications {PILOT_PAIRS} to estimate how many would "
                f"tell them from none (a spread from {rough} is too rough to size it)")
    else:
        more = (f"; about --replications {int(need.max())} would tell each of these changes "
                "from none (the least clear one needs the most; " + (
                    "the sign test's count: their pairs each moved it by one amount)" if alike
                    else "an estimate from this run)"))
    which = (f"every 95% CI over {replications} replications includes 0" if not unknown else
             f"{len(table) - unknown} of the {len(table)} candidates' 95% CIs over "
             f"{replications} replications include 0, the other {unknown} have none (failed "
             "runs, or pairs that all moved it by one amount)")
    return f"no candidate's extra trade is told from none: {which}, so this order rests on " \
        f"noise{more}"
