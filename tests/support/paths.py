"""Where things are, for tests: the repository, its scenarios, and how to call `cqsim`."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SCENARIOS = ROOT / "scenarios"
BASELINE = SCENARIOS / "baseline.yaml"
BASELINE_2023 = SCENARIOS / "baseline-2023.yaml"
BIN = Path(sys.executable).parent
_SCRIPT = BIN / "cqsim"
# the installed script beside this interpreter, else the module (a venv without scripts)
CQSIM = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "sim.cli"]
