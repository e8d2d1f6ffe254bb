"""cqsim plan: the search finds the cheapest portfolio that meets a target with the required
probability, on a synthetic case whose answer is known; costs and in-service options."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from sim.budget import Limits
from sim.errors import InputError, InputWarning
from sim.planner import (
    Appraisal,
    CandidatesSpec,
    Portfolio,
    label,
    largest,
    load_candidates,
    options,
    portfolio_costs,
    portfolios,
    search,
)
from sim.stats import clopper_pearson, meeting

TO_TARGET = Appraisal()   # the default: cost to the target year
CHANGE = [{"kind": "scale", "service": "ab", "field": "departures_per_week", "factor": 2.0}]


def candidate(name: str, capital: float, lead: float = 0, **kw: object) -> dict:
    return {"name": name, "changes": CHANGE, "lead_time_years": lead,
            "lead_time_source": "assumption: test", "capital_cny": capital,
            "capital_source": "assumption: test", "operating_cny_per_year": 0,
            "operating_source": "assumption: test", **kw}


def synthetic_spec(cands: list[dict]) -> CandidatesSpec:
    return CandidatesSpec(scenario="x.yaml", base_year=2023, decided_from=2024,
                          candidates=cands)


def synthetic(effects: dict[str, float], base: float, sd: float, seed: int = 3):
    """Trade = base + sum of effects x ramp share + noise; replication r has the same noise
    for every portfolio (common random numbers). Counts the runs it is asked for."""
    calls = {"runs": 0}

    def evaluate(items: Sequence[Portfolio], reps: Sequence[int]):
        out = {}
        for p in items:
            noise = np.array([np.random.default_rng([seed, r]).normal(0, sd) for r in reps])
            trade = base + sum(effects[n] for n, _ in p) + noise
            out[p] = (trade, np.full(len(reps), 1e6 + 1e5 * len(p)))
            calls["runs"] += len(reps)
        return out
    return evaluate, calls


def test_search_finds_the_known_cheapest_portfolio() -> None:
    # base 850, target 900, P >= 0.8, noise sd 10: a portfolio needs a mean of about 908.
    # a (cost 1, +30) and b (cost 2, +50) together: 930, cost 3 -- the cheapest that meets it;
    # b alone (900) meets it half the time; c (cost 4, +100) and d (cost 8) meet it dearer.
    spec = synthetic_spec([candidate("a", 1e9), candidate("b", 2e9), candidate("c", 4e9),
                           candidate("d", 8e9)])
    evaluate, calls = synthetic({"a": 30, "b": 50, "c": 100, "d": 120}, 850, 10)
    result = search(spec, 2025, 900, 0.8, evaluate, first=8, most=64, confirm=64)
    assert result.chosen is not None
    assert sorted(n for n, _ in result.chosen.portfolio) == ["a", "b"]
    assert result.chosen.cost == pytest.approx(3e9)
    assert np.mean(result.confirm_trade >= 900) >= 0.8
    # screening drops what is dearer than a feasible portfolio, or clearly infeasible: under
    # half the runs of all 16 portfolios at 64 replications (the 64 confirmation runs apart)
    assert calls["runs"] - 64 < 16 * 64 / 2
    statuses = {tuple(n for n, _ in s.portfolio): s.status for s in result.screened}
    assert statuses[("b",)] in ("infeasible", "undecided")
    assert statuses[("c", "d")] in ("dearer", "feasible")
    # frontier.csv records the bounds each status was decided by, not only the Wilson
    # interval beside them (review50 #14)
    from sim.planner import tables

    _, front = tables(spec, result)
    tested = front.dropna(subset=["decision_low"])
    assert len(tested) and (tested["decision_level"] <= 0.05).all()
    for row in tested.itertuples():
        if row.status == "feasible":
            assert row.decision_low >= 0.8
        elif row.status == "infeasible":
            assert row.decision_high < 0.8
        elif row.status == "undecided":
            assert row.decision_low < 0.8 <= row.decision_high


def test_search_says_when_nothing_meets_the_target() -> None:
    spec = synthetic_spec([candidate("a", 1e9), candidate("b", 2e9)])
    evaluate, calls = synthetic({"a": 10, "b": 20}, 700, 10)
    result = search(spec, 2025, 900, 0.8, evaluate, first=4, most=32, frontier=False)
    assert result.chosen is None and "no portfolio meets" in result.notes[-1]
    # monotone: the largest portfolio fails, so every subset is pruned without a run
    assert calls["runs"] == 4


def test_too_few_replications_to_decide_are_said_before_any_run() -> None:
    """--most below what the Bonferroni-corrected screening needs decides nothing: the search
    says so up front (a warning) instead of running every portfolio without a word, and the
    closing note gives it as the reason, once; enough replications decide as before."""
    from sim.errors import InputWarning
    from sim.planner import replications_to_decide

    assert replications_to_decide(1, 0.8) == (3, 17)      # 0.05 CI, one portfolio
    out64, in64 = replications_to_decide(64, 0.8)
    assert clopper_pearson(0, out64, 0.05 / 64)[1] < 0.8 <= clopper_pearson(
        0, out64 - 1, 0.05 / 64)[1]
    assert clopper_pearson(in64, in64, 0.05 / 64)[0] >= 0.8
    spec = synthetic_spec([candidate(n, 1e9) for n in "abcdef"])      # 64 portfolios
    evaluate, calls = synthetic(dict.fromkeys("abcdef", 1.0), 700, 10)
    with pytest.warns(InputWarning, match=f"--most 4 cannot decide any of the 64 .* {out64} "):
        result = search(spec, 2025, 900, 0.8, evaluate, first=4, most=4, frontier=False)
    assert all(s.status in ("undecided", "pruned") for s in result.screened)
    # the closing note gives that reason, not P(meet) near the required probability, and the
    # warning is not repeated among the notes
    assert not any("cannot decide" in n for n in result.notes)
    assert f"(--most 4 is below the {min(out64, in64)} needed to decide any)" in result.notes[0]
    evaluate, calls = synthetic(dict.fromkeys("abcdef", 1.0), 700, 10)
    # 8 decide some, but show none feasible: 36 while all 64 are undecided, 17 for the last
    with pytest.warns(InputWarning, match="--most 8 cannot show any of the 64 portfolios "
                                          "feasible, so no plan can be chosen: .* takes 36 "
                                          "replications .* and 17 for the last one left"):
        result = search(spec, 2025, 900, 0.8, evaluate, first=4, most=8, frontier=False)
    assert not any("cannot decide" in n for n in result.notes)
    assert calls["runs"] == 8        # the largest portfolio, decided; its subsets pruned
    # a low required probability is shown met in fewer runs than not met (5 against 36 at
    # 0.2): --most 8 can decide, so nothing is said and the cheapest that meets is chosen
    assert replications_to_decide(64, 0.2) == (36, 5)
    evaluate, calls = synthetic(dict.fromkeys("abcdef", 1.0), 700, 10)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputWarning)
        result = search(spec, 2025, 600, 0.2, evaluate, first=4, most=8, frontier=False)
    assert result.chosen is not None and not result.notes


def test_undecided_portfolios_are_said_so_in_plan_csv_with_their_reason() -> None:
    """Every portfolio at P(meet) 0.75 over 8 replications against 0.3 required: plan.csv
    said "no portfolio meets the target" and the reason "P(meet) too close to the required
    probability". The verdict is undecided; the reason is the bounds at that count, with the
    --most that would decide them (checked against the bound itself)."""
    from sim.planner import most_to_decide, tables  # not sim.stats' t-interval count

    spec = synthetic_spec([candidate("a", 1e9), candidate("b", 2e9)])
    evaluate, _ = synthetic({"a": 0, "b": 0}, 900, 10)
    result = search(spec, 2025, 893, 0.3, evaluate, first=4, most=8, confirm=4)
    assert result.verdict == "undecided" and result.chosen is None
    assert all(s.status == "undecided" and s.p_meet(893) == 0.75 for s in result.screened)
    (note,) = result.notes
    assert "too close" not in note and "no portfolio meets" not in note
    assert "P(meet) 0.75 over 8 replications" in note and "still include 0.3" in note
    most = int(note.split("about --most ")[1].split()[0])
    level = 0.05 / 4
    assert clopper_pearson(6, 8, level)[0] < 0.3 <= clopper_pearson(round(0.75 * most), most,
                                                                     level)[0]
    assert most == most_to_decide(0.75, 0.3, level) == 9
    plan, _ = tables(spec, result, ["a part year"])
    assert list(plan["candidate"]) == ["UNDECIDED"]
    assert plan["note"][0] == f"{note}; a part year"


def test_a_cheaper_undecided_portfolio_is_said_on_plan_csv_s_total_row() -> None:
    """b is shown to meet the target; the cheaper a (P(meet) about 0.8 = required) is not
    decided. The note that a may also meet it was on the console and in plan.json only; the
    TOTAL row carries it now, with the candidates' capital and operating cost summed."""
    from sim.planner import tables

    spec = synthetic_spec([candidate("a", 1e9, operating_cny_per_year=1e8),
                           candidate("b", 2e9, operating_cny_per_year=3e8)])
    evaluate, _ = synthetic({"a": 28.4, "b": 60}, 880, 10)
    result = search(spec, 2025, 900, 0.8, evaluate, first=8, most=64, confirm=8)
    assert result.verdict == "chosen" and result.chosen is not None
    assert result.chosen.portfolio == (("b", 2025),)
    statuses = {s.portfolio: s.status for s in result.screened}
    assert statuses[(("a", 2025),)] == "undecided"
    plan, _ = tables(spec, result)
    total = plan.set_index("candidate").loc["TOTAL"]
    assert total["note"].startswith("1 cheaper portfolio(s) still undecided")
    assert "may also meet the target" in total["note"]
    assert (total["capital_bn_cny"], total["operating_bn_cny_per_year"]) == (2.0, 0.3)


def test_in_service_options_follow_lead_time_and_ramp_up() -> None:
    spec = synthetic_spec([candidate("quick", 1e9, lead=1, operating_cny_per_year=1e8),
                           candidate("ramp", 1e9, lead=0, ramp_up=[0.5, 1.0]),
                           candidate("slow", 1e9, lead=5)])
    opts = options(spec, 2025)
    assert opts == {"quick": [2025], "ramp": [2024, 2025], "slow": []}
    assert len(portfolios(spec, 2025)) == 2 * 3
    assert portfolio_costs(spec, (("quick", 2025),), 2025, TO_TARGET).to_target == \
        pytest.approx(1e9 + 1e8)


def test_a_ramped_year_costs_its_share_of_the_operating_cost() -> None:
    """Half the trains in their first year cost half a year's running (review of the
    ramp-ups: a full year was charged, so the earlier in-service year looked dearer)."""
    spec = synthetic_spec([candidate("ramp", 1e9, lead=0, operating_cny_per_year=2e8,
                                     ramp_up=[0.5, 1.0])])
    assert portfolio_costs(spec, (("ramp", 2025),), 2025, TO_TARGET).to_target == \
        pytest.approx(1e9 + 0.5 * 2e8)
    assert portfolio_costs(spec, (("ramp", 2024),), 2025, TO_TARGET).to_target == \
        pytest.approx(1e9 + 1.5 * 2e8)


def test_an_infeasible_later_in_service_year_prunes_only_what_expands_less() -> None:
    """Monotone pruning reads "expands no more" by in-service year: an earlier year carries a
    larger ramp share, so an infeasible later year must not prune the earlier one."""
    # one candidate, ramp 0.5 then 1.0, decided 2024 with no lead time, target year 2025:
    # r@2024 runs at share 1.0 in 2025 (850 + 100 = 950), r@2025 at 0.5 (850 + 50 = 900);
    # against 920 the cheaper r@2025 (1e9 + 0.5e8, against 1e9 + 1.5e8) never meets it and
    # r@2024 always does: r@2024 is the cheapest plan
    spec = synthetic_spec([candidate("r", 1e9, operating_cny_per_year=1e8,
                                     ramp_up=[0.5, 1.0])])

    def evaluate(items: Sequence[Portfolio], reps: Sequence[int]):
        share = {2024: 1.0, 2025: 0.5}
        return {p: (np.array([850.0 + sum(100 * share[y] for _, y in p) for _ in reps]),
                    np.zeros(len(reps))) for p in items}

    result = search(spec, 2025, 920, 0.8, evaluate, first=4, most=32, confirm=4,
                    frontier=False)
    statuses = {s.portfolio: s.status for s in result.screened}
    assert statuses[(("r", 2025),)] == "infeasible"
    assert result.chosen is not None and result.chosen.portfolio == (("r", 2024),)


def test_a_confirmation_exactly_at_the_required_probability_supports_it() -> None:
    """P(meet) >= the required probability is met at equality, as the screening's `low >=
    probability` and `meeting`'s `>= target` count it; no "does not support" note."""
    from sim.planner import Confirmation, confirmation_note

    c = Confirmation.of(np.array([950.0, 900.0, 930.0, 899.0]), 900)   # 3 of 4 = 0.75
    assert (c.meeting, c.replications, c.p_meet) == (3, 4, 0.75)
    assert c.supports(0.75) and confirmation_note(c, 0.75) is None
    assert not c.supports(0.76) and confirmation_note(c, 0.76) is not None


def test_the_frontier_gives_co2_in_kt_from_the_runs_tonnes() -> None:
    """The runs record CO2 in t/yr; frontier.csv's co2_mean_kt_per_year is that over 1e3."""
    from sim.planner import tables

    spec = synthetic_spec([candidate("a", 1e9)])
    evaluate, _ = synthetic({"a": 100}, 850, 1)   # co2 1e6 + 1e5 x candidates, t/yr
    result = search(spec, 2025, 900, 0.8, evaluate, first=4, most=32, confirm=4)
    _, front = tables(spec, result)
    co2 = front.set_index("portfolio")["co2_mean_kt_per_year"]
    assert co2["a@2025"] == pytest.approx(1_100.0)   # (1e6 + 1e5) t / 1e3 = 1,100 kt


def test_frontier_gives_the_trade_each_portfolio_adds_paired_and_per_bn_cny() -> None:
    """frontier.csv's trade added over the empty portfolio is the mean of the paired
    differences (replication r against replication r) with their t interval, and per bn CNY
    of the minimised cost; `alone` ranks the single candidates by it, not by the trade added
    (c adds most but costs most) nor by P(meet)."""
    from scipy import stats

    from sim.planner import tables

    effects, cost = {"a": 30.0, "b": 50.0, "c": 100.0}, {"a": 1e9, "b": 2.5e9, "c": 4e9}

    def evaluate(items: Sequence[Portfolio], reps: Sequence[int]):
        out = {}
        for p in items:   # a shared draw per replication, and a portfolio's own (sd 2)
            own = sum(ord(ch) for ch in label(p))
            trade = np.array([850 + sum(effects[n] for n, _ in p)
                              + np.random.default_rng([1, r]).normal(0, 10)
                              + np.random.default_rng([2, r, own]).normal(0, 2)
                              for r in reps])
            out[p] = (trade, np.full(len(reps), 1e6))
        return out

    spec = synthetic_spec([candidate(n, c) for n, c in cost.items()])
    result = search(spec, 2025, 2000, 0.8, evaluate, first=6, most=64, confirm=0)
    _, front = tables(spec, result)
    front = front.set_index("portfolio")
    none = front.loc["(nothing)"]
    assert none["trade_added_bn_cny_per_year"] == 0 and none["trade_added_ci95"] == 0
    assert np.isnan(none["trade_added_per_bn_cny_per_year"])      # it costs nothing
    runs = {label(s.portfolio): s.trade for s in result.screened}
    for name in effects:
        d = runs[f"{name}@2025"] - runs["(nothing)"]
        row = front.loc[f"{name}@2025"]
        assert row["trade_added_pairs"] == len(d) == 6
        assert row["trade_added_bn_cny_per_year"] == pytest.approx(d.mean())
        assert row["trade_added_ci95"] == pytest.approx(
            stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d)))
        assert row["trade_added_per_bn_cny_per_year"] == pytest.approx(
            d.mean() / (cost[name] / 1e9))
        assert abs(row["trade_added_bn_cny_per_year"] - effects[name]) < 5   # own sd 2 x 2
    order = [label(s.portfolio) for s, _ in result.alone()]
    assert order == ["a@2025", "c@2025", "b@2025"]     # 30, 25 and 20 per bn CNY


def test_the_undecided_note_asks_for_the_most_that_decides_every_portfolio_left() -> None:
    """"about --most N would decide them" is the largest count any undecided portfolio needs,
    not the smallest, which would leave the others undecided again."""
    from sim.planner import Screened, most_to_decide, portfolio_costs, undecided_note

    spec = synthetic_spec([candidate("a", 1e9), candidate("b", 2e9)])
    left = []
    for name, hits in (("a", 6), ("b", 2)):          # P(meet) 0.75 and 0.25 of 8
        p = ((name, 2025),)
        costs = portfolio_costs(spec, p, 2025, TO_TARGET)
        left.append(Screened(p, costs.to_target, costs,
                             trade=np.array([1000.0] * hits + [0.0] * (8 - hits))))
    level = 0.05 / 2
    # against 0.4 the two need different counts (0.75 is further from it than 0.25)
    # (most_to_decide, Clopper-Pearson at 0.025: 15 for 0.75, 57 for 0.25)
    assert [most_to_decide(0.75, 0.4, level), most_to_decide(0.25, 0.4, level)] == [15, 57]
    note = undecided_note(left, chosen=False, most=8, need=3, level=level, target=900,
                          probability=0.4)
    assert "about --most 57 would decide" in note     # the most any portfolio left needs


def test_most_to_decide_gives_a_count_that_decides_after_one_that_does_not() -> None:
    """Its documented rule (`sim.stats.crossing`, bracketed by doubling): the count decides
    and the one before does not. The decision is not monotone in the count (a rounded number
    of successes), so it is not always the least that decides, and the whole-range bracket
    of `sim.stats._fewest` finds another crossing: the reason the two stay apart."""
    from sim.planner import most_to_decide
    from sim.stats import _fewest

    def decides(p: float, probability: float, level: float, n: int) -> bool:
        low, high = clopper_pearson(round(p * n), n, level)
        return high < probability or low >= probability

    for p, probability, level in ((0.4, 0.5, 0.05), (0.75, 0.3, 0.05 / 4), (0.25, 0.4, 0.025),
                                  (0.0, 0.8, 0.05 / 324), (5 / 7, 0.8, 0.05 / 12)):
        n = most_to_decide(p, probability, level)
        assert n is not None and decides(p, probability, level, n)
        assert not decides(p, probability, level, n - 1)
    # 2/5 against 0.5: 101 is the least that decides, 107 and 109 do not, 110 on
    assert [n for n in range(100, 111) if decides(0.4, 0.5, 0.05, n)] == [101, 103, 106, 108,
                                                                          110]
    assert most_to_decide(0.4, 0.5, 0.05) == 106
    assert _fewest(1, 1_000_000, lambda n: decides(0.4, 0.5, 0.05, n)) == 110
    assert most_to_decide(0.5, 0.5, 0.05) is None     # at the requirement: nothing decides


def test_each_replication_of_a_plan_draws_its_own_growth() -> None:
    """A plan's P(meet) spans growth: each replication draws its own rates, the same for
    every portfolio and again on a second call, and another seed draws others; one draw
    for all would leave growth out of P(meet)."""
    from sim.planner import growth_rates

    spec = CandidatesSpec(scenario="x.yaml", base_year=2023, decided_from=2024, seed=11,
                          growth={"eu": {"dist": "uniform", "low": 0, "high": 10,
                                         "source": "t"}},
                          candidates=[candidate("a", 1e9)])
    rates = [growth_rates(spec, r)["eu"] for r in range(4)]
    assert len(set(rates)) == 4 and all(0 <= x < 10 for x in rates)   # uniform on 0-10 %/yr
    assert [growth_rates(spec, r)["eu"] for r in range(4)] == rates
    other = spec.model_copy(update={"seed": 12})
    assert [growth_rates(other, r)["eu"] for r in range(4)] != rates


def test_clopper_pearson() -> None:
    low, high = clopper_pearson(0, 10, 0.05)
    assert low == 0 and high == pytest.approx(0.3085, abs=1e-3)
    low, high = clopper_pearson(10, 10, 0.05)
    assert high == 1 and low == pytest.approx(0.6915, abs=1e-3)


@pytest.mark.parametrize("field, text", [
    ("capital_source", " "), ("capital_source", "x"), ("operating_source", "assumption:  "),
    ("lead_time_source", "see the plan"),
    # `assumption:` not at the start, and a URL with no host, were accepted (review of the
    # merged branches, 14)
    ("capital_source", "see assumption: in the annex"), ("operating_source", "http://"),
    ("lead_time_source", "https:// and more")])
def test_candidates_need_sources(tmp_path: Path, field: str, text: str) -> None:
    """A source cites a URL with its host or starts with `assumption:` and its reasoning
    (docs/planning.md): "x" and a bare `assumption:` were accepted; the error names the
    field, not only the candidate."""
    from tests.support.netbuilder import line_network

    line_network(tmp_path)
    doc = {"scenario": "scenario.yaml", "base_year": 2023, "decided_from": 2024,
           "candidates": [candidate("a", 1e9, **{field: text})]}
    path = tmp_path / "cands.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(InputError, match="URL with its host .* or starting with `assumption:` "
                       "followed by") as err:
        load_candidates(path)
    assert err.value.field == f"candidates.0.{field}"
    doc["candidates"] = [candidate("a", 1e9, **{field: "plan (https://example.org/p)"})]
    path.write_text(yaml.safe_dump(doc))
    assert load_candidates(path)[0].candidates[0].name == "a"
    # `assumption:` in any case (it was refused capitalised)
    doc["candidates"] = [candidate("a", 1e9, **{field: "Assumption: 2% of capital, because "
                                                       "port works are kept up at about that"})]
    path.write_text(yaml.safe_dump(doc))
    assert load_candidates(path)[0].candidates[0].name == "a"


def test_a_falling_ramp_and_a_missing_source_name_their_field(tmp_path: Path) -> None:
    """They named the candidate only, in pydantic's words ("expected Field required")."""
    from tests.support.netbuilder import line_network

    line_network(tmp_path)
    bad = candidate("a", 1e9, ramp_up=[1.0, 0.5])
    doc = {"scenario": "scenario.yaml", "base_year": 2023, "decided_from": 2024,
           "candidates": [bad]}
    path = tmp_path / "cands.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(InputError) as err:
        load_candidates(path)
    assert (err.value.field, err.value.expected) == (
        "candidates.0.ramp_up", "shares that do not fall from one year to the next")
    bad = candidate("a", 1e9)
    del bad["operating_source"]
    doc["candidates"] = [bad]
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(InputError) as err:
        load_candidates(path)
    assert (err.value.field, err.value.expected) == (
        "candidates.0.operating_source", "a value (the field is required)")


def test_a_window_ending_before_it_starts_names_its_end_day_in_a_candidates_file(
        tmp_path: Path) -> None:
    """A candidate's disruption from day 50 to day 20 read `candidates.0.changes.0: expected
    a day after start_day (50)`, with no field and no value (review of the merged branches,
    3); a scenario file's message names `end_day` and the value got, and so does this one."""
    from tests.support.netbuilder import line_network

    line_network(tmp_path)
    window = [{"kind": "disruption", "service": "ab", "start_day": 50, "end_day": 20,
               "capacity_factor": 0.5}]
    doc = {"scenario": "scenario.yaml", "base_year": 2023, "decided_from": 2024,
           "candidates": [candidate("a", 1e9, changes=window)]}
    path = tmp_path / "cands.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(InputError) as err:
        load_candidates(path)
    assert str(err.value).endswith(
        "cands.yaml: candidates.0.changes.0.end_day: expected a day after start_day (50), "
        "got 20.0")


def test_candidates_that_clash_are_refused_before_anything_runs(tmp_path: Path) -> None:
    """Two candidates that each add a service `ab2` built one at a time, then the portfolio
    with both failed after others had run, blaming the base file. Together they are refused
    on loading, naming the second candidate."""
    from tests.support.netbuilder import line_network, train

    line_network(tmp_path)
    add = [{"kind": "add_service", "id": "ab2", "service": train(["a", "b"])}]
    doc = {"scenario": "scenario.yaml", "base_year": 2023, "decided_from": 2024,
           "candidates": [candidate("one", 1e9, changes=add),
                          candidate("two", 1e9, changes=add)]}
    path = tmp_path / "cands.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(InputError, match="together with those of candidates.0") as err:
        load_candidates(path)
    assert err.value.file == str(path) and err.value.field == "candidates.1.changes.0.id"


def test_candidates_that_outgrow_the_flows_with_market_growth_are_refused(
        tmp_path: Path) -> None:
    """A candidate's demand growth on top of the market's highest growth to --year: a
    portfolio with it failed partway through the search. Refused with the year, naming it."""
    from tests.support.market import write_market_scenario

    write_market_scenario(tmp_path)
    boom = [{"kind": "demand_growth", "market": "eu", "factor": 1000}]
    doc = {"scenario": "market.yaml", "base_year": 2023, "decided_from": 2023,
           "growth": {"eu": {"dist": "uniform", "low": 0, "high": 900, "source": "test"}},
           "candidates": [candidate("boom", 1e9, changes=boom)]}
    path = tmp_path / "cands.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert load_candidates(path, 2025)[0].candidates[0].name == "boom"
    with pytest.raises(InputError, match="together with those of growth") as err:
        load_candidates(path, 2026)
    assert err.value.file == str(path) and err.value.field == "candidates.0.changes.0.factor"
    # the file's base year against the option's: it blamed --year alone, naming neither the
    # file nor base_year, when a base_year: 2026 was the slip (planner's audit, D12)
    with pytest.raises(InputError, match=r"no later than the target year \(--year 2022\)") \
            as err:
        load_candidates(path, 2022)
    assert (err.value.file, err.value.field, err.value.got) == (str(path), "base_year", 2023)


def test_a_candidate_too_slow_for_the_year_is_named(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A candidate that cannot be in service by --year was left out of every portfolio with
    no word; it is a warning line now (and plan.json's left_out), before anything runs."""
    import sim.planner
    from sim.errors import InputWarning
    from tests.support.netbuilder import line_network

    line_network(tmp_path)
    doc = {"scenario": "scenario.yaml", "base_year": 2023, "decided_from": 2024,
           "candidates": [candidate("slow", 1e9, lead=40), candidate("quick", 1e9, lead=1)]}
    path = tmp_path / "cands.yaml"
    path.write_text(yaml.safe_dump(doc))

    def stop(*args: object, **kw: object) -> None:
        raise KeyboardInterrupt   # the search would start here
    monkeypatch.setattr(sim.planner, "simulation_evaluator", stop)
    with pytest.warns(InputWarning, match="candidates.0.lead_time_years: slow cannot"), \
            pytest.raises(KeyboardInterrupt):
        sim.planner.run_plan(path, tmp_path / "out", target=1.0, year=2025, probability=0.8)


def test_a_plan_with_no_candidate_buildable_in_time_is_refused(tmp_path: Path) -> None:
    """decided_from 2030 for a 2025 target: every candidate was left out with a warning each,
    only the empty portfolio ran, and plan.csv blamed the target. One line naming
    decided_from, exit 2, nothing written."""
    from tests.cli.test_cli import cqsim
    from tests.support.netbuilder import line_network

    line_network(tmp_path)
    doc = {"scenario": "scenario.yaml", "base_year": 2023, "decided_from": 2030,
           "candidates": [candidate("a", 1e9, lead=1), candidate("b", 1e9, lead=3)]}
    path = tmp_path / "late.yaml"
    path.write_text(yaml.safe_dump(doc))
    done = cqsim("plan", str(path), "--target", "1", "--out", str(tmp_path / "out"))
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert "late.yaml: decided_from: expected a year that leaves some candidate buildable " \
           "by 2025" in done.stderr and "at most 2024; or a later --year, from 2031), got " \
           "2030" in done.stderr
    assert not (tmp_path / "out").exists()
    # where no decision year from the base year (2023) would do, --year is the cause: it
    # blamed decided_from, suggesting a year before the base year (review of the merged
    # branches, 16)
    doc["decided_from"] = 2024
    path.write_text(yaml.safe_dump(doc))
    done = cqsim("plan", str(path), "--target", "1", "--year", "2023",
                 "--out", str(tmp_path / "out"))
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert "--year: expected a year by which some candidate of " in done.stderr
    assert "late.yaml can be in service (decided_from 2024 + the quickest candidate's 1 " \
           "year(s): 2025 or later), got 2023" in done.stderr, done.stderr
    assert "decided_from:" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_plan_by_simulation_writes_its_tables(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """End to end on a two-hub line: the evaluator simulates the target year, every
    portfolio sees the same replications, and the tables say that nothing meets an
    unreachable target. Each stage says its runs on stderr, as a sweep does (`cqsim plan`
    printed nothing in 10 minutes: regression audit 42B, 3)."""
    import pandas as pd

    from sim.errors import InputWarning
    from sim.planner import run_plan
    from tests.support.netbuilder import line_network

    scen = line_network(tmp_path, per_week=2, teu_per_year=40_000,
                        horizon={"days": 40, "warmup_days": 5})
    cands = {"scenario": scen.name, "base_year": 2023, "decided_from": 2024,
             "candidates": [candidate("double", 1e9), candidate("slow", 1e8, lead=5)]}
    path = tmp_path / "cands.yaml"
    path.write_text(yaml.safe_dump(cands, sort_keys=False))
    with pytest.warns(InputWarning, match="candidates.1.lead_time_years: slow cannot"), \
            pytest.warns(InputWarning, match=r"horizon: statistics over days 5-40 .* a part"):
        spec, result, _ = run_plan(path, tmp_path / "out", target=1e6, year=2025,
                                   probability=0.8, first=2, most=4, confirm=2, workers=1)
    assert result.chosen is None
    err = capsys.readouterr().err
    assert "cands: 2 portfolio(s) x replications 1-2: 0/4 runs done, started" in err, err
    assert "cands: 2 portfolio(s) x replications 1-2: 4/4 runs done, " in err, err
    assert "cands: 1 portfolio(s) x replications 3-4: 2/2 runs done, " in err, err  # next
    plan = pd.read_csv(tmp_path / "out" / "plan.csv")   # says so, with its header
    assert list(plan["candidate"]) == ["NONE"] and "no portfolio meets" in plan["note"][0]
    # a 35-day statistics period set against an annual target: recorded and said (D8)
    assert "(35 days), a part year" in plan["note"][0]
    # the candidate left out, as the console and plan.json's left_out say (it was missing
    # from plan.csv, whose note docs/planning.md says carries them: review of the merged
    # branches, 13)
    assert "candidates.1.lead_time_years: slow cannot be in service by 2025" in plan["note"][0]
    import json
    record = json.loads((tmp_path / "out" / "plan.json").read_text())
    assert record["horizon"] == {"days": 40, "warmup_days": 5, "statistics_days": 35}
    assert record["verdict"] == "none" and "a part year" in record["warnings"][0]
    front = pd.read_csv(tmp_path / "out" / "frontier.csv")
    assert set(front["portfolio"]) == {"(nothing)", "double@2025"}     # slow: too late
    runs = pd.concat([pd.read_parquet(p) for p in (tmp_path / "out" / "runs").glob("*.parquet")])
    assert (runs["status"] == "ok").all()
    by = runs.pivot(index="replication", columns="portfolio",
                    values="trade_bn_cny_per_year").dropna()
    assert len(by) >= 2 and (by["double@2025"] > by["(nothing)"]).all()   # paired
    assert (tmp_path / "out" / "frontier.png").is_file()


def test_too_many_portfolios_are_refused_before_any_is_built() -> None:
    """26 candidates made 2^26 portfolios and filled the machine's memory before any check."""
    from sim.planner import MAX_PORTFOLIOS, portfolios

    few = synthetic_spec([candidate(f"c{i:02d}", 1e8) for i in range(12)])
    assert len(portfolios(few, 2025)) == 2 ** 12 == MAX_PORTFOLIOS   # at the limit: built
    many = synthetic_spec([candidate(f"c{i:02d}", 1e8) for i in range(26)])
    with pytest.raises(InputError) as err:
        portfolios(many, 2025)
    assert err.value.field == "candidates" and "67,108,864" in err.value.expected


def test_a_plan_does_not_reuse_another_plan_s_runs(tmp_path: Path) -> None:
    """Part files were named by the order the search reached a portfolio, and nothing tied
    them to the candidates file: a plan run into another plan's folder read its runs and
    reported them, exit 0. Now the folder keeps a fingerprint (candidates, base, year,
    inputs) and a plan of other inputs is refused; the same plan reuses its runs, and an
    unreadable run is made again."""
    from sim.planner import run_plan
    from tests.support.netbuilder import line_network

    scen = line_network(tmp_path, per_week=2, teu_per_year=40_000,
                        horizon={"days": 20, "warmup_days": 2})
    doc = {"scenario": scen.name, "base_year": 2023, "decided_from": 2024,
           "candidates": [candidate("double", 1e9)]}
    path = tmp_path / "cands.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    out = tmp_path / "out"
    args: dict[str, Any] = {"target": 1e6, "probability": 0.8, "first": 3, "most": 3,
                            "confirm": 0, "workers": 1}
    _, first, _ = run_plan(path, out, year=2025, **args)
    part = next((out / "runs").glob("p*.parquet"))
    part.write_text("not a parquet file")                # lost in a crash
    _, again, _ = run_plan(path, out, year=2025, **args)
    assert [s.trade.tolist() for s in again.screened] == [
        s.trade.tolist() for s in first.screened]          # reused, the lost one made again
    with pytest.raises(InputError) as err:                 # another year: other runs
        run_plan(path, out, year=2026, **args)
    assert err.value.field == "--out" and "2026" in err.value.expected
    doc["candidates"][0]["changes"][0]["factor"] = 3.0     # another candidates file
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump(doc, sort_keys=False))
    # the kept runs' file is named as theirs, not as one that changed (it did not)
    with pytest.raises(InputError, match="cands.yaml is read by the runs kept, not by these"):
        run_plan(other, out, year=2025, **args)
    (out / "plan.json").write_text("{bad")
    with pytest.raises(InputError) as err:
        run_plan(path, out, year=2025, **args)
    assert err.value.file.endswith("plan.json")
    # a full screen's runs, against the study limits
    with pytest.raises(InputError, match="plan of 6 runs when every portfolio is screened"):
        run_plan(path, tmp_path / "new", year=2025, **args, limits=Limits(max_events=10))
    assert not (tmp_path / "new").exists()


def test_a_name_given_as_a_path_stays_inside_out(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --out, a pathway's results go to out/pathways/<name>: a name of
    '../../x' wrote outside out/ (and '/tmp/x' anywhere); the name is now made a slug, as a
    scenario's or a sweep's is."""
    from click.testing import CliRunner

    from sim.cli import main
    from tests.support.netbuilder import line_network

    line_network(tmp_path, horizon={"days": 10, "warmup_days": 1})
    doc = {"name": "../../escaped", "scenario": "scenario.yaml", "base_year": 2023,
           "to": 2023, "samples": 1}
    (tmp_path / "pw.yaml").write_text(yaml.safe_dump(doc))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["pathway", "pw.yaml", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "pathways" / "escaped" / "pathway.csv").is_file()
    assert not (tmp_path / "escaped").exists()   # out/pathways/../../escaped


@pytest.mark.parametrize("command", ["plan", "pathway"])
def test_cli_bad_file_is_one_line_exit_2(tmp_path: Path, command: str) -> None:
    from tests.cli.test_cli import cqsim
    from tests.support.netbuilder import line_network

    line_network(tmp_path)
    doc = {"scenario": "scenario.yaml", "base_year": 2023, "decided_from": 2024,
           "candidates": [candidate("a", -5)]} if command == "plan" else {
        "scenario": "scenario.yaml", "base_year": 2023, "to": 2020}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(doc))
    done = cqsim(command, str(path), "--out", str(tmp_path / "out"))
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().count("\n") == 0 and "bad.yaml" in done.stderr
    assert not (tmp_path / "out").exists()


def test_shipped_candidates_and_pathway_load() -> None:
    """The shipped files validate, every cost and lead time sourced or labelled."""
    from sim.pathway import load_pathway
    from tests.support.paths import SCENARIOS

    spec, _ = load_candidates(SCENARIOS / "candidates" / "plan-2025.yaml")
    assert len(spec.candidates) >= 6
    lock = next(c for c in spec.candidates if c.name == "second-three-gorges-lock")
    assert options(spec, 2025)[lock.name] == []          # 9.3 years: not by 2025
    path, _ = load_pathway(SCENARIOS / "pathways" / "plan.yaml")
    assert path.to == 2035 and {e.name for e in path.expansions} >= {lock.name}


def test_shipped_sailing_and_train_costs_follow_the_model_s_tariffs() -> None:
    """Operating costs that quote the model's tariff are that tariff today: the Qinzhou
    sailings' cost quoted 2500 CNY/TEU after the model repriced the service to 1190 and
    overstated it by 0.33 bn CNY/yr. Added vehicles a year (both ways, 52 weeks) x TEU a
    vehicle x the service's price, plus the berths' 2% upkeep where the source says so."""
    from tests.support.paths import SCENARIOS

    spec, base = load_candidates(SCENARIOS / "candidates" / "plan-2025.yaml")
    by = {c.name: c for c in spec.candidates}
    for name, service, upkeep in (("qinzhou-berths-sailings", "south-sea-singapore", 0.02),
                                  ("ilstc-trains", "south-rail-sea-qinzhou", 0.0)):
        c = by[name]
        svc = base.network.services[service]
        factor = next(ch.factor for ch in c.changes if getattr(ch, "service", None) == service)
        added = round(svc.departures_per_week * (factor - 1))     # a week, each way
        teu_cny = added * 52 * 2 * svc.vehicle_teu * svc.price_cny_per_teu
        assert c.operating_cny_per_year == pytest.approx(teu_cny + upkeep * c.capital_cny,
                                                         rel=2e-3), name
        assert f"{svc.price_cny_per_teu:g} CNY" in c.operating_source, name


def test_a_failed_run_is_one_line_exit_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    import sim.planner
    from sim.cli import main
    from sim.errors import RunFailed

    def fails(*_: object, **__: object) -> None:
        raise RunFailed("run p0001-r0000 failed: boom (kept in x: delete it to run it again)")

    monkeypatch.setattr(sim.planner, "run_plan", fails)
    monkeypatch.setattr(sim.planner, "load_candidates", lambda _: (type("S", (), {
        "name": "c"})(), None))
    cands = tmp_path / "c.yaml"
    cands.write_text("x: 1\n")
    result = CliRunner().invoke(main, ["plan", str(cands), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1, result.output
    assert result.stderr.strip().splitlines() == [
        "cqsim: error: run p0001-r0000 failed: boom (kept in x: delete it to run it again)"]


def test_replications_to_decide_in_closed_form_matches_the_count_and_is_quick() -> None:
    from sim.planner import replications_to_decide

    def counted(k: int, probability: float) -> tuple[int, int]:
        level = 0.05 / k
        n = m = 1
        while clopper_pearson(0, n, level)[1] >= probability:
            n += 1
        while clopper_pearson(m, m, level)[0] < probability:
            m += 1
        return n, m

    for k in (1, 7, 64):
        for probability in (0.02, 0.3, 0.5, 0.9, 0.97):
            assert replications_to_decide(k, probability) == counted(k, probability)
    # near 1 the count took hours (audit s16): billions of replications, named at once
    n, m = replications_to_decide(4, 0.999999999)
    assert n == 1 and m > 1e9
    assert clopper_pearson(m, m, 0.05 / 4)[0] >= 0.999999999 > clopper_pearson(
        m - 1, m - 1, 0.05 / 4)[0]


def test_frontier_plot_names_the_target_and_keeps_its_legend_off_the_points(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """frontier.png said neither the target nor its year ("P(goods trade >= target)"), and
    its legend at the lower right covered the dearest portfolio's point (planner's audit,
    D12): the title and the y axis say both, and the legend is outside the axes."""
    import pandas as pd

    import sim.atomic
    from sim.planner import frontier_plot

    seen: dict[str, Any] = {}

    def keep(path: Path, fig: Any, dpi: int) -> Path:
        fig.canvas.draw()
        ax, legend = fig.axes[0], fig.legends[0]
        seen.update(title=ax.get_title(), ylabel=ax.get_ylabel(),
                    overlap=legend.get_window_extent().overlaps(ax.get_window_extent()))
        return path

    monkeypatch.setattr(sim.atomic, "write_png", keep)
    front = pd.DataFrame({"cost_to_target_bn_cny": [0.0, 14.35], "p_meet": [0.0, 0.0],
                          "p_meet_ci95_low": [0.0, 0.0], "p_meet_ci95_high": [0.3, 0.3],
                          "co2_mean_kt_per_year": [6400.0, 6300.0]})
    frontier_plot(front, tmp_path / "frontier.png", 0.8, 900.0, 2025)
    assert "2025" in seen["title"] and "900 bn CNY/yr" in seen["title"]
    assert seen["ylabel"] == "P(goods trade in 2025 >= 900 bn CNY/yr)"
    assert not seen["overlap"]
    # a point whose bound rounds a hair past its P(meet) (1 - 1e-16 against 1) drew an
    # error bar below 0, which matplotlib refused after every run of the plan (docaudit2)
    front = pd.DataFrame({"cost_to_target_bn_cny": [0.0], "p_meet": [1.0],
                          "p_meet_ci95_low": [0.51], "p_meet_ci95_high": [1.0 - 1e-16],
                          "co2_mean_kt_per_year": [6400.0]})
    frontier_plot(front, tmp_path / "frontier.png", 0.8, 900.0, 2025)


def test_shipped_candidates_agree_with_the_pathway_on_the_same_measures() -> None:
    """plan-2025's ilstc-trains took the default ramp-up (full effect in its first year)
    where the pathway's ilstc-expansion, the same 21 -> 35 trains, said half in the first
    (planner's audit, D11): a plan credited a one-year-old measure with its full effect. A
    candidate whose changes are all among an expansion's has its ramp-up, and a lead time
    no longer than the expansion's (an expansion bundling several parts waits for its
    slowest); the lock's, which the pathway takes from the candidates file, is the same."""
    from sim.pathway import load_pathway
    from tests.support.paths import SCENARIOS

    def keys(changes: Sequence[Any]) -> set[str]:
        return {repr(sorted(c.model_dump(exclude={"why"}, exclude_none=True).items()))
                for c in changes}

    spec, _ = load_candidates(SCENARIOS / "candidates" / "plan-2025.yaml")
    path, _ = load_pathway(SCENARIOS / "pathways" / "plan.yaml")
    matched = set()
    for c in spec.candidates:
        for e in path.expansions:
            if keys(c.changes) <= keys(e.changes):
                matched.add(c.name)
                assert c.ramp_up == e.ramp_up, (c.name, e.name)
                assert c.lead_time_years <= e.lead_time_years, (c.name, e.name)
    # every candidate the pathway also carries (border-gauge-change is the plan's alone)
    assert matched == {c.name for c in spec.candidates} - {"border-gauge-change"}
    lock = {e.name: e for e in path.expansions}["second-three-gorges-lock"]
    assert lock.lead_time_years == {c.name: c for c in spec.candidates}[lock.name].lead_time_years


def test_most_help_quotes_what_the_code_computes_for_the_shipped_candidates() -> None:
    """`cqsim plan --help` said 36 replications among 64 portfolios after the search had grown
    to 216 (doc audit 41, finding 2): its figures are those of replications_to_decide for the
    file and year it names."""
    import re

    from click.testing import CliRunner

    from sim.cli import main
    from sim.planner import replications_to_decide
    from tests.support.paths import ROOT

    text = " ".join(CliRunner().invoke(main, ["plan", "--help"]).output.split())
    said = re.search(r"P\(meet\) >= ([\d.]+) among the (\d+) portfolios of (\S+) for (\d+) "
                     r"needs (\d+) to show one feasible, (\d+) infeasible", text)
    assert said is not None, text
    probability, count, file, year, feasible, infeasible = said.groups()
    spec, _ = load_candidates(ROOT / file)
    n = len(portfolios(spec, int(year)))
    assert int(count) == n
    assert (int(infeasible), int(feasible)) == replications_to_decide(n, float(probability))
    # and the warning it promises comes before any run for every --most below either figure
    # (6 <= --most < 41 said nothing, though no portfolio could then be shown feasible)
    assert "warns before any run when --most is below either" in text

    class Ran(Exception):
        """The search reached its first run."""

    def evaluate(items: Sequence[Portfolio], reps: Sequence[int]) -> Any:
        raise Ran

    def warned(most: int) -> list[str]:
        with warnings.catch_warnings(record=True) as seen, pytest.raises(Ran):
            warnings.simplefilter("always")
            search(spec, int(year), 900, float(probability), evaluate, first=4, most=most)
        return [str(w.message) for w in seen if issubclass(w.category, InputWarning)]

    for most in (int(infeasible), int(feasible) - 1):
        assert [m for m in warned(most) if f"--most {most} " in m and " feasible" in m
                and f"takes {feasible} replications" in m], most
    assert warned(int(feasible)) == []


def test_two_plans_in_one_process_each_simulate_their_own(tmp_path: Path) -> None:
    """A second `run_plan` in the same process (a notebook, a long-lived Dask worker) read
    the first plan's settled scenarios from a per-process memo keyed by portfolio and
    replication only, and reported the first plan's trade as its own (review50, 1): plan B,
    its candidate at a quarter of the trains, showed plan A's doubled trains."""
    from sim.planner import run_plan
    from tests.support.netbuilder import line_network

    scen = line_network(tmp_path, per_week=2, teu_per_year=40_000,
                        horizon={"days": 20, "warmup_days": 2})
    args: dict[str, Any] = {"target": 1e6, "year": 2025, "probability": 0.8, "first": 2,
                            "most": 2, "confirm": 0, "workers": 1, "progress": False}

    def trade(name: str, factor: float) -> dict[Portfolio, list[float]]:
        change = [dict(CHANGE[0], factor=factor)]
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump({
            "scenario": scen.name, "base_year": 2023, "decided_from": 2024,
            "candidates": [candidate("double", 1e9, changes=change)]}, sort_keys=False))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InputWarning)   # the part year of a short run
            _, result, _ = run_plan(path, tmp_path / f"out-{name}", **args)
        return {s.portfolio: s.trade.tolist() for s in result.screened}

    more = trade("more", 2.0)
    fewer = trade("fewer", 0.25)
    double = (("double", 2025),)
    assert more[()] == fewer[()]          # the same base, draws and replications
    assert all(f < m for f, m in zip(fewer[double], more[double], strict=True)), (fewer, more)


@pytest.mark.parametrize(("meeting", "said"), [
    (20, "confirmation contradicts P >= 0.8: 20 of 32 fresh replications meet the target "
         "(0.62, 95% Wilson interval 0.45-0.77), wholly below it"),
    (25, "confirmation does not support P >= 0.8: 25 of 32 fresh replications meet the "
         "target (0.78, 95% Wilson interval 0.61-0.89); more --confirm"),
    (26, None)])
def test_a_confirmation_below_the_required_probability_is_said(meeting: int,
                                                              said: str | None) -> None:
    """A portfolio chosen in screening whose fresh replications meet the target less often
    than required was reported "chosen" with an empty note (review50, 4: p_meet 0.78 against
    0.8). The TOTAL row, the notes (console, plan.json) and the record say so now."""
    from sim.planner import tables

    spec = synthetic_spec([candidate("a", 1e9)])

    def evaluate(items: Sequence[Portfolio], reps: Sequence[int]):
        # screening (replications 1-32) always meets 900 with `a`; the confirmation
        # (33-64) meets it in its first `meeting`
        def trade(p: Portfolio, r: int) -> float:
            return 1000.0 if p and (r < 32 or r - 32 < meeting) else 0.0
        return {p: (np.array([trade(p, r) for r in reps]), np.zeros(len(reps)))
                for p in items}

    result = search(spec, 2025, 900, 0.8, evaluate, first=8, most=32, confirm=32)
    assert result.chosen is not None and result.chosen.portfolio == (("a", 2025),)
    confirmed = result.confirmation
    assert confirmed is not None and confirmed.meeting == meeting
    assert confirmed.replications == 32 and confirmed.supports(0.8) == (said is None)
    plan, _ = tables(spec, result)
    total = plan.set_index("candidate").loc["TOTAL"]
    assert total["p_meet"] == meeting / 32
    if said is None:
        assert not result.notes and not total["note"]
    else:
        assert any(n.startswith(said) for n in result.notes), result.notes
        assert said in total["note"]


def test_whole_life_cost_discounts_capital_over_the_build_and_operating_over_the_period(
) -> None:
    """The whole-life cost of a candidate: capital in equal parts over its build years,
    operating cost at its ramp-up share every year in service, each discounted to
    decided_from at the appraisal's rate, over its period (review50, 5)."""
    from sim.planner import Appraisal, candidate_costs

    spec = synthetic_spec([candidate("c", 1e9, lead=2, operating_cny_per_year=1e8,
                                     ramp_up=[0.5, 1.0])])
    appraisal = Appraisal("whole-life", 8.0, 30)   # 2024-2053
    v = 1 / 1.08
    built = 0.5e9 + 0.5e9 * v                       # decided 2024, built 2024-2025
    run = 1e8 * (0.5 * v ** 2 + (v ** 3 - v ** 30) / (1 - v))   # 2026 half, 2027-2053 full
    costs = candidate_costs(spec, "c", 2026, 2026, appraisal)
    assert costs.whole_life == pytest.approx(built + run)
    assert costs.to_target == pytest.approx(1e9 + 0.5e8)   # unchanged: to 2026, undiscounted
    assert costs.operating_after == pytest.approx(1e8)     # what it keeps paying, CNY/yr
    assert costs.objective(appraisal) == costs.whole_life
    assert costs.objective(Appraisal()) == costs.to_target
    with pytest.raises(ValueError, match="objective: one of to-target, whole-life"):
        Appraisal("npv")


def test_whole_life_objective_weighs_what_runs_on_after_the_target_year() -> None:
    """"Least cost" counted money up to the target year only: a measure that is mostly
    operating cost (1 bn CNY/yr of trains) looked cheaper than a 3 bn CNY berth, whatever it
    costs after (review50, 5). To the target year it still is (the default, so documented
    plans stay true); by whole-life cost the berth is chosen, and both costs are reported."""
    from sim.planner import Appraisal, tables

    spec = synthetic_spec([candidate("trains", 0, operating_cny_per_year=1e9),
                           candidate("berth", 3e9)])
    evaluate, _ = synthetic({"trains": 100, "berth": 100}, base=850, sd=1)
    kw: dict[str, Any] = {"first": 4, "most": 32, "confirm": 8, "frontier": False}
    short = search(spec, 2025, 900, 0.8, evaluate, **kw)
    whole = search(spec, 2025, 900, 0.8, evaluate, **kw, appraisal=Appraisal("whole-life"))
    assert short.chosen is not None and short.chosen.portfolio == (("trains", 2025),)
    assert whole.chosen is not None and whole.chosen.portfolio == (("berth", 2025),)
    assert whole.chosen.cost == whole.chosen.costs.whole_life > 3e9 * 0.9
    trains = next(s for s in whole.screened if s.portfolio == (("trains", 2025),))
    assert trains.costs.operating_after == 1e9 and trains.costs.whole_life > 9e9
    plan, front = tables(spec, whole)
    total = plan.set_index("candidate").loc["TOTAL"]
    assert total["operating_after_target_bn_cny_per_year"] == 0.0
    assert total["cost_to_target_bn_cny"] == pytest.approx(3.0)
    assert total["whole_life_pv_bn_cny"] == pytest.approx(whole.chosen.costs.whole_life / 1e9)
    assert list(front["whole_life_pv_bn_cny"]) == sorted(front["whole_life_pv_bn_cny"])
    _, front = tables(spec, short)
    assert list(front["cost_to_target_bn_cny"]) == sorted(front["cost_to_target_bn_cny"])
    assert {"operating_after_target_bn_cny_per_year", "whole_life_pv_bn_cny"} <= set(front)


def test_an_appraisal_period_ending_before_the_target_year_is_refused(tmp_path: Path) -> None:
    """A whole-life period that stops before the target year cannot hold the plan's costs:
    refused naming --appraisal-years before anything is written."""
    from sim.planner import Appraisal, run_plan
    from tests.support.netbuilder import line_network

    scen = line_network(tmp_path)
    path = tmp_path / "cands.yaml"
    path.write_text(yaml.safe_dump({"scenario": scen.name, "base_year": 2023,
                                    "decided_from": 2024,
                                    "candidates": [candidate("double", 1e9)]}))
    with pytest.raises(InputError) as err:
        run_plan(path, tmp_path / "out", target=1.0, year=2030, probability=0.8,
                 appraisal=Appraisal("whole-life", 8.0, 6))
    assert err.value.file == "--appraisal-years" and "at least 7 years" in err.value.expected
    assert not (tmp_path / "out").exists()


def test_a_plan_for_another_year_says_which_target_it_is_held_to(tmp_path: Path) -> None:
    """`cqsim plan --year 2024` (or 2035) was held to the 2025 target and said nothing
    (review50, 13): the console says the target, its year and source, a warning says that the
    2025 figure is to be met in 2024 (and --target sets one of its own), and plan.json and
    plan.csv's note keep it; with --target the target is the user's."""
    import json

    from click.testing import CliRunner

    from sim.cli import main

    corpus = Path(__file__).resolve().parents[1] / "bad_inputs"
    args = ["plan", str(corpus / "ok_candidates.yaml"), "--year", "2024", "--first", "2",
            "--most", "2", "--confirm", "0", "--workers", "1"]
    done = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "out")])
    assert done.exit_code == 0, (done.output, done.exception)
    assert ("--year 2024 is held to the 2025 target, 900 bn CNY/yr (seeds/targets.csv "
            "goods_trade_2025") in done.stderr, done.stderr
    assert ("target: 900 bn CNY/yr of goods trade in 2024 (the 2025 target, seeds/targets.csv "
            "goods_trade_2025") in done.stdout, done.stdout
    record = json.loads((tmp_path / "out" / "plan.json").read_text())
    assert record["target"]["dated"] == 2025 and record["target"]["met_in"] == 2024
    assert any("held to the 2025 target" in w for w in record["warnings"])
    import pandas as pd
    assert "held to the 2025 target" in pd.read_csv(tmp_path / "out" / "plan.csv")["note"][0]
    own = CliRunner().invoke(main, [*args, "--target", "1", "--out", str(tmp_path / "own")])
    assert own.exit_code == 0, (own.output, own.exception)
    assert "held to" not in own.stderr
    assert "target: 1 bn CNY/yr of goods trade in 2024 (--target)" in own.stdout
    assert json.loads((tmp_path / "own" / "plan.json").read_text())["target"]["source"] == \
        "given"
    # each candidate alone, what it adds per bn CNY (frontier.csv's columns), on the console
    front = pd.read_csv(tmp_path / "own" / "frontier.csv").set_index("portfolio")
    alone = front[front["candidates"] == 1].sort_values("trade_added_per_bn_cny_per_year",
                                                        ascending=False)
    said = next(line for line in own.stdout.splitlines() if line.startswith(
        "trade each candidate adds alone in 2024 over none (paired 95% CI over 2+ "
        "replications), per bn CNY of its to-target cost, most first: "))
    assert [part.split(" ")[0] for part in said.split(": ", 1)[1].split("; ")] == \
        list(alone.index), (said, alone)
    # the ratio carries its interval, and the order is said not to be a resolved one
    # (trial51: "+0.867 bn CNY/yr per bn CNY" beside a trade of +0.48 ± 0.99)
    for part, (_, row) in zip(said.split(": ", 1)[1].split("; "), alone.iterrows(),
                              strict=True):
        if row["cost_to_target_bn_cny"] > 0:
            ci = row["trade_added_ci95"] / row["cost_to_target_bn_cny"]
            assert f" ± {ci:.3f} bn CNY/yr per bn CNY" in part, (part, row)
    assert "note: this order reads each candidate's first replications" in own.stdout
    # its days: 10 make a part year, said beside the figures as well as on stderr (trial51)
    assert any(ln.startswith("note: ") and "a part year" in ln
               for ln in own.stdout.splitlines()), own.stdout
    # "highest P(meet) screened" breaks a tie (all 0.00 here) by the most trade, not the
    # first portfolio, the empty one (trial51: "highest P(meet) screened: (nothing)")
    top = front[front["p_meet"] == front["p_meet"].max()]
    best = top["trade_mean_bn_cny_per_year"].idxmax()
    assert f"highest P(meet) screened: {best}: " in own.stdout, (own.stdout, front)


def test_a_candidates_file_and_a_pathway_file_share_one_seed_default() -> None:
    """CandidatesSpec redefined PlanFile's seed default (7) as 11, silently (review50, 17):
    one default now; the shipped candidates file sets its own, so its results stand."""
    from sim.pathway import PathwaySpec, PlanFile

    assert CandidatesSpec.model_fields["seed"].default == PlanFile.model_fields["seed"].default
    assert PathwaySpec.model_fields["seed"].default == PlanFile.model_fields["seed"].default
    root = Path(__file__).resolve().parents[2]
    shipped = yaml.safe_load((root / "scenarios/candidates/plan-2025.yaml").read_text())
    assert shipped["seed"] == 11


def test_the_most_help_quotes_the_shipped_plan_as_it_is() -> None:
    """`cqsim plan --help` gives --most's example from the shipped candidates file: its
    portfolios for 2025 and the replications that decide one, as the planner computes them
    (a help text typed once drifts when a candidate is added)."""
    from sim.cli.plan import plan
    from sim.planner import load_candidates, portfolios, replications_to_decide
    from tests.support.paths import SCENARIOS

    spec, _ = load_candidates(SCENARIOS / "candidates" / "plan-2025.yaml", 2025)
    pool = len(portfolios(spec, 2025))
    out, into = replications_to_decide(pool, 0.8)
    most = next(p for p in plan.params if p.name == "most")
    said = " ".join((most.help or "").split())
    assert f"among the {pool} portfolios of" in said
    assert f"needs {into} to show one feasible, {out} infeasible" in said


def test_a_portfolio_is_decided_on_every_replication_it_has_run() -> None:
    """The monotone search takes the largest portfolio to --most when it stays undecided;
    the stage's test of every undecided portfolio then read only its first `first`
    replications, so a portfolio set aside as dearer kept frontier.csv's
    decision_replications 4 of the 16 it had run (review59 #2)."""
    spec = synthetic_spec([candidate("a", 1e9), candidate("b", 2e9)])
    # a alone clears the target; a and b together sit on it (P(meet) about 0.5 against a
    # required 0.5), run to --most, then set aside as dearer than a
    evaluate, _ = synthetic({"a": 100, "b": -50}, 850, 10)
    result = search(spec, 2025, 900, 0.5, evaluate, first=4, most=16, frontier=False)
    both = next(s for s in result.screened if len(s.portfolio) == 2)
    assert both.status == "dearer" and both.trade.size == 16
    assert both.decided_by is not None and both.decided_by[3] == both.trade.size


def test_a_plan_is_priced_at_its_file_s_days(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The plan's cost check priced a year's runs (4.35G events, 7h51m plain) whatever the
    candidates file's `days:` said; a 60-day plan ran in 674 s (trial51). It prices them at
    the file's days, as the pathway's check does."""
    import sim.boundary
    from sim.planner import run_plan
    from tests.support.netbuilder import line_network

    priced: list[float | None] = []
    real = sim.boundary.check_study

    def spy(*args: Any, **kw: Any) -> Any:
        priced.append(kw.get("days"))
        return real(*args, **kw)

    monkeypatch.setattr(sim.boundary, "check_study", spy)
    scen = line_network(tmp_path, horizon={"days": 40, "warmup_days": 2})
    doc = {"scenario": scen.name, "base_year": 2023, "decided_from": 2024, "days": 12,
           "candidates": [candidate("double", 1e9)]}
    path = tmp_path / "cands.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    run_plan(path, tmp_path / "out", year=2025, target=1e6, probability=0.8, first=3,
             most=3, confirm=0, workers=1)
    assert priced == [12]


def _marks(spec: CandidatesSpec, monotone: bool) -> set[Portfolio]:
    """The portfolios the search runs before screening (its first evaluation: the marks)."""
    evaluate, _ = synthetic({c.name: 1.0 for c in spec.candidates}, 700, 10)
    asked: list[list[Portfolio]] = []

    def recorded(items: Sequence[Portfolio], reps: Sequence[int]):
        asked.append(list(items))
        return evaluate(items, reps)

    search(spec, 2025, 900, 0.8, recorded, first=4, most=32, monotone=monotone)
    return set(asked[0])


@pytest.mark.parametrize("monotone", [True, False])
def test_the_frontier_marks_the_one_largest_portfolio(monotone: bool) -> None:
    """Before screening the search runs the empty portfolio, each candidate alone and all of
    them together (docs/planning.md): the largest portfolio, each candidate that can be in
    service by --year at its earliest in-service year considered. It marked the portfolios
    naming every candidate in the file: none when one cannot be in service by --year (the
    second lock of plan-2025 in 2025), and under ramp-ups every combination of their
    in-service years, 4 for two candidates (review59 #1)."""
    late = synthetic_spec([candidate("a", 1e9), candidate("b", 2e9),
                           candidate("lock", 9e9, lead=5)])
    assert largest(late, 2025) == (("a", 2025), ("b", 2025))
    assert _marks(late, monotone) == {(), (("a", 2025),), (("b", 2025),),
                                      (("a", 2025), ("b", 2025))}
    ramps = synthetic_spec([candidate("a", 1e9, ramp_up=[0.5, 1.0]),
                            candidate("b", 2e9, ramp_up=[0.5, 1.0])])
    # in service 2024 (full in 2025) or 2025 (half): the earliest gives each its full share
    assert options(ramps, 2025) == {"a": [2024, 2025], "b": [2024, 2025]}
    assert largest(ramps, 2025) == (("a", 2024), ("b", 2024))
    singles = {((n, y),) for n in "ab" for y in (2024, 2025)}
    assert _marks(ramps, monotone) == {(), *singles, (("a", 2024), ("b", 2024))}


def test_a_later_stage_decides_a_portfolio_on_every_replication_it_has_run() -> None:
    """Once the monotone search has taken a portfolio to --most, no later stage tests it on
    fewer: here a and b together are shown feasible at 32 replications, a alone and b alone
    are then the largest undecided and a runs to 32; with b dropped, the last stage (one
    undecided, level 0.05) read a's first 16 and wrote it infeasible on 16 of its 32 runs
    (review59 #2). Every status is recorded with the replications it was decided on."""
    spec = synthetic_spec([candidate("a", 1e9), candidate("b", 2e9)])
    evaluate, _ = synthetic({"a": 37, "b": 20}, 853, 10, seed=159)
    result = search(spec, 2025, 900, 0.5, evaluate, first=4, most=32, frontier=False)
    alone = next(s for s in result.screened if s.portfolio == (("a", 2025),))
    assert alone.trade.size == 32 and alone.decided_by is not None
    assert alone.decided_by[2:] == (0.05, 32)
    assert alone.decided_by[:2] == clopper_pearson(*meeting(alone.trade, 900), 0.05)
    for s in result.screened:
        assert s.decided_by is None or s.decided_by[3] == s.trade.size, label(s.portfolio)
