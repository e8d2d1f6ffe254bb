"""The `cqsim` command line: one module per command, one error policy for all.

Bad input exits 2 with one line naming the file, the field and what was expected (usage
errors name the option); a Dask LocalCluster that does not start exits 1 with one line;
Ctrl-C (SIGINT) exits 130 and SIGTERM 143 with one line; none prints a traceback. An
interrupted command leaves its results folder as it was (`sim.staging`). Warnings about valid
but doubtful input print one `cqsim: warning:` line each, once the input is accepted: refused
input prints its error line alone. Command modules import what they
need when they run, so `cqsim --help` and bad input answer at once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from types import FrameType
from typing import Any

import click

from sim import cache, staging
from sim.errors import (
    ClusterError,
    ConservationError,
    InputError,
    RunFailed,
    printable,
)


def _usage_line(exc: click.UsageError) -> str:
    """A click usage error (`--seed -1`, a missing argument) as one line with a pointer to
    the command's help."""
    text = printable(" ".join(exc.format_message().split()), 300).rstrip(".")
    command = exc.ctx.command_path if exc.ctx is not None else "cqsim"
    return f"cqsim: error: {text} (see {printable(command, 60)} --help)"


class CqsimGroup(click.Group):
    """A click group that turns known failures into one-line messages and exit codes."""

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:
            click.echo(_usage_line(exc), err=True)
            raise click.exceptions.Exit(2) from None
        except KeyboardInterrupt:
            raise click.exceptions.Exit(_interrupted()) from None

    def invoke(self, ctx: click.Context) -> Any:
        from sim.cli.common import NAMED, quote_policy, warnings_until_accepted

        try:
            # refused input leaves nothing in the cache: what was settled before the refusal
            # (a bad --out, a sweep value the base refuses) is stored only if none comes
            # nor prints its warnings: they wait until it is accepted
            with cache.held(InputError, click.UsageError), \
                    warnings_until_accepted(InputError, click.UsageError):
                return super().invoke(ctx)
        except click.UsageError as exc:
            click.echo(_usage_line(exc), err=True)
            ctx.exit(2)
        except InputError as exc:
            policy = quote_policy(ctx.meta.get(NAMED, []))
            click.echo(f"cqsim: error: {exc.message(policy)}", err=True)
            ctx.exit(2)
        except (ClusterError, RunFailed) as exc:
            if staging.stop_requested() is not None:  # interrupted while it started
                ctx.exit(_interrupted(ctx.invoked_subcommand))
            click.echo(f"cqsim: error: {printable(str(exc), 600)}", err=True)
            ctx.exit(1)
        except ConservationError as exc:
            click.echo(f"cqsim: conservation check failed: {exc}", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            ctx.exit(_interrupted(ctx.invoked_subcommand))
        except BrokenPipeError:
            # the reader of the output went away (`cqsim list ... | head -1`): quiet, with the
            # exit code of a process killed by SIGPIPE, as other Unix tools; what the command
            # wrote to files is complete (they are written whole or not at all)
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(128 + getattr(signal, "SIGPIPE", 13))
        except Exception:
            # an interrupt that lands inside library code (an import half done, a C call) can
            # surface as another exception: after a signal, the command was interrupted
            if staging.stop_requested() is not None:
                ctx.exit(_interrupted(ctx.invoked_subcommand))
            raise


REPEAT_SECONDS = 2.0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C or SIGTERM: raise KeyboardInterrupt, and raise it again every REPEAT_SECONDS
    until the command has stopped. Python drops an exception raised inside a finalizer or a
    weakref callback ("Exception ignored in ..."); an interrupt landing there must not leave a
    ten-year run going."""
    if signum != getattr(signal, "SIGALRM", None):
        staging.STOP_SIGNALS.append(signum)  # the exit code is 128 + the first
    if hasattr(signal, "setitimer"):
        signal.signal(signal.SIGALRM, _interrupt)
        signal.setitimer(signal.ITIMER_REAL, REPEAT_SECONDS)
    raise KeyboardInterrupt


def _interrupted(command: str | None = None) -> int:
    """Say that the command was interrupted, and what its result folder holds (one line);
    return its exit code."""
    if hasattr(signal, "setitimer"):
        signal.setitimer(signal.ITIMER_REAL, 0.0)
    held = (f"{staging.SWAPPED_IN[-1]} holds the new result, complete: it was written before "
            "the interrupt" if staging.SWAPPED_IN else
            "--out holds the previous result or none")
    resume = "; a sweep keeps its finished runs for --resume" if command == "sweep" else ""
    click.echo(f"cqsim: interrupted; no result was half-written: {held}{resume}", err=True)
    return 128 + (staging.stop_requested() or signal.SIGINT)


def entry(prog_name: str | None = None) -> None:
    """The command group under the interrupt handler (`sim.console.entry` is the console
    script). An inherited "ignore SIGINT" (a background job of a non-interactive shell) is
    respected, as Python itself does."""
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, _interrupt)
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_IGN:
        signal.signal(signal.SIGTERM, _interrupt)
    main(prog_name=prog_name)


@click.group(cls=CqsimGroup, context_settings={"help_option_names": ["-h", "--help"]},
             epilog="Environment: CQSIM_CACHE_DIR is where what feedback passes learnt is "
                    "kept, so a plan settled once is read back with the same results "
                    "(default $XDG_CACHE_HOME/cqsim/settled, else ~/.cache/cqsim/settled; "
                    "off turns it off).")
@click.version_option(package_name="cqsim")
def main() -> None:
    """Simulate freight on Chongqing's opening-up channels."""


def _register() -> None:
    from sim.cli import run as run_cmd

    main.add_command(run_cmd.run)
    main.add_command(run_cmd.validate)
    main.add_command(run_cmd.list_ids)
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
