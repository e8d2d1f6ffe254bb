"""Scenario files: YAML in, a validated, immutable `Scenario` out (normalize -> validate).

A scenario names the network (geodata plus the services run on it), demand, horizon, seed,
replications and a list of changes. `extends: other.yaml` merges this file over another:
mappings merge key by key, lists are replaced, except `changes`, which are appended to the
base's. Relative paths (`extends`, `network.geodata`) are relative to the file naming them.
"""

from __future__ import annotations

import copy
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, PlainValidator, SerializeAsAny, ValidationError, model_validator

from sim.components import validate_spec
from sim.errors import InputError
from sim.specs import (
    BackgroundTraffic,
    CommodityClass,
    EmissionFactor,
    Flow,
    HubSpec,
    LinkSpec,
    LockOperation,
    Mode,
    RandomOutage,
    ServiceSpec,
    Spec,
)
from sim.uncertain import DIST_TAGS, Distribution, FromCalibration, UncertainInput, lookup

MAX_ALIASES = 200  # YAML aliases allowed in one file: enough for reuse, too few for a bomb
MAX_EXPANDED = 100_000  # nodes those aliases may expand to (a real scenario has ~1,000)
MAX_FILE_BYTES = 5_000_000

# A spec of any registered kind of a table, validated as the class of its kind
AnyHub = Annotated[SerializeAsAny[HubSpec], PlainValidator(partial(validate_spec, "hubs"))]
AnyService = Annotated[SerializeAsAny[ServiceSpec],
                       PlainValidator(partial(validate_spec, "services"))]

# Run settings, constrained once: a scenario file and a run override obey the same bounds.
Seed = Annotated[int, Field(ge=0, le=2**63 - 1)]
Replications = Annotated[int, Field(ge=1, le=10_000)]


class Horizon(Spec):
    """Simulated period; statistics count from the end of the warm-up."""

    days: float = Field(gt=0, le=36_600, description="simulated days")
    warmup_days: float = Field(0.0, ge=0, description="days discarded from statistics")

    @model_validator(mode="after")
    def _warmup_inside(self) -> Horizon:
        if self.warmup_days >= self.days:
            raise ValueError("warmup_days must be shorter than days")
        return self


class Routing(Spec):
    """Route choice: k candidate routes per origin-destination-class, chosen by logit."""

    k_routes: int = Field(4, ge=1, le=20, description="candidate routes per OD and class")
    logit_scale: float = Field(6.0, ge=0, le=1e3,
                               description="sensitivity to relative generalized cost")
    max_cost_ratio: float = Field(3.0, ge=1, le=100,
                                  description="drop routes costing more than this x the best")
    congestion_aware: bool = Field(True, description="choice sees current queues")
    refresh_hours: float = Field(
        2.0, ge=0, le=8760,
        description="how often (h) the queues seen by route choice are re-read: shippers "
                    "book on a picture that is hours old, and re-reading it per lot is the "
                    "costliest step of a run")
    max_excess_wait_hours: float = Field(
        168.0, gt=0, le=1e5,
        description="a route whose queues would delay a lot longer than this is not offered "
                    "(bookings refused), unless every route is that congested")
    transfer_cost_cny: float = Field(
        1000.0, ge=0, le=1e7,
        description="CNY/TEU charged per change of service (terminal handling at transfer)")


class Variability(Spec):
    """Coefficients of variation of the random times (gamma distributed)."""

    dwell_cv: float = Field(0.3, ge=0, le=5)
    running_time_cv: float = Field(0.05, ge=0, le=5)


class Demand(Spec):
    """Origin-destination table of annual TEU by class, with value per TEU and seasonality."""

    lot_teu: float = Field(gt=0, le=10_000, description="TEU per lot (consignment batch)")
    seasonality: tuple[float, ...] = Field(
        (1.0,) * 12, min_length=12, max_length=12,
        description="monthly demand factors, January first (normalised to mean 1)")
    classes: dict[str, CommodityClass] = Field(min_length=1)
    flows: tuple[Flow, ...] = Field(min_length=1)
    elasticity: float = Field(
        -0.8, ge=-5, le=0,
        description="elasticity of each flow's TEU to the generalized cost (logsum over its "
                    "routes) of reaching its market, relative to the reference network: "
                    "TEU = base TEU x (GC / GC_reference)^elasticity. Default -0.8: reasoning "
                    "in docs/modelling.md (distance elasticity of trade about -0.9 in the "
                    "meta-analysis of Disdier and Head 2008, REStat 90(1); freight cost is a "
                    "part of the trade cost that distance stands for). 0 = fixed demand")
    reference_scenario: str | None = Field(
        None, description="scenario file whose uncongested network gives GC_reference (the "
                          "network on which the base TEU were observed), relative to the file "
                          "naming it; none = this scenario's own network")

    @model_validator(mode="after")
    def _consistent(self) -> Demand:
        if any(s < 0 for s in self.seasonality) or sum(self.seasonality) <= 0:
            raise ValueError("seasonality factors must be >= 0 with a positive sum")
        for i, flow in enumerate(self.flows):
            if flow.commodity not in self.classes:
                raise ValueError(f"flows.{i}.commodity: unknown class {flow.commodity!r}")
        return self


class Trade(Spec):
    """Goods trade outside the simulated channels, added to their freight value."""

    other_trade_bn_cny: float = Field(
        0.0, ge=-1e5, le=1e5,
        description="bn CNY/yr of goods trade the simulated channels do not carry (pipelines, "
                    "trucks to coastal ports, unmodelled services), net of channel freight "
                    "that is not the city's customs trade; held fixed across scenarios")
    excluded_hubs: tuple[str, ...] = Field(
        (), description="flows from or to these hubs are carried but are not the city's trade "
                        "(e.g. Chengdu's boxes on the shared Express)")
    source: str = Field("", description="where other_trade_bn_cny comes from")


class Equilibrium(Spec):
    """Method of successive averages between simulated delays, route choice and demand."""

    max_iterations: int = Field(
        1, ge=1, le=50,
        description="simulation passes that feed observed route delays back into choice and "
                    "demand before the final run; 1 = no feedback")
    tolerance: float = Field(0.02, gt=0, le=1,
                             description="stop when route flows change by less than this "
                                         "share between passes")
    days: float | None = Field(None, gt=0, le=36_600,
                               description="horizon of the feedback passes (default: the "
                                           "scenario's horizon)")


class NetworkSection(Spec):
    """Geodata directory plus the services, lock and background traffic and emission factors
    on it."""

    geodata: str = Field(description="directory with hubs.geojson and links.geojson")
    services: dict[str, AnyService] = Field(min_length=1)
    locks: dict[str, LockOperation] = Field(default_factory=dict)
    background: dict[str, BackgroundTraffic] = Field(
        default_factory=dict, description="other traffic at hubs, by hub id")
    emission_factors: dict[Mode, EmissionFactor]


TARGETS = ("service", "hub", "lock", "link")   # what a change names: a row of that table


class _Targeted(Spec):
    """A change aimed at exactly one service, hub, lock or link."""

    service: str | None = None
    hub: str | None = None
    lock: str | None = None
    link: str | None = None
    why: str = ""

    @model_validator(mode="after")
    def _one_target(self) -> _Targeted:
        if sum(getattr(self, t) is not None for t in TARGETS) != 1:
            raise ValueError("name exactly one of service, hub, lock or link")
        return self

    @property
    def target(self) -> tuple[str, str]:
        """(kind, id) of the component changed."""
        for kind in TARGETS:
            value = getattr(self, kind)
            if value is not None:
                return kind, value
        raise AssertionError("unreachable: validated above")


class SetChange(_Targeted):
    kind: Literal["set"]
    field: str
    value: float | bool | str


class ScaleChange(_Targeted):
    kind: Literal["scale"]
    field: str
    factor: float = Field(gt=0, le=1e4)


class Disruption(_Targeted):
    """Reduced capacity (0 = closed) on a hub, lock, link or service: a fixed window of days
    (`start_day`, `end_day`, `capacity_factor`) or random events (`random`: events a year
    in given months, lognormal durations, drawn per replication from a named stream)."""

    kind: Literal["disruption"]
    start_day: float | None = Field(None, ge=0)
    end_day: float | None = Field(None, gt=0)
    capacity_factor: float | None = Field(None, ge=0, le=1)
    random: RandomOutage | None = None

    @model_validator(mode="after")
    def _window(self) -> Disruption:
        fixed = (self.start_day, self.end_day, self.capacity_factor)
        if self.random is not None:
            if any(v is not None for v in fixed):
                raise ValueError("give either start_day, end_day and capacity_factor, or "
                                 "random, not both")
            return self
        if any(v is None for v in fixed):
            raise ValueError("a fixed window needs start_day, end_day and capacity_factor "
                             "(or give random)")
        assert self.start_day is not None and self.end_day is not None
        if self.end_day <= self.start_day:
            raise ValueError("end_day must be after start_day")
        return self


class AddHub(Spec):
    kind: Literal["add_hub"]
    hub: AnyHub
    why: str = ""


class AddLink(Spec):
    kind: Literal["add_link"]
    link: LinkSpec
    why: str = ""


class DemandGrowth(Spec):
    """Multiply the annual TEU of matching flows (all flows when no filter is given)."""

    kind: Literal["demand_growth"]
    factor: float = Field(ge=0, le=1e3)
    origin: str | None = None
    destination: str | None = None
    commodity: str | None = None
    why: str = ""


Change = Annotated[
    SetChange | ScaleChange | Disruption | AddHub | AddLink | DemandGrowth,
    Field(discriminator="kind"),
]


class MarketGrowth(Spec):
    """A market's growth since the base year: flows from or to its hubs carry `factor` x
    their TEU (a pathway sets it year by year; `uncertain:` can vary it)."""

    hubs: tuple[str, ...] = Field(min_length=1, description="flows from or to these hubs "
                                                            "belong to the market")
    factor: float = Field(1.0, gt=0, le=100, description="multiplier on the market's TEU")
    source: str = Field("", description="where the hubs-to-market mapping comes from")


class Scenario(Spec):
    """A whole scenario file, validated."""

    name: str = Field(min_length=1)
    description: str = ""
    extends: str | None = Field(None, description="base scenario this file was merged over")
    network: NetworkSection
    horizon: Horizon
    seed: Seed
    replications: Replications = 1
    demand: Demand
    routing: Routing = Routing()
    variability: Variability = Variability()
    trade: Trade = Trade()
    equilibrium: Equilibrium = Equilibrium()
    changes: tuple[Change, ...] = ()
    growth: dict[str, MarketGrowth] = Field(
        default_factory=dict, description="markets (by name) whose flows grow by a factor")
    uncertain: dict[str, Distribution] = Field(
        default_factory=dict, description="dotted path -> distribution (sim.uncertain): "
                                          "inputs `cqsim uncertainty` varies")
    source_file: str = Field("", description="set by the loader: the file read")

    @model_validator(mode="after")
    def _markets_apart(self) -> Scenario:
        seen: dict[str, str] = {}
        for market, spec in self.growth.items():
            for hub in spec.hubs:
                if hub in seen:
                    raise ValueError(f"growth.{market}.hubs: {hub!r} is already in market "
                                     f"{seen[hub]!r} (a hub belongs to one market)")
                seen[hub] = market
        return self


# ----------------------------------------------------------------------------- loading


def _node_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """Nodes in `node` once every alias is expanded (memoised: a bomb costs nothing here)."""
    size = sizes.get(id(node))
    if size is None:
        if isinstance(node, yaml.SequenceNode):
            size = 1 + sum(_node_size(child, sizes) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            size = 1 + sum(_node_size(k, sizes) + _node_size(v, sizes) for k, v in node.value)
        else:
            size = 1
        sizes[id(node)] = size
    return size


class _SafeCountingLoader(yaml.SafeLoader):
    """SafeLoader that refuses documents with more aliases than a human would write, or whose
    aliases would expand to more than MAX_EXPANDED nodes (a "billion laughs" bomb)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            self._aliases = getattr(self, "_aliases", 0) + 1
            sizes = self.__dict__.setdefault("_sizes", {})
            anchored = self.anchors.get(event.anchor)
            self._expanded = getattr(self, "_expanded", 0) + (
                _node_size(anchored, sizes) if anchored is not None else 0)
            if self._aliases > MAX_ALIASES or self._expanded > MAX_EXPANDED:
                raise yaml.composer.ComposerError(
                    None, None, f"at most {MAX_ALIASES} aliases expanding to at most "
                    f"{MAX_EXPANDED} nodes (alias bomb?)", event.start_mark)
        return super().compose_node(parent, index)


def read_yaml(path: Path) -> dict[str, Any]:
    """Read one YAML mapping, turning every failure into an InputError naming the file."""
    if not path.is_file():
        raise InputError(path, "", "an existing scenario file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InputError(path, "", f"a file smaller than {MAX_FILE_BYTES} bytes")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(path, "", f"UTF-8 text (bad byte at offset {exc.start})") from None
    try:
        data = yaml.load(text, Loader=_SafeCountingLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(path, where, f"valid YAML ({problem})") from None
    if not isinstance(data, dict):
        raise InputError(path, "", "a YAML mapping at the top level", type(data).__name__)
    return data


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if key == "changes" and isinstance(value, list):
            out[key] = list(out.get(key) or []) + copy.deepcopy(value)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _resolve_paths(raw: dict[str, Any], folder: Path) -> None:
    network = raw.get("network")
    if isinstance(network, dict) and isinstance(network.get("geodata"), str):
        network["geodata"] = str((folder / network["geodata"]).resolve())
    demand = raw.get("demand")
    if isinstance(demand, dict) and isinstance(demand.get("reference_scenario"), str):
        demand["reference_scenario"] = str((folder / demand["reference_scenario"]).resolve())
    uncertain = raw.get("uncertain")
    if isinstance(uncertain, dict):
        for entry in uncertain.values():
            if isinstance(entry, dict) and isinstance(entry.get("estimates"), str):
                entry["estimates"] = str((folder / entry["estimates"]).resolve())


def _load_chain(path: Path, seen: tuple[Path, ...]) -> list[tuple[Path, dict[str, Any]]]:
    """Files from the root base to `path`, each with its raw (path-resolved) mapping."""
    path = path.resolve()
    if path in seen:
        cycle = " -> ".join(p.name for p in (*seen, path))
        raise InputError(seen[-1], "extends", f"no cycle of extends ({cycle})")
    raw = read_yaml(path)
    _resolve_paths(raw, path.parent)
    parent = raw.get("extends")
    if parent is None:
        return [(path, raw)]
    if not isinstance(parent, str):
        raise InputError(path, "extends", "a file name (string)", parent)
    if not (path.parent / parent).is_file():
        raise InputError(path, "extends", "an existing scenario file", parent)
    return _load_chain(path.parent / parent, (*seen, path)) + [(path, raw)]


def _has_path(raw: Any, loc: tuple[Any, ...]) -> bool:
    for key in loc:
        if isinstance(raw, dict) and key in raw:
            raw = raw[key]
        elif isinstance(raw, list) and isinstance(key, int) and key < len(raw):
            raw = raw[key]
        else:
            return False
    return True


def validation_error(exc: ValidationError, chain: list[tuple[Path, dict[str, Any]]]) -> InputError:
    """The first pydantic error as an InputError naming the file that set the field."""
    err = exc.errors()[0]
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p in _UNION_TAGS))
    field = ".".join(str(p) for p in loc)
    file = next((p for p, raw in reversed(chain) if _has_path(raw, loc)), chain[-1][0])
    expected = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        expected = "no such key (unknown field)"
    got = err.get("input") if err["type"] != "missing" else None
    if isinstance(got, (dict, list)):
        got = None
    return InputError(file, field, expected, got)


_UNION_TAGS = {"set", "scale", "disruption", "add_hub", "add_link", "demand_growth",
               *DIST_TAGS}


def load_scenario(path: str | Path) -> Scenario:
    """Read, merge (`extends`) and validate a scenario file."""
    chain = _load_chain(Path(path), ())
    merged: dict[str, Any] = {}
    for _, raw in chain:
        merged = _merge(merged, raw)
    merged["extends"] = chain[-2][0].name if len(chain) > 1 else None
    merged["source_file"] = str(chain[-1][0])
    try:
        scenario = Scenario.model_validate(merged)
    except ValidationError as exc:
        raise validation_error(exc, chain) from None
    uncertain_inputs(scenario, chain)
    return scenario


def uncertain_inputs(scenario: Scenario, chain: list[tuple[Path, dict[str, Any]]] | None = None
                     ) -> list[UncertainInput]:
    """The scenario's uncertain inputs, resolved (estimates read) and checked: each path names
    a numeric field of the scenario; InputError naming the file and `uncertain.<path>`."""
    if not scenario.uncertain:
        return []
    data = scenario.model_dump(mode="json")
    out = []
    for path, dist in scenario.uncertain.items():
        loc = ("uncertain", path)
        file = next((p for p, raw in reversed(chain or []) if _has_path(raw, loc)),
                    scenario.source_file)
        if path.split(".")[0] in ("uncertain", "source_file", "name", "extends"):
            raise InputError(file, f"uncertain.{path}", "a path to a numeric scenario field")
        try:
            current = lookup(data, path)
        except KeyError:
            raise InputError(file, f"uncertain.{path}", "a path to an existing scenario field "
                             "(dotted, list items by index)") from None
        if isinstance(current, bool) or not isinstance(current, (int, float)):
            raise InputError(file, f"uncertain.{path}", "a path to a numeric scenario field",
                             current)
        if isinstance(dist, FromCalibration):
            estimates = Path(dist.estimates)
            if not estimates.is_file():
                raise InputError(file, f"uncertain.{path}.estimates",
                                 "an existing estimates file (cqsim calibrate --estimate)",
                                 dist.estimates)
            out.append(UncertainInput(path, dist.resolve(read_yaml(estimates), path,
                                                         str(estimates))))
        else:
            out.append(UncertainInput(path, dist))
    return out


def as_scenario(scenario: Scenario | str | Path) -> Scenario:
    """`scenario` itself, or the scenario file it names, loaded."""
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


def with_overrides(scenario: Scenario, **fields: Any) -> Scenario:
    """Return a copy with dotted-path fields replaced and revalidated.

    `with_overrides(s, **{"network.services.ilstc-qinzhou.departures_per_week": 21})`
    """
    data = scenario.model_dump(mode="json")
    for dotted, value in fields.items():
        node: Any = data
        keys = dotted.split(".")
        for key in keys[:-1]:
            if isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            elif isinstance(node, dict) and key in node:
                node = node[key]
            else:
                raise InputError(scenario.source_file, dotted, "an existing scenario field")
        if isinstance(node, dict) and keys[-1] in node:
            node[keys[-1]] = value
        elif isinstance(node, list) and keys[-1].isdigit() and int(keys[-1]) < len(node):
            node[int(keys[-1])] = value
        else:
            raise InputError(scenario.source_file, dotted, "an existing scenario field")
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, [(Path(scenario.source_file), data)]) from None
