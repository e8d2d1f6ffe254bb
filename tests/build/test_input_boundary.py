"""The input boundary (sim.readers, sim.scenario, sim.network, sim.boundary): limits, strict
types, positions in the user's own file, every missing field at once, nearest ids, the new
changes, warnings, references and the cost estimate."""

from __future__ import annotations

import datetime
import json
import os
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml

from sim.boundary import admit, admit_comparison, check_related, count_variants
from sim.budget import Limits
from sim.errors import InputError, InputWarning, did_you_mean, excerpt
from sim.network import build
from sim.scenario import load_scenario
from tests.support import netbuilder as nb
from tests.support.paths import ROOT


def _doc(tmp_path: Path) -> dict:
    return yaml.safe_load(nb.line_network(tmp_path).read_text())


def _write(tmp_path: Path, doc: dict, name: str = "s.yaml") -> Path:
    return nb.write_scenario(tmp_path / name, doc)


def _error(path: Path) -> InputError:
    with pytest.raises(InputError) as info:
        admit(path, limits=None)
    return info.value


def _three_hubs(tmp_path: Path) -> dict:
    """a - b - c with rail links; one service a-b and a flow a->b."""
    a, b, c = nb.hub("a", 0), nb.hub("b", 1), nb.hub("c", 2)
    nb.write_geodata(tmp_path / "geo", [a, b, c], [nb.link("a-b", a, b), nb.link("b-c", b, c)])
    return nb.scenario(str(tmp_path / "geo"), {"ab": nb.train(["a", "b"])},
                       [nb.flow("a", "b", 1000)])


# ----------------------------------------------------------------------------- files


def test_duplicate_key_is_refused_naming_key_and_line(tmp_path: Path) -> None:
    path = nb.line_network(tmp_path)
    path.write_text(path.read_text() + "seed: 5\n")
    err = _error(path)
    assert "'seed' appears twice" in err.expected and err.field.startswith("line ")


@pytest.mark.parametrize("depth", [3_000, 10_000])
def test_deeply_nested_yaml_is_one_error(tmp_path: Path, depth: int) -> None:
    path = nb.line_network(tmp_path)
    path.write_text(path.read_text() + "description: " + "[" * depth + "]" * depth + "\n")
    assert "levels of nesting" in _error(path).expected


def test_an_extends_chain_of_1500_files_is_one_error(tmp_path: Path) -> None:
    nb.line_network(tmp_path)
    for n in range(1500):
        (tmp_path / f"c{n}.yaml").write_text(f"extends: c{n + 1}.yaml\n" if n < 1499
                                             else "extends: scenario.yaml\n")
    err = _error(tmp_path / "c0.yaml")
    assert err.field == "extends" and "chain of at most" in err.expected


def test_symlink_loops_as_scenario_and_as_extends(tmp_path: Path) -> None:
    os.symlink("loop.yaml", tmp_path / "loop.yaml")
    assert "symlink loop" in _error(tmp_path / "loop.yaml").expected
    (tmp_path / "child.yaml").write_text("extends: loop.yaml\nname: x\n")
    err = _error(tmp_path / "child.yaml")
    assert err.file.endswith("child.yaml") and err.field == "extends"
    assert "symlink loop" in err.expected


# ----------------------------------------------------------------------------- types


@pytest.mark.parametrize("value", [True, "14"])
def test_no_boolean_or_text_for_a_number(tmp_path: Path, value: object) -> None:
    doc = _doc(tmp_path)
    doc["changes"] = [{"kind": "set", "service": "ab", "field": "departures_per_week",
                       "value": value}]
    err = _error(_write(tmp_path, doc))
    assert err.field == "changes.0.value" and "a number" in err.expected
    doc = _doc(tmp_path)
    doc["network"]["services"]["ab"]["departures_per_week"] = value
    assert _error(_write(tmp_path, doc)).field == "network.services.ab.departures_per_week"


def test_whole_numbers_in_float_fields_still_work(tmp_path: Path) -> None:
    doc = _doc(tmp_path)
    doc["changes"] = [{"kind": "set", "service": "ab", "field": "departures_per_week",
                       "value": 14}]
    plan = build(load_scenario(_write(tmp_path, doc)))
    assert plan.network.lines[0].spec.departures_per_week == 14.0


@pytest.mark.parametrize(("rule", "field", "expected"), [
    ({"min_load_share": -0.1, "max_hold_slots": 2}, "min_load_share", "a number >= 0.0"),
    ({"min_load_share": 1.5, "max_hold_slots": 2}, "min_load_share", "a number <= 1.0"),
    ({"min_load_share": 0.8, "max_hold_slots": 2.5}, "max_hold_slots", "a whole number"),
    ({"min_load_share": 0.8, "max_hold_slots": True}, "max_hold_slots",
     "a number (not true or false)"),
    ({"min_load_share": 0.8, "max_hold_slots": 0}, "max_hold_slots", "a number >= 1"),
    ({"min_load_share": 0.8}, "max_hold_slots", "max_hold_slots, a whole number of slots "
                                                "from 1 to 1000, with min_load_share above 0")])
def test_a_bad_dispatch_rule_is_one_error_naming_its_field(
        tmp_path: Path, rule: dict, field: str, expected: str) -> None:
    """The dispatch rule's two fields (`ScheduledService.min_load_share`, `max_hold_slots`):
    a share from 0 to 1 and a whole number of slots from 1, required with a share above 0."""
    doc = _doc(tmp_path)
    doc["network"]["services"]["ab"].update(rule)
    err = _error(_write(tmp_path, doc))
    assert err.field == f"network.services.ab.{field}"
    assert err.expected.startswith(expected)


def test_a_hold_without_a_share_runs_every_slot(tmp_path: Path) -> None:
    """max_hold_slots with min_load_share 0 has nothing to bound: valid, so that a sweep of
    the share can start at 0 (the rule off)."""
    doc = _doc(tmp_path)
    doc["network"]["services"]["ab"]["max_hold_slots"] = 2
    spec = build(load_scenario(_write(tmp_path, doc))).network.lines[0].spec
    assert (spec.min_load_share, spec.max_hold_slots) == (0.0, 2)


# ----------------------------------------------------------------------------- positions


def test_changes_are_counted_in_the_file_that_wrote_them(tmp_path: Path) -> None:
    doc = _doc(tmp_path)
    ok = {"kind": "scale", "service": "ab", "field": "vehicle_teu", "factor": 1.0}
    doc["changes"] = [ok, ok]
    _write(tmp_path, doc, "base.yaml")
    bad = {"kind": "scale", "hub": "nowhere", "field": "yard_teu", "factor": 2}
    child = {"extends": "base.yaml", "name": "child", "changes": [ok, ok, ok, bad]}
    err = _error(_write(tmp_path, child, "child.yaml"))
    assert err.file.endswith("child.yaml") and err.field == "changes.3.hub"
    doc["changes"] = [ok, bad]
    _write(tmp_path, doc, "base.yaml")
    child["changes"] = [ok]
    err = _error(_write(tmp_path, child, "child.yaml"))
    assert err.file.endswith("base.yaml") and err.field == "changes.1.hub"
    # a schema error inside a change, too
    child["changes"] = [ok, {"kind": "scale", "service": "ab", "field": "vehicle_teu",
                             "factor": -1}]
    doc["changes"] = [ok, ok]
    _write(tmp_path, doc, "base.yaml")
    err = _error(_write(tmp_path, child, "child.yaml"))
    assert err.file.endswith("child.yaml") and err.field == "changes.1.factor"


@pytest.mark.parametrize("change, blamed", [
    ({"kind": "set", "hub": "b", "field": "yard_teu", "value": 5},
     "network.services.ab.vehicle_teu"),
    ({"kind": "set", "link": "a-b", "field": "mode", "value": "road"},
     "network.services.ab.stops"),
])
def test_a_check_a_change_fails_blames_the_change(tmp_path: Path, change: dict,
                                                  blamed: str) -> None:
    """The network is checked after every change is applied, so a check that fails names the
    base file's service it reads; the message now leads with the change that caused it, in
    the file that wrote it (the second of two changes, in the child file)."""
    ok = {"kind": "scale", "service": "ab", "field": "vehicle_teu", "factor": 1.0}
    _write(tmp_path, _doc(tmp_path), "base.yaml")
    child = {"extends": "base.yaml", "name": "child", "changes": [ok, change]}
    err = _error(_write(tmp_path, child, "child.yaml"))
    assert err.file.endswith("base.yaml") and err.field == blamed   # what the check read
    assert err.after is not None and err.after.endswith("child.yaml: changes.1")
    assert str(err).startswith(err.after + ": expected a change the network can take")


@pytest.mark.parametrize("change, words", [
    ({"kind": "set", "service": "ab", "field": "schedule", "value": "continuous"},
     "lacks the field capacity_teu_per_day"),             # was "expected Field required"
    ({"kind": "set", "service": "ab", "field": "source", "value": None},
     "nothing cannot be set"),        # was "changes.0.value.bool: expected a valid boolean"
])
def test_a_set_change_says_what_is_wrong(tmp_path: Path, change: dict, words: str) -> None:
    doc = _doc(tmp_path)
    doc["changes"] = [change]
    err = _error(_write(tmp_path, doc))
    assert err.field == "changes.0.value" and words in err.expected, str(err)


def test_a_list_of_the_wrong_length_says_so(tmp_path: Path) -> None:
    """Was pydantic's "Tuple should have at least 12 items after validation, not 3"."""
    doc = _doc(tmp_path)
    doc["demand"]["seasonality"] = [1, 2, 3]
    err = _error(_write(tmp_path, doc))
    assert err.field == "demand.seasonality"
    assert err.expected == "a list of at least 12 items (it has 3)"


def test_lock_windows_after_the_run_are_named(tmp_path: Path) -> None:
    """A lock's maintenance or scheduled outage after the run's end had no effect and no
    word (a disruption change there is refused); each is a warning naming its place now."""
    from tests.support.locks import lock_scenario

    path = lock_scenario(tmp_path, {
        "maintenance": [{"flight": "north", "start_day": 50, "end_day": 60, "source": "t"}],
        "outages": [{"start_day": 5, "end_day": 6, "source": "t"},
                    {"start_day": 70, "end_day": 71, "source": "t"}]}, days=40, warmup=0)
    with pytest.warns(InputWarning) as seen:
        admit(path, limits=None)
    said = [str(w.message) for w in seen if issubclass(w.category, InputWarning)]
    assert any("network.locks.lk.maintenance.0: starts on day 50" in m for m in said), said
    assert any("network.locks.lk.outages.1: starts on day 70" in m for m in said), said
    assert not any("outages.0" in m for m in said)


@pytest.mark.parametrize(("start_day", "warned"), [(40, True), (39, False)])
def test_a_lock_window_from_the_last_day_of_the_run_on_is_named(
        tmp_path: Path, start_day: float, warned: bool) -> None:
    """A 40-day run ends as day 40 begins: a maintenance from day 40 has no effect and is
    named; one from day 39 has a day of it."""
    from tests.support.locks import lock_scenario

    path = lock_scenario(tmp_path, {"maintenance": [
        {"flight": "north", "start_day": start_day, "end_day": 45, "source": "t"}]},
        days=40, warmup=0)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        admit(path, limits=None)
    said = [str(w.message) for w in seen if "maintenance.0: starts on day" in str(w.message)]
    assert len(said) == (1 if warned else 0), said


@pytest.mark.parametrize("lock_lon, link_kw, field, words", [
    (1.0, {"lock_at": 0.5}, "features[a-b]", "lock_at only with lock"),
    (50.0, {"lock": "lk", "lock_at": 0.5}, "features[a-b].lock", "a lock on the link's line"),
])
def test_a_lock_must_be_on_its_link(tmp_path: Path, lock_lon: float, link_kw: dict,
                                    field: str, words: str) -> None:
    """`lock_at` on a link without a lock was ignored, and a lock 49 degrees from its link
    was accepted: both are geodata errors now."""
    a, b = nb.hub("a", 0, kind="river_port"), nb.hub("b", 2, kind="river_port")
    nb.write_geodata(tmp_path / "geo", [a, b],
                     [nb.link("a-b", a, b, mode="river", corridor="east", **link_kw)],
                     locks=[nb.lock("lk", lock_lon)])
    doc = nb.scenario(str(tmp_path / "geo"), {"ab": {
        "corridor": "east", "mode": "river", "stops": ["a", "b"], "departures_per_week": 7,
        "vehicle_teu": 100, "price_cny_per_teu": 500, "source": "test"}},
        [nb.flow("a", "b", 1000)])
    err = _error(_write(tmp_path, doc))
    assert err.file.endswith("links.geojson") and err.field.startswith(field), str(err)
    assert words in err.expected, str(err)


def test_every_missing_field_is_reported_at_once(tmp_path: Path) -> None:
    doc = _doc(tmp_path)
    doc["changes"] = [{"kind": "add_hub", "hub": {"id": "d", "name": "D"}}]
    err = _error(_write(tmp_path, doc))
    assert err.field == "changes.0.hub"
    for name in ("kind", "country", "lon", "lat", "handling_servers", "yard_teu", "sources"):
        assert name in err.expected


def test_a_list_short_only_because_its_item_failed_is_not_counted_as_another_problem(
        tmp_path: Path) -> None:
    """The only flow with text for its TEU: pydantic also finds the flows too short (it drops
    the failed item), which is no second problem; a second bad flow is one."""
    doc = _doc(tmp_path)
    doc["demand"]["flows"] = [nb.flow("a", "b", "many")]    # type: ignore[arg-type]
    err = _error(_write(tmp_path, doc))
    assert err.field == "demand.flows.0.teu_per_year" and "more problem" not in err.expected
    doc["demand"]["flows"] = [nb.flow("a", "b", "many"), nb.flow("b", "a", "few")]  # type: ignore[arg-type]
    err = _error(_write(tmp_path, doc))
    assert "(1 more problem after this one)" in err.expected, str(err)
    doc = _doc(tmp_path)      # one stop, and a bad one: still one short once it is mended
    service = next(iter(doc["network"]["services"].values()))
    service["stops"] = [{"x": 1}]
    err = _error(_write(tmp_path, doc))
    assert err.field.endswith("stops.0") and "(1 more problem after this one)" in err.expected


@pytest.mark.parametrize("change, field, nearest", [
    ({"kind": "scale", "service": "abb", "field": "vehicle_teu", "factor": 2},
     "changes.0.service", "ab"),
    ({"kind": "scale", "hub": "bb", "field": "yard_teu", "factor": 2}, "changes.0.hub", "b"),
    ({"kind": "set", "service": "ab", "field": "vehicle_tue", "value": 3}, "changes.0.field",
     "vehicle_teu"),
    ({"kind": "add_flows", "flow": {}}, "changes.0.kind", "add_flow"),
    ({"kind": "demand_growth", "origin": "aa", "factor": 2}, "changes.0.origin", "a"),
])
def test_unknown_ids_offer_the_nearest(tmp_path: Path, change: dict, field: str,
                                       nearest: str) -> None:
    doc = _doc(tmp_path)
    doc["changes"] = [change]
    err = _error(_write(tmp_path, doc))
    assert err.field == field and f"did you mean '{nearest}'?" in err.expected


# ----------------------------------------------------------------------------- new changes


def test_add_flow_add_service_remove_service(tmp_path: Path) -> None:
    doc = _three_hubs(tmp_path)
    doc["changes"] = [
        {"kind": "add_service", "id": "bc", "service": nb.train(["b", "c"])},
        {"kind": "add_flow", "flow": nb.flow("a", "c", 500)},
    ]
    plan = build(load_scenario(_write(tmp_path, doc)))
    assert {line.service for line in plan.network.lines} == {"ab", "bc"}
    assert [(f.origin, f.destination) for f in plan.flows] == [("a", "b"), ("a", "c")]
    assert plan.flow_sources[1][1] == "changes.1.flow"
    doc["changes"].append({"kind": "remove_service", "service": "bc"})
    from sim.routing import choice_sets
    with pytest.raises(InputError) as info:  # a -> c has no route left
        choice_sets(build(load_scenario(_write(tmp_path, doc))))
    assert info.value.field == "changes.1.flow"


def test_replaced_flows_warn_naming_what_was_dropped(tmp_path: Path) -> None:
    doc = _three_hubs(tmp_path)
    doc["demand"]["flows"].append(nb.flow("b", "a", 300))
    _write(tmp_path, doc, "base.yaml")
    child = {"extends": "base.yaml", "demand": {"flows": [nb.flow("a", "b", 2000)]}}
    with pytest.warns(InputWarning, match=r"dropping 1: b -> a \(general\)"):
        load_scenario(_write(tmp_path, child, "child.yaml"))
    child["replaces"] = ["demand.flows"]  # replaced on purpose: quiet
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputWarning)
        load_scenario(_write(tmp_path, child, "child.yaml"))


def test_scale_that_rounds_a_count_says_so(tmp_path: Path) -> None:
    doc = _doc(tmp_path)
    doc["changes"] = [{"kind": "scale", "hub": "a", "field": "handling_servers",
                       "factor": 1.5}]  # 2 x 1.5 = 3 exactly: quiet
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputWarning)
        build(load_scenario(_write(tmp_path, doc)))
    doc["changes"][0]["factor"] = 1.25  # 2.5 -> 2
    with pytest.warns(InputWarning, match=r"2 x 1.25 = 2.5, rounded to 2"):
        plan = build(load_scenario(_write(tmp_path, doc)))
    assert plan.network.hubs["a"].handling_servers == 2


def test_scale_of_a_field_at_zero_says_it_changes_nothing(tmp_path: Path) -> None:
    """Qinzhou's dwell_hours is 0 in the geodata: "halve the customs dwell at Qinzhou" as a
    scale change validated, ran and compared as if it did something (trial66). A scale of a
    field at 0 leaves it 0, and says so; a set gives it a value."""
    doc = _doc(tmp_path)
    doc["changes"] = [{"kind": "scale", "hub": "a", "field": "dwell_hours", "factor": 0.5}]
    with pytest.warns(InputWarning, match=r"dwell_hours of a is 0, so a scale by 0.5 leaves "
                                          r"it 0 and changes nothing"):
        plan = build(load_scenario(_write(tmp_path, doc)))
    assert plan.network.hubs["a"].dwell_hours == 0.0
    doc["changes"] = [{"kind": "set", "hub": "a", "field": "dwell_hours", "value": 3},
                      {"kind": "scale", "hub": "a", "field": "dwell_hours", "factor": 0.5}]
    with warnings.catch_warnings():     # not at 0 when scaled: quiet
        warnings.simplefilter("error", InputWarning)
        plan = build(load_scenario(_write(tmp_path, doc)))
    assert plan.network.hubs["a"].dwell_hours == 1.5


def test_disruption_outside_the_horizon(tmp_path: Path) -> None:
    doc = _doc(tmp_path)
    doc["changes"] = [{"kind": "disruption", "hub": "a", "start_day": 90, "end_day": 95,
                       "capacity_factor": 0}]
    err = _error(_write(tmp_path, doc))  # the file's own 60-day horizon: refused
    assert err.field == "changes.0.start_day"
    doc["changes"][0].update(start_day=30, end_day=40)
    path = _write(tmp_path, doc)
    with pytest.warns(InputWarning, match="after the end of this 20-day run"):
        admit(path, days=20)  # shortened on the command line: a warning


@pytest.mark.parametrize(("start_day", "warned"), [(20, True), (19, False)])
def test_a_disruption_from_the_last_hour_of_a_shortened_run_on_is_warned_of(
        tmp_path: Path, start_day: float, warned: bool) -> None:
    """A 20-day run ends at hour 480: a disruption from day 20 has no effect and is warned
    of; one from day 19 has a day of it."""
    doc = _doc(tmp_path)
    doc["changes"] = [{"kind": "disruption", "hub": "a", "start_day": start_day,
                       "end_day": 30, "capacity_factor": 0}]
    path = _write(tmp_path, doc)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        admit(path, days=20)
    said = [str(w.message) for w in seen if "after the end of this 20-day run" in str(w.message)]
    assert len(said) == (1 if warned else 0), said


def test_empties_tied_to_a_shut_channel_are_no_flow_to_warn_of(tmp_path: Path) -> None:
    """Empties are sized from the loaded flows after settling (`market.empties`): the west's
    lane of empties, its only channel shut all period, is not named among the flows whose
    every route is shut (a loaded flow so tied is:
    test_market_gateways::test_a_flow_with_every_route_shut_all_period_is_warned)."""
    from tests.support.market import market_doc

    doc = market_doc(tmp_path, horizon={"days": 60, "warmup_days": 10})
    doc["demand"]["classes"]["empty"] = {
        "value_cny_per_teu": 0, "value_of_time_cny_per_teu_hour": 0, "tonnes_per_teu": 2.2,
        "source": "test"}
    doc["market"]["empties"] = {"repositioned_share": 0.5, "source": "test",
                                "lanes": [{"gateway": "west", "china": "cq",
                                           "abroad": ["eu"]}]}
    doc["changes"] = [{"kind": "disruption", "hub": "wb", "start_day": 0, "end_day": 60,
                       "capacity_factor": 0.0, "why": "test"}]
    path = _write(tmp_path, doc)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputWarning)
        plan = admit(path).plan
    assert any(f.flow_class == "empty" and f.gateway == "west" for f in plan.flows)


@pytest.mark.parametrize("own, field, says", [
    # a misspelt service id read as a new service: only its missing fields were named
    ({"abb": {"departures_per_week": 14}}, "network.services.abb",
     "of a new entry, or an existing one (did you mean 'ab'?)"),
    # a misspelt attribute: "no such key" alone
    ({"ab": {"departures_per_wk": 14}}, "network.services.ab.departures_per_wk",
     "no such key (unknown field; did you mean 'departures_per_week'?)"),
])
def test_a_misspelt_key_of_a_base_offers_the_one_beside_it(tmp_path: Path, own: dict,
                                                           field: str, says: str) -> None:
    """A key the base file sets, misspelt in the file that extends it, is named (trial46,
    M6)."""
    base = nb.line_network(tmp_path)
    path = _write(tmp_path, {"name": "typo", "extends": base.name,
                             "network": {"services": own}}, "typo.yaml")
    err = _error(path)
    assert (err.file, err.field) == (str(path), field) and says in err.expected, str(err)


def test_a_date_for_a_day_says_what_a_day_is(tmp_path: Path) -> None:
    """start_day: 2025-09-01 said only "expected a number": a planner needs to know a day is
    counted on the model's calendar from 1 January (trial46, M6)."""
    doc = _doc(tmp_path)
    doc["changes"] = [{"kind": "disruption", "hub": "a", "start_day": datetime.date(2025, 9, 1),
                       "end_day": 20, "capacity_factor": 0.5}]
    err = _error(_write(tmp_path, doc))
    assert err.field == "changes.0.start_day" and "from 1 January" in err.expected, str(err)
    assert "2025-09-01" in str(err)


def test_a_date_for_a_rate_per_day_is_not_said_to_be_a_day() -> None:
    """Every field ending in _day read as a calendar day, so a date typed for
    capacity_teu_per_day was told about 1 January (final read): only the day fields are."""
    from sim.specs import DAY_FIELDS, expected

    def said(field: str) -> str:
        return expected({"type": "float_parsing", "loc": ("network", "x", field)})

    assert said("capacity_teu_per_day") == "a number"
    assert said("inbound_trains_per_day") == "a number"
    assert all("from 1 January" in said(field) for field in DAY_FIELDS)


def test_an_unknown_attribute_with_none_close_lists_them(tmp_path: Path) -> None:
    doc = _doc(tmp_path)
    doc["changes"] = [{"kind": "scale", "hub": "a", "field": "capacity", "factor": 1.5}]
    err = _error(_write(tmp_path, doc))
    assert err.field == "changes.0.field" and "handling_servers, " in err.expected, str(err)


def test_a_suggestion_ignores_case() -> None:
    """`market: EU` got no "did you mean 'eu'" (trial46, M6)."""
    assert did_you_mean("EU", ["asean", "eu"]) == " (did you mean 'eu'?)"
    # choices that differ only by case are both offered: folded into a dict by case, the
    # last one stood for both (review45, L3)
    assert did_you_mean("Eu", ["EU", "eu", "asean"]) == " (did you mean 'EU' or 'eu'?)"
    assert did_you_mean("Eux", ["eu", "EU"]) == " (did you mean 'eu' or 'EU'?)"


def test_excluded_hubs_must_be_known(tmp_path: Path) -> None:
    doc = _doc(tmp_path)
    doc["trade"] = {"excluded_hubs": ["bb"]}
    err = _error(_write(tmp_path, doc))
    assert err.field == "trade.excluded_hubs.0" and "did you mean 'b'" in err.expected


def test_reference_scenario_missing_or_broken_names_the_scenario(tmp_path: Path) -> None:
    doc = _doc(tmp_path)
    doc["demand"]["reference_scenario"] = "nope.yaml"
    err = _error(_write(tmp_path, doc))
    assert err.file.endswith("s.yaml") and err.field == "demand.reference_scenario"
    (tmp_path / "broken.yaml").write_text("- a list\n")
    doc["demand"]["reference_scenario"] = "broken.yaml"
    err = _error(_write(tmp_path, doc))
    assert err.file.endswith("broken.yaml") and "s.yaml: demand.reference_scenario" in str(err)


# ----------------------------------------------------------------------------- geodata


@pytest.mark.parametrize("feature, field", [
    ("not an object", "features[0]"),
    ({"type": "Feature", "properties": {"id": "a"}, "geometry": "POINT (0 30)"},
     "features[a].geometry"),
    ({"type": "Feature", "properties": {"id": "a"}, "geometry": {"type": "Point",
                                                                 "coordinates": [0.0]}},
     "features[a].geometry.coordinates"),
    ({"type": "Feature", "properties": [["id", "a"]], "geometry": None},
     "features[0].properties"),
])
def test_malformed_geojson_structures(tmp_path: Path, feature: object, field: str) -> None:
    path = nb.line_network(tmp_path)
    hubs = json.loads((tmp_path / "geo" / "hubs.geojson").read_text())
    hubs["features"][0] = feature
    (tmp_path / "geo" / "hubs.geojson").write_text(json.dumps(hubs))
    err = _error(path)
    assert err.file.endswith("hubs.geojson") and err.field == field


def test_a_link_to_an_unknown_hub_names_the_link(tmp_path: Path) -> None:
    """It named a service's stops instead (the service found no link between them)."""
    path = nb.line_network(tmp_path)
    links = json.loads((tmp_path / "geo" / "links.geojson").read_text())
    links["features"][0]["properties"]["to_hub"] = "atlantis"
    (tmp_path / "geo" / "links.geojson").write_text(json.dumps(links))
    err = _error(path)
    lid = links["features"][0]["properties"]["id"]
    assert err.file.endswith("links.geojson") and err.field == f"features[{lid}].to_hub"


def test_a_link_drawn_away_from_its_hubs_is_refused(tmp_path: Path) -> None:
    """Its shape must start at from_hub and end at to_hub (latitude and longitude swapped,
    say, drew it elsewhere on the map, silently)."""
    path = nb.line_network(tmp_path)
    links = json.loads((tmp_path / "geo" / "links.geojson").read_text())
    first = links["features"][0]
    first["geometry"]["coordinates"][0] = first["geometry"]["coordinates"][0][::-1]
    (tmp_path / "geo" / "links.geojson").write_text(json.dumps(links))
    err = _error(path)
    lid = first["properties"]["id"]
    assert err.field == f"features[{lid}].coords" and "the first vertex at from_hub" in str(err)


def test_a_key_twice_in_a_geojson_object_is_refused(tmp_path: Path) -> None:
    """JSON keeps the last of a repeated key: a hub given two ids took the second, silently."""
    path = nb.line_network(tmp_path)
    file = tmp_path / "geo" / "hubs.geojson"
    text = file.read_text()
    file.write_text(text.replace('"id": "a"', '"id": "a", "id": "z"', 1))
    assert '"id": "z"' in file.read_text()
    err = _error(path)
    assert err.file.endswith("hubs.geojson") and err.field == "id"
    assert "each key once" in str(err)


def test_geojson_nested_100000_levels(tmp_path: Path) -> None:
    path = nb.line_network(tmp_path)
    (tmp_path / "geo" / "hubs.geojson").write_text(
        '{"type": "FeatureCollection", "features": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert "levels deep" in _error(path).expected


def test_the_shipped_basemap_passes_and_a_truncated_one_is_refused(tmp_path: Path) -> None:
    path = nb.line_network(tmp_path)
    shipped = (ROOT / "geodata" / "basemap.gpkg").read_bytes()
    (tmp_path / "geo" / "basemap.gpkg").write_bytes(shipped)
    admit(path)
    (tmp_path / "geo" / "basemap.gpkg").write_bytes(shipped[: len(shipped) // 2])
    err = _error(path)
    assert err.file.endswith("basemap.gpkg") and "network.geodata" in str(err)



@pytest.mark.parametrize("char", ["\n", "\t", "\r"])
def test_a_basemap_at_a_path_gdal_cannot_open_is_refused(tmp_path: Path, char: str) -> None:
    # GDAL drops a tab or line break from a path: a scenario in such a folder validated,
    # ran, then failed to draw its map with a traceback (exit 1)
    folder = tmp_path / f"in{char}here"
    folder.mkdir()
    path = nb.line_network(folder)
    (folder / "geo" / "basemap.gpkg").write_bytes((ROOT / "geodata" / "basemap.gpkg").read_bytes())
    err = _error(path)
    assert err.field == "network.geodata" and "control characters" in str(err)
    assert "\n" not in str(err) and "\t" not in str(err)


# ----------------------------------------------------------------------------- cost


def test_estimate_is_close_to_a_measured_run_and_errs_high(tmp_path: Path) -> None:
    from sim.engine import Model

    checked = admit(nb.line_network(tmp_path, teu_per_year=50_000), days=120)
    model = Model(checked.plan, 0, checked.choices)
    model.run()
    lots, events = model._lot_id, next(model.env._eid)
    est = checked.estimate
    assert lots <= est.lots_per_replication <= 2 * lots
    assert events <= est.events_per_replication <= 3 * events


def test_a_run_past_the_limits_is_refused_with_its_estimate(tmp_path: Path) -> None:
    doc = _doc(tmp_path)
    doc["demand"]["flows"][0]["teu_per_year"] = 1e9
    doc["horizon"]["days"] = 365
    path = _write(tmp_path, doc)
    with pytest.raises(InputError) as info:
        admit(path)
    assert "within the limits" in info.value.expected and "GB" in info.value.expected
    assert admit(path, limits=None).estimate.memory_bytes > 4e9  # --no-limit: admitted


def test_a_plan_refused_by_its_cost_keeps_its_time_and_the_way_out() -> None:
    """`cqsim plan scenarios/candidates/plan-2025.yaml --max-events 1` was refused with a
    line cut at 400 characters of "expected": "...their simulation about 4h06m of one co...",
    without the plain engine's time, the memory or the options that lift the limits
    (trial51). The whole message of the longest refusal cqsim writes is kept."""
    from sim.budget import Estimate, Limits, check

    what = ("plan of 1,328 runs when every portfolio is screened (324 portfolios x --first 4, "
            "+ --confirm 32; pruning skips the subsets of one found infeasible, an undecided "
            "portfolio runs up to --most 64)")
    est = Estimate(86.3e3, 1.09e6, 3984, 323e6)
    with pytest.raises(InputError) as info:
        check(est, Limits(max_memory=1e6, max_events=1), "plan-2025.yaml", what)
    line = str(info.value)
    assert "..." not in line and line.endswith("--max-events or --no-limit"), line
    assert "plain" in line and "peak memory" in line


def test_an_estimate_says_what_it_counts_and_its_cpu_time() -> None:
    """A cost message gave events only, "x 3,984" unexplained: a planner needs the time
    (trial46, M3). It now names the simulations and gives the CPU time of one core at the
    measured cost of an estimated event, compiled and plain."""
    from sim.budget import CPU_PER_EVENT, Estimate

    est = Estimate(86_300, 1.09e6, 3_984, 323e6)
    assert est.cpu_seconds() == pytest.approx(1.09e6 * 3_984 * CPU_PER_EVENT["compiled"])
    text = est.describe()
    assert "x 3,984 simulations (replications with their feedback passes)" in text
    assert "their simulation about 4h06m of one core compiled (about 7h50m plain)" in text
    small = Estimate(10, 100, 1, 1e6).describe()
    assert "x 1 simulation (" in small and "about under 1 s" not in small
    assert "their simulation under 1s of one core compiled (under 1s plain)" in small


def test_runs_count_feedback_passes_per_replication_only_when_each_settles_alone() -> None:
    """A budget's simulations: each replication's own passes when it settles on its own
    streams, else one set of passes shared by all; swapped, --max-events would read a
    per-replication equilibrium at half its cost."""
    from types import SimpleNamespace

    from sim.budget import runs_of
    from sim.scenario import Equilibrium

    def plan(per: bool) -> Any:
        return SimpleNamespace(replications=3, equilibrium=Equilibrium(
            max_iterations=4, min_iterations=4, per_replication=per))
    # 4 feedback passes, each a simulation before the replication's own (it counted 4 - 1):
    # each of 3 replications 1 + 4 = 15; shared: 3 + 4 = 7
    assert runs_of(plan(True)) == 15 and runs_of(plan(False)) == 7
    assert runs_of(plan(True), replications=5) == 5 * 5       # 25, the override's count
    alone = SimpleNamespace(replications=3, equilibrium=Equilibrium(max_iterations=1,
                                                                     min_iterations=1))
    assert runs_of(alone) == 3                                # no feedback: no passes
    # the field's description says the same cost: each replication's own passes, all
    # max_iterations of them, beyond the shared set (it said max_iterations - 1; review65)
    extra = (runs_of(plan(True)) - runs_of(plan(False))) // (3 - 1)
    assert extra == 4
    said = Equilibrium.model_fields["per_replication"].description or ""
    assert "at the cost of max_iterations more runs" in said, said


def test_estimates_run_one_after_another_add_events_and_keep_the_largest_memory() -> None:
    """compare and rank run their scenarios in turn: events add, memory is the largest one's
    (not a sum, which would refuse comparisons that fit)."""
    from sim.budget import Estimate, combine

    both = combine([Estimate(10, 100, 2, 1e6), Estimate(20, 300, 1, 3e6)])
    # lots the larger, 20; events 100 x 2 + 300 x 1 = 500 over 3 runs; memory max(1, 3) MB
    assert (both.lots_per_replication, both.runs, both.memory_bytes) == (20, 3, 3e6)
    assert both.events == pytest.approx(500)


def test_a_billion_variant_grid_is_refused_before_it_is_built(tmp_path: Path,
                                                             monkeypatch) -> None:
    import sim.sweep as sweep

    nb.line_network(tmp_path)
    grid = {f"seed{i}": list(range(10)) for i in range(9)}
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(
        {"base": "scenario.yaml", "parameters": {"grid": grid}}))
    assert count_variants(grid, None) == 10**9

    def never(*args: object) -> None:
        raise AssertionError("the design was built")
    monkeypatch.setattr(sweep, "design", never)
    with pytest.raises(InputError) as info:
        sweep.prepare_sweep(tmp_path / "sweep.yaml", Limits())
    assert "1,000,000,000 variants" in str(info.value)


# ----------------------------------------------------------------------------- compare


def test_alternatives_must_be_base_plus_changes() -> None:
    scenarios = ROOT / "scenarios"
    baseline = load_scenario(scenarios / "baseline.yaml")
    calibrated = load_scenario(scenarios / "baseline-2023.yaml")
    closure = load_scenario(scenarios / "alashankou-closure.yaml")
    with pytest.raises(InputError) as info:
        check_related(baseline, closure)  # through baseline-2023, which recalibrates
    assert info.value.field == "extends" and "baseline-2023.yaml" in info.value.expected
    check_related(calibrated, closure)
    check_related(calibrated, load_scenario(scenarios / "plan-2035.yaml"))
    with pytest.raises(InputError):
        check_related(closure, calibrated)


def test_an_alternative_s_own_seed_replications_and_horizon_are_said_to_be_unused(
        tmp_path: Path) -> None:
    """A comparison runs BASE's seed, replications and horizon; an alternative that sets
    its own had them replaced without a word."""
    from sim.boundary import admit_comparison

    base_file = nb.line_network(tmp_path, horizon={"days": 10, "warmup_days": 1})
    alt_file = tmp_path / "alt.yaml"
    alt_file.write_text(yaml.safe_dump({
        "name": "alt", "extends": base_file.name, "seed": 99, "horizon": {"days": 20},
        "changes": [{"kind": "scale", "service": "ab", "field": "departures_per_week",
                     "factor": 2.0}]}))
    base, alt = load_scenario(base_file), load_scenario(alt_file)
    with pytest.warns(InputWarning) as seen:
        admit_comparison(base, [alt], replications=1, days=None, workers=1, limits=None)
    said = [str(w.message) for w in seen]
    assert any("seed: not used" in m for m in said) and any("horizon: not used" in m
                                                            for m in said)


def test_an_alternative_too_dear_on_its_own_is_named(tmp_path: Path) -> None:
    """A comparison whose one alternative passes the limits names that alternative's file,
    not BASE's (rank of a changes file growing demand 1000-fold named BASE)."""
    from sim.boundary import admit_comparison
    from sim.budget import estimate

    base_file = nb.line_network(tmp_path, horizon={"days": 10})
    alt_file = tmp_path / "alt.yaml"
    alt_file.write_text(yaml.safe_dump({
        "name": "alt", "extends": base_file.name,
        "changes": [{"kind": "demand_growth", "factor": 1000.0}]}))
    base, alt = load_scenario(base_file), load_scenario(alt_file)
    one = estimate(build(base))
    limits = Limits(max_events=50 * one.events, max_memory=None)
    admit_comparison(base, [base.model_copy(update={"name": "same"})], replications=None,
                     days=None, workers=1, limits=limits)     # within: admitted
    with pytest.raises(InputError) as err:
        admit_comparison(base, [alt], replications=None, days=None, workers=1, limits=limits)
    assert err.value.file == str(alt_file.resolve()) and "run of alt" in str(err.value)


# ----------------------------------------------------------------------------- messages


def test_excerpts_are_short_printable_and_one_line() -> None:
    text = excerpt("a\x00b\nc" + "x" * 500)
    assert "\n" not in text and "\\x00" in text and len(text) < 50
    err = InputError("f.yaml", "k\ney", "a number", "v\x1b[31mred" * 50)
    assert "\n" not in str(err) and "\x1b" not in str(err) and len(str(err)) < 200
    # a value it may not quote is described in words, a path too (not "a PurePosixPath")
    hidden = InputError("f.yaml", "geodata", "an existing file", Path("/x/hubs.geojson"))
    assert hidden.message(quote=lambda _: False).endswith("got a file path")


@pytest.mark.parametrize(("field", "value", "shown"), [
    ("replications", True, "got true"),        # it read `got True`, Python's spelling
    ("seed", None, "got null"),                # it showed no value at all
    ("seed", [1, 2], "got [1, 2]"),            # no value either
    ("replications", float("inf"), "got .inf"),
    ("seed", 1e-05, "got 1.0e-05"),            # it read `got 1e-05`, which YAML reads as text
    ("seed", datetime.date(2023, 1, 1), "got 2023-01-01"),   # it read datetime.date(2023, ...)
    ("name", True, "expected text (YAML reads yes, no, on and off unquoted as true or false: "
                   "quote it), got true"),       # `name: yes` read as true, unexplained
])
def test_a_message_quotes_a_value_as_yaml_writes_it(tmp_path: Path, field: str,
                                                    value: object, shown: str) -> None:
    """The value a message quotes reads as the user wrote it in YAML, not as Python's repr
    (`True`, `None`, `inf`), and a null or a list is quoted rather than dropped."""
    doc = _doc(tmp_path)
    doc[field] = value
    err = _error(_write(tmp_path, doc))
    assert err.field == field and str(err).endswith(shown), str(err)


def test_excerpts_follow_yaml() -> None:
    assert [excerpt(v) for v in (False, None, float("-inf"), float("nan"), ("a", 1))] == \
        ["false", "null", "-.inf", ".nan", "['a', 1]"]
    # a mapping is described, not quoted
    assert excerpt({"a": 1}) == "a mapping of 1 key"


@pytest.mark.parametrize("value", [1e-05, 3e+300, 1e+16, -2.5e-07, 5e-324, 0.1, 1000.0, 1.5])
def test_a_quoted_float_reads_back_as_the_same_number(value: float) -> None:
    """Python's `1e-05` is text to YAML 1.1 (PyYAML, as cqsim reads): a message quoted it so,
    and the same value typed back was refused as text (review of merges 36, finding 8). The
    advice on `1e3` and the quote share one rendering."""
    from sim.errors import yaml_float

    assert yaml.safe_load(f"v: {excerpt(value)}")["v"] == value
    assert yaml.safe_load(f"v: {yaml_float(value, exponent=True)}")["v"] == value


def test_numpy_scalars_and_dates_are_quoted_as_yaml_writes_them() -> None:
    """A numpy scalar showed as `np.float64(1.5)`, a date as `datetime.date(2023, 1, 1)`."""
    import numpy as np

    assert [excerpt(v) for v in (np.float64(1.5), np.int64(3), np.bool_(True),
                                 np.float64(1e-05))] == ["1.5", "3", "true", "1.0e-05"]
    assert excerpt(datetime.date(2023, 1, 1)) == "2023-01-01"
    assert excerpt(datetime.datetime(2023, 1, 1, 10, 30)) == "2023-01-01 10:30:00"


def test_an_added_service_s_id_is_printable(tmp_path: Path) -> None:
    """An id titles tables and the console, as a name does: an escape character in an
    `add_service` id was accepted (a name's was refused)."""
    base = nb.line_network(tmp_path)
    doc = yaml.safe_load(base.read_text())
    doc["changes"] = [{"kind": "add_service", "id": "ab\x1b[31m2",
                       "service": nb.train(["a", "b"])}]
    base.write_text(yaml.safe_dump(doc))
    with pytest.raises(InputError) as err:
        load_scenario(base)
    assert err.value.field == "changes.0.id" and "printable" in err.value.expected


def test_unknown_keys_never_quote_their_value(tmp_path: Path) -> None:
    doc = _doc(tmp_path)
    doc["token"] = "s3cr3t-value"
    err = _error(_write(tmp_path, doc))
    assert err.field == "token" and "s3cr3t" not in str(err)


@pytest.mark.parametrize("item, field, expected", [
    ({"kind": "sett", "hub": "a"}, "changes.0.kind", "a kind of change: one of set"),
    (5, "changes.0", "a mapping with `kind`"),
])
def test_a_bad_tag_names_its_own_union(tmp_path: Path, item: object, field: str,
                                       expected: str) -> None:
    """Every tagged union (changes, outages, distributions) is explained by its own tags."""
    doc = _doc(tmp_path)
    doc["changes"] = [item]
    err = _error(_write(tmp_path, doc))
    assert err.field == field and expected in err.expected


def test_a_bad_outage_shape_is_an_outage_error_not_a_change_error(tmp_path: Path) -> None:
    path = tmp_path / "fog.yaml"
    path.write_text(yaml.safe_dump({
        "name": "fog", "extends": str(ROOT / "scenarios" / "baseline-2023.yaml"),
        "network": {"locks": {"three_gorges_locks": {"outages": [{"shape": "weird"}]}}}}))
    with pytest.raises(InputError) as info:
        load_scenario(path)
    assert info.value.field == "network.locks.three_gorges_locks.outages.0.shape"
    assert "an outage shape: one of scheduled, random" in info.value.expected


@pytest.mark.parametrize("loader", ["SafeLimitedLoader", "CSafeLimitedLoader"])
def test_both_yaml_loaders_read_every_shipped_file_alike_and_keep_the_limits(
        loader: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """LibYAML's parser under the same composer and constructor (`sim.readers.LOADER`) reads
    every YAML file the project ships as the all-Python loader does, and refuses the same
    bombs, duplicate keys, code tags and nesting."""
    from sim import readers

    if not hasattr(readers, loader):
        pytest.skip("PyYAML without LibYAML")
    if yaml.__with_libyaml__:   # what cqsim reads with: LibYAML's parser wherever PyYAML has it
        assert readers.LOADER is readers.CSafeLimitedLoader
    files = sorted({*(ROOT / "scenarios").rglob("*.yaml"), *(ROOT / "notebooks").rglob("*.yaml")})
    assert len(files) > 20
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert yaml.load(text, Loader=getattr(readers, loader)) == yaml.load(  # noqa: S506
            text, Loader=readers.SafeLimitedLoader), path
    monkeypatch.setattr(readers, "LOADER", getattr(readers, loader))
    bad = ROOT / "tests" / "bad_inputs"
    for name, says in (("alias_bomb.yaml", "alias bomb"), ("duplicate_key.yaml", "unique keys"),
                       ("python_tag.yaml", "python/object"),
                       ("deep_yaml_list.yaml", "at most 32 levels of nesting"),
                       ("deep_yaml_mapping.yaml", "at most 32 levels of nesting")):
        with pytest.raises(InputError, match=says):
            load_scenario(bad / name)
    with pytest.raises(InputError, match=r"line 20 column 1: .*found character '\\t' that"):
        load_scenario(bad / "syntax_tab_indent.yaml")      # the tab named, as PyYAML names it


def test_days_that_leave_no_warmup_say_so(tmp_path: Path) -> None:
    doc = _doc(tmp_path)
    doc["horizon"] = {"days": 60, "warmup_days": 10}
    path = _write(tmp_path, doc)
    with warnings.catch_warnings():   # longer than the warm-up: kept, quiet
        warnings.simplefilter("error", InputWarning)
        assert admit(path, days=11, limits=None).plan.horizon.warmup_days == 10
    with pytest.warns(InputWarning, match=r"--days 10 is not longer than the 10-day warm-up"):
        assert admit(path, days=10, limits=None).plan.horizon.warmup_days == 0


@pytest.mark.parametrize("key", ["source_file", "provenance"])
def test_what_the_loader_sets_is_no_field_of_a_file(tmp_path: Path, key: str) -> None:
    doc = _doc(tmp_path)
    doc[key] = "elsewhere.yaml" if key == "source_file" else {"files": ["a"]}
    err = _error(_write(tmp_path, doc))
    assert err.field == key and "no such key" in str(err) and err.file.endswith("s.yaml")


def test_growth_that_matches_no_flow_says_so(tmp_path: Path) -> None:
    doc = _doc(tmp_path)   # one flow, a -> b
    doc["changes"] = [{"kind": "demand_growth", "origin": "a", "factor": 2}]
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputWarning)
        build(load_scenario(_write(tmp_path, doc)))
    doc["changes"] = [{"kind": "demand_growth", "origin": "b", "destination": "b",
                       "factor": 2}]
    with pytest.warns(InputWarning, match=r"changes\.0: this demand_growth matches no flow"):
        build(load_scenario(_write(tmp_path, doc)))


def test_growth_that_makes_a_flow_absurd_names_the_flow(tmp_path: Path) -> None:
    """Two factors within their bound (1000 each) grow a flow past 1e9 TEU/yr: the error
    named the second factor and said it should be <= 1e9, giving the flow's new TEU."""
    doc = _doc(tmp_path)   # one flow, a -> b
    doc["changes"] = [{"kind": "demand_growth", "factor": 1000}] * 2
    err = _error(_write(tmp_path, doc))
    assert err.field == "changes.1.factor", str(err)
    assert "keeps each flow it grows within 1e+09 TEU/yr (a -> b" in str(err), str(err)
    assert str(err).endswith("got 1000.0"), str(err)


@pytest.mark.parametrize("value, expected", [
    (float("nan"), "a finite number"), (float("inf"), "a finite number"),
    (["a", "b"], "one number, true/false or text"), ({"a": 1}, "one number"),
])
def test_a_set_value_says_what_it_may_be(tmp_path: Path, value: object, expected: str) -> None:
    """It said "expected a valid boolean" (the last type pydantic tried)."""
    doc = _doc(tmp_path)
    doc["changes"] = [{"kind": "set", "hub": "a", "field": "yard_teu", "value": value}]
    err = _error(_write(tmp_path, doc))
    assert err.field == "changes.0.value" and expected in str(err), str(err)


def test_a_path_is_blamed_on_the_file_whose_value_counts(tmp_path: Path) -> None:
    """A child's geodata or reference overriding its base's: the child and its value were
    named (the base and "a PurePosixPath" were)."""
    _write(tmp_path, _doc(tmp_path), "base.yaml")
    for section, key, value in (("network", "geodata", "nogeo"),
                                ("demand", "reference_scenario", "nope.yaml")):
        child = _write(tmp_path, {"name": "c", "extends": "base.yaml",
                                  section: {key: value}}, "child.yaml")
        err = _error(child)
        assert err.file.endswith("child.yaml") and err.field == f"{section}.{key}"
        assert f"got '{value}'" in str(err), str(err)


@pytest.mark.parametrize("growth, refused", [
    ({"dist": "triangular", "low": -150, "mode": -120, "high": -101}, True),
    ({"dist": "uniform", "low": -100, "high": 5}, True),               # -100: all of it
    ({"dist": "normal", "mean": 2, "sd": 30}, True),                   # its far tail
    ({"dist": "normal", "mean": 2, "sd": 30, "low": -99}, False),      # truncated
    ({"dist": "triangular", "low": -99.9, "mode": 0, "high": 5}, False),
    ({"dist": "lognormal", "median": 3, "sigma": 0.5}, False),
])
def test_a_growth_rate_stays_above_minus_100_percent(tmp_path: Path, growth: dict,
                                                     refused: bool) -> None:
    from sim.pathway import load_pathway
    from tests.support.market import write_market_scenario

    write_market_scenario(tmp_path)
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({"scenario": "market.yaml", "base_year": 2023, "to": 2024,
                                    "growth": {"eu": {**growth, "source": "test"}}}))
    if not refused:
        assert load_pathway(path)[0].growth["eu"].dist == growth["dist"]
        return
    with pytest.raises(InputError) as info:
        load_pathway(path)
    assert info.value.field == "growth.eu" and "above -100 %/yr" in info.value.expected


def test_a_change_the_gauge_change_does_not_read_says_so(tmp_path: Path) -> None:
    # baseline-2023 gives Alashankou a capacity in trains a day each way: a train then
    # holds a position servers x 24 / trains a day, whatever its set-up or handling rate
    base = ROOT / "scenarios" / "baseline-2023.yaml"
    child = {"extends": str(base), "name": "x", "changes": [
        {"kind": "scale", "hub": "alashankou", "field": "handling_setup_hours", "factor": 0.5},
        {"kind": "scale", "hub": "khorgos", "field": "outbound_trains_per_day", "factor": 1.2}]}
    with pytest.warns(InputWarning) as seen:
        build(load_scenario(_write(tmp_path, child)))
    inert = [str(w.message) for w in seen if "gauge change follows" in str(w.message)]
    assert len(inert) == 1, inert
    assert "handling_setup_hours of alashankou has no effect" in inert[0]
    assert "changes" in inert[0] and "outbound_trains_per_day" in inert[0]


def test_a_kind_change_that_leaves_fields_behind_names_them(tmp_path: Path) -> None:
    """A border set to a sea port keeps its gauge change: the message names the fields the
    new kind cannot have (it read "expected no such key (unknown field)")."""
    base = ROOT / "scenarios" / "baseline-2023.yaml"
    child = {"extends": str(base), "name": "x", "changes": [
        {"kind": "set", "hub": "alashankou", "field": "kind", "value": "sea_port"}]}
    err = _error(_write(tmp_path, child))
    assert err.field == "changes.0.value", str(err)
    assert "the row keeps the fields gauge_change" in err.expected and err.got == "sea_port"


@pytest.mark.parametrize("name", ["china-europe-frequency", "plan-2025", "plan-2035"])
def test_the_shipped_plans_change_the_border_fields_that_act(name: str) -> None:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        build(load_scenario(ROOT / "scenarios" / f"{name}.yaml"))
    assert not [w for w in seen if "gauge change follows" in str(w.message)]


@pytest.mark.parametrize(("text", "says"), [
    ("stop_hours: 1:30\n", "reads 1:30 as base 60 (90)"),
    ("stop_hours: 1:30.5\n", "reads 1:30.5 as base 60 (90.5)"),
    ("departures_per_week: 010\n", "reads 010 as octal (8)"),
    ("departures_per_week: -0_10\n", "as octal (-8)"),
])
def test_yaml_11_octal_and_base_60_numbers_are_refused(tmp_path: Path, text: str,
                                                       says: str) -> None:
    """YAML 1.1 read `1:30` as 90 and `010` as 8, and the run went on (probe, 2026-12-05);
    0, 0.5, 00.5, 10, 1e+03 and a quoted "1:30" read as written."""
    from sim.readers import parse_yaml

    with pytest.raises(InputError) as err:
        parse_yaml(tmp_path / "s.yaml", text)
    assert err.value.field.startswith("line 1 column")
    assert says in err.value.expected
    assert parse_yaml(tmp_path / "s.yaml", 'a: 0\nb: 0.5\nc: 10\nd: 1.0e+03\ne: "1:30"\n'
                      'f: 00.5\n') == {"a": 0, "b": 0.5, "c": 10, "d": 1000.0, "e": "1:30",
                                       "f": 0.5}


def test_an_input_error_names_a_file_absolute_and_an_option_as_typed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One home for how a message names a file: a Path reads absolute as it stands (a link
    as the link, not what it points to); text (an option such as --out, a name) as typed,
    whatever the working folder holds."""
    (tmp_path / "x.yaml").write_text("a: 1\n")
    (tmp_path / "link.yaml").symlink_to(tmp_path / "x.yaml")
    (tmp_path / "full").mkdir()
    monkeypatch.chdir(tmp_path)
    assert InputError(Path("x.yaml"), "a", "b").file == str(Path.cwd() / "x.yaml")
    assert InputError(Path("link.yaml"), "a", "b").file == str(Path.cwd() / "link.yaml")
    assert InputError(Path("gone.yaml"), "a", "b").file == str(Path.cwd() / "gone.yaml")
    assert InputError("full", "", "an empty folder").file == "full"
    assert InputError("--out", "", "an empty folder").file == "--out"


def test_an_input_error_crosses_a_process_whole() -> None:
    """Pickled by its parts, an InputError raised in a worker (a sweep's pool, Dask) reaches
    the parent as the same one-line error, and a null it quotes is still NULL; it was
    pickled by its message alone and could not be rebuilt (a broken pool)."""
    import pickle

    from sim.errors import NULL

    err = InputError(Path("/s/x.yaml"), "changes.0.value", "a number", NULL, via="v",
                     after="/s/y.yaml: changes.0")
    back = pickle.loads(pickle.dumps(err))
    assert isinstance(back, InputError) and str(back) == str(err)
    assert back.got is NULL and (back.via, back.after) == (err.via, err.after)


def test_a_float_that_is_not_finite_reads_as_yaml_writes_it() -> None:
    """`nan` and `inf` are text to YAML 1.1; `.nan`, `.inf` and `-.inf` are numbers (the
    exponent form raised StopIteration on a nan)."""
    from sim.errors import yaml_float

    for value, text in ((float("nan"), ".nan"), (float("inf"), ".inf"),
                        (float("-inf"), "-.inf")):
        assert yaml_float(value) == yaml_float(value, exponent=True) == text
        read = yaml.safe_load(text)
        assert isinstance(read, float) and (read == value or read != read)


def test_a_csv_row_is_numbered_by_the_line_it_starts_on(tmp_path: Path) -> None:
    """A quoted cell may span lines: the row is where it starts (line 2), not where it
    ends (3); the next row's line counts both."""
    from sim.readers import read_csv

    table = tmp_path / "t.csv"
    table.write_text('market,note,value\neu,"two\nlines",1\nus,x,2\n', encoding="utf-8")
    assert [line for line, _ in read_csv(table, ("market", "value"))] == [2, 4]


def test_a_missing_file_a_scenario_names_is_quoted_as_written_beside_it(tmp_path: Path) -> None:
    """The error names the scenario and its field, and the path as the scenario wrote it
    (relative to its folder), not the absolute path it resolved to."""
    child = tmp_path / "child.yaml"
    child.write_text("extends: bases/nope.yaml\nname: c\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_scenario(child)
    assert (err.value.field, str(err.value.got)) == ("extends", "bases/nope.yaml")
    assert str(err.value).endswith("got 'bases/nope.yaml'")


def test_a_comparison_admits_each_alternative_at_the_base_s_seed_and_horizon(
        tmp_path: Path) -> None:
    """Paired replications need one seed and horizon: an alternative that sets its own
    (30 days, seed 9) is admitted, and so run, at the base's (60 days, seed 1), and told so."""
    base = nb.line_network(tmp_path)
    alt = _write(tmp_path, {"name": "alt", "extends": base.name, "seed": 9,
                            "horizon": {"days": 30}}, "alt.yaml")
    with pytest.warns(InputWarning, match="not used: a comparison runs BASE's"):
        first, (other,) = admit_comparison(load_scenario(base), [load_scenario(alt)],
                                           replications=None, days=None, workers=1,
                                           limits=None)
    assert first.plan.horizon.days == 60 and first.plan.seed == 1
    assert other.plan.horizon.days == 60 and other.plan.seed == 1


def test_a_study_holds_in_memory_only_the_runs_it_runs_at_once() -> None:
    """`repeated`: 10 runs of 2 replications each, 350 MB apiece (150 MB of it the shared
    base), 2 at a time, 5 MB held for the study: 20 simulations; memory 150 + 5 + 2 x 200
    MB = 555 MB, not ten runs' worth."""
    from sim.boundary import repeated
    from sim.budget import BASE_MEMORY, Estimate

    assert BASE_MEMORY == 150e6
    total = repeated(Estimate(1000.0, 5000.0, 2, 350e6), copies=10, at_once=2, held=5e6)
    assert total.runs == 20
    assert total.memory_bytes == pytest.approx(555e6)
    assert (total.lots_per_replication, total.events_per_replication) == (1000.0, 5000.0)


def test_an_alternative_that_repeats_the_base_s_seed_is_not_told_it_is_unused(
        tmp_path: Path) -> None:
    """`_warn_base_settings` speaks of an alternative's own seed, replications or horizon
    only where they differ from the base's: one that writes the base's seed again runs it."""
    base = nb.line_network(tmp_path)
    alt = _write(tmp_path, {"name": "alt", "extends": base.name, "seed": 1}, "alt.yaml")
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputWarning)
        admit_comparison(load_scenario(base), [load_scenario(alt)], replications=None,
                         days=None, workers=1, limits=None)
