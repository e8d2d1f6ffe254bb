"""The source line of every figure cqsim draws (map.png, compare.png, daily.png, fan.png,
frontier.png, a sweep's plots, the notebook's maps): one style, written here only. A figure
read on its own says where its figures come from: the simulation and the file holding them,
and the seeds id of any published figure drawn beside them. And the wrapping of a figure's
text to the room it has (`wrap`), which the source line and long titles and labels share; and
what a figure's per-year figures are annualised from (`annualised`, `per_year`), said alike by
the sweep's plots and compare.png."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.text import Text

    from sim.units import HasPeriod

SOURCE_GID = "cqsim-source"   # the line's artist id: fig.findobj(lambda a: a.get_gid() == ...)
RIGHT = 0.995                 # where the line ends, a share of the figure's width
ROOM = 0.96                   # the share of the width it may fill: wrapped to the next line past it
FONT_SIZE = 6                 # points
# the day axis of every daily series (report.html's charts, daily.png): day numbers are the
# model's calendar, day 0 being 1 January of its first year, the warm-up included
CALENDAR_AXIS = "model calendar (day 0 = 1 January)"


def wrap(text: str, room: float, size: float | str) -> str:
    """`text` broken between words into as few lines as fit `room` points at font `size`
    (points, or a name such as "large"), the lines about as long as each other (not a full
    one and a last word alone): a figure's title, axis label or source line that would run
    past the figure's edge is cut off there. A word longer than `room` keeps a line of its
    own."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    font, measure = FontProperties(size=size), TextToPath()

    def width(line: str) -> float:
        return float(measure.get_text_width_height_descent(line, font, ismath=False)[0])

    def wrapped(most: float) -> list[str]:
        lines: list[str] = []
        for word in text.split(" "):
            if lines and width(f"{lines[-1]} {word}") <= most:
                lines[-1] = f"{lines[-1]} {word}"
            else:
                lines.append(word)
        return lines

    fewest = len(wrapped(room))
    even = width(text) / fewest
    while even < room and len(wrapped(even)) > fewest:
        even *= 1.05
    return "\n".join(wrapped(min(even, room)))


def annualised(periods: Iterable[tuple[HasPeriod, float | None]]) -> str:
    """What per-year figures are annualised from, given each run's (horizon, mean seasonal
    factor of its statistics period, None where it is not to be named): "annualised from
    days 30-60 (mean seasonal factor 0.799)", or "annualised from days 30-60", each distinct
    period once; "" for none. Only the wording: which runs and factors it names is
    `sim.trade.part_year`'s."""
    seen = dict.fromkeys(f"days {horizon.warmup_days:g}-{horizon.days:g}"
                         + ("" if factor is None else f" (mean seasonal factor {factor:.3f})")
                         for horizon, factor in periods)
    return f"annualised from {'; '.join(seen)}" if seen else ""


def per_year(text: str, period: str) -> str:
    """The source line `text` ending with what its per-year figures are annualised from
    (`period`, as `annualised` says it), where there is one: a PNG read on its own did not
    say it (a 60-day sweep's goods trade read 565 bn CNY/yr, its seasonal factor of 0.80
    named only on the console)."""
    return f"{text}; per-year figures {period}" if period else text


def source_line(fig: Figure, text: str) -> Text:
    """Write `text` ("source: ...") at the foot of `fig`, right-aligned, small and grey; as the
    figure's supxlabel (`fig.get_supxlabel()` reads it), so a constrained or tight layout keeps
    the axes clear of it. Text wider than `ROOM` of the figure is wrapped between words onto
    further lines (`wrap`: a line of fan.png filled 99.4% of its width, nearly clipped).
    Returns its `Text` (gid `SOURCE_GID`)."""
    lines = wrap(text, fig.get_figwidth() * 72 * ROOM, FONT_SIZE)
    return fig.supxlabel(lines, x=RIGHT, ha="right", fontsize=FONT_SIZE, color="0.4",
                         gid=SOURCE_GID)
