"""Component specs: the typed, documented attribute schema of every network component.

Specs are immutable descriptions (what the network *is*); runtime objects in `sim.engine`
hold state (what is happening). Every numeric field states its unit in its description;
every shipped figure carries a `source`.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from functools import cache
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

HubKind = Literal["rail_terminal", "river_port", "sea_port", "airport", "border", "lock"]
Mode = Literal["rail", "river", "sea", "road", "air"]
Corridor = Literal["east", "west", "south", "north", "air", "feeder"]
CORRIDORS: tuple[str, ...] = ("east", "west", "south", "north", "air")

# A sane ceiling for any capacity-like number: beyond it a value is a typo, not a plan.
ABSURD = 1e9
# Floors of rates: below them a rate means no service at all, and its inverse (a headway, a
# handling time) overflows (found by the fuzz test: 5e-324 departures a week crashed a run).
MIN_DEPARTURES_PER_WEEK = 1e-3  # one departure in 19 years
MIN_TEU_PER_DAY = 1e-2          # one TEU in 100 days
MIN_TEU_PER_HOUR = 1e-3         # one TEU in 6 weeks of handling


Check = Callable[[Any], str | None]


def _number_check(annotation: Any) -> Check | None:
    """A function telling what is wrong with a value given for a number (a boolean or a text
    that pydantic's lax mode would turn into 1 or 21), for numeric annotations and the
    optionals, tuples, lists and dicts of them; None when the annotation holds no number."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _number_check(args[0])
    if annotation in (int, float):
        def scalar(value: Any) -> str | None:
            if isinstance(value, bool):
                return "a number (not true or false)"
            if isinstance(value, str):
                return "a number (not text)"
            return None
        return scalar
    if origin in (Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        checks = [_number_check(a) for a in members]
        if not members or any(c is None for c in checks):
            return None  # a member takes text or booleans (e.g. a `set` change's value)
        first = checks[0]
        return lambda value: None if value is None else first(value)  # type: ignore[misc]
    if origin in (tuple, list) and args:
        items = [_number_check(a) for a in args if a is not Ellipsis]
        if all(c is None for c in items):
            return None

        def sequence(value: Any) -> str | None:
            if not isinstance(value, (list, tuple)):
                return None
            for i, item in enumerate(value):
                check = items[0] if len(items) == 1 else (items[i] if i < len(items) else None)
                problem = check(item) if check else None
                if problem:
                    return f"item {i}: {problem}"
            return None
        return sequence
    if origin is dict and len(args) == 2:
        inner = _number_check(args[1])
        if inner is None:
            return None

        def mapping(value: Any) -> str | None:
            if not isinstance(value, dict):
                return None
            for key, item in value.items():
                problem = inner(item)
                if problem:
                    return f"{key}: {problem}"
            return None
        return mapping
    return None


_BOUNDS = {"greater_than_equal": ("ge", ">="), "greater_than": ("gt", ">"),
           "less_than_equal": ("le", "<="), "less_than": ("lt", "<")}


def expected(err: Any) -> str:
    """What a pydantic error says was expected, phrased to follow "expected" in a message
    ("a number >= 0.001", "one of 'rail', 'river'... (did you mean 'rail'?)")."""
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind in _BOUNDS:
        key, sign = _BOUNDS[kind]
        return f"a number {sign} {ctx.get(key)}"
    if kind == "literal_error":
        from sim.errors import did_you_mean

        choices = [c.strip(" '") for c in str(ctx.get("expected", "")).replace(" or ", ", ")
                   .split(",")]
        return f"one of {ctx.get('expected')}" + did_you_mean(err.get("input"), choices)
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "a whole number"
    if kind in ("float_type", "float_parsing"):
        return "a number"
    if kind == "string_type":
        return "text"
    msg = str(err["msg"]).removeprefix("Value error, ").removeprefix("Input should be ")
    return msg


@cache
def _field_check(model: type, field: str) -> Check | None:
    info = model.model_fields.get(field)  # type: ignore[attr-defined]
    return _number_check(info.annotation) if info is not None else None


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
        if problem:
            raise ValueError(problem)
        return value


class HubSpec(Spec):
    """A node where freight is handled: terminal, port, airport, border crossing or lock."""

    id: str = Field(min_length=1, description="unique snake_case id")
    name: str = Field(min_length=1, description="display name")
    kind: HubKind = Field(description="what the hub is")
    country: str = Field(min_length=2, max_length=2, description="ISO 3166 alpha-2")
    lon: float = Field(ge=-180, le=180, description="longitude, degrees (EPSG:4326)")
    lat: float = Field(ge=-90, le=90, description="latitude, degrees (EPSG:4326)")
    handling_servers: int = Field(ge=0, le=10_000, description="parallel handling positions")
    handling_teu_per_hour: float = Field(ge=0, le=ABSURD, description="TEU/h per position")
    handling_setup_hours: float = Field(0.0, ge=0, le=1e4, description="h fixed per job")
    handling_dist: Literal["deterministic", "exponential"] = Field(
        "deterministic", description="distribution of handling time around its mean")
    yard_teu: float = Field(ge=0, le=ABSURD, description="yard capacity, TEU")
    dwell_hours: float = Field(0.0, ge=0, le=1e4, description="customs/clearance dwell, h")
    gauge_change: bool = Field(False, description="trains change gauge here")
    lock_lanes: int | None = Field(None, gt=0, le=100, description="lock lanes per direction")
    lock_cycle_hours: float | None = Field(None, gt=0, le=1e3, description="h between lockages")
    lock_chamber_t: float | None = Field(None, gt=0, le=ABSURD, description="t per lockage")
    lock_passage_hours: float | None = Field(None, gt=0, le=1e3, description="h to pass")
    sources: str = Field(min_length=1, description="source ids, ';'-separated")
    note: str = ""

    @model_validator(mode="after")
    def _lock_fields(self) -> HubSpec:
        lock_fields = (self.lock_lanes, self.lock_cycle_hours, self.lock_chamber_t,
                       self.lock_passage_hours)
        if self.kind == "lock" and any(v is None for v in lock_fields):
            raise ValueError("a lock hub needs lock_lanes, lock_cycle_hours, lock_chamber_t "
                             "and lock_passage_hours")
        if self.kind != "lock" and min(self.handling_servers, self.handling_teu_per_hour,
                                       self.yard_teu) <= 0:
            raise ValueError("handling_servers, handling_teu_per_hour and yard_teu must be "
                             "greater than 0 at a hub that handles freight")
        if self.kind != "lock" and self.handling_teu_per_hour < MIN_TEU_PER_HOUR:
            raise ValueError(f"handling_teu_per_hour of at least {MIN_TEU_PER_HOUR:g} at a "
                             "hub that handles freight")
        return self


class LinkSpec(Spec):
    """An infrastructure segment between two hubs, usable in both directions."""

    id: str = Field(min_length=1, description="unique id")
    from_hub: str = Field(min_length=1, description="hub id at the first vertex")
    to_hub: str = Field(min_length=1, description="hub id at the last vertex")
    mode: Mode
    corridor: Corridor
    km: float = Field(gt=0, le=1e5, description="route distance, km")
    hours: float = Field(gt=0, le=1e5, description="running time, h")
    lock: str | None = Field(None, description="lock hub passed on the way")
    lock_at: float | None = Field(None, ge=0, le=1, description="fraction of running time")
    coords: tuple[tuple[float, float], ...] = Field(
        min_length=2, description="geometry vertices (lon, lat)")
    sources: str = Field(min_length=1)
    note: str = ""

    @model_validator(mode="after")
    def _two_ends(self) -> LinkSpec:
        if self.from_hub == self.to_hub:
            raise ValueError("from_hub and to_hub must differ (a link from a hub to itself)")
        return self


class ServiceSpec(Spec):
    """A transport service over a sequence of stops: scheduled vehicles or a continuous flow."""

    corridor: Corridor
    mode: Mode
    stops: tuple[str, ...] = Field(min_length=2, description="hub ids in running order")
    links: tuple[str, ...] | None = Field(
        None, description="link ids between stops; needed only where links are parallel")
    schedule: Literal["scheduled", "continuous"] = "scheduled"
    departures_per_week: float | None = Field(None, ge=MIN_DEPARTURES_PER_WEEK, le=1e4,
                                              description="per direction")
    vehicle_teu: float | None = Field(None, gt=0, le=1e5, description="TEU per vehicle")
    capacity_teu_per_day: float | None = Field(None, ge=MIN_TEU_PER_DAY, le=ABSURD,
                                               description="continuous services, per direction")
    price_cny_per_teu: float = Field(ge=0, le=ABSURD, description="tariff end to end, CNY/TEU")
    stop_hours: float = Field(2.0, ge=0, le=1e3, description="h a vehicle stands at a stop")
    bidirectional: bool = True
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _schedule_fields(self) -> ServiceSpec:
        if self.schedule == "scheduled":
            if self.departures_per_week is None or self.vehicle_teu is None:
                raise ValueError("a scheduled service needs departures_per_week and vehicle_teu")
        else:
            if self.capacity_teu_per_day is None:
                raise ValueError("a continuous service needs capacity_teu_per_day")
            if len(self.stops) != 2:
                raise ValueError("a continuous service runs between exactly two stops")
        if len(set(self.stops)) != len(self.stops):
            raise ValueError("stops must not repeat")
        return self


class LockTraffic(Spec):
    """Bulk background traffic that shares a lock with the container vessels."""

    bulk_mt_per_year: float = Field(ge=0, le=1e4, description="Mt/yr, both directions")
    bulk_vessel_t: float = Field(gt=0, le=1e6, description="t of cargo per bulk vessel")
    downstream_share: float = Field(0.5, ge=0, le=1, description="share going downstream")
    source: str = Field(min_length=1)


class EmissionFactor(Spec):
    """Well-to-wheel CO2e per tonne-km of one mode."""

    g_per_tkm: float = Field(ge=0, le=1e5)
    source: str = Field(min_length=1)


class CommodityClass(Spec):
    """A class of goods: what a TEU is worth and what an hour of delay costs its owner."""

    value_cny_per_teu: float = Field(gt=0, le=ABSURD)
    value_of_time_cny_per_teu_hour: float = Field(ge=0, le=1e7)
    tonnes_per_teu: float = Field(10.0, gt=0, le=40)
    source: str = Field(min_length=1)


class Flow(Spec):
    """One row of the origin-destination table: annual TEU of a class from one hub to another."""

    origin: str
    destination: str
    commodity: str
    teu_per_year: float = Field(gt=0, le=ABSURD)
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct(self) -> Flow:
        if self.origin == self.destination:
            raise ValueError("origin and destination must differ")
        return self
