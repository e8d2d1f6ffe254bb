"""Build small test networks (geodata + scenario files) in a temporary directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

HUB_DEFAULTS: dict[str, Any] = {
    "kind": "rail_terminal", "country": "CN", "handling_servers": 2,
    "handling_teu_per_hour": 100.0, "handling_setup_hours": 0.0, "yard_teu": 100_000.0,
    "dwell_hours": 0.0, "sources": "test",
}
EF = {m: {"g_per_tkm": g, "source": "test"} for m, g in
      {"rail": 30.0, "river": 40.0, "sea": 15.0, "road": 120.0, "air": 600.0}.items()}


def hub(ident: str, lon: float, lat: float = 30.0, **kw: Any) -> dict[str, Any]:
    props = {"id": ident, "name": ident, **HUB_DEFAULTS, **kw}
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "Point", "coordinates": [lon, lat]}}


def lock(ident: str, lon: float, lat: float = 30.0, **kw: Any) -> dict[str, Any]:
    """A ship lock (for locks.geojson): one lane each way by default."""
    props = {"id": ident, "name": ident, "kind": "lock", "country": "CN", "lanes": 1,
             "cycle_hours": 2.0, "chamber_t": 10_000.0, "passage_hours": 3.0,
             "sources": "test", **kw}
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "Point", "coordinates": [lon, lat]}}


def link(ident: str, a: dict, b: dict, mode: str = "rail", km: float = 100.0,
         hours: float = 10.0, corridor: str = "west", **kw: Any) -> dict[str, Any]:
    props = {"id": ident, "from_hub": a["properties"]["id"], "to_hub": b["properties"]["id"],
             "mode": mode, "corridor": corridor, "km": km, "hours": hours, "sources": "test",
             **kw}
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "LineString",
                         "coordinates": [a["geometry"]["coordinates"],
                                         b["geometry"]["coordinates"]]}}


def write_geodata(folder: Path, hubs: list[dict], links: list[dict],
                  locks: list[dict] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    layers = [("hubs.geojson", hubs), ("links.geojson", links)]
    if locks:
        layers.append(("locks.geojson", locks))
    for name, feats in layers:
        (folder / name).write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return folder


def scenario(geodata: str, services: dict, flows: list[dict], **kw: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": "test",
        "network": {"geodata": geodata, "services": services, "emission_factors": EF},
        "horizon": {"days": 60},
        "seed": 1,
        "replications": 1,
        "demand": {"lot_teu": 10,
                   "classes": {"general": {"value_cny_per_teu": 100_000,
                                           "value_of_time_cny_per_teu_hour": 10,
                                           "source": "test"}},
                   "flows": flows},
    }
    for key, value in kw.items():
        if isinstance(value, dict) and isinstance(doc.get(key), dict):
            doc[key] = {**doc[key], **value}
        else:
            doc[key] = value
    return doc


def write_scenario(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def train(stops: list[str], per_week: float = 7, teu: float = 100, price: float = 1000,
          corridor: str = "west", **kw: Any) -> dict[str, Any]:
    return {"corridor": corridor, "mode": "rail", "stops": stops,
            "departures_per_week": per_week, "vehicle_teu": teu, "price_cny_per_teu": price,
            "source": "test", **kw}


def flow(origin: str, destination: str, teu: float, commodity: str = "general") -> dict:
    return {"origin": origin, "destination": destination, "commodity": commodity,
            "teu_per_year": teu, "source": "test"}


def line_network(tmp: Path, per_week: float = 7, teu_per_year: float = 20_000,
                 **scenario_kw: Any) -> Path:
    """A -- B by one daily train: the smallest network with a scheduled service."""
    a, b = hub("a", 0.0), hub("b", 1.0)
    write_geodata(tmp / "geo", [a, b], [link("a-b", a, b)])
    doc = scenario(str(tmp / "geo"), {"ab": train(["a", "b"], per_week=per_week)},
                   [flow("a", "b", teu_per_year)], **scenario_kw)
    return write_scenario(tmp / "scenario.yaml", doc)
