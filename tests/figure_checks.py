"""Checks shared by the figure tests: the text a figure draws, nothing clipped, no pyplot state."""

from __future__ import annotations

from collections.abc import Callable

import matplotlib.pyplot as plt
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text


def all_text(fig: Figure) -> list[str]:
    """Every non-empty text string in the figure (titles, labels, tick labels, annotations)."""
    FigureCanvasAgg(fig).draw()
    return [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text()]


def assert_no_clipped_text(fig: Figure) -> None:
    """Everything drawn (titles, labels, tick labels, annotations) lies inside the figure."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    drawn = fig.get_tightbbox(canvas.get_renderer())  # inches; only what is actually drawn
    width, height = fig.get_size_inches()
    slack = 1 / 72  # one point
    assert drawn.x0 >= -slack and drawn.y0 >= -slack, drawn
    assert drawn.x1 <= width + slack and drawn.y1 <= height + slack, drawn


def assert_not_in_pyplot(make: Callable[[], Figure]) -> Figure:
    """The figure ``make`` returns is not registered with pyplot (so a notebook shows it once)."""
    before = plt.get_fignums()
    fig = make()
    assert isinstance(fig, Figure)
    assert plt.get_fignums() == before
    return fig
