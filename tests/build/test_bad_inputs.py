"""Every file of the bad-input corpus (tests/bad_inputs/, see its README.md) makes
`cqsim run FILE --out DIR` fail cleanly: exit code 2, exactly one line on stderr naming the
file and the field, no traceback, no hang, and DIR left exactly as it was."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.support.paths import CQSIM, ROOT

HERE = ROOT / "tests" / "bad_inputs"
CASES = json.loads((HERE / "cases.json").read_text())
TIMEOUT_S = 60


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b"<dir>"
            for p in sorted(folder.rglob("*"))}


def _cqsim(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "COLUMNS": "200"}
    return subprocess.run([*CQSIM, *args], capture_output=True, text=True,
                          timeout=TIMEOUT_S, env=env, cwd=cwd)


def test_corpus_is_large_and_present() -> None:
    assert len(CASES) >= 30
    missing = [c["file"] for c in CASES
               if not (HERE / c["file"]).exists() and c["file"] != "no_such_scenario.yaml"]
    assert not missing
    assert not (HERE / "no_such_scenario.yaml").exists()


def test_control_scenario_is_valid() -> None:
    """The corpus mutates ok.yaml: it must itself be valid, so each failure has one cause."""
    done = _cqsim("validate", str(HERE / "ok.yaml"))
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_bad_input_fails_cleanly(case: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "sentinel.csv").write_text("earlier,results\n1,2\n")
    before = _snapshot(out)

    done = _cqsim("run", str(HERE / case["file"]), "--out", str(out))

    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    line = lines[0]
    named = str(HERE / case["named"])
    assert named in line, f"{line!r} does not name {named}"
    after_file = line.split(named, 1)[1]
    assert case["field"] in after_file, f"{line!r} does not name field {case['field']!r}"
    assert _snapshot(out) == before, "the output directory changed"
