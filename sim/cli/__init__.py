"""The `cqsim` command line: one module per command, one error policy for all.

Bad input exits 2 with one line naming the file, the field and what was expected;
Ctrl-C exits 130 with a message; neither prints a traceback. Command modules import what
they need when they run, so `cqsim --help` and bad input answer at once.
"""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

import click

from sim.errors import ConservationError, InputError


class CqsimGroup(click.Group):
    """A click group that turns known failures into one-line messages and exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except InputError as exc:
            click.echo(f"cqsim: error: {exc}", err=True)
            ctx.exit(2)
        except ConservationError as exc:
            click.echo(f"cqsim: conservation check failed: {exc}", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            _stop_repeating()
            click.echo("cqsim: interrupted; results already written are complete, "
                       "nothing was half-written", err=True)
            ctx.exit(130)


REPEAT_SECONDS = 2.0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C: raise KeyboardInterrupt, and raise it again every REPEAT_SECONDS until the
    command has stopped. Python drops an exception raised inside a finalizer or a weakref
    callback ("Exception ignored in ..."); an interrupt landing there must not leave a
    ten-year run going."""
    if hasattr(signal, "setitimer"):
        signal.signal(signal.SIGALRM, _interrupt)
        signal.setitimer(signal.ITIMER_REAL, REPEAT_SECONDS)
    raise KeyboardInterrupt


def _stop_repeating() -> None:
    if hasattr(signal, "setitimer"):
        signal.setitimer(signal.ITIMER_REAL, 0.0)


def entry() -> None:
    """The `cqsim` console script: the interrupt handler, then the command group.

    An inherited "ignore SIGINT" (a background job of a non-interactive shell) is respected,
    as Python itself does.
    """
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _interrupt)
    main()


@click.group(cls=CqsimGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cqsim")
def main() -> None:
    """Simulate freight on Chongqing's opening-up channels."""


def _register() -> None:
    from sim.cli import run as run_cmd

    main.add_command(run_cmd.run)
    main.add_command(run_cmd.validate)
    main.add_command(__import__("sim.cli.compare", fromlist=["compare"]).compare)
    main.add_command(__import__("sim.cli.compare", fromlist=["rank"]).rank)
    main.add_command(__import__("sim.cli.sweep", fromlist=["sweep"]).sweep)
    main.add_command(__import__("sim.cli.calibrate", fromlist=["x"]).calibrate_cmd)
    main.add_command(__import__("sim.cli.report", fromlist=["report"]).report)
    main.add_command(__import__("sim.cli.uncertainty", fromlist=["x"]).uncertainty)
    main.add_command(__import__("sim.cli.pathway", fromlist=["x"]).pathway)
    main.add_command(__import__("sim.cli.plan", fromlist=["x"]).plan)


_register()

if __name__ == "__main__":  # pragma: no cover
    entry()
