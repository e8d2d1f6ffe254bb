"""Sweeps: spec validation, designs, common random numbers, failures, resume after SIGKILL,
a dead pool worker, and a real Dask scheduler + worker on loopback."""

from __future__ import annotations

import errno
import io
import math
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest
import yaml
from click.testing import CliRunner
from pydantic import ValidationError

import sim
import sim.sweep as sweep_mod
import sim.sweep.tasks as sweep_tasks
from sim.cli import main
from sim.engine.recorder import ReplicationResult
from sim.equilibrium import Settled
from sim.errors import InputError
from sim.progress import Progress, format_duration
from sim.sweep import TIMING_COLUMNS, design, load_sweep, prepare_sweep, run_sweep
from sim.sweep.executors import NO_MAIN_GUARD
from sim.sweep.store import work_folder
from tests.support.dask_cluster import dask_cluster
from tests.support.netbuilder import line_network
from tests.support.paths import CQSIM, ROOT

SERVICE = "network.services.ab.departures_per_week"


def tiny_sweep(tmp: Path, values: Sequence[float] = (7, 14), replications: int = 3,
               teu_per_year: float = 20_000, days: float = 60, **extra: object) -> Path:
    """A sweep over the A-B train frequency of the smallest network (runs of ~0.02 s)."""
    line_network(tmp, teu_per_year=teu_per_year, horizon={"days": days})
    doc = {"base": "scenario.yaml", "replications": replications,
           "parameters": {"grid": {SERVICE: list(values)}}, **extra}
    path = tmp / "sweep.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def slow_sweep(tmp: Path, runs: int = 24) -> Path:
    """Same network with heavy demand: runs of ~0.2 s, so a kill lands mid-sweep."""
    return tiny_sweep(tmp, values=[7, 10, 14, 21], replications=runs // 4,
                      teu_per_year=400_000, days=120)


def comparable(runs: pd.DataFrame) -> pd.DataFrame:
    return runs.drop(columns=list(TIMING_COLUMNS)).sort_values("run_id").reset_index(drop=True)


def cqsim(*args: str, **kw: object) -> subprocess.Popen:
    return subprocess.Popen([*CQSIM, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def wait_for_parts(out: Path, n: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    """Wait until a sweep into `out` has finished `n` runs (kept in its work folder)."""
    folder = work_folder(out)
    deadline = time.monotonic() + timeout
    while len(list((folder / "runs").glob("v*.parquet"))) < n:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "sweep made no progress"
        time.sleep(0.02)


# ----------------------------------------------------------------------------- the file


def test_unknown_key_is_an_input_error_naming_file_and_field(tmp_path: Path) -> None:
    path = tiny_sweep(tmp_path, replicatons=2)
    with pytest.raises(InputError) as err:
        load_sweep(path)
    assert err.value.file == str(path) and err.value.field == "replicatons"
    result = CliRunner().invoke(main, ["sweep", str(path)])
    assert result.exit_code == 2
    assert "sweep.yaml: replicatons: expected no such key" in result.output


@pytest.mark.parametrize("param, value, field", [
    ("network.services.nope.departures_per_week", 8,
     "parameters.grid.network.services.nope.departures_per_week"),
    (SERVICE, -3, f"parameters.grid.{SERVICE}"),
    # a share of empties of a gateway the base has no lane of (it has no market at all)
    ("market.empties.repositioned_share@west", 0.3,
     "parameters.grid.market.empties.repositioned_share@west"),
])
def test_bad_parameter_names_the_sweep_file(tmp_path: Path, param: str, value: object,
                                            field: str) -> None:
    path = tiny_sweep(tmp_path)
    doc = yaml.safe_load(path.read_text())
    doc["parameters"]["grid"] = {param: [7, value]}
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(InputError) as err:
        prepare_sweep(path)
    assert err.value.file == str(path.resolve()) and err.value.field == field


def test_a_misspelt_parameter_path_gets_the_key_it_is_close_to(tmp_path: Path) -> None:
    path = tiny_sweep(tmp_path)
    doc = yaml.safe_load(path.read_text())
    doc["parameters"]["grid"] = {"network.services.abb.departures_per_week": [7, 14]}
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(InputError, match=r"parameters\.grid\.network\.services\.abb\."
                                         r"departures_per_week: expected an existing scenario "
                                         r"field \(did you mean 'ab'\?\) \(in base scenario"):
        prepare_sweep(load_sweep(path))


def test_a_factor_the_sweep_sets_to_a_likely_percentage_is_warned_of(tmp_path: Path) -> None:
    """A scenario file's factor of 20 is warned of as a likely +20%, but the same value in a
    sweep's grid went unwarned (review47 L5): the sweep names its own field, once, whichever
    variants carry it; a factor below 5 is not warned of."""
    import warnings

    from sim.errors import InputWarning

    path = tiny_sweep(tmp_path)
    base = yaml.safe_load((tmp_path / "scenario.yaml").read_text())
    base["changes"] = [{"kind": "demand_growth", "factor": 1.1}]
    (tmp_path / "scenario.yaml").write_text(yaml.safe_dump(base))
    doc = yaml.safe_load(path.read_text())
    doc["parameters"]["grid"] = {"changes.0.factor": [1.2, 20, 30], SERVICE: [7, 14]}
    path.write_text(yaml.safe_dump(doc))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        prepare_sweep(load_sweep(path))
    said = [str(w.message) for w in seen if issubclass(w.category, InputWarning)]
    assert said == [f"{path}: parameters.grid.changes.0.factor: demand_growth multiplies the "
                    "matching flows' TEU/yr by 20 (+1,900%); the factor is a multiplier, not a "
                    "percentage: +20% is 1.2"], said



def test_a_sweep_says_which_change_each_changes_path_sets(tmp_path: Path) -> None:
    """`changes.N` counts the base's merged list, its own base's changes first: a sweep of
    `changes.1.value` meant for the file's second change moved another, in silence (trial48
    H1). validate names the change each path sets, and its file and position there; the
    plots' label keeps the index."""
    from sim.sweep.plots import short

    path = tiny_sweep(tmp_path)
    root = yaml.safe_load((tmp_path / "scenario.yaml").read_text())
    root["changes"] = [{"kind": "set", "hub": "a", "field": "yard_teu", "value": 9000}]
    (tmp_path / "scenario.yaml").write_text(yaml.safe_dump(root))
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump({
        "extends": "scenario.yaml", "name": "mine", "changes": [
            {"kind": "set", "service": "ab", "field": "vehicle_teu", "value": 90}]}))
    doc = yaml.safe_load(path.read_text())
    doc["base"] = "mine.yaml"
    doc["parameters"]["grid"] = {"changes.1.value": [90, 100]}
    path.write_text(yaml.safe_dump(doc))
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "  changes.1.value: set vehicle_teu of service ab (mine.yaml: changes.0)" in \
        result.output.splitlines(), result.output
    assert short("changes.1.value") == "changes.1: value"

def test_a_sweep_of_part_of_a_year_says_what_its_season_carries(tmp_path: Path) -> None:
    """`cqsim run` says per-year figures from part of a year carry its season; a sweep's did
    not, and a 60-day sweep read 13-20% below a year (trial48 M1). The sweep says it too."""
    path = tiny_sweep(tmp_path, days=60)
    base = yaml.safe_load((tmp_path / "scenario.yaml").read_text())
    base["demand"]["seasonality"] = [0.5] * 3 + [1.5] * 9
    (tmp_path / "scenario.yaml").write_text(yaml.safe_dump(base))
    (note,) = prepare_sweep(load_sweep(path)).season_notes()
    assert note.startswith("annualised from days ") and "mean seasonal factor is 0." in note
    base["demand"]["seasonality"] = [1.0] * 12
    (tmp_path / "scenario.yaml").write_text(yaml.safe_dump(base))
    # flat seasonality: still a part year, said without a season (trial64 #3)
    (note,) = prepare_sweep(load_sweep(path)).season_notes()
    assert note.startswith("annualised from days ") and "part of a year" in note
    assert "seasonal factor is" not in note

def test_a_base_factor_is_warned_of_only_where_a_variant_runs_it(tmp_path: Path) -> None:
    """A base's factor of 20 was warned of even when the sweep replaced it in every variant
    (review48 L2): no run used it. Kept by the variants, it is warned of once, naming the
    base file's field."""
    import warnings

    from sim.errors import InputWarning

    path = tiny_sweep(tmp_path)
    base = yaml.safe_load((tmp_path / "scenario.yaml").read_text())
    base["changes"] = [{"kind": "demand_growth", "factor": 20}]
    (tmp_path / "scenario.yaml").write_text(yaml.safe_dump(base))
    doc = yaml.safe_load(path.read_text())

    def said(grid: dict) -> list[str]:
        doc["parameters"]["grid"] = grid
        path.write_text(yaml.safe_dump(doc))
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            prepare_sweep(load_sweep(path))
        return [str(w.message) for w in seen if issubclass(w.category, InputWarning)]

    assert said({"changes.0.factor": [1.1, 1.2]}) == []
    assert said({SERVICE: [7, 14]}) == [
        f"{tmp_path / 'scenario.yaml'}: changes.0.factor: demand_growth multiplies the matching "
        "flows' TEU/yr by 20 (+1,900%); the factor is a multiplier, not a percentage: +20% is "
        "1.2"]

@pytest.mark.parametrize("value, said", [
    ({"a": 1}, "a number, a boolean or a text (one value), got a mapping of 1 key"),
    ([7], "a number, a boolean or a text (one value), got [7]"),
    (None, "a number, a boolean or a text, got null"),
    ("2023-01-01", "a number, a boolean or a text, got 2023-01-01"),
])
def test_a_grid_value_that_is_not_one_value_is_quoted(tmp_path: Path, value: object,
                                                     said: str) -> None:
    """A mapping was refused without its "got ...", and a null or a date was called "not a
    list or a mapping", which it is not (review45, L3)."""
    path = tiny_sweep(tmp_path)
    doc = yaml.safe_load(path.read_text())
    doc["parameters"]["grid"] = {SERVICE: [7, value]}
    path.write_text(yaml.safe_dump(doc).replace("'2023-01-01'", "2023-01-01"))  # a date
    with pytest.raises(InputError) as err:
        load_sweep(path)
    assert str(err.value).endswith(f"{SERVICE}.1: expected {said}"), str(err.value)


def test_a_fixed_value_a_parent_refuses_names_the_fixed_path(tmp_path: Path) -> None:
    """The horizon's own check names `horizon`: a fixed warm-up longer than the days was
    blamed on parameters.grid.horizon; it names fixed.horizon.warmup_days now."""
    path = tiny_sweep(tmp_path)
    doc = yaml.safe_load(path.read_text())
    doc.update(fixed={"horizon.warmup_days": 80})     # the base runs 60 days
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(InputError) as err:
        prepare_sweep(path)
    assert err.value.field == "fixed.horizon.warmup_days", str(err.value)


def test_a_fixed_value_the_build_refuses_is_said_of_the_sweep(tmp_path: Path) -> None:
    """A fixed value that passes as an override but breaks the build (a change's whole-number
    value given 2.5) was blamed on the base file, the value hidden (fuzz2 M5)."""
    from tests.support.paths import SCENARIOS

    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump({
        "name": "fixed", "base": str(SCENARIOS / "baseline.yaml"), "days": 30,
        "replications": 1, "fixed": {"changes.1.value": 2.5},
        "parameters": {"grid": {"network.services.south-sea-singapore.departures_per_week":
                                [7, 10]}}}))
    with pytest.raises(InputError) as err:
        prepare_sweep(path)
    said = str(err.value)
    assert said.startswith(f"{path}: fixed ({{'changes.1.value': 2.5}}): expected a scenario "
                           "that builds ("), said
    assert "changes.1.value" in said.split("builds (", 1)[1], said


def test_grid_and_sample_exclude_each_other(tmp_path: Path) -> None:
    path = tiny_sweep(tmp_path)
    doc = yaml.safe_load(path.read_text())
    doc["parameters"]["sample"] = {"n": 4, "seed": 1, "ranges": {SERVICE: [7, 14]}}
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(InputError, match="exactly one of grid, sample or points"):
        load_sweep(path)
    doc["parameters"] = {}       # none of them: no variant at all
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(InputError, match="exactly one of grid, sample or points"):
        load_sweep(path)


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["parameters"].update(grid={SERVICE: [7, 7.0]}), "distinct values"),
    (lambda d: d.update(fixed={SERVICE: 3}), f"fixed.{SERVICE}: a path that parameters"),
    (lambda d: d["parameters"].update(grid=None, points=[{SERVICE: 7}, {SERVICE: 7.0}]),
     "distinct parameters.points"),
    (lambda d: d.update(parameters={"points": [{SERVICE: 7}]}, point_replications=[[0, 0]]),
     "point_replications: distinct replication indices"),
    (lambda d: d["parameters"].update(grid=None, sample={
        "n": 3, "seed": 1, "ranges": {SERVICE: [7, 7]}}), "high greater than low"),
])
def test_a_sweep_that_says_one_thing_twice_is_refused(tmp_path: Path, edit, message) -> None:
    """Each ran without a word: the same variant twice (a value or a point given twice, a
    range of one value), a replication twice, or a fixed value the grid overrode."""
    path = tiny_sweep(tmp_path)
    doc = yaml.safe_load(path.read_text())
    edit(doc)
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(InputError, match=re.escape(message)):
        load_sweep(path)


DAYS_BOTH = "expected horizon.days varied or days: set, not both (days: 15 sets every run's " \
            "horizon)"
SHORTER = "expected a warm-up that leaves at least 1 day of days: 15 to measure (a longer one is " \
          "dropped: its runs would have none), got 20"


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["parameters"].update(grid={"horizon.days": [12, 30]}),
     f"parameters.grid.horizon.days: {DAYS_BOTH}"),
    (lambda d: d.update(fixed={"horizon.days": 30}), f"fixed.horizon.days: {DAYS_BOTH}"),
    (lambda d: d["parameters"].update(grid=None, points=[{"horizon.days": 12}]),
     f"parameters.points.horizon.days: {DAYS_BOTH}"),
    (lambda d: d["parameters"].update(grid=None, sample={
        "n": 3, "seed": 1, "ranges": {"horizon.days": [12, 30]}}),
     f"parameters.sample.ranges.horizon.days: {DAYS_BOTH}"),
    (lambda d: d["parameters"].update(grid={"horizon.warmup_days": [0, 5, 20]}),
     f"parameters.grid.horizon.warmup_days: {SHORTER}"),
    (lambda d: d.update(fixed={"horizon.warmup_days": 20}),
     f"fixed.horizon.warmup_days: {SHORTER}"),
    (lambda d: d["parameters"].update(grid=None, sample={
        "n": 3, "seed": 1, "ranges": {"horizon.warmup_days": [0, 15]}}),
     "parameters.sample.ranges.horizon.warmup_days: expected a warm-up that leaves at least 1 "
     "day of days: 15"),
    (lambda d: d["parameters"].update(grid={"equilibrium.days": [10, 20]}),
     "parameters.grid.equilibrium.days: expected feedback passes of at most days: 15 (a longer "
     "one is cut to the run's horizon), got 20"),
])
def test_days_that_would_replace_a_horizon_the_sweep_sets_is_refused(
        tmp_path: Path, edit, message: str) -> None:
    """Audit s16 #2: `days: 15` silently beat a varied or fixed horizon (every variant ran 15
    days, or without its warm-up) while runs.parquet recorded the values not run."""
    path = tiny_sweep(tmp_path, replications=1)          # the base runs 60 days
    doc = yaml.safe_load(path.read_text())
    doc["days"] = 15
    edit(doc)
    doc["parameters"] = {k: v for k, v in doc["parameters"].items() if v is not None}
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(InputError) as err:
        load_sweep(path)
    assert f"sweep.yaml: {message}" in str(err.value)
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1


def test_days_before_a_window_the_sweep_moves_is_refused(tmp_path: Path) -> None:
    """A closure moved to day 20 of a 15-day sweep had no effect, recorded as day 20."""
    path = tiny_sweep(tmp_path, replications=1, parameters={
        "grid": {"changes.0.start_day": [5, 20]}})
    scenario = tmp_path / "scenario.yaml"
    doc = yaml.safe_load(scenario.read_text())
    doc["changes"] = [{"kind": "disruption", "link": "a-b", "start_day": 5, "end_day": 40,
                       "capacity_factor": 0}]
    scenario.write_text(yaml.safe_dump(doc))
    sweep = yaml.safe_load(path.read_text())
    path.write_text(yaml.safe_dump({**sweep, "days": 15}))
    with pytest.raises(InputError, match=r"parameters\.grid\.changes\.0\.start_day: expected a "
                       r"start inside the horizon of days: 15 \(a window starting later has no "
                       r"effect\), got 20"):
        load_sweep(path)


def test_days_with_a_shorter_warmup_varied_is_a_sweep(tmp_path: Path) -> None:
    path = tiny_sweep(tmp_path, replications=1,                 # the base runs 60 days
                      parameters={"grid": {"horizon.warmup_days": [0, 5, 10]}})
    doc = yaml.safe_load(path.read_text())
    path.write_text(yaml.safe_dump({**doc, "days": 15}))
    sweep = prepare_sweep(path)
    horizons = [(t.settled or t).plan.horizon for t in sweep.tasks]  # type: ignore[union-attr]
    assert [(h.days, h.warmup_days) for h in horizons] == [(15, 0), (15, 5), (15, 10)]
    spec = load_sweep(path).model_copy(update={"days": 10.0})    # a spec made in Python
    with pytest.raises(InputError, match="warmup_days: expected a warm-up that leaves at "
                                         "least 1 day of days: 10"):
        prepare_sweep(spec)


def test_fixed_run_settings_are_refused(tmp_path: Path) -> None:
    """Audit s16 #10: `fixed: {replications: 3}` was accepted and ignored (1 run a variant)."""
    path = tiny_sweep(tmp_path, fixed={"replications": 3})
    with pytest.raises(InputError, match=r"fixed: expected paths of model inputs, not "
                                         r"replications \(a run setting"):
        load_sweep(path)


def test_designs() -> None:
    grid = sweep_mod.Parameters(grid={"a.x": [1, 2, 3], "b.y": [10, 20]})
    assert design(grid) == [{"a.x": a, "b.y": b} for a in (1, 2, 3) for b in (10, 20)]
    lhs = sweep_mod.Parameters(sample={"n": 10, "seed": 3, "ranges": {
        "a.x": [0.0, 10.0], "b.y": {"low": 5, "high": 25, "integer": True}}})
    points = design(lhs)
    assert points == design(lhs)  # the design seed makes it reproducible
    xs = np.array([p["a.x"] for p in points])
    assert sorted((xs // 1.0).astype(int)) == list(range(10))  # one point per stratum
    assert all(isinstance(p["b.y"], int) and 5 <= p["b.y"] <= 25 for p in points)
    # a whole number stays inside a range of fractional ends; a range holding none, or a
    # flag that is not a boolean, is refused (7.2-7.8 ran 7, outside it; 'yes' read as true)
    ends = sweep_mod.Parameters(sample={"n": 20, "seed": 1, "ranges": {
        "b.y": {"low": 6.4, "high": 8.6, "integer": True}}})
    assert {p["b.y"] for p in design(ends)} <= {7, 8}
    for bad in ({"low": 7.2, "high": 7.8, "integer": True},
                {"low": 1, "high": 9, "integer": "yes"}):
        with pytest.raises(ValidationError):
            sweep_mod.Parameters(sample={"n": 2, "seed": 1, "ranges": {"b.y": bad}})
    rnd = sweep_mod.Parameters(sample={"method": "random", "n": 5, "seed": 3,
                                       "ranges": {"a.x": [0, 1]}})
    assert len(design(rnd)) == 5 and design(rnd) != design(lhs)[:5]
    # random sampling is reproducible by its seed too (a sweep whose variants changed from
    # one call to the next could never be resumed: its fingerprint holds them)
    assert design(rnd) == design(rnd)
    other = sweep_mod.Parameters(sample={"method": "random", "n": 5, "seed": 4,
                                         "ranges": {"a.x": [0, 1]}})
    assert design(other) != design(rnd)


# ----------------------------------------------------------------------------- runs


def test_sweep_runs_answer_to_cost_as_plain_runs_do(tmp_path: Path) -> None:
    """Demand elasticity applies in a sweep exactly as in `sim.run`: a variant with twice the
    trains of the reference network induces freight, in both."""
    path = tiny_sweep(tmp_path, values=[7, 28], replications=1, days=120)
    doc = yaml.safe_load((tmp_path / "scenario.yaml").read_text())
    doc["demand"]["reference_scenario"] = "scenario.yaml"
    (tmp_path / "scenario.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    runs = run_sweep(path, tmp_path / "out", workers=1, plots=False).set_index("variant")
    scenario = sim.with_overrides(sim.load_scenario(tmp_path / "scenario.yaml"), **{SERVICE: 28})
    plain = sim.run(scenario, replications=1)
    assert plain.equilibrium["induced_teu_per_year"] > 0
    assert runs.loc["v0001", "total_teu_per_year"] == plain.corridors["teu_per_year"].sum()
    assert runs.loc["v0001", "total_teu_per_year"] > runs.loc["v0000", "total_teu_per_year"]


def test_runs_use_the_scenario_seed_and_replication(tmp_path: Path) -> None:
    """Common random numbers: variant k, replication r = a plain run's replication r."""
    path = tiny_sweep(tmp_path, values=[7, 14], replications=2)
    runs = run_sweep(path, tmp_path / "out", workers=1, plots=False)
    assert list(runs["run_id"]) == ["v0000-r000", "v0000-r001", "v0001-r000", "v0001-r001"]
    assert set(runs["status"]) == {"ok"}
    scenario = sim.with_overrides(sim.load_scenario(tmp_path / "scenario.yaml"), **{SERVICE: 14})
    plain = sim.run(scenario, replications=2).by_replication("corridors")
    for r in (0, 1):
        expected = plain[plain["replication"] == r].set_index("corridor")
        got = runs[runs["run_id"] == f"v0001-r00{r}"].iloc[0]
        assert got["seed"] == 1 and got["replication"] == r
        assert got["total_teu_per_year"] == expected["teu_per_year"].sum() > 0
        assert got["west_trade_bn_cny_per_year"] == expected.loc["west", "trade_bn_cny_per_year"]
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert list(summary["runs_ok"]) == [2, 2] and "total_teu_per_year_ci95" in summary


@pytest.mark.slow
def test_sampled_sweep_writes_summary_sensitivity_and_plots(tmp_path: Path) -> None:
    path = tiny_sweep(tmp_path)
    doc = yaml.safe_load(path.read_text())
    doc["replications"] = 2
    doc["parameters"] = {"sample": {"n": 4, "seed": 5, "ranges": {
        SERVICE: {"low": 3, "high": 21, "integer": True}, "demand.lot_teu": [5, 20]}}}
    path.write_text(yaml.safe_dump(doc))
    out = tmp_path / "out"
    outcome = sweep_mod.execute_sweep(path, out, workers=1, progress=False)
    assert len(outcome.runs) == 8 and set(outcome.runs["status"]) == {"ok"}
    assert outcome.runs[SERVICE].between(3, 21).all()
    assert outcome.runs["demand.lot_teu"].between(5, 20).all()
    sens = pd.read_csv(out / "sensitivity.csv")
    assert set(sens["parameter"]) == {SERVICE, "demand.lot_teu"}
    assert set(sens["kpi"]) == {"total_teu_per_year", "goods_trade_bn_cny_per_year"}
    for name in ("total_teu_per_year", "goods_trade_bn_cny_per_year", "sensitivity"):
        assert (out / "plots" / f"{name}.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_failed_run_is_recorded_and_retried_on_resume(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path = tiny_sweep(tmp_path, values=[7, 14], replications=3)
    real = sweep_tasks.replicate_one

    def flaky(settled: Settled, replication: int) -> ReplicationResult:
        if replication == 1:
            raise RuntimeError("boom in replication 1")
        return real(settled, replication)

    monkeypatch.setattr(sweep_tasks, "replicate_one", flaky)
    out = tmp_path / "out"
    outcome = sweep_mod.execute_sweep(path, out, workers=1, progress=False)
    failed = outcome.runs[outcome.runs["status"] == "failed"]
    assert list(failed["run_id"]) == ["v0000-r001", "v0001-r001"]
    assert failed["error"].str.contains("RuntimeError: boom in replication 1").all()
    assert outcome.runs.loc[outcome.runs["status"] == "ok", "total_teu_per_year"].notna().all()
    assert list(outcome.summary["runs_failed"]) == [1, 1]
    assert (out / "plots" / "total_teu_per_year.png").stat().st_size > 0
    assert (out / "plots" / "sensitivity.png").stat().st_size > 0
    result = CliRunner().invoke(main, ["sweep", str(path), "--out", str(tmp_path / "cli"),
                                       "--workers", "1", "--no-plots"])
    assert result.exit_code == 1 and "2 of 6 runs failed" in result.output

    ok_parts = {p: p.stat().st_mtime_ns for p in (out / "runs").glob("*.parquet")
                if "r001" not in p.name}
    monkeypatch.setattr(sweep_tasks, "replicate_one", real)
    again = sweep_mod.execute_sweep(path, out, workers=1, progress=False, resume=True)
    assert again.resumed == 4 and set(again.runs["status"]) == {"ok"}
    assert len(again.runs) == 6 and again.runs["run_id"].is_unique
    assert {p: p.stat().st_mtime_ns for p in ok_parts} == ok_parts


def test_one_failed_run_is_warned_of(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`run_sweep` returns failed runs as rows: even one of them is warned of, as a mean over
    the rows left would compare its variant over fewer replications than the others."""
    from sim.errors import SweepWarning

    path = tiny_sweep(tmp_path, values=[7, 14], replications=2, days=20)
    real, calls = sweep_tasks.replicate_one, []

    def once(settled: Settled, replication: int) -> ReplicationResult:
        calls.append(replication)
        if len(calls) == 4:     # the last run (in this process, in order)
            raise RuntimeError("boom in one run")
        return real(settled, replication)

    monkeypatch.setattr(sweep_tasks, "replicate_one", once)
    with pytest.warns(SweepWarning, match=r"1 of 4 sweep runs failed .*boom in one run"):
        runs = run_sweep(path, workers=1, plots=False)
    assert list(runs["status"]) == ["ok", "ok", "ok", "failed"]


def test_a_sweep_of_one_failed_run_says_run(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """One run, failed: the warning reads "1 of 1 sweep run failed" (it read "1 of 1 sweep
    runs"), the count through `errors.plural` as the sweep's other notes."""
    from sim.errors import SweepWarning

    path = tiny_sweep(tmp_path, values=[7], replications=1, days=20)

    def boom(settled: Settled, replication: int) -> ReplicationResult:
        raise RuntimeError("boom in the run")

    monkeypatch.setattr(sweep_tasks, "replicate_one", boom)
    with pytest.warns(SweepWarning, match=r"^1 of 1 sweep run failed "):
        runs = run_sweep(path, workers=1, plots=False)
    assert list(runs["status"]) == ["failed"]


def test_resume_refuses_a_changed_sweep(tmp_path: Path) -> None:
    path = tiny_sweep(tmp_path, values=[7], replications=1)
    run_sweep(path, tmp_path / "out", workers=1, plots=False)
    path.write_text(path.read_text().replace("- 7", "- 8"))
    with pytest.raises(InputError, match="same sweep"):
        run_sweep(path, tmp_path / "out", workers=1, resume=True)


def test_resume_refuses_a_sweep_whose_seed_changed(tmp_path: Path) -> None:
    """The sweep file is not among the digested inputs, so its `seed:` must be part of the
    sweep's identity: a resume after it changed would add runs of another seed to the kept
    ones, in one table."""
    path = tiny_sweep(tmp_path, values=[7], replications=1, seed=1)
    run_sweep(path, tmp_path / "out", workers=1, plots=False)
    path.write_text(path.read_text().replace("seed: 1", "seed: 2"))
    assert yaml.safe_load(path.read_text())["seed"] == 2
    with pytest.raises(InputError, match="same sweep"):
        run_sweep(path, tmp_path / "out", workers=1, resume=True)


def _interrupted_sweep(tmp: Path, monkeypatch: pytest.MonkeyPatch, after: int = 2
                       ) -> tuple[Path, Path]:
    """A sweep of 4 runs stopped (Ctrl-C) after `after` of them: its work folder keeps them."""
    path = tiny_sweep(tmp, values=[7, 14], replications=2)
    real, calls = sweep_tasks.replicate_one, []

    def interrupted(settled: Settled, replication: int) -> ReplicationResult:
        calls.append(replication)
        if len(calls) > after:
            raise KeyboardInterrupt
        return real(settled, replication)

    out = tmp / "out"
    with monkeypatch.context() as patch:
        patch.setattr(sweep_tasks, "replicate_one", interrupted)
        with pytest.raises(KeyboardInterrupt):
            run_sweep(path, out, workers=1, plots=False, progress=False)
    assert len(list((work_folder(out) / "runs").glob("v*.parquet"))) == after
    return path, out


def test_a_sweep_refused_beside_an_interrupted_one_leaves_nothing_in_the_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sweep's work folder is checked after its results folder is staged: an interrupted
    sweep beside --out with neither --resume nor --overwrite is refused there. The results
    folder accepted the input on entering, so the routes its checks settled were written to
    the cache before the refusal (final read 43, F1)."""
    path = tiny_sweep(tmp_path, values=[7], replications=1)
    out = tmp_path / "out"
    (work_folder(out) / "runs").mkdir(parents=True)
    kept = tmp_path / "cache"
    monkeypatch.setenv("CQSIM_CACHE_DIR", str(kept))
    result = CliRunner().invoke(main, ["sweep", str(path), "--out", str(out), "--workers",
                                       "1", "--no-plots"])
    assert result.exit_code == 2, (result.output, result.exception)
    assert len(result.stderr.strip().splitlines()) == 1 and "--resume" in result.stderr
    assert not kept.exists() or not any(kept.iterdir())


def test_resume_refuses_inputs_changed_since_the_runs_kept(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Audit s16 #1: the fingerprint was the scenario's dump, which names the geodata by path
    only: a resume after links.geojson changed mixed runs of two networks in one table."""
    path, out = _interrupted_sweep(tmp_path, monkeypatch)
    links = tmp_path / "geo" / "links.geojson"
    before = links.read_text()
    links.write_text(before.replace('"hours": 10.0', '"hours": 200.0'))
    with pytest.raises(InputError, match=r"--resume: expected the inputs of the runs kept "
                       r"\(.*geo/links\.geojson changed since they were made; use another "
                       r"--out or drop --resume\)"):
        run_sweep(path, out, workers=1, plots=False, progress=False, resume=True)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["sweep", str(path), "--out", str(out), "--workers", "1",
                                       "--no-plots", "--resume"])
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "--resume: expected the inputs of the runs kept (geo/links.geojson changed" \
        in result.output
    links.write_text(before)                   # as it was: the runs kept are good again
    again = sweep_mod.execute_sweep(path, out, workers=1, plots=False, progress=False,
                                    resume=True)
    assert again.resumed == 2 and set(again.runs["status"]) == {"ok"} and len(again.runs) == 4


def test_a_part_that_cannot_be_read_is_run_again_on_resume(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A part file cut short (a disk that filled, a copy interrupted) is not a finished run:
    a resume runs it again, and the assembled table reads every part; the part that is
    whole is kept as it was, not run again."""
    path, out = _interrupted_sweep(tmp_path, monkeypatch)
    torn, whole = sorted((work_folder(out) / "runs").glob("v*.parquet"))
    torn.write_bytes(torn.read_bytes()[:40])
    kept = whole.stat().st_mtime_ns
    again = sweep_mod.execute_sweep(path, out, workers=1, plots=False, progress=False,
                                    resume=True)
    assert again.resumed == 1 and len(again.runs) == 4 and set(again.runs["status"]) == {"ok"}
    assert torn.stem in set(again.runs["run_id"])
    assert (out / "runs" / whole.name).stat().st_mtime_ns == kept


def test_resume_refuses_a_changed_code_version(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    path, out = _interrupted_sweep(tmp_path, monkeypatch, after=1)
    monkeypatch.setattr("sim.cache.code_identity", lambda: "another version")
    with pytest.raises(InputError, match=r"\(cqsim's code .* changed since"):
        run_sweep(path, out, workers=1, plots=False, progress=False, resume=True)


def test_each_row_recorded_is_counted_failed_or_not() -> None:
    """Every executor records a row through `counted`: written, then counted on the progress,
    as failed when its status is not ok (the "(1 failed)" of a sweep's or a plan's line)."""
    from sim.sweep.executors import counted

    rows: list[dict] = []
    bar = Progress(3, 0, "demo", False)
    record = counted(rows.append, bar)
    for status in ("ok", "failed", "ok"):
        record({"run_id": status, "status": status})
    assert len(rows) == 3 and (bar.done, bar.failed) == (3, 1)


def test_plain_progress_lines() -> None:
    stream = io.StringIO()
    with Progress(4, 1, "demo", None, interval=0.0, stream=stream) as bar:
        bar.advance()
        bar.advance(failed=True)
        bar.advance()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "demo: resuming: 1/4 runs already done" or "resuming" in lines[0]
    assert lines[1].startswith("demo: 2/4 runs done, ETA ")
    assert lines[2].startswith("demo: 3/4 runs done (1 failed), ETA ")
    assert lines[-1].startswith("demo: 4/4 runs done (1 failed), ") and "elapsed" in lines[-1]
    assert format_duration(80) == "1m20s" and format_duration(7505) == "2h05m"
    assert format_duration(3.2 * 86400) == "3d04h" and format_duration(math.inf) == "unbounded"


def test_a_duration_pads_its_second_unit_and_changes_unit_at_the_boundaries() -> None:
    assert format_duration(65) == "1m05s" and format_duration(3660) == "1h01m"
    assert format_duration(59.4) == "59s" and format_duration(60) == "1m00s"
    assert format_duration(3600) == "1h00m" and format_duration(86400) == "1d00h"


def test_the_eta_counts_the_runs_left_not_those_done_before_a_resume(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """10 runs, 4 done before the resume, 2 in this session in 20 s: 4 left, 40 s."""
    monkeypatch.setattr("sim.progress.time.perf_counter", lambda: 100.0)
    progress = Progress(10, 4, "demo", show=False)
    progress.start, progress.done = 80.0, 2
    assert progress.remaining == 4 and progress.eta_seconds() == 40.0
    assert progress.status() == "demo: 6/10 runs done, ETA 40s"


# ----------------------------------------------------------------------------- real kills


@pytest.mark.slow
def test_sigkill_mid_sweep_then_resume(tmp_path: Path) -> None:
    path = slow_sweep(tmp_path, runs=24)
    out = tmp_path / "out"
    proc = cqsim("sweep", str(path), "--out", str(out), "--workers", "2", "--no-plots",
                 start_new_session=True)
    try:
        wait_for_parts(out, 4, proc)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its pool, no clean-up
        proc.communicate()
    before = {p.name: p.stat().st_mtime_ns
              for p in (work_folder(out) / "runs").glob("v*.parquet")}
    assert 4 <= len(before) < 24 and not out.exists()

    proc = cqsim("sweep", str(path), "--out", str(out), "--workers", "2", "--no-plots")
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "--resume to continue it" in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1

    proc = cqsim("sweep", str(path), "--out", str(out), "--workers", "2", "--resume",
                 "--no-plots")
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert f"resuming: {len(before)}/24 runs already done" in stderr
    assert "24/24 runs done" in stderr
    runs = pd.read_parquet(out / "runs.parquet")
    expected = {f"v{k:04d}-r{r:03d}" for k in range(4) for r in range(6)}
    assert set(runs["run_id"]) == expected and runs["run_id"].is_unique
    assert set(runs["status"]) == {"ok"}
    after = {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("v*.parquet")}
    assert {name: after[name] for name in before} == before  # finished runs not recomputed


def _pool_workers(pid: int) -> list[psutil.Process]:
    return [c for c in psutil.Process(pid).children(recursive=True)
            if "spawn_main" in " ".join(c.cmdline())]


@pytest.mark.slow
def test_pool_worker_killed_mid_sweep(tmp_path: Path) -> None:
    path = slow_sweep(tmp_path, runs=16)
    out = tmp_path / "out"
    proc = cqsim("sweep", str(path), "--out", str(out), "--workers", "2", "--no-plots")
    try:
        wait_for_parts(out, 2, proc)
        victims = _pool_workers(proc.pid)
        assert victims
        victims[0].send_signal(signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert "a worker process died" in stderr
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 16 and runs["run_id"].is_unique and set(runs["status"]) == {"ok"}
    reference = run_sweep(path, workers=1, plots=False)
    pd.testing.assert_frame_equal(comparable(runs), comparable(reference))


def test_a_script_without_the_main_guard_records_its_runs_as_failed(tmp_path: Path) -> None:
    """docs/sweeps.md: the pool's workers, re-running the unguarded script, cannot start; the
    runs are recorded as failed with the advice, in place of a broken pool's traceback."""
    path = tiny_sweep(tmp_path, replications=1, days=20)
    script = tmp_path / "unguarded.py"
    script.write_text("import sim\n"
                      f"runs = sim.run_sweep({str(path)!r}, workers=2, plots=False)\n"
                      "print(*runs['status'], sep='\\n')\n"
                      "print(runs['error'][0])\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    *status, error = done.stdout.splitlines()
    assert status == ["failed", "failed"]
    assert "if __name__ == '__main__':" in error
    assert "Traceback" not in done.stderr and "BrokenProcessPool" not in done.stderr
    # each worker that tried (2 per pool, 3 pools) says why, in a line (they may interleave),
    # and the call warns that runs failed (it returned them in silence; trial48 M2): the
    # warning's line and the call's source line
    said = done.stderr.splitlines()
    assert NO_MAIN_GUARD in done.stderr and len(said) <= 8, said
    assert [line for line in said if "SweepWarning: 2 of 2 sweep runs failed" in line], said


# ----------------------------------------------------------------------------- a real cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, subprocess.Popen]]:
    """`dask scheduler` and one `dask worker` (1 process, 1 thread) on loopback."""
    with dask_cluster(tmp_path_factory.mktemp("dask")) as running:
        yield running


@pytest.mark.slow
def test_dask_cluster_gives_the_local_pool_results(tmp_path: Path,
                                                   cluster: tuple[str, subprocess.Popen]) -> None:
    address, _ = cluster
    path = tiny_sweep(tmp_path, values=[7, 14], replications=3)
    proc = cqsim("sweep", str(path), "--out", str(tmp_path / "dask"), "--scheduler", address,
                 "--no-plots")
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    on_dask = pd.read_parquet(tmp_path / "dask" / "runs.parquet")
    on_pool = run_sweep(path, tmp_path / "pool", workers=2, plots=False)
    assert len(on_dask) == 6 and set(on_dask["status"]) == {"ok"}
    assert on_dask["worker"].nunique() == 1 and on_pool["worker"].nunique() >= 1
    pd.testing.assert_frame_equal(comparable(on_dask), comparable(on_pool))
    on_local_cluster = run_sweep(path, local_cluster=True, workers=1, plots=False)
    pd.testing.assert_frame_equal(comparable(on_local_cluster), comparable(on_pool))


@pytest.mark.slow
def test_dask_worker_killed_mid_sweep(tmp_path: Path,
                                      cluster: tuple[str, subprocess.Popen]) -> None:
    address, worker_cli = cluster
    path = slow_sweep(tmp_path, runs=12)
    out = tmp_path / "out"
    proc = cqsim("sweep", str(path), "--out", str(out), "--scheduler", address, "--no-plots")
    try:
        wait_for_parts(out, 2, proc)
        workers = psutil.Process(worker_cli.pid).children(recursive=True)
        victim = next(c for c in workers if "resource_tracker" not in " ".join(c.cmdline()))
        victim.send_signal(signal.SIGKILL)  # the nanny restarts it; the scheduler reschedules
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 12 and runs["run_id"].is_unique and set(runs["status"]) == {"ok"}
    assert runs["worker"].nunique() == 2  # the killed process, then its replacement


def test_an_empty_name_or_replication_list_is_said_plainly(tmp_path: Path) -> None:
    """A sweep named '' takes its file's name, as one without a name does (its progress
    line read ": 0/1 runs done"); a point with no replications listed is said to need one
    (it was told "distinct replication indices >= 0")."""
    path = tiny_sweep(tmp_path, name="")
    assert load_sweep(path).name == "sweep"
    doc = yaml.safe_load(path.read_text())
    doc["parameters"] = {"points": [{SERVICE: 7}, {SERVICE: 14}]}
    doc["point_replications"] = [[], [0]]
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(InputError, match="at least one replication for each point"):
        load_sweep(path)
    # running the base as it is holds for a list of points only (`cqsim uncertainty`'s)
    doc = yaml.safe_load(tiny_sweep(tmp_path).read_text())
    doc["first_point_as_is"] = True
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(InputError, match="first_point_as_is: with parameters.points only"):
        load_sweep(path)


def test_each_variant_is_priced_on_its_own(tmp_path: Path) -> None:
    """A sweep is priced again once its variants are built, each on its own plan: a grid
    value that shrinks the lot, or a point's own list of replications, made a sweep of days
    pass the limits priced on the base alone (probe, 2026-12-04). A sweep within them is
    still admitted."""
    from sim.boundary import check_sweep
    from sim.budget import Limits, estimate
    from sim.pipeline import prepare

    path = tiny_sweep(tmp_path, values=[7], replications=1)
    one = estimate(prepare(tmp_path / "scenario.yaml", replications=1))
    limits = Limits(max_events=200 * one.events, max_memory=None)
    assert prepare_sweep(path, limits).tasks      # within: admitted
    doc = yaml.safe_load(path.read_text())
    doc["parameters"]["grid"]["demand.lot_teu"] = [0.001]    # 1,000 lots for each TEU
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(InputError, match=r"sweep of 1 variant .*events"):
        prepare_sweep(path, limits)
    doc["parameters"] = {"points": [{SERVICE: 7}, {SERVICE: 14}]}
    doc["point_replications"] = [list(range(300)), list(range(300))]
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(InputError, match=r"sweep of 600 runs \(2 points, each with its own "
                                         r"replications\).*events"):
        prepare_sweep(path, limits)
    # the base alone, at the sweep's one replication, passed both
    check_sweep(2, estimate(prepare(tmp_path / "scenario.yaml", replications=1)), 1, limits,
                str(path))


def test_the_first_price_counts_each_points_own_replications(tmp_path: Path) -> None:
    """The price a sweep is refused by before its variants are built counts each point's
    own replications: `cqsim uncertainty`'s noise point runs 8, and the 256-sample study of
    plan-2025 was quoted at 387 runs (129 points x 3 passes, the 8 counted as one) where it
    runs 136 replications, 408 (docs audit, 2026-12-06)."""
    from sim.budget import Limits, estimate
    from sim.pipeline import prepare

    path = tiny_sweep(tmp_path, replications=1)
    doc = yaml.safe_load(path.read_text())
    reps = [list(range(8)), [0], [1]]     # the noise point, then two design points
    doc["parameters"] = {"points": [{SERVICE: 7}, {SERVICE: 14}, {SERVICE: 21}]}
    doc["point_replications"] = reps
    path.write_text(yaml.safe_dump(doc))
    runs = sum(estimate(prepare(tmp_path / "scenario.yaml", replications=len(r))).runs
               for r in reps)
    one = estimate(prepare(tmp_path / "scenario.yaml", replications=1)).runs
    assert runs > len(reps) * one      # the case the old price got wrong
    with pytest.raises(InputError, match=rf"per replication x {runs:,} simulations"):
        prepare_sweep(path, Limits(max_events=1, max_memory=None))


def test_a_sweep_over_the_wait_other_users_accept_carries_the_calls_gone(
        tmp_path: Path) -> None:
    """Port x shut for 60 days: a sweep over its other users' `diverts_after_hours` records
    each run's TEU gone elsewhere a year, from every hub, in runs.parquet and summary.csv and
    plots it (the runs carried no such figure: the diversion's first session left it out);
    the longer the calls wait, the fewer go; 8,760 h (a year) stands for none; a sweep whose
    calls all stay records 0 and draws no plot of it."""
    from tests.support import locks as L

    gone = "total_background_diverted_teu_per_year"
    L.background_network(tmp_path, {"x": {"teu_per_year": 365_000.0, "batch_teu": 100,
                                          "source": "test"}}, days=120)
    doc = yaml.safe_load((tmp_path / "scenario.yaml").read_text())
    doc["changes"] = [{"kind": "disruption", "hub": "x", "start_day": 20, "end_day": 80,
                       "capacity_factor": 0.0, "why": "test"}]
    (tmp_path / "scenario.yaml").write_text(yaml.safe_dump(doc))
    patience = "network.background.x.diverts_after_hours"
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump({"base": "scenario.yaml", "replications": 2,
                                    "parameters": {"grid": {patience: [24, 168, 8760]}}}))
    out = tmp_path / "out"
    outcome = sweep_mod.execute_sweep(path, out, workers=1, progress=False)
    means = outcome.summary.set_index(patience)
    assert means.loc[24, gone] > means.loc[168, gone] > 100_000      # most of 60 days' calls
    assert means.loc[8760, gone] == 0 and means.loc[168, f"{gone}_ci95"] > 0
    assert pd.read_csv(out / "summary.csv")[gone].equals(outcome.summary[gone])
    assert (out / "plots" / f"{gone}.png").read_bytes()[:4] == b"\x89PNG"
    calm = tmp_path / "calm"
    calm.mkdir()
    runs = sweep_mod.execute_sweep(tiny_sweep(calm, replications=1), calm / "out", workers=1,
                                   progress=False).runs
    assert (runs[gone] == 0).all() and not (calm / "out" / "plots" / f"{gone}.png").exists()


def test_a_runs_goods_trade_adds_the_trade_kpi_as_declared(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The goods trade of a run adds the channels' trade by its declaration's column, not by
    a name spelt beside it: declared per week, the run's row still has it (it failed on the
    old spelling, `total_trade_bn_cny_per_year`)."""
    import dataclasses

    from sim import kpis
    from sim.pipeline import prepare, replicate_one, settle
    from sim.trade import GOODS_TRADE, outside_channels_bn

    weekly = [dataclasses.replace(k, per="week") if k.name == "trade_bn_cny" else k
              for k in kpis._KPIS]
    monkeypatch.setattr(kpis, "_KPIS", weekly)
    plan = prepare(line_network(tmp_path), replications=1)
    row = sweep_tasks.run_kpis(replicate_one(settle(plan), 0), plan)
    assert "total_trade_bn_cny_per_year" not in row
    assert row[GOODS_TRADE] == pytest.approx(
        float(row["total_trade_bn_cny_per_week"]) + outside_channels_bn(plan))


def test_a_runs_peaks_name_where_they_are(tmp_path: Path) -> None:
    """A run's `max_hub_utilization_at` and `max_link_utilization_at` name the busiest hub
    and link:direction (a plot's label names the one busiest in most runs)."""
    from sim.pipeline import prepare, replicate_one, settle

    plan = prepare(line_network(tmp_path), replications=1)
    result = replicate_one(settle(plan), 0)
    row = sweep_tasks.run_kpis(result, plan)
    hubs, links = result.tables["hubs"], result.tables["links"]
    assert hubs["utilization"].nunique() > 1 and links["utilization"].nunique() > 1
    busiest = links.loc[links["utilization"].idxmax()]
    assert row["max_hub_utilization"] == hubs["utilization"].max()
    assert row["max_hub_utilization_at"] == hubs.loc[hubs["utilization"].idxmax(), "hub"]
    assert row["max_link_utilization_at"] == f"{busiest['link']}:{busiest['direction']}"


def test_a_sweep_built_in_python_takes_numpy_and_decimal_numbers() -> None:
    """The check that refuses a list or a mapping as a grid value refused np.int64(3),
    np.float32 and Decimal too, which a sweep built in Python holds and pydantic took as
    numbers (final read); they are numbers again, a NumPy boolean a boolean."""
    from decimal import Decimal

    from pydantic import TypeAdapter

    from sim.sweep.spec import Scalar

    scalar = TypeAdapter(Scalar)
    assert scalar.validate_python(np.int64(3)) == 3
    assert scalar.validate_python(np.float32(2.5)) == 2.5
    assert scalar.validate_python(Decimal("1.5")) == 1.5
    assert scalar.validate_python(np.bool_(True)) is True
    for bad in ([7], None, np.float64("nan")):
        with pytest.raises(ValidationError):
            scalar.validate_python(bad)


def test_sweep_json_names_the_version_even_from_an_uninstalled_checkout(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """sweep.json's version comes from `sim.version.package_version`: "unknown" where cqsim
    runs from a checkout it was not installed from (a direct metadata read raised and
    stopped the sweep before its first run: review52 M1)."""
    import json
    from importlib.metadata import PackageNotFoundError

    import sim.version
    from sim.sweep.store import write_meta

    def missing(name: str) -> str:
        raise PackageNotFoundError(name)

    monkeypatch.setattr(sim.version, "version", missing)
    prepared = prepare_sweep(tiny_sweep(tmp_path, values=[7, 14], replications=1))
    written = write_meta(prepared, tmp_path, {"status": "running"})
    meta = json.loads(written.read_text())
    assert meta["cqsim_version"] == "unknown" and meta["status"] == "running"


def test_the_executor_is_said_with_its_workers_counted_right() -> None:
    """The console and sweep.json's `executor` said "dask LocalCluster (1 workers)"
    (trial50); `describe` is the one text of both and of `cqsim pathway`."""
    from sim.sweep.executors import describe

    assert describe(1, None, True) == "dask LocalCluster (1 worker)"
    assert describe(3, None, True) == "dask LocalCluster (3 workers)"
    assert describe(1, None, False) == "this process"
    assert describe(2, None, False) == "local pool (2 processes)"
    assert describe(4, "tcp://127.0.0.1:8786", False) == "dask scheduler tcp://127.0.0.1:8786"


@pytest.mark.parametrize("code", [errno.EMFILE, errno.EACCES])
def test_a_part_the_machine_cannot_open_is_kept_and_the_error_raised(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    """Only a torn or foreign part is deleted to be made again: too many open files or no
    permission says nothing of the file, and deleted a finished run (review64 #9): said
    in one line naming the part (an InputError), the part kept."""
    import pyarrow.parquet as pq

    from sim.sweep.store import part_statuses
    runs = tmp_path / "runs"
    runs.mkdir()
    part = runs / "v0000.parquet"
    pd.DataFrame({"status": ["ok"]}).to_parquet(part)

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(pq, "read_table", refuse)
    with pytest.raises(InputError, match=r"v0000\.parquet: expected a part file this "
                       r"process can read .*, got"):
        part_statuses(runs, "v*.parquet")
    assert part.exists()
    monkeypatch.undo()
    assert part_statuses(runs, "v*.parquet") == {"v0000": ["ok"]}
    part.write_bytes(part.read_bytes()[:40])        # torn: deleted, to be run again
    assert part_statuses(runs, "v*.parquet") == {} and not part.exists()


def test_a_part_read_out_of_memory_is_kept_and_the_error_raised(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pyarrow's out-of-memory error is an ArrowException as well as a MemoryError: caught
    with the torn files', it deleted a finished run to be made again (review65)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sim.sweep.store import part_statuses
    runs = tmp_path / "runs"
    runs.mkdir()
    part = runs / "v0000.parquet"
    pd.DataFrame({"status": ["ok"]}).to_parquet(part)

    def no_memory(*args: object, **kwargs: object) -> None:
        raise pa.ArrowMemoryError("malloc of 64 bytes failed")

    monkeypatch.setattr(pq, "read_table", no_memory)
    with pytest.raises(MemoryError):
        part_statuses(runs, "v*.parquet")
    assert part.exists()


def test_a_sweep_warns_of_its_runs_unsettled_feedback_and_lines_backlogs(
        tmp_path: Path) -> None:
    """A sweep warned only of a short warm-up: a 60-day sweep of baseline-2023 whose feedback
    settled in none of its runs, with a line's backlog in each, said nothing of either,
    where run, compare and rank warn of both (trial66). It now names the variants, with the
    words `run` uses (`sim.checks.feedback_note`, `backlog_note`)."""
    from sim.checks import backlogged_runs, unsettled_runs
    from sim.pipeline import prepare, replicate_one, settle

    # the lines: one train a week for 50,000 TEU a year leaves a backlog in every run
    path = tiny_sweep(tmp_path, values=(1, 2), replications=2, teu_per_year=50_000)
    result = CliRunner().invoke(main, ["sweep", str(path), "--out", str(tmp_path / "out"),
                                       "--workers", "1", "--no-plots"])
    assert result.exit_code == 0, result.output
    late = [ln for ln in result.stderr.splitlines() if "waiting to board" in ln]
    assert late == ["cqsim: warning: 2 of 2 variants (v0000, v0001): lines ending the horizon "
                    "with more than 2 weeks of their capacity waiting to board (demand above "
                    "capacity, or a closure not yet cleared): ab (in 4 of 4 runs)"], result.stderr
    runs = pd.read_parquet(tmp_path / "out" / "runs.parquet")
    assert set(runs["lines_backlogged"]) == {"ab"}
    runs.loc[runs["variant"] == "v0001", "lines_backlogged"] = ""
    assert "1 of 2 variants (v0000)" in str(backlogged_runs(runs))
    assert "(in 2 of 4 runs)" in str(backlogged_runs(runs))
    # the feedback: a network of one route runs no pass (its columns say so) ...
    plan = prepare(line_network(tmp_path / "one"), replications=1)
    row = sweep_tasks.run_kpis(replicate_one(settle(plan), 0), plan)
    plans = {"v0000": plan, "v0001": plan}
    assert unsettled_runs(runs, plans) == []
    # ... and runs whose passes stopped above the tolerance are named, as run says it
    runs["feedback_passes"], runs["feedback_settled"] = 3.0, 1.0
    runs.loc[runs["variant"] == "v0001", ["feedback_settled", "feedback_gap"]] = [0.0, 0.12]
    said = unsettled_runs(runs, plans)
    assert len(said) == 1 and said[0].startswith(
        "1 of 2 variants (v0001): the delay feedback did not settle in 2 of 4 runs: route "
        "flows still changed 12.0% in the last of 3 passes"), said
    assert row["feedback_passes"] == 0 and np.isnan(row["feedback_settled"])
    assert np.isnan(row["feedback_gap"]) and row["lines_backlogged"] == ""


def test_a_sweep_s_summary_keeps_its_runs_checks_apart_from_its_kpis(tmp_path: Path) -> None:
    """The runs' checks (start-up shortfall and warm-up, feedback passes) were KPIs to the
    sweep's tables: summary.csv gave each a mean and a CI among the KPIs, and `cqsim
    uncertainty`'s uncertainty.csv quantiles of them (fix66). They are not KPIs:
    `kpi_columns` (what both tables are of) leaves them out, and summary.csv keeps their
    means per variant apart, after the KPIs, without a CI (feedback_settled's the share of
    runs settled)."""
    from sim.checks import RUN_CHECK_COLUMNS
    from sim.sweep.store import check_columns, kpi_columns

    path = tiny_sweep(tmp_path, values=(7, 14), replications=2)
    result = CliRunner().invoke(main, ["sweep", str(path), "--out", str(tmp_path / "out"),
                                       "--workers", "1", "--no-plots"])
    assert result.exit_code == 0, result.output
    runs = pd.read_parquet(tmp_path / "out" / "runs.parquet")
    assert check_columns(runs) == list(RUN_CHECK_COLUMNS)
    kpis = kpi_columns(runs, [SERVICE])
    assert kpis and not set(kpis) & set(RUN_CHECK_COLUMNS), kpis
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    columns = list(summary.columns)
    assert columns[-len(RUN_CHECK_COLUMNS):] == list(RUN_CHECK_COLUMNS), columns
    assert not any(f"{c}_ci95" in columns for c in RUN_CHECK_COLUMNS), columns
    assert all(f"{k}_ci95" in columns for k in kpis), columns
    for variant, sub in runs.groupby("variant"):
        row = summary[summary["variant"] == variant].iloc[0]
        assert row["start_up_shortfall"] == pytest.approx(sub["start_up_shortfall"].mean())


def test_a_resumed_sweep_s_runs_of_before_the_feedback_columns_say_nothing_of_it(
        tmp_path: Path) -> None:
    """Runs kept by a sweep before its runs kept their feedback passes, resumed now, have
    NaN in those columns (their part files lack them): not a pass that did not settle
    (`int(nan)` raised a traceback after the runs had finished; review67)."""
    from sim.checks import unsettled_runs
    from sim.pipeline import prepare

    plan = prepare(line_network(tmp_path / "one"), replications=1)
    runs = pd.DataFrame({"variant": ["v0000", "v0000"], "status": ["ok", "ok"],
                         "feedback_passes": [np.nan, 3.0],
                         "feedback_settled": [np.nan, 1.0],
                         "feedback_gap": [np.nan, 0.01]})
    assert unsettled_runs(runs, {"v0000": plan}) == []
    runs.loc[1, ["feedback_settled", "feedback_gap"]] = [0.0, 0.12]
    said = unsettled_runs(runs, {"v0000": plan})
    assert len(said) == 1 and "changed 12.0% in the last of 3 passes" in said[0], said


def test_a_sweep_varying_the_feedback_settings_gives_each_variant_group_its_advice(
        tmp_path: Path) -> None:
    """A sweep's feedback warning gave every variant the advice (tolerance, horizon,
    equilibrium.days, max_iterations) of the first variant hit: a sweep varying those
    settings read the others' wrong (fix66). Variants whose settings give other advice are
    warned of apart, each with its own; variants alike share one note, as before."""
    from sim.checks import feedback_advice, unsettled_runs
    from sim.pipeline import prepare

    three = prepare(line_network(tmp_path / "three", equilibrium={"max_iterations": 3}),
                    replications=1)
    six = prepare(line_network(tmp_path / "six", equilibrium={"max_iterations": 6}),
                  replications=1)
    runs = pd.DataFrame({"variant": ["v0000", "v0000", "v0001", "v0001", "v0002"],
                         "status": "ok", "feedback_passes": [3.0, 3.0, 6.0, 6.0, 3.0],
                         "feedback_settled": [0.0, 1.0, 0.0, 0.0, 1.0],
                         "feedback_gap": [0.12, 0.01, 0.08, 0.09, 0.01]})
    said = unsettled_runs(runs, {"v0000": three, "v0001": six, "v0002": three})
    assert said == [
        "1 of 2 variants alike in horizon and equilibrium settings (v0000): the delay "
        "feedback did not settle in 1 of 3 runs: route flows still changed 12.0% in the last "
        "of 3 passes, " + feedback_advice(three),
        "1 of 1 variant alone in its horizon and equilibrium settings (v0001): the delay "
        "feedback did not settle in 2 of 2 runs: route flows still changed 8.0-9.0% in the "
        "last of 6 passes, " + feedback_advice(six)], said
    assert "max_iterations, now 6," in said[1] and "now 3," in said[0]
    alike = unsettled_runs(runs, {"v0000": three, "v0001": three, "v0002": three})
    assert len(alike) == 1 and alike[0].startswith("2 of 3 variants (v0000, v0001): "), alike


def test_a_sweep_of_the_dispatch_share_without_a_hold_says_where_to_set_it(
        tmp_path: Path) -> None:
    """A sweep of min_load_share over a base without max_hold_slots is refused in one line
    that says where a sweep sets the hold (its fixed or grid): it said only "in changes, set
    it before the share", of a sweep that has no changes (review67)."""
    path = tiny_sweep(tmp_path, replications=1)
    doc = yaml.safe_load(path.read_text())
    doc["parameters"]["grid"] = {"network.services.ab.min_load_share": [0.0, 0.5]}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    result = CliRunner().invoke(main, ["sweep", str(path), "--out", str(tmp_path / "out"),
                                       "--workers", "1", "--no-plots"])
    assert result.exit_code == 2, result.output
    said = result.stderr.strip()
    assert len(said.splitlines()) == 1 and "Traceback" not in said, said
    assert "max_hold_slots" in said and "sweep's fixed or grid" in said, said
    assert not (tmp_path / "out").exists()


def test_a_path_to_no_geodata_field_is_not_sent_to_a_set_change() -> None:
    """The geodata hint is for a hub's, lock's or link's geodata fields alone: a misspelt
    field of a lock's operation (the scenario's own) was told it was the geodata's and to
    vary it through a set change, and lost its "did you mean"; a link's `length_km` (its
    field is `km`) was sent to a set change that would refuse it (review67)."""
    from sim.scenario import load_scenario, with_overrides
    from tests.support.paths import ROOT

    base = load_scenario(ROOT / "scenarios" / "baseline-2023.yaml")
    lock = next(iter(base.network.locks))
    for path, said, not_said in (
            (f"network.locks.{lock}.container_priorty", "did you mean 'container_priority'",
             "is the geodata's"),
            ("network.links.a-b.length_km", "an existing scenario field", "is the geodata's"),
            (f"network.locks.{lock}.cycle_hours", "a lock's cycle_hours is the geodata's",
             "did you mean")):
        with pytest.raises(InputError) as err:
            with_overrides(base, **{path: 1})
        assert said in str(err.value) and not_said not in str(err.value), str(err.value)


def test_a_sweep_too_small_for_sensitivity_says_why(tmp_path: Path) -> None:
    """A sweep of 2 grid points and 1 replication wrote sensitivity.csv with its header alone
    and said nothing (only plots/sensitivity.png had "too few runs"; trial66): the console
    now says why in one line (the file has no note column). A sweep that can fit says none."""
    from sim.sweep.summary import no_sensitivity, sensitivity

    path = tiny_sweep(tmp_path, values=(7, 14), replications=1)
    result = CliRunner().invoke(main, ["sweep", str(path), "--out", str(tmp_path / "out"),
                                       "--workers", "1", "--no-plots"])
    assert result.exit_code == 0, result.output
    assert pd.read_csv(tmp_path / "out" / "sensitivity.csv").empty
    said = [ln for ln in result.stdout.splitlines() if "sensitivity.csv" in ln]
    assert said == ["note: sensitivity.csv is empty: 2 ok runs are too few to fit a swing "
                    "with a CI: a constant and 1 varied parameter leave no degree of "
                    "freedom; it needs at least 3 (more grid points or replications)"], said
    runs = pd.read_parquet(tmp_path / "out" / "runs.parquet")
    kpis = sweep_tasks.HEADLINE_KPIS
    assert "no numeric parameter varies" in str(no_sensitivity(runs.iloc[:1], [SERVICE], kpis))
    # three points fit with a degree of freedom left: rows, and nothing said
    third = runs.iloc[[0]].assign(**{SERVICE: 21, "run_id": "x"})
    three = pd.concat([runs, third], ignore_index=True)
    assert no_sensitivity(three, [SERVICE], kpis) is None
    assert len(sensitivity(three, [SERVICE], kpis))


@pytest.mark.parametrize(("path", "kind", "element", "field"), [
    ("network.hubs.a.dwell_hours", "hub", "a", "dwell_hours"),
    ("network.links.a-b.km", "link", "a-b", "km")])
def test_a_sweep_of_a_geodata_field_says_to_vary_a_set_change(
        tmp_path: Path, path: str, kind: str, element: str, field: str) -> None:
    """A sweep of `network.hubs.qinzhou.dwell_hours` said only "expected an existing scenario
    field", with no hint that a hub's fields are the geodata's and are swept through a `set`
    change's value (trial66); the one line now says so."""
    sweep = tiny_sweep(tmp_path)
    doc = yaml.safe_load(sweep.read_text())
    doc["parameters"]["grid"] = {path: [1, 2]}
    sweep.write_text(yaml.safe_dump(doc))
    result = CliRunner().invoke(main, ["sweep", str(sweep), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert (f"parameters.grid.{path}: expected an existing scenario field; a {kind}'s "
            f"{field} is the geodata's: vary it through a set change in the base, {{kind: "
            f"set, {kind}: {element}, field: {field}, value: ...}}, and that change's "
            "changes.N.value") in lines[0], lines
    assert not (tmp_path / "out").exists()


def test_the_geodata_hint_says_an_unknown_id_is_unknown(tmp_path: Path) -> None:
    """The geodata hint named a set change for any id: `network.links.a-c.km` of a network
    with no link a-c was sent to `{kind: set, link: a-c, ...}`, which the build then refused
    in a second error (review67). The one line now says the id is no such element of the
    scenario's network, with the nearest one; an id a change adds (add_link) is known."""
    from sim.scenario import load_scenario, with_overrides

    path = line_network(tmp_path)
    doc = yaml.safe_load(path.read_text())
    doc["changes"] = [{"kind": "add_link", "link": {
        "id": "a-b2", "from_hub": "a", "to_hub": "b", "mode": "rail", "corridor": "west",
        "km": 10, "hours": 1, "coords": [[0, 30], [0.1, 30]], "sources": "test"}}]
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    base = load_scenario(path)
    for dotted, said in (
            ("network.hubs.aa.dwell_hours", "; aa is no hub of the scenario's network (its "
                                            "geodata and changes) (did you mean 'a'?): "
                                            "`cqsim list hubs` lists them"),
            ("network.links.a-c.km", "; a-c is no link of the scenario's network (its geodata "
                                     "and changes) (did you mean "),
            ("network.links.a-b2.km", "; a link's km is the geodata's: vary it through a set "
                                      "change in the base, {kind: set, link: a-b2,"),
            ("network.hubs.b.dwell_hours", "{kind: set, hub: b, field: dwell_hours")):
        with pytest.raises(InputError) as err:
            with_overrides(base, **{dotted: 1})
        text = str(err.value)
        assert len(text.splitlines()) == 1 and said in text, text
        assert ("is the geodata's" in text) != ("is no " in text), text


def test_sensitivity_leaves_out_a_parameter_that_varies_only_where_the_kpi_is_not_measured(
        ) -> None:
    """A KPI that no run of one value measured (NaN: a wait at a hub none of them used)
    left that parameter constant over the runs fitted; scaled by a range of 0, its column
    was NaN and the least-squares fit failed with a traceback. It is left out of that KPI's
    fit, and the other parameter's swing is still fitted (review of the session, 2026-12-07)."""
    from sim.sweep.summary import no_sensitivity, sensitivity

    rng = np.random.default_rng(3)
    rows = []
    for a in (1.0, 2.0, 3.0):
        for b in (10.0, 20.0):
            for r in range(2):
                wait = np.nan if b == 20.0 else 5.0 * a + rng.normal(0, 0.1)
                rows.append({"status": "ok", "replication": r, "a": a, "b": b,
                             "wait_h": wait})
    runs = pd.DataFrame(rows)
    table = sensitivity(runs, ["a", "b"], ["wait_h"])
    assert list(table["parameter"]) == ["a"], table
    assert abs(table["swing"].iloc[0] - 10.0) < 0.5
    assert no_sensitivity(runs, ["a", "b"], ["wait_h"]) is None
    only_b = runs.assign(wait_h=np.where(runs["b"] == 20.0, np.nan, 1.0)).drop(columns="a")
    assert no_sensitivity(only_b, ["b"], ["wait_h"]) == (
        "no numeric parameter varies over the ok runs that measured a KPI")
    assert sensitivity(only_b, ["b"], ["wait_h"]).empty
