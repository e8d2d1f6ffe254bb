"""cqsim: discrete-event simulation of Chongqing's opening-up freight corridors.

    import sim
    scenario = sim.load_scenario("scenarios/baseline.yaml")
    faster = sim.with_overrides(
        scenario, **{"network.services.west-alashankou-duisburg.departures_per_week": 35})
    results = sim.run(faster, replications=3)
    results.corridors            # pandas DataFrame, mean and 95% CI per corridor
    sim.flow_map(results)        # matplotlib Figure
    sim.data_dictionary()        # every table's columns: label, unit, period, how summarised
    run = sim.read_run("out/baseline")  # a run's folder read back: run.corridors, flow_map
    runs = sim.run_sweep("scenarios/sweeps/ilstc-expansion.yaml", "out/ilstc")  # a row per run
"""

from __future__ import annotations

from importlib import import_module

if False:  # for type checkers only: importing typing would delay the Ctrl-C handler
    from typing import Any

# name -> module: imported on first use, so `cqsim` starts (and fails on bad input) fast
_API = {
    "ConservationError": "sim.errors", "InputError": "sim.errors", "draw_flows": "sim.maps",
    "data_dictionary": "sim.results",
    "flow_map": "sim.maps", "Plan": "sim.network", "build": "sim.network",
    "write_results": "sim.outputs", "Results": "sim.results", "prepare": "sim.pipeline",
    "run": "sim.pipeline", "Scenario": "sim.scenario", "load_scenario": "sim.scenario",
    "with_overrides": "sim.scenario", "run_sweep": "sim.sweep", "read_run": "sim.report.rundir",
}


def __getattr__(name: str) -> Any:
    """Lazy access to the public API (PEP 562)."""
    if name in _API:
        return getattr(import_module(_API[name]), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


__all__ = [
    "ConservationError", "InputError", "Plan", "Results", "Scenario", "build",
    "data_dictionary", "draw_flows", "flow_map", "load_scenario", "prepare", "read_run", "run",
    "run_sweep", "with_overrides", "write_results",
]
