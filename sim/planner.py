"""The cheapest set of expansions that meets a trade target with a stated probability.

A candidates file (`scenarios/candidates/*.yaml`) names the base scenario, the base year,
the first year money can be committed (`decided_from`), market growth (% per year, uncertain)
and the candidate expansions, each with its scenario changes, ramp-up, lead time, capital
cost and yearly operating cost in CNY (each with a source or a labelled assumption).

A portfolio is a set of candidates with their in-service years. Its cost to the target year
is capital plus operating cost for every year in service up to the target year (CNY, not
discounted); beside it are the operating cost it keeps paying after the target year (CNY/yr)
and its whole-life cost, capital and operating cost discounted to `decided_from` at a social
discount rate over an appraisal period (CNY, present value; `Appraisal`). The search
minimises the one `Appraisal.objective` names (default the cost to the target year). An
in-service year needs `decided_from + lead_time_years` <= year <= target; of the years that
give a candidate the same ramp-up share in the target year only the latest (cheapest to the
target year) is considered.

Evaluation: replication r of a portfolio simulates the target year with the market growth
draw r and the simulation's replication r: every portfolio sees the same draws (common random
numbers), so portfolios are compared on paired replications.

Selection (successive screening): every portfolio starts with `first` replications; at each
stage a portfolio whose P(meet) has a Clopper-Pearson upper bound (Bonferroni over the
portfolios still undecided at that stage) below the required probability is dropped, one whose
lower bound is at or above it is feasible, every portfolio dearer than the cheapest feasible
one is dropped, and the undecided ones get twice the replications, up to `most`. With
`monotone` (default), each stage first takes the largest undecided portfolios (no other
undecided one expands more) to a decision, doubling up to `most`, and a portfolio found
infeasible drops its subsets too (an expansion does not lower trade; say `--no-monotone`
where that may fail). The cheapest feasible portfolio is then confirmed on
fresh replications (indices after those used in screening), which give the P(meet) and the
95% Wilson interval reported.
"""

from __future__ import annotations

import itertools
import math
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from sim import cache
from sim.budget import DEFAULT_STUDY_LIMITS, Limits
from sim.errors import InputError, InputWarning, RunFailed, absolute
from sim.pathway import (
    PlanFile,
    RampUp,
    check_together,
    distinct_names,
    first_in_service,
    growth_part,
    ramp_share,
    read_plan_file,
)
from sim.scenario import Change, Scenario
from sim.specs import Spec
from sim.stats import clopper_pearson, crossing, difference_ci, meeting
from sim.trade import Reference
from sim.units import CNY_PER_BN

# a URL with its host ("http://" alone names no page): what a cited source must carry
_URL = re.compile(r"https?://[A-Za-z0-9][^\s/?#()<>\[\]]*", re.IGNORECASE)
_ASSUMPTION = "assumption:"


def _sourced(text: str) -> str:
    """A cost's or lead time's source: one that cites a URL with its host (http:// or
    https://), or one that starts with `assumption:` (any case) followed by its reasoning
    (docs/planning.md). A bare word such as "x", "see assumption: in the annex" or a bare
    "http://" cites nothing."""
    stated = text.strip()
    assumed = stated[:len(_ASSUMPTION)].lower() == _ASSUMPTION and \
        bool(stated[len(_ASSUMPTION):].strip())
    if not assumed and not _URL.search(stated):
        raise ValueError("a source citing a URL with its host (http:// or https://), or "
                         "starting with `assumption:` followed by its reasoning")
    return text


class Candidate(Spec):
    """An expansion that may be chosen: its changes, timing and costs, each sourced."""

    name: str = Field(min_length=1)
    description: str = ""
    changes: tuple[Change, ...] = Field(min_length=1)
    ramp_up: RampUp = (1.0,)
    lead_time_years: float = Field(ge=0, le=50)
    lead_time_source: str
    capital_cny: float = Field(ge=0, le=1e13)
    capital_source: str
    operating_cny_per_year: float = Field(ge=0, le=1e12)
    operating_source: str

    @field_validator("lead_time_source", "capital_source", "operating_source")
    @classmethod
    def _documented(cls, text: str) -> str:    # a field validator: the error names the field
        return _sourced(text)

    def share(self, in_service: int, year: int) -> float:
        """Share of the full change in `year` when in service from `in_service`."""
        return ramp_share(self.ramp_up, in_service, year)

    def cost(self, in_service: int, year: int) -> float:
        """Capital plus operating cost of every year in service up to `year`, CNY, each
        year's at its ramp-up share: half the trains in a first year cost half."""
        years = sum(self.share(in_service, y) for y in range(in_service, year + 1))
        return self.capital_cny + self.operating_cny_per_year * years

    def operating_after(self) -> float:
        """The operating cost it keeps paying each year once its ramp-up has ended, CNY/yr:
        what a measure commits to beyond the target year (trains cost as long as they run)."""
        return self.operating_cny_per_year * self.ramp_up[-1]

    def present_value(self, in_service: int, appraisal: Appraisal, start: int) -> float:
        """Capital and operating cost discounted to `start` (a year counted as t = 0) at the
        appraisal's rate over its period from `start`, CNY. assumption: capital is paid in
        equal parts over the build years, from the decision (in_service - ceil(lead time))
        to the year before service (in the in-service year with no lead time), no residual
        value is credited at the period's end, and operating cost is paid at its ramp-up
        share every year in service within the period."""
        last = start + appraisal.years - 1
        v = 1.0 / (1.0 + appraisal.discount_pct / 100.0)
        built = list(range(in_service - math.ceil(self.lead_time_years), in_service)) \
            or [in_service]
        capital = sum(self.capital_cny / len(built) * v ** (y - start)
                      for y in built if y <= last)
        operating = sum(self.operating_cny_per_year * self.share(in_service, y) * v ** (y - start)
                        for y in range(in_service, last + 1))
        return capital + operating


# The social discount rate of China's "Methods and Parameters for Economic Evaluation of
# Construction Projects" (建设项目经济评价方法与参数, 3rd ed., NDRC and MOHURD, 2006):
# 8%, applied to economic (social) appraisal of public investment
SOCIAL_DISCOUNT_PCT = 8.0
SOCIAL_DISCOUNT_SOURCE = (
    "NDRC and MOHURD, Methods and Parameters for Economic Evaluation of Construction "
    "Projects, 3rd ed. (2006): social discount rate 8% (as quoted, with SL 72-2013's 8% for "
    "water projects, in the book Economic Evaluation of Water Conservancy and Hydropower "
    "Projects and Case Analysis, section 3.5: https://m.qbook.qq.com/read/1037204902/18)")
# assumption: 30 years from the first decision year: the measures are trains and sailings
# (rolling stock and contracts of some 25-30 years) and civil works (berths, stations, a lock,
# lasting longer, whose later years a rate of 8% discounts to little: a CNY in year 30 counts
# 0.11); between the 20 years after building that road appraisals use and the 50 years of
# water works (both on the page the rate is quoted from)
APPRAISAL_YEARS = 30
APPRAISAL_SOURCE = ("assumption: 30 years from decided_from, the life of trains and sailings "
                    "(civil works last longer; at 8% a CNY in year 30 counts 0.11)")
COST_OBJECTIVES = ("to-target", "whole-life")


@dataclass(frozen=True)
class Appraisal:
    """How a portfolio's cost is counted: `objective`, what the search minimises
    ("to-target": capital plus operating cost up to the target year, undiscounted, as
    documented plans were chosen; "whole-life": present value of capital and operating
    cost over `years` from decided_from at `discount_pct` per year). Both are reported."""

    objective: str = "to-target"
    discount_pct: float = SOCIAL_DISCOUNT_PCT
    years: int = APPRAISAL_YEARS

    def __post_init__(self) -> None:
        if self.objective not in COST_OBJECTIVES:
            raise ValueError(f"objective: one of {', '.join(COST_OBJECTIVES)}, got "
                             f"{self.objective!r}")

    def window(self, start: int) -> tuple[int, int]:
        """First and last year of the appraisal period from `start` (decided_from)."""
        return start, start + self.years - 1

    def sources(self) -> tuple[str, str]:
        """Where the rate and the period come from: the sourced defaults, or the option the
        user set them by."""
        return (SOCIAL_DISCOUNT_SOURCE if self.discount_pct == SOCIAL_DISCOUNT_PCT
                else "--discount-rate", APPRAISAL_SOURCE if self.years == APPRAISAL_YEARS
                else "--appraisal-years")

    def describe(self, start: int) -> str:
        """The whole-life cost's basis in words, as labels and plan.json say it."""
        first, last = self.window(start)
        return (f"present value in {first} at {self.discount_pct:g}%/yr of capital and "
                f"operating cost, {first}-{last}")


class CandidatesSpec(PlanFile):
    """A candidates file, validated."""

    KIND: ClassVar[str] = "candidates file"

    decided_from: int = Field(ge=1900, le=2200, description="first year a decision is taken")
    candidates: tuple[Candidate, ...] = Field(min_length=1)
    # the seed of the growth draws and its default are PlanFile's (one home: it redefined the
    # default as 11, for no reason written down; the shipped plan-2025.yaml sets `seed: 11`
    # itself, so its recorded results stand)

    @field_validator("candidates")
    @classmethod
    def _distinct(cls, candidates: tuple[Candidate, ...]) -> tuple[Candidate, ...]:
        distinct_names(candidates, "candidate")
        return candidates


def load_candidates(path: str | Path, year: int | None = None
                    ) -> tuple[CandidatesSpec, Scenario]:
    """Read and validate a candidates file and its base scenario; the candidates' changes
    must build on it, each and all together (else every portfolio with them fails after the
    others have run), and with `year`, on top of the markets' highest growth to that year."""
    spec, base = read_plan_file(path, CandidatesSpec)
    path = absolute(path)   # as every message names a file
    growth = []
    if year is not None:
        if year < spec.base_year:   # the file's year and the option's: name both
            raise InputError(path, "base_year", f"a base year no later than the target year "
                             f"(--year {year}): a plan grows the base year's network to the "
                             "target year (or a later --year)", spec.base_year)
        growth = growth_part(spec.growth, spec.base_year, year, path)
    check_together(base, [*growth, *((f"candidates.{i}.changes",
                                      [c.model_dump(mode="json", exclude_none=True)
                                       for c in candidate.changes])
                                     for i, candidate in enumerate(spec.candidates))],
                   path, days=spec.days)
    return spec, base


Portfolio = tuple[tuple[str, int], ...]   # (candidate name, in-service year), in file order
# assumption: every portfolio is simulated at least --first times (a year of the network,
# about 15 s a run): 4,096 portfolios x 4 runs are some 68 hours on one core, the most a
# search on a workstation or a small cluster can mean to do
MAX_PORTFOLIOS = 4096


def options(spec: CandidatesSpec, year: int) -> dict[str, list[int]]:
    """In-service years worth considering per candidate for target `year`: the latest year
    of each distinct share (none when the lead time does not allow service by `year`)."""
    out: dict[str, list[int]] = {}
    for c in spec.candidates:
        first = first_in_service(spec.decided_from, c.lead_time_years)
        best: dict[float, int] = {}
        for y in range(first, year + 1):
            best[c.share(y, year)] = y    # later years overwrite: same share, cheaper
        out[c.name] = sorted(best.values())
    return out


def portfolios(spec: CandidatesSpec, year: int) -> list[Portfolio]:
    """Every portfolio of feasible in-service choices (the empty one included); InputError
    when there would be more than MAX_PORTFOLIOS (counted before any is built: 26
    candidates made 2^26 and filled the machine's memory)."""
    opts = options(spec, year)
    names = [c.name for c in spec.candidates]
    choices = [[None, *opts[n]] for n in names]
    count = math.prod(len(c) for c in choices)
    if count > MAX_PORTFOLIOS:
        raise InputError(spec.source_file, "candidates", f"at most {MAX_PORTFOLIOS:,} "
                         f"portfolios by {year} (these {len(names)} candidates and their "
                         f"in-service years give {count:,}): fewer candidates, or a plan "
                         "per group of them")
    out = []
    for combo in itertools.product(*choices):
        out.append(tuple((n, y) for n, y in zip(names, combo, strict=True) if y is not None))
    return out


@dataclass(frozen=True)
class Costs:
    """A portfolio's (or candidate's) costs, each with its unit of time."""

    to_target: float          # CNY, capital + operating up to the target year, undiscounted
    operating_after: float    # CNY/yr of operating cost after the target year, ramp-up ended
    whole_life: float         # CNY, present value over the appraisal period (`Appraisal`)

    def objective(self, appraisal: Appraisal) -> float:
        """The cost the search minimises under `appraisal`, CNY."""
        return self.whole_life if appraisal.objective == "whole-life" else self.to_target


def candidate_costs(spec: CandidatesSpec, name: str, in_service: int, year: int,
                    appraisal: Appraisal) -> Costs:
    """One candidate's costs in service from `in_service`, for target `year`."""
    c = next(c for c in spec.candidates if c.name == name)
    return Costs(c.cost(in_service, year), c.operating_after(),
                 c.present_value(in_service, appraisal, spec.decided_from))


def largest(spec: CandidatesSpec, year: int) -> Portfolio:
    """The one portfolio that expands most by `year`: every candidate that can be in service
    by then, each in the earliest of its in-service years considered (`options`), the one
    that gives it its largest share in `year` (ramp-ups never fall): every other portfolio
    is a subset of it (`_subset`). The frontier runs it beside the empty portfolio and each
    candidate alone; the monotone search screens it first."""
    opts = options(spec, year)
    return tuple((c.name, opts[c.name][0]) for c in spec.candidates if opts[c.name])


def portfolio_costs(spec: CandidatesSpec, p: Portfolio, year: int,
                    appraisal: Appraisal) -> Costs:
    """The portfolio's costs: the sums of its candidates' (`candidate_costs`)."""
    each = [candidate_costs(spec, n, y, year, appraisal) for n, y in p]
    return Costs(sum(c.to_target for c in each), sum(c.operating_after for c in each),
                 sum(c.whole_life for c in each))


def label(p: Portfolio) -> str:
    """A portfolio as its tables and the console name it: `name@in-service year` joined by
    " + ", "(nothing)" for the empty one."""
    return " + ".join(f"{n}@{y}" for n, y in p) or "(nothing)"


def replications_to_decide(portfolios: int, probability: float,
                           alpha: float = 0.05) -> tuple[int, int]:
    """(n, m): the fewest replications in which a portfolio that never meets the target is
    shown infeasible (n), and one that always meets it feasible (m), at the screening's
    Bonferroni level over `portfolios`: with `most` below n the search can decide nothing."""
    level = alpha / max(1, portfolios)
    # closed forms of the two Clopper-Pearson bounds: the upper bound after 0 of n is
    # 1 - (level/2)^(1/n), the lower after m of m is (level/2)^(1/m); solved for n and m,
    # then stepped to the exact bound (a count upwards took hours near 0 or 1)
    tail = math.log(level / 2)
    n = max(1, math.floor(tail / math.log1p(-probability)))
    while n > 1 and clopper_pearson(0, n - 1, level)[1] < probability:
        n -= 1
    while clopper_pearson(0, n, level)[1] >= probability:
        n += 1
    m = max(1, math.ceil(tail / math.log(probability)))
    while m > 1 and clopper_pearson(m - 1, m - 1, level)[0] >= probability:
        m -= 1
    while clopper_pearson(m, m, level)[0] < probability:
        m += 1
    return n, m


def most_to_decide(p_meet: float, probability: float, level: float,
                   most: int = 1_000_000) -> int | None:
    """About how many replications show a portfolio whose P(meet) stays at `p_meet` feasible
    or infeasible (its Clopper-Pearson interval at `level`, over round(`p_meet` x n) of n,
    then excludes `probability`): what `--most` an undecided portfolio asks for. None when no
    count up to `most` decides it (`p_meet` at the required probability). A binomial
    decision, not the t interval of a mean change that `sim.stats.replications_to_resolve`
    sizes.

    Rule: a count n that decides while n - 1 does not (`sim.stats.crossing`), bracketed by
    doubling from 2: the first power of two that decides and the one before it. The decision
    is not monotone in n (round(p_meet x n) / n steps either side of p_meet), so near the
    crossing it can flip back and forth, and n is not always the least count that decides
    (over the shares k/n of n <= 24 against 0.5, 0.8 and 0.9 at levels 0.05, 0.05/12 and
    0.05/324, in 36% of them, a median 7% above it: 2/5 against 0.5 at level 0.05 gives 106,
    where 101 is the least that decides and 107 and 109 do not). `sim.stats`' `_fewest`
    brackets by the whole range instead (1, `most`), which over such a predicate finds
    another crossing (110 there; another count for 28% of those shares): kept apart so that
    the counts this note gives do not move."""
    def decides(n: int) -> bool:
        low, high = clopper_pearson(round(p_meet * n), n, level)
        return high < probability or low >= probability

    if p_meet == probability or not decides(most):
        return None
    low, high = 1, 2
    while not decides(high):     # doubling: a bracket near the crossing
        low, high = high, 2 * high
    return crossing(low, high, decides)


# evaluate(portfolios, replications) -> {portfolio: (trade per replication, co2 per replication)}
Evaluate = Callable[[Sequence[Portfolio], Sequence[int]],
                    dict[Portfolio, tuple[np.ndarray, np.ndarray]]]


@dataclass
class Screened:
    """What the search knows of one portfolio: `cost` is the one the search minimises (CNY,
    `Appraisal.objective`), `costs` all of them."""

    portfolio: Portfolio
    cost: float
    costs: Costs
    trade: np.ndarray = field(default_factory=lambda: np.empty(0))
    co2: np.ndarray = field(default_factory=lambda: np.empty(0))
    status: str = "undecided"        # feasible | infeasible | dearer | pruned | undecided
    # the last screening test: the Clopper-Pearson bounds of P(meet) at the Bonferroni level
    # over the replications it read (low, high, level, replications); None before any
    decided_by: tuple[float, float, float, int] | None = None

    def p_meet(self, target: float) -> float:
        """Share of its replications so far with trade at or above `target` (NaN: none)."""
        k, n = meeting(self.trade, target)
        return k / n if n else float("nan")


@dataclass(frozen=True)
class Confirmation:
    """The chosen portfolio's fresh replications against the target: how many meet it of
    how many, the share and its 95% Wilson interval."""

    meeting: int
    replications: int
    p_meet: float
    ci95: tuple[float, float]

    @classmethod
    def of(cls, trade: np.ndarray, target: float) -> Confirmation:
        """From the confirming replications' trade (bn CNY/yr) and the target."""
        from sim.stats import wilson

        k, n = meeting(trade, target)
        return cls(k, n, k / n if n else float("nan"), wilson(k, n))

    def supports(self, probability: float) -> bool:
        """Whether the share meeting the target is at least the required probability."""
        return self.replications > 0 and self.p_meet >= probability


def confirmation_note(c: Confirmation, probability: float) -> str | None:
    """What plan.csv's TOTAL row, plan.json and the console say when the confirmation's share
    falls below the required probability (the screening chose the portfolio, its fresh
    replications do not bear it out): "does not support" with the interval reaching the
    requirement, "contradicts" when it lies wholly below; None when it supports it."""
    if not c.replications or c.supports(probability):
        return None
    low, high = c.ci95
    seen = (f"{c.meeting} of {c.replications} fresh replications meet the target ("
            f"{c.p_meet:.2f}, 95% Wilson interval {low:.2f}-{high:.2f})")
    if high < probability:
        return (f"confirmation contradicts P >= {probability:g}: {seen}, wholly below it; the "
                "screening's choice is not borne out")
    return (f"confirmation does not support P >= {probability:g}: {seen}; more --confirm "
            "replications would tell whether the chosen portfolio meets it")


@dataclass(frozen=True)
class Added:
    """Goods trade a portfolio adds over the empty one in the target year (bn CNY/yr): the
    mean of the paired differences over the replications both ran (replication r of each
    has growth draw r and simulation replication r) and its 95% half-width, and that per
    bn CNY of the cost the search minimises (per year; NaN for a portfolio that costs
    nothing), with its half-width: `ci95` over the same cost, which is not uncertain. The
    screening reads P(meet); a planner choosing what to fund reads this."""

    bn_cny_per_year: float
    ci95: float
    pairs: int
    per_bn_cny: float
    per_bn_cny_ci95: float


@dataclass
class PlanResult:
    """What a plan found: the chosen portfolio (None when none is shown to meet the target)
    with its confirming replications' trade (bn CNY/yr), every portfolio screened, the target
    (bn CNY/yr), its year and required probability, and the search's notes (what the console,
    plan.csv's last row and plan.json say)."""

    chosen: Screened | None
    confirm_trade: np.ndarray
    screened: list[Screened]
    target: float
    probability: float
    year: int
    notes: list[str]
    appraisal: Appraisal = field(default_factory=Appraisal)

    @property
    def confirmation(self) -> Confirmation | None:
        """The chosen portfolio's confirmation; None when nothing was chosen or confirmed."""
        if self.chosen is None or not self.confirm_trade.size:
            return None
        return Confirmation.of(self.confirm_trade, self.target)

    def added(self, s: Screened) -> Added:
        """What `s` adds over the empty portfolio, run before screening (NaN without it)."""
        none = next((o for o in self.screened if not o.portfolio), None)
        n = min(s.trade.size, none.trade.size) if none is not None else 0
        if none is None or n == 0:
            return Added(float("nan"), float("nan"), 0, float("nan"), float("nan"))
        delta, half = difference_ci(none.trade[:n], s.trade[:n], paired=True)
        cost = s.cost / CNY_PER_BN
        if not cost > 0:
            return Added(delta, half, n, float("nan"), float("nan"))
        return Added(delta, half, n, delta / cost, half / cost)

    def alone(self) -> list[tuple[Screened, Added]]:
        """Each candidate on its own (every in-service year screened) with what it adds,
        most trade per bn CNY of cost first: where money goes furthest, whatever the
        target. Empty without the empty portfolio's runs (`search(frontier=False)`)."""
        rows = [(s, self.added(s)) for s in self.screened if len(s.portfolio) == 1]
        rows = [(s, a) for s, a in rows if a.pairs]
        return sorted(rows, key=lambda sa: (math.isnan(sa[1].per_bn_cny), -sa[1].per_bn_cny))

    @property
    def verdict(self) -> str:
        """chosen (a portfolio shown to meet the target), undecided (none shown to, and some
        not shown not to) or none (every portfolio shown not to meet it)."""
        if self.chosen is not None:
            return "chosen"
        return "undecided" if any(s.status == "undecided" for s in self.screened) else "none"


def undecided_note(left: Sequence[Screened], *, chosen: bool, most: int, need: int,
                   level: float, target: float, probability: float) -> str:
    """Why portfolios are still undecided after screening, and what would decide them: the
    console, plan.json and plan.csv say it in these words."""
    if most < need:
        why = f"--most {most} is below the {need} needed to decide any"
    else:
        shares = [s.p_meet(target) for s in left]
        runs = max(s.trade.size for s in left)
        seen = (f"{min(shares):.2f}" if f"{min(shares):.2f}" == f"{max(shares):.2f}" else
                f"{min(shares):.2f}-{max(shares):.2f}")
        why = (f"P(meet) {seen} over {runs} replications, whose "
               f"Clopper-Pearson bounds at the Bonferroni level {level:.3g} still include "
               f"{probability:g}")
        more = [most_to_decide(p, probability, level) for p in shares]
        if all(m is not None for m in more):
            why += (f"; about --most {max(m for m in more if m is not None)} would decide "
                    "them at these P(meet)")
    if chosen:
        return (f"{len(left)} cheaper portfolio(s) still undecided ({why}): they may also "
                "meet the target")
    return (f"undecided: no portfolio is shown to meet {target:g} bn CNY/yr with probability "
            f">= {probability:.10g}, and {len(left)} portfolio(s) are not shown not to ({why})")


def _subset(a: Portfolio, b: Portfolio) -> bool:
    """Whether `a` expands no more than `b` (each of a's candidates in b, no later)."""
    by = dict(b)
    return all(n in by and by[n] <= y for n, y in a)


def search(spec: CandidatesSpec, year: int, target: float, probability: float,
           evaluate: Evaluate, *, first: int = 4, most: int = 64, confirm: int = 32,
           alpha: float = 0.05, monotone: bool = True, frontier: bool = True,
           appraisal: Appraisal | None = None) -> PlanResult:
    """Successive screening with paired replications (module docstring), cheapest by
    `appraisal`'s objective (default: the cost to the target year). With `frontier`, the
    empty portfolio, each candidate alone (in each in-service year considered) and the
    largest portfolio (`largest`) first run `first` replications each, whatever the
    screening then drops: the frontier's marks."""
    appraisal = appraisal or Appraisal()
    pool = []
    for p in portfolios(spec, year):
        costs = portfolio_costs(spec, p, year, appraisal)
        pool.append(Screened(p, costs.objective(appraisal), costs))
    pool.sort(key=lambda s: (s.cost, len(s.portfolio)))
    notes: list[str] = []
    if not pool:
        raise InputError(spec.source_file, "candidates", "at least one portfolio")
    need_out, need_in = replications_to_decide(len(pool), probability, alpha)
    need = min(need_out, need_in)     # below both, no portfolio can be decided either way
    if most < need:   # said before the runs; the closing note gives it as the reason
        warnings.warn(InputWarning(
            f"--most {most} cannot decide any of the {len(pool)} portfolios: {need_out} "
            f"replications are needed to show one infeasible, {need_in} feasible (P(meet) >= "
            f"{probability:g}, Bonferroni over the portfolios); every portfolio is run "
            f"{most} times and none is dropped"), stacklevel=2)
    elif most < need_in:   # enough to drop some, too few to choose one while all are screened
        last = replications_to_decide(1, probability, alpha)[1]   # one left undecided
        takes = (f"showing one to meet the target with P(meet) >= {probability:g} takes "
                 f"{need_in} replications while all are undecided (Bonferroni over the "
                 "portfolios undecided)")
        warnings.warn(InputWarning(
            f"--most {most} cannot show any of the {len(pool)} portfolios feasible, so no plan "
            f"can be chosen: {takes} and {last} for the last one left; it can only show "
            f"portfolios infeasible ({need_out} replications)" if most < last else
            f"--most {most} may show none of the {len(pool)} portfolios feasible and choose "
            f"no plan: {takes}, fewer only once screening has shown others infeasible "
            f"({last} with one left)"), stacklevel=2)

    def run(items: list[Screened], n: int) -> None:
        todo = [s for s in items if s.trade.size < n]
        if not todo:
            return
        done = min(s.trade.size for s in todo)
        got = evaluate([s.portfolio for s in todo], list(range(done, n)))
        for s in todo:
            trade, co2 = got[s.portfolio]
            have = s.trade.size
            s.trade = np.concatenate([s.trade, trade[have - done:]])
            s.co2 = np.concatenate([s.co2, co2[have - done:]])

    if frontier:   # a picture of the trade-off even when nothing is feasible
        # the empty portfolio, each candidate alone and the one largest portfolio: not every
        # portfolio naming all candidates, which was none when one cannot be in service by
        # `year` and every combination of their in-service years otherwise (review59 #1)
        whole = largest(spec, year)
        marks = [s for s in pool if len(s.portfolio) <= 1 or s.portfolio == whole]
        run(marks, first)
    def decide(items: list[Screened], n: int, level: float) -> None:
        run(items, n)
        for s in items:
            # every replication it has run, n or more: the monotone search can have taken
            # the largest portfolios past n, and re-testing those on their first n wrote n
            # as the decision_replications of one then set aside as dearer, or decided it on
            # its first n of the more it had (review59 #2)
            k, m = meeting(s.trade, target)
            low, high = clopper_pearson(k, m, level)
            s.decided_by = (low, high, level, m)
            if high < probability:
                s.status = "infeasible"
                if monotone:
                    for other in pool:
                        if other.status == "undecided" and _subset(other.portfolio,
                                                                   s.portfolio):
                            other.status = "pruned"
            elif low >= probability:
                s.status = "feasible"

    n = first
    while True:
        undecided = [s for s in pool if s.status == "undecided"]
        level = alpha / max(1, len(undecided))   # Bonferroni over the stage's portfolios
        if monotone:   # the largest first, to a decision: if they cannot meet the
            top = [s for s in undecided if not any(     # target, no subset can
                o is not s and _subset(s.portfolio, o.portfolio) for o in undecided)]
            m = n
            while True:
                decide(top, m, level)
                top = [s for s in top if s.status == "undecided"]
                if not top or m >= most:
                    break
                m = min(2 * m, most)
        decide([s for s in pool if s.status == "undecided"], n, level)
        feasible = [s for s in pool if s.status == "feasible"]
        if feasible:
            best = min(s.cost for s in feasible)
            for s in pool:
                if s.status == "undecided" and s.cost > best:
                    s.status = "dearer"
        if not any(s.status == "undecided" for s in pool) or n >= most:
            break
        n = min(2 * n, most)
    left = [s for s in pool if s.status == "undecided"]
    feasible = sorted((s for s in pool if s.status == "feasible"), key=lambda s: s.cost)
    chosen = feasible[0] if feasible else None
    if left:
        notes.append(undecided_note(left, chosen=chosen is not None, most=most, need=need,
                                    level=level, target=target, probability=probability))
    confirm_trade = np.empty(0)
    if chosen is not None and confirm > 0:
        start = max(s.trade.size for s in pool)
        got = evaluate([chosen.portfolio], list(range(start, start + confirm)))
        confirm_trade = got[chosen.portfolio][0]
        said = confirmation_note(Confirmation.of(confirm_trade, target), probability)
        if said:   # chosen by screening, not borne out: said beside the choice (review50, 4)
            notes.append(said)
    elif chosen is None and not left:
        notes.append(f"no portfolio meets {target:g} bn CNY/yr in {year} with probability "
                     f">= {probability:.10g}")
    return PlanResult(chosen, confirm_trade, pool, target, probability, year, notes, appraisal)


# each cost with its unit of time: bn CNY once (to the target year; whole-life, a present
# value) or bn CNY per year (operating, and what it keeps costing after the target year)
COST_COLUMNS = {"cost_to_target_bn_cny": "to_target",
                "operating_after_target_bn_cny_per_year": "operating_after",
                "whole_life_pv_bn_cny": "whole_life"}
PLAN_COLUMNS = ["candidate", "in_service", "decide_by", "capital_bn_cny",
                "operating_bn_cny_per_year", *COST_COLUMNS, "capital_source",
                "operating_source", "lead_time_source", "p_meet", "p_meet_ci95_low",
                "p_meet_ci95_high", "confirm_replications", "target_bn_cny_per_year", "target_year",
                "probability_required", "note"]


def tables(spec: CandidatesSpec, result: PlanResult, warned: Sequence[str] = ()
           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """plan.csv (the chosen portfolio, its costs, P(meet) with CI; its TOTAL, UNDECIDED or
    NONE row's note carries the search's notes and the `warned` lines) and frontier.csv
    (cheapest first by the appraisal's objective, each portfolio with the trade it adds over
    the empty one, `PlanResult.added`); both give every cost (`COST_COLUMNS`)."""
    from sim.stats import wilson

    t = result.target
    rows = []

    def bn(costs: Costs) -> dict[str, float]:
        return {col: getattr(costs, name) / CNY_PER_BN for col, name in COST_COLUMNS.items()}

    for s in result.screened:
        if not s.trade.size:
            continue
        k, n = meeting(s.trade, t)
        low, high = wilson(k, n)
        added = result.added(s)
        rows.append({"portfolio": label(s.portfolio), "candidates": len(s.portfolio),
                     **bn(s.costs), "replications": n, "p_meet": k / n,
                     "p_meet_ci95_low": low, "p_meet_ci95_high": high,
                     "trade_mean_bn_cny_per_year": float(s.trade.mean()),
                     "trade_added_bn_cny_per_year": added.bn_cny_per_year,
                     "trade_added_ci95": added.ci95, "trade_added_pairs": added.pairs,
                     "trade_added_per_bn_cny_per_year": added.per_bn_cny,
                     "co2_mean_kt_per_year": float(s.co2.mean()) / 1e3, "status": s.status,
                     **decision_columns(s)})
    sort = objective_column(result.appraisal)
    front = pd.DataFrame(rows).sort_values(sort, kind="stable") if rows else \
        pd.DataFrame(columns=["portfolio", *COST_COLUMNS, "p_meet"])
    plan_rows = []
    by = {c.name: c for c in spec.candidates}
    note = "; ".join([*result.notes, *warned])
    if result.chosen is not None:
        confirmed = result.confirmation
        p, (low, high), n = ((confirmed.p_meet, confirmed.ci95, confirmed.replications)
                             if confirmed else (float("nan"), (float("nan"), float("nan")), 0))
        for name, y in result.chosen.portfolio:
            c = by[name]
            plan_rows.append({
                "candidate": name, "in_service": y, "decide_by": y - math.ceil(c.lead_time_years),
                "capital_bn_cny": c.capital_cny / CNY_PER_BN,
                "operating_bn_cny_per_year": c.operating_cny_per_year / CNY_PER_BN,
                **bn(candidate_costs(spec, name, y, result.year, result.appraisal)),
                "capital_source": c.capital_source, "operating_source": c.operating_source,
                "lead_time_source": c.lead_time_source})
        plan_rows.append({"candidate": "TOTAL",
                          "capital_bn_cny": sum(by[n].capital_cny for n, _ in
                                                result.chosen.portfolio) / CNY_PER_BN,
                          "operating_bn_cny_per_year": sum(
                              by[n].operating_cny_per_year for n, _ in
                              result.chosen.portfolio) / CNY_PER_BN,
                          **bn(result.chosen.costs),
                          "p_meet": p, "p_meet_ci95_low": low, "p_meet_ci95_high": high,
                          "confirm_replications": n, "target_bn_cny_per_year": t,
                          "target_year": result.year, "probability_required": result.probability,
                          "note": note})
    else:   # a row that says so, not a file without a header
        plan_rows.append({"candidate": result.verdict.upper(), "target_bn_cny_per_year": t,
                          "target_year": result.year, "probability_required": result.probability,
                          "note": note})
    return pd.DataFrame(plan_rows, columns=PLAN_COLUMNS), front


# the bounds the status was decided by (review50 #14: a Wilson lower bound above the
# requirement beside "undecided" read as a contradiction): Clopper-Pearson at the Bonferroni
# level of the screening's last look at the portfolio, over the replications it read then
DECISION_COLUMNS = ("decision_low", "decision_high", "decision_level",
                    "decision_replications")


def decision_columns(s: Screened) -> dict[str, float]:
    """frontier.csv's record of the test that gave `s` its status (NaN: never tested, e.g.
    pruned unseen or dearer before its turn)."""
    held = s.decided_by or (float("nan"),) * 4
    return dict(zip(DECISION_COLUMNS, held, strict=True))


def objective_column(appraisal: Appraisal) -> str:
    """The plan.csv/frontier.csv column of the cost the search minimised."""
    return "whole_life_pv_bn_cny" if appraisal.objective == "whole-life" else \
        "cost_to_target_bn_cny"


def cost_label(appraisal: Appraisal, start: int) -> str:
    """The minimised cost in words, with its unit: frontier.png's x axis."""
    if appraisal.objective == "whole-life":
        first, last = appraisal.window(start)
        return (f"whole-life cost, bn CNY (present value in {first} at "
                f"{appraisal.discount_pct:g}%/yr, {first}-{last})")
    return "cost to the target year, bn CNY (capital + operating, undiscounted)"


def frontier_plot(front: pd.DataFrame, path: Path, probability: float, target: float,
                  year: int, appraisal: Appraisal | None = None,
                  start: int | None = None, period: str = "") -> Path:
    """The minimised cost (`appraisal`'s objective; `start`: decided_from, where its present
    value is taken) against P(meet), each point coloured by its mean CO2; the title and the
    y axis say the target (bn CNY/yr) and its year, and the legend sits outside the axes,
    where it covers no portfolio (at the lower right it hid the dearest one); `period`: what
    a part year's figures are annualised from (`sim.boundary.study_period`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim.atomic import write_png
    from sim.figsource import per_year, source_line

    appraisal = appraisal or Appraisal()
    x = objective_column(appraisal)
    fig, ax = plt.subplots(figsize=(7.5, 5.0), layout="constrained")
    pts = ax.scatter(front[x], front["p_meet"],
                     c=front["co2_mean_kt_per_year"], cmap="viridis", s=36)
    ax.errorbar(front[x], front["p_meet"],
                yerr=[(front["p_meet"] - front["p_meet_ci95_low"]).clip(lower=0.0),
                      (front["p_meet_ci95_high"] - front["p_meet"]).clip(lower=0.0)],
                fmt="none", ecolor="grey", alpha=0.5, lw=0.8)
    ax.axhline(probability, color="tab:red", ls="--", lw=1,
               label=f"required P(meet) {probability:g}")
    fig.colorbar(pts, ax=ax, label="CO2, kt/yr")
    # "a target ... in {year}": the figure may be another year's (the 2025 target held in a
    # --year 2035 plan), which "the 2035 target" misnamed
    ax.set_title(f"Portfolios against a target of {target:g} bn CNY/yr of goods trade in "
                 f"{year}", fontsize=10)
    ax.set_xlabel(cost_label(appraisal, year if start is None else start))
    ax.set_ylabel(f"P(goods trade in {year} >= {target:g} bn CNY/yr)")
    ax.set_ylim(-0.03, 1.03)
    fig.legend(loc="outside upper center", fontsize=8)
    rate, years = appraisal.sources()
    rate = ("" if appraisal.objective != "whole-life" else
            f"; discount rate: {rate}; period: {years}")
    source_line(fig, per_year("source: cqsim plan, frontier.csv (simulated P(meet) and CO2; "
                              f"costs from the candidates file, each with its source{rate})",
                              period))
    try:
        return write_png(path, fig, 120)
    finally:
        plt.close(fig)


def write_outputs(spec: CandidatesSpec, result: PlanResult, out: Path,
                  warned: Sequence[str] = (), period: str = "") -> list[Path]:
    """plan.csv, frontier.csv and frontier.png; `warned`: the run's warnings, kept in
    plan.csv's note beside the search's notes; `period`: `frontier_plot`'s."""
    from sim.atomic import write_csv

    plan, front = tables(spec, result, warned)
    files = [write_csv(out / "plan.csv", plan), write_csv(out / "frontier.csv", front)]
    if len(front):
        files.append(frontier_plot(front, out / "frontier.png", result.probability,
                                   result.target, result.year, result.appraisal,
                                   spec.decided_from, period))
    return files


def _unit_draw(seed: int, replication: int, d: int) -> np.ndarray:
    """`d` uniform draws of replication r, from a stream of its own (seed, r)."""
    return np.random.default_rng([seed, replication]).random(d)


def growth_rates(spec: CandidatesSpec, replication: int) -> dict[str, float]:
    """Market growth (% per year) of replication r: its own draw, the same for every
    portfolio (common random numbers). Independent draws, not a pathway's Latin hypercube
    (`sim.pathway.growth_draws`): a plan's replications are open-ended (screening doubles
    them up to --most, the confirmation adds fresh ones), and a hypercube is stratified only
    over the number of draws fixed before it is drawn."""
    markets = list(spec.growth)
    u = _unit_draw(spec.seed, replication, len(markets))
    return {m: float(spec.growth[m].ppf(u[j:j + 1])[0])      # type: ignore[union-attr]
            for j, m in enumerate(markets)}


@dataclass(frozen=True)
class PlanTask:
    """One simulation of a portfolio in the target year."""

    run_id: str
    portfolio: Portfolio
    replication: int
    year: int
    spec: CandidatesSpec
    base: Scenario

    def head(self) -> dict[str, Any]:
        """The columns that name the run in its part file, failed or not."""
        return {"run_id": self.run_id, "portfolio": label(self.portfolio),
                "replication": self.replication}


def year_plan_scenario(spec: CandidatesSpec, base: Scenario, p: Portfolio, year: int,
                       rates: dict[str, float]) -> Scenario:
    """The base scenario in `year` with the portfolio's expansions at their shares."""
    from sim.pathway import Expansion, PathwaySpec, year_scenario

    by = {c.name: c for c in spec.candidates}
    expansions = tuple(Expansion(name=n, in_service=y, lead_time_years=by[n].lead_time_years,
                                 ramp_up=by[n].ramp_up, changes=by[n].changes,
                                 source=by[n].capital_source) for n, y in p)
    path = PathwaySpec(scenario=spec.scenario, base_year=spec.base_year, to=year,
                       decided_from=spec.decided_from, expansions=expansions,
                       source_file=spec.source_file)
    return year_scenario(base, path, rates, year)


def execute_plan_run(task: PlanTask) -> dict[str, Any]:
    """Simulate one portfolio x replication; a failure becomes a failed row."""
    import time

    from sim.pipeline import prepare, replicate_one, settle
    from sim.sweep.tasks import failed_row, run_kpis
    from sim.trade import GOODS_TRADE

    start = time.perf_counter()
    try:
        rates = growth_rates(task.spec, task.replication)
        scen = year_plan_scenario(task.spec, task.base, task.portfolio, task.year, rates)
        plan = prepare(scen, replications=task.replication + 1, days=task.spec.days)
        # settled here, not through the sweeps' per-process memo: a plan runs each portfolio
        # x replication once (its own growth draw), so the memo never served a plan its own
        # settling, and keyed by portfolio and replication it served a second plan in the
        # same process (a notebook, a Dask worker) the first plan's (review50, 1). The disk
        # cache of the feedback passes (`sim.cache`) is keyed by the whole plan
        kpis = run_kpis(replicate_one(settle(plan), task.replication), plan)
    except Exception as exc:  # a failed run is data
        return failed_row(task, f"{type(exc).__name__}: {exc}", time.perf_counter() - start)
    return {**task.head(), "status": "ok", "error": "",
            "trade_bn_cny_per_year": float(kpis[GOODS_TRADE]),
            "co2_t_per_year": float(kpis["total_co2_t_per_year"]),
            "wall_s": time.perf_counter() - start}


def simulation_evaluator(spec: CandidatesSpec, base: Scenario, year: int, out: Path, *,
                         workers: int, scheduler: str | None = None,
                         local_cluster: bool = False,
                         connect: Callable[[], Any] = lambda: None,
                         progress: bool | None = None) -> Evaluate:
    """Evaluate portfolios by simulation on the chosen executor (`connect`: called the first
    time a stage has runs to do, the Dask client `sim.sweep.executors.connected` made, or
    None); every run is a part file in out/runs (an interrupted plan resumes from them).
    Each stage with runs to do reports them on stderr as a sweep does (`sim.progress`:
    "plan-2025: 12 portfolio(s) x replications 1-4: 20/48 runs done, ETA 1h05m"; a bar on a
    terminal, `progress=False` silent)."""
    from sim.atomic import write_parquet
    from sim.progress import Progress
    from sim.sweep.executors import dispatch
    from sim.sweep.store import part_statuses

    parts = out / "runs"
    parts.mkdir(parents=True, exist_ok=True)
    # a portfolio's place among all of them (fixed by the candidates and the year, which
    # run_plan's fingerprint holds), not the order the search reached it: that depends on
    # --first and --most, and a rerun with others read another portfolio's runs
    ids = {p: f"p{k:04d}" for k, p in enumerate(portfolios(spec, year))}

    def part(p: Portfolio, r: int) -> Path:
        return parts / f"{ids[p]}-r{r:04d}.parquet"

    def evaluate(items: Sequence[Portfolio], reps: Sequence[int]
                 ) -> dict[Portfolio, tuple[np.ndarray, np.ndarray]]:
        kept = part_statuses(parts, "p*.parquet")   # an unreadable part is run again
        tasks = [PlanTask(part(p, r).stem, p, r, year, spec, base) for p in items
                 for r in reps if part(p, r).stem not in kept]
        def record(row: dict[str, Any]) -> None:
            write_parquet(parts / f"{row['run_id']}.parquet", pd.DataFrame([row]))

        if tasks:   # a stage whose runs are all kept needs no scheduler
            client = connect()   # reached before the stage's first line
            total = len(items) * len(reps)
            stage = (f"{spec.name}: {len(items)} portfolio(s) x replications "
                     f"{reps[0] + 1}-{reps[-1] + 1}")
            with Progress(total, total - len(tasks), stage, progress) as bar:
                dispatch(tasks, record, workers=workers, scheduler=scheduler,
                         local_cluster=local_cluster, key_prefix="cqsim-plan",
                         fn=execute_plan_run, client=client, progress=bar)
        got = {}
        for p in items:
            trade, co2 = [], []
            for r in reps:
                row = pd.read_parquet(part(p, r)).iloc[0].to_dict()
                if row.get("status") != "ok":
                    raise RunFailed(f"run {part(p, r).stem} failed: {row.get('error')} (kept "
                                    f"in {part(p, r)}: delete it to run it again)")
                trade.append(row["trade_bn_cny_per_year"])
                co2.append(row["co2_t_per_year"])
            got[p] = (np.array(trade), np.array(co2))
        return got

    return evaluate


def target_year_note(target_of: Reference | None, year: int) -> str | None:
    """The warning when the published target a plan is held to is dated another year than
    the plan's `year`: the 2025 figure is then to be met in `year`, not a target of its own
    (review50, 13); None when the years agree or the target was given."""
    if target_of is None or target_of.year == year:
        return None
    return (f"--year {year} is held to the {target_of.year} target, {target_of.bn_cny:g} bn "
            f"CNY/yr ({target_of.cited()}), to be met in {year}: give --target for a target of "
            f"{year}'s own")


# what `run_plan` writes into its --out beside its part files (runs/*.parquet)
PLAN_FILES = ("plan.csv", "frontier.csv", "frontier.png", "plan.json")


def run_plan(path: str | Path, out: str | Path, *, target: float, year: int,
             probability: float, first: int = 4, most: int = 64, confirm: int = 32,
             monotone: bool = True, workers: int | None = None, scheduler: str | None = None,
             local_cluster: bool = False, limits: Limits | None = DEFAULT_STUDY_LIMITS,
             progress: bool | None = None, appraisal: Appraisal | None = None,
             target_of: Reference | None = None
             ) -> tuple[CandidatesSpec, PlanResult, list[Path]]:
    """Search the candidates file's portfolios by simulation and write plan.csv,
    frontier.csv and frontier.png into `out` (runs kept in out/runs: a rerun reuses them).
    Refused before anything is written when a full screen's runs (every portfolio `first`
    times, plus `confirm`; pruning may run fewer, an undecided portfolio up to `most`) are
    estimated beyond `limits`, or when no
    candidate can be in service by `year`. A --scheduler or --local-cluster is reached before
    anything is written into a folder with no runs; a rerun connects only when a stage has
    runs left (a finished plan rewrites its outputs with no cluster). `progress`: each
    stage's runs done and ETA on stderr (`simulation_evaluator`; None: a bar on a terminal,
    plain lines otherwise; False: silent). `appraisal`: how costs are counted and which the
    search minimises (default: the cost to the target year; its period must reach `year`);
    `target_of`: the published target `target` is (`cqsim plan` without --target), kept in
    plan.json, and warned of when it is dated another year than `year` (a 2035 plan held to
    the 2025 target); None: the caller's own figure."""
    import contextlib
    import json
    import os

    from sim.atomic import write_text
    from sim.boundary import (
        check_study,
        no_warmup_note,
        part_year_note,
        study_horizon,
        study_period,
    )
    from sim.inputs import changed_input, read_meta, study_identity
    from sim.staging import check_work_folder
    from sim.sweep.executors import connected

    spec, base = load_candidates(path, year)
    named = absolute(path)   # as every message names a file
    appraisal = appraisal or Appraisal()
    if appraisal.window(spec.decided_from)[1] < year:   # a period ending before the target
        raise InputError("--appraisal-years", "", f"a period that reaches the target year "
                         f"{year} from {named}'s decided_from {spec.decided_from}: at least "
                         f"{year - spec.decided_from + 1} years", appraisal.years)
    chosen = options(spec, year)
    if not any(chosen.values()):   # only the empty portfolio: nothing to plan
        quickest = min(math.ceil(c.lead_time_years) for c in spec.candidates)
        if year - quickest < spec.base_year:   # no decision year from the base year would do
            raise InputError("--year", "", f"a year by which some candidate of {named} can be "
                             f"in service (decided_from {spec.decided_from} + the quickest "
                             f"candidate's {quickest} year(s): {spec.decided_from + quickest} "
                             "or later)", year)
        raise InputError(named, "decided_from", f"a year that leaves some candidate buildable "
                         f"by {year} (decided_from + lead time <= {year}; the quickest "
                         f"candidate takes {quickest} year(s), so at most {year - quickest}; "
                         f"or a later --year, from {spec.decided_from + quickest})",
                         spec.decided_from)
    pool = len(portfolios(spec, year))   # their number checked before anything is written
    pruned = "pruning skips the subsets of one found infeasible, " if monotone else ""
    check_study(base, pool * first + confirm, workers or os.cpu_count() or 1, limits,
                spec.source_file, f"plan of {pool * first + confirm:,} runs when every "
                f"portfolio is screened ({pool:,} portfolios x --first {first}, + --confirm "
                f"{confirm}; {pruned}an undecided portfolio runs up to --most {most})",
                days=spec.days)   # at the file's days:, as the pathway's (it priced a year)
    late = [f"{named}: candidates.{i}.lead_time_years: {c.name} cannot be in service by {year} "
            f"(decided from {spec.decided_from}, {c.lead_time_years:g} years to build): left "
            "out of every portfolio"
            for i, c in enumerate(spec.candidates) if not chosen[c.name]]
    check_work_folder(out, own=PLAN_FILES, inputs=(path,))
    folder = Path(out)
    meta = folder / "plan.json"
    inputs, fingerprint = study_identity(path, spec, base, year=year)
    rerun = any((folder / "runs").glob("p*.parquet"))   # runs a rerun would reuse
    if rerun:
        held = read_meta(meta)
        if held.get("fingerprint") != fingerprint:
            kept = held.get("inputs")
            what = changed_input(kept, inputs) if isinstance(kept, dict) else None
            raise InputError(folder, "--out", f"a folder of runs of this plan for {year} (its "
                             "runs are of another candidates file, base or year"
                             f"{f': {what}' if what else ''}, or of no recorded "
                             "one): choose another --out")
    horizon = study_horizon(base, spec.days)
    said = [t for t in (no_warmup_note(base, spec.days, named),
                        part_year_note(base, spec.days, named),
                        target_year_note(target_of, year)) if t]
    workers = workers or os.cpu_count() or 1
    with contextlib.ExitStack() as stack:
        client: list[Any] = []

        def connect() -> Any:
            """The Dask client (None: a local executor), connected once, when first needed."""
            if not client:
                client.append(stack.enter_context(connected(scheduler, local_cluster,
                                                            workers=workers)))
            return client[0]

        # a fresh --out: its first stage runs every portfolio, so the scheduler is reached
        # before a warning or a file (if it cannot be, its error alone). A rerun over kept
        # runs connects only when a stage has runs left: a finished plan needs no cluster
        if not rerun:
            connect()
        for text in [*late, *said]:   # once the input is checked: bad input prints its
            warnings.warn(InputWarning(text), stacklevel=2)  # error alone
        cache.release()     # accepted: the workers read what the checks settled
        folder.mkdir(parents=True, exist_ok=True)
        write_text(meta, json.dumps({"candidates": spec.source_file, "year": year,
                                     "fingerprint": fingerprint, "inputs": inputs,
                                     "status": "running"}, indent=2))
        evaluate = simulation_evaluator(spec, base, year, folder, workers=workers,
                                        scheduler=scheduler, local_cluster=local_cluster,
                                        connect=connect, progress=progress)
        result = search(spec, year, target, probability, evaluate, first=first, most=most,
                        confirm=confirm, monotone=monotone, appraisal=appraisal)
    files = write_outputs(spec, result, folder, [*late, *said],    # what the console said
                          study_period(base, spec.days))
    files.append(write_text(meta, json.dumps({
        "candidates": spec.source_file, "fingerprint": fingerprint, "inputs": inputs,
        "status": "complete", "target_bn_cny_per_year": target, "year": year,
        "target": {"bn_cny_per_year": target, "met_in": year,
                   "dated": None if target_of is None else target_of.year,
                   "source": "given" if target_of is None else target_of.cited()},
        "appraisal": {"objective": appraisal.objective,
                      "discount_rate_pct_per_year": appraisal.discount_pct,
                      "years": list(appraisal.window(spec.decided_from)),
                      "whole_life": appraisal.describe(spec.decided_from),
                      "sources": dict(zip(("discount_rate", "years"), appraisal.sources(),
                                          strict=True))},
        "probability": probability, "horizon": horizon, "verdict": result.verdict,
        "confirmation": None if (c := result.confirmation) is None else {
            "replications": c.replications, "meeting": c.meeting, "p_meet": c.p_meet,
            "ci95": list(c.ci95), "supports_probability": c.supports(probability)},
        "replications": {"first": first, "most": most, "confirm": confirm},
        "monotone": monotone, "notes": result.notes, "warnings": said, "left_out": late},
        indent=2)))
    return spec, result, files
