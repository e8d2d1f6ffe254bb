"""What the feedback passes learnt, and route choice sets, kept on disk, so a plan settled
once is not settled again.

The passes of `sim.equilibrium.settle` are most of a run's time on a scenario with feedback
(three simulated years of four for baseline-2023), and the same passes recur: a scenario
run again, a comparison whose base was run before, every alternative whose market reference
is the same file. Route choice sets (`sim.routing.choice_sets`, keyed by the plan's
routing inputs) were a fifth of a run whose passes are kept. Each settling is stored under a
key made of everything it depends on: the plan as `repr` writes it (network, demand,
market, choice parameters, seed, horizon, routing: every field of the frozen specs), the
route choice sets, where the learning started, the replication whose streams the passes ran
on, the market reference's settled state, and the code (a hash of every source file of the
`sim` package and the versions of Python, NumPy and SimPy, and the source of any component
kind registered from outside it). A changed input or a changed line of code is a different
key, so an entry is never stale (a kind whose source cannot be read, typed into a notebook,
runs without the cache); it is read back as the exact
floats it was written with, so a run from the cache has the same tables as one without.

Where: `$CQSIM_CACHE_DIR`, else `$XDG_CACHE_HOME/cqsim/settled`, else
`~/.cache/cqsim/settled`; `CQSIM_CACHE_DIR=off` turns it off. At most `KEEP` entries
(the oldest read go first). A cache that cannot be read or written is skipped: it only ever
saves time.

Refused input writes nothing, the cache included: inside `held` (every `cqsim` command, and
`sim.boundary.admit`) entries are kept in memory, read back from there, and written when the
block ends other than by a refusal, or sooner at `release`, once the command has accepted
its input (its results folder staged): the processes that then run it read them from disk.
The input checks that come after a scenario is prepared (`--out`, a sweep's grid against
its base, a budget) then need no order of their own. A store from a thread started inside a
block is not held (a thread starts with an empty context); none stores today.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import platform
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from sim.atomic import write_atomic

ENV = "CQSIM_CACHE_DIR"
OFF = {"", "off", "0", "false", "no", "none"}
KEEP = 256                      # entries kept (a settling is tens to hundreds of kB)
SUFFIX = ".pickle"
T = TypeVar("T")


@dataclass
class _Hold:
    """One `held` block: its entries, the block around it, and the process holding them (a
    child forked inside the block writes its own entries, as it cannot hand them back)."""

    outer: _Hold | None
    pid: int = field(default_factory=os.getpid)
    entries: dict[str, bytes] = field(default_factory=dict)
    released: bool = False
    waiting: list[Callable[[], None]] = field(default_factory=list)   # `on_release`


# the innermost `held` block of this context
_HELD: ContextVar[_Hold | None] = ContextVar("cqsim_cache_held", default=None)


def user_folder(env: str, name: str) -> Path | None:
    """A folder of cqsim's kept files: `$env` when set (None when it says off), else
    `$XDG_CACHE_HOME/cqsim/<name>`, else `~/.cache/cqsim/<name>`; None without a home."""
    given = os.environ.get(env)
    if given is not None:
        return None if given.strip().lower() in OFF else Path(given).expanduser()
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:    # no home directory (a bare container user): nothing kept
            return None
    return Path(base) / "cqsim" / name


def directory() -> Path | None:
    """The cache's folder, None when turned off."""
    return user_folder(ENV, "settled")


@lru_cache(maxsize=1)
def code_version() -> str:
    """Hash of the `sim` package's source and of the interpreter and libraries that shape a
    simulation's numbers (igraph's: the order of routes of equal cost)."""
    import igraph
    import numpy
    import simpy

    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    for part in (platform.python_version(), numpy.__version__, simpy.__version__,
                 igraph.__version__):
        digest.update(part.encode())
    return digest.hexdigest()


def code_identity() -> str:
    """The code a study's runs were made with, as its manifest keeps it so that a resumed
    sweep, pathway or plan never mixes runs of other code: `code_version`, with
    `sim.extensions.code_version` when kinds are registered from outside `sim` or modules
    imported by `--import`. A kind with no source file makes it this process's own: nothing
    can tell an edit of it apart."""
    from sim.extensions import code_version as extensions_version

    extensions = extensions_version()
    if extensions == "":
        return code_version()
    if extensions is None:
        import uuid

        return f"{code_version()}+unreadable-kind-{uuid.uuid4().hex}"
    return f"{code_version()}+{extensions}"


def key(parts: Iterable[str], extensions: str = "") -> str:
    """The key of a computation from the text of its inputs (the code's version included,
    and `extensions`: `sim.extensions.code_version`)."""
    digest = hashlib.sha256(code_version().encode())
    digest.update(extensions.encode())
    for part in parts:
        digest.update(b"\0")
        digest.update(part.encode())
    return digest.hexdigest()


def kept(parts: Callable[[], Iterable[str]], compute: Callable[[], T], kind: type[T]) -> T:
    """What `compute()` returns, read back when a `kind` was stored under the key of
    `parts()` (`key`), else computed and stored. The key's text (reprs of whole plans) is
    made only when the cache is on. Not kept when a registered kind's source cannot be read
    (`sim.extensions.code_version`, computed once for the code loaded: not per lookup)."""
    from sim.extensions import code_version as extensions_version

    extensions = extensions_version() if directory() is not None else None
    if extensions is None:
        return compute()
    name = key(parts(), extensions)
    value = load(name)
    if isinstance(value, kind):
        return value
    value = compute()
    store(name, value)
    return value


def _holds() -> Iterator[_Hold]:
    """The `held` blocks of this process around the caller, innermost first."""
    hold = _HELD.get()
    while hold is not None:
        if hold.pid == os.getpid():
            yield hold
        hold = hold.outer


@contextmanager
def held(*refusals: type[BaseException]) -> Iterator[None]:
    """Hold the entries stored in the block (in memory, read back from there) and store them
    when it ends, unless it ends by one of `refusals`: a command that refuses its input after
    settling part of it (a bad --out, a sweep value its base refuses) leaves nothing in the
    cache. Nested blocks store into the one around them and read what it holds."""
    hold = _Hold(_HELD.get())
    token = _HELD.set(hold)
    refused = False
    try:
        yield
    except refusals:
        refused = True
        raise
    finally:    # an interrupt or a failed run stores them: what was settled is sound
        _HELD.reset(token)
        if not refused:
            for name, data in hold.entries.items():
                _store_bytes(name, data)


def release() -> None:
    """The command has accepted its input: store what every block around holds, and store
    at once from now on, so the processes that run it (a sweep's pool, Dask workers) read
    the settlings its checks made, and a long command holds nothing in memory; then call
    what waits for it (`on_release`)."""
    for hold in list(_holds()):
        hold.released = True
        entries, hold.entries = hold.entries, {}
        for name, data in entries.items():
            _store_bytes(name, data)
        waiting, hold.waiting = hold.waiting, []
        for callback in waiting:
            callback()


def on_release(callback: Callable[[], None]) -> None:
    """Call `callback` when the command accepts its input (`release`): the one moment the
    command line's held warnings print too (`sim.cli.common.warnings_until_accepted`). Not
    called outside a `held` block, nor when one ends without a release."""
    hold = next(_holds(), None)
    if hold is not None:
        hold.waiting.append(callback)


def load(name: str) -> object | None:
    """The value stored under `name`, None when absent, unreadable or the cache is off."""
    folder = directory()
    if folder is None:
        return None
    for hold in _holds():
        if name in hold.entries:
            return pickle.loads(hold.entries[name])
    path = folder / f"{name}{SUFFIX}"
    try:
        value = pickle.loads(path.read_bytes())
    except Exception:           # absent, torn, from another pickle protocol: not there
        return None
    with suppress(OSError):     # read: the last to be evicted (a read-only cache still reads)
        os.utime(path)
    return value


def store(name: str, value: object) -> None:
    """Store `value` under `name` (`sim.atomic`: written whole, then renamed), then evict the
    entries read longest ago beyond `KEEP`; inside `held`, only when its block ends. Does
    nothing when the cache is off or its folder cannot be written."""
    if directory() is None:
        return
    _store_bytes(name, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


def _store_bytes(name: str, data: bytes) -> None:
    """`store` of a value already pickled."""
    folder = directory()
    if folder is None:
        return
    hold = next(_holds(), None)
    if hold is not None and not hold.released:
        hold.entries[name] = data
        return
    try:
        write_atomic(folder / f"{name}{SUFFIX}", lambda p: p.write_bytes(data))
        entries = sorted((p for p in folder.glob(f"*{SUFFIX}") if not p.name.startswith(".")),
                         key=lambda p: p.stat().st_mtime_ns)   # not others' files in writing
        for old in entries[:-KEEP]:
            old.unlink(missing_ok=True)
    except OSError:
        return
