"""The extension facade (`sim.extend`) and the servers a kind's hook books
(`sim.engine.pool.BookedServers`): trial49 #7 imported from 7 modules and wrote its own heap
of bay-free times for a FIFO queue of inspection bays."""

from __future__ import annotations

import numpy as np
import pytest

import sim.extend
from sim.engine.pool import BookedServers


def test_the_facade_exports_the_names_the_worked_example_uses() -> None:
    from sim.components import Kind, register
    from sim.engine.hub import BACKGROUND, Hub
    from sim.kpis import KPI, Table, add_kpi, col
    from sim.specs import HubSpec

    for name in sim.extend.__all__:
        assert hasattr(sim.extend, name), name
    assert (sim.extend.Kind, sim.extend.register, sim.extend.Hub, sim.extend.HubSpec) == (
        Kind, register, Hub, HubSpec)
    assert (sim.extend.Table, sim.extend.col, sim.extend.KPI, sim.extend.add_kpi) == (
        Table, col, KPI, add_kpi)
    assert sim.extend.BACKGROUND == BACKGROUND


def test_booked_servers_are_a_fifo_queue_of_c_servers() -> None:
    bays = BookedServers(2)
    # jobs of 10 h arriving at 0, 1, 2, 3: the third waits for the first bay (free at 10),
    # the fourth for the second (free at 11)
    assert [bays.book(t, 10.0) for t in (0.0, 1.0, 2.0, 3.0)] == [0.0, 0.0, 8.0, 8.0]
    assert bays.busy_until() == 21.0 and bays.count == 2
    assert bays.book(40.0, 1.0) == 0.0      # idle bays: no wait
    with pytest.raises(ValueError, match="at least one server"):
        BookedServers(0)


def test_one_booked_server_matches_lindley() -> None:
    """One server: the wait is Lindley's recursion, W' = max(0, W + S - A)."""
    rng = np.random.default_rng(7)
    gaps, service = rng.exponential(1.0, 500), rng.exponential(0.8, 500)
    bay, now, wait, expected = BookedServers(1), 0.0, 0.0, []
    for i in range(500):
        if i:
            wait = max(0.0, wait + service[i - 1] - gaps[i])
        expected.append(wait)
    got = []
    for i in range(500):
        now += gaps[i] if i else 0.0
        got.append(bay.book(now, float(service[i])))
    assert got == pytest.approx(expected, abs=1e-9)
