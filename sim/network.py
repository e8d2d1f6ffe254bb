"""Build step: scenario + geodata + changes -> one resolved, checked `Network` and `Plan`.

Input goes normalize -> validate -> build. Everything here is immutable; the engine turns a
`Plan` into runtime objects for one replication.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from sim.components import kinds, validate_spec
from sim.errors import InputError, InputWarning, did_you_mean
from sim.geodata import LINKS_FILE, read_hubs, read_links, read_locks
from sim.inputs import Origin, origin_of
from sim.market.spec import Choice, MarketSection
from sim.market.table import (
    MarketPlan,
    MarketRow,
    empty_flows,
    market_flows,
    read_market_table,
    unsimulated_bn,
)
from sim.outages import outage_windows
from sim.scenario import (
    MIN_DAYS,
    AddFlow,
    AddHub,
    AddLink,
    AddService,
    DemandGrowth,
    Disruption,
    Equilibrium,
    Horizon,
    RemoveService,
    Replications,
    Routing,
    ScaleChange,
    Scenario,
    Seed,
    SetChange,
    Trade,
    Variability,
)
from sim.specs import (
    ABSURD,
    BackgroundTraffic,
    BorderSpec,
    CommodityClass,
    EmissionFactor,
    Flow,
    HubSpec,
    LinkSpec,
    LockOperation,
    LockSpec,
    RandomOutage,
    ScheduledOutage,
    ServiceSpec,
    expected,
    located,
)
from sim.units import HOURS_PER_DAY, period_season, relative_season

Window = tuple[float, float, float]  # (start h, end h, capacity factor)
DIRECTIONS = ("down", "up")   # down: from a link's first vertex to its last


Span = tuple[float, float]  # (start h, end h)
EventKey = tuple[str, str, float]   # a dated event: (kind, id, start h)


def merge_spans(spans: Iterable[Span]) -> tuple[Span, ...]:
    """`spans` sorted, the overlapping and touching ones merged."""
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


@dataclass(frozen=True, slots=True)
class Hop:
    """One stop-to-stop stretch of a line, in running direction."""

    link: LinkSpec
    forward: bool
    lock_at: float | None  # fraction of running time at which the lock is reached

    @property
    def direction(self) -> str:
        """`down` when running from the link's first vertex to its last, else `up`."""
        return "down" if self.forward else "up"


@dataclass(frozen=True, slots=True)
class Line:
    """A service in one running direction: what vehicles (or the continuous flow) do."""

    id: str
    service: str
    spec: ServiceSpec
    stops: tuple[str, ...]
    hops: tuple[Hop, ...]

    @property
    def km(self) -> float:
        return sum(h.link.km for h in self.hops)


@dataclass(frozen=True)
class Network:
    """Hubs, links and lines, resolved and checked against each other."""

    hubs: dict[str, HubSpec]
    links: dict[str, LinkSpec]
    lines: tuple[Line, ...]
    lock_traffic: dict[str, LockOperation]
    emission_factors: dict[str, EmissionFactor]
    disruptions: dict[tuple[str, str], tuple[Window, ...]] = field(default_factory=dict)
    locks: dict[str, LockSpec] = field(default_factory=dict)
    services: dict[str, ServiceSpec] = field(default_factory=dict)
    background: dict[str, BackgroundTraffic] = field(default_factory=dict)
    # random disruptions by (kind, id): drawn per replication (`windows`)
    outages: dict[tuple[str, str], tuple[RandomOutage, ...]] = field(default_factory=dict)

    def windows(self, kind: str, ident: str, seed: int = 0, replication: int = 0,
                hours: float = 0.0) -> tuple[Window, ...]:
        """Capacity windows of one component (kind: hub, lock, link or service): the fixed
        ones, and those of its random disruptions drawn over `hours` for replication
        `replication` of `seed` (stream `outage:disruption:<kind>:<id>:<name>`)."""
        fixed = self.disruptions.get((kind, ident), ())
        random = self.outages.get((kind, ident), ())
        if not random:
            return fixed
        drawn = outage_windows(random, hours, seed, replication, f"disruption:{kind}:{ident}")
        return tuple(sorted(fixed + drawn))

    def dated_spans(self, parts: Collection[tuple[str, str]] | None = None,
                    until: Mapping[EventKey, float] | None = None) -> tuple[Span, ...]:
        """The hours (start, end), merged, in which an event with dates is in force at one of
        `parts` ((kind, id): hub, link, lock or service; all when None): a disruption with
        `start_day` and `end_day`, a lock's maintenance or scheduled outage. Shippers know
        of such an event while it lasts but do not plan the rest of the year around it, so
        route choice learns the delays of the lots booked in a route's spans apart from the
        rest (`sim.routing.dated_spans`, `sim.equilibrium`). Random outages (fog) are the
        usual variability, not dated events. `until`: where an event's backlog outlasted it,
        the hour it cleared, by (kind, id, start hour) (`dated_windows`)."""
        until = until or {}
        return merge_spans((start, max(end, until.get((kind, ident, start), end)))
                           for kind, ident, start, end in self.dated_windows()
                           if parts is None or (kind, ident) in parts)

    def dated_windows(self) -> list[tuple[str, str, float, float]]:
        """Every dated event as (kind, id, start h, end h): the disruptions with dates and
        the locks' maintenance and scheduled outages."""
        out = [(kind, ident, start, end) for (kind, ident), windows in self.disruptions.items()
               for start, end, _ in windows]
        for lock, op in self.lock_traffic.items():
            dated = [*op.maintenance, *(o for o in op.outages if isinstance(o, ScheduledOutage))]
            out.extend(("lock", lock, *w.hours) for w in dated)
        return out


@dataclass(frozen=True)
class Plan:
    """Everything one simulation needs: the built network, demand and run settings."""

    name: str
    source_file: str
    geodata: str
    network: Network
    classes: dict[str, CommodityClass]
    flows: tuple[Flow, ...]
    lot_teu: float
    seasonality: tuple[float, ...]
    horizon: Horizon
    seed: int
    replications: int
    routing: Routing
    variability: Variability
    elasticity: float = 0.0               # demand response to generalized cost (sim.demand)
    reference_scenario: str | None = None  # network of the base TEU (None: this one)
    trade: Trade = field(default_factory=Trade)
    equilibrium: Equilibrium = field(default_factory=Equilibrium)
    market: MarketPlan | None = None       # trade by market, competing gateways (sim.market)
    flow_sources: tuple[tuple[str, str], ...] = ()  # (file, field there) of each flow
    # what its run's folder records of the scenario (files, overrides, changes: sim.inputs);
    # no simulation reads it, so it is in no cache key (repr) and no comparison of plans
    origin: Origin = field(default_factory=Origin, repr=False, compare=False)

    @property
    def season(self) -> float:
        """Mean seasonal factor of its statistics period (`period_season`): what its counts
        annualised from part of a year carry of the season (1 over whole years)."""
        return period_season(self.seasonality, self.horizon)

    def lot_teu_of(self, commodity: str) -> float:
        """TEU per lot of a class: its own `lot_teu`, else the demand's. Route times (handling
        of a lot) are computed for the demand's lot."""
        own = self.classes[commodity].lot_teu
        return self.lot_teu if own is None else own

    def trade_cny_per_teu(self, commodity: str, flow_class: str, origin: str,
                          destination: str) -> float:
        """Chongqing's goods trade a TEU of a flow counts for: its class's value when it is of
        flow class `trade` and touches no `trade.excluded_hubs`, else 0 (the one rule of the
        recorder's trade and of a comparison's `waiting at origins`)."""
        if flow_class != "trade" or {origin, destination} & set(self.trade.excluded_hubs):
            return 0.0
        return self.classes[commodity].value_cny_per_teu


def _input_error(exc: ValidationError, file: str, field_name: str) -> InputError:
    err = exc.errors()[0]     # worded as a scenario file's error is (pydantic's is not)
    return InputError(file, field_name, expected(err),
                      err.get("input") if err["type"] != "missing" else None)


def _revalidate(model: BaseModel, updates: dict[str, Any], file: str, field_name: str) -> Any:
    try:
        return type(model).model_validate({**model.model_dump(), **updates})
    except ValidationError as exc:
        raise _input_error(exc, file, field_name) from None


def revise(plan: Plan, *, seed: int | None = None, replications: int | None = None,
           horizon: Horizon | None = None, flows: Sequence[Flow] | None = None,
           reference_scenario: str | None = None, choice: Choice | None = None,
           section: MarketSection | None = None, equilibrium: Equilibrium | None = None
           ) -> Plan:
    """`plan` with new run settings or demand, each validated as a scenario file's would be.

    The one way to edit a Plan (run overrides, demand response, the horizon of feedback
    passes, a comparison's common horizon, the market section or its choice parameters as
    estimation moves them, a market reference settled with a plan's feedback settings): a
    value a scenario file may not hold raises an InputError naming the plan's file and the
    field.
    """
    changes: dict[str, Any] = {}
    for name, kind, value in (("seed", Seed, seed), ("replications", Replications,
                                                      replications)):
        if value is not None:
            try:
                changes[name] = TypeAdapter(kind).validate_python(value)
            except ValidationError as exc:
                raise _input_error(exc, plan.source_file, name) from None
    if horizon is not None:
        changes["horizon"] = _revalidate(horizon, {}, plan.source_file, "horizon")
    if equilibrium is not None:
        changes["equilibrium"] = _revalidate(equilibrium, {}, plan.source_file, "equilibrium")
    if reference_scenario is not None:
        if not Path(reference_scenario).is_file():
            raise InputError(plan.source_file, "demand.reference_scenario",
                             "an existing scenario file", reference_scenario)
        changes["reference_scenario"] = reference_scenario
    if flows is not None:
        changes["flows"] = tuple(_revalidate(f, {}, plan.source_file, f"demand.flows.{i}")
                                 for i, f in enumerate(flows))
    if choice is not None or section is not None:
        if plan.market is None:
            raise InputError(plan.source_file, "market", "a market section to revise")
        new = section or plan.market.section
        if choice is not None:
            new = new.model_copy(update={"choice": _revalidate(choice, {}, plan.source_file,
                                                               "market.choice")})
        changes["market"] = replace(plan.market, section=_revalidate(
            new, {}, plan.source_file, "market"))
    return replace(plan, **changes) if changes else plan


def with_horizon_days(plan: Plan, days: float) -> Plan:
    """`plan` simulated for `days`, keeping its warm-up when it leaves at least MIN_DAYS to
    measure (else none: a short look at a scenario measures from day 0)."""
    warmup = plan.horizon.warmup_days if days - plan.horizon.warmup_days >= MIN_DAYS else 0.0
    try:
        horizon = Horizon(days=days, warmup_days=warmup)
    except ValidationError as exc:
        raise _input_error(exc, plan.source_file, "horizon.days") from None
    return revise(plan, horizon=horizon)


def _revalidate_row(table: str, spec: BaseModel, updates: dict[str, Any], scenario: Scenario,
                    field_name: str) -> Any:
    """A component spec with `updates`, validated as the class of its (possibly new) kind."""
    try:
        return validate_spec(table, {**spec.model_dump(), **updates})
    except ValidationError as exc:
        raise _located(exc, scenario, field_name, updates) from None
    except ValueError as exc:  # the update names no known kind
        raise scenario.error(field_name, str(exc)) from None


def _revalidated(model: BaseModel, updates: dict[str, Any], scenario: Scenario,
                 field_name: str) -> Any:
    """`model` with `updates`, validated; errors located in the user's own file."""
    try:
        return type(model).model_validate({**model.model_dump(), **updates})
    except ValidationError as exc:
        raise _located(exc, scenario, field_name, updates) from None


def _located(exc: ValidationError, scenario: Scenario, field_name: str,
             updates: dict[str, Any] | None = None) -> InputError:
    """The first error of `exc` as an InputError at `field_name` of the user's own file;
    where the error is the whole model's (its input the whole row, which a `set` of lock_at
    quoted as "a mapping of 12 keys"), the one value of `updates` the user wrote is quoted."""
    errors = exc.errors()
    err = errors[0]
    if err["type"] == "missing":   # the change made a kind that needs more fields
        names = [str(e["loc"][-1]) for e in errors if e["type"] == "missing"]
        return scenario.error(field_name, "a value the row can take as it stands (with it, "
                              f"the row lacks the field{'s' if len(names) > 1 else ''} "
                              f"{', '.join(names)})")
    if err["type"] == "extra_forbidden":   # the change made a kind without fields the row has
        names = [str(e["loc"][-1]) for e in errors if e["type"] == "extra_forbidden"]
        return scenario.error(field_name, "a value the row can take as it stands (with it, "
                              f"the row keeps the field{'s' if len(names) > 1 else ''} "
                              f"{', '.join(names)}, which it cannot have then)",
                              next(iter(updates.values())) if updates and len(updates) == 1
                              else None)
    if not err.get("loc") and updates is not None and len(updates) == 1:
        return scenario.error(field_name, expected(err), next(iter(updates.values())))
    return scenario.error(field_name, expected(err), located(err, ())[1])


def _known(scenario: Scenario, dotted: str, what: str, ident: Any, table: Any) -> None:
    """Refuse an id that is not in `table`, offering the nearest one."""
    if ident not in table:
        raise scenario.error(dotted, f"a known {what} id" + did_you_mean(ident, table), ident)


def _of_its_kind(spec: BaseModel, field: str) -> str:
    """What a service's kind says of a field it lacks: " (a continuous service)", and where
    the field is another kind's capacity, the field that sets this one's (departures_per_week
    on a truck line: its capacity is capacity_teu_per_day)."""
    sort = getattr(spec, "schedule", None)   # a service's kind has its own fields
    if not isinstance(sort, str):
        return ""
    capacity = getattr(spec, "capacity_field", "")
    other = [k.values[0] for k in kinds("services")
             if getattr(k.spec, "capacity_field", "") == field and k.values]
    if capacity and other:
        return (f" (a {sort} service: {field} is a {other[0]} service's; this one's capacity "
                f"is {capacity})")
    return f" (a {sort} service)"


def _scaled(scenario: Scenario, where: str, ident: str, change: ScaleChange, old: Any) -> Any:
    """`old` x factor; a whole-number attribute is rounded, with a warning when that changes
    the value (3 positions x 1.5 = 4.5 -> 4). A field at 0 stays 0, with a warning: "halve
    Qinzhou's customs dwell" scaled a dwell of 0 h and validated, ran and compared as if it
    acted (trial66)."""
    if isinstance(old, bool) or not isinstance(old, (int, float)):
        raise scenario.error(f"{where}.field", "a numeric attribute to scale", change.field)
    if old == 0 and change.factor != 1:
        file, field = scenario.locate(where)
        warnings.warn(InputWarning(
            f"{file}: {field}: {change.field} of {ident} is 0, so a scale by "
            f"{change.factor:g} leaves it 0 and changes nothing (use a change of kind set "
            f"to give it a value)"), stacklevel=2)
        return old
    value: Any = old * change.factor
    if isinstance(old, int):
        rounded = max(1, round(value))
        if rounded != value:
            file, field = scenario.locate(where)
            warnings.warn(InputWarning(
                f"{file}: {field}: {change.field} of {ident} scaled to {old} x "
                f"{change.factor:g} = {value:g}, rounded to {rounded} (a whole number; use "
                f"a change of kind set to choose the value)"), stacklevel=2)
        value = rounded
    return value


def _scaled_row(scenario: Scenario, where: str, kind: str, ident: str, spec: Any,
                change: ScaleChange) -> Any:
    """`spec` with the change's field scaled, validated; a value out of its bound blames the
    factor (a scale change has no value) and says what it makes."""
    value = _scaled(scenario, where, ident, change, getattr(spec, change.field))
    try:
        return _revalidate_row(f"{kind}s", spec, {change.field: value}, scenario,
                               f"{where}.factor")
    except InputError as exc:
        raise scenario.error(f"{where}.factor", f"a factor that leaves {change.field} of "
                             f"{ident} {exc.expected} (it makes it {value:g})",
                             change.factor) from None


def _apply_changes(scenario: Scenario, tables: dict[str, dict[str, Any]], flows: list[Flow],
                   disruptions: dict[tuple[str, str], list[Window]],
                   outages: dict[tuple[str, str], list[RandomOutage]],
                   flow_at: list[str]) -> None:
    """Apply the scenario's changes to `tables` (hub, lock, link and service specs by id),
    `flows` (their places in `flow_at`), `disruptions` (fixed windows) and `outages` (random
    ones), in file order."""
    hubs, links, services = tables["hub"], tables["link"], tables["service"]
    for i, change in enumerate(scenario.changes):
        where = f"changes.{i}"
        if isinstance(change, (SetChange, ScaleChange, Disruption)):
            kind, ident = change.target
            _known(scenario, f"{where}.{kind}", kind, ident, tables[kind])
        if isinstance(change, (SetChange, ScaleChange)):
            table = tables[kind]
            spec = table[ident]
            if change.field not in type(spec).model_fields or change.field == "id":
                fields = [f for f in type(spec).model_fields if f != "id"]
                raise scenario.error(f"{where}.field", f"an attribute of {kind} {ident}" +
                                     _of_its_kind(spec, change.field) + (
                    did_you_mean(change.field, fields) or f": one of {', '.join(fields)}"),
                    change.field)
            _warn_inert_gauge_change(scenario, where, change, spec)
            table[ident] = (_revalidate_row(f"{kind}s", spec, {change.field: change.value},
                                            scenario, f"{where}.value")
                            if isinstance(change, SetChange) else
                            _scaled_row(scenario, where, kind, ident, spec, change))
        elif isinstance(change, Disruption):
            if change.random is not None:
                outages.setdefault((kind, ident), []).append(change.random)
            else:
                assert change.start_day is not None and change.end_day is not None
                assert change.capacity_factor is not None
                disruptions.setdefault((kind, ident), []).append(
                    (change.start_day * HOURS_PER_DAY, change.end_day * HOURS_PER_DAY,
                     change.capacity_factor))
        elif isinstance(change, AddHub):
            if change.hub.id in hubs:
                raise scenario.error(f"{where}.hub.id", "a new hub id", change.hub.id)
            hubs[change.hub.id] = change.hub
        elif isinstance(change, AddLink):
            if change.link.id in links:
                raise scenario.error(f"{where}.link.id", "a new link id", change.link.id)
            links[change.link.id] = change.link
        elif isinstance(change, (AddService, RemoveService)):
            _change_services(scenario, where, change, services)
        elif isinstance(change, AddFlow):
            _add_flow(scenario, where, change, flows, flow_at)
        elif isinstance(change, DemandGrowth):
            _grow(scenario, where, change, hubs, flows)


# fields a border's gauge change does not read once both directions have a capacity in
# trains a day (`BorderSpec.train_hours`)
_INERT_AT_CAPACITY = ("handling_servers", "handling_setup_hours", "handling_teu_per_hour")


def _warn_inert_gauge_change(scenario: Scenario, where: str, change: SetChange | ScaleChange,
                             spec: Any) -> None:
    """Warn about a change of a gauge-change border's positions, set-up or handling rate
    where both directions already have a published capacity in trains a day: a train then
    holds a position servers x 24 / trains a day hours, so such a change adds no capacity
    (more positions only hold each train longer); the trains a day are the fields that act.
    (A change made before the capacity was given, in a file the scenario extends, is
    superseded by it and not warned about.)"""
    if change.field in _INERT_AT_CAPACITY and isinstance(spec, BorderSpec) and \
            spec.trains_a_day:
        file, field = scenario.locate(where)
        what = ("only holds each train longer" if change.field == "handling_servers"
                else "has no effect")
        warnings.warn(InputWarning(
            f"{file}: {field}: {change.field} of {spec.id} {what}: its gauge change follows "
            f"outbound_trains_per_day and inbound_trains_per_day (a train holds a position "
            f"handling_servers x 24 / trains a day h); change those to change its capacity"),
            stacklevel=2)


def _change_services(scenario: Scenario, where: str, change: AddService | RemoveService,
                     services: dict[str, ServiceSpec]) -> None:
    if isinstance(change, AddService):
        if change.id in services:
            raise scenario.error(f"{where}.id", "a new service id (to change a service, use "
                                                "set or scale)", change.id)
        services[change.id] = change.service
    else:
        _known(scenario, f"{where}.service", "service", change.service, services)
        del services[change.service]
        if not services:
            raise scenario.error(where, "at least one service left running")


def _add_flow(scenario: Scenario, where: str, change: AddFlow, flows: list[Flow],
              flow_at: list[str]) -> None:
    new = change.flow
    for j, flow in enumerate(flows):
        if flow.row_key == new.row_key:
            raise scenario.error(f"{where}.flow", "an origin, destination and commodity not "
                                 f"yet in the table (it is {scenario.locate(flow_at[j])[1]}; "
                                 "use "
                                 "demand_growth to change it)",
                                 f"{new.origin} -> {new.destination} ({new.commodity})")
    if new.commodity not in scenario.demand.classes:
        raise scenario.error(f"{where}.flow.commodity", "a class of demand.classes" +
                             did_you_mean(new.commodity, scenario.demand.classes),
                             new.commodity)
    flows.append(new)
    flow_at.append(f"{where}.flow")


def _grow(scenario: Scenario, where: str, change: DemandGrowth, hubs: dict[str, HubSpec],
          flows: list[Flow]) -> None:
    markets = scenario.market.ends if scenario.market is not None else {}
    for key, what, table in (("origin", "hub", hubs), ("destination", "hub", hubs),
                             ("commodity", "class", scenario.demand.classes),
                             ("market", "market (of market.ends)", markets)):
        value = getattr(change, key)
        if value is not None:
            _known(scenario, f"{where}.{key}", what, value, table)
    matched = 0
    for j, flow in enumerate(flows):
        if all(getattr(change, k) in (None, getattr(flow, k))
               for k in ("origin", "destination", "commodity", "market")):
            teu = flow.teu_per_year * change.factor
            if teu > ABSURD:   # the factor is within its bound: name what it makes too large
                raise scenario.error(
                    f"{where}.factor", f"a factor that keeps each flow it grows within {ABSURD:g}"
                    f" TEU/yr ({flow.origin} -> {flow.destination} ({flow.commodity}), "
                    f"{flow.teu_per_year:.4g} TEU/yr as grown so far, would carry {teu:.4g})",
                    change.factor)
            flows[j] = _revalidated(flow, {"teu_per_year": teu}, scenario, f"{where}.factor")
            matched += 1
    if not matched:
        file, field_name = scenario.locate(where)
        warnings.warn(InputWarning(f"{file}: {field_name}: this demand_growth matches no flow "
                                   "and changes nothing"), stacklevel=2)


def _resolve_hops(scenario: Scenario, at: str, spec: ServiceSpec, stops: tuple[str, ...],
                  links: dict[str, LinkSpec]) -> tuple[Hop, ...]:
    """The links a service runs over between consecutive stops; `at` is where the service
    was defined (`network.services.<id>` or `changes.<i>.service`)."""
    hops = []
    for k, (a, b) in enumerate(pairwise(stops)):
        if spec.links is not None:
            if len(spec.links) != len(spec.stops) - 1:
                raise scenario.error(f"{at}.links", "one link id per pair of consecutive stops")
            lid = spec.links[k] if stops == spec.stops else spec.links[len(spec.links) - 1 - k]
            _known(scenario, f"{at}.links", "link", lid, links)
            candidates = [links[lid]]
            if {candidates[0].from_hub, candidates[0].to_hub} != {a, b}:
                raise scenario.error(f"{at}.links", f"a link between {a} and {b}", lid)
        else:
            candidates = [ln for ln in links.values()
                          if {ln.from_hub, ln.to_hub} == {a, b} and ln.mode == spec.mode]
        if not candidates:
            raise scenario.error(f"{at}.stops",
                                 f"a {spec.mode} link between {a} and {b} in the geodata")
        if len(candidates) > 1:
            raise scenario.error(f"{at}.links",
                                 f"link ids: several {spec.mode} links join {a} and {b}")
        link = candidates[0]
        forward = link.from_hub == a
        lock_at = None
        if link.lock is not None:
            at_fraction = 0.5 if link.lock_at is None else link.lock_at
            lock_at = at_fraction if forward else 1.0 - at_fraction
        hops.append(Hop(link=link, forward=forward, lock_at=lock_at))
    return tuple(hops)


def _check_constants(scenario: Scenario, section: MarketSection,
                     corridors: Collection[str]) -> None:
    """Every key of market.choice.asc names a gateway (`g`), a gateway and a market
    (`g@market`) or a gateway and a class (`g#class`): a misspelt key would add nothing."""
    gateways = set(section.gateways) or corridors
    for key in section.choice.asc:
        where = f"market.choice.asc.{key}"
        gateway, kind, other = key, "", ""
        for mark in ("#", "@"):
            if mark in key:
                gateway, kind, other = key.partition(mark)
                break
        if gateway not in gateways:
            raise scenario.error(where, "a gateway" + did_you_mean(gateway, gateways), key)
        if kind == "#" and other not in scenario.demand.classes:
            raise scenario.error(where, "<gateway>#<a class of demand.classes>"
                                 + did_you_mean(other, scenario.demand.classes), key)
        if kind == "@" and other not in section.ends:
            raise scenario.error(where, "<gateway>@<a market of market.ends>"
                                 + did_you_mean(other, section.ends), key)


VERTEX_AT_HUB_DEG = 0.01   # a link's end vertex this close to its hub (about 1 km) is at it


def _check_links(scenario: Scenario, hubs: dict[str, HubSpec], links: dict[str, LinkSpec],
                 locks: dict[str, LockSpec]) -> None:
    """Every link joins known hubs and names a known lock: checked before services are laid
    on the links, so an error names the link, not a service that cannot find it."""
    added = {c.link.id: i for i, c in enumerate(scenario.changes) if isinstance(c, AddLink)}
    geodata = "{}: {}".format(*scenario.locate("network.geodata"))
    for lid, link in links.items():
        # name the file that defined the link: a change in the scenario, or the geodata
        if lid in added:
            src, where = scenario.locate(f"changes.{added[lid]}.link")
            via = None
        else:
            src, where = str(Path(scenario.network.geodata) / LINKS_FILE), f"features[{lid}]"
            via = geodata
        for side, vertex in (("from_hub", link.coords[0]), ("to_hub", link.coords[-1])):
            hub_id = getattr(link, side)
            if hub_id not in hubs:
                raise InputError(src, f"{where}.{side}", "a known hub id" + did_you_mean(
                    hub_id, hubs), hub_id, via=via)
            hub = hubs[hub_id]
            if max(abs(vertex[0] - hub.lon), abs(vertex[1] - hub.lat)) > VERTEX_AT_HUB_DEG:
                end = "first" if side == "from_hub" else "last"
                raise InputError(src, f"{where}.coords", f"the {end} vertex at {side} "
                                 f"{hub_id} ({hub.lon:g}, {hub.lat:g}; [lon, lat], longitude "
                                 "first)", vertex, via=via)
        if link.lock is not None and link.lock not in locks:
            raise InputError(src, f"{where}.lock", "the id of a lock" + did_you_mean(
                link.lock, locks), link.lock, via=via)
        if link.lock is not None:
            lock = locks[link.lock]
            off = _off_line((lock.lon, lock.lat), link.coords)
            if off > LOCK_ON_LINK_DEG:
                raise InputError(src, f"{where}.lock", f"a lock on the link's line (lock "
                                 f"{link.lock} at {lock.lon:g}, {lock.lat:g} is {off:.2g} "
                                 "degrees from it)", link.lock, via=via)


LOCK_ON_LINK_DEG = 0.5   # a lock this far (about 50 km) from its link's line is misplaced


def _off_line(point: tuple[float, float], line: Sequence[tuple[float, float]]) -> float:
    """Distance in degrees (lon, lat as plane coordinates) from `point` to a polyline (a few
    lines here: shapely's import would add 0.14 s to every build of a scenario with a lock)."""
    px, py = point
    best = math.inf
    for (ax, ay), (bx, by) in pairwise(line):
        dx, dy = bx - ax, by - ay
        span = dx * dx + dy * dy
        t = 0.0 if span == 0 else min(1.0, max(0.0, ((px - ax) * dx + (py - ay) * dy) / span))
        best = min(best, math.hypot(px - (ax + t * dx), py - (ay + t * dy)))
    return best


def _check(scenario: Scenario, net: Network, flows: tuple[Flow, ...], flow_at: list[str],
           service_at: dict[str, str]) -> None:
    hubs = net.hubs
    for lock_id in net.locks.keys() & hubs.keys():
        raise scenario.error("network.geodata", "lock ids no hub has (a lock and a hub share "
                             f"{lock_id})", lock_id)
    for lock_id, operation in net.lock_traffic.items():
        where = f"network.locks.{lock_id}"
        lock = net.locks.get(lock_id)
        if lock is None:
            raise scenario.error(where, "the id of a lock" + did_you_mean(lock_id, net.locks),
                                 lock_id)
        for name, vessels in operation.classes.items():
            room = operation.lift.max_vessel_t if vessels.lift and operation.lift \
                else lock.chamber_t
            if vessels.vessel_t > room:
                raise scenario.error(f"{where}.classes.{name}.vessel_t",
                                     f"at most {room:g} t (what the chamber or lift takes)",
                                     vessels.vessel_t)
        flights = {flight for flight, _ in lock.flights()}
        for i, m in enumerate(operation.maintenance):
            if m.flight not in flights:
                raise scenario.error(f"{where}.maintenance.{i}.flight",
                                     f"one of {sorted(flights)}", m.flight)
    for hub_id, other in net.background.items():
        where = f"network.background.{hub_id}"
        hub = hubs.get(hub_id)
        if hub is None:
            raise scenario.error(where, "the id of a hub that handles freight" +
                                 did_you_mean(hub_id, hubs), hub_id)
        if other.direction != "both" and not isinstance(hub, BorderSpec):
            raise scenario.error(f"{where}.direction", "both (only borders are directional)",
                                 other.direction)
        through = isinstance(hub, BorderSpec) and hub.gauge_change  # trains pass whole
        if not through and other.batch_teu > hub.yard_teu:
            raise scenario.error(f"{where}.batch_teu",
                                 f"at most the yard of {hub_id} ({hub.yard_teu:g} TEU)",
                                 other.batch_teu)
    max_t = max(c.tonnes_per_teu for c in scenario.demand.classes.values())
    for line in net.lines:
        where = service_at[line.service]
        cap = line.spec.vehicle_capacity_teu
        for stop in line.stops[1:]:
            if hubs[stop].yard_teu < cap:
                raise scenario.error(f"{where}.vehicle_teu", f"at most the yard of {stop} "
                                     f"({hubs[stop].yard_teu:g} TEU)", cap)
        for hop in line.hops:
            if hop.link.lock is not None:
                chamber = net.locks[hop.link.lock].chamber_t
                if cap * max_t > chamber:
                    raise scenario.error(f"{where}.vehicle_teu",
                                         f"a loaded vessel ({max_t:g} t/TEU) that fits the "
                                         f"{chamber:g} t lock chamber", cap)
    freight_hubs = list(hubs)
    for i, flow in enumerate(flows):
        if flow.gateway and scenario.market is None:
            raise scenario.error(f"{flow_at[i]}.gateway", "no gateway: the scenario has no "
                                 "market section (its routes would not be bound)", flow.gateway)
        for end in ("origin", "destination"):
            hub_id = getattr(flow, end)
            if hub_id not in hubs:
                raise scenario.error(_hub_field(scenario, flow_at[i], end, hub_id, flow),
                                     "a known hub id" + did_you_mean(hub_id, hubs), hub_id)
            own = scenario.demand.classes.get(flow.commodity)
            lot, field_name = ((own.lot_teu, f"demand.classes.{flow.commodity}.lot_teu")
                               if own is not None and own.lot_teu is not None
                               else (scenario.demand.lot_teu, "demand.lot_teu"))
            if hubs[hub_id].yard_teu < lot:
                raise scenario.error(field_name, f"at most the yard of {hub_id} "
                                     f"({hubs[hub_id].yard_teu:g} TEU)", lot)
    if scenario.market is not None:
        _check_constants(scenario, scenario.market, {
            s.corridor for s in net.services.values()} - {"feeder"})
        for name, gateway in scenario.market.gateways.items():
            for key in ("via", "home"):   # a typo left the gateway no route
                for j, hub_id in enumerate(getattr(gateway, key)):
                    _known(scenario, f"market.gateways.{name}.{key}.{j}", "hub", hub_id, hubs)
    for i, hub_id in enumerate(scenario.trade.excluded_hubs):
        _known(scenario, f"trade.excluded_hubs.{i}", "hub", hub_id, freight_hubs)
    for hid, other in scenario.network.background.items():
        if other.hub not in ("", hid):  # the build fills it in from the key; another is a slip
            raise scenario.error(f"network.background.{hid}.hub",
                                 f"nothing, or the key it is under ({hid})", other.hub)


def _hub_field(scenario: Scenario, at: str, end: str, hub_id: str, flow: Flow) -> str:
    """Where the user wrote a flow's end hub: a row's own field, for a flow of the market
    table the market section's `origin` or `ends.<market>` it came from, and for an empties
    lane's flow the lane's `china` or `abroad` entry (not a flow field the file lacks)."""
    section = scenario.market
    if at == "market.table" and section is not None:
        if hub_id == section.origin:
            return "market.origin"
        if flow.market is not None and section.ends.get(flow.market) == hub_id:
            return f"market.ends.{flow.market}"
    if at == "market.empties" and section is not None and section.empties is not None:
        for i, lane in enumerate(section.empties.lanes):
            if lane.china == hub_id:
                return f"market.empties.lanes.{i}.china"
            if hub_id in lane.abroad:
                return f"market.empties.lanes.{i}.abroad.{lane.abroad.index(hub_id)}"
    return f"{at}.{end}"


def _check_market_names(scenario: Scenario, rows: Sequence[MarketRow]) -> None:
    """What the market section names exists: the empty box's class (one of value 0), the
    classes not simulated, a row of the table for every market of `ends`; and no residual
    trade beside it (`trade.other_trade_bn_cny` is for networks without a market table)."""
    section = scenario.market
    assert section is not None
    classes = scenario.demand.classes
    known = f"a class of demand.classes ({', '.join(classes)})"
    empties = section.empties
    if empties is not None:
        box = classes.get(empties.commodity)
        if box is None or box.value_cny_per_teu != 0:
            raise scenario.error("market.empties.commodity", f"{known} of value 0 (an empty "
                                 "box carries no goods)", empties.commodity)
    for name in section.not_simulated:
        if name not in classes:
            raise scenario.error(f"market.not_simulated.{name}", known, name)
    if scenario.trade.other_trade_bn_cny != 0:
        raise scenario.error("trade.other_trade_bn_cny", "0 with a market section (the market "
                             "table is the whole of the goods trade; goods it does not carry "
                             "are a class in market.not_simulated)",
                             scenario.trade.other_trade_bn_cny)
    traded = {row.market for row in rows}
    for market in section.ends:
        if market not in traded:
            raise scenario.error(f"market.ends.{market}", "a market with rows in the market "
                                 f"table {Path(section.table).name}", market)


def build(scenario: Scenario, *, blame: bool = True) -> Plan:
    """Resolve a validated scenario into a `Plan`, or raise InputError naming the field.

    The network is checked once every change is applied, so a check that fails there names
    what it reads (a base file's service, the geodata); when the scenario builds without its
    changes, the error is blamed on the first change after which it no longer builds
    (`blame=False`: not, for a caller that names the changes it appended itself)."""
    try:
        return _build(scenario)
    except InputError as exc:
        if not blame or not scenario.changes or exc.after or exc.field.startswith("changes."):
            raise
        raise _blamed(scenario, exc) from None


def _blamed(scenario: Scenario, exc: InputError) -> InputError:
    """`exc` blamed on the first change of `scenario` that breaks the build (unchanged when
    the scenario fails without its changes too)."""
    def fails(k: int) -> bool:
        try:
            _build(scenario.model_copy(update={"changes": scenario.changes[:k]}))
        except InputError:
            return True
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the partial builds warn again about the same input
        if fails(0):
            return exc
        for k in range(1, len(scenario.changes) + 1):
            if fails(k):
                file, where = scenario.locate(f"changes.{k - 1}")
                return exc.caused_by(f"{file}: {where}")
    return exc


# what a flow no service joins was expected to be: raised by `sim.routing` when a flow's
# routes are searched, read by `blame_unjoined`
UNJOINED = "an origin-destination pair joined by services"


def blame_unjoined(scenario: Scenario, exc: InputError) -> InputError:
    """`exc`, a flow no service joins (`UNJOINED`, raised when its routes are searched in
    `sim.routing`, after `build`), blamed on the first `remove_service` change of `scenario`
    without which its origin and destination would share services (stops joined through
    services' common stops): the flow was blamed, not the removal that cut it (trial64 #9).
    Unchanged when no removal joins them so. A check of the stops alone, not a search of
    routes: cheap, on the error's path only."""
    if exc.expected != UNJOINED or exc.after or not isinstance(exc.got, str) \
            or " -> " not in exc.got:
        return exc
    origin, _, destination = exc.got.partition(" -> ")
    services: dict[str, Sequence[str]] = {k: v.stops for k, v in
                                          scenario.network.services.items()}
    removed: list[tuple[int, Sequence[str]]] = []
    for i, change in enumerate(scenario.changes):
        if isinstance(change, AddService):
            services[change.id] = change.service.stops
        elif isinstance(change, RemoveService) and change.service in services:
            removed.append((i, services.pop(change.service)))

    def joined(lines: Iterable[Sequence[str]]) -> bool:
        parent: dict[str, str] = {}

        def root(hub: str) -> str:
            while parent.setdefault(hub, hub) != hub:
                hub = parent[hub]
            return hub
        for stops in lines:
            for a, b in pairwise(stops):
                parent[root(a)] = root(b)
        return root(origin) == root(destination)

    if joined(services.values()):
        return exc
    for i, stops in removed:
        if joined([*services.values(), stops]):
            file, where = scenario.locate(f"changes.{i}")
            return exc.caused_by(f"{file}: {where}")
    return exc


def _build(scenario: Scenario) -> Plan:
    """`build` without blaming a change."""
    folder = Path(scenario.network.geodata)
    if not folder.is_dir():
        raise scenario.error("network.geodata", "an existing directory",
                             scenario.network.geodata)
    ref = scenario.locate("network.geodata")
    hubs = read_hubs(folder, ref)
    locks = read_locks(folder, ref)
    links = read_links(folder, ref)
    services = dict(scenario.network.services)
    service_at = {sid: f"network.services.{sid}" for sid in services}
    service_at.update({c.id: f"changes.{i}.service" for i, c in enumerate(scenario.changes)
                       if isinstance(c, AddService)})
    flows = list(scenario.demand.flows)
    flow_at = [f"demand.flows.{i}" for i in range(len(flows))]
    market = None
    if scenario.market is not None:
        rows = read_market_table(scenario.market, scenario.demand.classes,
                                 scenario.source_file)
        added = market_flows(scenario.market, rows, scenario.demand.classes)
        flows += added
        flow_at += ["market.table"] * len(added)
        _check_market_names(scenario, rows)
        added = empty_flows(scenario.market)
        flows += added
        flow_at += ["market.empties"] * len(added)
        market = MarketPlan(section=scenario.market, rows=rows,
                            unsimulated_bn=unsimulated_bn(scenario.market, rows))
    disruptions: dict[tuple[str, str], list[Window]] = {}
    outages: dict[tuple[str, str], list[RandomOutage]] = {}
    _apply_changes(scenario, {"hub": hubs, "lock": locks, "link": links, "service": services},
                   flows, disruptions, outages, flow_at)
    _check_links(scenario, hubs, links, locks)

    lines: list[Line] = []
    for sid, spec in services.items():
        for stop in spec.stops:
            if stop not in hubs:
                what = "hub ids (a lock is passed on a link, not called at)" \
                    if stop in locks else "a known hub id" + did_you_mean(stop, hubs)
                raise scenario.error(f"{service_at[sid]}.stops", what, stop)
        directions = [(sid, spec.stops)]
        if spec.bidirectional:
            directions.append((f"{sid}:back", tuple(reversed(spec.stops))))
        for lid, stops in directions:
            hops = _resolve_hops(scenario, service_at[sid], spec, stops, links)
            lines.append(Line(id=lid, service=sid, spec=spec, stops=stops, hops=hops))

    net = Network(hubs=hubs, links=links, lines=tuple(lines),
                  lock_traffic=dict(scenario.network.locks),
                  emission_factors={str(mode): ef for mode, ef in
                                    scenario.network.emission_factors.items()},
                  disruptions={k: tuple(v) for k, v in disruptions.items()},
                  outages={k: tuple(v) for k, v in outages.items()},
                  locks=locks, services=services,
                  background={hid: spec.model_copy(update={"hub": hid})
                              for hid, spec in scenario.network.background.items()})
    for mode in sorted({ln.mode for ln in links.values()}):   # the first missing, every run
        if mode not in net.emission_factors:
            raise scenario.error(f"network.emission_factors.{mode}",
                                 "an emission factor for every mode in the geodata")
    _check(scenario, net, tuple(flows), flow_at, service_at)
    return Plan(
        name=scenario.name, source_file=scenario.source_file, geodata=str(folder), network=net,
        classes=dict(scenario.demand.classes), flows=tuple(flows),
        lot_teu=scenario.demand.lot_teu,
        seasonality=relative_season(tuple(scenario.demand.seasonality)),
        horizon=scenario.horizon, seed=scenario.seed, replications=scenario.replications,
        routing=scenario.routing, variability=scenario.variability,
        elasticity=scenario.demand.elasticity,
        reference_scenario=scenario.demand.reference_scenario,
        trade=scenario.trade, equilibrium=scenario.equilibrium, market=market,
        flow_sources=tuple(scenario.locate(at) for at in flow_at), origin=origin_of(scenario, hubs),
    )
