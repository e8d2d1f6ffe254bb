"""Extensions: modules of the user's own that register component kinds
(`sim.components.register`) or KPIs (`sim.kpis.add_kpi`) when imported, named on the command
line by `--import` (`sim.cli.common.IMPORTS`), before the scenario is read.

The registries are each process's own, and a worker process (a local pool's, Dask's) starts
fresh: a kind's classes come with the plan they are pickled in, but a KPI only with its
module. So whatever this process hands to another to run goes through `carried`, which
imports this process's extensions there first and has the worker compute this process's
KPIs by name: the same kinds and KPIs on every executor, so the same tables. A shared Dask
worker keeps what an earlier command imported (a module is imported once per process): its
KPIs are left out of a later command's runs, and its kinds are unused, as a plan's rows name
the kinds it has. `imported()` is this process's list; a results folder's manifest records
it (`sim.staging.manifest`), and the cache's key and a study's identity cover the files of
the code they brought (`code_files`, `code_version`: hashed once, as imported).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import import_module
from importlib.machinery import ModuleSpec
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from sim.errors import InputError, printable

if TYPE_CHECKING:
    from sim.components import Kind

T = TypeVar("T")
R = TypeVar("R")
OPTION = "--import"


@dataclass(frozen=True)
class Extension:
    """A module `--import` named, as another process imports it again: its module name and
    the folder searched for it after `sys.path` (the working folder for a dotted name, a
    file's own folder for a path)."""

    name: str
    folder: str


# this process's extensions, in import order: a registry, as sim.kpis keeps its KPIs and
# sim.components its kinds (what the modules registered lives there)
_IMPORTED: list[Extension] = []
# the modules each extension's import added to `sys.modules`: it, its package, and what it
# imports that was not imported yet (`code_files`)
_BROUGHT: dict[Extension, tuple[str, ...]] = {}
# `code_version` of the code loaded, under what loaded it (the modules imported, as module
# objects: one imported again is new code; the kinds registered): one entry, the latest
_CODE: dict[tuple[object, ...], str | None] = {}


def imported() -> tuple[Extension, ...]:
    """The extensions this process imported (`load`, or `carried` in a worker)."""
    return tuple(_IMPORTED)


def enter(extensions: Iterable[Extension]) -> None:
    """Import each extension in this process, once: its folder joins the end of `sys.path`
    (installed modules keep their names) and the module registers what it declares. The
    code is hashed when they are in (`code_version`): an edit after it is not this code."""
    for ext in extensions:
        _import(ext)
    code_version()


def _import(ext: Extension) -> None:
    """Import one extension unless it is in already; a module that does not import leaves
    nothing behind (its folder leaves `sys.path` again)."""
    if ext in _IMPORTED:
        return
    added = ext.folder not in sys.path
    if added:
        sys.path.append(ext.folder)
    before = set(sys.modules)
    try:
        import_module(ext.name)
    except BaseException:
        if added:
            sys.path.remove(ext.folder)
        raise
    _BROUGHT[ext] = tuple(sorted(set(sys.modules) - before))
    _IMPORTED.append(ext)


def _named(text: str) -> tuple[Extension, Path | None]:
    """The extension `text` names, and its file when it is a path: a name ending in `.py` or
    holding a `/` is a file, else a dotted module name found on `sys.path` or in the working
    folder."""
    if text.endswith(".py") or "/" in text or os.sep in text:
        file = Path(text)
        if not file.is_file() or file.suffix != ".py":
            raise InputError(OPTION, "", "a dotted module name or an existing .py file", text)
        if not file.stem.isidentifier():
            raise InputError(OPTION, "", "a .py file whose name is a Python identifier "
                                         "(letters, digits, underscores)", text)
        if file.stem in sys.stdlib_module_names:    # it would stand for the library's
            raise InputError(OPTION, "", f"a .py file whose name no other module takes "
                                         f"({file.stem} is a module of Python's)", text)
        return Extension(file.stem, str(file.resolve().parent)), file.resolve()
    if not all(part.isidentifier() for part in text.split(".")):
        raise InputError(OPTION, "", "a dotted module name (package.module) or a .py file",
                         text)
    return Extension(text, os.getcwd()), None


def load(named: Sequence[str]) -> tuple[Extension, ...]:
    """Import the modules `--import` names (dotted names, or .py files), in order, before
    any scenario is read; InputError naming the option, the module and what went wrong when
    one cannot be imported (missing, raising as it is imported, or a file whose name another
    module takes: refused before anything is imported or recorded)."""
    for text in named:
        ext, file = _named(text)
        if file is not None:
            _check_found(ext, file, text)
        try:
            _import(ext)
        except (Exception, SystemExit) as exc:   # its own code: any error, or an exit
            what = printable(" ".join(f"{type(exc).__name__}: {exc}".split()), 300)
            raise InputError(OPTION, "", f"a module Python can import (importing it "
                                         f"raised {what})", text) from None
    code_version()      # once, when all are in: an edit after it is not this code
    return imported()


def _check_found(ext: Extension, file: Path, text: str) -> None:
    """Refuse a .py file that the import of its name would not find, another module found
    first on `sys.path` (or one imported already), before anything is imported: the module
    imported, recorded and handed to the workers is the file named."""
    try:
        spec = find_spec(ext.name)
    except (ImportError, ValueError):   # an imported module without a spec (__main__)
        spec = None if ext.name not in sys.modules else ModuleSpec(ext.name, None)
    if spec is None:    # nowhere on the path: found in the file's folder, where it joins it
        return
    if not spec.has_location or spec.origin is None or Path(spec.origin).resolve() != file:
        where = spec.origin if spec.has_location else "a namespace package" \
            if spec.submodule_search_locations is not None else "a module without a file"
        raise InputError(OPTION, "", f"a .py file whose name no other module takes "
                                     f"({ext.name} is {where})", text)


def sources() -> list[tuple[str, Path | None]]:
    """Each of this process's extensions: its module name and source file (a package's
    `__init__.py`; None for a module without one)."""
    out: list[tuple[str, Path | None]] = []
    for ext in _IMPORTED:
        where = getattr(sys.modules.get(ext.name), "__file__", None)
        out.append((ext.name, Path(where).resolve() if where else None))
    return out


def code_files() -> dict[Path, str]:
    """Every file of the code this process's extensions brought, sorted, each with the module
    `--import` named that brought it: the module's file, every `*.py` file of its top-level
    package (`package_files`: a module of it imported only when a function runs too), and
    the file of every module its import added to `sys.modules` that is the user's own, not
    cqsim's, the standard library's or an installed package's (`_libraries`): a helper
    module beside a single-file module, a module of a namespace package. What a module
    imports only later, from outside its package, is not among them."""
    found: dict[Path, str] = {}
    libraries = _libraries()
    for ext in _IMPORTED:
        own = getattr(sys.modules.get(ext.name), "__file__", None)
        paths = [Path(own)] if own else []
        paths += package_files(ext.name)
        for name in _BROUGHT.get(ext, ()):
            where = getattr(sys.modules.get(name), "__file__", None)
            if where and not any(Path(where).resolve().is_relative_to(root)
                                 for root in libraries):
                paths.append(Path(where))
        for path in paths:
            found.setdefault(path.resolve(), ext.name)
    return dict(sorted(found.items()))


def code_version() -> str | None:
    """Hash of the source of the registered component kinds defined outside the `sim`
    package (their spec and runtime classes, `sim.components.register`) and of the code the
    modules `--import` named brought (`code_files`: a module of KPIs alone too, the helper
    modules its import brought in), which `sim.cache.code_version` does not cover: editing
    one's `clearance_hours` or `expected_dwell_hours` is then a different cache key and
    another code for a study (`sim.cache.code_identity`). A kind's source is its file and,
    when it is in a package, every `*.py` file of its top-level package (`ports.kinds`: all
    of `ports`, so a helper module of the package that the kind calls is covered too); a
    kind of a single-file module imported from Python, not by `--import`, is its file alone.
    "" when there are none; None when a kind has no source file (a class typed into a
    notebook, or a file that cannot be read), which nothing can tell apart from an edited one.

    Hashed once for the code this process loaded, not at every cache lookup (a walk of every
    file of each package): by `load` and `enter` once they imported the modules (once for
    all of them), and at the first call after a kind is registered otherwise. A file edited
    after that is not this process's code: it is another key only in a process started after
    the edit (a restarted command or Dask worker), as the module itself is."""
    from sim.components import kinds

    loaded = (tuple((ext, sys.modules.get(ext.name)) for ext in _IMPORTED), kinds())
    if loaded not in _CODE:
        _CODE.clear()
        _CODE[loaded] = _hashed(loaded[1])
    return _CODE[loaded]


def _hashed(registered: Iterable[Kind]) -> str | None:
    """`code_version` read from the files now: those of `code_files` and of the kinds of
    `registered` defined outside `sim`."""
    import hashlib
    import inspect

    files: set[Path] = set(code_files())
    for kind in registered:
        for part in (kind.spec, kind.runtime):
            named = part.partition(":")[0] if isinstance(part, str) else part.__module__
            if _in_sim(named):      # sim.cache.code_version's (a name: not imported)
                continue
            cls = kind.runtime_class() if isinstance(part, str) else part
            if _in_sim(cls.__module__):     # a class of `sim` under another module's name
                continue
            try:
                source = inspect.getsourcefile(cls)
            except TypeError:
                return None
            if source is None or not Path(source).is_file():
                return None
            files.add(Path(source).resolve())
            files.update(package_files(cls.__module__))
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(str(path).encode())
        try:
            digest.update(path.read_bytes())
        except OSError:     # gone or unreadable since it was imported: as no source file
            return None
    return digest.hexdigest() if files else ""


def _in_sim(module: str) -> bool:
    """Whether `module` is part of the `sim` package (which `sim.cache.code_version`
    hashes)."""
    return module == "sim" or module.startswith("sim.")


def package_files(module: str) -> list[Path]:
    """Every `*.py` file of the top-level package that `module` (imported) belongs to, in
    each of its folders (a namespace package's too); none for a module outside a package."""
    top = sys.modules.get(module.partition(".")[0])
    return [path.resolve() for folder in getattr(top, "__path__", ())
            for path in Path(folder).rglob("*.py")]


@lru_cache(maxsize=1)
def _libraries() -> tuple[Path, ...]:
    """The folders of code that is no extension's own: cqsim's `sim` package (hashed by
    `sim.cache.code_version`), Python's standard library and the installed packages."""
    import site
    import sysconfig

    paths = sysconfig.get_paths()
    roots = [paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")
             if key in paths]
    roots += [*site.getsitepackages(), site.getusersitepackages()]
    return tuple({Path(root).resolve() for root in roots} | {Path(__file__).resolve().parent})


@dataclass(frozen=True)
class Carried(Generic[T, R]):
    """`fn`, called in whatever process runs it once `extensions` are imported there, and
    computing the KPIs named `kpis` (`sim.kpis.chosen`): a worker that imported other
    modules before (a shared Dask worker keeps them) adds no KPI of theirs, and one that
    lacks a KPI fails the run saying so."""

    fn: Callable[[T], R]
    extensions: tuple[Extension, ...]
    kpis: tuple[str, ...]

    def __call__(self, arg: T) -> R:
        from sim.kpis import chosen

        enter(self.extensions)
        with chosen(self.kpis):
            return self.fn(arg)


def carried(fn: Callable[[T], R]) -> Callable[[T], R]:
    """`fn` as another process (a pool's, Dask's) must call it: importing this process's
    extensions first, and computing this process's KPIs, no more and no fewer."""
    from sim.kpis import kpis

    return Carried(fn, imported(), tuple(k.name for k in kpis()))
