"""Results over replications: tidy tables by replication and summaries with 95% CIs."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.errors import did_you_mean, wrong_type
from sim.stats import CI95, mean_ci, t_critical, two_sided

# the key of the settle stage's report (`Results.equilibrium`, `sim.equilibrium`) under which
# each market's induced trade stands
BY_MARKET = "market_induced_by_market"

if TYPE_CHECKING:  # types only: reading result files (sim.report) needs no engine
    from sim.engine.recorder import ReplicationResult
    from sim.kpis import Column, Table
    from sim.network import Plan


def table_keys() -> dict[str, list[str]]:
    """Every result table with the columns that identify an entity in it (the rest are
    measures or labels): the recorder's own tables, then those component kinds write."""
    from sim.engine.recorder import all_tables

    return {t.name: list(t.keys) for t in all_tables()}


def fixed_columns() -> dict[str, list[str]]:
    """Every result table's numbers that describe an entity (`Column.fixed`: a hub's
    coordinates), carried by a summary as labels."""
    from sim.engine.recorder import all_tables

    return {t.name: [c.column for c in t.columns if c.fixed] for t in all_tables()}


def count_columns() -> dict[str, list[str]]:
    """Every result table's counts over a period (`Column.per`: TEU per year, per week...):
    a replication without the entity's row counted none, so they average it as 0."""
    from sim.engine.recorder import all_tables

    return {t.name: [c.column for c in t.columns if c.per is not None] for t in all_tables()}


def summarize(table: pd.DataFrame, keys: list[str], fixed: Sequence[str] = (),
              counts: Sequence[str] = (), replications: int | None = None) -> pd.DataFrame:
    """Mean and `<col>_ci95` half-width of every numeric column but the `fixed` ones, per
    entity (rows in order of first appearance; labels and `fixed` columns from an entity's
    first row), exactly as `mean_ci` gives them.

    A table may leave out an entity in a replication (a week in which a corridor delivered
    nothing, a leg no lot rode): its `counts` columns then take 0 for each of the
    `replications` it lacks (the mean is over all of them, not over those with a row), the
    others (times, shares) are averaged over the replications that have a row and measured
    them (not NaN: a route that delivered nothing in a replication has no transit time).

    Entities that appear in every replication (the usual case) are summarized together, as
    one array of shape (entities, columns, replications); otherwise entity by entity.
    """
    numeric = [c for c in table.select_dtypes("number").columns
               if c not in keys and c not in fixed and c != "replication"]
    labels = [c for c in table.columns if c not in numeric and c not in keys
              and c != "replication"]
    codes = (table.groupby([table[k] for k in keys], sort=False, dropna=False).ngroup()
             .to_numpy() if keys else np.zeros(len(table), dtype=np.int64))
    sizes = np.bincount(codes) if len(codes) else np.zeros(0, dtype=np.int64)
    first = table.drop_duplicates(subset=keys, keep="first") if keys else table.head(1)
    out = first[[*keys, *labels]].reset_index(drop=True)
    samples = table[numeric].to_numpy(dtype=float)[np.argsort(codes, kind="stable")]
    full = max(replications or 0, int(sizes.max()) if len(sizes) else 0)
    if not len(sizes):   # no row: no entity
        mean = half = np.zeros((0, len(numeric)))
    elif sizes.min() == sizes.max() == full:
        n = int(sizes[0])
        # (entities, columns, replications), each row contiguous: numpy reduces it as it
        # reduces the samples of one entity and column alone (mean_ci)
        block = np.ascontiguousarray(samples.reshape(len(sizes), n, len(numeric))
                                     .transpose(0, 2, 1))
        mean = block.mean(axis=2)
        if n < 2:
            half = np.full(mean.shape, np.nan)
        else:
            half = t_critical(n - 1) * block.std(axis=2, ddof=1) / np.sqrt(n)
        # a time or share some replications did not measure (a route that delivered nothing
        # in them): over those that did, as for an entity without a row
        missing = np.isnan(block)
        for i, j in zip(*np.nonzero(missing.any(axis=2) & ~missing.all(axis=2)), strict=True):
            mean[i, j], half[i, j] = mean_ci(block[i, j][~missing[i, j]], CI95)
    else:
        parts = np.split(samples, np.cumsum(sizes)[:-1])   # the rows of each entity
        counted = set(counts)
        zero = {j for j, c in enumerate(numeric) if c in counted}

        def column(part: np.ndarray, j: int) -> np.ndarray:
            got = np.ascontiguousarray(part[:, j])
            if j in zero:
                return np.concatenate([got, np.zeros(full - len(got))])
            measured = got[~np.isnan(got)]
            return measured if len(measured) else got
        pairs = [[mean_ci(column(part, j), CI95) for j in range(len(numeric))]
                 for part in parts]
        mean = np.array([[p[0] for p in row] for row in pairs]).reshape(len(sizes), -1)
        half = np.array([[p[1] for p in row] for row in pairs]).reshape(len(sizes), -1)
    for j, c in enumerate(numeric):
        out[c] = mean[:, j]
        out[f"{c}_ci95"] = half[:, j]
    return out


def summarize_series(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """`summarize` for daily series (many rows): vectorised, and a day on which a
    replication recorded nothing (NaN) is left out of that day's mean, not propagated."""
    numeric = [c for c in table.select_dtypes("number").columns
               if c not in keys and c != "replication"]
    groups = table.groupby(keys, sort=False, dropna=False)[numeric]
    mean, std, count = groups.mean(), groups.std(ddof=1), groups.count()
    from scipy import special  # as t_critical, vectorised over the counts

    n = count.to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(n >= 2, special.stdtrit(np.maximum(n - 1, 1), two_sided()), np.nan)
        half = t * std.to_numpy() / np.sqrt(n)
    out = mean.copy()
    for i, c in enumerate(numeric):
        out.insert(list(out.columns).index(c) + 1, f"{c}_ci95", half[:, i])
    return out.reset_index()


def series_tables() -> set[str]:
    """Names of the daily-series tables (summarised by `summarize_series`)."""
    from sim.engine.recorder import all_tables

    return {t.name for t in all_tables() if t.series}


DICTIONARY_COLUMNS = ("table", "column", "label", "unit", "period", "summary")


def data_dictionary(tables: Sequence[Table] | None = None) -> pd.DataFrame:
    """What every column of the result tables means, a row a column, in the tables' order
    (`sim.engine.recorder.all_tables()`: cqsim's own, then those of kinds registered in this
    process; or `tables`): `table`, `column` (as the files name it), `label`, `unit` ("text":
    words, an id or a name), `period` ("per year", "per week", "over the horizon" or "none")
    and `summary`: how `<table>.csv`, the summary over replications (`Results.summary`),
    gives it. docs/outputs.md is this table for cqsim's own tables (`outputs_markdown`)."""
    if tables is None:
        from sim.engine.recorder import all_tables

        tables = all_tables()
    from sim.kpis import PER_WORDS

    rows = [{"table": t.name, "column": c.column, "label": c.label,
             "unit": "text" if c.is_text else c.unit,
             "period": PER_WORDS[c.per] if c.per is not None else "none",
             "summary": _summarised(t, c)} for t in tables for c in t.columns]
    return pd.DataFrame(rows, columns=list(DICTIONARY_COLUMNS))


def _summarised(table: Table, c: Column) -> str:
    """How `summarize` (`summarize_series` for a daily series) gives column `c` of
    `table`."""
    if c.name in table.keys:
        return "key: names the row"
    if c.is_text:
        return "as written (the row's first replication)"
    if c.fixed:
        return "as written: the same in every replication, no CI"
    ci = f", 95% CI in {c.column}_ci95"
    if table.series:
        return f"mean over the replications that recorded the day{ci}"
    if c.per is not None:
        return f"mean over replications (one without the row counts 0){ci}"
    flagged = " (the share of replications flagged)" if c.unit == "0/1" else ""
    return f"mean over the replications that measured it{flagged}{ci}"


def outputs_markdown() -> str:
    """docs/outputs.md: `data_dictionary` of cqsim's own tables
    (`sim.engine.recorder.shipped_tables`), a section a table. `python -m sim.results
    docs/outputs.md` writes it."""
    from sim.engine.recorder import shipped_tables

    tables = shipped_tables()
    found = data_dictionary(tables)
    out = [_OUTPUTS_INTRO]
    for t in tables:
        keys = ", ".join(f"`{k}`" for k in t.keys)
        rows = f"a row per {keys}" if keys else "one row"
        daily = " (a daily series)" if t.series else ""
        out += [f"## `{t.name}.csv`", "", f"{rows.capitalize()}{daily}.", "",
                "| column | label | unit | period | summary |", "| --- | --- | --- | --- | --- |"]
        for r in found[found["table"] == t.name].itertuples():
            cells = [f"`{r.column}`", r.label, r.unit, r.period, r.summary]
            out.append("| " + " | ".join(str(x).replace("|", "\\|") for x in cells) + " |")
        out.append("")
    return "\n".join(out)


_OUTPUTS_INTRO = """# The result tables: what each column means

<!-- Generated from the tables' declarations by `python -m sim.results docs/outputs.md`
(sim.data_dictionary(); tests/analysis/test_data_dictionary.py checks it): change a label
or a unit where the column is declared, then write this file again. -->

Every table `cqsim run` writes, column by column, as declared once in the code
(`sim/engine/recorder.py` and the component that writes the table; `sim.data_dictionary()`
gives this as a DataFrame, and the tables of kinds an `--import` adds with them). A run's
folder holds each table twice: `<table>.csv`, the summary over replications (each number the
mean over the replications, with the half-width of its 95% confidence interval in
`<column>_ci95`, empty with one replication), and `<table>.parquet`, every replication's rows
(column `replication`, no `_ci95`).

- **period**: `per year`, a count over the statistics period (the horizon less the warm-up)
  scaled to a year, named `<name>_per_year`; `per week`, a week's count (`_per_week`); `over
  the horizon`, a total over the whole run, warm-up included (`_horizon`); `none`, a stock,
  a time, a share or a name, as it is.
- **unit**: `text`, words (an id, a name); `index`, a number that names a row; `share`, a
  fraction of 1 (0.42, not 42%); `ratio`, a number without a unit; `0/1`, a flag (its mean
  over replications is the share of replications flagged); `h`, hours; `t`, tonnes; `deg`,
  degrees.
- **summary**: how `<table>.csv` gives the column. A replication without a row (a route no
  lot rode) counts 0 for a count; a time or a share is averaged over the replications that
  measured it. A mean of nothing is not measured: the wait at a hub that handled no job (a
  hub closed all period), at a lock no vessel entered, on a line nobody boarded is empty
  (NaN in Python, `-` in the console and the report), never 0.

`trade.csv` is a row a figure, its `unit` and `source` in columns of their own (README,
"Command line"); where the statistics period (days less warm-up) is not a whole number of
years, whatever its season, each simulated row's `source` ends with what it is annualised
from (`annualised from days 30-90 (mean seasonal factor 0.895)`; `annualised from days
30-90` where the factor is within 0.005 of 1, as with flat seasonality:
`sim.trade.part_year`), so the file read alone does not pass off a part year's total as a
year's. `flows.gpkg` (EPSG:4326) has two layers. `hubs` is the hubs table, its
`lon` and `lat` the points. `links` is not the links table: it has a line a link, means over
the replications without CIs, both directions on one row, so its `teu_per_year`,
`teu_km_per_year` and `co2_t_per_year` are the two directions summed (links.csv gives them a
row each way); `teu_down_per_year` and `teu_up_per_year` are each way's TEU,
`utilization_down` and `utilization_up` each way's utilization, and `utilization` the
busier of the two.

The tables of `cqsim compare` are not listed here: `compare.csv` and the `_compare` tables
(`locks_compare.csv`, `hubs_compare.csv`, `lines_compare.csv`, `placebo_compare.csv`) have a
row per variant, metric and scope, with `base`, `alt`, `delta` (ALT − BASE in the metric's
unit), `delta_ci95` and `delta_pct`, the delta in percent of `base` (3.82 means +3.82%, not a
share), `replications` and `replications_to_resolve`, about how many replications would
tell a change whose CI includes 0 from none: empty (NaN) where it is resolved or did not
move, and from fewer than 5 pairs, too few to size it (run at least 5 first), except the
sign test's exact 6 where the pairs all moved it by one amount, the `pairing`, and
`per_year_from`, what a part year's per-year rows are annualised from (`annualised from days
30-120 (mean seasonal factor 0.929)`; empty for whole years and for rows of hours, shares and
stocks; `attribution.csv` has it on every row, all per year), as `trade.csv`'s `source`
says it; docs/modelling.md, "Paired comparisons with common random numbers", says what each
holds.
"""

@dataclass
class Results:
    """All replications of one scenario run."""

    plan: Plan
    replications: list[ReplicationResult]
    wall_seconds: float = 0.0
    equilibrium: dict[str, object] = field(default_factory=dict)  # sim.equilibrium report
    # the name the run goes by in its folder, a report and a comparison (default: the
    # scenario's), and where it came from (`sim.inputs.record`: set by `sim.run`)
    name: str = ""
    origin: dict[str, object] = field(default_factory=dict)
    _cache: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.name = self.name or self.plan.name

    @property
    def names(self) -> list[str]:
        """The result tables (each also an attribute: `results.lines`), `trade` aside."""
        return list(table_keys())

    def _no_table(self, name: str) -> KeyError:
        """The error of a table name not among `names` nor "trade"."""
        tables = ", ".join(self.names)
        hint = did_you_mean(name, [*self.names, "trade"])
        return KeyError(f"no table {name!r}{hint}; the tables are {tables} and trade")

    def by_replication(self, name: str) -> pd.DataFrame:
        """Table `name` of `names` with one block of rows per replication (column
        `replication`); "trade": each replication's channel trade by corridor, the channels
        and the goods trade (`sim.trade.trade_by_replication`, as trade.parquet holds it)."""
        key = f"rep:{name}"
        if name == "trade":   # it was refused, though trade.parquet holds it (trial48 L4)
            if key not in self._cache:
                from sim.trade import trade_by_replication
                self._cache[key] = trade_by_replication(self)
            return self._cache[key]
        if name not in table_keys():
            raise self._no_table(name)
        if key not in self._cache:
            frames = [r.tables[name].assign(replication=r.replication)
                      for r in self.replications]
            self._cache[key] = pd.concat(frames, ignore_index=True)
        return self._cache[key]

    def summary(self, name: str) -> pd.DataFrame:
        """Table `name` averaged over replications, with 95% CI half-widths (`"trade"`: the
        table of `sim.trade`, trade.csv: channel trade by corridor and gateway, loaded and
        empty TEU/yr, the goods trade as its `total` row, against 2023 and the 2025 target)."""
        if name == "trade":
            return self.trade
        if name not in table_keys():
            raise self._no_table(name)
        key = f"sum:{name}"
        if key not in self._cache:
            rows, keys = self.by_replication(name), table_keys()[name]
            self._cache[key] = (summarize_series(rows, keys) if name in series_tables()
                                else summarize(rows, keys, fixed=fixed_columns()[name],
                                               counts=count_columns()[name],
                                               replications=len(self.replications)))
        return self._cache[key]

    @property
    def trade(self) -> pd.DataFrame:
        """The trade table (trade.csv): channel trade in bn CNY/yr by corridor and gateway,
        loaded and empty TEU/yr, the goods trade (`total`: channels, classes not simulated and
        other trade), against 2023 and the 2025 target."""
        if "trade" not in self._cache:
            from sim.trade import trade_table
            self._cache["trade"] = trade_table(self)
        return self._cache["trade"]

    def _headline(self) -> str:
        h = self.plan.horizon
        return (f"{self.name}: {h.days:g} days"
                + (f" ({h.warmup_days:g} warm-up)" if h.warmup_days else "")
                + f", {len(self.replications)} replication(s), seed {self.plan.seed}")

    if not TYPE_CHECKING:   # at run time only: a type checker still flags a misspelt attribute
        def __getattr__(self, name: str) -> pd.DataFrame:
            """Every table of `names` as an attribute: `results.lines` is
            `results.summary("lines")`."""
            if name.startswith("_"):   # copy, pickle and the fields before they are set
                raise AttributeError(name)
            if name in table_keys():
                return self.summary(name)
            public = [a for a in dir(self) if not a.startswith("_")]
            raise AttributeError(f"'Results' object has no attribute {name!r}"
                                 f"{did_you_mean(name, public)}; the tables are "
                                 f"{', '.join(self.names)} and trade")

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *self.names})

    def __repr__(self) -> str:
        return (f"<Results {self._headline()}; tables: {', '.join(self.names)}, trade; "
                "e.g. results.corridors, results.summary(name)>")

    def _repr_html_(self) -> str:
        """Jupyter's view: the headline and the per-corridor TEU per year with 95% CIs."""
        import html

        from sim.kpis import kpi

        teu = kpi("teu").column
        rows = "".join(
            f"<tr><td>{html.escape(str(r['corridor']))}</td><td>{r[teu]:,.0f}"
            + (f" ± {r[teu + '_ci95']:,.0f}" if pd.notna(r.get(teu + "_ci95")) else "")
            + "</td></tr>" for r in self.corridors.to_dict("records"))
        return (f"<b>Results</b> {html.escape(self._headline())}<table><tr><th>corridor</th>"
                f"<th>TEU per year (± 95% CI)</th></tr>{rows}</table><small>tables: "
                f"{', '.join(self.names)}, trade (results.summary(name), "
                "results.by_replication(name))</small>")

    @property
    def corridors(self) -> pd.DataFrame:
        """Mean and 95% CI per corridor (corridors.csv)."""
        return self.summary("corridors")

    @property
    def links(self) -> pd.DataFrame:
        """Mean and 95% CI per link and direction (links.csv)."""
        return self.summary("links")

    @property
    def hubs(self) -> pd.DataFrame:
        """Mean and 95% CI per hub (hubs.csv)."""
        return self.summary("hubs")

    def conservation_ok(self) -> bool:
        """True when every replication balanced (a breach raises during the run)."""
        return all(abs(r.conservation["residual_teu"]) <= 1e-6 * max(
            1.0, r.conservation["created_teu"]) for r in self.replications)


def need_results(value: object, call: str) -> Results:
    """`value`, the Results of a run, or the one-line TypeError of the public function `call`
    (a run's folder or a scenario given in their place)."""
    if isinstance(value, Results):
        return value
    from sim.scenario import Scenario

    if isinstance(value, Scenario):
        rest = ", out" if call == "write_results" else ""   # its other required argument
        hint = f"run it first: sim.{call}(sim.run(scenario){rest})"
    elif isinstance(value, (str, os.PathLike)):
        hint = ("a run's folder is not read back as Results: sim.run(scenario) makes them; "
                "sim.read_run(folder) reads a folder's tables back, sim.flow_map(folder) "
                "draws its map, sim.report.write_report(folder) reports on it")
    else:
        hint = ""
    raise wrong_type(call, "the Results of sim.run", value, hint)


if __name__ == "__main__":
    import sys

    text = outputs_markdown()
    if len(sys.argv) > 1:
        from pathlib import Path

        Path(sys.argv[1]).write_text(text)
    else:
        print(text, end="")
