"""The browser's charts as PNG bytes: a bare matplotlib Figure, no pyplot."""

from __future__ import annotations

import io
from typing import Any, Callable

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

FIGSIZE = (5.4, 3.0)
DPI = 80


def png(draw: Callable[[Any], None]) -> bytes:
    """What ``draw(ax)`` draws into the Axes of a new browser-sized figure, as PNG."""
    # A bare Figure, not pyplot: no global state, no backend, nothing shown
    # twice. Constrained, as the plotting module's own figures: no label clipped.
    fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    draw(fig.add_subplot())
    canvas = FigureCanvasAgg(fig)
    # savefig would lay out with a whole draw pass first; laying out alone
    # gives the same pixels for a sixth less work.
    fig.get_layout_engine().execute(fig)
    fig.set_layout_engine("none")
    buf = io.BytesIO()
    canvas.print_png(buf, pil_kwargs={"compress_level": 1})  # small images: speed over bytes
    return buf.getvalue()
