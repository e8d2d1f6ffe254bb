"""docs/architecture.md's worked example, run as written: a new component kind (a dry port)
and a new KPI, each one declaration, work through the whole pipeline."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

import sim
from sim.components import unregister
from sim.errors import InputError
from sim.kpis import remove_kpi
from tests.support.paths import ROOT
from tests.support.worked_example import DOC, dry_port_network, example_code


@pytest.fixture()
def example() -> Iterator[types.ModuleType]:
    module = types.ModuleType("architecture_example")
    sys.modules[module.__name__] = module  # classes pickle by reference to it
    try:
        for block in example_code():
            exec(compile(block, str(DOC), "exec"), module.__dict__)
        yield module
    finally:
        unregister("dry_port")
        remove_kpi("slow_share")
        sys.modules.pop(module.__name__, None)


def test_the_docs_example_adds_a_kind_and_a_kpi(example: types.ModuleType,
                                                tmp_path: Path) -> None:
    assert len(example_code()) == 2   # the kind, then the KPI
    results = sim.run(dry_port_network(tmp_path, inspected_share=0.5, inspection_hours=48.0))
    hubs = results.summary("hubs").set_index("hub")
    assert hubs.loc["d", "kind"] == "dry_port" and hubs.loc["d", "teu_per_year"] > 0
    ports = results.summary("dry_ports").set_index("hub")
    jobs = hubs.loc["d", "jobs_per_year"]
    assert 0.4 * jobs < ports.loc["d", "inspections_per_year"] < 0.6 * jobs
    corridors = results.summary("corridors").set_index("corridor")
    # 440 h on the link, about 6 h dwell and up to 12 h for a train: under 20 days (480 h);
    # the inspected half dwells 48 h more: over it
    slow = corridors.loc["west", "slow_share"]
    assert 0.4 < slow < 0.6
    assert results.conservation_ok()


def test_the_example_inspects_its_own_jobs_and_routes_see_the_inspections(
        example: types.ModuleType, tmp_path: Path) -> None:
    """Other users' jobs pass through `clearance_hours` too (owner BACKGROUND): the example
    counted them among its inspections, about 2.3 times the simulated jobs' share at Qinzhou
    (ext43, finding 5). Route costs read `HubSpec.expected_dwell_hours`, which the example
    overrides: they read `dwell_hours` alone and shippers never saw the inspections
    (finding 3)."""
    from sim.routing import handling_hours

    path = dry_port_network(tmp_path, {"d": {"teu_per_year": 50_000.0, "batch_teu": 50.0,
                                             "source": "test"}},
                            inspected_share=0.5, inspection_hours=48.0)
    plan = sim.prepare(path)
    spec = plan.network.hubs["d"]
    handling = spec.handling_setup_hours + plan.lot_teu / spec.handling_teu_per_hour
    assert handling_hours(spec, plan.lot_teu) == pytest.approx(handling + 6.0 + 0.5 * 48.0)
    results = sim.run(path)
    hubs = results.summary("hubs").set_index("hub")
    own = hubs.loc["d", "jobs_per_year"] - hubs.loc["d", "background_jobs_per_year"]
    assert hubs.loc["d", "background_jobs_per_year"] > 0.3 * own
    inspected = results.summary("dry_ports").set_index("hub").loc["d", "inspections_per_year"]
    assert 0.4 * own < inspected < 0.6 * own
    # the route's uncongested time: 440 h on the link, and at d 6 h of dwell and half of 48
    route = results.summary("routes")
    assert (route["base_h"] > 440.0 + 6.0 + 24.0).all()


def test_the_new_kind_is_validated_as_its_spec(example: types.ModuleType,
                                               tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        sim.prepare(dry_port_network(tmp_path, inspected_share=2.0, inspection_hours=1.0))
    assert "inspected_share" in err.value.field


def test_without_the_registry_entry_the_kind_is_unknown(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        sim.prepare(dry_port_network(tmp_path, inspected_share=0.5, inspection_hours=1.0))
    assert err.value.field.endswith(".kind") and "dry_port" not in err.value.expected
    assert err.value.got == "dry_port"


def test_a_fresh_cqsim_process_does_not_know_the_example_s_kind(example: types.ModuleType,
                                                                tmp_path: Path) -> None:
    """The doc implied that once the example is written, a hubs.geojson row or an add_hub
    change with kind: dry_port is validated; the kind lives only in the Python process that
    ran the example (regression audit 42B, 6). The doc says that a `cqsim` command refuses
    it unless its `--import` names the module (tests/cli/test_extensions.py), which a fresh
    `cqsim validate` does while this process accepts it."""
    import subprocess

    path = dry_port_network(tmp_path, inspected_share=0.5, inspection_hours=1.0)
    sim.prepare(path)                                   # here, with the example imported
    done = subprocess.run([sys.executable, "-m", "sim", "validate", str(path)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 2 and "dry_port" in done.stderr, (done.returncode, done.stderr)
    assert "cqsim --import" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    said = " ".join(DOC.read_text(encoding="utf-8").split())
    assert "a `cqsim` command starts its own, and knows the new kind only when told to " \
           "import the module that registers it" in said
    assert "without the option the row is refused as an unknown `kind`" in said
