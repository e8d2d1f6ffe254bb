"""Random streams: one independent numpy Generator per named model component.

Streams are keyed by (seed, replication, component name), not by creation order, so a
scenario that adds a link or a service leaves every other component's stream unchanged:
that is what makes common random numbers work across scenario variants.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from itertools import chain, repeat

import numpy as np


def stream(seed: int, replication: int, name: str) -> np.random.Generator:
    """Return the Generator of component `name` in replication `replication` of `seed`."""
    key = zlib.crc32(name.encode("utf-8"))
    seq = np.random.SeedSequence(entropy=int(seed), spawn_key=(int(replication), key))
    return np.random.Generator(np.random.PCG64(seq))


def draws(fill: Callable[[int], np.ndarray], block: int = 256) -> Callable[[], float]:
    """Scalar draws served from blocks of one stream: numpy is fast per array and slow per
    scalar call, and the engine asks for one number at a time.

    Returns the `__next__` of an endless chain of blocks: a call is a C call (no Python
    frame), and a block is drawn only when the previous one is used up, so draws from two
    callers of one stream interleave as they would one by one."""
    blocks = (fill(n).tolist() for n in repeat(block))
    return chain.from_iterable(blocks).__next__
