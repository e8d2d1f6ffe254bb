"""Write notebooks/plan-scenarios.ipynb (run: python notebooks/build_plan_scenarios.py).

The notebook is generated so that its cells stay reviewable as code; the test suite executes
the generated file (tests/analysis/test_notebook.py).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

CELLS: list[tuple[str, str]] = [
    ("md", """# The plan's scenarios against the calibrated 2023 baseline

Runs `scenarios/baseline-2023.yaml` (calibrated: `cqsim calibrate scenarios/baseline-2023.yaml`)
and the plan's combined scenarios `plan-2025.yaml` and `plan-2035.yaml` on a short horizon, then
shows the flow maps one above the other (one TEU scale for all), throughput over time and the
goods trade per year against the plan's 900 bn CNY/yr target.

The horizon is short (`DAYS` simulated days, the first month of them warm-up) so that the
notebook runs in the test suite in a few minutes; annual figures are annualised from it and
carry the February dip of the seasonality. The feedback passes are cut to the same `DAYS`, so
the delays they learn are those of January to April, without the locks' June-October
flood-season queues (each plan's market reference, baseline-2023, settles over the same days,
so the two are compared like for like). Every replication runs with what replication 0's passes
learnt (`equilibrium.per_replication: false`), so the passes run once per scenario and the
intervals leave out their noise. For decisions use the full year, more replications and the
scenarios as they stand (`cqsim compare scenarios/baseline-2023.yaml
scenarios/plan-2025.yaml`)."""),
    ("code", """from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

import sim
from sim import trade
from sim.figsource import source_line
from sim.targets import targets_frame
from sim.units import period_season

ROOT = next(p for p in (Path.cwd(), *Path.cwd().parents) if (p / "scenarios").is_dir())
DAYS = 120          # simulated days, the first 30 of them warm-up
REPLICATIONS = 3
NAMES = ["baseline-2023", "plan-2025", "plan-2035"]"""),
    ("md", """## The plan's targets

Only goods trade is simulated. Services trade and paid-in foreign investment are the plan's
inputs, shown here and **not simulated** (column `simulated`). Each money figure is a year's:
the goods trade of 2023 (713.7) and the 2025 target (900) are bn CNY in that year, so the
table gives them in bn CNY/yr, as trade.csv and the console do (seeds/targets.csv writes
`bn CNY`)."""),
    ("code", """targets = targets_frame()
money = targets["unit"].str.startswith("bn ")   # a year's figure: bn CNY and bn USD per year
targets.loc[money, "unit"] = targets.loc[money, "unit"] + "/yr"
targets[["id", "metric", "value", "unit", "year", "simulated", "source"]]"""),
    ("md", "## Run the scenarios (same seed: common random numbers across scenarios)"),
    ("code", """def quick(name):
    \"\"\"The scenario with every replication on replication 0's feedback passes.\"\"\"
    scenario = sim.load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    return sim.with_overrides(scenario, **{"equilibrium.per_replication": False})


results = {name: sim.run(quick(name), days=DAYS, replications=REPLICATIONS, progress=False)
           for name in NAMES}
teu = pd.DataFrame({name: r.corridors.set_index("corridor")["teu_per_year"]
                    for name, r in results.items()})
teu.style.format("{:,.0f}").set_caption("loaded TEU per year by corridor (simulated by "
                                        "cqsim, annualised from the statistics period)")"""),
    ("md", "## Flow maps (one scale: TEU per year, each direction of a link drawn on its right)"),
    ("code", """from sim.maps import annual_frames, source_note

top = max(float(annual_frames(r)[0][["teu_down", "teu_up"]].to_numpy().max())
          for r in results.values())
fig, axes = plt.subplots(len(NAMES), 1, figsize=(12, 7.6 * len(NAMES)), layout="constrained")
for ax, (name, r) in zip(axes, results.items()):
    start = r.plan.horizon.warmup_days
    sim.draw_flows(r, ax, max_teu=top,
                   title=f"{name}: TEU per year, annualised from days {start:g}-{DAYS:g}")
source_line(fig, source_note("sim.run's results above"))
plt.show()"""),
    ("md", "## Throughput over time (TEU delivered per full week of the statistics period, "
           "mean over replications)\n\nEvery box delivered, loaded and empty: more than the "
           "loaded TEU per year of the table above\n(the empties are the boxes repositioned "
           "on each lane's imbalance)."),
    ("code", """fig, axes = plt.subplots(1, 2, figsize=(13, 4), layout="constrained")
for name, r in results.items():
    ts = r.by_replication("timeseries")
    ts = ts[ts["days"] == 7]   # whole weeks only: the first and last are partly measured
    weekly = ts.groupby(["replication", "week"])["teu_per_week"].sum().groupby("week").mean()
    axes[0].plot(weekly.index, weekly.to_numpy(), marker=".", label=name)
    west = ts[ts["corridor"] == "west"].groupby(["replication", "week"])["teu_per_week"].sum()
    west = west.groupby("week").mean()
    axes[1].plot(west.index, west.to_numpy(), marker=".", label=name)
axes[0].set_title("all corridors")
axes[1].set_title("west (China-Europe Railway Express)")
source_line(fig, "source: cqsim, the timeseries table of sim.run's results above (simulated; "
                 "mean over replications)")
for ax in axes:
    ax.set_xlabel("week of the simulation")
    ax.set_ylabel("TEU delivered per week, loaded and empty")
    ax.legend()
plt.show()"""),
    ("md", """## Target attainment

Goods trade = Chongqing's trade that the simulated routes carried (annualised) + the classes
the market table declares not simulated (bulk, each with its source; no residual term),
against 2023 (713.7 bn CNY/yr) and the 900 bn CNY/yr target for 2025; 95% CIs over replications and
the share of replications at or above the target.

The horizon here is short: the statistics period (after the warm-up) covers only part of the
year, and the demand's monthly seasonality is not flat, so a period holding the February dip
annualises below a full year. The cell prints the mean seasonal factor of the period (1.00 for
a whole year) so the gap between the calibrated baseline and the 2023 line can be read; run 365
days for the figure to compare with 2023."""),
    ("code", """rows = []
for name, r in results.items():
    a = trade.attainment(r)
    rows.append({"scenario": name, "goods trade bn CNY/yr": a.total_bn,
                 "ci95 bn CNY/yr": a.total_ci,
                 "% of 2023": a.vs_2023_pct, "% of 900 bn CNY/yr target": a.target_pct,
                 "target ci95": a.target_ci, "P(meet)": a.p_meet})
attain = pd.DataFrame(rows).set_index("scenario")
h = results["baseline-2023"].plan.horizon
factor = period_season(results["baseline-2023"].plan.seasonality, h)
print(f"statistics period: days {h.warmup_days:g}-{h.days:g}; mean seasonal factor {factor:.2f} "
      "(a whole year: 1.00)")
fig, ax = plt.subplots(figsize=(7.5, 4.5), layout="constrained")
ax.bar(attain.index, attain["goods trade bn CNY/yr"], yerr=attain["ci95 bn CNY/yr"].fillna(0),
       capsize=4, color="#4c72b0")
base_ref, goal = trade.references()   # seeds/targets.csv, each with its source
ax.axhline(goal.bn_cny, color="#d62728", linestyle="--",
           label=f"{goal.label}: {goal.bn_cny:g} bn CNY/yr")
ax.axhline(base_ref.bn_cny, color="#7f7f7f", linestyle=":",
           label=f"{base_ref.label}: {base_ref.bn_cny:g} bn CNY/yr")
source_line(fig, "source: cqsim, trade.attainment of sim.run's results above (simulated); "
                 f"lines: {base_ref.label}: {base_ref.cited()}; {goal.label}: {goal.cited()}")
ax.set_ylabel("goods trade, bn CNY/yr")
ax.set_title(f"Goods trade per year against 2023 and the 2025 target\\n(annualised from days "
             f"{h.warmup_days:g}-{h.days:g}; their seasonal factor {factor:.2f} puts a short "
             "run below a full year)", fontsize=10)
ax.legend(loc="lower right")
plt.show()
attain.round(2)"""),
    ("code", """# the numbers this notebook shows are the simulation's, not typed in:
# check they hang together
assert set(attain.index) == set(NAMES)
assert (attain["goods trade bn CNY/yr"] > 0).all()
goods = attain["goods trade bn CNY/yr"]   # not `trade`: the module the attainment cell uses
assert goods["plan-2035"] > goods["baseline-2023"]
assert "2025 target" in ax.get_title() and "seasonal factor" in ax.get_title()  # says why"""),
]


def build() -> nbformat.NotebookNode:
    """The notebook object, cells in order."""
    nb = new_notebook()
    nb.cells = [new_markdown_cell(src, id=f"cell-{i:02d}") if kind == "md"
                else new_code_cell(src, id=f"cell-{i:02d}")
                for i, (kind, src) in enumerate(CELLS)]  # fixed ids: no churn on rebuild
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


if __name__ == "__main__":
    target = Path(__file__).resolve().parent / "plan-scenarios.ipynb"
    nbformat.write(build(), target)
    print(f"wrote {target}")
