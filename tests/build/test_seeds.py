"""The shipped tables of seeds/ read as the CSV they claim to be: any reader (pandas, a
spreadsheet, csv.DictReader) gets every row at its header's width, every figure id is
one figure, and a validation figure of calibration.csv is held out at the level of its
published series."""

from __future__ import annotations

import csv
import re

import pytest

from tests.support.paths import ROOT

SEEDS = sorted((ROOT / "seeds").glob("*.csv"))


@pytest.mark.parametrize("path", SEEDS, ids=[p.name for p in SEEDS])
def test_every_row_has_its_headers_width(path) -> None:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    width = len(rows[0])
    # a comma in an unquoted text field shifted line 293 of published-figures.csv one
    # column right: csv.DictReader read its value as the metric's tail, pandas refused the file
    wrong = [(n, len(r)) for n, r in enumerate(rows, 1) if r and len(r) != width]
    assert not wrong, f"{path.name}: (line, fields) not {width} wide: {wrong}"


def test_figure_ids_are_unique() -> None:
    for name in ("published-figures.csv", "calibration.csv"):
        with (ROOT / "seeds" / name).open(encoding="utf-8", newline="") as fh:
            ids = [r["id"] for r in csv.DictReader(fh)]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        assert not repeated, f"{name}: ids given twice: {repeated}"


URL = re.compile(r"https?://[^\s;,)]+")
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def _figures() -> dict[str, dict[str, str]]:
    with (ROOT / "seeds" / "published-figures.csv").open(encoding="utf-8", newline="") as fh:
        return {r["id"]: r for r in csv.DictReader(fh)}


def _roots(text: str, figures: dict[str, dict[str, str]], seen: set[str]) -> set[str]:
    """The published sources a `source` cell rests on: the pages it cites, and the figures it
    names followed through their own `source` (a derived figure names the figures it is
    derived from) down to figures citing a page or nothing."""
    found = {u.rstrip(".") for u in URL.findall(text)}
    for name in set(NAME.findall(URL.sub(" ", text))) & figures.keys() - seen:
        seen.add(name)
        found |= {name} | _roots(figures[name]["source"], figures, seen)
    return found


def test_no_validation_figure_shares_a_published_series_with_a_fitting_figure() -> None:
    """sim.calibration's definition of `validate`: held out, sharing no published series with
    a fitting figure. The 490k CNY/TEU of the west (mkt_cqeu_cum_2022_06, the base of the rate
    west_own_trade is fitted to) was a validation figure until 2026-12-07 (econ64)."""
    figures = _figures()
    with (ROOT / "seeds" / "calibration.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    fitted = {r["id"]: _roots(r["source"], figures, set()) for r in rows if r["role"] == "fit"}
    held = [r for r in rows if r["role"] == "validate"]
    assert held, "calibration.csv has no validation figure"
    shared = {(r["id"], fit): sorted(_roots(r["source"], figures, set()) & roots)
              for r in held for fit, roots in fitted.items()}
    assert not {k: v for k, v in shared.items() if v}
