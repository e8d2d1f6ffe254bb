"""Capacity windows (disruptions): the capacity factor in force at a time."""

from __future__ import annotations

from sim.network import Window


def factor_at(windows: tuple[Window, ...], t: float) -> tuple[float, float]:
    """(capacity factor at hour t, hour when that factor may next change).

    Overlapping windows multiply. With no window in force the factor is 1.
    """
    factor = 1.0
    until = float("inf")
    for start, end, f in windows:
        if start <= t < end:
            factor *= f
            until = min(until, end)
        elif t < start:
            until = min(until, start)
    return factor, until
