"""Servers booked from a hook that returns hours: c identical servers (inspection bays, a
scanner's lanes) that a kind's `Hub.clearance_hours` holds a job on, first come first
served, without a process of its own.

The hook is called once per job, as the job's handling ends, at `env.now`, and returns the
hours the job dwells; it cannot wait on SimPy events. Calls come in time order, so booking
each job on the server free first, from when that server is free, is a FIFO queue of c
servers: the wait is the booking's start minus now. Plain Python (not compiled): a kind of
one's own is plain Python either way (docs/architecture.md, "Worked example").
"""

from __future__ import annotations

import heapq


class BookedServers:
    """c identical servers, each free from a time on; `book` takes the one free first."""

    __slots__ = ("_free_at",)

    def __init__(self, count: int) -> None:
        if count < 1:
            raise ValueError(f"BookedServers: expected at least one server, got {count}")
        self._free_at = [0.0] * count     # a heap of the hours each server is free from

    @property
    def count(self) -> int:
        """How many servers."""
        return len(self._free_at)

    def book(self, now: float, hours: float) -> float:
        """Hold a job arriving at `now` on the server free first for `hours`, from when it
        is free; the hours the job waits for it (0 when one is free now)."""
        start = max(now, heapq.heappop(self._free_at))
        heapq.heappush(self._free_at, start + hours)
        return start - now

    def busy_until(self) -> float:
        """When every job booked so far is done (the last server's free time)."""
        return max(self._free_at)
