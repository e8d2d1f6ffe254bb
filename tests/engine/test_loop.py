"""`sim.engine.loop`: run_until and drive process what SimPy would, in the same order."""

from __future__ import annotations

from collections.abc import Callable, Generator

import pytest
import simpy

from sim.engine.loop import drive, run_until


def _trace(start: Callable[[simpy.Environment, Generator], None],
           run: Callable[[simpy.Environment, float], None]) -> list[tuple[float, str]]:
    """A timetable that starts trips every 2 h; trips of 1 h and 2 h hops meet at equal times
    (ties broken by SimPy's event order), a shared event wakes a waiting trip."""
    env = simpy.Environment()
    seen: list[tuple[float, str]] = []
    gate = env.event()

    def trip(name: str, hops: tuple[float, ...]) -> Generator[simpy.Event, object, None]:
        seen.append((env.now, f"{name} leaves"))
        for hop in hops:
            yield env.timeout(hop)
            seen.append((env.now, f"{name} at stop"))
        if name == "t0":
            gate.succeed("open")
        elif name == "t1":
            value = yield gate
            seen.append((env.now, f"{name} gate {value}"))

    def timetable() -> Generator[simpy.Event, object, None]:
        for k in range(4):
            following = env.timeout(2.0)
            start(env, trip(f"t{k}", (1.0, 1.0) if k % 2 else (2.0,)))
            yield following

    env.process(timetable())
    run(env, 7.5)
    seen.append((env.now, "end"))
    return seen


def _as_process(env: simpy.Environment, steps: Generator) -> None:
    env.process(steps)


def test_drive_and_run_until_keep_simpys_order() -> None:
    reference = _trace(_as_process, lambda env, at: env.run(until=at))
    assert _trace(lambda _env, steps: drive(steps), run_until) == reference
    assert reference[-1] == (7.5, "end")
    assert (4.0, "t1 gate open") in reference     # waited on an event already triggered


def test_run_until_raises_a_failed_event_and_refuses_the_past() -> None:
    env = simpy.Environment()
    env.timeout(1.0).callbacks.append(lambda _ev: env.event().fail(KeyError("lost")))
    with pytest.raises(KeyError):
        run_until(env, 5.0)
    with pytest.raises(ValueError):
        run_until(env, env.now)
