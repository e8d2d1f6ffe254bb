"""Where sweep runs execute: in this process, on a local process pool, or on a Dask cluster.

Every executor calls the same function (`sim.sweep.tasks.execute_run` for a sweep, another for
a pathway's samples or a plan's runs) on the same tasks and hands each finished row to `record`
in the calling process (which makes it durable), so results do not depend on the executor and
a remote worker needs no access to the sweep's files.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import multiprocessing
import os
import tempfile
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.errors import ClusterError, InputError, plural, printable
from sim.extensions import carried
from sim.lifeline import pool_worker
from sim.progress import Progress
from sim.sweep.tasks import RunTask, execute_run, failed_row

Record = Callable[[dict[str, Any]], None]
Execute = Callable[[Any], dict[str, Any]]   # a task (with run_id and head()) -> its row
Notify = Callable[[str], None]
MAX_ATTEMPTS = 3  # a run in flight when its worker died this many times is recorded failed
NO_WORKER_TIMEOUT_S = 120.0  # a Dask sweep with no worker this long stops
POLL_S = 1.0
LOOPBACK_DASHBOARD = "127.0.0.1:0"  # a LocalCluster's dashboard: this machine only


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    """End a pool's worker processes now (an interrupt: their runs are not waited for).
    ProcessPoolExecutor has no public way before Python 3.14 (`kill_workers`)."""
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        try:
            proc.kill()
        except (OSError, ValueError, AttributeError):
            pass


def run_serial(tasks: Sequence[RunTask], record: Record, *, fn: Execute = execute_run) -> None:
    """Run every task in this process, in order."""
    for task in tasks:
        record(fn(task))


# why a local pool's workers cannot start when a script runs a sweep at its top level
NO_MAIN_GUARD = "in a script, call the sweep under `if __name__ == '__main__':`"


def new_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of `workers` fresh (spawned: no fork of a threaded parent) processes that die
    with this one (`sim.lifeline`).

    Called in such a process while it starts (it imports the script that started the pool,
    and that script starts a sweep at its top level, unguarded), it ends that process with one
    line, not a traceback: the pool that started it breaks, and `run_pool` records the runs
    as failed with the advice."""
    # the check multiprocessing makes before it refuses to start a process from there
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise SystemExit(f"cqsim: a worker process of a sweep started another sweep as it "
                         f"imported the script; {NO_MAIN_GUARD}")
    return ProcessPoolExecutor(max_workers=workers,
                               mp_context=multiprocessing.get_context("spawn"),
                               initializer=pool_worker, initargs=(os.getpid(),))


def run_pool(tasks: Sequence[RunTask], record: Record, *, workers: int,
             notify: Notify = lambda msg: None, max_attempts: int = MAX_ATTEMPTS,
             fn: Execute = execute_run, pool: ProcessPoolExecutor | None = None) -> None:
    """Run tasks on a pool of `workers` fresh processes; survive a worker process dying.

    At most 4 x workers runs are in flight (queued in the pool, so no worker waits on this
    process). When a worker dies (killed, out of memory, crashed) the pool breaks and loses the
    runs in flight: they go to the back of the queue on a new pool, and a run lost
    `max_attempts` times while a worker ran it is recorded as failed (one still queued in the
    pool was not running: it is sent again, uncounted). If `max_attempts` pools in a row break
    before finishing any run (workers that cannot even start), every remaining run is
    recorded failed. Workers die with this process (`sim.lifeline`), and are killed when it
    is interrupted. `pool`: a pool already started (warm: its processes have imported cqsim
    and settled the variants) for the first round; it is shut down at the end.
    """
    with tempfile.TemporaryDirectory(prefix="cqsim-pool-") as begun:
        _run_pool(tasks, record, workers=workers, notify=notify, max_attempts=max_attempts,
                  fn=fn, pool=pool, begun=begun)


def _mark(folder: str, run_id: str) -> Path:
    """The file that says a worker has begun run `run_id` (`_Begun`)."""
    return Path(folder) / hashlib.sha256(run_id.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class _Begun:
    """`fn`, leaving a mark in `folder` while a worker runs a task: a pool that breaks lost
    the runs its workers had begun, not those still queued in it (three runs that each
    killed their worker once failed a fourth that never ran, "died 3 times")."""

    fn: Execute
    folder: str

    def __call__(self, task: Any) -> dict[str, Any]:
        mark = _mark(self.folder, task.run_id)
        mark.touch()
        try:
            return self.fn(task)
        finally:    # not reached when the worker dies: the mark says the run was lost
            mark.unlink(missing_ok=True)


def _run_pool(tasks: Sequence[RunTask], record: Record, *, workers: int, notify: Notify,
              max_attempts: int, fn: Execute, pool: ProcessPoolExecutor | None,
              begun: str) -> None:
    """`run_pool`, with `begun` the folder of the marks of runs a worker has begun."""
    queue: deque[RunTask] = deque(tasks)
    call = carried(_Begun(fn, begun))   # fresh processes: this one's extensions imported there
    lost: Counter[str] = Counter()
    barren = 0  # pools in a row that broke without finishing a run
    warm = pool
    while queue:
        in_flight: dict[Future[dict[str, Any]], RunTask] = {}
        broken = False
        finished = 0
        pool, warm = warm or new_pool(workers), None
        stopped = True  # by an interrupt or an error here, until the loop ends normally
        try:
            while (queue or in_flight) and not broken:
                while queue and len(in_flight) < 4 * workers:
                    task = queue.popleft()
                    try:
                        in_flight[pool.submit(call, task)] = task
                    except BrokenProcessPool:
                        queue.appendleft(task)
                        broken = True
                        break
                if not in_flight:
                    break
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for fut in done:
                    if isinstance(fut.exception(), BrokenProcessPool):
                        broken = True
                        continue
                    record(fut.result())
                    finished += 1
                    del in_flight[fut]
            stopped = False
        finally:
            if stopped:
                _kill_workers(pool)
            pool.shutdown(wait=not broken and not stopped, cancel_futures=True)
        if not broken:
            continue
        retry = []
        for fut, task in in_flight.items():
            if fut.done() and fut.exception() is None:
                record(fut.result())
                finished += 1
                continue
            mark = _mark(begun, task.run_id)
            if not mark.exists():    # queued in the pool, not begun: not lost
                retry.append(task)
                continue
            mark.unlink()
            lost[task.run_id] += 1
            if lost[task.run_id] >= max_attempts:
                record(failed_row(task, f"worker process died {lost[task.run_id]} times "
                                        "while running this run"))
            else:
                retry.append(task)
        queue.extend(retry)
        barren = 0 if finished else barren + 1
        if barren >= max_attempts:
            why = (f"worker processes died {barren} times in a row before finishing any run "
                   f"({NO_MAIN_GUARD})")
            notify(f"local pool: {why}; recording the {len(queue)} remaining run(s) as failed")
            while queue:
                record(failed_row(queue.popleft(), why))
            return
        notify(f"a worker process died; restarting the pool and retrying {len(retry)} "
               "run(s) that were in flight")


def _not_started(record: logging.LogRecord) -> bool:
    """Drop distributed's "Cluster closed without starting up" warning."""
    return record.getMessage() != "Cluster closed without starting up"


@contextmanager
def dask_client(address: str | None, *, workers: int, security: Any = None,
                dashboard_address: str = LOOPBACK_DASHBOARD) -> Iterator[Any]:
    """A client of the Dask scheduler at `address` (tcp:// or tls://, with `security`, a
    distributed.Security), or of a new LocalCluster of `workers` processes on loopback (its
    dashboard at `dashboard_address`); an unreachable scheduler is an InputError, a
    LocalCluster that does not start a ClusterError."""
    from distributed import Client, LocalCluster

    cluster = None
    try:
        if address is None:
            spec_log = logging.getLogger("distributed.deploy.spec")
            spec_log.addFilter(_not_started)   # the ClusterError says it, in one line
            try:
                cluster = LocalCluster(n_workers=workers, threads_per_worker=1,
                                       processes=True, host="127.0.0.1",
                                       dashboard_address=dashboard_address)
            except Exception as exc:  # distributed: RuntimeError("Cluster failed to start")
                cause = exc.__cause__ or exc
                raise ClusterError(
                    f"--local-cluster: the Dask LocalCluster did not start (dashboard at "
                    f"{printable(str(dashboard_address), 80)}): {type(cause).__name__}: "
                    f"{printable(' '.join(str(cause).split()), 300)}") from None
            finally:
                spec_log.removeFilter(_not_started)
            client = Client(cluster)
        else:
            try:
                client = Client(address, timeout="15s", security=security)
            except (OSError, TimeoutError, ValueError, TypeError) as exc:
                raise InputError(address, "--scheduler",
                                 "a reachable Dask scheduler tcp://HOST:PORT or tls://HOST:PORT "
                                 f"(with --tls-ca-file, --tls-cert, --tls-key) ({exc})") from None
        with client:
            yield client
    finally:
        if cluster is not None:
            cluster.close()


@contextmanager
def connected(scheduler: str | None, local_cluster: bool, *, workers: int, needed: bool = True,
              security: Any = None,
              dashboard_address: str = LOOPBACK_DASHBOARD) -> Iterator[Any]:
    """The Dask client the runs will use (`dask_client`), connected now, before anything is
    written or shown: a --scheduler that cannot be reached is then one line and leaves
    nothing behind. None: a local executor, or no runs to do (`needed` false)."""
    if not needed or not (scheduler or local_cluster):
        yield None
        return
    with dask_client(scheduler, workers=workers, security=security,
                     dashboard_address=dashboard_address) as client:
        yield client


def run_dask(tasks: Sequence[RunTask], record: Record, *, client: Any, key_prefix: str,
             notify: Notify = lambda msg: None,
             no_worker_timeout: float = NO_WORKER_TIMEOUT_S, fn: Execute = execute_run) -> None:
    """Run tasks on the Dask cluster of `client` (`dask_client`).

    Each task's key is `key_prefix`, a token of this call and its run id: no task of another
    call, of the same prefix or not, is taken for it. Dask reschedules the runs of a worker
    that dies; a run whose workers died more than the scheduler's `allowed-failures` is
    recorded as failed (KilledWorker). When the cluster has had no worker at all for
    `no_worker_timeout` seconds, the sweep says so and records the runs not done as failed
    (`--resume` runs them) instead of waiting for ever.
    """
    from distributed import wait

    address = client.scheduler_info().get("address", "?")
    notify(f"dask: {plural(len(client.scheduler_info().get('workers', {})), 'worker')} at "
           f"{address}; the sweep stops if no worker is left for "
           f"{no_worker_timeout:g} s")
    # this call's own keys: Dask takes a task whose key it holds already for that task, and
    # two calls of one prefix (`cqsim plan`'s, two plans on one shared scheduler) sent the
    # same keys, one call handed the other's rows
    prefix = f"{key_prefix}-{uuid.uuid4().hex[:8]}"
    by_key = {f"{prefix}-{t.run_id}": t for t in tasks}
    call = carried(fn)      # this process's extensions imported on the worker first
    pending = {client.submit(call, t, key=k, pure=False)
               for k, t in by_key.items()}
    alone_since: float | None = None
    while pending:
        try:
            done, pending = wait(pending, timeout=POLL_S,
                                 return_when="FIRST_COMPLETED")
        except (TimeoutError, asyncio.TimeoutError):  # none finished: still waiting
            done = set()
        recorded = False
        for fut in done:
            task = by_key[str(fut.key)]
            try:
                row = fut.result(timeout=POLL_S)
            except (TimeoutError, asyncio.TimeoutError):
                # finished on a worker that died before its result was fetched: Dask runs
                # it again, so it is pending again (waiting here would wait for a worker
                # that may never come, past the no-worker timeout)
                pending.add(fut)
                continue
            except Exception as exc:  # KilledWorker, lost data: a failed run
                row = failed_row(task, f"{type(exc).__name__}: {exc}")
            record(row)
            fut.release()
            recorded = True
        if recorded or not pending:
            alone_since = None
            continue
        if client.nthreads():
            alone_since = None
            continue
        alone_since = alone_since or time.monotonic()
        if time.monotonic() - alone_since >= no_worker_timeout:
            why = f"no Dask worker for {no_worker_timeout:g} s at {address}"
            notify(f"dask: {why}: stopping; the {len(pending)} run(s) not done are "
                   "recorded failed (--resume runs them)")
            for fut in pending:
                record(failed_row(by_key[str(fut.key)], why))
            client.cancel(list(pending))
            return



def describe(workers: int, scheduler: str | None, local_cluster: bool) -> str:
    """The executor `dispatch` uses, in words, as the console and sweep.json's `executor`
    give it ("dask LocalCluster (1 worker)": it read "(1 workers)", trial50)."""
    if scheduler:
        return f"dask scheduler {scheduler}"
    if local_cluster:
        return f"dask LocalCluster ({plural(workers, 'worker')})"
    return "this process" if workers <= 1 else f"local pool ({workers} processes)"


def counted(record: Record, progress: Progress) -> Record:
    """`record`, then one run counted on `progress` (failed when its status is not ok)."""
    def both(row: dict[str, Any]) -> None:
        record(row)
        progress.advance(row.get("status") != "ok")
    return both


def dispatch(tasks: Sequence[Any], record: Record, *, workers: int, scheduler: str | None,
             local_cluster: bool, key_prefix: str, notify: Notify = lambda msg: None,
             fn: Execute = execute_run, pool: ProcessPoolExecutor | None = None,
             client: Any = None, progress: Progress | None = None) -> None:
    """Run `tasks` with `fn` on the executor `describe` names (`pool`: a warm local pool;
    `client`: the Dask client `connected` made, else one is connected here): for the
    commands that run their own tasks (pathway, plan). `progress` (entered by the caller)
    counts each recorded row, failed when its status is not ok, and shows the executor's
    notes, as a sweep's bar does: a long plan or pathway says how far it is and its ETA."""
    if progress is not None:
        record, notify = counted(record, progress), progress.note
    if not tasks:
        if pool is not None:
            pool.shutdown()
        return
    if scheduler or local_cluster:
        with contextlib.nullcontext(client) if client is not None else connected(
                scheduler, local_cluster, workers=workers) as dask:
            run_dask(tasks, record, client=dask, notify=notify, key_prefix=key_prefix,
                     fn=fn)
    elif workers > 1:
        run_pool(tasks, record, workers=workers, notify=notify, fn=fn, pool=pool)
    else:
        run_serial(tasks, record, fn=fn)
