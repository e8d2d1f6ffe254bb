"""The lock fit's secant step: it moves each parameter toward its own figure, and a wait
given on the command line (a sensitivity to another published wait) replaces the 2013 one."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from sim.errors import InputError
from sim.lockfit import Params, current, step, targets
from tests.support.paths import ROOT, SCENARIOS

P = Params(cycle_hours=1.5, chamber_t=20_000.0, bulk_mt=150.0, divert_h=72.0)
TARGETS = targets()


def test_a_revised_calibration_figure_is_fitted_at_its_new_value(tmp_path: Path) -> None:
    """The fit reads its figures from the calibration table, where the calibration report
    checks them: a figure revised there (the wait, the tonnes) is the fit's new target, and
    a table without the lock's rows is one line naming it."""
    from sim.calibration import CALIBRATION_FILE
    from sim.lockfit import calibration_rows
    from sim.targets import seeds_dir

    lines = (seeds_dir() / CALIBRATION_FILE).read_text().splitlines()
    revised = [line.replace("mean wait of all vessels,26,", "mean wait of all vessels,50,")
               .replace("ship locks cargo,169,", "ship locks cargo,180,") for line in lines]
    assert revised != lines
    table = tmp_path / "calibration.csv"
    table.write_text("\n".join(revised) + "\n")
    assert targets(calibration_rows(table)) == {
        "wait_mean_h": 50.0, "vessels_per_lockage": 3.87, "mt_per_year": 180.0}
    table.write_text("\n".join(line for line in lines if not line.startswith("lock_mt,")))
    with pytest.raises(InputError, match="missing: lock_mt"):
        calibration_rows(table)


def test_no_step_at_the_figures() -> None:
    """Where every figure is met, the parameters stay."""
    moved = step([(P, dict(TARGETS))], damping=0.7)
    assert moved.cycle_hours == pytest.approx(P.cycle_hours)
    assert moved.chamber_t == pytest.approx(P.chamber_t)
    assert moved.bulk_mt == pytest.approx(P.bulk_mt)


def test_a_longer_wait_slows_the_flight_only() -> None:
    """Asked for 50 h where the run waited 26 h, the flight's rate falls (a longer cycle at
    the same chamber) by the prior elasticity: exp(0.7 ln(50/26) / 15)."""
    moved = step([(P, dict(TARGETS))], damping=0.7, goal={**TARGETS, "wait_mean_h": 50.0})
    assert moved.chamber_t == pytest.approx(P.chamber_t)
    assert moved.bulk_mt == pytest.approx(P.bulk_mt)
    assert moved.cycle_hours == pytest.approx(1.5 * (50 / 26) ** (0.7 / 15))
    assert moved.cycle_hours > P.cycle_hours


def test_the_secant_uses_the_last_two_passes() -> None:
    """With two passes the elasticity is measured: a 2% slower flight that added 30% to the
    wait gives an elasticity of about -13.2, and the next step covers the rest of the gap at
    that slope."""
    slower = Params(cycle_hours=1.5 * 1.02, chamber_t=P.chamber_t, bulk_mt=P.bulk_mt,
                    divert_h=P.divert_h)
    first = {**TARGETS, "wait_mean_h": 20.0}
    second = {**TARGETS, "wait_mean_h": 26.0}
    target = {**TARGETS, "wait_mean_h": 40.0}
    moved = step([(P, first), (slower, second)], damping=1.0, goal=target)
    elasticity = math.log(26 / 20) / math.log(1 / 1.02)
    expected_rate = P.chamber_t / slower.cycle_hours * math.exp(math.log(40 / 26) / elasticity)
    assert P.chamber_t / moved.cycle_hours == pytest.approx(expected_rate)


@pytest.mark.parametrize(("name", "expected"), [
    ("baseline-2023.yaml", Params(cycle_hours=1.5, chamber_t=20_630.0, bulk_mt=156.3,
                                  divert_h=72.0)),
    ("sensitivity/lock-wait-2016.yaml", Params(cycle_hours=1.5, chamber_t=19_720.0,
                                               bulk_mt=160.0, divert_h=72.0))])
def test_the_fit_starts_from_the_scenario_as_it_runs(name: str, expected: Params) -> None:
    """The starting parameters are those the scenario runs with, through its extends chain
    and changes: the sensitivity file sets only the chamber and the bulk and inherits the
    rest from baseline-2023."""
    assert current(SCENARIOS / name) == expected


def test_a_scenario_it_cannot_read_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """Bad input gets one line naming the file, exit 2, no traceback."""
    done = subprocess.run([sys.executable, "-m", "sim.lockfit", "--scenario",
                           str(tmp_path / "nope.yaml"), "--check"],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("lockfit: error: ") and "nope.yaml" in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_the_container_wait_and_diversion_are_the_three_gorges_locks_own(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`measure`: the container vessels' wait is weighed by the container vessels of each
    direction (lock_classes, as `cqsim calibrate` reads `wait.container`) and averaged over
    replications, the diverted tonnes summed over directions, in Mt; of the Three Gorges
    locks only, never another lock of the run. Replication 0 waited (10 x 100 + 30 x 300) /
    400 = 25 h; replication 1's down direction had no container vessel (its wait NaN) and
    bulk vessels only, so it waited the up direction's 20 h, not 20 x 200 / (200 + 900) = 3.6
    h as weighed by all vessels until review65: 22.5 h over the two; 2 Mt diverted in each."""
    import types

    import pandas as pd

    import sim.lockfit as lockfit

    monkeypatch.setattr(lockfit, "calibrate", lambda res, rows: [
        types.SimpleNamespace(simulated=float(k)) for k in range(len(rows))])
    nan = float("nan")
    locks = pd.DataFrame({
        "replication": [0, 0, 1, 1, 0, 1],
        "lock": [lockfit.LOCK] * 4 + ["gezhouba", "gezhouba"],
        "direction": ["down", "up", "down", "up", "down", "down"],
        "diverted_t_per_year": [1.5e6, 0.5e6, 0.0, 2e6, 9e6, 9e6]})
    classes = pd.DataFrame({
        "replication": [0, 0, 1, 1, 1, 0, 1],
        "lock": [lockfit.LOCK] * 5 + ["gezhouba", "gezhouba"],
        "vessel_class": ["container", "container", "container", "bulk", "container",
                         "container", "container"],
        "wait_mean_h": [10.0, 30.0, nan, 5.0, 20.0, 500.0, 500.0],
        "vessels_per_year": [100.0, 300.0, 0.0, 900.0, 200.0, 1000.0, 1000.0]})

    class Run:
        replications = [types.SimpleNamespace(replication=0),
                        types.SimpleNamespace(replication=1)]

        def by_replication(self, table: str) -> pd.DataFrame:
            return {"locks": locks, "lock_classes": classes}[table]
    got = lockfit.measure(Run(), dict.fromkeys(lockfit.FIGURES))  # type: ignore[arg-type]
    assert got["container_wait_mean_h"] == pytest.approx(22.5)
    assert got["diverted_mt_per_year"] == pytest.approx(2.0)
    assert [got[name] for name in lockfit.FIGURES] == [0.0, 1.0, 2.0, 3.0]


@pytest.mark.parametrize("text", ["0", "1.5", "-0.1", "nan", "inf"])
def test_tolerance_and_damping_outside_0_to_1_are_refused(text: str) -> None:
    """--tolerance and --damping take a share in (0, 1]: 0 would never stop, or never move."""
    import argparse

    from sim.argtypes import share

    with pytest.raises(argparse.ArgumentTypeError, match=r"\(0, 1\]"):
        share(text)
    assert share("1") == 1.0


def test_the_secant_takes_the_measured_slope_or_the_prior() -> None:
    """`secant`: with no pass before, the prior elasticity; with one, the measured slope in
    logs; a slope of the wrong sign (noise near saturation) falls back to the prior."""
    from sim.lockfit import secant

    assert secant(100.0, 300.0, 900.0, prior=1.0, damping=1.0) == pytest.approx(300.0)
    assert secant(100.0, 300.0, 900.0, prior=1.0, damping=0.5) == pytest.approx(
        100.0 * 3 ** 0.5)
    # from (50, 200) to (100, 300): elasticity ln 1.5 / ln 2
    e = math.log(1.5) / math.log(2)
    assert secant(100.0, 300.0, 900.0, 1.0, 1.0, before=(50.0, 200.0)) == pytest.approx(
        100.0 * 3 ** (1 / e))
    assert secant(100.0, 300.0, 900.0, 1.0, 1.0, before=(50.0, 400.0)) == pytest.approx(300.0)


def test_the_maintenance_bound_is_fitted_to_its_own_row_on_its_scenario(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`--maintenance` fits the lock's bound during a maintenance to the shipped fitting
    figure (the 2017 peak queue, role fit, measured on three-gorges-maintenance.yaml), runs
    a scenario extending that file with each bound, and stops within the tolerance. With a
    stand-in simulation whose peak is 3 vessels an hour of bound, from 100 h the first step
    (prior elasticity 1) lands on 900 / 3 = 300 h and stops there."""
    import types

    import yaml

    import sim.lockfit as lockfit

    rows = lockfit.maintenance_rows()
    assert rows[lockfit.MAINTENANCE].role == "fit"
    assert rows[lockfit.MAINTENANCE].scenario == "three-gorges-maintenance.yaml"
    assert "maintenance_divert_wait_hours" in rows[lockfit.MAINTENANCE].parameter
    assert all(rows[i].role == "validate" for i in lockfit.MAINTENANCE_BESIDE)
    ran: list[tuple[str, float]] = []

    def fake_run(path: Path, replications: int | None = None, workers: int = 1) -> object:
        doc = yaml.safe_load(Path(path).read_text())
        bound = doc["network"]["locks"][lockfit.LOCK]["maintenance_divert_wait_hours"]
        ran.append((Path(doc["extends"]).name, bound))
        return types.SimpleNamespace(peak=3.0 * bound)

    monkeypatch.setattr(lockfit, "run", fake_run)
    monkeypatch.setattr(lockfit, "current_bound", lambda file: 100.0)
    monkeypatch.setattr(lockfit, "measure_maintenance", lambda res, rows: {
        i: (res.peak if i == lockfit.MAINTENANCE else 1.0) for i in rows})
    got = lockfit.fit_maintenance(SCENARIOS / "baseline-2023.yaml", 1, passes=5,
                                  tolerance=0.02, damping=1.0)
    assert got == pytest.approx(300.0)
    assert [name for name, _ in ran] == ["three-gorges-maintenance.yaml"] * 2
    assert [b for _, b in ran] == pytest.approx([100.0, 300.0])


@pytest.mark.parametrize(("extra", "said"), [
    ([], "three-gorges-maintenance.yaml"),
    (["--wait-h", "50"], "--wait-h is a figure of the three-parameter fit")])
def test_the_maintenance_fit_needs_its_scenario_beside_the_calibrated_one(
        tmp_path: Path, extra: list[str], said: str) -> None:
    """A calibrated scenario with no maintenance file beside it is one line naming the
    missing file, exit 2, no traceback; so is a wait to fit given to the bound's fit."""
    done = subprocess.run([sys.executable, "-m", "sim.lockfit", "--scenario",
                           str(tmp_path / "base.yaml"), "--maintenance", "--check", *extra],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("lockfit: error: ")
    assert said in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_the_shipped_bound_is_the_maintenance_s_and_baseline_2023_has_none_to_use() -> None:
    """The fitted bound is set in baseline-2023 (which has no maintenance, so it moves none
    of its figures) and reaches the maintenance scenario through its extends chain."""
    from sim.lockfit import current_bound
    from sim.pipeline import prepare

    plan = prepare(SCENARIOS / "baseline-2023.yaml")
    op = plan.network.lock_traffic["three_gorges_locks"]
    assert op.maintenance_divert_wait_hours is not None
    assert op.maintenance_divert_wait_hours > op.divert_wait_hours
    assert not op.maintenance
    assert current_bound(SCENARIOS / "three-gorges-maintenance.yaml") == \
        op.maintenance_divert_wait_hours


def test_the_sensitivity_file_sets_the_maintenance_bound_back_to_normal_operation() -> None:
    """scenarios/sensitivity/maintenance-shippers-divert.yaml is the maintenance with the
    bulk shippers going another way past the 72 h of normal operation, the reading before
    the bound was fitted: the same flight out, the bound during it the normal one."""
    from sim.pipeline import prepare

    fitted = prepare(SCENARIOS / "three-gorges-maintenance.yaml").network.lock_traffic[
        "three_gorges_locks"]
    back = prepare(SCENARIOS / "sensitivity" / "maintenance-shippers-divert.yaml").network \
        .lock_traffic["three_gorges_locks"]
    assert back.maintenance == fitted.maintenance and back.maintenance
    assert back.maintenance_divert_wait_hours == back.divert_wait_hours == 72
    assert fitted.maintenance_divert_wait_hours > 72


def test_the_second_lock_in_a_maintenance_year_is_the_maintenance_plus_its_change() -> None:
    """second-three-gorges-lock-in-maintenance.yaml is three-gorges-maintenance with the
    second lock's one change (lanes 1 -> 2), so `cqsim compare` pairs it with the
    maintenance: the same flight out on the same days, the maintenance's fitted bound."""
    from sim.pipeline import prepare
    from sim.scenario import load_scenario, not_changes_of

    maint = SCENARIOS / "three-gorges-maintenance.yaml"
    both = SCENARIOS / "second-three-gorges-lock-in-maintenance.yaml"
    assert not_changes_of(str(maint), load_scenario(both).provenance.chain) is None
    one, two = prepare(maint).network, prepare(both).network
    lock = "three_gorges_locks"
    assert (one.locks[lock].lanes, two.locks[lock].lanes) == (1, 2)
    assert two.lock_traffic[lock] == one.lock_traffic[lock] and one.lock_traffic[lock].maintenance
