"""The shipped tables of seeds/ read as the CSV they claim to be: any reader (pandas, a
spreadsheet, csv.DictReader) gets every row at its header's width, and every figure id is
one figure."""

from __future__ import annotations

import csv

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
