"""What every command shares at the input boundary: paths the user named (which decide what a
message may quote), the cost limits, and admission with its warnings held back until the
input is known to be good (an error is then the only line printed)."""

from __future__ import annotations

import contextlib
import math
import os
import warnings
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from sim.budget import (
    DEFAULT_MAX_EVENTS,
    DEFAULT_MAX_MEMORY,
    DEFAULT_MAX_STUDY_EVENTS,
    Limits,
    parse_size,
)
from sim.errors import absolute
from sim.units import MAX_DAYS

if TYPE_CHECKING:
    from sim.boundary import Admitted

NAMED = "cqsim.named_paths"
F = TypeVar("F", bound=Callable[..., Any])


class InputPath(click.Path):
    """A path to a file the user names on the command line: recorded, so that messages may
    quote values from it and from the files beside it (and from no others)."""

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        out = super().convert(value, param, ctx)
        if ctx is not None:
            ctx.meta.setdefault(NAMED, []).append(Path(os.fsdecode(out)))
        return out


def _real(path: str | Path) -> str:
    return str(absolute(path))


def quote_policy(named: list[Path]) -> Callable[[str], bool]:
    """May a message quote a value from `file`? Only from a file the user named, or one in
    the folder of a named file or below it, or from an option of the command line (`file`
    is then the option, e.g. `--year`: the user typed the value) (docs/validation.md, "What
    a message may quote")."""
    roots = []
    for path in named:
        real = _real(path)
        roots.append((real, os.path.dirname(real) if not os.path.isdir(real) else real))

    def quote(file: str) -> bool:
        if file.startswith("--"):
            return True
        real = _real(file)
        return any(real == named_file or real.startswith(folder.rstrip(os.sep) + os.sep)
                   for named_file, folder in roots)
    return quote


class OutPath(click.ParamType):
    """A results path (`--out`), kept exactly as typed: click.Path would turn '' into '.',
    the working folder. It is checked by `sim.staging` after the input, before any run (and
    a folder's place before the input too: `check_out_place`)."""

    name = "path"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        return value if isinstance(value, Path) else Path(value) if value else value


def _import_modules(ctx: click.Context, param: click.Parameter,
                    value: tuple[str, ...]) -> tuple[str, ...]:
    """Import the modules --import names as the command line is read, before any scenario
    (`sim.extensions.load`: bad input is one line naming --import, exit 2), and gather the
    result tables once, so a kind's table named like another table is refused here, before
    anything runs or is written (`sim.engine.recorder.component_tables`)."""
    if value:
        from sim.engine.recorder import all_tables
        from sim.extensions import load

        load(value)
        all_tables()
    return value


IMPORTS = click.option(
    "--import", "imports", multiple=True, metavar="MODULE", is_eager=True,
    expose_value=False, callback=_import_modules,
    help="Import MODULE before reading the input, so the component kinds and KPIs it "
         "registers are known here and in every worker process (repeatable): a dotted name "
         "found on Python's path or in the working folder, or a .py file.")

OVERWRITE = click.option(
    "--overwrite", is_flag=True,
    help="Replace --out even when it holds files cqsim did not write (all of them go).")


def check_out_place(out: Path | None) -> None:
    """Refuse a results folder `out` that cannot be one wherever the input leads
    (`sim.staging.check_place`: a file, a device, the root, the working folder, a folder
    holding a named input, a place nothing can be written to) before the input is prepared:
    `run --out FILE` answered after the routes of its scenario (3.8 s of baseline-2023). The
    whole check, with the files the input reads, comes when the folder is staged."""
    if out is not None:
        from sim.staging import check_place

        check_place(out, inputs=named_inputs())


def named_inputs() -> tuple[Path, ...]:
    """The input files named on this command line (`InputPath`) and the files of the code
    its `--import` brought (`sim.extensions.code_files`): an output folder may not hold one
    (`--out DIR --overwrite` replaced a folder holding the module it imported)."""
    from sim.extensions import code_files

    ctx = click.get_current_context(silent=True)
    return (*(ctx.meta.get(NAMED, ()) if ctx is not None else ()), *code_files())


class Size(click.ParamType):
    """A size in bytes: `4GB`, `500MB`, `2e9`."""

    name = "size"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> float:
        if isinstance(value, (int, float)):
            return float(value)
        try:
            return parse_size(str(value))
        except ValueError:
            self.fail(f"expected a size such as 4GB or 500MB, got {value!r}", param, ctx)


class Finite(click.FloatRange):
    """A number in a range, and a number: click.FloatRange lets NaN through (every comparison
    with NaN is false, so `--max-events nan` was no limit at all) and infinity through an
    open end. Every float option takes this type; `allow_inf` lets infinity through where it
    means something."""

    def __init__(self, min: float | None = None, max: float | None = None, *,
                 min_open: bool = False, max_open: bool = False,
                 allow_inf: bool = False) -> None:
        super().__init__(min=min, max=max, min_open=min_open, max_open=max_open)
        self.allow_inf = allow_inf

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        number = click.FLOAT.convert(value, param, ctx)
        if math.isnan(number) or (math.isinf(number) and not self.allow_inf):
            self.fail(f"expected a finite number, got {value!r}", param, ctx)
        return super().convert(number, param, ctx)


def _limit_options(max_events: float, what: str) -> Callable[[F], F]:
    """--max-memory, --max-events (default `max_events`) and --no-limit (see `limits`)."""
    def add(f: F) -> F:
        f = click.option("--no-limit", is_flag=True,
                         help="Run whatever the estimated cost (no memory or event "
                              "limit).")(f)
        f = click.option("--max-events", type=Finite(min=1), default=max_events,
                         show_default=True,
                         help=f"Refuse {what} estimated to schedule more simulation events "
                              "(a finite number; --no-limit lifts both limits).")(f)
        f = click.option("--max-memory", type=Size(), default=DEFAULT_MAX_MEMORY,
                         show_default="4GB",
                         help=f"Refuse {what} estimated to need more memory (e.g. 8GB).")(f)
        return f
    return add


limit_options = _limit_options(DEFAULT_MAX_EVENTS, "a run")
# a pathway or plan: all its simulations together
study_limit_options = _limit_options(DEFAULT_MAX_STUDY_EVENTS, "a study")


def executor_options(f: F) -> F:
    """--workers, --scheduler and --local-cluster of the commands that run many simulations
    (`one_executor` checks that at most one of the last two is given)."""
    f = click.option("--local-cluster", is_flag=True, help="Start a Dask LocalCluster.")(f)
    f = click.option("--scheduler", default=None, metavar="tcp://HOST:PORT",
                     help="Run on an existing Dask distributed scheduler.")(f)
    f = click.option("--workers", type=WORKERS, default=None,
                     help="Local processes (or LocalCluster workers, at most 4 per CPU); "
                          "default: CPU count.")(f)
    return f


def one_executor(scheduler: str | None, local_cluster: bool) -> None:
    """Refuse --scheduler with --local-cluster, and a --scheduler that is not an address
    (usage errors: one line, exit 2, before any folder is made)."""
    if scheduler and local_cluster:
        raise click.UsageError("--scheduler and --local-cluster exclude each other: "
                               "expected one of them (an existing Dask scheduler, or a "
                               "LocalCluster this command starts)")
    if scheduler is not None:
        from distributed.comm import parse_address
        from distributed.comm.addressing import parse_host_port

        from sim.errors import InputError

        try:
            scheme, where = parse_address(scheduler)
            _, port = parse_host_port(where)
            if scheme not in ("tcp", "tls") or not 0 < int(port) < 65536:
                raise ValueError(scheme)
        except (ValueError, TypeError):
            raise InputError(scheduler, "--scheduler", "a Dask scheduler address "
                             "tcp://HOST:PORT or tls://HOST:PORT") from None


def limits(max_memory: float, max_events: float, no_limit: bool) -> Limits | None:
    """The limits the options ask for (None: none)."""
    return None if no_limit else Limits(max_memory=max_memory, max_events=max_events)


@dataclass
class _Pending:
    """The warning lines of one command: held until it accepts its input, each printed once
    (a scenario loaded twice, by its checks and by a study's own, warns twice)."""

    lines: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    accepted: bool = False

    def add(self, line: str) -> None:
        """Print `line` now if the input is accepted, else hold it; a line seen is dropped."""
        if line in self.seen:
            return
        self.seen.add(line)
        if self.accepted:
            click.echo(line, err=True)
        else:
            self.lines.append(line)

    def show(self) -> None:
        self.accepted = True
        for line in self.lines:
            click.echo(line, err=True)
        self.lines.clear()


_PENDING: ContextVar[_Pending | None] = ContextVar("cqsim_warnings_pending", default=None)


@contextlib.contextmanager
def warnings_until_accepted(*refusals: type[BaseException]) -> Iterator[None]:
    """Show each InputWarning of the block as one `cqsim: warning:` line (`show_warning`;
    whatever PYTHONWARNINGS says, each text once) and hold the lines until the command
    accepts its input (`sim.cache.release`: its checks passed, its results folder staged),
    or the block ends other than by one of `refusals` (an interrupt or a failure prints them
    before its own line): refused input prints its one error line and nothing else,
    whichever check refused it (an --out refused after the scenario warned, in a study's own
    code). The one place that decides when warnings print: every command runs inside one
    (`sim.cli.CqsimGroup`)."""
    from sim import cache
    from sim.errors import InputWarning

    pending = _Pending()
    token = _PENDING.set(pending)
    cache.on_release(pending.show)
    try:
        with warnings.catch_warnings():
            shown = warnings.showwarning

            def one_line(message: Warning | str, category: type[Warning], filename: str,
                         lineno: int, file: Any = None, line: str | None = None) -> None:
                if issubclass(category, InputWarning):
                    show_warning(str(message))
                else:
                    shown(message, category, filename, lineno, file, line)

            warnings.simplefilter("always", InputWarning)   # `_Pending` drops repeats
            warnings.showwarning = one_line
            yield
    except refusals:
        pending.lines.clear()
        raise
    finally:
        _PENDING.reset(token)
        pending.show()


# A warning longer than this is cut (hostile text: a name of thousands of characters); the
# longest cqsim writes itself, a run's unsettled feedback, is about 600
WARNING_CHARS = 1200


def show_warning(text: str, kept: str | None = None) -> None:
    """One `cqsim: warning: ...` line on stderr, held while the command has not accepted its
    input (`warnings_until_accepted`). A text over `WARNING_CHARS` is cut at a word, and the
    line then says where the whole is (`kept`, e.g. a run's run.json and report.html)."""
    from sim.errors import printable

    shown = printable(text, WARNING_CHARS, words=True)
    if kept and shown != printable(text):
        shown += f" (cut here; the whole warning is in {kept})"
    line = f"cqsim: warning: {shown}"
    pending = _PENDING.get()
    if pending is None:
        click.echo(line, err=True)
    else:
        pending.add(line)


# a shorter horizon has no statistics to speak of; the longest is a scenario's (sim.scenario)
DAYS = Finite(min=1.0, max=MAX_DAYS)

# More processes than this only queue for the same cores and each holds a copy of the
# network; an unbounded number forks until the machine stops answering.
MAX_WORKERS = 4 * (os.cpu_count() or 1)
WORKERS = click.IntRange(min=1, max=MAX_WORKERS)


def override_options(f: Any = None, *, workers_default: str | None = None) -> Any:
    """--seed, --replications, --days and --workers, shared by run, validate and calibrate.

    `workers_default` is what --help shows when the default depends on the input (validate
    prices a sweep file on every CPU): --workers then defaults to None, the caller's to read."""
    def decorate(f: Any) -> Any:
        told = "" if workers_default is None else f"  [default: {workers_default}]"
        f = click.option("--workers", type=WORKERS,
                         default=1 if workers_default is None else None,
                         show_default=workers_default is None,
                         help="Processes for replications, at most 4 per CPU (same results "
                              f"for any number).{told}")(f)
        f = click.option("--days", type=DAYS, default=None,
                         help="Override the horizon in days (at least 1).")(f)
        f = click.option("--replications", type=click.IntRange(min=1, max=10_000),
                         default=None, help="Override the number of replications.")(f)
        return click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1), default=None,
                            help="Override the seed.")(f)
    return decorate if f is None else decorate(f)


def admitted(scenario: Path, seed: int | None, replications: int | None, days: float | None,
             workers: int, max_memory: float, max_events: float, no_limit: bool) -> Admitted:
    """Every input check of `run` (sim.boundary.admit). Its warnings wait until the caller
    accepts the input (`warnings_until_accepted`), having checked the rest (e.g. --out)."""
    from sim.boundary import admit

    return admit(scenario, seed=seed, replications=replications, days=days,
                 workers=workers, limits=limits(max_memory, max_events, no_limit))
