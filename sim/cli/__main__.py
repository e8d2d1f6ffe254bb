"""`python -m sim.cli` runs the `cqsim` command."""

from sim.cli import entry

entry()
