"""Whole results or none: a results folder is written in a staging folder beside it and
swapped in at the end, under a lock, with a manifest of every file.

`--out DIR` of every command goes through `ResultFolder`:

1. `check_out` refuses, before anything runs, a DIR that cannot or must not be replaced: an
   empty name, `/`, a mount point, a file or device (`/dev/null`), the working folder or a
   folder holding an input, a place where nothing can be written, or a folder holding files
   cqsim did not write (unless `overwrite`).
2. Entering takes an exclusive lock (`.<DIR>.cqsim-lock` beside DIR, `flock`, so a killed
   process holds it no more), clears what a killed command left (its staging folders) and
   makes an empty staging folder `.<DIR>.cqsim-staging-<random>` beside DIR, on the same file
   system: the command writes there.
3. `commit` writes the manifest (scenario, seed, code version, and the size and sha256 of
   every file) into the command's JSON file and swaps the staging folder in: one atomic
   `renameat2(RENAME_EXCHANGE)` on Linux, so DIR always holds either the previous complete
   result or the new one. The previous result is then deleted: nothing of it is left beside
   the new one.
4. Leaving without a commit (an error, Ctrl-C) deletes the staging folder; the lock is
   released either way. The swap and the clean-up run with SIGINT, SIGTERM and SIGALRM held
   back, so an interrupt cannot cut them in half.

A SIGKILL at any moment leaves DIR as it was or as the new result, plus at most a staging
folder and the lock file, which the next command into DIR removes or reuses.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import json
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from sim import cache
from sim.errors import InputError, has_control, plural, printable

# the JSON file holding the manifest, by command; the first found marks a folder as cqsim's
MANIFEST_FILES = ("run.json", "compare.json", "rank.json", "sweep.json")
MANIFEST_KEY = "manifest"
STAGING = "cqsim-staging"
LOCK = "cqsim-lock"
SHOWN_NAMES = 3  # names of unknown files quoted in a refusal


def _hidden(target: Path, what: str) -> str:
    return f".{target.name}.{what}"


# ----------------------------------------------------------------------------- manifests


def sha256_file(path: Path) -> str:
    """The sha256 of a file's bytes (hex), read in blocks: a manifest's, or an input's."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# Files a file browser writes into any folder it shows: macOS Finder's .DS_Store and
# AppleDouble `._*` files, Windows Explorer's Thumbs.db and desktop.ini. Never cqsim's nor
# the user's data: a results folder holding them is still as cqsim wrote it (its manifest
# neither lists them nor is broken by them) and an --out holding them is still empty or
# cqsim's; one that is replaced (--overwrite) loses them with the rest (trial64 #4).
OS_METADATA = (".DS_Store", "Thumbs.db", "desktop.ini")
_OS_METADATA = frozenset(name.lower() for name in OS_METADATA)


def os_metadata(path: Path) -> bool:
    """Whether `path` is a file an operating system's file browser wrote (`OS_METADATA`,
    any case, or an AppleDouble `._*` file), at any depth of a results folder."""
    return path.name.lower() in _OS_METADATA or path.name.startswith("._")


def _files(folder: Path) -> list[Path]:
    """Every regular file below `folder` but OS metadata (`os_metadata`), sorted."""
    return sorted(p for p in folder.rglob("*")
                  if p.is_file() and not p.is_symlink() and not os_metadata(p))


def manifest(folder: Path, about: dict[str, Any], exclude: str) -> dict[str, Any]:
    """What a results folder holds: `about` (command, scenario, seed, code version...) and
    each file's size and sha256 (all files below `folder` but `exclude`, the JSON file that
    will hold this manifest)."""
    from sim.extensions import sources
    from sim.version import git_commit, package_version

    files = {}
    for path in _files(folder):
        rel = path.relative_to(folder).as_posix()
        if rel != exclude:
            files[rel] = {"bytes": path.stat().st_size, "sha256": sha256_file(path)}
    code: dict[str, Any] = {"cqsim": package_version(), "git_commit": git_commit()}
    imports = [{"module": name, "file": str(file) if file else None,
                "sha256": sha256_file(file) if file and file.is_file() else None}
               for name, file in sources()]
    if imports:     # the modules --import named (sim.extensions): code of the user's own
        code["imports"] = imports
    held = {"tool": "cqsim", **about, "code_version": code}
    return {**held, RECORDS_DIGEST: records_digest(held), "files": files}


# the manifest's own digest of what it records of the run (all but `files`, whose entries
# carry their own, and which `updating` rewrites): a hand-altered record (an `elements`
# digest, a change) was believed, and moved what a comparison paired (fuzz2 M3)
RECORDS_DIGEST = "records_sha256"


# ... and of the rest of the JSON file that holds it (run.json's warnings, description,
# conservation flag...: an edit there was shown by the report as the run's; docaudit2)
FIELDS_DIGEST = "fields_sha256"


def records_digest(held: dict[str, Any]) -> str:
    """sha256 of a manifest's records (every key but `files` and this digest), as JSON
    writes and reads them back: keys sorted, values as `json.dumps(default=str)` gives."""
    return _json_digest({k: v for k, v in held.items() if k not in ("files", RECORDS_DIGEST)})


def fields_digest(meta: dict[str, Any]) -> str:
    """sha256 of the fields of a manifest's JSON file beside the manifest, as
    `records_digest` reads them."""
    return _json_digest({k: v for k, v in meta.items() if k != MANIFEST_KEY})


def _json_digest(value: Any) -> str:
    text = json.dumps(json.loads(json.dumps(value, default=str)), sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_manifest(folder: Path, name: str, about: dict[str, Any]) -> Path:
    """Add a manifest of `folder` to its JSON file `name` (created when missing)."""
    from sim.atomic import write_text

    meta_path = folder / name
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    meta.pop(MANIFEST_KEY, None)
    meta[MANIFEST_KEY] = manifest(folder, {**about, FIELDS_DIGEST: fields_digest(meta)}, name)
    return write_text(meta_path, json.dumps(meta, indent=2, default=str))


def read_manifest(folder: Path) -> tuple[str, dict[str, Any]] | None:
    """(file name, its JSON) of the first manifest file in `folder` that cqsim wrote (with a
    manifest, or an older one with `cqsim_version`); None when there is none."""
    for name in MANIFEST_FILES:
        path = folder / name
        if not path.is_file():
            continue
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(meta, dict) and (
                isinstance(meta.get(MANIFEST_KEY), dict) or "cqsim_version" in meta):
            return name, meta
    return None


RECORDS_CHANGED = f"manifest's records changed since cqsim wrote them ({RECORDS_DIGEST} differs)"
FIELDS_CHANGED = (f"fields beside the manifest changed since cqsim wrote them ({FIELDS_DIGEST} "
                  "differs)")


def fields_intact(meta: dict[str, Any]) -> bool:
    """Whether the fields of a manifest's JSON file beside the manifest are as cqsim wrote
    them (`FIELDS_DIGEST`; a file written before it was kept passes)."""
    held = meta.get(MANIFEST_KEY)
    digest = held.get(FIELDS_DIGEST) if isinstance(held, dict) else None
    return digest is None or digest == fields_digest(meta)


def problems(folder: str | os.PathLike[str], *, fields: bool = True) -> list[tuple[str, str]]:
    """What is wrong with a results folder against its manifest, as (file, what) pairs, the
    file relative to `folder`: files not listed, then listed ones missing or changed, each
    group sorted; a manifest that is not as cqsim writes it is one problem of its own file,
    and so are its records or, with `fields`, the fields beside it edited since. An empty
    list: complete and intact."""
    folder = Path(folder)
    found = read_manifest(folder)
    if found is None or not isinstance(found[1].get(MANIFEST_KEY), dict):
        return [(str(folder), "no manifest")]
    name, meta = found
    listed = meta[MANIFEST_KEY].get("files")
    if not isinstance(listed, dict) or not all(
            isinstance(e, dict) and isinstance(e.get("sha256"), str) for e in listed.values()):
        return [(name, "manifest not as cqsim writes it (files: a sha256 for every file)")]
    digest = meta[MANIFEST_KEY].get(RECORDS_DIGEST)   # absent in folders written before it
    if digest is not None and digest != records_digest(meta[MANIFEST_KEY]):
        return [(name, RECORDS_CHANGED)]
    if fields and not fields_intact(meta):
        return [(name, FIELDS_CHANGED)]
    present = {p.relative_to(folder).as_posix() for p in _files(folder)} - {name}
    found_problems = [(rel, "not in the manifest") for rel in sorted(present - set(listed))]
    for rel, entry in sorted(listed.items()):
        if rel not in present:   # a link in its place is not the file cqsim wrote either
            found_problems.append((rel, "a link" if (folder / rel).is_symlink() else
                                   "missing"))
        elif sha256_file(folder / rel) != entry["sha256"]:
            found_problems.append((rel, "sha256 differs from the manifest"))
    return found_problems


def verify(folder: str | os.PathLike[str]) -> list[str]:
    """What is wrong with a results folder against its manifest: files missing, changed or
    not listed (an empty list: complete and intact). `folder` as a path or a string, as
    notebooks pass it."""
    found = problems(folder)
    if found and found[0][1] == "no manifest":
        return [f"{folder}: no manifest"]
    return [f"{rel}: {what}" for rel, what in found]


def describe_result(folder: Path) -> str:
    """'the run of baseline (seed 42, 365 days, 2026-11-30T12:00:00Z)': what a cqsim folder
    holds, for the line saying it was replaced."""
    found = read_manifest(folder)
    if found is None:
        return "files"
    name, meta = found
    held = meta.get(MANIFEST_KEY)
    about: dict[str, Any] = held if isinstance(held, dict) else meta
    command = str(about.get("command", name.removesuffix(".json")))
    scenario = about.get("scenario") or meta.get("scenario") or meta.get("name")
    details = [f"seed {about['seed']}" if about.get("seed") is not None else "",
               f"{about['days']:g} days" if isinstance(about.get("days"), (int, float)) else "",
               str(meta.get("created_utc", ""))]
    text = f"the {command}" + (f" of {printable(str(scenario), 60)}" if scenario else "")
    details = [d for d in details if d]
    return text + (f" ({', '.join(details)})" if details else "")


# ----------------------------------------------------------------------------- checks


@dataclass(frozen=True)
class Target:
    """A checked `--out` folder: where it is (symlinks resolved) and what it holds now."""

    shown: str          # as the user wrote it
    path: Path          # absolute, symlinks resolved
    holds: str          # '' (absent or empty), 'cqsim' or 'other'
    count: int          # files in it now
    option: str = "--out"


def _some(names: list[str]) -> str:
    """The first SHOWN_NAMES of `names` for a refusal, and how many more there are."""
    more = f" and {len(names) - SHOWN_NAMES} more" if len(names) > SHOWN_NAMES else ""
    return ", ".join(printable(n, 40) for n in names[:SHOWN_NAMES]) + more


# how a refusal names the switch that replaces a folder's contents: the command line's
# option, or the keyword of a Python call (`sim.write_results(..., overwrite=True)`)
OVERWRITE = "--overwrite"


def _refuse(shown: str, option: str, expected: str) -> InputError:
    return InputError(shown, option, expected)


# The longest name of one file or folder, and of a whole path, that Linux file systems take
# (NAME_MAX, PATH_MAX): a longer one raised OSError (ENAMETOOLONG) from the checks below.
NAME_MAX = 255
PATH_MAX = 4096


def _check_name(shown: str, option: str, what: str) -> None:
    """InputError unless `shown` is a name the file system and GDAL can hold: not empty, no
    control character (`has_control`), within its lengths. One check of a folder's and a
    file's name (`what`: "a folder name")."""
    if not shown.strip():
        raise _refuse(repr(shown), option, f"{what} (got an empty one)")
    if has_control(shown):
        raise _refuse(printable(shown, 80), option,
                      f"{what} without control characters (NUL, tab, line breaks...)")
    size = len(os.fsencode(shown))
    longest = max((len(os.fsencode(part)) for part in Path(shown).parts), default=0)
    if longest > NAME_MAX or size >= PATH_MAX:
        raise _refuse(printable(shown, 80), option,
                      f"{what} of at most {NAME_MAX} bytes a part and {PATH_MAX - 1} in all "
                      f"(got {longest} and {size})")


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_out(out: str | os.PathLike[str], *, overwrite: bool = False,
              inputs: Iterable[str | os.PathLike[str]] = (), option: str = "--out",
              command: str | None = None, overwrite_as: str = OVERWRITE) -> Target:
    """The folder `out` checked as a place to write results into (see the module doc): with
    `command`, results another command wrote are replaced only with `overwrite` (a run's
    --out on a sweep's folder deleted the sweep). InputError naming it and `option`
    otherwise, and `overwrite_as` as the way to replace it. Nothing is written."""
    shown, path = check_place(out, inputs=inputs, option=option)
    check_not_inside_results(shown, path, option)
    if not path.is_dir():
        return Target(shown, path, "", 0, option)
    return _contents(shown, path, overwrite, option, command, overwrite_as)


def check_not_inside_results(shown: str, path: Path, option: str = "--out") -> None:
    """InputError when a folder around `path` holds results cqsim wrote (a manifest): files
    written inside them are not in their manifest, so that result could no longer be
    reported or replaced as cqsim's (audit s16: a run's --out inside another run's folder)."""
    for where in path.parents:
        found = read_manifest(where)
        if found is not None:
            raise _refuse(shown, option, f"a place outside other results ({where} holds the "
                                         f"results of a cqsim command, {found[0]}; choose a "
                                         f"folder beside it)")


def check_place(out: str | os.PathLike[str], *, inputs: Iterable[str | os.PathLike[str]] = (),
                option: str = "--out") -> tuple[str, Path]:
    """(`out` as written, its real path): a folder name usable for results, whatever the
    folder holds (a pathway or plan folder keeps its runs to resume from): not a file or a
    device, not the root, the working folder or a folder holding an input, in a place this
    user can write to. InputError naming it and `option` otherwise; nothing is written."""
    shown = os.fspath(out)
    _check_name(shown, option, "a folder name")
    try:
        path = Path(os.path.realpath(shown))
    except (OSError, ValueError) as exc:
        raise _refuse(printable(shown, 200), option, f"a usable folder name ({exc})") from None
    if path == Path(path.anchor):
        raise _refuse(shown, option, "a folder below the root, not the root itself (every "
                                      "file in it would be replaced)")
    if path.exists() or path.is_symlink():
        if not path.is_dir():
            kind = "a file" if path.is_file() else "not a folder (a device, pipe or socket)"
            raise _refuse(shown, option, f"a folder for the results; it is {kind}")
        if os.path.ismount(path):
            raise _refuse(shown, option, "a folder that is not a mount point (it cannot be "
                                         "swapped for the new results)")
    here = Path(os.path.realpath(os.getcwd()))
    if _inside(here, path):
        raise _refuse(shown, option, "a folder that does not hold the working folder (every "
                                      "file in it would be replaced)")
    for item in inputs:
        real = Path(os.path.realpath(os.fspath(item)))
        if _inside(real, path):
            raise _refuse(shown, option, f"a folder that does not hold an input "
                                          f"({printable(os.fspath(item), 80)}): every file in "
                                          "it would be replaced")
    parent = path.parent
    existing = parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise _refuse(shown, option, f"a folder whose parents are folders "
                                      f"({printable(str(existing), 80)} is a file)")
    if not os.access(existing, os.W_OK | os.X_OK) or (
            path.exists() and not os.access(path, os.W_OK | os.X_OK)):
        raise _refuse(shown, option, f"a folder in a place this user can write to "
                                      f"({printable(str(existing), 80)} is not writable)")
    return shown, path


def check_work_folder(out: str | os.PathLike[str], *, own: Iterable[str],
                      inputs: Iterable[str | os.PathLike[str]] = (),
                      option: str = "--out") -> Path:
    """A folder a resumable command (`pathway`, `plan`) writes its part files and results
    into: `check_place`, and absent, empty or holding only what such a command writes (the
    file names in `own`, part files under `runs/`, temporary files of `sim.atomic`), so
    neither another command's results nor the user's own files get mixed with its own.
    InputError naming it otherwise; nothing is written."""
    shown, path = check_place(out, inputs=inputs, option=option)
    if not path.is_dir():
        return path
    names = set(own)
    foreign = []
    for p in sorted(path.rglob("*")):
        rel = p.relative_to(path)
        if p.is_dir() and rel.as_posix() == "runs":
            continue
        ours = (rel.as_posix() in names or (os_metadata(p) and not p.is_dir())
                or (len(rel.parts) == 2 and rel.parts[0] == "runs" and p.suffix == ".parquet")
                or (p.name.startswith(".") and ".tmp" in p.name))
        if not ours:
            foreign.append(rel.as_posix())
    if foreign:
        raise _refuse(shown, option, f"an empty folder or one this command wrote (it holds "
                                      f"{_some(foreign)}); choose another {option}")
    return path


def written_by(name: str, meta: dict[str, Any]) -> str:
    """The command whose results a manifest file holds: its manifest's `command`, else the
    one its file name is for (older manifests)."""
    held = meta.get(MANIFEST_KEY)
    command = held.get("command") if isinstance(held, dict) else None
    return command if isinstance(command, str) else name.removesuffix(".json")


def _contents(shown: str, path: Path, overwrite: bool, option: str,
              command: str | None = None, overwrite_as: str = OVERWRITE) -> Target:
    files = [p for p in path.rglob("*") if not p.is_dir() and not os_metadata(p)]
    if not files:
        return Target(shown, path, "", 0, option)
    found = read_manifest(path)
    holds = "other"
    if found is not None:
        listed = found[1].get(MANIFEST_KEY, {}).get("files") if isinstance(
            found[1].get(MANIFEST_KEY), dict) else None
        extra = [] if listed is None else [
            p for p in files if p.relative_to(path).as_posix() not in listed
            and p.name not in MANIFEST_FILES]
        holds = "cqsim" if not extra else "other"
        files = extra or files
        other = written_by(*found)
        if holds == "cqsim" and command is not None and other != command and not overwrite:
            raise _refuse(shown, option, f"an empty folder or one `cqsim {command}` wrote (it "
                                         f"holds the results of `cqsim {printable(other, 40)}`"
                                         f", {found[0]}); choose another {option} or pass "
                                         f"{overwrite_as} to replace them")
    if holds == "other" and not overwrite:
        names = _some([p.relative_to(path).as_posix() for p in files])
        broken = next((name for name in MANIFEST_FILES if (path / name).is_file()), None)
        why = ("it holds files cqsim did not write: " if found is not None
               else f"its {broken} is not a manifest cqsim wrote, and it holds: " if broken
               else "it holds files and no cqsim manifest: ")
        raise _refuse(shown, option, f"an empty folder or one cqsim wrote ({why}{names});"
                                      f" choose another {option} or pass {overwrite_as} "
                                      "to replace all of it")
    return Target(shown, path, holds, len([p for p in path.rglob("*") if p.is_file()]), option)


def check_file_out(out: str | os.PathLike[str], *, ours: Callable[[Path], bool], what: str,
                   overwrite: bool = False, option: str = "--out",
                   inputs: Iterable[str | os.PathLike[str]] = (),
                   unknown_inputs: str = "") -> Path:
    """A results file (`calibrate --out`, `--estimates-out`, `report -o`) checked before
    anything runs: a name, not a folder or a device, in a writable folder, not one of the
    command's `inputs` (not even with `overwrite`), and absent, empty or one cqsim wrote
    (`ours(path)`: e.g. `first_line(header)`) unless `overwrite`; `unknown_inputs` says why
    the inputs are not all known, and `overwrite` then replaces no file that is not cqsim's
    (it may be one of them). `what` names the file in the refusal ("a table", "a report").
    It is then written atomically (`sim.atomic`)."""
    shown = os.fspath(out)
    _check_name(shown, option, "a file name")
    path = Path(os.path.realpath(shown))
    for item in inputs:
        if Path(os.path.realpath(os.fspath(item))) == path:
            raise _refuse(shown, option, f"a file that is not an input of this command (the "
                                          f"run reads {printable(os.fspath(item), 80)}); "
                                          f"choose another {option}")
    if path.is_dir() or shown.endswith(os.sep):
        raise _refuse(shown, option, f"a file name for {what}; it is a folder")
    if path.exists() and not path.is_file():
        raise _refuse(shown, option, f"a file name for {what}; it is a device, pipe or "
                                      "socket")
    existing = path.parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise _refuse(shown, option, f"a file in a folder ({printable(str(existing), 80)} "
                                      "is a file)")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise _refuse(shown, option, f"a file in a place this user can write to "
                                      f"({printable(str(existing), 80)} is not writable)")
    if path.is_file() and path.stat().st_size and not ours(path) and (
            not overwrite or unknown_inputs):
        raise _refuse(shown, option, f"a new file or one cqsim wrote (this one is not "
                                      f"{what} of this command); choose another {option}"
                      + (f", even with --overwrite: {unknown_inputs}, and this file may be "
                         "one" if unknown_inputs else " or pass --overwrite to replace it"))
    # the probe last: a refused file left its folder's modification time changed (fuzz2 L9)
    try:   # os.access says yes to root everywhere, but /proc and /sys refuse a new file
        fd, probe = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=existing)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise _refuse(shown, option, f"a file in a place this user can write to "
                                      f"({printable(str(existing), 80)}: "
                                      f"{exc.strerror or exc})") from None
    return path


def first_line(header: str) -> Callable[[Path], bool]:
    """A test for `check_file_out`: the file's first line is `header` (a table cqsim wrote)."""
    def ours(path: Path) -> bool:
        with open(path, "rb") as fh:
            line = fh.readline(len(header) + 2).decode("utf-8", "replace").rstrip("\r\n")
        return line == header
    return ours


def begins_with(marker: str, within: int = 4096) -> Callable[[Path], bool]:
    """A test for `check_file_out`: `marker` within the file's first `within` bytes (a
    report's title, an estimates file's command)."""
    def ours(path: Path) -> bool:
        with open(path, "rb") as fh:
            return marker.encode() in fh.read(within)
    return ours


# ----------------------------------------------------------------------------- the swap


STOP_SIGNALS: list[int] = []  # signals that asked this command to stop (`sim.cli` records them)
SWAPPED_IN: list[Path] = []   # the results this command put in place (`swap_in`), in order


def stop_requested() -> int | None:
    """The first signal that asked the command to stop, if one did. An interrupt raised inside
    a finalizer or a library can be swallowed and the command go on: it must still not swap
    its result in."""
    return STOP_SIGNALS[0] if STOP_SIGNALS else None


class deferred_signals:  # noqa: N801 - a context manager read as a phrase
    """Hold back SIGINT, SIGTERM and SIGALRM while a step that must not be cut runs (the swap,
    a clean-up); they are delivered when it ends."""

    SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM,
                         *([signal.SIGALRM] if hasattr(signal, "SIGALRM") else [])})

    def __enter__(self) -> None:
        self._old: set[Any] | None = None
        if hasattr(signal, "pthread_sigmask"):
            self._old = signal.pthread_sigmask(signal.SIG_BLOCK, self.SIGNALS)

    def __exit__(self, *exc: object) -> None:
        if self._old is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, self._old)


RENAME_EXCHANGE = 2
AT_FDCWD = -100


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where the system
    or the file system cannot."""
    if sys.platform != "linux":
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    if renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


def make_folder(parent: Path, prefix: str) -> Path:
    """A new folder `<prefix><random>` in `parent`, with the permissions the umask gives (a
    temporary folder's 0700 would become the results folder's)."""
    import secrets

    while True:
        path = parent / f"{prefix}{secrets.token_hex(4)}"
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def swap_in(staging: Path, target: Path) -> None:
    """Make `staging` the folder `target`, atomically, and delete what `target` held; not
    after a signal asked the command to stop (KeyboardInterrupt: `target` is left as it was)."""
    with deferred_signals():
        if stop_requested() is not None:
            raise KeyboardInterrupt
        if not target.exists() or (target.is_dir() and not any(target.iterdir())):
            os.replace(staging, target)  # rename(2) replaces an empty folder atomically
        elif exchange(staging, target):
            _remove(staging)  # now the previous result
        else:  # no atomic exchange: two renames; a kill between them is repaired (`recover`)
            old = make_folder(target.parent, _hidden(target, STAGING) + "-old-")
            os.replace(target, old / "result")
            os.replace(staging, target)
            _remove(old)
        _fsync_dir(target.parent)
        SWAPPED_IN.append(target)


def recover(target: Path) -> list[Path]:
    """Clear what a killed command left beside `target` (call with the lock held): staging
    folders are deleted, except a previous result that a kill between the two renames of the
    fallback swap left without a home, which goes back to `target`. Returns what was removed."""
    removed = []
    for path in sorted(target.parent.glob(_hidden(target, STAGING) + "-*")):
        orphan = path / "result"
        if path.name.startswith(_hidden(target, STAGING) + "-old-") and orphan.is_dir() \
                and not target.exists():
            os.replace(orphan, target)
        _remove(path)
        removed.append(path)
    return removed


# ----------------------------------------------------------------------------- the lock


class FolderLock:
    """An exclusive lock on a results folder: `.<name>.cqsim-lock` beside it, locked with
    flock (the kernel releases it when the holder dies, however it dies)."""

    def __init__(self, target: Path, option: str = "--out", shown: str | None = None) -> None:
        self.path = target.parent / _hidden(target, LOCK)
        self.option = option
        self.shown = shown or str(target)
        self._fd: int | None = None

    def acquire(self) -> None:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 32).decode("ascii", "replace").strip()
                os.close(fd)
                who = f"process {holder}" if holder.isdigit() else "another cqsim command"
                raise InputError(self.shown, self.option,
                                 f"a folder no other cqsim command is writing ({who} is "
                                 "writing it now; wait for it or choose another "
                                 f"{self.option})") from None
            # the file may have been removed (by the holder we waited for) since we opened
            # it: a lock on a file no longer at the path locks nothing
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode("ascii"))
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # while still held: no one can be waiting on this file
        os.close(self._fd)
        self._fd = None


# ----------------------------------------------------------------------------- the folder


@dataclass
class ResultFolder:
    """The results folder of one command, staged and swapped in whole (see the module doc).

        with ResultFolder(out, command="run", overwrite=False) as folder:
            ... write into folder.path ...
            folder.commit("run.json", {"scenario": name, "seed": seed})
        print(folder.replaced)   # what the previous contents were, '' if none
    """

    out: str | os.PathLike[str]
    command: str
    overwrite: bool = False
    inputs: tuple[str | os.PathLike[str], ...] = ()
    option: str = "--out"
    overwrite_as: str = OVERWRITE      # how a refusal says `overwrite` is set
    # the input is accepted once the folder is entered (`sim.cache.release`), unless the
    # command has checks of its own left (a sweep's work folder: `open_work`)
    accepts: bool = True
    target: Target = field(init=False)
    path: Path = field(init=False)          # the staging folder: write here
    replaced: str = field(init=False, default="")
    committed: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.target = check_out(self.out, overwrite=self.overwrite, inputs=self.inputs,
                                option=self.option, command=self.command,
                                overwrite_as=self.overwrite_as)
        self._lock = FolderLock(self.target.path, self.option, self.target.shown)

    @property
    def final(self) -> Path:
        """Where the results will be once committed."""
        return self.target.path

    def __enter__(self) -> ResultFolder:
        target = self.target.path
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._lock.acquire()
        except OSError as exc:
            raise InputError(self.target.shown, self.option, "a folder in a place this user "
                             f"can write to ({exc.strerror or exc})") from None
        try:
            with deferred_signals():
                recover(target)
                # checked again under the lock: another command may have written it meanwhile
                self.target = check_out(self.out, overwrite=self.overwrite,
                                        inputs=self.inputs, option=self.option,
                                        command=self.command, overwrite_as=self.overwrite_as)
                self.path = make_folder(target.parent, _hidden(target, STAGING) + "-")
        except OSError as exc:
            self._lock.release()
            raise InputError(self.target.shown, self.option, "a folder in a place this user "
                             f"can write to ({exc.strerror or exc})") from None
        except BaseException:
            self._lock.release()
            raise
        if self.accepts:    # the input is accepted: what its checks settled goes to disk
            cache.release()
        return self

    def commit(self, meta_file: str, about: dict[str, Any]) -> Path:
        """Write the manifest into `meta_file` and swap the results in; return the folder."""
        write_manifest(self.path, meta_file, {"command": self.command, **about})
        target = self.target.path
        count = self.target.count
        files = plural(count, "file")
        if self.target.holds == "cqsim":
            self.replaced = f"{files} of {describe_result(target)}"
        elif self.target.holds:
            self.replaced = f"{files}, not all written by cqsim (--overwrite)"
        swap_in(self.path, target)
        self.committed = True
        return target

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        with deferred_signals():
            if not self.committed:
                _remove(self.path)
            self._lock.release()


@contextlib.contextmanager
def updating(folder: Path, *names: str) -> Iterator[None]:
    """Change files of a finished results folder (`cqsim report` rewriting its report.html,
    `cqsim uncertainty` adding its tables): with the folder locked, then the manifest's
    entries of those files, `names` (relative to `folder`), brought up to date. Every other
    entry, and the record of what wrote the folder, is kept as it was: a file changed behind
    cqsim's back stays detectable (`verify`), not hashed anew as if cqsim had written it. A
    folder inside another results folder (a comparison's run directory) is that folder's too:
    each enclosing manifest that lists this one is updated the same way (else the comparison
    would hold files cqsim "did not write" and a new `cqsim compare` into it be refused). A
    folder without a manifest is changed as it is."""
    chain = _manifests_around(Path(os.path.realpath(folder)))
    locks = [FolderLock(where, option="RUN_DIR", shown=str(where)) for where, _ in chain]
    held: list[FolderLock] = []
    try:
        for lock in reversed(locks):  # the outermost first
            lock.acquire()
            held.append(lock)
        yield
        inner = Path(os.path.realpath(folder))
        changed = [inner / n for n in names]
        for where, name in chain:   # the innermost first: its manifest changes the next one's
            _update_entries(where, name, [p.relative_to(where).as_posix() for p in changed])
            changed.append(where / name)
    finally:
        for lock in reversed(held):
            lock.release()


def _manifests_around(folder: Path) -> list[tuple[Path, str]]:
    """(folder, its manifest file) for `folder` when it has a manifest, then for each folder
    around it whose manifest lists the one inside; innermost first."""
    chain: list[tuple[Path, str]] = []
    where = folder
    while True:
        found = read_manifest(where)
        held = found[1].get(MANIFEST_KEY) if found is not None else None
        listed = held.get("files") if isinstance(held, dict) else None
        if found is None or not isinstance(listed, dict) or (chain and (
                chain[-1][0] / chain[-1][1]).relative_to(where).as_posix() not in listed):
            return chain
        chain.append((where, found[0]))
        if where.parent == where:
            return chain
        where = where.parent


def results_file(path: Path) -> Path | None:
    """The results folder whose manifest is `path` or lists it (a table, a map, run.json);
    None when no folder around it holds it. What a command reads must not be its output."""
    path = Path(os.path.realpath(path))
    for where in path.parents:
        found = read_manifest(where)
        if found is None:
            continue
        held = found[1].get(MANIFEST_KEY)
        listed = held.get("files") if isinstance(held, dict) else None
        rel = path.relative_to(where).as_posix()
        if rel in MANIFEST_FILES or (isinstance(listed, dict) and rel in listed):
            return where
    return None


def _update_entries(folder: Path, name: str, files: Iterable[str]) -> None:
    """Bring the entries of `files` in the manifest in `folder / name` up to date (an entry
    added or replaced, or dropped for a file that is gone); the rest as it is."""
    from sim.atomic import write_text

    meta_path = folder / name
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except ValueError:
        return  # not a manifest cqsim wrote: nothing of it is made to look true
    listed = meta.get(MANIFEST_KEY, {}).get("files") if isinstance(meta, dict) and \
        isinstance(meta.get(MANIFEST_KEY), dict) else None
    if not isinstance(listed, dict):
        return  # not a manifest cqsim wrote: nothing of it is made to look true
    for rel in files:
        path = folder / rel
        if path.is_file():
            listed[rel] = {"bytes": path.stat().st_size, "sha256": sha256_file(path)}
        else:
            listed.pop(rel, None)
    meta[MANIFEST_KEY]["files"] = dict(sorted(listed.items()))
    write_text(meta_path, json.dumps(meta, indent=2, default=str))


def replaced_line(folder: ResultFolder) -> str:
    """'replaced what out/baseline/ held: 24 files of the run of baseline (...)' or ''."""
    return (f"replaced what {folder.target.shown.rstrip(os.sep)}/ held: {folder.replaced}"
            if folder.replaced else "")
