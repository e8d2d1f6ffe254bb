"""cqsim: discrete-event simulation of Chongqing's opening-up freight corridors.

    import sim
    scenario = sim.load_scenario("scenarios/baseline.yaml")
    faster = sim.with_overrides(scenario, **{"network.services.west-alashankou-duisburg.departures_per_week": 35})
    results = sim.run(faster, replications=3)
    results.corridors            # pandas DataFrame, mean and 95% CI per corridor
    sim.flow_map(results)        # matplotlib Figure
    runs = sim.run_sweep("scenarios/sweeps/ilstc-expansion.yaml", "out/ilstc")  # a row per run
"""

from sim.errors import ConservationError, InputError
from sim.maps import draw_flows, flow_map
from sim.network import Plan, build
from sim.outputs import write_results
from sim.results import Results
from sim.runner import prepare, run
from sim.scenario import Scenario, load_scenario, with_overrides
from sim.sweep import run_sweep

__all__ = [
    "ConservationError", "InputError", "Plan", "Results", "Scenario", "build", "draw_flows",
    "flow_map", "load_scenario", "prepare", "run", "run_sweep", "with_overrides",
    "write_results",
]
