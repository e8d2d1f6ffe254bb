"""Scenario files: schema, extends, overrides and changes, with errors that name the field."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.errors import InputError, InputWarning
from sim.network import build
from sim.scenario import load_scenario, with_overrides
from tests.support import netbuilder as nb


def _doc(tmp_path: Path) -> dict:
    path = nb.line_network(tmp_path)
    return yaml.safe_load(path.read_text())


def _write(tmp_path: Path, doc: dict, name: str = "s.yaml") -> Path:
    return nb.write_scenario(tmp_path / name, doc)


def _error(path: Path) -> InputError:
    with pytest.raises(InputError) as info:
        build(load_scenario(path))
    return info.value


def test_unknown_key_is_rejected_with_its_path(tmp_path: Path) -> None:
    doc = _doc(tmp_path)
    doc["network"]["services"]["ab"]["departures_per_wek"] = 3
    err = _error(_write(tmp_path, doc))
    assert err.field == "network.services.ab.departures_per_wek"
    assert "unknown" in err.expected
    assert err.file.endswith("s.yaml")


def test_negative_capacity_and_wrong_type(tmp_path: Path) -> None:
    doc = _doc(tmp_path)
    doc["network"]["services"]["ab"]["vehicle_teu"] = -5
    assert _error(_write(tmp_path, doc)).field == "network.services.ab.vehicle_teu"
    doc = _doc(tmp_path)
    doc["horizon"]["days"] = "a year"
    err = _error(_write(tmp_path, doc))
    assert err.field == "horizon.days" and err.got == "a year"


def test_unknown_hub_and_missing_route(tmp_path: Path) -> None:
    doc = _doc(tmp_path)
    doc["demand"]["flows"][0]["destination"] = "atlantis"
    assert _error(_write(tmp_path, doc)).field == "demand.flows.0.destination"
    # a third hub no service calls at: the pair has no route
    doc = _doc(tmp_path)
    a, b, c = nb.hub("a", 0), nb.hub("b", 1), nb.hub("c", 2)
    nb.write_geodata(tmp_path / "geo", [a, b, c], [nb.link("a-b", a, b)])
    doc["demand"]["flows"].append(nb.flow("a", "c", 100))
    from sim.routing import choice_sets
    with pytest.raises(InputError) as info:
        choice_sets(build(load_scenario(_write(tmp_path, doc))))
    assert info.value.field == "demand.flows.1"


def test_extends_merges_and_appends_changes(tmp_path: Path) -> None:
    doc = _doc(tmp_path)
    doc["changes"] = [{"kind": "scale", "service": "ab", "field": "vehicle_teu", "factor": 2}]
    _write(tmp_path, doc, "base.yaml")
    child = {"extends": "base.yaml", "name": "child", "seed": 9,
             "changes": [{"kind": "set", "service": "ab", "field": "departures_per_week",
                          "value": 14}]}
    scenario = load_scenario(_write(tmp_path, child, "child.yaml"))
    assert scenario.name == "child" and scenario.seed == 9
    assert scenario.demand.lot_teu == doc["demand"]["lot_teu"]
    assert [c.kind for c in scenario.changes] == ["scale", "set"]
    spec = build(scenario).network.lines[0].spec
    assert spec.vehicle_teu == 200 and spec.departures_per_week == 14


@pytest.mark.parametrize("change, field, expected", [
    ({"kind": "set", "service": "ab", "feild": "departures_per_week", "value": 14},
     "changes.0.feild", "no such key (unknown field; did you mean 'field'?)"),
    ({"kind": "scale", "hub": "a", "field": "handling_servers", "facter": 1.5},
     "changes.0.facter", "no such key (unknown field; did you mean 'factor'?)"),
    ({"kind": "set", "service": "ab", "field": "departures_per_week", "valeu": 14},
     "changes.0.valeu", "no such key (unknown field; did you mean 'value'?)"),
    ({"kind": "scale", "sevice": "ab", "field": "departures_per_week", "factor": 1.5},
     "changes.0.sevice", "no such key (unknown field; did you mean 'service'?)"),
    ({"kind": "scale", "hub": "a", "field": "handling_servers", "factor": 1.5, "wy": "x"},
     "changes.0.wy", "no such key (unknown field; did you mean 'why'?)"),
    ({"kind": "scale", "hub": "a", "feild": "handling_servers", "facter": 1.5},
     "changes.0.feild", "no such key (unknown field; did you mean 'field'?) (1 more problem "
                        "after this one)"),
    # a field missing besides the misspelt one: both said at once
    ({"kind": "scale", "hub": "a", "feild": "handling_servers"},
     "changes.0", "the missing fields field, factor (feild: unknown field; did you mean "
                  "'field'?)"),
    # an unknown key close to no missing field: the missing ones, as before
    ({"kind": "scale", "hub": "a", "xyz": 1},
     "changes.0", "the missing fields field, factor (1 more problem after this one)"),
])
def test_a_misspelt_key_of_a_change_is_named(tmp_path: Path, change: dict, field: str,
                                             expected: str) -> None:
    """A misspelt required key of a change read "changes.0: expected the missing field field
    (1 more problem after this one)", never naming the key typed, and an unknown key of a
    change got no "did you mean" (horizon.dayz did; trial64 #6)."""
    doc = _doc(tmp_path)
    doc["changes"] = [change]
    err = _error(_write(tmp_path, doc))
    assert (err.field, err.expected) == (field, expected)
    assert err.file.endswith("s.yaml")


def test_extends_cycle_is_an_input_error(tmp_path: Path) -> None:
    _write(tmp_path, {"extends": "b.yaml", "name": "a"}, "a.yaml")
    _write(tmp_path, {"extends": "a.yaml", "name": "b"}, "b.yaml")
    with pytest.raises(InputError) as info:
        load_scenario(tmp_path / "a.yaml")
    assert info.value.field == "extends" and "cycle" in info.value.expected


def test_error_names_the_file_that_set_the_field(tmp_path: Path) -> None:
    doc = _doc(tmp_path)
    _write(tmp_path, doc, "base.yaml")
    child = {"extends": "base.yaml", "horizon": {"days": -1}}
    with pytest.raises(InputError) as info:
        load_scenario(_write(tmp_path, child, "child.yaml"))
    assert info.value.file.endswith("child.yaml") and info.value.field == "horizon.days"


def test_with_overrides_dotted_paths(tmp_path: Path) -> None:
    scenario = load_scenario(nb.line_network(tmp_path))
    changed = with_overrides(scenario, **{"network.services.ab.departures_per_week": 21,
                                          "horizon.days": 10})
    assert changed.network.services["ab"].departures_per_week == 21
    assert changed.horizon.days == 10 and scenario.horizon.days == 60
    with pytest.raises(InputError):
        with_overrides(scenario, **{"network.services.zz.departures_per_week": 1})
    with pytest.raises(InputError):
        with_overrides(scenario, **{"network.services.ab.departures_per_week": -1})


def test_a_misspelt_override_path_gets_the_key_it_is_close_to(tmp_path: Path) -> None:
    """The same typo in a scenario file was given a "did you mean"; in Python it was not."""
    scenario = load_scenario(nb.line_network(tmp_path))
    for dotted, meant in (("network.services.abb.departures_per_week", "ab"),
                          ("network.services.ab.departures_per_wk", "departures_per_week"),
                          ("horizon.dayz", "days")):
        with pytest.raises(InputError, match=rf": {dotted}: expected an existing scenario "
                                             rf"field \(did you mean '{meant}'\?\)$"):
            with_overrides(scenario, **{dotted: 1})
    with pytest.raises(InputError, match=r"expected an existing scenario field$"):
        with_overrides(scenario, **{"network.services.zz.departures_per_week": 1})


def test_with_overrides_records_the_values_as_validated(tmp_path: Path) -> None:
    """A NumPy number (a sweep's grid, a notebook's arange) is recorded as the field holds
    it: the raw value made the next JSON dump, and the next `with_overrides`, fail."""
    scenario = load_scenario(nb.line_network(tmp_path))
    changed = with_overrides(scenario, **{"network.services.ab.departures_per_week":
                                          np.int64(14)})
    again = with_overrides(changed, **{"horizon.days": np.float64(10)})
    assert again.model_dump(mode="json")["provenance"]["overrides"] == {
        "network.services.ab.departures_per_week": 14, "horizon.days": 10}
    assert type(again.provenance.overrides["horizon.days"]) is type(
        again.model_dump(mode="json")["horizon"]["days"])


def test_changes_set_scale_disruption_growth(tmp_path: Path) -> None:
    doc = _doc(tmp_path)
    doc["changes"] = [
        {"kind": "scale", "hub": "a", "field": "handling_servers", "factor": 2.4},
        {"kind": "set", "link": "a-b", "field": "hours", "value": 5},
        {"kind": "disruption", "hub": "b", "start_day": 10, "end_day": 20,
         "capacity_factor": 0.0},
        {"kind": "demand_growth", "factor": 1.5, "origin": "a"},
    ]
    with pytest.warns(InputWarning, match=r"2 x 2.4 = 4.8, rounded to 5"):  # says so
        plan = build(load_scenario(_write(tmp_path, doc)))
    assert plan.network.hubs["a"].handling_servers == 5
    assert plan.network.links["a-b"].hours == 5
    assert plan.network.windows("hub", "b") == ((240.0, 480.0, 0.0),)
    assert plan.flows[0].teu_per_year == pytest.approx(30_000)


def test_another_kinds_capacity_field_names_this_kinds(tmp_path: Path) -> None:
    """departures_per_week on a truck line (a continuous service) is refused with the field
    that sets its capacity, capacity_teu_per_day; an unrelated field only names the kind."""
    doc = _doc(tmp_path)
    doc["network"]["services"]["truck"] = {
        "corridor": "west", "mode": "road", "stops": ["a", "b"], "schedule": "continuous",
        "capacity_teu_per_day": 50, "price_cny_per_teu": 2000, "source": "test"}
    doc["changes"] = [{"kind": "set", "service": "truck", "field": "departures_per_week",
                       "value": 50}]
    err = _error(_write(tmp_path, doc))
    assert err.field == "changes.0.field"
    assert "(a continuous service: departures_per_week is a scheduled service's; this one's " \
           "capacity is capacity_teu_per_day)" in err.expected
    doc["changes"][0]["field"] = "vehicle_teu"
    err = _error(_write(tmp_path, doc))
    assert "(a continuous service): one of" in err.expected


def test_a_factor_that_reads_as_a_percentage_is_warned_of(tmp_path: Path) -> None:
    """20 meant as +20% is valid and multiplies by 20: the file and change are named, with the
    factor +20% would be; 4.9 (below `PLAUSIBLE_FACTOR`) is not warned of."""
    import warnings

    doc = _doc(tmp_path)
    doc["changes"] = [{"kind": "demand_growth", "factor": 4.9, "origin": "a"},
                      {"kind": "demand_growth", "factor": 20, "origin": "a"},
                      {"kind": "scale", "link": "a-b", "field": "hours", "factor": 5}]
    path = _write(tmp_path, doc)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        load_scenario(path)
    said = [str(w.message) for w in seen if issubclass(w.category, InputWarning)]
    assert said == [
        f"{path}: changes.1.factor: demand_growth multiplies the matching flows' TEU/yr by 20 "
        "(+1,900%); the factor is a multiplier, not a percentage: +20% is 1.2",
        f"{path}: changes.2.factor: scale multiplies hours of link a-b by 5 (+400%); the "
        "factor is a multiplier, not a percentage: +5% is 1.05"]


@pytest.mark.parametrize("change, field", [
    ({"kind": "scale", "hub": "nope", "field": "yard_teu", "factor": 2}, "changes.0.hub"),
    ({"kind": "set", "service": "ab", "field": "colour", "value": 1}, "changes.0.field"),
    ({"kind": "set", "hub": "a", "field": "yard_teu", "value": -3}, "changes.0.value"),
    # a scale change has no value: its factor is named (it named changes.0.value)
    ({"kind": "scale", "service": "ab", "field": "departures_per_week", "factor": 1e4},
     "changes.0.factor"),
    ({"kind": "disruption", "hub": "a", "start_day": 5, "end_day": 2,
      "capacity_factor": 0.5}, "changes.0.end_day"),
])
def test_bad_changes_name_their_field(tmp_path: Path, change: dict, field: str) -> None:
    doc = _doc(tmp_path)
    doc["changes"] = [change]
    assert _error(_write(tmp_path, doc)).field == field


def test_a_growth_of_zero_is_refused_by_the_schema_as_documented(tmp_path: Path) -> None:
    """docs/scenarios.md: a demand_growth factor above 0, up to 1,000; 0 is refused at the
    change's own field (the schema took it, the flows' check then refused the zero flows)."""
    doc = _doc(tmp_path)
    doc["changes"] = [{"kind": "demand_growth", "factor": 0}]
    with pytest.raises(InputError) as info:
        load_scenario(_write(tmp_path, doc))
    assert info.value.field == "changes.0.factor"
    assert info.value.expected.startswith("a number > 0")
    doc["changes"] = [{"kind": "demand_growth", "factor": 1e-3}]
    assert load_scenario(_write(tmp_path, doc)).changes[0].factor == 1e-3


def test_a_window_ending_before_it_starts_says_what_and_got(tmp_path: Path) -> None:
    """An end before its start names the end_day and its value, like every other message
    ("changes.0: expected end_day must be after start_day" read garbled: audit, 2026-12-05);
    a dated outage's window says the same."""
    from pydantic import ValidationError

    from sim.specs import ScheduledOutage, expected

    doc = _doc(tmp_path)
    doc["changes"] = [{"kind": "disruption", "hub": "a", "start_day": 150, "end_day": 120,
                       "capacity_factor": 0.5}]
    err = _error(_write(tmp_path, doc))
    assert str(err).endswith("s.yaml: changes.0.end_day: expected a day after start_day "
                             "(150), got 120.0")
    with pytest.raises(ValidationError) as info:
        ScheduledOutage(start_day=5, end_day=5, source="t")
    assert expected(info.value.errors()[0]) == "a day after start_day (5)"


def test_baseline_scenario_builds() -> None:
    from tests.support.paths import ROOT
    plan = build(load_scenario(ROOT / "scenarios" / "baseline.yaml"))
    corridors = {line.spec.corridor for line in plan.network.lines}
    assert {"east", "west", "south", "north", "air"} <= corridors


def test_a_change_the_whole_row_refuses_quotes_the_value_written(tmp_path: Path) -> None:
    """`set lock_at` on a link without a lock is refused by the link's own check, whose input
    is the whole row: the message quoted "a mapping of 12 keys", not the 0.5 the user wrote
    (probe, 2026-12-05)."""
    path = nb.line_network(tmp_path, changes=[{"kind": "set", "link": "a-b",
                                               "field": "lock_at", "value": 0.5}])
    with pytest.raises(InputError) as err:
        build(load_scenario(path))
    assert err.value.field == "changes.0.value" and err.value.got == 0.5
    assert err.value.expected.startswith("lock_at only with lock")


def test_a_dangling_locks_layer_is_named_not_taken_for_none(tmp_path: Path) -> None:
    """A locks.geojson that is a dangling link was read as no locks layer, and the error
    blamed a link's lock instead (probe, 2026-12-05)."""
    path = nb.line_network(tmp_path)
    (tmp_path / "geo" / "locks.geojson").symlink_to(tmp_path / "geo" / "gone.geojson")
    with pytest.raises(InputError) as err:
        build(load_scenario(path))
    assert "locks.geojson" in str(err.value)


@pytest.mark.parametrize("hours", [1e-310, 5e-7])
def test_a_wait_grid_near_zero_is_refused_and_zero_is_waits_as_read(tmp_path: Path,
                                                                     hours: float) -> None:
    """routing.wait_resolution_hours of 1e-310 made every rounded wait infinite: the run
    failed with a traceback (final read 42, L2). Below 1e-6 h it is refused; 0 reads the
    waits as they are."""
    doc = _doc(tmp_path)
    doc["routing"] = {"wait_resolution_hours": hours}
    err = _error(_write(tmp_path, doc))
    assert err.field == "routing.wait_resolution_hours" and "0 (waits as read)" in err.expected
    doc["routing"] = {"wait_resolution_hours": 0}
    assert build(load_scenario(_write(tmp_path, doc))).routing.wait_resolution_hours == 0


def test_an_extends_chain_of_max_files_loads_and_one_more_is_refused(tmp_path: Path) -> None:
    """MAX_EXTENDS is the most files a chain may have: the bad-input corpus only tries 41."""
    from sim.scenario import MAX_EXTENDS

    _write(tmp_path, _doc(tmp_path), "f00.yaml")
    for k in range(1, MAX_EXTENDS + 1):   # f01 extends f00 ... f16 extends f15
        _write(tmp_path, {"extends": f"f{k - 1:02d}.yaml", "name": f"f{k:02d}"},
               f"f{k:02d}.yaml")
    # f15 -> ... -> f00 is 16 files: the limit, allowed
    assert load_scenario(tmp_path / f"f{MAX_EXTENDS - 1:02d}.yaml").name == \
        f"f{MAX_EXTENDS - 1:02d}"
    with pytest.raises(InputError) as info:   # f16 -> ... -> f00 is 17 files
        load_scenario(tmp_path / f"f{MAX_EXTENDS:02d}.yaml")
    assert info.value.field == "extends" and f"at most {MAX_EXTENDS} files" in \
        info.value.expected


def test_demand_growth_of_one_class_leaves_the_other_classes_flows(tmp_path: Path) -> None:
    """A growth filtered by commodity grows only that class: no test had two classes on one
    pair, so a filter that ignored the commodity grew every flow."""
    doc = _doc(tmp_path)
    doc["demand"]["classes"]["reefer"] = {"value_cny_per_teu": 200_000,
                                          "value_of_time_cny_per_teu_hour": 20,
                                          "source": "test"}
    doc["demand"]["flows"].append(nb.flow("a", "b", 1_000, commodity="reefer"))
    doc["changes"] = [{"kind": "demand_growth", "factor": 2, "commodity": "reefer"}]
    plan = build(load_scenario(_write(tmp_path, doc)))
    teu = {f.commodity: f.teu_per_year for f in plan.flows}
    assert teu == {"general": pytest.approx(20_000), "reefer": pytest.approx(2_000)}


def test_a_class_with_a_value_needs_a_value_of_time(tmp_path: Path) -> None:
    """A class worth something with an inventory cost of 0 had a value of time of 0 at every
    `vot_position` short of 1 and the revealed time cost at 1 (the geometric mean from 0:
    review60 #7); refused, naming the field. Empty boxes (worth 0) keep 0."""
    doc = _doc(tmp_path)
    doc["demand"]["classes"]["reefer"] = {"value_cny_per_teu": 200_000,
                                          "value_of_time_cny_per_teu_hour": 0,
                                          "source": "test"}
    err = _error(_write(tmp_path, doc))
    assert err.field == "demand.classes.reefer.value_of_time_cny_per_teu_hour"
    assert "greater than 0" in err.expected and "empty boxes" in err.expected
    doc["demand"]["classes"]["reefer"]["value_cny_per_teu"] = 0
    assert load_scenario(_write(tmp_path, doc)).demand.classes["reefer"] \
        .value_of_time_cny_per_teu_hour == 0


def test_add_hub_with_an_id_the_geodata_has_is_refused(tmp_path: Path) -> None:
    """An added hub whose id is taken would silently replace the geodata's hub (its
    handling, yard, place) instead of adding one; set or scale change a hub."""
    doc = _doc(tmp_path)
    taken = nb.hub("a", 0.0, handling_servers=9)
    doc["changes"] = [{"kind": "add_hub", "hub": {**taken["properties"], "lon": 0.0,
                                                  "lat": 30.0}}]
    err = _error(_write(tmp_path, doc))
    assert err.field == "changes.0.hub.id" and err.got == "a"
    assert err.expected == "a new hub id" and err.file.endswith("s.yaml")


def test_a_scale_factor_above_ten_thousand_is_refused_by_the_schema(tmp_path: Path) -> None:
    """A scale factor is at most 1e4 on loading, whatever field it scales (a field with a wide
    bound of its own, a price up to ABSURD, would take a typo of 1e6 unless the schema does)."""
    doc = _doc(tmp_path)
    doc["changes"] = [{"kind": "scale", "service": "ab", "field": "price_cny_per_teu",
                       "factor": 1.5e4}]
    with pytest.raises(InputError) as info:
        load_scenario(_write(tmp_path, doc))
    assert info.value.field == "changes.0.factor" and info.value.got == 1.5e4
    doc["changes"][0]["factor"] = 1e4
    with pytest.warns(InputWarning, match=r"by 10000 \(\+999,900%\)"):   # loads, and says so
        assert load_scenario(_write(tmp_path, doc)).changes[0].factor == 1e4


def test_a_set_change_of_an_id_is_refused(tmp_path: Path) -> None:
    """`id` is no attribute a change may set: the row stays keyed by its old id while its
    spec says another (the hub table and every stop naming it would disagree)."""
    doc = _doc(tmp_path)
    doc["changes"] = [{"kind": "set", "hub": "a", "field": "id", "value": "z"}]
    err = _error(_write(tmp_path, doc))
    assert err.field == "changes.0.field" and err.got == "id"
    assert err.expected.startswith("an attribute of hub a")


def test_add_flow_of_a_new_class_on_a_pair_already_in_the_table(tmp_path: Path) -> None:
    """A row is one origin, destination and commodity: a second class on a pair is a new row
    (only the corpus's exact duplicate was tried, so a check of the pair alone passed)."""
    doc = _doc(tmp_path)
    doc["demand"]["classes"]["reefer"] = {"value_cny_per_teu": 200_000,
                                          "value_of_time_cny_per_teu_hour": 20,
                                          "source": "test"}
    doc["changes"] = [{"kind": "add_flow", "flow": nb.flow("a", "b", 500, "reefer")}]
    plan = build(load_scenario(_write(tmp_path, doc)))
    assert [(f.commodity, f.teu_per_year) for f in plan.flows] == [
        ("general", 20_000), ("reefer", 500)]


def test_removing_the_last_service_is_refused_at_the_change(tmp_path: Path) -> None:
    """A scenario with no service left cannot move a box: said at the change that withdrew it."""
    doc = _doc(tmp_path)
    doc["changes"] = [{"kind": "remove_service", "service": "ab"}]
    err = _error(_write(tmp_path, doc))
    assert err.field == "changes.0" and err.expected == "at least one service left running"


def test_a_link_vertex_a_few_km_off_its_hub_is_refused(tmp_path: Path) -> None:
    """A link's end vertex must lie within 0.01 degrees (about 1 km) of its hub: 0.05 degrees
    (about 5 km, a link drawn to the wrong terminal) is refused, naming the link's coords."""
    a, b = nb.hub("a", 0.0), nb.hub("b", 1.0)
    off = nb.link("a-b", a, b)
    off["geometry"]["coordinates"][0] = [0.05, 30.0]
    doc = _doc(tmp_path)   # line_network wrote geo/ first; rewritten with the off vertex
    nb.write_geodata(tmp_path / "geo", [a, b], [off])
    err = _error(_write(tmp_path, doc))
    assert err.file.endswith("links.geojson") and err.field == "features[a-b].coords"
    assert err.got == (0.05, 30.0)
    off["geometry"]["coordinates"][0] = [0.009, 30.0]   # within the tolerance: builds
    nb.write_geodata(tmp_path / "geo", [a, b], [off])
    assert build(load_scenario(_write(tmp_path, doc))).network.links["a-b"].coords[0] == \
        (0.009, 30.0)


def test_two_geodata_hubs_of_one_id_are_refused_at_the_second(tmp_path: Path) -> None:
    """A second hub `b` would silently replace the first (its place, its handling); only a slow
    test of the bad-input corpus tried it."""
    doc = _doc(tmp_path)
    a, b = nb.hub("a", 0.0), nb.hub("b", 1.0)
    nb.write_geodata(tmp_path / "geo", [a, b, nb.hub("b", 1.0, handling_servers=9)],
                     [nb.link("a-b", a, b)])
    err = _error(_write(tmp_path, doc))
    assert err.file.endswith("hubs.geojson") and err.field == "features[b].id"
    assert err.expected == "a unique hub id" and err.got == "b"


def test_more_minimum_than_maximum_feedback_passes_is_refused(tmp_path: Path) -> None:
    """min_iterations above max_iterations cannot both hold: refused at the section, saying
    both numbers, not run as whichever the loop reads first."""
    doc = _doc(tmp_path)
    doc["equilibrium"] = {"min_iterations": 3, "max_iterations": 2}
    with pytest.raises(InputError) as info:
        load_scenario(_write(tmp_path, doc))
    assert info.value.field == "equilibrium"
    assert "min_iterations (3) at most max_iterations (2)" in info.value.expected
    doc["equilibrium"] = {"min_iterations": 2, "max_iterations": 2}
    assert load_scenario(_write(tmp_path, doc)).equilibrium.min_iterations == 2


def test_scaling_a_true_false_attribute_is_refused_at_its_field(tmp_path: Path) -> None:
    """True is an int to Python: scaling `bidirectional` is named as no numeric attribute
    (else 2 x True was refused at the factor, and 1 x True went through as a change)."""
    doc = _doc(tmp_path)
    doc["changes"] = [{"kind": "scale", "service": "ab", "field": "bidirectional",
                       "factor": 2}]
    err = _error(_write(tmp_path, doc))
    assert err.field == "changes.0.field" and err.got == "bidirectional"
    assert err.expected == "a numeric attribute to scale"


def test_an_override_inside_another_override_s_field_is_refused(tmp_path: Path) -> None:
    """`horizon` and `horizon.days` set one field twice, whichever order: the value run would
    be the later one, not the one recorded for the other."""
    scenario = load_scenario(nb.line_network(tmp_path))
    whole = {"days": 30, "warmup_days": 0}
    for fields, clash in (({"horizon": whole, "horizon.days": 10}, ("horizon", "horizon.days")),
                          ({"horizon.days": 10, "horizon": whole}, ("horizon.days", "horizon"))):
        with pytest.raises(InputError) as info:
            with_overrides(scenario, **fields)
        assert info.value.field == clash[1]
        assert info.value.expected == f"a field no other override sets ({clash[0]} sets it too)"


def test_an_override_of_a_row_past_the_end_of_a_list_is_an_input_error(
        tmp_path: Path) -> None:
    """demand.flows has one row: an override of row 5 (or of a field of it) is no field of the
    scenario, said as one (an IndexError's traceback otherwise)."""
    scenario = load_scenario(nb.line_network(tmp_path))
    for dotted in ("demand.flows.5.teu_per_year", "demand.flows.5"):
        with pytest.raises(InputError) as info:
            with_overrides(scenario, **{dotted: 1})
        assert info.value.field == dotted
        assert info.value.expected == "an existing scenario field"
