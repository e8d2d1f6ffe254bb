"""The source line of every figure cqsim draws (map.png, compare.png, daily.png, fan.png,
frontier.png, a sweep's plots, the notebook's maps): one style, written here only. A figure
read on its own says where its figures come from: the simulation and the file holding them,
and the seeds id of any published figure drawn beside them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.text import Text

SOURCE_GID = "cqsim-source"   # the line's artist id: fig.findobj(lambda a: a.get_gid() == ...)
RIGHT = 0.995                 # where the line ends, a share of the figure's width
ROOM = 0.96                   # the share of the width it may fill: wrapped to the next line past it
FONT_SIZE = 6                 # points


def source_line(fig: Figure, text: str) -> Text:
    """Write `text` ("source: ...") at the foot of `fig`, right-aligned, small and grey; as the
    figure's supxlabel (`fig.get_supxlabel()` reads it), so a constrained or tight layout keeps
    the axes clear of it. Text wider than `ROOM` of the figure is wrapped between words onto
    further lines (a line of fan.png filled 99.4% of its width, nearly clipped). Returns its
    `Text` (gid `SOURCE_GID`)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    font, measure = FontProperties(size=FONT_SIZE), TextToPath()
    room = fig.get_figwidth() * 72 * ROOM     # points, as the font is measured

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
    # that many lines, about as long as each other (not a full one and a last word alone)
    even = width(text) / fewest
    while even < room and len(wrapped(even)) > fewest:
        even *= 1.05
    lines = wrapped(min(even, room))
    return fig.supxlabel("\n".join(lines), x=RIGHT, ha="right", fontsize=FONT_SIZE,
                         color="0.4", gid=SOURCE_GID)
