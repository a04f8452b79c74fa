"""The browser's two charts, each one figure for the browser's life, updated in place and rendered to PNG.

Drawing a chart from scratch builds a figure, an Axes with its ticks, the
artists and their text layouts before any pixel is drawn; on a filter change
that was most of a redraw. Here each chart keeps its figure, canvas and
artists: an update sets line data, bar widths, limits, tick labels and titles,
then renders. The result reads exactly as :func:`~statsig_pandas.plotting.plot_timeline`
and :func:`~statsig_pandas.plotting.plot_value_counts` draw the same data (the
tests compare the pixels).
"""

from __future__ import annotations

import io
from typing import Any, Callable

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.ticker import AutoLocator, FixedFormatter, FixedLocator, MaxNLocator, ScalarFormatter

from .._chartstyle import bucket_name, no_data, value_label

FIGSIZE = (5.4, 3.0)
DPI = 80
# As many bars as the browser shows; fewer values hide the rest.
BARS = 10


def _new_figure() -> tuple[Figure, FigureCanvasAgg]:
    # A bare Figure, not pyplot: no global state, no backend, nothing shown
    # twice. Constrained, as the plotting module's own figures: no label clipped.
    figure = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    return figure, FigureCanvasAgg(figure)


def _encode(canvas: FigureCanvasAgg) -> bytes:
    buf = io.BytesIO()
    canvas.print_png(buf, pil_kwargs={"compress_level": 1})  # small images: speed over bytes
    return buf.getvalue()


def _fix_ticks(axis, locator, formatter) -> None:
    """Give ``axis`` the ticks and labels ``locator`` and ``formatter`` make for its current limits,
    computed once: a render asks for them about ten times (layout, tick, label and title placement)."""
    axis.set_major_locator(locator)
    axis.set_major_formatter(formatter)
    locations = axis.get_majorticklocs()
    labels = FixedFormatter(formatter.format_ticks(locations))
    labels.set_offset_string(formatter.get_offset())
    axis.set_major_locator(FixedLocator(locations))
    axis.set_major_formatter(labels)


def png(draw: Callable[[Any], None]) -> bytes:
    """What ``draw(ax)`` draws into a new browser-sized figure, as PNG: a chart drawn from
    scratch, the reference the in-place charts are checked against."""
    figure, canvas = _new_figure()
    draw(figure.add_subplot())
    return _encode(canvas)


class _Chart:
    """A figure with one Axes, kept; subclasses set its artists, :meth:`_render` draws it.

    The title is placed where matplotlib places it when nothing is above the
    Axes (``y=1``), instead of being placed anew at each of the three passes
    of a render; :class:`TimelineChart` draws from scratch the rare chart
    whose y-axis offset label ("1e6") could push it up.
    """

    def __init__(self, *, fixed_title: bool = True) -> None:
        self.figure, self.canvas = _new_figure()
        self.ax = self.figure.add_subplot()
        self._note = no_data(self.ax)
        self._title_y = 1.0 if fixed_title else None
        self._last: tuple[Any, bytes] | None = None  # what was rendered last, and its PNG

    def _set_title(self, title: str) -> None:
        self.ax.set_title(title, y=self._title_y)

    def _empty(self, title: str, xlabel: str, ylabel: str) -> None:
        """The Axes as the plotting functions leave it when there is nothing to draw."""
        ax = self.ax
        self._note.set_visible(True)
        self._set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.yaxis.set_inverted(False)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        for axis in (ax.xaxis, ax.yaxis):
            _fix_ticks(axis, AutoLocator(), ScalarFormatter())
        ax.grid(False)

    def _unchanged(self, key: Any) -> bytes | None:
        """The PNG of the last render if it showed ``key`` too."""
        return self._last[1] if self._last is not None and self._last[0] == key else None

    def _render(self, key: Any) -> bytes:
        # The layout starts where a new figure's does: two passes from elsewhere can end a fraction
        # of a pixel apart when a tick label sticks out of the Axes.
        self.ax.set_subplotspec(self.ax.get_subplotspec())
        png = _encode(self.canvas)
        self._last = (key, png)
        return png


class TimelineChart(_Chart):
    """Events (or distinct users) per bucket, as :func:`~statsig_pandas.plotting.plot_timeline` draws them."""

    def __init__(self, *, fixed_title: bool = True) -> None:
        super().__init__(fixed_title=fixed_title)
        (self._line,) = self.ax.plot([], [], markersize=3, linewidth=1.5)

    def show(self, data: pd.Series, *, freq: str, users: bool) -> bytes:
        """``data`` (a timeline of :func:`~statsig_pandas.analysis.timeline`) as PNG."""
        ax = self.ax
        what = "Distinct users" if users else "Events"
        zone = data.index.tz
        title, xlabel = f"{what} per {bucket_name(freq)}", f"Time ({zone})"
        key = (title, xlabel, data.index.asi8.tobytes(), data.to_numpy().tobytes())
        if (png := self._unchanged(key)) is not None:
            return png
        if len(data.index) == 0:
            self._line.set_visible(False)
            self._empty(title, xlabel, what)
            return self._render(key)
        self._set_title(title)
        ax.set_ylabel(what)
        ax.set_xlabel(xlabel)
        self._note.set_visible(False)
        # matplotlib gets naive UTC instants; the locator and formatter show them in the data's zone.
        x = mdates.date2num(data.index.tz_convert("UTC").tz_localize(None).to_numpy())
        y = data.to_numpy()
        self._line.set_data(x, y)
        self._line.set_marker("o" if len(x) <= 48 else "None")
        self._line.set_visible(True)
        locator = mdates.AutoDateLocator(tz=zone)
        ax.xaxis.set_major_locator(locator)  # before autoscaling: a single day widens as dates do
        ax.set_ylim(0, max(1, float(np.max(y)) * 1.05))
        ax.set_autoscalex_on(True)
        ax.relim()
        ax.autoscale_view(scaley=False)
        _fix_ticks(ax.xaxis, locator, mdates.ConciseDateFormatter(locator, tz=zone))
        _fix_ticks(ax.yaxis, MaxNLocator(integer=True), ScalarFormatter())
        if self._title_y is not None and ax.yaxis.get_major_formatter().get_offset():
            return TimelineChart(fixed_title=False).show(data, freq=freq, users=users)
        ax.grid(True, alpha=0.3)
        return self._render(key)


class TopValuesChart(_Chart):
    """The most frequent values, as :func:`~statsig_pandas.plotting.plot_value_counts` draws them."""

    def __init__(self) -> None:
        super().__init__()
        self._bars = self.ax.barh(np.arange(BARS), np.zeros(BARS), color="C0")
        self._labels: list = []

    def show(self, counts: pd.Series, *, top: int = BARS) -> bytes:
        """The first ``top`` of ``counts`` (every value's count, most frequent first) as PNG."""
        ax = self.ax
        shown = counts.iloc[:min(top, BARS)]
        key = (len(counts), tuple(shown.index), tuple(shown.to_numpy()))
        if (png := self._unchanged(key)) is not None:
            return png
        for label in self._labels:
            label.remove()
        self._labels = []
        if not len(shown):
            for bar in self._bars:
                bar.set_visible(False)
            self._empty("Most frequent value", "Events", "value")
            return self._render(key)
        of = f"top {len(shown)} of {len(counts)}" if len(counts) > len(shown) else f"{len(counts)}"
        self._set_title(f"Most frequent value ({of} distinct)")
        ax.set_xlabel("Events")
        ax.set_ylabel("value")
        self._note.set_visible(False)
        values = shown.to_numpy()
        for i, bar in enumerate(self._bars):
            bar.set_visible(i < len(values))
            bar.set_width(values[i] if i < len(values) else 0)
        positions = np.arange(len(values))
        ax.set_yticks(positions, [value_label(v) for v in shown.index])
        ax.yaxis.set_inverted(False)
        ax.set_autoscaley_on(True)
        ax.relim(visible_only=True)
        ax.autoscale_view(scalex=False)
        ax.yaxis.set_inverted(True)  # the most frequent on top
        visible = BarContainer(self._bars.patches[:len(values)], datavalues=values, orientation="horizontal")
        self._labels = ax.bar_label(visible, labels=[f"{c:,}" for c in values], padding=3, fontsize="small")
        ax.set_xlim(0, values.max() * 1.15)
        _fix_ticks(ax.xaxis, AutoLocator(), ScalarFormatter())
        ax.grid(True, axis="x", alpha=0.3)
        return self._render(key)
