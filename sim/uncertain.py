"""Uncertain inputs: a scenario's `uncertain:` block gives numeric fields distributions.

    uncertain:
      demand.elasticity: {dist: uniform, low: -1.2, high: -0.4, reason: "..."}
      growth.eu.factor: {dist: triangular, low: 1.0, mode: 1.04, high: 1.08, source: "..."}
      demand.classes.machinery.value_cny_per_teu: {dist: lognormal, median: 490000, sigma: 0.2,
                                                  source: "..."}
      market.choice.asc.west: {dist: from_calibration, estimates: estimates/baseline-2023.yaml}
      market.choice.asc.east: {dist: from_calibration}   # the scenario's market.estimates

Each key is a dotted path into the scenario (as `sim.scenario.with_overrides` takes it); each
entry is one of `normal` (mean, sd), `lognormal` (median, sigma of the log), `triangular`
(low, mode, high), `uniform` (low, high) or `from_calibration` (normal with the estimate's
value and standard error, read from the estimates file `cqsim calibrate --estimate` writes:
the entry's `estimates`, or the scenario's own `market.estimates`),
with a `source` or a `reason`. Normal draws can be truncated to [low, high]. A distribution
maps a uniform number u in (0, 1) to a value (`ppf`), so any design over the unit cube (Sobol,
Latin hypercube) becomes a design over the inputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Discriminator, Field, Tag, model_validator

from sim.errors import InputError
from sim.market.estimates import share_gateways, share_value
from sim.specs import Spec

EPS = 1e-9   # u is kept inside [EPS, 1 - EPS]: a normal's 0 and 1 quantiles are infinite
EDGE = 1e-5  # designs stay inside [EDGE, 1 - EDGE]; a study checks the support at both ends
# assumption: smaller correlations between estimates (the delta method's, at one replication)
# are within their own noise, and dropping them keeps unrelated estimates in Sobol groups of
# their own
MIN_CORRELATION = 0.1
# assumption: a truncation window keeping less than this of a normal (beyond about 4.75 sd
# on one side) is a mistake: every draw would sit on its bound
MIN_MASS = 1e-6


class _Documented(Spec):
    """Every uncertain input says where its distribution comes from."""

    source: str = Field("", description="where the distribution comes from (figure ids, URL)")
    reason: str = Field("", description="why this distribution (when no source gives it)")
    group: str = Field("", description="Sobol group: inputs sharing a group are varied and "
                                       "reported together (default: the input alone)")

    @model_validator(mode="after")
    def _documented(self) -> _Documented:
        if not (self.source.strip() or self.reason.strip()):
            raise ValueError("a source or a reason for this distribution")
        return self


def _unit(u: np.ndarray) -> np.ndarray:
    return np.clip(np.asarray(u, dtype=float), EPS, 1.0 - EPS)


def _normal_ppf(u: np.ndarray, mean: float, sd: float, low: float | None,
                high: float | None) -> np.ndarray:
    """Quantiles of a normal truncated to [low, high] (exact: u rescaled into the CDF range)."""
    from scipy.special import ndtr, ndtri

    lo = float(ndtr((low - mean) / sd)) if low is not None else 0.0
    hi = float(ndtr((high - mean) / sd)) if high is not None else 1.0
    values = mean + sd * ndtri(np.clip(lo + _unit(u) * (hi - lo), EPS, 1.0 - EPS))
    return np.clip(values, -np.inf if low is None else low, np.inf if high is None else high)


class _Bounded(_Documented):
    low: float | None = Field(None, description="truncate draws below this")
    high: float | None = Field(None, description="truncate draws above this")

    @model_validator(mode="after")
    def _ordered(self) -> _Bounded:
        if self.low is not None and self.high is not None and self.high <= self.low:
            raise ValueError("high greater than low")
        return self


class Normal(_Bounded):
    """A normal distribution, truncated to [low, high] when given."""

    dist: Literal["normal"]
    mean: float
    sd: float = Field(gt=0)

    @model_validator(mode="after")
    def _window_holds_mass(self) -> Normal:
        from scipy.special import ndtr

        lo = float(ndtr((self.low - self.mean) / self.sd)) if self.low is not None else 0.0
        hi = float(ndtr((self.high - self.mean) / self.sd)) if self.high is not None else 1.0
        if hi - lo < MIN_MASS:   # every draw would be the bound: a constant, not a spread
            raise ValueError(f"low and high around part of the distribution (they keep "
                             f"{max(hi - lo, 0.0):.1g} of normal(mean={self.mean:g}, "
                             f"sd={self.sd:g}))")
        return self

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """The draws at quantiles `u` (the design's unit-cube coordinates)."""
        return _normal_ppf(u, self.mean, self.sd, self.low, self.high)

    @property
    def central(self) -> float:
        """The distribution's centre: its median (a triangle's mode), inputs.csv's
        `central`."""
        return float(self.ppf(np.array([0.5]))[0])


class LogNormal(_Documented):
    """A log-normal distribution: `median` and the sd of the log, `sigma`."""

    dist: Literal["lognormal"]
    median: float = Field(gt=0)
    sigma: float = Field(gt=0, le=5, description="standard deviation of the log")

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """The draws at quantiles `u` (the design's unit-cube coordinates)."""
        from scipy.special import ndtri

        return np.asarray(self.median * np.exp(self.sigma * ndtri(_unit(u))))

    @property
    def central(self) -> float:
        """The distribution's centre: its median (a triangle's mode), inputs.csv's
        `central`."""
        return self.median


class Triangular(_Documented):
    """A triangular distribution on [low, high] with its `mode`."""

    dist: Literal["triangular"]
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not self.low <= self.mode <= self.high or self.high <= self.low:
            raise ValueError("low <= mode <= high with low < high")
        return self

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """The draws at quantiles `u` (the design's unit-cube coordinates)."""
        u = np.asarray(u, dtype=float).clip(0.0, 1.0)
        a, c, b = self.low, self.mode, self.high
        cut = (c - a) / (b - a)
        # a range near the float limit overflows to inf, which the callers' checks refuse
        # in one line; numpy's warning printed two lines of its own before it (fuzz2 M4)
        with np.errstate(over="ignore", invalid="ignore"):
            left = a + np.sqrt(u * (b - a) * (c - a))
            right = b - np.sqrt((1.0 - u) * (b - a) * (b - c))
        return np.where(u < cut, left, right)

    @property
    def central(self) -> float:
        """The distribution's centre: its median (a triangle's mode), inputs.csv's
        `central`."""
        return self.mode


class Uniform(_Documented):
    """A uniform distribution on [low, high]."""

    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high <= self.low:
            raise ValueError("high greater than low")
        return self

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """The draws at quantiles `u` (the design's unit-cube coordinates)."""
        return self.low + np.asarray(u, dtype=float).clip(0.0, 1.0) * (self.high - self.low)

    @property
    def central(self) -> float:
        """The distribution's centre: its median (a triangle's mode), inputs.csv's
        `central`."""
        return 0.5 * (self.low + self.high)


class FromCalibration(_Bounded):
    """normal(value, se) of a parameter in an estimates file (`cqsim calibrate --estimate`);
    with `held_input_sd`, the spread an input the estimation held fixed gives the estimate is
    added to its standard error (in quadrature: the two are independent)."""

    dist: Literal["from_calibration"]
    estimates: str | None = Field(None, min_length=1, description=(
        "estimates file, relative to the scenario (default: its market.estimates, so a file "
        "extending it with estimates of its own draws from those)"))
    parameter: str | None = Field(None, description="its key under `parameters` (default: "
                                                    "the uncertain input's own path)")
    held_input_sd: float = Field(
        0.0, ge=0, description="standard deviation of the estimate owed to an input the "
                               "estimation holds fixed (measured by estimating again across "
                               "that input's range; the `reason` says how)")
    source: str = "estimated by cqsim calibrate (the estimates file's command)"

    @model_validator(mode="after")
    def _held_input_said(self) -> FromCalibration:
        if self.held_input_sd and not self.reason.strip():
            raise ValueError("a reason saying how held_input_sd was measured")
        return self

    def resolve(self, data: dict[str, Any], path: str, file: str) -> Normal:
        """The normal distribution the estimate and its standard error (and any held input's
        spread) give."""
        key = self.parameter or path
        params = data.get("parameters")
        entry = params.get(key) if isinstance(params, dict) else None
        if not isinstance(entry, dict):
            raise InputError(file, f"parameters.{key}", "an estimate of this parameter "
                             "(value and se)")
        value, se = entry.get("value"), entry.get("se")
        for name, x in (("value", value), ("se", se)):
            if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
                raise InputError(file, f"parameters.{key}.{name}", "a finite number", x)
        assert isinstance(value, (int, float)) and isinstance(se, (int, float))
        if se <= 0:
            raise InputError(file, f"parameters.{key}.se", "a standard error > 0", se)
        held = (f", and {self.held_input_sd:g} for a held input: {self.reason}"
                if self.held_input_sd else "")
        return Normal(dist="normal", mean=float(value), sd=math.hypot(se, self.held_input_sd),
                      low=self.low, high=self.high, group=self.group,
                      source=f"{file} parameters.{key} (estimate and standard error{held}); "
                             f"{data.get('command', '')}".strip())


DIST_TAGS = ("normal", "lognormal", "triangular", "uniform", "from_calibration")
def _dist_kind(value: Any) -> Any:
    return value.get("dist") if isinstance(value, dict) else getattr(value, "dist", None)


Distribution = Annotated[
    (Annotated[Normal, Tag("normal")] | Annotated[LogNormal, Tag("lognormal")]
     | Annotated[Triangular, Tag("triangular")] | Annotated[Uniform, Tag("uniform")]
     | Annotated[FromCalibration, Tag("from_calibration")]),
    Discriminator(_dist_kind)]
Concrete = Normal | LogNormal | Triangular | Uniform


@dataclass(frozen=True)
class UncertainInput:
    """One uncertain input: the dotted path it sets and its (resolved) distribution; an
    estimate correlated with others of its estimates file names them (path, correlation)."""

    path: str
    dist: Concrete
    correlated: tuple[tuple[str, float], ...] = ()

    @property
    def group(self) -> str:
        """Its Sobol group: the one given (or shared with the estimates it is drawn jointly
        with, `correlate`), else its own path."""
        return self.dist.group or self.path

    @property
    def shape(self) -> str:
        """The distribution and its parameters, as `uniform(low=1.2, high=1.4)`."""
        d = self.dist
        args = {k: v for k, v in d.model_dump().items()
                if k not in ("dist", "source", "reason", "group") and v is not None}
        return f"{d.dist}({', '.join(f'{k}={v:g}' for k, v in args.items())})"

    @property
    def described(self) -> str:
        """Distribution and source in one line (for tables)."""
        return f"{self.shape}; {self.dist.source or 'reason: ' + self.dist.reason}"


def lookup(data: Any, path: str) -> Any:
    """The value at a dotted path in a dumped scenario (list items by index; a share of
    empties of named gateways as `with_overrides` takes it); KeyError if none."""
    if share_gateways(path):
        return share_value(data.get("market") if isinstance(data, dict) else None, path)
    node = data
    for key in path.split("."):
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            raise KeyError(path)
    return node


def correlate(inputs: list[UncertainInput], pairs: dict[frozenset[str], float]
              ) -> list[UncertainInput]:
    """The inputs with the correlations of `pairs` (by pair of paths) at least MIN_CORRELATION
    in size; each set of inputs so linked shares one Sobol group (Sobol's indices need groups
    drawn independently of each other). ValueError when a set spans two groups given, or
    the correlations cannot hold together (not positive definite)."""
    kept = {pair: r for pair, r in pairs.items() if abs(r) >= MIN_CORRELATION}
    if not kept:
        return inputs
    parent = {inp.path: inp.path for inp in inputs}

    def root(path: str) -> str:
        while parent[path] != path:
            path = parent[path]
        return path

    for pair in kept:
        a, b = sorted(pair)
        parent[root(b)] = root(a)
    members: dict[str, list[UncertainInput]] = {}
    for inp in inputs:
        members.setdefault(root(inp.path), []).append(inp)
    group = {}
    for linked in members.values():
        given = {inp.dist.group for inp in linked if inp.dist.group}
        if len(given) > 1:
            raise ValueError(f"correlated estimates in one Sobol group (these are in "
                             f"{', '.join(sorted(given))})")
        name = given.pop() if given else "+".join(inp.path for inp in linked)
        group.update({inp.path: name for inp in linked})
    out = [UncertainInput(inp.path, inp.dist.model_copy(update={"group": group[inp.path]})
                          if len(members[root(inp.path)]) > 1 else inp.dist,
                          tuple((other, r) for pair, r in kept.items() if inp.path in pair
                                for other in pair - {inp.path}))
           for inp in inputs]
    try:
        np.linalg.cholesky(_matrix(out))
    except np.linalg.LinAlgError:
        raise ValueError("correlations that hold together (a positive definite matrix)") \
            from None
    return out


def _matrix(inputs: list[UncertainInput]) -> np.ndarray:
    index = {inp.path: j for j, inp in enumerate(inputs)}
    matrix = np.eye(len(inputs))
    for j, inp in enumerate(inputs):
        for other, r in inp.correlated:
            matrix[j, index[other]] = r
    return matrix


def _joint(inputs: list[UncertainInput], unit: np.ndarray) -> np.ndarray:
    """The design's uniform numbers with the inputs' correlations imposed (a Gaussian
    copula: normal scores times the Cholesky factor; uncorrelated columns are unchanged)."""
    if not any(inp.correlated for inp in inputs):
        return unit
    from scipy.special import ndtr, ndtri

    scores = ndtri(_unit(unit)) @ np.linalg.cholesky(_matrix(inputs)).T
    return np.clip(ndtr(scores), EDGE, 1.0 - EDGE)


def values(inputs: list[UncertainInput], unit: np.ndarray) -> list[dict[str, float]]:
    """The points (path -> value) of a design over the unit cube (rows, one column per input),
    correlated estimates drawn jointly."""
    unit = _joint(inputs, unit)
    columns = [inp.dist.ppf(unit[:, j]) for j, inp in enumerate(inputs)]
    return [{inp.path: float(columns[j][i]) for j, inp in enumerate(inputs)}
            for i in range(unit.shape[0])]
