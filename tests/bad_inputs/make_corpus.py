"""Write the bad-input corpus: malformed scenario and geodata files, each breaking one thing.

Run from anywhere: `python tests/bad_inputs/make_corpus.py`. It rewrites the corpus in this
folder, `cases.json` (what each case breaks, which file and field the error must name) and
README.md. tests/build/test_bad_inputs.py runs `cqsim run` on every case.

Every case is a small mutation of `ok.yaml` on `geo_ok/`, which is valid (the test checks
that too), so each failure is caused by the one thing the case breaks.
"""

from __future__ import annotations

import copy
import json
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

CASES: list[dict[str, str]] = []


def _dump(doc: dict[str, Any]) -> str:
    return yaml.safe_dump(doc, sort_keys=False)


def case(name: str, breaks: str, field: str, text: str | bytes, named: str | None = None
         ) -> None:
    """Write one scenario case; `named` is the file the error must name (default: itself)."""
    path = HERE / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    CASES.append({"file": name, "named": named or name, "field": field, "breaks": breaks})


def mutated(name: str, breaks: str, field: str, change: Callable[[dict], None]) -> None:
    doc = copy.deepcopy(BASE)
    change(doc)
    case(name, breaks, field, _dump(doc))


def geo_case(name: str, breaks: str, field: str, hubs: Any = None, links: Any = None,
             raw: dict[str, bytes] | None = None, missing: str | None = None,
             named: str = "hubs.geojson") -> None:
    """A scenario on its own geodata folder `geo_<name>/` with one broken file."""
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
    doc = copy.deepcopy(BASE)
    doc["network"]["geodata"] = f"geo_{name}"
    case(f"geo_{name}.yaml", breaks, field, _dump(doc), named=f"geo_{name}/{named}")


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


def build_corpus() -> None:
    for old in HERE.iterdir():
        if old.name.startswith("geo_") and old.is_dir():
            shutil.rmtree(old)
        elif old.suffix == ".yaml":
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
    geo_case("missing_links", "links.geojson is missing", "", missing="links.geojson",
             named="links.geojson")
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
    geo_case("latitude_out_of_range", "a hub at latitude 95", "features[a].lat",
             raw={"hubs.geojson": json.dumps({"type": "FeatureCollection", "features": [
                 {**GEO_HUBS[0], "geometry": {"type": "Point", "coordinates": [0.0, 95.0]}},
                 *GEO_HUBS[1:]]}).encode()})

    (HERE / "cases.json").write_text(json.dumps(CASES, indent=1) + "\n")
    lines = ["# Bad-input corpus", "",
             "Each file breaks one thing in an otherwise valid scenario (`ok.yaml` on "
             "`geo_ok/`). `tests/build/test_bad_inputs.py` runs `cqsim run FILE --out DIR` on "
             "each and "
             "expects exit code 2, one line on stderr naming the file and the field, no "
             "traceback, no hang, and `DIR` untouched. Regenerate with "
             "`python tests/bad_inputs/make_corpus.py` (also rewrites `cases.json`).", "",
             "| file | breaks | error names file | and field |", "|---|---|---|---|"]
    for c in CASES:
        lines.append(f"| `{c['file']}` | {c['breaks']} | `{c['named']}` | "
                     f"`{c['field'] or '(whole file)'}` |")
    (HERE / "README.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    build_corpus()
    print(f"wrote {len(CASES)} cases to {HERE}")
