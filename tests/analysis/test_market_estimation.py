"""Estimation recovers known constants from a synthetic network's own simulated volumes, and
the estimates file round-trips into the scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from sim.calibration import CalibrationTarget, calibrate
from sim.errors import InputError
from sim.market.estimates import Estimate, read_correlation, read_estimates, write_estimates
from sim.market.estimation import (
    MIN_SLOPE,
    domain,
    estimate,
    free_parameters,
    get_param,
    own_slopes,
    set_param,
    unidentified,
    unit_of,
)
from sim.network import revise
from sim.pipeline import prepare, run
from sim.scenario import load_scenario, uncertain_inputs, with_overrides
from sim.uncertain import Normal
from sim.uncertainty import design_study
from tests.support.market import market_doc
from tests.support.netbuilder import write_scenario

TRUTH = {"south": 0.6, "east": -0.4}


def _target(ident: str, measure: str, value: float, parameter: str) -> CalibrationTarget:
    return CalibrationTarget(id=ident, metric=ident, published=value, low=value * 0.95,
                             high=value * 1.05, unit="TEU/yr", measure=measure,
                             how_measured="test", source="test", role="fit",
                             parameter=parameter)


@pytest.mark.slow
def test_estimation_recovers_known_constants(tmp_path: Path) -> None:
    doc = market_doc(tmp_path, horizon={"days": 400, "warmup_days": 35},
                     routing={"congestion_aware": False})
    doc["demand"]["lot_teu"] = 5
    plan = prepare(write_scenario(tmp_path / "m.yaml", doc))
    assert plan.market is not None

    def runner(p):  # type: ignore[no-untyped-def]
        return run(p, progress=False)

    truth = plan.market.section.choice.model_copy(update={"asc": TRUTH})
    observed = run(revise(plan, choice=truth), progress=False)
    probes = [_target(f"{g}_teu", f"gateway_teu:{g}:trade", 1.0, f"market.choice.asc.{g}")
              for g in TRUTH]
    targets = [_target(t.id, t.measure, row.simulated, t.parameter)
               for t, row in zip(probes, calibrate(observed, probes), strict=True)]
    result = estimate(plan, targets, runner, tolerance=0.01)
    got = {e.path.rsplit(".", 1)[1]: e for e in result.estimates}
    for gateway, value in TRUTH.items():
        assert got[gateway].value == pytest.approx(value, abs=0.1), result.history
        assert 0 < got[gateway].se < 1.0
    assert all(r.ok for r in result.rows), (result.history, result.rows)
    # the two constants compete for the same markets: raising east's takes boxes from the
    # south, so the south's estimate rises with it (the correlation the file keeps)
    ((pair, r),) = result.correlation.items()
    assert pair == ("market.choice.asc.south", "market.choice.asc.east") and 0 < r < 1


def test_estimates_file_fills_the_scenario(tmp_path: Path) -> None:
    doc = market_doc(tmp_path)
    doc["market"]["estimates"] = "estimates/m.yaml"
    doc["market"]["choice"] = {"vot_position": 0.2}
    write_estimates(tmp_path / "estimates" / "m.yaml", "m", "2026-11-30", "test", ["x"], [
        Estimate("market.choice.asc.south", 0.7, 0.1, "utils", "test"),
        Estimate("market.choice.vot_position", 0.7, 0.1, "-", "test")])
    scenario = load_scenario(write_scenario(tmp_path / "m.yaml", doc))
    assert scenario.market is not None
    assert scenario.market.choice.asc["south"] == 0.7
    assert scenario.market.choice.vot_position == 0.2   # the file's own value wins
    read = read_estimates(tmp_path / "estimates" / "m.yaml", "m.yaml")
    assert read["market.choice.asc.south"].se == 0.1
    # the correlation of the estimates round-trips, each pair once
    write_estimates(tmp_path / "estimates" / "m.yaml", "m", "2026-11-30", "test", ["x"], [
        Estimate("market.choice.asc.south", 0.7, 0.1, "utils", "test"),
        Estimate("market.choice.asc.east", 0.2, 0.1, "utils", "test")],
        {("market.choice.asc.south", "market.choice.asc.east"): 0.8951})
    data = yaml.safe_load((tmp_path / "estimates" / "m.yaml").read_text())
    assert read_correlation(data, "m.yaml") == {
        frozenset(("market.choice.asc.south", "market.choice.asc.east")): 0.895}


def test_only_fitting_figures_set_parameters() -> None:
    """A calibration never sets a parameter to the figure it is checked against: of four
    rows naming one constant, estimation fits to the `fit` row alone, not to a held-out
    (`validate`), a `dependent` or an accounting (`check`) figure."""
    rows = [CalibrationTarget(**{**_target(role, "gateway_teu:south", 1000.0,
                                           "market.choice.asc.south").__dict__, "role": role})
            for role in ("fit", "validate", "dependent", "check")]
    assert [t.id for _, t in free_parameters(rows)] == ["fit"]


def test_newton_steps_follow_the_sign_of_each_figure_s_slope() -> None:
    """A figure that falls as its parameter rises (the ILSTC's value per TEU as the value of
    time rises) must move its parameter up when the figure is too high, not down."""
    slopes = own_slopes(np.array([[-0.18, 0.3], [0.1, 0.001]]))
    assert slopes[0] == pytest.approx(-0.18)
    assert slopes[1] == pytest.approx(MIN_SLOPE)
    gap = np.log(170_000 / 224_000)          # figure too high: ln(target / simulated) < 0
    assert gap / slopes[0] > 0               # the parameter goes up


def test_estimation_steps_stay_inside_what_a_scenario_may_hold() -> None:
    """The logit's cost scale (at most 1e5) on its log scale; constants within +-50 utils."""
    low, high = domain("market.choice.cost_scale")
    assert low < -700 and high == pytest.approx(np.log(1e5))
    assert domain("market.choice.vot_position") == (0.0, 1.0)
    assert domain("market.choice.asc.west@eu") == (-50.0, 50.0)
    low, high = domain("market.choice.nest_scale")
    assert 0.0 < low < 1e-300 and high == 1.0


def test_a_parameter_no_figure_moves_is_not_given_a_standard_error_of_zero() -> None:
    """At -8 the south's electronics constant had sent every laptop off the ILSTC: the
    figures no longer move with it, and the pseudo-inverse gave it se 0; it is unidentified."""
    assert unidentified(np.array([0.0, 0.0, 0.0, 0.0]))
    assert unidentified(np.array([2e-4, -5e-4]))
    assert not unidentified(np.array([0.0, 0.03]))



def _fake_figures(monkeypatch: pytest.MonkeyPatch, figures: Any, ci95: float) -> None:
    """Each pass's figures from the constants alone (`figures(south, east)`), no simulation."""
    import sim.market.estimation as est
    from sim.calibration import CalibrationRow

    def evaluate(plan: Any, section: Any, targets: list[CalibrationTarget],
                 runner: Any) -> list[CalibrationRow]:
        got = figures(section.choice.asc.get("south", 0.0), section.choice.asc.get("east", 0.0))
        return [CalibrationRow(t, v, ci95) for t, v in zip(targets, got, strict=False)]

    monkeypatch.setattr(est, "_evaluate", evaluate)


def _two_constants(tmp: Path) -> tuple[Any, list[CalibrationTarget]]:
    plan = prepare(write_scenario(tmp / "m.yaml", market_doc(tmp)))
    return plan, [_target(f"{g}_teu", f"gateway_teu:{g}:trade", 100.0, f"market.choice.asc.{g}")
                  for g in ("south", "east")]


def test_a_pass_where_a_figure_measured_nothing_is_never_kept_as_closest(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A figure at 0 gave ln NaN, which the worst gap ignored: a pass where it measured
    nothing was kept as the closest, and its parameter was called not identified (review49
    M4). A figure at 0 is now infinitely far: its parameter steps toward it, and such a pass
    is kept only if no pass measured every figure; then the parameter is reported not fitted."""
    plan, fit = _two_constants(tmp_path)
    # south fits at 1; east's figure reads 0 once south passes 0.5
    _fake_figures(monkeypatch, lambda a, b: (100 * np.exp(a - 1), 0.0 if a > 0.5 else
                                             100 * np.exp(b - 1)), float("nan"))
    result = estimate(plan, fit, runner=None, max_passes=4)
    assert not result.converged
    assert all(r.simulated > 0 for r in result.rows), result.history
    # east's figure at 0 from the start: it takes the largest step up, and if it never reads,
    # it is said not fitted, with no standard error
    _fake_figures(monkeypatch, lambda a, b: (100 * np.exp(a - 1), 0.0), float("nan"))
    result = estimate(plan, fit, runner=None, max_passes=3)
    east = [h["market.choice.asc.east"] for h in result.history]
    assert east[1] - east[0] == pytest.approx(1.5)             # MAX_MOVE, upward
    (_, e) = result.estimates
    assert np.isnan(e.se) and e.method.startswith("not fitted: east_teu measured nothing")


def test_a_narrow_band_is_not_met_by_the_starting_point(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A loaded ratio's band (0.95-1.00) is narrower than the ln tolerance of 0.03: any start
    inside it "converged" at once, unchanged (review49 M3). A figure's tolerance is at most a
    quarter of its band's half-width: the estimation steps to the figure."""
    from sim.market.estimation import within

    plan, (south, _) = _two_constants(tmp_path)
    ratio = _target("ratio", "loaded_ratio:west:both", 0.981, "market.choice.asc.south")
    ratio = CalibrationTarget(**{**ratio.__dict__, "low": 0.95, "high": 1.0})
    assert within([ratio, south], 0.03) == pytest.approx(
        [0.25 * np.log(1.0 / 0.95) / 2, 0.25 * np.log(1.05 / 0.95) / 2])
    # the figure falls as the constant rises; the start (0) reads 0.999: in band, and its ln
    # gap (0.018) inside the old tolerance
    _fake_figures(monkeypatch, lambda a, b: (0.999 - 0.05 * a,), 0.001)
    result = estimate(plan, [ratio], runner=None, max_passes=10)
    assert result.converged and result.passes > 1
    assert result.rows[0].simulated == pytest.approx(0.981, abs=0.0064 * 0.981)
    # a figure whose noise was measured says so in its standard error's method
    assert "and the simulation's CI" in result.estimates[0].method


def test_one_replication_s_standard_errors_say_they_leave_the_noise_out(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With one replication the figures' CI is not known, and the noise was read as 0 while
    the docs said it was included (review49 M5): the method now says it is left out."""
    plan, fit = _two_constants(tmp_path)
    _fake_figures(monkeypatch, lambda a, b: (100 * np.exp(a - 1), 100 * np.exp(b + 1)),
                  float("nan"))
    result = estimate(plan, fit, runner=None)
    assert result.converged
    assert all("one replication: the simulation's noise not measured" in e.method
               for e in result.estimates)

def test_estimate_fits_on_the_calibrated_runs_and_runs_a_variant_once_for_the_table(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`cqsim calibrate --estimate` with a figure of a variant (the table's `scenario`
    column): the passes and their Jacobians run the calibrated scenario alone (a fitting
    figure names no variant), and the variant runs once, after them, with the estimates,
    for the final table; under --no-variants not at all, its row not measured."""
    import pandas as pd
    from click.testing import CliRunner

    import sim.pipeline
    from sim.cli import main

    doc = market_doc(tmp_path, horizon={"days": 120, "warmup_days": 30},
                     routing={"congestion_aware": False})
    doc["demand"]["lot_teu"] = 5
    base = write_scenario(tmp_path / "m.yaml", doc)
    (tmp_path / "v.yaml").write_text("name: v\nextends: m.yaml\n")
    probe = _target("south", "gateway_teu:south:trade", 1.0, "")
    start = calibrate(run(prepare(base), progress=False), [probe])[0].simulated
    goal = 1.15 * start   # off the start: more than one pass
    table = tmp_path / "t.csv"
    table.write_text(
        "id,metric,published,low,high,unit,measure,how_measured,source,role,parameter,"
        "scenario\n"
        f"south,teu,{goal:.1f},{0.95 * goal:.1f},{1.05 * goal:.1f},TEU/yr,"
        "gateway_teu:south:trade,how,src,fit,market.choice.asc.south,\n"
        "east,teu,1000,0.001,1e9,TEU/yr,gateway_teu:east:trade,how,src,validate,,v.yaml\n")
    ran: list[tuple[str, float]] = []   # (scenario, its asc.south) of every run
    real = sim.pipeline.run

    def counted(plan: Any, **kw: Any) -> Any:
        ran.append((plan.name, get_param(plan.market.section, "market.choice.asc.south")))
        return real(plan, **kw)

    monkeypatch.setattr(sim.pipeline, "run", counted)
    for skip in (False, True):
        ran.clear()
        out, estimates = tmp_path / f"cal{skip}.csv", tmp_path / f"e{skip}.yaml"
        got = CliRunner().invoke(main, [
            "calibrate", str(base), "--targets", str(table), "--estimate", "--out", str(out),
            "--estimates-out", str(estimates), *(["--no-variants"] if skip else [])])
        assert got.exit_code == 0, got.output
        value = read_estimates(estimates, "t")["market.choice.asc.south"].value
        assert value > 0.05 and "estimated in 1 pass" not in got.output, got.output
        names = [name for name, _ in ran]
        # two passes, a Jacobian and the final run at least, each of the calibrated scenario
        assert names.count("test") >= 4 and "v" not in names[:-1], names
        row = pd.read_csv(out, keep_default_na=False).set_index("id").loc["east"]
        if skip:
            assert "v" not in names
            assert row["not_measured"] == ("not measured: --no-variants (the runs of v.yaml "
                                           "were skipped)")
        else:   # the variant last, once, with the estimate
            assert names[-1] == "v" and ran[-1][1] == pytest.approx(value, rel=1e-3)
            assert not row["not_measured"] and float(row["simulated"]) > 0


EMPTY = {"value_cny_per_teu": 0, "value_of_time_cny_per_teu_hour": 0, "tonnes_per_teu": 2.2,
         "source": "test"}
SHARE = "market.empties.repositioned_share@west"


def _empties_doc(tmp: Path, **kw: Any) -> dict[str, Any]:
    doc = market_doc(tmp, **kw)
    doc["demand"]["classes"]["empty"] = EMPTY
    doc["market"]["empties"] = {"repositioned_share": 0.5, "source": "test",
                                "lanes": [{"gateway": "west", "china": "cq", "abroad": ["eu"]}]}
    return doc


@pytest.mark.slow
def test_estimation_recovers_a_known_share_of_empties(tmp_path: Path) -> None:
    """The share of a lane's imbalance sent back empty, fitted to the round-trip loaded
    ratio its truth gives: from the section's 0.5 back to 0.2 (the empties are proportional
    to it, so the ratio identifies it)."""
    doc = _empties_doc(tmp_path, horizon={"days": 200, "warmup_days": 20})
    doc["demand"]["lot_teu"] = 5           # a ratio fine enough to tell shares apart
    plan = prepare(write_scenario(tmp_path / "m.yaml", doc))
    assert plan.market is not None and get_param(plan.market.section, SHARE) == 0.5

    def runner(p):  # type: ignore[no-untyped-def]
        return run(p, progress=False)

    observed = run(revise(plan, section=set_param(plan.market.section, SHARE, 0.2)),
                   progress=False)
    probe = CalibrationTarget(id="round_trip", metric="round trip", published=1.0, low=0.5,
                              high=1.0, unit="share", measure="loaded_ratio:west:both",
                              how_measured="test", source="test", role="fit",
                              parameter=SHARE)
    seen = calibrate(observed, [probe])[0].simulated
    assert 0.5 < seen < 0.99          # the lane runs unbalanced: the share shows
    target = CalibrationTarget(**{**probe.__dict__, "published": seen, "low": seen * 0.99,
                                  "high": min(1.0, seen * 1.01)})
    result = estimate(plan, [target], runner, tolerance=5e-4)
    (got,) = result.estimates
    assert got.path == SHARE and got.unit == "share"
    assert got.value == pytest.approx(0.2, abs=0.03), result.history
    assert 0 < got.se < 0.5


def test_estimates_file_fills_the_lanes_shares_of_empties(tmp_path: Path) -> None:
    doc = _empties_doc(tmp_path)
    doc["market"]["estimates"] = "estimates/m.yaml"
    write_estimates(tmp_path / "estimates" / "m.yaml", "m", "2026-12-04", "test", ["x"],
                    [Estimate(SHARE, 0.12, 0.01, "share", "test")])
    scenario = load_scenario(write_scenario(tmp_path / "m.yaml", doc))
    assert scenario.market is not None and scenario.market.empties is not None
    (lane,) = scenario.market.empties.lanes
    assert lane.repositioned_share == 0.12 and "m.yaml" in (lane.source or "")
    assert domain(SHARE) == (0.0, 1.0)
    # a lane's own share wins, as a file's own choice parameter does
    doc["market"]["empties"]["lanes"][0] |= {"repositioned_share": 0.3, "source": "own"}
    scenario = load_scenario(write_scenario(tmp_path / "n.yaml", doc))
    assert scenario.market is not None and scenario.market.empties is not None
    assert scenario.market.empties.lanes[0].repositioned_share == 0.3
    # a share of a gateway with no lane is refused in one line naming the file and path
    write_estimates(tmp_path / "estimates" / "m.yaml", "m", "2026-12-04", "test", ["x"],
                    [Estimate("market.empties.repositioned_share@south", 0.1, 0.01, "share",
                              "test")])
    doc["market"]["empties"]["lanes"][0].pop("repositioned_share")
    with pytest.raises(InputError) as err:
        load_scenario(write_scenario(tmp_path / "o.yaml", doc))
    assert "parameters.market.empties.repositioned_share@south" in str(err.value)
    assert "south" in str(err.value) and "\n" not in str(err.value)


def test_a_share_of_empties_is_one_uncertain_input_for_all_its_lanes(tmp_path: Path) -> None:
    """`cqsim uncertainty` and sweeps vary an estimated share of empties by the path the
    estimator names: one draw sets every lane of the named gateways, the others keep theirs;
    `from_calibration` draws it from the estimate and its standard error."""
    doc = _empties_doc(tmp_path)
    doc["market"]["empties"]["lanes"].append(
        {"gateway": "south", "china": "cq", "abroad": ["asean"]})
    doc["market"]["estimates"] = "estimates/m.yaml"
    write_estimates(tmp_path / "estimates" / "m.yaml", "m", "2026-12-04", "test", ["x"],
                    [Estimate(SHARE, 0.12, 0.05, "share", "test")])
    doc["uncertain"] = {SHARE: {"dist": "from_calibration", "estimates": "estimates/m.yaml",
                                "low": 0.0, "high": 1.0}}
    scenario = load_scenario(write_scenario(tmp_path / "m.yaml", doc))
    (share,) = [i.dist for i in uncertain_inputs(scenario)]
    assert isinstance(share, Normal)
    assert (share.mean, share.sd, share.low, share.high) == (0.12, 0.05, 0.0, 1.0)
    varied = with_overrides(scenario, **{SHARE: 0.4})
    assert varied.market is not None and varied.market.empties is not None
    west, south = varied.market.empties.lanes
    assert west.repositioned_share == 0.4 and SHARE in (west.source or "")
    assert varied.market.empties.share_of(south) == 0.5       # the section's, untouched
    with pytest.raises(InputError) as bad:                    # named as the path given
        with_overrides(scenario, **{SHARE: 1.3})
    assert bad.value.field == SHARE and "<= 1" in bad.value.expected
    design = design_study(scenario, 6, "lhs", noise_replications=2)
    drawn = [p[SHARE] for p in design.points[1:]]
    assert len(drawn) == 4 and all(0.0 <= x <= 1.0 for x in drawn)
    # a share of a gateway with no lane names the uncertain entry, in one line
    doc["uncertain"] = {"market.empties.repositioned_share@east": {
        "dist": "uniform", "low": 0, "high": 1, "reason": "r"}}
    with pytest.raises(InputError) as err:
        load_scenario(write_scenario(tmp_path / "n.yaml", doc))
    assert err.value.field == "uncertain.market.empties.repositioned_share@east"
    with pytest.raises(InputError, match="gateways with a lane"):
        with_overrides(scenario, **{"market.empties.repositioned_share@east": 0.3})


def test_two_paths_that_set_one_share_of_empties_are_refused(tmp_path: Path) -> None:
    """The share path and a lane's own field (or two share paths naming one gateway) set the
    same number: whichever came last would run while the table records the other, so
    overrides, sweeps and uncertain blocks refuse the pair in one line naming both."""
    doc = _empties_doc(tmp_path)
    scenario = load_scenario(write_scenario(tmp_path / "m.yaml", doc))
    lane = "market.empties.lanes.0.repositioned_share"
    for other in (lane, "market.empties.repositioned_share@west+south"):
        with pytest.raises(InputError) as err:
            with_overrides(scenario, **{SHARE: 0.2, other: 0.8})
        assert err.value.field == other and SHARE in err.value.expected
    doc["market"]["empties"]["lanes"][0] |= {"repositioned_share": 0.3, "source": "own"}
    doc["uncertain"] = {p: {"dist": "uniform", "low": 0, "high": 1, "reason": "r"}
                        for p in (SHARE, lane)}
    with pytest.raises(InputError) as err:
        load_scenario(write_scenario(tmp_path / "n.yaml", doc))
    assert err.value.field == f"uncertain.{lane}" and f"uncertain.{SHARE}" in err.value.expected


@pytest.mark.parametrize("change, field", [
    ({"parameters": {"market.choice.asc.south": {"value": float("nan"), "se": 0.1}}},
     "parameters.market.choice.asc.south.value"),
    ({"parameters": {"market.choice.asc.south": {"value": 0.5, "se": -0.1}}},
     "parameters.market.choice.asc.south.se"),
    ({"parameters": {SHARE: {"value": 1.5, "se": 0.1}}}, f"parameters.{SHARE}.value"),
    ({"parameters": {"market.choice.asc.nowhere": {"value": 0.5, "se": 0.1}}},
     "parameters.market.choice.asc.nowhere"),
    ({"parameters": {"market.choice.asc.south": {"value": 80.0, "se": 0.1}}},
     "parameters.market.choice.asc.south"),
    ({"correlations": {}}, "correlations"),
    # the record was never type-checked, a unit was turned into text with str() (fuzz F6)
    ({"scenario": ["x"]}, "scenario"),
    ({"estimated": ["2026-12-04"]}, "estimated"),
    ({"command": 123}, "command"),
    ({"fitting_figures": "zz-text"}, "fitting_figures"),
    ({"fitting_figures": {"a": ["x"]}}, "fitting_figures"),
    ({"fitting_figures": ["x", 123]}, "fitting_figures.1"),
    ({"parameters": {SHARE: {"value": 0.12, "se": 0.01, "unit": ["share"]}}},
     f"parameters.{SHARE}.unit"),
])
def test_a_bad_estimate_names_the_estimates_file(tmp_path: Path, change: dict,
                                                 field: str) -> None:
    """A value the estimates file gives that the scenario cannot take is reported against
    that file and its entry, not against the scenario it fills; a misspelt block is refused,
    not dropped."""
    doc = _empties_doc(tmp_path)
    doc["market"]["estimates"] = "estimates/m.yaml"
    write_estimates(tmp_path / "estimates" / "m.yaml", "m", "2026-12-04", "test", ["x"],
                    [Estimate(SHARE, 0.12, 0.01, "share", "test")])
    file = tmp_path / "estimates" / "m.yaml"
    data = yaml.safe_load(file.read_text())
    data["parameters"] |= change.get("parameters", {})
    data |= {k: v for k, v in change.items() if k != "parameters"}
    file.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(InputError) as err:   # the gateways are checked as the plan is built
        prepare(write_scenario(tmp_path / "m.yaml", doc))
    assert err.value.file.endswith("m.yaml") and "estimates" in err.value.file
    assert err.value.field == field, str(err.value)


def test_estimates_of_another_scenario_are_warned_of(tmp_path: Path) -> None:
    """An estimates file whose `scenario` is neither the scenario nor a file it extends is
    another scenario's (market.estimates pointed at the wrong file): accepted without a word
    before (fuzz F6), now a warning; a scenario extending the one estimated reads it quietly."""
    from sim.errors import InputWarning

    doc = _empties_doc(tmp_path)
    doc["market"]["estimates"] = "estimates/m.yaml"
    write_estimates(tmp_path / "estimates" / "m.yaml", "lock-wait-2016", "2026-12-04", "test",
                    ["x"], [Estimate(SHARE, 0.12, 0.01, "share", "test")])
    with pytest.warns(InputWarning, match=r"m\.yaml: scenario: these estimates are of "
                                          r"lock-wait-2016, which is neither"):
        load_scenario(write_scenario(tmp_path / "m.yaml", doc))
    write_estimates(tmp_path / "estimates" / "m.yaml", "m", "2026-12-04", "test", ["x"],
                    [Estimate(SHARE, 0.12, 0.01, "share", "test")])
    (tmp_path / "variant.yaml").write_text("extends: m.yaml\nname: variant\n")
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputWarning)
        load_scenario(tmp_path / "variant.yaml")


def test_an_estimates_file_is_read_with_the_limits_of_every_yaml_file(tmp_path: Path) -> None:
    """Nesting 10,000 deep was a RecursionError traceback: the estimates file had its own
    plain YAML reader, without the depth and alias limits of `sim.readers`."""
    doc = _empties_doc(tmp_path)
    doc["market"]["estimates"] = "estimates/m.yaml"
    file = tmp_path / "estimates" / "m.yaml"
    write_estimates(file, "m", "2026-12-04", "test", ["x"],
                    [Estimate(SHARE, 0.12, 0.01, "share", "test")])
    file.write_text(file.read_text() + "deep: " + "[" * 10_000 + "]" * 10_000 + "\n")
    with pytest.raises(InputError) as err:
        load_scenario(write_scenario(tmp_path / "m.yaml", doc))
    assert err.value.file.endswith("m.yaml") and "nesting" in err.value.expected


def test_a_lane_whose_depot_is_also_its_end_abroad_is_refused(tmp_path: Path) -> None:
    """Its empties would be flows from a hub to itself: a traceback when the plan was built,
    now one line naming the lane."""
    doc = _empties_doc(tmp_path)
    doc["market"]["empties"]["lanes"][0]["abroad"] = ["eu", "cq"]
    with pytest.raises(InputError) as err:
        load_scenario(write_scenario(tmp_path / "m.yaml", doc))
    assert err.value.field == "market.empties.lanes.0" and "cq" in err.value.expected


def test_a_figure_s_noise_is_its_mean_s_standard_error_whatever_the_replications() -> None:
    """The simulation's 95% CI was read as 1.96 standard errors of the mean: two
    replications' t interval is 12.7 of them, so their noise counted 6.5 times over."""
    from sim.calibration import CalibrationRow
    from sim.market.estimation import _log_sd

    target = _target("a", "trade_total", 100.0, "market.choice.asc.south")
    band = np.log(105 / 95) / (2 * 1.96)
    for replications, quantile in ((2, 12.706), (4, 3.182), (30, 2.045)):
        row = CalibrationRow(target, 100.0, quantile * 5.0)   # standard error 5: 0.05 in ln
        assert _log_sd(target, row, replications) == pytest.approx(
            np.hypot(band, 0.05), rel=1e-3)
    assert _log_sd(target, CalibrationRow(target, 100.0, float("nan")), 1) == \
        pytest.approx(band)


def test_an_estimate_s_unit_is_its_parameter_s() -> None:
    """Only a constant is in utils: the logit's other parameters are ratios and positions
    (nest_scale, vot_position, reliability_ratio), the revealed time cost a share of the value
    a day, and a share of empties a share; the ones estimated on logs are pure numbers."""
    assert unit_of("market.choice.asc.west") == "utils"
    assert unit_of("market.choice.asc.west@eu") == "utils"
    assert unit_of("market.empties.repositioned_share@west+north") == "share"
    assert unit_of("market.choice.cost_scale") == "-"
    for name in ("nest_scale", "vot_position", "reliability_ratio"):
        assert unit_of(f"market.choice.{name}") == "-"
    assert unit_of("market.choice.revealed_time_cost_per_day") == "share/day"
