"""Test-wide settings. Shared helpers live in the package `tests.support`."""
