"""Read the network's geodata (hubs, locks and links GeoJSON, EPSG:4326) into specs, each
row as the spec class of its kind (`sim.components`).

Plain `json` keeps engine start-up fast and free of GDAL; geopandas is only needed for
outputs and maps. The structure of each file is checked before any value is used: a
FeatureCollection of Feature objects, each with a `properties` object and a geometry of the
expected type whose coordinates are [lon, lat] numbers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sim.components import DISCRIMINATORS, validate_spec
from sim.errors import InputError, excerpt, given
from sim.readers import read_json
from sim.specs import HubSpec, LinkSpec, LockSpec, Spec, located
from sim.specs import expected as expected_by

HUBS_FILE = "hubs.geojson"
LOCKS_FILE = "locks.geojson"   # optional: a network may have no lock
LINKS_FILE = "links.geojson"
BASEMAP_FILE = "basemap.gpkg"


def _features(path: Path, ref: tuple[str, str] | None) -> list[dict[str, Any]]:
    doc = read_json(path, "GeoJSON file", ref)
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise InputError(path, "type", "a GeoJSON FeatureCollection")
    crs = doc.get("crs")   # RFC 7946 drops the member; older files may name their CRS in it
    if crs is not None and not _crs_name(crs).upper().endswith(LONLAT_CODES):
        # the coordinates are read as longitude, latitude: EPSG:3857 metres were read as
        # degrees without a word (fuzz2 L10)
        raise InputError(path, "crs", "longitude and latitude (RFC 7946: no crs member, or "
                         "one naming OGC:CRS84, EPSG:4326 or CGCS2000's EPSG:4490); "
                         "reproject the file",
                         _crs_name(crs) or crs)
    feats = doc.get("features")
    if not isinstance(feats, list) or not feats:
        raise InputError(path, "features", "a non-empty list of features")
    for i, feat in enumerate(feats):
        if not isinstance(feat, dict):
            raise InputError(path, f"features[{i}]", "a Feature object", feat)
        props = feat.get("properties")
        if not isinstance(props, dict):
            raise InputError(path, f"{_name(feat, i)}.properties",
                             "an object of attributes", props)
    return feats


# the geographic CRSs a `crs` member may name, coordinates in degrees of longitude and
# latitude: WGS84 (CRS84, EPSG:4326) and China's CGCS2000 (EPSG:4490), within a metre of
# it; any spelling (`urn:ogc:def:crs:EPSG::4326`, `epsg:4326`), case aside
LONLAT_CODES = ("CRS84", "EPSG:4326", "EPSG::4326", "EPSG:4490", "EPSG::4490", "WGS84",
                "CGCS2000")


def _crs_name(crs: Any) -> str:
    """The name a GeoJSON 2008 `crs` member gives (`{"type": "name", "properties": {"name":
    ...}}`), '' when it gives none."""
    props = crs.get("properties") if isinstance(crs, dict) else None
    name = props.get("name") if isinstance(props, dict) else None
    return name if isinstance(name, str) else ""


def _name(feat: dict[str, Any], i: int) -> str:
    """`features[<id>]`, or `features[<position>]` when the id is missing or not text."""
    props = feat.get("properties")
    ident = props.get("id") if isinstance(props, dict) else None
    if isinstance(ident, str) and ident:
        shown = excerpt(ident)[1:-1]
        return f"features[{shown}]"
    return f"features[{i}]"


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _position(value: Any) -> bool:
    """[lon, lat] or [lon, lat, elevation], numbers."""
    return isinstance(value, list) and 2 <= len(value) <= 3 and all(_number(v) for v in value)


def _geometry(path: Path, i: int, feat: dict[str, Any], kind: str) -> Any:
    geom = feat.get("geometry")
    where = f"{_name(feat, i)}.geometry"
    if not isinstance(geom, dict) or geom.get("type") != kind:
        raise InputError(path, where, f"a {kind} geometry object",
                         geom if not isinstance(geom, dict) else geom.get("type"))
    coords = geom.get("coordinates")
    if kind == "Point":
        ok = _position(coords)
        shape = "[lon, lat] (two numbers, EPSG:4326)"
    else:
        ok = isinstance(coords, list) and len(coords) >= 2 and all(_position(c) for c in coords)
        shape = "a list of at least two [lon, lat] pairs of numbers (EPSG:4326)"
    if not ok:
        raise InputError(path, f"{where}.coordinates", shape,
                         coords if not isinstance(coords, (list, dict)) else None)
    return coords


def _spec(table: str, path: Path, i: int, feat: dict[str, Any], props: dict[str, Any]) -> Spec:
    """The spec of one feature. A null or empty attribute is read as absent (GIS tools write
    them for unset optional attributes): a required one given so is named with its value."""
    clean = {k: v for k, v in props.items() if v is not None and v != ""}
    try:
        return validate_spec(table, clean)
    except ValidationError as exc:
        err = exc.errors()[0]
        where, got = located(err, tuple(err["loc"]))
        if err["type"] == "missing" and where and where[-1] in props:
            got = given(props[where[-1]])     # `got null`, `got ''`: not merely absent
        loc = ".".join(str(p) for p in where)
        expected = expected_by(err, noun="attribute")
        field = f"{_name(feat, i)}.{loc}" if loc else _name(feat, i)
        raise InputError(path, field, expected, got) from None
    except ValueError as exc:  # a row of no known kind
        key = DISCRIMINATORS.get(table, "")
        raise InputError(path, f"{_name(feat, i)}.{key}", str(exc), props.get(key)) from None


@contextmanager
def _reached_from(ref: tuple[str, str] | None) -> Iterator[None]:
    """Say which scenario field led to a geodata file in every error about its content, and
    let a short printable bad value be quoted where that scenario's would be (`reached_from`:
    the layers' names are fixed, so a scenario cannot point one at any file it likes)."""
    try:
        yield
    except InputError as exc:
        if ref is None or exc.via is not None or exc.file == ref[0]:
            raise
        raise InputError(exc.file, exc.field, exc.expected, exc.got,
                         via=f"{ref[0]}: {ref[1]}", reached_from=ref[0]) from None


def _points(path: Path, table: str, noun: str,
            ref: tuple[str, str] | None) -> dict[str, Any]:
    """Point features of one table keyed by id. `ref` = (scenario file, field) that named the
    folder: errors say so."""
    nodes: dict[str, Any] = {}
    with _reached_from(ref):
        for i, feat in enumerate(_features(path, ref)):
            lon, lat = _geometry(path, i, feat, "Point")[:2]
            node = _spec(table, path, i, feat, {**feat["properties"], "lon": lon, "lat": lat})
            ident = getattr(node, "id", "")
            if ident in nodes:
                raise InputError(path, f"{_name(feat, i)}.id", f"a unique {noun} id", ident)
            nodes[ident] = node
    return nodes


def read_hubs(folder: Path, ref: tuple[str, str] | None = None) -> dict[str, HubSpec]:
    """Hubs keyed by id, from `hubs.geojson` (Point features)."""
    return _points(folder / HUBS_FILE, "hubs", "hub", ref)


def read_locks(folder: Path, ref: tuple[str, str] | None = None) -> dict[str, LockSpec]:
    """Locks keyed by id, from `locks.geojson` (Point features); none when there is no file."""
    path = folder / LOCKS_FILE
    # a dangling or looping link is read (and refused as such), not taken for no file
    return _points(path, "locks", "lock", ref) if path.exists() or path.is_symlink() else {}


def read_links(folder: Path, ref: tuple[str, str] | None = None) -> dict[str, LinkSpec]:
    """Links keyed by id, from `links.geojson` (LineString features)."""
    path = folder / LINKS_FILE
    links: dict[str, LinkSpec] = {}
    with _reached_from(ref):
        for i, feat in enumerate(_features(path, ref)):
            coords = _geometry(path, i, feat, "LineString")
            props = {**feat["properties"], "coords": [tuple(c[:2]) for c in coords]}
            link = _spec("links", path, i, feat, props)
            assert isinstance(link, LinkSpec)
            if link.id in links:
                raise InputError(path, f"{_name(feat, i)}.id", "a unique link id", link.id)
            links[link.id] = link
    return links
