"""Test-wide settings. Shared helpers live in the package `tests.support`."""

import os

# The cache of feedback passes (sim.cache) is off in the suite, so each test settles what it
# tests; the cache's own tests turn it on in a folder of their own. Set here, before any
# test runs, so subprocesses and notebook kernels inherit it.
os.environ["CQSIM_CACHE_DIR"] = "off"
