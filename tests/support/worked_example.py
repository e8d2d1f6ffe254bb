"""docs/architecture.md's worked example (a dry port and a KPI): its code blocks, and a small
network with a dry port to run them on. Importing this module registers nothing; importing
`tests.support.worked_example_module` runs the blocks (`cqsim --import` it)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.support import netbuilder as nb
from tests.support.paths import ROOT

DOC = ROOT / "docs" / "architecture.md"
MODULE = "tests.support.worked_example_module"   # the blocks as a module (`cqsim --import`)


def cqsim_in_repo(*args: object) -> subprocess.CompletedProcess[str]:
    """`cqsim ARGS` in a process of its own, run as `python -m sim` from the repository, so
    `--import MODULE` finds this `tests` package first: the `cqsim` script puts the working
    folder after site-packages, where an installed package ships a `tests` of its own (ciw's),
    and `tests.support` is then not found."""
    return subprocess.run([sys.executable, "-m", "sim", *map(str, args)], capture_output=True,
                          text=True, timeout=600, cwd=ROOT)


def example_code() -> list[str]:
    """The python blocks of the section 'Worked example' of the architecture doc."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Worked example", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def dry_port_network(tmp: Path, background: dict | None = None, **port: object) -> Path:
    """A scenario in `tmp`: a dry port `d` (its fields `port`) joined to a hub by a train."""
    d = nb.hub("d", 0.0, kind="dry_port", dwell_hours=6.0, **port)
    b = nb.hub("b", 1.0)
    nb.write_geodata(tmp / "geo", [d, b], [nb.link("d-b", d, b, hours=440.0)])
    doc = nb.scenario(str(tmp / "geo"), {"db": nb.train(["d", "b"], per_week=14)},
                      [nb.flow("d", "b", 20_000)], horizon={"days": 120, "warmup_days": 20},
                      replications=2)
    if background:
        doc["network"]["background"] = background
    return nb.write_scenario(tmp / "s.yaml", doc)
