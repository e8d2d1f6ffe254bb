"""Transit time where freight is stranded (trial64 #1): the transit of the lots booked in the
period, those still on the way at the end at their age then."""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_a_lot_stranded_longer_never_lowers_the_open_transit() -> None:
    """`open_mean` counts a lot still on the way at the end at its age then: what it counts,
    min(transit, age at the end), never falls as the lot takes longer, so a change that slows
    freight cannot read as faster. Two lots of 10 TEU booked at hours 0 and 100, the run ends
    at hour 300."""
    from sim.engine.recorder import open_mean

    def mean(transits: list[float]) -> float:
        booked, at = (0.0, 100.0), 300.0
        done = [(b, t) for b, t in zip(booked, transits, strict=True) if b + t <= at]
        return open_mean(20.0, 10.0 * sum(booked), 10.0 * len(done),
                         10.0 * sum(b for b, _ in done), 10.0 * sum(t for _, t in done), at)

    assert mean([50.0, 150.0]) == pytest.approx(100.0)           # both delivered
    assert mean([50.0, 250.0]) == pytest.approx((50 + 200) / 2)  # the second at its age, 200
    assert mean([50.0, 1e9]) == mean([50.0, 250.0])              # stranded: no further fall
    ladder = [mean([t, 150.0]) for t in (10.0, 100.0, 299.0, 300.0, 400.0, 1e6)]
    assert ladder == sorted(ladder)
    assert math.isnan(open_mean(0.0, 0.0, 0.0, 0.0, 0.0, 300.0))  # nothing booked


def test_without_stranding_the_open_transit_is_the_cohort_s() -> None:
    """A corridor table's `transit_open_mean_h` from the recorder's sums: with every lot of
    the period delivered it is their TEU-weighted mean; the total weighs the channels by the
    TEU booked, not by the (fewer) TEU delivered."""
    from sim.kpis import kpi, total

    k = kpi("transit_open_mean_h")
    corridors = pd.DataFrame({"corridor": ["south", "west"],
                              "teu_per_year": [10.0, 90.0],        # south's mostly stranded
                              "teu_created_per_year": [100.0, 100.0],
                              "transit_open_mean_h": [600.0, 200.0]})
    assert total(k, corridors) == pytest.approx(400.0)
    assert total(kpi("transit_mean_h"), corridors.assign(transit_mean_h=[100.0, 200.0])) \
        == pytest.approx(190.0)
