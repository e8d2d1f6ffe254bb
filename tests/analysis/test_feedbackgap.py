"""The feedback gap's floor (`python -m sim.feedbackgap`): the longer series of passes
retraces the scenario's own, a rerun with the delays as learnt repeats exactly, and bad
input is one line and exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import sim
from sim import equilibrium
from sim.equilibrium import flow_gap
from sim.feedbackgap import lines, measure, rerun_flows
from tests.support.netbuilder import flow, hub, link, scenario, train, write_geodata, write_scenario
from tests.support.paths import ROOT


def _congested(tmp: Path, max_iterations: int = 2) -> Path:
    """A -> B by a cheap weekly train too small for the flow and a dear daily one: the
    cheap train's queue is the delay the passes learn, and it moves the flows between them."""
    a, b = hub("a", 0.0), hub("b", 1.0)
    write_geodata(tmp / "geo", [a, b], [link("a-b", a, b)])
    doc = scenario(str(tmp / "geo"), {"cheap": train(["a", "b"], per_week=1, price=800),
                                      "dear": train(["a", "b"], price=1500)},
                   [flow("a", "b", 10_000)], horizon={"days": 60},
                   equilibrium={"max_iterations": max_iterations, "tolerance": 0.001})
    return write_scenario(tmp / "gap.yaml", doc)


def test_the_longer_series_retraces_the_scenario_s_passes_then_goes_on(tmp_path: Path) -> None:
    """Passes are deterministic, so the first gaps of the longer series are the scenario's
    own; the delays as learnt rerun give gap 0 exactly, other streams a gap above it."""
    plan = sim.prepare(_congested(tmp_path))
    found = measure(plan, passes=4, shares=(0.01, 0.1))
    assert found.own_passes == 2 and len(found.own_gaps) == 1
    assert len(found.gaps) == 3 and found.passes == 4
    assert found.gaps[:1] == found.own_gaps
    assert found.own_gaps[0] > 0          # the queue moved the flows between the passes
    assert found.floor == min(found.gaps[-2:])
    assert [s for s, _ in found.perturbed] == [0.01, 0.1]
    assert all(g >= 0 for _, g in found.perturbed)
    assert found.other_streams > 0
    own = equilibrium.settle(plan)
    assert flow_gap(rerun_flows(own), rerun_flows(own)) == 0.0
    shown = lines(found, "gap.yaml")
    assert shown[0].startswith("gap.yaml, replication 0, passes of 60 days")
    assert f"over 4 passes: {100 * found.gaps[0]:.1f}%" in shown[2]


@pytest.mark.parametrize(("args", "said"), [
    (["nope.yaml"], "nope.yaml"),
    (["gap.yaml", "--passes", "1"], "--passes: expected a whole number >= 2"),
    (["gap.yaml", "--shares", "0,0.1"], "--shares: expected comma-separated numbers"),
    (["gap.yaml", "--days", "0"], "--days: expected a number of days > 0"),
    (["one.yaml"], "equilibrium.max_iterations: expected at least 2 feedback passes"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], said: str) -> None:
    """A missing file, a bad option and a scenario without feedback passes: one line naming
    what was expected, exit 2, no traceback."""
    _congested(tmp_path)
    write_scenario(tmp_path / "one.yaml", scenario(
        str(tmp_path / "geo"), {"dear": train(["a", "b"])}, [flow("a", "b", 1_000)]))
    done = subprocess.run([sys.executable, "-m", "sim.feedbackgap",
                           *[str(tmp_path / a) if a.endswith(".yaml") else a for a in args]],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.returncode == 2, done.stderr
    assert said in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert done.stderr.strip().splitlines()[-1].count(said) == 1


def test_the_command_cuts_the_passes_to_the_days_given(tmp_path: Path) -> None:
    """`--days` is the run's horizon, as `cqsim run --days`: the passes run no longer."""
    done = subprocess.run([sys.executable, "-m", "sim.feedbackgap",
                           str(_congested(tmp_path)), "--days", "30", "--passes", "3",
                           "--shares", "0.01"],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    assert out[0].startswith("gap.yaml, replication 0, passes of 30 days"), out
    assert out[2].startswith("  over 3 passes: ") and out[3].endswith("%"), out
