"""`cqsim compare` of a port whose other users' calls go elsewhere in one variant: the paired
difference of the TEU gone elsewhere per year is written per hub to hubs_compare.csv, printed
and shown in the report, for the hubs where either side diverted anything and nothing more
(compare said nothing of it: the gap the diversion's first session left)."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from sim.cli import main
from tests.support import locks as L

GONE = "background_diverted_teu_per_year"


def _variant(tmp_path: Path, name: str, end_day: int) -> Path:
    """The base with port x shut from day 20 to `end_day`."""
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"extends": "scenario.yaml", "name": name, "changes": [
        {"kind": "disruption", "hub": "x", "start_day": 20, "end_day": end_day,
         "capacity_factor": 0.0, "why": "test"}]}))
    return path


def test_compare_pairs_the_calls_gone_elsewhere_per_hub(tmp_path: Path) -> None:
    """Port x (1,000 TEU a day of other users' calls, which wait a week at most) shut for 60
    days in `shut` loses the calls due more than a week before it reopens; shut for 2 days in
    `brief` it loses none, as in the base: `brief`'s comparison shows nothing of the hubs."""
    base = L.background_network(tmp_path, {"x": {
        "teu_per_year": 365_000.0, "batch_teu": 100, "diverts_after_hours": 168.0,
        "source": "test"}}, days=120, replications=2)
    shut, brief = _variant(tmp_path, "shut", 80), _variant(tmp_path, "brief", 22)
    out = tmp_path / "cmp"
    res = CliRunner().invoke(main, ["compare", str(base), str(shut), str(brief),
                                    "--out", str(out)])
    assert res.exit_code == 0, res.output
    hubs = pd.read_csv(out / "hubs_compare.csv")
    # both name x (its closure), so x's utilization, wait, TEU and yard peak are paired in
    # both (`sim.kpis.HUB_TOUCHED`); its TEU gone elsewhere only where some went
    from sim.kpis import HUB_TOUCHED

    assert set(hubs["scope"]) == {"x"}
    for name in ("shut", "brief"):
        assert set(hubs[hubs["variant"] == name]["metric"]) >= HUB_TOUCHED
    gone = hubs[hubs["metric"] == GONE]
    assert list(gone["variant"]) == ["shut"] and list(gone["scope"]) == ["x"]
    row = gone.iloc[0]
    assert row["base"] == 0
    # 53 days of 1,000 TEU over the 120 days measured, a year's worth: about 161,000 TEU/yr
    assert 130_000 < row["alt"] < 190_000
    assert row["delta"] == pytest.approx(row["alt"]) and row["delta_ci95"] > 0
    assert not pd.read_csv(out / "compare.csv")["metric"].isin([GONE]).any()
    from sim.kpis import HUB_FIGURES

    label, unit, _, _ = HUB_FIGURES[GONE]
    assert res.output.count("at the hubs") == 2           # each names x
    assert res.output.count(f"{label} {unit}") == 1       # gone elsewhere: shut's only
    assert "hubs_compare.csv" in res.output
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("At the hubs") == 2 and f"{row['alt']:,.0f}" in page
    assert page.count(html.escape(f"{label}, {unit}")) == 1


def test_a_comparison_where_no_hub_diverted_writes_nothing_of_hubs(tmp_path: Path) -> None:
    """Calls that wait however long (no diverts_after_hours) go nowhere: no row of TEU gone
    elsewhere; hubs_compare.csv and the hub table hold only the figures of x, the hub the
    variant's closure names (none of any other hub, as in an ordinary comparison)."""
    base = L.background_network(tmp_path, {"x": {
        "teu_per_year": 365_000.0, "batch_teu": 100, "source": "test"}},
        days=120, replications=2)
    out = tmp_path / "cmp"
    res = CliRunner().invoke(main, ["compare", str(base), str(_variant(tmp_path, "shut", 80)),
                                    "--out", str(out), "--no-report"])
    assert res.exit_code == 0, res.output
    from sim.kpis import HUB_TOUCHED

    hubs = pd.read_csv(out / "hubs_compare.csv")
    assert set(hubs["scope"]) == {"x"} and set(hubs["metric"]) == HUB_TOUCHED
    assert res.output.count("at the hubs") == 1 and "gone elsewhere" not in res.output


def test_a_hub_only_the_alt_has_is_paired_with_none_in_the_base(tmp_path: Path) -> None:
    """An ALT that adds port y, with other users' calls that go elsewhere while it is shut:
    the base has no y, so it diverts nothing there (0), and y's diversion is the change.
    Paired only where both had the hub, y fell out of hubs_compare.csv, the console and the
    report, and compare warned that the change had no effect."""
    base = L.background_network(tmp_path, {"x": {
        "teu_per_year": 365_000.0, "batch_teu": 100, "diverts_after_hours": 168.0,
        "source": "test"}}, days=120, replications=2)
    calls = {"teu_per_year": 365_000.0, "batch_teu": 100, "diverts_after_hours": 168.0,
             "source": "test"}
    background = yaml.safe_load(base.read_text())["network"]["background"]
    alt = tmp_path / "newhub.yaml"
    alt.write_text(yaml.safe_dump({"extends": "scenario.yaml", "name": "newhub", "changes": [
        {"kind": "add_hub", "why": "test", "hub": {
            "id": "y", "name": "y", "kind": "sea_port", "lon": 2.5, "lat": 30.0,
            "handling_servers": 2, "handling_teu_per_hour": 50.0,
            "handling_setup_hours": 0.5, "yard_teu": 5000.0, "dwell_hours": 10.0,
            "country": "CN", "sources": "test"}},
        {"kind": "disruption", "hub": "y", "start_day": 20, "end_day": 80,
         "capacity_factor": 0.0, "why": "test"}],
        "network": {"background": {**background, "y": calls}}}))
    out = tmp_path / "cmp"
    res = CliRunner().invoke(main, ["compare", str(base), str(alt), "--out", str(out)])
    assert res.exit_code == 0, res.output
    hubs = pd.read_csv(out / "hubs_compare.csv")
    assert set(hubs["scope"]) == {"y"}          # named by the changes: its figures too
    row = hubs.set_index("metric").loc[GONE]
    assert row["base"] == 0 and 130_000 < row["alt"] < 190_000
    assert row["delta"] == pytest.approx(row["alt"]) and row["replications"] == 2
    assert "no effect" not in res.output
    assert json.loads((out / "compare.json").read_text())["manifest"]["unmoved"] == []
    assert res.output.count("at the hubs") == 1
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("At the hubs") == 1 and f"{row['alt']:,.0f}" in page


def test_absent_is_zero_only_in_the_replications_a_run_has() -> None:
    """A key one run lacks counts 0 in that run's replications, in the order the keys first
    appear; a replication the run did not have stays unknown (NaN), not 0."""
    from sim.kpis import pair_replications

    base = pd.DataFrame({"replication": [0, 1], "scope": ["b", "b"], "value": [1.0, 2.0]})
    alt = pd.DataFrame({"replication": [0, 1, 2, 0, 1, 2], "scope": ["y", "y", "y", "b", "b", "b"],
                        "value": [5.0, 6.0, 7.0, 1.5, 2.5, 3.5]})
    both = pair_replications(base, alt, ["scope"], absent_is_zero=True)
    assert list(dict.fromkeys(both["scope"])) == ["b", "y"]
    y = both[both["scope"] == "y"].set_index("replication")
    assert list(y.loc[[0, 1], "value_base"]) == [0.0, 0.0] and pd.isna(y.loc[2, "value_base"])
    assert list(pair_replications(base, alt, ["scope"])["scope"]) == ["b", "b"]


def test_absent_is_zero_in_every_replication_a_run_has_and_unknown_without_rows() -> None:
    """With `absent_is_zero`, a key a run lacks in one of its replications counts 0 there
    even when no run lists it in that replication (a table listing only active hubs: the
    key's mean is over every replication, not only those where some run had it); a run
    with no rows of the figures at all (a table written before their column) stays NaN:
    unknown, not 0 (review 41b, 3). Unpaired runs keep each side's own replications."""
    from sim.kpis import pair_replications

    base = pd.DataFrame({"replication": [0, 1], "scope": ["x", "y"], "value": [5.0, 1.0]})
    alt = pd.DataFrame({"replication": [0, 1], "scope": ["y", "y"], "value": [2.0, 2.0]})
    both = pair_replications(base, alt, ["scope"], absent_is_zero=True)
    x = both[both["scope"] == "x"].set_index("replication")
    assert list(x["value_base"]) == [5.0, 0.0] and list(x["value_alt"]) == [0.0, 0.0]
    assert list(dict.fromkeys(both["scope"])) == ["x", "y"]
    none = base.iloc[:0]
    lone = pair_replications(none, alt, ["scope"], absent_is_zero=True)
    assert lone["value_base"].isna().all() and list(lone["value_alt"]) == [2.0, 2.0]
    # independent runs of 2 and 3 replications: the keys both have, each side in full
    more = pd.DataFrame({"replication": [0, 1, 2, 2], "scope": ["y", "y", "y", "z"],
                         "value": [4.0, 5.0, 9.0, 1.0]})
    apart = pair_replications(base, more, ["scope"], paired=False)
    assert list(apart["scope"]) == ["y"] * 3 and list(apart["value_alt"]) == [4.0, 5.0, 9.0]
    assert apart["value_base"].isna().sum() == 2 and len(pair_replications(base, more,
                                                                            ["scope"])) == 1


def test_a_place_registered_once_reaches_every_output(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Which table a place's figures are read from and how, the file of their deltas and
    whether a place one variant lacks counts 0 were kept in three places (sim.kpis' figures,
    the report's table map, compare's calls by hand: review 41, L8): one entry of
    `sim.kpis.PLACES` carries a kind of place to its file, the console and the report."""
    from sim import kpis

    def waits(hubs: pd.DataFrame) -> kpis.PlaceRows:
        return [(int(r["replication"]), "port_wait_mean_h", str(r["hub"]),
                 float(r["wait_mean_h"])) for r in hubs.to_dict("records")]

    monkeypatch.setitem(kpis.PLACES, "port", kpis.Place(
        table="hubs", read=waits, figures={"port_wait_mean_h": ("wait", "h", 1.0, 1)},
        file="ports_compare.csv", zero_where_absent=frozenset(), only_where_any=False))
    base = L.background_network(tmp_path, {"x": {
        "teu_per_year": 365_000.0, "batch_teu": 100, "diverts_after_hours": 168.0,
        "source": "test"}}, days=120, replications=2)
    out = tmp_path / "cmp"
    res = CliRunner().invoke(main, ["compare", str(base), str(_variant(tmp_path, "shut", 80)),
                                    "--out", str(out)])
    assert res.exit_code == 0, res.output
    ports = pd.read_csv(out / "ports_compare.csv")
    hubs = pd.read_csv(out / "0-test" / "hubs.csv")["hub"]
    assert set(ports["metric"]) == {"port_wait_mean_h"} and set(ports["scope"]) == set(hubs)
    assert not pd.read_csv(out / "compare.csv")["metric"].isin(["port_wait_mean_h"]).any()
    assert set(pd.read_csv(out / "hubs_compare.csv")["scope"]) == {"x"}
    assert "at the ports" in res.output and "ports_compare.csv" in res.output
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("At the ports") == 1 and page.count("At the hubs") == 1
