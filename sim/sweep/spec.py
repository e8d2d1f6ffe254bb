"""Sweep files: which base scenario, which parameters (a grid or a sample of ranges), how many
replications, validated into a `SweepSpec`."""

from __future__ import annotations

import math
import numbers
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BeforeValidator,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from sim.scenario import (
    MIN_DAYS,
    Provenance,
    check_days_setting,
    check_not_run_setting,
    not_a_scenario,
    read_yaml,
    validation_error,
)
from sim.specs import FieldError, Spec
from sim.units import MAX_DAYS


def _scalar(value: Any) -> Any:
    """One finite number, boolean or text: NaN or infinity, a list, a mapping, a null or a
    date would otherwise fail each member of the union and be reported against the first,
    under its tag (`...departures_per_week.0.bool: expected a valid boolean`, for
    `[[7], 10]`). A wrong kind is a `_type` error, so the message quotes it, a mapping too
    (`sim.specs.located`)."""
    if isinstance(value, np.generic):
        value = value.item()        # a NumPy scalar, as a sweep built in Python may hold
    elif isinstance(value, (numbers.Real, Decimal)) and not isinstance(value, (int, float)):
        value = float(value)        # Decimal, Fraction: a number, as pydantic took them
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("a finite number, a boolean or a text")
    if not isinstance(value, (bool, int, float, str)):
        many = isinstance(value, (list, tuple, dict))
        raise PydanticCustomError("scalar_type", "a number, a boolean or a text"
                                  + (" (one value)" if many else ""))
    return value


def _key(value: Any) -> tuple[str, Any]:
    """A value as a grid compares it: 7 and 7.0 are one value, True and 1 are not."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "number", float(value)
    return type(value).__name__, value


Scalar = Annotated[StrictBool | int | float | str, BeforeValidator(_scalar)]


class Range(Spec):
    """A sampled parameter: uniform over [low, high], rounded when `integer`."""

    low: float
    high: float
    integer: StrictBool = False

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.high <= self.low:
            raise ValueError("high greater than low")
        if self.integer and math.ceil(self.low) > math.floor(self.high):
            raise ValueError(f"a whole number between low and high (integer: true; "
                             f"{self.low:g}-{self.high:g} holds none)")
        return self

    def whole(self, value: float) -> int:
        """`value` rounded to the nearest whole number inside the range."""
        return min(max(round(value), math.ceil(self.low)), math.floor(self.high))


class Sample(Spec):
    """`n` variants drawn over `ranges` by Latin hypercube (`lhs`) or plain random sampling."""

    method: Literal["lhs", "random"] = "lhs"
    n: int = Field(ge=1, le=100_000, description="number of variants")
    seed: int = Field(ge=0, le=2**63 - 1, description="seed of the design (not of the runs)")
    ranges: dict[str, Range] = Field(min_length=1)

    @field_validator("ranges", mode="before")
    @classmethod
    def _pairs(cls, value: Any) -> Any:
        """Accept `path: [low, high]` as shorthand for `path: {low: .., high: ..}`."""
        if isinstance(value, dict):
            return {k: ({"low": v[0], "high": v[1]} if isinstance(v, list) and len(v) == 2
                        else v) for k, v in value.items()}
        return value


class Parameters(Spec):
    """Exactly one of a full `grid` (path: [values]), a `sample`, or explicit `points` (a list
    of variants, each path: value, all with the same paths: what `cqsim uncertainty` and
    `cqsim plan` generate)."""

    grid: dict[str, list[Scalar]] | None = None
    sample: Sample | None = None
    points: list[dict[str, Scalar]] | None = None

    @model_validator(mode="after")
    def _one(self) -> Parameters:
        if sum(x is not None for x in (self.grid, self.sample, self.points)) != 1:
            raise ValueError("exactly one of grid, sample or points")
        if self.points is not None:   # before names, which reads the first point's paths
            if not self.points or not self.points[0] \
                    or any(set(p) != set(self.points[0]) for p in self.points):
                raise ValueError("points: at least one, each setting the same paths "
                                 "(one or more)")
        check_not_run_setting(self.names)
        if self.grid is not None:
            if not self.grid:
                raise FieldError("grid", "at least one parameter", self.grid)
            for path, values in self.grid.items():
                if not values:
                    raise FieldError(f"grid.{path}", "at least one value", values)
                if len({_key(v) for v in values}) < len(values):
                    raise ValueError(f"grid.{path}: distinct values (a value twice runs the "
                                     "same variant twice)")
        return self

    @property
    def names(self) -> list[str]:
        """Dotted paths of the parameters, in file order."""
        if self.grid is not None:
            return list(self.grid)
        if self.points is not None:
            return list(self.points[0])
        assert self.sample is not None  # validated: exactly one of the two
        return list(self.sample.ranges)


class SweepSpec(Spec):
    """A whole sweep file, validated."""

    name: str = Field("", description="default: the file name without .yaml")
    description: str = ""
    base: str = Field(min_length=1, description="base scenario, relative to the sweep file")
    parameters: Parameters
    replications: int | None = Field(None, ge=1, le=10_000,
                                        description="default: the base scenario's")
    days: float | None = Field(None, ge=MIN_DAYS, le=MAX_DAYS, description="horizon override")
    seed: int | None = Field(None, ge=0, le=2**63 - 1,
                                description="seed of every run (default: the base's)")
    fixed: dict[str, Scalar] = Field(default_factory=dict,
                                     description="dotted-path overrides for every variant")
    point_replications: list[list[int]] | None = Field(
        None, description="with `points` only: the replication indices each point runs "
                          "(default: 0 .. replications-1 for every point)")
    first_point_as_is: bool = Field(
        False, description="with `points` only: the first point runs the base as it is, "
                           "its values only recorded (`cqsim uncertainty`'s noise point: a "
                           "share over several gateways reads one lane's value, and writing "
                           "it back would set every lane to it)")
    source_file: str = Field("", description="set by the loader: the file read")

    @field_validator("fixed")
    @classmethod
    def _inputs_only(cls, value: dict[str, Any]) -> dict[str, Any]:
        check_not_run_setting(value)   # `fixed: {replications: 3}` was accepted and ignored
        return value

    def settings(self) -> dict[str, tuple[str, list[Any]]]:
        """Every path the sweep sets, varied or fixed: (its field in the sweep file, the
        values it takes; a sampled range's ends)."""
        p = self.parameters
        if p.grid is not None:
            out = {k: (f"parameters.grid.{k}", list(v)) for k, v in p.grid.items()}
        elif p.points is not None:
            out = {k: (f"parameters.points.{k}", [pt[k] for pt in p.points]) for k in p.names}
        else:
            assert p.sample is not None  # validated: exactly one of the three
            out = {k: (f"parameters.sample.ranges.{k}", [r.low, r.high])
                   for k, r in p.sample.ranges.items()}
        return {**out, **{k: (f"fixed.{k}", [v]) for k, v in self.fixed.items()}}

    @model_validator(mode="after")
    def _per_point(self) -> SweepSpec:
        both = [p for p in self.parameters.names if p in self.fixed]
        if both:   # the varied value would silently win over the fixed one
            raise ValueError(f"fixed.{both[0]}: a path that parameters do not vary too")
        reps = self.point_replications
        points = self.parameters.points
        if points is not None and reps is None:   # with point_replications a point may recur
            seen = [tuple(sorted((k, _key(v)) for k, v in p.items())) for p in points]
            if len(set(seen)) < len(seen):
                raise ValueError("distinct parameters.points (a point twice runs the "
                                 "same variant twice)")
        if self.first_point_as_is and points is None:
            raise ValueError("first_point_as_is: with parameters.points only")
        if reps is not None:
            if self.parameters.points is None or len(reps) != len(self.parameters.points):
                raise ValueError("point_replications: one list per point of parameters.points")
            if any(not r for r in reps):
                raise ValueError("point_replications: at least one replication for each point")
            if any(len(set(r)) != len(r) or min(r) < 0 for r in reps):
                raise ValueError("point_replications: distinct replication indices >= 0")
        return self


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and validate a sweep file; InputError naming the file and field otherwise."""
    path = Path(path)
    raw = read_yaml(path, "sweep file")
    if raw.get("name") in (None, ""):   # absent, null or empty: the file's name ('' was
        raw["name"] = path.stem         # the progress line's title, ": 0/1 runs done")
    raw["source_file"] = str(path.resolve())
    not_a_scenario(raw, path, "sweep file", "base", SweepSpec)
    try:
        spec = SweepSpec.model_validate(raw)
    except ValidationError as exc:
        raise validation_error(exc, Provenance(), raw["source_file"],
                               model=SweepSpec) from None
    check_settings(spec, raw["source_file"])
    return spec


def check_settings(spec: SweepSpec, file: str | Path) -> None:
    """Checks of a valid sweep that name a field of `file`: its `days:` replaces no horizon
    the sweep varies or fixes (`check_days_setting`)."""
    check_days_setting(spec.days, "days:", spec.settings(), file)
