"""A small market network for the market model's tests: a Chongqing zone `cq`, two markets
(`eu`, `asean`) and three gateways (west rail, south rail-sea via Qinzhou, east river-sea via
Shanghai), services ample so nothing queues unless a test says so."""

from __future__ import annotations

import copy
import csv
from pathlib import Path
from typing import Any

from tests.support.netbuilder import hub, link, scenario, write_geodata, write_scenario

CLASSES = {
    "electronics": {"value_cny_per_teu": 2_000_000, "value_of_time_cny_per_teu_hour": 50,
                    "tonnes_per_teu": 6, "source": "test"},
    "materials": {"value_cny_per_teu": 200_000, "value_of_time_cny_per_teu_hour": 2,
                  "tonnes_per_teu": 16, "source": "test"},
}
ROWS = [  # market, direction, commodity, bn CNY/yr
    ("eu", "export", "electronics", 20.0), ("eu", "import", "materials", 2.0),
    ("asean", "export", "materials", 3.0), ("asean", "import", "materials", 2.0),
]
GATEWAYS = {"west": {"corridors": ["west"]}, "south": {"corridors": ["south"]},
            "east": {"corridors": ["east"]}}


def service(corridor: str, mode: str, stops: list[str], price: float, per_week: float = 70,
            teu: float = 400) -> dict[str, Any]:
    return {"corridor": corridor, "mode": mode, "stops": stops, "price_cny_per_teu": price,
            "departures_per_week": per_week, "vehicle_teu": teu, "stop_hours": 1.0,
            "source": "test"}


def write_market_table(path: Path, rows: list[tuple[str, str, str, float]] = ROWS) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["market", "direction", "commodity", "value_bn_cny_per_year", "source"])
        for r in rows:
            w.writerow([*r, "test"])
    return path


def market_doc(tmp: Path, rows: list[tuple[str, str, str, float]] = ROWS,
               services: dict[str, Any] | None = None, road_cq_sh: bool = False,
               road_cq_qz: bool = False, more_hubs: list[dict] | None = None,
               more_links: list[dict] | None = None, **kw: Any) -> dict[str, Any]:
    """Geodata and market table written under `tmp`; the scenario document (not written).
    `road_cq_sh`: also a `coastal` road Chongqing-Shanghai (trucks to the port, then a ship
    of the `east` corridor); `road_cq_qz`: also a `south` road Chongqing-Qinzhou;
    `more_hubs`, `more_links`: a test's own, beside these."""
    cq, wb, qz, sh = hub("cq", 106.5), hub("wb", 80.0), hub("qz", 108.6, 21.9), \
        hub("sh", 121.5, 31.2)
    eu, asean = hub("eu", 6.8, 51.4, country="DE"), hub("asean", 103.8, 1.3, country="SG")
    links = [
        link("cq-wb", cq, wb, km=3000, hours=80, corridor="west"),
        link("wb-eu", wb, eu, km=8000, hours=220, corridor="west"),
        link("cq-qz", cq, qz, km=1300, hours=48, corridor="south"),
        link("qz-asean", qz, asean, mode="sea", km=2800, hours=144, corridor="south"),
        link("qz-eu", qz, eu, mode="sea", km=18000, hours=720, corridor="south"),
        link("cq-sh", cq, sh, mode="river", km=2400, hours=240, corridor="east"),
        link("sh-eu", sh, eu, mode="sea", km=19500, hours=660, corridor="east"),
        link("sh-asean", sh, asean, mode="sea", km=3800, hours=190, corridor="east"),
    ]
    if road_cq_sh:
        links.append(link("cq-sh-road", cq, sh, mode="road", km=1800, hours=33,
                          corridor="coastal"))
    if road_cq_qz:
        links.append(link("cq-qz-road", cq, qz, mode="road", km=1200, hours=24,
                          corridor="south"))
    geo = write_geodata(tmp / "geo", [cq, wb, qz, sh, eu, asean, *(more_hubs or [])],
                        [*links, *(more_links or [])])
    write_market_table(tmp / "markets.csv", rows)
    services = services or {
        "west-rail": service("west", "rail", ["cq", "wb", "eu"], 9000),
        "south-rail": service("south", "rail", ["cq", "qz"], 2500),
        "south-sea-asean": service("south", "sea", ["qz", "asean"], 1500),
        "south-sea-eu": service("south", "sea", ["qz", "eu"], 6000),
        "east-river": service("east", "river", ["cq", "sh"], 2000),
        "east-sea-eu": service("east", "sea", ["sh", "eu"], 5500),
        "east-sea-asean": service("east", "sea", ["sh", "asean"], 1800),
    }
    doc = scenario(str(geo), services, [], **kw)
    doc["demand"]["classes"] = copy.deepcopy(CLASSES)   # a test may edit its own
    doc["demand"]["flows"] = [{"origin": "sh", "destination": "cq", "commodity": "materials",
                               "teu_per_year": 500, "flow_class": "domestic",
                               "source": "test: a domestic flow"}]
    doc["demand"]["elasticity"] = 0.0
    # the domestic flow's way round by the south (sea to asean, then rail from Qinzhou) costs
    # 3.45 x its river route: kept a candidate for the tests of a plain flow's choice (the
    # search took the default ratio 3 on costs offset by a transfer until 2026-12-07; at 4
    # on the routes' own costs every flow of these networks has the routes it had then)
    doc.setdefault("routing", {}).setdefault("max_cost_ratio", 4.0)
    doc["market"] = {"table": "markets.csv", "origin": "cq",
                     "ends": {"eu": "eu", "asean": "asean"},
                     "gateways": copy.deepcopy(GATEWAYS),  # a test may edit its own
                     **doc.get("market", {})}
    return doc


def write_market_scenario(tmp: Path, name: str = "market.yaml", **kw: Any) -> Path:
    return write_scenario(tmp / name, market_doc(tmp, **kw))
