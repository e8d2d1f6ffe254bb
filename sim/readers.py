"""Safe readers for every file cqsim reads: YAML, JSON (GeoJSON), CSV and GeoPackage.

Each reader checks the path (exists, a regular file, no symlink loop, not too big), decodes
and parses with limits on nesting depth and size, and turns every failure into one
`InputError` naming the file (or, for a file the user did not name, the file and field that
led to it: `via`) by its absolute path, as every message names a file (`sim.errors.absolute`:
`x.yaml` and `./x.yaml` are one file). Nothing here builds a model: the readers hand plain
Python data to the schema (`sim.scenario`, `sim.geodata`, `sim.sweep`, `sim.calibration`).
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import Any

import yaml

from sim.errors import InputError, absolute, has_control

MAX_YAML_BYTES = 5_000_000     # a scenario is ~30 kB; sweep and candidate files are smaller
MAX_JSON_BYTES = 50_000_000    # the shipped geodata is ~40 kB; detailed link geometry fits
MAX_CSV_BYTES = 5_000_000
MAX_GPKG_BYTES = 200_000_000
MAX_DEPTH = 32                 # nesting levels of YAML or JSON; a scenario uses 6
MAX_NODES = 200_000            # YAML nodes in one file (a real scenario has ~1,500)
MAX_ALIASES = 200              # YAML aliases in one file: enough for reuse, too few for a bomb
MAX_EXPANDED = 100_000         # nodes those aliases may expand to


def _refused(path: Path, expected: str, ref: tuple[str, str] | None, got: object = None
             ) -> InputError:
    """An error about a file that cannot be read: against the file and field that named it
    when there is one (the user named that one), else against the file itself."""
    if ref is not None:
        if got is None:
            try:
                got = PurePath(os.path.relpath(path, Path(ref[0]).parent))
            except ValueError:
                got = PurePath(path)
        return InputError(ref[0], ref[1], expected, got)
    return InputError(absolute(path), "", expected, got)


def read_bytes(path: str | Path, what: str, limit: int,
               ref: tuple[str, str] | None = None) -> tuple[Path, bytes]:
    """(resolved path, content) of a regular file of at most `limit` bytes.

    `ref` = (file, field) that named `path` (e.g. a scenario's `extends`), or None when the
    user named it on the command line.
    """
    path = Path(path)
    try:
        resolved = path.resolve(strict=True)
    except RuntimeError:  # Python 3.11: "Symlink loop from ..."
        raise _refused(path, f"an existing {what} (the path is a symlink loop)", ref) from None
    except ValueError:  # a NUL byte in the path
        raise _refused(path, f"a {what} path without NUL bytes", ref) from None
    except OSError as exc:
        reason = ("the path is a symlink loop" if exc.errno == errno.ELOOP
                  else "no such file" if exc.errno == errno.ENOENT
                  else exc.strerror or "unreadable path")
        raise _refused(path, f"an existing {what} ({reason})", ref) from None
    if not resolved.is_file():
        raise _refused(path, f"a {what} (a regular file, not a folder or device)", ref)
    try:
        size = resolved.stat().st_size
        if size > limit:
            raise _refused(path, f"a {what} of at most {limit:,} bytes", ref, f"{size:,} bytes")
        with resolved.open("rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise _refused(path, f"a readable {what} ({exc.strerror or 'read failed'})", ref) \
            from None
    if len(data) > limit:
        raise _refused(path, f"a {what} of at most {limit:,} bytes", ref)
    return resolved, data


def decode_text(path: Path, data: bytes, via: str | None = None) -> str:
    """UTF-8 text without NUL bytes, or InputError. A leading byte-order mark is dropped:
    spreadsheets write one ("CSV UTF-8" in Excel), and kept it would become part of the
    first column's name."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(path, "", f"UTF-8 text (bad byte at offset {exc.start})",
                         via=via) from None
    if "\x00" in text:
        raise InputError(path, "", "text without NUL bytes (a binary file?)", via=via)
    return text


# ----------------------------------------------------------------------------- YAML


def _node_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """Nodes in `node` once every alias is expanded (memoised: a bomb costs nothing here)."""
    size = sizes.get(id(node))
    if size is None:
        if isinstance(node, yaml.SequenceNode):
            size = 1 + sum(_node_size(child, sizes) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            size = 1 + sum(_node_size(k, sizes) + _node_size(v, sizes) for k, v in node.value)
        else:
            size = 1
        sizes[id(node)] = size
    return size


class _LimitedComposer(yaml.composer.Composer):
    """Composes nodes with limits: nesting depth, node count, aliases and what they expand
    to (a "billion laughs" bomb). Events come from the parser the loader mixes in."""

    check_event: Callable[..., bool]
    peek_event: Callable[[], Any]

    def __init__(self) -> None:
        super().__init__()
        self._depth = 0
        self._nodes = 0
        self._aliases = 0
        self._expanded = 0
        self._sizes: dict[int, int] = {}

    def _refuse(self, problem: str) -> None:
        raise yaml.composer.ComposerError(None, None, problem, self.peek_event().start_mark)

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            self._aliases += 1
            anchored = self.anchors.get(event.anchor)
            self._expanded += _node_size(anchored, self._sizes) if anchored is not None else 0
            if self._aliases > MAX_ALIASES or self._expanded > MAX_EXPANDED:
                self._refuse(f"at most {MAX_ALIASES} aliases expanding to at most "
                             f"{MAX_EXPANDED} nodes (alias bomb?)")
        self._nodes += 1
        if self._nodes > MAX_NODES:
            self._refuse(f"at most {MAX_NODES:,} values in one file")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                self._refuse(f"at most {MAX_DEPTH} levels of nesting")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _UniqueKeysConstructor(yaml.constructor.SafeConstructor):
    """SafeConstructor that refuses a key given twice in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            first: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    seen = first.get(key)
                except TypeError:
                    raise yaml.constructor.ConstructorError(
                        None, None, "a key that is a plain value (not a list or mapping)",
                        key_node.start_mark) from None
                if seen is not None:
                    shown = str(key)
                    shown = shown if len(shown) <= 40 else shown[:40] + "..."
                    raise yaml.constructor.ConstructorError(
                        None, None, f"unique keys: {shown!r} appears twice (first at line "
                                    f"{seen})", key_node.start_mark)
                first[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep)

    def construct_decimal_int(self, node: yaml.ScalarNode) -> Any:
        """An integer, refusing YAML 1.1's octal (`010` is 8) and base 60 (`1:30` is 90)."""
        self._refuse_base(node)
        return self.construct_yaml_int(node)

    def construct_decimal_float(self, node: yaml.ScalarNode) -> Any:
        """A float, refusing YAML 1.1's base 60 (`1:30.5` is 90.5)."""
        self._refuse_base(node)
        return self.construct_yaml_float(node)

    def _refuse_base(self, node: yaml.ScalarNode) -> None:
        text = str(node.value).replace("_", "").lstrip("+-")
        octal = (node.tag.endswith(":int")          # a float's leading 0 is decimal (00.5)
                 and len(text) > 1 and text[0] == "0" and text[1].isdigit())
        if ":" in text or octal:
            kind = "base 60" if ":" in text else "octal"
            read = (self.construct_yaml_float(node) if node.tag.endswith(":float")
                    else self.construct_yaml_int(node))
            raise yaml.constructor.ConstructorError(
                None, None, f"a decimal number: YAML 1.1 reads {node.value} as {kind} "
                            f"({read:g}); write the number itself, or quote it for a text",
                node.start_mark)


# typeshed binds add_constructor to the loader classes, not a constructor mixed into one
_UniqueKeysConstructor.add_constructor(  # type: ignore[type-var]
    "tag:yaml.org,2002:int", _UniqueKeysConstructor.construct_decimal_int)
_UniqueKeysConstructor.add_constructor(  # type: ignore[type-var]
    "tag:yaml.org,2002:float", _UniqueKeysConstructor.construct_decimal_float)


class SafeLimitedLoader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser,
                        _LimitedComposer, _UniqueKeysConstructor, yaml.resolver.Resolver):
    """SafeLoader with limits: nesting depth, node count, aliases and what they expand to
    (a "billion laughs" bomb), and no duplicate keys in a mapping. All Python."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        _LimitedComposer.__init__(self)
        _UniqueKeysConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)


try:
    from yaml._yaml import CParser  # PyYAML built with LibYAML (its wheels are)

    class CSafeLimitedLoader(_LimitedComposer, CParser, _UniqueKeysConstructor,
                             yaml.resolver.Resolver):
        """`SafeLimitedLoader` on LibYAML's scanner and parser: the same documents, limits
        and errors, ten times faster (a scenario chain took over a second to parse in
        Python, a tenth of a warm `cqsim run`). Nodes are still composed in Python, where
        the limits are counted."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _LimitedComposer.__init__(self)
            _UniqueKeysConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)

    LOADER: type = CSafeLimitedLoader
except ImportError:     # pragma: no cover - a PyYAML without LibYAML
    LOADER = SafeLimitedLoader


def _in_our_words(problem: str, mark: Any, text: str) -> str:
    """A YAML error as the all-Python loader words it, where LibYAML says less: its own
    nesting limit (1,000, met before ours) and a character it cannot start a token with,
    unnamed (a tab, most often)."""
    if problem == "exceeded maximum nesting depth":
        return f"at most {MAX_DEPTH} levels of nesting"
    if problem == "found character that cannot start any token" and mark is not None:
        lines = text.splitlines()
        line = lines[mark.line] if mark.line < len(lines) else ""
        if mark.column < len(line):
            return f"found character {line[mark.column]!r} that cannot start any token"
    return problem


def parse_yaml(path: Path, text: str, via: str | None = None) -> Any:
    """Parse YAML text with the limits of `SafeLimitedLoader` (on LibYAML when PyYAML has
    it); InputError with line and column."""
    try:
        return yaml.load(text, Loader=LOADER)  # noqa: S506 - a safe loader with limits
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = _in_our_words(getattr(exc, "problem", None) or str(exc), mark, text)
        raise InputError(path, where, f"valid YAML ({problem})", via=via) from None
    except (ValueError, OverflowError, RecursionError) as exc:
        # e.g. an integer of more digits than Python converts (int_max_str_digits)
        problem = ("integers of at most 4300 digits" if "digits" in str(exc)
                   else f"{type(exc).__name__}: {str(exc)[:60]}")
        raise InputError(path, "", f"valid YAML values ({problem})", via=via) from None


def read_yaml_file(path: str | Path, what: str = "scenario file",
                   ref: tuple[str, str] | None = None) -> tuple[Path, dict[str, Any]]:
    """(resolved path, mapping) of a YAML file, every failure an InputError naming the file
    (and, for a file reached through `ref` = (file, field), that file and field)."""
    via = f"{ref[0]}: {ref[1]}" if ref else None
    resolved, data = read_bytes(path, what, MAX_YAML_BYTES, ref)
    doc = parse_yaml(resolved, decode_text(resolved, data, via), via)
    if not isinstance(doc, dict):
        kind = {type(None): "nothing (an empty file, or comments only)", list: "a list",
                str: "a text", bool: "true or false"}.get(type(doc), "a number")
        raise InputError(resolved, "", f"a YAML mapping at the top level (key: value lines); "
                                    f"found {kind}", via=via)
    return resolved, doc


def read_yaml(path: str | Path, what: str = "scenario file",
              ref: tuple[str, str] | None = None) -> dict[str, Any]:
    """The mapping of a YAML file (see `read_yaml_file`)."""
    return read_yaml_file(path, what, ref)[1]


# ----------------------------------------------------------------------------- JSON


def _json_depth(doc: Any) -> int:
    """Nesting depth of parsed JSON, without recursion."""
    depth, stack = 0, [(doc, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, (dict, list)):
            depth = max(depth, level)
            if depth > MAX_DEPTH:
                return depth
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, level + 1) for child in children)
    return depth


class _RepeatedKey(ValueError):
    """A key twice in one JSON object (its message: the key)."""


def _once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are each given once."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _RepeatedKey(key)
        out[key] = value
    return out


def read_json(path: str | Path, what: str, ref: tuple[str, str] | None = None) -> Any:
    """Parse a JSON file (at most MAX_DEPTH levels deep); InputError on any failure."""
    via = f"{ref[0]}: {ref[1]}" if ref else None
    resolved, data = read_bytes(path, what, MAX_JSON_BYTES, ref)
    text = decode_text(resolved, data, via)
    try:
        doc = json.loads(text, object_pairs_hook=_once)
    except _RepeatedKey as exc:
        raise InputError(resolved, str(exc), "each key once in an object (JSON keeps the "
                                             "last value of a repeated key, silently)",
                         via=via) from None
    except json.JSONDecodeError as exc:
        raise InputError(resolved, f"line {exc.lineno} column {exc.colno}",
                         f"valid JSON ({exc.msg})", via=via) from None
    except RecursionError:
        raise InputError(resolved, "", f"JSON nested at most {MAX_DEPTH} levels deep",
                         via=via) from None
    except (ValueError, OverflowError) as exc:
        problem = "integers of at most 4300 digits" if "digits" in str(exc) else str(exc)[:60]
        raise InputError(resolved, "", f"valid JSON values ({problem})", via=via) from None
    if _json_depth(doc) > MAX_DEPTH:
        raise InputError(resolved, "", f"JSON nested at most {MAX_DEPTH} levels deep", via=via)
    return doc


# ----------------------------------------------------------------------------- CSV


_CSV_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")


def csv_number(text: str) -> float:
    """A CSV cell as a number written in ASCII decimal (surrounding spaces aside); ValueError
    otherwise. float() alone also took `2_0.0` as 20, Unicode digits, nan and inf (1e999 is
    still infinity: callers bound what they read)."""
    if not _CSV_NUMBER.fullmatch(text.strip()):
        raise ValueError(f"not a decimal number: {text!r}")
    return float(text)


def read_csv(path: str | Path, columns: tuple[str, ...], what: str = "CSV file",
             ref: tuple[str, str] | None = None) -> list[tuple[int, dict[str, str]]]:
    """(line, row) of each row of a CSV file with a header holding `columns`, each row
    complete (a value, maybe empty, in every column of the header and none beyond it); the
    line is where the row starts in the file (a quoted cell may span lines)."""
    via = f"{ref[0]}: {ref[1]}" if ref else None
    resolved, data = read_bytes(path, what, MAX_CSV_BYTES, ref)
    text = decode_text(resolved, data, via)
    try:
        # strict: a quote left open at the end (a file cut short) is an error, not a last
        # cell that swallows every row after the cut (fuzz2 H2: 190 flows read as 137)
        reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
        read = 0    # the lines read before the row being read (a CSV error names where it starts)
        header = reader.fieldnames or []
        read = reader.line_num
        if not header:
            raise InputError(resolved, "header", f"a header row ({', '.join(columns)}); the file "
                             "is empty", via=via)
        twice = sorted({c for c in header if header.count(c) > 1})
        if twice:   # DictReader keeps the last of them: a second value column won silently
            raise InputError(resolved, "header", f"each column once ({', '.join(twice)} more "
                             "than once)", via=via)
        missing = [c for c in columns if c not in header]
        if missing:
            raise InputError(resolved, "header", f"columns {', '.join(columns)} (missing: "
                             f"{', '.join(missing)})", via=via)
        rows = []
        for row in reader:
            line = reader.line_num - sum(str(v).count("\n") for v in row.values()
                                         if isinstance(v, str))
            if None in row:
                raise InputError(resolved, f"line {line}", f"at most {len(header)} values "
                                 "(one per column of the header)", via=via)
            if any(v is None for v in row.values()):
                raise InputError(resolved, f"line {line}", f"{len(header)} values (one per "
                                 "column of the header)", via=via)
            rows.append((line, row))
            read = reader.line_num
        return rows
    except csv.Error as exc:
        why = ("the file ends inside a quoted cell: cut short?"
               if "unexpected end of data" in str(exc) else str(exc))
        raise InputError(resolved, f"line {read + 1}", f"valid CSV ({why})", via=via) \
            from None


# ----------------------------------------------------------------------------- GeoPackage

_SQLITE_MAGIC = b"SQLite format 3\x00"


def check_geopackage(path: Path, ref: tuple[str, str]) -> None:
    """Refuse a GeoPackage that is not readable as one: wrong header, a corrupt SQLite
    database, no feature table, or a geometry that is not a GeoPackage blob of valid WKB.

    Run at validation, so a corrupt basemap stops a run before anything is written; so is
    one at a path GDAL cannot open (`has_control`: the map drawn from it failed after the run).
    """
    via = f"{ref[0]}: {ref[1]}"
    resolved, data = read_bytes(path, "GeoPackage", MAX_GPKG_BYTES, ref)
    if has_control(str(resolved)):
        raise _refused(path, "a GeoPackage at a path without control characters (tab, line "
                             "breaks...): GDAL, which reads it for the maps, cannot open it", ref)
    if not data.startswith(_SQLITE_MAGIC):
        raise InputError(resolved, "", "a GeoPackage (an SQLite database)", via=via)
    try:
        con = sqlite3.connect(f"{resolved.as_uri()}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as exc:
        raise InputError(resolved, "", f"a readable GeoPackage ({exc})", via=via) from None
    try:
        status = con.execute("PRAGMA integrity_check").fetchone()
        if not status or status[0] != "ok":
            raise InputError(resolved, "", "an intact SQLite database", via=via)
        tables = con.execute(
            "SELECT c.table_name, g.column_name FROM gpkg_contents c JOIN "
            "gpkg_geometry_columns g ON c.table_name = g.table_name "
            "WHERE c.data_type = 'features'").fetchall()
        if not tables:
            raise InputError(resolved, "gpkg_contents", "at least one feature table", via=via)
        from shapely import from_wkb

        for table, column in tables:
            blobs = [row[0] for row in con.execute(
                f'SELECT "{column}" FROM "{table}"')]  # noqa: S608 - names from the file's catalogue
            try:
                from_wkb([_wkb(b) for b in blobs if b is not None])
            except Exception:  # noqa: BLE001 - shapely raises its own GEOSException types
                raise InputError(resolved, f"{table}.{column}",
                                 "GeoPackage geometry blobs of valid WKB", via=via) from None
    except sqlite3.Error as exc:
        raise InputError(resolved, "", f"a readable GeoPackage ({str(exc)[:80]})",
                         via=via) from None
    finally:
        con.close()


def _wkb(blob: bytes) -> bytes:
    """The WKB inside a GeoPackage geometry blob (magic `GP`, version, flags, envelope)."""
    if not isinstance(blob, bytes) or len(blob) < 8 or blob[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry blob")
    envelope = (0, 32, 48, 48, 64)[(blob[3] >> 1) & 0b111] if ((blob[3] >> 1) & 0b111) < 5 \
        else None
    if envelope is None:
        raise ValueError("bad envelope indicator")
    return blob[8 + envelope:]
