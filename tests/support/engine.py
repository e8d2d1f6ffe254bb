"""Which engine a test runs in."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.paths import ROOT


def ran_in_plain_engine(request: pytest.FixtureRequest) -> bool:
    """Whether this test was handed to the plain engine: one that replaces a method of the
    engine's objects cannot run in the compiled engine (a compiled class's methods are
    read-only), so there it runs again in a process with `CQSIM_COMPILED=off`, which must
    pass, and the caller returns. In the plain engine (False) it runs here."""
    from sim import native

    if native.engine_name() == "plain":
        return False
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p", "no:cacheprovider",
         request.node.nodeid], cwd=ROOT, env={**os.environ, "CQSIM_COMPILED": "off"},
        capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout, done.stdout[-3000:]
    return True
