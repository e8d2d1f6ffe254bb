"""Child processes die with their parent: a pool worker or a writer child whose parent is
killed (SIGKILL, out of memory) must not run on, orphaned, holding memory and files.

`die_with_parent` asks Linux to send the child SIGKILL when its parent dies
(prctl PR_SET_PDEATHSIG), and, on every system, starts a watchdog thread that polls the
parent id (an orphan is adopted by another process, so its parent id changes) and ends the
process within WATCH_SECONDS.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1
WATCH_SECONDS = 1.0


def _pdeathsig() -> None:
    if sys.platform != "linux":
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def _watch(parent: int, every: float) -> None:
    while True:
        time.sleep(every)
        if os.getppid() != parent:
            os._exit(1)


def die_with_parent(parent: int, *, watch: bool = True, every: float = WATCH_SECONDS) -> None:
    """Make this (child) process end when the process `parent` ends; exit at once when it
    has already ended. `watch`: also poll from a daemon thread (pool workers; a forked child
    that must stay single-threaded relies on the prctl alone)."""
    _pdeathsig()
    if os.getppid() != parent:  # the parent died before the prctl took effect
        os._exit(1)
    if watch:
        threading.Thread(target=_watch, args=(parent, every), name="cqsim-lifeline",
                         daemon=True).start()


def pool_worker(parent: int) -> None:
    """Initializer of a pool worker: die with `parent`; Ctrl-C from the terminal ends the
    worker quietly (the parent reports the interrupt), not with a traceback of its own."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    die_with_parent(parent)
