"""Atomic file writing: every result file is written to a temporary name in its directory and
renamed into place, so a run killed mid-write leaves the earlier file or none, never a torn one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it over `target` on success."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}",
                               dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        tmp_path.unlink()  # writers (GDAL, pyarrow) want to create the file themselves
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_atomic(target: Path, write: Callable[[Path], object]) -> Path:
    """Write a file through `write(tmp_path)` and move it into place atomically."""
    with atomic_path(target) as tmp:
        write(tmp)
    return target


def write_csv(target: Path, frame: pd.DataFrame) -> Path:
    """A table as CSV, without the index."""
    return write_atomic(target, lambda p: frame.to_csv(p, index=False))


def write_parquet(target: Path, frame: pd.DataFrame) -> Path:
    """A table as Parquet, without the index."""
    return write_atomic(target, lambda p: frame.to_parquet(p, index=False))


def write_text(target: Path, text: str) -> Path:
    """A text file (UTF-8)."""
    return write_atomic(target, lambda p: p.write_text(text, encoding="utf-8"))


def write_png(target: Path, figure: Figure, dpi: int) -> Path:
    """A matplotlib figure as PNG."""
    return write_atomic(target, lambda p: figure.savefig(p, dpi=dpi, format="png"))
