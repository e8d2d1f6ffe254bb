"""The `cqsim` console script, light enough to answer Ctrl-C from its first line.

While the command line is imported (click, the commands: tens of milliseconds, more on a
busy machine) nothing has been written, so an interrupt then prints one line and exits 130
at once. `sim.cli.entry` then installs the handler that lets a command clean up.
"""

import os
import signal


def _starting(signum: int, frame: object) -> None:
    os.write(2, b"cqsim: interrupted while starting; nothing was written\n")
    os._exit(128 + signum)


def entry(prog_name: str | None = None) -> None:
    """Run the `cqsim` command line (an inherited "ignore SIGINT" is respected)."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _starting)
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _starting)
    from sim.cli import entry as cli_entry

    cli_entry(prog_name)
