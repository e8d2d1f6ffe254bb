"""`python -m sim` runs the `cqsim` command line."""

from sim.cli import main

main(prog_name="cqsim")
