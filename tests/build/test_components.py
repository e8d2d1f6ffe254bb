"""The registry of component kinds: each row of a network table is validated as the spec
class of its kind, and a kind's runtime class is found through it."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import ValidationError

from sim.components import Kind, kind_of, kinds, register, unregister, validate_spec
from sim.engine.hub import Border, Hub
from sim.specs import BorderSpec, ContinuousService, HubSpec, ScheduledService, TerminalSpec

HUB = {"id": "x", "name": "x", "country": "CN", "lon": 0.0, "lat": 0.0,
       "handling_servers": 1, "handling_teu_per_hour": 10.0, "yard_teu": 100.0,
       "sources": "test"}
SERVICE = {"corridor": "west", "mode": "rail", "stops": ["a", "b"], "price_cny_per_teu": 1.0,
           "source": "test"}


def test_rows_are_validated_as_the_class_of_their_kind() -> None:
    assert type(validate_spec("hubs", {**HUB, "kind": "river_port"})) is TerminalSpec
    border = validate_spec("hubs", {**HUB, "kind": "border", "gauge_change": True})
    assert type(border) is BorderSpec and not border.transfers
    assert kind_of(border).runtime_class() is Border
    assert kind_of(validate_spec("hubs", {**HUB, "kind": "airport"})).runtime_class() is Hub
    # a service without `schedule` is scheduled; each schedule has its own required fields
    scheduled = validate_spec("services", {**SERVICE, "departures_per_week": 7,
                                           "vehicle_teu": 50})
    assert isinstance(scheduled, ScheduledService) and scheduled.headway_hours == 24.0
    continuous = validate_spec("services", {**SERVICE, "schedule": "continuous",
                                            "capacity_teu_per_day": 100})
    assert isinstance(continuous, ContinuousService)
    with pytest.raises(ValidationError, match="vehicle_teu"):
        validate_spec("services", {**SERVICE, "departures_per_week": 7})


def test_a_field_of_another_kind_is_rejected() -> None:
    with pytest.raises(ValidationError, match="gauge_change"):
        validate_spec("hubs", {**HUB, "kind": "rail_terminal", "gauge_change": True})


def test_an_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="'rail_terminal'.*'border'"):
        validate_spec("hubs", {**HUB, "kind": "spaceport"})


def test_register_refuses_a_taken_name_or_value() -> None:
    class Another(HubSpec):
        kind: Literal["border"]

    with pytest.raises(ValueError, match="already"):
        register(Kind("border", "hubs", Another, Hub))
    with pytest.raises(ValueError, match="already select"):
        register(Kind("another", "hubs", Another, Hub))


def test_a_new_kind_is_known_everywhere_once_registered() -> None:
    class ColdStoreSpec(HubSpec):
        kind: Literal["cold_store"]

    register(Kind("cold_store", "hubs", ColdStoreSpec, Hub))
    try:
        spec = validate_spec("hubs", {**HUB, "kind": "cold_store"})
        assert type(spec) is ColdStoreSpec and kind_of(spec).name == "cold_store"
        assert "cold_store" in {k.name for k in kinds("hubs")}
    finally:
        unregister("cold_store")
    with pytest.raises(ValueError):
        validate_spec("hubs", {**HUB, "kind": "cold_store"})
