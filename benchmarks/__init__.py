"""Benchmarks, run on demand as modules from the repository root (`python -m
benchmarks.run`), never in `make test`."""
