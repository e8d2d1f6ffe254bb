"""Long runs keep memory bounded: what a model keeps grows with delivered lots only by the
recorder's typed arrays (36 bytes a lot), and nothing else is kept per lot (benchmarks/memory.py
measures the real baseline over 1, 5 and 10 years; see docs/validation.md)."""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path

import pytest

from sim.engine import Model
from sim.network import build
from sim.scenario import load_scenario
from tests.support import netbuilder as nb

RECORDER_BYTES_PER_LOT = 4 + 4 * 8   # route id (int32) + teu, transit, wait, at (float64)


def _model(tmp: Path, years: float) -> Model:
    path = nb.line_network(tmp, per_week=14, teu_per_year=40_000,
                           horizon={"days": 365.0 * years}, demand={"lot_teu": 5})
    return Model(build(load_scenario(path)), 0)


def _retained(tmp: Path, years: float) -> tuple[int, int, Model]:
    """(bytes the finished model still holds, lots delivered, the model)."""
    gc.collect()
    tracemalloc.start()
    try:
        model = _model(tmp, years)
        result = model.run()
        del result
        gc.collect()
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return held, len(model.recorder.teu), model


@pytest.mark.slow
def test_memory_grows_only_by_the_recorder_arrays(tmp_path: Path) -> None:
    for name in ("warm", "1", "3"):
        (tmp_path / name).mkdir()
    _retained(tmp_path / "warm", 0.1)  # first use fills import-time caches: not per lot
    short, lots_short, _ = _retained(tmp_path / "1", 1.0)
    long, lots_long, model = _retained(tmp_path / "3", 3.0)
    assert lots_long > 2.5 * lots_short > 10_000
    per_lot = (long - short) / (lots_long - lots_short)
    # typed arrays over-allocate by up to ~1/8; anything kept as an object per lot (a Lot
    # is ~150 bytes, a dict entry ~100) would push this far above
    assert per_lot < 1.5 * RECORDER_BYTES_PER_LOT, f"{per_lot:.0f} bytes kept per lot"

    # and nothing per lot outside the recorder: lots leave the hub index when they move on
    in_transit, waiting = model.inventory()
    assert len(model.at_hubs) <= waiting / model.plan.lot_teu + 1
    assert len(model.at_hubs) < 0.01 * lots_long
    assert all(len(line.vehicles) <= 10 for line in model.lines)


def test_a_finished_model_is_freed_before_the_next_run(tmp_path: Path) -> None:
    """`simulate` frees the model it ran (a web of references only the collector frees) when
    it returns, not when the collector next reaches its oldest generation: feedback passes
    run one after the other and each would otherwise keep its predecessor's memory."""
    from sim.engine import model as engine_model

    def models() -> int:
        return sum(isinstance(o, engine_model.Model) for o in gc.get_objects())

    plan = build(load_scenario(nb.line_network(tmp_path, horizon={"days": 30.0})))
    gc.collect()
    before = models()
    gc.disable()  # no collection of the test's own making between the run and the check
    try:
        result = engine_model.simulate(plan)
        assert models() == before, "the model outlived its run"
    finally:
        gc.enable()
    assert result.conservation["delivered_teu"] > 0  # it ran, and its records outlive it


def test_the_memory_benchmark_measures_a_short_run() -> None:
    # docs/validation.md quotes it: it must run on the engine as it is (it once patched a
    # method the compiled engine never called, and broke when the method's signature grew)
    from benchmarks.memory import measure

    row = measure("scenarios/baseline.yaml", 10 / 365)
    assert row["lots"] > 0 and row["waiting_lots"] >= 0
    assert row["peak_rss_mb"] >= row["end_rss_mb"] > 0
