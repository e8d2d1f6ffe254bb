"""Test-wide settings. Shared helpers live in the package `tests.support`."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from sim.cache import ENV
from tests.support import cache

# The cache of feedback passes (sim.cache) is off in the suite, so each test settles what it
# tests; the cache's own tests turn it on in a folder of their own, and the costliest tests
# that settle baseline-2023 the same way share one (`shared_settled_cache`). Set here, before
# any test runs, so subprocesses and notebook kernels inherit it.
os.environ[ENV] = "off"


@pytest.fixture
def shared_settled_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The feedback passes of baseline-2023 (its own and as the plan scenarios' market
    reference) simulated once in the suite for each horizon the tests run them over (a
    year for calibrate, the notebook's 120 days, which cut the passes), not once per test
    and worker."""
    with cache.shared_settled_cache(tmp_path_factory):
        yield
