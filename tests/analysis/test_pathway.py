"""Pathways: year by year, expansions ramp up in their in-service year and not before, growth
compounds, what route choice learnt carries over."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from sim.errors import InputError
from sim.pathway import Expansion, load_pathway, run_pathway
from tests.support.netbuilder import line_network


def _pathway(tmp_path: Path, **over: object) -> Path:
    # capacity 2 trains a week x 100 TEU = 10.4k TEU/yr (6 trains: 31.2k) against 40k TEU/yr: the
    # line binds, so throughput follows its capacity
    scen = line_network(tmp_path, per_week=2, teu_per_year=40_000,
                        horizon={"days": 120, "warmup_days": 10})
    doc = yaml.safe_load(scen.read_text())
    doc["demand"]["elasticity"] = 0   # fixed demand: the queues learnt do not deter trade
    scen.write_text(yaml.safe_dump(doc, sort_keys=False))
    spec = {"scenario": scen.name, "base_year": 2023, "to": 2026, "samples": 1,
            "expansions": [{
                "name": "more-trains", "in_service": 2025, "lead_time_years": 2,
                "ramp_up": [0.5, 1.0], "source": "test",
                "changes": [{"kind": "scale", "service": "ab", "field": "departures_per_week",
                             "factor": 3.0}]}], **over}
    path = tmp_path / "pathway.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def test_ramp_up_raises_throughput_in_its_in_service_year_not_before(tmp_path: Path) -> None:
    from sim.errors import InputWarning

    with pytest.warns(InputWarning, match=r"horizon: statistics over days 10-120 \(110 days\)"
                                          ", a part year"):
        result = run_pathway(_pathway(tmp_path), tmp_path / "out", workers=1)
    teu = result.rows.set_index("year")["total_teu_per_year"]
    assert list(teu.index) == [2023, 2024, 2025, 2026]
    assert teu[2024] == pytest.approx(teu[2023], rel=0.05)     # nothing new before 2025
    assert teu[2025] > 1.5 * teu[2024]                         # half of x3: 2 -> 4 trains
    assert teu[2026] > 1.1 * teu[2025]                         # full: 6 trains
    shares = result.rows.set_index("year")["share.more-trains"]
    assert list(shares) == [0.0, 0.0, 0.5, 1.0]
    table = pd.read_csv(tmp_path / "out" / "pathway.csv")
    assert {"year", "kpi", "mean", "p5", "p50", "p95"} <= set(table.columns)
    assert (tmp_path / "out" / "fan.png").stat().st_size > 10_000
    # each run's horizon and the part-year warning are in the record (they were nowhere)
    import json
    record = json.loads((tmp_path / "out" / "pathway.json").read_text())
    assert record["horizon"] == {"days": 120, "warmup_days": 10, "statistics_days": 110}
    assert "a part year" in record["warnings"][0] and record["target"]["year"] == 2025


def test_each_year_s_goods_trade_is_set_against_the_dated_target() -> None:
    """pathway.csv had no comparison with the target: per year, the goods-trade row gives the
    mean's attainment of and gap to the 2025 target, and the share of samples reaching it."""
    from sim.pathway import quantiles, target_columns
    from sim.trade import GOODS_TRADE

    rows = pd.DataFrame({"year": [2023, 2023, 2024, 2024], GOODS_TRADE: [800, 950, 900, 1000],
                         "total_teu_per_year": [1.0, 2.0, 3.0, 4.0]})
    table = target_columns(quantiles(rows, [GOODS_TRADE, "total_teu_per_year"]), rows,
                           900.0, 2025).set_index(["year", "kpi"])
    trade = table.xs(GOODS_TRADE, level="kpi")
    assert list(trade["p_meet_2025_target"]) == [0.5, 1.0]
    assert list(trade["attainment_of_2025_target_pct"]) == pytest.approx([875 / 9, 950 / 9])
    assert list(trade["gap_to_2025_target_bn_cny_per_year"]) == [-25.0, 50.0]
    assert table.xs("total_teu_per_year", level="kpi")["p_meet_2025_target"].isna().all()
    # the share of samples with its Wilson interval, as plan and uncertainty give it (a bare
    # share of 8 samples read as precise: review50, 11)
    from sim.stats import wilson

    assert list(trade["p_meet_2025_target_ci95_low"]) == [wilson(1, 2)[0], wilson(2, 2)[0]]
    assert list(trade["p_meet_2025_target_ci95_high"]) == [wilson(1, 2)[1], 1.0]
    assert table.xs("total_teu_per_year", level="kpi")["p_meet_2025_target_ci95_low"].isna().all()


def test_the_share_meeting_the_target_of_few_samples_is_said_to_be_uncertain() -> None:
    """band_note warned of quantile bands from few draws but not of P(meet) from them: 4 of 8
    samples read "0.50", whose 95% interval is 0.22-0.78 (review50, 11)."""
    from sim.pathway import band_note, quantiles, target_columns
    from sim.trade import GOODS_TRADE

    rows = pd.DataFrame({"year": [2025] * 8, GOODS_TRADE: [800.0] * 4 + [950.0] * 4})
    table = target_columns(quantiles(rows, [GOODS_TRADE]), rows, 900.0, 2025)
    row = table.iloc[0]
    assert row["p_meet_2025_target"] == 0.5
    assert (round(row["p_meet_2025_target_ci95_low"], 2),
            round(row["p_meet_2025_target_ci95_high"], 2)) == (0.22, 0.78)
    note = band_note(table)
    assert note is not None and "share of samples meeting the target is as uncertain" in note
    assert "p_meet_2025_target_ci95_low/high, is up to 0.57 wide" in note


def test_the_gap_column_s_sign_is_said_where_the_column_is_described() -> None:
    """pathway.csv's gap is mean - target, negative when trade falls short, and most readers
    take a "gap to target" for a positive shortfall; docs/planning.md named the column
    without its sign (regression audit 42B, 1). The doc and target_columns' docstring say it,
    and the sign they say is the one computed (a shortfall of 25 is -25)."""
    import re

    from sim.pathway import quantiles, target_columns
    from sim.trade import GOODS_TRADE

    doc = " ".join((Path(__file__).parents[2] / "docs" / "planning.md").read_text().split())
    said = re.search(r"`gap_to_2025_target_bn_cny_per_year` \(([^)]*)\)", doc)
    assert said and "the mean minus the target" in said.group(1), said
    assert "negative when trade falls short" in said.group(1)
    assert "negative when trade falls short" in " ".join((target_columns.__doc__ or "").split())
    rows = pd.DataFrame({"year": [2025], GOODS_TRADE: [875.0]})
    table = target_columns(quantiles(rows, [GOODS_TRADE]), rows, 900.0, 2025)
    assert table["gap_to_2025_target_bn_cny_per_year"].tolist() == [-25.0]


def test_resume_refuses_a_pathway_whose_geodata_changed(tmp_path: Path) -> None:
    """Audit s16 #1: the fingerprint named the geodata by path only, so a resume after
    links.geojson changed would add samples run on another network."""
    path = _pathway(tmp_path, expansions=[], to=2023)
    run_pathway(path, tmp_path / "out", workers=1)
    run_pathway(path, tmp_path / "out", workers=1, resume=True)      # unchanged: resumes
    links = tmp_path / "geo" / "links.geojson"
    links.write_text(links.read_text().replace('"hours": 10.0', '"hours": 200.0'))
    with pytest.raises(InputError, match=r"pathway\.yaml: --resume: expected the inputs of "
                       r"the runs kept \(.*geo/links\.geojson changed since they were made"):
        run_pathway(path, tmp_path / "out", workers=1, resume=True)


def test_resume_with_another_to_says_so(tmp_path: Path) -> None:
    """--resume with another --to was refused as "runs kept without a record of theirs
    cannot be told apart", though the record was there: the difference is the option, and
    the message now says which, with the kept value and the one asked (planner's audit,
    D12)."""
    path = _pathway(tmp_path, expansions=[], to=2023)
    run_pathway(path, tmp_path / "out", workers=1)
    with pytest.raises(InputError, match=r"--to differs: kept 2023, asked 2024") as err:
        run_pathway(path, tmp_path / "out", to=2024, workers=1, resume=True)
    assert (err.value.file, err.value.field) == (str(path), "--resume")


def test_resume_reruns_a_lost_sample_and_refuses_a_record_it_cannot_read(
        tmp_path: Path) -> None:
    """A part file cut short was an ArrowInvalid traceback on --resume, a pathway.json not
    JSON a JSONDecodeError, and one without its inputs skipped the check of them: a lost
    sample is now run again, and a record that cannot be read or trusted is refused."""
    import json

    path = _pathway(tmp_path, expansions=[], to=2023)
    out = tmp_path / "out"
    first = run_pathway(path, out, workers=1)
    (out / "runs" / "s000.parquet").write_text("not a parquet file")
    again = run_pathway(path, out, workers=1, resume=True)
    assert again.rows["total_teu_per_year"].tolist() == first.rows["total_teu_per_year"].tolist()
    meta = out / "pathway.json"
    kept = meta.read_text()
    for record in ("{bad", json.dumps({**json.loads(kept), "inputs": None})):
        meta.write_text(record)
        with pytest.raises(InputError) as err:
            run_pathway(path, out, workers=1, resume=True)
        assert err.value.file.endswith("pathway.json")


def test_a_pathway_beyond_the_limits_is_refused_before_anything_is_written(
        tmp_path: Path) -> None:
    """A pathway of 10,000 samples to 2200 started simulating: pathways had no cost limit.
    Its runs (samples x years) are now estimated against the study limits first."""
    from sim.budget import Limits

    path = _pathway(tmp_path, expansions=[], to=2030)
    with pytest.raises(InputError) as err:
        run_pathway(path, tmp_path / "out", workers=1, limits=Limits(max_events=10))
    assert "pathway of 1 samples x 8 years within the limits" in err.value.expected
    assert not (tmp_path / "out").exists()


def test_growth_compounds_from_the_base_year(tmp_path: Path) -> None:
    """A market's growth is a demand_growth change by market (the market model's mechanism)
    whose factor compounds from the base year."""
    spec, base = load_pathway(_pathway(tmp_path, expansions=[], to=2025))
    from sim.pathway import year_scenario

    factors = [year_scenario(base, spec, {"eu": 10.0}, y).changes[-1].factor
               for y in (2023, 2024, 2025)]
    assert factors == pytest.approx([1.0, 1.1, 1.21])
    assert year_scenario(base, spec, {"eu": 10.0}, 2025).changes[-1].market == "eu"


def test_learnt_delays_carry_over_between_years(tmp_path: Path) -> None:
    result = run_pathway(_pathway(tmp_path, expansions=[], to=2024), tmp_path / "o", workers=1)
    learnt = result.rows.set_index("year")["learnt_routes"]
    assert learnt[2023] == 0 and learnt[2024] >= 1


def test_the_console_sets_each_year_against_the_target_s_own_year(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The console line per year (its column names built at run time from the target's
    year) had no test (review of the merged branches, 21); and that year was parsed from the
    target's display label (`int(label[:4])`), so a reworded label was a traceback (15). The
    year is seeds/targets.csv's `year` column now: here a label that starts with no year."""
    import json
    import re

    from click.testing import CliRunner

    import sim.trade
    from sim.cli import main
    from sim.trade import Reference

    real = sim.trade.references()
    assert (real[0].year, real[1].year) == (2023, 2025)     # seeds/targets.csv's `year`
    monkeypatch.setattr(sim.trade, "references", lambda: (
        Reference("goods trade in 2023", 1.0, "test", 2023),
        Reference("the plan's target", 2.0, "test", 2025)))
    out = tmp_path / "out"
    done = CliRunner().invoke(main, ["pathway", str(_pathway(tmp_path, expansions=[], to=2024)),
                                     "--out", str(out), "--workers", "1"])
    assert done.exit_code == 0, (done.output, done.exception)
    table = pd.read_csv(out / "pathway.csv").set_index(["year", "kpi"])
    lines = [ln for ln in done.stdout.splitlines() if re.match(r"20\d\d: goods trade", ln)]
    assert len(lines) == 2
    for year, line in zip((2023, 2024), lines, strict=True):
        row = table.loc[(year, "goods_trade_bn_cny_per_year")]
        assert line == (f"{year}: goods trade {row['p50']:.1f} bn CNY/yr (5-95%: "
                        f"{row['p5']:.1f}-{row['p95']:.1f}, {int(row['samples'])} samples); mean "
                        f"{row['attainment_of_2025_target_pct']:.1f}% of the 2025 target "
                        f"(2 bn CNY/yr), P(>= it) {row['p_meet_2025_target']:.2f} (95% CI "
                        f"{row['p_meet_2025_target_ci95_low']:.2f}-"
                        f"{row['p_meet_2025_target_ci95_high']:.2f})")
    # 110 statistics days a year: the part year is said beside the figures too, not only in
    # the warning on stderr before the runs (trial51: a 60-day pathway's 2023 read 560.0)
    notes = [ln for ln in done.stdout.splitlines() if ln.startswith("note: ")]
    assert any("statistics over days 10-120 (110 days), a part year" in n for n in notes), \
        done.stdout
    record = json.loads((out / "pathway.json").read_text())
    assert record["target"]["year"] == 2025 and record["target"]["bn_cny_per_year"] == 2.0
    # its samples done on stderr, as a sweep's runs (it printed none), named as a pathway
    # (the shipped pathway is `name: plan`, and "plan: 1/3 samples done" read as `cqsim
    # plan`'s: trial51)
    assert "pathway pathway: 0/1 samples done, started" in done.stderr, done.stderr
    assert "pathway pathway: 1/1 samples done, " in done.stderr, done.stderr
    # one sample: its bands have no width, and the console and the record say so
    assert "note: bands from 1 draw only: they have no width" in done.stdout
    assert record["notes"] == ["bands from 1 draw only: they have no width and show no "
                               "spread; the share of samples meeting the target is as "
                               "uncertain (its 95% Wilson interval, pathway.csv's "
                               "p_meet_2025_target_ci95_low/high, is up to 0.79 wide)"]


@pytest.mark.parametrize(("change", "field"), [
    ({"ramp_up": [1.0, 0.5]}, "expansions.0"),
    ({"in_service": "soon"}, "expansions.0.in_service"),
    ({"changes": [{"kind": "scale", "service": "nope", "field": "departures_per_week",
                   "factor": 2}]}, "expansions.0"),
])
def test_bad_expansions_name_the_field(tmp_path: Path, change: dict, field: str) -> None:
    path = _pathway(tmp_path)
    doc = yaml.safe_load(path.read_text())
    doc["expansions"][0].update(change)
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(InputError) as err:
        load_pathway(path)
    assert err.value.field.startswith(field)


def test_growth_and_an_expansion_that_outgrow_the_flows_are_refused_on_loading(
        tmp_path: Path) -> None:
    """Each within its ceiling (growth 900 %/yr for 3 years: x1,000; an expansion's demand
    growth x1,000), together a flow of over 1e9 TEU/yr: every sample failed in its last year,
    after the others had run, blaming a change the pathway made. Refused on loading."""
    from tests.support.market import write_market_scenario

    write_market_scenario(tmp_path)
    path = tmp_path / "p.yaml"
    boom = {"name": "boom", "in_service": 2024, "lead_time_years": 1, "source": "test",
            "changes": [{"kind": "demand_growth", "market": "eu", "factor": 1000}]}
    doc = {"scenario": "market.yaml", "base_year": 2023, "to": 2026, "samples": 1,
           "growth": {"eu": {"dist": "uniform", "low": 0, "high": 900, "source": "test"}},
           "expansions": [boom]}
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(InputError, match="together with those of growth") as err:
        load_pathway(path)
    # the very field, not the base's `changes.N` the checker appended
    assert err.value.file == str(path) and err.value.field == "expansions.0.changes.0.factor"
    # ramped up from a thousandth: its full change, reached later, is what is checked
    doc["expansions"] = [{**boom, "ramp_up": [0.001, 1.0]}]
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(InputError, match="together with those of growth"):
        load_pathway(path)
    doc["to"] = 2025                           # growth x100 by then: the flows fit
    path.write_text(yaml.safe_dump(doc))
    assert load_pathway(path)[0].to == 2025


def test_a_growth_rate_compounding_past_a_float_s_range_is_refused_in_one_line(
        tmp_path: Path) -> None:
    """`high: 1.0e+300` %/yr compounded over 3 years overflowed a float in the ceiling's check
    (OverflowError, a traceback; fuzz F3): refused as beyond the ceiling, naming the rate."""
    from tests.support.market import write_market_scenario

    write_market_scenario(tmp_path)
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({
        "scenario": "market.yaml", "base_year": 2023, "to": 2026, "samples": 1,
        "growth": {"eu": {"dist": "triangular", "low": 0, "mode": 2, "high": 1.0e300,
                          "source": "test"}}, "expansions": []}))
    with pytest.raises(InputError, match="compound to at most a factor") as err:
        load_pathway(path)
    assert err.value.field == "growth.eu"


def test_a_shrinking_market_s_largest_flows_are_checked_in_its_first_year(
        tmp_path: Path) -> None:
    """The flows checked on loading are each market's largest: a growing market's in the last
    year, a shrinking one's in the first, not its smallest at the end."""
    from sim.pathway import growth_part
    from sim.uncertain import Uniform

    up = Uniform(dist="uniform", low=0, high=10, reason="t")
    down = Uniform(dist="uniform", low=-10, high=-5, reason="t")
    (part, changes), = growth_part({"up": up, "down": down}, 2023, 2026, tmp_path / "p.yaml")
    factors = {c["market"]: c["factor"] for c in changes}
    # highest draws: +10 %/yr over 3 years, 1.1^3 = 1.331; -5 %/yr: 0.95 in 2024 (0.95^3 =
    # 0.857 by 2026 is its smallest)
    assert part == "growth"
    assert factors == {"up": pytest.approx(1.331), "down": pytest.approx(0.95)}


def test_expansions_that_clash_are_refused_on_loading(tmp_path: Path) -> None:
    """Each expansion built alone; two that add the same service failed every sample at run
    time, blaming the base file. They are refused on loading, naming the second."""
    from tests.support.netbuilder import train

    path = _pathway(tmp_path)
    doc = yaml.safe_load(path.read_text())
    add = [{"kind": "add_service", "id": "ab2", "service": train(["a", "b"])}]
    doc["expansions"] = [{**doc["expansions"][0], "name": n, "changes": add}
                         for n in ("first", "second")]
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(InputError, match="together with those of expansions.0") as err:
        load_pathway(path)
    assert err.value.field == "expansions.1.changes.0.id"
    # a disruption after the runs' horizon has no effect: refused, as in a scenario file
    doc["expansions"] = [{**doc["expansions"][0], "name": "late", "changes": [
        {"kind": "disruption", "service": "ab", "start_day": 500, "end_day": 510,
         "capacity_factor": 0.0}]}]
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(InputError, match="a start inside the 120-day horizon") as err:
        load_pathway(path)
    assert err.value.field == "expansions.0.changes.0.start_day"
    # two of one name: the second would be lost from every table; named, both places
    doc["expansions"] = [{**doc["expansions"][0], "name": "same"} for _ in range(2)]
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(InputError, match="'same' is expansions.0 and expansions.1") as err:
        load_pathway(path)
    assert err.value.field == "expansions"


def test_an_expansion_the_pathway_cannot_show_is_named(tmp_path: Path) -> None:
    """An expansion in service after `to` never applied, one by the base year applied from the
    start: both silently. Each is now a warning line naming expansions.i.in_service."""
    from sim.pathway import out_of_time

    path = _pathway(tmp_path)
    assert out_of_time(load_pathway(path)[0], path) == []
    doc = yaml.safe_load(path.read_text())
    doc["expansions"] = [{**doc["expansions"][0], "name": n, "in_service": y}
                         for n, y in (("late", 2030), ("old", 1990))]
    path.write_text(yaml.safe_dump(doc))
    late, old = out_of_time(load_pathway(path)[0], path)
    assert "expansions.0.in_service" in late and "never applies" in late
    assert "expansions.1.in_service" in old and "base year 2023" in old
    # the edges: in service in the pathway's last year it shows (one year), in the base
    # year it is already there
    doc["expansions"] = [{**doc["expansions"][0], "name": n, "in_service": y,
                          "lead_time_years": 1}
                         for n, y in (("last", 2026), ("first", 2024), ("base", 2023))]
    path.write_text(yaml.safe_dump(doc))
    (base_year,) = out_of_time(load_pathway(path)[0], path)
    assert "expansions.2.in_service" in base_year
    # a refusal of the folder is its one line: the warnings come only once all is checked
    from click.testing import CliRunner

    from sim.cli import main

    (tmp_path / "out" / "runs").mkdir(parents=True)
    (tmp_path / "out" / "runs" / "s000.parquet").write_bytes(b"")
    done = CliRunner().invoke(main, ["pathway", str(path), "--to", "2024", "--out",
                                     str(tmp_path / "out"), "--workers", "1"])
    assert done.exit_code == 2, done.output
    assert done.stderr.count("\n") == 1 and "--resume to continue" in done.stderr, done.stderr


@pytest.mark.parametrize("low", [-100.0, -120.0])
def test_a_growth_rate_that_can_reach_minus_100_is_refused(low: float) -> None:
    """At -100 %/yr a market is gone in a year, (1 + g / 100) ^ years is 0 and every later
    year fails: a distribution that can draw -100 itself is refused, not only one below."""
    from sim.pathway import check_growth_rate
    from sim.uncertain import Uniform

    with pytest.raises(ValueError, match="above -100 %/yr for every draw"):
        check_growth_rate(Uniform(dist="uniform", low=low, high=5.0, reason="t"))
    assert check_growth_rate(Uniform(dist="uniform", low=-99.0, high=5.0, reason="t"))


def test_expansion_share_schedule() -> None:
    exp = Expansion(name="x", in_service=2030, lead_time_years=5, ramp_up=(0.2, 0.6, 1.0),
                    source="t", changes=({"kind": "scale", "hub": "h", "field": "f",
                                          "factor": 2.0},))
    assert [exp.share(y) for y in (2029, 2030, 2031, 2032, 2040)] == [0, 0.2, 0.6, 1.0, 1.0]
    assert exp.changes_at(0.5)[0]["factor"] == pytest.approx(1.5)


def test_an_expansion_s_demand_growth_ramps_and_its_other_changes_apply_whole() -> None:
    """At a share s of its ramp-up a demand_growth factor is 1 + s (factor - 1), as a
    scale's is (a market's new demand builds up with the service); a change with no factor
    (a set) applies as written."""
    exp = Expansion(name="x", in_service=2030, lead_time_years=1, ramp_up=(0.25, 1.0),
                    source="t", changes=(
                        {"kind": "demand_growth", "market": "eu", "factor": 1.4},
                        {"kind": "set", "service": "ab", "field": "price_cny_per_teu",
                         "value": 900.0}))
    grow, price = exp.changes_at(exp.share(2030))
    assert grow["factor"] == pytest.approx(1.1) and grow["market"] == "eu"
    assert price["value"] == 900.0 and "factor" not in price


def test_an_expansion_adds_no_change_before_its_in_service_year(tmp_path: Path) -> None:
    """Year y's scenario holds the expansions in service by y, each once, in the file's
    order: before 2025 the base's changes and the growth alone, then the new service's price
    (a change without a factor, whole from its first year) and its frequency at the ramp's
    share."""
    from sim.pathway import year_scenario

    spec, base = load_pathway(_pathway(tmp_path, expansions=[
        {"name": "dearer", "in_service": 2025, "lead_time_years": 1, "source": "test",
         "changes": [{"kind": "set", "service": "ab", "field": "price_cny_per_teu",
                      "value": 900.0}]},
        {"name": "more-trains", "in_service": 2026, "lead_time_years": 1,
         "ramp_up": [0.5, 1.0], "source": "test",
         "changes": [{"kind": "scale", "service": "ab", "field": "departures_per_week",
                      "factor": 3.0}]}], to=2027))
    held = len(base.changes)

    def added(year: int) -> list[tuple[str, object]]:
        changes = year_scenario(base, spec, {}, year).changes[held:]
        return [(c.kind, getattr(c, "value", None) or getattr(c, "factor", None))
                for c in changes]
    assert added(2024) == []
    assert added(2025) == [("set", 900.0)]
    assert added(2026) == [("set", 900.0), ("scale", 2.0)]
    assert added(2027) == [("set", 900.0), ("scale", 3.0)]


def test_each_market_draws_its_own_growth_from_the_pathway_s_seed(tmp_path: Path) -> None:
    """A Latin hypercube over the markets: each market's draws are its own column (one in
    each stratum, not in step with another market's), and the pathway's `seed` sets them,
    the same for the same seed (pathway.json records the draws)."""
    from sim.pathway import growth_draws
    from tests.support.market import write_market_scenario

    write_market_scenario(tmp_path)
    path = tmp_path / "p.yaml"
    uniform = {"dist": "uniform", "low": 0, "high": 10, "source": "test"}
    doc = {"scenario": "market.yaml", "base_year": 2023, "to": 2024, "samples": 8,
           "seed": 3, "growth": {"eu": uniform, "asean": uniform}, "expansions": []}
    path.write_text(yaml.safe_dump(doc))
    draws = growth_draws(load_pathway(path)[0])
    for market in ("eu", "asean"):
        assert sorted(int(d[market] // 1.25) for d in draws) == list(range(8))
    assert [d["eu"] for d in draws] != [d["asean"] for d in draws]
    assert growth_draws(load_pathway(path)[0]) == draws
    path.write_text(yaml.safe_dump({**doc, "seed": 4}))
    assert growth_draws(load_pathway(path)[0]) != draws


def test_one_sample_is_the_central_rate_and_more_samples_stratify(tmp_path: Path) -> None:
    """With one sample a pathway is the central case: every market at its distribution's
    centre, not one Latin-hypercube draw that would differ by seed; with more, the draws
    are a Latin hypercube, one in each quantile stratum."""
    from sim.pathway import growth_draws
    from tests.support.market import write_market_scenario

    write_market_scenario(tmp_path)
    path = tmp_path / "p.yaml"
    doc = {"scenario": "market.yaml", "base_year": 2023, "to": 2024, "samples": 1,
           "growth": {"eu": {"dist": "uniform", "low": 0, "high": 10, "source": "test"}},
           "expansions": []}
    path.write_text(yaml.safe_dump(doc))
    spec, _ = load_pathway(path)
    assert growth_draws(spec) == [{"eu": 5.0}]       # uniform on 0-10 %/yr: (0 + 10) / 2
    doc["samples"] = 4
    path.write_text(yaml.safe_dump(doc))
    draws = growth_draws(load_pathway(path)[0])
    # a Latin hypercube of 4: one draw in each quarter of 0-10
    assert sorted(int(d["eu"] // 2.5) for d in draws) == [0, 1, 2, 3]


def test_pathway_csv_s_quantiles_by_hand() -> None:
    """pathway.csv's band columns each hold their own quantile (the fan chart's 25-75% band
    is drawn from p25 and p75)."""
    from sim.pathway import quantiles

    rows = pd.DataFrame({"year": 2025, "total_teu_per_year": [40.0, 0.0, 30.0, 10.0, 20.0]})
    row = quantiles(rows, ["total_teu_per_year"]).iloc[0]
    # sorted 0, 10, 20, 30, 40; numpy's linear quantile q sits at rank 4q: 5% at 0.2 -> 2,
    # 25% at 1 -> 10, 50% -> 20, 75% -> 30, 95% at 3.8 -> 38
    assert [row[c] for c in ("p5", "p25", "p50", "p75", "p95")] == pytest.approx(
        [2.0, 10.0, 20.0, 30.0, 38.0])
    assert (row["samples"], row["mean"]) == (5, 20.0)


def test_no_finished_sample_gives_an_empty_table_not_a_crash() -> None:
    """Every sample failed: its rows carry no year (it was `KeyError: 'year'`)."""
    from sim.pathway import quantiles

    failed = pd.DataFrame([{"run_id": "s000", "status": "failed", "error": "boom"}])
    table = quantiles(failed, [])
    assert table.empty and {"year", "kpi", "p50"} <= set(table.columns)


def test_a_study_shorter_than_the_warm_up_is_named(tmp_path: Path) -> None:
    """A pathway's or plan's `days:` of no more than its base's warm-up ran every year without
    one and said nothing (`--days` on a run says so)."""
    from sim.boundary import no_warmup_note

    path = _pathway(tmp_path)   # base: 120 days, 10 of them warm-up
    _, base = load_pathway(path)
    note = no_warmup_note(base, 10, path)
    assert note is not None and note.startswith(f"{path}: days: 10 is not longer than")
    assert no_warmup_note(base, 11, path) is None and no_warmup_note(base, None, path) is None


def test_a_lead_time_reaching_before_the_decisions_is_refused(tmp_path: Path) -> None:
    """lead_time_years was read by nothing: a 2026 service with an 8-year lead time on a
    2023 base (a decision in 2018 the pathway never took) ran silently. It is refused naming
    expansions.0.lead_time_years, unless decided_from says decisions began that early; an
    expansion already in service by the base year is warned of, not refused."""
    path = _pathway(tmp_path)
    doc = yaml.safe_load(path.read_text())
    doc["expansions"][0]["lead_time_years"] = 2.5   # 2025 - ceil(2.5) = 2022 < 2023
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(InputError, match="at most 2 years") as err:
        load_pathway(path)
    assert err.value.field == "expansions.0.lead_time_years" and err.value.got == 2.5
    assert "no earlier than the base year 2023" in err.value.expected
    doc["decided_from"] = 2022
    path.write_text(yaml.safe_dump(doc))
    assert load_pathway(path)[0].decided_from == 2022
    doc["expansions"][0].update(in_service=2020, lead_time_years=9)   # there at the base
    del doc["decided_from"]
    path.write_text(yaml.safe_dump(doc))
    assert load_pathway(path)[0].expansions[0].in_service == 2020


def test_an_expansion_in_service_before_decided_from_names_its_in_service(
        tmp_path: Path) -> None:
    """decided_from 2026 with a 2025 service was refused as "at most -1 years" for the lead
    time (review of merges 36, finding 7): no lead time can be negative, so it names
    expansions.0.in_service and the first year decided_from and the lead time allow."""
    path = _pathway(tmp_path, decided_from=2026)   # in_service 2025, lead time 2
    with pytest.raises(InputError) as err:
        load_pathway(path)
    assert err.value.field == "expansions.0.in_service" and err.value.got == 2025
    assert "no earlier than decided_from + ceil(lead_time_years) = 2026 + 2 = 2028" \
        in err.value.expected
    # the message, not the file's path (pytest-1xx folders hold "-1")
    assert "-1" not in err.value.expected and "\n" not in str(err.value)
    # in service in decided_from's own year still names the lead time, which 0 would fix
    path = _pathway(tmp_path, decided_from=2025)
    with pytest.raises(InputError, match="at most 0 years") as err:
        load_pathway(path)
    assert err.value.field == "expansions.0.lead_time_years"


def _fan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, samples: int, last_year: int,
         years: Sequence[int]) -> dict[str, Any]:
    """fan.png's axes and source line, drawn from `samples` draws per year of `years`."""
    import numpy as np

    import sim.atomic
    from sim.pathway import fan_chart, quantiles
    from sim.trade import GOODS_TRADE, references
    from tests.support.figures import source_of

    seen: dict[str, Any] = {}

    def keep(path: Path, fig: Any, dpi: int) -> Path:
        fig.canvas.draw()
        ax = fig.axes[0]
        seen.update(xlim=ax.get_xlim(), ticks=[int(x) for x in ax.get_xticks()],
                    labels=[t.get_text() for t in ax.get_xticklabels()],
                    legend=[t.get_text() for t in ax.get_legend().get_texts()],
                    lines=[line.get_xdata()[0] for line in ax.get_lines()
                           if line.get_linestyle() == ":"],
                    source=source_of(fig),
                    covers=ax.get_legend().get_window_extent().overlaps(
                        ax.get_window_extent()))
        return path

    monkeypatch.setattr(sim.atomic, "write_png", keep)
    rows = pd.DataFrame({"year": np.repeat(list(years), samples),
                         GOODS_TRADE: np.linspace(600.0, 800.0, samples * len(years))})
    base, target = references()
    fan_chart(quantiles(rows, [GOODS_TRADE]), tmp_path / "fan.png", target=target,
              last_year=last_year, base=base)
    return seen


def test_the_fan_chart_ends_at_the_last_year_simulated_and_labels_the_target_s_year(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`cqsim pathway --to 2025` drew fan.png out to 2035 with a "2035 horizon" line and
    nothing after 2025, and its ticks (2024, 2026, ...) left the 2025 target's dot and the
    simulated years unlabelled (regression audit 42B, 2): the axis and the line end at the
    last year simulated, and each simulated year is a tick."""
    seen = _fan(tmp_path, monkeypatch, 32, 2025, range(2023, 2026))
    assert 2025 < seen["xlim"][1] < 2026
    assert seen["lines"] == [2025] and "2025: last year simulated" in seen["legend"]
    assert not any("2035" in text for text in seen["legend"])
    assert seen["ticks"] == [2023, 2024, 2025] and "2025" in seen["labels"]
    # the legend, at the lower right inside the axes, covered the last years' bands once the
    # axis ended there: it sits outside them
    assert not seen["covers"]
    # a long pathway: every other year from the base year, the target's year among them
    seen = _fan(tmp_path, monkeypatch, 32, 2035, range(2023, 2036))
    assert 2035 < seen["xlim"][1] < 2036 and seen["lines"] == [2035]
    assert seen["ticks"] == list(range(2023, 2036, 2)) and 2025 in seen["ticks"]
    # the last year simulated is labelled where the step passes it by (review42b, L1)
    seen = _fan(tmp_path, monkeypatch, 32, 2036, range(2023, 2037))
    assert seen["ticks"][-1] == 2036 and "2036" in seen["labels"]


def test_bands_from_few_draws_carry_a_caution(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """With --samples 2 fan.png drew "5-95% of samples" and "25-75%" bands from two draws
    with no caution on the chart or the console (regression audit 42B, 2): below
    BAND_MIN_SAMPLES draws its source line says what the bands are (and the console and
    pathway.json's notes, `band_note`); with enough draws it says nothing of the kind."""
    from sim.pathway import BAND_MIN_SAMPLES

    seen = _fan(tmp_path, monkeypatch, 2, 2025, range(2023, 2026))
    assert ("caution: bands from 2 draws only: quantiles of so few draws understate the "
            "spread") in " ".join(
                seen["source"].split())
    seen = _fan(tmp_path, monkeypatch, BAND_MIN_SAMPLES, 2025, range(2023, 2026))
    assert "caution" not in seen["source"] and "draws" not in seen["source"]


def test_each_year_is_settled_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every year after the first was settled twice: once only to read its route keys, then
    again from the delays learnt, about 1.7x the work `check_study` estimates and limits
    (review50, 9: 7 settlings for 4 years). The keys come from the choice sets now."""
    import sim.equilibrium
    from sim.pathway import PathTask, execute_path, growth_draws

    scen = line_network(tmp_path, per_week=2, teu_per_year=40_000,
                        horizon={"days": 20, "warmup_days": 2})
    path = tmp_path / "path.yaml"
    path.write_text(yaml.safe_dump({"scenario": scen.name, "base_year": 2023, "to": 2026,
                                    "samples": 1}))
    spec, base = load_pathway(path)
    calls: list[bool] = []
    real = sim.equilibrium.settle

    def counted(*args: Any, **kw: Any) -> Any:
        calls.append(bool(kw.get("initial_delay") or (len(args) > 2 and args[2])))
        return real(*args, **kw)

    monkeypatch.setattr(sim.equilibrium, "settle", counted)
    years = tuple(range(2023, 2027))
    row = execute_path(PathTask("s000", 0, growth_draws(spec)[0], spec, base, years))
    assert row["status"] == "ok", row.get("error")
    assert len(calls) == len(years), calls            # one settling a year
    assert calls == [False, True, True, True]         # each later one from what was learnt
    assert [r["learnt_routes"] for r in row["years"]] == [0, 1, 1, 1]


def test_what_a_year_learnt_carries_into_the_next_averaged_and_floored(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The module's rule: d_(y+1) = (d_y + observed_y) / 2 per route, observed_y the transit
    beyond the uncongested time (0 if faster), and the same for its part the picture did not
    foresee; sample s runs replication s every year. Each year's run is replaced by a routes
    table: the route's extra transit 6 h (2 foreseen) in 2023, -3 h (1 foreseen) in 2024, so
    2024 starts from 6 (4 unforeseen) and 2025 from (6 + 0) / 2 = 3 ((4 - 1) / 2 = 1.5)."""
    from types import SimpleNamespace

    import sim.pipeline
    import sim.sweep.tasks
    from sim.pathway import PathTask, execute_path

    scen = line_network(tmp_path, horizon={"days": 20, "warmup_days": 2})
    path = tmp_path / "path.yaml"
    path.write_text(yaml.safe_dump({"scenario": scen.name, "base_year": 2023, "to": 2025,
                                    "samples": 2}))
    spec, base = load_pathway(path)
    started: list[tuple[dict, dict]] = []
    ran: list[int] = []
    extra = iter([(6.0, 2.0), (-3.0, 1.0), (0.0, 0.0)])
    real = sim.pipeline.settle

    def settle(plan: Any, choices: Any, **kw: Any) -> Any:
        started.append((dict(kw.get("initial_delay") or {}),
                        dict(kw.get("initial_unforeseen") or {})))
        return real(plan, choices, **kw)

    def replicate_one(settled: Any, replication: int) -> Any:
        ran.append(replication)
        (route,) = [r for cs in settled.choices for r in cs.routes]
        seen, foreseen = next(extra)
        return SimpleNamespace(tables={"routes": pd.DataFrame({
            "route": [route.index], "transit_usual_mean_h": [route.base_hours + seen],
            "foreseen_usual_mean_h": [foreseen]})})

    monkeypatch.setattr(sim.pipeline, "settle", settle)
    monkeypatch.setattr(sim.pipeline, "replicate_one", replicate_one)
    monkeypatch.setattr(sim.sweep.tasks, "run_kpis", lambda result, plan: {})
    row = execute_path(PathTask("s001", 1, {}, spec, base, (2023, 2024, 2025)))
    assert row["status"] == "ok", row.get("error")
    assert ran == [1, 1, 1]                                  # sample 1: replication 1
    assert [(list(d.values()), list(u.values())) for d, u in started] == [
        ([], []), ([6.0], [4.0]), ([3.0], [1.5])]
