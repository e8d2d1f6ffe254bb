"""Links at run time: the freight each direction of a link carried, and the capacity offered
on it (by the departures of scheduled lines, and the rate of continuous ones)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

from mypy_extensions import mypyc_attr

from sim.engine.component import Component, Row
from sim.kpis import TEXT, Table, col
from sim.network import DIRECTIONS
from sim.specs import LinkSpec

if TYPE_CHECKING:
    from sim.engine.model import Model

LINKS = Table("links", ("link", "direction"), (
    col("link", TEXT, label="link id: a stretch of infrastructure between two hubs"),
    col("direction", TEXT, label="down (from the link's first hub to its last) or up"),
    col("from_hub", TEXT, label="hub this direction leaves"),
    col("to_hub", TEXT, label="hub this direction reaches"),
    col("mode", TEXT, label="transport mode (rail, road, river, sea, air)"),
    col("corridor", TEXT, label="corridor of the link"),
    col("km", "km", fixed=True, label="length of the link"),
    col("teu", "TEU", "year", "TEU carried over the link in this direction"),
    col("vehicles", "vehicles", "year", "vehicles that crossed it (trains, trucks, vessels, "
                                        "aircraft)"),
    col("capacity_teu", "TEU", "year", "TEU of capacity the services offered over it"),
    col("utilization", "share", label="TEU carried / TEU of capacity offered; empty where "
                                      "none was offered"),
    col("teu_km", "TEU-km", "year", "TEU carried x the link's km"),
    col("co2_t", "t", "year", "CO2e of the freight carried over it: tonnes x km x the mode's "
                              "emission factor")))


class HopStats:
    """Freight over one stretch of infrastructure in one direction."""

    __slots__ = ("teu", "tonnes", "vehicles", "capacity")

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Zero every counter (in place: lines hold references to this object)."""
        self.teu = 0.0
        self.tonnes = 0.0
        self.vehicles = 0
        self.capacity = 0.0    # TEU of capacity offered by departures (scheduled lines)


class OffersCapacity(Protocol):
    """A line whose capacity on a link is a rate rather than a count of departures."""

    def offered_teu(self, period: float) -> float: ...


@mypyc_attr(allow_interpreted_subclasses=True)
class Link(Component):
    """A link's two directions: what crossed them and what could have."""

    tables = (LINKS,)

    def __init__(self, model: Model, spec: LinkSpec) -> None:
        super().__init__(model)
        self.spec = spec
        self.stats = {d: HopStats() for d in DIRECTIONS}
        self._rates: dict[str, list[OffersCapacity]] = {d: [] for d in DIRECTIONS}

    def offer(self, direction: str, line: OffersCapacity) -> None:
        """`line` offers capacity on this link in `direction` at a rate (continuous lines)."""
        self._rates[direction].append(line)

    def reset_stats(self) -> None:
        for stats in self.stats.values():
            stats.reset()

    def rows(self, period: float, end: float) -> Iterator[tuple[str, Row]]:
        link = self.spec
        ef = self.model.plan.network.emission_factors[link.mode].g_per_tkm
        for direction in DIRECTIONS:
            s = self.stats[direction]
            capacity = s.capacity
            for line in self._rates[direction]:
                capacity += line.offered_teu(period)
            yield "links", {
                "link": link.id, "direction": direction,
                "from_hub": link.from_hub if direction == "down" else link.to_hub,
                "to_hub": link.to_hub if direction == "down" else link.from_hub,
                "mode": link.mode, "corridor": link.corridor, "km": link.km,
                "teu": s.teu, "vehicles": s.vehicles, "capacity_teu": capacity,
                "utilization": s.teu / capacity if capacity else math.nan,
                "teu_km": s.teu * link.km, "co2_t": s.tonnes * link.km * ef / 1e6}
