"""Freight on the move: lots (many TEU travelling together) and the vehicles carrying them."""

from __future__ import annotations

from typing import Any


class Path:
    """What the engine reads of a route (`sim.routing.Route`) at each step of a lot: its index
    and, per leg, the line ridden, the boarding and the alighting stop. Compiled, these are
    attributes of a native object, where each read of a `Route` or `Leg` attribute is a
    Python lookup (about 200 instructions)."""

    __slots__ = ("index", "lines", "boards", "alights")

    def __init__(self, route: Any) -> None:
        self.index: int = route.index
        self.lines: list[int] = [leg.line for leg in route.legs]
        self.boards: list[int] = [leg.board for leg in route.legs]
        self.alights: list[int] = [leg.alight for leg in route.legs]


class Lot:
    """Many TEU of one flow on one route; splits when a vehicle fills."""

    __slots__ = ("id", "flow", "path", "teu", "tonnes_per_teu", "created", "leg", "ready",
                 "wait", "alight", "boarded", "foreseen")

    def __init__(self, ident: int, flow: int, path: Path, teu: float, tonnes_per_teu: float,
                 created: float) -> None:
        self.id = ident
        self.flow = flow
        self.path = path            # its route
        self.teu = teu
        self.tonnes_per_teu = tonnes_per_teu
        self.created = created
        self.leg = 0                # index of the next leg to ride
        self.ready = created        # when the lot became ready to board (for waits)
        self.wait = 0.0             # hours spent waiting (queues, yards, boarding)
        self.alight = -1            # stop index where it leaves the current vehicle
        self.boarded = created      # when it boarded its current vehicle (for ride times)
        self.foreseen = 0.0         # hours of queueing the congestion picture showed at booking

    def split(self, ident: int, teu: float) -> Lot:
        """Take `teu` off this lot as a new lot with the same history."""
        part = Lot(ident, self.flow, self.path, teu, self.tonnes_per_teu, self.created)
        part.leg, part.ready, part.wait = self.leg, self.ready, self.wait
        part.foreseen = self.foreseen
        self.teu -= teu
        return part


class Vehicle:
    """A train, vessel, truck or aircraft run: the lots on board, by the stop they leave at."""

    __slots__ = ("by_stop", "teu", "tonnes")

    def __init__(self) -> None:
        self.by_stop: dict[int, list[Lot]] = {}
        self.teu = 0.0
        self.tonnes = 0.0

    def load(self, lot: Lot) -> None:
        """Take a lot on board; it leaves at its `alight` stop."""
        self.by_stop.setdefault(lot.alight, []).append(lot)
        self.teu += lot.teu
        self.tonnes += lot.teu * lot.tonnes_per_teu

    def unload(self, stop: int) -> list[Lot]:
        """Take off the lots alighting at stop index `stop`."""
        off = self.by_stop.pop(stop, [])
        for lot in off:
            self.teu -= lot.teu
            self.tonnes -= lot.teu * lot.tonnes_per_teu
        return off
