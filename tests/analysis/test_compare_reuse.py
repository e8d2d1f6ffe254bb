"""`cqsim compare` takes an alternative's market reference from the base run's settling when
that is the very computation the reference asks for (`sim.equilibrium.settles_reference_of`),
and the results are those of settling the reference again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import sim.equilibrium as equilibrium
from sim.compare import Comparison, compare
from tests.support.market import write_market_scenario
from tests.support.netbuilder import write_scenario

MORE_SOUTH = [{"kind": "scale", "service": "south-rail", "field": "departures_per_week",
               "factor": 2}]


def _scenarios(tmp: Path) -> tuple[Path, Path, Path]:
    """A market base settled per replication (2 passes), an ALT doubling the south trains
    (its reference: the base) and the same ALT with another cost scale."""
    base = write_market_scenario(
        tmp, horizon={"days": 40, "warmup_days": 5}, replications=2,
        equilibrium={"max_iterations": 2, "days": 40, "tolerance": 0.001,
                     "per_replication": True})
    alt = write_scenario(tmp / "alt.yaml", {"extends": "market.yaml", "name": "more-south",
                                            "changes": MORE_SOUTH})
    other = write_scenario(tmp / "other.yaml", {
        "extends": "market.yaml", "name": "other-choice", "changes": MORE_SOUTH,
        "market": {"choice": {"cost_scale": 80.0}}})
    return base, alt, other


def _reused(cmp: Comparison, name: str) -> list[bool]:
    """Per replication, whether the variant's reference came from the base run."""
    alt = next(v for v in cmp.alts if v.name == name)
    return [bool(r.get("reference_from_base_run")) for r in alt.results.equilibrium[
        "by_replication"]]


def _assert_same(a: Comparison, b: Comparison) -> None:
    """Every table of every variant, the deltas, bottlenecks and attribution are equal."""
    for va, vb in zip([a.base, *a.alts], [b.base, *b.alts], strict=True):
        assert va.results.names == vb.results.names
        for name in va.results.names:
            pd.testing.assert_frame_equal(va.results.by_replication(name),
                                          vb.results.by_replication(name))
    pd.testing.assert_frame_equal(a.deltas, b.deltas)
    pd.testing.assert_frame_equal(a.bottlenecks, b.bottlenecks)
    assert a.attribution is not None and b.attribution is not None
    pd.testing.assert_frame_equal(a.attribution, b.attribution)


def test_compare_reuses_the_base_runs_settling_only_when_it_is_the_same(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base, alt, other = _scenarios(tmp_path)
    calls: list[str] = []
    real_settle = equilibrium.settle

    def counted(plan: Any, *args: Any, **kw: Any) -> Any:
        calls.append(plan.name)
        return real_settle(plan, *args, **kw)

    monkeypatch.setattr(equilibrium, "settle", counted)
    equilibrium._settled_reference.cache_clear()
    reuse = compare(base, [alt, other], replications=2)
    # (b) the base settles each replication once; more-south takes both from it (no settle
    # of the reference); (c) other-choice reads another cost scale: it settles the reference
    # (the base file under its choice parameters) for each replication itself
    assert _reused(reuse, "more-south") == [True, True]
    assert _reused(reuse, "other-choice") == [False, False]
    assert calls.count("more-south") == 2 and calls.count("other-choice") == 2
    assert calls.count("test") == 2 + 2        # base run, then other-choice's reference
    monkeypatch.setattr(equilibrium, "settle", real_settle)

    # (a) settling the reference again (as before the reuse) gives the same results
    equilibrium._settled_reference.cache_clear()
    with monkeypatch.context() as m:
        m.setattr(equilibrium, "settles_reference_of", lambda base, plan: False)
        again = compare(base, [alt, other], replications=2)
    assert _reused(again, "more-south") == [False, False]
    _assert_same(reuse, again)
    # ... on a process pool too
    equilibrium._settled_reference.cache_clear()
    pooled = compare(base, [alt, other], replications=2, workers=2)
    assert _reused(pooled, "more-south") == [True, True]
    assert _reused(pooled, "other-choice") == [False, False]
    _assert_same(reuse, pooled)
    assert reuse.attribution is not None
    induced = reuse.attribution.set_index(["variant", "item"]).loc[
        ("more-south", "induced by access"), "delta_trade_bn_cny_per_year"]
    assert induced != 0            # the reference mattered: doubling the trains induced trade


def test_a_base_with_another_seed_or_horizon_is_not_the_reference(tmp_path: Path) -> None:
    """What settle reads decides: the base file itself matches (replications aside); the same
    file with another seed or a shorter feedback horizon does not."""
    from sim.network import revise, with_horizon_days
    from sim.pipeline import prepare

    base, alt, other = _scenarios(tmp_path)
    plan = revise(prepare(alt), reference_scenario=str(base))
    assert equilibrium.settles_reference_of(prepare(base, replications=5), plan)
    assert not equilibrium.settles_reference_of(prepare(base, seed=7), plan)
    assert not equilibrium.settles_reference_of(with_horizon_days(prepare(base), 30), plan)
    assert not equilibrium.settles_reference_of(
        prepare(base), revise(prepare(other), reference_scenario=str(base)))
    assert not equilibrium.settles_reference_of(prepare(base), prepare(base))  # own reference
    # --days cuts both: the reference settles over the plan's own pass horizon (it settled a
    # whole one, so a winter's delays against a year's read as induced trade), which is the
    # base run's once the base is cut the same way
    cut = revise(prepare(alt, days=30), reference_scenario=str(base))
    assert equilibrium._reference_file(cut)[3] == 30          # type: ignore[index]
    assert equilibrium.settles_reference_of(prepare(base, days=30), cut)
    assert not equilibrium.settles_reference_of(prepare(base), cut)


def test_a_variant_at_another_seed_meets_its_reference_on_that_seed(tmp_path: Path) -> None:
    """The market reference settles on the variant's own seed: a variant of the reference
    file run at seed 7 (a file's seed, or a run override) measures its logsums against the
    reference as settled at seed 7, which is the base run's own settling at that seed. Before
    2026-12-05 it settled on the file's seed, so a placebo at another seed induced trade
    that was two unpaired draws apart."""
    from sim.network import revise
    from sim.pipeline import prepare

    base, _, _ = _scenarios(tmp_path)
    write_scenario(tmp_path / "seeded.yaml", {
        "extends": "market.yaml", "seed": 7, "demand": {"reference_scenario": "market.yaml"}})
    alt = write_scenario(tmp_path / "alt7.yaml", {"extends": "seeded.yaml", "name": "alt7",
                                                  "changes": MORE_SOUTH})
    equilibrium._settled_reference.cache_clear()
    for plan, seed in ((prepare(alt), 7), (revise(prepare(alt), seed=11), 11)):
        own = equilibrium.settle(prepare(base, seed=seed), replication=1).market_passes
        assert equilibrium.market_reference(plan, 1) == tuple(dict(s) for s in own)
        assert equilibrium.settles_reference_of(prepare(base, seed=seed), plan)
    other = equilibrium.settle(prepare(base), replication=1).market_passes
    assert equilibrium.market_reference(prepare(alt), 1) != tuple(dict(s) for s in other)


def test_the_python_compare_refuses_an_unrelated_alternative_as_the_command_does(
        tmp_path: Path) -> None:
    """`compare(base, [alt])` of an ALT that is not BASE plus changes (its own file of the
    same network) ran and labelled the difference "common random numbers", where the
    command refuses it (trial47 H1): it is refused before anything runs, naming the keyword
    that allows it; a variant of BASE by changes only is not."""
    from sim.errors import InputError
    from tests.support import netbuilder as nb

    path = nb.line_network(tmp_path)
    other = tmp_path / "other.yaml"
    other.write_text(path.read_text().replace("name: test", "name: other"))
    with pytest.raises(InputError, match="call with allow_unrelated=True") as err:
        compare(path, [other], replications=2, days=5)
    assert err.value.file == str(other) and err.value.field == "extends"
    variant = tmp_path / "variant.yaml"
    variant.write_text(f"extends: {path.name}\nname: variant\nchanges:\n"
                       "  - {kind: scale, service: ab, field: departures_per_week, factor: 2}\n")
    cmp = compare(path, [variant], replications=2, days=5)
    assert set(cmp.deltas["variant"]) == {"variant"}
