"""The cache of feedback passes that the suite's costliest settlings of baseline-2023 share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from sim.cache import ENV
from tests.support.session import session_folder


@contextmanager
def shared_settled_cache(factory: pytest.TempPathFactory) -> Iterator[None]:
    """The cache on, in a folder of this test session that all its xdist workers share
    (their base temporary folders are siblings in the session's folder)."""
    where = session_folder(factory) / "settled-cache"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ENV, str(where))
        yield
