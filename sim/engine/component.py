"""The runtime side of a component kind: what the model asks of every component.

The model builds one runtime object per spec (per direction of a service) with
`Kind.runtime_class()(model, spec)` and then only talks to it through this protocol, as
Mesa's model talks to its agents and Ciw's simulation to its nodes:

- `start()`: start its processes (timetables, lock lanes); nothing for passive components;
- `reset_stats()`: forget what was counted during the warm-up;
- `inventory()`: (TEU in transit on its vehicles, TEU waiting in it), for conservation;
- `rows(period, end)`: its rows of the result tables, as (table name, row) pairs;
- `close_day(day)`: the model's day clock at the end of each simulation day after the
  warm-up: record the day's stocks in its daily series (`sim.engine.daily`);
- `excess_wait(at)` (components freight queues at): hours beyond the uncongested
  expectation that a lot arriving now would wait, for route choice.

The tables a kind writes are declared once, in `tables` (`sim.kpis.Table`: key columns and
every column with its unit), so a table exists (empty) even when no component of the kind is
in the network, and counts are annualised and named by one rule. Rows use the columns' own
names (`teu`, not `teu_per_year`) and raw counts over the statistics period.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from mypy_extensions import mypyc_attr

from sim.kpis import Table

if TYPE_CHECKING:
    from sim.engine.model import Model

Row = dict[str, Any]


@mypyc_attr(allow_interpreted_subclasses=True)
class WaitPoint:
    """A place where freight may queue beyond the uncongested expectation, as route choice
    reads it (`Model.picture`): a component's `excess_wait` at one of its stops or sides.
    A compiled object with a typed `wait`, so the million or so reads of a year are C calls
    (a `functools.partial` of the bound method went through Python's call protocol)."""

    def wait(self) -> float:
        """Hours beyond the uncongested expectation that a lot arriving now would wait."""
        raise NotImplementedError


@mypyc_attr(allow_interpreted_subclasses=True)
class Component:
    """Base of the runtime classes of component kinds: does nothing, counts nothing."""

    tables: ClassVar[tuple[Table, ...]] = ()

    def __init__(self, model: Model) -> None:
        self.model = model
        self.env = model.env

    def start(self) -> None:
        """Start this component's processes (none by default)."""

    def reset_stats(self) -> None:
        """Forget the statistics counted so far (at the end of the warm-up)."""

    def inventory(self) -> tuple[Iterable[float], Iterable[float]]:
        """The TEU of every lot or vehicle load this component holds: (in transit on its
        vehicles, waiting in it). The model adds them up for the conservation check."""
        return (), ()

    def rows(self, period: float, end: float) -> Iterator[tuple[str, Row]]:
        """This component's rows of the result tables over the statistics `period` (h)
        ending at hour `end`."""
        return iter(())

    def close_day(self, day: int) -> None:
        """The end of simulation day `day` (statistics period only): record the day."""

    def stream(self, name: str) -> np.random.Generator:
        """The random stream `name` of this replication (keyed by name: common random
        numbers across scenario variants)."""
        return self.model.stream(name)
