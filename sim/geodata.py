"""Read the network's geodata (hubs, locks and links GeoJSON, EPSG:4326) into specs, each
row as the spec class of its kind (`sim.components`).

Plain `json` keeps engine start-up fast and free of GDAL; geopandas is only needed for
outputs and maps.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sim.components import DISCRIMINATORS, validate_spec
from sim.errors import InputError
from sim.specs import HubSpec, LinkSpec, LockSpec, Spec

HUBS_FILE = "hubs.geojson"
LOCKS_FILE = "locks.geojson"   # optional: a network may have no lock
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


def _spec(table: str, path: Path, i: int, props: dict[str, Any]) -> Spec:
    clean = {k: v for k, v in props.items() if v is not None and v != ""}
    try:
        return validate_spec(table, clean)
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
    except ValueError as exc:  # a row of no known kind
        key = DISCRIMINATORS.get(table, "")
        raise InputError(path, f"features[{props.get('id', i)}].{key}", str(exc),
                         props.get(key)) from None


def _geometry(path: Path, i: int, feat: dict[str, Any], kind: str) -> list[Any]:
    geom = feat.get("geometry") or {}
    if geom.get("type") != kind or not isinstance(geom.get("coordinates"), list):
        fid = (feat.get("properties") or {}).get("id", i)
        raise InputError(path, f"features[{fid}].geometry", f"a {kind}")
    return geom["coordinates"]


def _points(path: Path, table: str, noun: str) -> dict[str, Any]:
    """Point features of one table keyed by id."""
    nodes: dict[str, Any] = {}
    for i, feat in enumerate(_features(path)):
        lon, lat = _geometry(path, i, feat, "Point")[:2]
        node = _spec(table, path, i, {**(feat.get("properties") or {}), "lon": lon, "lat": lat})
        ident = getattr(node, "id", "")
        if ident in nodes:
            raise InputError(path, f"features[{ident}].id", f"a unique {noun} id", ident)
        nodes[ident] = node
    return nodes


def read_hubs(folder: Path) -> dict[str, HubSpec]:
    """Hubs keyed by id, from `hubs.geojson` (Point features)."""
    return _points(folder / HUBS_FILE, "hubs", "hub")


def read_locks(folder: Path) -> dict[str, LockSpec]:
    """Locks keyed by id, from `locks.geojson` (Point features); none when there is no file."""
    path = folder / LOCKS_FILE
    return _points(path, "locks", "lock") if path.exists() else {}


def read_links(folder: Path) -> dict[str, LinkSpec]:
    """Links keyed by id, from `links.geojson` (LineString features)."""
    path = folder / LINKS_FILE
    links: dict[str, LinkSpec] = {}
    for i, feat in enumerate(_features(path)):
        coords = _geometry(path, i, feat, "LineString")
        props = {**(feat.get("properties") or {}),
                 "coords": [tuple(c[:2]) for c in coords if isinstance(c, list)]}
        link = _spec("links", path, i, props)
        assert isinstance(link, LinkSpec)
        if link.id in links:
            raise InputError(path, f"features[{link.id}].id", "a unique link id", link.id)
        links[link.id] = link
    return links
