"""Replay the bad-input corpus against another revision of cqsim and count, per class, the
cases that revision fails: the record of docs/validation.md ("cases tried, found, fixed").

    git archive REV | tar -x -C /tmp/cqsim-REV
    .venv/bin/python tests/bad_inputs/replay.py /tmp/cqsim-REV   # that revision's code
    .venv/bin/python tests/bad_inputs/replay.py .                 # this checkout
    .venv/bin/python tests/bad_inputs/replay.py . outputs         # one class only

A case fails when any of its commands does not exit 2 with exactly one line on stderr and no
traceback, or changes the output folder, or writes in the working folder. (Naming the file
and field is checked by tests/test_bad_inputs.py, not here: an older revision may name them
differently and still fail cleanly.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_COMMANDS = [["validate", "{file}"], ["run", "{file}", "--out", "{out}"]]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b""
            for p in sorted(folder.rglob("*"))}


def fails(case: dict, code_root: Path) -> str:
    """Why the revision at `code_root` fails the case ('' when it meets the promise)."""
    env = {**os.environ, "PYTHONPATH": str(code_root), "PYTHONWARNINGS": "ignore",
           "COLUMNS": "200"}
    with tempfile.TemporaryDirectory() as tmp:
        out, cwd = Path(tmp) / "out", Path(tmp) / "cwd"
        out.mkdir()
        cwd.mkdir()
        (out / "sentinel.csv").write_text("earlier\n")
        before = _snapshot(out)
        for template in case.get("commands", DEFAULT_COMMANDS):
            args = [a.format(file=HERE / case["file"], out=out, here=HERE) for a in template]
            try:
                done = subprocess.run([sys.executable, "-m", "sim.cli", *args], env=env,
                                      cwd=cwd, capture_output=True, text=True, timeout=120)
            except subprocess.TimeoutExpired:
                return f"{args[0]}: no answer in 120 s"
            lines = done.stderr.strip().splitlines()
            if "Traceback" in done.stderr:
                return f"{args[0]}: traceback ({len(lines)} lines)"
            if done.returncode != 2:
                return f"{args[0]}: exit {done.returncode}"
            if len(lines) != 1:
                return f"{args[0]}: {len(lines)} lines"
        if _snapshot(out) != before or any(cwd.iterdir()):
            return "wrote files"
    return ""


def main() -> None:
    code_root = Path(sys.argv[1]).resolve()
    cases = json.loads((HERE / "cases.json").read_text())
    if len(sys.argv) > 2:
        cases = [c for c in cases if c["kind"] in sys.argv[2:]]
    tried, found = Counter(), Counter()
    for case in cases:
        if case.get("unsafe_to_replay"):  # e.g. --out /: an old revision writes into /
            print(f"{case.get('case', case['file'])}: not replayed "
                  f"({case['unsafe_to_replay']})", flush=True)
            continue
        why = fails(case, code_root)
        tried[case["kind"]] += 1
        if why:
            found[case["kind"]] += 1
            print(f"{case.get('case', case['file'])}: {why}", flush=True)
    print("\n| class | cases | failed |\n|---|---:|---:|")
    for kind in sorted(tried):
        print(f"| {kind} | {tried[kind]} | {found[kind]} |")
    print(f"| all | {sum(tried.values())} | {sum(found.values())} |")


if __name__ == "__main__":
    main()
