"""`python -m sim.cli` runs the `cqsim` command."""

from sim.console import entry

entry("cqsim")
