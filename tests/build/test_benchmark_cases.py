"""The benchmarks' scenario cases build: `make bench` is never run by `make test`, so a change
to the scenarios broke its growth section unseen for five days (doubling the shippers' zone's
nominal positions was refused). Nothing here is timed."""

from __future__ import annotations

import pytest

from benchmarks.run import _capacity_fields, scaled


@pytest.mark.parametrize(("demand", "capacity"), [(2.0, 1.0), (2.0, 2.0), (4.0, 4.0)])
def test_every_growth_case_of_make_bench_builds(demand: float, capacity: float) -> None:
    """Each growth case's scenario builds (no scaled field refused by its bound), with each
    capacity field of every hub larger by `capacity` (positions are whole: rel 1e-3) and the
    zones of shippers left as they are."""
    from sim.network import build
    from sim.specs import ZoneSpec

    base = build(scaled(1.0, 1.0)).network.hubs
    hubs = build(scaled(1.0, demand, capacity)).network.hubs
    assert any(isinstance(h, ZoneSpec) for h in base.values())
    for hid, hub in hubs.items():
        fields = _capacity_fields(base[hid])
        assert (fields == ()) == isinstance(hub, ZoneSpec), hid
        for field in fields:     # positions or trains a day, and the yard
            grown = getattr(hub, field) / getattr(base[hid], field)
            assert grown == pytest.approx(capacity, rel=1e-3), (hid, field)
