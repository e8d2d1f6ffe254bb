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
