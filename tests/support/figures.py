"""What the tests read of a figure cqsim drew: its source line (`sim.figsource`)."""

from __future__ import annotations

from typing import Any

from sim.figsource import SOURCE_GID


def source_of(fig: Any) -> str:
    """The source line of `fig` as written, the lines it was wrapped onto joined again; ""
    where it has none."""
    return " ".join(str(fig.get_supxlabel()).split("\n"))


def source_artist(fig: Any) -> Any:
    """The `Text` that draws `fig`'s source line (one, or the test fails)."""
    found = fig.findobj(lambda a: a.get_gid() == SOURCE_GID)
    assert len(found) == 1, found
    return found[0]
