"""Sweep files: which base scenario, which parameters (a grid or a sample of ranges), how many
replications, validated into a `SweepSpec`."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, StrictBool, ValidationError, field_validator, model_validator

from sim.scenario import MIN_DAYS, Provenance, read_yaml, validation_error
from sim.specs import Spec

Scalar = StrictBool | int | float | str


class Range(Spec):
    """A sampled parameter: uniform over [low, high], rounded when `integer`."""

    low: float
    high: float
    integer: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.high <= self.low:
            raise ValueError("high must be greater than low")
        return self


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
    """Exactly one of a full `grid` (path: [values]) or a `sample`."""

    grid: dict[str, list[Scalar]] | None = None
    sample: Sample | None = None

    @model_validator(mode="after")
    def _one(self) -> Parameters:
        if (self.grid is None) == (self.sample is None):
            raise ValueError("exactly one of grid or sample")
        if self.grid is not None:
            if not self.grid:
                raise ValueError("grid needs at least one parameter")
            for path, values in self.grid.items():
                if not values:
                    raise ValueError(f"grid.{path} needs at least one value")
        return self

    @property
    def names(self) -> list[str]:
        """Dotted paths of the parameters, in file order."""
        if self.grid is not None:
            return list(self.grid)
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
    days: float | None = Field(None, ge=MIN_DAYS, le=36_600, description="horizon override")
    seed: int | None = Field(None, ge=0, le=2**63 - 1,
                                description="seed of every run (default: the base's)")
    fixed: dict[str, Scalar] = Field(default_factory=dict,
                                     description="dotted-path overrides for every variant")
    source_file: str = Field("", description="set by the loader: the file read")


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and validate a sweep file; InputError naming the file and field otherwise."""
    path = Path(path)
    raw = read_yaml(path, "sweep file")
    raw.setdefault("name", path.stem)
    raw["source_file"] = str(path.resolve())
    try:
        return SweepSpec.model_validate(raw)
    except ValidationError as exc:
        raise validation_error(exc, Provenance(), path) from None
