"""The files a scenario reads (sim.inputs): what a resumed study checks is unchanged."""

from __future__ import annotations

from pathlib import Path

import yaml

from sim.inputs import ABSENT, CODE, changed_input, digests, read_files
from sim.scenario import load_scenario
from tests.support import netbuilder as nb

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def test_a_plan_scenario_reads_its_chain_geodata_market_estimates_and_reference() -> None:
    """plan-2025 extends baseline-2023 (which extends baseline, names the market table and
    estimates, and is its own reference): every one of these files shapes its runs."""
    files = {p.relative_to(SCENARIOS.parent).as_posix()
             for p in read_files([load_scenario(SCENARIOS / "plan-2025.yaml")])}
    assert files == {
        "scenarios/plan-2025.yaml", "scenarios/baseline-2023.yaml", "scenarios/baseline.yaml",
        "scenarios/estimates/baseline-2023.yaml", "seeds/markets-2023.csv",
        "geodata/hubs.geojson", "geodata/links.geojson", "geodata/locks.geojson"}


def test_a_reference_scenario_brings_its_own_files(tmp_path: Path) -> None:
    """A reference on another network: its geodata shapes the demand response too."""
    ref_dir = tmp_path / "ref"
    ref_dir.mkdir()
    reference = nb.line_network(ref_dir)
    main = nb.line_network(tmp_path)
    doc = yaml.safe_load(main.read_text())
    doc["demand"]["reference_scenario"] = str(reference)
    main.write_text(yaml.safe_dump(doc))
    files = read_files([load_scenario(main)])
    assert ref_dir / "geo" / "links.geojson" in files and reference in files
    assert tmp_path / "geo" / "links.geojson" in files and main in files


def test_changed_input_names_the_file_that_changed(tmp_path: Path) -> None:
    scenario = load_scenario(nb.line_network(tmp_path))
    files = read_files([scenario])
    before = digests(files, "v1")
    assert before[str(tmp_path / "geo" / "locks.geojson")] == ABSENT and before[CODE] == "v1"
    assert changed_input(before, digests(files, "v1")) is None
    assert changed_input(before, digests(files, "v2")).startswith("cqsim's code")
    links = tmp_path / "geo" / "links.geojson"
    links.write_text(links.read_text().replace('"hours": 10.0', '"hours": 11.0'))
    assert changed_input(before, digests(files, "v1")) == f"{links} changed since they were made"
    (tmp_path / "geo" / "locks.geojson").write_text("{}")   # a file that appeared counts too
    links.write_text(links.read_text().replace('"hours": 11.0', '"hours": 10.0'))
    assert changed_input(before, digests(files, "v1")) == \
        f"{tmp_path / 'geo' / 'locks.geojson'} changed since they were made"
    # a file only the kept runs read is theirs, not one that changed (another study's)
    other = {**before, str(tmp_path / "other.yaml"): "abc"}
    assert changed_input(other, before) == \
        f"{tmp_path / 'other.yaml'} is read by the runs kept, not by these inputs"
    assert changed_input(before, other) == \
        f"{tmp_path / 'other.yaml'} is read by these inputs, not by the runs kept"


def test_a_crs_member_naming_longitude_and_latitude_is_read(tmp_path: Path) -> None:
    """A GeoJSON 2008 `crs` member naming CRS84 or EPSG:4326 reads as before; one naming
    metres is refused (tests/bad_inputs geo_crs_metres)."""
    import json

    from sim.geodata import _features

    for name in ("urn:ogc:def:crs:OGC:1.3:CRS84", "EPSG:4326", "epsg:4326",
                 "urn:ogc:def:crs:EPSG::4490"):     # CGCS2000 too (review51 #9)
        path = tmp_path / "hubs.geojson"
        path.write_text(json.dumps({"type": "FeatureCollection", "crs": {
            "type": "name", "properties": {"name": name}}, "features": [
            {"type": "Feature", "properties": {"id": "a"},
             "geometry": {"type": "Point", "coordinates": [106.5, 29.5]}}]}))
        assert len(_features(path, None)) == 1
