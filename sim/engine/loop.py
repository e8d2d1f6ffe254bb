"""The event loop, run as SimPy runs it with less overhead per event.

- `run_until(env, at)` is `env.run(until=at)` in one loop: the same events in the same order
  (an urgent stop event at `at`, failures of undefused events raised), without a method call
  and an exception handler per event. It reads SimPy's queue and clock (`Environment._queue`,
  `_now`), as `Environment.step` does; `tests/engine` pins the behaviour.
- `later(env, delay, callback)` is `env.timeout(delay).callbacks.append(callback)` for a
  callback nobody else waits on: the same place in the queue (time, priority, event id),
  a slotted object instead of a `Timeout` (no instance dict, no constructor chain). Hub
  handling, dwell and truck runs are callbacks of this kind, about 250,000 a year.
- `begin(env, callback)` calls `callback` where `env.process` would run a new process's
  first step (an urgent event now, after those already due): a repeating activity (a
  timetable, an arrival stream) written as callbacks that re-arm themselves with `later` is
  then processed in the same order as the generator process it replaces, without a
  `Process`, a `Timeout` and a generator resume per step (about 175,000 a year).
- `Poisson` arms the arrivals of a Poisson stream whose rate follows the monthly
  seasonality (lots of a flow, background jobs), one exponential draw per arrival.
- `push(queue, entry)` and `pop(queue)` are heapq's `heappush` and `heappop` on SimPy's
  queue: compiled, they compare entries as C doubles and ints (heapq compares tuples, an
  equality and a less-than of boxed floats per step: about a sixth of a replication's
  instructions). The same heap in the same list, so SimPy's own `schedule` and `step` still
  work on it, and the same order of events (every entry's key is unique). In plain Python
  they are heapq's own.
- `drive(steps)` runs a generator of events without a `simpy.Process`. A `Process` costs two
  scheduled events of its own: its start (an urgent event at once) and its end (an event
  nobody waits for when no one joins it). A vehicle trip is a generator that no other process
  waits for, started tens of thousands of times a year, so `drive` runs it as SimPy would,
  minus those two events: its first step at once (where the start event would be the very
  next event processed, so the order of everything else is unchanged), and each later step
  as a callback of the event it yields.
- Stand-ins for SimPy's events built in Python, each put in the queue where SimPy would put
  its event (the same time, priority and event id, so the same order): `pause(env, delay)`
  for a driven generator to yield instead of `env.timeout`; `pending()` and
  `succeed(env, due)` for `env.event()` and its `succeed()` with one waiter (yards,
  handling positions); `delay(env, hours)` for a SimPy process to yield instead of
  `env.timeout` (the locks); `again(env, delay, due)` re-arms a chain's own `Due` (a
  timetable, a Poisson clock) instead of a new one per event. `run_until` calls a `Due`'s
  callback directly; SimPy's own `step` (tests run `env.run`) processes them too.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Sequence
from heapq import heappop, heappush
from types import FunctionType
from typing import Any, Final

import simpy
from mypy_extensions import i64
from simpy import events

from sim.units import HOURS_PER_MONTH


def _before(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """`a < b` for two entries (time, priority, event id, event) of SimPy's queue: the order
    tuple comparison gives them, compared as C doubles and ints when compiled (event ids
    are unique, so the events themselves are never compared)."""
    at: float = a[0]
    bt: float = b[0]
    if at != bt:
        return at < bt
    ap: int = a[1]
    bp: int = b[1]
    if ap != bp:
        return ap < bp
    ae: int = a[2]
    be: int = b[2]
    return ae < be


# whether this module runs compiled (mypyc): its functions are then builtins, not Python
# functions. Compiled, `push` and `pop` keep SimPy's queue themselves, positions as C
# int64 (`i64`); in Python they are heapq's (a heap written in Python is slower than
# heapq's C, where compiled it is faster)
COMPILED: Final = not isinstance(_before, FunctionType)


def _sift_down(queue: list[Any], start: i64, pos: i64) -> None:
    """heapq's `_siftdown`: the entry at `pos` moved up to its place (not above `start`)."""
    entry = queue[pos]
    while pos > start:
        parent: i64 = (pos - 1) >> 1
        above = queue[parent]
        if not _before(entry, above):
            break
        queue[pos] = above
        pos = parent
    queue[pos] = entry


def _sift_up(queue: list[Any], pos: i64) -> None:
    """heapq's `_siftup`: the smaller child moved up until a leaf, then the entry that was
    at `pos` put there and moved up (`_sift_down`)."""
    end: i64 = len(queue)
    start = pos
    entry = queue[pos]
    child: i64 = 2 * pos + 1
    while child < end:
        right: i64 = child + 1
        if right < end and not _before(queue[child], queue[right]):
            child = right
        queue[pos] = queue[child]
        pos = child
        child = 2 * pos + 1
    queue[pos] = entry
    _sift_down(queue, start, pos)


def push(queue: list[Any], entry: tuple[Any, ...]) -> None:
    """`heapq.heappush(queue, entry)`: the same heap, the same list, so SimPy's own pushes
    and pops on it (`Environment.schedule`, `step`) keep working."""
    if not COMPILED:
        heappush(queue, entry)
        return
    queue.append(entry)
    _sift_down(queue, 0, len(queue) - 1)


def pop(queue: list[Any]) -> tuple[Any, ...]:
    """`heapq.heappop(queue)`: the first entry of SimPy's queue, taken out."""
    if not COMPILED:
        return heappop(queue)
    last = queue.pop()
    if not queue:
        return last
    first = queue[0]
    queue[0] = last
    _sift_up(queue, 0)
    return first


# SimPy's priorities, as constants of this module: compiled, a C int each, where an imported
# name is a lookup in the module's globals at every use
URGENT: Final[int] = events.URGENT
NORMAL: Final[int] = events.NORMAL


def _schedule(env: simpy.Environment, delay: float, event: object) -> None:
    """Put `event` in SimPy's queue `delay` hours from now at NORMAL priority, as
    `Environment.schedule` does, with the clock read as a C double and the entry pushed by
    the compiled heap (`push`)."""
    now: float = env._now
    ids: Iterator[int] = env._eid
    push(env._queue, (now + delay, NORMAL, next(ids), event))


def _schedule_now(env: simpy.Environment, priority: int, event: object) -> None:
    """Put `event` in SimPy's queue now (the clock's own object, as SimPy does)."""
    ids: Iterator[int] = env._eid
    push(env._queue, (env._now, priority, next(ids), event))


def run_until(env: simpy.Environment, at: float) -> None:
    """Process every event before hour `at` (and the urgent ones at `at` scheduled before
    this call), then stop with the clock at `at`: `env.run(until=at)`."""
    if at <= env.now:
        raise ValueError(f"until ({at}) must be greater than the current simulation time")
    stop = simpy.Event(env)
    stop._ok = True
    stop._value = None
    env.schedule(stop, events.URGENT, at - env.now)
    queue = env._queue
    while queue:
        env._now, _, _, event = pop(queue)
        if isinstance(event, Due):      # a callback of `later`, `begin`, `pause`, `pending`:
            event.call(event)           # no list of callbacks to go through
            continue
        if event is stop:
            return
        callbacks, event.callbacks = event.callbacks, None
        for callback in callbacks:
            callback(event)
        if not event._ok and not hasattr(event, "_defused"):
            exc = type(event._value)(*event._value.args)
            exc.__cause__ = event._value
            raise exc
    raise RuntimeError(f'No scheduled events left but "until" event was not triggered: {stop}')


class Due:
    """A callback due at a time, with one waiter: what `later`, `begin`, `pause` and `pending`
    put in SimPy's queue. `run_until` calls it directly; SimPy's own `step` (tests run
    `env.run`) sees an event whose `callbacks` are a list of that one callback."""

    __slots__ = ("call",)
    _ok = True
    _value = None

    def __init__(self, callback: Callable[[Any], None]) -> None:
        self.call = callback

    @property
    def callbacks(self) -> list[Callable[[Any], None]]:
        return [self.call]

    @callbacks.setter
    def callbacks(self, _value: object) -> None:
        """SimPy marks a processed event so (None); nothing waits on a `Due`."""


def later(env: simpy.Environment, delay: float, callback: Callable[[Any], None]) -> None:
    """Call `callback` (with a stand-in event) `delay` hours from now, in the order
    `env.timeout(delay)` would be processed."""
    if delay < 0:
        raise ValueError(f"Negative delay {delay}")
    _schedule(env, delay, Due(callback))


def again(env: simpy.Environment, delay: float, due: Due) -> None:
    """`later` with a `Due` of the caller's own, not in the queue now: a chain that re-arms
    itself (a timetable, a Poisson clock: one event of it due at a time) makes no new object
    per event."""
    if delay < 0:
        raise ValueError(f"Negative delay {delay}")
    _schedule(env, delay, due)


class Delay:
    """What a SimPy process needs of `env.timeout(delay)` to wait on it (a list of callbacks,
    ok, value None), compiled and slotted: see `delay`."""

    __slots__ = ("callbacks",)
    _ok = True
    _value = None

    def __init__(self) -> None:
        self.callbacks: list[Callable[[Any], None]] | None = []


def delay(env: simpy.Environment, hours: float) -> Delay:
    """`env.timeout(hours)` for a SimPy process to yield (not to combine with `|` or `&`): the
    same place in the queue, without the Timeout's three constructors and `schedule` in
    Python."""
    if hours < 0:
        raise ValueError(f"Negative delay {hours}")
    event = Delay()
    _schedule(env, hours, event)
    return event


def _unset(_event: object) -> None:
    """The callback of a `pause` until the generator that yields it is resumed by it."""


def pause(env: simpy.Environment, delay: float) -> Due:
    """`env.timeout(delay)` for a generator run by `drive` to yield: the same place in the
    queue (time, priority, event id), a slotted object instead of a `Timeout` (whose three
    constructors and `schedule` run in Python). Processed, it sends None, as a timeout does."""
    if delay < 0:
        raise ValueError(f"Negative delay {delay}")
    due = Due(_unset)
    _schedule(env, delay, due)
    return due


def pending() -> Due:
    """`env.event()` with one waiter (who sets its `call`), made due by `succeed`."""
    return Due(_unset)


def succeed(env: simpy.Environment, due: Due) -> None:
    """`event.succeed()` of a `pending`: processed now, after the events already due (the
    same place in the queue as SimPy's: time, NORMAL priority, the next event id)."""
    _schedule_now(env, NORMAL, due)


# what a generator run by `drive` yields: a SimPy event, a `pause` or a `pending`
Wait = simpy.Event | Due


def begin(env: simpy.Environment, callback: Callable[[Any], None]) -> None:
    """Call `callback` (with a stand-in event) at the place in the queue where the first
    step of a process started now would run (`env.process`: an urgent event, delay 0)."""
    _schedule_now(env, URGENT, Due(callback))


class Poisson:
    """Arrivals of a Poisson stream of `rate` per hour times the month's factor of `season`
    (twelve), by inversion of its cumulative rate: arrival k comes when the cumulative rate
    since arrival k-1 reaches the k-th standard exponential draw of `gaps`. A draw that
    outlasts its month carries what is left of it into the next month, at that month's rate.

    Why not redraw at the month's end (memoryless, the same process in law): two variants
    whose rates differ slightly then redraw at different months' ends, their draws fall out
    of step and, once out of step, differ by about a lot a month per flow for the rest of
    the year. Carried over, the k-th arrival spends the k-th draw in every variant: its time
    moves smoothly with the rate and common random numbers stay synchronised.

    `arrive` is called at each arrival and must call `next` to arm the one after it."""

    __slots__ = ("env", "rate", "season", "gaps", "arrive", "rest", "due", "arm")

    def __init__(self, env: simpy.Environment, rate: float, season: Sequence[float],
                 gaps: Callable[[], float], arrive: Callable[[Any], None]) -> None:
        self.env = env
        self.rate = rate
        self.season = season
        self.gaps = gaps
        self.arrive = arrive
        self.rest = 0.0          # cumulative rate still to spend before the next arrival
        # the clock's one event in the queue at a time (`again`), and `_arm` bound once
        self.due = Due(arrive)
        self.arm: Callable[[Any], None] = self._arm

    def next(self, _event: object = None) -> None:
        """Draw the next arrival's gap and arm it."""
        self.rest = self.gaps()
        self._arm()

    def _arm(self, _event: object = None) -> None:
        env = self.env
        now = env._now
        month = int(now // HOURS_PER_MONTH)
        rate = self.rate * self.season[month % 12]
        left = (month + 1) * HOURS_PER_MONTH - now
        due = self.due
        if rate > 0 and self.rest < rate * left:
            due.call = self.arrive
            again(env, self.rest / rate, due)
            return
        self.rest = max(0.0, self.rest - rate * left)
        due.call = self.arm
        again(env, left, due)


# what `next` gives at the end of a driven trip: an object no trip yields
_END: Final = object()


class _Driven:
    """A generator and the callback that resumes it (an object, not a closure that names
    itself: that would be a reference cycle per trip, left to the garbage collector)."""

    __slots__ = ("steps",)

    def __init__(self, steps: Generator[Wait, object, None]) -> None:
        self.steps = steps

    def resume(self, event: Wait | None) -> None:
        steps = self.steps
        # untyped: SimPy sets an event's `callbacks` to None once it is processed, though
        # its type says list (compiled, a typed read of it would raise on None)
        target: Any
        while True:
            try:
                if event is None or isinstance(event, Due):
                    # send(None), its end `_END` rather than a StopIteration (compiled,
                    # catching one records a traceback: ~3,700 instructions a trip); a
                    # trip that yields None still fails, as before (not taken for its end)
                    target = next(steps, _END)
                    if target is _END:
                        return
                elif event.ok:
                    target = steps.send(event.value)
                else:
                    failure = event.value
                    assert isinstance(failure, BaseException)
                    target = steps.throw(failure)
            except StopIteration:
                return
            if isinstance(target, Due):         # a pause or a pending: always due later
                target.call = self.resume
                return
            if target.callbacks is not None:    # not yet processed: wait for it
                target.callbacks.append(self.resume)
                return
            event = target                      # already processed: go on at once


def drive(steps: Generator[Wait, object, None]) -> None:
    """Run `steps` now up to its first wait, then on as each event it yields is processed.

    Only for generators nothing waits for (no return value, not interruptible); an error in
    one propagates out of the event loop, as an unhandled process failure would."""
    _Driven(steps).resume(None)
