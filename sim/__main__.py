"""`python -m sim` runs the `cqsim` command line."""

from sim.console import entry

entry("cqsim")
