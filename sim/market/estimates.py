"""The estimates file: what `cqsim calibrate --estimate` estimated for a scenario, with standard
errors, read by the scenario (`market.estimates`) and by the planner (`from_calibration`).

    scenario: baseline-2023
    estimated: 2026-11-30
    command: "cqsim calibrate scenarios/baseline-2023.yaml --estimate ..."
    fitting_figures: [west_teu, ...]
    parameters:
      market.choice.asc.west: {value: 1.23, se: 0.11, unit: utils, method: "..."}
      market.empties.repositioned_share@west+north: {value: 0.12, se: 0.01, unit: share, ...}
    correlation:
      market.choice.asc.west: {market.empties.repositioned_share@west+north: 0.2}

A path is a `market.choice` parameter or the share of empties of the lanes of the named
gateways (`market.empties.lanes`), one value for all of them. A parameter the scenario files
set explicitly wins over the file (a variant may fix one); the others are filled in from it
when the scenario is loaded.
"""

from __future__ import annotations

import datetime
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sim.errors import InputError, InputWarning
from sim.readers import read_yaml_file

PREFIX = "market.choice."
SHARE_PREFIX = "market.empties.repositioned_share@"   # + the gateways, joined by '+'
PREFIXES = (PREFIX, SHARE_PREFIX)
FIELDS = ("value", "se", "unit", "method")


def share_gateways(path: str) -> tuple[str, ...]:
    """The gateways whose lanes of empties a share path names (none: not a share path)."""
    if not path.startswith(SHARE_PREFIX):
        return ()
    return tuple(g for g in path[len(SHARE_PREFIX):].split("+") if g)


@dataclass(frozen=True)
class Estimate:
    """One estimated parameter: dotted path into the scenario, value and standard error."""

    path: str
    value: float
    se: float
    unit: str
    method: str


TOP_KEYS = ("scenario", "estimated", "command", "fitting_figures", "parameters", "correlation")
# the record `write_estimates` keeps: key -> its type, and what a message says was expected
# (a date written unquoted reads as a date)
METADATA: dict[str, tuple[type | tuple[type, ...], str]] = {
    "scenario": (str, "text: the stem of the scenario file estimated"),
    "estimated": ((str, datetime.date), "a date, YYYY-MM-DD"),
    "command": (str, "text: the command that wrote the file"),
    "fitting_figures": (list, "a list of the ids of the figures fitted")}


def read_estimates(file: Path, named_by: Path | str,
                   chain: Sequence[Path] = ()) -> dict[str, Estimate]:
    """The parameters of an estimates file, by dotted path (InputError naming the file and
    entry on bad content). With the scenario's `extends` chain, a warning when the file
    says it estimated a scenario of none of its files (another scenario's estimates)."""
    if not file.is_file():
        raise InputError(named_by, "market.estimates", "an existing estimates file", str(file))
    data = estimates_data(file)
    stems = [p.stem for p in chain]
    if stems and data.get("scenario") not in (None, *stems):
        warnings.warn(InputWarning(
            f"{file}: scenario: these estimates are of {data['scenario']}, which is neither "
            f"{named_by} nor a file it extends ({', '.join(stems)}): check market.estimates"),
            stacklevel=2)
    read_correlation(data, file)   # checked whenever the file is read, though not drawn here
    params = data.get("parameters")
    if not isinstance(params, dict):
        raise InputError(file, "parameters", "a mapping of dotted path -> {value, se, unit, "
                                             "method}")
    out: dict[str, Estimate] = {}
    for path, entry in params.items():
        where = f"parameters.{path}"
        if not isinstance(path, str) or not path.startswith(PREFIXES) or (
                path.startswith(SHARE_PREFIX) and not share_gateways(path)):
            raise InputError(file, where, f"a path starting with {PREFIX} or "
                                          f"{SHARE_PREFIX}<gateway>+...", path)
        if not isinstance(entry, dict) or set(entry) - set(FIELDS) or "value" not in entry:
            raise InputError(file, where, "{value, se, unit, method}", entry)
        value, se = _number(entry["value"]), _number(entry.get("se", math.nan))
        if value is None or not math.isfinite(value):
            raise InputError(file, f"{where}.value", "a finite number", entry["value"])
        if path.startswith(SHARE_PREFIX) and not 0.0 <= value <= 1.0:
            raise InputError(file, f"{where}.value", "a share between 0 and 1", value)
        if se is None or se < 0:   # nan or inf: the estimation could not bound it (its log)
            raise InputError(file, f"{where}.se", "a standard error >= 0 (.inf or .nan when "
                                                  "the estimation could not bound it)",
                             entry.get("se"))
        for key in ("unit", "method"):
            if not isinstance(entry.get(key, ""), str):
                raise InputError(file, f"{where}.{key}", "text", entry[key])
        out[path] = Estimate(path, value, se, entry.get("unit", ""), entry.get("method", ""))
    return out


def estimates_data(file: Path) -> dict[str, Any]:
    """An estimates file's mapping, its top-level keys checked (InputError naming the file
    and key: a misspelt block would otherwise drop what it holds without a word); its
    correlations are `read_correlation`'s."""
    _, data = read_yaml_file(file, "estimates file")
    unknown = [str(k) for k in data if k not in TOP_KEYS]
    if unknown:
        raise InputError(file, unknown[0], f"one of {', '.join(TOP_KEYS)}")
    for key, (kind, what) in METADATA.items():   # read by no run, but a record of one
        value = data.get(key)
        if key in data and not isinstance(value, kind):
            raise InputError(file, key, what, value)
        if isinstance(value, list):   # fitting_figures
            bad = next((i for i, v in enumerate(value) if not isinstance(v, str)), None)
            if bad is not None:
                raise InputError(file, f"{key}.{bad}", "a figure id (text)", value[bad])
    return data


def _number(x: Any) -> float | None:
    """`x` as a float when it is a number (not a bool), else None."""
    return None if isinstance(x, bool) or not isinstance(x, (int, float)) else float(x)


def apply_estimates(market: dict[str, Any], chain: Sequence[Path]) -> dict[str, str]:
    """Fill the market section's choice parameters and lanes' shares of empties the files
    leave out from its estimates file (in place); the scenario fields it filled (dotted,
    from the top) -> their entry in the estimates file, so an error in one names that file
    and entry, not the scenario. `chain`: the scenario's files, base first."""
    name = market.get("estimates")
    if not isinstance(name, str):
        return {}
    choice = market.setdefault("choice", {})
    if not isinstance(choice, dict):
        return {}  # validation reports it
    filled = {}
    for path, est in read_estimates(Path(name), chain[-1], chain).items():
        if path.startswith(SHARE_PREFIX):
            _fill_share(market, path, est.value, name)
            continue
        keys = path[len(PREFIX):].split(".")
        node = choice
        for key in keys[:-1]:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                raise InputError(name, f"parameters.{path}", "a path into market.choice", path)
        if keys[-1] not in node:
            node[keys[-1]] = est.value
            filled[path] = f"parameters.{path}"
    return filled


def _lanes(market: Any) -> list[tuple[int, dict[str, Any]]]:
    """The lanes of a market section's empties (dicts, as written or dumped), by index."""
    empties = market.get("empties") if isinstance(market, dict) else None
    lanes = empties.get("lanes") if isinstance(empties, dict) else None
    return [(i, lane) for i, lane in enumerate(lanes or []) if isinstance(lane, dict)]


def share_lanes(market: Any, path: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The lanes of the gateways a share path names, and the named gateways that have none."""
    named, lanes = share_gateways(path), _lanes(market)
    return ([lane for _, lane in lanes if lane.get("gateway") in named],
            [g for g in named if not any(lane.get("gateway") == g for _, lane in lanes)])


def share_fields(market: Any, path: str) -> list[str]:
    """The scenario fields a share path sets (dotted from the top): the own share of each
    lane of the named gateways."""
    named = share_gateways(path)
    return [f"market.empties.lanes.{i}.repositioned_share" for i, lane in _lanes(market)
            if lane.get("gateway") in named]


def share_value(market: Any, path: str) -> float:
    """The share of empties a share path reads on a dumped market section: the first named
    lane's own, else the section's (as `Empties.share_of`); KeyError when none is set."""
    lanes, missing = share_lanes(market, path)
    if missing or not lanes:
        raise KeyError(path)
    own = lanes[0].get("repositioned_share")
    if own is None:
        own = market["empties"].get("repositioned_share")
    if own is None:
        raise KeyError(path)
    return own


def set_share(market: Any, path: str, value: float, source: str, *,
              keep_own: bool = False) -> list[str]:
    """Give each lane of the gateways `path` names the share `value` and `source` (in place;
    with `keep_own`, a lane with its own share keeps it); the named gateways without a lane."""
    lanes, missing = share_lanes(market, path)
    for lane in lanes:
        if keep_own and lane.get("repositioned_share") is not None:
            continue
        lane["repositioned_share"] = value
        lane["source"] = (lane.get("source") if keep_own else None) or source
    return missing


def _fill_share(market: dict[str, Any], path: str, value: float, name: str) -> None:
    """Give each lane of the gateways `path` names the estimated share, unless it has its
    own; InputError when a named gateway has no lane."""
    missing = set_share(market, path, value, f"estimated by cqsim calibrate --estimate "
                        f"({path}; estimates file {Path(name).name})", keep_own=True)
    if missing:
        raise InputError(name, f"parameters.{path}", "gateways with a lane in "
                                                     "market.empties.lanes", missing[0])


ESTIMATES_MARKER = "\ncommand: cqsim calibrate"   # in the first lines of every estimates file


def write_estimates(file: Path, scenario: str, estimated: str, command: str,
                    fitting: list[str], estimates: list[Estimate],
                    correlation: dict[tuple[str, str], float] | None = None) -> None:
    """Write an estimates file (atomically), with the estimates' correlations, each pair once."""
    from sim.atomic import write_text

    data: dict[str, Any] = {
        "scenario": scenario, "estimated": estimated, "command": command,
        "fitting_figures": list(fitting),
        "parameters": {e.path: {"value": round(e.value, 6), "se": round(e.se, 6),
                                "unit": e.unit, "method": e.method} for e in estimates}}
    if correlation:
        rows: dict[str, dict[str, float]] = {}
        for (a, b), r in correlation.items():
            rows.setdefault(a, {})[b] = round(r, 3)
        data["correlation"] = rows
    write_text(file, yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100))


def read_correlation(data: Any, file: str | Path) -> dict[frozenset[str], float]:
    """The correlations of an estimates file's `correlation:` block (path -> {path: r}), by
    pair; InputError naming the file and entry when one is not a number in [-1, 1] between
    two different parameters of the file, or a pair is given twice, or the correlations
    cannot hold together (their matrix is not positive definite: a pair at +-1, or a set
    that contradicts itself)."""
    block = data.get("correlation") if isinstance(data, dict) else None
    if block is None:
        return {}
    params = data.get("parameters") if isinstance(data.get("parameters"), dict) else {}
    if not isinstance(block, dict):
        raise InputError(file, "correlation", "a mapping of path -> {path: correlation}")
    out: dict[frozenset[str], float] = {}
    for a, row in block.items():
        if not isinstance(row, dict):
            raise InputError(file, f"correlation.{a}", "a mapping of path -> correlation", row)
        for b, r in row.items():
            where = f"correlation.{a}.{b}"
            if a == b or a not in params or b not in params:
                raise InputError(file, where, "a pair of two different parameters of this "
                                              "file")
            if isinstance(r, bool) or not isinstance(r, (int, float)) or not -1 <= r <= 1:
                raise InputError(file, where, "a correlation between -1 and 1", r)
            if frozenset((a, b)) in out:
                raise InputError(file, where, f"each pair once (correlation.{b}.{a} gives "
                                              "this pair too)", r)
            out[frozenset((a, b))] = float(r)
    names = sorted({p for pair in out for p in pair})
    index = {p: j for j, p in enumerate(names)}
    matrix = np.eye(len(names))
    for pair, r in out.items():
        j, k = (index[p] for p in pair)
        matrix[j, k] = matrix[k, j] = r
    try:
        np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        raise InputError(file, "correlation", "correlations that hold together (a positive "
                                              "definite matrix: none at +-1, no set that "
                                              "contradicts itself)") from None
    return out
