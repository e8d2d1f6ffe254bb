"""A run directory as the report sees it: run.json, the CSV summaries, the Parquet tables by
replication and flows.gpkg. The report reads only these files, never the engine.

Every column name the report uses is resolved here (`Measure`), so a renamed result column
(the unit convention: `teu` -> `teu_per_year`, ...) is one edit in this file. The corridor
KPIs' labels, units, scales and digits are their declarations' (`sim.kpis`, `kpi_measure`);
the measures of hubs, services, locks, gateways, markets and attribution are the report's.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.errors import InputError, printable
from sim.kpis import KPI, Column, Table, by_column, default_digits, kpi, kpis
from sim.staging import FIELDS_CHANGED, RECORDS_CHANGED
from sim.units import CNY_PER_BN, DAYS_PER_YEAR, T_PER_MT

if TYPE_CHECKING:
    import geopandas as gpd

CI = "_ci95"
REPORT_FILE = "report.html"


@dataclass(frozen=True)
class Measure:
    """A figure the report shows: its label and unit, and the columns that can hold it, each
    as (column, multiplier, annualise). `annualise` marks a total over the statistics period
    (horizon minus warm-up) that is turned into a figure per year."""

    label: str
    unit: str
    columns: tuple[tuple[str, float, bool], ...]
    digits: int = 0
    signed: bool = False  # a difference: shown with its sign, green where its CI excludes 0
    level: bool = True    # it cannot be below 0: its CI is shown cut at 0 (`figures.level`)

    def column(self, frame: pd.DataFrame) -> str | None:
        """The first of this measure's columns that `frame` has."""
        return next((c for c, _, _ in self.columns if c in frame.columns), None)

    def values(self, frame: pd.DataFrame, per_year: float) -> tuple[pd.Series, pd.Series]:
        """(value, 95% CI half-width) in this measure's unit; NaN where the table has none."""
        for col, mult, annualise in self.columns:
            if col in frame.columns:
                k = mult * (per_year if annualise else 1.0)
                ci = frame[col + CI] if col + CI in frame.columns else pd.Series(
                    np.nan, index=frame.index)
                return frame[col].astype(float) * k, ci.astype(float) * abs(k)
        nan = pd.Series(np.nan, index=frame.index)
        return nan, nan


def _m(label: str, unit: str, *columns: tuple[str, float, bool], digits: int = 0,
       signed: bool = False, level: bool = True) -> Measure:
    return Measure(label, unit, tuple(columns), digits, signed, level)


# The columns a corridor KPI had in runs written before the unit convention, each as
# (column, multiplier to the KPI's unit, annualise): totals over the statistics period.
OLDER_COLUMNS: dict[str, tuple[tuple[str, float, bool], ...]] = {
    "teu": (("teu", 1.0, True),),
    "trade_bn_cny": (("trade_value_cny", 1 / CNY_PER_BN, True),),
    "co2_t": (("co2_t", 1.0, True),),
    "lots": (("lots", 1.0, True),)}


def kpi_measure(k: KPI) -> Measure:
    """A corridor KPI as the report shows it: its declaration's label, and its report view's
    unit, scale and digits (`KPI.report_view`), read from its column (or, in an older run,
    from the column it had then); the one home of these is the declaration in `sim.kpis`."""
    view = k.report_view
    older = ((c, mult / view.scale, annualise)
             for c, mult, annualise in OLDER_COLUMNS.get(k.name, ()))
    return _m(k.label, view.unit, (k.column, 1.0 / view.scale, False), *older,
              digits=view.digits)


def channel_measures() -> tuple[Measure, ...]:
    """Every corridor KPI declared (`sim.kpis.kpis()`, `add_kpi`'s too), as the channels
    table shows them, in the corridors table's order."""
    return tuple(kpi_measure(k) for k in kpis())


def summed_measures() -> tuple[Measure, ...]:
    """The corridor KPIs that add up over the channels (`total` "sum"): the total row's
    sums."""
    return tuple(kpi_measure(k) for k in kpis() if k.total == "sum")


# Channel (corridor / gateway) figures the report names. Trade is Chongqing's, counted when
# declared (flows of other cities such as Chengdu's count for none); the value carried
# counts every box (README, the table of output files).
TEU = kpi_measure(kpi("teu"))
TRADE = kpi_measure(kpi("trade_bn_cny"))
VALUE = kpi_measure(kpi("value_bn_cny"))

# Gateway figures (gateways.csv: a row per gateway and flow class, empty boxes on their own).
GATEWAY_TEU = _m("boxes carried", "TEU/yr", ("teu_per_year", 1.0, False))
GATEWAY_MEASURES = (GATEWAY_TEU, TRADE, VALUE)

# Market figures (markets.csv: a row per market, direction and gateway).
SHARE = _m("share of the market's trade", "%", ("share", 100.0, False))

# Hub figures.
HUB_TEU = _m("handled (simulated boxes)", "TEU/yr", ("teu_per_year", 1.0, False),
             ("teu", 1.0, True))
HUB_BACKGROUND = _m("background (other users)", "TEU/yr",
                    ("background_teu_per_year", 1.0, False))
HUB_DIVERTED = _m("background gone elsewhere (wait too long)", "TEU/yr",
                  ("background_diverted_teu_per_year", 1.0, False))
HUB_UTIL = _m("utilization", "share", ("utilization", 1.0, False), digits=2)
HUB_WAIT = _m("mean wait", "h", ("wait_mean_h", 1.0, False), digits=1)
HUB_YARD = _m("yard mean", "TEU", ("yard_mean_teu", 1.0, False))
HUB_YARD_PEAK = _m("yard peak", "TEU", ("yard_peak_teu", 1.0, False))
HUB_QUEUE = _m("queue at end", "jobs", ("queue_end_jobs", 1.0, False), ("queue_end", 1.0, False))
HUB_MEASURES = (HUB_TEU, HUB_BACKGROUND, HUB_DIVERTED, HUB_UTIL, HUB_WAIT, HUB_YARD, HUB_YARD_PEAK,
                HUB_QUEUE)

# Service (line) figures.
LINE_DEPARTURES = _m("departures (continuous: loads sent)", "per yr",
                     ("departures_per_year", 1.0, False), ("departures", 1.0, True))
LINE_TEU = _m("carried", "TEU/yr", ("teu_per_year", 1.0, False), ("teu", 1.0, True))
LINE_LOAD = _m("load factor", "share", ("load_factor", 1.0, False), digits=2)
LINE_WAIT = _m("boarding wait", "h", ("boarding_wait_mean_h", 1.0, False), digits=1)
LINE_MEASURES = (LINE_DEPARTURES, LINE_TEU, LINE_LOAD, LINE_WAIT)

# Lock figures.
LOCK_LOCKAGES = _m("lockages", "per day", ("lockages_per_day", 1.0, False),
                   ("lockages_per_year", 1 / DAYS_PER_YEAR, False),
                   ("lockages", 1 / DAYS_PER_YEAR, True), digits=1)
LOCK_TONNES = _m("tonnes", "Mt/yr", ("total_t_per_year", 1 / T_PER_MT, False),
                 ("total_t", 1 / T_PER_MT, True), digits=1)
LOCK_UTIL = _m("chamber tonnes filled", "share", ("utilization", 1.0, False), digits=2)
LOCK_SLOTS = _m("lockage slots used", "share", ("slot_use", 1.0, False), digits=2)
LOCK_WAIT = _m("container vessels' mean wait", "h", ("container_wait_mean_h", 1.0, False),
               digits=1)
LOCK_QUEUE = _m("queue at end", "t", ("queue_end_t", 1.0, False))
LOCK_MEASURES = (LOCK_LOCKAGES, LOCK_TONNES, LOCK_SLOTS, LOCK_UTIL, LOCK_WAIT, LOCK_QUEUE)

# Where a comparison's change of trade came from (attribution.csv of `cqsim compare`): per
# gateway ALT - BASE of the trade class, then the parts of the change (`item` -> label).
# three decimals (a million CNY): each market's part of the induced trade is a few hundredths
ATTR_TRADE = _m("Δ Chongqing's trade", "bn CNY/yr", ("delta_trade_bn_cny_per_year", 1.0, False),
                digits=3, signed=True)
ATTR_BASE_TRADE = _m("trade in the base", "bn CNY/yr",
                     ("base_trade_bn_cny_per_year", 1.0, False), digits=1)
ATTR_TEU = _m("Δ loaded TEU", "TEU/yr", ("delta_teu_per_year", 1.0, False), signed=True)
ATTR_BASE_TEU = _m("loaded TEU in the base", "TEU/yr", ("base_teu_per_year", 1.0, False))
ATTRIBUTION_MEASURES = (ATTR_TRADE, ATTR_BASE_TRADE, ATTR_TEU, ATTR_BASE_TEU)
ATTRIBUTION_FILE = "attribution.csv"
PLACEBO_ATTRIBUTION_FILE = "placebo_attribution.csv"   # the same, paired with a placebo
GATEWAY_ITEM = "gateway:"
ATTRIBUTION_PARTS = {
    "total": "total: the net change (all gateways together)",
    "shifted": "shifted: what the gateways that lost gave up (in each column, those that "
               "lost in it)",
    "input growth": "of the total, input growth (the scenario's demand growth)",
    "induced by access": "of the total, induced by cheaper access",
    "waiting at origins": "of the total, trade held at its origins at the year's ends",
    "on the way at the ends": "of the total TEU, boxes left but not delivered at the year's "
                              "ends (trade counts boxes as they leave: none of the trade)",
    "remainder": "of the total, the rest (chiefly the chance of whole lots)"}
MARKET_ITEM = "induced:"   # one market's part of `induced by access`
# the parts the settle stage gives (`sim.compare._settled_row`): without a CI when the
# replications share one settling, exact given it
SETTLED_PARTS = ("input growth", "induced by access")


def sampled_change(item: str, settled_apart: bool = False) -> bool:
    """Whether attribution.csv's row `item` is a change sampled over the replications (a
    gateway, the total, shifted, the stocks at the ends, the remainder), whose missing CI is
    not known (`sim.stats.paired_ci`) and is said so, not a part of the settle stage
    (`SETTLED_PARTS`, a market's part of the induced), exact given one shared settling, which
    has none; with `settled_apart` (`settled_apart`: each replication settled on its own
    streams) every row is sampled. The console's and the report's attribution tables read it
    alike."""
    return settled_apart or (item not in SETTLED_PARTS and not item.startswith(MARKET_ITEM))


def settled_apart(rows: pd.DataFrame) -> bool:
    """Whether one variant's rows of attribution.csv have settle-stage parts sampled over
    the replications (each settled on its own streams, `equilibrium.per_replication`): its
    `input growth`, a change of the inputs, then has a CI, 0 wide (`sim.compare.
    _settled_row`), where one shared settling leaves every settled part without one. A
    settled part with no CI is then not known (`sim.stats.paired_ci`: differences all of
    one amount over few replications), not exact, and is said so (`sampled_change`)."""
    growth = rows[rows["item"] == SETTLED_PARTS[0]]
    column = f"{ATTR_TRADE.columns[0][0]}_ci95"
    return column in growth and bool(growth[column].notna().any())


def attribution_label(item: str, markets: Mapping[str, str] | None = None) -> str:
    """How the report names a row of attribution.csv that is no gateway; a market's part of
    the induced trade by its label in `markets` (market -> label, of markets.csv) if given."""
    if item.startswith(MARKET_ITEM):
        market = item.removeprefix(MARKET_ITEM)
        return f"of the induced, {(markets or {}).get(market, market)}"
    return ATTRIBUTION_PARTS.get(item, item)


def market_labels(run: RunDir) -> dict[str, str]:
    """Market -> its label, from a run's markets.csv (empty without a market model)."""
    frame = run.table("markets")
    if frame.empty or "label" not in frame.columns:
        return {}
    return {str(m): str(lab) for m, lab in zip(frame["market"], frame["label"], strict=True)}


def attribution_parts(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows of attribution.csv that are no gateway, in the tables' order: the parts in
    ATTRIBUTION_PARTS order, each market's part of the induced trade right after `induced by
    access`."""
    order = list(ATTRIBUTION_PARTS)
    after_induced = order.index("induced by access") + 0.5

    def rank(item: str) -> float:
        if item.startswith(MARKET_ITEM):
            return after_induced
        return float(order.index(item)) if item in order else float(len(order))
    parts = rows[~rows["item"].str.startswith(GATEWAY_ITEM)]
    return parts.sort_values("item", key=lambda c: c.map(rank), kind="stable")

# Weekly series: TEU delivered per week (a per-week rate already).
WEEKLY_TEU = _m("delivered", "TEU/week", ("teu_per_week", 1.0, False), ("teu", 1.0, False))

# Link figures (flows.gpkg of runs before the unit convention carries horizon totals).
LINK_TEU = _m("flow", "TEU/yr", ("teu_per_year", 1.0, False), ("teu", 1.0, True))

# Daily congestion series (written by the congestion work when present).
LOCK_DAILY = {"queue_vessels": ("vessels waiting", "vessels"),
              "queue_t": ("tonnes waiting", "t"),
              "wait_mean_h": ("mean wait of vessels entering", "h")}
HUB_DAILY = {"queue_teu": ("queue", "TEU"), "yard_stock_teu": ("yard", "TEU"),
             "yard_teu": ("yard", "TEU"),         # the same, in runs before 2026-12-03
             "wait_mean_h": ("mean wait", "h")}

KNOWN_LABELS = {"corridor", "gateway", "name", "kind", "mode", "lon", "lat", "replication"}


def unit_from_name(column: str) -> str:
    """The unit a column's name declares under the unit convention (suffix), or '': the
    names `sim.kpis.NAME_UNITS` knows first (TEU/yr, TEU over the horizon), so a count
    keeps what it counts and its unit of time."""
    from sim.kpis import NAME_UNITS, PER_UNIT

    for suffix, unit in (*NAME_UNITS, ("_per_year", PER_UNIT["year"]),
                         ("_per_week", PER_UNIT["week"]), ("_per_day", "/day"),
                         ("_horizon", PER_UNIT["horizon"].strip()), ("_h", "h"), ("_t", "t"),
                         ("_cny", "CNY"), ("_km", "km")):
        if column.endswith(suffix):
            return unit
    return ""


def read_by(folder: str | Path) -> list[Path] | None:
    """The files the run in `folder` read, as its run.json records them (the manifest's
    inputs, the scenario, the geodata folder's files, whose basemap the report reads too):
    no output may replace one, not even with --overwrite. None when run.json records no
    inputs (a run written before cqsim kept them, or run.json unreadable or not cqsim's):
    what the run read is then not known (its scenario's extends chain, market tables,
    reference scenario), so no file that is not cqsim's may be replaced."""
    from sim.inputs import CODE
    from sim.staging import MANIFEST_KEY, read_manifest

    manifest = read_manifest(Path(folder))    # run.json, where cqsim wrote it
    if manifest is None:
        return None
    meta = manifest[1]
    about = meta.get(MANIFEST_KEY)
    inputs = about.get("inputs") if isinstance(about, dict) else None
    if not isinstance(inputs, dict):
        return None
    found = [Path(f) for f in inputs if isinstance(f, str) and f != CODE]
    if isinstance(meta.get("source_file"), str):
        found.append(Path(meta["source_file"]))
    geodata = meta.get("geodata")
    if isinstance(geodata, str) and geodata and Path(geodata).is_dir():
        found += [p for p in Path(geodata).iterdir() if p.is_file()]
    return found


def _chain_now(source: object, inputs: object) -> tuple[tuple[str, tuple[str, ...]], ...] | None:
    """The extends chain of scenario file `source` as it loads now, if every file of it has
    the digest a run recorded (`inputs`, run.json's manifest); else None: not known."""
    import warnings

    from sim.inputs import ABSENT, CODE, digests
    from sim.scenario import load_scenario

    if not isinstance(source, str) or not source or not isinstance(inputs, dict):
        return None
    try:
        with warnings.catch_warnings():    # the run gave its warnings; they are not the report's
            warnings.simplefilter("ignore")
            chain = load_scenario(source).provenance.chain
    except (InputError, OSError):
        return None
    now = digests([Path(file) for file, _ in chain], "")
    return chain if all(inputs.get(path) == digest != ABSENT
                        for path, digest in now.items() if path != CODE) else None


@dataclass
class RunDir:
    """The files of one `cqsim run` output directory: what `sim.read_run` returns. Read as
    `Results` is: `names`, `summary(name)` (<name>.csv, each table of `names` an attribute
    too: `run.corridors`), `by_replication(name)` (<name>.parquet), `trade` (trade.csv);
    `meta` is run.json, `flows` the layers of flows.gpkg."""

    path: Path
    shown_as: Path | None = None  # the folder named in the report (default: path)
    shown_name: str | None = None  # the run's name in the report (default: name; `label`)
    _tables: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> RunDir:
        """A run directory, or InputError naming what is missing, changed or unreadable: first
        its files against the manifest in run.json (`check_intact`), then run.json and the
        tables with the columns the report is keyed on."""
        folder = Path(path)
        if not folder.is_dir():
            raise InputError(folder, "", "a run folder written by `cqsim run` ("
                             + ("it is a file)" if folder.exists() else "no such folder)"))
        if not (folder / "run.json").exists():
            from sim.staging import read_manifest

            found = read_manifest(folder)   # another command's results: say which
            if found is not None:
                command = found[0].removesuffix(".json")
                inner = sorted(p.name for p in folder.iterdir() if (p / "run.json").is_file())
                hint = (f"; report its run folders ({', '.join(inner)}) or open its own "
                        "report.html" if inner else "; it holds no run folder to report")
                raise InputError(folder, "", f"a run folder written by `cqsim run` (this is "
                                             f"the folder of a `cqsim {command}`{hint})")
        for name in ("run.json", "corridors.csv", "flows.gpkg"):
            if not (folder / name).is_file():
                raise InputError(folder / name, "", "a run directory written by `cqsim run` "
                                                    "(file missing)")
        run = cls(folder)
        run.check_intact()
        if run.days - run.warmup_days <= 0 or run.seed < 0 or run.replications < 1:
            raise InputError(folder / "run.json", "days", "a horizon longer than its warm-up, "
                             "a seed >= 0 and replications >= 1 (as `cqsim run` writes)")
        for name in KEYS:
            run.table(name)
        return run

    def check_intact(self) -> None:
        """InputError naming the first file that is not as `cqsim run` wrote it, by the
        manifest in run.json (`check_intact` of the folder; report.html is left out: the
        report never reads it and writes it anew), or a field of run.json that is not what
        the manifest records of the run (scenario, seed, replications, days)."""
        from sim.staging import MANIFEST_KEY, fields_intact

        check_intact(self.path, skip=(REPORT_FILE,), fields=False)
        about = self.raw.get(MANIFEST_KEY)
        if not isinstance(about, dict):
            return
        for key in ("scenario", "name", "seed", "replications", "days"):
            if key in about and self.raw.get(key) != about[key]:
                raise InputError(self.path / "run.json", key, f"the {key} run.json's manifest "
                                 f"records ({printable(str(about[key]), 60)}), as `cqsim run` "
                                 "wrote it: run the scenario again", self.raw.get(key))
        _ = self.meta   # each field of the type cqsim writes, said by its name first
        if not fields_intact(self.raw):   # then any other edit (the warnings, description)
            command = "compare" if (self.path.parent / "compare.json").is_file() else "run"
            raise InputError(self.path / "run.json", MANIFEST_KEY, TAMPERED[
                FIELDS_CHANGED].format(manifest="run.json", command=command))

    @cached_property
    def raw(self) -> dict[str, Any]:
        """run.json as it is: a JSON object."""
        file = self.path / "run.json"
        try:
            meta = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(file, "", "JSON written by `cqsim run`", str(exc)) from None
        if not isinstance(meta, dict):
            raise InputError(file, "", "a JSON object written by `cqsim run`", meta)
        return meta

    @cached_property
    def meta(self) -> dict[str, Any]:
        """run.json, each field the report reads of the type `cqsim run` writes."""
        file = self.path / "run.json"
        meta = self.raw
        for key, kind in (("days", float), ("seed", int), ("replications", int)):
            value = meta.get(key)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not \
                    np.isfinite(value) or (kind is int and value != int(value)):
                raise InputError(file, key, f"a {'whole ' if kind is int else ''}number (as "
                                            "`cqsim run` writes)", value)
        warmup = meta.get("warmup_days", 0.0)
        if isinstance(warmup, bool) or not isinstance(warmup, (int, float)) or \
                not np.isfinite(warmup) or warmup < 0:
            raise InputError(file, "warmup_days", "a number >= 0", warmup)
        factor = meta.get("seasonal_factor")     # absent in runs written before it was kept
        if factor is not None and (isinstance(factor, bool) or not isinstance(
                factor, (int, float)) or not np.isfinite(factor) or factor <= 0):
            raise InputError(file, "seasonal_factor", "a number > 0 (as `cqsim run` writes) "
                                                      "or none", factor)
        for key in RUN_TEXT:
            if meta.get(key) is not None and not isinstance(meta[key], str):
                raise InputError(file, key, "text (as `cqsim run` writes) or null", meta[key])
        return meta

    @property
    def name(self) -> str:
        """The name the run goes by (run.json `name`: the one its caller gave, else the
        scenario's; the scenario's in runs written before it was kept): the key of the run
        in the comparison's tables (variant)."""
        return str(self.meta.get("name") or self.scenario)

    @property
    def scenario(self) -> str:
        """The name of the scenario the run simulated."""
        return str(self.meta.get("scenario") or self.path.name)

    @property
    def overrides(self) -> dict[str, Any]:
        """The fields set in Python over the scenario's files (`with_overrides`, run.json's
        manifest): {} when none, or in a run written before they were kept."""
        from sim.staging import MANIFEST_KEY

        about = self.raw.get(MANIFEST_KEY)
        found = about.get("overrides") if isinstance(about, dict) else None
        return found if isinstance(found, dict) else {}

    @cached_property
    def elements(self) -> dict[str, dict[str, str]] | None:
        """The digest of each service, lock and background traffic the run's scenario set
        (run.json's manifest `elements`, `sim.scenario.element_digests`): what
        `sim.scenario.touched` compares to name what two runs set apart; None in a run
        written before they were kept."""
        from sim.staging import MANIFEST_KEY

        about = self.raw.get(MANIFEST_KEY)
        kept = about.get("elements") if isinstance(about, dict) else None
        if kept is None:
            return None
        if not isinstance(kept, dict) or not all(
                isinstance(ids, dict) and all(isinstance(d, str) for d in ids.values())
                for ids in kept.values()):
            raise InputError(self.path / "run.json", f"{MANIFEST_KEY}.elements",
                             "a digest per kind and id (as `cqsim run` writes)", kept)
        return kept

    @cached_property
    def changes(self) -> tuple[dict[str, Any], ...] | None:
        """The record of every change the run applied, each with what wrote it (run.json's
        manifest `changes`, `sim.inputs.origin_of`): what `sim.scenario.touched` reads to
        tell the hubs and services a variant changed; None in a run written before they
        were kept (not known: not "none")."""
        from sim.staging import MANIFEST_KEY

        about = self.raw.get(MANIFEST_KEY)
        kept = about.get("changes") if isinstance(about, dict) else None
        if kept is None:
            return None
        if not isinstance(kept, list) or not all(isinstance(c, dict) for c in kept):
            raise InputError(self.path / "run.json", f"{MANIFEST_KEY}.changes",
                             "a list of changes (as `cqsim run` writes)", kept)
        return tuple(kept)

    @cached_property
    def chain(self) -> tuple[tuple[str, tuple[str, ...]], ...] | None:
        """The extends chain the run read, root base first, each file with the top-level
        sections it sets (run.json's manifest `extends`, `sim.inputs.record`). A run written
        before it was kept: the chain of its scenario file as it loads now, if no file of it
        changed since the run (the manifest's inputs); None when neither is known."""
        from sim.staging import MANIFEST_KEY

        about = self.raw.get(MANIFEST_KEY)
        about = about if isinstance(about, dict) else {}
        kept = about.get("extends")
        if kept is None:
            return _chain_now(self.meta.get("source_file"), about.get("inputs"))
        if not isinstance(kept, list) or not all(
                isinstance(e, dict) and isinstance(e.get("file"), str)
                and isinstance(e.get("sets"), list) for e in kept):
            raise InputError(self.path / "run.json", f"{MANIFEST_KEY}.extends",
                             "a list of {file, sets} (as `cqsim run` writes)", kept)
        return tuple((e["file"], tuple(map(str, e["sets"]))) for e in kept)

    @property
    def label(self) -> str:
        """The run as the report names it: its name, and its folder too when another run of
        the report has the same name (`label_runs`); never a key of a table."""
        return self.shown_name or self.name

    @property
    def seasonal_factor(self) -> float | None:
        """The statistics period's mean seasonal factor (run.json; None in older runs)."""
        factor = self.meta.get("seasonal_factor")
        return None if factor is None else float(factor)

    @property
    def days(self) -> float:
        return float(self.meta["days"])

    @property
    def warmup_days(self) -> float:
        return float(self.meta.get("warmup_days", 0.0))

    @property
    def per_year(self) -> float:
        """Multiplier from the statistics period (horizon minus warm-up) to a year."""
        return DAYS_PER_YEAR / (self.days - self.warmup_days)

    @property
    def seed(self) -> int:
        return int(self.meta["seed"])

    @property
    def replications(self) -> int:
        return int(self.meta["replications"])

    def has(self, name: str) -> bool:
        return (self.path / f"{name}.csv").is_file()

    @property
    def names(self) -> list[str]:
        """The result tables the folder holds (each a <name>.csv and a <name>.parquet), trade
        aside: cqsim's in the order of `Results.names`, then those of added kinds
        (`added_tables`)."""
        from sim.engine.recorder import shipped_tables

        return [*(t.name for t in shipped_tables() if self.has(t.name)),
                *(name for name, _ in self.added_tables())]

    def _known(self, name: str) -> None:
        """KeyError, as `Results` gives it, for a name that is no table of the folder's nor
        one cqsim or this process declares (a table a run written before it existed lacks
        reads empty, as `table` reads it)."""
        from sim.engine.recorder import all_tables

        if name == "trade" or name in SHAPES or any(t.name == name for t in all_tables()) \
                or name in self.names:
            return
        from sim.errors import did_you_mean

        raise KeyError(f"no table {name!r}{did_you_mean(name, [*self.names, 'trade'])}; the "
                       f"tables are {', '.join(self.names)} and trade")

    def summary(self, name: str) -> pd.DataFrame:
        """Table `name` of `names` (or "trade") averaged over replications, with `_ci95`
        columns, as <name>.csv holds it: the frame `Results.summary(name)` gave the run
        (`table`; KeyError for a name that is no table)."""
        self._known(name)
        return self.table(name)

    @property
    def trade(self) -> pd.DataFrame:
        """trade.csv: the run's `Results.trade`."""
        return self.table("trade")

    if not TYPE_CHECKING:   # at run time only: a type checker still flags a misspelt attribute
        def __getattr__(self, name: str) -> pd.DataFrame:
            """Every table of `names` as an attribute: `run.lines` is `run.summary("lines")`."""
            if name.startswith("_") or name == "path":   # copy, pickle, fields not yet set
                raise AttributeError(name)
            if name in self.names:
                return self.summary(name)
            raise AttributeError(f"'RunDir' object has no attribute {name!r}; the tables are "
                                 f"{', '.join(self.names)} and trade")

    def __repr__(self) -> str:
        return (f"<RunDir {self.path} ({self.name}: {self.days:g} days, {self.replications} "
                f"replication(s), seed {self.seed}); tables: {', '.join(self.names)}, trade; "
                "e.g. run.corridors, run.summary(name), run.by_replication(name)>")

    def table(self, name: str) -> pd.DataFrame:
        """`<name>.csv`: the mean over replications with `_ci95` columns (empty if absent),
        checked against its `Shape` (InputError naming the file and the column otherwise;
        a table of no known shape as it is, `shape_of`)."""
        if name not in self._tables:
            self._tables[name] = read_table(self.path / f"{name}.csv", shape_of(name))
        return self._tables[name]

    def by_replication(self, name: str) -> pd.DataFrame:
        """`<name>.parquet`: one block of rows per replication (empty if absent), checked
        against its `Shape` and with a `replication` column: the frame
        `Results.by_replication(name)` gave the run ("trade" too; KeyError for a name that
        is no table)."""
        key = f"rep:{name}"
        if key not in self._tables:
            self._known(name)
            self._tables[key] = read_table(self.path / f"{name}.parquet",
                                           REPLICATION_SHAPES.get(name) or shape_of(name))
        return self._tables[key]

    def added_tables(self) -> list[tuple[str, Table | None]]:
        """The tables of added component kinds this run folder holds (a `<name>.csv` of no
        table cqsim ships nor the report reads), each with its declaration where this
        process knows it (the kind's module imported: `cqsim report --import MODULE`), else
        None: the declared ones in their declaration's order, then the others by name."""
        from sim.engine.recorder import added_tables, shipped_tables

        shipped = {t.name for t in shipped_tables()} | set(SHAPES)
        held = {p.stem for p in self.path.glob("*.csv") if p.stem not in shipped}
        declared = [(t.name, t) for t in added_tables() if t.name in held]
        known = {name for name, _ in declared}
        return [*declared, *((name, None) for name in sorted(held - known))]

    @cached_property
    def flows(self) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
        """(links, hubs) layers of flows.gpkg, lon/lat; hubs carry `name_zh` when the layer
        or the run's geodata (hubs.geojson) gives Chinese names."""
        import geopandas as gpd

        file = self.path / "flows.gpkg"
        links, hubs = (_layer(file, layer, gpd.read_file) for layer in ("links", "hubs"))
        if "name_zh" not in hubs.columns:
            names = self.names_zh()
            if names:
                hubs["name_zh"] = hubs["hub"].map(names)
        return links, hubs

    def hub_places(self) -> dict[str, str]:
        """Hub id -> the name the report gives it: the place ("Alashankou", from hubs.csv's
        name), with its Chinese name when the geodata has one. One naming for the hubs
        table and the hubs' daily chart, which named them by id (`cq_guoyuan`)."""
        from sim.mapdata import short_name

        hubs = self.table("hubs")
        if hubs.empty:
            return {}
        zh = self.names_zh()
        return {str(h): short_name(str(h), str(n)) + (f" {zh[str(h)]}" if str(h) in zh else "")
                for h, n in zip(hubs["hub"], hubs["name"], strict=True)}

    def names_zh(self) -> dict[str, str]:
        """Hub id -> Chinese name from the run's geodata/hubs.geojson (empty if none)."""
        file = self.geodata / "hubs.geojson" if self.geodata else None
        if file is None or not file.is_file():
            return {}
        try:
            features = json.loads(file.read_text(encoding="utf-8"))["features"]
        except (OSError, ValueError, KeyError, TypeError):
            return {}
        props = [f.get("properties") for f in features if isinstance(f, dict)] \
            if isinstance(features, list) else []
        return {str(p["id"]): str(p["name_zh"]) for p in props
                if isinstance(p, dict) and p.get("name_zh") and "id" in p}

    @property
    def geodata(self) -> Path | None:
        """The geodata folder of the run (for the basemap), when run.json names it."""
        folder = self.meta.get("geodata")
        return Path(folder) if folder else None

    def link_teu_per_year(self, links: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """flows.gpkg links with teu, teu_down and teu_up in TEU/yr."""
        out = links.copy()
        for col in ("teu", "teu_down", "teu_up"):
            if f"{col}_per_year" in out.columns:
                out[col] = out[f"{col}_per_year"]
            else:
                out[col] = out[col] * self.per_year
        return out


def read_run(folder: str | os.PathLike[str]) -> RunDir:
    """The run a folder written by `cqsim run`, `sim.write_results` or a comparison (each of
    its run folders, DIR/0-<base>, DIR/1-<alt>...) holds, read back, read-only:
    `run.summary(name)` and `run.corridors`... (<name>.csv: the frames `Results.summary`
    gave), `run.by_replication(name)` (<name>.parquet), `run.trade` (trade.csv),
    `run.names`, `run.meta` (run.json), `run.flows` (flows.gpkg's links and hubs);
    `sim.flow_map(run)` draws its map. The folder is first checked against the manifest in
    its run.json: InputError, one line naming the file, for a folder that is not a run's
    or whose files changed since (`RunDir.open`); TypeError for anything but one path."""
    if not isinstance(folder, (str, os.PathLike)):   # pathlib's own error came from deep in it
        several = "; for several folders call it once each" \
            if isinstance(folder, (list, tuple)) else ""
        raise TypeError(f"read_run takes one run folder (a str or os.PathLike), got "
                        f"{type(folder).__name__}{several}")
    return RunDir.open(folder)


@dataclass(frozen=True)
class Shape:
    """A table as the report reads it, CSV or Parquet: the text columns it is keyed on
    (`keys`), the number columns it cannot do without (`needs`; "a|b": either), the other
    text columns (`text`); every other column holds numbers, as `cqsim run` writes a table
    (labels, then figures with their `_ci95`), empty cells allowed. `rows`: cqsim writes it
    with rows. By replication (Parquet) a table has a `replication` column too. The text
    columns are those `sim.engine.recorder.all_tables()` declares as text (`Column.is_text`,
    tests/report/test_tampered.py holds the two together)."""

    keys: tuple[str, ...]
    needs: tuple[str, ...] = ()
    text: tuple[str, ...] = ()
    rows: bool = False


# Every table the report reads (`RunDir.table`, `RunDir.by_replication`, attribution.csv).
SHAPES = {
    "corridors": Shape(("corridor",), ("teu_per_year", "trade_bn_cny_per_year"), rows=True),
    "gateways": Shape(("gateway", "flow_class"), text=("label",)),
    "markets": Shape(("market", "direction", "gateway"), text=("label",)),
    "trade": Shape(("item",), ("value", "ci95"), text=("unit", "source")),
    "timeseries": Shape(("corridor",), ("week",)),
    "hubs": Shape(("hub", "name", "kind"), ("utilization",)),
    "hubs_daily": Shape(("hub",), ("day",)),
    "lines": Shape(("line", "corridor"), text=("service", "mode", "schedule")),
    "links": Shape(("link", "direction"), text=("from_hub", "to_hub", "mode", "corridor")),
    "locks": Shape(("lock", "direction")),
    "locks_daily": Shape(("lock", "direction"), ("day",)),
    "attribution": Shape(("variant", "item"), text=("per_year_from",)),
    "conservation": Shape((), ("created_teu_horizon", "delivered_teu_horizon",
                               "in_transit_teu", "waiting_teu", "residual_teu")),
}
# the Parquet tables whose shape is not their summary's (trade.parquet: a value per
# replication, no CI nor source)
REPLICATION_SHAPES = {"trade": Shape(("item",), ("value",), text=("unit",))}
# flows.gpkg's layers (and the geometry each holds)
LAYERS = {
    "links": (Shape(("link", "from_hub", "to_hub", "mode", "corridor"),
                    ("km", "teu_down_per_year|teu_down", "teu_up_per_year|teu_up")),
              "LineString"),
    "hubs": (Shape(("hub", "name"), text=("kind", "name_zh")), "Point"),
}
# The tables RunDir.open reads (a folder without them is not a run's).
KEYS = ("corridors", "hubs")
# run.json's text fields the report shows (null or absent: not known)
RUN_TEXT = ("scenario", "name", "description", "geodata", "git_commit", "cqsim_version",
            "engine", "created_utc")
def shape_of(name: str) -> Shape | None:
    """The `Shape` of table `name`: the report's own (`SHAPES`), else that of an added kind's
    table declared in this process (`sim.engine.recorder.added_tables`: keyed on its keys,
    its columns declared as text, `Column.is_text`, as for cqsim's tables); None for a table
    known by neither."""
    if name in SHAPES:
        return SHAPES[name]
    from sim.engine.recorder import added_tables

    for table in added_tables():
        if table.name == name:
            text = [c.column for c in table.columns if c.is_text]
            return Shape(table.keys, text=tuple(c for c in text if c not in table.keys))
    return None


def read_table(file: Path, shape: Shape | None) -> pd.DataFrame:
    """The table in `file` (.csv or .parquet; empty if absent or empty), checked against
    `shape` (`checked`); with no shape as it is (its columns that hold no numbers text)."""
    if not file.is_file():
        return pd.DataFrame()
    if shape is None:
        reader = pd.read_parquet if file.suffix == ".parquet" else pd.read_csv
        try:
            return pd.DataFrame(_read(file, reader))
        except pd.errors.EmptyDataError:
            return pd.DataFrame()
    if file.suffix == ".parquet":
        return checked(file, _read(file, pd.read_parquet), shape, by_replication=True)
    text = dict.fromkeys((*shape.keys, *shape.text), str)
    try:
        frame = _read(file, lambda f: pd.read_csv(f, dtype=text))
    except pd.errors.EmptyDataError:  # a table with no columns (e.g. no lock)
        if shape.rows:
            raise InputError(file, "header", "the table cqsim writes (the file is empty)") \
                from None
        return pd.DataFrame()
    return checked(file, frame, shape)


def checked(file: str | Path, frame: pd.DataFrame, shape: Shape, *,
            by_replication: bool = False) -> pd.DataFrame:
    """`frame` read from `file` if it has the columns `shape` needs (and, `by_replication`,
    `replication`), rows where it must have them, and numbers in every column that is not
    text (else InputError naming the file, the column and the CSV line or the row); the
    number columns as numbers."""
    needs = [*shape.keys, *shape.needs, *(["replication"] if by_replication else [])]
    missing = [n.split("|")[0] for n in needs if not set(n.split("|")) & set(frame.columns)]
    if missing:
        raise InputError(file, "header", f"the columns cqsim writes ({', '.join(missing)} "
                                         "missing)")
    if shape.rows and frame.empty:
        raise InputError(file, "rows", "the rows cqsim writes (none)")
    text = {*shape.keys, *shape.text, "geometry"}
    out = frame
    for column in frame.columns:
        values = frame[column]
        if column in text or (pd.api.types.is_numeric_dtype(values)
                              and not pd.api.types.is_bool_dtype(values)):
            continue
        numbers = pd.to_numeric(values, errors="coerce")
        bad = np.flatnonzero(numbers.isna().to_numpy() & values.notna().to_numpy())
        if len(bad) or pd.api.types.is_bool_dtype(values):
            at = int(bad[0]) if len(bad) else 0
            where = f"line {at + 2}" if str(file).endswith(".csv") else f"row {at}"
            raise InputError(file, f"{where}.{column}", "a number (as cqsim writes)",
                             values.iloc[at])
        out = out.assign(**{column: numbers})
    return out


def _layer(file: Path, layer: str, reader: Any) -> Any:
    """A layer of flows.gpkg checked against `LAYERS`: its columns, numbers, a coordinate
    system and the geometry it holds in every row."""
    shape, geometry = LAYERS[layer]
    shown = f"{file}:{layer}"
    frame = checked(shown, _read(file, lambda f: reader(f, layer=layer)), shape)
    if frame.crs is None:
        raise InputError(shown, "crs", "a coordinate system (EPSG:4326, as `cqsim run` writes)")
    kinds = frame.geometry.geom_type
    if kinds.isna().any() or (kinds != geometry).any() or frame.geometry.is_empty.any():
        raise InputError(shown, "geometry", f"a {geometry} in every row (as `cqsim run` writes)")
    return frame


def _read(file: Path, reader: Any) -> Any:
    """`reader(file)`, or InputError naming the file when it is not what `cqsim run` wrote
    (not UTF-8, not CSV, not Parquet: ValueError and pyarrow's; not a GeoPackage:
    pyogrio's DataSourceError, a RuntimeError)."""
    try:
        return reader(file)
    except pd.errors.EmptyDataError:
        raise
    except (OSError, ValueError, RuntimeError) as exc:
        raise InputError(file, "", f"a table written by `cqsim run` "
                                   f"({type(exc).__name__})") from None


# what a manifest's problem (`sim.staging.problems`) means to the user
TAMPERED = {
    "sha256 differs from the manifest": "the file as cqsim wrote it (its sha256 differs from "
                                        "{manifest}'s manifest): run `cqsim {command}` "
                                        "again, or put back the file cqsim wrote",
    "missing": "the file cqsim wrote ({manifest}'s manifest lists it; it is missing): run "
               "`cqsim {command}` again, or put back the file cqsim wrote",
    "a link": "the file cqsim wrote ({manifest}'s manifest lists it; a link stands in its "
              "place, which cqsim does not follow): run `cqsim {command}` again, or put back "
              "the file cqsim wrote",
    "not in the manifest": "only the files cqsim wrote (this one is not in {manifest}'s "
                           "manifest): remove it, or run `cqsim {command}` again",
    "malformed": "a manifest as cqsim writes it (an object with the size and sha256 of every "
                 "file): run `cqsim {command}` again",
    RECORDS_CHANGED: "a manifest whose records are as cqsim wrote them (their digest differs: "
                     "edited since): run `cqsim {command}` again",
    FIELDS_CHANGED: "the fields of {manifest} as cqsim wrote them beside its manifest (their "
                    "digest differs: edited since): run `cqsim {command}` again",
}


def check_intact(folder: Path, only: str | None = None, *, skip: tuple[str, ...] = (),
                 fields: bool = True) -> None:
    """InputError naming the first file of the results folder `folder` that is not as cqsim
    wrote it by the folder's manifest (`sim.staging.problems`: changed, missing or not
    listed; `only`: that file alone), or naming the manifest's file when the manifest is not
    cqsim's. Files in `skip` are left out; `fields=False`: the fields beside the manifest
    are left to the caller, who checks them after its own field checks (`RunDir`). A folder
    whose JSON file holds no manifest
    (written before cqsim wrote manifests) passes: its tables are checked as they are read
    (`read_table`)."""
    from sim.staging import MANIFEST_KEY, problems, read_manifest

    found = read_manifest(folder)
    if found is None or MANIFEST_KEY not in found[1]:
        return
    name = found[0]
    wrong = [(rel, what) for rel, what in problems(folder, fields=fields)
             if rel not in skip and (only is None or rel in (only, name, str(folder)))]
    if not wrong:
        return
    rel, what = wrong[0]
    if what not in TAMPERED:  # no manifest, or one that is not cqsim's
        rel, what = name, "malformed"
    command = name.removesuffix(".json")
    if name == "run.json" and (folder.parent / "compare.json").is_file():
        command = "compare"   # a variant's run directory inside a comparison
    raise InputError(folder / rel, MANIFEST_KEY, TAMPERED[what].format(
        manifest=name, command=command))


def current(frame: pd.DataFrame, measures: tuple[Measure, ...],
            per_year: float) -> pd.DataFrame:
    """`frame` with each measure's current column (its first), computed from an older one
    where a run written before a renaming has only that (`teu` over the statistics period
    becomes `teu_per_year`, ...), in the current column's unit."""
    out = frame
    for m in measures:
        name, mult, annualise = m.columns[0]
        if name not in frame.columns and m.column(frame) is not None:
            k = mult * (per_year if annualise else 1.0)
            out = out.assign(**{name: m.values(frame, per_year)[0] / k})
    return out


def label_runs(runs: Sequence[RunDir]) -> None:
    """Name each run whose name another of `runs` shares by its name and folder,
    "baseline (out/base)", so the report tells them apart; the tables stay keyed by name."""
    names = [r.name for r in runs]
    for run in runs:
        run.shown_name = (f"{run.name} ({run.shown_as or run.path})"
                          if names.count(run.name) > 1 else None)


def attribution(runs: list[RunDir], name: str = ATTRIBUTION_FILE,
                base_run: RunDir | None = None) -> pd.DataFrame:
    """The rows of attribution.csv (or `name`) for the ALTs among `runs`, when every run
    directory sits in the folder of a `cqsim compare` that wrote it and its gateways' base
    figures are those of `base_run` (default the first run, the base): so the comparison's
    report, and `cqsim report` of its run directories in the same order, show where the
    change came from. Empty otherwise."""
    first = runs[0] if base_run is None else base_run
    folder = runs[0].path.parent
    file = folder / name
    if len(runs) < 2 or not file.is_file() or any(r.path.parent != folder for r in runs):
        return pd.DataFrame()
    from sim.staging import MANIFEST_KEY, read_manifest

    # without its manifest nothing says the file is the comparison's; but the comparison's
    # own report, written while its folder is staged (`shown_as` names where it will be),
    # reads what that command has just written
    found = read_manifest(folder)
    staged = all(r.shown_as is not None for r in runs)
    if not staged and (found is None or MANIFEST_KEY not in found[1]):
        raise InputError(folder / "compare.json", MANIFEST_KEY, f"the manifest of the "
                         f"`cqsim compare` that wrote {name} (it is missing or not cqsim's): "
                         "run the comparison again")
    check_intact(folder, name)
    frame = read_table(file, SHAPES["attribution"])
    frame = frame[frame["variant"].isin([r.name for r in runs[1:] if r is not first])]
    gateways = frame[frame["item"].str.startswith(GATEWAY_ITEM)]
    base = first.table("gateways")
    if gateways.empty or base.empty:
        return pd.DataFrame()
    rows = base[base["flow_class"] == "trade"]
    trade = TRADE.values(rows, first.per_year)[0].groupby(rows["gateway"]).sum()
    said = gateways["item"].str.removeprefix(GATEWAY_ITEM).map(trade).fillna(0.0)
    if not np.allclose(said, ATTR_BASE_TRADE.values(gateways, 1.0)[0], rtol=1e-6, atol=1e-9):
        return pd.DataFrame()    # another base: its figures would be wrong for this one
    return frame.reset_index(drop=True)


def placebo_attribution(runs: list[RunDir]) -> tuple[RunDir | None, pd.DataFrame]:
    """(the placebo's run, the rows of placebo_attribution.csv) of a `cqsim compare
    --placebo` whose folder holds `runs`: the placebo is the run whose gateways' trade is the
    file's base figures. (None, empty) otherwise."""
    for run in runs[1:]:
        frame = attribution(runs, PLACEBO_ATTRIBUTION_FILE, base_run=run)
        if not frame.empty:
            return run, frame
    return None, pd.DataFrame()


def by_trade(frame: pd.DataFrame, key: str) -> list[str]:
    """The values of column `key` ordered by the Chongqing trade their rows carry, most first
    (ties by name), e.g. the gateways of gateways.csv or the markets of markets.csv."""
    trade = TRADE.values(frame, 1.0)[0].fillna(0.0)
    total = trade.groupby(frame[key].astype(str)).sum()
    return sorted(total.index, key=lambda k: (-total[k], k))


def extra_columns(frame: pd.DataFrame, measures: tuple[Measure, ...],
                  keys: tuple[str, ...]) -> list[str]:
    """Numeric columns of `frame` no measure covers (so a new result column still shows)."""
    known = {c for m in measures for c, _, _ in m.columns} | set(keys) | KNOWN_LABELS
    return [c for c in frame.select_dtypes("number").columns
            if not c.endswith(CI) and c not in known]


def extra_measure(column: str) -> Measure:
    """How a table shows a numeric column no measure of the report's covers
    (`extra_columns`): a column named as a corridor KPI declared in `sim.kpis` as
    `kpi_measure` shows the KPI; any other column by its name (`named_measure`)."""
    k = by_column(column)
    return named_measure(column) if k is None else kpi_measure(k)


def named_measure(column: str) -> Measure:
    """A numeric column no declaration known here describes: by its name, with the unit its
    name declares, to two decimals, its sign not known (value ± CI as it is)."""
    return _m(column, unit_from_name(column), (column, 1.0, False), digits=2, level=False)


def column_measure(c: Column) -> Measure:
    """A column of an added kind's table as its declaration says (`sim.kpis.Column`): its
    label (else its name), its unit with a count's unit of time (`Column.shown_unit`), the
    digits its unit gets (`sim.kpis.default_digits`); a count cannot be below 0."""
    return _m(c.label or c.column, c.shown_unit, (c.column, 1.0, False),
              digits=default_digits(c.unit), level=c.per is not None)


def added_columns(frame: pd.DataFrame, declared: Table | None
                  ) -> tuple[list[str], list[Measure]]:
    """How the report shows an added kind's table (`RunDir.added_tables`): its text columns
    (its keys, its labels), then a measure for each numeric column, in the file's order:
    as `declared` declares it (`column_measure`), else by its name (`named_measure`)."""
    columns = {c.column: c for c in declared.columns} if declared else {}
    keys = list(declared.keys) if declared else []
    numeric = set(frame.select_dtypes("number").columns) - set(keys)
    text = [c for c in frame.columns if c not in numeric]
    measures = [column_measure(columns[c]) if c in columns else named_measure(c)
                for c in frame.columns if c in numeric and not c.endswith(CI)]
    return text, measures
