"""The engine compiled to C with mypyc: the same modules and results, 2-2.8x faster
(docs/performance.md).

`python -m sim.native` compiles the modules of `COMPILED` (mypyc, from the test extra,
and a C compiler) into `<cache>/<key>/sim/engine/`, where `<key>` hashes the whole `sim`
package's source with the interpreter and library versions (`sim.cache.code_version`) and
mypy's. `sim.engine` puts that folder first on its search path when it exists, so a build
made for other sources is never used: after any edit the engine runs as plain Python until
it is compiled again (`make run` and `make test` do that). Nothing else changes: the
compiled and the plain engine write byte-identical tables (`tests/engine/test_native.py`),
and a Dask worker without a build runs the plain one.

Where: `$CQSIM_COMPILED` (a folder), else `$XDG_CACHE_HOME/cqsim/engine`, else
`~/.cache/cqsim/engine`; `CQSIM_COMPILED=off` runs the plain engine.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from importlib import metadata
from pathlib import Path

ENV = "CQSIM_COMPILED"
# the modules of the event loop and the components (their hot paths); model.py last
COMPILED = ("loop", "daily", "freight", "windows", "component", "hub", "links", "lines",
            "lock", "background", "recorder", "logit", "model")
GROUP = "sim.engine._native"    # the shared library of the compiled modules
# mypy's settings for the build, the same in a checkout and an installed copy (which has
# no pyproject.toml): pydantic's plugin types the specs the engine reads
MYPY_CONFIG = "[mypy]\nplugins = pydantic.mypy\nignore_missing_imports = True\n"
ENGINE = Path(__file__).resolve().parent / "engine"


def directory() -> Path | None:
    """The folder of the builds, None when the compiled engine is turned off."""
    from sim.cache import user_folder

    return user_folder(ENV, "engine")


def key() -> str:
    """The build's key: the sources it was compiled from and what compiled them."""
    from sim.cache import code_version

    digest = hashlib.sha256(code_version().encode())
    for part in (sysconfig.get_config_var("EXT_SUFFIX") or "", _mypy_version()):
        digest.update(b"\0" + part.encode())
    return digest.hexdigest()[:24]


def _mypy_version() -> str:
    try:
        return metadata.version("mypy")
    except metadata.PackageNotFoundError:
        return "none"


def _engine(build: Path) -> Path:
    """The `sim/engine` folder of a build (its `.complete` marks it finished)."""
    return build / "sim" / "engine"


def built() -> Path | None:
    """The compiled `sim/engine` folder made from these very sources, if there is one."""
    base = directory()
    if base is None:
        return None
    engine = _engine(base / key())
    return engine if (engine / ".complete").exists() else None


def search_path(path: list[str]) -> list[str]:
    """`sim.engine.__path__` with the matching build first (unchanged without one)."""
    engine = built()
    return [str(engine), *path] if engine is not None else path


def engine_name() -> str:
    """"compiled" when this process runs the compiled engine, else "plain" (for manifests)."""
    import sim.engine.model

    return "plain" if str(sim.engine.model.__file__).endswith(".py") else "compiled"


def build() -> Path:
    """Compile the engine for these sources (nothing to do when the build exists) and return
    its `sim/engine` folder; raise `RuntimeError` (one line: the compiler's last, and where
    its whole log is) on failure."""
    base = directory()
    if base is None:
        raise RuntimeError(f"{ENV}=off: the compiled engine is turned off")
    done_before = built()
    if done_before is not None:
        return done_before
    name = key()
    target = base / name
    base.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=base, prefix=".build-") as tmp:
        config = Path(tmp) / "mypy.ini"
        # mypy's cache of this build beside the builds, not the checkout's .mypy_cache that
        # `make lint` writes, possibly at the same time (`make test` runs them side by side)
        config.write_text(f"{MYPY_CONFIG}cache_dir = {base / '.mypy_cache'}\n")
        script = (
            "from setuptools import setup\n"
            "from mypyc.build import mypycify\n"
            f"out = {tmp!r}\n"
            f"files = ['--config-file', {str(config)!r}]"
            f" + [f'sim/engine/{{m}}.py' for m in {COMPILED!r}]\n"
            "setup(name='cqsim-engine', packages=[], py_modules=[],\n"
            f"      ext_modules=mypycify(files, opt_level='3', group_name={GROUP!r},\n"
            "                           target_dir=out + '/c'),\n"
            "      script_args=['build_ext', '--build-lib', out + '/lib',\n"
            "                   '--build-temp', out + '/tmp'])\n")
        done = subprocess.run([sys.executable, "-c", script], cwd=ENGINE.parent.parent,
                              capture_output=True, text=True)
        if done.returncode != 0:
            log = base / "last-failure.log"
            log.write_text(done.stdout + done.stderr)
            last = (done.stdout + done.stderr).strip().splitlines()[-1:] or ["no output"]
            raise RuntimeError(f"mypyc could not compile the engine ({last[0].strip()}; "
                               f"the whole log: {log})")
        staged = Path(tmp) / "lib"
        (_engine(staged) / ".complete").write_text(name + "\n")
        try:
            staged.rename(target)
        except OSError:         # another process finished the same build first
            if built() is None:
                raise
    return _engine(target)


def prune(keep: int = 4) -> None:
    """Remove all but the `keep` most recent builds (one per version of the sources)."""
    base = directory()
    if base is None or not base.is_dir():
        return
    builds = sorted((p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")),
                    key=lambda p: p.stat().st_mtime, reverse=True)
    for old in builds[keep:]:
        shutil.rmtree(old, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Compile the engine; exit 0 with a one-line note when it cannot (the plain engine runs)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="only say whether a build for these sources exists")
    args = parser.parse_args(argv)
    if args.check:
        found = built()
        print(f"compiled engine: {found}" if found else "compiled engine: none (plain Python)")
        return 0
    try:
        where = build()
    except (RuntimeError, OSError) as error:
        print(f"compiled engine not built, the plain Python engine runs: {error}",
              file=sys.stderr)
        return 0
    prune()
    print(f"compiled engine: {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
