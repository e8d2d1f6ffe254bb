"""The names an extension of cqsim uses, from one module (docs/architecture.md, "Worked
example"): a component kind (its spec, its runtime class, its registry entry), the tables it
writes and a KPI. These names stay where they are as cqsim's own modules move; the modules
they come from are named in the architecture doc.

    from sim.extend import BACKGROUND, Hub, HubSpec, Kind, Model, Row, Table, col, register
"""

from __future__ import annotations

from sim.components import Kind, kinds, register, unregister
from sim.engine.component import Component, Row
from sim.engine.hub import BACKGROUND, Border, Hub, Zone
from sim.engine.model import Model
from sim.engine.pool import BookedServers
from sim.kpis import (
    KPI,
    TEXT,
    Column,
    Peak,
    Summed,
    Table,
    View,
    add_kpi,
    add_run_figure,
    col,
    remove_kpi,
    remove_run_figure,
    teu_weighted_mean,
)
from sim.rng import draws
from sim.specs import BorderSpec, HubSpec, Spec, TerminalSpec

__all__ = [
    "BACKGROUND", "KPI", "TEXT", "BookedServers", "Border", "BorderSpec", "Column",
    "Component", "Hub", "HubSpec", "Kind", "Model", "Peak", "Row", "Spec", "Summed", "Table",
    "TerminalSpec", "View", "Zone", "add_kpi", "add_run_figure", "col", "draws", "kinds",
    "register", "remove_kpi", "remove_run_figure", "teu_weighted_mean", "unregister",
]
