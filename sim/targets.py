"""The plan's targets and its named channels and platforms, read from `seeds/`.

Only goods trade is simulated; the services-trade and foreign-investment targets are carried
as inputs, labelled `simulated = False`, so that no table can pass them off as model output.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sim.errors import InputError
from sim.readers import csv_number, read_csv

if TYPE_CHECKING:   # imported by targets_frame: the scenario's build reads the tables
    import pandas as pd  # without it, and a command stopped by bad input never needs it

TARGETS_FILE = "targets.csv"
CHANNELS_FILE = "channels.csv"
TARGET_COLUMNS = ("id", "metric", "value", "unit", "year", "simulated", "source", "note")
CHANNEL_COLUMNS = ("id", "name", "kind", "corridor", "cqsim_ids", "source", "note")


@dataclass(frozen=True)
class Target:
    """One figure of the plan (or the published baseline it is measured against)."""

    id: str
    metric: str
    value: float
    unit: str
    year: int
    simulated: bool
    source: str
    note: str

    @property
    def label(self) -> str:
        """Human label that says whether cqsim simulates the figure."""
        tag = "" if self.simulated else " (input, not simulated)"
        return f"{self.metric}: {self.value:g} {self.unit} by {self.year}{tag}"


@dataclass(frozen=True)
class Channel:
    """A channel or platform the plan names, with the cqsim hubs/services it maps to."""

    id: str
    name: str
    kind: str
    corridor: str
    cqsim_ids: tuple[str, ...]
    source: str
    note: str


def packaged_seeds() -> Path:
    """Where the installed package keeps the seeds (the package `sim.seeds`, found by
    `importlib.util.find_spec`), falling back to `seeds/` beside the `sim` package of a
    checkout that was never installed."""
    from importlib.util import find_spec

    try:  # a data-only (namespace) package: its folder is its search location
        spec = find_spec("sim.seeds")
    except ModuleNotFoundError:
        spec = None
    places = list(spec.submodule_search_locations or []) if spec else []
    return Path(places[0]) if places else Path(__file__).resolve().parent.parent / "seeds"


def seeds_dir(path: str | Path | None = None) -> Path:
    """The seeds directory: `path` if given, else the package's `sim.seeds` (the repository's
    `seeds/`, shipped as package data by setup.py, so an editable and a non-editable install
    both find it)."""
    folder = Path(path) if path is not None else packaged_seeds()
    if not folder.is_dir():
        raise InputError(folder, "", "the seeds directory of the cqsim repository "
                                     "(pass its path explicitly)")
    return folder


# the years a target or reference may carry: those a plan may decide in (`sim.planner`)
FIRST_YEAR, LAST_YEAR = 1900, 2200


def load_targets(path: str | Path | None = None) -> list[Target]:
    """The plan's targets (and the 2023 reference) from `targets.csv` in the seeds folder."""
    file = seeds_dir(path) / TARGETS_FILE
    out: list[Target] = []
    for line, row in read_csv(file, TARGET_COLUMNS):
        simulated = row["simulated"].strip().lower()
        if simulated not in ("true", "false"):
            raise InputError(file, f"line {line}.simulated", "true or false", row["simulated"])
        try:        # every target is a positive figure (nan, inf and negatives are not)
            value = csv_number(row["value"])
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            raise InputError(file, f"line {line}.value", "a finite number > 0", row["value"])
        try:
            year = int(row["year"])
        except ValueError:
            year = 0
        if not FIRST_YEAR <= year <= LAST_YEAR:   # a year 0 was read, and reported against
            raise InputError(file, f"line {line}.year", f"a year from {FIRST_YEAR} to "
                             f"{LAST_YEAR}", row["year"])
        if any(t.id == row["id"] for t in out):   # the id in what is expected: this packaged
            # table's values are not quoted (`sim.errors.describe`), and the id is the news
            raise InputError(file, f"line {line}.id", f"a target id used once ({row['id']!r} "
                             "is used above)", row["id"])
        out.append(Target(id=row["id"], metric=row["metric"], value=value, unit=row["unit"],
                          year=year, simulated=simulated == "true", source=row["source"],
                          note=row["note"]))
    return out


def targets_frame(path: str | Path | None = None) -> pd.DataFrame:
    """The targets as a table, with a `label` column that marks what is not simulated."""
    import pandas as pd

    targets = load_targets(path)
    frame = pd.DataFrame([asdict(t) for t in targets])
    frame["label"] = [t.label for t in targets]
    return frame


def target(ident: str, path: str | Path | None = None) -> Target:
    """One target by id (e.g. `goods_trade_2025`)."""
    for t in load_targets(path):
        if t.id == ident:
            return t
    raise InputError(seeds_dir(path) / TARGETS_FILE, "id", f"a row with id {ident!r}", ident)


def load_channels(path: str | Path | None = None) -> list[Channel]:
    """The channels and platforms named by the plan, from `channels.csv` in the seeds folder."""
    file = seeds_dir(path) / CHANNELS_FILE
    return [Channel(id=r["id"], name=r["name"], kind=r["kind"], corridor=r["corridor"],
                    cqsim_ids=tuple(x for x in r["cqsim_ids"].split(";") if x),
                    source=r["source"], note=r["note"])
            for _, r in read_csv(file, CHANNEL_COLUMNS)]
