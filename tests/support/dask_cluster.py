"""A real Dask cluster on loopback for tests: `dask scheduler` and one `dask worker` (1
process, 1 thread), started as the installed commands start them."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.paths import BIN


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def dask_cluster(logs: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """The scheduler's address and the worker's process, both stopped at the end (their
    logs in `logs`)."""
    from distributed import Client

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs: list[subprocess.Popen] = []
    try:
        procs.append(subprocess.Popen(
            [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
             "--no-dashboard"], stdout=subprocess.DEVNULL,
            stderr=open(logs / "scheduler.log", "w")))
        procs.append(subprocess.Popen(
            [str(BIN / "dask"), "worker", address, "--nworkers", "1", "--nthreads", "1",
             "--no-dashboard", "--host", "127.0.0.1"], stdout=subprocess.DEVNULL,
            stderr=open(logs / "worker.log", "w")))
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(1, timeout=60)
        yield address, procs[1]
    finally:
        for proc in reversed(procs):
            _stop(proc)
