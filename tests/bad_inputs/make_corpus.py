"""Write the bad-input corpus: malformed scenario and geodata files, each breaking one thing.

Run from anywhere: `python tests/bad_inputs/make_corpus.py`. It rewrites the corpus in this
folder, `cases.json` (what each case breaks, which file and field the error must name, and
the commands to try) and README.md. tests/build/test_bad_inputs.py runs every case's
commands (`cqsim validate FILE` and `cqsim run FILE --out DIR` unless the case says
otherwise).

Every case is a small mutation of `ok.yaml` on `geo_ok/`, which is valid (the test checks
that too), so each failure is caused by the one thing the case breaks.
"""

from __future__ import annotations

import copy
import datetime
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent

PROPS = {"kind": "rail_terminal", "country": "CN", "handling_servers": 2,
         "handling_teu_per_hour": 100.0, "yard_teu": 10000.0, "sources": "test"}


def _hub(ident: str, lon: float, **kw: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": {"id": ident, "name": ident, **PROPS, **kw},
            "geometry": {"type": "Point", "coordinates": [lon, 30.0]}}


def _link(ident: str, a: str, b: str, lon_a: float, lon_b: float, **kw: Any) -> dict:
    props = {"id": ident, "from_hub": a, "to_hub": b, "mode": "rail", "corridor": "west",
             "km": 100.0, "hours": 10.0, "sources": "test", **kw}
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "LineString", "coordinates": [[lon_a, 30.0], [lon_b, 30.0]]}}


GEO_HUBS = [_hub("a", 0.0), _hub("b", 1.0), _hub("c", 2.0)]
GEO_LINKS = [_link("a-b", "a", "b", 0.0, 1.0), _link("b-c", "b", "c", 1.0, 2.0)]

BASE: dict[str, Any] = {
    "name": "bad-input-base",
    "network": {
        "geodata": "geo_ok",
        "services": {"ab": {"corridor": "west", "mode": "rail", "stops": ["a", "b"],
                            "departures_per_week": 7, "vehicle_teu": 100,
                            "price_cny_per_teu": 1000, "source": "test"}},
        "emission_factors": {"rail": {"g_per_tkm": 30, "source": "test"}},
    },
    "horizon": {"days": 10},
    "seed": 1,
    "demand": {
        "lot_teu": 10,
        "classes": {"general": {"value_cny_per_teu": 100000,
                                "value_of_time_cny_per_teu_hour": 10, "source": "test"}},
        "flows": [{"origin": "a", "destination": "b", "commodity": "general",
                   "teu_per_year": 2000, "source": "test"}],
    },
}

CASES: list[dict[str, Any]] = []
# the commands a case is tried with: {file} is the case, {out} a results folder, {here} this
# folder; the default tries the checks alone and a run
DEFAULT_COMMANDS = [["validate", "{file}"], ["run", "{file}", "--out", "{out}"]]
SWEEP_COMMANDS = [["validate", "{file}"], ["sweep", "{file}", "--out", "{out}", "--workers", "1"]]
EXTRA_DIRS = ("extends_chain", "reference_target")


def _dump(doc: dict[str, Any]) -> str:
    return yaml.safe_dump(doc, sort_keys=False)


def case(name: str, breaks: str, field: str, text: str | bytes | None, named: str | None = None,
         commands: list[list[str]] | None = None, kind: str = "scenario") -> None:
    """Write one case (None: written by the caller); `named` is what the error line must
    contain (default: the case's own path; an option such as `--seed` for usage errors) and
    `field` what must follow it; `kind` groups the cases in docs/validation.md."""
    path = HERE / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    elif text is not None:
        path.write_text(text, encoding="utf-8")
    entry: dict[str, Any] = {"file": name, "named": named or name, "field": field,
                             "breaks": breaks, "kind": kind}
    if commands is not None:
        entry["commands"] = commands
    CASES.append(entry)


def mutated(name: str, breaks: str, field: str, change: Callable[[dict], None],
            named: str | None = None, kind: str = "scenario") -> None:
    doc = copy.deepcopy(BASE)
    change(doc)
    case(name, breaks, field, _dump(doc), named=named, kind=kind)


def geo_case(name: str, breaks: str, field: str, hubs: Any = None, links: Any = None,
             raw: dict[str, bytes] | None = None, missing: str | None = None,
             named: str | None = "hubs.geojson", links_loop: bool = False) -> None:
    """A scenario on its own geodata folder `geo_<name>/` with one broken file; `named`
    None: the error names the scenario (its network.geodata)."""
    folder = HERE / f"geo_{name}"
    folder.mkdir(exist_ok=True)
    for fname, feats in (("hubs.geojson", hubs or GEO_HUBS), ("links.geojson",
                                                               links or GEO_LINKS)):
        (folder / fname).write_text(json.dumps({"type": "FeatureCollection",
                                                "features": feats}))
    for fname, data in (raw or {}).items():
        (folder / fname).write_bytes(data)
    if missing:
        (folder / missing).unlink()
    if links_loop:
        (folder / "links.geojson").unlink()
        os.symlink("links.geojson", folder / "links.geojson")
    doc = copy.deepcopy(BASE)
    doc["network"]["geodata"] = f"geo_{name}"
    case(f"geo_{name}.yaml", breaks, field, _dump(doc),
         named=f"geo_{name}/{named}" if named else None, kind="geodata")


def _set(path: str, value: Any) -> Callable[[dict], None]:
    def change(doc: dict) -> None:
        node = doc
        keys = path.split(".")
        for key in keys[:-1]:
            node = node[int(key)] if isinstance(node, list) else node[key]
        last = keys[-1]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return change


def _drop(path: str) -> Callable[[dict], None]:
    def change(doc: dict) -> None:
        node = doc
        keys = path.split(".")
        for key in keys[:-1]:
            node = node[key]
        del node[keys[-1]]
    return change


def _first_kind(name: str) -> str:
    if name.startswith(("syntax_", "top_level", "empty_file", "non_utf8", "alias_bomb",
                        "no_such_scenario")):
        return "file limits"
    if name.startswith(("missing_file", "extends_", "missing_geodata")):
        return "extends and references"
    if name.startswith(("wrong_type", "unknown_top", "unknown_service_key", "unknown_mode",
                        "missing_demand", "change_unknown_kind")):
        return "schema and types"
    if name.startswith(("unknown_hub", "unknown_commodity", "no_route", "same_origin",
                        "change_unknown_hub")):
        return "duplicates and ids"
    return "numbers and bounds"


def _sweep(doc: dict[str, Any]) -> str:
    return _dump({"name": "bad-sweep", "base": "ok.yaml", "replications": 1, **doc})


def _with_changes(*changes: dict[str, Any]) -> Callable[[dict], None]:
    return _set("changes", list(changes))


def hostile_cases(edit: Callable[[str, str], str]) -> None:
    """Cases added by the input-hardening work (issue 14): limits, strict types, duplicates,
    references, malformed geodata, the basemap, cost limits, usage errors, sweeps, targets."""
    ok = _dump(BASE)
    # ------------------------------------------------------------ file limits
    case("deep_yaml_list.yaml", "a value nested 10,000 lists deep", "line ",
         edit("name: bad-input-base", "name: bad-input-base\ndescription: "
              + "[" * 10_000 + "]" * 10_000), kind="file limits")
    case("deep_yaml_mapping.yaml", "a mapping nested 3,000 levels deep", "line ",
         ok + "description: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n", kind="file limits")
    case("duplicate_key.yaml", "seed given twice (the last would win silently)", "line ",
         ok + "seed: 2\n", kind="file limits")
    case("duplicate_service_id.yaml", "a service id given twice in network.services",
         "line ", edit("  services:\n", "  services:\n    ab: {}\n"), kind="file limits")
    case("huge_integer.yaml", "a seed of 5,000 digits (beyond Python's int conversion)", "",
         edit("seed: 1", "seed: " + "9" * 5000), kind="file limits")
    case("python_tag.yaml", "a YAML tag that would run code in an unsafe loader", "line ",
         ok + "description: !!python/object/apply:os.system [\"echo hacked\"]\n",
         kind="file limits")
    case("nul_and_newline_in_value.yaml", "a NUL byte and a newline in a bad value (one "
         "escaped line)", "horizon.days", edit("  days: 10", '  days: "ten\\0days\\nnext line"'),
         kind="file limits")
    case("newline_in_key.yaml", "an unknown key with a newline in it", "hor\\nizon",
         ok + '"hor\\nizon": 1\n', kind="file limits")
    case("long_value.yaml", "a bad value 20,000 characters long (quoted short)",
         "horizon.days", edit("  days: 10", "  days: " + "x" * 20_000), kind="file limits")
    case("symlink_loop.yaml", "the scenario path is a symlink loop", "", None,
         kind="file limits")
    os.symlink("symlink_loop.yaml", HERE / "symlink_loop.yaml")
    case("directory.yaml", "the scenario path is a folder", "", None, kind="file limits")
    (HERE / "directory.yaml").mkdir(exist_ok=True)
    (HERE / "directory.yaml" / ".keep").write_text("a folder named like a scenario\n")
    # ------------------------------------------------------------ extends
    chain = HERE / "extends_chain"
    chain.mkdir(exist_ok=True)
    for n in range(40):
        (chain / f"c{n:02d}.yaml").write_text(f"extends: c{n + 1:02d}.yaml\n" if n < 39 else
                                              ok.replace("geo_ok", "../geo_ok"))
    case("extends_long_chain.yaml", "an extends chain of 41 files", "extends",
         "extends: extends_chain/c00.yaml\nname: long-chain\n", named="extends_chain/c",
         kind="extends and references")
    case("extends_symlink_loop.yaml", "extends a path that is a symlink loop", "extends",
         "extends: symlink_loop.yaml\nname: x\n", kind="extends and references")
    case("extends_directory.yaml", "extends a folder", "extends",
         "extends: geo_ok\nname: x\n", kind="extends and references")
    case("extends_bad_yaml.yaml", "extends a file with a YAML syntax error (the error names "
         "that file and says which file's extends led to it)", "extends_bad_yaml.yaml: extends",
         "extends: syntax_tab_indent.yaml\nname: x\n", named="syntax_tab_indent.yaml",
         kind="extends and references")
    for other in ("pathway", "candidates", "sweep"):
        case(f"extends_{other}.yaml", f"extends a {other} file (the error named only that "
             "file, not the one whose extends led to it)",
             f"extends_{other}.yaml: extends", f"extends: ok_{other}.yaml\nname: x\n",
             named=f"ok_{other}.yaml", kind="extends and references")
    case("extends_empty_name.yaml", "extends an empty file name", "extends",
         "extends: ''\nname: x\n", kind="extends and references")
    mutated("reference_missing.yaml", "demand.reference_scenario names a missing file",
            "demand.reference_scenario", _set("demand.reference_scenario", "no_such.yaml"),
            kind="extends and references")
    mutated("reference_invalid.yaml", "demand.reference_scenario names a file that is not a "
            "scenario (a top-level list)", "demand.reference_scenario",
            _set("demand.reference_scenario", "top_level_list.yaml"),
            kind="extends and references")
    mutated("geodata_is_a_file.yaml", "network.geodata names a file, not a folder",
            "network.geodata", _set("network.geodata", "ok.yaml"),
            kind="extends and references")
    # ------------------------------------------------------------ strict types
    mutated("set_bool_departures.yaml", "set departures_per_week: true (was run as 1)",
            "changes.0.value", _with_changes({"kind": "set", "service": "ab",
                                              "field": "departures_per_week", "value": True}),
            kind="strict types")
    mutated("bool_departures.yaml", "departures_per_week: true in the service",
            "network.services.ab.departures_per_week",
            _set("network.services.ab.departures_per_week", True), kind="strict types")
    mutated("text_vehicle_teu.yaml", "vehicle_teu given as the text '100'",
            "network.services.ab.vehicle_teu", _set("network.services.ab.vehicle_teu", "100"),
            kind="strict types")
    mutated("bool_seed.yaml", "seed: true", "seed", _set("seed", True), kind="strict types")
    mutated("bool_in_seasonality.yaml", "a boolean among the monthly factors",
            "demand.seasonality", _set("demand.seasonality", [1] * 11 + [True]),
            kind="strict types")
    mutated("binary_seed.yaml", "a seed given as !!binary bytes", "seed",
            _set("seed", b"\x00\x01"), kind="strict types")
    mutated("bool_as_text.yaml", "bidirectional: 'off', quoted (was read as false: the "
            "service silently ran one way)", "network.services.ab.bidirectional",
            _set("network.services.ab.bidirectional", "off"), kind="strict types")
    mutated("bool_as_number.yaml", "congestion_aware: 0 (was read as false)",
            "routing.congestion_aware", _set("routing", {"congestion_aware": 0}),
            kind="strict types")
    mutated("stops_as_set.yaml", "stops given as a YAML !!set, which has no order (was run "
            "in an order of the set's making)", "network.services.ab.stops",
            _set("network.services.ab.stops", {"a", "b"}), kind="strict types")
    # ------------------------------------------------------------ duplicates and ids
    mutated("duplicate_flow.yaml", "the same origin, destination and class twice (demand "
            "doubled)", "demand.flows.1", lambda d: d["demand"]["flows"].append(
                copy.deepcopy(d["demand"]["flows"][0])), kind="duplicates and ids")
    mutated("self_loop_add_link.yaml", "an added link from a hub to itself",
            "changes.0.link", _with_changes({"kind": "add_link", "link": {
                "id": "a-a", "from_hub": "a", "to_hub": "a", "mode": "rail",
                "corridor": "west", "km": 10, "hours": 1, "coords": [[0, 30], [0.1, 30]],
                "sources": "test"}}), kind="duplicates and ids")
    geo_case("self_loop", "a geodata link from a hub to itself", "features[a-a]",
             links=[*GEO_LINKS, _link("a-a", "a", "a", 0.0, 0.5)], named="links.geojson")
    mutated("excluded_unknown_hub.yaml", "trade.excluded_hubs names an unknown hub",
            "trade.excluded_hubs.0", _set("trade", {"excluded_hubs": ["atlantis"]}),
            kind="duplicates and ids")
    mutated("excluded_hub_twice.yaml", "trade.excluded_hubs names a hub twice",
            "trade.excluded_hubs.1", _set("trade", {"excluded_hubs": ["a", "a"]}),
            kind="duplicates and ids")
    mutated("service_id_typo.yaml", "a change aimed at service 'abb' (did you mean 'ab'?)",
            "changes.0.service", _with_changes({"kind": "scale", "service": "abb",
                                                "field": "vehicle_teu", "factor": 2}),
            kind="duplicates and ids")
    mutated("services_id_typo.yaml", "a service id under network.services one letter off "
            "an existing one, read as a new service (did you mean 'ab'?)",
            "network.services.abb",
            _set("network.services.abb", {"departures_per_week": 14}),
            kind="duplicates and ids")
    mutated("start_day_as_date.yaml", "start_day: 2025-09-01, a date for a day of the model's "
            "calendar (day 0 = 1 January)", "changes.0.start_day",
            _with_changes({"kind": "disruption", "hub": "a",
                           "start_day": datetime.date(2025, 9, 1), "end_day": 9,
                           "capacity_factor": 0.5}), kind="strict types")
    mutated("change_kind_typo.yaml", "kind: add_flows (did you mean 'add_flow'?)",
            "changes.0.kind", _with_changes({"kind": "add_flows", "flow": {}}),
            kind="duplicates and ids")
    mutated("remove_unknown_service.yaml", "remove_service of a service that does not exist",
            "changes.0.service", _with_changes({"kind": "remove_service", "service": "zz"}),
            kind="duplicates and ids")
    mutated("remove_last_service.yaml", "remove_service of the only service", "changes.0",
            _with_changes({"kind": "remove_service", "service": "ab"}),
            kind="duplicates and ids")
    mutated("add_service_existing.yaml", "add_service with the id of an existing service",
            "changes.0.id", _with_changes({"kind": "add_service", "id": "ab",
                                           "service": BASE["network"]["services"]["ab"]}),
            kind="duplicates and ids")
    mutated("add_flow_duplicate.yaml", "add_flow of a pair and class already in the table",
            "changes.0.flow", _with_changes({"kind": "add_flow",
                                             "flow": BASE["demand"]["flows"][0]}),
            kind="duplicates and ids")
    mutated("add_flow_unknown_hub.yaml", "add_flow from a hub that does not exist",
            "changes.0.flow.origin", _with_changes({"kind": "add_flow", "flow": {
                **BASE["demand"]["flows"][0], "origin": "atlantis"}}),
            kind="duplicates and ids")
    mutated("add_hub_missing_fields.yaml", "add_hub with only an id and a name (every missing "
            "field is listed at once)", "changes.0.hub", _with_changes(
                {"kind": "add_hub", "hub": {"id": "d", "name": "D"}}), kind="duplicates and ids")
    mutated("growth_unknown_origin.yaml", "demand_growth filtered on an unknown origin",
            "changes.0.origin", _with_changes({"kind": "demand_growth", "origin": "atlantis",
                                               "factor": 2}), kind="duplicates and ids")
    # ------------------------------------------------------------ numbers and horizon
    mutated("disruption_after_horizon.yaml", "a disruption wholly after the 10-day horizon",
            "changes.0.start_day", _with_changes({"kind": "disruption", "hub": "a",
                                                  "start_day": 100, "end_day": 120,
                                                  "capacity_factor": 0}),
            kind="numbers and bounds")
    mutated("background_season_zero.yaml", "background traffic whose monthly factors are "
            "all 0 (the error named the background entry, not its seasonality, and no value)",
            "network.background.b.seasonality: expected monthly factors from 0 to 1,000,000 "
            "with a sum of at least 0.000001, got [0",
            lambda d: d["network"].update(background={"b": {
                "teu_per_year": 1000, "batch_teu": 50, "source": "test",
                "seasonality": [0] * 12}}), kind="numbers and bounds")
    mutated("uncertain_unset_optional.yaml", "uncertain: on an optional number the scenario "
            "leaves unset (the message said a numeric field was expected, which it is)",
            "uncertain.network.background.b.diverts_after_hours: expected a path to a numeric "
            "scenario field the scenario sets (it leaves this optional one unset",
            lambda d: (d["network"].update(background={"b": {
                "teu_per_year": 1000, "batch_teu": 50, "source": "test"}}), d.update(
                uncertain={"network.background.b.diverts_after_hours": {
                    "dist": "uniform", "low": 12, "high": 48, "source": "test"}})),
            kind="numbers and bounds")
    mutated("disruption_endless.yaml", "a disruption ending on day 1e308 (accepted; an "
            "outage's window stops at 36,600 days)", "changes.0.end_day: expected a number "
            "<= 36600", _with_changes({"kind": "disruption", "hub": "a", "start_day": 1,
                                       "end_day": 1.0e308, "capacity_factor": 0}),
            kind="numbers and bounds")
    mutated("growth_past_ceiling.yaml", "demand_growth that multiplies a flow past 1e9 TEU/yr",
            "changes.0.factor", lambda d: (_set("demand.flows.0.teu_per_year", 9e8)(d),
                                           _with_changes({"kind": "demand_growth",
                                                          "factor": 1000})(d)),
            kind="numbers and bounds")
    mutated("horizon_under_a_day.yaml", "a horizon of 1e-9 days", "horizon.days",
            _set("horizon.days", 1e-9), kind="numbers and bounds")
    # found by the fuzz test: a rate so small that its inverse overflows crashed the run
    mutated("tiny_departures.yaml", "5e-324 departures a week (the headway overflowed)",
            "network.services.ab.departures_per_week",
            _set("network.services.ab.departures_per_week", 5e-324), kind="numbers and bounds")
    mutated("tiny_truck_capacity.yaml", "a continuous service of 5e-324 TEU a day",
            "network.services.ab.capacity_teu_per_day",
            _set("network.services.ab", {"corridor": "west", "mode": "rail", "stops": ["a", "b"],
                                         "schedule": "continuous", "capacity_teu_per_day": 5e-324,
                                         "price_cny_per_teu": 1000, "source": "test"}),
            kind="numbers and bounds")
    geo_case("tiny_handling_rate", "a hub handling 5e-324 TEU an hour", "features[a]",
             hubs=[_hub("a", 0.0, handling_teu_per_hour=5e-324), *GEO_HUBS[1:]])
    geo_case("tiny_border_trains", "a gauge-change border passing 1e-300 trains a day each "
             "way (a train held its position for 5e301 h: the run delivered nothing, exit 0)",
             "features[b].outbound_trains_per_day: expected a number >= 0.001",
             hubs=[GEO_HUBS[0], _hub("b", 1.0, kind="border", gauge_change=True,
                                     outbound_trains_per_day=1e-300,
                                     inbound_trains_per_day=1e-300), GEO_HUBS[2]])
    # ------------------------------------------------------------ cost limits
    mutated("budget_huge_demand.yaml", "1e9 TEU/yr for a year, allowed by the schema (the "
            "run grew past 3.6 GB)", "expected a run within the limits",
            lambda d: (_set("demand.flows.0.teu_per_year", 1e9)(d),
                       _set("horizon.days", 365)(d)), kind="cost limits")
    mutated("budget_many_replications.yaml", "10,000 replications of 100 years",
            "expected a run within the limits",
            lambda d: (_set("replications", 10_000)(d), _set("horizon.days", 36_500)(d)),
            kind="cost limits")
    # ------------------------------------------------------------ geodata structure
    geo_case("feature_not_object", "a feature that is a string, not an object", "features[0]",
             hubs=["not a feature", *GEO_HUBS])
    geo_case("geometry_string", "a geometry given as the text 'POINT (0 30)'",
             "features[a].geometry", hubs=[{**GEO_HUBS[0], "geometry": "POINT (0 30)"},
                                           *GEO_HUBS[1:]])
    geo_case("point_one_coordinate", "a Point with one coordinate",
             "features[a].geometry.coordinates",
             hubs=[{**GEO_HUBS[0], "geometry": {"type": "Point", "coordinates": [0.0]}},
                   *GEO_HUBS[1:]])
    geo_case("point_bool_coordinate", "a Point whose latitude is true",
             "features[a].geometry.coordinates",
             hubs=[{**GEO_HUBS[0], "geometry": {"type": "Point", "coordinates": [0.0, True]}},
                   *GEO_HUBS[1:]])
    geo_case("properties_list", "properties given as a list", "features[0].properties",
             hubs=[{**GEO_HUBS[0], "properties": [["id", "a"]]}, *GEO_HUBS[1:]])
    geo_case("linestring_one_point", "a link with a single vertex",
             "features[a-b].geometry.coordinates", named="links.geojson",
             links=[{**GEO_LINKS[0], "geometry": {"type": "LineString",
                                                  "coordinates": [[0.0, 30.0]]}},
                    GEO_LINKS[1]])
    geo_case("bool_servers", "handling_servers: true", "features[a].handling_servers",
             hubs=[_hub("a", 0.0, handling_servers=True), *GEO_HUBS[1:]])
    geo_case("deep_nesting", "a GeoJSON nested 100,000 levels deep", "",
             raw={"hubs.geojson": b'{"type": "FeatureCollection", "features": '
                  + b"[" * 100_000 + b"]" * 100_000 + b"}"})
    geo_case("links_symlink_loop", "links.geojson is a symlink loop", "network.geodata",
             named=None, links_loop=True)
    geo_case("basemap_garbage", "basemap.gpkg is not a GeoPackage (random bytes)", "",
             raw={"basemap.gpkg": bytes(range(256)) * 64}, named="basemap.gpkg")
    geo_case("basemap_corrupt", "basemap.gpkg: an SQLite header over zeroed pages", "",
             raw={"basemap.gpkg": b"SQLite format 3\x00" + b"\x10\x00" + b"\x00" * 8190},
             named="basemap.gpkg")
    # ------------------------------------------------------------ command line
    for name, args, option, breaks in (
            ("cli_seed_negative", ["--seed", "-1"], "--seed", "--seed -1"),
            ("cli_days_zero", ["--days", "0"], "--days", "--days 0"),
            ("cli_days_tiny", ["--days", "1e-9"], "--days", "--days 1e-9"),
            ("cli_replications_zero", ["--replications", "0"], "--replications",
             "--replications 0"),
            ("cli_max_memory_text", ["--max-memory", "lots"], "--max-memory",
             "--max-memory lots")):
        CASES.append({"file": "ok.yaml", "named": f"'{option}'", "field": "", "kind":
                      "command line", "breaks": f"{breaks} on a valid scenario", "case": name,
                      "commands": [["validate", "{file}", *args],
                                   ["run", "{file}", "--out", "{out}", *args]]})
    # ------------------------------------------------------------ sweeps
    grid = {"network.services.ab.departures_per_week": list(range(1, 11))}
    grid.update({"horizon.warmup_days": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]})
    big = {"grid": {**grid, **{f"seed{i}": list(range(10)) for i in range(7)}}}
    case("sweep_billion_grid.yaml", "a grid of 10^9 combinations (was built, 5.5 GB, then "
         "MemoryError)", "parameters", _sweep({"parameters": big}), commands=SWEEP_COMMANDS,
         kind="sweep files")
    case("sweep_missing_base.yaml", "a sweep whose base scenario does not exist", "base",
         _sweep({"base": "no_such.yaml", "parameters": {"grid": grid}}),
         commands=SWEEP_COMMANDS, kind="sweep files")
    case("sweep_bool_value.yaml", "a grid value true for departures_per_week",
         "parameters.grid.network.services.ab.departures_per_week",
         _sweep({"parameters": {"grid": {
             "network.services.ab.departures_per_week": [7, True]}}}),
         commands=SWEEP_COMMANDS, kind="sweep files")
    case("sweep_nan_value.yaml", "a grid value NaN (was reported against the union's first "
         "member: departures_per_week.0.bool, expected a valid boolean)",
         "parameters.grid.network.services.ab.departures_per_week.0: expected a finite number",
         _sweep({"parameters": {"grid": {
             "network.services.ab.departures_per_week": [float("nan"), 7]}}}),
         commands=SWEEP_COMMANDS, kind="sweep files")
    case("sweep_list_value.yaml", "a grid value that is a list, [[7], 10] (was reported "
         "against the union's first member: departures_per_week.0.bool, expected a valid "
         "boolean, 3 more problems after this one)",
         "parameters.grid.network.services.ab.departures_per_week.0: expected a number, a "
         "boolean or a text (one value", _sweep({"parameters": {"grid": {
             "network.services.ab.departures_per_week": [[7], 10]}}}),
         commands=SWEEP_COMMANDS, kind="sweep files")
    case("sweep_duplicate_points.yaml", "two equal points (ran the same variant twice under "
         "two labels)", "parameters",
         _sweep({"parameters": {"points": [
             {"network.services.ab.departures_per_week": 7},
             {"network.services.ab.departures_per_week": 7.0}]}}),
         commands=SWEEP_COMMANDS, kind="sweep files")
    case("sweep_no_points.yaml", "points: [] (an IndexError traceback)", "parameters",
         _sweep({"parameters": {"points": []}}), commands=SWEEP_COMMANDS, kind="sweep files")
    case("sweep_empty_point.yaml", "a point that sets nothing (ran the base as a variant)",
         "parameters", _sweep({"parameters": {"points": [{}]}}), commands=SWEEP_COMMANDS,
         kind="sweep files")
    case("sweep_duplicate_key.yaml", "a sweep file with replications given twice", "line ",
         _sweep({"parameters": {"grid": grid}}) + "replications: 2\n",
         commands=SWEEP_COMMANDS, kind="sweep files")
    case("sweep_deep.yaml", "a sweep file nested 5,000 levels deep", "line ",
         _sweep({"parameters": {"grid": grid}}) + "description: " + "[" * 5000 + "]" * 5000
         + "\n", commands=SWEEP_COMMANDS, kind="sweep files")
    case("sweep_base_broken.yaml", "a sweep whose base is not a scenario (the error names "
         "the sweep file's base)", "sweep_base_broken.yaml: base",
         _sweep({"base": "top_level_list.yaml", "parameters": {"grid": grid}}),
         named="top_level_list.yaml", commands=SWEEP_COMMANDS, kind="sweep files")
    # ------------------------------------------------------------ calibration targets
    calibrate = [["calibrate", "{here}/ok.yaml", "--targets", "{file}", "--out",
                  "{out}/calibration.csv"]]
    header = ("id,metric,published,low,high,unit,measure,how_measured,source\n")
    row = "t,trains,10,5,20,trains/yr,loaded_departures:west:rail,how,src\n"
    case("targets_binary.csv", "a binary file given as --targets", "", bytes(range(256)) * 8,
         commands=calibrate, kind="calibration table")
    case("targets_nul.csv", "a targets table with a NUL byte", "",
         header + row.replace("how", "h\x00w"), commands=calibrate, kind="calibration table")
    case("targets_short_row.csv", "a targets row with too few values", "line 2",
         header + "t,trains,10\n", commands=calibrate, kind="calibration table")
    case("targets_cut_in_quote.csv", "a targets table cut short inside a quoted cell (its "
         "last cell swallowed the rows after the cut, and the rest was read as valid)",
         "line 3: expected valid CSV (the file ends inside a quoted cell",
         header + row + row.replace("t,", "u,").replace("how", '"how, it is counted'),
         commands=calibrate, kind="calibration table")
    case("targets_infinite.csv", "published, low and high all infinite", "line 2",
         header + row.replace("10,5,20", "inf,inf,inf"), commands=calibrate,
         kind="calibration table")
    case("targets_empty.csv", "an empty targets table (it listed every column as missing)",
         "header: expected a header row", "", commands=calibrate, kind="calibration table")
    case("targets_duplicate_id.csv", "two targets with one id", "line 3.id",
         header + row + row, commands=calibrate, kind="calibration table")
    case("targets_zero.csv", "a published figure of 0 (ZeroDivisionError after the run)",
         "line 2.published", header + row.replace("10,5,20", "0,0,20"), commands=calibrate,
         kind="calibration table")
    case("targets_unknown_mode.csv", "a measure of a mode there is none of (teleport: ran, "
         "measured 0 without a word and wrote --out, exit 1)", "line 2.measure: expected "
         "loaded_departures naming a mode: one of 'rail'",
         header + row.replace(":rail", ":teleport"), commands=calibrate,
         kind="calibration table")
    case("targets_unknown_corridor.csv", "a measure of a corridor there is none of (mars: "
         "only a warning, then a run that measured 0 and wrote --out)", "line 2.measure: "
         "expected loaded_departures naming a corridor: one of 'east'",
         header + row.replace(":west:", ":mars:"), commands=calibrate,
         kind="calibration table")
    case("pathway_as_scenario.yaml", "a pathway file given where a scenario is read (the "
         "message listed six missing scenario fields)", "expansions",
         "name: p\nscenario: ok.yaml\nbase_year: 2023\nexpansions: []\n")
    case("candidates_as_scenario.yaml", "a candidates file given where a scenario is read",
         "candidates", "name: c\nscenario: ok.yaml\nbase_year: 2023\ncandidates: []\n")
    case("sweep_as_scenario.yaml", "a sweep file given where a scenario is read (the "
         "message listed the missing scenario fields)", "parameters",
         "name: s\nbase: ok.yaml\nparameters:\n  grid:\n    "
         "network.services.ab.departures_per_week: [7, 14]\n",
         commands=[["list", "services", "{file}"], ["run", "{file}", "--out", "{out}"]])
    # ------------------------------------------------------------ compare and rank
    case("compare_same_name.yaml", "two alternatives of one name (a traceback after every "
         "run: the variants are told apart by name)", "name",
         "extends: ok.yaml\nname: ok-alternative\nchanges:\n  - {kind: set, service: ab, "
         "field: departures_per_week, value: 21}\n", kind="compare and rank",
         commands=[["compare", "{here}/ok.yaml", "{here}/ok_alternative.yaml", "{file}",
                    "--replications", "2", "--out", "{out}"]])
    case("compare_unrelated.yaml", "compare an alternative that does not extend BASE "
         "(ran silently: alashankou-closure vs baseline showed +85k TEU/yr)", "extends",
         ok.replace("bad-input-base", "unrelated"), kind="compare and rank",
         commands=[["compare", "{here}/ok.yaml", "{file}", "--replications", "2",
                    "--out", "{out}"]])
    case("rank_unrelated.yaml", "rank a candidate scenario that does not extend BASE",
         "extends", "extends: compare_unrelated.yaml\nname: unrelated-candidate\n",
         kind="compare and rank", commands=[["rank", "{here}/ok.yaml", "{file}",
                                             "--replications", "2", "--out", "{out}"]])
    # ------------------------------------------------------------ output confinement
    mutated("name_escapes_then_fails.yaml", "name: ../../x with a bad horizon (nothing may "
            "be written anywhere)", "horizon.days", lambda d: (
                _set("name", "../../escaped")(d), _set("horizon.days", -1)(d)),
            kind="paths")


def audit_cases() -> None:
    """Cases of the adversarial input audit: each ran silently, hung or ended in a traceback
    before its fix."""
    mutated("growth_unknown_market.yaml", "demand_growth filtered on a market the scenario "
            "does not have (grew nothing, silently; a pathway's growth of it too)",
            "changes.0.market", _with_changes({"kind": "demand_growth", "market": "atlantis",
                                               "factor": 2}), kind="audit")
    mutated("background_huge.yaml", "background traffic of 1e9 TEU/yr in jobs of 0.001 TEU "
            "(validated, then the run never ended)", "expected a run within the limits",
            _set("network.background", {"a": {"teu_per_year": 1e9, "batch_teu": 0.001,
                                               "source": "test"}}), kind="audit")
    mutated("flow_gateway_no_market.yaml", "a flow bound to a gateway in a scenario with no "
            "market section (the binding was dropped, silently)", "demand.flows.0.gateway",
            _set("demand.flows.0.gateway", "west"), kind="audit")
    mutated("flow_market_written.yaml", "a written flow that names a market (taken for a "
            "market-table flow, silently)", "demand.flows.0.market",
            _set("demand.flows.0.market", "eu"), kind="audit")

    pathway = {"scenario": "ok.yaml", "base_year": 2023, "to": 2024, "samples": 1, "days": 10,
               "expansions": [{"name": "more-trains", "in_service": 2024, "lead_time_years": 1,
                               "source": "test", "changes": [{
                                   "kind": "scale", "service": "ab",
                                   "field": "departures_per_week", "factor": 2}]}]}
    candidates = {"scenario": "ok.yaml", "base_year": 2023, "decided_from": 2023, "days": 10,
                  "candidates": [{"name": "more-trains", "lead_time_years": 0,
                                  "lead_time_source": "assumption: test", "capital_cny": 1,
                                  "capital_source": "assumption: test",
                                  "operating_cny_per_year": 1,
                                  "operating_source": "assumption: test",
                                  "changes": pathway["expansions"][0]["changes"]}]}
    (HERE / "ok_pathway.yaml").write_text(_dump(pathway))
    (HERE / "ok_candidates.yaml").write_text(_dump(candidates))
    run_pathway = [["pathway", "{file}", "--workers", "1", "--out", "{out}/new"]]
    run_plan = [["plan", "{file}", "--year", "2023", "--first", "2", "--most", "2",
                 "--confirm", "0", "--workers", "1", "--out", "{out}/new"]]
    for name, breaks, field, doc, commands in (
            ("pathway_days_tiny.yaml", "a pathway of 1e-9-day runs (a traceback after its "
             "runs had failed, their files left in --out)", "days",
             {**pathway, "days": 1e-9}, run_pathway),
            ("pathway_growth_unknown_market.yaml", "growth of a market the scenario does not "
             "have (ran, growing nothing)", "growth",
             {**pathway, "growth": {"atlantis": {"dist": "uniform", "low": 0, "high": 1,
                                                 "source": "test"}}}, run_pathway),
            ("pathway_to_before_base.yaml", "a pathway ending before its base year (the "
             "error named no field)", "to: expected a year not before base_year",
             {**pathway, "to": 2020}, run_pathway),
            ("pathway_lead_time_before_base.yaml", "an expansion in service in 2024 with a "
             "5-year lead time on a 2023 base, a decision the pathway never took (accepted, the "
             "lead time unread)", "expansions.0.lead_time_years: expected a lead time",
             {**pathway, "expansions": [{**pathway["expansions"][0], "lead_time_years": 5}]},
             run_pathway),
            ("pathway_in_service_before_decided.yaml", "an expansion in service in 2024 on a "
             "pathway deciding from 2025 (refused as a lead time of at most -1 years)",
             "expansions.0.in_service: expected a year no earlier than decided_from",
             {**pathway, "decided_from": 2025}, run_pathway),
            ("pathway_missing_scenario.yaml", "a pathway whose scenario does not exist (the "
             "error named only the missing file)", "scenario",
             {**pathway, "scenario": "no_such_base.yaml"}, run_pathway),
            ("plan_days_tiny.yaml", "candidates run for 1e-9 days (a traceback after the "
             "first runs, their files left in --out)", "days", {**candidates, "days": 1e-9},
             run_plan),
            ("plan_base_year_after_year.yaml", "a candidates file whose base year is after "
             "the target year (the error blamed --year alone, naming neither the file nor "
             "base_year)", "base_year: expected a base year no later than the target year",
             {**candidates, "base_year": 2024, "decided_from": 2024}, run_plan),
            ("plan_unknown_service.yaml", "a candidate scaling a service that does not exist "
             "(a traceback after the other portfolios had run)", "candidates.0.changes",
             {**candidates, "candidates": [{**candidates["candidates"][0], "changes": [{
                 "kind": "scale", "service": "atlantis", "field": "departures_per_week",
                 "factor": 2}]}]}, run_plan),
            ("pathway_growth_from_calibration.yaml", "growth drawn from_calibration, which "
             "only a scenario's uncertain inputs take (the error named no field)",
             "growth.eu.dist: expected a growth rate drawn from normal",
             {**pathway, "growth": {"eu": {"dist": "from_calibration"}}}, run_pathway),
            ("plan_growth_from_calibration.yaml", "growth drawn from_calibration in a "
             "candidates file (the error named no field)",
             "growth.eu.dist: expected a growth rate drawn from normal",
             {**candidates, "growth": {"eu": {"dist": "from_calibration"}}}, run_plan)):
        case(name, breaks, field, _dump(doc), commands=commands, kind="audit")
    for command, args in (("pathway", run_pathway[0][:-1]), ("plan", run_plan[0][:-1])):
        CASES.append({"file": f"ok_{'pathway' if command == 'pathway' else 'candidates'}.yaml",
                      "case": f"{command}_out_is_a_file", "named": "{out}/sentinel.csv",
                      "field": "--out: expected a folder", "kind": "audit",
                      "breaks": f"{command} --out: an existing file (a traceback)",
                      "commands": [[*args, "{out}/sentinel.csv"]]})
    CASES.append({"file": "ok.yaml", "case": "uncertainty_days_tiny", "named": "'--days'",
                  "field": "", "kind": "audit", "breaks": "uncertainty --days 1e-9 (a "
                  "traceback: the option allowed what the study's runs refuse)",
                  "commands": [["uncertainty", "{file}", "--days", "1e-9", "--out",
                                "{out}/new"]]})


def fuzz_cases() -> None:
    """Cases of the bad-input fuzz (main bda856d, /work/scratch/fuzz): each was refused in one
    line that said pydantic's text, or named the wrong field, before its fix."""
    bare = {k: v for k, v in GEO_HUBS[0]["properties"].items() if k != "country"}
    for name, props, got in (("missing", bare, ""), ("null", {**bare, "country": None},
                                                       ", got null"),
                             ("empty", {**bare, "country": ""}, ", got ''")):
        geo_case(f"country_{name}", f"a hub whose country is {name} (expected Field "
                 "required)", f"features[a].country: expected a value (the attribute is "
                 f"required){got}", hubs=[{**GEO_HUBS[0], "properties": props},
                                          *GEO_HUBS[1:]])
    # a warning of valid input (--days 3 within the 5-day warm-up), then a refusal that
    # needs the scenario read: the warning printed before the error line (2 lines)
    warns = copy.deepcopy(BASE)
    warns["horizon"]["warmup_days"] = 5
    (HERE / "ok_warmup.yaml").write_text(_dump(warns))
    for name, options, named, field in (
            ("calibrate_warning_then_out_is_input", ["--out", "{here}/geo_ok/hubs.geojson",
                                                     "--overwrite"],
             "{here}/geo_ok/hubs.geojson", "--out: expected a file that is not an input"),
            ("calibrate_warning_then_estimates_out_foreign",
             ["--estimate", "--estimates-out", "{out}/sentinel.csv"], "{out}/sentinel.csv",
             "--estimates-out: expected a new file or one cqsim wrote")):
        shown = " ".join(options)
        CASES.append({"file": "ok_warmup.yaml", "case": name, "named": named, "field": field,
                      "kind": "fuzz", "breaks": f"calibrate --days 3 (a warning) {shown} (the "
                      "warning printed before the error)",
                      "commands": [["calibrate", "{file}", "--days", "3", *options]]})
    (HERE / "ok_warmup_alternative.yaml").write_text(
        "extends: ok_warmup.yaml\nname: ok-warmup-alternative\nchanges:\n  - {kind: set, "
        "service: ab, field: departures_per_week, value: 14}\n")
    for command in ("compare", "rank"):   # --out holds a file the runs read (the geodata)
        CASES.append({"file": "ok_warmup.yaml", "case": f"{command}_warning_then_out_holds_input",
                      "named": "{here}/geo_ok", "field": "--out: expected a folder that does "
                      "not hold an input", "kind": "fuzz", "breaks": f"{command} --days 3 (a "
                      "warning) --out geo_ok/ (the warning printed before the error)",
                      "commands": [[command, "{file}", "{here}/ok_warmup_alternative.yaml",
                                    "--days", "3", "--replications", "2", "--out",
                                    "{here}/geo_ok"]]})
    # a scenario that warns as it loads (its flows replace the base's), then a refusal in a
    # study's own code: the warning printed before the error line
    (HERE / "ok_warns_on_loading.yaml").write_text(
        "extends: ok.yaml\nname: warns-on-loading\ndemand:\n  flows:\n    - {origin: b, "
        "destination: a, commodity: general, teu_per_year: 1000, source: test}\n")
    pathway, candidates = (yaml.safe_load((HERE / f"ok_{k}.yaml").read_text())
                           for k in ("pathway", "candidates"))
    for name, doc, command in (
            ("pathway", pathway, ["pathway", "{file}", "--workers", "1"]),
            ("plan", candidates, ["plan", "{file}", "--year", "2023", "--first", "2", "--most",
                                  "2", "--confirm", "0", "--workers", "1"])):
        case(f"{name}_warning_then_out_is_a_file.yaml", f"{name} of a scenario that warns as "
             "it loads, --out an existing file (the warning printed before the error, twice)",
             "--out: expected a folder", _dump({**doc, "scenario": "ok_warns_on_loading.yaml"}),
             named="{out}/sentinel.csv", commands=[[*command, "--out", "{out}/sentinel.csv"]],
             kind="fuzz")
    case("sweep_warning_then_out_holds_input.yaml", "a sweep of a base that warns as it loads, "
         "--out geo_ok/ (the warning printed before the error)",
         "--out: expected a folder that does not hold an input",
         _sweep({"base": "ok_warns_on_loading.yaml", "parameters": {"grid": {
             "network.services.ab.departures_per_week": [7, 14]}}}), named="{here}/geo_ok",
         commands=[["sweep", "{file}", "--workers", "1", "--out", "{here}/geo_ok"]],
         kind="fuzz")
    CASES.append({"file": "ok_warns_on_loading.yaml", "case": "uncertainty_warning_then_refused",
                  "named": "ok_warns_on_loading.yaml", "field": "uncertain", "kind": "fuzz",
                  "breaks": "uncertainty of a scenario that warns as it loads and has no "
                            "uncertain: inputs (the warning printed before the error)",
                  "commands": [["uncertainty", "{file}", "--out", "{out}/new"]]})
    mutated("replications_too_large.yaml", "replications: 1.0e+300 (expected Unable to parse "
            "input string as an integer, exceeded maximum size)",
            "replications: expected a whole number", _set("replications", 1e300),
            kind="fuzz")


def output_cases() -> None:
    """Hostile `--out` values, with valid inputs: each refused before anything runs, one
    line naming the folder (or file) and the option. `{out}` is the test's results folder,
    which holds a file cqsim did not write (`sentinel.csv`); `named` is taken as written
    when it starts with `'`, `-` or `/` (after `{out}` is filled in)."""
    (HERE / "ok_sweep.yaml").write_text(_sweep({"parameters": {"grid": {
        "network.services.ab.departures_per_week": [7, 14]}}}))
    (HERE / "ok_alternative.yaml").write_text(
        "extends: ok.yaml\nname: ok-alternative\nchanges:\n  - {kind: set, service: ab, "
        "field: departures_per_week, value: 14}\n")
    run = ["run", "{here}/ok.yaml", "--out"]
    for name, breaks, out, named, field in (
            ("out_foreign_folder", "a folder holding files cqsim did not write", "{out}",
             "{out}", "--out: expected an empty folder or one cqsim wrote"),
            ("out_is_a_file", "an existing file", "{out}/sentinel.csv",
             "{out}/sentinel.csv", "--out: expected a folder"),
            ("out_dev_null", "/dev/null (was a traceback after the whole run)", "/dev/null",
             "/dev/null", "--out: expected a folder"),
            ("out_empty", "an empty name (was the working folder)", "", "''", "--out"),
            ("out_root", "/ (23 files were written into /)", "/", "/: --out",
             "a folder below the root"),
            ("out_unwritable", "a place nothing can be written to, even as root (was a "
             "traceback after the whole run)", "/proc/cqsim-results", "/proc/cqsim-results",
             "--out: expected a folder in a place this user can write to")):
        entry = {"file": "ok.yaml", "case": name, "named": named, "field": field,
                 "kind": "outputs", "breaks": f"run --out: {breaks}", "commands": [[*run, out]]}
        if out == "/":  # replay.py must not try it on a revision that fails it
            entry["unsafe_to_replay"] = "code that fails it writes its results into /"
        CASES.append(entry)
    for command, args in (
            ("compare", ["compare", "{here}/ok.yaml", "{here}/ok_alternative.yaml",
                         "--replications", "2"]),
            ("rank", ["rank", "{here}/ok.yaml", "{here}/ok_alternative.yaml",
                      "--replications", "2"]),
            ("sweep", ["sweep", "{here}/ok_sweep.yaml", "--workers", "1"])):
        CASES.append({"file": "ok.yaml", "case": f"{command}_out_foreign_folder",
                      "named": "{out}", "field": "--out: expected an empty folder",
                      "kind": "outputs", "breaks": f"{command} --out: a folder holding files "
                      "cqsim did not write", "commands": [[*args, "--out", "{out}"]]})
        CASES.append({"file": "ok.yaml", "case": f"{command}_out_dev_null",
                      "named": "/dev/null", "field": "--out: expected a folder",
                      "kind": "outputs", "breaks": f"{command} --out /dev/null",
                      "commands": [[*args, "--out", "/dev/null"]]})
    calibrate = ["calibrate", "{here}/ok.yaml", "--out"]
    for name, breaks, out, named, field in (
            ("calibrate_out_folder", "a folder (was a traceback)", "{out}", "{out}",
             "--out: expected a file name for a table; it is a folder"),
            ("calibrate_out_foreign_file", "a file cqsim did not write", "{out}/sentinel.csv",
             "{out}/sentinel.csv", "--out: expected a new file or one cqsim wrote"),
            ("calibrate_out_dev_null", "/dev/null (a device: the atomic rename would replace "
             "it)", "/dev/null", "/dev/null", "--out: expected a file name")):
        entry = {"file": "ok.yaml", "case": name, "named": named, "field": field,
                 "kind": "outputs", "breaks": f"calibrate --out: {breaks}",
                 "commands": [[*calibrate, out]]}
        if out == "/dev/null":  # as root, code that fails it makes /dev/null a plain file
            entry["unsafe_to_replay"] = "code that fails it, run as root, replaces /dev/null " \
                                        "with a regular file"
        CASES.append(entry)
    CASES.append({"file": "ok_sweep.yaml", "case": "sweep_tls_without_certificates",
                  "named": "--scheduler tls://", "field": "--tls-ca-file", "kind": "outputs",
                  "breaks": "a tls:// scheduler without certificates (one line before any "
                            "connection)",
                  "commands": [["sweep", "{file}", "--scheduler", "tls://127.0.0.1:9",
                                "--out", "{out}/new"]]})


def build_corpus() -> None:
    for old in HERE.iterdir():
        if old.is_dir() and not old.is_symlink() and (
                old.name.startswith("geo_") or old.name in EXTRA_DIRS or old.suffix == ".yaml"):
            shutil.rmtree(old)
        elif old.suffix in (".yaml", ".csv"):
            old.unlink()
    CASES.clear()
    good = HERE / "geo_ok"
    good.mkdir(exist_ok=True)
    for fname, feats in (("hubs.geojson", GEO_HUBS), ("links.geojson", GEO_LINKS)):
        (good / fname).write_text(json.dumps({"type": "FeatureCollection", "features": feats},
                                             indent=1))
    (HERE / "ok.yaml").write_text(_dump(BASE))

    ok = _dump(BASE)

    def edit(old: str, new: str) -> str:
        assert old in ok, old
        return ok.replace(old, new)

    # ------------------------------------------------------------ YAML and file level
    case("syntax_unclosed_bracket.yaml", "YAML syntax: a flow sequence never closed",
         "line ", edit("name: bad-input-base", "name: [bad-input-base"))
    case("syntax_tab_indent.yaml", "YAML syntax: a tab used for indentation", "line ",
         edit("  days: 10", "\tdays: 10"))
    case("syntax_duplicate_colon.yaml", "YAML syntax: a mapping value where none is allowed",
         "line ", edit("seed: 1", "seed: 1: 2"))
    case("top_level_list.yaml", "a list instead of a mapping at the top level", "",
         "- name: x\n- seed: 1\n")
    case("empty_file.yaml", "an empty file", "", "")
    case("non_utf8.yaml", "bytes that are not UTF-8 (Latin-1 text)", "",
         edit("bad-input-base", "caf\u00e9").encode("latin-1"))
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n"
        for i in range(8))
    case("alias_bomb.yaml", "a YAML alias bomb (billion laughs: 9^9 elements)", "line ",
         bomb + ok)
    case("missing_file.yaml", "extends a scenario file that does not exist", "extends",
         "extends: no_such_base.yaml\nname: missing-base\n")
    CASES.append({"file": "no_such_scenario.yaml", "named": "no_such_scenario.yaml",
                  "field": "", "breaks": "the scenario file itself does not exist"})
    case("extends_cycle_a.yaml", "a cycle of extends: a -> b -> a", "extends",
         "extends: extends_cycle_b.yaml\nname: cycle-a\n", named="extends_cycle_")
    (HERE / "extends_cycle_b.yaml").write_text("extends: extends_cycle_a.yaml\nname: b\n")
    case("extends_self.yaml", "extends itself", "extends",
         "extends: extends_self.yaml\nname: self\n")
    case("extends_not_string.yaml", "extends is a list, not a file name", "extends",
         "extends: [ok.yaml]\nname: x\n")

    # ------------------------------------------------------------ wrong types, unknown keys
    mutated("wrong_type_days.yaml", "horizon.days is text", "horizon.days",
            _set("horizon.days", "ten"))
    mutated("wrong_type_seed.yaml", "seed is a list", "seed", _set("seed", [1, 2]))
    mutated("wrong_type_stops.yaml", "service stops is a string", "network.services.ab.stops",
            _set("network.services.ab.stops", "a b"))
    mutated("wrong_type_flows.yaml", "demand.flows is a mapping", "demand.flows",
            _set("demand.flows", {"a": "b"}))
    mutated("unknown_top_key.yaml", "a misspelt top-level key (horizn)", "horizn",
            _set("horizn", {"days": 5}))
    mutated("unknown_service_key.yaml", "an unknown service attribute (speed_kmh)",
            "network.services.ab.speed_kmh", _set("network.services.ab.speed_kmh", 80))
    mutated("unknown_mode.yaml", "an unknown transport mode (teleport)",
            "network.services.ab.mode", _set("network.services.ab.mode", "teleport"))
    mutated("missing_demand.yaml", "no demand section", "demand", _drop("demand"))

    # ------------------------------------------------------------ references
    mutated("unknown_hub_in_service.yaml", "a service stops at a hub not in the geodata",
            "network.services.ab.stops", _set("network.services.ab.stops", ["a", "atlantis"]))
    mutated("unknown_hub_in_flow.yaml", "a flow from a hub not in the geodata",
            "demand.flows.0.origin", _set("demand.flows.0.origin", "atlantis"))
    mutated("unknown_commodity.yaml", "a flow of an undefined commodity class",
            "demand", _set("demand.flows.0.commodity", "unobtainium"))
    mutated("no_route.yaml", "an origin-destination pair no service joins (a -> c)",
            "demand.flows.0", _set("demand.flows.0.destination", "c"))
    mutated("same_origin_destination.yaml", "a flow from a hub to itself",
            "demand.flows.0", _set("demand.flows.0.destination", "a"))
    mutated("missing_geodata_dir.yaml", "network.geodata names a folder that does not exist",
            "network.geodata", _set("network.geodata", "no_such_folder"))
    mutated("change_unknown_hub.yaml", "a change aimed at a hub that does not exist",
            "changes.0.hub", _set("changes", [{"kind": "scale", "hub": "atlantis",
                                               "field": "handling_servers", "factor": 2}]))
    mutated("change_unknown_kind.yaml", "a change of an unknown kind", "changes.0",
            _set("changes", [{"kind": "teleport", "hub": "a"}]))

    # ------------------------------------------------------------ bad numbers
    mutated("negative_departures.yaml", "negative departures per week",
            "network.services.ab.departures_per_week",
            _set("network.services.ab.departures_per_week", -3))
    mutated("zero_vehicle_teu.yaml", "a train that carries 0 TEU",
            "network.services.ab.vehicle_teu", _set("network.services.ab.vehicle_teu", 0))
    case("nan_vehicle_teu.yaml", "a NaN vehicle capacity", "network.services.ab.vehicle_teu",
         edit("vehicle_teu: 100", "vehicle_teu: .nan"))
    case("inf_teu_per_year.yaml", "infinite annual demand", "demand.flows.0.teu_per_year",
         edit("teu_per_year: 2000", "teu_per_year: .inf"))
    mutated("zero_horizon.yaml", "a horizon of 0 days", "horizon.days", _set("horizon.days", 0))
    mutated("negative_horizon.yaml", "a horizon of -5 days", "horizon.days",
            _set("horizon.days", -5))
    mutated("warmup_longer_than_run.yaml", "a warm-up as long as the run", "horizon",
            _set("horizon.warmup_days", 10))
    mutated("exponent_as_text.yaml", "1e3, which YAML 1.1 reads as text (the message now "
            "says how to write it)", "seed: expected a number (not text); YAML reads 1e3 as "
            "text: write 1.0e+03", _set("seed", "1e3"))
    mutated("quoted_number.yaml", "a number in quotes, which YAML reads as text (the "
            "advice was to write 3.1e+01)", "seed: expected a number (not text); write it "
            "without quotes", _set("seed", "31"))
    mutated("name_escape_codes.yaml", "a name with an ANSI escape code (it recoloured the "
            "terminal through the console's table titles)", "name",
            _set("name", "\x1b[31mred"))
    mutated("warmup_leaves_minutes.yaml", "a warm-up that leaves 0.001 days to measure (its "
            "counts were annualised x 365,000 without a word)", "horizon",
            _set("horizon.warmup_days", 9.999))
    mutated("absurd_horizon.yaml", "a horizon of a billion days", "horizon.days",
            _set("horizon.days", 1e9))
    mutated("absurd_teu_per_year.yaml", "1e30 TEU a year", "demand.flows.0.teu_per_year",
            _set("demand.flows.0.teu_per_year", 1e30))
    mutated("absurd_replications.yaml", "a billion replications", "replications",
            _set("replications", 10**9))
    mutated("absurd_seed.yaml", "a seed beyond 63 bits", "seed", _set("seed", 2**70))
    mutated("zero_lot_teu.yaml", "lots of 0 TEU", "demand.lot_teu", _set("demand.lot_teu", 0))
    mutated("empty_demand.yaml", "an empty origin-destination table", "demand.flows",
            _set("demand.flows", []))
    mutated("empty_services.yaml", "no services at all", "network.services",
            _set("network.services", {}))
    mutated("short_seasonality.yaml", "seasonality with 3 months instead of 12",
            "demand.seasonality", _set("demand.seasonality", [1, 1, 1]))

    # ------------------------------------------------------------ geodata
    geo_case("bad_json", "hubs.geojson is not valid JSON", "line ",
             raw={"hubs.geojson": b'{"type": "FeatureCollection", "features": [}'})
    geo_case("not_feature_collection", "hubs.geojson is a single Feature", "type",
             raw={"hubs.geojson": json.dumps(GEO_HUBS[0]).encode()})
    geo_case("empty_features", "hubs.geojson has no features", "features", hubs=[],
             raw={"hubs.geojson": b'{"type": "FeatureCollection", "features": []}'})
    geo_case("non_utf8", "hubs.geojson in UTF-16", "",
             raw={"hubs.geojson": json.dumps({"type": "FeatureCollection",
                                              "features": GEO_HUBS}).encode("utf-16")})
    geo_case("missing_links", "links.geojson is missing", "network.geodata",
             missing="links.geojson", named=None)
    geo_case("negative_servers", "a hub with -1 handling positions",
             "features[a].handling_servers", hubs=[_hub("a", 0.0, handling_servers=-1),
                                                  *GEO_HUBS[1:]])
    geo_case("zero_handling_rate", "a hub that handles 0 TEU per hour", "features[b]",
             hubs=[GEO_HUBS[0], _hub("b", 1.0, handling_teu_per_hour=0), GEO_HUBS[2]])
    geo_case("nan_yard", "a hub whose yard holds NaN TEU", "features[a].yard_teu",
             raw={"hubs.geojson": json.dumps({"type": "FeatureCollection", "features": [
                 _hub("a", 0.0, yard_teu=float("nan")), *GEO_HUBS[1:]]}).encode()})
    geo_case("huge_number", "a yard of 1e400 TEU (overflows to infinity)",
             "features[a].yard_teu",
             raw={"hubs.geojson": json.dumps({"type": "FeatureCollection", "features": [
                 _hub("a", 0.0, yard_teu=123456.0), *GEO_HUBS[1:]]}).replace(
                 "123456.0", "1e400").encode()})
    geo_case("unknown_property", "a hub with an unknown attribute (colour)",
             "features[a].colour", hubs=[_hub("a", 0.0, colour="red"), *GEO_HUBS[1:]])
    geo_case("string_km", "a link length given as text", "features[a-b].km",
             links=[_link("a-b", "a", "b", 0.0, 1.0, km="far"), GEO_LINKS[1]],
             named="links.geojson")
    geo_case("link_unknown_hub", "a link ending at a hub that does not exist",
             "features[b-c].to_hub",
             links=[GEO_LINKS[0], _link("b-c", "b", "ghost", 1.0, 2.0)],
             named="links.geojson")
    geo_case("duplicate_hub", "two hubs with the same id", "features[b].id",
             hubs=[*GEO_HUBS, _hub("b", 3.0)])
    geo_case("wrong_geometry", "a hub drawn as a LineString", "features[c].geometry",
             hubs=[*GEO_HUBS[:2], {**GEO_HUBS[2], "geometry": GEO_LINKS[0]["geometry"]}])
    geo_case("crs_metres", "hubs.geojson in Web Mercator metres, its crs member naming "
             "EPSG:3857 (read as degrees without a word)", "crs: expected longitude and "
             "latitude", raw={"hubs.geojson": json.dumps({
                 "type": "FeatureCollection", "features": GEO_HUBS,
                 "crs": {"type": "name", "properties": {
                     "name": "urn:ogc:def:crs:EPSG::3857"}}}).encode()})
    geo_case("latitude_out_of_range", "a hub at latitude 95", "features[a].lat",
             raw={"hubs.geojson": json.dumps({"type": "FeatureCollection", "features": [
                 {**GEO_HUBS[0], "geometry": {"type": "Point", "coordinates": [0.0, 95.0]}},
                 *GEO_HUBS[1:]]}).encode()})

    for entry in CASES:  # the classes of the first corpus, for docs/validation.md
        if entry.get("kind", "scenario") == "scenario":
            entry["kind"] = _first_kind(entry["file"])
    hostile_cases(edit)
    audit_cases()
    output_cases()
    fuzz_cases()
    (HERE / "cases.json").write_text(json.dumps(CASES, indent=1) + "\n")
    lines = ["# Bad-input corpus", "",
             "Each file breaks one thing in an otherwise valid scenario (`ok.yaml` on "
             "`geo_ok/`), sweep file or calibration table. `tests/build/test_bad_inputs.py` runs "
             "`cqsim validate FILE` and `cqsim run FILE --out DIR` on each (or the commands "
             "the case names: `sweep`, `calibrate --targets`, `compare`, options such as "
             "`--days 0`) and expects, from every command, exit code 2, one line on stderr "
             "naming the file and the field, no traceback, no hang, `DIR` untouched and "
             "nothing written in the working folder or the cache (`sim.cache`). Regenerate with "
             "`python tests/bad_inputs/make_corpus.py` (also rewrites `cases.json`).", "",
             "| file | class | breaks | error names | and field | commands |",
             "|---|---|---|---|---|---|"]
    for c in CASES:
        commands = "; ".join(" ".join(cmd) for cmd in c.get("commands", DEFAULT_COMMANDS))
        lines.append(f"| `{c['file']}` | {c['kind']} | {c['breaks']} | `{c['named']}` | "
                     f"`{c['field'] or '(whole file)'}` | `{commands}` |")
    (HERE / "README.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    build_corpus()
    print(f"wrote {len(CASES)} cases to {HERE}")
