"""Input errors that name the file, the field and what was expected, on one printable line.

A message quotes at most EXCERPT_CHARS characters of the offending value, with control
characters (NUL, newline, escape...) escaped, so that no input can make a message span lines
or flood a terminal. Whether the value is quoted at all is decided where the message is
shown (`InputError.message`): the command line quotes values only from the files the user
named and the files beside them (see docs/validation.md, "What a message may quote").
"""

from __future__ import annotations

import datetime
import difflib
import math
import os
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path, PurePath
from typing import Final

EXCERPT_CHARS = 40   # characters of a value a message may quote
FIELD_CHARS = 120    # characters of a field path (keys come from the user's file)
# characters of the "expected ..." part: cqsim's own words, bounded all the same; 800 holds
# the longest it writes, a plan refused by its cost (about 590 with both limits passed),
# which at 400 lost its CPU time and the options that lift the limits (trial51)
EXPECTED_CHARS = 800


def printable(text: str, limit: int | None = None, words: bool = False) -> str:
    """`text` with every non-printable character escaped (`\\x00`, `\\n`, `\\u200b`), cut to
    `limit` characters (an ellipsis marks the cut); with `words`, at the last space before
    it (unless that leaves less than half), so a sentence is not cut mid-word."""
    out = []
    for ch in text:
        out.append(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii"))
    joined = "".join(out)
    if limit is not None and len(joined) > limit:
        cut = joined[:limit]
        space = cut.rfind(" ") if words else -1
        joined = (cut[:space].rstrip(",;:") if space > limit // 2 else cut) + "..."
    return joined


def has_control(text: str) -> bool:
    """Whether `text` holds a control character (NUL, tab, a line break, escape...): refused
    in a path cqsim writes to or hands to GDAL, which cannot open a path with a tab or a line
    break (a run's flows.gpkg and map failed with a traceback after the whole run)."""
    return any(unicodedata.category(ch) == "Cc" for ch in text)


def absolute(path: str | Path) -> Path:
    """How a message names a file: absolute, symlinks resolved, as the scenario's own
    records hold it (its `source_file`, the files of its `extends` chain), so that every
    message about one file names it alike however it was typed (`sc/x.yaml`, `./x.yaml`);
    a path that cannot be resolved (a loop, a NUL byte) is made absolute as it stands."""
    try:
        return Path(os.path.realpath(path))
    except (OSError, ValueError):
        return Path(os.path.abspath(path))


class _Null:
    """The null a file held (YAML `null`, `~` or a key with no value), as an InputError's
    `got`: None there means that there is no value to show."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "null"

    def __reduce__(self) -> str:
        return "NULL"       # the one NULL of this module, in any process


NULL: Final = _Null()


def given(value: object) -> object:
    """`value`, read from a file, as an InputError's `got`: a null becomes NULL, so the
    message says `got null` where None would show no value at all."""
    return NULL if value is None else value


def plural(n: int, noun: str) -> str:
    """`1 variant`, `2 variants`, `1,000 variants`."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def describe(value: object) -> str:
    """The type of a value without its content: what a message says when it may not quote."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, (str, bytes)):
        return f"a {'text' if isinstance(value, str) else 'byte string'} of {len(value)} " \
               f"characters"
    if isinstance(value, dict):
        return f"a mapping of {plural(len(value), 'key')}"
    if isinstance(value, (list, tuple)):
        return f"a list of {plural(len(value), 'item')}"
    if value is None or value is NULL:
        return "nothing (null)"
    if isinstance(value, PurePath):
        return "a file path"
    return f"a {type(value).__name__}"


def yaml_float(value: float, *, exponent: bool = False) -> str:
    """A finite float as YAML 1.1 (PyYAML, which cqsim reads with) reads it back as a number:
    Python's shortest digits, but an exponent's mantissa with a dot (`1.0e-05`: Python's
    `1e-05` is text to YAML 1.1). `exponent` writes it with one (`1.0e+03` for 1000.0).
    The one rendering of a float for messages (`excerpt`) and advice (`sim.specs`); not a
    number and the infinities as YAML writes them (`.nan`, `.inf`, `-.inf`)."""
    if not math.isfinite(value):
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    text = repr(value)
    if exponent and "e" not in text:
        text = next(t for t in (f"{value:.{p}e}" for p in range(17)) if float(t) == value)
    if "e" in text:
        mantissa, power = text.split("e")
        if "." not in mantissa:
            mantissa += ".0"
        text = f"{mantissa}e{power}"
    return text


def excerpt(value: object) -> str:
    """A short, printable rendering of a value for a message (at most ~EXCERPT_CHARS), as
    YAML writes it, which is how the user wrote it: `true`, `null`, `.inf`, `[1, 'a']`
    (not Python's `True`, `None`, `inf`, `(1, 'a')`), `1.0e-05` (not `1e-05`, text to YAML
    1.1), `2023-01-01` (not `datetime.date(2023, 1, 1)`); a numpy scalar as its Python value."""
    if type(value).__module__ == "numpy" and hasattr(value, "item") \
            and getattr(value, "ndim", None) == 0:
        value = value.item()
    if isinstance(value, (datetime.date, datetime.time)):   # a datetime is a date
        return value.isoformat(sep=" ") if isinstance(value, datetime.datetime) \
            else value.isoformat()
    if isinstance(value, PurePath):  # a path: its end says the most
        text = printable(str(value))
        return "'" + (text if len(text) <= EXCERPT_CHARS else "..." + text[-EXCERPT_CHARS:]) \
            + "'"
    if isinstance(value, str):
        return "'" + printable(value, EXCERPT_CHARS) + "'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None or value is NULL:
        return "null"
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else ".inf" if value > 0 else "-.inf"
    if isinstance(value, (int, float)):
        text = yaml_float(value) if isinstance(value, float) else repr(value)
        return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "..."
    if isinstance(value, (list, tuple)) and all(
            isinstance(v, (str, int, float)) or v is None for v in value):
        return printable("[" + ", ".join(excerpt(v) for v in value) + "]", 2 * EXCERPT_CHARS)
    if isinstance(value, (dict, list, tuple, bytes)):
        return describe(value)
    return printable(repr(value), EXCERPT_CHARS)


def did_you_mean(value: object, choices: Iterable[str]) -> str:
    """` (did you mean 'x'?)` when a choice is close to `value`, else an empty string; case
    is ignored in the match ('EU' is close to 'eu': ids are lower case, people write
    otherwise), and choices that differ only by case are all offered ('EU' or 'eu')."""
    if not isinstance(value, str):
        return ""
    names = list(dict.fromkeys(str(c) for c in choices))
    folded = list(dict.fromkeys(n.casefold() for n in names))
    close = difflib.get_close_matches(value.casefold(), folded, n=1, cutoff=0.6)
    if not close:
        return ""
    # every choice of that spelling: 'EU' and 'eu' may both be ids, and either was meant
    alike = [n for n in names if n.casefold() == close[0]]
    return f" (did you mean {' or '.join(excerpt(n) for n in alike)}?)"


def wrong_type(call: str, expected: str, value: object, hint: str = "") -> TypeError:
    """The one-line TypeError of the public function `call` given `value` of a kind it does
    not take: what it takes and, in `hint`, what to call instead (a path where a run's
    Results are wanted, a Scenario where a file's path is)."""
    kind = type(value).__name__
    article = "an" if kind[:1].lower() in "aeiou" else "a"
    return TypeError(f"{call}: expected {expected}, got {article} {kind}"
                     + (f" ({hint})" if hint else ""))


class InputError(Exception):
    """Bad user input: reported as one line, exit code 2, never a traceback. A `file`
    given as a Path is named absolute, however it was typed.

    `got` is the offending value (None: none to show; a null the file held is `NULL`);
    `via` says how the file was reached when the user did not name it (e.g.
    "scenarios/x.yaml: extends"); `reached_from`, the file that named this one where a
    short printable value of it may be quoted wherever one of that file may (a geodata
    layer a scenario's `network.geodata` names: `short_value`); `after` names the
    change that caused it ("sc/x.yaml: changes.0"), which then leads the message, so a check
    of the network made after the changes blames the change, not the base file it reads.
    """

    def __init__(self, file: str | Path, field: str, expected: str, got: object = None,
                 *, via: str | None = None, after: str | None = None,
                 reached_from: str | Path | None = None) -> None:
        # a Path is a file's, named absolute as it stands (a link named as the link, not
        # what it points to); text is an option (`--out`), a command or a name, as given
        self.file = os.path.abspath(file) if isinstance(file, Path) else str(file)
        self.field = field
        self.expected = expected
        self.got = got
        self.via = via
        self.after = after
        self.reached_from = None if reached_from is None else (
            os.path.abspath(reached_from) if isinstance(reached_from, Path) else reached_from)
        super().__init__(self.message())

    def message(self, quote: Callable[[str], bool] | None = None) -> str:
        """The one-line message; `quote(file)` decides whether the value may be quoted
        (default: always)."""
        field = printable(self.field, FIELD_CHARS)
        where = f"{printable(self.file)}: {field}" if field else printable(self.file)
        msg = f"{where}: expected {printable(self.expected, EXPECTED_CHARS)}"
        if self.got is not None:
            shown = quote is None or quote(self.file) or (
                self.reached_from is not None and short_value(self.got)
                and quote(self.reached_from))
            msg += f", got {excerpt(self.got) if shown else describe(self.got)}"
        if self.via:
            msg += f" (read for {printable(self.via, FIELD_CHARS)})"
        if self.after:
            msg = (f"{printable(self.after, FIELD_CHARS)}: expected a change the network can "
                   f"take, but after it {msg}")
        return msg

    def caused_by(self, after: str) -> InputError:
        """The same error, blamed on the change `after` (see the class docstring)."""
        return InputError(self.file, self.field, self.expected, self.got, via=self.via,
                          after=after, reached_from=self.reached_from)

    def __str__(self) -> str:
        return self.message()

    def __reduce__(self) -> tuple[Callable[..., InputError], tuple[object, ...]]:
        """Pickled whole, so an error raised in a worker process (a sweep's pool, Dask)
        reaches the parent as the same one-line error, not a broken pool."""
        return _input_error, (self.file, self.field, self.expected, self.got, self.via,
                              self.after, self.reached_from)


def _input_error(file: str, field: str, expected: str, got: object, via: str | None,
                 after: str | None, reached_from: str | None = None) -> InputError:
    """An InputError from its pickled parts (`InputError.__reduce__`)."""
    return InputError(file, field, expected, got, via=via, after=after,
                      reached_from=reached_from)


def short_value(value: object) -> bool:
    """A value a message quotes whole: a number, a boolean, or a text of at most
    EXCERPT_CHARS printable characters (what a geodata layer's bad value usually is: a kind
    misspelt, `'30%'`), not a long or escaped text that could carry another file's content."""
    if isinstance(value, (bool, int, float)):
        return True
    return isinstance(value, str) and len(value) <= EXCERPT_CHARS and value.isprintable()


class ClusterError(RuntimeError):
    """The Dask cluster a command asked for (--local-cluster) did not start: a failure of
    the environment, not of the input (the CLI prints one line, exit 1)."""


class RunFailed(RuntimeError):
    """A simulation of a study (`plan`) failed where the study cannot go on without it: the
    CLI prints one line with its error and where it is kept, exit 1."""


class ConservationError(RuntimeError):
    """Freight was created but is neither delivered, in transit nor waiting."""


class InputWarning(UserWarning):
    """Input that is valid but probably not what was meant (the CLI prints one line)."""


class FactorWarning(InputWarning):
    """A demand_growth or scale factor so large it was probably meant as a percentage."""


class SweepWarning(UserWarning):
    """Runs of a sweep that failed (each a row with its error): its means would leave them
    out and break the replications' pairing."""
