"""docs/scenarios.md stays true to the code: every `yaml` example in it validates, and every
field of every section and change is documented."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from sim import scenario as sc
from sim import specs
from sim.cli import main
from tests.support.paths import ROOT

DOC = (ROOT / "docs" / "scenarios.md").read_text()
EXAMPLES = re.findall(r"```yaml\n(.*?)```", DOC, re.S)
LOADER_FIELDS = {"source_file", "provenance"}  # set by the loader, not written by users


def test_the_doc_has_an_example_of_every_change() -> None:
    kinds = {k for block in EXAMPLES for k in re.findall(r"kind: (\w+)", block)}
    assert set(sc.CHANGE_TAGS) - kinds == set()


@pytest.mark.parametrize("i", range(len(EXAMPLES)))
def test_every_example_validates(tmp_path: Path, i: int) -> None:
    """Saved in the repository folder, as the doc says (`scenarios/` beside it)."""
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")
    path = tmp_path / "example.yaml"
    path.write_text(EXAMPLES[i])
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        result = CliRunner().invoke(main, ["validate", str(path)])
    finally:
        os.chdir(old)
    assert result.exit_code == 0, result.output
    assert "cqsim: warning" not in result.stderr, result.stderr


def test_an_example_that_extends_says_where_it_is_saved() -> None:
    """The examples' `extends: scenarios/baseline-2023.yaml` is right only from the
    repository's folder; saved in scenarios/ beside the shipped files they were refused
    (trial49 #8). Each says where it is saved and what to write in scenarios/."""
    lines = [line for block in EXAMPLES for line in block.splitlines()
             if line.startswith("extends:")]
    assert lines
    for line in lines:
        assert "saved in the repository's folder" in line, line
        assert "in scenarios/: baseline-2023.yaml" in line, line


@pytest.mark.parametrize("model", [
    sc.Scenario, sc.NetworkSection, specs.ScheduledService, specs.ContinuousService,
    specs.LockOperation, specs.VesselClass, specs.ShipLift, specs.Maintenance,
    specs.RandomOutage, specs.ScheduledOutage, specs.BackgroundTraffic,
    specs.EmissionFactor, specs.TerminalSpec, specs.BorderSpec, specs.LockSpec, specs.LinkSpec,
    sc.Horizon, sc.Demand,
    specs.CommodityClass, specs.Flow, sc.Routing, sc.Variability, sc.Trade, sc.Equilibrium,
    *sc.CHANGE_KINDS])
def test_every_field_is_documented(model: type) -> None:
    missing = [name for name in model.model_fields
               if name not in LOADER_FIELDS and f"`{name}`" not in DOC]
    assert not missing, f"{model.__name__}: {missing} not in docs/scenarios.md"
