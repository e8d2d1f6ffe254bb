"""What one test session makes once for all its xdist workers."""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest


def session_folder(factory: pytest.TempPathFactory) -> Path:
    """A folder of this test session that all its xdist workers share (their base temporary
    folders are siblings in the session's folder; without xdist, the base folder itself)."""
    base = factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def made_once(factory: pytest.TempPathFactory, name: str, make: Callable[[Path], None]) -> Path:
    """The folder `name` of the session folder, filled by `make(folder)` once in the session:
    the first worker to ask makes it while the others wait, then all of them read it (a
    session fixture is otherwise made again in each worker whose tests use it). When `make`
    fails, the next worker to ask tries again, so each reports the failure. The tests that
    use the folder read it and copy what they change, as they do with any session fixture."""
    root = session_folder(factory)
    folder, done = root / name, root / f"{name}.done"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)    # released when the file closes
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)   # a failed attempt's leftovers
            folder.mkdir()
            make(folder)
            done.touch()
    return folder
