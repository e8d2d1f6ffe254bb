"""Default output folders, named after a scenario or sweep but confined to `out/`.

A scenario's `name:` is text from a file, possibly someone else's: `name: /tmp/elsewhere` or
`name: ../../x` must not decide where results go. `safe_slug` reduces any name to one safe
path component, and every default output folder is built from it (`default_out`).
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

OUT_ROOT = Path("out")
SLUG_CHARS = 64


def safe_slug(name: str, fallback: str = "scenario") -> str:
    """`name` as one safe folder name: letters, digits, `-`, `_` and inner dots only, no
    leading dot or dash, at most SLUG_CHARS characters; `fallback` when nothing is left.

    >>> safe_slug("../../etc/passwd"), safe_slug("/tmp/elsewhere"), safe_slug("Plan 2025")
    ('etc-passwd', 'tmp-elsewhere', 'Plan-2025')
    """
    text = unicodedata.normalize("NFKC", str(name))
    kept = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in text)
    kept = re.sub(r"\.{2,}", "-", kept)       # no `..` anywhere
    kept = re.sub(r"-{2,}", "-", kept)
    kept = kept.strip("-._")[:SLUG_CHARS].rstrip("-._")
    return kept or fallback


def default_out(name: str, prefix: str = "", folder: str | None = None) -> Path:
    """`out/[folder/]<prefix><slug of name>`: the default results folder of a command."""
    root = OUT_ROOT / folder if folder else OUT_ROOT
    return root / f"{prefix}{safe_slug(name)}"


def one_or_many(items: Any, one: tuple[type, ...] = ()) -> list[Any]:
    """`items` as a list, a single path or name (text, a path, or one of the types `one`) as
    a list of one: `compare(base, "alt.yaml")` means `["alt.yaml"]`, not its characters."""
    if isinstance(items, (str, bytes, os.PathLike, *one)) or not isinstance(items, Iterable):
        return [items]
    return list(items)
