"""Where the suite's tests that share the cache of feedback passes keep it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sim.cache import ENV as SETTLED_CACHE

__all__ = ["SETTLED_CACHE", "shared_cache_dir"]


def shared_cache_dir(factory: pytest.TempPathFactory) -> Path:
    """A folder of this test session, the same for all its xdist workers (their base
    temporary folders are siblings in the session's folder)."""
    base = factory.getbasetemp()
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "settled-cache"
