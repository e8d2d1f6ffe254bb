"""Random streams: one independent numpy Generator per named model component.

Streams are keyed by (seed, replication, component name), not by creation order, so a
scenario that adds a link or a service leaves every other component's stream unchanged:
that is what makes common random numbers work across scenario variants.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np


def stream(seed: int, replication: int, name: str) -> np.random.Generator:
    """Return the Generator of component `name` in replication `replication` of `seed`."""
    key = zlib.crc32(name.encode("utf-8"))
    seq = np.random.SeedSequence(entropy=int(seed), spawn_key=(int(replication), key))
    return np.random.Generator(np.random.PCG64(seq))


class Draws:
    """Scalar draws served from blocks of one stream: numpy is fast per array and slow per
    scalar call, and the engine asks for one number at a time."""

    __slots__ = ("_fill", "_block", "_buf", "_i")

    def __init__(self, fill: Callable[[int], np.ndarray], block: int = 256) -> None:
        self._fill = fill
        self._block = block
        self._buf: list[float] = []
        self._i = 0

    def __call__(self) -> float:
        i = self._i
        if i >= len(self._buf):
            self._buf = self._fill(self._block).tolist()
            i = 0
        self._i = i + 1
        return self._buf[i]
