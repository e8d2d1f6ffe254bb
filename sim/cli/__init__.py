"""The `cqsim` command line: one module per command, one error policy for all.

Bad input exits 2 with one line naming the file, the field and what was expected;
Ctrl-C exits 130 with a message; neither prints a traceback.
"""

from __future__ import annotations

import sys
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
            click.echo("cqsim: interrupted; results already written are complete, "
                       "nothing was half-written", err=True)
            ctx.exit(130)


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


_register()

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
