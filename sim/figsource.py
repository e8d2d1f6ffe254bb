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


def source_line(fig: Figure, text: str) -> Text:
    """Write `text` ("source: ...") at the foot of `fig`, right-aligned, small and grey; as the
    figure's supxlabel (`fig.get_supxlabel()` reads it), so a constrained or tight layout keeps
    the axes clear of it. Returns its `Text` (gid `SOURCE_GID`)."""
    return fig.supxlabel(text, x=0.995, ha="right", fontsize=6, color="0.4", gid=SOURCE_GID)
