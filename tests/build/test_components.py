"""The registry of component kinds: each row of a network table is validated as the spec
class of its kind, and a kind's runtime class is found through it."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Literal

import pytest
from pydantic import ValidationError

from sim.components import Kind, kind_of, kinds, register, unregister, validate_spec
from sim.engine.hub import Border, Hub
from sim.kpis import KPI, add_kpi, kpi, remove_kpi
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


@pytest.mark.parametrize("side", ["outbound_trains_per_day", "inbound_trains_per_day"])
def test_a_border_s_trains_a_day_need_a_gauge_change(side: str) -> None:
    """Trains a day are the capacity of a gauge change: on a border without one they would
    be read by nothing, so a border that gives them without gauge_change is refused."""
    with pytest.raises(ValidationError, match="directional capacities need gauge_change"):
        validate_spec("hubs", {**HUB, "kind": "border", side: 12})
    border = validate_spec("hubs", {**HUB, "kind": "border", "gauge_change": True, side: 12})
    assert isinstance(border, BorderSpec) and border.directional


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


RELOADED = '''
from typing import Literal

from sim.components import Kind, register
from sim.engine.hub import Hub
from sim.kpis import KPI, add_kpi
from sim.specs import HubSpec


class ReloadSpec(HubSpec):
    kind: Literal["reload_port"]


class ReloadPort(Hub):
    pass


register(Kind("reload_port", "hubs", ReloadSpec, ReloadPort))
add_kpi(KPI(name="reload_lots", unit="lots", per="year", of=lambda lots: len(lots)))
'''


def test_a_module_imported_again_registers_its_kind_and_kpi_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A notebook cell run twice, or `importlib.reload`, raised "a component kind named ...
    is already registered" (trial49 #7): the same classes of the same module now replace
    the entry (specs validate as the classes now defined); another class under the name is
    still refused."""
    (tmp_path / "reload_port.py").write_text(RELOADED)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        module = importlib.import_module("reload_port")
        first, first_kpi = module.ReloadSpec, kpi("reload_lots")
        module = importlib.reload(module)
        assert module.ReloadSpec is not first
        spec = validate_spec("hubs", {**HUB, "kind": "reload_port"})
        assert type(spec) is module.ReloadSpec and kind_of(spec).runtime is module.ReloadPort
        assert kpi("reload_lots") is not first_kpi
        assert [k.name for k in kinds("hubs")].count("reload_port") == 1

        class ReloadSpec(HubSpec):      # same name, another module: another kind
            kind: Literal["reload_port"]

        with pytest.raises(ValueError, match="already registered .by reload_port:ReloadSpec"):
            register(Kind("reload_port", "hubs", ReloadSpec, module.ReloadPort))
        with pytest.raises(ValueError, match="already declared"):
            add_kpi(KPI(name="reload_lots", unit="lots", per="year", of=lambda lots: 0.0))
    finally:
        unregister("reload_port")
        remove_kpi("reload_lots")
        sys.modules.pop("reload_port", None)


def test_register_refuses_a_taken_name_with_another_runtime() -> None:
    """The same spec class under a taken name is a re-import only when its runtime is the
    same too: "border" with a terminal's runtime would run every border as a plain hub."""
    from sim.components import REGISTRY

    border = REGISTRY["border"]
    with pytest.raises(ValueError, match="'border' is already registered"):
        register(Kind("border", "hubs", border.spec, "sim.engine.hub:Hub"))
    assert REGISTRY["border"] is border
