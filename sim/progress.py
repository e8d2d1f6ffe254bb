"""Progress of many runs (a sweep's runs, a scenario's replications): a rich bar with ETA on a
terminal, plain periodic lines otherwise (CI, logs)."""

from __future__ import annotations

import math
import sys
import time
from typing import Any, TextIO


def format_duration(seconds: float) -> str:
    """Compact duration: 45s, 1m20s, 2h05m, 3d04h (an ETA, an estimated CPU time);
    'unbounded' when not finite."""
    if not math.isfinite(seconds):
        return "unbounded"
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"


class Progress:
    """Counts finished runs and reports them.

    `show=None` picks a bar when the stream is a terminal and plain lines ("12/40 runs done,
    ETA 1m20s") otherwise: one when the work starts (after all set-up: a caller may wait for
    it), then at most every `interval` seconds; `show=False` is silent. The ETA uses the pace
    of this session only (runs skipped on resume are not counted as work). `unit` names what
    is counted; a `transient` bar disappears when done.
    """

    def __init__(self, total: int, already: int, label: str, show: bool | None = None, *,
                 unit: str = "runs", transient: bool = False, interval: float = 10.0,
                 stream: TextIO | None = None) -> None:
        self.total, self.already, self.label, self.unit = total, already, label, unit
        self.transient = transient
        self.stream = stream or sys.stderr
        self.interval = interval
        tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.mode = "off" if show is False else ("bar" if tty else "lines")
        self.done = 0
        self.failed = 0
        self.start = time.perf_counter()
        self.last_line = float("-inf")
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Progress:
        self.start = time.perf_counter()
        if self.mode == "bar":
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TextColumn("{task.fields[failed]}"),
                                 TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                                 console=Console(file=self.stream),
                                 transient=self.transient)
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=self.total,
                                            completed=self.already, failed="")
        elif self.mode == "lines" and self.already:
            self._line(f"resuming: {self.already}/{self.total} {self.unit} already done")
        elif self.mode == "lines":
            self._line(f"{self.label}: 0/{self.total} {self.unit} done, started")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
        elif self.mode == "lines" and self.done:
            self._line(self.status())

    @property
    def remaining(self) -> int:
        return self.total - self.already - self.done

    def eta_seconds(self) -> float | None:
        """Seconds left at this session's pace (None before the first run finishes)."""
        if not self.done:
            return None
        return (time.perf_counter() - self.start) / self.done * self.remaining

    def status(self) -> str:
        """One line: '12/40 runs done (1 failed), ETA 1m20s'."""
        finished = self.already + self.done
        failed = f" ({self.failed} failed)" if self.failed else ""
        eta = self.eta_seconds()
        tail = ", ETA " + format_duration(eta) if eta is not None and self.remaining else ""
        if not self.remaining:
            tail = f", {format_duration(time.perf_counter() - self.start)} elapsed"
        return f"{self.label}: {finished}/{self.total} {self.unit} done{failed}{tail}"

    def advance(self, failed: bool = False) -> None:
        """Count one finished run (failed or not) and report if it is time to."""
        self.done += 1
        self.failed += int(failed)
        if self._bar is not None:
            self._bar.update(self._task, advance=1,
                             failed=f"{self.failed} failed" if self.failed else "")
        elif self.mode == "lines":
            now = time.perf_counter()
            if now - self.last_line >= self.interval and self.remaining:
                self.last_line = now
                self._line(self.status())

    def note(self, message: str) -> None:
        """A one-off message (worker died, cluster size) that does not break the bar."""
        if self._bar is not None:
            self._bar.console.print(message)
        elif self.mode == "lines":
            self._line(message)

    def _line(self, text: str) -> None:
        print(text, file=self.stream, flush=True)
