"""What a variant's changes touch, and the paired figures of those elements: `cqsim compare`
of scenarios/ilstc-expansion.yaml (more rail-sea trains and feeder sailings, more berths at
Qinzhou) showed the channels, the locks and the attribution only; Qinzhou's utilization and
the rail-sea line's load factor were in the two run sections alone, unpaired (planner's
finding M7). Now each service and hub a change names has its paired deltas in
lines_compare.csv and hubs_compare.csv, on the console and in the report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from sim import kpis
from sim.scenario import Change, touched
from tests.support.paths import BASELINE_2023, SCENARIOS

ILSTC_SERVICES = ("south-rail-sea-qinzhou", "south-sea-singapore")
LINE_METRICS = set(kpis.LINE_FIGURES)


# ----------------------------------------------------------------------- what a change names


def _change(record: dict[str, object]) -> Change:
    from pydantic import TypeAdapter

    return TypeAdapter(Change).validate_python(record)


HUB = {"id": "y", "name": "y", "kind": "sea_port", "lon": 2.5, "lat": 30.0,
       "handling_servers": 2, "handling_teu_per_hour": 50.0, "handling_setup_hours": 0.5,
       "yard_teu": 5000.0, "dwell_hours": 10.0, "country": "CN", "sources": "test"}


@pytest.mark.parametrize(("record", "names"), [
    ({"kind": "set", "hub": "qinzhou", "field": "handling_servers", "value": 18},
     (("hub", "qinzhou"),)),
    ({"kind": "scale", "service": "s1", "field": "departures_per_week", "factor": 1.5},
     (("service", "s1"),)),
    ({"kind": "set", "lock": "lk", "field": "lanes", "value": 2}, (("lock", "lk"),)),
    ({"kind": "scale", "link": "a-b", "field": "hours", "factor": 1.1}, (("link", "a-b"),)),
    ({"kind": "disruption", "hub": "x", "start_day": 1, "end_day": 2, "capacity_factor": 0.0},
     (("hub", "x"),)),
    ({"kind": "add_hub", "hub": HUB}, (("hub", "y"),)),
    ({"kind": "remove_service", "service": "s2"}, (("service", "s2"),)),
    ({"kind": "demand_growth", "factor": 1.2, "market": "eu"}, ()),
])
def test_a_change_touches_the_element_it_names(record: dict[str, object],
                                               names: tuple[tuple[str, str], ...]) -> None:
    assert _change(record).touches == names


def test_added_links_services_and_flows_name_theirs() -> None:
    from tests.support import netbuilder as nb

    link = {"id": "a-b2", "from_hub": "a", "to_hub": "b", "mode": "rail", "corridor": "west",
            "km": 10, "hours": 1, "coords": [[0, 30], [0.1, 30]], "sources": "test"}
    assert _change({"kind": "add_link", "link": link}).touches == (("link", "a-b2"),)
    assert _change({"kind": "add_service", "id": "ab2",
                    "service": nb.train(["a", "b"])}).touches == (("service", "ab2"),)
    assert _change({"kind": "add_flow", "flow": nb.flow("a", "b", 100)}).touches == ()


def test_touched_is_what_one_run_changed_and_the_other_did_not() -> None:
    """BASE's changes, which ALT inherits, cancel (whoever wrote them: `set_by` aside);
    a change only BASE made counts too (runs compared with --allow-unrelated); a record no
    longer read as a change (a run of older code) names nothing, without failing."""
    shared = {"kind": "set", "hub": "alashankou", "field": "inbound_trains_per_day",
              "value": 10}
    own = {"kind": "scale", "service": "s1", "field": "departures_per_week", "factor": 2.0}
    base = [{**shared, "set_by": "base.yaml: changes.0"},
            {"kind": "set", "lock": "lk", "field": "lanes", "value": 2, "set_by": "base.yaml"}]
    alt = [{**shared, "set_by": "alt.yaml: changes.0"}, {**own, "set_by": "alt.yaml"},
           {"kind": "teleport", "hub": "z"}]
    assert touched(base, alt) == {("service", "s1"), ("lock", "lk")}
    assert touched(alt, alt) == frozenset() and touched([], []) == frozenset()



def test_a_record_of_a_kind_not_imported_here_still_names_its_element() -> None:
    """An add_hub or add_service of an extension kind not imported where the record is read
    (`cqsim report` without --import) failed to validate and named nothing (review47 L6):
    its element is read from the record's own keys."""
    hub = {"kind": "add_hub", "hub": {"id": "dry_port", "kind": "my_ext_port"}}
    service = {"kind": "add_service", "id": "shuttle", "service": {"kind": "my_ext_line"}}
    setting = {"kind": "set", "hub": "qz", "field": "no_such_field", "value": 3}
    assert touched([], [hub, service, setting]) == {("hub", "dry_port"),
                                                    ("service", "shuttle"), ("hub", "qz")}
    # a record altered by hand (its kind a list) names nothing, without a traceback
    assert touched([], [{"kind": ["set"], "hub": "qz"}]) == frozenset()



def test_an_element_the_scenarios_set_apart_is_touched() -> None:
    """A service, lock or background traffic whose settings differ between the two scenarios
    (or that one has alone) is named, however it was set; one set alike names nothing; runs
    that did not record their elements (None: older run folders) are not compared."""
    base = {"service": {"s1": "aa", "s2": "bb"}, "lock": {"tg": "cc"}, "hub": {"qz": "dd"}}
    alt = {"service": {"s1": "aa", "s2": "b2", "s3": "ee"}, "lock": {"tg": "c2"},
           "hub": {"qz": "dd"}}
    assert touched([], [], base, alt) == {("service", "s2"), ("service", "s3"),
                                          ("lock", "tg")}
    assert touched([], [], base, base) == frozenset()
    assert touched([], [], base, None) == touched([], [], None, alt) == frozenset()


def test_an_edit_names_its_service_however_it_was_made(tmp_path: Path) -> None:
    """The same edit of a service made by a change, by with_overrides and by ALT's own file
    (README: "ALT's own file may set any field") paired its lines for the first two only
    (review48 L1): each now names the service, and the file, not only the change record,
    tells what was set apart."""
    import sim
    from sim.inputs import origin_of
    from sim.scenario import load_scenario
    from tests.support import netbuilder as nb

    base = nb.line_network(tmp_path)
    field = "network.services.ab.departures_per_week"
    by_change = nb.write_scenario(tmp_path / "change.yaml", {
        "extends": base.name, "name": "change", "changes": [
            {"kind": "scale", "service": "ab", "field": "departures_per_week", "factor": 2}]})
    by_file = nb.write_scenario(tmp_path / "file.yaml", {
        "extends": base.name, "name": "file",
        "network": {"services": {"ab": {"departures_per_week": 14}}}})
    same = nb.write_scenario(tmp_path / "same.yaml", {"extends": base.name, "name": "same"})
    origin = origin_of(load_scenario(base))
    for alt in (load_scenario(by_change), sim.with_overrides(base, **{field: 14}),
                load_scenario(by_file)):
        of = origin_of(alt)
        assert touched(origin.changes, of.changes, origin.elements, of.elements) == {
            ("service", "ab")}, alt.name
    of = origin_of(load_scenario(same))
    assert touched(origin.changes, of.changes, origin.elements, of.elements) == frozenset()


def test_a_hub_a_geodata_copy_changes_is_touched_and_paired(tmp_path: Path) -> None:
    """The docs give an existing hub a kind of one's own in a copy of the geodata; an ALT
    that pointed at such a copy had no hubs_compare.csv: run.json digested services, locks
    and background traffic, not hubs (trial49 #6). Each hub's spec is now digested as the
    plan has it, so the copy's hub is named, a hub alike in both is not, and a run folder
    written before the hubs were digested names none of them."""
    import sim
    from sim.compare import compare, split_deltas
    from sim.scenario import HUB_SPECS
    from tests.support import netbuilder as nb

    base = nb.line_network(tmp_path, horizon={"days": 40, "warmup_days": 5}, replications=2)
    copy = tmp_path / "geo-copy"
    shutil.copytree(tmp_path / "geo", copy)
    hubs = json.loads((copy / "hubs.geojson").read_text())
    for feature in hubs["features"]:
        if feature["properties"]["id"] == "a":
            feature["properties"]["handling_teu_per_hour"] = 20.0
    (copy / "hubs.geojson").write_text(json.dumps(hubs))
    alt = nb.write_scenario(tmp_path / "alt.yaml", {
        "extends": base.name, "name": "alt", "network": {"geodata": str(copy)}})
    one, other = sim.prepare(base).origin, sim.prepare(alt).origin
    assert set(one.elements[HUB_SPECS]) == {"a", "b"}
    assert touched(one.changes, other.changes, one.elements, other.elements) == {("hub", "a")}
    older = {k: v for k, v in one.elements.items() if k != HUB_SPECS}
    assert touched(one.changes, other.changes, older, other.elements) == frozenset()

    cmp = compare(base, alt, replications=2)
    hubs_compare = split_deltas(cmp.deltas)[1]["hub"]
    assert set(hubs_compare["scope"]) == {"a"}
    assert kpis.HUB_TOUCHED <= set(hubs_compare["metric"])


def test_ilstc_expansion_touches_its_two_services_and_qinzhou() -> None:
    import warnings

    from sim.inputs import origin_of
    from sim.scenario import load_scenario

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = origin_of(load_scenario(BASELINE_2023)).changes
        alt = origin_of(load_scenario(SCENARIOS / "ilstc-expansion.yaml")).changes
    assert touched(base, alt) == {("service", s) for s in ILSTC_SERVICES} | {("hub", "qinzhou")}


# ----------------------------------------------------------------------- a place's rows


def test_a_place_shows_its_touched_figures_only_where_a_change_named_it() -> None:
    """A hub's utilization only at a hub named, its TEU gone elsewhere at every hub; a line's
    figures only for a line (either direction) of a service named."""
    hubs = pd.DataFrame({"replication": [0, 0], "hub": ["qinzhou", "ningbo"],
                         "background_diverted_teu_per_year": [0.0, 5.0],
                         "utilization": [0.5, 0.7], "wait_mean_h": [1.0, 2.0],
                         "teu_per_year": [10.0, 20.0], "yard_peak_teu": [3.0, 4.0]})
    named = {("hub", "qinzhou"), ("service", "s1")}
    rows = kpis.PLACES["hub"].rows(hubs, named)
    assert {(m, s) for _, m, s, _ in rows if s == "ningbo"} == {
        ("background_diverted_teu_per_year", "ningbo")}
    assert {m for _, m, s, _ in rows if s == "qinzhou"} == set(kpis.HUB_FIGURES)
    lines = pd.DataFrame({"replication": [0, 0, 0], "line": ["s1", "s1:back", "s2"],
                          "service": ["s1", "s1", "s2"], "load_factor": [0.5, 0.4, 0.3],
                          "teu_per_year": [1.0, 2.0, 3.0],
                          "departures_per_year": [52.0, 52.0, 52.0],
                          "boarding_wait_mean_h": [1.0, 2.0, 3.0]})
    rows = kpis.PLACES["line"].rows(lines, named)
    assert {s for _, _, s, _ in rows} == {"s1", "s1:back"} and len(rows) == 8
    assert kpis.PLACES["line"].rows(lines) == [] and kpis.PLACES["line"].rows(lines.iloc[:0],
                                                                             named) == []
    # the figures' names are their own: no channel KPI's (compare.csv's teu_per_year)
    channel = {k.column for k in kpis.compared()}
    assert not channel & (set(kpis.HUB_FIGURES) | set(kpis.LINE_FIGURES))


# ----------------------------------------------------------------------- ilstc compared


@pytest.fixture(scope="module")
def ilstc(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """`cqsim compare` of baseline-2023 and ilstc-expansion, 30 days, 2 replications, its
    feedback passes 30 days shared by the replications (as the report tests' comparison):
    (its folder, the console)."""
    from sim.cli import main

    root = tmp_path_factory.mktemp("ilstc")
    (root / "baseline-2023.yaml").write_text(
        f"name: baseline-2023\nextends: {BASELINE_2023}\n"
        "equilibrium: {days: 30, per_replication: false}\n"
        "demand: {reference_scenario: baseline-2023.yaml}\n", encoding="utf-8")
    shutil.copyfile(SCENARIOS / "ilstc-expansion.yaml", root / "ilstc-expansion.yaml")
    res = CliRunner().invoke(main, ["compare", str(root / "baseline-2023.yaml"),
                                    str(root / "ilstc-expansion.yaml"), "--days", "30",
                                    "--replications", "2", "--out", str(root / "cmp")])
    assert res.exit_code == 0, res.output
    return root / "cmp", res.output


def test_compare_pairs_the_lines_and_hub_the_changes_name(ilstc: tuple[Path, str]) -> None:
    folder, output = ilstc
    lines = pd.read_csv(folder / "lines_compare.csv")
    assert set(lines["variant"]) == {"ilstc-expansion"}
    assert set(lines["scope"]) == {f"{s}{d}" for s in ILSTC_SERVICES for d in ("", ":back")}
    assert set(lines["metric"]) == LINE_METRICS and lines["delta_ci95"].notna().any()
    departures = lines[lines["metric"] == "line_departures_per_year"].set_index("scope")
    # 21 -> 35 trains a week each way: 5/3 the departures, in every replication alike
    assert departures.loc["south-rail-sea-qinzhou", "alt"] == pytest.approx(
        departures.loc["south-rail-sea-qinzhou", "base"] * 35 / 21, rel=0.02)
    hubs = pd.read_csv(folder / "hubs_compare.csv").set_index("metric")
    assert set(hubs["scope"]) == {"qinzhou"} and kpis.HUB_TOUCHED <= set(hubs.index)
    use = hubs.loc["hub_utilization"]
    assert use["alt"] < use["base"] and use["delta"] == pytest.approx(use["alt"] - use["base"])
    assert not pd.read_csv(folder / "compare.csv")["metric"].isin(
        [*LINE_METRICS, *kpis.HUB_TOUCHED]).any()
    # the console: a table of each, its ids whole (folded, never cut with "…")
    assert "ilstc-expansion − base at the lines" in output
    assert "ilstc-expansion − base at the hubs" in output
    assert "south-rail-sea-qinzhou:back" in output and "handling utilization" in output
    assert "…" not in output.split("bottlenecks")[0]
    assert "lines_compare.csv" in output


def test_the_report_shows_them_and_reads_what_compare_wrote(ilstc: tuple[Path, str]) -> None:
    from sim.report import RunDir
    from sim.report.deltas import place_deltas

    folder, _ = ilstc
    base, alt = (RunDir.open(folder / d) for d in ("0-baseline-2023", "1-ilstc-expansion"))
    ours = place_deltas(base, alt, "line")
    theirs = pd.read_csv(folder / "lines_compare.csv")
    both = ours.merge(theirs, on=["metric", "scope"], suffixes=("", "_cmp"))
    assert len(both) == len(theirs) == len(ours)
    pd.testing.assert_series_equal(both["delta"], both["delta_cmp"], check_names=False,
                                   rtol=1e-9)
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert page.count("At the lines") == 1 and page.count("At the hubs") == 1
    section = page.split("At the lines", 1)[1].split("</table>", 1)[0]
    assert "south-rail-sea-qinzhou:back" in section and "load factor" in section
    assert "TEU boarded, TEU/yr" in section
    util = pd.read_csv(folder / "hubs_compare.csv").set_index("metric").loc["hub_utilization"]
    assert f"{util['alt']:.2f}" in page.split("At the hubs", 1)[1].split("</table>", 1)[0]


def test_an_older_run_folder_without_its_changes_still_renders(
        ilstc: tuple[Path, str], tmp_path: Path) -> None:
    """A run folder written before run.json kept the changes: nothing is known touched, so
    no line and no hub figure but the TEU gone elsewhere is shown; the page renders. Such a
    BASE beside a new ALT too: its own changes (the border hubs' recalibration) read as
    ALT's, the hubs shown "named by ilstc-expansion's changes" (review47 L2)."""
    from sim.report import RunDir, page
    from sim.staging import write_manifest

    folder, _ = ilstc
    for old in (("0-baseline-2023",), ("0-baseline-2023", "1-ilstc-expansion")):
        runs = []
        for name in ("0-baseline-2023", "1-ilstc-expansion"):
            shutil.rmtree(tmp_path / name, ignore_errors=True)
            shutil.copytree(folder / name, tmp_path / name)
            if name in old:
                meta = json.loads((tmp_path / name / "run.json").read_text(encoding="utf-8"))
                write_manifest(tmp_path / name, "run.json", {"command": "run", **{
                    k: meta[k] for k in ("scenario", "source_file", "seed", "replications",
                                         "days")}})
            runs.append(RunDir.open(tmp_path / name))
        assert runs[0].changes is None
        text = page.render(runs)
        assert "Differences from the base" in text and "At the lines" not in text, old
        assert "handling utilization" not in text, old


def test_a_hub_only_the_variant_has_pairs_its_teu_not_its_wait(tmp_path: Path) -> None:
    """A hub an add_hub brings had BASE's mean wait, utilization and yard peak counted 0, so
    the comparison said "mean wait +0.4 ± 0.0 h" at a hub BASE lacks (review47 M1): a place
    a variant lacks has no wait, as a lock has not; the TEU it handles counts 0 there, in
    compare's hubs_compare.csv and in the report's differences alike."""
    import yaml

    from sim.cli import main
    from sim.report import deltas as dl
    from sim.report import rundir as rd
    from tests.support import locks as L

    base = L.background_network(tmp_path, {"x": {
        "teu_per_year": 365_000.0, "batch_teu": 100, "diverts_after_hours": 168.0,
        "source": "test"}}, days=30, replications=2)
    background = yaml.safe_load(base.read_text())["network"]["background"]
    alt = tmp_path / "newhub.yaml"
    alt.write_text(yaml.safe_dump({"extends": base.name, "name": "newhub", "changes": [
        {"kind": "add_hub", "why": "test", "hub": {
            "id": "y", "name": "y", "kind": "sea_port", "lon": 2.5, "lat": 30.0,
            "handling_servers": 2, "handling_teu_per_hour": 50.0,
            "handling_setup_hours": 0.5, "yard_teu": 5000.0, "dwell_hours": 10.0,
            "country": "CN", "sources": "test"}}],
        "network": {"background": {**background, "y": {
            "teu_per_year": 365_000.0, "batch_teu": 100, "source": "test"}}}}))
    out = tmp_path / "cmp"
    result = CliRunner().invoke(main, ["compare", str(base), str(alt), "--out", str(out)])
    assert result.exit_code == 0, result.output
    hubs = pd.read_csv(out / "hubs_compare.csv")
    at_y = hubs[hubs["scope"] == "y"].set_index("metric")
    assert set(at_y.index) == {"hub_teu_per_year"} and at_y.loc["hub_teu_per_year", "base"] == 0
    folders = [rd.RunDir(p) for p in sorted(out.iterdir()) if (p / "run.json").is_file()]
    shown = dl.place_deltas(folders[0], folders[1], "hub")
    assert set(shown.loc[shown["scope"] == "y", "metric"]) == {"hub_teu_per_year"}


def test_a_service_only_the_variant_runs_pairs_its_boxes_not_its_load(tmp_path: Path) -> None:
    """A service an add_service brings was left out of lines_compare.csv: a planner adding a
    line saw nothing of it. Its TEU boarded and departures count 0 where it does not run;
    its load factor and boarding wait, which a line that does not run has not, are left out."""
    from sim.compare import compare
    from tests.support import netbuilder as nb

    base = nb.line_network(tmp_path, teu_per_year=20_000, horizon={"days": 30})
    alt = nb.write_scenario(tmp_path / "more.yaml", {
        "extends": base.name, "name": "more", "changes": [
            {"kind": "add_service", "id": "ab2", "service": nb.train(["a", "b"], per_week=3)}]})
    deltas = compare(base, [alt], replications=2).deltas
    new = deltas[deltas["scope"].isin(["ab2", "ab2:back"])].set_index(["scope", "metric"])
    assert set(new.index.get_level_values("metric")) == {"line_teu_per_year",
                                                         "line_departures_per_year"}
    assert (new["base"] == 0).all()
    assert new.loc[("ab2", "line_departures_per_year"), "alt"] == pytest.approx(3 * 52, rel=0.1)


def test_a_lock_operation_set_apart_in_python_names_the_lock() -> None:
    """A lock's operation (network.locks) set apart by no change record is named only through
    its digest; the unit test above hands `touched` digests, not `element_digests`' own."""
    import sim
    from sim.inputs import origin_of
    from sim.scenario import load_scenario

    base = load_scenario(BASELINE_2023)   # divert_wait_hours 72 h in the file
    alt = sim.with_overrides(base, **{
        "network.locks.three_gorges_locks.divert_wait_hours": 200.0})
    one, other = origin_of(base), origin_of(alt)
    assert touched(one.changes, other.changes, one.elements, other.elements) == {
        ("lock", "three_gorges_locks")}
