"""The tools' argument types: a value out of range or not a number at all is the same
"expected ..., got 'x'" message (argparse prints it in one line and exits 2)."""

from __future__ import annotations

import argparse

import pytest

from sim.argtypes import positive_number, share, whole_number


@pytest.mark.parametrize(("parse", "good", "bad", "said"), [
    (whole_number(2), [("2", 2), ("12", 12)], ["1", "x", "2.5"], "a whole number >= 2"),
    (whole_number(0), [("0", 0)], ["-1", ""], "a whole number >= 0"),
    (positive_number("days"), [("30", 30.0), ("0.5", 0.5)], ["0", "-3", "nan", "inf", "x"],
     "a number of days > 0"),
    (share, [("1", 1.0), ("0.02", 0.02)], ["0", "1.5", "nan", "x"], "a number in (0, 1]"),
])
def test_each_type_reads_its_values_and_names_what_it_expected(
        parse, good: list[tuple[str, float]], bad: list[str], said: str) -> None:
    for text, value in good:
        assert parse(text) == value
    for text in bad:
        with pytest.raises(argparse.ArgumentTypeError, match=None) as err:
            parse(text)
        assert str(err.value) == f"expected {said}, got {text!r}"
