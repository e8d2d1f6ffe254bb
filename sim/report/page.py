"""The report page: header, key figures, maps, KPI tables, charts, and for a comparison the
paired deltas and a difference map; one self-contained HTML file (Plotly's JavaScript inlined
once, system fonts, no request leaves the page)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pandas as pd

from sim import kpis, mapdata
from sim.engine.model import TOLERANCE_TEU
from sim.equilibrium import delay_gap_shown
from sim.report import deltas as dl
from sim.report import figures as fg
from sim.report import rundir as rd
from sim.stats import PILOT_PAIRS, pilot_too_small, resolved, unsized

CSS = f"""
:root {{ color-scheme: light; }}
body {{ font-family: {fg.FONT}; margin: 0; color: #222; background: #fafafa; line-height: 1.4; }}
main {{ max-width: 1100px; margin: 0 auto; padding: 0 20px 40px; background: white; }}
header {{ padding: 22px 0 8px; border-bottom: 3px solid #1f77b4; margin-bottom: 12px; }}
h1 {{ font-size: 24px; margin: 0 0 6px; }} h2 {{ font-size: 19px; margin: 30px 0 8px;
  border-bottom: 1px solid #ddd; padding-bottom: 4px; }}
h3 {{ font-size: 15px; margin: 18px 0 6px; }}
.meta {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr));
  gap: 2px 18px; font-size: 13px; color: #444; }} .meta b {{ color: #222; }}
.meta .wide {{ grid-column: 1 / -1; }}
.cards {{ display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }}
.card {{ flex: 1 1 200px; border: 1px solid #ddd; border-radius: 6px; padding: 10px 12px;
  background: #f7fafd; }} .card .v {{ font-size: 22px; font-weight: 600; }}
.card .l {{ font-size: 12px; color: #555; }}
table {{ border-collapse: collapse; font-size: 13px; margin: 6px 0 4px; width: 100%; }}
th, td {{ padding: 4px 8px; border-bottom: 1px solid #e4e4e4; text-align: right;
  white-space: nowrap; }} th {{ background: #f1f3f5; font-weight: 600; vertical-align: bottom;
  white-space: normal; min-width: 4em; }}
td.t, th.t {{ text-align: left; white-space: normal; }} tr.total td {{ font-weight: 600; }}
th small {{ font-weight: 400; color: #555; display: block; }}
.note {{ font-size: 12px; color: #555; margin: 4px 0 10px; }}
.warn {{ font-size: 13px; color: #7a3b00; background: #fff4e5; padding: 6px 10px;
  border-left: 4px solid #e8a33d; margin: 6px 0 12px; }}
dl.gateways {{ display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px;
  font-size: 12px; color: #555; margin: 4px 0 10px; }} dl.gateways dt {{ color: #222; }}
dl.gateways dd {{ margin: 0; }}
.plot {{ margin: 8px 0 4px; }} .sig {{ color: #1a7f37; }} .nsig {{ color: #888; }}
.scroll {{ overflow-x: auto; max-width: 100%; background:
  linear-gradient(to right, white 30%, rgba(255,255,255,0)) left / 40px 100% no-repeat local,
  linear-gradient(to left, white 30%, rgba(255,255,255,0)) right / 40px 100% no-repeat local,
  radial-gradient(farthest-side at 0 50%, rgba(0,0,0,.25), transparent) left / 14px 100%
    no-repeat scroll,
  radial-gradient(farthest-side at 100% 50%, rgba(0,0,0,.25), transparent) right / 14px 100%
    no-repeat scroll; }}  /* a wide table scrolls in its box; a shadow marks the hidden side */
footer {{ font-size: 12px; color: #555; border-top: 1px solid #ddd; margin-top: 30px;
  padding-top: 8px; }}
"""

PLOT_CONFIG = {"displaylogo": False, "responsive": True,
               "modeBarButtonsToRemove": ["select2d", "lasso2d"]}
MAP_CONFIG = {**PLOT_CONFIG, "scrollZoom": True}


class Page:
    """Sections of HTML and the figures to embed, in order."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.count = 0

    def add(self, text: str) -> None:
        self.parts.append(text)

    def figure(self, fig: dict[str, Any] | None, config: dict[str, Any] = PLOT_CONFIG,
               kind: str = "chart") -> None:
        """Embed a Plotly figure (a div and the call that draws it)."""
        if fig is None:
            return
        import plotly.io as pio

        self.count += 1
        self.add(f'<div class="plot {kind}">' + pio.to_html(
            fig, include_plotlyjs=False, full_html=False, validate=False, config=config,
            div_id=f"{kind}-{self.count}", default_width="100%",
            default_height=f"{fig['layout'].get('height', 400)}px") + "</div>")


def table(headers: Sequence[tuple[str, str]], rows: Sequence[Sequence[str]],
          text_cols: int = 1, total_last: bool = False, text_last: int = 0) -> str:
    """An HTML table; headers are (label, unit); the first `text_cols` and the last
    `text_last` columns are text (left-aligned, wrapped)."""
    n = len(headers)

    def cls(i: int) -> str:
        return "t" if i < text_cols or i >= n - text_last else ""

    head = "".join(f'<th class="{cls(i)}">{html.escape(label)}'
                   + (f"<small>{html.escape(unit)}</small>" if unit else "") + "</th>"
                   for i, (label, unit) in enumerate(headers))
    body = []
    for k, row in enumerate(rows):
        total = ' class="total"' if total_last and k == len(rows) - 1 else ""
        body.append(f"<tr{total}>" + "".join(
            f'<td class="{cls(i)}">{cell}</td>'
            for i, cell in enumerate(row)) + "</tr>")
    return (f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>'
            + "".join(body) + "</tbody></table></div>")


def delta_cell(delta: float, half: float, digits: int, paired: bool = False,
               judged: bool = True) -> str:
    """A difference with its sign and CI, green where the CI excludes 0 (grey otherwise, and
    always when not `judged`: two runs not a variant and its base, `deltas.not_a_variant`);
    `paired`: a paired change, said to have its CI not known where it has none
    (`fg.change_pm`; an attribution's settled part, exact given one shared settling, has
    none either and is not said so: `rd.sampled_change`)."""
    sig = judged and resolved(delta, half) is True
    text = fg.change_pm(delta, half, digits) if paired else fg.pm(delta, half, digits,
                                                                 sign=True)
    return f"<span class='{'sig' if sig else 'nsig'}'>{text}</span>"


def measure_table(run: rd.RunDir, frame: pd.DataFrame, keys: Sequence[str],
                  measures: Sequence[rd.Measure], *, extras: bool = False,
                  total: dict[str, tuple[float, float]] | None = None,
                  judged: bool = True, sampled: Sequence[bool] = ()) -> str:
    """A KPI table: key columns, then value ± 95% CI of every measure the table has (cut at
    0 where it cannot be negative, `Measure.level`; a change with its sign, coloured where
    its CI excludes 0 if `judged`: `delta_cell`), and, with `extras`, any other numeric
    column, so new result columns appear (`rundir.extra_measure`; value ± CI as it is, its
    sign not being known). `sampled`: per row, whether its changes are sampled over the
    replications, said to have their CI not known where they have none (`delta_cell`
    paired; `rd.sampled_change`); none is without it."""
    shown = [m for m in measures if m.column(frame)]
    more = [rd.extra_measure(c) for c in rd.extra_columns(frame, tuple(measures), tuple(keys))
            ] if extras else []
    headers = [(k.replace("_", " "), "") for k in keys] + [(m.label, m.unit) for m in shown] + \
              [(m.label, m.unit) for m in more]
    values = [m.values(frame, run.per_year) for m in shown]
    extra_values = [m.values(frame, run.per_year) for m in more]
    rows = []
    for i in range(len(frame)):
        row = [html.escape(str(frame[k].iloc[i])) for k in keys]
        row += [delta_cell(v.iloc[i], h.iloc[i], m.digits, judged=judged,
                           paired=bool(sampled) and sampled[i]) if m.signed else
                (fg.level if m.level else fg.pm)(v.iloc[i], h.iloc[i], m.digits)
                for m, (v, h) in zip(shown, values, strict=True)]
        row += [fg.pm(v.iloc[i], h.iloc[i], m.digits)
                for m, (v, h) in zip(more, extra_values, strict=True)]
        rows.append(row)
    if total:
        row = ["total"] + [""] * (len(keys) - 1)
        row += [fg.level(*total[m.label], m.digits) if m.label in total else "" for m in shown]
        rows.append(row + [""] * len(more))
    return table(headers, rows, text_cols=len(keys), total_last=bool(total))


def summed(run: rd.RunDir, name: str, measures: Sequence[rd.Measure],
           by: Sequence[str] = ()) -> dict[tuple[str, ...], dict[str, tuple[float, float]]]:
    """Sums of `measures` over the rows of table `name`, per group of the `by` columns
    (group -> label -> (value, 95% CI)), the CIs from the replications' sums
    (`<name>.parquet`); empty without the replications."""
    from sim.stats import mean_ci

    reps = run.by_replication(name)
    shown = [m for m in measures if m.column(reps)] if not reps.empty else []
    if not shown or not {"replication", *by} <= set(reps.columns):
        return {}
    reps = reps.assign(**{m.label: m.values(reps, run.per_year)[0] for m in shown})
    per = reps.groupby([*by, "replication"], as_index=False)[[m.label for m in shown]].sum()
    groups = per.groupby(list(by), sort=False) if by else [((), per)]
    return {tuple(str(k) for k in (key if isinstance(key, tuple) else (key,))):
            {m.label: mean_ci(sub[m.label].to_numpy()) for m in shown}
            for key, sub in groups}


def _totals(run: rd.RunDir, name: str = "corridors",
            measures: Sequence[rd.Measure] | None = None) -> dict[str, tuple[float, float]]:
    """Totals over the rows of table `name` of `measures` (default: the corridor KPIs that add
    up, `rundir.summed_measures`) (label -> value, 95% CI); for the channels also the
    TEU-weighted means (transit, wait) the console's total row shows (`sim.kpis.total`)."""
    out = summed(run, name, rd.summed_measures() if measures is None else measures).get((), {})
    if name == "corridors":
        out.update(_weighted_totals(run))
    return out


def _weighted_totals(run: rd.RunDir) -> dict[str, tuple[float, float]]:
    """Per replication, the KPIs whose total is a TEU-weighted mean over the channels, then
    their mean and 95% CI over the replications (label -> value, CI) in the report's unit."""
    from sim.kpis import kpi, kpis, total
    from sim.stats import mean_ci

    reps = run.by_replication("corridors")
    if reps.empty or "replication" not in reps.columns:
        return {}
    out = {}
    for k in kpis():
        if k.total != "teu_mean" or k.column not in reps.columns:
            continue
        if kpi(k.weight).column not in reps.columns:
            continue
        per = np.array([total(k, sub) for _, sub in reps.groupby("replication")])
        per = k.report_view.show(per[np.isfinite(per)])
        if per.size:
            out[rd.kpi_measure(k).label] = mean_ci(per)
    return out


def header(runs: list[rd.RunDir]) -> str:
    """Title and what was run: scenario, horizon, replications, seed, code version, dates."""
    base = runs[0]
    title = (f"{base.label}" if len(runs) == 1 else
             f"{', '.join(r.label for r in runs[1:])} compared with {base.label}")
    metas = []
    for run in runs:
        m = run.meta
        commit = m.get("git_commit")
        code = (f"git {str(commit)[:12]}{' (modified)' if str(commit).endswith('+dirty') else ''}"
                f", cqsim {m.get('cqsim_version', '?')}" if commit
                else f"cqsim {m.get('cqsim_version', '?')}") + (
                    f", {m['engine']} engine" if m.get("engine") else "")
        named = "" if run.name == run.scenario else f" (run as {run.name})"
        changed = "; ".join(f"{k} = {v}" for k, v in run.overrides.items())
        about = " ".join(str(m.get("description") or "").split())   # absent in older runs
        items = [("scenario", run.scenario + named + (f": {about}" if about else "")),
                 *([("set in Python", changed)] if changed else []),
                 ("horizon", f"{run.days:g} days" + (f" ({run.warmup_days:g} warm-up)"
                                                     if run.warmup_days else "")),
                 ("replications", str(run.replications)), ("seed", str(run.seed)),
                 ("code", code), ("run on", str(m.get("created_utc", "unknown"))),
                 ("files", str(run.shown_as or run.path))]
        # the scenario's description runs to a paragraph: it takes the grid's whole row
        metas.append('<div class="meta">' + "".join(
            ('<div class="wide">' if k == "scenario" else "<div>")
            + f"<b>{k}:</b> {html.escape(v)}</div>" for k, v in items) + "</div>")
    made = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f"<header><h1>Chongqing freight corridors: {html.escape(title)}</h1>"
            + "<hr style='border:0;border-top:1px dashed #ddd'>".join(metas)
            + f'<div class="note">Report made {made} by <code>cqsim report</code>. Figures are '
              "per year (annualised over the statistics period, horizon minus warm-up) unless "
              "labelled otherwise; ± is the 95% confidence interval over replications (in the "
              "key figures and tables shown cut at 0, as 'v (0 to u)', where a figure that "
              "cannot be negative has an interval reaching below 0; a change keeps its "
              "±).</div>"
              "</header>")


def cards(run: rd.RunDir) -> str:
    """Key figures: throughput, goods trade, against the reference year and the target
    (their years as trade.csv's rows name them, `trade_refs`); and, below them, what the
    share of the reference year shows, and the season a part year's figures carry."""
    totals = _totals(run)
    items = []
    if rd.TEU.label in totals:
        items.append((fg.level(*totals[rd.TEU.label], rd.TEU.digits),
                      f"{rd.TEU.label} on the channels, {rd.TEU.unit}, every flow: "
                      "Chongqing's trade, domestic, transit, other cities'"))
    trade = run.table("trade")
    reference, target = reference_items(run)
    share = f"of {reference}" if reference else "of the reference year's goods trade"
    if not trade.empty:
        t = trade.set_index("item")
        for item, label, digits, unit in (
                ("total", "goods trade, bn CNY per year", 1, ""),
                ("vs 2023", share, 1, "%"),   # trade.csv's item key (`sim.trade`)
                ("attainment", f"of the {target}" if target else "of the target", 1, "%")):
            if item in t.index:
                items.append((fg.level(float(t.loc[item, "value"]),
                                       float(t.loc[item, "ci95"]), digits) + unit, label))
        items += target_gap(run)
    cards_html = '<div class="cards">' + "".join(
        f'<div class="card"><div class="v">{v}</div><div class="l">{html.escape(lab)}</div>'
        "</div>" for v, lab in items) + "</div>"
    season = season_note(run)
    if not any(lab == share for _, lab in items):
        return cards_html + season
    year = (reference or "").removesuffix(" goods trade") or "the reference year"
    return cards_html + ("<div class='note'>Goods trade is the market table's trade as the "
                         f"simulated routes carry it. Where the table is {html.escape(year)}'s "
                         f"own (a base-year scenario), its share of {html.escape(year)} reads "
                         "near 100% by construction: it shows the network carried the table, "
                         "not that the model was checked against the year.</div>") + season


def reference_items(run: rd.RunDir) -> tuple[str | None, str | None]:
    """The names of trade.csv's reference rows (`trade_refs`), year included as the targets
    table gives it: the reference year's goods trade (e.g. "2023 goods trade") and the
    target (e.g. "2025 target"); None for one the table lacks."""
    refs = list(trade_refs(run))
    return (next((r for r in refs if r.endswith("goods trade")), None),
            next((r for r in refs if r.endswith("target")), None))


def target_gap(run: rd.RunDir) -> list[tuple[str, str]]:
    """The key figure a planner asks first: goods trade against the target of trade.csv (its
    value and source are the targets table's, `sim.trade`), and how far short or above it
    is, with the total's 95% CI; none where the table has no total or no target."""
    t = run.table("trade").set_index("item")
    targets = [(item, ref) for item, ref in trade_refs(run).items() if item.endswith("target")]
    if "total" not in t.index or not targets:
        return []
    item, (goal, source) = targets[0]
    total, half = float(t.loc["total", "value"]), float(t.loc["total", "ci95"])
    gap = goal - total
    return [(f"{fg.fmt(total, 1)} of {goal:,g}",
             f"bn CNY per year of goods trade against the {item}: "
             f"{fg.pm(abs(gap), half, 1)} {'short' if gap > 0 else 'above'}; target: {source}")]


def season_note(run: rd.RunDir) -> str:
    """The console's note on what a part year's per-year figures are annualised from and
    the season they carry (`sim.trade.season_note`, from run.json's days, warm-up and
    `seasonal_factor`); empty for a whole number of years."""
    from sim.trade import season_note as note_of

    note = note_of(run.seasonal_factor, run)
    if not note:
        return ""
    return f"<div class='note'><b>Season.</b> {html.escape(note[0].upper() + note[1:])}.</div>"


def warnings_note(run: rd.RunDir) -> str:
    """What the run's own checks found (run.json `warnings`, `sim.checks.run_warnings`),
    before any figure: a hub with no steady state or a line that ends the year with weeks of
    freight waiting changes how every figure after it reads. Empty for a run folder written
    before run.json kept them."""
    found = run.meta.get("warnings")
    if not isinstance(found, list):
        return ""
    if not found:
        eq = run.meta.get("equilibrium")
        passes = isinstance(eq, dict) and bool(eq.get("passes")) and bool(eq.get("converged"))
        gap = delay_gap_shown(eq) if isinstance(eq, dict) else None
        delays = "" if gap is None else \
            f" (its route flows; the delays its last pass planned on were {gap} from those met, " \
            "TEU-weighted)"
        return ("<div class='note'><b>The run's checks</b> found no hub unstable or warmed up "
                "too briefly, no line ending the horizon with a backlog, and the statistics "
                "began with the network full"
                + (f", and the delay feedback settled within its tolerance{delays}" if passes
                   else "")
                + ".</div>")
    items = "".join(f"<li>{html.escape(str(w.get('text', '')))} (see "
                    f"<code>{html.escape(str(w.get('table', '')))}</code>)</li>"
                    for w in found if isinstance(w, dict))
    return ("<div class='warn'><b>The run's checks found</b> what limits how its figures can "
            f"be read:<ul>{items}</ul></div>")


def runs_warnings_note(runs: list[rd.RunDir]) -> str:
    """A comparison's page opens with what each run's own checks found (`warnings_note`),
    before the differences they limit: otherwise they come only with each run's section,
    after every difference. Empty when no run's checks found anything."""
    parts = []
    for run in runs:
        found = run.meta.get("warnings")
        if isinstance(found, list) and found:
            texts = "; ".join(html.escape(str(w.get("text", ""))) for w in found
                              if isinstance(w, dict))
            parts.append(f"<li><b>{html.escape(run.label)}</b>: {texts}</li>")
    if not parts:
        return ""
    return ("<div class='warn'><b>The runs' checks found</b> what limits how the differences "
            f"below can be read (each run's section says more):<ul>{''.join(parts)}</ul></div>")


def balance_note(run: rd.RunDir) -> str:
    """The freight balance of the run, per replication: no box lost (`sim.engine` checks it
    in every run; run.json keeps it too). Empty for a run folder without the table."""
    c = run.by_replication("conservation")
    if c.empty:
        return ""
    mean = {k: float(c[k].mean()) for k in ("created_teu_horizon", "delivered_teu_horizon",
                                            "in_transit_teu", "waiting_teu")}
    residual = float(c["residual_teu"].abs().max())
    lost = (c["residual_teu"].abs() > TOLERANCE_TEU * c["created_teu_horizon"].clip(lower=1.0))
    verdict = "BOXES UNACCOUNTED FOR" if lost.any() else "no box lost"
    return ("<div class='note'><b>Freight balance</b> over the whole horizon "
            f"({run.days:g} days, warm-up included), mean of {len(c)} replication(s): created "
            f"{mean['created_teu_horizon']:,.0f} TEU = delivered "
            f"{mean['delivered_teu_horizon']:,.0f} + in transit {mean['in_transit_teu']:,.0f} "
            f"+ waiting {mean['waiting_teu']:,.0f} at the end; largest residual of a "
            f"replication {residual:.2g} TEU: {verdict}.</div>")


def trade_refs(run: rd.RunDir) -> dict[str, tuple[float, str]]:
    """The published references in trade.csv (label -> (bn CNY/yr, source)): the reference
    year's goods trade and the target, named with their years (seeds/targets.csv)."""
    t = run.table("trade")
    refs = {}
    for r in t.to_dict("records"):
        item = str(r["item"])
        if r["unit"] == "bn CNY/yr" and (item.endswith("goods trade") or item.endswith("target")):
            refs[item] = (float(r["value"]), str(r["source"]))
    return refs


def trade_table(run: rd.RunDir) -> str:
    """trade.csv as it is (every row, with unit and source, each with the interval it
    carries: none for the constants, the published figures and the scenario's inputs, which
    `sim.trade.trade_table` writes with no ci95); every row is a figure that cannot be
    negative (trade, TEU, shares of a figure, probabilities), so an interval reaching below 0
    is cut at 0 as in every table (`figures.level`)."""
    t = run.table("trade")
    rows = []
    for r in t.to_dict("records"):
        # whole boxes, shares to the hundredth, everything else (bn CNY, %) to a tenth
        digits = {"probability": 2, "TEU/yr": 0}.get(str(r["unit"]), 1)
        rows.append([html.escape(str(r["item"])), fg.level(float(r["value"]),
                                                           float(r["ci95"]), digits),
                     html.escape(str(r["unit"])), html.escape(str(r["source"]))])
    return table([("item", ""), ("value ± 95% CI", ""), ("unit", ""), ("source", "")], rows,
                 text_cols=1, text_last=2)


def run_sections(page: Page, run: rd.RunDir, heading: str = "") -> None:
    """Every section of one run."""
    if heading:
        page.add(f"<h2>{html.escape(heading)}</h2>")
    page.add(warnings_note(run))
    page.add(cards(run))
    page.add(balance_note(run))
    page.add("<h2>Map of flows</h2><div class='note'>Lambert conformal conic projection. Drag "
             "to pan, scroll or use the toolbar to zoom, hover a line or hub for its figures; "
             "click a channel in the legend to hide it.</div>")
    overview, close = fg.flow_maps(run)
    page.figure(overview, MAP_CONFIG, "map")
    page.figure(close, MAP_CONFIG, "map")
    if run.geodata is None or not (run.geodata / "basemap.gpkg").is_file():
        page.add("<div class='note'>No basemap: the geodata folder named in run.json was not "
                 "found.</div>")
    page.add("<h2>Channels</h2>")
    corridors = run.table("corridors")
    page.add(measure_table(run, corridors, ["corridor"], rd.channel_measures(), extras=True,
                           total=_totals(run)))
    page.add(f"<div class='note'><i>{html.escape(rd.TRADE.label)}</i>: Chongqing's boxes "
             "only; boxes of other cities (Chengdu's), domestic and transit boxes count for "
             "none. "
             f"<i>{html.escape(rd.VALUE.label)}</i>: the value of every box the channel "
             "delivered, whoever's trade it is; where a channel carries little else, "
             "Chongqing's trade can read slightly above it: boxes declared late in the "
             "period are still on their way at its end. Air's boxes are TEU-equivalents: "
             "a plane's capacity is stated in TEU of the goods that fly (in the shipped "
             "scenarios 6 t, a TEU of electronics).</div>")
    gateways(page, run)
    markets(page, run)
    page.add("<h2>Goods trade</h2>")
    page.figure(fg.trade_figure([run], trade_refs(run)))
    if run.has("trade"):
        page.add(trade_table(run))
    page.add("<h2>Through the year</h2>")
    page.figure(fg.weekly_figure([run]))
    congestion(page, run)
    page.add("<h2>Services</h2>")
    lines = run.table("lines")
    if not lines.empty:
        page.add(measure_table(run, lines, ["line", "corridor"], rd.LINE_MEASURES))
    added_kinds(page, run)


ADDED_ROWS = 50   # the rows of an added kind's table the report shows; its CSV has them all


def added_kinds(page: Page, run: rd.RunDir) -> None:
    """A table for each table an added component kind wrote (`RunDir.added_tables`;
    docs/architecture.md, "Worked example"), its rows as in its CSV (the first `ADDED_ROWS`):
    labelled and in units as declared where this process knows the declaration, else by its
    columns' names with a note saying how to know it. Nothing in a run of cqsim's kinds."""
    found = run.added_tables()
    if not found:
        return
    page.add("<h2>Tables of added component kinds</h2><div class='note'>The tables the "
             "component kinds added to cqsim (a module of your own, <code>--import</code>) "
             "wrote, their rows as in their CSV files.</div>")
    for name, declared in found:
        frame = run.table(name)
        page.add(f"<h3>{html.escape(name)}.csv</h3>")
        if declared is None:
            page.add(f"<div class='note'>Shown by its columns' names: the declaration of "
                     f"{html.escape(name)} is not known here; pass <code>--import "
                     "MODULE</code> (the module of its kind) to <code>cqsim report</code> for "
                     "its labels and units.</div>")
        if frame.empty:
            page.add("<div class='note'>No rows: the run has no component of its kind."
                     "</div>")
            continue
        text, measures = rd.added_columns(frame, declared)
        page.add(measure_table(run, frame.head(ADDED_ROWS), text, measures))
        if len(frame) > ADDED_ROWS:
            page.add(f"<div class='note'>The first {ADDED_ROWS} of its {len(frame):,} rows; "
                     f"the other {len(frame) - ADDED_ROWS:,} are in {html.escape(name)}.csv."
                     "</div>")


def gateway_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """gateways.csv in reading order: gateways by Chongqing's trade they carry (most first),
    each gateway's flow classes in the order the scenario schema declares them."""
    from sim.specs import FLOW_CLASSES

    rank = {g: i for i, g in enumerate(rd.by_trade(frame, "gateway"))}
    order = {c: i for i, c in enumerate(FLOW_CLASSES)}
    keys = frame.assign(_g=frame["gateway"].astype(str).map(rank),
                        _c=frame["flow_class"].map(order).fillna(len(order)))
    return keys.sort_values(["_g", "_c"], kind="stable").drop(columns=["_g", "_c"])


def gateways(page: Page, run: rd.RunDir) -> None:
    """gateways.csv (written by the market model): a row per gateway and flow class."""
    frame = run.table("gateways")
    if frame.empty or not {"gateway", "flow_class"} <= set(frame.columns):
        return
    rows = gateway_rows(frame)
    page.add("<h3>Gateways</h3>" + measure_table(
        run, rows, ["gateway", "flow_class"], rd.GATEWAY_MEASURES, extras=True,
        total=_totals(run, "gateways", rd.GATEWAY_MEASURES)))
    page.add("<div class='note'>A row per gateway and flow class: trade (Chongqing's markets), "
             "domestic, transit, chengdu (Chengdu's boxes) and empty (repositioned boxes: "
             f"{html.escape(rd.GATEWAY_TEU.label)} of that row are empty).</div>")
    named = _labels(rows, "gateway")   # what each gateway is, in the table's order
    if named:
        page.add("<dl class='gateways'>" + "".join(
            f"<dt>{html.escape(g)}</dt><dd>{html.escape(lab)}</dd>"
            for g, lab in named.items()) + "</dl>")


def _labels(frame: pd.DataFrame, key: str) -> dict[str, str]:
    """`key` -> its label (the first, in the frame's order), as the scenario labels it in
    gateways.csv and markets.csv; none in files written before they had labels."""
    if "label" not in frame.columns:
        return {}
    out: dict[str, str] = {}
    for k, lab in zip(frame[key].astype(str), frame["label"], strict=True):
        if isinstance(lab, str) and lab:
            out.setdefault(k, lab)
    return out


def _share(value: float) -> str:
    """A share in the table of markets: blank for none, '<1' for a trace (not a misleading 0)."""
    least = 10.0 ** -rd.SHARE.digits
    if not value > 0:
        return ""
    return f"&lt;{fg.fmt(least, rd.SHARE.digits)}" if value < least / 2 else fg.fmt(
        value, rd.SHARE.digits)


def markets(page: Page, run: rd.RunDir) -> None:
    """markets.csv (written by the market model): which gateways carry each market's trade,
    a chart of the trade and a table of each gateway's share; nothing without the file."""
    frame = run.table("markets")
    fig = fg.market_figure(run)
    if fig is None:
        return
    page.add("<h2>Markets</h2><div class='note'>Which gateways carry Chongqing's trade with "
             "each market: hover a bar for its trade, TEU and share with their 95% CIs; click "
             "a gateway in the legend to hide it.</div>")
    page.figure(fig)
    gateways = rd.by_trade(frame, "gateway")
    totals = summed(run, "markets", [rd.TRADE], ["market", "direction"])
    share = rd.SHARE.values(frame, run.per_year)[0]
    at = {(str(m), str(d), str(g)): float(v) for m, d, g, v in zip(
        frame["market"], frame["direction"], frame["gateway"], share, strict=True)}
    labels = _labels(frame, "market")
    rows = []
    for market in rd.by_trade(frame, "market"):
        name = html.escape(market)
        if labels.get(market):          # in words, the id beside it (as in markets.csv)
            name = f"{html.escape(labels[market])} <small>{name}</small>"
        for direction in sorted(set(frame.loc[frame["market"] == market, "direction"])):
            key = (market, str(direction))
            total = totals.get(key, {}).get(rd.TRADE.label) or (float(rd.TRADE.values(
                frame[(frame["market"] == market) & (frame["direction"] == direction)],
                run.per_year)[0].sum()), np.nan)
            rows.append([name, html.escape(str(direction)),
                         fg.level(*total, rd.TRADE.digits)]
                        + [_share(at.get((*key, g), 0.0)) for g in gateways])
    headers = [("market", ""), ("direction", ""), (rd.TRADE.label, rd.TRADE.unit)] + \
              [(g.replace("_", " "), rd.SHARE.unit) for g in gateways]
    page.add(f"<h3>{html.escape(rd.SHARE.label.capitalize())}, by gateway</h3>"
             + table(headers, rows, text_cols=2))
    captive = _captive_markets(frame)
    if captive:
        names = ", ".join(f"{html.escape(labels.get(m) or m)} ({html.escape(g)})"
                          for m, g in captive)
        page.add(f"<div class='note'>Reached by one gateway only: {names}. Their gateway "
                 "shares are inputs, not choices, and no project on another gateway can "
                 "shift that trade or induce more of it.</div>")


def _captive_markets(frame: pd.DataFrame) -> list[tuple[str, str]]:
    """(market, its gateway) of each market whose routes all go through one gateway."""
    out = []
    for market, sub in frame.groupby("market", sort=True):
        gateways = sorted(set(sub["gateway"].astype(str)))
        if len(gateways) == 1:
            out.append((str(market), gateways[0]))
    return out


def congestion(page: Page, run: rd.RunDir) -> None:
    """Locks and hubs: daily queues when the run wrote them, and the summary tables."""
    page.add("<h2>Locks and hubs</h2>")
    page.figure(fg.daily_figure(run, "locks_daily", "lock", rd.LOCK_DAILY))
    page.figure(fg.daily_figure(run, "hubs_daily", "hub", rd.HUB_DAILY, run.hub_places()))
    if not (run.has("locks_daily") or run.has("hubs_daily")):
        page.add("<div class='note'>This run wrote no daily queue series (locks_daily.csv, "
                 "hubs_daily.csv); the tables give the means over the statistics period and "
                 "the queues at its end.</div>")
    locks = run.table("locks")
    if not locks.empty:
        page.add("<h3>Locks</h3>" + measure_table(run, locks, ["lock", "direction"],
                                                  rd.LOCK_MEASURES))
    hubs = run.table("hubs")
    if not hubs.empty:
        places = run.hub_places()
        busiest = hubs.assign(place=[places[str(h)] for h in hubs["hub"]])
        busiest = kpis.hubs_by_concern(busiest)   # stalled first, as compare's bottlenecks
        column = rd.HUB_DIVERTED.column(busiest)
        diverted = column is not None and bool((busiest[column] > 0).any())
        # a hub that handled no job, of a run whose table has the wait
        idle = rd.HUB_WAIT.column(busiest) is not None and bool(
            rd.HUB_WAIT.values(busiest, run.per_year)[0].isna().any())
        # the column of other users gone elsewhere only where some went
        measures = [m for m in rd.HUB_MEASURES if m is not rd.HUB_DIVERTED or diverted]
        page.add("<h3>Hubs, stalled and most utilised first</h3><div class='note'>"
                 "Utilisation, waits, "
                 "yards and queues count the background traffic too: the boxes of the port's "
                 "or terminal's other users (its published other throughput), which share its "
                 "capacity but are not simulated one by one."
                 + (" Where a stop or a long queue meant a wait longer than its other "
                    "users' limit (diverts_after_hours), their boxes went elsewhere and are "
                    "counted apart."
                    if diverted else "")
                 + (" A hub that handled no job measured no wait (-) and has a "
                    "utilisation of 0: one closed all period while jobs queued comes first "
                    "here, its queue at end saying what waits; one no job came to comes "
                    "last." if idle else "")
                 + "</div>" + measure_table(run, busiest, ["place", "kind"], measures))


def comparison_sections(page: Page, runs: list[rd.RunDir]) -> None:
    """Deltas of every ALT against BASE (first run), a difference map each, and the runs'
    trade side by side."""
    base = runs[0]
    page.add("<h2>Differences from the base</h2>")
    page.add(period_warning(runs) or part_year_note(runs))
    frames, shown_frames, pairings = [], [], []
    for alt in runs[1:]:
        d = dl.channel_deltas(base, alt)
        frames.append(d)
        if d.empty:
            continue
        shown_frames.append(d.assign(variant=alt.label))   # the charts name runs as the page
        pairings.append(dl.paired(base, alt))
        why = dl.not_a_variant(base, alt)
        page.add(f"<h3>{html.escape(alt.label)} − {html.escape(base.label)}</h3>"
                 + (unrelated_warning(base, alt, why) if why else "")
                 + f"<div class='note'>{html.escape(str(d['pairing'].iloc[0]))}; ± is the 95% "
                 "confidence interval of the difference"
                 + ("." if why else "; green: the interval excludes 0.") + "</div>")
        scopes = list(dict.fromkeys(d["scope"]))
        shown = kpis.compared()   # labels, units and digits as the channels table's
        headers = [("channel", "")] + [(k.label, k.report_view.unit) for k in shown]
        rows = []
        for scope in scopes:
            row = [html.escape(str(scope))]
            for k in shown:
                hit = d[(d["scope"] == scope) & (d["metric"] == k.column)]
                if hit.empty:
                    row.append("-")
                    continue
                r, view = hit.iloc[0], k.report_view
                delta, half, was, now = (view.show(r[c]) for c in ("delta", "delta_ci95",
                                                                      "base", "alt"))
                row.append(delta_cell(delta, half, view.digits, paired=dl.paired(base, alt),
                                      judged=why is None)
                           + f"<br><small>{fg.fmt(was, view.digits)} → "
                             f"{fg.fmt(now, view.digits)}</small>")
            rows.append(row)
        page.add(table(headers, rows, total_last=dl.TOTAL in scopes))
        page.add(_unresolved_note(d, shown))
        for place in kpis.PLACES:
            page.add(place_delta_table(dl.place_deltas(base, alt, place), place,
                                       judged=why is None))
        pair = dl.paired(base, alt)
        links = mapdata.link_deltas(dl.link_table(base), dl.link_table(alt), paired=pair,
                                    variant=alt.name)
        page.figure(fg.difference_map(base, alt, links, paired=pair, judged=why is None),
                    MAP_CONFIG, "map")
    if shown_frames:
        both = pd.concat(shown_frames, ignore_index=True)
        page.figure(fg.delta_figure(both, kpis.kpi("teu"), pairings, runs))
        page.figure(fg.delta_figure(both, kpis.kpi("trade_bn_cny"), pairings, runs))
    attribution_sections(page, runs, rd.attribution(runs))
    placebo, frame = rd.placebo_attribution(runs)
    if placebo is not None:
        moved = dl.placebo_moved(pd.concat(frames), placebo.name) if frames else []
        attribution_sections(page, runs, frame, placebo, moved)
    page.add("<h2>Goods trade of every run</h2>")
    page.figure(fg.trade_figure(runs, trade_refs(base)))
    page.add("<h2>Weekly throughput of every run</h2>")
    page.figure(fg.weekly_figure(runs))


def unrelated_warning(base: rd.RunDir, alt: rd.RunDir, why: str) -> str:
    """The warning over the differences of two runs whose scenarios are not a variant and its
    base (`deltas.not_a_variant`, why): none is marked as a resolved change, since they hold
    more than ALT's changes (a file between the two, or another base altogether)."""
    return (f"<div class='warn'><b>{html.escape(alt.label)} is not {html.escape(base.label)} "
            f"plus changes</b> ({html.escape(why)}): these differences hold more than its "
            "changes, so none is marked as resolved, here or on the map. "
            "<code>cqsim compare</code> refuses this pair (unless --allow-unrelated); compare "
            "runs of a scenario and a variant that extends it by changes only.</div>")


def part_year_note(runs: list[rd.RunDir]) -> str:
    """A note over the differences when the runs share a statistics period that is part of
    a year: their per-year figures and deltas are annualised from it. A 90-day comparison's
    tables read "626.3 → 626.7 bn CNY/yr" under this heading with the season named only in
    each run's own section, further down the page (trial51). Empty for a whole year."""
    from sim.trade import part_year

    period = part_year((r, r.seasonal_factor) for r in runs)
    if not period:
        return ""
    return ("<div class='note'><b>Part of a year.</b> Every per-year figure and difference "
            f"below is {html.escape(period)}, not a simulated year: read a "
            "total against a year's figure (2023's goods trade, a target) only from a "
            "whole-year run (<code>--days 365</code>).</div>")


def period_warning(runs: list[rd.RunDir]) -> str:
    """A warning naming each run's statistics period when they differ (horizon or warm-up):
    the differences then carry the season and the start-up, not only the change (`cqsim
    compare` runs one horizon; `cqsim report A B` takes any run folders). Empty otherwise."""
    periods = [(r.warmup_days, r.days) for r in runs]
    if len(set(periods)) < 2:
        return ""
    items = "".join(
        f"<li>{html.escape(r.label)}: days {start:g}-{end:g}"
        + ("" if r.seasonal_factor is None else f", mean seasonal factor {r.seasonal_factor:.3f}")
        + "</li>" for r, (start, end) in zip(runs, periods, strict=True))
    return ("<div class='warn'><b>The runs' statistics periods differ</b> (the days their "
            f"figures are counted over, after the warm-up):<ul>{items}</ul>Their differences "
            "then carry the season and the start-up as well, not only the change: compare "
            "runs of one horizon and warm-up (<code>cqsim compare</code> runs them so).</div>")


def _unresolved_note(d: pd.DataFrame, shown: list[kpis.KPI]) -> str:
    """A note naming the totals whose interval includes 0 or is not known though they moved,
    and how many replications would resolve a change of that size
    (`sim.stats.difference`)."""
    if "replications_to_resolve" not in d:
        return ""
    parts = []
    for k in shown:
        hit = d[(d["scope"] == dl.TOTAL) & (d["metric"] == k.column)]
        if hit.empty:
            continue
        row = hit.iloc[0]
        pairs, half = int(row["replications"]), float(row.get("delta_ci95", np.nan))
        # no count from too few pairs (`unsized`: compare.csv's NaN), said all the same
        if pd.isna(row["replications_to_resolve"]) and \
                not unsized(float(row["delta"]), half, pairs):
            continue
        parts.append(f"{html.escape(k.label)}: "
                     + (f"run at least {PILOT_PAIRS} to estimate (a spread from {pairs} "
                        "is too rough to size it)"
                        if pilot_too_small(pairs, not np.isfinite(half))
                        else f"about {int(row['replications_to_resolve'])}"))
    if not parts:
        return ""
    return ("<div class='note'>Totals whose interval includes 0, or is not known (every "
            "replication moved them by one amount: a spread too small to show over so few, "
            "not none), though they moved, and the replications that would tell a change of "
            "that size from none at the spread seen "
            "(an estimate; rerun with <code>cqsim compare --replications N</code>): "
            f"{'; '.join(parts)}.</div>")


def place_delta_table(deltas: pd.DataFrame, place: str, judged: bool = True) -> str:
    """The differences at the locks (`place` "lock": waits, tonnes passed and diverted,
    lockages), at the hubs ("hub": other users' calls gone elsewhere; utilization, wait, TEU
    handled and yard peak of a hub the variant touches, `sim.scenario.touched`) or at the
    lines ("line": of a service it touches), as locks_compare.csv, hubs_compare.csv and
    lines_compare.csv have them; nothing where there are none (no lock; no hub whose other
    users' calls went elsewhere in either run and none touched)."""
    if deltas.empty:
        return ""
    of = kpis.PLACES[place]
    rows = []
    for scope in dict.fromkeys(deltas["scope"]):
        at = deltas[deltas["scope"] == scope].set_index("metric")
        for metric, (label, unit, scale, digits) in of.figures.items():
            if metric not in at.index:
                continue
            r = at.loc[metric]
            rows.append([html.escape(str(scope)),
                         html.escape(f"{label}, {unit}" if unit else label),
                         fg.fmt(r["base"] / scale, digits), fg.fmt(r["alt"] / scale, digits),
                         delta_cell(r["delta"] / scale, r["delta_ci95"] / scale, digits,
                                    paired=True, judged=judged)])
    note = ""
    if deltas["metric"].isin(list(of.where_touched)).any():
        shown = [of.figures[m][0] for m in of.figures if m in of.where_touched]
        note = (f"<div class='note'>{html.escape(', '.join(shown))}: only where the "
                f"variant sets the {html.escape(of.named[0])} apart from base (a change, its "
                "file or Python).</div>")
    return f"<h4>At the {place}s</h4>" + note + table(
        [(place, ""), ("figure", ""), ("base", ""), ("alt", ""), ("Δ ± 95% CI", "")], rows,
        text_cols=2)


def attribution_sections(page: Page, runs: list[rd.RunDir], frame: pd.DataFrame,
                         placebo: rd.RunDir | None = None,
                         moved: list[tuple[str, float, float]] | None = None) -> None:
    """Where each ALT's change of trade came from (attribution.csv of `cqsim compare`, or
    placebo_attribution.csv paired with `placebo`, saying so when the placebo itself moved a
    total: `moved`, `sim.report.deltas.placebo_moved`): a chart of the change per gateway and in
    total, and a table with the parts of the total; nothing when the comparison wrote none
    (no market model, or runs not from one compare)."""
    if frame.empty:
        return
    base = runs[0] if placebo is None else placebo
    title = "Where the change came from" + ("" if placebo is None else (
        f", against the placebo run \u201c{html.escape(placebo.label)}\u201d"))
    against = "" if placebo is None else (
        f"Each variant paired with {html.escape(placebo.label)}, a variant whose change is too "
        "small to matter: what a comparison reports when nothing happens is taken out "
        "(docs/modelling.md, \u201cA placebo comparison\u201d). ")
    if placebo is not None and moved:
        against = (f"<b>The placebo itself moved the total ({html.escape(dl.placebo_said(moved))}"
                   "), an interval that excludes 0:</b> the comparison carries a bias, or an "
                   "unlucky draw (one interval in twenty), of about that size, so a variant's "
                   "change of that size is read here, against the placebo. ") + against
    crn = all(dl.paired(base, alt) for alt in runs[1:])
    how = ("paired change of Chongqing's trade and of its loaded TEU (trade class), "
           "replication by replication (common random numbers)" if crn else
           "change of Chongqing's trade and of its loaded TEU (trade class), replication r "
           "less replication r of runs on independent seeds (no common random numbers: "
           "their noise does not cancel)")
    page.add(f"<h2>{title}</h2><div class='note'>{against}Per gateway, the {how}; "
             "<i>total</i>: their sum, the net change; "
             "<i>shifted</i>: what the gateways that lost gave up to others (in each column "
             "the gateways that lost in it: a tariff cut can bring a gateway more boxes of "
             "less value); of the total, "
             "<i>input growth</i> is the scenario's growth of the market table (like every "
             "row, per year of the statistics period: at its seasonal factor when that is "
             "not whole years), "
             "<i>induced by access</i> the trade cheaper access adds (without a CI when the "
             "replications share one settling of the demand: exact given it), "
             "<i>waiting at origins</i> the change of the trade held at its origins at the "
             "year's ends (trade counts boxes as they leave; the runs' boxes waiting for a "
             "full service swing it), <i>on the way at the ends</i> the change of the boxes "
             "that left but were not delivered at the year's ends (TEU only: the gateways "
             "count boxes delivered, trade counts them as they leave) and <i>remainder</i> "
             "the rest, chiefly the chance of whole lots, so the parts add up to the total; "
             "<i>of the induced</i>, each "
             "market's part of the trade induced "
             "(they add up to it: a market the change does not reach shows only the noise of "
             "the settling). ± is the 95% CI; green: it excludes 0.</div>")
    labels = rd.market_labels(base)
    for alt in runs[1:]:
        rows = frame[frame["variant"] == alt.name]   # none of the placebo's (rd.attribution)
        if rows.empty:
            continue
        gateway = rows["item"].str.startswith(rd.GATEWAY_ITEM)
        gws = rows[gateway].assign(gateway=rows["item"].str.removeprefix(rd.GATEWAY_ITEM))
        gws = gws.sort_values(rd.ATTR_TRADE.columns[0][0], ascending=False)
        parts = rd.attribution_parts(rows)
        parts = parts.assign(gateway=[rd.attribution_label(str(i), labels)
                                      for i in parts["item"]])
        # judged as the differences above: against the placebo, both must be variants of
        # the base, and the warning names the one that is not
        unrelated: list[tuple[rd.RunDir, str]] = []
        for run in (alt, placebo) if placebo is not None else (alt,):
            why = dl.not_a_variant(runs[0], run)
            if why:
                unrelated.append((run, why))
        page.add(f"<h3>{html.escape(alt.label)} − {html.escape(base.label)}</h3>"
                 + "".join(unrelated_warning(runs[0], run, why) for run, why in unrelated))
        page.figure(fg.attribution_figure(base, alt, pd.concat(
            [gws, parts[parts["item"] == "total"].assign(gateway="total")])))
        shown = pd.concat([gws, parts])
        apart = rd.settled_apart(rows)
        page.add(measure_table(alt, shown, ["gateway"], rd.ATTRIBUTION_MEASURES,
                               judged=not unrelated,
                               sampled=[rd.sampled_change(str(i), apart)
                                        for i in shown["item"]]))


def render(runs: list[rd.RunDir]) -> str:
    """The whole page as one HTML string."""
    from plotly.offline import get_plotlyjs

    page = Page()
    rd.label_runs(runs)
    if len(runs) > 1:
        page.add(runs_warnings_note(runs))
        comparison_sections(page, runs)
        for run in runs:
            page.add(f"<h2 style='border-bottom:3px solid #1f77b4'>Run: {html.escape(run.label)}"
                     "</h2>")
            run_sections(page, run)
    else:
        run_sections(page, runs[0])
    footer = ("<footer>Sources: every input figure cites seeds/published-figures.csv or "
              "geodata/sources.csv in the scenario and geodata files; the 2023 figure and the "
              "2025 target are from the trade table's source column. Basemap: "
              "geodata/basemap.gpkg (simplified). Charts: Plotly, inlined; this file needs no "
              "network.</footer>")
    title = html.escape(" vs ".join(r.label for r in runs))
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>cqsim report: {title}</title><style>{CSS}</style>"
            f"<script>{get_plotlyjs()}</script></head><body><main>"
            + header(runs) + "".join(page.parts) + footer + "</main></body></html>")
