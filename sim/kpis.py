"""KPIs and table columns, each declared once: name, unit, label, how it totals over corridors
and whether it is a count over the statistics period.

Every table column is a `Column` of a `Table`; the corridor KPIs (`kpis()`) add how they are
computed from the delivered lots, how corridors make a total, and how the terminal and plots
show them.

The unit convention lives in `Column.column` and `Table.frame`: a count over the statistics
period (TEU, tonnes, trade, CO2, departures, lockages, vehicles, lots) is annualised and
named `<name>_per_year`; a weekly series `<name>_per_week`; a total over the whole horizon
`<name>_horizon`. Stocks (`yard_mean_teu`, `queue_end_t`), times (`_h`) and shares keep
their names.
The result tables (`sim.engine.recorder`), sweeps (`sim.sweep`), comparisons (`sim.compare`),
the command line (`sim.cli.render`), the sweep plots and the HTML report's corridor figures
(`sim.report.rundir.kpi_measure`) all read these declarations, so a KPI is added, renamed,
relabelled or shown otherwise (unit, scale, digits: `View`) here and nowhere else.

The TEU-weighted mean (of transit, of waits) is one function, `teu_weighted_mean`, whether
it weighs lots within a corridor or corridors within the total.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np
import pandas as pd

from sim.errors import InputError, printable
from sim.specs import CONTAINER_CLASS, Corridor
from sim.stats import difference, pairs
from sim.units import CNY_PER_BN, T_PER_MT

if TYPE_CHECKING:
    from sim.scenario import Touched

Per = Literal["year", "week", "horizon"]
Total = Literal["sum", "teu_mean", "none"]
TEXT = "text"   # the unit of a column of words: an id, a name, a label


@dataclass(frozen=True, kw_only=True)
class Column:
    """One column of a result table."""

    name: str                   # as written in the rows
    unit: str = ""              # of the value: "TEU", "h", "t", "CNY", "share", ...; TEXT
                                # for words (an id, a name); "" only in an added kind's table
    label: str = ""             # for people: plot axes, terminal tables, docs/outputs.md
    per: Per | None = None      # a count over the statistics period ("year"), a week, or
                                # the whole horizon; None for stocks, times, shares, labels
    fixed: bool = False         # a number that describes the row's entity (a hub's
                                # coordinates): the same in every replication, so a summary
                                # carries it as a label, without a mean and a CI

    @property
    def column(self) -> str:
        """The column's name in the result table: a count says its unit of time."""
        if self.per is None:
            return self.name
        return f"{self.name}_horizon" if self.per == "horizon" else f"{self.name}_per_{self.per}"

    @property
    def is_text(self) -> bool:
        """A column of words (an id, a name, a label), not numbers: declared with unit TEXT,
        or, as an added kind may declare it, with no unit and no `per`."""
        return self.unit == TEXT or (not self.unit and self.per is None)

    @property
    def shown_unit(self) -> str:
        """Its unit as people read it: a count's with its unit of time (`per_unit`)."""
        return per_unit(self.unit, self.per)


# how a count's unit says its unit of time (`Column.per`): "TEU/yr", "jobs over the horizon"
PER_UNIT: dict[Per, str] = {"year": "/yr", "week": "/week", "horizon": " over the horizon"}
# the same in words, as the data dictionary says it (`sim.results.data_dictionary`)
PER_WORDS: dict[Per, str] = {"year": "per year", "week": "per week", "horizon": "over the horizon"}


def per_unit(unit: str, per: Per | None) -> str:
    """`unit` as people read a figure in it: with its unit of time where it is a count over
    a year, a week or the whole horizon (`PER_UNIT`); as it is otherwise."""
    return unit if per is None else f"{unit}{PER_UNIT[per]}".strip()


def col(name: str, unit: str = "", per: Per | None = None, label: str = "",
        fixed: bool = False) -> Column:
    """A table column (shorthand)."""
    return Column(name=name, unit=unit, per=per, label=label, fixed=fixed)


@dataclass(frozen=True)
class Table:
    """A result table: its name, the columns that identify a row, and every column."""

    name: str
    keys: tuple[str, ...]
    columns: tuple[Column, ...]
    series: bool = False    # one row per entity and day: summarised skipping empty days

    def frame(self, rows: list[dict[str, object]], per_year: float) -> pd.DataFrame:
        """The table from rows written with the columns' own names: counts over the
        statistics period times `per_year`, every column under its table name. InputError
        naming the table and the key for a row key no column declares: it used to be
        dropped without a word (a misspelt key, or rows of another table of that name);
        a declared column a row leaves out is NaN there. A table without rows has its
        numbers typed as numbers: its summary (and CSV header) is a filled one's, with
        `_ci95` columns and the fixed ones among the labels."""
        names = [c.name for c in self.columns]
        undeclared = set().union(*rows) - set(names) if rows else set()
        if undeclared:
            raise InputError(f"table {self.name}", "rows",
                             f"row keys among the columns the table declares "
                             f"({', '.join(names)})", sorted(map(str, undeclared))[0])
        frame = pd.DataFrame(rows, columns=names)
        if not rows:    # typed as declared, so its summary has a filled table's columns
            frame = frame.astype({c.name: float for c in self.columns if not c.is_text})
        for c in self.columns:
            if c.per == "year":
                frame[c.name] = frame[c.name] * per_year
        return frame.rename(columns={c.name: c.column for c in self.columns})


FRACTIONS = frozenset({"share", "ratio"})   # units of a fraction of 1


def default_digits(unit: str) -> int:
    """The decimals a KPI shown in `unit` gets when its declaration names none: 2 for a share
    or a ratio (a share of 0.04 must not read "0"), 0 for any other unit (counts, TEU, lots;
    a KPI scaled to kTEU, days or bn CNY declares its digits)."""
    return 2 if unit in FRACTIONS else 0


@dataclass(frozen=True)
class View:
    """How people read a KPI: its value / `scale`, in `unit` as read (with its unit of time
    where it is a count: "TEU/yr"), to `digits` decimals."""

    scale: float
    unit: str
    digits: int

    def show(self, value: Any) -> Any:
        """The value (or array) in this view's unit."""
        return value / self.scale


@dataclass(frozen=True, kw_only=True)
class KPI(Column):
    """A corridor KPI: a column of the corridors table, computed from the delivered lots (or,
    where `of` is None, given by the recorder: trade, counted when declared), and how people
    read it: the terminal, plots and comparisons as value / `scale` in `shown_as` to `digits`
    (`view`); the HTML report the same unless `report` says otherwise (`report_view`)."""

    of: Callable[[pd.DataFrame], float] | None   # value over a frame of delivered lots
    total: Total = "sum"                   # how the corridors' values make the total
    weight: str = "teu"                    # a "teu_mean" total: the KPI whose column
                                           # weighs each corridor's value
    scale: float = 1.0                     # shown as value / scale ...
    shown_as: str = ""                     # ... in this unit ...
    digits: int | None = None              # ... to these decimals (None: `default_digits`)
    short: str = ""                        # header of a terminal table column
    in_console: bool = True                # a column of the table `cqsim run` prints
    report: View | None = None             # the report's own view, where its tables show
                                           # the KPI beside figures in another unit
    compared: bool = False                 # paired between scenario variants (`compared`)

    def __post_init__(self) -> None:
        if self.report is not None and self.per == "year" \
                and not self.report.unit.endswith("/yr"):
            raise ValueError(f"KPI {self.name!r}: its report view's unit "
                             f"({self.report.unit!r}) must say its unit of time (/yr)")

    def show(self, value: Any) -> Any:
        """The value (or array) in the unit it is shown in."""
        return value / self.scale

    @property
    def display_unit(self) -> str:
        """The unit it is shown in, per year where it is a count over the period."""
        return per_unit(self.shown_as or self.unit, self.per)

    @property
    def decimals(self) -> int:
        """The decimals it is shown to: as declared, else by its unit (`default_digits`)."""
        return default_digits(self.shown_as or self.unit) if self.digits is None else self.digits

    @property
    def view(self) -> View:
        """How the terminal tables, the plots and the comparisons show it."""
        return View(self.scale, self.display_unit, self.decimals)

    @property
    def report_view(self) -> View:
        """How the HTML report shows it: `report` where declared, else `view`."""
        return self.report or self.view


def teu_weighted_mean(values: np.ndarray | pd.Series, teu: np.ndarray | pd.Series) -> float:
    """Mean of `values` weighted by TEU, over the entries with TEU and a value (NaN if none)."""
    values = np.asarray(values, dtype=float)
    teu = np.asarray(teu, dtype=float)
    ok = np.isfinite(values) & (teu > 0)
    return float(np.average(values[ok], weights=teu[ok])) if ok.any() else float("nan")


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Quantile of `values` where each value counts `weights` times (e.g. TEU)."""
    if values.size == 0:
        return float("nan")
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cum, q * cum[-1])])


def _empty(lots: pd.DataFrame) -> np.ndarray:
    """Which lots are empty boxes (flow class `empty`; a frame without the column has none)."""
    if "flow_class" not in lots:
        return np.zeros(len(lots), dtype=bool)
    return (lots["flow_class"] == "empty").to_numpy()


# lots frame (one row a lot delivered in the statistics period; a KPI's `of` gets one
# corridor's, docs/architecture.md): corridor, gateway, flow_class, market, direction, teu,
# value_cny, co2_t, transit_h, wait_h, at_h. Trade is not a sum over delivered lots: the
# recorder counts it as declared (left the origin in the period, `sim.engine.recorder`) and
# gives it to `corridor_row`.
# The report shows TEU per year in TEU, as its tables and maps of gateways, hubs, services
# and links do, not in the terminal's kTEU.
TEU_PER_YEAR = View(1.0, "TEU/yr", 0)
# Two trade figures, each named once: what the simulated channels carry (a corridor KPI, per
# corridor and in total), and the goods trade, the figure the 2023 figure and the 2025 target
# (900 bn CNY/yr) are goods trade of: the channels' trade plus what the scenario declares no
# simulated route carries (`sim.trade.outside_channels_bn`). "goods trade" names only the
# second: the first is short of it by the declared share (the 2023 scenarios' bulk), and the
# two had one name.
_KPIS: list[KPI] = [
    KPI(name="teu", unit="TEU", per="year", label="loaded TEU delivered", short="loaded",
        compared=True,
        of=lambda lots: lots["teu"].to_numpy()[~_empty(lots)].sum(), scale=1e3,
        shown_as="kTEU", digits=1, report=TEU_PER_YEAR),
    KPI(name="empty_teu", unit="TEU", per="year",
        label="empty TEU delivered (repositioned boxes)", short="empty",
        of=lambda lots: lots["teu"].to_numpy()[_empty(lots)].sum(), scale=1e3,
        shown_as="kTEU", digits=1, in_console=False, report=TEU_PER_YEAR),
    KPI(name="trade_bn_cny", unit="bn CNY", per="year", compared=True,
        label="trade carried on the simulated channels (declared: left the origin in the "
              "period; without the non-containerised share declared not simulated)",
        short="channel trade", of=None, digits=1),
    KPI(name="value_bn_cny", unit="bn CNY", per="year",
        label="value of the goods carried (every flow)",
        short="value", of=lambda lots: lots["value_cny"].sum() / CNY_PER_BN, digits=1,
        in_console=False),
    KPI(name="lots", unit="lots", per="year", label="lots delivered", short="lots",
        of=lambda lots: len(lots), in_console=False),
    KPI(name="transit_mean_h", unit="h",
        label="mean transit of the TEU delivered (those still on the way left out)",
        total="teu_mean",
        short="transit", of=lambda lots: teu_weighted_mean(lots["transit_h"], lots["teu"]),
        scale=24.0, shown_as="days", digits=1),
    KPI(name="transit_p95_h", unit="h", label="95th pct transit", total="none",
        short="p95", of=lambda lots: weighted_quantile(lots["transit_h"].to_numpy(),
                                                       lots["teu"].to_numpy(), 0.95),
        scale=24.0, shown_as="days", digits=1),
    # Freight a variant strands (a closure) drops out of a mean over the lots delivered, so
    # transit_mean_h reads it as a gain (trial64 #1: closing Qinzhou, south -334 h). What a
    # comparison pairs is the transit of the lots booked in the period, those still on the way
    # at the end at their age then (`sim.engine.recorder.open_mean`): a lower bound that a
    # lot stranded longer only raises; its total weighs the channels by the TEU booked.
    KPI(name="teu_created", unit="TEU", per="year",
        label="TEU booked in the period (created), every box, delivered or not",
        short="booked", of=None, scale=1e3, shown_as="kTEU", digits=1, in_console=False,
        report=TEU_PER_YEAR),
    KPI(name="transit_open_mean_h", unit="h",
        label="mean transit of the TEU booked, those still on the way at their age at the "
              "end (a lower bound)", total="teu_mean",
        weight="teu_created", compared=True, short="transit", of=None, scale=24.0,
        shown_as="days", digits=1, in_console=False),
    KPI(name="wait_mean_h", unit="h", label="mean wait", total="teu_mean", short="wait",
        of=lambda lots: teu_weighted_mean(lots["wait_h"], lots["teu"]),
        scale=24.0, shown_as="days", digits=2),   # waits are hours: 0.1 day is too coarse
    KPI(name="co2_t", unit="t", per="year", label="CO2e at average factors", short="CO2",
        compared=True,
        of=lambda lots: lots["co2_t"].sum(), scale=1e3, shown_as="kt", digits=1),
]


# Not a corridor KPI (no corridor has it, so not in `kpis()`): a run's figure, the channels'
# total plus the trade declared outside them, a column of a sweep's runs
# (`sim.sweep.tasks.run_kpis`), the headline of sweeps and uncertainty studies; declared as a
# KPI so the terminal, the plots and the tables label and show it as they show the KPIs.
GOODS_TRADE_KPI = KPI(name="goods_trade_bn_cny", unit="bn CNY", per="year",
                      label="goods trade (simulated channels + trade declared not simulated)",
                      short="goods trade", of=None, digits=1, in_console=False)


# The KPIs, by name, that the process handing this one a task declared (`chosen`, from
# `sim.extensions.Carried`): a worker's own list may hold more (a shared Dask worker keeps
# the KPIs an earlier command's --import declared there) or fewer (a KPI of a notebook cell).
_CHOSEN: ContextVar[tuple[str, ...] | None] = ContextVar("cqsim_kpis_chosen", default=None)


def kpis() -> tuple[KPI, ...]:
    """Every corridor KPI, in the order of the corridors table's columns: those declared in
    this process, or inside `chosen` the ones it names, so a worker computes the KPIs of the
    process that started the runs. LookupError (the run fails) for a name not declared
    here."""
    names = _CHOSEN.get()
    if names is None:
        return tuple(_KPIS)
    known = {k.name: k for k in _KPIS}
    missing = [name for name in names if name not in known]
    if missing:
        raise LookupError(
            f"KPI {', '.join(missing)} is declared where the runs were started, not in this "
            "worker process: the module declaring it must be importable on the worker "
            "(--import MODULE, by the same name; a KPI declared in a notebook cell or "
            "inside a function is known to its own process only)")
    return tuple(known[name] for name in names)


@contextmanager
def chosen(names: Sequence[str]) -> Iterator[None]:
    """Inside the block `kpis()` is the KPIs `names`, in that order (what the process that
    made a task declared), whatever this process declared besides."""
    token = _CHOSEN.set(tuple(names))
    try:
        yield
    finally:
        _CHOSEN.reset(token)


def add_kpi(k: KPI) -> KPI:
    """Declare a corridor KPI: from the next run on it is a column of the corridors table,
    a KPI of every sweep run, in the terminal table if `in_console`. In this process only: a
    sweep's fresh worker processes know it when they import the module that declares it,
    and a run on a worker that does not fails (docs/architecture.md). The same KPI declared
    again by its module imported again (a notebook cell run twice, `importlib.reload`: an
    `of` of the same module and name) replaces it; another KPI of a taken name is
    refused."""
    at = next((i for i, other in enumerate(_KPIS) if other.name == k.name), None)
    if at is None:
        _KPIS.append(k)
    elif _source(_KPIS[at].of) is not None and _source(_KPIS[at].of) == _source(k.of):
        _KPIS[at] = k
    else:
        raise ValueError(f"a KPI named {k.name!r} is already declared")
    return k


def _source(of: Callable[[pd.DataFrame], float] | None) -> tuple[str, str] | None:
    """(module, qualified name) of a KPI's `of`, which a module imported again defines anew;
    None for a KPI the recorder gives (trade)."""
    if of is None:
        return None
    return (getattr(of, "__module__", ""), getattr(of, "__qualname__", repr(of)))


def remove_kpi(name: str) -> None:
    """Forget a KPI added with `add_kpi` (tests, notebooks)."""
    _KPIS[:] = [k for k in _KPIS if k.name != name]
SCOPES = frozenset((*get_args(Corridor), "total"))   # what a flat KPI column is about


@dataclass(frozen=True, kw_only=True)
class Peak(Column):
    """The highest value of a column over the rows of a component table (a bottleneck)."""

    table: str                  # the component table ...
    source: str                 # ... and its column
    key: str                    # the column naming the row (where the peak is)

    @property
    def at(self) -> str:
        """The column saying where the peak is (`<peak>_at`: an id, `id:direction`)."""
        return f"{self.column}_at"


PEAKS: tuple[Peak, ...] = (
    Peak(name="max_hub_utilization", table="hubs", source="utilization", key="hub",
         unit="share", label="busiest hub's utilization"),
    Peak(name="max_link_utilization", table="links", source="utilization", key="link",
         unit="share", label="busiest link's utilization"),
    Peak(name="max_lock_utilization", table="locks", source="utilization", key="lock",
         unit="share", label="busiest lock's utilization"),
    Peak(name="max_line_load_factor", table="lines", source="load_factor", key="line",
         unit="share", label="fullest service's load factor"),
)


@dataclass(frozen=True, kw_only=True)
class Summed(Column):
    """A column of a component table summed over its rows: one figure of a run (a sweep's)."""

    table: str                  # the component table ...
    source: str                 # ... and its column


SUMS: tuple[Summed, ...] = (
    Summed(name="total_background_diverted_teu", table="hubs",
           source="background_diverted_teu_per_year", unit="TEU", per="year",
           label="other users' calls gone elsewhere, all hubs"),
)
# the peaks and sums an extension declares over its kind's own table (`add_run_figure`), in
# this process, after cqsim's own
_RUN_FIGURES: list[Peak | Summed] = []


def add_run_figure(figure: Peak | Summed) -> Peak | Summed:
    """Declare a figure of each run over a component table, an added kind's included: from
    the next sweep on, `figure.column` (and a peak's `<column>_at`) is a column of each
    run's row (`sim.sweep.tasks.run_kpis`), labelled as declared. `source` is a column of
    the table as written (`<name>_per_year` for a count). In this process only, as
    `add_kpi`: a sweep's workers know it when they import the module declaring it
    (`--import`). The same figure declared again (the module imported again) is kept; another
    of a taken name is refused."""
    written = {f"total_{k.column}" for k in kpis()} | {
        GOODS_TRADE_KPI.column, "start_up_shortfall", "warmup_short_days",
        "feedback_passes", "feedback_settled", "feedback_gap", "lines_backlogged"}
    if figure.column in written:   # it overwrote the run's own (review51 #5; a name made of
        # a corridor's, or the conservation's, is refused when a run's row is made)
        raise ValueError(f"a run figure named {figure.column!r}: a column cqsim writes of "
                         "each run already")
    taken = {f.column: f for f in (*PEAKS, *SUMS, *_RUN_FIGURES)}
    if figure.column in taken:
        if taken[figure.column] == figure:
            return figure
        raise ValueError(f"a run figure named {figure.column!r} is already declared")
    _RUN_FIGURES.append(figure)
    return figure


def remove_run_figure(name: str) -> None:
    """Forget a figure added with `add_run_figure` (tests, notebooks)."""
    _RUN_FIGURES[:] = [f for f in _RUN_FIGURES if f.name != name]


def run_peaks() -> tuple[Peak, ...]:
    """Every peak a run's row has: cqsim's (`PEAKS`), then those declared here."""
    return (*PEAKS, *(f for f in _RUN_FIGURES if isinstance(f, Peak)))


def run_sums() -> tuple[Summed, ...]:
    """Every sum over a table a run's row has: cqsim's (`SUMS`), then those declared here."""
    return (*SUMS, *(f for f in _RUN_FIGURES if isinstance(f, Summed)))


def kpi(name: str) -> KPI:
    """The KPI named `name` ("teu", not its column "teu_per_year")."""
    for k in _KPIS:
        if k.name == name:
            return k
    raise KeyError(name)


def by_column(column: str) -> KPI | None:
    """The KPI declared (in the list here, or by `add_kpi` in this process) whose column of
    the corridors table is `column` (`teu_per_year`, `transit_mean_h`); None for any other
    column."""
    return next((k for k in _KPIS if k.column == column), None)


def corridor_row(lots: pd.DataFrame, given: Mapping[str, float]) -> dict[str, float]:
    """Every KPI over a frame of delivered lots (one corridor's, or all), by its own name and
    over the statistics period, as a row of the corridors table is written; the KPIs without
    `of` from `given` (trade: the recorder counts it when declared). A KPI whose `of` raises
    (a user's, `add_kpi`) is an InputError naming it, its module and the error: one line,
    not a traceback from inside pandas."""
    return {k.name: given[k.name] if k.of is None else _computed(k.name, k.of, lots)
            for k in kpis()}


def _computed(name: str, of: Callable[[pd.DataFrame], float], lots: pd.DataFrame) -> float:
    """`of(lots)`; InputError naming the KPI, the module declaring `of` and the error."""
    try:
        return of(lots)
    except Exception as exc:    # the user's code: any error is theirs to fix
        what = printable(" ".join(f"{type(exc).__name__}: {exc}".split()), 300)
        raise InputError(f"module {of.__module__}", f"KPI {name}",
                         f"an `of` that computes the KPI from the delivered lots (it raised "
                         f"{what})") from None


def total(k: KPI, corridors: pd.DataFrame) -> float:
    """KPI `k` of all corridors together, from the corridors' own values (NaN when it does
    not add up: a percentile)."""
    if k.total == "sum":
        return float(corridors[k.column].sum())
    if k.total == "teu_mean":
        return teu_weighted_mean(corridors[k.column], corridors[kpi(k.weight).column])
    return float("nan")


def totals(corridors: pd.DataFrame) -> dict[str, float]:
    """Every KPI that has a total, over all corridors (rows of one replication, or means)."""
    return {k.column: total(k, corridors) for k in kpis() if k.total != "none"}


TOTAL = "total"   # the scope of all corridors together


def compared() -> list[KPI]:
    """The KPIs a comparison of scenario variants pairs and shows (compare.csv, its table,
    the report), in declaration order: those declared `compared` (cqsim's TEU, trade,
    transit and CO2, and any an extension declares so with `add_kpi`)."""
    return [k for k in _KPIS if k.compared]


# the locks' figures a comparison pairs per lock (scope: the lock's id), apart from the
# channels' KPIs (locks_compare.csv): metric -> (label, unit shown, divisor to it, digits)
LOCK_FIGURES: dict[str, tuple[str, str, float, int]] = {
    "lock_wait_mean_h": ("wait all vessels", "h", 1.0, 1),
    "lock_container_wait_mean_h": ("wait containers", "h", 1.0, 1),
    "lock_t_per_year": ("passed", "Mt/yr", T_PER_MT, 2),
    "lock_diverted_t_per_year": ("diverted", "Mt/yr", T_PER_MT, 2),
    "lockages_per_year": ("lockages", "/yr", 1.0, 0)}
LOCK_METRICS = tuple(LOCK_FIGURES)


# the column `lock_table` adds to the locks table: each direction's container vessels a
# year, through the flights (lock_classes' `vessels_per_year` of `CONTAINER_CLASS`)
CONTAINER_VESSELS = "container_vessels_per_year"


def lock_wait_h(rows: pd.DataFrame, wait: str = "wait_mean_h",
                vessels: str = "vessels_per_year") -> float:
    """The mean wait (h) of the vessels of `rows`, rows of one lock and replication (its
    directions, each with its own mean `wait` of the `vessels` that entered, vessels/yr):
    each row's mean weighted by its vessels, so every vessel counts once. A row no vessel
    entered has no wait (NaN), not one of 0 h, and is left out; NaN when none measured one.
    The one weighting of a lock's mean wait over its directions: of all vessels (the locks
    table's `wait_mean_h`, `vessels_per_year`), of the container vessels (`container_wait_mean_h`
    by `CONTAINER_VESSELS`, `lock_table`) or of one class (lock_classes' rows of it), as
    `cqsim compare` (`lock_metrics`), `cqsim calibrate` (`lock:<lock>:wait`,
    `wait.<class>`) and `sim.lockfit` read it. Weighing by tonnes instead would let a direction's
    heavier vessels count more."""
    return teu_weighted_mean(rows[wait], rows[vessels])


def lock_table(by_replication: Callable[[str], pd.DataFrame]) -> pd.DataFrame:
    """A run's locks table by replication (`by_replication`: `Results`' or a run folder's)
    with each direction's container vessels a year through the flights, `CONTAINER_VESSELS`,
    from its lock_classes table: the weights of the container vessels' mean wait over both
    directions (`lock_wait_h`; the locks table counts all vessels, not the container ones).
    Without that column where the run has no lock_classes table, so no container wait is
    read from it rather than one weighed otherwise."""
    locks = by_replication("locks")
    classes = by_replication("lock_classes")
    if locks.empty or classes.empty or not (
            {"vessel_class", "vessels_per_year"} <= set(classes.columns)):
        return locks
    box = classes[classes["vessel_class"] == CONTAINER_CLASS]
    if "via" in box:   # the flights' vessels, not the ship lift's (a table before the lift
        box = box[box["via"] == "locks"]      # had every vessel through the flights)
    box = box[["replication", "lock", "direction", "vessels_per_year"]].rename(
        columns={"vessels_per_year": CONTAINER_VESSELS})
    return locks.merge(box, on=["replication", "lock", "direction"], how="left")


def lock_metrics(locks: pd.DataFrame) -> list[tuple[int, str, str, float]]:
    """Per replication and lock (both directions) of a locks table by replication
    (`lock_table`): mean wait of all vessels and of the container vessels (h, `lock_wait_h`:
    weighted by the vessels of each direction; the container vessels' only where the table
    has their counts, `CONTAINER_VESSELS`), tonnes passed and tonnes diverted (t/yr),
    lockages per year (`locks_compare.csv`, and the report's lock differences)."""
    rows: list[tuple[int, str, str, float]] = []
    for _, sub in locks.groupby(["replication", "lock"]):
        rep, lock = int(sub["replication"].iloc[0]), str(sub["lock"].iloc[0])
        rows.append((rep, "lock_wait_mean_h", lock, lock_wait_h(sub)))
        if CONTAINER_VESSELS in sub:
            rows.append((rep, "lock_container_wait_mean_h", lock,
                         lock_wait_h(sub, "container_wait_mean_h", CONTAINER_VESSELS)))
        rows += [
            (rep, "lock_t_per_year", lock, float(sub["total_t_per_year"].sum())),
            (rep, "lock_diverted_t_per_year", lock, float(sub["diverted_t_per_year"].sum())),
            (rep, "lockages_per_year", lock, float(sub["lockages_per_year"].sum()))]
    return rows


# the hubs' figures a comparison pairs per hub (scope: the hub's id), apart from the channels'
# and the locks' (hubs_compare.csv): metric -> as LOCK_FIGURES. The TEU gone elsewhere (the
# hubs table's column) only for a hub where either variant has any (`drop_quiet`: most
# comparisons divert nothing, and rows of zeros for every hub would hide the few that did);
# the others only at a hub the variant touches (`HUB_TOUCHED`, `sim.scenario.touched`: more
# of Qinzhou's berths shows Qinzhou's utilization, not every hub's), each `hub_<column>`:
# the channels' and the lines' figures have names such as teu_per_year too
HUB_FIGURES: dict[str, tuple[str, str, float, int]] = {
    "background_diverted_teu_per_year": ("other users' calls gone elsewhere", "TEU/yr", 1.0, 0),
    "hub_utilization": ("handling utilization", "", 1.0, 2),
    "hub_wait_mean_h": ("mean wait", "h", 1.0, 1),
    "hub_teu_per_year": ("simulated TEU handled (other users' apart)", "TEU/yr", 1.0, 0),
    "hub_yard_peak_teu": ("yard peak", "TEU", 1.0, 0)}
HUB_TOUCHED = frozenset(m for m in HUB_FIGURES if m.startswith("hub_"))


def stalled_hubs(hubs: pd.DataFrame) -> pd.Series:
    """Which hubs of a hubs summary handled no job in the period while jobs queued at its
    end: a hub closed all period, whose utilization is 0 and whose queue grows (none of a
    table written before its columns)."""
    if "queue_end_jobs" not in hubs or "jobs_per_year" not in hubs:
        return pd.Series(False, index=hubs.index)
    return (hubs["queue_end_jobs"] > 0) & ~(hubs["jobs_per_year"] > 0)


def hubs_by_concern(hubs: pd.DataFrame) -> pd.DataFrame:
    """A hubs summary in the order a reader should see it: the stalled hubs first
    (`stalled_hubs`, longest queue first: a ranking by utilization put a port closed all
    period last), then the most utilized. The order of compare's bottleneck table and the
    report's hubs table."""
    stalled = stalled_hubs(hubs)
    return pd.concat([
        hubs[stalled].sort_values("queue_end_jobs", ascending=False, kind="stable"),
        hubs[~stalled].sort_values("utilization", ascending=False, kind="stable")])


def hub_metrics(hubs: pd.DataFrame) -> list[tuple[int, str, str, float]]:
    """Per replication and hub of a hubs table by replication: `HUB_FIGURES` (the other
    users' TEU gone elsewhere, TEU/yr, `diverts_after_hours`; utilization, mean wait h, TEU
    handled TEU/yr, yard peak TEU), as `hubs_compare.csv` and the report's hub differences
    pair them; none of a figure from a table written before its column."""
    return _figure_rows(hubs, "hub", HUB_FIGURES, "hub_")


# the lines' figures a comparison pairs per line (scope: the line's id, a service's
# direction, `<service>` and `<service>:back`), only for the lines of a service the variant
# touches (lines_compare.csv): metric (`line_<column>` of the lines table) -> as
# LOCK_FIGURES
LINE_FIGURES: dict[str, tuple[str, str, float, int]] = {
    "line_load_factor": ("load factor", "", 1.0, 2),
    "line_teu_per_year": ("TEU boarded", "TEU/yr", 1.0, 0),
    "line_departures_per_year": ("departures", "/yr", 1.0, 0),
    "line_boarding_wait_mean_h": ("boarding wait", "h", 1.0, 1)}


def line_metrics(lines: pd.DataFrame) -> list[tuple[int, str, str, float]]:
    """Per replication and line of a lines table by replication: `LINE_FIGURES` (load factor,
    TEU boarded TEU/yr, departures a year, mean boarding wait h), as `lines_compare.csv` and
    the report's line differences pair them."""
    return _figure_rows(lines, "line", LINE_FIGURES, "line_")


def _figure_rows(table: pd.DataFrame, key: str, figures: Mapping[str, object],
                 prefix: str) -> list[tuple[int, str, str, float]]:
    """(replication, metric, the row's `key`, value) of each of `figures` a table by
    replication has, a figure named its column with `prefix` (or without, as the hubs' TEU
    gone elsewhere); none of a figure from a table written before its column."""
    present = {m: m.removeprefix(prefix) for m in figures if m.removeprefix(prefix) in table}
    return [(int(r["replication"]), m, str(r[key]), float(r[column]))
            for r in table.to_dict("records") for m, column in present.items()]


PlaceRows = list[tuple[int, str, str, float]]   # (replication, metric, scope, value)


@dataclass(frozen=True, kw_only=True)
class Place:
    """A kind of place whose own figures a comparison pairs per place (scope: its id), apart
    from the channels' KPIs: what `sim.compare`, the report's differences (`sim.report.deltas`)
    and both renderers know of it, here only (`PLACES`)."""

    table: str           # the result table, by replication, its figures are read from
    read: Callable[[pd.DataFrame], PlaceRows]   # that table -> its figures' rows
    figures: dict[str, tuple[str, str, float, int]]   # metric -> (label, unit, divisor, digits)
    file: str            # the comparison's file of their deltas (written where it has a row)
    zero_where_absent: frozenset[str]  # figures a place one variant lacks counts 0 for
                          # there (TEU it did not handle); the others are left out (a wait)
    only_where_any: bool  # a place shows only where either variant has any of a figure
                          # (of the figures not `where_touched`)
    where_touched: frozenset[str] = frozenset()   # figures shown only at a place one
                          # variant sets apart from the other (`sim.scenario.touched`)
    named: tuple[str, str] = ("", "")   # (what a change names, the table's column of its
                          # id) of a row: ("hub", "hub"); a line's service ("service", "service")
    key: str = ""         # the table's column of a row's scope ("hub", "line")
    joined: Callable[[Callable[[str], pd.DataFrame]], pd.DataFrame] | None = None
                          # the table as `read` takes it, where it needs another's columns
                          # (the locks': `lock_table`); None: `table` as it is

    def frame(self, by_replication: Callable[[str], pd.DataFrame]) -> pd.DataFrame:
        """The table its figures are read from, of a run (`by_replication`: `Results`' or a
        run folder's): `table` by replication, or what `joined` makes of the run's tables."""
        return self.joined(by_replication) if self.joined else by_replication(self.table)

    @property
    def metrics(self) -> tuple[str, ...]:
        """The metrics of its figures, as `figures` declares them."""
        return tuple(self.figures)

    def rows(self, table: pd.DataFrame, touched: Collection[Touched] = ()) -> PlaceRows:
        """Its figures' rows (`read`) of `table` (by replication), those `where_touched` only
        at a place whose row names an element in `touched` ((kind, id), `sim.scenario.touched`)."""
        rows = self.read(table)
        if not self.where_touched:
            return rows
        kind, column = self.named
        named = {str(k) for k, owner in zip(table[self.key], table[column], strict=True)
                 if (kind, str(owner)) in touched} if len(table) else set()
        return [r for r in rows if r[1] not in self.where_touched or r[2] in named]


# by the word the console and the report name them with ("at the locks", "At the hubs"); a
# lock a variant lacks has no wait (not a wait of 0), a hub a variant lacks diverts nothing
# and handles nothing, but has no wait, utilization or yard either; a line one lacks
# (add_service, remove_service) runs and carries nothing, but has no load factor or wait
PLACES: dict[str, Place] = {
    "lock": Place(table="locks", read=lock_metrics, figures=LOCK_FIGURES,
                  file="locks_compare.csv", zero_where_absent=frozenset(),
                  only_where_any=False, joined=lock_table),
    "hub": Place(table="hubs", read=hub_metrics, figures=HUB_FIGURES,
                 file="hubs_compare.csv", only_where_any=True,
                 zero_where_absent=frozenset({"background_diverted_teu_per_year",
                                              "hub_teu_per_year"}),
                 where_touched=HUB_TOUCHED, named=("hub", "hub"), key="hub"),
    "line": Place(table="lines", read=line_metrics, figures=LINE_FIGURES,
                  file="lines_compare.csv", only_where_any=False,
                  zero_where_absent=frozenset({"line_teu_per_year",
                                               "line_departures_per_year"}),
                  where_touched=frozenset(LINE_FIGURES), named=("service", "service"),
                  key="line")}


def pair_replications(base: pd.DataFrame, alt: pd.DataFrame, keys: list[str], *,
                      absent_is_zero: bool = False, paired: bool = True) -> pd.DataFrame:
    """BASE's and ALT's rows (replication, `keys`, value) side by side per replication and
    key, as `value_base` and `value_alt`, in the order the keys first appear (BASE's, then
    ALT's own). Without `absent_is_zero`, the keys both runs have: with `paired` (replication
    r of one is paired with r of the other) only the replications where both have the key;
    unpaired (independent runs, whose replication counts may differ) every replication either
    has, NaN on the side that lacks it, so each side keeps its own full sample. With
    `absent_is_zero`, every key either run has, in every replication either has: 0 in a
    replication of a run that lacks the key there (a hub or link not in a variant carries and
    diverts nothing), NaN in a replication the run does not have. A run's replications are
    those it has rows for here: a run with none (a table written before a figure's column)
    has no replication, so its side stays NaN (unknown), not 0."""
    on = ["replication", *keys]
    if paired and not absent_is_zero:
        return base.merge(alt, on=on, suffixes=("_base", "_alt"))
    order = pd.concat([base[keys], alt[keys]]).drop_duplicates()
    if not absent_is_zero:
        order = order.merge(base[keys].drop_duplicates()).merge(alt[keys].drop_duplicates())
    reps = pd.DataFrame({"replication": sorted(set(base["replication"])
                                               | set(alt["replication"]))})
    both = order.merge(reps, how="cross")[on]
    for side, run in (("base", base), ("alt", alt)):
        both = both.merge(run.rename(columns={"value": f"value_{side}"}), on=on, how="left")
        if absent_is_zero:
            both = both.merge(run[on].drop_duplicates().assign(_had=True), on=on, how="left")
            lacks = both["_had"].isna() & both["replication"].isin(run["replication"])
            both[f"value_{side}"] = both[f"value_{side}"].mask(lacks, 0.0)
            both = both.drop(columns="_had")
    return both


def pair_places(base: pd.DataFrame, alt: pd.DataFrame, keys: list[str], *,
                paired: bool = True) -> pd.DataFrame:
    """`pair_replications` of places' rows (a `metric` column among `keys`): a place one run
    lacks counts 0 there of the figures of `Place.zero_where_absent` (the TEU it did not
    handle), the others left out (it has no wait). The one split of compare's and the
    report's place differences."""
    zero = [m for p in PLACES.values() for m in p.zero_where_absent]
    at_b, at_a = base["metric"].isin(zero), alt["metric"].isin(zero)
    return pd.concat([
        pair_replications(base[~at_b], alt[~at_a], keys, paired=paired),
        pair_replications(base[at_b], alt[at_a], keys, absent_is_zero=True, paired=paired)],
        ignore_index=True)


def drop_quiet(deltas: pd.DataFrame) -> pd.DataFrame:
    """`deltas` (paired, with mean `base` and `alt`) less the rows of a figure of a place shown
    only where either variant has any (`Place.only_where_any`) that is 0 in both: a hub's
    TEU gone elsewhere shows only where either side diverted anything."""
    if deltas.empty:
        return deltas
    some = [m for p in PLACES.values() if p.only_where_any for m in p.figures
            if m not in p.where_touched]
    quiet = deltas["metric"].isin(some) & (deltas["base"] == 0) & (deltas["alt"] == 0)
    return deltas[~quiet].reset_index(drop=True)


def _mean(values: np.ndarray) -> float:
    """Mean of the values that are not NaN; NaN (quietly) when there are none."""
    ok = values[~np.isnan(values)]
    return float(ok.mean()) if ok.size else np.nan


def crn_paired(base_seed: int, base_replications: int, alt_seed: int,
               alt_replications: int) -> bool:
    """True when replication r of ALT can be paired with replication r of BASE: both runs drew
    from one seed as many replications (common random numbers, as `cqsim compare` runs its
    variants); otherwise they are independent (Welch). The one rule of the report's
    differences (`sim.report.deltas.paired`) and compare.png's map (`sim.maps`)."""
    return base_seed == alt_seed and base_replications == alt_replications


def key_deltas(b: pd.DataFrame, a: pd.DataFrame, keys: list[str], pair: bool,
               variant: str = "", *, absent_is_zero: bool = False,
               places: bool = False) -> pd.DataFrame:
    """Per key: mean of BASE and ALT and the delta with its CI (columns keys, base, alt,
    delta, delta_ci95, delta_pct (of BASE's mean; NaN where it is 0), replications (the
    pairs, `sim.stats.pairs`: paired, the replications both runs have a value in; unpaired,
    the smaller side's replications with a value; what the
    "--replications N would tell" hint is worded by, `sim.stats.pilot_too_small`),
    replications_to_resolve (`sim.stats.difference`, by the interval shown; NaN from too
    few pairs to size it, `sim.stats.unsized`), variant). `b`
    and `a` carry replication, keys and value. With
    `absent_is_zero` (flows, the hubs' diversions) a key one run lacks counts as 0 there
    (`pair_replications`); otherwise it is left out. Unpaired (`pair` False: other
    seeds or replication counts), each side's mean and Welch's interval are of all of its own
    replications, not only the replication numbers both runs share. `places`: rows of
    places' figures, a place one run lacks as `pair_places` takes it. The one reading of
    compare's deltas (`sim.compare.paired_deltas`), the report's differences
    (`sim.report.deltas`) and compare.png's map of links (`sim.maps.draw_difference`)."""
    both = (pair_places(b, a, keys, paired=pair) if places else
            pair_replications(b, a, keys, absent_is_zero=absent_is_zero, paired=pair))
    rows = []
    for key, sub in both.groupby(keys, sort=False):
        vb, va = sub["value_base"].to_numpy(float), sub["value_alt"].to_numpy(float)
        delta, half, need = difference(vb, va, pair)
        base = _mean(vb)
        row = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
        row.update(base=base, alt=_mean(va), delta=delta, delta_ci95=half,
                   delta_pct=100 * delta / base if base else np.nan,
                   replications=pairs(vb, va, pair),
                   replications_to_resolve=np.nan if need is None else need, variant=variant)
        rows.append(row)
    return pd.DataFrame(rows)


def compared_by_replication(corridors: pd.DataFrame) -> pd.DataFrame:
    """The compared KPIs per replication, per corridor and in total, from the corridors table
    by replication (columns replication, metric, scope, value; metric is the KPI's column,
    the value in its unit): what paired deltas of two variants are taken of. A KPI the
    table has no column of (a run written before it: `transit_open_mean_h`), or of its
    total's weight, is left out."""
    chosen = [k for k in compared() if k.column in corridors
              and (k.total != "teu_mean" or kpi(k.weight).column in corridors)]
    rows: list[tuple[int, str, str, float]] = []
    for r in corridors.to_dict("records"):
        c = str(r["corridor"])
        rows += [(int(r["replication"]), k.column, c, float(r[k.column])) for k in chosen]
    for rep, sub in corridors.groupby("replication", sort=False):
        rows += [(int(str(rep)), k.column, TOTAL, total(k, sub)) for k in chosen]
    return pd.DataFrame(rows, columns=["replication", "metric", "scope", "value"])


def measure_of(column: str) -> tuple[Column, str] | None:
    """The KPI behind a flat measure column (`<corridor>_<kpi>`, `total_<kpi>`, as sweeps
    write them) with its scope (the corridor or "total"), or a peak, a sum over a table or
    the goods trade (`GOODS_TRADE_KPI`) with scope ""; None otherwise."""
    for declared in (*run_peaks(), *run_sums(), GOODS_TRADE_KPI):
        if column == declared.column:
            return declared, ""
    scope, _, rest = column.partition("_")
    k = by_column(rest) if scope in SCOPES else None
    return (k, scope) if k is not None else None


# units read off a column's name when no KPI is behind it (the names say their unit)
NAME_UNITS = (("_bn_cny_per_year", "bn CNY/yr"), ("_teu_per_year", "TEU/yr"),
              ("_teu_horizon", "TEU over the horizon"), ("_teu", "TEU"))


def label(column: str, scaled: bool = True) -> str:
    """'[corridor channel: ]label, unit' of a measure column, for axes and headers: the unit
    it is shown in (`shown`), or with `scaled=False` the unit of its raw values, as a table
    writes them; the column in words, with the unit its name ends in, when no KPI is behind
    it."""
    direct = by_column(column)
    found = (direct, "") if direct is not None else measure_of(column)
    if found is None:
        for suffix, unit in NAME_UNITS:
            if column.endswith(suffix) and len(column) > len(suffix):
                return f"{column[:-len(suffix)].replace('_', ' ')}, {unit}"
        return column.replace("_", " ")
    k, scope = found
    if isinstance(k, KPI) and scaled:
        unit = k.display_unit
    else:
        unit = per_unit(k.unit, k.per) if k.unit else k.unit
    where = f"{scope} channel: " if scope not in ("", "total") else ""
    return f"{where}{k.label}, {unit}" if unit else f"{where}{k.label}"


def shown(column: str, values: np.ndarray) -> np.ndarray:
    """Values of a measure column in the unit `label` names."""
    direct = by_column(column)
    found = (direct, "") if direct is not None else measure_of(column)
    k = found[0] if found else None
    return values / k.scale if isinstance(k, KPI) else values
