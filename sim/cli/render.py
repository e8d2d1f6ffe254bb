"""What the commands print: rich tables and lines built from results (imported by a command
when it has results to show, so `cqsim --help` and bad input stay fast)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from sim.kpis import KPI, PLACES, TOTAL, kpi, kpis, measure_of, totals
from sim.report.figures import change_pm, fmt, pm  # the report's: "-" where there is none
from sim.stats import PILOT_PAIRS, deltas_kind, pilot_too_small, unsized
from sim.units import stats_days

if TYPE_CHECKING:
    from sim.calibration import CalibrationRow
    from sim.results import Results


def console(width: int) -> Console:
    """A console as wide as the terminal, or `width` columns when output is not a terminal."""
    return Console(width=None if Console().is_terminal else width)


def _header(k: KPI) -> str:
    return f"{k.short} {k.display_unit}"


def corridor_table(results: Results) -> Table:
    """The per-corridor KPI table printed after a run, with the total of every KPI that has
    one (the same rows as corridors.csv and trade.csv)."""
    df = results.corridors
    reps = len(results.replications)
    shown = [k for k in kpis() if k.in_console]
    table = Table(title=f"{results.plan.name}: {results.plan.horizon.days:g} days, "
                        f"{reps} replication(s), seed {results.plan.seed}, per year over "
                        f"the {stats_days(results.plan.horizon):g} days measured"
                        + ("  (± = 95% CI of the counts per year)" if reps > 1 else
                           "  (no confidence intervals from one replication: run 2 or more)"))
    table.add_column("corridor")
    for k in shown:
        table.add_column(_header(k), justify="right")
    for row in df.to_dict("records"):
        table.add_row(str(row["corridor"]), *(_cell(k, row[k.column],
                                                    row.get(f"{k.column}_ci95"))
                                              for k in shown))
    total = totals(df)
    spread = _total_spread(results) if reps > 1 else {}
    table.add_row("total", *(_cell(k, total.get(k.column, float("nan")), spread.get(k.column))
                             for k in shown), style="bold")
    # compare heads the booked boxes' transit "transit days" too: say which this one is
    # (south 15.0 here, 13.3 in compare of the same runs, under one label: trial66)
    said = [f"{_header(k)}: {k.label}" for k in shown if k.name == "transit_mean_h"]
    if said:
        paired = kpi("transit_open_mean_h")
        table.caption = (f"{said[0]}; compare pairs the {paired.label} (corridors.csv "
                         f"{paired.column})")
    return table


def _total_spread(results: Results) -> dict[str, float]:
    """The 95% CI half-width of each KPI's total over the replications (their totals
    replication by replication), as the report's total row has it."""
    from sim.stats import mean_ci

    per = [totals(sub) for _, sub in results.by_replication("corridors").groupby("replication")]
    return {column: mean_ci(np.array([t[column] for t in per]))[1] for column in per[0]}


def _cell(k: KPI, value: float, half: float | None) -> str:
    """A KPI value as shown, with its CI half-width for counts."""
    counted = k.per == "year" and half is not None
    return pm(k.show(value), k.show(half) if counted else np.nan, k.decimals)


def equilibrium_lines(results: Results) -> list[str]:
    """How demand answered to cost and whether the delay feedback settled (sim.equilibrium),
    in a planner's words: what answers to what, against which network, and how much moved;
    the field names (`elasticity`, `trade_elasticity`) are those of the scenario."""
    eq = results.equilibrium
    if not eq:
        return []
    plan = results.plan
    induced = eq.get("induced_teu_per_year") or 0.0
    against = Path(plan.reference_scenario).name if plan.reference_scenario else "its own network"
    other = f"elasticity {plan.elasticity:g}"
    if plan.market is not None:   # the market flows answer to their logsum, not to -0.8
        answers = (f"each market's trade to the cost of its best ways there "
                   f"(trade_elasticity {plan.market.section.choice.trade_elasticity:g}: "
                   f"{eq.get('market_induced_bn_cny_per_year') or 0.0:+,.2f} bn CNY/yr), the "
                   f"other flows to their generalized cost ({other})")
    else:
        answers = f"every flow to its generalized cost ({other})"
    lines = [f"demand answers to cost against {against}: {answers}; {induced:+,.0f} TEU/yr "
             f"induced in all (flows x {eq['demand_factor_min']:.3f} to "
             f"{eq['demand_factor_max']:.3f}; per year of the table, without its season)"]
    if eq.get("passes"):
        tolerance = eq.get("tolerance")
        lines.append(
            f"delay feedback: the simulated delays were fed back to route choice in "
            f"{eq['passes']} pass{'' if eq['passes'] == 1 else 'es'} (averaged, MSA); "
            f"{'settled' if eq['converged'] else 'NOT settled'}: route flows moved "
            f"{_moved(eq)} in the last pass (settled below {_percent(tolerance):g}%)"
            f"{_delays_met(eq)}")
    return lines


def _moved(eq: dict[str, Any]) -> str:
    """The last pass's gap as a percentage: each replication's, as a range, where they
    settled apart (`per_replication`), as the warning of `sim.checks.unsettled_feedback`
    gives it (the mean of their gaps, shown before, disagreed with it); else the one gap."""
    from sim.checks import percent_span

    kept = eq.get("by_replication")
    gaps = [_percent(r.get("gap")) / 100 for r in kept] if isinstance(kept, list) else []
    gaps = [g for g in gaps if g == g]
    if len(gaps) > 1:
        return percent_span(gaps, " (by replication)")
    return f"{_percent(eq.get('gap')):.1f}%"


def _delays_met(eq: dict[str, Any]) -> str:
    """How far the last pass's delays were from those it was planned on (run.json's
    `delay_gap`, TEU-weighted), each replication's as a range where they settled apart;
    nothing where no delay was met or the report predates it."""
    from sim.equilibrium import delay_gap_shown

    shown = delay_gap_shown(eq)
    return "" if shown is None else \
        f"; the delays met differed from those planned on by {shown} (TEU-weighted)"


def _percent(share: object) -> float:
    """A share from the equilibrium report as a percentage (NaN when not measured)."""
    return float(share) * 100 if isinstance(share, (int, float)) else float("nan")


def delta_table(deltas: pd.DataFrame, variant: str, reps: int, pairing: str,
                against: str = "base", paired: bool = True) -> Table:
    """Per corridor and total: the compared KPIs' deltas (`variant` − `against`) with 95%
    CIs: paired (replication by replication, common random numbers), or with `paired` False
    (`compare --independent`) Welch's intervals of unpaired runs, as the title says
    (`sim.stats.deltas_kind`)."""
    from sim.kpis import compared as compared_kpis

    compared = compared_kpis()
    table = Table(title=f"{variant} − {against}: {deltas_kind(paired)} over {reps} "
                        f"replications ({pairing})", caption=csv_units_caption(compared))
    table.add_column("scope")
    for k in compared:
        table.add_column(f"Δ {_header(k)}", justify="right")
    sub = deltas[(deltas["variant"] == variant)
                 & deltas["metric"].isin([k.column for k in compared])]
    for scope in dict.fromkeys(sub["scope"]):
        rows = sub[sub["scope"] == scope].set_index("metric")
        table.add_row(str(scope), *(_delta_cell(rows, k) for k in compared),
                      style="bold" if scope == "total" else None)
    return table


def csv_units_caption(shown: list[KPI]) -> str | None:
    """Where the console shows a KPI scaled (kTEU, days, kt), how the same figure reads in
    compare.csv's `metric` rows, which keep the column's own unit: a planner copying a
    figure from the screen into a table built from the CSV is otherwise off by 24 or
    1,000 (trial51 F14)."""
    scaled = [f"Δ {_header(k)} = {k.column} / "
              f"{f'{k.scale:,.0f}' if k.scale.is_integer() else f'{k.scale:g}'}"
              for k in shown if k.scale != 1]
    # what the paired transit is (not the delivered lots' mean of corridors.csv: a closure
    # would read as faster freight, trial64 #1)
    said = [f"Δ {_header(k)}: {k.label}" for k in shown if k.name == "transit_open_mean_h"]
    if not scaled:
        return "; ".join(said) or None
    return (f"compare.csv and placebo_compare.csv keep each metric's own unit: "
            f"{'; '.join(scaled)}" + "".join(f"\n{line}" for line in said))


def unresolved_lines(deltas: pd.DataFrame, variant: str) -> list[str]:
    """One line per total figure of `variant` whose 95% CI includes 0, or is not known (its
    paired differences all one amount: `sim.stats.paired_ci`), although it moved: how many
    replications would resolve a change of that size (`sim.compare.paired_deltas`)."""
    from sim.kpis import compared as compared_kpis

    lines = []
    for k in compared_kpis():
        row = _total_row(deltas, variant, k)
        if row.empty:
            continue
        r = row.iloc[0]
        reps = int(r["replications"])
        # no count from too few pairs (`unsized`: compare.csv's NaN), said all the same
        if pd.isna(r["replications_to_resolve"]) and \
                not unsized(float(r["delta"]), float(r["delta_ci95"]), reps):
            continue
        alike = not np.isfinite(r["delta_ci95"])
        cell = f"the 95% CI of the total Δ {_header(k)} ({_delta_cell(row.set_index('metric'), k)})"
        if pilot_too_small(reps, alike):    # a spread of 1-3 degrees of freedom sizes nothing
            lines.append(f"{variant}: {cell} includes 0; run at least --replications "
                         f"{PILOT_PAIRS} to estimate how many would tell a change of that size "
                         f"from none (a spread from {reps} is too rough to size it)")
            continue
        need = int(r["replications_to_resolve"])
        said = (f"is not known: all {reps} replications moved it by one amount, a spread too "
                f"small to show over so few, not none; with" if alike else
                f"includes 0; at the spread of these {reps} replications")
        lines.append(f"{variant}: {cell} {said} about {need} would tell a change of that size "
                     f"from none (--replications {need}; an estimate from this run)")
    return lines


def _total_row(deltas: pd.DataFrame, variant: str, k: KPI) -> pd.DataFrame:
    """The row of compare's deltas of KPI `k` for all corridors together, of `variant`."""
    return deltas[(deltas["variant"] == variant) & (deltas["metric"] == k.column)
                  & (deltas["scope"] == TOTAL)]


def unsettled_line(deltas: pd.DataFrame, variant: str, placebo: str | None,
                   command: str = "compare") -> str | None:
    """The line to print beside `variant`'s totals whose 95% CI leaves out 0 when its run or
    BASE's had delay feedback that did not settle (`sim.checks.unsettled_feedback`, warned
    apart): such a run's totals move by that much for any change (a trial's 120 days moved
    total trade -0.20 ± 0.13 bn CNY/yr for more trains, -0.16 ± 0.13 for a placebo), so it
    points to the placebo (`placebo`: its name when one ran, else --placebo, an option of
    `cqsim compare` alone: `command` says which command printed it) and to the warning's
    advice (a longer horizon or more passes: `sim.checks.feedback_advice`).
    None when no total is resolved."""
    from sim.kpis import compared as compared_kpis
    from sim.stats import resolved

    told = []
    for k in compared_kpis():
        row = _total_row(deltas, variant, k)
        if not row.empty and resolved(row["delta"].iloc[0], row["delta_ci95"].iloc[0]):
            told.append(f"Δ {_header(k)} ({_delta_cell(row.set_index('metric'), k)})")
    if not told:
        return None
    placebo_run = ("rerun with --placebo scenarios/placebo.yaml" if command == "compare" else
                   f"run cqsim compare on BASE and {variant} with --placebo "
                   "scenarios/placebo.yaml")
    against = (f"compare it with {variant} − {placebo} below" if placebo else
               f"{placebo_run} (or BASE with a change too small to matter) to see how far a "
               "change that does nothing moves them")
    return (f"{variant}: the total {' and '.join(told)} leave{'s' if len(told) == 1 else ''} "
            f"out 0, but the delay feedback did not settle (see the warning): in such a run "
            f"the totals can move that much for any change; {against}, and settle the "
            f"passes (the warning says how: a longer horizon or more passes) before "
            f"reporting it")


def place_delta_table(deltas: pd.DataFrame, variant: str, place: str,
                      paired: bool = True) -> Table | None:
    """The deltas (paired, or Welch's with `paired` False: `deltas_kind`) at the locks
    (`place` "lock": waits, tonnes passed and diverted, lockages), at the hubs ("hub": other
    users' calls gone elsewhere, where either side has any; utilization, wait, TEU handled
    and yard peak where the variant touches the hub, `sim.scenario.touched`) or at the lines
    ("line": of a service it touches), as locks_compare.csv, hubs_compare.csv and
    lines_compare.csv have them; None where there are none."""
    of = PLACES[place]
    sub = deltas[(deltas["variant"] == variant) & deltas["metric"].isin(list(of.figures))]
    if sub.empty:
        return None
    table = Table(title=f"{variant} − base at the {place}s: base, alt, "
                        f"{deltas_kind(paired, one=True)}")
    if sub["metric"].isin(list(of.where_touched)).any():
        shown = [of.figures[m][0] for m in of.figures if m in of.where_touched]
        table.caption = (f"{', '.join(shown)}: only where {variant} sets the "
                         f"{of.named[0]} apart from base (a change, its file or Python)")
    table.add_column(place, overflow="fold")   # ids are long: folded, never cut
    table.add_column("figure", overflow="fold")
    for name in ("base", "alt", "delta"):
        table.add_column(name, justify="right")
    for scope in dict.fromkeys(sub["scope"]):
        rows = sub[sub["scope"] == scope].set_index("metric")
        for metric, (label, unit, scale, digits) in of.figures.items():
            if metric in rows.index:
                r = rows.loc[metric]
                table.add_row(str(scope), f"{label} {unit}".strip(),
                              fmt(r["base"] / scale, digits), fmt(r["alt"] / scale, digits),
                              change_pm(r["delta"] / scale, r["delta_ci95"] / scale, digits))
    return table


def _delta_cell(rows: pd.DataFrame, k: KPI) -> str:
    """'delta ± CI' of one KPI of a scope's rows (indexed by metric), or '-'."""
    if k.column not in rows.index:
        return "-"
    r = rows.loc[k.column]
    return _delta(k, r["delta"], r["delta_ci95"])


def _delta(k: KPI, delta: float, half: float) -> str:
    """A paired delta of KPI `k` ± its CI as the terminal shows it: in its unit, to a decimal
    more than its level (a change is smaller than the level it changes)."""
    return change_pm(k.show(delta), k.show(half), k.decimals + 1)


def bottleneck_table(bottlenecks: pd.DataFrame) -> Table:
    """The most utilized hubs, links and locks of every variant, with waits and queues, and
    hubs that handled no job while jobs queued (`sim.kpis.stalled_hubs`)."""
    necks = Table(title="bottlenecks (highest utilization; first, any hub that handled no "
                        "job while jobs queued)")
    for col in ("variant", "kind", "id", "utilization", "of", "wait h", "queue at end"):
        necks.add_column(col, justify="right" if col in ("utilization", "wait h",
                                                         "queue at end") else "left",
                         overflow="fold" if col == "id" else "ellipsis")   # ids: never cut
    for _, r in bottlenecks.iterrows():
        necks.add_row(str(r["variant"]), str(r["kind"]), str(r["id"]),
                      fmt(r["utilization"], 2), str(r.get("utilization_of", "")),
                      fmt(r["wait_mean_h"], 1),
                      "-" if pd.isna(r["queue_end"])
                      else f"{r['queue_end']:,.0f} {r['queue_unit']}")
    return necks


def rank_tables(table: pd.DataFrame, base: str, reps: int) -> list[Table]:
    """Candidates in rank order, a table per group (`sim.rank.order`): bottleneck capacity
    added, extra TEU and trade, whether the trade is told from none at a family-wise 95%
    (Holm), and, for candidates that add capacity, both per TEU/yr of it."""
    from sim.rank import ADDS_CAPACITY, ADDS_NONE

    teu, trade = kpi("teu"), kpi("trade_bn_cny")   # the extras are their totals' deltas
    what = {ADDS_CAPACITY: "candidates that add bottleneck capacity, by extra trade per "
                           "TEU/yr of it",
            ADDS_NONE: "candidates that add no bottleneck capacity, by extra trade (not on "
                       "the scale of those that add it)"}
    out = []
    groups = table["group"] if "group" in table else pd.Series("all", index=table.index)
    for group in dict.fromkeys(groups):
        rows = table[groups == group]
        ratio = group == ADDS_CAPACITY
        # "what to fund first" above candidates none of whose extra trade is told from
        # none (three of them negative) invited a funding order the runs do not give
        # (trial51 F12): the heading says it is the order of the means only
        told_any = bool(rows.get("extra_trade_resolved_holm", pd.Series(dtype=object))
                        .isin([True]).any())
        head = ("what to fund first" if told_any else
                "in the order of their means, none's extra trade told from none (not a "
                "funding order)")
        t = Table(title=f"{head}: {what.get(str(group), 'by extra trade')}; "
                        f"against {base}, {deltas_kind(True)} over {reps} replications")
        cols = ["rank", "candidate", "bottleneck cap. kTEU/yr", f"Δ {_header(teu)}",
                f"Δ {_header(trade)}", "Δ trade told (Holm)"]
        if ratio:
            cols += ["Δ TEU/yr per cap. TEU/yr", "Δ trade CNY/yr per cap. TEU/yr"]
        for col in cols:
            # a candidate's name is what a planner acts on: folded onto a second line where
            # the column is narrow, not cut to "second-three…" (a 120-column console)
            if col == "candidate":
                t.add_column(col, justify="left", overflow="fold")
            else:
                t.add_column(col, justify="right")
        for _, r in rows.iterrows():
            told = r.get("extra_trade_resolved_holm")
            cells = [str(r["rank"]), str(r["candidate"]),
                     f"{r['added_bottleneck_capacity_teu_per_year'] / 1e3:,.1f}",
                     _delta(teu, r["extra_teu_per_year"], r["extra_teu_per_year_ci95"]),
                     _delta(trade, r["extra_trade_bn_cny_per_year"],
                            r["extra_trade_bn_cny_per_year_ci95"]),
                     "-" if told is None or pd.isna(told) else ("yes" if told else "no")]
            if ratio:
                cells += [pm(r["extra_teu_per_capacity_teu"],
                             r["extra_teu_per_capacity_teu_ci95"], 3, sign=True),
                          pm(r["extra_trade_cny_per_capacity_teu"],
                             r["extra_trade_cny_per_capacity_teu_ci95"], 0, sign=True)]
            t.add_row(*cells)
        out.append(t)
    return out


def calibration_table(rows: list[CalibrationRow], title: str) -> Table:
    """Published vs simulated, band, verdict and source of every calibration target."""
    table = Table(title=title)
    for col in ("figure", "unit", "published", "band", "simulated", "dev.", "", "source"):
        table.add_column(col, justify="right" if col in ("published", "simulated", "dev.")
                         else "left", overflow="fold")

    def num(x: float) -> str:
        return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}"

    def with_ci(x: float, ci: float) -> str:
        """x ± ci to the CI's second significant digit (at most 2 decimals): "712.0 ± 6.1",
        not "712 ± 6.14", a value rounded coarser than its own interval."""
        if not ci > 0:
            return f"{num(x)} ± {num(ci)}"
        return pm(x, ci, min(2, max(0, 1 - math.floor(math.log10(ci)))))

    for row in rows:
        t = row.target
        sim = num(row.simulated) if row.simulated == row.simulated else "-"
        if row.ci95 == row.ci95 and row.simulated == row.simulated:
            sim = with_ci(row.simulated, row.ci95)
        verdict = "[green]ok[/green]" if row.ok else "[bold red]OUT[/bold red]"
        if row.not_measured:   # its scenario was not run: the line below the tables says why
            sim, verdict = "not measured", "-"
        figure = t.metric + (f" (run: {Path(t.scenario).name})" if t.scenario else "")
        table.add_row(figure, t.unit, num(t.published), f"{num(t.low)}-{num(t.high)}", sim,
                      f"{row.deviation:+.1%}" if row.simulated == row.simulated else "-",
                      verdict, t.source)
    return table


def attribution_table(frame: pd.DataFrame, variant: str, against: str = "base",
                      paired: bool = True) -> Table:
    """Where a variant's trade came from (against `against`): per gateway, induced (and by
    which markets) and shifted (deltas replication by replication, `sim.compare.attribution`:
    of runs on common random numbers, or with `paired` False on independent seeds)."""
    # unpaired, not Welch's: each replication's deltas are taken r against r all the same
    how = (deltas_kind(True, one=True) if paired else
           "delta ± 95% CI of replication r less replication r, independent seeds")
    table = Table(title=f"{variant} − {against}: where the change of trade came from, per year "
                        f"({how}; trade flow class)")
    for col in ("item", "TEU/yr", "Δ TEU/yr", "trade bn CNY/yr", "Δ trade bn CNY/yr"):
        table.add_column(col, justify="left" if col == "item" else "right")
    from sim.report.rundir import (
        GATEWAY_ITEM,
        MARKET_ITEM,
        attribution_parts,
        sampled_change,
        settled_apart,
    )

    rows = frame[frame["variant"] == variant]
    apart = settled_apart(rows)
    rows = pd.concat([rows[rows["item"].str.startswith(GATEWAY_ITEM)],
                      attribution_parts(rows)])
    for _, r in rows.iterrows():
        item = str(r["item"])
        name = f"  {item.removeprefix(MARKET_ITEM)}" if item.startswith(MARKET_ITEM) else item
        # a sampled change without a CI says so, as every delta table does; a settled part
        # without one is exact given its one shared settling (`sampled_change`)
        teu, trade = (change_pm(r[f"delta_{c}"], r[f"delta_{c}_ci95"], digits)
                      if sampled_change(item, apart) else
                      pm(r[f"delta_{c}"], r[f"delta_{c}_ci95"], digits, sign=True)
                      for c, digits in (("teu_per_year", 0), ("trade_bn_cny_per_year", 3)))
        table.add_row(name, pm(r["base_teu_per_year"], np.nan, 0), teu,
                      pm(r["base_trade_bn_cny_per_year"], np.nan, 1), trade)
    return table


def variant_table(summary: pd.DataFrame, params: list[str], limit: int = 30) -> Table:
    """The sweep's headline KPIs (`HEADLINE_KPIS`: loaded TEU and goods trade) per variant
    (mean ± 95% CI) for the terminal."""
    from sim.sweep.plots import short
    from sim.sweep.tasks import HEADLINE_KPIS

    table = Table(title="per variant: mean ± 95% CI over replications")
    found = [(column, measure_of(column)) for column in HEADLINE_KPIS]
    shown = [(column, f[0]) for column, f in found if f is not None and isinstance(f[0], KPI)]
    for col in ("variant", *(short(p) for p in params), "ok",
                *(_header(k) for _, k in shown)):
        table.add_column(col, justify="left" if col == "variant" else "right")
    for _, row in summary.head(limit).iterrows():
        table.add_row(str(row["variant"]), *(f"{row[p]:g}" if isinstance(row[p], float)
                                             else str(row[p]) for p in params),
                      f"{row['runs_ok']}/{row['runs_ok'] + row['runs_failed']}",
                      *(_mean_ci(row, column, k.scale, k.decimals) for column, k in shown))
    return table


def _mean_ci(row: pd.Series, col: str, scale: float = 1.0, digits: int = 0) -> str:
    """'mean ± CI' of one KPI of a summary row, or '-'."""
    return pm(row.get(col, np.nan) / scale, row.get(f"{col}_ci95", np.nan) / scale, digits)
