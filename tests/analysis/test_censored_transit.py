"""Transit time where freight is stranded (trial64 #1): what a comparison pairs must not read
a closure as a transit gain."""
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


def test_closing_a_port_does_not_shorten_transit(tmp_path: Path) -> None:
    """trial64 #1: compare paired transit_mean_h, a mean over the lots delivered, so closing
    Qinzhou for the whole run dropped the stranded lots from it: the south's transit read
    -334 h (-69%, CI excluding 0, green in the report) and the total -7.0 +- 4.1 h, i.e. the
    closure sped freight up. Compare now pairs the transit of the lots booked in the period,
    those still on the way at the end at their age then: the south reads slower, the total
    not faster. (baseline.yaml, 90 days, 2 replications: about 10 s.)"""
    from sim.compare import compare
    from sim.stats import resolved

    scenario = tmp_path / "closed.yaml"
    scenario.write_text(
        f"name: qinzhou-closed\nextends: {ROOT / 'scenarios' / 'baseline.yaml'}\nchanges:\n"
        "  - {kind: disruption, hub: qinzhou, start_day: 0, end_day: 200, "
        "capacity_factor: 0, why: test}\n", encoding="utf-8")
    cmp = compare(str(ROOT / "scenarios" / "baseline.yaml"), [str(scenario)],
                  replications=2, days=90)
    d = cmp.deltas
    transit = d[d["metric"].str.startswith("transit") & d["scope"].isin(["south", "total"])]
    assert len(transit), d["metric"].unique()
    for r in transit.itertuples():
        faster = r.delta < 0 and resolved(r.delta, r.delta_ci95)
        assert not faster, (f"closing the south's port reads as {r.delta:+.0f} +- "
                            f"{r.delta_ci95:.0f} h of {r.scope} {r.metric}")
    south = transit[(transit["scope"] == "south")
                    & (transit["metric"] == "transit_open_mean_h")].iloc[0]
    assert south["delta"] > 0 and resolved(south["delta"], south["delta_ci95"]), south
    # the delivered lots' mean is still written, unchanged, in each run's corridors table
    cor = cmp.alts[0].results.corridors.set_index("corridor")
    assert cor.loc["south", "transit_mean_h"] < cor.loc["south", "transit_open_mean_h"]
    # every TEU booked counts, delivered or not: the channels' sum is the routes'
    routes = cmp.alts[0].results.summary("routes")
    assert cor["teu_created_per_year"].sum() == pytest.approx(
        routes["teu_created_per_year"].sum())


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
