"""Results over replications: tidy tables by replication and summaries with 95% CIs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from sim.stats import mean_ci

if TYPE_CHECKING:  # types only: reading result files (sim.report) needs no engine
    from sim.engine.recorder import ReplicationResult
    from sim.network import Plan


def table_keys() -> dict[str, list[str]]:
    """Every result table with the columns that identify an entity in it (the rest are
    measures or labels): the recorder's own tables, then those component kinds write."""
    from sim.engine.recorder import all_tables

    return {t.name: list(t.keys) for t in all_tables()}


def summarize(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Mean and `<col>_ci95` half-width of every numeric column, per entity."""
    numeric = [c for c in table.select_dtypes("number").columns
               if c not in keys and c != "replication"]
    labels = [c for c in table.columns if c not in numeric and c not in keys
              and c != "replication"]
    rows = []
    groups = table.groupby(keys, sort=False, dropna=False) if keys else [((), table)]
    for key, sub in groups:
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(keys, key, strict=True))
        row.update({c: sub[c].iloc[0] for c in labels})
        for c in numeric:
            mean, half = mean_ci(sub[c].to_numpy())
            row[c] = mean
            row[f"{c}_ci95"] = half
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass
class Results:
    """All replications of one scenario run."""

    plan: Plan
    replications: list[ReplicationResult]
    wall_seconds: float = 0.0
    equilibrium: dict[str, object] = field(default_factory=dict)  # sim.equilibrium report
    _cache: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    @property
    def names(self) -> list[str]:
        return list(table_keys())

    def by_replication(self, name: str) -> pd.DataFrame:
        """Table `name` with one block of rows per replication (column `replication`)."""
        key = f"rep:{name}"
        if key not in self._cache:
            frames = [r.tables[name].assign(replication=r.replication)
                      for r in self.replications]
            self._cache[key] = pd.concat(frames, ignore_index=True)
        return self._cache[key]

    def summary(self, name: str) -> pd.DataFrame:
        """Table `name` averaged over replications, with 95% CI half-widths (`"trade"`: the
        goods trade table of `sim.trade`)."""
        if name == "trade":
            return self.trade
        if name not in table_keys():
            raise KeyError(f"no table {name!r}; the tables are {', '.join(self.names)} "
                           "and trade")
        key = f"sum:{name}"
        if key not in self._cache:
            self._cache[key] = summarize(self.by_replication(name), table_keys()[name])
        return self._cache[key]

    @property
    def trade(self) -> pd.DataFrame:
        """Goods trade in bn CNY/yr per channel, total, against 2023 and the 2025 target."""
        if "trade" not in self._cache:
            from sim.trade import trade_table
            self._cache["trade"] = trade_table(self)
        return self._cache["trade"]

    def _headline(self) -> str:
        h = self.plan.horizon
        return (f"{self.plan.name}: {h.days:g} days"
                + (f" ({h.warmup_days:g} warm-up)" if h.warmup_days else "")
                + f", {len(self.replications)} replication(s), seed {self.plan.seed}")

    def __repr__(self) -> str:
        return (f"<Results {self._headline()}; tables: {', '.join(self.names)}, trade; "
                "e.g. results.corridors>")

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
        return self.summary("corridors")

    @property
    def links(self) -> pd.DataFrame:
        return self.summary("links")

    @property
    def hubs(self) -> pd.DataFrame:
        return self.summary("hubs")

    def conservation_ok(self) -> bool:
        """True when every replication balanced (a breach raises during the run)."""
        return all(abs(r.conservation["residual_teu"]) <= 1e-6 * max(
            1.0, r.conservation["created_teu"]) for r in self.replications)
