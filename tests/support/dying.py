"""Tasks whose pool worker dies while running them, for `sim.sweep.executors.run_pool`:
each run counts its attempts in a folder (the worker is another process) and ends its
process (as a kill or an out-of-memory would) on the attempts it is told to."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Task:
    """Run `run_id`: its worker dies on each of its first `dies` attempts."""

    run_id: str
    dies: int
    marks: str      # the folder where each attempt leaves a file

    def head(self) -> dict[str, Any]:
        return {"run_id": self.run_id}

    def attempts(self) -> int:
        return len(list(Path(self.marks).glob(f"{self.run_id}.*")))


def run(task: Task) -> dict[str, Any]:
    """The `fn` of the pool: one more attempt, then die or return an ok row."""
    attempt = task.attempts() + 1
    (Path(task.marks) / f"{task.run_id}.{attempt}").touch()
    if attempt <= task.dies:
        os._exit(1)
    return {**task.head(), "status": "ok", "error": "", "attempt": attempt}
