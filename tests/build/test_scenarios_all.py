"""Every scenario file shipped in scenarios/ validates and runs (short horizon), and the plan's
scenarios do what their descriptions say."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from sim.cli import main
from sim.pipeline import prepare, run
from tests.support.paths import SCENARIOS


def scenario_files() -> list[Path]:
    """Scenario files: YAML mappings with a `network` or `extends` key, outside sweeps/."""
    files = []
    for path in sorted(SCENARIOS.rglob("*.y*ml")):
        if "sweeps" in path.relative_to(SCENARIOS).parts:
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and ({"network", "extends"} & set(data)):
            files.append(path)
    return files


FILES = scenario_files()
# run in make test-fast too: the two baselines and the plan's combined scenario
QUICK = {"baseline", "baseline-2023", "plan-2025"}


def test_the_plan_scenarios_are_all_there() -> None:
    names = {p.stem for p in FILES}
    assert {"baseline-2023", "ilstc-expansion", "china-europe-frequency",
            "second-three-gorges-lock", "manzhouli-growth", "china-laos-growth",
            "digital-customs", "chengdu-chongqing-coordination", "plan-2025", "plan-2035",
            "yangtze-low-water", "alashankou-closure", "qinzhou-congestion"} <= names


@pytest.mark.slow
@pytest.mark.parametrize("path", [
    pytest.param(p, marks=() if p.stem in QUICK else pytest.mark.slow, id=p.stem)
    for p in FILES])
@pytest.mark.usefixtures("shared_settled_cache")
def test_scenario_validates_and_runs(path: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    valid = runner.invoke(main, ["validate", str(path)])
    assert valid.exit_code == 0, valid.output
    out = runner.invoke(main, ["run", str(path), "--days", "20", "--replications", "1",
                               "--no-map", "--out", str(tmp_path / "out")])
    assert out.exit_code == 0, out.output
    assert (tmp_path / "out" / "corridors.csv").is_file()


@pytest.mark.parametrize("path", [p for p in FILES if p.stem != "baseline"],
                         ids=[p.stem for p in FILES if p.stem != "baseline"])
def test_plan_scenarios_say_what_they_change_and_why(path: Path) -> None:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert raw.get("description", "").strip(), "a description saying what changes and why"
    plan_name = prepare(path).name
    assert plan_name == path.stem, "each scenario has its own name (its output folder)"
    for change in raw.get("changes") or []:
        assert str(change.get("why", "")).strip(), change


@pytest.mark.slow
@pytest.mark.usefixtures("shared_settled_cache")
def test_alashankou_closure_moves_west_traffic_to_khorgos() -> None:
    base = run(SCENARIOS / "baseline-2023.yaml", replications=1, days=120)
    closed = run(SCENARIOS / "alashankou-closure.yaml", replications=1, days=120)
    b = base.hubs.set_index("hub")["teu_per_year"]
    c = closed.hubs.set_index("hub")["teu_per_year"]
    assert c["alashankou"] < 0.9 * b["alashankou"]
    assert c["khorgos"] > b["khorgos"]
