"""Input errors that name the file, the field and what was expected."""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad user input: reported as one line, exit code 2, never a traceback."""

    def __init__(self, file: str | Path, field: str, expected: str, got: object = None) -> None:
        self.file = str(file)
        self.field = field
        self.expected = expected
        self.got = got
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}: {self.field}" if self.field else self.file
        msg = f"{where}: expected {self.expected}"
        if self.got is not None:
            got = repr(self.got)
            msg += f", got {got[:80] + '...' if len(got) > 80 else got}"
        return msg


class ConservationError(RuntimeError):
    """Freight was created but is neither delivered, in transit nor waiting."""
