"""Year by year from the base year: markets grow at their (uncertain) rates, expansions come
into service with a ramp-up, and what route choice learnt carries over between years.

A pathway file (`scenarios/pathways/*.yaml`):

    name: plan
    scenario: ../baseline-2023.yaml      # the base-year scenario (markets of its market table)
    base_year: 2023
    to: 2035
    samples: 8                           # input draws; sample s runs replication s every year
    growth:                              # % per year for each market of the scenario
      eu: {dist: triangular, low: 0, mode: 2, high: 4, source: "..."}
    expansions:
      - name: ilstc-expansion
        in_service: 2025                 # first year it carries freight
        lead_time_years: 2               # decided (money committed) in in_service - lead time,
                                         # not before decided_from (default: base_year)
        ramp_up: [0.5, 1.0]              # share of the full change in the in-service year,
                                         # the next, ...; the last share holds after
        changes: [{kind: scale, ...}]    # scenario changes; `scale` (and demand_growth)
                                         # factors ramp as 1 + share x (factor - 1); other
                                         # changes apply in full from the in-service year
        source: "..."

Year y of sample s is the base scenario with a demand_growth change per market, factor
(1 + g_s,m / 100) ^ (y - base_year) and every expansion at its share for y, simulated with
replication s (common random numbers across years and expansions).

What carries over from year y to y + 1 (within a sample), precisely: the delay route choice
has learnt per route (door-to-door transit beyond the uncongested time, averaged as
d_(y+1) = (d_y + observed_y) / 2 per route, matched across years by flow and line ids), which
route choice and demand see from the first day of the next year (`sim.equilibrium.settle`'s
`initial_delay`). Queues, yards and vehicles in transit do not: each year starts empty and
fills in its warm-up (baseline-2023: 30 days), so a backlog at the end of a year is not
carried into the next. The other-trade input stays at the base year's value.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, TypeVar

import numpy as np
import pandas as pd
from pydantic import (
    AfterValidator,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sim import cache
from sim.budget import DEFAULT_STUDY_LIMITS, Limits
from sim.errors import InputError, InputWarning, absolute
from sim.scenario import (
    MAX_GROWTH_FACTOR,
    MIN_DAYS,
    Change,
    Provenance,
    ScaleChange,
    Scenario,
    check_scenario,
    load_scenario_via,
    not_a_scenario,
    read_yaml,
    run_overrides,
    validation_error,
)
from sim.specs import FieldError, Spec
from sim.trade import GOODS_TRADE, Reference
from sim.uncertain import (
    Distribution,
    FromCalibration,
    LogNormal,
    Normal,
    UncertainInput,
)
from sim.units import MAX_DAYS

if TYPE_CHECKING:
    from sim.network import Plan
    from sim.routing import ChoiceSet


def check_ramp(ramp_up: tuple[float, ...]) -> tuple[float, ...]:
    """Ramp-up shares: each in (0, 1], never falling."""
    if any(not 0 < s <= 1 for s in ramp_up):
        raise ValueError("shares in (0, 1]")
    if any(b < a for a, b in zip(ramp_up, ramp_up[1:], strict=False)):
        raise ValueError("shares that do not fall from one year to the next")
    return ramp_up


# a ramp-up field of an expansion or a candidate: one check, its error naming the field
# (`expansions.N.ramp_up`, `candidates.N.ramp_up`)
RampUp = Annotated[tuple[float, ...], Field(min_length=1), AfterValidator(check_ramp)]


def first_in_service(decided_from: int, lead_time_years: float) -> int:
    """The first year a measure decided in `decided_from` can carry freight: `decided_from +
    ceil(lead_time_years)` (a part year of building takes the year). One rule for a plan's
    candidates (`sim.planner.options`) and a pathway's expansions (`PathwaySpec`)."""
    return decided_from + math.ceil(lead_time_years)


def ramp_share(ramp_up: tuple[float, ...], in_service: int, year: int) -> float:
    """Share of the full effect in `year` of something in service from `in_service`."""
    if year < in_service:
        return 0.0
    return ramp_up[min(year - in_service, len(ramp_up) - 1)]


def distinct_names(items: Sequence[Any], what: str) -> None:
    """ValueError naming the first name given twice among `items` (expansions, candidates):
    their names label every table, and the second would be lost."""
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        if item.name in seen:
            raise ValueError(f"distinct {what} names ({item.name!r} is {what}s.{seen[item.name]}"
                             f" and {what}s.{i})")
        seen[item.name] = i


def check_plan_inputs(growth: dict[str, Any]) -> None:
    """Growth rates drawn from a distribution (not an estimate): FieldError naming
    `growth.<market>.dist`."""
    for market, dist in growth.items():
        if isinstance(dist, FromCalibration):
            raise FieldError(f"growth.{market}.dist", "a growth rate drawn from normal, "
                             "lognormal, triangular or uniform (from_calibration draws a "
                             "scenario's uncertain input from its estimate)", dist.dist)


MIN_GROWTH_PCT = -100.0   # a market cannot shrink by all of itself (or more) in a year


def check_growth_rate(dist: Any) -> Any:
    """A market's growth rate (% per year) stays above -100 for every draw its distribution
    can give (its quantile at 0: a triangle's or a uniform's low, a normal's truncation or
    its far tail): at -100 or below, (1 + g / 100) ^ years is no growth factor and every
    year after the base year fails."""
    if isinstance(dist, FromCalibration):   # refused by check_plan_inputs
        return dist
    lowest = float(dist.ppf(np.array([0.0]))[0])
    if not lowest > MIN_GROWTH_PCT:
        how = "truncate it with a low" if isinstance(dist, Normal) else "give it a low"
        raise ValueError(
            f"a growth rate above {MIN_GROWTH_PCT:g} %/yr for every draw (a market cannot "
            f"shrink by all of itself or more in a year): this distribution draws down to "
            f"{lowest:.6g} ({how} above {MIN_GROWTH_PCT:g})")
    return dist


def check_growth_ceiling(growth: dict[str, Any], base_year: int, last_year: int,
                         path: Path) -> None:
    """Each market's highest growth draw, compounded from the base year to `last_year`, stays
    within a demand_growth factor's ceiling (else every sample drawing it fails that year,
    after the earlier years have run). A factor past a float's range is beyond it: `high:
    6000` %/yr over 177 years raised OverflowError (a traceback)."""
    years = last_year - base_year
    for market, dist in growth.items():
        if isinstance(dist, FromCalibration) or years <= 0:
            continue
        highest = float(dist.ppf(np.array([1.0]))[0])
        try:
            factor = (1.0 + highest / 100.0) ** years
        except OverflowError:
            factor = math.inf
        if factor > MAX_GROWTH_FACTOR:
            most = 100.0 * (MAX_GROWTH_FACTOR ** (1.0 / years) - 1.0)
            how = ("truncate it with a high" if isinstance(dist, Normal) else "a smaller "
                   "median or sigma" if isinstance(dist, LogNormal) else "a lower high")
            raise InputError(path, f"growth.{market}",
                             f"a growth rate whose draws compound to at most a factor "
                             f"{MAX_GROWTH_FACTOR:g} by {last_year} ({most:.4g} %/yr over "
                             f"{years} year{'s' if years > 1 else ''}): this distribution "
                             f"draws up to {highest:.6g} ({how})")


def growth_part(growth: dict[str, Any], base_year: int, last_year: int, path: Path
                ) -> list[tuple[str, list[dict[str, Any]]]]:
    """The part `growth` for `check_together`, once each rate is within its ceiling
    (`check_growth_ceiling`): each market's demand_growth change at its highest draw in the
    year it peaks by `last_year` (the last year if it grows, the first if it shrinks). With
    the expansions' own changes, these are the largest flows any sample asks the network to
    carry; none when no market grows."""
    check_growth_ceiling(growth, base_year, last_year, path)
    years = last_year - base_year
    changes = []
    for market, dist in growth.items():
        if isinstance(dist, FromCalibration) or years <= 0:
            continue
        step = 1.0 + float(dist.ppf(np.array([1.0]))[0]) / 100.0
        changes.append({"kind": "demand_growth", "market": market,
                        "factor": max(step, step ** years)})
    return [("growth", changes)] if changes else []


GrowthRate = Annotated[Distribution, AfterValidator(check_growth_rate)]


class Expansion(Spec):
    """Scenario changes that come into service in a year, with a lead time and a ramp-up."""

    name: str = Field(min_length=1)
    in_service: int = Field(ge=1900, le=2200, description="first year it carries freight")
    lead_time_years: float = Field(ge=0, le=50, description="years from decision to service")
    ramp_up: RampUp = Field((1.0,), description=(
        "share of the full change in the in-service year, the next, ...; the last holds"))
    changes: tuple[Change, ...] = Field(min_length=1)
    source: str = Field(min_length=1, description="where the expansion and its dates come from")

    def share(self, year: int) -> float:
        """Share of the full change in service in `year` (0 before the in-service year)."""
        return ramp_share(self.ramp_up, self.in_service, year)

    def changes_at(self, share: float) -> list[dict[str, Any]]:
        """The changes at `share` of their full effect, as scenario change mappings."""
        out = []
        for change in self.changes:
            row = change.model_dump(mode="json", exclude_none=True)
            if isinstance(change, ScaleChange) or row.get("kind") == "demand_growth":
                row["factor"] = 1.0 + share * (row["factor"] - 1.0)
            out.append(row)
        return out


class PlanFile(Spec):
    """What a pathway file and a candidates file share: the base-year scenario, market
    growth (% per year, uncertain) and the run settings."""

    KIND: ClassVar[str] = "pathway or candidates file"   # what a message calls it

    name: str = Field("", description="default: the file name without .yaml")
    description: str = ""
    scenario: str = Field(min_length=1, description="base-year scenario, relative to this file")
    base_year: int = Field(ge=1900, le=2200)
    seed: int = Field(7, ge=0, le=2**32 - 1, description="seed of the draws of growth rates")
    days: float | None = Field(None, ge=MIN_DAYS, le=MAX_DAYS,
                               description="horizon of each year's run")
    growth: dict[str, GrowthRate] = Field(default_factory=dict, description=(
        "market -> growth, % per year (every draw above -100)"))
    source_file: str = ""

    @model_validator(mode="after")
    def _growth(self) -> PlanFile:
        """Both files' growth rates are drawn (one check, run before a subclass's own)."""
        check_plan_inputs(self.growth)
        return self


class PathwaySpec(PlanFile):
    """A pathway file, validated."""

    KIND: ClassVar[str] = "pathway file"

    to: int = Field(2035, ge=1900, le=2200, description="last year simulated")
    samples: int = Field(8, ge=1, le=10_000, description="input draws (one replication each)")
    decided_from: int | None = Field(None, ge=1900, le=2200, description=(
        "first year a decision is taken (default: base_year), as in a candidates file"))
    expansions: tuple[Expansion, ...] = ()

    @field_validator("to")
    @classmethod
    def _not_before_base_year(cls, to: int, info: ValidationInfo) -> int:
        base = info.data.get("base_year")   # validated first: a field of the parent class
        if base is not None and to < base:
            raise ValueError(f"a year not before base_year ({base})")
        return to

    @field_validator("expansions")
    @classmethod
    def _distinct(cls, expansions: tuple[Expansion, ...]) -> tuple[Expansion, ...]:
        distinct_names(expansions, "expansion")
        return expansions

    @model_validator(mode="after")
    def _decided_in_time(self) -> PathwaySpec:
        """An expansion entering service after the base year is decided no earlier than
        `decided_from` (default the base year): its in_service minus its lead time (rounded up
        to whole years, as `cqsim plan` rounds it) must not reach before. A lead time of 5
        years for a 2024 service on a 2023 base was a decision in 2019 that the pathway,
        which starts deciding in 2023, never took. One in service before `decided_from` (after
        the base year) is refused naming its in_service, which no lead time can fix. One in
        service by the base year is already there (`out_of_time` warns of it)."""
        start = self.base_year if self.decided_from is None else self.decided_from
        since = "the base year" if self.decided_from is None else "decided_from"
        for i, exp in enumerate(self.expansions):
            if exp.in_service <= self.base_year:
                continue
            first = first_in_service(start, exp.lead_time_years)
            if exp.in_service < start:
                # in service before decisions start: no lead time is short enough, so the
                # lead time is not the field to name (it read "at most -1 years")
                raise FieldError(
                    f"expansions.{i}.in_service",
                    f"a year no earlier than decided_from + ceil(lead_time_years) = {start} + "
                    f"{math.ceil(exp.lead_time_years)} = {first} (or an earlier decided_from)",
                    exp.in_service)
            if exp.in_service < first:
                room = exp.in_service - start
                raise FieldError(
                    f"expansions.{i}.lead_time_years",
                    f"a lead time that puts the decision for in_service {exp.in_service} no "
                    f"earlier than {since} {start}: at most {room} year{'' if room == 1 else 's'}"
                    f" (or a later in_service, or an earlier decided_from)",
                    exp.lead_time_years)
        return self


FileT = TypeVar("FileT", bound=PlanFile)


def read_plan_file(path: str | Path, cls: type[FileT],
                   overrides: dict[str, Any] | None = None) -> tuple[FileT, Scenario]:
    """A pathway or candidates file validated as `cls` (`overrides`: command-line values, None
    kept) and its base scenario; InputError naming the file and field."""
    path = Path(path)
    raw = read_yaml(path)
    raw.setdefault("name", path.stem)
    raw["source_file"] = str(path.resolve())
    typed = {k: v for k, v in (overrides or {}).items() if v is not None}
    raw.update(typed)
    not_a_scenario(raw, path, cls.KIND, "scenario", cls)
    try:
        spec = cls.model_validate(raw)
    except ValidationError as exc:
        err = validation_error(exc, Provenance(), raw["source_file"], first_only=True,
                               model=cls)
        if err.field in typed:   # the value came from the command line: name the option
            raise InputError(f"--{err.field}", "", err.expected, typed[err.field]) from None
        raise err from None
    base = load_scenario_via(path, "scenario", spec.scenario)
    check_growth_markets(spec.growth, base, Path(spec.source_file))
    return spec, base


def load_pathway(path: str | Path, to: int | None = None,
                 samples: int | None = None) -> tuple[PathwaySpec, Scenario]:
    """Read and validate a pathway file and its base scenario (InputError naming the field)."""
    spec, base = read_plan_file(path, PathwaySpec, {"to": to, "samples": samples})
    path = absolute(path)   # as every message names a file
    check_together(base, [   # the highest growth, then each expansion at its last share, all
        *growth_part(spec.growth, spec.base_year, spec.to, path),
        *((f"expansions.{i}.changes", exp.changes_at(exp.share(exp.in_service
                                                                + len(exp.ramp_up))))
          for i, exp in enumerate(spec.expansions))], path, days=spec.days)
    return spec, base


def out_of_time(spec: PathwaySpec, path: str | Path) -> list[str]:
    """One line per expansion whose service year the pathway cannot show: after its last year
    (it never applies) or by its base year (it applies from the start, on a base that may
    already hold it)."""
    out = []
    for i, exp in enumerate(spec.expansions):
        if spec.base_year < exp.in_service <= spec.to:
            continue
        why = (f"after the pathway's last year {spec.to}: it never applies"
               if exp.in_service > spec.to else
               f"by the base year {spec.base_year}: it applies from the first year, on top "
               "of a base that may already hold it")
        out.append(f"{path}: expansions.{i}.in_service: {exp.name} enters service in "
                   f"{exp.in_service}, {why}")
    return out


def check_together(base: Scenario, parts: list[tuple[str, list[dict[str, Any]]]],
                   path: Path, days: float | None = None) -> None:
    """The parts' changes build on `base` together (a sample or a portfolio applies several),
    added one part at a time: else InputError naming `path` and the first part that fails,
    alone or with those before it (the very change at fault when one is). `days`: the runs'
    horizon (default the base's)."""
    alone = "changes that apply to the scenario"
    done: list[dict[str, Any]] = []
    labels: list[str] = []
    for k, (where, changes) in enumerate(parts):
        own = change_labels(where, changes)
        done, labels = done + changes, labels + own
        try:
            check_builds(base, done, path, where, f"changes that apply together with those "
                         f"of {', '.join(w for w, _ in parts[:k])}" if k else alone,
                         days=days, labels=labels)
        except InputError:
            if k:   # a part that fails alone too is refused as such
                check_builds(base, changes, path, where, alone, days=days, labels=own)
            raise


def change_labels(where: str, changes: list[dict[str, Any]]) -> list[str]:
    """Where each of a part's changes is in the user's file: `<where>.<j>`, and for the
    growth of markets `growth.<market>`."""
    if where == "growth":
        return [f"growth.{c['market']}" for c in changes]
    return [f"{where}.{j}" for j in range(len(changes))]


def check_builds(base: Scenario, changes: list[dict[str, Any]], path: Path, where: str,
                 expected: str, got: object = None, days: float | None = None,
                 labels: Sequence[str] | None = None) -> None:
    """The base scenario with `changes` appended, at the runs' horizon (`days`, default the
    base's), passes the checks a scenario file passes (`check_scenario`: no disruption after
    the horizon, say) and builds; else InputError naming `path` and `where` (an expansion's
    or a candidate's changes, the growth of markets), or with `labels` (where each change is
    in `path`) the very field of the change at fault: the base's `changes.N` would name an
    entry the user never wrote."""
    from sim.network import build

    data = base.model_dump(mode="json")
    data["changes"] = [*data["changes"], *changes]
    try:
        scenario = run_overrides(Scenario.model_validate(data), days=days)
        check_scenario(scenario)
        build(scenario, blame=False)   # `where` names the changes
    except ValidationError as exc:
        raise InputError(path, where, f"{expected} ({exc.errors()[0]['msg']})", got) from None
    except InputError as exc:
        at = _appended(exc, len(base.changes), labels or ())
        if at is not None:
            raise InputError(path, at, f"{exc.expected} ({expected})", exc.got) from None
        raise InputError(path, where, f"{expected} ({exc})", got) from None


def _appended(exc: InputError, held: int, labels: Sequence[str]) -> str | None:
    """The field of `labels` an error of the built scenario points at, when it points at one
    of the changes appended after the base's `held` own (its `changes.N...`); else None."""
    found = re.fullmatch(r"changes\.(\d+)(.*)", exc.field) if exc.after is None else None
    if found is None or not held <= int(found[1]) < held + len(labels):
        return None
    label = labels[int(found[1]) - held]
    return label if label.startswith("growth.") else label + found[2]


def check_growth_markets(growth: dict[str, Any], base: Scenario, path: Path) -> None:
    """Every market given a growth rate is a market of the scenario's market table (the
    scenario's `demand_growth` by market, issue 10, is how markets grow)."""
    if growth:
        changes = [{"kind": "demand_growth", "market": m, "factor": 1.0} for m in growth]
        check_builds(base, changes, path, "growth", "markets of the scenario's market table",
                     labels=change_labels("growth", changes))


def year_scenario(base: Scenario, spec: PathwaySpec, rates: dict[str, float],
                  year: int) -> Scenario:
    """The base scenario in `year`: growth factors from `rates` (% per year by market) and
    the expansions at their shares; InputError naming the file and `expansions` when they
    make no valid scenario (`load_pathway` checks them together first)."""
    data = base.model_dump(mode="json")
    data["changes"] = [*data["changes"], *(
        {"kind": "demand_growth", "market": market,
         "factor": (1.0 + rate / 100.0) ** (year - spec.base_year),
         "why": f"pathway: {rate:.2f}%/yr from {spec.base_year}"}
        for market, rate in rates.items())]
    for exp in spec.expansions:
        share = exp.share(year)
        if share > 0:
            data["changes"] = [*data["changes"], *exp.changes_at(share)]
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InputError(spec.source_file, "expansions",
                         f"changes that make a valid scenario ({err['msg']})") from None


def growth_draws(spec: PathwaySpec) -> list[dict[str, float]]:
    """Growth rates (% per year) of each sample: a Latin hypercube over the markets; with one
    sample, every market at its central rate. A pathway knows its number of samples before it
    draws; a plan does not, and draws each replication on its own
    (`sim.planner.growth_rates`)."""
    inputs = [UncertainInput(m, d) for m, d in spec.growth.items()
              if not isinstance(d, FromCalibration)]
    if not inputs:
        return [{} for _ in range(spec.samples)]
    if spec.samples == 1:
        return [{i.path: float(i.dist.central) for i in inputs}]
    from sim.uncertainty import lhs_design

    unit = lhs_design(len(inputs), spec.samples, spec.seed)
    return [{inp.path: float(inp.dist.ppf(unit[k:k + 1, j])[0]) for j, inp in
             enumerate(inputs)} for k in range(spec.samples)]


@dataclass(frozen=True)
class PathTask:
    """One sample of a pathway: its growth rates, simulated year by year."""

    run_id: str
    sample: int
    rates: dict[str, float]
    spec: PathwaySpec
    base: Scenario
    years: tuple[int, ...]

    def head(self) -> dict[str, Any]:
        """The columns that name the sample in its part file (its growth draws), failed or
        not."""
        return {"run_id": self.run_id, "sample": self.sample,
                **{f"growth_pct.{m}": r for m, r in self.rates.items()}}


def _route_keys(plan: Plan, choices: Sequence[ChoiceSet]) -> dict[int, tuple[Any, ...]]:
    """Route index -> identity across years (flow, lines ridden, hubs), from the plan's
    route choice sets: no settling needed (settling changes flows' TEU, not their order or
    ends)."""
    keys = {}
    for cs in choices:
        f = plan.flows[cs.flow]
        for r in cs.routes:
            lines = tuple(plan.network.lines[leg.line].id for leg in r.legs)
            keys[r.index] = (f.origin, f.destination, f.commodity, lines, r.hubs)
    return keys


def execute_path(task: PathTask) -> dict[str, Any]:
    """Simulate the task's sample year by year; a failure becomes a failed row."""
    import time

    from sim.pipeline import choices_of, prepare, replicate_one, settle
    from sim.sweep.tasks import failed_row, run_kpis

    start = time.perf_counter()
    rows = []
    learnt: dict[tuple[Any, ...], float] = {}       # delay per route key (demand sees it)
    unforeseen: dict[tuple[Any, ...], float] = {}   # its part the picture does not show
    try:
        for year in task.years:
            scen = year_scenario(task.base, task.spec, task.rates, year)
            plan = prepare(scen, replications=max(task.sample + 1, 1), days=task.spec.days)
            # the route keys from the choice sets, then one settling from what was learnt: a
            # probe settling for the keys alone made every year after the first settle twice,
            # about 1.7x the work the budget estimates (review50, 9)
            choices = choices_of(plan)
            keys = _route_keys(plan, choices)
            initial = {i: learnt[k] for i, k in keys.items() if k in learnt}
            hidden = {i: unforeseen[k] for i, k in keys.items() if k in unforeseen}
            settled = settle(plan, choices, initial_delay=initial,
                             initial_unforeseen=hidden) if initial else settle(plan, choices)
            result = replicate_one(settled, task.sample)
            kpis = run_kpis(result, settled.plan)
            routes = result.tables["routes"].set_index("route")
            base_hours = {r.index: r.base_hours for cs in settled.choices for r in cs.routes}
            for index, key in keys.items():
                # the usual days, as the passes learn them (a dated event is that year's)
                seen = (routes["transit_usual_mean_h"].get(index) if index in routes.index
                        else None)
                if seen is None or not np.isfinite(seen):
                    continue
                observed = max(0.0, float(seen) - base_hours[index])
                unseen = observed - float(routes["foreseen_usual_mean_h"][index])
                for memory, value in ((learnt, observed), (unforeseen, unseen)):
                    memory[key] = value if key not in memory else 0.5 * (memory[key] + value)
            rows.append({**task.head(), "year": year,
                         "learnt_routes": len(initial),
                         **{f"share.{e.name}": e.share(year) for e in task.spec.expansions},
                         **kpis})
    except Exception as exc:  # a failed sample is data; the pathway goes on
        return failed_row(task, f"{type(exc).__name__}: {exc}", time.perf_counter() - start)
    return {**task.head(), "status": "ok", "years": rows,
            "wall_s": time.perf_counter() - start}


def settings_changed(kept: object, now: dict[str, Any]) -> str | None:
    """Which option a resumed pathway asks differently from its kept runs' record
    (`settings` in pathway.json: --to, --samples), as "--to differs: kept 2025, asked 2024";
    None when the record has none (an older folder) or none differs."""
    if not isinstance(kept, dict):
        return None
    for option, value in now.items():
        if option in kept and kept[option] != value:
            return f"--{option} differs: kept {kept[option]}, asked {value}"
    return None


def quantiles(rows: pd.DataFrame, kpis: Sequence[str]) -> pd.DataFrame:
    """pathway.csv: per year and KPI, mean and 5/25/50/75/95% quantiles over the samples."""
    out = []
    if "year" not in rows:   # no sample finished a year (each failed): no quantiles
        return pd.DataFrame(columns=["year", "kpi", "samples", "mean", "p5", "p25", "p50",
                                     "p75", "p95"])
    for year, sub in rows.groupby("year", sort=True):
        for k in kpis:
            x = sub[k].dropna().to_numpy(dtype=float)
            if not x.size:
                continue
            q = np.quantile(x, [0.05, 0.25, 0.5, 0.75, 0.95])
            out.append({"year": year, "kpi": k, "samples": x.size, "mean": x.mean(),
                        "p5": q[0], "p25": q[1], "p50": q[2], "p75": q[3], "p95": q[4]})
    return pd.DataFrame(out)


def target_columns(table: pd.DataFrame, rows: pd.DataFrame, target: float,
                   target_year: int) -> pd.DataFrame:
    """pathway.csv with, on each year's goods-trade row, how it stands against the dated
    target (bn CNY/yr): the mean as a percentage of it, the mean's gap to it (`gap_to_...`:
    mean minus target, negative when trade falls short) and the share of samples that reach
    it with its 95% Wilson interval (`..._ci95_low`/`_high`: of 8 samples, 4 reaching it is
    0.22-0.78, as plan and uncertainty give it). The columns name the target's year, for a
    later year's trade is read against it and not against a target of its own (empty on the
    other KPIs' rows)."""
    from sim.stats import meeting, wilson

    attain = f"attainment_of_{target_year}_target_pct"
    gap = f"gap_to_{target_year}_target_bn_cny_per_year"
    reach = f"p_meet_{target_year}_target"
    low, high = f"{reach}_ci95_low", f"{reach}_ci95_high"
    out = table.assign(**{attain: np.nan, gap: np.nan, reach: np.nan, low: np.nan,
                          high: np.nan})
    if not len(out):
        return out
    trade = out["kpi"] == GOODS_TRADE
    counts: dict[int, tuple[int, int]] = {}
    if GOODS_TRADE in rows:
        for year, x in rows.dropna(subset=[GOODS_TRADE]).groupby("year")[GOODS_TRADE]:
            counts[int(year)] = meeting(x.to_numpy(dtype=float), target)
    years = out.loc[trade, "year"].astype(int)
    out.loc[trade, attain] = 100.0 * out.loc[trade, "mean"] / target
    out.loc[trade, gap] = out.loc[trade, "mean"] - target
    out.loc[trade, reach] = years.map(lambda y: counts[y][0] / counts[y][1])
    out.loc[trade, low] = years.map(lambda y: wilson(*counts[y])[0])
    out.loc[trade, high] = years.map(lambda y: wilson(*counts[y])[1])
    return out


# below 21 draws numpy's linear 5% and 95% quantiles (at rank (n - 1) x 0.05 from each end)
# are interpolated from the lowest and the highest draw; and quantiles of few draws understate
# the spread: of normal draws, the 5-95% band is on average 0.31 of the true width at 2
# draws, 0.87 at 20 (review42b, by simulation)
BAND_MIN_SAMPLES = 21


def band_note(table: pd.DataFrame) -> str | None:
    """The caution fan.png's source line, the console and pathway.json's `notes` give when
    the goods-trade bands of `table` (pathway.csv) come from fewer than BAND_MIN_SAMPLES
    draws in some year (their `samples`), with the widest 95% interval of the share of
    samples meeting the target (its `p_meet_..._ci95_*` columns), which so few draws leave
    wide too; None with enough draws, or no goods-trade row."""
    t = table[table["kpi"] == GOODS_TRADE]
    if not len(t):
        return None
    n = int(t["samples"].min())
    if n >= BAND_MIN_SAMPLES:
        return None
    lows = [c for c in t.columns if c.startswith("p_meet_") and c.endswith("_ci95_low")]
    width = ((t[lows[0].replace("_low", "_high")] - t[lows[0]]).max() if lows
             else float("nan"))
    wide = ("" if not np.isfinite(width) else
            f"; the share of samples meeting the target is as uncertain (its 95% Wilson "
            f"interval, pathway.csv's {lows[0].removesuffix('_low')}_low/high, is up to "
            f"{width:.2f} wide)")
    if n == 1:
        return f"bands from 1 draw only: they have no width and show no spread{wide}"
    return (f"bands from {n} draws only: quantiles of so few draws understate the spread "
            "(the 5-95% band of 2 normal draws is on average a third as wide as the one it "
            f"estimates, of 20 draws nine tenths){wide}; more --samples widen and steady them")


def year_ticks(first: int, last: int, marked: Sequence[int], most: int = 12) -> list[int]:
    """Year ticks from `first` to `last`: every year when there are at most `most`, else
    every k-th from `first`; with each of the `marked` years (the target's, the published
    figure's) that falls in between, so a dated point sits on a labelled year."""
    step = max(1, math.ceil((last - first + 1) / most))
    return sorted(set(range(first, last + 1, step)) | {y for y in marked if first <= y <= last})


def fan_chart(table: pd.DataFrame, path: Path, *, target: Reference, last_year: int,
              base: Reference | None = None, period: str = "") -> Path:
    """Total goods trade by year: median, 25-75% and 5-95% bands, the dated `target` (drawn
    at its year) and a line at `last_year`, the last year simulated (--to), where the axis
    ends (it reaches further only to show a target or published figure dated later); every
    year or every k-th is labelled, the target's and the published figure's always. The
    source line names the seeds rows of the two it is given (`Reference.cited`) and says when
    the bands come from too few draws to read as quantiles (`band_note`), and `period`, what
    a part year's figures are annualised from (`sim.boundary.study_period`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim.atomic import write_png
    from sim.figsource import per_year, source_line

    t = table[table["kpi"] == GOODS_TRADE].sort_values("year")
    fig, ax = plt.subplots(figsize=(9, 4.5))   # wider than 8: the legend sits beside
    ax.fill_between(t["year"], t["p5"], t["p95"], color="tab:blue", alpha=0.18,
                    label="5-95% of samples")
    ax.fill_between(t["year"], t["p25"], t["p75"], color="tab:blue", alpha=0.35,
                    label="25-75%")
    ax.plot(t["year"], t["p50"], color="tab:blue", lw=2, label="median")
    # the target is dated: drawn at its year only (a line across every year read as later
    # years "meeting" it)
    ax.plot([target.year], [target.bn_cny], "o", color="tab:red",
            label=f"{target.year} target {target.bn_cny:g} bn CNY/yr (for {target.year} only)")
    ax.axvline(last_year, color="grey", ls=":", lw=1, label=f"{last_year}: last year simulated")
    dated = [target.year]
    if base is not None:
        ax.plot([base.year], [base.bn_cny], "s", color="black", label=f"{base.year} published")
        dated.append(base.year)
    first = min([int(t["year"].min()), *dated]) if len(t) else min(dated)
    last = max(last_year, *dated)
    ax.set_xlim(first - 0.5, last + 0.5)
    ax.set_xticks(year_ticks(first, last, [*dated, last_year]))
    ax.set_xlabel("year")
    ax.set_ylabel("goods trade, bn CNY/yr")
    ax.set_title("Chongqing goods trade along the pathway\n(simulated channels + trade "
                 "declared not simulated)", fontsize=10)   # two lines: one was cut off
    # outside the axes, at their right: inside, it covered the last years' bands once the
    # axis ended at the last year simulated (at the lower right, where trade grows to)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    published = "" if base is None else f"; {base.year} published: {base.cited()}"
    few = band_note(table)
    caution = "" if few is None else f"; caution: {few}"
    source_line(fig, per_year("source: cqsim pathway, pathway.csv (simulated; quantiles "
                              f"over the samples){published}; target: {target.cited()}"
                              f"{caution}", period))
    fig.tight_layout()
    try:
        return write_png(path, fig, 120)
    finally:
        plt.close(fig)


@dataclass
class PathwayOutcome:
    """What `run_pathway` returns: every sample's year rows (pathway_runs.parquet), the table
    of quantiles by year (pathway.csv), the folder, the executor and wall time, how many
    samples failed, and the dated target each year is read against."""

    rows: pd.DataFrame
    table: pd.DataFrame
    out: Path
    executor: str
    wall_seconds: float
    failed: int
    target_year: int
    target: float     # bn CNY/yr
    notes: list[str]  # what the console says after the years (`band_note`)


# what `run_pathway` writes into its --out beside its part files (runs/s*.parquet)
PATHWAY_FILES = ("pathway.csv", "fan.png", "pathway_runs.parquet", "pathway.json")


def run_pathway(path: str | Path, out: str | Path, *, to: int | None = None,
                samples: int | None = None, workers: int | None = None,
                scheduler: str | None = None, local_cluster: bool = False,
                resume: bool = False, limits: Limits | None = DEFAULT_STUDY_LIMITS,
                progress: bool | None = None) -> PathwayOutcome:
    """Simulate every sample of a pathway year by year; write pathway.csv and fan.png.
    Refused before anything is written when its runs are estimated beyond `limits`.
    `progress`: samples done and ETA on stderr, as a sweep's runs (`sim.progress`; None: a
    bar on a terminal, plain lines otherwise; False: silent)."""
    import os
    import time

    from sim.atomic import write_csv, write_parquet, write_text
    from sim.boundary import (
        check_study,
        no_warmup_note,
        part_year_note,
        study_horizon,
        study_period,
    )
    from sim.inputs import check_resume, read_meta, study_identity
    from sim.progress import Progress
    from sim.staging import check_work_folder
    from sim.sweep.executors import connected, describe, dispatch
    from sim.sweep.store import part_statuses
    from sim.trade import references

    start = time.perf_counter()
    spec, base = load_pathway(path, to, samples)
    check_work_folder(out, own=PATHWAY_FILES, inputs=(path,))
    years = tuple(range(spec.base_year, spec.to + 1))
    check_study(base, spec.samples * len(years), workers or os.cpu_count() or 1, limits,
                spec.source_file, f"pathway of {spec.samples} samples x {len(years)} years",
                days=spec.days)
    inputs, fingerprint = study_identity(path, spec, base)
    settings = {"to": spec.to, "samples": spec.samples}   # what the options may change
    folder = Path(out)
    parts = folder / "runs"
    meta = folder / "pathway.json"
    if parts.is_dir() and any(parts.glob("s*.parquet")):
        if not resume:
            raise InputError(folder, "--out", "an empty folder, or --resume to continue")
        held = read_meta(meta)
        check_resume(held.get("inputs"), inputs, path)   # names the file that changed
        if not isinstance(held.get("inputs"), dict):
            raise InputError(meta, "fingerprint", "the same pathway as the one being resumed "
                                                  "(runs kept without a record of theirs "
                                                  "cannot be told apart from another's)")
        if held.get("fingerprint") != fingerprint:   # same files: the options differ
            what = settings_changed(held.get("settings"), settings)
            raise InputError(absolute(path), "--resume", f"the settings of the runs kept ("
                             f"{what or 'they were run with other options'}; use another "
                             "--out, or resume with theirs)")
    horizon = study_horizon(base, spec.days)
    named = absolute(path)      # as every message names a file
    said = [t for t in (no_warmup_note(base, spec.days, named),
                        part_year_note(base, spec.days, named)) if t]
    tasks = [PathTask(f"s{k:03d}", k, rates, spec, base, years)
             for k, rates in enumerate(growth_draws(spec))]
    done = {run for run, status in part_statuses(parts, "s*.parquet").items()
            if status and all(s == "ok" for s in status)}
    todo = [t for t in tasks if t.run_id not in done]
    workers = workers or min(os.cpu_count() or 1, max(1, len(todo)))
    executor = describe(workers, scheduler, local_cluster)

    def record(row: dict[str, Any]) -> None:
        years_rows = row.pop("years", None)
        frame = pd.DataFrame(years_rows) if years_rows else pd.DataFrame([row])
        frame["status"] = row.get("status", "failed")
        frame["error"] = row.get("error", "")
        write_parquet(parts / f"{row['run_id']}.parquet", frame)

    # the scheduler is reached before a warning or a file: if it cannot be, its error alone
    with connected(scheduler, local_cluster, workers=workers, needed=bool(todo)) as client:
        for text in [*out_of_time(spec, named), *said]:   # once all is checked
            warnings.warn(InputWarning(text), stacklevel=2)
        cache.release()     # accepted: the workers read what the checks settled
        parts.mkdir(parents=True, exist_ok=True)
        write_text(meta, json.dumps({"pathway": spec.source_file, "fingerprint": fingerprint,
                                     "inputs": inputs, "settings": settings,
                                     "status": "running", "executor": executor}, indent=2))
        with Progress(len(tasks), len(tasks) - len(todo), f"pathway {spec.name}", progress,
                      unit="samples") as bar:
            dispatch(todo, record, workers=workers, scheduler=scheduler,
                     local_cluster=local_cluster,
                     key_prefix=f"cqsim-pathway-{fingerprint[:12]}", fn=execute_path,
                     client=client, progress=bar)
    rows = pd.concat([pd.read_parquet(p) for p in sorted(parts.glob("s*.parquet"))],
                     ignore_index=True)
    ok = rows[rows["status"] == "ok"]
    kpis = [c for c in ok.select_dtypes("number").columns
            if c not in ("sample", "year", "replication", "learnt_routes")
            and not c.startswith(("growth_pct.", "share."))]
    (base_ref, goal) = references()
    goal_year = goal.year     # seeds/targets.csv goods_trade_2025's year, not its label
    table = target_columns(quantiles(ok, kpis), ok, goal.bn_cny, goal_year)
    write_parquet(folder / "pathway_runs.parquet", rows)
    write_csv(folder / "pathway.csv", table)
    if len(table):
        fan_chart(table, folder / "fan.png", target=goal, last_year=spec.to, base=base_ref,
                  period=study_period(base, spec.days))
    failed = int(rows.drop_duplicates("run_id")["status"].ne("ok").sum())
    few = band_note(table)
    notes = [few] if few else []
    wall = time.perf_counter() - start
    write_text(meta, json.dumps({
        "pathway": spec.source_file, "fingerprint": fingerprint, "inputs": inputs,
        "settings": settings, "status": "complete",
        "executor": executor, "years": [years[0], years[-1]], "samples": spec.samples,
        "horizon": horizon, "warnings": said, "notes": notes,
        "target": {"year": goal_year, "bn_cny_per_year": goal.bn_cny, "source": goal.source},
        "resumed_samples": len(done), "failed_samples": failed,
        "wall_seconds": round(wall, 1),
        "carries_over": "learnt route delays (sim/pathway.py docstring); queues do not",
        "growth_draws": [t.rates for t in tasks]}, indent=2, default=str))
    return PathwayOutcome(rows, table, folder, executor, wall, failed, goal_year, goal.bn_cny,
                          notes)
