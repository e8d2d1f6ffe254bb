"""The console's tables read back by tests, as a user sees them printed."""

from __future__ import annotations

from typing import Any


def printed(renderable: Any, width: int = 200) -> str:
    """The text `renderable` (a rich table, a line) prints on a console `width` wide."""
    from sim.cli.render import console

    screen = console(width)
    with screen.capture() as out:
        screen.print(renderable)
    return out.get()


def place_rows(table: Any, scope: str) -> dict[str, list[str]]:
    """The rows of a place's delta table (`sim.cli.render.place_delta_table`) for `scope`
    (a lock, hub or line id): each figure's label -> its base, alt and delta cells."""
    return {line.split("│")[2].strip(): [c.strip() for c in line.split("│")[3:6]]
            for line in printed(table).splitlines() if line.startswith(f"│ {scope} ")}
