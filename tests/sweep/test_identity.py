"""What keeps a sweep's runs its own: the variants a process settles are remembered per
sweep, two sweeps on one Dask scheduler do not share tasks, a resume refuses runs of
another horizon, fixed value or first point, and a local pool retries a run its worker died
in as many times as it says."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

import sim.sweep.tasks as sweep_tasks
from sim.errors import InputError
from sim.sweep import execute_run, execute_sweep, prepare_sweep, run_sweep
from sim.sweep.executors import run_pool
from tests.support import dying
from tests.sweep.test_sweep import SERVICE, comparable, tiny_sweep


def _two_sweeps(tmp: Path, **kw: Any) -> list[Path]:
    """Two sweeps of one grid over networks of other demand (a: 20,000 TEU a year, b: 60,000),
    each in a folder of its own."""
    paths = []
    for name, teu in (("a", 20_000), ("b", 60_000)):
        (tmp / name).mkdir()
        paths.append(tiny_sweep(tmp / name, teu_per_year=teu, **kw))
    return paths


def test_a_process_remembers_the_variants_it_settled_per_sweep(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker settles each variant once and keeps it for the next runs (`settle_here`
    false, as `cqsim uncertainty` runs): a second sweep in the same process (a notebook, a
    Dask worker) has variants of the same ids, and must not be handed the first one's."""
    monkeypatch.setattr(sweep_tasks, "_SETTLED", OrderedDict())
    first, second = (prepare_sweep(p, settle_here=False)
                     for p in _two_sweeps(tmp_path, values=[7], replications=1, days=30))
    assert first.tasks[0].settled is None and first.tasks[0].run_id == second.tasks[0].run_id
    rows = [execute_run(s.tasks[0]) for s in (first, second)]
    settled_here = execute_run(prepare_sweep(second.spec.source_file).tasks[0])
    assert rows[0]["total_teu_per_year"] != rows[1]["total_teu_per_year"]
    for column in ("total_teu_per_year", "goods_trade_bn_cny_per_year"):
        assert rows[1][column] == settled_here[column] > 0, column


_GATE = threading.Event()
_HELD = threading.Event()      # set once `_held` holds the worker's thread


def _held() -> None:
    """A task that holds the in-process worker's one thread until `_GATE` opens."""
    _HELD.set()
    assert _GATE.wait(60)


def _two_at_once(client: Any, run: Callable[[int], None]) -> None:
    """`run(0)` and `run(1)` in two threads, both sending their tasks while the worker's one
    thread is held, so neither finishes before the other has sent everything."""
    _GATE.clear()
    _HELD.clear()
    held = client.submit(_held, key="gate-held")
    # the worker held before either call sends: a call whose tasks reached the free worker
    # first could finish whole and never be seen waiting (a fresh clone's suite, loaded)
    assert _HELD.wait(60), "the worker was not held"
    threads = [threading.Thread(target=run, args=(k,)) for k in range(2)]
    for thread in threads:
        thread.start()

    def sent(dask_scheduler: Any) -> int:
        """The clients that wait for tasks of theirs."""
        return sum(1 for c in dask_scheduler.clients.values()
                   if any(not str(ts.key).startswith("gate") for ts in c.wants_what))

    deadline = time.monotonic() + 60
    while client.run_on_scheduler(sent) < 2:
        assert time.monotonic() < deadline, "the calls sent no tasks"
        time.sleep(0.05)
    _GATE.set()
    held.result()
    for thread in threads:
        thread.join(60)


def test_two_sweeps_on_one_scheduler_keep_their_own_runs(tmp_path: Path) -> None:
    """Dask takes a task whose key it holds already for the same task: two sweeps sent to
    one scheduler at once (two users of a shared cluster) must not name their runs alike,
    or one sweep's rows come back as the other's. The scheduler's one thread is held until
    both have sent their runs."""
    from distributed import Client, LocalCluster

    paths = _two_sweeps(tmp_path, values=[7, 14], replications=1, days=20)
    sweeps = [prepare_sweep(p) for p in paths]
    outcomes: dict[int, Any] = {}
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address="127.0.0.1:0") as cluster, Client(cluster) as client:
        def run(k: int) -> None:
            outcomes[k] = execute_sweep(sweeps[k], tmp_path / f"out{k}", progress=False,
                                        plots=False, scheduler=cluster.scheduler_address)

        _two_at_once(client, run)
    assert sorted(outcomes) == [0, 1]
    for k, path in enumerate(paths):
        pd.testing.assert_frame_equal(comparable(outcomes[k].runs),
                                      comparable(run_sweep(path, workers=1, plots=False)))


def _points(doc: dict[str, Any]) -> None:
    doc["parameters"] = {"points": [{SERVICE: 7}, {SERVICE: 14}]}


@pytest.mark.parametrize("before, after", [
    ({}, {"days": 40}),                                  # the horizon of every run
    ({}, {"fixed": {"demand.lot_teu": 5}}),              # a value every variant runs
    ({"points": True}, {"first_point_as_is": True}),     # what the first point runs
], ids=["days", "fixed", "first_point_as_is"])
def test_resume_refuses_runs_of_other_settings(tmp_path: Path, before: dict[str, Any],
                                               after: dict[str, Any]) -> None:
    """The sweep file is not among the inputs digested, so each setting of it that changes
    what a run simulates is part of the sweep's identity: a resume after it changed would
    put runs of two sweeps in one table."""
    path = tiny_sweep(tmp_path, values=[7], replications=1)
    doc = yaml.safe_load(path.read_text())
    if before.pop("points", False):
        _points(doc)
    path.write_text(yaml.safe_dump(doc))
    run_sweep(path, tmp_path / "out", workers=1, plots=False)
    path.write_text(yaml.safe_dump({**doc, **after}))
    with pytest.raises(InputError, match="same sweep"):
        run_sweep(path, tmp_path / "out", workers=1, plots=False, resume=True)


def test_a_sweep_s_own_seed_and_days_reach_every_run(tmp_path: Path) -> None:
    """`seed:` and `days:` of the sweep file override the base's for every variant: a run is
    the plain run of its variant at that seed and horizon, replication for replication."""
    import sim

    path = tiny_sweep(tmp_path, values=[7, 14], replications=2, days=60, seed=5)
    doc = yaml.safe_load(path.read_text())
    path.write_text(yaml.safe_dump({**doc, "days": 40}))
    runs = run_sweep(path, workers=1, plots=False).set_index("run_id")
    assert set(runs["seed"]) == {5}
    scenario = sim.with_overrides(sim.load_scenario(tmp_path / "scenario.yaml"),
                                  **{SERVICE: 14})
    plain = sim.run(scenario, replications=2, seed=5, days=40).by_replication("corridors")
    for r in (0, 1):
        teu = plain.loc[plain["replication"] == r, "teu_per_year"].sum()
        assert runs.loc[f"v0001-r00{r}", "total_teu_per_year"] == teu > 0


def _pool(tasks: list[dying.Task], max_attempts: int) -> dict[str, dict[str, Any]]:
    """The rows `run_pool` records, by run id (each recorded once)."""
    rows: list[dict[str, Any]] = []
    run_pool(tasks, rows.append, workers=1, max_attempts=max_attempts, fn=dying.run)
    by_id = {row["run_id"]: row for row in rows}
    assert len(by_id) == len(rows) == len(tasks), [row["run_id"] for row in rows]
    return by_id


@pytest.mark.slow
def test_a_run_whose_worker_dies_each_time_is_tried_max_attempts_times(
        tmp_path: Path) -> None:
    """A run that kills its worker (out of memory, a crash) is tried `max_attempts` times in
    all, then recorded failed with the count, and the runs beside it are not held up."""
    tasks = [dying.Task("good", 0, str(tmp_path)), dying.Task("fatal", 99, str(tmp_path))]
    rows = _pool(tasks, max_attempts=2)
    assert rows["good"]["status"] == "ok"
    assert rows["fatal"]["status"] == "failed" and tasks[1].attempts() == 2
    assert "worker process died 2 times" in rows["fatal"]["error"]


@pytest.mark.slow
def test_pools_that_break_after_finishing_runs_do_not_give_up_the_sweep(
        tmp_path: Path) -> None:
    """`run_pool` gives up only after `max_attempts` pools in a row break before finishing
    any run (workers that cannot start): three pools that each finish a run and then lose a
    worker to a different run are three unlucky pools, and every run still succeeds.
    (Between two runs that kill their worker stand more runs than a pool holds, so no run
    is lost twice.)"""
    tasks = [dying.Task("g00", 0, str(tmp_path))]
    for k in range(1, 4):
        tasks.append(dying.Task(f"k{k}", 1, str(tmp_path)))
        tasks += [dying.Task(f"g{k}{j}", 0, str(tmp_path)) for j in range(7)]
    rows = _pool(tasks, max_attempts=3)
    assert {row["status"] for row in rows.values()} == {"ok"}, rows
    assert [tasks[i].attempts() for i in (1, 9, 17)] == [2, 2, 2]


@pytest.mark.slow
def test_a_run_still_queued_when_a_worker_dies_is_not_charged_with_its_death(
        tmp_path: Path) -> None:
    """A pool holds more runs than it has workers: those queued behind the run whose worker
    died were charged with the death too, so three runs that each killed their worker once
    failed a fourth that never ran ("worker process died 3 times while running this run"),
    and the third killer after its one death."""
    tasks = [dying.Task(f"k{i}", 1, str(tmp_path)) for i in (1, 2, 3)]
    tasks.append(dying.Task("queued", 0, str(tmp_path)))
    rows = _pool(tasks, max_attempts=3)
    assert {row["status"] for row in rows.values()} == {"ok"}, rows
    assert [task.attempts() for task in tasks] == [2, 2, 2, 1]


def _where(task: dying.Task) -> dict[str, Any]:
    """A row saying which call's task ran."""
    return {**task.head(), "status": "ok", "marks": task.marks}


def test_two_calls_with_one_key_prefix_on_one_scheduler_keep_their_own_rows(
        tmp_path: Path) -> None:
    """`cqsim plan` names its Dask tasks `cqsim-plan-<run id>` whatever the plan: two plans
    sent to one scheduler at once (a shared cluster) had tasks of the same keys, and Dask
    handed one plan the other's rows. Each call's tasks are its own."""
    from distributed import Client, LocalCluster

    from sim.sweep.executors import run_dask

    calls = [[dying.Task(f"p0000-r000{r}", 0, f"plan{k}") for r in range(2)] for k in range(2)]
    rows: dict[int, list[dict[str, Any]]] = {0: [], 1: []}
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address="127.0.0.1:0") as cluster, Client(cluster) as client:
        def run(k: int) -> None:
            with Client(cluster.scheduler_address) as own:
                run_dask(calls[k], rows[k].append, client=own, key_prefix="cqsim-plan",
                         fn=_where)

        _two_at_once(client, run)
    for k in range(2):
        assert sorted((r["run_id"], r["marks"]) for r in rows[k]) == [
            (f"p0000-r000{r}", f"plan{k}") for r in range(2)]


@pytest.mark.slow
def test_a_run_finished_in_a_pool_found_broken_is_recorded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run that finished in a pool before it broke, its result not read yet when the break
    is seen, is recorded from the broken pool (not lost: the table would miss its row)."""
    import concurrent.futures

    import sim.sweep.executors as executors

    def broken_first(fs: Any, return_when: str) -> tuple[set, set]:
        """Wait for every run, then hand back the broken ones alone if any: the order a
        loaded machine may see them in."""
        done, _ = concurrent.futures.wait(fs, timeout=60)
        broken = {f for f in done if f.exception() is not None}
        return (broken, set(fs) - broken) if broken else (done, set(fs) - done)

    monkeypatch.setattr(executors, "wait", broken_first)
    tasks = [dying.Task("finished", 0, str(tmp_path)), dying.Task("fatal", 1, str(tmp_path))]
    rows = _pool(tasks, max_attempts=3)
    assert {row["status"] for row in rows.values()} == {"ok"}
    assert [task.attempts() for task in tasks] == [1, 2]
