"""Generators of SimPy events run without a `simpy.Process`.

A `Process` costs two scheduled events of its own: its start (an urgent event at once) and its
end (an event nobody waits for when no one joins it). A vehicle trip is a generator that no
other process waits for, started a few tens of thousands of times a year, so `drive` runs it
as SimPy would, minus those two events: its first step at once (where the start event would
be the very next event processed, so the order of everything else is unchanged), and each
later step as a callback of the event it yields.
"""

from __future__ import annotations

from collections.abc import Generator

import simpy


class _Driven:
    """A generator and the callback that resumes it (an object, not a closure that names
    itself: that would be a reference cycle per trip, left to the garbage collector)."""

    __slots__ = ("steps",)

    def __init__(self, steps: Generator[simpy.Event, object, None]) -> None:
        self.steps = steps

    def resume(self, event: simpy.Event | None) -> None:
        steps = self.steps
        while True:
            try:
                if event is None:
                    target = steps.send(None)
                elif event.ok:
                    target = steps.send(event.value)
                else:
                    target = steps.throw(event.value)
            except StopIteration:
                return
            if target.callbacks is not None:    # not yet processed: wait for it
                target.callbacks.append(self.resume)
                return
            event = target                      # already processed: go on at once


def drive(steps: Generator[simpy.Event, object, None]) -> None:
    """Run `steps` now up to its first wait, then on as each event it yields is processed.

    Only for generators nothing waits for (no return value, not interruptible); an error in
    one propagates out of the event loop, as an unhandled process failure would."""
    _Driven(steps).resume(None)
