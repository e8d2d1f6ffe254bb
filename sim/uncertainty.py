"""Propagate a scenario's uncertain inputs (`uncertain:`, `sim.uncertain`) through the
simulation: a design over the inputs, its runs on the sweep machinery, and what they say.

Design. `sobol`: SALib's Sobol' sequence in Saltelli's scheme without second-order terms
(N x (G + 2) points for G groups of inputs, N a power of two), every point run with
replication 0, so all points share their random numbers and the indices are about the
inputs. `lhs`: a Latin hypercube, point k run with replication k, so its spread is input
uncertainty and simulation noise together. Both add the scenario's own point (every input
at the value the scenario gives it, what `cqsim run` simulates and trade.csv reports; not
the distributions' centres, which may differ: -0.7 against the elasticity's -0.8) run with
replications 0..R-1: the simulation-noise-only spread.

Runs go through `sim.sweep` as a sweep of explicit points (`parameters.points`), so they run
in this process, on a local pool or on Dask, each finished run written at once, resumable.

Outputs: `uncertainty.csv` (every KPI's mean, sd, 5/50/95% quantiles, per basis: a Sobol
design's input basis over its 2N independent rows, `basis_rows`), `p_meet.csv` (P(goods
trade >= target) with a 95% Wilson interval, per basis), `sobol.csv`
(first-order and total indices with 95% intervals per input group, for goods trade and each
channel's loaded and empty TEU), `inputs.csv` (the distributions and their sources).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from sim.budget import DEFAULT_STUDY_LIMITS, Limits
from sim.errors import InputError
from sim.scenario import (
    Scenario,
    check_days_setting,
    load_scenario,
    run_overrides,
    uncertain_inputs,
    with_overrides,
)
from sim.stats import CI95, meeting, wilson
from sim.trade import GOODS_TRADE, part_year, season_note
from sim.uncertain import EDGE, UncertainInput, lookup, values
from sim.units import period_season

Method = Literal["sobol", "lhs"]
NOISE = "simulation noise only"
INPUTS = "input uncertainty and simulation noise"
# a Sobol design runs every point with replication 0: its spread is the inputs' at one noise
# draw, and only Saltelli's A and B rows are independent draws of the inputs (`basis_rows`)
SOBOL_INPUTS = "input uncertainty (one noise draw; Saltelli's A and B rows)"


def groups_of(inputs: Sequence[UncertainInput]) -> list[str]:
    """Sobol groups in first-seen order (an input without a group is its own)."""
    return list(dict.fromkeys(inp.group for inp in inputs))


def problem(inputs: Sequence[UncertainInput]) -> dict[str, Any]:
    """SALib problem over the unit cube, grouped when groups differ from the inputs."""
    prob: dict[str, Any] = {"num_vars": len(inputs), "names": [i.path for i in inputs],
                            "bounds": [[0.0, 1.0]] * len(inputs)}
    if len(groups_of(inputs)) != len(inputs):
        prob["groups"] = [i.group for i in inputs]
    return prob


def sobol_design(prob: dict[str, Any], n: int, seed: int) -> np.ndarray:
    """Saltelli's points (N x (G + 2) rows, no second-order terms) over the unit cube."""
    from SALib.sample import sobol

    unit = sobol.sample(prob, n, calc_second_order=False, scramble=True, seed=seed)
    return np.clip(unit, EDGE, 1.0 - EDGE)


def design_order(runs: pd.DataFrame) -> pd.DataFrame:
    """The design's runs in the order of its points: by the number of their variant
    (`v0001`, ..., `v10000`), which text order breaks from 10,000 points on."""
    return runs.sort_values("variant", key=lambda v: v.str[1:].astype(int), kind="stable")


def basis_rows(design: pd.DataFrame, method: Method, groups: int) -> pd.DataFrame:
    """The runs of a design that are independent draws of the inputs, in design order: every
    run of a Latin hypercube; of a Sobol design only Saltelli's A and B rows (the first and
    last of each block of groups + 2), 2N of its N x (groups + 2): its AB rows reuse their
    columns, so counting them as draws made P(meet)'s 95% interval cover 67-71% of the time
    (review50, 14 groups, N = 8-16)."""
    ordered = design_order(design)
    if method != "sobol":
        return ordered
    at = np.arange(len(ordered)) % (groups + 2)
    return ordered[(at == 0) | (at == groups + 1)]


def sobol_indices(prob: dict[str, Any], y: np.ndarray, seed: int) -> pd.DataFrame:
    """First-order and total Sobol indices with 95% bootstrap half-widths, per group."""
    from SALib.analyze import sobol

    res = sobol.analyze(prob, np.asarray(y, dtype=float), calc_second_order=False,
                        conf_level=CI95, seed=seed)
    names = list(dict.fromkeys(prob.get("groups") or prob["names"]))
    return pd.DataFrame({"input": names, "S1": res["S1"], "S1_ci95": res["S1_conf"],
                         "ST": res["ST"], "ST_ci95": res["ST_conf"]})


def lhs_design(d: int, n: int, seed: int) -> np.ndarray:
    """`n` Latin-hypercube points in `d` dimensions on the unit cube, kept `EDGE` inside its
    faces (a quantile of 0 or 1 is an infinite draw of an unbounded distribution)."""
    from scipy.stats import qmc

    return np.clip(qmc.LatinHypercube(d=d, seed=np.random.default_rng(seed)).random(n),
                   EDGE, 1.0 - EDGE)


def _typed(data: Any, point: dict[str, float]) -> dict[str, float | int]:
    """Values rounded where the scenario field holds an integer (servers, lanes...)."""
    return {p: (int(round(v)) if isinstance(lookup(data, p), int) else v)
            for p, v in point.items()}


def scenario_point(data: Any, inputs: Sequence[UncertainInput]) -> dict[str, float]:
    """Every input at the value the scenario (dumped: `data`) gives it: the record of the
    point the noise replications run (inputs.csv's `scenario`). The runs take the scenario as
    it is (`first_point_as_is`), not these values written back: a share over several
    gateways reads its first lane's, and would set every lane to it."""
    return {inp.path: float(lookup(data, inp.path)) for inp in inputs}


def check_support(scenario: Scenario, inputs: Sequence[UncertainInput]) -> None:
    """Each input at both ends of its design range makes a valid scenario, before any run."""
    data = scenario.model_dump(mode="json")
    for inp in inputs:
        values = [float(v) for v in inp.dist.ppf(np.array([EDGE, 1.0 - EDGE]))]
        ends = [_typed(data, {inp.path: value})[inp.path] for value in values]
        if isinstance(ends[0], int) and ends[0] == ends[1]:
            raise InputError(scenario.source_file, f"uncertain.{inp.path}",
                             f"a range over at least two whole numbers (the field holds "
                             f"whole numbers: every draw rounds to {ends[0]})", inp.shape)
        for value, end in zip(values, ends, strict=True):
            try:
                with_overrides(scenario, **{inp.path: end})
            except InputError as exc:
                raise InputError(scenario.source_file, f"uncertain.{inp.path}",
                                 f"a distribution inside the field's allowed values "
                                 f"({exc.expected}; truncate it with low/high)",
                                 round(value, 6)) from None


@dataclass
class StudyDesign:
    """The points of a study: the scenario's own point first (run as the scenario is, its
    values recorded), then the design's; `samples` the runs asked for, which a Sobol design
    may not all use (`unused_note`)."""

    scenario: Scenario
    inputs: list[UncertainInput]
    method: Method
    seed: int
    unit: np.ndarray                     # design over the unit cube (one row per point)
    points: list[dict[str, float | int]]
    replications: list[list[int]]
    problem: dict[str, Any] = field(default_factory=dict)
    base_n: int = 0                      # Sobol: N (points = N x (groups + 2))
    samples: int = 0                     # runs asked for (--samples)


def unused_note(study: StudyDesign) -> str | None:
    """What a Sobol design leaves of --samples unused (its N x (groups + 2) points, N a power
    of two), or None when every run asked for is used. A note of the study, said after its
    checks (a refused study prints its error alone) and kept in uncertainty.json."""
    noise = len(study.replications[0])
    used = sum(len(r) for r in study.replications)
    if study.method != "sobol" or used >= study.samples:
        return None
    groups = len(groups_of(study.inputs))
    per = groups + 2
    return (f"--samples {study.samples}: the Sobol design runs {used} (N = {study.base_n} x "
            f"({groups} input groups + 2) = {study.base_n * per} design points + {noise} noise "
            f"replications); the other {study.samples - used} are not used (N = "
            f"{2 * study.base_n} needs --samples {2 * study.base_n * per + noise})")


def design_study(scenario: Scenario | str | Path, samples: int, method: Method, *,
                 seed: int = 12345, noise_replications: int = 8) -> StudyDesign:
    """Validate the inputs and lay out `samples` runs: `noise_replications` of the
    scenario's own point (`scenario_point`) and the rest for the design (Sobol: the largest
    N, a power of two, that fits; `unused_note` says how many runs that leaves unused)."""
    scen = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    inputs = uncertain_inputs(scen)
    if not inputs:
        raise InputError(scen.source_file, "uncertain", "at least one uncertain input "
                         "(dotted path: distribution with a source or reason)")
    check_support(scen, inputs)
    budget = samples - noise_replications
    prob = problem(inputs)
    groups = groups_of(inputs)
    base_n = 0
    if method == "sobol":
        per = len(groups) + 2
        if budget < 2 * per:
            raise InputError("--samples", "", f"at least {2 * per + noise_replications} runs "
                             f"for a Sobol study of {len(groups)} input groups "
                             f"(2 x (groups + 2) + {noise_replications} noise replications)",
                             samples)
        base_n = 2 ** int(math.floor(math.log2(budget / per)))
        unit = sobol_design(prob, base_n, seed)
        reps = [[0] for _ in range(len(unit))]
    else:
        if budget < 2:
            raise InputError("--samples", "", f"at least {noise_replications + 2} runs", samples)
        unit = lhs_design(len(inputs), budget, seed)
        reps = [[k] for k in range(len(unit))]
    data = scen.model_dump(mode="json")
    points = [_typed(data, scenario_point(data, inputs))] + [_typed(data, p)
                                                             for p in values(inputs, unit)]
    return StudyDesign(scen, inputs, method, seed, unit, points,
                       [list(range(noise_replications))] + reps, prob, base_n, samples)


def sweep_spec(study: StudyDesign, days: float | None = None) -> Any:
    """The study as a sweep of explicit points over the scenario."""
    from sim.sweep.spec import Parameters, SweepSpec

    file = Path(study.scenario.source_file)
    return SweepSpec(name=f"uncertainty-{study.scenario.name}", base=file.name,
                     parameters=Parameters(points=study.points),
                     point_replications=study.replications, days=days,
                     first_point_as_is=True,   # the noise point: the scenario as it is
                     replications=1,   # each design point runs once (the budget check)
                     description=f"{study.method} study of {len(study.inputs)} inputs",
                     source_file=str(file))


def quantile_table(runs: pd.DataFrame, kpis: Sequence[str], basis: str) -> pd.DataFrame:
    """uncertainty.csv's rows of one basis: each KPI's mean, sd and 5th, 50th and 95th
    percentiles over the runs."""
    from sim.kpis import label

    rows = []
    for k in kpis:
        x = runs[k].dropna().to_numpy(dtype=float)
        if not x.size:
            continue
        q = np.quantile(x, [0.05, 0.5, 0.95])
        rows.append({"basis": basis, "kpi": k, "label": label(k, scaled=False), "runs": x.size,
                     "mean": x.mean(), "sd": x.std(ddof=1) if x.size > 1 else float("nan"),
                     "p5": q[0], "p50": q[1], "p95": q[2]})
    return pd.DataFrame(rows)


def p_meet_row(trade: pd.Series, target: float, basis: str) -> dict[str, Any]:
    """p_meet.csv's row of one basis: P(goods trade >= target) over its runs, with the 95%
    Wilson interval and the mean trade."""
    x = trade.dropna().to_numpy(dtype=float)
    hits, _ = meeting(x, target)
    low, high = wilson(hits, x.size)
    return {"basis": basis, "target_bn_cny_per_year": target, "runs": x.size, "meeting": hits,
            "p_meet": hits / x.size if x.size else float("nan"), "ci95_low": low,
            "ci95_high": high, "trade_mean_bn_cny_per_year": float(x.mean()) if x.size
            else float("nan")}


@dataclass
class StudyOutcome:
    """What a study gives back: its design, every run, the tables it wrote (quantiles,
    P(meet), Sobol indices) and where and how it ran."""

    study: StudyDesign
    runs: pd.DataFrame
    quantiles: pd.DataFrame
    p_meet: pd.DataFrame
    sobol: pd.DataFrame
    out: Path | None
    executor: str
    wall_seconds: float
    failed: int
    notes: list[str] = field(default_factory=list)


# assumption: below N = 64 Sobol points, Saltelli's estimates are too rough to rank inputs by.
# Measured on the Ishigami function (3 inputs, known indices, no noise; this design and SALib's
# estimator, seeds 0-9, 2026-12-05): the largest error of any S1 or ST was a median 1.19
# at N = 2, 0.64 at 4, 0.36 at 8, 0.32 at 16, 0.26 at 32 (indices run from 0 to 1, and came
# out above 1), then 0.115 at 64, 0.07 at 256 and 0.008 at 1024. SALib asks only for N a
# power of two; 64 is where the error first falls to about a tenth of the indices' range.
# It is a floor, not enough: the shipped study has 14 groups (28 indices) and noisy runs, and
# on Sobol's G function with 14 inputs and noise of 9% of the variance the median was still
# 0.24 at N = 64 (about Ishigami's at 32) and 0.10 at 256. Both are re-measured by
# tests/analysis/test_uncertainty.py.
SOBOL_MIN_N = 64


def sobol_caveat(base_n: int, groups: int, noise: int) -> str | None:
    """The line saying that a Sobol design of N = `base_n` points is too small for its indices
    to rank the inputs (below SOBOL_MIN_N), with the --samples that reaches it and what that
    floor was measured on; None from there on. `groups`: input groups; `noise`: noise
    replications."""
    if base_n <= 0 or base_n >= SOBOL_MIN_N:
        return None
    return (f"sobol: N = {base_n} points is too few for these indices to rank the inputs "
            f"(below N = {SOBOL_MIN_N}, Saltelli's estimates of the Ishigami function's "
            "known indices, 3 inputs without noise, were off by a median 0.26 to 1.2 on a 0-1 "
            f"scale, some above 1): read them as noise; N = {SOBOL_MIN_N} needs --samples "
            f"{SOBOL_MIN_N * (groups + 2) + noise} and is a floor, not enough: with 14 inputs "
            f"and noisy runs the error was still a median 0.24 there, 0.10 at N = 256")


def analyse(study: StudyDesign, runs: pd.DataFrame, target: float) -> tuple[
        pd.DataFrame, pd.DataFrame, pd.DataFrame, list[str]]:
    """uncertainty.csv, p_meet.csv and sobol.csv tables from the study's runs."""
    from sim.sweep.store import kpi_columns

    groups = len(groups_of(study.inputs))
    # rows picked from every design run (failed ones too), so a block keeps its place
    draws = basis_rows(runs[runs["variant"] != "v0000"], study.method, groups)
    draws = draws[draws["status"] == "ok"]
    noise = runs[(runs["variant"] == "v0000") & (runs["status"] == "ok")]
    basis = SOBOL_INPUTS if study.method == "sobol" else INPUTS
    kpis = [k for k in kpi_columns(runs, [i.path for i in study.inputs])
            if k not in ("wall_s",)]
    quant = pd.concat([quantile_table(draws, kpis, basis), quantile_table(noise, kpis, NOISE)],
                      ignore_index=True)
    pm = pd.DataFrame([p_meet_row(draws[GOODS_TRADE], target, basis),
                       p_meet_row(noise[GOODS_TRADE], target, NOISE)])
    notes: list[str] = []
    sob = pd.DataFrame(columns=["output", "input", "S1", "S1_ci95", "ST", "ST_ci95"])
    if study.method == "sobol":
        ordered = design_order(runs[runs["variant"] != "v0000"])
        outputs = [GOODS_TRADE] + [c for c in runs.columns if c.endswith("_teu_per_year")
                                   and not c.startswith("total_")]
        frames = []
        for out in outputs:
            y = ordered[out].to_numpy(dtype=float)
            if (ordered["status"] != "ok").any() or np.isnan(y).any():
                notes.append(f"sobol: {out} has failed or empty runs; no indices")
                continue
            if np.ptp(y) == 0:
                notes.append(f"sobol: {out} does not vary; no indices")
                continue
            frames.append(sobol_indices(study.problem, y, study.seed).assign(output=out))
        if frames:
            sob = pd.concat(frames, ignore_index=True)[list(sob.columns)]
            caveat = sobol_caveat(study.base_n, groups, len(study.replications[0]))
            if caveat:
                notes.append(caveat)
    else:   # a header alone reads as a failed analysis (trial51)
        notes.append("sobol: a Latin hypercube design (--method lhs) gives no Sobol indices, "
                     "so sobol.csv holds its header alone; --method sobol estimates them")
    return quant, pm, sob, notes


def inputs_table(study: StudyDesign) -> pd.DataFrame:
    """One row per input: group, distribution, its central value, the scenario's value (the
    noise replications'), the estimates it is drawn jointly with (path and correlation), and
    where the distribution comes from."""
    own = study.points[0]
    return pd.DataFrame([{"input": i.path, "group": i.group, "distribution": i.dist.dist,
                          "central": float(i.dist.central), "scenario": own[i.path],
                          "correlated": "; ".join(f"{p} {r:+.3f}" for p, r in i.correlated),
                          "described": i.described}
                         for i in study.inputs])


def run_uncertainty(scenario: Scenario | str | Path, out: str | Path | None = None, *,
                    samples: int = 256, method: Method = "sobol", seed: int = 12345,
                    noise_replications: int = 8, days: float | None = None,
                    target: float | None = None, workers: int | None = None,
                    scheduler: str | None = None, local_cluster: bool = False,
                    resume: bool = False, overwrite: bool = False,
                    progress: bool | None = None,
                    limits: Limits | None = DEFAULT_STUDY_LIMITS) -> StudyOutcome:
    """Design, run (sweep machinery) and analyse an uncertainty study; write its tables.
    `overwrite`: replace an `out` that holds files cqsim did not write (`cqsim sweep`'s).
    `limits` bound all its runs together, as a study's (a sweep's default, 5e8 events,
    refused the 256-sample study the README shows)."""
    from sim.checks import sweep_notes
    from sim.sweep.execute import execute_sweep
    from sim.sweep.tasks import prepare_sweep
    from sim.trade import references

    study = design_study(scenario, samples, method, seed=seed,
                         noise_replications=noise_replications)
    check_days_setting(days, "--days", {
        inp.path: (f"uncertain.{inp.path}", [p[inp.path] for p in study.points])
        for inp in study.inputs}, study.scenario.source_file)
    goal = references()[1].bn_cny if target is None else target
    # prepared here (as `execute_sweep` would, each variant settled by its workers) so the
    # runs' checks below can read each variant's plan
    sweep = prepare_sweep(sweep_spec(study, days), limits, workers or os.cpu_count() or 1,
                          settle_here=False)
    outcome = execute_sweep(sweep, out, workers=workers, scheduler=scheduler,
                            local_cluster=local_cluster, resume=resume, progress=progress,
                            plots=False, settle_here=False, overwrite=overwrite,
                            limits=limits, command="uncertainty")
    quant, pm, sob, notes = analyse(study, outcome.runs, goal)
    unused = unused_note(study)   # after the sweep's checks: a refused study says only why
    if unused:
        notes.insert(0, unused)
    notes += sweep_notes(outcome.runs, sweep.variant_plans())   # as cqsim sweep says them
    horizon = run_overrides(study.scenario, days=days).horizon   # the runs' own (`--days`)
    factor = period_season(study.scenario.demand.seasonality, horizon)
    season = season_note(factor, horizon)
    if season:
        notes.append(season)
    # the tables read on their own say it too: a 60-day study's p_meet.csv gave a mean trade
    # of 595 bn CNY/yr against 900 with nothing naming the part year (trial51)
    for table in (quant, pm):
        table["per_year_from"] = part_year([(horizon, factor)])
    result = StudyOutcome(study, outcome.runs, quant, pm, sob, outcome.out, outcome.executor,
                          outcome.wall_seconds, outcome.failed, notes)
    if out is not None:
        _write_tables(Path(out), study, quant, pm, sob, {
            "scenario": study.scenario.source_file, "method": method, "seed": seed,
            "samples": samples, "runs": len(outcome.runs), "sobol_base_n": study.base_n,
            "noise_replications": noise_replications, "target_bn_cny_per_year": goal, "days": days,
            "executor": outcome.executor, "wall_seconds": round(outcome.wall_seconds, 1),
            "failed_runs": outcome.failed, "notes": notes})
    return result


def _write_tables(folder: Path, study: StudyDesign, quant: pd.DataFrame, pm: pd.DataFrame,
                  sob: pd.DataFrame, about: dict[str, Any]) -> None:
    """The study's tables beside the sweep's, with the folder locked and its manifest brought
    up to date (`sim.staging.updating`), so the manifest lists and hashes them too."""
    from sim.atomic import write_csv, write_text
    from sim.staging import updating

    files = {"uncertainty.csv": quant, "p_meet.csv": pm, "sobol.csv": sob,
             "inputs.csv": inputs_table(study)}
    with updating(folder, *files, "uncertainty.json"):
        for name, frame in files.items():
            write_csv(folder / name, frame)
        write_text(folder / "uncertainty.json", json.dumps(about, indent=2))
