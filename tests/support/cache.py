"""The cache of feedback passes that the suite's costliest settlings of baseline-2023 share."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from sim.cache import ENV


@contextmanager
def shared_settled_cache(factory: pytest.TempPathFactory) -> Iterator[None]:
    """The cache on, in a folder of this test session that all its xdist workers share
    (their base temporary folders are siblings in the session's folder)."""
    base = factory.getbasetemp()
    where = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "settled-cache"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ENV, str(where))
        yield
