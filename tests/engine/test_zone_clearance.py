"""A zone takes a shortcut past handling and clearance when they would add nothing (no
closures, no dwell, nothing waiting): a kind built on `Zone` that overrides
`clearance_hours` must still have its hook called when its spec's dwell is 0 (review of the
zone shortcut), while a plain zone keeps the shortcut."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest

from sim.components import Kind, register, unregister
from sim.engine import Model
from sim.engine.hub import Zone
from sim.network import build
from sim.scenario import load_scenario
from sim.specs import ZoneSpec
from tests.support import netbuilder as nb

ZONE = {"kind": "zone", "handling_servers": 10_000, "handling_teu_per_hour": 1e6,
        "yard_teu": 1e8, "dwell_hours": 0.0}


class CheckedZoneSpec(ZoneSpec):
    """A zone whose shippers' lots are checked before they leave."""

    kind: Literal["checked_zone"]


class CheckedZone(Zone):
    """Counts its clearances and holds each job two hours."""

    def __init__(self, model: Model, spec: CheckedZoneSpec) -> None:
        super().__init__(model, spec)
        self.cleared = 0

    def clearance_hours(self, teu: float, owner: str) -> float:
        self.cleared += 1
        return super().clearance_hours(teu, owner) + 2.0


@pytest.fixture()
def checked_zone() -> Iterator[None]:
    register(Kind("checked_zone", "hubs", CheckedZoneSpec, CheckedZone))
    try:
        yield
    finally:
        unregister("checked_zone")


def test_a_zone_kind_with_its_own_clearance_is_cleared_at_dwell_0(
        checked_zone: None, tmp_path: Path) -> None:
    z = nb.hub("z", 0.0, **{**ZONE, "kind": "checked_zone"})
    a = nb.hub("a", 0.5, **ZONE)
    b = nb.hub("b", 1.0)
    nb.write_geodata(tmp_path / "geo", [z, a, b],
                     [nb.link("z-b", z, b), nb.link("a-b", a, b)])
    doc = nb.scenario(str(tmp_path / "geo"),
                      {"zb": nb.train(["z", "b"], per_week=14),
                       "ab": nb.train(["a", "b"], per_week=14)},
                      [nb.flow("z", "b", 5_000), nb.flow("a", "b", 5_000)],
                      horizon={"days": 40, "warmup_days": 0})
    model = Model(build(load_scenario(nb.write_scenario(tmp_path / "s.yaml", doc))), 0)
    model.run()
    zones = {part.spec.id: part for part in model.components if isinstance(part, Zone)}
    checked, plain = zones["z"], zones["a"]
    assert isinstance(checked, CheckedZone)
    # every job at the checked zone went through its hook, and so was held at a position
    assert checked.cleared == checked.stats.jobs > 0 and checked.stats.busy > 0
    # a plain zone at dwell 0 still takes the shortcut: its jobs take no handling time
    assert plain.stats.jobs > 0 and plain.stats.busy == 0.0
