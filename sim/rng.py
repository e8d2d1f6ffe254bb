"""Random streams: one independent numpy Generator per named model component.

Streams are keyed by (seed, replication, component name), not by creation order, so a
scenario that adds a link or a service leaves every other component's stream unchanged:
that is what makes common random numbers work across scenario variants.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, replication: int, name: str) -> np.random.Generator:
    """Return the Generator of component `name` in replication `replication` of `seed`."""
    key = zlib.crc32(name.encode("utf-8"))
    seq = np.random.SeedSequence(entropy=int(seed), spawn_key=(int(replication), key))
    return np.random.Generator(np.random.PCG64(seq))
