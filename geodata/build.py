"""Build the cqsim geodata layers from their editable sources.

Inputs (next to this script): ``src/hubs.csv`` (one row per hub, with lon/lat),
``src/locks.csv`` (one row per ship lock), ``src/links.yaml`` (one entry per link, with its
waypoints) and ``sources.csv``. Outputs: ``hubs.geojson`` and ``locks.geojson`` (Points) and
``links.geojson`` (LineStrings), all EPSG:4326.

Every input is validated first (named checks, PyPSA style); if any check fails the build
stops, lists every problem and writes nothing. The schema is documented in README.md.

Usage::

    python geodata/build.py
"""
from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml
from pyproj import Geod

ROOT = Path(__file__).resolve().parent
GEOD = Geod(ellps="WGS84")

Record = dict[str, Any]
Coords = list[tuple[float, float]]

HUB_SCHEMA: dict[str, type] = {
    "id": str, "name": str, "name_zh": str, "kind": str, "country": str,
    "handling_servers": int, "handling_teu_per_hour": float, "handling_setup_hours": float,
    "yard_teu": float, "dwell_hours": float, "gauge_change": bool, "sources": str, "note": str,
}
LOCK_SCHEMA: dict[str, type] = {
    "id": str, "name": str, "name_zh": str, "kind": str, "country": str, "lanes": int,
    "cycle_hours": float, "chamber_t": float, "passage_hours": float, "sources": str, "note": str,
}
LINK_SCHEMA: dict[str, type] = {
    "id": str, "from_hub": str, "to_hub": str, "mode": str, "corridor": str,
    "km": float, "hours": float, "lock": str, "lock_at": float, "sources": str, "note": str,
}
OPTIONAL = {"hub": {"gauge_change", "name_zh", "note"}, "lock": {"name_zh", "note"},
            "link": {"lock", "lock_at", "note"}}
HUB_KINDS = {"rail_terminal", "river_port", "sea_port", "airport", "border", "zone"}
LOCK_KINDS = {"lock"}
MODES = {"rail", "river", "sea", "road", "air"}
CORRIDORS = {"east", "west", "south", "north", "air", "coastal", "feeder"}
HUB_ID = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
LINK_ID = re.compile(r"^[a-z0-9_]+(-[a-z0-9_]+)+$")
COUNTRY = re.compile(r"^[A-Z]{2}$")
COORD_TOL_DEG = 1e-6      # geometry ends must equal hub coordinates
LOCK_ON_LINE_KM = 1.0     # a lock hub must be a vertex of its link (within this distance)
LOCK_AT_TOL = 0.1         # lock_at vs. the lock's position along the drawn line
MIN_KM_RATIO = 0.9        # route km >= this x geodesic length of the drawn line


class BuildError(Exception):
    """Raised with the full list of problems when inputs are invalid."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def coerce(value: Any, typ: type) -> Any:
    """Convert a raw CSV/YAML value to ``typ``; empty strings and None become None."""
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return "" if typ is str else None
    if typ is str:
        return str(value).strip()
    if typ is bool:
        text = str(value).strip().lower()
        if text not in ("true", "false"):
            raise ValueError(f"expected true/false, got {value!r}")
        return text == "true"
    if typ is int:
        number = float(value)
        if not number.is_integer():
            raise ValueError(f"expected an integer, got {value!r}")
        return int(number)
    return float(value)


def typed_record(raw: Record, schema: dict[str, type], where: str, problems: list[str]) -> Record:
    """Return ``raw`` with every schema field converted; conversion errors go to ``problems``."""
    out: Record = {}
    for field, typ in schema.items():
        try:
            out[field] = coerce(raw.get(field), typ)
        except ValueError as exc:
            problems.append(f"{where}: field {field!r}: {exc}")
            out[field] = None
    return out


def read_points(path: Path, schema: dict[str, type], problems: list[str]) -> list[Record]:
    """Read a CSV of points (``hubs.csv``, ``locks.csv``) into typed records with
    ``lon``/``lat`` kept for the geometry."""
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        expected = set(schema) | {"lon", "lat"}
        if set(reader.fieldnames or []) != expected:
            problems.append(f"{path.name}: columns differ from schema: "
                            f"missing {sorted(expected - set(reader.fieldnames or []))}, "
                            f"unknown {sorted(set(reader.fieldnames or []) - expected)}")
        rows = list(reader)
    hubs = []
    for n, raw in enumerate(rows, start=2):
        where = f"{path.name} line {n} ({raw.get('id')})"
        hubs.append(typed_record(raw, schema | {"lon": float, "lat": float}, where, problems))
    return hubs


def read_links(path: Path, problems: list[str]) -> list[Record]:
    """Read ``links.yaml`` into typed records, each with a ``waypoints`` list of
    (name, lon, lat)."""
    entries = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("links") or []
    links = []
    for n, raw in enumerate(entries):
        where = f"{path.name} links[{n}] ({raw.get('id')})"
        unknown = set(raw) - set(LINK_SCHEMA) - {"waypoints"}
        if unknown:
            problems.append(f"{where}: unknown keys {sorted(unknown)}")
        link = typed_record(raw, LINK_SCHEMA, where, problems)
        link["waypoints"] = []
        for k, wp in enumerate(raw.get("waypoints") or []):
            if not isinstance(wp, dict) or set(wp) != {"name", "lon", "lat"} or not wp["name"]:
                problems.append(f"{where}: waypoint {k} must be {{name, lon, lat}}, got {wp!r}")
                continue
            link["waypoints"].append((str(wp["name"]), float(wp["lon"]), float(wp["lat"])))
        links.append(link)
    return links


def read_sources(path: Path) -> dict[str, Record]:
    """Read ``sources.csv`` (id, citation, url, note) keyed by id."""
    with path.open(newline="", encoding="utf-8") as fh:
        return {row["id"].strip(): row for row in csv.DictReader(fh)}


def source_ids(record: Record) -> list[str]:
    """Split a record's semicolon-separated ``sources`` field into ids."""
    return [s.strip() for s in (record.get("sources") or "").split(";") if s.strip()]


def link_coords(link: Record, hubs: dict[str, Record]) -> Coords:
    """Geometry of a link: from_hub point, waypoints in order, to_hub point (lon, lat)."""
    ends = [hubs[link["from_hub"]], hubs[link["to_hub"]]]
    inner = [(lon, lat) for _, lon, lat in link["waypoints"]]
    return [(ends[0]["lon"], ends[0]["lat"]), *inner, (ends[1]["lon"], ends[1]["lat"])]


def line_km(coords: Coords) -> float:
    """Geodesic (WGS84) length of a polyline in km."""
    lons, lats = zip(*coords, strict=True)
    return GEOD.line_length(lons, lats) / 1000.0


@dataclass(frozen=True)
class Layers:
    """The typed records of every source table, as the checks see them."""

    hubs: list[Record]
    locks: list[Record]
    links: list[Record]
    sources: dict[str, Record]

    def points(self) -> list[tuple[str, list[Record]]]:
        return [("hub", self.hubs), ("lock", self.locks)]


def check_ids(geo: Layers) -> list[str]:
    """Ids are unique and well formed (one namespace for hubs and locks); enumerated fields
    take allowed values."""
    out = []
    nodes = [r["id"] for _, rows in geo.points() for r in rows]
    out += [f"duplicate hub/lock id {i!r}"
            for i in sorted({i for i in nodes if nodes.count(i) > 1})]
    ids = [r["id"] for r in geo.links]
    out += [f"duplicate link id {i!r}" for i in sorted({i for i in ids if ids.count(i) > 1})]
    for layer, rows, pattern in (("hub", geo.hubs, HUB_ID), ("lock", geo.locks, HUB_ID),
                                 ("link", geo.links, LINK_ID)):
        out += [f"{layer} id {r['id']!r} is not {pattern.pattern}"
                for r in rows if not pattern.match(r["id"] or "")]
    for layer, rows, allowed in (("hub", geo.hubs, HUB_KINDS), ("lock", geo.locks, LOCK_KINDS)):
        out += [f"{layer} {r['id']}: kind {r['kind']!r} not in {sorted(allowed)}"
                for r in rows if r["kind"] not in allowed]
        out += [f"{layer} {r['id']}: country {r['country']!r} is not ISO alpha-2"
                for r in rows if not COUNTRY.match(r["country"] or "")]
    out += [f"link {k['id']}: mode {k['mode']!r} not in {sorted(MODES)}"
            for k in geo.links if k["mode"] not in MODES]
    out += [f"link {k['id']}: corridor {k['corridor']!r} not in {sorted(CORRIDORS)}"
            for k in geo.links if k["corridor"] not in CORRIDORS]
    return out


def check_values(geo: Layers) -> list[str]:
    """Required fields are present, numbers are non-negative, link km and hours, hub handling
    and lock figures are positive; gauge_change is given for borders only."""
    out = []
    for layer, rows, schema in (("hub", geo.hubs, HUB_SCHEMA), ("lock", geo.locks, LOCK_SCHEMA),
                                ("link", geo.links, LINK_SCHEMA)):
        for r in rows:
            for field, typ in schema.items():
                value = r.get(field)
                if field not in OPTIONAL[layer] and value in (None, ""):
                    out.append(f"{layer} {r['id']}: {field} is empty")
                if typ in (int, float) and value is not None and value < 0:
                    out.append(f"{layer} {r['id']}: {field} = {value} is negative")
    for layer, rows, fields in (
            ("link", geo.links, ("km", "hours")),
            ("hub", geo.hubs, ("handling_servers", "handling_teu_per_hour", "yard_teu")),
            ("lock", geo.locks, ("lanes", "cycle_hours", "chamber_t", "passage_hours"))):
        out += [f"{layer} {r['id']}: {f} must be > 0"
                for r in rows for f in fields if not (r[f] or 0) > 0]
    out += [f"hub {h['id']}: gauge_change is for borders only"
            for h in geo.hubs if h["kind"] != "border" and h["gauge_change"] is not None]
    return out


def check_locks(geo: Layers) -> list[str]:
    """A link's lock names a lock of locks.csv, with lock_at in [0, 1]."""
    out = []
    lock_ids = {r["id"] for r in geo.locks}
    for k in geo.links:
        if k["lock"] and k["lock"] not in lock_ids:
            out.append(f"link {k['id']}: lock {k['lock']!r} is not in locks.csv")
        if bool(k["lock"]) != (k["lock_at"] is not None):
            out.append(f"link {k['id']}: lock and lock_at must be given together")
        if k["lock_at"] is not None and not 0 <= k["lock_at"] <= 1:
            out.append(f"link {k['id']}: lock_at {k['lock_at']} outside [0, 1]")
    return out


def check_references(geo: Layers) -> list[str]:
    """Links join two different existing hubs; every row cites known sources; every source
    is used."""
    out = []
    hub_ids = {h["id"] for h in geo.hubs}
    for k in geo.links:
        out += [f"link {k['id']}: {e} {k[e]!r} is not a hub"
                for e in ("from_hub", "to_hub") if k[e] not in hub_ids]
        if k["from_hub"] == k["to_hub"]:
            out.append(f"link {k['id']}: from_hub equals to_hub")
    used: set[str] = set()
    for layer, rows in (*geo.points(), ("link", geo.links)):
        for r in rows:
            ids = source_ids(r)
            used |= set(ids)
            if not ids:
                out.append(f"{layer} {r['id']}: sources is empty")
            out += [f"{layer} {r['id']}: source {s!r} not in sources.csv"
                    for s in ids if s not in geo.sources]
    for sid, row in geo.sources.items():
        if sid not in used:
            out.append(f"source {sid!r} is not referenced by any hub, lock or link")
        if not (row.get("citation") or "").strip():
            out.append(f"source {sid!r}: citation is empty")
        if sid.startswith("assumption-") and not (row.get("note") or "").strip():
            out.append(f"source {sid!r}: an assumption must say in its note what was assumed "
                       "and why")
    return out


def check_geometry(geo: Layers) -> list[str]:
    """Coordinates are valid, lines start/end at their hubs, km fits the line, locks lie on it."""
    out = []
    by_id = {h["id"]: h for h in geo.hubs}
    locks = {r["id"]: r for r in geo.locks}
    for layer, rows in geo.points():
        for h in rows:
            if h["lon"] is None or h["lat"] is None or not (
                    -180 <= h["lon"] <= 180 and -90 <= h["lat"] <= 90):
                out.append(f"{layer} {h['id']}: invalid lon/lat {h['lon']}, {h['lat']}")
    for k in geo.links:
        if k["from_hub"] not in by_id or k["to_hub"] not in by_id:
            continue  # reported by check_references
        coords = link_coords(k, by_id)
        start, end = by_id[k["from_hub"]], by_id[k["to_hub"]]
        ends = (coords[0][0] - start["lon"], coords[0][1] - start["lat"],
                coords[-1][0] - end["lon"], coords[-1][1] - end["lat"])
        if any(abs(d) > COORD_TOL_DEG for d in ends):
            out.append(f"link {k['id']}: geometry does not start at from_hub and end at to_hub")
        if any(not (-180 <= x <= 180 and -90 <= y <= 90) for x, y in coords):
            out.append(f"link {k['id']}: waypoint outside lon/lat range")
        if any(a == b for a, b in pairwise(coords)):
            out.append(f"link {k['id']}: repeated consecutive vertex")
        drawn = line_km(coords)
        if k["km"] is not None and k["km"] < MIN_KM_RATIO * drawn:
            out.append(f"link {k['id']}: km {k['km']} is shorter than the drawn line "
                       f"({drawn:.0f} km)")
        if k["lock"] in locks and k["lock_at"] is not None:
            lock = locks[k["lock"]]
            gaps = [GEOD.inv(x, y, lock["lon"], lock["lat"])[2] / 1000 for x, y in coords]
            i = min(range(len(gaps)), key=gaps.__getitem__)
            if gaps[i] > LOCK_ON_LINE_KM:
                out.append(f"link {k['id']}: lock {k['lock']} is not a vertex of the line")
            elif abs(line_km(coords[: i + 1]) / drawn - k["lock_at"]) > LOCK_AT_TOL:
                out.append(f"link {k['id']}: lock_at {k['lock_at']} does not match the lock's "
                           "place on the line")
    return out


CHECKS: tuple[Callable[[Layers], list[str]], ...] = (
    check_ids, check_values, check_locks, check_references, check_geometry,
)


def validate(geo: Layers) -> None:
    """Run every named check; raise BuildError listing all problems found."""
    problems = [f"[{check.__name__}] {p}" for check in CHECKS for p in check(geo)]
    if problems:
        raise BuildError(problems)


def feature(record: Record, schema: dict[str, type], geometry: Record) -> Record:
    """GeoJSON Feature with the schema's fields in order as properties."""
    return {"type": "Feature", "properties": {f: record[f] for f in schema},
            "geometry": geometry}


def point(record: Record) -> Record:
    return {"type": "Point", "coordinates": [record["lon"], record["lat"]]}


def write_collection(path: Path, name: str, features: list[Record]) -> None:
    """Write an RFC 7946 FeatureCollection (WGS84 lon/lat, i.e. EPSG:4326), one feature a
    line."""
    lines = ",\n".join(json.dumps(f, ensure_ascii=False) for f in features)
    head = json.dumps({"type": "FeatureCollection", "name": name})[:-1]
    path.write_text(f'{head}, "features": [\n{lines}\n]}}\n', encoding="utf-8")


def build(root: Path = ROOT) -> tuple[int, int, int]:
    """Read, validate and write the three layers under ``root``; return (hubs, locks, links)."""
    problems: list[str] = []
    hubs = read_points(root / "src" / "hubs.csv", HUB_SCHEMA, problems)
    locks = read_points(root / "src" / "locks.csv", LOCK_SCHEMA, problems)
    links = read_links(root / "src" / "links.yaml", problems)
    if problems:
        raise BuildError([f"[read] {p}" for p in problems])
    validate(Layers(hubs, locks, links, read_sources(root / "sources.csv")))
    by_id = {h["id"]: h for h in hubs}
    write_collection(root / "hubs.geojson", "hubs",
                     [feature(h, HUB_SCHEMA, point(h)) for h in hubs])
    write_collection(root / "locks.geojson", "locks",
                     [feature(r, LOCK_SCHEMA, point(r)) for r in locks])
    write_collection(root / "links.geojson", "links", [
        feature(k, LINK_SCHEMA, {"type": "LineString",
                                 "coordinates": [list(c) for c in link_coords(k, by_id)]})
        for k in links])
    return len(hubs), len(locks), len(links)


if __name__ == "__main__":
    try:
        n_hubs, n_locks, n_links = build()
    except BuildError as err:
        print(f"geodata build failed with {len(err.problems)} problem(s):", *err.problems,
              sep="\n  ", file=sys.stderr)
        sys.exit(1)
    print(f"wrote {n_hubs} hubs, {n_locks} locks and {n_links} links to {ROOT}")
