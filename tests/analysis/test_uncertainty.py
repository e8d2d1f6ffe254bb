"""Uncertain inputs and the uncertainty study: distributions, validation at the input
boundary, the Sobol machinery on a function with known indices, a study on a tiny network."""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.errors import InputError
from sim.scenario import load_scenario, uncertain_inputs
from sim.stats import wilson
from sim.uncertain import LogNormal, Normal, Triangular, Uniform
from sim.uncertainty import (
    design_study,
    inputs_table,
    problem,
    run_uncertainty,
    sobol_design,
    sobol_indices,
)
from tests.support.netbuilder import line_network
from tests.support.paths import SCENARIOS

ESTIMATES = Path(__file__).parents[1] / "support" / "estimates" / "line.yaml"


def _with(path: Path, **top: object) -> Path:
    doc = yaml.safe_load(path.read_text())
    doc.update(top)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


# ------------------------------------------------------------------ distributions


def test_distributions_map_the_unit_interval_to_their_quantiles() -> None:
    u = np.array([0.05, 0.5, 0.95])
    normal = Normal(dist="normal", mean=10, sd=2, reason="t").ppf(u)
    assert normal == pytest.approx([10 - 1.644854 * 2, 10, 10 + 1.644854 * 2], rel=1e-6)
    cut = Normal(dist="normal", mean=0, sd=1, low=0, high=1, reason="t").ppf(
        np.linspace(0, 1, 101))
    assert cut.min() >= 0 and cut.max() <= 1 and np.all(np.diff(cut) >= 0)
    assert LogNormal(dist="lognormal", median=5, sigma=0.3, reason="t").ppf(
        np.array([0.5]))[0] == pytest.approx(5)
    tri = Triangular(dist="triangular", low=0, mode=1, high=4, reason="t")
    assert tri.ppf(np.array([0.25]))[0] == pytest.approx(1.0)   # P(X <= mode) = 1/4
    assert Uniform(dist="uniform", low=2, high=4, reason="t").ppf(u) == pytest.approx(
        [2.1, 3.0, 3.9])


def test_a_lognormal_s_spread_is_its_sigma_of_the_log() -> None:
    """`sigma` is the standard deviation of the log: the 84.13% quantile (one sd up) of a
    log-normal with median 5 and sigma 0.3 is 5 e^0.3 = 6.7493, the 15.87% one 5 e^-0.3; the
    only check was the median, which any sigma keeps."""
    from scipy.special import ndtr

    dist = LogNormal(dist="lognormal", median=5, sigma=0.3, reason="t")
    assert dist.ppf(np.array([ndtr(1.0), ndtr(-1.0)])) == pytest.approx(
        [5 * math.exp(0.3), 5 * math.exp(-0.3)], rel=1e-9)


def test_a_triangle_s_quantiles_follow_its_cdf_on_both_sides_of_the_mode() -> None:
    """The draws below the mode come from the left arm's own CDF; the only check was at the
    mode itself, where the two arms meet, so a wrong left arm went unseen."""
    tri = Triangular(dist="triangular", low=0, mode=1, high=4, reason="t")
    # below the mode F(x) = x^2 / ((4 - 0) (1 - 0)): F(x) = 0.04 at x = sqrt(0.16) = 0.4;
    # above it F(x) = 1 - (4 - x)^2 / ((4 - 0) (4 - 1)): F(x) = 2/3 at (4 - x)^2 = 4, x = 2
    assert tri.ppf(np.array([0.04, 2 / 3])) == pytest.approx([0.4, 2.0])


def test_a_truncated_normal_draws_the_quantiles_of_its_window() -> None:
    """A normal truncated at `low` draws quantiles of the part kept (u rescaled into the CDF
    range), not the untruncated quantile clipped at the bound."""
    half = Normal(dist="normal", mean=0, sd=1, low=0, reason="t")
    # P(X <= x | X >= 0) = 2 Phi(x) - 1 = 0.5 at Phi(x) = 0.75: x = 0.6744898 (the clipped
    # untruncated median would be 0)
    assert half.ppf(np.array([0.5]))[0] == pytest.approx(0.6744898, rel=1e-6)
    assert half.central == pytest.approx(0.6744898, rel=1e-6)


def test_a_normal_truncated_on_both_sides_draws_the_quantiles_of_its_window() -> None:
    """Both bounds rescale u: normal(0, 1) kept to [0, 1] has its median at the normal's
    quantile (Phi(0) + Phi(1)) / 2 = 0.670672, x = 0.44177 (a window cut at `low` alone, its
    mass above 1 clipped onto the bound, has it at 0.674 and a tenth of the draws at 1)."""
    window = Normal(dist="normal", mean=0, sd=1, low=0, high=1, reason="t")
    assert window.ppf(np.array([0.5]))[0] == pytest.approx(0.4417705, abs=1e-6)
    draws = window.ppf(np.linspace(0.0, 1.0, 1001))
    assert (draws == 1.0).sum() <= 1          # no mass piled on the upper bound


def test_uncertainty_csv_s_spread_is_the_sample_sd() -> None:
    """uncertainty.csv's sd is the sample standard deviation (n - 1) of the runs, as every
    other spread cqsim reports."""
    from sim.uncertainty import quantile_table

    runs = pd.DataFrame({"total_teu_per_year": [1.0, 2.0, 3.0, 4.0]})
    row = quantile_table(runs, ["total_teu_per_year"], "b").iloc[0]
    # mean 2.5; squares 2.25 + 0.25 + 0.25 + 2.25 = 5; 5 / 3 -> sd 1.2909944 (5 / 4: 1.118)
    assert (row["runs"], row["mean"]) == (4, 2.5)
    assert row["sd"] == pytest.approx(1.2909944, rel=1e-7)


def test_uncertainty_csv_s_quantiles_are_the_5th_50th_and_95th_percentiles() -> None:
    """p5, p50 and p95 of 21 runs 0, 1, ..., 20 are 1, 10 and 19 (numpy's linear rule:
    rank 20 x 0.05 = 1); a 10-90% band read as 5-95% would understate the spread."""
    from sim.uncertainty import quantile_table

    runs = pd.DataFrame({"total_teu_per_year": np.arange(21.0)})
    row = quantile_table(runs, ["total_teu_per_year"], "b").iloc[0]
    assert (row["p5"], row["p50"], row["p95"]) == pytest.approx((1.0, 10.0, 19.0))


def test_p_meet_counts_the_runs_that_measured_trade() -> None:
    """P(meet) and its Wilson interval are over the runs with a goods-trade figure: of 1, 2,
    (none) and 4 against a target of 2, two of three meet it."""
    from sim.uncertainty import p_meet_row

    row = p_meet_row(pd.Series([1.0, 2.0, np.nan, 4.0]), 2.0, "b")
    assert (row["runs"], row["meeting"]) == (3, 2)
    assert row["p_meet"] == pytest.approx(2 / 3)
    assert (row["ci95_low"], row["ci95_high"]) == pytest.approx(wilson(2, 3))
    assert row["trade_mean_bn_cny_per_year"] == pytest.approx(7 / 3)


def test_a_triangular_near_the_float_limit_draws_without_numpy_warnings() -> None:
    """Its overflow printed numpy's RuntimeWarning and a source line before cqsim's one-line
    refusal (fuzz2 M4); the inf draw is what the callers refuse."""
    import warnings

    tri = Triangular(dist="triangular", low=0.0, mode=2.0, high=1e300, reason="t")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        draws = tri.ppf(np.array([0.0, 0.5, 1.0 - 1e-5]))
    assert draws[0] == 0.0 and not np.isfinite(draws[1:]).all()


def test_wilson_interval() -> None:
    # 0 of 10 at 95% (z^2 = 3.841459): high = z^2 / (n + z^2) = 3.841459 / 13.841459
    assert wilson(0, 10) == pytest.approx((0.0, 0.277533), abs=1e-5)
    # 8 of 10: (0.8 + z^2/20 -+ z sqrt(0.8 x 0.2 / 10 + z^2/400)) / (1 + z^2/10)
    assert wilson(8, 10) == pytest.approx((0.490162, 0.943318), abs=1e-5)
    # all of n: the upper bound is 1 exactly (rounding gave 0.999...9 at 4 of 4, and
    # frontier.png's error bar went below 0 and crashed the plan: docaudit2)
    for n in (4, 10, 14, 19):
        assert wilson(n, n)[1] == 1.0 and wilson(0, n)[0] == 0.0


# ------------------------------------------------------------------ Sobol machinery


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_sobol_machinery_recovers_the_ishigami_indices() -> None:
    """Analytic indices of Ishigami (a=7, b=0.1): S1 = 0.3139, 0.4424, 0; ST = 0.5576,
    0.4424, 0.2437 (Saltelli et al. 2008, Global Sensitivity Analysis, section 4.9)."""
    from sim.uncertain import UncertainInput

    inputs = [UncertainInput(f"x{i}", Uniform(dist="uniform", low=-math.pi, high=math.pi,
                                             reason="Ishigami")) for i in range(3)]
    prob = problem(inputs)
    unit = sobol_design(prob, 2048, seed=1)
    assert unit.shape == (2048 * 5, 3)
    x = np.column_stack([inp.dist.ppf(unit[:, j]) for j, inp in enumerate(inputs)])
    got = sobol_indices(prob, ishigami(x), seed=1).set_index("input")
    s1, st = (0.3139, 0.4424, 0.0), (0.5576, 0.4424, 0.2437)
    for i, name in enumerate(["x0", "x1", "x2"]):
        assert got.loc[name, "S1"] == pytest.approx(s1[i], abs=0.04)
        assert got.loc[name, "ST"] == pytest.approx(st[i], abs=0.04)
        assert got.loc[name, "ST_ci95"] < 0.1


def _ishigami_study(n: int) -> tuple[object, pd.DataFrame]:
    """A Sobol study of Ishigami over x0-x2 at N = `n`, its runs as a sweep writes them: the
    noise point v0000 first, then the design's points v0001... in design order."""
    from sim.uncertain import UncertainInput
    from sim.uncertainty import StudyDesign

    inputs = [UncertainInput(f"x{i}", Uniform(dist="uniform", low=-math.pi, high=math.pi,
                                             reason="Ishigami")) for i in range(3)]
    prob = problem(inputs)
    unit = sobol_design(prob, n, seed=1)
    x = np.column_stack([inp.dist.ppf(unit[:, j]) for j, inp in enumerate(inputs)])
    y = np.concatenate([[0.0], ishigami(x)])
    runs = pd.DataFrame({"variant": [f"v{k:04d}" for k in range(len(y))], "status": "ok",
                         "replication": 0, "goods_trade_bn_cny_per_year": y})
    study = StudyDesign(None, inputs, "sobol", 1, unit, [], [[0]] + [[0]] * len(unit),  # type: ignore[arg-type]
                        prob, n, len(y))
    return study, runs


def test_the_indices_read_the_runs_in_design_order_past_ten_thousand_points() -> None:
    """Runs were sorted as text: `v10000` < `v1001`, so from 10,000 points on SALib got the
    outputs scrambled against Saltelli's rows (Ishigami's ST 0.94, 1.06, 1.22; review50 #2)."""
    from sim.uncertainty import analyse

    study, runs = _ishigami_study(2048)                  # 10,240 points: v0001-v10240
    shuffled = runs.sample(frac=1.0, random_state=3)     # a sweep's table in any order
    got = analyse(study, shuffled, target=5.0)[2]         # type: ignore[arg-type]
    st = got.set_index("input")["ST"]
    assert st.to_numpy() == pytest.approx([0.5576, 0.4424, 0.2437], abs=0.04)


def test_an_output_that_does_not_vary_gets_a_note_not_indices() -> None:
    """A Sobol output the same in every run (a channel no input reaches) has no variance to
    apportion: the study says so instead of writing indices SALib computes as 0 / 0."""
    from sim.uncertainty import analyse

    study, runs = _ishigami_study(8)
    flat = runs.assign(goods_trade_bn_cny_per_year=3.0)
    _, _, sob, notes = analyse(study, flat, target=5.0)   # type: ignore[arg-type]
    assert sob.empty
    assert "sobol: goods_trade_bn_cny_per_year does not vary; no indices" in notes


def test_p_meet_of_a_sobol_design_counts_only_its_independent_rows() -> None:
    """Saltelli's AB rows reuse A's and B's columns: counted as draws, P(meet)'s 95% Wilson
    interval covered 67-71% (review50 #3). Only the A and B rows, 2N, are draws."""
    from sim.uncertainty import SOBOL_INPUTS, analyse, basis_rows

    study, runs = _ishigami_study(8)                     # 8 x (3 + 2) = 40 design rows
    design = runs[runs["variant"] != "v0000"]
    rows = basis_rows(design, "sobol", 3)
    assert len(rows) == 16
    a_rows = study.unit[0::5]                            # A, AB_1..AB_3, B per block
    ab_1 = study.unit[1::5]
    assert np.array_equal(ab_1[:, 1:], a_rows[:, 1:])    # AB_1 is A but for its own column
    picked = rows["variant"].str[1:].astype(int).to_numpy() - 1
    assert sorted(picked % 5) == [0] * 8 + [4] * 8       # A and B only
    quant, pm, _, _ = analyse(study, runs.iloc[::-1], target=5.0)   # type: ignore[arg-type]
    inputs_row = pm.set_index("basis").loc[SOBOL_INPUTS]
    assert inputs_row["runs"] == 16
    y = design["goods_trade_bn_cny_per_year"].to_numpy()
    hits = int((y[picked] >= 5.0).sum())
    assert inputs_row["meeting"] == hits
    assert (inputs_row["ci95_low"], inputs_row["ci95_high"]) == pytest.approx(wilson(hits, 16))
    assert set(quant[quant["basis"] == SOBOL_INPUTS]["runs"]) == {16}
    # a Latin hypercube's runs are every one a draw
    assert len(basis_rows(design, "lhs", 3)) == 40
    # grouped inputs: a block is groups + 2 rows, not inputs + 2 (x0 and x1 one group)
    from sim.uncertain import UncertainInput

    grouped = [UncertainInput(f"x{i}", Uniform(dist="uniform", low=0, high=1, reason="t",
                                               group="g" if i < 2 else f"x{i}"))
               for i in range(3)]
    unit = sobol_design(problem(grouped), 8, seed=1)
    assert unit.shape == (8 * 4, 3)
    a_rows, ab_g, ab_x2, b_rows = (unit[k::4] for k in range(4))
    assert np.array_equal(ab_g[:, 2], a_rows[:, 2]) and np.array_equal(ab_g[:, :2], b_rows[:, :2])
    assert np.array_equal(ab_x2[:, :2], a_rows[:, :2])
    runs8 = pd.DataFrame({"variant": [f"v{k + 1:04d}" for k in range(len(unit))],
                          "status": "ok"})
    picked = basis_rows(runs8, "sobol", 2)["variant"].str[1:].astype(int) - 1
    assert sorted(picked % 4) == [0] * 8 + [3] * 8


def test_a_design_is_the_same_for_a_seed_and_another_for_another_seed() -> None:
    """A study is reproducible: its Sobol and Latin-hypercube points are drawn from its
    `seed` (uncertainty.json records it), so the same seed lays out the same points and
    another seed other ones; an unseeded draw would make every rerun a new study."""
    from sim.uncertainty import lhs_design

    prob = {"num_vars": 2, "names": ["a", "b"], "bounds": [[0.0, 1.0]] * 2}
    assert np.array_equal(sobol_design(prob, 4, seed=5), sobol_design(prob, 4, seed=5))
    assert not np.array_equal(sobol_design(prob, 4, seed=5), sobol_design(prob, 4, seed=6))
    assert np.array_equal(lhs_design(2, 6, seed=5), lhs_design(2, 6, seed=5))
    assert not np.array_equal(lhs_design(2, 6, seed=5), lhs_design(2, 6, seed=6))


def test_designs_stay_inside_the_range_the_study_checked(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    """A study checks each input at the quantiles EDGE and 1 - EDGE (`check_support`); a
    design point on a face of the unit cube (a Sobol or Latin-hypercube coordinate of 0 or
    1, or a copula's normal score past float range) is kept at those quantiles, not drawn
    at 1e-9 (a normal's -6 sd, beyond what was checked) or infinitely far."""
    from SALib.sample import sobol
    from scipy.stats import qmc

    from sim.uncertain import EDGE, UncertainInput, values

    faces = np.array([[0.0, 1.0], [0.5, 0.5]])
    monkeypatch.setattr(sobol, "sample", lambda *args, **kw: faces.copy())
    assert sobol_design({}, 1, seed=0).tolist() == [[EDGE, 1.0 - EDGE], [0.5, 0.5]]
    monkeypatch.setattr(qmc.LatinHypercube, "random", lambda self, n: faces.copy())
    from sim.uncertainty import lhs_design

    assert lhs_design(2, 2, seed=0).tolist() == [[EDGE, 1.0 - EDGE], [0.5, 0.5]]
    # correlated estimates (a Gaussian copula) at the design's corners
    normal = Normal(dist="normal", mean=0.0, sd=1.0, reason="t")
    pair = [UncertainInput("a", normal, (("b", 0.99),)),
            UncertainInput("b", normal, (("a", 0.99),))]
    ends = normal.ppf(np.array([EDGE, 1.0 - EDGE]))
    for point in values(pair, np.array([[EDGE, EDGE], [1.0 - EDGE, 1.0 - EDGE],
                                        [1e-12, 1e-12]])):
        assert all(ends[0] - 1e-9 <= v <= ends[1] + 1e-9 for v in point.values()), point


# ------------------------------------------------------------------ validation


def test_uncertain_block_resolves_estimates(tmp_path: Path) -> None:
    path = line_network(tmp_path)
    shutil.copy(ESTIMATES, tmp_path / "estimates.yaml")
    _with(path, uncertain={
        "demand.elasticity": {"dist": "from_calibration", "estimates": "estimates.yaml",
                              "high": 0},
        "demand.flows.0.teu_per_year": {"dist": "triangular", "low": 15000, "mode": 20000,
                                        "high": 30000, "source": "test"}})
    inputs = {i.path: i.dist for i in uncertain_inputs(load_scenario(path))}
    elasticity = inputs["demand.elasticity"]
    assert isinstance(elasticity, Normal)
    assert (elasticity.mean, elasticity.sd, elasticity.high) == (-0.6, 0.1, 0)
    assert "estimates.yaml parameters.demand.elasticity" in elasticity.source


def test_a_held_input_s_spread_widens_the_estimate(tmp_path: Path) -> None:
    """An estimate that moves with an input the estimation held fixed (the EU constant with
    the Russia row) is drawn with that spread added to its standard error in quadrature:
    se 0.1 and 0.2 held give sqrt(0.05)."""
    path = line_network(tmp_path)
    shutil.copy(ESTIMATES, tmp_path / "estimates.yaml")
    _with(path, uncertain={
        "demand.elasticity": {"dist": "from_calibration", "estimates": "estimates.yaml",
                              "held_input_sd": 0.2, "reason": "re-estimated at +-30% of x"}})
    (elasticity,) = [i.dist for i in uncertain_inputs(load_scenario(path))]
    assert isinstance(elasticity, Normal)
    assert elasticity.mean == -0.6 and elasticity.sd == pytest.approx(0.05 ** 0.5)
    assert "0.2 for a held input: re-estimated at +-30% of x" in elasticity.source


@pytest.mark.parametrize(("entry", "field", "expected"), [
    ({"demand.nope": {"dist": "uniform", "low": 0, "high": 1, "reason": "r"}},
     "uncertain.demand.nope", "existing scenario field"),
    ({"name": {"dist": "uniform", "low": 0, "high": 1, "reason": "r"}},
     "uncertain.name", "numeric scenario field"),
    ({"demand.elasticity": {"dist": "uniform", "low": -1, "high": 0}},
     "uncertain.demand.elasticity", "source or a reason"),
    ({"demand.elasticity": {"dist": "normal", "mean": -1, "sd": -2, "reason": "r"}},
     "uncertain.demand.elasticity.sd", "> 0"),
    ({"demand.elasticity": {"dist": "beta", "reason": "r"}},
     "uncertain.demand.elasticity.dist", "a distribution: one of normal"),
    ({"demand.elasticity": {"dist": "from_calibration", "estimates": "missing.yaml"}},
     "uncertain.demand.elasticity.estimates", "existing estimates file"),
    ({"demand.lot_teu": {"dist": "from_calibration", "estimates": "estimates.yaml"}},
     "parameters.demand.lot_teu", "an estimate of this parameter"),
    ({"demand.elasticity": {"dist": "from_calibration", "estimates": "estimates.yaml",
                            "held_input_sd": 0.2}},
     "uncertain.demand.elasticity", "a reason saying how held_input_sd was measured"),
])
def test_bad_uncertain_entries_name_file_and_field(tmp_path: Path, entry: dict, field: str,
                                                   expected: str) -> None:
    path = line_network(tmp_path)
    shutil.copy(ESTIMATES, tmp_path / "estimates.yaml")
    _with(path, uncertain=entry)
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert err.value.field == field
    assert expected in err.value.expected


@pytest.mark.parametrize(("field", "hint"), [("diverts_after_hours", True),
                                           ("seasonality", False)])
def test_an_unset_optional_field_is_said_settable_only_if_a_number(
        tmp_path: Path, field: str, hint: bool) -> None:
    """`uncertain:` on an optional field the scenario leaves unset says to give it a value
    only when it is a number (`diverts_after_hours`); an unset `seasonality` (12 factors)
    could never be varied, and the advice led to a second error (review 41b, 5)."""
    path = line_network(tmp_path)
    doc = yaml.safe_load(path.read_text())
    doc["network"]["background"] = {"b": {"teu_per_year": 1000, "batch_teu": 50,
                                          "source": "test"}}
    doc["uncertain"] = {f"network.background.b.{field}": {
        "dist": "uniform", "low": 1, "high": 2, "reason": "r"}}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert err.value.field == f"uncertain.network.background.b.{field}"
    assert err.value.expected.startswith("a path to a numeric scenario field")
    assert ("give it a value there to vary it" in err.value.expected) == hint


def test_a_distribution_outside_the_field_is_refused_before_any_run(tmp_path: Path) -> None:
    path = _with(line_network(tmp_path), uncertain={"demand.elasticity": {
        "dist": "normal", "mean": -0.5, "sd": 0.5, "reason": "r"}})   # elasticity <= 0
    with pytest.raises(InputError, match="truncate it with low/high") as err:
        design_study(path, 20, "lhs", noise_replications=2)
    assert err.value.field == "uncertain.demand.elasticity"
    # `cqsim validate` refuses it too, in one line (it said valid, then `uncertainty`
    # refused the same file: edges50's probe)
    from click.testing import CliRunner

    from sim.cli import main
    said = CliRunner().invoke(main, ["validate", str(path)])
    assert said.exit_code == 2, said.output
    assert "uncertain.demand.elasticity" in said.stderr
    assert len(said.stderr.strip().splitlines()) == 1 and "Traceback" not in said.output


def test_a_whole_number_field_needs_a_range_over_two_whole_numbers(tmp_path: Path) -> None:
    """A range of 1.2-1.4 on a field of whole numbers ran every draw at 1 while inputs.csv
    recorded uniform(1.2, 1.4) (fuzzing, 2026-12-05); 1.2-1.6 spans 1 and 2 and is taken."""
    path = _with(line_network(tmp_path), uncertain={"routing.k_routes": {
        "dist": "uniform", "low": 1.2, "high": 1.4, "reason": "r"}})
    with pytest.raises(InputError, match="every draw rounds to 1") as err:
        design_study(path, 20, "lhs", noise_replications=2)
    assert err.value.field == "uncertain.routing.k_routes"
    _with(path, uncertain={"routing.k_routes": {"dist": "uniform", "low": 1.2, "high": 1.6,
                                                "reason": "r"}})
    assert {p["routing.k_routes"] for p in design_study(path, 20, "lhs",
                                                        noise_replications=2).points} >= {1, 2}


@pytest.mark.parametrize("path, low, high, expected", [
    ("horizon.days", 5, 30, "horizon.days varied or --days set, not both (--days 20 sets every "
                            "run's horizon)"),
    ("horizon.warmup_days", 0, 30, "a warm-up that leaves at least 1 day of --days 20 to measure"),
])
def test_days_that_would_replace_an_uncertain_horizon_is_refused(
        tmp_path: Path, path: str, low: float, high: float, expected: str) -> None:
    """Audit s16 #2: `--days 20` ran every sample 20 days long (or without its warm-up) while
    runs.parquet and inputs.csv recorded the horizon drawn."""
    scen = _with(line_network(tmp_path, horizon={"days": 60}), uncertain={path: {
        "dist": "uniform", "low": low, "high": high, "reason": "r"}})
    with pytest.raises(InputError) as err:
        run_uncertainty(scen, tmp_path / "out", samples=6, method="lhs",
                        noise_replications=2, days=20, workers=1, progress=False)
    assert err.value.field == f"uncertain.{path}" and expected in err.value.expected
    assert not (tmp_path / "out").exists()


def test_cli_bad_uncertain_entry_is_one_line_exit_2(tmp_path: Path) -> None:
    from tests.cli.test_cli import cqsim

    path = _with(line_network(tmp_path), uncertain={"demand.nope": {
        "dist": "uniform", "low": 0, "high": 1, "reason": "r"}})
    done = cqsim("uncertainty", str(path), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "uncertain.demand.nope" in done.stderr
    assert not (tmp_path / "out").exists()


def test_cli_out_with_foreign_files_needs_overwrite(tmp_path: Path) -> None:
    """The refusal's advice (--overwrite) is an option the command has, and it works."""
    from tests.cli.test_cli import cqsim

    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    args = ("uncertainty", str(_study_network(tmp_path)), "--method", "lhs", "--samples", "4",
            "--noise-replications", "2", "--workers", "1", "--out", str(out))
    done = cqsim(*args)
    assert done.returncode == 2 and "--overwrite" in done.stderr, done.stderr
    assert (out / "notes.txt").read_text() == "mine"
    done = cqsim(*args, "--overwrite")
    assert done.returncode == 0, done.stderr
    assert (out / "uncertainty.csv").is_file() and not (out / "notes.txt").exists()


def test_growth_has_one_home_demand_growth(tmp_path: Path) -> None:
    """Markets grow through `demand_growth` changes only: a `growth:` section is refused."""
    path = line_network(tmp_path)
    _with(path, growth={"b_market": {"hubs": ["b"], "factor": 1.5, "source": "test"}})
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert err.value.field.startswith("growth")


# ------------------------------------------------------------------ studies


def _study_network(tmp_path: Path) -> Path:
    path = line_network(tmp_path, horizon={"days": 40, "warmup_days": 5})
    return _with(path, uncertain={
        "demand.flows.0.teu_per_year": {"dist": "uniform", "low": 5_000, "high": 35_000,
                                        "reason": "test"},
        "trade.other_trade_bn_cny": {"dist": "normal", "mean": 0.5, "sd": 0.2,
                                     "reason": "test"}})


def test_noise_runs_use_the_scenario_s_values_and_unused_samples_are_said(
        tmp_path: Path) -> None:
    """The noise replications ran the distributions' centres (the elasticity at -0.7 where
    the scenario says -0.8), so "simulation noise only" was not what `cqsim run` gives; and
    --samples 256 ran 136 without a word. The scenario's own values now, and a note (no
    warning while designing: it printed before a refusal's error, review of the merged
    branches, 4)."""
    import warnings

    from sim.errors import InputWarning
    from sim.uncertain import lookup
    from sim.uncertainty import unused_note

    path = _with(line_network(tmp_path, horizon={"days": 40, "warmup_days": 5}), uncertain={
        "demand.flows.0.teu_per_year": {"dist": "uniform", "low": 10_000, "high": 35_000,
                                        "reason": "test"},
        "trade.other_trade_bn_cny": {"dist": "normal", "mean": 0.5, "sd": 0.2,
                                     "reason": "test"}})
    data = load_scenario(path).model_dump(mode="json")
    own = {p: lookup(data, p) for p in ("demand.flows.0.teu_per_year",
                                        "trade.other_trade_bn_cny")}
    assert own["demand.flows.0.teu_per_year"] != 22_500   # not the uniform's centre
    # 2 groups: N x (2 + 2) points; 14 - 2 noise = 12 fit N = 2 (8 points), 4 runs unused
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputWarning)     # designing says nothing
        study = design_study(path, 14, "sobol", noise_replications=2)
        full = design_study(path, 10, "sobol", noise_replications=2)
    assert unused_note(study) == (
        "--samples 14: the Sobol design runs 10 (N = 2 x (2 input groups + 2) = 8 design "
        "points + 2 noise replications); the other 4 are not used (N = 4 needs --samples 18)")
    assert study.points[0] == own
    assert len(full.points) == 9 and unused_note(full) is None     # all used: nothing said
    assert unused_note(design_study(path, 14, "lhs", noise_replications=2)) is None
    assert list(inputs_table(study).set_index("input")["scenario"]) == list(own.values())


def test_a_refused_study_prints_its_error_alone(tmp_path: Path) -> None:
    """`cqsim uncertainty ... --max-events 1` printed the unused-samples warning, then the
    error (review of the merged branches, 4): a refusal is one line, nothing written."""
    from click.testing import CliRunner

    from sim.cli import main

    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["uncertainty", str(_study_network(tmp_path)),
                                       "--samples", "14", "--noise-replications", "2",
                                       "--max-events", "1", "--out", str(out)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cqsim: error:") \
        and "within the limits" in lines[0], lines
    # counted as the study counts its runs (of 14 samples a Sobol design of this network
    # uses 10, the noise point's 2 replications among them), not as a sweep's variants
    # (trial51: "a sweep of 17 variants" for 24 runs)
    assert "a sweep of 10 runs (9 points, each with its own replications) within the " \
        "limits" in lines[0] and "variant" not in lines[0], lines[0]
    assert not out.exists()


def test_the_noise_point_runs_the_scenario_as_it_is(tmp_path: Path) -> None:
    """A share over several gateways (`...repositioned_share@west+south`) reads its first
    lane's value; written back through `with_overrides` it set every lane to it, so a
    scenario whose lanes differ ran changed at the "simulation noise only" point without a
    word (review of the merged branches, 8). The point runs the scenario unchanged now, and
    its values (the first lane's share) are only recorded."""
    from sim.sweep.tasks import prepare_sweep
    from sim.uncertainty import sweep_spec
    from tests.support.market import market_doc
    from tests.support.netbuilder import write_scenario

    share = "market.empties.repositioned_share@west+south"
    doc = market_doc(tmp_path)
    doc["demand"]["classes"]["empty"] = {"value_cny_per_teu": 0, "tonnes_per_teu": 2.2,
                                         "value_of_time_cny_per_teu_hour": 0, "source": "t"}
    doc["market"]["empties"] = {"repositioned_share": 0.5, "source": "test", "lanes": [
        {"gateway": "west", "china": "cq", "abroad": ["eu"], "repositioned_share": 0.2,
         "source": "test"},
        {"gateway": "south", "china": "cq", "abroad": ["asean"], "repositioned_share": 0.6,
         "source": "test"}]}
    doc["uncertain"] = {share: {"dist": "uniform", "low": 0, "high": 1, "reason": "test"}}
    path = write_scenario(tmp_path / "m.yaml", doc)
    study = design_study(path, 6, "lhs", noise_replications=2)
    assert study.points[0] == {share: 0.2}            # recorded: the first lane's share
    sweep = prepare_sweep(sweep_spec(study), settle_here=False)

    def lanes(variant: str) -> list[float | None]:
        plan = next(t.plan for t in sweep.tasks if t.variant == variant)
        assert plan is not None and plan.market is not None
        empties = plan.market.section.empties
        assert empties is not None
        return [lane.repositioned_share for lane in empties.lanes]

    assert lanes("v0000") == [0.2, 0.6]               # the scenario's own, both lanes
    drawn = study.points[1][share]
    assert lanes("v0001") == [drawn, drawn]           # a design point sets every lane


def test_lhs_study_on_a_tiny_network(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_uncertainty(_study_network(tmp_path), out, samples=10, method="lhs",
                             noise_replications=2, target=2.5, workers=1, progress=False)
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 10 and (runs["status"] == "ok").all()
    assert sorted(runs[runs["variant"] == "v0000"]["replication"]) == [0, 1]
    design = runs[runs["variant"] != "v0000"]
    assert sorted(design["replication"]) == list(range(8))   # its own noise per point
    assert design["demand.flows.0.teu_per_year"].between(5_000, 35_000).all()
    quant = pd.read_csv(out / "uncertainty.csv")
    row = quant[(quant["kpi"] == "total_teu_per_year")
                & (quant["basis"].str.startswith("input"))].iloc[0]
    assert row["p5"] <= row["p50"] <= row["p95"] and row["runs"] == 8
    # the label names the unit of the numbers beside it (TEU/yr, not the kTEU/yr of plots)
    assert row["label"].endswith(", TEU/yr") and row["mean"] > 1_000
    # input uncertainty (sd of U(5k, 35k) about 8.7k TEU/yr) spreads throughput more than
    # noise alone (about 2k TEU/yr over 35 days of statistics)
    noise = quant[(quant["kpi"] == "total_teu_per_year")
                  & (quant["basis"].str.startswith("simulation"))].iloc[0]
    assert row["sd"] > 2 * noise["sd"]
    pm = pd.read_csv(out / "p_meet.csv").set_index("basis")
    trade = result.runs["total_trade_bn_cny_per_year"] + result.runs["trade.other_trade_bn_cny"]
    hits = int((trade[result.runs["variant"] != "v0000"] >= 2.5).sum())
    assert pm["meeting"].iloc[0] == hits and pm["runs"].iloc[0] == 8
    assert pm["target_bn_cny_per_year"].iloc[0] == 2.5    # a trade figure says its unit of time
    # no Sobol indices from a Latin hypercube: sobol.csv is its header alone, and the notes
    # say why (an empty table read as a failed analysis: trial51)
    assert pd.read_csv(out / "sobol.csv").empty
    assert any(n.startswith("sobol: a Latin hypercube design") for n in result.notes), \
        result.notes
    # the study's tables are in the folder's manifest, hashes true
    from sim.staging import read_manifest, verify
    found = read_manifest(out)
    assert found is not None and "uncertainty.csv" in json.dumps(found[1])
    assert verify(out) == []
    # the manifest names the study's command, so a sweep into the folder does not delete
    # uncertainty.csv, sobol.csv and p_meet.csv without --overwrite (fuzzing, 2026-12-05)
    assert found[1]["manifest"]["command"] == "uncertainty"
    from sim.sweep.execute import execute_sweep
    from sim.uncertainty import sweep_spec
    study = design_study(_study_network(tmp_path), 10, "lhs", noise_replications=2)
    with pytest.raises(InputError, match="cqsim uncertainty"):
        execute_sweep(sweep_spec(study, None), out, workers=1, progress=False)
    assert (out / "uncertainty.csv").is_file()


def test_a_part_year_study_says_the_season_it_carries(tmp_path: Path) -> None:
    """`--days` making a part year: the notes carry the console's seasonal-factor note, from
    the scenario's own (raw) factors over the runs' statistics period: days 5-30, --days 30
    against the network's own 40 (at 40 a study that ignored --days passed)."""
    from sim.trade import season_note
    from sim.units import period_season

    path = _study_network(tmp_path)
    doc = yaml.safe_load(path.read_text())
    doc["demand"]["seasonality"] = [3.0, 1.5] + [2.0] * 10     # January high, mean 2
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    result = run_uncertainty(path, None, samples=4, method="lhs", noise_replications=2,
                             target=2.5, workers=1, progress=False, days=30)
    horizon = load_scenario(path).horizon
    assert (horizon.days, horizon.warmup_days) == (40, 5)   # the network's own, not --days
    ran = horizon.model_copy(update={"days": 30})
    factor = period_season(tuple(doc["demand"]["seasonality"]), ran)
    assert factor == pytest.approx(3.0 / np.mean(doc["demand"]["seasonality"]))  # January
    (note,) = [n for n in result.notes if "days 5-30" in n]
    assert note == season_note(factor, ran)
    # and the tables read on their own say it (trial51)
    said = f"annualised from days 5-30 (mean seasonal factor {factor:.3f})"
    for table in (result.p_meet, result.quantiles):
        assert set(table["per_year_from"]) == {said}


def test_a_study_is_bounded_by_the_study_limits(tmp_path: Path) -> None:
    """A study's runs together are held to the study limits (1e11 events by default): the
    sweep's default of 5e8 refused the README's 256-sample study, and `cqsim uncertainty`
    had no option to lift it."""
    from sim.budget import DEFAULT_STUDY_LIMITS, Limits
    from sim.uncertainty import run_uncertainty as study

    assert DEFAULT_STUDY_LIMITS.max_events == 1e11
    assert study.__kwdefaults__["limits"] is DEFAULT_STUDY_LIMITS
    with pytest.raises(InputError, match="within the limits"):
        study(_study_network(tmp_path), tmp_path / "out", samples=10, method="lhs",
              noise_replications=2, workers=1, progress=False, limits=Limits(max_events=10))
    assert not (tmp_path / "out").exists()


def test_sobol_study_on_a_tiny_network(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_uncertainty(_study_network(tmp_path), out, samples=12, method="sobol",
                             noise_replications=2, workers=1, progress=False)
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 2 + 2 * 4                    # N = 2 points x (2 inputs + 2)
    # the 2 runs of --samples 12 left unused: a note of the study, kept in uncertainty.json
    assert result.notes[0].startswith("--samples 12: the Sobol design runs 10 ")
    assert json.loads((out / "uncertainty.json").read_text())["notes"][0] == result.notes[0]
    assert (runs[runs["variant"] != "v0000"]["replication"] == 0).all()   # CRN
    sob = pd.read_csv(out / "sobol.csv")
    trade = sob[sob["output"] == "goods_trade_bn_cny_per_year"]
    assert set(trade["input"]) == {"demand.flows.0.teu_per_year", "trade.other_trade_bn_cny"}
    teu = sob[sob["output"] == "west_teu_per_year"].set_index("input")
    assert teu.loc["trade.other_trade_bn_cny", "ST"] == 0   # trade input moves no TEU
    assert {"S1", "S1_ci95", "ST", "ST_ci95"} <= set(sob.columns)
    # N = 2: the console printed "largest total Sobol indices" without a word that at this
    # N they mean nothing (S1 2.45 > 1 in the audit); a note says so (planner's audit, D12)
    caveat = [n for n in result.notes if n.startswith("sobol: N = 2 points is too few")]
    assert caveat and "N = 64 needs --samples 258" in caveat[0]     # 64 x (2 + 2) + 2


def _largest_error(prob: dict, f: Callable[[np.ndarray], np.ndarray], s1: np.ndarray,
                   st: np.ndarray, n: int, seed: int, noise_sd: float = 0.0) -> float:
    """The largest |error| of any S1 or ST of `f` over the unit cube (as the shipped study
    draws: `sobol_design`, `sobol_indices`) at N = `n`, with Gaussian noise on each point."""
    unit = sobol_design(prob, n, seed=seed)
    y = f(unit) + np.random.default_rng(seed).normal(0.0, noise_sd, len(unit))
    got = sobol_indices(prob, y, seed=seed)
    return float(max(np.abs(got["S1"].to_numpy() - s1).max(),
                     np.abs(got["ST"].to_numpy() - st).max()))


def test_the_sobol_threshold_is_where_the_ishigami_errors_fall() -> None:
    """SOBOL_MIN_N is measured, not chosen: on Ishigami (3 inputs, no noise, seeds 0-9) the
    median of the largest |error| of any index first falls to about a tenth of the 0-1 scale
    (0.115; at most 0.15 here) at N = 64, from 0.26 at 32 and 0.37 at 8. The test asserted
    only the constant and could not fail on the measurement (review of merges 36, finding 9)."""
    from sim.uncertainty import SOBOL_MIN_N

    prob = {"num_vars": 3, "names": ["x0", "x1", "x2"], "bounds": [[0.0, 1.0]] * 3}
    s1, st = np.array([0.3139, 0.4424, 0.0]), np.array([0.5576, 0.4424, 0.2437])

    def f(u: np.ndarray) -> np.ndarray:
        return ishigami(-math.pi + 2 * math.pi * u)

    median = {n: float(np.median([_largest_error(prob, f, s1, st, n, s) for s in range(10)]))
              for n in (8, 16, 32, 64, 128)}
    assert min(n for n, e in median.items() if e <= 0.15) == SOBOL_MIN_N, median
    assert median[8] > 2.5 * median[SOBOL_MIN_N], median


def test_the_sobol_threshold_is_a_floor_for_fourteen_inputs_with_noise() -> None:
    """The threshold's reach: with 14 inputs (Sobol's G function, whose indices are known)
    and noise of 9% of the variance on every point, as the shipped study has 14 groups and
    noisy runs, the median largest error at N = 64 is still about 0.24, near Ishigami's at
    N = 32; it falls to about 0.1 at N = 256 (docs/planning.md, the caveat's words)."""
    from sim.uncertainty import SOBOL_MIN_N

    a = np.array([0, 0, 1, 1, 2, 2, 4, 4, 9, 9, 99, 99, 99, 99], dtype=float)
    vi = 1 / (3 * (1 + a) ** 2)
    v = float(np.prod(1 + vi) - 1)
    s1 = vi / v
    st = np.array([vi[i] * np.prod(np.delete(1 + vi, i)) / v for i in range(a.size)])
    prob = {"num_vars": a.size, "names": [f"x{i}" for i in range(a.size)],
            "bounds": [[0.0, 1.0]] * a.size}

    def g(u: np.ndarray) -> np.ndarray:
        return np.prod((np.abs(4 * u - 2) + a) / (1 + a), axis=1)

    median = {n: float(np.median([_largest_error(prob, g, s1, st, n, s, 0.3 * math.sqrt(v))
                                  for s in range(10)])) for n in (SOBOL_MIN_N, 256)}
    assert 0.15 < median[SOBOL_MIN_N] < 0.35 and median[256] <= 0.15, median


def test_the_sobol_caveat_holds_below_the_measured_threshold() -> None:
    """A caveat below SOBOL_MIN_N that says what it was measured on, none from there on, and
    none for a design with no Sobol points."""
    from sim.uncertainty import SOBOL_MIN_N, sobol_caveat

    caveat = str(sobol_caveat(16, 14, 8))
    assert f"N = {SOBOL_MIN_N} needs --samples 1032" in caveat
    assert "3 inputs without noise" in caveat and "14 inputs" in caveat
    assert sobol_caveat(32, 14, 8) is not None
    assert sobol_caveat(SOBOL_MIN_N, 14, 8) is None and sobol_caveat(0, 2, 8) is None


# ------------------------------------------------------------------ correlated estimates


def _correlated_estimates(tmp: Path, r: float) -> Path:
    """The line network with its two estimates correlated `r` and both uncertain."""
    path = line_network(tmp)
    doc = yaml.safe_load(ESTIMATES.read_text())
    doc["correlation"] = {"demand.elasticity": {"demand.classes.general.value_cny_per_teu": r}}
    (tmp / "estimates.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return _with(path, uncertain={
        "demand.elasticity": {"dist": "from_calibration", "estimates": "estimates.yaml",
                              "high": 0},
        "demand.classes.general.value_cny_per_teu": {"dist": "from_calibration",
                                                     "estimates": "estimates.yaml"},
        "trade.other_trade_bn_cny": {"dist": "uniform", "low": 0, "high": 1, "reason": "r"}})


def test_correlated_estimates_are_drawn_jointly_in_one_sobol_group(tmp_path: Path) -> None:
    """Two estimates the estimation found correlated (the south and east constants: 0.9) are
    drawn with that correlation, not independently, and share one Sobol group; an input
    outside the estimates stays independent and in a group of its own."""
    from scipy.stats import qmc

    from sim.uncertain import values

    inputs = uncertain_inputs(load_scenario(_correlated_estimates(tmp_path, -0.8)))
    groups = {i.path: i.group for i in inputs}
    assert groups["demand.elasticity"] == groups["demand.classes.general.value_cny_per_teu"]
    assert groups["trade.other_trade_bn_cny"] == "trade.other_trade_bn_cny"
    unit = qmc.LatinHypercube(d=3, seed=np.random.default_rng(1)).random(4000)
    points = pd.DataFrame(values(inputs, unit))
    r = np.corrcoef(points["demand.elasticity"],
                    points["demand.classes.general.value_cny_per_teu"])[0, 1]
    assert r == pytest.approx(-0.8, abs=0.03)
    assert abs(np.corrcoef(points["demand.elasticity"],
                           points["trade.other_trade_bn_cny"])[0, 1]) < 0.05
    # the margins are the estimates' own: mean and sd kept
    assert points["demand.classes.general.value_cny_per_teu"].std() == pytest.approx(15000,
                                                                                    rel=0.05)
    # below MIN_CORRELATION the two are drawn independently, each its own group
    small = uncertain_inputs(load_scenario(_correlated_estimates(tmp_path / "s", 0.05)))
    assert len({i.group for i in small}) == 3 and not any(i.correlated for i in small)


@pytest.mark.parametrize("block, field", [
    ({"demand.elasticity": {"demand.classes.general.value_cny_per_teu": 1.5}},
     "correlation.demand.elasticity.demand.classes.general.value_cny_per_teu"),
    ({"demand.elasticity": {"demand.nope": 0.5}}, "correlation.demand.elasticity.demand.nope"),
    # a pair twice (the last would win without a word), a pair at 1 (no joint normal)
    ({"demand.elasticity": {"demand.classes.general.value_cny_per_teu": 0.5},
      "demand.classes.general.value_cny_per_teu": {"demand.elasticity": -0.5}},
     "correlation.demand.classes.general.value_cny_per_teu.demand.elasticity"),
    ({"demand.elasticity": {"demand.classes.general.value_cny_per_teu": 1.0}}, "correlation"),
])
def test_a_bad_correlation_names_the_estimates_file(tmp_path: Path, block: dict,
                                                    field: str) -> None:
    path = _correlated_estimates(tmp_path, 0.5)
    doc = yaml.safe_load((tmp_path / "estimates.yaml").read_text())
    doc["correlation"] = block
    (tmp_path / "estimates.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert err.value.field == field and err.value.file.endswith("estimates.yaml")


def test_a_truncation_window_in_the_far_tail_is_refused(tmp_path: Path) -> None:
    """A window keeping almost none of an estimate's normal would make every draw its bound:
    a constant presented as a spread."""
    path = _correlated_estimates(tmp_path, 0.5)
    doc = yaml.safe_load(path.read_text())
    doc["uncertain"]["demand.elasticity"] |= {"low": 0.3, "high": 0.5}   # 9-11 sd away
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert err.value.field == "uncertain.demand.elasticity" and "keep" in err.value.expected
    with pytest.raises(ValueError, match="keep"):
        Normal(dist="normal", mean=0, sd=1, low=6, high=7, reason="t")


def test_an_estimate_without_a_file_reads_the_scenario_s_own_estimates() -> None:
    """A from_calibration entry that names no file draws from the scenario's market.estimates:
    baseline-2023's constants from its estimates, and a file extending it with estimates of
    its own (lock-wait-2016) from those, not from the file it inherits the block from."""
    from sim.market.estimates import estimates_data

    for name, estimates in (("baseline-2023.yaml", "baseline-2023.yaml"),
                            ("sensitivity/lock-wait-2016.yaml", "lock-wait-2016.yaml")):
        inputs = {i.path: i.dist for i in uncertain_inputs(load_scenario(SCENARIOS / name))}
        east = inputs["market.choice.asc.east"]
        data = estimates_data(SCENARIOS / "estimates" / estimates)
        assert isinstance(east, Normal)
        assert east.mean == data["parameters"]["market.choice.asc.east"]["value"]
        assert estimates in east.source


def test_an_estimate_with_no_file_anywhere_is_refused(tmp_path: Path) -> None:
    path = line_network(tmp_path)
    _with(path, uncertain={"demand.elasticity": {"dist": "from_calibration"}})
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert err.value.field == "uncertain.demand.elasticity.estimates"
    assert "market.estimates" in err.value.expected


def test_the_assumed_shares_of_empties_are_uncertain_inputs_of_their_own_lanes() -> None:
    """baseline-2023 varies the river's and the ILSTC's assumed shares of returned empties
    (not only the China-Europe lanes' fitted one): each draw moves its own gateway's lanes and
    no other's."""
    from sim.scenario import with_overrides

    scenario = load_scenario(SCENARIOS / "baseline-2023.yaml")
    inputs = {i.path: i.dist for i in uncertain_inputs(scenario)}
    east = inputs["market.empties.repositioned_share@east"]
    south = inputs["market.empties.repositioned_share@south"]
    assert isinstance(east, Triangular) and isinstance(south, Uniform)
    empties = scenario.market.empties
    shares = {lane.gateway: empties.share_of(lane) for lane in empties.lanes}
    assert east.low < shares["east"] <= east.high and south.low < shares["south"] < south.high
    drawn = with_overrides(scenario, **{"market.empties.repositioned_share@east": east.low,
                                        "market.empties.repositioned_share@south": 0.0})
    after = {lane.gateway: drawn.market.empties.share_of(lane)
             for lane in drawn.market.empties.lanes}
    assert after == shares | {"east": east.low, "south": 0.0}


def test_a_study_says_its_runs_backlogs_as_run_and_sweep_do(tmp_path: Path) -> None:
    """A study warned only of a short warm-up: its runs' lines that ended with weeks of
    capacity waiting to board went unsaid, where run, compare, rank and sweep warn of them
    (fix66's leftovers). One train a week for 45k-55k TEU/yr leaves a backlog in every run."""
    path = _with(line_network(tmp_path, per_week=1, teu_per_year=50_000,
                              horizon={"days": 40, "warmup_days": 5}), uncertain={
        "demand.flows.0.teu_per_year": {"dist": "uniform", "low": 45_000, "high": 55_000,
                                        "reason": "test"}})
    result = run_uncertainty(path, tmp_path / "out", samples=4, method="lhs",
                             noise_replications=2, target=2.5, workers=1, progress=False)
    late = [n for n in result.notes if "waiting to board" in n]
    assert len(late) == 1 and "ab (in 4 of 4 runs)" in late[0], result.notes
    about = json.loads((tmp_path / "out" / "uncertainty.json").read_text())
    assert late[0] in about["notes"]
