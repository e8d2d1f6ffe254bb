"""The pipeline every command shares: run settings applied through one validated path, for a
built Plan as for a file; settle and replicate in one place."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim
from sim.errors import InputError
from sim.network import revise
from sim.pipeline import prepare, replicate, settle
from sim.scenario import Horizon
from tests.support.netbuilder import line_network


def test_run_of_a_plan_applies_its_overrides(tmp_path: Path) -> None:
    plan = prepare(line_network(tmp_path))
    assert plan.replications == 1 and plan.horizon.days == 60
    results = sim.run(plan, replications=2, days=20, seed=7)
    assert len(results.replications) == 2
    assert results.plan.horizon.days == 20 and results.plan.seed == 7


def test_a_plan_runs_as_its_file_does(tmp_path: Path) -> None:
    path = line_network(tmp_path)
    from_file = sim.run(path, replications=2, days=30)
    from_plan = sim.run(prepare(path), replications=2, days=30)
    for name in ("corridors", "routes", "conservation"):
        assert from_file.by_replication(name).equals(from_plan.by_replication(name))


@pytest.mark.parametrize("change, field", [
    ({"replications": 0}, "replications"), ({"seed": -1}, "seed"),
    ({"horizon": Horizon.model_construct(days=10.0, warmup_days=20.0)}, "horizon")])
def test_revise_validates_like_a_scenario_file(tmp_path: Path, change: dict[str, object],
                                               field: str) -> None:
    plan = prepare(line_network(tmp_path))
    with pytest.raises(InputError) as err:
        revise(plan, **change)
    assert err.value.field == field and err.value.file == plan.source_file


@pytest.mark.parametrize("given, message", [
    ({"days": 40_000}, "days: expected at most 36600, got 40000"),
    ({"days": 0}, "days: expected at least 1, got 0"),
    ({"replications": 0}, "replications: expected at least 1, got 0"),
    ({"seed": -1}, "seed: expected at least 0, got -1"),
    ({"workers": 0}, "workers: expected at least 1, got 0"),     # ran as 1 without a word
])
def test_a_keyword_out_of_range_is_named_as_the_keyword(tmp_path: Path,
                                                       given: dict[str, float],
                                                       message: str) -> None:
    """`sim.run(days=0)` read "<scenario file>: horizon.days: expected Input should be greater
    than or equal to 1": pydantic's words, blaming the file for the caller's keyword."""
    with pytest.raises(InputError) as err:
        sim.run(line_network(tmp_path), **given)    # type: ignore[arg-type]
    assert str(err.value) == message
    if "workers" not in given:
        with pytest.raises(InputError, match=f"^{message}$"):
            prepare(line_network(tmp_path), **given)    # type: ignore[arg-type]


def test_replicate_returns_every_replication_in_order(tmp_path: Path) -> None:
    settled = settle(prepare(line_network(tmp_path), replications=3, days=20))
    results = replicate(settled, workers=2)
    assert [r.replication for r in results.replications] == [0, 1, 2]
    serial = replicate(settled, workers=1)
    assert results.by_replication("corridors").equals(serial.by_replication("corridors"))


def test_a_variant_with_another_value_of_time_gets_its_own_routes() -> None:
    """The market's vot_position weighs the route search: an uncertainty study that varies
    it must not reuse the choice sets of a variant searched at another (the memo in
    sim.pipeline.settle and the reference's); a variant of other choice parameters may."""
    from sim.demand import same_candidates
    from sim.routing import choice_sets

    root = Path(__file__).resolve().parents[2]
    plan = prepare(root / "scenarios" / "baseline-2023.yaml", days=30)
    assert plan.market is not None
    choice = plan.market.section.choice
    dearer = revise(plan, choice=choice.model_copy(
        update={"vot_position": choice.vot_position + 0.25}))
    flatter = revise(plan, choice=choice.model_copy(update={"nest_scale": 0.5}))
    assert not same_candidates(plan, dearer)
    assert same_candidates(plan, dearer, same_choice=False)
    assert same_candidates(plan, flatter)
    sets = choice_sets(dearer)
    market = next(cs for cs in sets if dearer.flows[cs.flow].market)
    flow = dearer.flows[market.flow]
    cls = dearer.classes[flow.commodity]
    assert market.value_of_time == pytest.approx(
        choice.model_copy(update={"vot_position": choice.vot_position + 0.25}).value_of_time(cls))
    assert market.value_of_time > choice.value_of_time(cls) > cls.value_of_time_cny_per_teu_hour


def test_revised_flows_are_validated_like_a_scenario_file_s(tmp_path: Path) -> None:
    """A flow handed to `revise` (demand response, a notebook) is checked as a file's row: a
    negative TEU/yr built without validation (`model_copy`) is named at its row."""
    plan = prepare(line_network(tmp_path))
    bad = plan.flows[0].model_copy(update={"teu_per_year": -5.0})
    with pytest.raises(InputError) as err:
        revise(plan, flows=[bad])
    assert err.value.field == "demand.flows.0" and err.value.file == plan.source_file
    assert err.value.got == -5.0


def test_a_new_horizon_keeps_the_warm_up_while_a_day_is_left_to_measure(
        tmp_path: Path) -> None:
    """`with_horizon_days` keeps a 10-day warm-up for 30 days (20 measured) and for 11 days
    (1 measured, MIN_DAYS), and drops it for 10.5 days (0.5 measured)."""
    from sim.network import with_horizon_days

    plan = prepare(line_network(tmp_path, horizon={"days": 60, "warmup_days": 10}))
    assert with_horizon_days(plan, 30).horizon.warmup_days == 10
    assert with_horizon_days(plan, 11).horizon.warmup_days == 10
    short = with_horizon_days(plan, 10.5).horizon
    assert (short.days, short.warmup_days) == (10.5, 0.0)


def _fake_passes(monkeypatch: pytest.MonkeyPatch, extra_h: list[float],
                 foreseen_h: list[float], teu: list[float], offered: list[float]
                 ) -> list[float]:
    """Feedback passes that observe, pass by pass, the given route 0 figures (extra hours
    over its uncongested ones, hours the picture foresaw, TEU booked, share offered), in
    place of simulating: what the MSA learns from them is then a hand sum. Returns the
    days each pass was asked to simulate, as they are asked."""
    import types

    import pandas as pd

    import sim.equilibrium as equilibrium
    from sim.routing import choice_sets

    seen = iter(range(len(extra_h)))
    days: list[float] = []

    def simulate(plan: object, replication: int, choices: tuple, *args: object,
                 **kw: object) -> types.SimpleNamespace:
        n = next(seen)
        days.append(plan.horizon.days)                      # type: ignore[attr-defined]
        base = choice_sets(plan)[0].routes[0].base_hours    # type: ignore[arg-type]
        routes = pd.DataFrame({
            "route": [0], "teu_created_per_year": [teu[n]],
            "transit_usual_mean_h": [base + extra_h[n]],
            "foreseen_usual_mean_h": [foreseen_h[n]],
            "transit_event_open_mean_h": [float("nan")],
            "foreseen_event_open_mean_h": [float("nan")],
            "teu_event_created_per_year": [0.0], "offered_share": [offered[n]]})
        return types.SimpleNamespace(tables={"routes": routes})
    monkeypatch.setattr(equilibrium, "simulate", simulate)
    return days


@pytest.mark.parametrize("tolerance", [0.3, 0.6])
def test_feedback_passes_average_what_each_pass_saw_and_stop_at_min_iterations(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tolerance: float) -> None:
    """MSA: after passes that saw 30, 60 and 0 h of delay the delay learnt is their mean,
    30 h; its unforeseen part the mean of 30 - 10, 60 - 20 and 0 - 0, 20 h; the share
    offered the mean of 1, 0.5 and 0. The gap is the TEU moved over the last pass's TEU:
    |150 - 100| / 100 = 0.5, then |120 - 150| / 150 = 0.2 (a fall counts as a change).
    With `min_iterations` 3 the third pass runs even where the second's gap (0.5) is below
    a tolerance of 0.6."""
    from sim.equilibrium import settle as settle_passes

    _fake_passes(monkeypatch, extra_h=[30.0, 60.0, 0.0], foreseen_h=[10.0, 20.0, 0.0],
                 teu=[100.0, 150.0, 120.0], offered=[1.0, 0.5, 0.0])
    path = line_network(tmp_path, equilibrium={"max_iterations": 3, "min_iterations": 3,
                                               "tolerance": tolerance})
    settled = settle_passes(prepare(path))
    assert settled.route_delay == {0: pytest.approx(30.0)}
    assert settled.route_unforeseen == {0: pytest.approx(20.0)}
    assert settled.route_offered == {0: pytest.approx(0.5)}
    assert settled.report.gaps == pytest.approx((0.5, 0.2))
    assert settled.report.passes == 3
    assert settled.report.converged


def test_feedback_passes_run_the_equilibrium_s_days_not_the_run_s(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`equilibrium.days` 20 in a 60-day run: each pass simulates 20 days."""
    from sim.equilibrium import settle as settle_passes

    days = _fake_passes(monkeypatch, extra_h=[0.0, 0.0], foreseen_h=[0.0, 0.0],
                        teu=[100.0, 100.0], offered=[1.0, 1.0])
    path = line_network(tmp_path, horizon={"days": 60},
                        equilibrium={"max_iterations": 2, "days": 20})
    settle_passes(prepare(path))
    assert days == [20.0, 20.0]


def test_lots_faster_than_the_uncongested_hours_teach_no_negative_delay(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The delay a pass observes is floored at 0: a pass whose lots came in 6 h under the
    route's uncongested hours (a lucky timetable) and one on time leave 0 h learnt, not
    -3 h (a route made to look faster than it can be)."""
    from sim.equilibrium import settle as settle_passes

    _fake_passes(monkeypatch, extra_h=[-6.0, 0.0], foreseen_h=[0.0, 0.0],
                 teu=[100.0, 100.0], offered=[1.0, 1.0])
    path = line_network(tmp_path, equilibrium={"max_iterations": 2})
    settled = settle_passes(prepare(path))
    assert settled.route_delay == {0: 0.0}
    assert settled.route_unforeseen == {0: 0.0}
