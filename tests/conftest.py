"""Test-wide settings. Shared helpers live in the package `tests.support`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cache import SETTLED_CACHE, shared_cache_dir

# The cache of feedback passes (sim.cache) is off in the suite, so each test settles what it
# tests; the cache's own tests turn it on in a folder of their own, and the costliest tests
# that settle baseline-2023 the same way share one (`shared_settled_cache`). Set here, before
# any test runs, so subprocesses and notebook kernels inherit it.
os.environ[SETTLED_CACHE] = "off"


@pytest.fixture
def shared_settled_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The cache of feedback passes on, in a folder this session's xdist workers share: the
    year-long passes of baseline-2023 (its own and as the plan scenarios' market reference)
    are then simulated once in the suite, not once per test and worker."""
    where = shared_cache_dir(tmp_path_factory)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(SETTLED_CACHE, str(where))
        yield where
