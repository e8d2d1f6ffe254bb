"""The source line of every figure cqsim draws (map.png, compare.png, daily.png, fan.png,
frontier.png, a sweep's plots, the notebook's maps): one style, written here only. A figure
read on its own says where its figures come from: the simulation and the file holding them,
and the seeds id of any published figure drawn beside them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def source_line(fig: Figure, text: str) -> None:
    """Write `text` ("source: ...") at the foot of `fig`, right-aligned, small and grey; as the
    figure's supxlabel, so a constrained or tight layout keeps the axes clear of it."""
    fig.supxlabel(text, x=0.995, ha="right", fontsize=6, color="0.4")


def source_of(fig: Figure) -> str:
    """The source line of `fig`, or "" where it has none."""
    label = getattr(fig, "_supxlabel", None)   # matplotlib keeps it there; no public getter
    return str(label.get_text()) if label is not None else ""
