"""Calibration: simulated figures set against the published ones, each within a band.

The targets are data (`seeds/calibration.csv`): what was published, its band, its unit, its
source and how the comparable figure is measured from the simulation. A measure is a short
expression read from the result tables:

- `loaded_departures:<corridor>[+<corridor>...]:<mode>`  loaded departures of the corridors'
                                          lines of that mode (per year)
- `link_teu:<corridor>[+...]:<hub>[+<hub>...]` TEU on the corridors' links touching `hub`
                                          (any of them), both directions (per year)
- `hub_teu:<hub>[+<hub>...]`             TEU handled at a hub, or several together (per year)
- `water_teu:<hub>[+<hub>...]`           TEU loaded onto or unloaded from vessels (river and
                                          sea lines) at a port, as port throughput counts
                                          them: not the boxes that pass it by rail or road
                                          alone (per year)
- `line_teu:<service>[+<service>...]`    TEU carried by services' lines, both directions (per
                                          year)
- `line_value:<service>[+<service>...]`  value of the goods delivered on the routes that ride
                                          any of the services (every flow class, bn CNY per
                                          year; TEU x the class's value, as gateways.csv)
- `lock_t:<lock>`                        tonnes through a lock, both directions (per year)
- `lock:<lock>:<figure>`                 a lock's `lockages` per day, `vessels_per_lockage`,
                                          mean `wait` of all vessels (`wait.<class>`: of one
                                          class) or time-average `queue` (vessels), both
                                          directions
- `lock_daily:<lock>:<figure>:<first>-<last>[:max]`  a lock's daily series (`locks_daily`)
                                          over the simulation days `first` to `last` (both
                                          included), both directions added day by day: the
                                          mean day (`:max`: the largest) of `lockages`
                                          started, tonnes `t` entering the flights, or the
                                          `queue` of vessels at the end of the day; NaN when
                                          a day of the window was not measured (warm-up,
                                          horizon), as a part of it is another figure
- `ride:<from>><to>`                     mean hours on board from `from` to `to` (legs table)
- `arrive:<origin>><hub>`                mean hours from the hand-over at a route's origin to
                                          alighting at `hub` (legs table, door_mean_h): door
                                          to door to a hub lots pass on their way
- `loaded_ratio:<gateway>[+<gateway>...]:<out|in|both>`  loaded TEU / (loaded + empty TEU)
                                          delivered through the gateways leaving China (`out`),
                                          coming back (`in`) or both ways together (`both`, a
                                          round-trip loading factor), routes table; boxes
                                          crossing the border only (not domestic ones)
- `door:<origin>><destination>[:<corridor>[+...]]`  mean door-to-door hours of delivered lots
- `gateway_teu:<gateway>[+<gateway>...][:<flow class>[+<flow class>...]]` TEU delivered
                                          through gateways, of the flow classes named (every
                                          class, `empty` too, when none) (per year)
- `gateway_value:<gateway>[+<gateway>...][:<flow class>[+...]]` value of the goods delivered
                                          through gateways (bn CNY per year)
- `value_per_teu:<gateway>[+<gateway>...][:all]`  value of the goods over the loaded TEU
                                          delivered through gateways, every loaded flow class
                                          (CNY/TEU); `:all` over every box, empties too, as
                                          published counts of boxes or train slots divide
- `class_value:<gateway>[+<gateway>...]:<commodity>`  value of one commodity class of
                                          Chongqing's trade delivered through gateways (bn CNY
                                          per year)
- `share:<gateway>:<market>:<direction>:<commodity>`  share of the value of the market
                                          model's trade delivered through a gateway (`*`: any)
- `trade_total`                          total goods trade (bn CNY/yr, `sim.trade`)

Each figure has a `role`: `fit` (a free parameter was set or estimated to it: the figure then
checks the fit, not the model; `parameter` names what was fitted, and `market.choice.*`
parameters are estimated by `cqsim calibrate --estimate`), `validate` (held out: nothing was
set to it, so it names no `parameter`, and it shares no published series with a fitting
figure; one per measure in a scenario, so one model figure is not counted twice against
two years of a series), `dependent` (neither:
a parameter now held was once set or estimated to it, e.g. geodata running speeds chosen
so a transit time comes out in its published range, or it is derived from the series a fitting
figure comes from, so in band it is not independent evidence; `parameter` says which) or
`check` (an accounting check: the figure is mostly inputs derived from it or summing to it,
e.g. the market table's total, so a run in its band shows the network carried its inputs,
not that the model is right). Both columns are optional (role fit, no parameter).

A figure of another scenario (optional column `scenario`: a scenario file, its path relative
to the calibrated scenario's folder; empty: the calibrated scenario) is measured on a run of
that scenario with the calibrated one's seed, replications and horizon, and only when it is
the calibrated scenario plus changes (`sim.scenario.not_changes_of`, the rule of `cqsim
compare`): the lock's records of a maintenance are figures of baseline-2023 with the
maintenance, not of another base, which would get them silently. Otherwise, or when there is
no such file beside the calibrated scenario, or under `cqsim calibrate --no-variants` (which
skips those runs), the row is shown as not measured, with why. A fitting figure names one
only for a parameter estimated outside `cqsim calibrate --estimate`, which runs the
calibrated scenario alone: the lock's diversion bound during a maintenance, fitted by
`python -m sim.lockfit --maintenance` on the maintenance's runs.

Counts are read per year, as every result table reports them (annualised over the
statistics period, horizon minus warm-up); times are TEU-weighted means. Every measure is
computed per replication, then averaged with a 95% CI.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, get_args

import numpy as np
import pandas as pd

from sim.errors import InputError
from sim.kpis import lock_wait_h, teu_weighted_mean
from sim.market.estimates import PREFIXES
from sim.readers import csv_number, read_csv
from sim.results import Results
from sim.specs import Corridor, Mode
from sim.stats import mean_ci
from sim.targets import seeds_dir
from sim.units import CNY_PER_BN, DAYS_PER_YEAR, HOURS_PER_DAY, T_PER_MT

if TYPE_CHECKING:
    from sim.network import Plan
    from sim.scenario import Scenario

CALIBRATION_FILE = "calibration.csv"
UNIT_FACTORS: dict[str, float] = {   # measured base unit -> published unit
    "trains/yr": 1.0, "TEU/yr": 1.0, "Mt/yr": 1 / T_PER_MT, "t/yr": 1.0, "h": 1.0,
    "days": 1 / HOURS_PER_DAY, "lockages/day": 1.0, "vessels/lockage": 1.0, "vessels": 1.0,
    "CNY/TEU": 1.0, "share": 1.0, "bn CNY/yr": 1.0, "kt/day": 1 / 1000}
ROLES = ("fit", "validate", "dependent", "check")
LOCK_MEASURES = ("lockages", "vessels_per_lockage", "wait", "queue")
LOCK_DAILY = {"lockages": "lockages_per_day", "t": "t_per_day",   # figure -> locks_daily
              "queue": "queue_vessels"}                           # column
GATEWAY_SUMS = {"gateway_teu": "teu_per_year",             # measure -> gateways table column
                "gateway_value": "value_bn_cny_per_year"}
COLUMNS = ("id", "metric", "published", "low", "high", "unit", "measure", "how_measured",
           "source")


@dataclass(frozen=True)
class CalibrationTarget:
    """One published figure, its acceptance band and how to measure it in the simulation."""

    id: str
    metric: str
    published: float
    low: float
    high: float
    unit: str
    measure: str
    how_measured: str
    source: str
    role: str = "fit"            # fit, validate, dependent or check (module docstring)
    parameter: str = ""          # what was fitted to it (a dotted path, or prose)
    scenario: str = ""           # the scenario file it is measured in ("": the calibrated)


@dataclass(frozen=True)
class CalibrationRow:
    """A target with its simulated value (mean over replications) and 95% CI half-width."""

    target: CalibrationTarget
    simulated: float
    ci95: float
    not_measured: str = ""       # why its scenario was not run ("": it was measured)

    @property
    def ok(self) -> bool:
        """Inside the band (a NaN, i.e. nothing measured, is outside)."""
        return bool(self.target.low <= self.simulated <= self.target.high)

    @property
    def deviation(self) -> float:
        """Simulated relative to published, as a fraction (0.05 = 5% above)."""
        return self.simulated / self.target.published - 1.0


def load_calibration_targets(path: str | Path | None = None) -> list[CalibrationTarget]:
    """Read the calibration targets (default: `seeds/calibration.csv` of this repository)."""
    file = Path(path) if path is not None else seeds_dir() / CALIBRATION_FILE
    targets: list[CalibrationTarget] = []
    for line, row in read_csv(file, COLUMNS, "calibration table (CSV)"):
        try:
            published, low, high = (csv_number(row[k]) for k in ("published", "low", "high"))
        except ValueError:
            raise InputError(file, f"line {line}", "numbers in published, low, high",
                             (row["published"], row["low"], row["high"])) from None
        if not all(math.isfinite(x) for x in (published, low, high)):
            raise InputError(file, f"line {line}", "finite numbers in published, low, high",
                             (row["published"], row["low"], row["high"]))
        if not published > 0:       # the deviation shown is simulated / published - 1
            raise InputError(file, f"line {line}.published", "a number > 0 (every published "
                             "figure is a count, a share, a time or a value)", row["published"])
        if not low <= published <= high:
            raise InputError(file, f"line {line}", "low <= published <= high",
                             (low, published, high))
        if row["unit"] not in UNIT_FACTORS:
            raise InputError(file, f"line {line}.unit", f"one of {sorted(UNIT_FACTORS)}",
                             row["unit"])
        blank = next((k for k in ("id", "metric", "source", "how_measured")
                      if not row[k].strip()), None)
        if blank:   # every figure is named, said and cited (a blank one was read: fuzz2 L10)
            raise InputError(file, f"line {line}.{blank}", "a text (every figure has an id, "
                             "a metric, how it is measured and a source)", row[blank])
        _parse(row["measure"], file, line)
        role = (row.get("role") or "fit").strip()
        if role not in ROLES:
            raise InputError(file, f"line {line}.role", "fit, validate, dependent or check",
                             role)
        if any(t.id == row["id"] for t in targets):
            raise InputError(file, f"line {line}.id", "a unique target id", row["id"])
        parameter = (row.get("parameter") or "").strip()
        if role == "validate" and parameter:   # a held-out figure sets nothing
            raise InputError(file, f"line {line}.parameter", f"no parameter on a validation "
                             f"figure ({row['id']} is held out: nothing is set to it; a "
                             "figure a parameter is set to is fit, or dependent once the "
                             "parameter is held)", parameter)
        scenario = _scenario_file(file, line, (row.get("scenario") or "").strip(), role,
                                  parameter)
        twin = next((t.id for t in targets if role == t.role == "validate"
                     and t.scenario == scenario
                     and measure_key(t.measure) == measure_key(row["measure"])), None)
        if twin is not None:   # one model figure against one series, counted twice
            raise InputError(file, f"line {line}.role", f"one validation figure per measure "
                             f"({twin} validates {measure_key(row['measure'])} already: make "
                             "one dependent)", role)
        targets.append(CalibrationTarget(
            id=row["id"], metric=row["metric"], published=published, low=low, high=high,
            unit=row["unit"], measure=row["measure"], how_measured=row["how_measured"],
            source=row["source"], role=role, parameter=parameter, scenario=scenario))
    if not targets:   # else "all 0 fitting figures within their bands", exit 0
        raise InputError(file, "rows", "at least one published figure (a header alone "
                                       "checks nothing)")
    return targets


def _scenario_file(file: Path, line: int, text: str, role: str, parameter: str) -> str:
    """The scenario file a row's `scenario` names, a path relative to the calibrated
    scenario's folder, normalised ("" for none); InputError for a text that is not such a
    path, or for a fitting figure naming one whose parameter `cqsim calibrate --estimate`
    would estimate (`PREFIXES`, the market's: the estimation runs the calibrated scenario
    alone) or that names no parameter. A parameter estimated elsewhere on a variant's runs
    (the lock's bound during a maintenance, `python -m sim.lockfit --maintenance`) is
    checked there.
    Whether the file is there is the calibrated scenario's question (`cqsim calibrate`: not
    measured when it is not), as the seeds ship without the scenarios in an installed
    package."""
    if not text:
        return ""
    if role == "fit" and (not parameter or parameter.startswith(PREFIXES)):
        raise InputError(file, f"line {line}.scenario", "no scenario on a fitting figure of "
                         "a market parameter, or of none (those are fitted on the calibrated "
                         "scenario's own runs)", text)
    path = PurePosixPath(text.replace("\\", "/"))
    if path.is_absolute() or path.suffix not in (".yaml", ".yml") or ".." in path.parts:
        raise InputError(file, f"line {line}.scenario", "a scenario file (.yaml) beside or "
                         "below the calibrated scenario, its path relative to that folder", text)
    return str(path)


# ----------------------------------------------------------------------------- measures

Measure = Callable[[Results], np.ndarray]   # one value per replication, base unit


def _per_rep(results: Results, table: pd.DataFrame, column: str) -> np.ndarray:
    reps = [r.replication for r in results.replications]
    sums = table.groupby("replication")[column].sum()
    return np.array([float(sums.get(r, 0.0)) for r in reps])


def _of_each_rep(results: Results, table: pd.DataFrame,
                 of: Callable[[pd.DataFrame], float]) -> np.ndarray:
    """`of` the rows of `table` of each replication, in the replications' order."""
    return np.array([of(table[table["replication"] == r.replication])
                     for r in results.replications])


def _weighted_per_rep(results: Results, table: pd.DataFrame, value: str,
                      teu: str) -> np.ndarray:
    """The TEU-weighted mean of `value` per replication (`sim.kpis.teu_weighted_mean`)."""
    return _of_each_rep(results, table, lambda sub: teu_weighted_mean(sub[value], sub[teu]))


def _loaded_departures(corridor: str, mode: str) -> Measure:
    def measure(results: Results) -> np.ndarray:
        lines = results.by_replication("lines")
        sub = lines[lines["corridor"].isin(corridor.split("+")) & (lines["mode"] == mode)]
        return _per_rep(results, sub, "loaded_departures_per_year")
    return measure


def _link_teu(corridor: str, hub: str) -> Measure:
    """TEU a year on the corridor's links touching `hub` (or any of `a+b`)."""
    hubs = hub.split("+")

    def measure(results: Results) -> np.ndarray:
        links = results.by_replication("links")
        sub = links[links["corridor"].isin(corridor.split("+"))
                    & (links["from_hub"].isin(hubs) | links["to_hub"].isin(hubs))]
        return _per_rep(results, sub, "teu_per_year")
    return measure


def _hub_teu(hub: str) -> Measure:
    def measure(results: Results) -> np.ndarray:
        hubs = results.by_replication("hubs")
        return _per_rep(results, hubs[hubs["hub"].isin(hub.split("+"))], "teu_per_year")
    return measure


WATER_MODES = ("river", "sea")


def _water_teu(hub: str) -> Measure:
    """TEU boarding or leaving vessels at the hubs named (`+`): a box unloaded from one
    vessel and loaded onto another counts twice, as port statistics count it."""
    ports = hub.split("+")

    def measure(results: Results) -> np.ndarray:
        legs = results.by_replication("legs")
        modes = {ln.id: ln.spec.mode for ln in results.plan.network.lines}
        water = legs["line"].map(modes).isin(WATER_MODES)
        touches = legs["board"].isin(ports).astype(int) + legs["alight"].isin(ports)
        return _per_rep(results, legs[water].assign(
            teu_per_year=legs.loc[water, "teu_per_year"] * touches[water]), "teu_per_year")
    return measure


def _line_teu(services: str) -> Measure:
    """TEU a year on the lines of the services named (`+`), both directions together."""
    def measure(results: Results) -> np.ndarray:
        lines = results.by_replication("lines")
        return _per_rep(results, lines[lines["service"].isin(services.split("+"))],
                        "teu_per_year")
    return measure


def _line_value(services: str) -> Measure:
    """Value (bn CNY/yr) of the goods delivered on the routes that ride any of the services
    named (`+`), every flow class: what a service carries, as its operator declares it."""
    named = set(services.split("+"))

    def measure(results: Results) -> np.ndarray:
        routes = results.by_replication("routes")
        sub = routes[routes["services"].map(lambda s: not named.isdisjoint(s.split(" > ")))]
        return _per_rep(results, sub.assign(value=_delivered_value(results, sub) / CNY_PER_BN),
                        "value")
    return measure


def _lock_t(lock: str) -> Measure:
    def measure(results: Results) -> np.ndarray:
        locks = results.by_replication("locks")
        return _per_rep(results, locks[locks["lock"] == lock], "total_t_per_year")
    return measure


def _lock_figure(lock: str, what: str) -> Measure:
    """Both directions of a lock together: `lockages` per day, `vessels_per_lockage`, the
    vessel-weighted mean `wait` of all vessels (or of one class, `wait.<class>`: its rows of
    lock_classes; `sim.kpis.lock_wait_h`, as `cqsim compare` weighs them) and the
    time-average `queue` of vessels waiting."""
    def measure(results: Results) -> np.ndarray:
        if what.startswith("wait."):
            rows = results.by_replication("lock_classes")
            rows = rows[(rows["lock"] == lock) & (rows["vessel_class"] == what[5:])]
            return _of_each_rep(results, rows, lock_wait_h)
        locks = results.by_replication("locks")
        locks = locks[locks["lock"] == lock]
        if what == "wait":
            return _of_each_rep(results, locks, lock_wait_h)
        lockages = _per_rep(results, locks, "lockages_per_year")
        if what == "lockages":
            return lockages / DAYS_PER_YEAR
        if what == "vessels_per_lockage":   # no lockage (no such lock): NaN, said once
            with np.errstate(invalid="ignore", divide="ignore"):
                return _per_rep(results, locks, "vessels_per_year") / lockages
        if what == "queue":
            return _per_rep(results, locks, "queue_mean_vessels")
        raise ValueError(what)
    return measure


def _lock_daily(lock: str, figure: str, window: str, how: str = "mean") -> Measure:
    """A lock's daily figure (`LOCK_DAILY`), both directions added day by day, over the
    simulation days `first-last` of `window`: the mean day, or the largest (`how` max), e.g.
    a flight's lockages a day during another's maintenance. NaN for a replication that did
    not measure every day of the window (a part of it would be another figure)."""
    first, _, last = window.partition("-")
    start, end = int(first), int(last)
    if figure not in LOCK_DAILY or how not in ("mean", "max") or not 0 <= start <= end:
        raise ValueError(window)
    column = LOCK_DAILY[figure]

    def of(rows: pd.DataFrame) -> float:
        per_day = rows.groupby("day")[column].sum()
        if len(per_day) < end - start + 1:
            return math.nan
        return float(per_day.max() if how == "max" else per_day.mean())

    def measure(results: Results) -> np.ndarray:
        daily = results.by_replication("locks_daily")
        daily = daily[(daily["lock"] == lock) & daily["day"].between(start, end)]
        return _of_each_rep(results, daily, of)
    return measure


def _ride(board: str, alight: str) -> Measure:
    def measure(results: Results) -> np.ndarray:
        legs = results.by_replication("legs")
        sub = legs[(legs["board"] == board) & (legs["alight"] == alight)]
        return _weighted_per_rep(results, sub, "ride_mean_h", "teu_per_year")
    return measure


def _arrive(origin: str, hub: str) -> Measure:
    def measure(results: Results) -> np.ndarray:
        legs = results.by_replication("legs")
        routes = results.by_replication("routes")[["replication", "route", "origin"]]
        sub = legs.merge(routes, on=["replication", "route"])
        sub = sub[(sub["origin"] == origin) & (sub["alight"] == hub)]
        return _weighted_per_rep(results, sub, "door_mean_h", "teu_per_year")
    return measure


def _loaded_ratio(gateways: str, way: str) -> Measure:
    if way not in ("out", "in", "both"):
        raise ValueError(way)

    def measure(results: Results) -> np.ndarray:
        hubs = results.plan.network.hubs
        routes = results.by_replication("routes")
        routes = routes[routes["gateway"].isin(gateways.split("+"))]
        starts, ends = ([hubs[h].country == "CN" for h in routes[end]] for end in
                        ("origin", "destination"))
        from_china, to_china = np.array(starts, dtype=bool), np.array(ends, dtype=bool)
        # boxes crossing China's border only: a gateway's domestic boxes (the Yangtze's)
        # are not its foreign-trade boxes, which the published ratios count
        leaving, coming = from_china & ~to_china, ~from_china & to_china
        routes = routes[{"out": leaving, "in": coming, "both": leaving | coming}[way]]
        empty = routes["flow_class"] == "empty"
        loaded = _per_rep(results, routes[~empty], "teu_delivered_per_year")
        total = _per_rep(results, routes, "teu_delivered_per_year")
        return np.divide(loaded, total, out=np.full_like(total, np.nan), where=total > 0)
    return measure


def _door(origin: str, destination: str, corridor: str | None) -> Measure:
    def measure(results: Results) -> np.ndarray:
        routes = results.by_replication("routes")
        sub = routes[(routes["origin"] == origin) & (routes["destination"] == destination)]
        if corridor is not None:
            sub = sub[sub["corridor"].isin(corridor.split("+"))]
        return _weighted_per_rep(results, sub, "transit_mean_h", "teu_delivered_per_year")
    return measure


def _gateway_sum(column: str, gateway: str, flow_class: str | None) -> Measure:
    """A per-year column of the gateways table summed over gateways (and flow classes)."""
    def measure(results: Results) -> np.ndarray:
        rows = results.by_replication("gateways")
        rows = rows[rows["gateway"].isin(gateway.split("+"))]
        if flow_class is not None:
            rows = rows[rows["flow_class"].isin(flow_class.split("+"))]
        return _per_rep(results, rows, column)
    return measure


def _value_per_teu(gateway: str, boxes: str = "loaded") -> Measure:
    def measure(results: Results) -> np.ndarray:
        rows = results.by_replication("gateways")
        rows = rows[rows["gateway"].isin(gateway.split("+"))]
        value = _per_rep(results, rows, "value_bn_cny_per_year") * CNY_PER_BN    # empties carry 0
        if boxes == "loaded":
            rows = rows[rows["flow_class"] != "empty"]
        teu = _per_rep(results, rows, "teu_per_year")
        return np.divide(value, teu, out=np.full_like(teu, np.nan), where=teu > 0)
    return measure


def _share(gateway: str, market: str, direction: str, commodity: str) -> Measure:
    def measure(results: Results) -> np.ndarray:
        routes = results.by_replication("routes")
        plan = results.plan
        sub = routes[routes["market"] != ""]
        if plan.market is not None:
            zone = plan.market.section.origin
            sub = sub.assign(direction=np.where(sub["origin"] == zone, "export", "import"))
        for column, want in (("market", market), ("direction", direction),
                             ("commodity", commodity)):
            if want != "*" and column in sub:
                sub = sub[sub[column] == want]
        sub = sub.assign(value=_delivered_value(results, sub))
        total = _per_rep(results, sub, "value")
        through = _per_rep(results, sub[sub["gateway"] == gateway], "value")
        return np.divide(through, total, out=np.full_like(total, np.nan), where=total > 0)
    return measure


def _delivered_value(results: Results, routes: pd.DataFrame) -> pd.Series:
    """CNY a year of the goods delivered on each row of a routes frame (TEU x class value)."""
    values = {k: c.value_cny_per_teu for k, c in results.plan.classes.items()}
    # as floats: with no row, the map keeps the column's text dtype (a TypeError times TEU)
    return routes["teu_delivered_per_year"] * routes["commodity"].map(values).astype(float)


def _class_value(gateway: str, commodity: str) -> Measure:
    """Value (bn CNY/yr) of one class of Chongqing's trade delivered through gateways."""
    def measure(results: Results) -> np.ndarray:
        routes = results.by_replication("routes")
        sub = routes[routes["gateway"].isin(gateway.split("+"))
                     & (routes["commodity"] == commodity) & (routes["flow_class"] == "trade")]
        value = _delivered_value(results, sub) / CNY_PER_BN
        return _per_rep(results, sub.assign(value=value), "value")
    return measure


def _trade_total(results: Results) -> np.ndarray:
    from sim.trade import total_trade

    per = total_trade(results)
    return np.array([float(per.get(r.replication, np.nan)) for r in results.replications])


def _check_fixed(kind: str, args: list[str], file: Path | str, line: int) -> None:
    """InputError naming a corridor or mode a measure names (`_NAMES`) that no scenario has
    (`FIXED_NAMES`): `loaded_departures:west:teleport` measured nothing, in any scenario."""
    from sim.errors import did_you_mean

    for part, what in zip(args, _NAMES.get(kind, ()), strict=False):
        choices = FIXED_NAMES.get(what or "", ())
        for name in part.split("+") if choices else ():
            if name not in choices:
                listed = ", ".join(f"'{c}'" for c in choices[:-1]) + f" or '{choices[-1]}'"
                raise InputError(file, f"line {line}.measure", f"{kind} naming a {what}: one "
                                 f"of {listed}{did_you_mean(name, choices)}", name)


def measure_key(text: str) -> str:
    """A measure as one model figure, however it is spelt: each `+` list sorted and without
    repeats (`value_per_teu:north+west:all` is `value_per_teu:west+north:all`; a second
    validation row of it slipped past a comparison of the text, fuzz2 H1)."""
    kind, _, rest = text.strip().partition(":")
    args = rest.split(":") if rest else []
    return ":".join([kind, *("+".join(sorted(set(a.split("+")))) for a in args)])


def _parse(text: str, file: Path | str = "", line: int = 0) -> Measure:
    """The measure named by `text` (see the module docstring), or InputError."""
    kind, _, rest = text.partition(":")
    args = rest.split(":") if rest else []
    _check_fixed(kind, args, file, line)
    try:
        if kind == "loaded_departures" and len(args) == 2:
            return _loaded_departures(*args)
        if kind == "link_teu" and len(args) == 2:
            return _link_teu(*args)
        if kind == "hub_teu" and len(args) == 1:
            return _hub_teu(args[0])
        if kind == "water_teu" and len(args) == 1:
            return _water_teu(args[0])
        if kind == "line_teu" and len(args) == 1:
            return _line_teu(args[0])
        if kind == "line_value" and len(args) == 1:
            return _line_value(args[0])
        if kind == "lock_t" and len(args) == 1:
            return _lock_t(args[0])
        if kind == "lock" and len(args) == 2 and (args[1] in LOCK_MEASURES or (
                args[1].startswith("wait.") and len(args[1]) > 5)):
            return _lock_figure(*args)
        if kind == "lock_daily" and len(args) in (3, 4):
            return _lock_daily(*args)
        if kind == "ride" and len(args) == 1:
            board, alight = args[0].split(">")
            return _ride(board, alight)
        if kind == "arrive" and len(args) == 1:
            origin, hub = args[0].split(">")
            return _arrive(origin, hub)
        if kind == "loaded_ratio" and len(args) == 2:
            return _loaded_ratio(*args)
        if kind == "door" and len(args) in (1, 2):
            origin, destination = args[0].split(">")
            return _door(origin, destination, args[1] if len(args) == 2 else None)
        if kind in GATEWAY_SUMS and len(args) in (1, 2):
            return _gateway_sum(GATEWAY_SUMS[kind], args[0], args[1] if len(args) == 2 else None)
        if kind == "value_per_teu" and (len(args) == 1 or (len(args) == 2
                                                          and args[1] == "all")):
            return _value_per_teu(*args)
        if kind == "class_value" and len(args) == 2:
            return _class_value(*args)
        if kind == "share" and len(args) == 4:
            return _share(*args)
        if kind == "trade_total" and not args:
            return _trade_total
    except ValueError:
        pass
    raise InputError(file, f"line {line}.measure",
                     "loaded_departures:C[+C]:M, link_teu:C[+C]:HUB[+HUB], hub_teu:HUB, "
                     "water_teu:HUB, line_teu:SERVICE, line_value:SERVICE, "
                     "lock_t:LOCK, lock:LOCK:FIGURE, "
                     "lock_daily:LOCK:lockages|t|queue:FIRST-LAST[:max], ride:A>B, arrive:A>HUB, "
                     "door:A>B[:C[+C]], "
                     "gateway_teu:G[:CLASSES], gateway_value:G[:CLASSES], class_value:G:CLASS, "
                     "value_per_teu:G[:all], loaded_ratio:G:out|in|both, "
                     "share:G:MARKET:DIRECTION:CLASS or trade_total", text)


# what each part of a measure names, by measure kind (`_parse`; several joined by +); None:
# not a name to check
_NAMES: dict[str, tuple[str | None, ...]] = {
    "loaded_departures": ("corridor", "mode"), "link_teu": ("corridor", "hub"),
    "hub_teu": ("hub",), "water_teu": ("hub",), "line_teu": ("service",),
    "line_value": ("service",), "lock_t": ("lock",),
    "lock": ("lock", None), "lock_daily": ("lock", None, None, None),
    "ride": ("hub",), "arrive": ("hub",), "door": ("hub", "corridor"),
    "loaded_ratio": ("gateway", None),
    "gateway_teu": ("gateway", None), "gateway_value": ("gateway", None),
    "value_per_teu": ("gateway", None), "class_value": ("gateway", "class"),
    "share": ("gateway", "market", None, "class"),
}
# the names every scenario has (`sim.specs`): a measure naming another is a typo, refused as
# the table is read (`_check_fixed`); the others are a scenario's own, warned of where a
# scenario lacks them (`unknown_names`)
FIXED_NAMES: dict[str, tuple[str, ...]] = {"corridor": get_args(Corridor), "mode": get_args(Mode)}


def unknown_names(targets: list[CalibrationTarget], plan: Plan) -> list[str]:
    """`target id: kind name` for each hub, lock, corridor, gateway, market or class a
    measure names that `plan` does not have: such a figure measures nothing (0 or NaN)."""
    section = plan.market.section if plan.market is not None else None
    known = {"hub": set(plan.network.hubs), "lock": set(plan.network.locks),
             **{what: set(names) for what, names in FIXED_NAMES.items()},
             "class": set(plan.classes),
             "gateway": set(get_args(Corridor)) | set(section.gateways if section else ()),
             "market": set(section.ends if section else ()),
             "service": {line.service for line in plan.network.lines}}
    out = []
    for target in targets:
        kind, _, rest = target.measure.partition(":")
        for part, what in zip(rest.split(":") if rest else [], _NAMES.get(kind, ()),
                              strict=False):
            names = [n for n in re.split(r"[+>]", part) if n and n != "*"]
            out += [f"{target.id}: {what} {n}" for n in names
                    if what is not None and n not in known[what]]
    return out


def variant_scenario(base_file: str | None, name: str) -> Scenario | str:
    """The scenario file `name` of a figure (`CalibrationTarget.scenario`) beside the
    calibrated scenario `base_file`, loaded, or why its figures are not measured: no such
    file, or it is not the calibrated scenario plus changes (`sim.scenario.not_changes_of`),
    so a figure of baseline-2023's maintenance is not read off another base's. The one rule
    of `cqsim calibrate` and `python -m sim.lockfit --maintenance`."""
    from sim.scenario import load_scenario, not_changes_of

    file = Path(base_file or ".").parent / name
    if not base_file or not file.is_file():
        return f"not measured: no {name} beside the calibrated scenario"
    loaded = load_scenario(file)
    why = not_changes_of(base_file, loaded.provenance.chain)
    if why is not None:
        return f"not measured: {name} is not the calibrated scenario plus changes ({why})"
    return loaded


def measured(results: Results, text: str) -> np.ndarray:
    """The measure `text` (see the module docstring) per replication of `results`, in the
    unit its kind gives (before a calibration row's unit factor): one home for a figure
    both a calibration row and another report read (`sim.lockfit`)."""
    return _parse(text)(results)


def calibrate(results: Results, targets: list[CalibrationTarget],
              others: Mapping[str, Results | str] | None = None) -> list[CalibrationRow]:
    """Measure every target on `results` (mean over replications and 95% CI half-width); a
    target of another scenario on `others[its scenario file]`, the runs of that scenario,
    or, where that is a text (or there is none), not at all: the text says why."""
    rows = []
    for target in targets:
        on = results if not target.scenario else (others or {}).get(
            target.scenario, "not measured: its scenario was not run")
        if isinstance(on, str):
            rows.append(CalibrationRow(target=target, simulated=math.nan, ci95=math.nan,
                                       not_measured=on))
            continue
        per_rep = _parse(target.measure)(on) * UNIT_FACTORS[target.unit]
        values = per_rep[~np.isnan(per_rep)]
        mean, half = mean_ci(values) if values.size else (float("nan"), float("nan"))
        rows.append(CalibrationRow(target=target, simulated=mean, ci95=half))
    return rows


CALIBRATION_COLUMNS = ("id", "metric", "unit", "published", "low", "high", "simulated", "ci95",
                       "deviation", "ok", "role", "parameter", "how_measured", "source",
                       "scenario", "not_measured")


def calibration_frame(rows: list[CalibrationRow]) -> pd.DataFrame:
    """The calibration rows as a table (one row per target; `CALIBRATION_COLUMNS`)."""
    return pd.DataFrame(columns=list(CALIBRATION_COLUMNS), data=[{
        "id": r.target.id, "metric": r.target.metric, "unit": r.target.unit,
        "published": r.target.published, "low": r.target.low, "high": r.target.high,
        "simulated": r.simulated, "ci95": r.ci95, "deviation": r.deviation, "ok": r.ok,
        "role": r.target.role, "parameter": r.target.parameter,
        "how_measured": r.target.how_measured, "source": r.target.source,
        "scenario": r.target.scenario, "not_measured": r.not_measured} for r in rows])
