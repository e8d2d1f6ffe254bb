"""Capacity windows (disruptions): the capacity factor in force at a time, and whether a time
or a journey meets a dated event (`Network.dated_spans`)."""

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


def reopens_at(windows: tuple[Window, ...], t: float) -> float:
    """The first hour from t at which the capacity factor is above 0 (t itself if it is;
    infinity if never): back-to-back closures read as one, closures with any open gap
    between them as two."""
    factor, until = factor_at(windows, t)
    while factor <= 0 and until != float("inf"):
        t = until
        factor, until = factor_at(windows, t)
    return t if factor > 0 else float("inf")


def meets(spans: tuple[tuple[float, float], ...], start: float, end: float) -> bool:
    """Whether the hours [start, end] overlap one of the merged, sorted `spans`
    (`Network.dated_spans`, each [start, end))."""
    for a, b in spans:
        if a > end:
            return False
        if start < b:
            return True
    return False


def inside(spans: tuple[tuple[float, float], ...], t: float) -> bool:
    """Whether hour t lies in one of the merged, sorted `spans`."""
    return meets(spans, t, t)
