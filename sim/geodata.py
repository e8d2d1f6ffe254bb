"""Read the network's geodata (hubs and links GeoJSON, EPSG:4326) into specs.

Plain `json` keeps engine start-up fast and free of GDAL; geopandas is only needed for
outputs and maps.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from sim.errors import InputError
from sim.specs import HubSpec, LinkSpec

HUBS_FILE = "hubs.geojson"
LINKS_FILE = "links.geojson"


def _features(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise InputError(path, "", "an existing GeoJSON file")
    try:
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(path, "", "UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise InputError(path, f"line {exc.lineno} column {exc.colno}",
                         f"valid JSON ({exc.msg})") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise InputError(path, "type", "a GeoJSON FeatureCollection")
    feats = doc.get("features")
    if not isinstance(feats, list) or not feats:
        raise InputError(path, "features", "a non-empty list of features")
    return feats


def _spec(cls: type[BaseModel], path: Path, i: int, props: dict[str, Any]) -> Any:
    clean = {k: v for k, v in props.items() if v is not None and v != ""}
    try:
        return cls.model_validate(clean)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        fid = props.get("id", i)
        expected = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            expected = "no such attribute (unknown field)"
        got = err.get("input") if err["type"] != "missing" else None
        field = f"features[{fid}].{loc}" if loc else f"features[{fid}]"
        raise InputError(path, field, expected,
                         None if isinstance(got, dict) else got) from None


def _geometry(path: Path, i: int, feat: dict[str, Any], kind: str) -> list[Any]:
    geom = feat.get("geometry") or {}
    if geom.get("type") != kind or not isinstance(geom.get("coordinates"), list):
        fid = (feat.get("properties") or {}).get("id", i)
        raise InputError(path, f"features[{fid}].geometry", f"a {kind}")
    return geom["coordinates"]


def read_hubs(folder: Path) -> dict[str, HubSpec]:
    """Hubs keyed by id, from `hubs.geojson` (Point features)."""
    path = folder / HUBS_FILE
    hubs: dict[str, HubSpec] = {}
    for i, feat in enumerate(_features(path)):
        lon, lat = _geometry(path, i, feat, "Point")[:2]
        hub = _spec(HubSpec, path, i, {**(feat.get("properties") or {}), "lon": lon, "lat": lat})
        if hub.id in hubs:
            raise InputError(path, f"features[{hub.id}].id", "a unique hub id", hub.id)
        hubs[hub.id] = hub
    return hubs


def read_links(folder: Path) -> dict[str, LinkSpec]:
    """Links keyed by id, from `links.geojson` (LineString features)."""
    path = folder / LINKS_FILE
    links: dict[str, LinkSpec] = {}
    for i, feat in enumerate(_features(path)):
        coords = _geometry(path, i, feat, "LineString")
        props = {**(feat.get("properties") or {}),
                 "coords": [tuple(c[:2]) for c in coords if isinstance(c, list)]}
        link = _spec(LinkSpec, path, i, props)
        if link.id in links:
            raise InputError(path, f"features[{link.id}].id", "a unique link id", link.id)
        links[link.id] = link
    return links
