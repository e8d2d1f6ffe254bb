"""Scenario files: YAML in, a validated, immutable `Scenario` out (normalize -> validate).

A scenario names the network (geodata plus the services run on it), demand, horizon, seed,
replications and a list of changes. `extends: other.yaml` merges this file over another:
mappings merge key by key, lists are replaced, except `changes`, which are appended to the
base's. Relative paths (`extends`, `network.geodata`, `demand.reference_scenario`,
`market.table`, `market.estimates`, an uncertain entry's `estimates`) are relative to the
file naming them. Every field of every section and change is documented,
with its unit and an example, in docs/scenarios.md.

Errors name the file the user wrote and the position in it (`Provenance`): `changes.3` is the
fourth change of the file that set it, not of the merged list.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import types
import typing
import warnings
from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path, PurePath
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import (
    BaseModel,
    Discriminator,
    Field,
    PlainValidator,
    SerializeAsAny,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    Tag,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from sim.components import validate_spec
from sim.errors import (
    FactorWarning,
    InputError,
    InputWarning,
    absolute,
    did_you_mean,
    printable,
    wrong_type,
)
from sim.market.estimates import (
    apply_estimates,
    estimates_data,
    read_correlation,
    set_share,
    share_fields,
    share_gateways,
)
from sim.market.spec import MarketSection
from sim.readers import MAX_ALIASES, MAX_EXPANDED, read_yaml, read_yaml_file  # noqa: F401 - API
from sim.specs import (
    OUTAGE_TAGS,
    BackgroundTraffic,
    BorderSpec,
    CommodityClass,
    EmissionFactor,
    Flow,
    FlowKey,
    HubSpec,
    LinkSpec,
    LockOperation,
    LockSpec,
    Mode,
    RandomOutage,
    ServiceSpec,
    Spec,
    TerminalSpec,
    ZoneSpec,
    check_factors,
    check_printable,
    located,
    window_end_after_start,
)
from sim.specs import expected as expected_by
from sim.uncertain import (
    DIST_TAGS,
    Distribution,
    FromCalibration,
    UncertainInput,
    correlate,
    lookup,
)
from sim.units import MAX_DAYS

MAX_EXTENDS = 16  # files in one extends chain (the shipped scenarios use at most 4)
MIN_DAYS = 1.0    # shortest horizon: a shorter run has no statistics to speak of
MAX_GROWTH_FACTOR = 1e3  # largest demand_growth factor (pathway growth compounds up to it)
# assumption: a factor typed in a file at or above 5 is more likely a percentage (20 for +20%)
# than meant; the shipped scenarios' largest is 2 (Laos rail to 2025) and pathways, whose
# compounded factors pass it on purpose, build their years in Python, not from files
PLAUSIBLE_FACTOR = 5.0

# A spec of any registered kind of a table, validated as the class of its kind
AnyHub = Annotated[SerializeAsAny[HubSpec], PlainValidator(partial(validate_spec, "hubs"))]
AnyService = Annotated[SerializeAsAny[ServiceSpec],
                       PlainValidator(partial(validate_spec, "services"))]

# Run settings, constrained once: a scenario file and a run override obey the same bounds.
Seed = Annotated[int, Field(ge=0, le=2**63 - 1)]
Replications = Annotated[int, Field(ge=1, le=10_000)]


class Horizon(Spec):
    """Simulated period; statistics count from the end of the warm-up."""

    days: float = Field(ge=MIN_DAYS, le=MAX_DAYS, description="simulated days")
    warmup_days: float = Field(0.0, ge=0, description="days discarded from statistics")

    @model_validator(mode="after")
    def _warmup_inside(self) -> Horizon:
        if self.days - self.warmup_days < MIN_DAYS:    # statistics annualised from minutes
            raise ValueError(f"a warmup_days that leaves at least {MIN_DAYS:g} day of the "
                             f"days to measure")
        return self


# the finest grid of the waits route choice sees, but none (0): finer adds nothing a booking
# could see, and a grid near zero made the rounded waits infinite
MIN_WAIT_RESOLUTION_HOURS = 1e-6


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
    wait_resolution_hours: float = Field(
        1.0, ge=0, le=1e3,
        description="the waits route choice sees are rounded to this many hours (0: as "
                    "read). assumption: shippers book on a picture in whole hours (an hour "
                    "costs a box a few tens of CNY, its routes differ by thousands), so a "
                    "flow reuses the choice weights of a picture it has seen before")
    max_excess_wait_hours: float = Field(
        168.0, gt=0, le=1e5,
        description="a route whose queues would delay a lot longer than this is not offered "
                    "(bookings refused), unless every route is that congested")
    transfer_cost_cny: float = Field(
        1000.0, ge=0, le=1e7,
        description="CNY/TEU charged per change of service (terminal handling at transfer)")

    @field_validator("wait_resolution_hours")
    @classmethod
    def _resolution(cls, hours: float) -> float:
        # a wait over a grid of 1e-310 h is infinite: rounding it failed the run with a
        # traceback; a grid of 1e-6 h (3.6 ms) is already finer than any booking
        if 0 < hours < MIN_WAIT_RESOLUTION_HOURS:
            raise ValueError(f"0 (waits as read) or at least {MIN_WAIT_RESOLUTION_HOURS:g} h")
        return hours


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
        description="elasticity of the TEU of each flow outside the market table "
                    "(domestic, transit, Chengdu's; market flows answer through "
                    "market.choice.trade_elasticity) to the generalized cost (logsum over its "
                    "routes), relative to the reference network: TEU = base TEU x "
                    "(GC / GC_reference)^elasticity. Default -0.8, an assumption: inelastic, as "
                    "the generalized-cost elasticities of intermodal container demand are "
                    "(docs/modelling.md). 0 = fixed demand")
    reference_scenario: str | None = Field(
        None, description="scenario file whose network gives GC_reference (the network on "
                          "which the base TEU were observed: uncongested without a market "
                          "table; with one, as settled, congestion included), relative to the "
                          "file naming it; none = this scenario's own network")

    @field_validator("seasonality")
    @classmethod
    def _seasonality(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        check_factors(value, "monthly")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Demand:
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
    min_iterations: int = Field(
        1, ge=1, le=50,
        description="passes run before the tolerance may stop them (= max_iterations: a "
                    "fixed number, so a compared pair learns over the same passes)")
    tolerance: float = Field(0.02, gt=0, le=1,
                             description="stop when route flows change by less than this "
                                         "share between passes")
    days: float | None = Field(None, ge=MIN_DAYS, le=MAX_DAYS,
                               description="horizon of the feedback passes (default, and "
                                           "at most: the run's horizon, so --days cuts them)")
    per_replication: bool = Field(
        False, description="every replication learns its own delays from passes on its own "
                           "random streams (false: all learn from passes on replication 0's): "
                           "the confidence intervals then include the noise of the feedback "
                           "passes, at the cost of max_iterations more runs for every "
                           "replication after the first (its own feedback passes)")

    def pass_days(self, horizon: float) -> float:
        """The days each feedback pass runs in a run of `horizon` days: `days`, cut to it."""
        return min(self.days or horizon, horizon)

    @model_validator(mode="after")
    def _min_below_max(self) -> Equilibrium:
        if self.min_iterations > self.max_iterations:
            raise ValueError(f"min_iterations ({self.min_iterations}) at most max_iterations "
                             f"({self.max_iterations})")
        return self


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
Touched = tuple[str, str]   # (kind, id) of an element a change names: ("hub", "qinzhou")


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

    @property
    def touches(self) -> tuple[Touched, ...]:
        """The element it names (`touched`)."""
        return (self.target,)


class SetChange(_Targeted):
    """Set one attribute of a service, hub or link (validated as the attribute is)."""

    kind: Literal["set"]
    field: str
    value: StrictBool | StrictInt | StrictFloat | StrictStr

    @field_validator("value", mode="before")
    @classmethod
    def _one_value(cls, value: Any) -> Any:
        """Say what a value may be (else pydantic reports its last type tried: a boolean)."""
        if value is None:
            raise ValueError("one number, true/false or text (nothing cannot be set)")
        if isinstance(value, (list, tuple, dict)):
            raise ValueError("one number, true/false or text (a list or mapping cannot be "
                             "set: change a service's stops with remove_service and "
                             "add_service)")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("a finite number")
        return value


class ScaleChange(_Targeted):
    """Multiply one numeric attribute; a whole-number attribute is rounded (and says so)."""

    kind: Literal["scale"]
    field: str
    factor: float = Field(gt=0, le=1e4)


class Disruption(_Targeted):
    """Reduced capacity (0 = closed) on a hub, lock, link or service: a fixed window of days
    (`start_day`, `end_day`, `capacity_factor`) or random events (`random`: events a year
    in given months, lognormal durations, drawn per replication from a named stream)."""

    kind: Literal["disruption"]
    start_day: float | None = Field(None, ge=0, le=MAX_DAYS)   # as an outage's DayWindow
    end_day: float | None = Field(None, gt=0, le=MAX_DAYS)
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
        window_end_after_start(self.start_day, self.end_day)
        return self


class AddHub(Spec):
    """A new hub (terminal, port, border...) with every attribute of the geodata's hubs."""

    kind: Literal["add_hub"]
    hub: AnyHub
    why: str = ""

    @property
    def touches(self) -> tuple[Touched, ...]:
        """The hub it adds (`touched`)."""
        return (("hub", self.hub.id),)


class AddLink(Spec):
    """A new link between two hubs, with every attribute of the geodata's links."""

    kind: Literal["add_link"]
    link: LinkSpec
    why: str = ""

    @property
    def touches(self) -> tuple[Touched, ...]:
        """The link it adds (`touched`)."""
        return (("link", self.link.id),)


class AddFlow(Spec):
    """A new row of the origin-destination table (a pair and class not already in it)."""

    kind: Literal["add_flow"]
    flow: Flow
    why: str = ""

    @property
    def touches(self) -> tuple[Touched, ...]:
        """None: a change of demand names no element of the network (`touched`)."""
        return ()


class AddService(Spec):
    """A new service, with every attribute of `network.services`."""

    kind: Literal["add_service"]
    id: str = Field(min_length=1, description="id of the new service")
    service: AnyService
    why: str = ""

    @field_validator("id")
    @classmethod
    def _printable_id(cls, value: str) -> str:
        return check_printable(value, "an id")

    @property
    def touches(self) -> tuple[Touched, ...]:
        """The service it adds (`touched`)."""
        return (("service", self.id),)


class RemoveService(Spec):
    """Withdraw a service (freight it carried must find another route)."""

    kind: Literal["remove_service"]
    service: str = Field(min_length=1)
    why: str = ""

    @property
    def touches(self) -> tuple[Touched, ...]:
        """The service it withdraws (`touched`)."""
        return (("service", self.service),)


class DemandGrowth(Spec):
    """Multiply the annual TEU of matching flows (all flows when no filter is given)."""

    kind: Literal["demand_growth"]
    factor: float = Field(gt=0, le=MAX_GROWTH_FACTOR)   # 0 would leave flows of no TEU
    origin: str | None = None
    destination: str | None = None
    commodity: str | None = None
    market: str | None = Field(None, description="partner market of the market table")
    why: str = ""

    @property
    def touches(self) -> tuple[Touched, ...]:
        """None: a change of demand names no element of the network (`touched`)."""
        return ()


CHANGE_KINDS = (SetChange, ScaleChange, Disruption, AddHub, AddLink, AddFlow, AddService,
                RemoveService, DemandGrowth)
CHANGE_TAGS: tuple[str, ...] = tuple(get_args(k.model_fields["kind"].annotation)[0]
                                     for k in CHANGE_KINDS)


def _change_kind(value: Any) -> Any:
    return value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)


Change = Annotated[
    (Annotated[SetChange, Tag("set")] | Annotated[ScaleChange, Tag("scale")]
     | Annotated[Disruption, Tag("disruption")] | Annotated[AddHub, Tag("add_hub")]
     | Annotated[AddLink, Tag("add_link")] | Annotated[AddFlow, Tag("add_flow")]
     | Annotated[AddService, Tag("add_service")]
     | Annotated[RemoveService, Tag("remove_service")]
     | Annotated[DemandGrowth, Tag("demand_growth")]),
    Discriminator(_change_kind),
]
_CHANGE: TypeAdapter[Change] = TypeAdapter(Change)


def _named_in(record: Mapping[str, Any]) -> tuple[Touched, ...]:
    """The element a change record that no longer validates names, read from its own keys:
    an added hub or service of a component kind not imported where it is read (`cqsim
    report` without --import) is still named; none from a record of an unknown kind."""
    kind, nested = record.get("kind"), {"add_hub": "hub", "add_link": "link"}
    if not isinstance(kind, str):   # a record altered by hand: nothing to read a kind from
        return ()
    if kind in nested:
        spec = record.get(nested[kind])
        return ((nested[kind], str(spec["id"])),) if isinstance(spec, dict) and "id" in spec \
            else ()
    if kind == "add_service":
        return (("service", str(record["id"])),) if "id" in record else ()
    if kind not in CHANGE_TAGS:
        return ()
    return tuple((t, record[t]) for t in TARGETS if isinstance(record.get(t), str))


Elements = Mapping[str, Mapping[str, str]]   # kind -> id -> digest of its settings


def touched(base: Iterable[Mapping[str, Any]], alt: Iterable[Mapping[str, Any]],
            base_elements: Elements | None = None,
            alt_elements: Elements | None = None) -> frozenset[Touched]:
    """(kind, id) of every hub, service, lock and link named by a change one run made and
    the other did not, from the records of their changes (`sim.inputs.origin_of`: run.json's
    `changes`; who wrote one, `set_by`, aside, so BASE's changes that ALT inherits cancel),
    and of every service, lock, hub's background traffic and hub's spec the two scenarios
    set apart (`element_digests`: a file's edit, a geodata copy's or a field set in Python
    alike; each table of digests compared only where both runs recorded it): the elements
    a comparison of the two shows the figures of, beside the channels'
    (`sim.kpis.Place.where_touched`). A change of demand names none; a record
    that no longer validates names what its own keys name (`_named_in`), one of a kind no
    longer known none."""
    def own(records: Iterable[Mapping[str, Any]]) -> set[str]:
        return {json.dumps({k: v for k, v in r.items() if k != "set_by"}, sort_keys=True,
                           default=str) for r in records}

    names: set[Touched] = set()
    for record in own(base) ^ own(alt):
        try:
            names.update(_CHANGE.validate_python(json.loads(record)).touches)
        except ValidationError:
            names.update(_named_in(json.loads(record)))
    if base_elements is not None and alt_elements is not None:
        # a table of digests one run did not record (written before it was kept) names
        # nothing, not every element of the other run's
        for kind in set(base_elements) & set(alt_elements):
            one, other = base_elements[kind], alt_elements[kind]
            names.update((ELEMENT_NAMES.get(kind, kind), i) for i in set(one) | set(other)
                         if one.get(i) != other.get(i))
    return frozenset(names)


HUB_SPECS = "hub_spec"   # the digests of the hubs' own specs (`element_digests`)
# the element a table of digests names, where its key is not the element's kind: a hub's
# spec, kept apart from its background traffic (key "hub", kept first), names the hub
ELEMENT_NAMES = {HUB_SPECS: "hub"}


def element_digests(scenario: Scenario,
                    hubs: Mapping[str, Spec] | None = None) -> dict[str, dict[str, str]]:
    """A digest of each service, lock operation and hub's background traffic as `scenario`
    sets them (its files and fields set in Python; its changes are recorded apart), and of
    each of `hubs` (the plan's, as built from the geodata and the changes: a hub's spec is
    read from the geodata folder, so a copy of it that changes a hub changes no scenario
    field), by kind and id: what `touched` compares, so an element is named however it was
    edited."""
    def digest(spec: Spec) -> str:
        text = json.dumps(spec.model_dump(mode="json"), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    net = scenario.network
    tables: list[tuple[str, Mapping[str, Spec]]] = [
        ("service", net.services), ("lock", net.locks), ("hub", net.background)]
    if hubs is not None:
        tables.append((HUB_SPECS, hubs))
    return {kind: {i: digest(spec) for i, spec in table.items()} for kind, table in tables}


REPLACEABLE = ("demand.flows",)  # lists a child may replace on purpose (`replaces:`)


class Provenance(Spec):
    """Which file set what, so that an error names the user's own file and position.

    `files`: the extends chain, root base first. `keys`: every dotted mapping path -> index
    (in `files`) of the last file that set it. `changes`: for each change of the merged list,
    (index in `files`, position in that file's own `changes`). `sections`: the top-level
    keys each file sets. `overrides`: the fields set in Python (`with_overrides`), by no
    file: dotted path -> value, in the order set; a run's folder records them
    (`sim.inputs.origin_of`), else it would look like a run of the files alone.
    """

    files: tuple[str, ...] = ()
    keys: dict[str, int] = Field(default_factory=dict)
    changes: tuple[tuple[int, int], ...] = ()
    sections: tuple[tuple[str, ...], ...] = ()
    estimates: str = ""                                            # market.estimates, if read
    estimated: dict[str, str] = Field(default_factory=dict)        # field -> its entry there
    overrides: dict[str, Any] = Field(default_factory=dict)        # with_overrides' fields

    @property
    def chain(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """The extends chain, root base first: each file with the top-level sections it
        sets (`not_changes_of`; a run's folder records it, `sim.inputs.record`)."""
        return tuple(zip(self.files, self.sections, strict=False))

    def beside(self, dotted: str) -> list[str]:
        """The keys the files set beside the last part of `dotted` (under its parent, itself
        left out): what a misspelt key or id was likely meant to be (`did_you_mean`)."""
        parent, _, own = dotted.rpartition(".")
        return [name for key in self.keys
                for up, _, name in [key.rpartition(".")] if up == parent and name != own]

    def nearest(self, dotted: str) -> str:
        """`did_you_mean`'s hint for the last part of `dotted` among the keys beside it:
        " (did you mean 'x'?)", or "" when none is close."""
        return did_you_mean(dotted.rpartition(".")[2], self.beside(dotted))

    def locate(self, dotted: str, default: str) -> tuple[str, str]:
        """(file, field in that file) of a dotted path of the merged scenario."""
        parts = dotted.split(".")
        if parts[0] == "changes" and len(parts) > 1 and parts[1].isdigit():
            i = int(parts[1])
            if i < len(self.changes):
                f, j = self.changes[i]
                return self.files[f], ".".join(["changes", str(j), *parts[2:]])
        for k in range(len(parts), 0, -1):
            entry = self.estimated.get(".".join(parts[:k]))
            if entry is not None:   # filled in from the estimates file: its entry there
                return self.estimates, ".".join([entry, *parts[k:]])
            setter = self.keys.get(".".join(parts[:k]))
            if setter is not None:
                return self.files[setter], dotted
        return default, dotted


# settings of a run, not inputs of the model: a sweep's or an uncertainty analysis' own keys
# (seed, replications, --samples) set them, and a runs table has them as columns already
RUN_SETTINGS = ("seed", "replications")
# a file's own labels and how it was merged: varied, they change no run, and the variants
# would differ only in name (the base a study varies is its `base:`)
LABELS = ("name", "description", "extends", "replaces")


def check_not_run_setting(paths: Any, labels: bool = True) -> None:
    """ValueError when a varied path is a run setting (`RUN_SETTINGS`) or, with `labels`, a
    label of the file (`LABELS`): neither is a model input. (`uncertain:` leaves the labels to
    `uncertain_inputs`, which names the entry's own path.)"""
    for path in paths:
        if path in RUN_SETTINGS:
            raise ValueError(f"paths of model inputs, not {path} (a run setting: the "
                             f"sweep's own {path}: key or the command's option sets it)")
        if labels and (path in LABELS or path.split(".")[0] in LABELS):
            raise ValueError(f"paths of model inputs, not {path} (a label of the file: "
                             f"varied, every variant would run the same model)")


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
    market: MarketSection | None = Field(
        None, description="Chongqing's trade by market, carried by competing gateways "
                          "(sim.market)")
    changes: tuple[Change, ...] = ()
    uncertain: dict[str, Distribution] = Field(
        default_factory=dict, description="dotted path -> distribution (sim.uncertain): "
                                          "inputs `cqsim uncertainty` varies")
    replaces: tuple[Literal[REPLACEABLE], ...] = Field(  # type: ignore[valid-type]
        (), description="lists of the base this file replaces on purpose (no warning): "
                        "demand.flows")
    source_file: str = Field("", description="set by the loader: the file read")
    provenance: Provenance = Field(default_factory=Provenance,
                                   description="set by the loader: which file set what")

    @field_validator("name")
    @classmethod
    def _printable_name(cls, name: str) -> str:
        """A name titles the console's tables and names result folders."""
        return check_printable(name, "a name")

    @field_validator("uncertain")
    @classmethod
    def _inputs_only(cls, value: dict[str, Distribution]) -> dict[str, Distribution]:
        check_not_run_setting(value, labels=False)
        return value

    def locate(self, dotted: str) -> tuple[str, str]:
        """(file, field in the user's file) of a dotted path of this scenario."""
        return self.provenance.locate(dotted, self.source_file)

    def error(self, dotted: str, expected: str, got: object = None) -> InputError:
        """An InputError about a field, naming the file that set it and its position there."""
        file, field = self.locate(dotted)
        return InputError(file, field, expected, got)


# ----------------------------------------------------------------------------- loading


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if key == "changes" and isinstance(value, list):
            earlier = out.get(key)
            out[key] = (list(earlier) if isinstance(earlier, list) else []) + \
                copy.deepcopy(value)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _absolute(path: Path) -> str:
    """`path` made absolute, symlinks resolved where they can be (a loop is left to the
    reader to report)."""
    try:
        return str(path.resolve())
    except (OSError, RuntimeError, ValueError):
        return os.path.normpath(os.path.abspath(path))


_PATH_FIELDS = (("network", "geodata"), ("demand", "reference_scenario"), ("market", "table"),
                ("market", "estimates"))


def _resolve_paths(raw: dict[str, Any], folder: Path, file: Path,
                   written: dict[str, tuple[Path, str]]) -> None:
    """Make the file's relative paths absolute; remember (file, value as written) of each.
    Files are read from the one named down to the root base, so the first file to write a
    path is the one whose value counts (a base's value is overridden)."""
    for section, key in _PATH_FIELDS:
        node = raw.get(section)
        if isinstance(node, dict) and isinstance(node.get(key), str):
            written.setdefault(f"{section}.{key}", (file, node[key]))
            node[key] = _absolute(folder / node[key])
    uncertain = raw.get("uncertain")
    if isinstance(uncertain, dict):
        for path, entry in uncertain.items():
            if isinstance(entry, dict) and isinstance(entry.get("estimates"), str):
                written.setdefault(f"uncertain.{path}.estimates", (file, entry["estimates"]))
                entry["estimates"] = _absolute(folder / entry["estimates"])


LOADER_FIELDS = ("source_file", "provenance")   # fields of `Scenario` no file may write


def _load_chain(path: Path, written: dict[str, tuple[Path, str]]
                ) -> list[tuple[Path, dict[str, Any]]]:
    """Files from the root base to `path`, each with its raw (path-resolved) mapping; at most
    MAX_EXTENDS files, read without recursion."""
    chain: list[tuple[Path, dict[str, Any]]] = []
    current, ref = Path(path), None
    while True:
        resolved, raw = read_yaml_file(current, "scenario file", ref)
        via = f"{ref[0]}: {ref[1]}" if ref else None   # the extends that led here
        for key, command in (("expansions", "pathway"), ("candidates", "plan"),
                             ("parameters", "sweep")):
            if key in raw and "network" not in raw and "extends" not in raw:
                raise InputError(resolved, key, f"a scenario file; this is a {command} file "
                                 f"(it has {key}:): run it with cqsim {command} FILE", via=via)
        if any(resolved == p for p, _ in chain):
            cycle = " -> ".join(p.name for p in (*(p for p, _ in chain), resolved))
            raise InputError(chain[-1][0], "extends", f"no cycle of extends ({cycle})")
        for key in LOADER_FIELDS:
            if key in raw:
                raise InputError(resolved, key, "no such key (the loader sets it: the file "
                                 "read and where each field came from)", via=via)
        chain.append((resolved, raw))
        _resolve_paths(raw, resolved.parent, resolved, written)
        parent = raw.get("extends")
        if parent is None:
            break
        if not isinstance(parent, str) or not parent.strip():
            raise InputError(resolved, "extends", "a file name (text)", parent)
        if len(chain) >= MAX_EXTENDS:
            raise InputError(resolved, "extends", f"a chain of at most {MAX_EXTENDS} files "
                                                  "(scenarios extending scenarios)", parent)
        current, ref = resolved.parent / parent, (str(resolved), "extends")
    chain.reverse()
    return chain


def _flatten(node: dict[Any, Any], prefix: str, index: int, keys: dict[str, int]) -> None:
    for key, value in node.items():
        dotted = f"{prefix}{key}"
        keys[dotted] = index
        if isinstance(value, dict):
            _flatten(value, dotted + ".", index, keys)


def provenance(chain: list[tuple[Path, dict[str, Any]]]) -> Provenance:
    """Which file of the chain (root base first) set each key, and where each change is."""
    keys: dict[str, int] = {}
    changes: list[tuple[int, int]] = []
    sections = []
    for f, (_, raw) in enumerate(chain):
        _flatten(raw, "", f, keys)
        sections.append(tuple(str(k) for k in raw))
        own = raw.get("changes")
        if isinstance(own, list):
            changes += [(f, j) for j in range(len(own))]
        elif "changes" in raw:
            changes = []
    return Provenance(files=tuple(str(p) for p, _ in chain), keys=keys,
                      changes=tuple(changes), sections=tuple(sections))


# sections a file between BASE and an alternative may set: `uncertain` describes what is not
# known about the inputs (cqsim uncertainty), it changes nothing a run simulates
CHANGES_ONLY = frozenset({"name", "description", "extends", "changes", "replaces", "uncertain"})


def not_changes_of(base_file: str, chain: Sequence[tuple[str, Sequence[str]]]) -> str | None:
    """Why a scenario whose extends chain is `chain` ((file, the top-level sections it sets),
    root base first, itself last) is not the scenario of `base_file` plus changes; None when
    it is. BASE must be in the chain, and every file after it but the last may only add
    changes: one that sets more (as baseline-2023.yaml recalibrates baseline.yaml's services
    and demand) puts its edits in every difference from BASE. The one rule of `cqsim compare`
    (`sim.boundary.check_related`) and of `cqsim report`'s pairing of run folders."""
    files = [os.path.abspath(f) for f, _ in chain]
    names = " <- ".join(Path(f).name for f in reversed(files))
    base = os.path.abspath(base_file)
    if base not in files:
        return f"its chain {names} does not pass through {Path(base).name}"
    for file, sets in chain[files.index(base) + 1:-1]:
        extra = sorted(set(sets) - CHANGES_ONLY)
        if extra:
            return (f"its chain {names} passes through {Path(file).name}, which also sets "
                    f"{', '.join(extra)}")
    return None


# Tagged unions of the schema, by their discriminator function as pydantic names it: (the
# field that holds the tag, what a tag names, the tags). Error messages come from this table.
TAGGED: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "_change_kind()": ("kind", "a kind of change", CHANGE_TAGS),
    "_dist_kind()": ("dist", "a distribution", DIST_TAGS),
    "_outage_shape()": ("shape", "an outage shape", OUTAGE_TAGS),
}
ALL_TAGS = frozenset(t for _, _, tags in TAGGED.values() for t in tags)


def error_loc(err: Any) -> tuple[Any, ...]:
    """An error's location without pydantic's union tags (`changes.0.set.field`): a tag
    follows a list position (changes, outages) or an uncertain input's path (or a market's,
    in a pathway's or candidates file's `growth`)."""
    loc = err["loc"]
    return tuple(p for i, p in enumerate(loc) if not (
        isinstance(p, str) and p in ALL_TAGS and i > 0
        and (isinstance(loc[i - 1], int) or (loc[0] in ("uncertain", "growth") and i == 2))))


def tagged_error(err: Any, loc: tuple[Any, ...], got: Any
                 ) -> tuple[tuple[Any, ...], str, Any] | None:
    """(field, expected, got) of a pydantic error in a tagged union (a change's `kind`, a
    distribution's `dist`, an outage's `shape`: TAGGED), its tag unknown or missing; None
    for any other error. One wording for the scenario's messages and the pathway's and
    candidates file's, where pydantic's ("Unable to extract tag using discriminator
    _dist_kind()") reached the user."""
    if err["type"] not in ("union_tag_invalid", "union_tag_not_found"):
        return None
    ctx = err.get("ctx", {})
    key, noun, tags = TAGGED.get(ctx.get("discriminator", ""), ("kind", "a kind", ()))
    if err["type"] == "union_tag_invalid":
        return ((*loc, key), f"{noun}: one of {', '.join(tags)}"
                + did_you_mean(ctx.get("tag"), tags), ctx.get("tag"))
    return loc, f"a mapping with `{key}` ({noun}: one of {', '.join(tags)})", got


def _bare(kind: Any) -> Any:
    """`kind` without `Annotated` and without `| None`."""
    while True:
        if get_origin(kind) is Annotated:
            kind = get_args(kind)[0]
        elif get_origin(kind) in (typing.Union, types.UnionType) and len(
                members := [a for a in get_args(kind) if a is not type(None)]) == 1:
            kind = members[0]
        else:
            return kind


def _step(kind: Any, part: Any) -> Any:
    """The type one part of a pydantic error's location (a field, a list position, a
    mapping's key, a tagged union's tag) leads to from `kind`; None when it cannot be told."""
    kind = _bare(kind)
    origin, args = get_origin(kind), get_args(kind)
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        field = kind.model_fields.get(part) if isinstance(part, str) else None
        return None if field is None else field.annotation
    if origin in (typing.Union, types.UnionType):    # the member of that tag
        return next((arg for arg in args if get_origin(arg) is Annotated and any(
            isinstance(m, Tag) and m.tag == part for m in get_args(arg)[1:])), None)
    if origin in (list, tuple, Sequence) and isinstance(part, int) and args:
        return args[0]     # tuple[X, ...]: the schema's tuples are all of one type
    if origin in (dict, Mapping) and len(args) == 2:
        return args[1]
    return None


def fields_at(model: type[BaseModel] | None, loc: tuple[Any, ...]) -> list[str]:
    """The fields of the model at a pydantic error's raw location `loc` (union tags in it)
    below `model`: what an unknown key there may have been meant to be; [] when that place
    is no model (or `model` is None)."""
    kind: Any = model
    for part in loc:
        kind = None if kind is None else _step(kind, part)
    kind = _bare(kind)
    return list(kind.model_fields) if isinstance(kind, type) and issubclass(
        kind, BaseModel) else []


def _unknown_keys_beside(err: Any, loc: tuple[Any, ...], where: Provenance,
                         model: type[BaseModel] | None) -> list[str]:
    """What an unknown key (`extra_forbidden`) at `loc` may have been meant to be: the keys
    the files set beside it and, with `model`, the fields of its mapping's model."""
    choices = [*where.beside(".".join(map(str, loc))),
               *fields_at(model, tuple(err["loc"][:-1]))]
    return [c for c in choices if c != loc[-1]]


def _misspelt(err: Any, errors: list[Any], missing: list[str]) -> list[tuple[Any, list[str]]]:
    """(an unknown key's error, the `missing` fields it is close to) of each unknown key
    beside the missing field `err`, in the same mapping, close to one of them (`changes: -
    {kind: set, feild: ...}`): such a key, not the field it left missing, is what the user
    typed (trial64 #6); [] when `err` is no missing field or no key is close."""
    if err["type"] != "missing":
        return []
    place = tuple(err["loc"][:-1])
    found = []
    for other in errors:
        if other["type"] == "extra_forbidden" and tuple(other["loc"][:-1]) == place:
            close = [m for m in missing if did_you_mean(str(other["loc"][-1]), [m])]
            if close:
                found.append((other, close))
    return found


def _with_hint(expected: str, hint: str) -> str:
    """"no such key (unknown field)" with `did_you_mean`'s hint inside its brackets: "no such
    key (unknown field; did you mean 'x'?)"."""
    return f"{expected.removesuffix(')')}; {hint.strip().removeprefix('(')}" if hint \
        else expected


def validation_error(exc: ValidationError, where: Provenance, default: str | Path,
                     *, first_only: bool = False,
                     model: type[BaseModel] | None = None) -> InputError:
    """The first pydantic error as an InputError naming the file that set the field and
    the position in it; when fields are missing, all missing fields of that place at once,
    and a count of the problems after. With `first_only` (a pathway's or candidates file's
    messages) the first problem alone, a missing field named as the field. One wording for
    every file pydantic reads. A missing field that comes with an unknown key beside it
    close to it is that key, misspelt; an unknown key is given the closest of the keys the
    files set beside it and, with `model` (what was validated), its mapping's fields."""
    errors = exc.errors()
    err = errors[0]
    missing = [str(e["loc"][-1]) for e in errors
               if e["type"] == "missing" and tuple(e["loc"][:-1]) == tuple(err["loc"][:-1])]
    typos = _misspelt(err, errors, missing)
    covered = {m for _, close in typos for m in close}
    whole = bool(typos) and (first_only or covered == set(missing))
    if whole:   # every missing field is a key typed amiss: name the (first) key as typed
        err = typos[0][0]
    loc, got = located(err, error_loc(err))    # with the field a model check found wrong
    expected = expected_by(err)
    grouped = err["type"] == "missing" and not first_only
    if grouped:
        names = [str(error_loc(e)[-1]) for e in errors
                 if e["type"] == "missing" and error_loc(e)[:-1] == loc[:-1]]
        loc = loc[:-1]
        expected = ("the missing field " if len(names) == 1 else "the missing fields ") + \
            ", ".join(names)
        # a misspelt id reads as a new entry lacking every field: name the one it is close to
        hint = where.nearest(".".join(map(str, loc))) if loc else ""
        if hint:
            expected += f" of a new entry, or an existing one{hint}"
        if typos:    # one of them typed amiss beside them: "(feild: unknown field; did...)"
            typed = str(typos[0][0]["loc"][-1])
            expected += f" ({printable(typed, 40)}: " + _with_hint(
                "unknown field)", did_you_mean(typed, typos[0][1]))
    elif (tag := tagged_error(err, loc, got)) is not None:
        loc, expected, got = tag
    elif err["type"] == "extra_forbidden" and loc:    # a misspelt field: the one beside it
        meant = typos[0][1] if whole else _unknown_keys_beside(err, loc, where, model)
        expected = _with_hint(expected, did_you_mean(str(loc[-1]), meant))
    file, field = where.locate(".".join(str(p) for p in loc), str(default))
    shown = len({(str(error_loc(e)), e["type"]) for e in errors if not _echo(e, errors)})
    told = (len(names) + (1 if typos else 0) if grouped
            else 1 + (len(covered) if whole else 0))
    more = 0 if first_only else shown - told
    if more > 0:
        expected += f" ({more} more problem{'s' if more > 1 else ''} after this one)"
    return InputError(file, field, expected, got)


def _echo(err: Any, errors: list[Any]) -> bool:
    """Whether `err` only echoes others: a list too short only because items of it failed
    (pydantic drops a failed item, then counts the list), long enough once they are mended;
    not a problem of its own."""
    if err["type"] != "too_short":
        return False
    at, ctx = error_loc(err), err.get("ctx") or {}
    failed = {error_loc(o)[len(at)] for o in errors
              if len(error_loc(o)) > len(at) and error_loc(o)[:len(at)] == at}
    return bool(failed) and ctx.get("actual_length", 0) + len(failed) >= ctx.get("min_length", 1)


def _flow_key(flow: Any) -> str:
    return f"{flow.origin} -> {flow.destination} ({flow.commodity})"


def _warn_replaced(chain: list[tuple[Path, dict[str, Any]]]) -> None:
    """Warn when a file replaces a list of its base it did not declare in `replaces:`."""
    merged: dict[str, Any] = {}
    for path, raw in chain:
        before = merged
        merged = _merge(merged, raw)
        declared: list[Any] = raw["replaces"] if isinstance(raw.get("replaces"), list) else []
        old = (before.get("demand") or {}).get("flows") if isinstance(
            before.get("demand"), dict) else None
        new = (raw.get("demand") or {}).get("flows") if isinstance(
            raw.get("demand"), dict) else None
        if not (isinstance(old, list) and old and isinstance(new, list)) or \
                "demand.flows" in declared:
            continue  # nothing replaced, or replaced on purpose
        kept = {(f.get("origin"), f.get("destination"), f.get("commodity"))
                for f in new if isinstance(f, dict)}
        dropped = [f"{f.get('origin')} -> {f.get('destination')} ({f.get('commodity')})"
                   for f in old if isinstance(f, dict)
                   and (f.get("origin"), f.get("destination"), f.get("commodity")) not in kept]
        if not dropped:
            continue  # every row of the base is still there (with new figures, maybe)
        names = ", ".join(dropped[:3]) + (f" and {len(dropped) - 3} more"
                                          if len(dropped) > 3 else "")
        warnings.warn(InputWarning(
            f"{path}: demand.flows replaces the {len(old)} flows of the base with "
            f"{len(new)}, dropping {len(dropped)}: {names}; to add flows use changes of kind "
            "add_flow, or write `replaces: [demand.flows]` if dropping them is meant"),
            stacklevel=3)


def large_factors(scenario: Scenario) -> list[tuple[int, DemandGrowth | ScaleChange]]:
    """(position, change) of each demand_growth or scale change of `scenario` whose factor is
    `PLAUSIBLE_FACTOR` or more: 20 meant as +20% is valid and multiplies by 20, its only sign
    a larger cost estimate."""
    return [(i, c) for i, c in enumerate(scenario.changes)
            if isinstance(c, (DemandGrowth, ScaleChange)) and c.factor >= PLAUSIBLE_FACTOR]


def factor_warning(file: str, field: str, change: DemandGrowth | ScaleChange) -> FactorWarning:
    """The warning of a `large_factors` change, naming the file and field that set it."""
    what = ("the matching flows' TEU/yr" if isinstance(change, DemandGrowth)
            else "{} of {} {}".format(change.field, *change.target))
    return FactorWarning(
        f"{file}: {field}: {change.kind} multiplies {what} by {change.factor:g} "
        f"({100 * (change.factor - 1):+,.0f}%); the factor is a multiplier, not a "
        f"percentage: +{change.factor:g}% is {1 + change.factor / 100:g}")


def _warn_large_factors(scenario: Scenario) -> None:
    """Warn of each `large_factors` change a file types (a sweep's base is silent here: the
    sweep warns of the factors its variants run, sim.sweep.tasks)."""
    for i, change in large_factors(scenario):
        warnings.warn(factor_warning(*scenario.locate(f"changes.{i}.factor"), change),
                      stacklevel=3)


def check_scenario(scenario: Scenario) -> None:
    """Checks across fields that need the whole scenario but not the geodata: one row per
    origin-destination-class, disruptions inside the horizon, no repeated excluded hub."""
    seen: dict[FlowKey, int] = {}
    written = [(f"demand.flows.{i}", f) for i, f in enumerate(scenario.demand.flows)] + [
        (f"changes.{i}.flow", c.flow) for i, c in enumerate(scenario.changes)
        if isinstance(c, AddFlow)]
    for where, flow in written:  # what the market section sets, a row may not
        if flow.market:
            raise scenario.error(f"{where}.market", "no market on a written flow (the market "
                                 "section makes the flows of its table)", flow.market)
        if flow.flow_class == "empty":
            raise scenario.error(f"{where}.flow_class", "trade, domestic, transit or chengdu "
                                 "(empty boxes are made by market.empties)", flow.flow_class)
    for i, flow in enumerate(scenario.demand.flows):
        key = flow.row_key
        if key in seen:
            raise scenario.error(
                f"demand.flows.{i}", f"one row per origin, destination and commodity "
                f"(the same as demand.flows.{seen[key]}: add the TEU up, or use "
                f"demand_growth)", _flow_key(flow))
        seen[key] = i
    days = scenario.horizon.days
    for i, change in enumerate(scenario.changes):
        if isinstance(change, Disruption) and change.start_day is not None \
                and change.start_day >= days:
            raise scenario.error(f"changes.{i}.start_day",
                                 f"a start inside the {days:g}-day horizon (a disruption "
                                 "wholly after the end of the run has no effect)",
                                 change.start_day)
    hubs = scenario.trade.excluded_hubs
    for i, hub in enumerate(hubs):
        if hub in hubs[:i]:
            raise scenario.error(f"trade.excluded_hubs.{i}", "each hub once", hub)


def load_scenario(path: str | Path) -> Scenario:
    """Read, merge (`extends`) and validate a scenario file.

    Files referred to (`extends`, `network.geodata`, `demand.reference_scenario`) must exist;
    an error about one names the scenario file and field that refer to it.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise wrong_type("load_scenario", "a scenario file's path", path,
                         "loaded already: pass it on as it is" if isinstance(path, Scenario)
                         else "")
    written: dict[str, tuple[Path, str]] = {}
    chain = _load_chain(Path(path), written)
    merged: dict[str, Any] = {}
    for _, raw in chain:
        merged = _merge(merged, raw)
    where = provenance(chain)
    merged["extends"] = chain[-2][0].name if len(chain) > 1 else None
    merged["source_file"] = str(chain[-1][0])
    if isinstance(merged.get("market"), dict):
        filled = apply_estimates(merged["market"], [file for file, _ in chain])
        if filled:   # an error in a value the estimates file gave names that file and entry
            where = where.model_copy(update={"estimates": merged["market"]["estimates"],
                                             "estimated": filled})
    merged["provenance"] = where
    try:
        scenario = Scenario.model_validate(merged)
    except ValidationError as exc:
        raise validation_error(exc, where, chain[-1][0], model=Scenario) from None
    _check_paths(scenario, written)
    check_scenario(scenario)
    uncertain_inputs(scenario, written)
    _warn_replaced(chain)
    _warn_large_factors(scenario)
    return scenario


def not_a_scenario(raw: Mapping[str, Any], file: str | Path, kind: str, field: str,
                   model: type[BaseModel]) -> None:
    """An InputError when a file given as a `kind` ("candidates file", "pathway file",
    "sweep file": validated as `model`) lacks its `field`, the base scenario it names, and
    holds a scenario's own fields instead: given a scenario, `cqsim plan` said only
    "scenario: expected a value (the field is required)", not that the file was the wrong
    kind (trial66)."""
    if field in raw:
        return
    own = [k for k in raw if k in Scenario.model_fields and k not in model.model_fields]
    if own:
        raise InputError(absolute(file), field, f"a {kind} (its {field}: names the base "
                         f"scenario); this is a scenario file (it has {', '.join(own[:3])}): "
                         f"give it as a {kind}'s {field}:")


def load_scenario_via(file: str | Path, field: str, name: str) -> Scenario:
    """The scenario `name` that `field` of `file` (a sweep, pathway or candidates file) names,
    relative to that file's folder; an error in it says it was read for `file: field`."""
    path = Path(file).parent / name
    shown = absolute(file)   # as every message names a file
    if not os.path.isfile(path):
        raise InputError(shown, field, "an existing scenario file", PurePath(name))
    try:
        return load_scenario(path)
    except InputError as exc:
        if exc.via is not None:
            raise
        raise InputError(exc.file, exc.field, exc.expected, exc.got,
                         via=f"{shown}: {field}") from None


def _optional_number(scenario: Scenario, path: str) -> bool:
    """Whether the field at dotted `path` of `scenario` is declared an optional number
    (`float | None`, `int | None`): then setting it makes it one `uncertain:` can vary, which
    an unset optional field of another kind (a `seasonality` of 12 factors) never is."""
    *parents, name = path.split(".")
    node: Any = scenario
    for key in parents:
        if isinstance(node, BaseModel):
            node = getattr(node, key, None)
        elif isinstance(node, dict):
            node = node.get(key)
        elif isinstance(node, (list, tuple)) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return False
    field = type(node).model_fields.get(name) if isinstance(node, BaseModel) else None
    kinds = [k for k in get_args(field.annotation) if k is not type(None)] if field else []
    return bool(kinds) and all(k in (int, float) for k in kinds)


def uncertain_inputs(scenario: Scenario, written: dict[str, tuple[Path, str]] | None = None
                     ) -> list[UncertainInput]:
    """The scenario's uncertain inputs, resolved (estimates read) and checked: each path names
    a numeric field of the scenario; InputError naming the file and `uncertain.<path>`."""
    if not scenario.uncertain:
        return []
    data = scenario.model_dump(mode="json")
    out = []
    pairs: dict[frozenset[str], float] = {}
    estimated: dict[str, tuple[str, str, float]] = {}   # path -> file, key, share of sd
    files: dict[Path, tuple[dict[str, Any], dict[frozenset[str], float]]] = {}
    for path, dist in scenario.uncertain.items():
        at = f"uncertain.{path}"
        if path.split(".")[0] in ("uncertain", "source_file", "provenance", *LABELS):
            raise scenario.error(at, "a path to a numeric scenario field")
        try:
            current = lookup(data, path)
        except KeyError:
            raise scenario.error(at, "a path to an existing scenario field (dotted, list "
                                     "items by index)") from None
        if current is None and _optional_number(scenario, path):   # diverts_after_hours
            raise scenario.error(at, "a path to a numeric scenario field the scenario sets "
                                     "(it leaves this optional one unset: give it a value "
                                     "there to vary it)")
        if isinstance(current, bool) or not isinstance(current, (int, float)):
            raise scenario.error(at, "a path to a numeric scenario field", current)
        if isinstance(dist, FromCalibration):
            named = dist.estimates or (scenario.market.estimates if scenario.market else "")
            if not named:
                raise scenario.error(f"{at}.estimates", "an estimates file (the entry's "
                                                        "`estimates` or market.estimates)")
            estimates = Path(named)
            if not estimates.is_file():
                file, as_written = (written or {}).get(
                    f"{at}.estimates", (Path(scenario.source_file), named))
                raise InputError(file, f"{at}.estimates", "an existing estimates file "
                                 "(cqsim calibrate --estimate)", PurePath(as_written))
            if estimates not in files:   # each estimates file read and checked once
                data_file = estimates_data(estimates)
                files[estimates] = (data_file, read_correlation(data_file, estimates))
            data_file, correlation = files[estimates]
            try:
                resolved = dist.resolve(data_file, path, str(estimates))
            except ValidationError as exc:   # the estimate with this entry's low and high
                raise scenario.error(at, str(exc.errors()[0]["msg"]).removeprefix(
                    "Value error, ")) from None
            out.append(UncertainInput(path, resolved))
            key, source = dist.parameter or path, str(estimates.resolve())
            # the estimate's own share of the sd drawn (a held input's spread is independent)
            share = math.sqrt(max(1.0 - (dist.held_input_sd / resolved.sd) ** 2, 0.0))
            for other, (other_source, other_key, other_share) in estimated.items():
                r = correlation.get(frozenset((key, other_key)))
                if other_source == source and r is not None:
                    pairs[frozenset((path, other))] = r * share * other_share
            estimated[path] = (source, key, share)
        else:
            out.append(UncertainInput(path, dist))
    clash = overlapping(data, scenario.uncertain)
    if clash:
        raise scenario.error(f"uncertain.{clash[1]}", f"a field no other uncertain input "
                                                      f"sets (uncertain.{clash[0]} sets it too)")
    try:
        return correlate(out, pairs)
    except ValueError as exc:
        raise scenario.error("uncertain", str(exc)) from None


def as_scenario(scenario: Scenario | str | Path, call: str = "as_scenario") -> Scenario:
    """`scenario` itself, or the scenario file it names, loaded; anything else is the
    TypeError of `call`, the public function it was given to."""
    if isinstance(scenario, Scenario):
        return scenario
    if not isinstance(scenario, (str, os.PathLike)):
        raise wrong_type(call, "a scenario file's path or a Scenario (sim.load_scenario)",
                         scenario, "fields to change? sim.with_overrides(scenario, **fields) "
                         "sets them" if isinstance(scenario, Mapping) else "")
    return load_scenario(scenario)


def _check_paths(scenario: Scenario, written: dict[str, tuple[Path, str]]) -> None:
    """The geodata folder and reference scenario exist (errors name the file that set them)."""
    checks = (("network.geodata", scenario.network.geodata, "an existing folder with "
               "hubs.geojson and links.geojson", os.path.isdir),
              ("demand.reference_scenario", scenario.demand.reference_scenario,
               "an existing scenario file", os.path.isfile))
    for dotted, value, expected, exists in checks:
        if value is None:
            continue
        try:
            ok = exists(value)
        except (OSError, ValueError):
            ok = False
        if not ok:
            file, as_written = written.get(dotted, (Path(scenario.source_file), value))
            raise InputError(file, dotted, expected, PurePath(as_written))


def run_overrides(scenario: Scenario, *, seed: int | None = None,
                  replications: int | None = None, days: float | None = None) -> Scenario:
    """The scenario with the command line's seed, replications and horizon (a warm-up as
    that leaves less than MIN_DAYS of a shortened horizon to measure is dropped)."""
    overrides: dict[str, object] = {}
    if seed is not None:
        overrides["seed"] = seed
    if replications is not None:
        overrides["replications"] = replications
    if days is not None:
        overrides["horizon.days"] = days
        if days - scenario.horizon.warmup_days < MIN_DAYS:
            overrides["horizon.warmup_days"] = 0.0
    # run settings, not overrides of the model: run.json records them on their own
    return _replaced(scenario, overrides, record=False) if overrides else scenario


def check_days_setting(days: float | None, set_by: str,
                       varied: Mapping[str, tuple[str, Iterable[object]]],
                       file: str | Path) -> None:
    """Refuse a study's run setting `days` (a sweep's `days:`, `uncertainty --days`, named
    `set_by`) where it would replace what the study varies or fixes without a word, its runs
    table then recording values that were not run: `horizon.days` itself; a
    `horizon.warmup_days` that leaves less than MIN_DAYS (`run_overrides` drops it); an
    `equilibrium.days` longer (cut to the horizon); a window's `start_day` at or after it (the
    window has no effect).

    `varied`: dotted path -> (the field that sets it in `file`, its values); InputError naming
    that field."""
    if days is None:
        return
    for path, (field, values) in varied.items():
        if path == "horizon.days":
            raise InputError(file, field, f"horizon.days varied or {set_by} set, not both "
                             f"({set_by} {days:g} sets every run's horizon)")
        numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        top = max(numbers, default=0.0)
        if path == "horizon.warmup_days" and days - top < MIN_DAYS:
            expected = (f"a warm-up that leaves at least {MIN_DAYS:g} day of {{}} to measure "
                        f"(a longer one is dropped: its runs would have none)")
        elif path == "equilibrium.days" and top > days:
            expected = "feedback passes of at most {} (a longer one is cut to the run's horizon)"
        elif path.endswith(".start_day") and top >= days:
            expected = "a start inside the horizon of {} (a window starting later has no effect)"
        else:
            continue
        raise InputError(file, field, expected.format(f"{set_by} {days:g}"), top)


def overlapping(data: dict[str, Any], paths: Iterable[str]) -> tuple[str, str] | None:
    """The first two of `paths` (dotted, as `with_overrides` takes them; `data` the dumped
    scenario) that set the same field, or one a field inside the other's: the value run
    would be whichever came last, not the one recorded for the other. None if none do."""
    seen: list[tuple[str, str]] = []   # (field set, the path that sets it)
    for path in paths:
        fields = share_fields(data.get("market"), path) if share_gateways(path) else [path]
        for field in fields:
            for other, owner in seen:
                if owner != path and (field == other or field.startswith(other + ".")
                                      or other.startswith(field + ".")):
                    return owner, path
        seen += [(field, path) for field in fields]
    return None


def with_overrides(scenario: Scenario | str | Path, **fields: Any) -> Scenario:
    """Return a copy with dotted-path fields replaced and revalidated (of the scenario file
    `scenario` names, loaded, when it is a path).

    `with_overrides(s, **{"network.services.south-rail-sea-qinzhou.departures_per_week": 21})`

    A share of empties of named gateways (`market.empties.repositioned_share@west+north`, as
    the estimator names it) sets every lane of those gateways, so one value moves them all.
    The fields are recorded (`Provenance.overrides`): a run's folder says what was changed.
    """
    return _replaced(as_scenario(scenario, "with_overrides"), fields, record=True)


# the specs of a hub's, lock's or link's geodata fields, by what a change names (`TARGETS`)
_GEODATA_SPECS: dict[str, tuple[type[Spec], ...]] = {
    "hub": (HubSpec, TerminalSpec, ZoneSpec, BorderSpec), "lock": (LockSpec,),
    "link": (LinkSpec,)}


def _no_field(scenario: Scenario, dotted: str, node: object, key: str) -> InputError:
    """The error of an override's dotted path that leaves the scenario at `key` of `node`,
    with the key there it is close to, as a misspelt key of a file gets (`Provenance.nearest`)."""
    hint = did_you_mean(key, node) if isinstance(node, dict) else ""
    parts = dotted.split(".")
    kind = parts[1].removesuffix("s") if len(parts) == 4 and parts[0] == "network" else None
    geodata = _GEODATA_SPECS.get(kind or "", ())    # a hub, lock or link: its geodata's specs
    # a field of the geodata's: no path reaches it (a lock's other fields, its operation's,
    # are the scenario's: a misspelt one keeps its "did you mean")
    if geodata and key in (parts[1], parts[3]) and any(parts[3] in spec.model_fields
                                                       for spec in geodata):
        hint = (f"; a {kind}'s {parts[3]} is the geodata's: vary it through a set change in "
                f"the base, {{kind: set, {kind}: {parts[2]}, field: {parts[3]}, value: ...}}, "
                "and that change's changes.N.value (docs/sweeps.md)")
        known = _network_ids(scenario, str(kind))
        if known is not None and parts[2] not in known:   # the set change would refuse it
            hint = (f"; {parts[2]} is no {kind} of the scenario's network (its geodata and "
                    f"changes){did_you_mean(parts[2], known)}: `cqsim list "
                    f"{'links' if kind == 'link' else 'hubs'}` lists them")
    return InputError(scenario.source_file, dotted, f"an existing scenario field{hint}")


def _network_ids(scenario: Scenario, kind: str) -> set[str] | None:
    """The ids of the hubs, locks or links (`kind`) of `scenario`'s network: its geodata's
    and those its changes add (add_hub, add_link), as the build knows them; None when the
    geodata cannot be read (the build says why). What `_no_field`'s geodata hint checks the
    id against, so an unknown id is not sent to a set change that would refuse it."""
    from sim.geodata import read_hubs, read_links, read_locks

    folder = Path(scenario.network.geodata)
    try:
        ids: set[str] = set(read_hubs(folder) if kind == "hub" else read_locks(folder)
                            if kind == "lock" else read_links(folder))
    except (InputError, OSError):
        return None
    for change in scenario.changes:
        if isinstance(change, AddHub) and kind == "hub":
            ids.add(change.hub.id)
        elif isinstance(change, AddLink) and kind == "link":
            ids.add(change.link.id)
    return ids


def _replaced(scenario: Scenario, fields: dict[str, Any], record: bool) -> Scenario:
    """`with_overrides`, recording the fields in the provenance only when `record`."""
    data = scenario.model_dump(mode="json")
    clash = overlapping(data, fields)
    if clash:
        raise InputError(scenario.source_file, clash[1], f"a field no other override sets "
                                                         f"({clash[0]} sets it too)")
    for dotted, value in fields.items():
        if share_gateways(dotted):
            if set_share(data.get("market"), dotted, value, f"set by override ({dotted})"):
                raise InputError(scenario.source_file, dotted, "gateways with a lane in "
                                                               "market.empties.lanes")
            continue
        node: Any = data
        keys = dotted.split(".")
        for key in keys[:-1]:
            if isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            elif isinstance(node, dict) and key in node:
                node = node[key]
            else:
                raise _no_field(scenario, dotted, node, key)
        if isinstance(node, dict) and keys[-1] in node:
            node[keys[-1]] = value
        elif isinstance(node, list) and keys[-1].isdigit() and int(keys[-1]) < len(node):
            node[int(keys[-1])] = value
        else:
            raise _no_field(scenario, dotted, node, keys[-1])
    try:
        replaced = Scenario.model_validate(data)
    except ValidationError as exc:
        error = validation_error(exc, Provenance(), scenario.source_file, model=Scenario)
        shares = [dotted for dotted in fields if share_gateways(dotted)]
        if shares and error.field.startswith("market.empties.lanes."):   # the path as given
            error = InputError(error.file, shares[0], error.expected, error.got)
        raise error from None
    if not record:
        return replaced
    # each field as validated (an int for NumPy's int64, a number for a numeric string):
    # the provenance is dumped as JSON with the scenario, which a raw value may not be
    held = replaced.model_dump(mode="json")
    provenance = replaced.provenance.model_copy(update={"overrides": {
        **replaced.provenance.overrides, **{dotted: lookup(held, dotted) for dotted in fields}}})
    return replaced.model_copy(update={"provenance": provenance})
