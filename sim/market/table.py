"""The market table: goods trade by partner market, commodity class and direction, in bn CNY a
year, read and checked at the input boundary, and the demand flows it makes.

Each row becomes one flow from the Chongqing zone to the market's hub (exports) or back
(imports), of TEU = value / the class's value per TEU; classes the scenario declares
`not_simulated` stay a sourced line of their own in the trade accounting. The base-year total
is the table's total: there is no residual term.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from sim.errors import InputError
from sim.market.spec import MarketSection
from sim.readers import csv_number, read_csv
from sim.specs import ABSURD, CommodityClass, Flow
from sim.units import CNY_PER_BN

COLUMNS = ("market", "direction", "commodity", "value_bn_cny_per_year", "source")
READERS_COLUMNS = ("teu_per_year", "note")   # for people, not read (docs/scenarios.md)
DIRECTIONS = ("export", "import")
MAX_BN = 1e5   # bn CNY/yr: a row above this is a typo (China's whole trade is ~42,000 bn)


@dataclass(frozen=True)
class MarketRow:
    """One cell of the market table: bn CNY/yr of one class, one market, one direction."""

    market: str
    direction: str
    commodity: str
    value_bn_cny: float
    source: str


def read_market_table(section: MarketSection, classes: dict[str, CommodityClass],
                      where: str) -> tuple[MarketRow, ...]:
    """The rows of the market table named by `section` (InputError naming the file, line and
    field on bad input; `where` names the scenario field for a missing file)."""
    file = Path(section.table)
    if not file.is_file():
        raise InputError(where, "market.table", "an existing market table (CSV)", section.table)
    rows: list[MarketRow] = []
    seen: set[tuple[str, str, str]] = set()
    table = read_csv(file, COLUMNS, "market table (CSV)")
    _warn_unread(file, table[0][1] if table else {})
    for line, raw in table:
        market, direction, commodity = raw["market"], raw["direction"], raw["commodity"]
        if market not in section.ends:
            raise InputError(file, f"line {line}.market",
                             f"a market of market.ends ({', '.join(section.ends)})", market)
        if direction not in DIRECTIONS:
            raise InputError(file, f"line {line}.direction", "export or import", direction)
        if commodity not in classes or classes[commodity].value_cny_per_teu <= 0:
            raise InputError(file, f"line {line}.commodity", "a class of demand.classes with "
                             f"a value per TEU ({', '.join(classes)})", commodity)
        try:
            value = csv_number(raw["value_bn_cny_per_year"])
        except ValueError:
            value = float("nan")
        if not 0 <= value <= MAX_BN:
            raise InputError(file, f"line {line}.value_bn_cny_per_year",
                             f"a number of bn CNY/yr from 0 to {MAX_BN:g}",
                             raw["value_bn_cny_per_year"])
        if not raw["source"].strip():
            raise InputError(file, f"line {line}.source", "a source (figure ids or a URL)")
        key = (market, direction, commodity)
        if key in seen:
            raise InputError(file, f"line {line}", "one row per market, direction and "
                                                   "commodity", "/".join(key))
        seen.add(key)
        rows.append(MarketRow(market, direction, commodity, value, raw["source"]))
    if not rows:
        raise InputError(file, "", "at least one row")
    return tuple(rows)


def _warn_unread(file: Path, row: dict[str, str]) -> None:
    """Warn of a column the table has that is neither read nor one of READERS_COLUMNS: other
    columns are allowed (for readers), but a misspelt `note` or `source_2` would vanish
    without a word."""
    unread = [c for c in row if c not in COLUMNS and c not in READERS_COLUMNS]
    if unread:
        import warnings

        from sim.errors import InputWarning, printable

        shown = ", ".join(printable(c, 40) for c in unread[:5]) + (" ..." if len(unread) > 5
                                                                   else "")
        warnings.warn(InputWarning(
            f"{file}: header: column(s) {shown} not read (the table's columns are "
            f"{', '.join(COLUMNS)}; {' and '.join(READERS_COLUMNS)} are for readers): a "
            "misspelt column?"), stacklevel=2)


def market_flows(section: MarketSection, rows: tuple[MarketRow, ...],
                 classes: dict[str, CommodityClass]) -> list[Flow]:
    """One `trade` flow per simulated row with a value: TEU/yr = value / value per TEU."""
    flows = []
    for row in rows:
        if row.commodity in section.not_simulated or row.value_bn_cny <= 0:
            continue
        end = section.ends[row.market]
        origin, destination = ((section.origin, end) if row.direction == "export"
                               else (end, section.origin))
        per_teu = classes[row.commodity].value_cny_per_teu
        teu = row.value_bn_cny * CNY_PER_BN / per_teu if per_teu > 0 else math.inf
        if not teu <= ABSURD:   # a class worth next to nothing a TEU made a row of 2e9 TEU/yr
            raise InputError(section.table, f"{row.market}/{row.direction}/{row.commodity}"
                             ".value_bn_cny_per_year", f"a value that makes at most {ABSURD:,.0f} "
                             f"TEU/yr at {per_teu:g} CNY/TEU of {row.commodity} "
                             f"(demand.classes.{row.commodity}.value_cny_per_teu)",
                             row.value_bn_cny)
        flows.append(Flow(origin=origin, destination=destination, commodity=row.commodity,
                          teu_per_year=teu, market=row.market, flow_class="trade",
                          source=f"market table {Path(section.table).name}: {row.source}"))
    return flows


def empty_flows(section: MarketSection) -> list[Flow]:
    """Both ways of every lane of `market.empties`, bound to the lane's gateway, at 0 TEU: the
    settle stage sizes them (`sim.market.empties`)."""
    if section.empties is None:
        return []
    e = section.empties
    return [Flow(origin=a, destination=b, commodity=e.commodity, teu_per_year=0.0,
                 flow_class="empty", gateway=lane.gateway,
                 source=f"market.empties (sized from the loaded imbalance): {e.source}")
            for lane in e.lanes for end in lane.abroad
            for a, b in ((lane.china, end), (end, lane.china))]


def unsimulated_bn(section: MarketSection, rows: tuple[MarketRow, ...]) -> dict[str, float]:
    """bn CNY/yr per class the scenario declares not simulated."""
    out: dict[str, float] = {}
    for row in rows:
        if row.commodity in section.not_simulated:
            out[row.commodity] = out.get(row.commodity, 0.0) + row.value_bn_cny
    return out


@dataclass(frozen=True)
class MarketPlan:
    """The market section of a built plan: the section, its table and what is not simulated."""

    section: MarketSection
    rows: tuple[MarketRow, ...]
    unsimulated_bn: dict[str, float]

    @property
    def total_bn(self) -> float:
        """The table's total trade, bn CNY/yr."""
        return sum(r.value_bn_cny for r in self.rows)
