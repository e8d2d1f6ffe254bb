"""Every case of the bad-input corpus (tests/bad_inputs/, see its README.md) fails cleanly
from every command it is tried with (`cqsim validate FILE` and `cqsim run FILE --out DIR`
unless the case names others): exit code 2, exactly one short line on stderr naming the file
(or option) and the field, no traceback, no hang, DIR left exactly as it was and nothing
written in the working folder or the cache (`sim.cache`, on for these commands in a folder
of the case's own: an input refused after its scenario was prepared, by --out or a sweep's
grid, left a route choice set there).

`run` runs as a subprocess, as a user would start it; the other commands run in this process
(click's CliRunner: an exception that escapes the CLI's error policy fails the test as a
traceback would)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from sim.cache import ENV
from sim.cli import main
from tests.support.paths import CQSIM, ROOT

HERE = ROOT / "tests" / "bad_inputs"
CASES = json.loads((HERE / "cases.json").read_text())
DEFAULT_COMMANDS = [["validate", "{file}"], ["run", "{file}", "--out", "{out}"]]
TIMEOUT_S = 60
MAX_LINE = 700  # characters: a file path, a field, an expectation and a 40-character excerpt


def _named(case: dict, out: Path) -> str:
    """What the error line must name: a corpus file, or (starting with `'`, `-` or `/`) an
    option or path as written, with `{out}` filled in."""
    named = case["named"].format(out=out, here=HERE)
    return named if named.startswith(("'", "-", "/")) else str(HERE / named)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b"<dir>"
            for p in sorted(folder.rglob("*"))}


def _cqsim(*args: str, cwd: Path | None = None) -> tuple[int, str, str]:
    """(exit code, stdout, stderr): `run` as a subprocess, any other command in this process."""
    if args[0] != "run":
        old = Path.cwd()
        try:
            if cwd is not None:
                os.chdir(cwd)
            result = CliRunner().invoke(main, list(args))
        finally:
            os.chdir(old)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            import traceback
            return 1, result.stdout, "".join(traceback.format_exception(result.exception))
        return result.exit_code, result.stdout, result.stderr
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "COLUMNS": "200"}
    done = subprocess.run([*CQSIM, *args], capture_output=True, text=True,
                          timeout=TIMEOUT_S, env=env, cwd=cwd)
    return done.returncode, done.stdout, done.stderr


def test_corpus_is_large_and_present() -> None:
    assert len(CASES) >= 100
    missing = [c["file"] for c in CASES if not (HERE / c["file"]).is_symlink()
               and not (HERE / c["file"]).exists() and c["file"] != "no_such_scenario.yaml"]
    assert not missing
    assert not (HERE / "no_such_scenario.yaml").exists()
    assert (HERE / "symlink_loop.yaml").is_symlink()


def test_control_scenario_is_valid() -> None:
    """The corpus mutates ok.yaml: it must itself be valid, so each failure has one cause."""
    code, out, err = _cqsim("validate", str(HERE / "ok.yaml"))
    assert code == 0, err


def _tiered(cases: list[dict]) -> list[object]:
    """Every case; the first two of each kind also run in `make test-fast`, the rest are
    marked slow (each `run` is a whole process: the corpus takes minutes)."""
    seen: dict[str, int] = {}
    params = []
    for c in cases:
        seen[c["kind"]] = seen.get(c["kind"], 0) + 1
        marks = [pytest.mark.slow] if seen[c["kind"]] > 2 else []
        params.append(pytest.param(c, marks=marks, id=c.get("case", c["file"])))
    return params


@pytest.mark.parametrize("case", _tiered(CASES))
def test_bad_input_fails_cleanly(case: dict, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    kept = tmp_path / "cache"
    monkeypatch.setenv(ENV, str(kept))      # `run`'s subprocess inherits it
    out = tmp_path / "out"
    out.mkdir()
    (out / "sentinel.csv").write_text("earlier,results\n1,2\n")
    before = _snapshot(out)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    named = _named(case, out)
    for template in case.get("commands", DEFAULT_COMMANDS):
        args = [a.format(file=HERE / case["file"], out=out, here=HERE) for a in template]
        code, stdout, stderr = _cqsim(*args, cwd=cwd)

        assert code == 2, (args[0], code, stderr)
        assert "Traceback" not in stderr + stdout, stderr
        lines = stderr.strip().splitlines()
        assert len(lines) == 1, (args[0], stderr)
        line = lines[0]
        assert len(line) <= MAX_LINE, (args[0], len(line))
        assert named in line, f"{args[0]}: {line!r} does not name {named}"
        after = line.split(named, 1)[1]
        assert case["field"] in after, f"{args[0]}: {line!r} does not name {case['field']!r}"
    assert _snapshot(out) == before, "the output directory changed"
    assert not any(cwd.iterdir()), "something was written in the working folder"
    assert not kept.exists() or not any(kept.iterdir()), "something was written in the cache"
