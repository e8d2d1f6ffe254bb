"""Build step: scenario + geodata + changes -> one resolved, checked `Network` and `Plan`.

Input goes normalize -> validate -> build. Everything here is immutable; the engine turns a
`Plan` into runtime objects for one replication.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from sim.components import validate_spec
from sim.errors import InputError
from sim.geodata import LINKS_FILE, read_hubs, read_links, read_locks
from sim.outages import outage_windows
from sim.scenario import (
    AddHub,
    AddLink,
    DemandGrowth,
    Disruption,
    Equilibrium,
    Horizon,
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
    ServiceSpec,
)
from sim.units import HOURS_PER_DAY

Window = tuple[float, float, float]  # (start h, end h, capacity factor)
DIRECTIONS = ("down", "up")   # down: from a link's first vertex to its last


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


def _input_error(exc: ValidationError, file: str, field_name: str) -> InputError:
    err = exc.errors()[0]
    return InputError(file, field_name, err["msg"].removeprefix("Value error, "),
                      err.get("input") if err["type"] != "missing" else None)


def _revalidate(model: BaseModel, updates: dict[str, Any], file: str, field_name: str) -> Any:
    try:
        return type(model).model_validate({**model.model_dump(), **updates})
    except ValidationError as exc:
        raise _input_error(exc, file, field_name) from None


def revise(plan: Plan, *, seed: int | None = None, replications: int | None = None,
           horizon: Horizon | None = None, flows: Sequence[Flow] | None = None,
           reference_scenario: str | None = None) -> Plan:
    """`plan` with new run settings or demand, each validated as a scenario file's would be.

    The one way to edit a Plan (run overrides, demand response, the horizon of feedback
    passes, a comparison's common horizon): a value a scenario file may not hold raises an
    InputError naming the plan's file and the field.
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
    if reference_scenario is not None:
        if not Path(reference_scenario).is_file():
            raise InputError(plan.source_file, "demand.reference_scenario",
                             "an existing scenario file", reference_scenario)
        changes["reference_scenario"] = reference_scenario
    if flows is not None:
        changes["flows"] = tuple(_revalidate(f, {}, plan.source_file, f"demand.flows.{i}")
                                 for i, f in enumerate(flows))
    return replace(plan, **changes) if changes else plan


def with_horizon_days(plan: Plan, days: float) -> Plan:
    """`plan` simulated for `days`, keeping its warm-up when it is shorter than that."""
    warmup = plan.horizon.warmup_days if plan.horizon.warmup_days < days else 0.0
    try:
        horizon = Horizon(days=days, warmup_days=warmup)
    except ValidationError as exc:
        raise _input_error(exc, plan.source_file, "horizon.days") from None
    return revise(plan, horizon=horizon)


def _revalidate_row(table: str, spec: BaseModel, updates: dict[str, Any], file: str,
                    field_name: str) -> Any:
    """A component spec with `updates`, validated as the class of its (possibly new) kind."""
    try:
        return validate_spec(table, {**spec.model_dump(), **updates})
    except ValidationError as exc:
        raise _input_error(exc, file, field_name) from None
    except ValueError as exc:  # the update names no known kind
        raise InputError(file, field_name, str(exc)) from None


def _apply_changes(scenario: Scenario, tables: dict[str, dict[str, Any]], flows: list[Flow],
                   disruptions: dict[tuple[str, str], list[Window]],
                   outages: dict[tuple[str, str], list[RandomOutage]]) -> None:
    """Apply the scenario's changes to `tables` (hub, lock, link and service specs by id),
    `flows`, `disruptions` (fixed windows) and `outages` (random ones), in file order."""
    file = scenario.source_file
    hubs, links = tables["hub"], tables["link"]
    for i, change in enumerate(scenario.changes):
        where = f"changes.{i}"
        if isinstance(change, (SetChange, ScaleChange, Disruption)):
            kind, ident = change.target
            if ident not in tables[kind]:
                raise InputError(file, f"{where}.{kind}", f"a known {kind} id", ident)
        if isinstance(change, (SetChange, ScaleChange)):
            table = tables[kind]
            spec = table[ident]
            if change.field not in type(spec).model_fields or change.field == "id":
                raise InputError(file, f"{where}.field", f"a {kind} attribute", change.field)
            if isinstance(change, ScaleChange):
                old = getattr(spec, change.field)
                if isinstance(old, bool) or not isinstance(old, (int, float)):
                    raise InputError(file, f"{where}.field", "a numeric attribute to scale",
                                     change.field)
                value: Any = old * change.factor
                if isinstance(old, int):
                    value = max(1, round(value))
            else:
                value = change.value
            table[ident] = _revalidate_row(f"{kind}s", spec, {change.field: value}, file,
                                           f"{where}.value")
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
                raise InputError(file, f"{where}.hub.id", "a new hub id", change.hub.id)
            hubs[change.hub.id] = change.hub
        elif isinstance(change, AddLink):
            if change.link.id in links:
                raise InputError(file, f"{where}.link.id", "a new link id", change.link.id)
            links[change.link.id] = change.link
        elif isinstance(change, DemandGrowth):
            for j, flow in enumerate(flows):
                if all(getattr(change, k) in (None, getattr(flow, k))
                       for k in ("origin", "destination", "commodity")):
                    flows[j] = _revalidate(flow, {"teu_per_year": flow.teu_per_year
                                                  * change.factor}, file, f"{where}.factor")


def _apply_growth(scenario: Scenario, hubs: dict[str, Any], flows: list[Flow]) -> None:
    """Multiply the TEU of each market's flows (origin or destination among its hubs) by the
    market's growth factor."""
    file = scenario.source_file
    market_of: dict[str, str] = {}
    for market, spec in scenario.growth.items():
        for hub in spec.hubs:
            if hub not in hubs:
                raise InputError(file, f"growth.{market}.hubs", "known hub ids", hub)
            market_of[hub] = market
    for j, flow in enumerate(flows):
        found = market_of.get(flow.origin) or market_of.get(flow.destination)
        if found is None:
            continue
        market, factor = found, scenario.growth[found].factor
        if factor != 1.0:
            flows[j] = _revalidate(flow, {"teu_per_year": flow.teu_per_year * factor}, file,
                                   f"growth.{market}.factor")


def _resolve_hops(sid: str, spec: ServiceSpec, stops: tuple[str, ...],
                  links: dict[str, LinkSpec], file: str) -> tuple[Hop, ...]:
    hops = []
    for k, (a, b) in enumerate(pairwise(stops)):
        if spec.links is not None:
            if len(spec.links) != len(spec.stops) - 1:
                raise InputError(file, f"network.services.{sid}.links",
                                 "one link id per pair of consecutive stops")
            lid = spec.links[k] if stops == spec.stops else spec.links[len(spec.links) - 1 - k]
            if lid not in links:
                raise InputError(file, f"network.services.{sid}.links", "known link ids", lid)
            candidates = [links[lid]]
            if {candidates[0].from_hub, candidates[0].to_hub} != {a, b}:
                raise InputError(file, f"network.services.{sid}.links",
                                 f"a link between {a} and {b}", lid)
        else:
            candidates = [ln for ln in links.values()
                          if {ln.from_hub, ln.to_hub} == {a, b} and ln.mode == spec.mode]
        if not candidates:
            raise InputError(file, f"network.services.{sid}.stops",
                             f"a {spec.mode} link between {a} and {b} in the geodata")
        if len(candidates) > 1:
            raise InputError(file, f"network.services.{sid}.links",
                             f"link ids: several {spec.mode} links join {a} and {b}")
        link = candidates[0]
        forward = link.from_hub == a
        lock_at = None
        if link.lock is not None:
            at = 0.5 if link.lock_at is None else link.lock_at
            lock_at = at if forward else 1.0 - at
        hops.append(Hop(link=link, forward=forward, lock_at=lock_at))
    return tuple(hops)


def _check(scenario: Scenario, net: Network, flows: tuple[Flow, ...]) -> None:
    file = scenario.source_file
    hubs = net.hubs
    added = {c.link.id: i for i, c in enumerate(scenario.changes) if isinstance(c, AddLink)}
    for lid, link in net.links.items():
        # name the file that defined the link: a change in the scenario, or the geodata
        if lid in added:
            src, where = file, f"changes.{added[lid]}.link"
        else:
            src, where = str(Path(scenario.network.geodata) / LINKS_FILE), f"features[{lid}]"
        for side in ("from_hub", "to_hub"):
            if getattr(link, side) not in hubs:
                raise InputError(src, f"{where}.{side}", "a known hub id", getattr(link, side))
        if link.lock is not None and link.lock not in net.locks:
            raise InputError(src, f"{where}.lock", "the id of a lock", link.lock)
    for lock_id in net.locks.keys() & hubs.keys():
        raise InputError(scenario.network.geodata, f"locks[{lock_id}].id",
                         "an id no hub has (a lock and a hub share it)", lock_id)
    for lock_id, operation in net.lock_traffic.items():
        where = f"network.locks.{lock_id}"
        lock = net.locks.get(lock_id)
        if lock is None:
            raise InputError(file, where, "the id of a lock", lock_id)
        for name, vessels in operation.classes.items():
            room = operation.lift.max_vessel_t if vessels.lift and operation.lift \
                else lock.chamber_t
            if vessels.vessel_t > room:
                raise InputError(file, f"{where}.classes.{name}.vessel_t",
                                 f"at most {room:g} t (what the chamber or lift takes)",
                                 vessels.vessel_t)
        flights = {flight for flight, _ in lock.flights()}
        for i, m in enumerate(operation.maintenance):
            if m.flight not in flights:
                raise InputError(file, f"{where}.maintenance.{i}.flight",
                                 f"one of {sorted(flights)}", m.flight)
    for hub_id, other in net.background.items():
        where = f"network.background.{hub_id}"
        hub = hubs.get(hub_id)
        if hub is None:
            raise InputError(file, where, "the id of a hub that handles freight", hub_id)
        if other.direction != "both" and not isinstance(hub, BorderSpec):
            raise InputError(file, f"{where}.direction", "both (only borders are directional)",
                             other.direction)
        through = isinstance(hub, BorderSpec) and hub.gauge_change  # trains pass whole
        if not through and other.batch_teu > hub.yard_teu:
            raise InputError(file, f"{where}.batch_teu",
                             f"at most the yard of {hub_id} ({hub.yard_teu:g} TEU)",
                             other.batch_teu)
    max_t = max(c.tonnes_per_teu for c in scenario.demand.classes.values())
    for line in net.lines:
        where = f"network.services.{line.service}"
        cap = line.spec.vehicle_capacity_teu
        for stop in line.stops[1:]:
            if hubs[stop].yard_teu < cap:
                raise InputError(file, f"{where}.vehicle_teu",
                                 f"at most the yard of {stop} ({hubs[stop].yard_teu:g} TEU)", cap)
        for hop in line.hops:
            if hop.link.lock is not None:
                chamber = net.locks[hop.link.lock].chamber_t
                if cap * max_t > chamber:
                    raise InputError(file, f"{where}.vehicle_teu",
                                     f"a loaded vessel ({max_t:g} t/TEU) that fits the "
                                     f"{chamber:g} t lock chamber", cap)
    for i, flow in enumerate(flows):
        for end in ("origin", "destination"):
            hub_id = getattr(flow, end)
            if hub_id not in hubs:
                raise InputError(file, f"demand.flows.{i}.{end}", "a known hub id", hub_id)
            if hubs[hub_id].yard_teu < scenario.demand.lot_teu:
                raise InputError(file, "demand.lot_teu",
                                 f"at most the yard of {hub_id} ({hubs[hub_id].yard_teu:g} TEU)",
                                 scenario.demand.lot_teu)


def build(scenario: Scenario) -> Plan:
    """Resolve a validated scenario into a `Plan`, or raise InputError naming the field."""
    folder = Path(scenario.network.geodata)
    if not folder.is_dir():
        raise InputError(scenario.source_file, "network.geodata", "an existing directory",
                         scenario.network.geodata)
    hubs = read_hubs(folder)
    locks = read_locks(folder)
    links = read_links(folder)
    services = dict(scenario.network.services)
    flows = list(scenario.demand.flows)
    disruptions: dict[tuple[str, str], list[Window]] = {}
    outages: dict[tuple[str, str], list[RandomOutage]] = {}
    _apply_changes(scenario, {"hub": hubs, "lock": locks, "link": links, "service": services},
                   flows, disruptions, outages)
    _apply_growth(scenario, hubs, flows)

    file = scenario.source_file
    lines: list[Line] = []
    for sid, spec in services.items():
        for stop in spec.stops:
            if stop not in hubs:
                what = "hub ids (a lock is passed on a link, not called at)" \
                    if stop in locks else "known hub ids"
                raise InputError(file, f"network.services.{sid}.stops", what, stop)
        directions = [(sid, spec.stops)]
        if spec.bidirectional:
            directions.append((f"{sid}:back", tuple(reversed(spec.stops))))
        for lid, stops in directions:
            hops = _resolve_hops(sid, spec, stops, links, file)
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
    for mode in {ln.mode for ln in links.values()}:
        if mode not in net.emission_factors:
            raise InputError(file, f"network.emission_factors.{mode}",
                             "an emission factor for every mode in the geodata")
    _check(scenario, net, tuple(flows))
    seasonality = scenario.demand.seasonality
    mean = sum(seasonality) / len(seasonality)
    return Plan(
        name=scenario.name, source_file=file, geodata=str(folder), network=net,
        classes=dict(scenario.demand.classes), flows=tuple(flows),
        lot_teu=scenario.demand.lot_teu,
        seasonality=tuple(s / mean for s in seasonality),
        horizon=scenario.horizon, seed=scenario.seed, replications=scenario.replications,
        routing=scenario.routing, variability=scenario.variability,
        elasticity=scenario.demand.elasticity,
        reference_scenario=scenario.demand.reference_scenario,
        trade=scenario.trade, equilibrium=scenario.equilibrium,
    )
