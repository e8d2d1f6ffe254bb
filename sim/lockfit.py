"""Estimate the Three Gorges locks' free parameters through the simulation.

Three parameters, three fitting figures (seeds/calibration.csv, role `fit`):

- the flight's rate, lock `chamber_t` / `cycle_hours` (t/h), to the 26 h mean wait of all
  vessels (lock_wait_2013);
- lock `chamber_t` (tonnes a chamber takes; `cycle_hours` moves with it at a constant rate)
  to 3.87 vessels per lockage (cg_lock_vessels_per_lockage_2023);
- bulk `mt_per_year` (bulk offered) to 169 Mt/yr through the locks (east_lock_mt_2023).

Lockages per day (31.0, cg_lock_lockages_day_2023) then follow from the tonnes and the
tonnes per lockage (an identity, so they are reported, not validated); `divert_wait_hours`
is not fitted (72 h, the published "up to 3 days in busy seasons"). Each pass runs
baseline-2023 with the same seed (common random numbers) and moves each parameter along its
own figure by a secant step on logarithms (the elasticity estimated from the last two
passes, a prior before), until every figure is within `--tolerance`. Nothing here is read
at run time: the estimates are written into baseline-2023.yaml by hand with this command as
their source; `--check` runs the scenario as it is and prints the figures.

A fourth parameter is fitted apart, on another scenario's runs (`--maintenance`): the
diversion bound while a flight is in maintenance (`maintenance_divert_wait_hours`), to the
peak queue of the 2017 maintenance (lock_maint_queue_peak, about 900 vessels), on the
maintenance scenario that row names (three-gorges-maintenance.yaml: baseline-2023 with the
north flight out for 45 days), the maintenance's other figures (the single flight's
lockages and cargo a day, the year's tonnes) reported beside it, held apart. Baseline-2023
has no maintenance, so the bound moves none of the figures above.

Run from the repository folder: `.venv/bin/python -m sim.lockfit [--scenario
scenarios/baseline-2023.yaml] [--replications 4] [--passes 10] [--wait-h 26] [--check]
[--maintenance] [--workers 2]`.
"""

from __future__ import annotations

import argparse
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from sim.argtypes import positive_number, share, whole_number
from sim.calibration import (
    CALIBRATION_FILE,
    CalibrationTarget,
    calibrate,
    load_calibration_targets,
    measured,
    variant_scenario,
)
from sim.errors import InputError
from sim.pipeline import prepare, run
from sim.results import Results
from sim.targets import seeds_dir
from sim.units import T_PER_MT

SCENARIO = Path("scenarios") / "baseline-2023.yaml"
LOCK = "three_gorges_locks"
# each figure of the lock -> its row of seeds/calibration.csv, whose published value is the
# target and whose measure measures it: the three FITTED (role fit: lock_wait_2013,
# cg_lock_vessels_per_lockage_2023 and east_lock_mt_2023 of seeds/published-figures.csv) and
# the lockages a day, which follow from them (role dependent), reported beside them
FIGURES = {"wait_mean_h": "lock_wait_all", "vessels_per_lockage": "lock_vessels_per_lockage",
           "mt_per_year": "lock_mt", "lockages_per_day": "lock_lockages"}
FITTED = ("wait_mean_h", "vessels_per_lockage", "mt_per_year")
# what each step moves -> (its figure, prior elasticity of the figure to it): the flight's
# rate in t/h (chamber_t / cycle_hours) sets the load and so the wait; the chamber at that
# rate sets how full a lockage is; the bulk offered sets the tonnes
DRIVES = {"rate": ("wait_mean_h", -15.0), "chamber_t": ("vessels_per_lockage", 1.0),
          "bulk_mt": ("mt_per_year", 1.0)}
# the bound while a flight is in maintenance (the lock's `maintenance_divert_wait_hours`) ->
# its fitting figure, the peak queue of the maintenance (cg_lock_maint_2017_reopen), and the
# maintenance's figures held apart, reported beside it (validation: nothing is set to them);
# prior elasticity of the peak to the bound 1: a queue held at its bound is the bound times
# the flight's rate (Little's law)
MAINTENANCE = "lock_maint_queue_peak"
MAINTENANCE_BESIDE = ("lock_maint_lockages", "lock_maint_cargo", "lock_mt_2024")
BOUND_PRIOR = 1.0


@dataclass
class Params:
    """The lock parameters the fit moves, as a scenario sets them."""

    cycle_hours: float
    chamber_t: float
    bulk_mt: float
    divert_h: float | None   # None: no diversion


def calibration_rows(path: str | Path | None = None) -> dict[str, CalibrationTarget]:
    """The calibration rows of the lock's figures (`FIGURES`), from `path` (default:
    seeds/calibration.csv): the fit reads its targets and measures where the calibration
    report does, so a revised figure is fitted as it is checked."""
    rows = _rows(path, tuple(FIGURES.values()), "the lock's figures")
    return {name: rows[i] for name, i in FIGURES.items()}


def _rows(path: str | Path | None, ids: tuple[str, ...],
          what: str) -> dict[str, CalibrationTarget]:
    """The rows `ids` of the calibration table `path` (default: seeds/calibration.csv) by
    id; InputError naming `what` and the ids missing."""
    file = Path(path) if path is not None else seeds_dir() / CALIBRATION_FILE
    rows = {t.id: t for t in load_calibration_targets(file)}
    missing = [i for i in ids if i not in rows]
    if missing:
        raise InputError(file, "id", f"{what} {', '.join(ids)} "
                         f"(missing: {', '.join(missing)})")
    return {i: rows[i] for i in ids}


def targets(rows: dict[str, CalibrationTarget] | None = None) -> dict[str, float]:
    """The published value of each fitted figure (`FITTED`), from `rows`
    (`calibration_rows()` unless given)."""
    rows = calibration_rows() if rows is None else rows
    return {name: rows[name].published for name in FITTED}


def measure(res: Results, rows: dict[str, CalibrationTarget] | None = None) -> dict[str, float]:
    """The lock's figures from a run, both directions together, means over replications:
    those of the calibration rows (`FIGURES`, measured as `cqsim calibrate` measures them),
    then the container vessels' mean wait and the tonnes diverted (per year of the
    statistics period)."""
    rows = calibration_rows() if rows is None else rows
    got = dict(zip(rows, (r.simulated for r in calibrate(res, list(rows.values()))),
                   strict=True))
    locks = res.by_replication("locks")
    locks = locks[locks["lock"] == LOCK]
    by_rep = locks.groupby("replication").sum(numeric_only=True)
    # the container vessels' wait weighed by the container vessels of each direction, as
    # `cqsim calibrate` reads `lock:<lock>:wait.container` and `cqsim compare` its
    # `lock_container_wait_mean_h` (`sim.kpis.lock_wait_h`: not by all vessels, which keep
    # a direction no container vessel entered in the weights, nor by container tonnes, which
    # count a direction's heavier vessels more)
    waits = measured(res, f"lock:{LOCK}:wait.container")
    return {**got,
            "container_wait_mean_h": float(np.nanmean(waits)) if np.isfinite(waits).any()
            else float("nan"),
            "diverted_mt_per_year": float((by_rep["diverted_t_per_year"] / T_PER_MT).mean())}


def scenario_with(p: Params, path: Path, scenario: Path = SCENARIO) -> Path:
    """A scenario at `path` that extends baseline-2023 with the parameters `p` (its `set`
    changes come after the base's, so they win)."""
    op = {"classes": {"bulk": {"mt_per_year": p.bulk_mt}}, "divert_wait_hours": p.divert_h}
    doc = {"name": "baseline-2023-fit", "extends": str(scenario.resolve()),
           "network": {"locks": {LOCK: op}},
           "changes": [
               {"kind": "set", "lock": LOCK, "field": "cycle_hours", "value": p.cycle_hours},
               {"kind": "set", "lock": LOCK, "field": "chamber_t", "value": p.chamber_t}]}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def current(scenario: Path) -> Params:
    """The lock parameters of a scenario as it runs: its `extends` chain and changes applied
    (read from the file alone, a file extending baseline-2023, such as
    scenarios/sensitivity/lock-wait-2016.yaml, had no lock section of its own to read)."""
    plan = prepare(scenario)
    lock, op = plan.network.locks[LOCK], plan.network.lock_traffic[LOCK]
    bulk = op.classes["bulk"].mt_per_year
    if bulk is None:
        raise InputError(scenario, f"network.locks.{LOCK}.classes.bulk.mt_per_year",
                         "the bulk tonnes a year the fit moves")
    return Params(cycle_hours=lock.cycle_hours, chamber_t=lock.chamber_t, bulk_mt=bulk,
                  divert_h=op.divert_wait_hours)


def _moves(p: Params) -> dict[str, float]:
    return {"rate": p.chamber_t / p.cycle_hours, "chamber_t": p.chamber_t,
            "bulk_mt": p.bulk_mt}


def secant(x: float, y: float, goal: float, prior: float, damping: float,
           before: tuple[float, float] | None = None) -> float:
    """`x` moved by a damped secant step in logs so that its figure `y` reaches `goal`: the
    elasticity of y to x measured from the pass `before` ((x, y)), or `prior` where there is
    none, x did not move, or the measured slope has the wrong sign (noise near saturation)."""
    elasticity = prior
    if before is not None:
        dx, dy = math.log(x / before[0]), math.log(y / before[1])
        if abs(dx) > 1e-3 and dy / dx * prior > 0:
            elasticity = dy / dx
    return x * math.exp(damping * math.log(goal / y) / elasticity)


def step(history: list[tuple[Params, dict[str, float]]], damping: float,
         goal: dict[str, float] | None = None) -> Params:
    """The next parameters: for each move, a damped secant step in logs towards its figure
    in `goal` (`targets()` unless given; the chamber changes at a constant rate, so the load,
    and the wait, stay put)."""
    goal = targets() if goal is None else goal
    p, got = history[-1]
    now = _moves(p)
    new = dict(now)
    for name, (figure, prior) in DRIVES.items():
        before = None
        if len(history) > 1:
            q, measured_before = history[-2]
            before = (_moves(q)[name], measured_before[figure])
        new[name] = secant(now[name], got[figure], goal[figure], prior, damping, before)
    return Params(cycle_hours=new["chamber_t"] / new["rate"], chamber_t=new["chamber_t"],
                  bulk_mt=new["bulk_mt"], divert_h=p.divert_h)


def maintenance_rows(path: str | Path | None = None) -> dict[str, CalibrationTarget]:
    """The bound's fitting figure (`MAINTENANCE`) and the maintenance's figures reported
    beside it (`MAINTENANCE_BESIDE`), rows of `path` (default: seeds/calibration.csv), each
    measured on the maintenance's runs as `cqsim calibrate` measures it there."""
    rows = _rows(path, (MAINTENANCE, *MAINTENANCE_BESIDE), "the maintenance's figures")
    if not rows[MAINTENANCE].scenario:
        file = Path(path) if path is not None else seeds_dir() / CALIBRATION_FILE
        raise InputError(file, f"{MAINTENANCE}.scenario", "the maintenance scenario the "
                         "bound is fitted on", "")
    return rows


def maintenance_scenario(base: Path, row: CalibrationTarget) -> Path:
    """The scenario file of the bound's figure, beside the calibrated scenario `base` as
    `cqsim calibrate` finds it (`variant_scenario`); InputError when it is missing or is not
    `base` plus changes (a bound fitted on another base's maintenance would not be
    `base`'s)."""
    loaded = variant_scenario(str(base), row.scenario)
    if isinstance(loaded, str):
        raise InputError(base.parent / row.scenario, "scenario", f"the maintenance scenario "
                         f"of {row.id}, {base.name} plus changes; "
                         f"{loaded.removeprefix('not measured: ')}", row.scenario)
    return Path(loaded.source_file or row.scenario)


def current_bound(scenario: Path) -> float:
    """The lock's diversion bound during a maintenance as `scenario` runs it: its
    `maintenance_divert_wait_hours`, or the bound of normal operation where that is unset;
    InputError where the lock diverts nothing (no bound to fit)."""
    bound = prepare(scenario).network.lock_traffic[LOCK].divert_bound(maintained=True)
    if bound is None:
        raise InputError(scenario, f"network.locks.{LOCK}.divert_wait_hours",
                         "a diversion bound (the maintenance's bound is fitted beside it)")
    return bound


def with_bound(bound: float, path: Path, scenario: Path) -> Path:
    """A scenario at `path` that extends `scenario` with the maintenance bound `bound` h."""
    doc = {"name": f"{scenario.stem}-fit", "extends": str(scenario.resolve()),
           "network": {"locks": {LOCK: {"maintenance_divert_wait_hours": bound}}}}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def measure_maintenance(res: Results, rows: dict[str, CalibrationTarget]) -> dict[str, float]:
    """The maintenance's figures (`maintenance_rows`) on a run of its scenario (`res`, given
    to `calibrate` as that scenario's runs), in their published units, means over
    replications."""
    got = calibrate(res, list(rows.values()), {t.scenario: res for t in rows.values()})
    return {r.target.id: r.simulated for r in got}


def fit_maintenance(base: Path, replications: int | None, passes: int, tolerance: float,
                    damping: float, check: bool = False, workers: int = 1) -> float:
    """Estimate the lock's `maintenance_divert_wait_hours` to its fitting figure (the
    queue's peak during a flight's maintenance, `MAINTENANCE`) on the maintenance scenario
    beside `base`, by secant steps in logs with common random numbers, printing each pass
    with the figures reported beside; with `check`, one run as the scenario stands. Returns
    the last bound run."""
    rows = maintenance_rows()
    target = rows[MAINTENANCE]
    file = maintenance_scenario(base, target)
    bound = current_bound(file)
    history: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(1 if check else passes):
            path = file if check else with_bound(bound, Path(tmp) / "fit.yaml", file)
            got = measure_maintenance(run(path, replications=replications, workers=workers),
                                      rows)
            print(f"pass {k}: maintenance_divert_wait_hours {bound:.2f}")
            print("   " + ", ".join(f"{name} {value:.2f}" for name, value in got.items()),
                  flush=True)
            history.append((bound, got[MAINTENANCE]))
            if check or abs(got[MAINTENANCE] / target.published - 1) < tolerance:
                break
            bound = secant(bound, got[MAINTENANCE], target.published, BOUND_PRIOR, damping,
                           history[-2] if len(history) > 1 else None)
    return history[-1][0]


def main() -> None:
    """Command line: fit (or with --check, measure) the lock parameters."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--scenario", type=Path, default=SCENARIO)
    parser.add_argument("--replications", type=whole_number(1), default=4)
    parser.add_argument("--passes", type=whole_number(1), default=12)
    parser.add_argument("--workers", type=whole_number(1), default=1,
                        help="processes running the replications (the same results on any)")
    parser.add_argument("--tolerance", type=share, default=0.02)
    parser.add_argument("--damping", type=share, default=0.7)
    parser.add_argument("--wait-h", type=positive_number("hours"), default=None,
                        help="mean wait of all vessels to fit, h (default: calibration.csv's "
                             "lock_wait_all, the 2013 mean; another published wait gives a "
                             "sensitivity, e.g. 50 for cg_lock_wait_2016_little's 48-53)")
    parser.add_argument("--check", action="store_true",
                        help="run the scenario as it is and print the figures")
    parser.add_argument("--maintenance", action="store_true",
                        help="fit (or with --check, measure) the diversion bound during a "
                             "flight's maintenance instead, to calibration.csv's "
                             f"{MAINTENANCE} on the maintenance scenario beside --scenario")
    args = parser.parse_args()
    if args.maintenance:
        if args.wait_h is not None:   # the bound's figure is the queue, not a wait
            parser.exit(2, "lockfit: error: --wait-h is a figure of the three-parameter "
                           "fit, not of --maintenance (whose figure is the queue)\n")
        try:
            bound = fit_maintenance(args.scenario, args.replications, args.passes,
                                    args.tolerance, args.damping, args.check, args.workers)
        except InputError as exc:
            parser.exit(2, f"lockfit: error: {exc.message()}\n")
        said = "as the scenario stands" if args.check else "estimate"
        print(f"{said}: maintenance_divert_wait_hours {bound:.2f}")
        return
    try:
        rows = calibration_rows()
        p = current(args.scenario)
    except InputError as exc:   # one line and exit 2, as cqsim answers bad input
        parser.exit(2, f"lockfit: error: {exc.message()}\n")
    goal = targets(rows)
    if args.wait_h is not None:
        goal["wait_mean_h"] = args.wait_h
    history: list[tuple[Params, dict[str, float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(1 if args.check else args.passes):
            path = scenario_with(p, Path(tmp) / "fit.yaml", args.scenario)
            got = measure(run(path, replications=args.replications, workers=args.workers),
                          rows)
            print(f"pass {k}: {p}")
            print("   " + ", ".join(f"{name} {value:.3f}" for name, value in got.items()),
                  flush=True)
            history.append((p, got))
            if args.check or max(abs(got[n] / t - 1) for n, t in goal.items()) < \
                    args.tolerance:
                break
            p = step(history, args.damping, goal)
    print(f"estimates: {p}")


if __name__ == "__main__":
    main()
