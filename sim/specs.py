"""Component specs: the typed, documented attribute schema of every network component.

Specs are immutable descriptions (what the network *is*); runtime objects in `sim.engine`
hold state (what is happening). Each kind of component is one spec class here, one runtime
class in `sim.engine` and one entry in the registry (`sim.components`); what differs between
kinds (the time a vehicle spends passing a hub, the wait to board a service) is a method of
its spec, not a test of a `kind` string elsewhere. Every numeric field states its unit in
its description; every shipped figure carries a `source`.
"""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Callable
from functools import cache
from itertools import pairwise
from typing import Annotated, Any, ClassVar, Literal, Union, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sim.errors import given, yaml_float
from sim.units import (
    DAYS_PER_YEAR,
    HOURS_PER_DAY,
    HOURS_PER_WEEK,
    HOURS_PER_YEAR,
    MAX_DAYS,
    T_PER_MT,
    WEEKS_PER_YEAR,
)

Mode = Literal["rail", "river", "sea", "road", "air"]
Corridor = Literal["east", "west", "south", "north", "air", "coastal", "feeder"]
# the channels and the competing gateways reported in every corridors table (feeder last)
CORRIDORS: tuple[str, ...] = ("east", "west", "south", "north", "air", "coastal")
# the corridors of the gateways that compete with the plan's channels (the coastal ports by
# road and rail), which "channel trade" counts too: said apart where trade is summed up
COMPETING_CORRIDORS: tuple[str, ...] = ("coastal",)

# A sane ceiling for any capacity-like number: beyond it a value is a typo, not a plan.
ABSURD = 1e9
# Floors of rates: below them a rate means no service at all, and its inverse (a headway, a
# handling time) overflows (found by the fuzz test: 5e-324 departures a week crashed a run).
MIN_DEPARTURES_PER_WEEK = 1e-3  # one departure in 19 years
MIN_TEU_PER_DAY = 1e-2          # one TEU in 100 days
MIN_TEU_PER_HOUR = 1e-3         # one TEU in 6 weeks of handling
MIN_TRAINS_PER_DAY = 1e-3       # one train in 3 years through a border's gauge change


Check = Callable[[Any], 'str | FieldError | None']


def _exponent_hint(text: str) -> str:
    """How to write `text` as a YAML number when it reads as one to Python but as text to
    YAML 1.1 (`1e3`, `1.0e9`: the exponent needs a sign and the mantissa a dot), or was
    quoted (`'31'`)."""
    try:
        value = float(text)
    except ValueError:
        return ""
    if not math.isfinite(value):
        return ""
    if "e" not in text.lower():   # a number in quotes: YAML keeps quoted text as text
        return "; write it without quotes"
    return f"; YAML reads {text.strip()} as text: write {yaml_float(value, exponent=True)}"


def _boolean(value: Any) -> str | None:
    """What is wrong with a value given for true or false: pydantic's lax mode reads 'off',
    'no', 0 and 0.0 as false and 'yes', 1 as true, so a quoted or numeric switch ran."""
    if isinstance(value, bool):
        return None
    return "true or false, unquoted" + (" (not text)" if isinstance(value, str)
                                        else " (not a number)" if isinstance(value, (int, float))
                                        else "")


def _strict_check(annotation: Any) -> Check | None:
    """A function telling what is wrong with a value given for a number (a boolean or a text
    that pydantic's lax mode would turn into 1 or 21), a switch (a text or number it would
    turn into true or false) or a list (a YAML set, whose order it would invent), for those
    annotations and the optionals, tuples, lists and dicts of them; None when the annotation
    holds none of them."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _strict_check(args[0])
    if annotation is bool:
        return _boolean
    if annotation in (int, float):
        def scalar(value: Any) -> str | None:
            if isinstance(value, bool):
                return "a number (not true or false)"
            if isinstance(value, str):
                return "a number (not text)" + _exponent_hint(value)
            return None
        return scalar
    if origin in (Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        checks = [_strict_check(a) for a in members]
        if not members or any(c is None for c in checks) or (len(checks) > 1
                                                              and _boolean in checks):
            return None  # a member takes text or booleans (e.g. a `set` change's value)
        first = checks[0]
        return lambda value: None if value is None else first(value)  # type: ignore[misc]
    if origin in (tuple, list) and args:
        items = [_strict_check(a) for a in args if a is not Ellipsis]

        def sequence(value: Any) -> str | FieldError | None:
            if isinstance(value, (set, frozenset)):   # YAML's !!set: a mapping with no order
                return "a list, in order (not a set, which has none)"
            if not isinstance(value, (list, tuple)):
                return None
            for i, item in enumerate(value):
                check = items[0] if len(items) == 1 else (items[i] if i < len(items) else None)
                problem = check(item) if check else None
                if problem:
                    return _inside(str(i), problem, item)
            return None
        return sequence
    if origin is dict and len(args) == 2:
        inner = _strict_check(args[1])
        if inner is None:
            return None

        def mapping(value: Any) -> str | FieldError | None:
            if not isinstance(value, dict):
                return None
            for key, item in value.items():
                problem = inner(item)
                if problem:
                    return _inside(str(key), problem, item)
            return None
        return mapping
    return None


def _inside(key: str, problem: str | FieldError, item: Any) -> FieldError:
    """A problem of an item of a list or mapping as a FieldError naming the item
    (`market.choice.asc.west`, `seasonality.3`) and the value got there."""
    if isinstance(problem, FieldError):
        return FieldError(f"{key}.{problem.field}", problem.expected, problem.got)
    return FieldError(key, problem, item)


class FieldError(ValueError):
    """A model check's finding about one of its fields (an end before its start): the field,
    what was expected and what was got, so the message names `changes.0.end_day` and the
    value as a field's own check does (`sim.scenario.validation_error`)."""

    def __init__(self, field: str, expected: str, got: object) -> None:
        super().__init__(f"{field}: expected {expected}, got {got!r}")
        self.field, self.expected, self.got = field, expected, got


def located(err: Any, loc: tuple[Any, ...]) -> tuple[tuple[Any, ...], Any]:
    """A pydantic error's field and the value got there. A model check's FieldError adds the
    field it found wrong (`changes.0` -> `changes.0.end_day`) and that field's value; a
    missing field or an unknown key has no value to quote, nor has a row's check (its input
    the whole mapping), but a mapping where a list or number belongs is quoted as one; a
    null is NULL (`got null`). One home for the scenario, the
    pathway/candidates and the geodata messages, so each names the field and the value."""
    problem = (err.get("ctx") or {}).get("error")
    if isinstance(problem, FieldError):
        return (*loc, problem.field), given(problem.got)
    if err["type"] in ("missing", "extra_forbidden") or (
            isinstance(err.get("input"), dict) and not err["type"].endswith("_type")):
        return loc, None     # no value, or a row's whole mapping ("a mapping of 12 keys")
    return loc, given(err.get("input"))


def window_end_after_start(start_day: float, end_day: float) -> None:
    """FieldError on `end_day` unless it falls after `start_day`: one check of a window of
    days, for the disruptions and the dated outages."""
    if end_day <= start_day:
        raise FieldError("end_day", f"a day after start_day ({start_day:g})", end_day)


# what a day field (start_day, end_day) holds: a number on the model's calendar, not a date
# the fields that are a day of the model's calendar (not a rate per day: capacity_teu_per_day)
DAY_FIELDS = frozenset({"start_day", "end_day"})
DAY_EXPECTED = (f"a number: a day of the model's calendar, counted from 1 January of its first "
                f"year (day 0, the warm-up included), 0 to {MAX_DAYS:,}")
_BOUNDS = {"greater_than_equal": ("ge", ">="), "greater_than": ("gt", ">"),
           "less_than_equal": ("le", "<="), "less_than": ("lt", "<")}


# a bound in words, as a keyword's message says it ("days: expected at least 1")
_BOUND_WORDS = {">=": "at least", ">": "more than", "<=": "at most", "<": "less than"}


def expected(err: Any, noun: str = "key", words: bool = False) -> str:
    """What a pydantic error says was expected, phrased to follow "expected" in a message
    ("a number >= 0.001", "one of 'rail', 'river'... (did you mean 'rail'?)"); an unknown
    field is "no such `noun`" and a missing one "a value (the `noun` is required)" (a
    geodata feature's is an attribute, a scenario's a field: pydantic said "Field required").
    `words`: a bound as a Python keyword's message says it ("at least 1")."""
    kind, ctx = err["type"], err.get("ctx") or {}
    if isinstance(ctx.get("error"), FieldError):
        return str(ctx["error"].expected)
    if kind == "missing":
        return f"a value (the {'field' if noun == 'key' else noun} is required)"
    if kind == "extra_forbidden":              # pydantic: "Extra inputs are not permitted"
        return f"no such {noun} (unknown field)"
    if kind in _BOUNDS:
        key, sign = _BOUNDS[kind]
        if words:
            bound = ctx.get(key)
            return f"{_BOUND_WORDS[sign]} {bound:g}" if isinstance(bound, float) else \
                f"{_BOUND_WORDS[sign]} {bound}"
        return f"a number {sign} {ctx.get(key)}"
    if kind == "literal_error":
        from sim.errors import did_you_mean

        choices = [c.strip(" '") for c in str(ctx.get("expected", "")).replace(" or ", ", ")
                   .split(",")]
        return f"one of {ctx.get('expected')}" + did_you_mean(err.get("input"), choices)
    # int_parsing_size: a float too large for an int (1.0e+300), pydantic's "exceeded
    # maximum size"
    if kind in ("int_type", "int_parsing", "int_from_float", "int_parsing_size"):
        return "a whole number"
    if kind in ("float_type", "float_parsing"):
        if (err.get("loc") or ("",))[-1] in DAY_FIELDS:   # a date was typed, often
            return DAY_EXPECTED
        return "a number"
    if kind == "string_type":
        if isinstance(err.get("input"), bool):   # `description: yes` read as true
            return "text (YAML reads yes, no, on and off unquoted as true or false: quote it)"
        return "text"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "a mapping (key: value lines)"   # pydantic: "a valid dictionary or instance..."
    if kind in ("list_type", "tuple_type"):
        return "a list"                          # pydantic: "a valid tuple" (a Python type)
    if kind == "string_too_short":         # pydantic: "String should have at least 1..."
        low = ctx.get("min_length")
        return f"text of at least {low} character{'s' if low != 1 else ''}"
    if kind in ("too_short", "too_long"):      # pydantic: "Tuple should have at least 12..."
        low, high = ctx.get("min_length"), ctx.get("max_length")
        size = (f"{low}" if low == high else f"at least {low}" if kind == "too_short"
                else f"at most {high}")
        return f"a list of {size} items (it has {ctx.get('actual_length')})"
    msg = str(err["msg"]).removeprefix("Value error, ").removeprefix("Input should be ")
    return msg


@cache
def _field_check(model: type, field: str) -> Check | None:
    info = model.model_fields.get(field)  # type: ignore[attr-defined]
    return _strict_check(info.annotation) if info is not None else None


class Spec(BaseModel):
    """Base of all specs: immutable, strict about unknown keys, no NaN or infinity, and no
    boolean or text where a number belongs (`departures_per_week: true` is refused, not run
    as 1)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _strict_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        check = _field_check(cls, info.field_name) if info.field_name else None
        problem = check(value) if check is not None else None
        if isinstance(problem, FieldError):   # an item's: named by its key or position
            raise problem
        if problem:
            raise ValueError(problem)
        return value


def check_printable(text: str, what: str) -> str:
    """`text` when it is all printable; ValueError naming `what` otherwise (a name or id with
    ANSI codes recoloured the user's terminal, and one titles tables and result folders)."""
    if not text.isprintable():
        raise ValueError(f"{what} of printable characters (no control or escape characters)")
    return text


# text for people that reaches tables, the console and the report: a control or escape
# character in it recoloured the terminal or broke a table's row
Printable = Annotated[str, AfterValidator(lambda text: check_printable(text, "text"))]


class NodeSpec(Spec):
    """A place on the map: a hub that handles freight, or a lock that vessels pass."""

    id: str = Field(min_length=1, description="unique snake_case id")
    name: Printable = Field(min_length=1, description="display name")
    name_zh: Printable = Field("", description="Chinese name (simplified), optional; shown "
                                               "beside name")
    kind: str = Field(description="what the node is (each kind a spec class of its own)")
    country: str = Field(min_length=2, max_length=2, description="ISO 3166 alpha-2")
    lon: float = Field(ge=-180, le=180, description="longitude, degrees (EPSG:4326)")
    lat: float = Field(ge=-90, le=90, description="latitude, degrees (EPSG:4326)")
    sources: str = Field(min_length=1, description="source ids, ';'-separated")
    note: str = ""


class HubSpec(NodeSpec):
    """A node where freight is handled: yard, handling positions, dwell. Concrete kinds:
    `TerminalSpec`, `BorderSpec` (and any kind registered in `sim.components`)."""

    handling_servers: int = Field(gt=0, le=10_000, description="parallel handling positions")
    handling_teu_per_hour: float = Field(ge=MIN_TEU_PER_HOUR, le=ABSURD,
                                         description="TEU/h per position")
    handling_setup_hours: float = Field(0.0, ge=0, le=1e4, description="h fixed per job")
    handling_dist: Literal["deterministic", "exponential"] = Field(
        "deterministic", description="distribution of handling time around its mean")
    yard_teu: float = Field(gt=0, le=ABSURD, description="yard capacity, TEU")
    dwell_hours: float = Field(0.0, ge=0, le=1e4, description="customs/clearance dwell, h")

    @property
    def transfers(self) -> bool:
        """Whether freight may change service here."""
        return True

    def pass_through_hours(self, hours: float, service: ServiceSpec) -> float:
        """`hours` plus the expected time a vehicle of `service` spends here on its way
        through (route costs): it stands for the service's stop time."""
        return hours + service.stop_hours

    def mean_handling_hours(self, teu: float) -> float:
        """Mean hours a handling position takes for a job of `teu`: the set-up, then `teu` at
        the position's rate (route costs, a border's trains; the engine's `Hub.handling_time`
        draws around the same mean)."""
        return self.handling_setup_hours + teu / self.handling_teu_per_hour

    def expected_dwell_hours(self) -> float:
        """Expected hours freight handled here dwells before it goes on (customs,
        clearance), as route costs weigh it: the mean dwell. A kind whose runtime class
        adds time in `clearance_hours` (an inspection of a share of the jobs) says here
        what it adds on average, so that shippers' route choice sees it."""
        return self.dwell_hours

    def handling_teu_per_year(self) -> float:
        """Handling capacity, TEU/yr: every position busy all year."""
        return self.handling_servers * self.handling_teu_per_hour * HOURS_PER_YEAR


class TerminalSpec(HubSpec):
    """A rail terminal, river port, sea port or airport."""

    kind: Literal["rail_terminal", "river_port", "sea_port", "airport"] = Field(
        description="what the hub is")


class ZoneSpec(HubSpec):
    """Where shippers are (e.g. Chongqing's exporters and importers): freight starts or ends
    there and reaches the terminals by road, but is handled nowhere: the handling fields
    default to a nominal, ample position so that a zone adds no time and never queues."""

    kind: Literal["zone"] = Field(description="a zone of shippers")
    handling_servers: int = Field(10_000, gt=0, le=10_000, description="nominal: ample")
    handling_teu_per_hour: float = Field(1e6, gt=0, le=ABSURD, description="nominal: ample")
    yard_teu: float = Field(1e8, gt=0, le=ABSURD, description="nominal: ample")


class BorderSpec(HubSpec):
    """A border crossing: a hub whose through trains stop for the border (dwell) and, where
    the gauge changes, are handled whole at a handling position."""

    kind: Literal["border"] = Field(description="a border crossing")
    gauge_change: bool = Field(False, description="trains change gauge here")
    outbound_trains_per_day: float | None = Field(
        None, ge=MIN_TRAINS_PER_DAY, le=1000,
        description="published gauge-change capacity for trains leaving China, trains/day: "
                    "each direction then has handling_servers positions of its own and a "
                    "train holds one for handling_servers x 24 / this h")
    inbound_trains_per_day: float | None = Field(
        None, ge=MIN_TRAINS_PER_DAY, le=1000,
        description="the same for trains towards China, trains/day")

    @model_validator(mode="after")
    def _directional(self) -> BorderSpec:
        if self.directional and not self.gauge_change:
            raise ValueError("directional capacities need gauge_change: true")
        return self

    @property
    def directional(self) -> bool:
        """Whether each direction has its own gauge-change positions (a capacity is
        published for at least one of them)."""
        return self.outbound_trains_per_day is not None or (
            self.inbound_trains_per_day is not None)

    @property
    def trains_a_day(self) -> bool:
        """Whether both directions have a published capacity in trains a day: a train then
        holds a position servers x 24 / trains a day h (`train_hours`), so the positions,
        set-up and handling rate do not set the border's capacity."""
        return self.gauge_change and self.outbound_trains_per_day is not None and \
            self.inbound_trains_per_day is not None

    @property
    def transfers(self) -> bool:
        """Freight is not re-booked where trains change gauge: they pass through whole."""
        return not self.gauge_change

    def train_hours(self, teu: float, outbound: bool | None) -> float:
        """Hours a through train holds a gauge-change position: from the direction's
        published capacity when there is one, else set-up plus `teu` at the handling rate;
        `outbound` None: the mean of the two directions."""
        if outbound is None:
            return (self.train_hours(teu, True) + self.train_hours(teu, False)) / 2
        per_day = self.outbound_trains_per_day if outbound else self.inbound_trains_per_day
        if per_day is None:
            return self.mean_handling_hours(teu)
        return self.handling_servers * HOURS_PER_DAY / per_day

    def pass_through_hours(self, hours: float, service: ServiceSpec) -> float:
        """`hours` plus the border dwell and, where the gauge changes, the handling of the
        whole vehicle."""
        hours += self.expected_dwell_hours()
        if self.gauge_change:
            hours += self.train_hours(service.vehicle_capacity_teu, None)
        return hours


class LockSpec(NodeSpec):
    """A ship lock: `lanes` chambers per direction, one lockage per lane every cycle."""

    kind: Literal["lock"] = Field("lock", description="a ship lock")
    lanes: int = Field(gt=0, le=100, description="lock lanes (chambers) per direction")
    cycle_hours: float = Field(gt=0, le=1e3, description="h between lockages of a lane")
    chamber_t: float = Field(gt=0, le=ABSURD, description="t of vessels per lockage")
    passage_hours: float = Field(gt=0, le=1e3, description="h from entering to leaving")

    def flights(self) -> tuple[tuple[str, str], ...]:
        """(flight id, direction it serves in normal operation): `lanes` flights each way,
        `south` downstream and `north` upstream as at the Three Gorges (cg_lock_* figures),
        then `south_2`, `north_2`..."""
        out: list[tuple[str, str]] = []
        for k in range(self.lanes):
            tail = "" if k == 0 else f"_{k + 1}"
            out += [(f"south{tail}", "down"), (f"north{tail}", "up")]
        return tuple(out)

    def lockages(self, hours: float) -> float:
        """Lockages one direction can run in `hours` with every lane cycling."""
        return self.lanes * hours / self.cycle_hours

    def lift_t(self, hours: float) -> float:
        """Tonnes one direction can lift in `hours` with every lane cycling."""
        return self.chamber_t * self.lockages(hours)

    def expected_hours(self, hours: float) -> float:
        """`hours` plus the uncongested time to pass: the passage and half a cycle's wait."""
        return hours + (self.passage_hours + self.cycle_hours / 2.0)


class LinkSpec(Spec):
    """An infrastructure segment between two hubs, usable in both directions."""

    id: str = Field(min_length=1, description="unique id")
    from_hub: str = Field(min_length=1, description="hub id at the first vertex")
    to_hub: str = Field(min_length=1, description="hub id at the last vertex")
    mode: Mode
    corridor: Corridor
    km: float = Field(gt=0, le=1e5, description="route distance, km")
    hours: float = Field(gt=0, le=1e5, description="running time, h")
    lock: str | None = Field(None, description="lock passed on the way")
    lock_at: float | None = Field(None, ge=0, le=1, description="fraction of running time")
    coords: tuple[tuple[float, float], ...] = Field(
        min_length=2, description="geometry vertices (lon, lat)")
    sources: str = Field(min_length=1)
    note: str = ""

    @model_validator(mode="after")
    def _two_ends(self) -> LinkSpec:
        if self.from_hub == self.to_hub:
            raise ValueError("from_hub and to_hub must differ (a link from a hub to itself)")
        if self.lock_at is not None and self.lock is None:
            raise ValueError("lock_at only with lock (the id of the lock the link passes)")
        return self


class ServiceSpec(Spec):
    """A transport service over a sequence of stops, run by vehicles on a timetable
    (`ScheduledService`) or as a continuous flow (`ContinuousService`)."""

    corridor: Corridor
    mode: Mode
    stops: tuple[str, ...] = Field(min_length=2, description="hub ids in running order")
    links: tuple[str, ...] | None = Field(
        None, description="link ids between stops; needed only where links are parallel")
    schedule: str = Field(description="how the service runs (each a spec class of its own)")
    capacity_field: ClassVar[str] = ""   # the field that sets its capacity (a planner's knob)
    price_cny_per_teu: float = Field(ge=0, le=ABSURD, description="tariff end to end, CNY/TEU")
    stop_hours: float = Field(2.0, ge=0, le=1e3, description="h a vehicle stands at a stop")
    bidirectional: bool = True
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct_stops(self) -> ServiceSpec:
        if len(set(self.stops)) != len(self.stops):
            raise ValueError("stops must not repeat")
        return self

    @property
    def vehicle_capacity_teu(self) -> float:
        """TEU one vehicle carries (0 where no vehicle runs: a continuous flow)."""
        return 0.0

    def boarding_hours(self, lot_teu: float) -> float:
        """Expected hours a lot waits to board, uncongested (route costs)."""
        raise NotImplementedError

    def capacity_teu_per_year(self) -> float:
        """TEU per year offered in each direction."""
        raise NotImplementedError


class ScheduledService(ServiceSpec):
    """Vehicles (trains, barges, ships) leaving the first stop every headway."""

    schedule: Literal["scheduled"] = "scheduled"
    capacity_field: ClassVar[str] = "departures_per_week"
    departures_per_week: float = Field(ge=MIN_DEPARTURES_PER_WEEK, le=1e4,
                                       description="per direction")
    vehicle_teu: float = Field(gt=0, le=1e5, description="TEU per vehicle")
    min_load_share: float = Field(
        0.0, ge=0, le=1,
        description="dispatch rule: a vehicle leaves at a timetable slot only when the TEU "
                    "queued to board it at its stops reach this share of vehicle_teu (of its "
                    "capacity at the slot during a disruption), else the slot is skipped "
                    "(a block train runs when a train-load is assembled); 0, the default, "
                    "runs every slot whatever its load")
    max_hold_slots: int | None = Field(
        None, ge=1, le=1000,
        description="with min_load_share: after this many slots skipped in a row the next "
                    "slot runs with whatever is queued (if anything), so freight waits at "
                    "most max_hold_slots + 1 headways for a departure; unused at a share "
                    "of 0")

    @model_validator(mode="after")
    def _hold_rule(self) -> ScheduledService:
        """A share of the dispatch rule needs a bound on the hold: without one, freight short
        of the share could wait for ever. A bound with a share of 0 has nothing to bound
        (every slot runs), and is allowed so that a sweep of the share can start at 0."""
        if self.min_load_share > 0 and self.max_hold_slots is None:
            raise FieldError("max_hold_slots", "max_hold_slots, a whole number of slots from "
                             "1 to 1000, with min_load_share above 0 (set beside the share, "
                             "or in a sweep's fixed or grid; in changes, before the share)",
                             None)
        return self

    @property
    def headway_hours(self) -> float:
        """Hours between departures."""
        return HOURS_PER_WEEK / self.departures_per_week

    @property
    def vehicle_capacity_teu(self) -> float:
        return self.vehicle_teu

    def boarding_hours(self, lot_teu: float) -> float:
        """Half a headway: a lot arrives at a random moment of the timetable."""
        return self.headway_hours / 2.0

    def capacity_teu_per_year(self) -> float:
        return self.departures_per_week * self.vehicle_teu * WEEKS_PER_YEAR


class ContinuousService(ServiceSpec):
    """Trucks or aircraft between two stops: freight leaves as fast as a TEU/day rate allows."""

    schedule: Literal["continuous"]
    capacity_field: ClassVar[str] = "capacity_teu_per_day"
    capacity_teu_per_day: float = Field(ge=MIN_TEU_PER_DAY, le=ABSURD, description="per direction")

    @model_validator(mode="after")
    def _two_stops(self) -> ContinuousService:
        if len(self.stops) != 2:
            raise ValueError("a continuous service runs between exactly two stops")
        return self

    def boarding_hours(self, lot_teu: float) -> float:
        """The time to load one lot at the line's rate."""
        return lot_teu / (self.capacity_teu_per_day / HOURS_PER_DAY)

    def capacity_teu_per_year(self) -> float:
        return self.capacity_teu_per_day * DAYS_PER_YEAR


def exactly_one(first: object, second: object, first_name: str, second_name: str) -> None:
    """Raise ValueError unless exactly one of two optional fields is given."""
    if (first is None) == (second is None):
        raise ValueError(f"give exactly one of {first_name} or {second_name}")


FACTOR_MAX = 1e6    # a month's factor against the others': beyond it the sum overflowed
FACTOR_SUM_MIN = 1e-6   # below it the mean underflowed to 0 (5e-324 and zeros divided by 0)


def check_factors(values: tuple[float, ...] | None, name: str, *, field: bool = False) -> None:
    """Raise ValueError unless monthly factors (when given) are from 0 to FACTOR_MAX with a
    sum of at least FACTOR_SUM_MIN: factors that normalise to a finite mean (1e308 a month
    summed to infinity and gave no demand without a word). `field`: `name` is a field of the
    model whose check this is (a FieldError then names it and the factors got)."""
    if values is not None and not (all(0 <= v <= FACTOR_MAX for v in values)
                                   and sum(values) >= FACTOR_SUM_MIN):
        what = (f"{'monthly' if field else name} factors from 0 to {FACTOR_MAX:,.0f} with a "
                f"sum of at least {FACTOR_SUM_MIN:.6f}")
        if field:
            raise FieldError(name, what, list(values))
        raise ValueError(what)


class DayWindow(Spec):
    """A window of simulation days (day 0 starts the run, warm-up included)."""

    start_day: float = Field(ge=0, le=MAX_DAYS)
    end_day: float = Field(gt=0, le=MAX_DAYS)

    @model_validator(mode="after")
    def _window(self) -> DayWindow:
        window_end_after_start(self.start_day, self.end_day)
        return self

    @property
    def hours(self) -> tuple[float, float]:
        """(start, end) in hours from the run's start, the engine's clock."""
        return self.start_day * HOURS_PER_DAY, self.end_day * HOURS_PER_DAY


class ScheduledOutage(DayWindow):
    """A fixed window of reduced capacity (0 = closed)."""

    shape: Literal["scheduled"] = "scheduled"
    capacity_factor: float = Field(0.0, ge=0, le=1, description="share of capacity left")
    source: str = Field("", description="where the dates come from")


class RandomOutage(Spec):
    """Random events: a Poisson number per year starting uniformly in the season's months,
    each lasting a lognormal time (median `median_hours`, log-sd `sigma`)."""

    shape: Literal["random"] = "random"
    name: str = Field(min_length=1, max_length=60,
                      description="names the random stream (e.g. fog): one stream per name")
    events_per_year: float = Field(ge=0, le=10_000)
    months: tuple[int, ...] = Field(tuple(range(1, 13)), min_length=1, max_length=12,
                                    description="months (1-12) in which events start")
    median_hours: float = Field(gt=0, le=8760, description="median duration, h")
    sigma: float = Field(0.0, ge=0, le=5, description="log-sd of the duration (0 = fixed)")
    max_hours: float | None = Field(None, gt=0, le=8760, description="cap on one duration")
    capacity_factor: float = Field(0.0, ge=0, le=1, description="share of capacity left")
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _months(self) -> RandomOutage:
        if any(m < 1 or m > 12 for m in self.months) or len(set(self.months)) != len(
                self.months):
            raise ValueError("months must be distinct numbers from 1 to 12")
        return self

    @property
    def mean_hours(self) -> float:
        """Mean duration of one event (uncapped)."""
        return self.median_hours * math.exp(self.sigma * self.sigma / 2.0)


def _outage_shape(value: Any) -> Any:
    """An outage's shape (a callable discriminator: `shape` has a default, and every field of
    a Spec passes the strict-number check, which a plain discriminator field may not)."""
    return value.get("shape", "scheduled") if isinstance(value, dict) else getattr(
        value, "shape", None)


OUTAGE_TAGS = ("scheduled", "random")
Outage = Annotated[Annotated[ScheduledOutage, Tag("scheduled")]
                   | Annotated[RandomOutage, Tag("random")], Discriminator(_outage_shape)]


class Maintenance(DayWindow):
    """One flight of a lock out of service; the flight serving the other direction
    alternates between the two."""

    flight: str = Field(min_length=1, description="id of the flight under maintenance "
                                                  "(`north`, `south`, `north_2`...)")
    reversal_hours: float = Field(48.0, gt=0, le=8760,
                                  description="h the surviving flight serves one direction "
                                              "before it turns round")
    source: str = Field(min_length=1)


class VesselClass(Spec):
    """Vessels that share a lock with the simulated container vessels (bulk carriers,
    dangerous goods, ro-ro, passenger ships): a Poisson stream per direction."""

    mt_per_year: float | None = Field(None, ge=0, le=1e4, description="Mt/yr, both ways")
    vessels_per_year: float | None = Field(None, ge=0, le=1e7, description="both ways")
    vessel_t: float = Field(gt=0, le=1e6,
                            description="mean t of cargo a vessel carries fully loaded: its "
                                        "size in the chamber")
    vessel_t_cv: float = Field(0.0, ge=0, le=2,
                               description="coefficient of variation of t per vessel (gamma)")
    downstream_share: float = Field(0.5, ge=0, le=1,
                                    description="share of the vessels going downstream")
    load_factor: dict[Literal["down", "up"], float] | None = Field(
        None, description="cargo carried / vessel_t by direction (default 1 both ways): "
                          "vessels come back, loaded lighter one way")
    priority: int = Field(5, ge=0, le=100,
                          description="order of entry when priority applies (0 first)")
    entry_hours: dict[Literal["down", "up"], tuple[float, float]] | None = Field(
        None, description="daily window (start h, end h of the day) in which these vessels "
                          "may enter, in dedicated lockages (class-1 dangerous goods)")
    lift: bool = Field(False, description="uses the ship lift, not the locks")
    diverts: bool = Field(False, description="goes another way (road transfer round the "
                                             "dam, rail) when the expected wait exceeds the "
                                             "lock's divert_wait_hours")
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _volume(self) -> VesselClass:
        exactly_one(self.mt_per_year, self.vessels_per_year, "mt_per_year", "vessels_per_year")
        for hours in (self.entry_hours or {}).values():
            if not 0 <= hours[0] < hours[1] <= 24:
                raise ValueError("entry_hours: 0 <= start < end <= 24")
        if any(not 0 < f <= 1 for f in (self.load_factor or {}).values()):
            raise ValueError("load_factor: shares in (0, 1]")
        return self

    def load(self, direction: str) -> float:
        """Cargo carried / vessel_t in `direction` ("down" or "up")."""
        return (self.load_factor or {}).get("down" if direction == "down" else "up", 1.0)

    @property
    def per_year(self) -> float:
        """Vessels per year, both directions."""
        if self.vessels_per_year is not None:
            return self.vessels_per_year
        assert self.mt_per_year is not None
        share = self.downstream_share
        mean_load = share * self.load("down") + (1 - share) * self.load("up")
        return self.mt_per_year * T_PER_MT / (self.vessel_t * mean_load)


class ShipLift(Spec):
    """A ship lift beside a lock: one vessel a trip, both directions in turn."""

    trip_hours: float = Field(gt=0, le=100, description="h from one trip start to the next")
    max_vessel_t: float = Field(gt=0, le=1e5, description="largest vessel it takes, t")
    source: str = Field(min_length=1)


# the class of the simulated container vessels at a lock: lock_classes' rows of them, the
# priority key `sim.engine.lock` gives them; no scenario class may take the name
CONTAINER_CLASS = "container"


class LockOperation(Spec):
    """How a lock is operated in a scenario: the other vessels, priority, outages,
    maintenance, the ship lift and the free behavioural parameters."""

    classes: dict[str, VesselClass] = Field(default_factory=dict,
                                            description="vessels other than the simulated "
                                                        "container vessels, by class name")
    container_priority: int = Field(4, ge=0, le=100,
                                    description="priority of the simulated container vessels")
    priority_when: Literal["always", "one_flight", "never"] = Field(
        "one_flight", description="when vessels enter by priority class (else first come "
                                  "first served by declaration): the published rules are for "
                                  "periods with one flight (cg_lock_priority_2017)")
    chamber_vessels: int | None = Field(None, gt=0, le=100, description="vessels per lockage")
    divert_wait_hours: float | None = Field(
        None, gt=0, le=1e4, description="a diverting class's vessel goes another way when "
                                        "the tonnes ahead of it would take longer than this "
                                        "to pass (the dispatcher's total control)")
    maintenance_divert_wait_hours: float | None = Field(
        None, gt=0, le=1e4, description="divert_wait_hours while a flight is in maintenance "
                                        "(none: divert_wait_hours): the shippers of an "
                                        "announced maintenance may wait longer than in "
                                        "normal operation")
    seasonality: tuple[float, ...] | None = Field(
        None, min_length=12, max_length=12,
        description="monthly factors of the classes' traffic, January first (normalised)")
    passage_hours_by_month: tuple[float, ...] | None = Field(
        None, min_length=12, max_length=12,
        description="h to pass the flight, January first (four or five steps by reservoir "
                    "level); none = the lock's passage_hours")
    outages: tuple[Outage, ...] = Field((), description="stops for fog, wind, floods...")
    maintenance: tuple[Maintenance, ...] = Field((), description="flights out of service")
    lift: ShipLift | None = None
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> LockOperation:
        check_factors(self.seasonality, "seasonality", field=True)
        check_factors(self.passage_hours_by_month, "passage_hours_by_month", field=True)
        if CONTAINER_CLASS in self.classes:   # it would merge with the simulated ones
            raise FieldError(f"classes.{CONTAINER_CLASS}", "a class name other than "
                             f"{CONTAINER_CLASS!r}, the simulated container vessels' (their "
                             "statistics and priority are the lock's own)", CONTAINER_CLASS)
        if self.lift is None and any(c.lift for c in self.classes.values()):
            raise ValueError("a class uses the ship lift but the lock has no `lift`")
        if self.divert_wait_hours is None and any(c.diverts for c in self.classes.values()):
            raise ValueError("a class diverts but divert_wait_hours is not set")
        if self.maintenance_divert_wait_hours is not None and self.divert_wait_hours is None:
            raise FieldError("maintenance_divert_wait_hours", "a value only beside "
                             "divert_wait_hours (the bound of normal operation)",
                             self.maintenance_divert_wait_hours)
        spans = sorted(range(len(self.maintenance)), key=lambda i: (
            self.maintenance[i].start_day, self.maintenance[i].end_day))
        for a, b in pairwise(spans):
            first, then = self.maintenance[a], self.maintenance[b]
            if then.start_day < first.end_day:
                raise FieldError(f"maintenance.{b}.start_day", f"a day no earlier than the "
                                 f"end of maintenance.{a} ({first.end_day:g}): maintenance "
                                 "periods must not overlap", then.start_day)
        return self

    def divert_bound(self, maintained: bool) -> float | None:
        """The wait past which a diverting class goes another way (h; None: none does):
        `maintenance_divert_wait_hours` while a flight is `maintained`, where set, else
        `divert_wait_hours`. One home for the rule the lock applies and `sim.lockfit` fits."""
        if maintained and self.maintenance_divert_wait_hours is not None:
            return self.maintenance_divert_wait_hours
        return self.divert_wait_hours


class EmissionFactor(Spec):
    """CO2e per tonne-km of one mode, as its source gives it (baseline.yaml: China's for rail and
    road, the 1520 mm network's folded into rail, international averages for ships and planes,
    a European one for the river; their scopes differ and the model claims none)."""

    g_per_tkm: float = Field(ge=0, le=1e5)
    source: str = Field(min_length=1)


class CommodityClass(Spec):
    """A class of goods: what a TEU is worth and what an hour of delay costs its owner."""

    value_cny_per_teu: float = Field(ge=0, le=ABSURD, description="0 only for empty boxes")
    value_of_time_cny_per_teu_hour: float = Field(ge=0, le=1e7)
    tonnes_per_teu: float = Field(10.0, gt=0, le=40)
    lot_teu: float | None = Field(
        None, gt=0, le=10_000,
        description="TEU per lot (consignment) of this class; none: demand.lot_teu. Value-dense "
                    "goods ship in smaller consignments, and a smaller lot keeps a run's trade "
                    "from moving in steps of one very valuable lot")
    source: str = Field(min_length=1)

    @field_validator("value_of_time_cny_per_teu_hour")
    @classmethod
    def _time_has_a_cost(cls, v: float, info: ValidationInfo) -> float:
        """Goods worth something cost something to hold: the market model raises the
        inventory cost geometrically toward the revealed time cost (`Choice.value_of_time`),
        and from 0 it stays 0 at every position short of 1, then jumps (review60 #7)."""
        if v <= 0 and info.data.get("value_cny_per_teu", 0) > 0:
            raise ValueError("Input should be greater than 0 for a class whose TEU is worth "
                             "something (0 only for empty boxes)")
        return v


FlowClass = Literal["trade", "domestic", "transit", "chengdu", "empty"]
# what a flow's freight is: Chongqing's goods trade (the only class counted as trade), domestic
# Yangtze boxes, transit from other provinces, Chengdu's own trade (throughput, not trade),
# empty boxes repositioned (`market.empties`: sized when the plan is settled)
FLOW_CLASSES: tuple[str, ...] = get_args(FlowClass)


FlowKey = tuple[str, str, str]
"""(origin, destination, commodity): a flow's `Flow.row_key`."""


class Flow(Spec):
    """One row of the origin-destination table: annual TEU of a class from one hub to another."""

    origin: str
    destination: str
    commodity: str
    flow_class: FlowClass = Field("trade", description="what the freight is (FLOW_CLASSES)")
    teu_per_year: float = Field(ge=0, le=ABSURD, description="> 0 but for empty boxes, which "
                                                          "are sized when the plan settles")
    source: str = Field(min_length=1)
    market: str = Field("", description="partner market of a market-table flow ('' for others)")
    gateway: str = Field("", description="a gateway of the market section this (non-market) "
                                         "flow is bound to: its routes ride only that "
                                         "gateway's services ('' = any route)")

    @property
    def row_key(self) -> FlowKey:
        """(origin, destination, commodity): a table has one flow per such triple, and it is
        what matches a flow with its reference's (`sim.demand`, `sim.equilibrium`) across
        plans whose flows differ in order or in number."""
        return self.origin, self.destination, self.commodity

    @property
    def key(self) -> str:
        """`origin>destination:commodity` (`@gateway` when bound to one): what names the
        flow's random streams, so a variant that adds or drops other flows leaves its draws
        as they were."""
        key = f"{self.origin}>{self.destination}:{self.commodity}"
        return f"{key}@{self.gateway}" if self.gateway else key

    @model_validator(mode="after")
    def _distinct(self) -> Flow:
        if self.origin == self.destination:
            raise ValueError("origin and destination must differ")
        return self

    @field_validator("teu_per_year")
    @classmethod
    def _positive(cls, v: float, info: ValidationInfo) -> float:
        if v <= 0 and info.data.get("flow_class", "trade") != "empty":
            raise ValueError("Input should be greater than 0")
        return v


class BackgroundTraffic(Spec):
    """Other users of a hub: a Poisson stream of anonymous jobs (trains, vessel calls,
    trucks) that take the hub's handling positions and yard (gauge-change positions at a
    border) like tracked freight but carry no tracked lots. Give the volume as TEU or, at a
    border, as trains per year. Direction is relative to China: `outbound` jobs travel away
    from it (exports), `inbound` towards it; `both` splits the jobs evenly at random. A
    job that would wait longer than `diverts_after_hours` goes elsewhere and is counted
    apart (`background_diverted_teu_per_year` in hubs.csv)."""

    hub: str = Field("", description="the hub served: the key of `network.background`, "
                                      "filled in when the network is built")
    teu_per_year: float | None = Field(None, gt=0, le=ABSURD, description="TEU/yr, all jobs")
    trains_per_year: float | None = Field(None, gt=0, le=1e6, description="trains/yr")
    batch_teu: float = Field(gt=0, le=1e5, description="TEU per job (a train, a call...)")
    direction: Literal["both", "inbound", "outbound"] = Field(
        "both", description="borders: the direction the jobs travel (gauge change is "
                            "directional); other hubs: both")
    seasonality: tuple[float, ...] | None = Field(
        None, min_length=12, max_length=12,
        description="monthly factors, January first (normalised to mean 1); none = the "
                    "demand's seasonality")
    diverts_after_hours: float | None = Field(
        None, ge=0, le=HOURS_PER_YEAR,
        description="a job that would wait longer than this (until a stop's announced end, "
                    "then the queue ahead at the hub's rate) goes elsewhere, leaving the "
                    "modelled network (a liner omits the call); none = it waits however long")
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _volume(self) -> BackgroundTraffic:
        exactly_one(self.teu_per_year, self.trains_per_year, "teu_per_year", "trains_per_year")
        check_factors(self.seasonality, "seasonality", field=True)
        return self

    @property
    def jobs_per_year(self) -> float:
        """Jobs (trains, calls) per year."""
        if self.trains_per_year is not None:
            return self.trains_per_year
        assert self.teu_per_year is not None
        return self.teu_per_year / self.batch_teu
