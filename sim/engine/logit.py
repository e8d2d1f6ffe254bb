"""The nested logit's probabilities and which routes are offered, compiled with the engine
(`sim.native`).

The engine evaluates them each time a flow's congestion picture changes (about 35,000 times
in a baseline-2023 year), so they are written with typed locals that mypyc turns into C
doubles: the same operations in the same order as before, so the same numbers to the bit,
in about a quarter of the time. `sim.market.choice` (the model: nests, availability,
logsums, induced trade) re-exports the probabilities; `sim.routing.weights` uses `offered`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.market.choice import Nests


def offered(queued: Sequence[float], max_extra: float) -> list[bool]:
    """Which routes are offered: those queued no more than `max_extra` hours beyond
    normal; when every route is, the one with the shortest backlog (cost alone would send
    cheap, low-value freight to the longest queue and let it grow without bound). `any`
    and `min` written out (the first least kept, as `min` does), on C doubles."""
    open_: list[bool] = [x <= max_extra for x in queued]
    for ok in open_:
        if ok:
            return open_
    least: float = queued[0]
    for x in queued:
        if x < least:
            least = x
    return [x == least for x in queued]


def probabilities(n: Nests, costs: Sequence[float],
                  open_: Sequence[bool] | None = None) -> tuple[list[float], float]:
    """(probability of each route, logsum in utils) for generalized costs `costs` (CNY/TEU);
    routes not open get 0 (a gateway with no open route drops out). A cost or open flag
    for each of the nests' routes, else ValueError (read by position: not truncated)."""
    nest: tuple[int, ...] = n.nest
    asc: tuple[float, ...] = n.asc
    k = len(asc)
    m = len(costs)
    mu: float = n.mu
    scale: float = -n.scale
    none = -math.inf
    # typed copies: compiled, an item of a list of bools is a C read, where one of a
    # Sequence is a Python item lookup with a boxed index
    opened: list[bool] = [True] * m if open_ is None else [bool(x) for x in open_]
    if len(nest) != m or len(opened) != m:
        raise ValueError(f"{m} costs and {len(opened)} open flags for {len(nest)} routes")
    util: list[float] = [scale * c / mu for c in costs]
    top: list[float] = [none] * k
    for r in range(m):
        if opened[r]:
            g = nest[r]
            u: float = util[r]
            if u > top[g]:
                top[g] = u
    sums: list[float] = [0.0] * k
    expo: list[float] = [0.0] * m
    for r in range(m):
        g = nest[r]
        t: float = top[g]
        if t > none and opened[r]:
            e: float = math.exp(util[r] - t)
            expo[r] = e
            s: float = sums[g]
            sums[g] = s + e
    upper: list[float] = [asc[g] + mu * (top[g] + math.log(sums[g])) if sums[g] > 0 else none
                          for g in range(k)]
    # max() written out: the same comparisons (the first of equals kept) on C doubles, not a
    # call of the builtin on boxed items. sum() is kept: Python 3.12 sums floats compensated
    peak: float = upper[0]
    for g in range(1, k):
        if upper[g] > peak:
            peak = upper[g]
    if peak == none:
        return [0.0] * m, none
    shares: list[float] = [math.exp(a - peak) for a in upper]
    total: float = sum(shares)
    probs: list[float] = [shares[nest[r]] / total * expo[r] / sums[nest[r]] if expo[r] else 0.0
                          for r in range(m)]
    return probs, peak + math.log(total)


def cumulative(probs: Sequence[float]) -> list[float]:
    """Cumulative weights to draw a route with one uniform number (bisect)."""
    out: list[float] = []
    if not probs:
        return out
    acc: float = probs[0]
    out.append(acc)
    for r in range(1, len(probs)):
        acc = acc + probs[r]
        out.append(acc)
    return out
