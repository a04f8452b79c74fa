"""The browser's two charts, each one figure for the browser's life, updated in place and rendered to PNG.

Drawing a chart from scratch builds a figure, an Axes with its ticks, the
artists and their text layouts, then lays it out (constrained: two passes
measuring every text) before drawing; on a filter change that was most of a
redraw. Here each chart keeps its figure, canvas and artists: an update sets
line data, bar widths, limits, tick labels and titles, then draws once, at
the position the last layout gave the Axes, with text its canvas
(:mod:`~statsig_pandas.browser._agg`) shapes and rasterises once per string.
The canvas notes where every string fell; while they keep the blank margins
that the layout left (give or take a few pixels) the chart stands, otherwise
the sides of the Axes move by what their margins are off and it is drawn
again (laid out again when moving cannot place the text). The result reads
as :func:`~statsig_pandas.plotting.plot_timeline` and
:func:`~statsig_pandas.plotting.plot_value_counts` draw the same data: the
same title, labels, ticks, limits and data, no text clipped (the tests
compare them with :func:`appearance` and :func:`drawn_texts`).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.ticker import AutoLocator, FixedFormatter, FixedLocator, MaxNLocator, ScalarFormatter
from PIL import Image

from .._chartstyle import bucket_name, no_data, value_label
from ._agg import TextCachingCanvas

FIGSIZE = (5.4, 3.0)
DPI = 80
# As many bars as the browser shows; fewer values hide the rest.
BARS = 10
# How many pixels a side's blank margin may lose (rounding) or gain (about one digit of a tick
# label) against the last layout's before the chart is laid out again.
MARGIN_LOST, MARGIN_GAINED = 1.0, 8.0
# Moves at most per draw (the bar labels move less than the side they are next to) before a layout.
MOVES = 2


# (axis, locator, formatter): where an axis' ticks come from, made again when the Axes' length changes.
Tickers = list[tuple[Any, Any, Any]]


def _new_figure() -> tuple[Figure, FigureCanvasAgg]:
    # A bare Figure, not pyplot: no global state, no backend, nothing shown
    # twice. Constrained, as the plotting module's own figures: no label clipped.
    figure = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    return figure, FigureCanvasAgg(figure)


def png(draw: Callable[[Any], None]) -> bytes:
    """What ``draw(ax)`` draws into a new browser-sized figure, as PNG (the analysis views' charts, which
    are computed afresh for each result rather than updated in place)."""
    return from_scratch(draw)[1]


def from_scratch(draw: Callable[[Any], None]) -> tuple[Any, bytes]:
    """What ``draw(ax)`` draws into a new browser-sized figure with matplotlib's own canvas: the Axes,
    as drawn, and the PNG. A chart drawn from scratch, the reference the in-place charts are checked
    against (see :func:`appearance`)."""
    figure, canvas = _new_figure()
    ax = figure.add_subplot()
    draw(ax)
    buf = io.BytesIO()
    canvas.print_png(buf, pil_kwargs={"compress_level": 1})
    return ax, buf.getvalue()


def _ticks_seen(axis) -> tuple[list[tuple[float, str]], str]:
    """The ticks an axis draws (those within its limits) with their labels, and its offset label."""
    locations = axis.get_majorticklocs()
    formatter = axis.get_major_formatter()
    labels = formatter.format_ticks(locations)
    low, high = sorted(axis.get_view_interval())
    inside = np.isclose(locations, np.clip(locations, low, high), rtol=1e-10, atol=0)
    return [(float(x), label) for x, label, shown in zip(locations, labels, inside) if shown], formatter.get_offset()


def appearance(ax) -> dict[str, Any]:
    """What a reader sees of a drawn chart: titles, limits, ticks and their labels, the lines and
    bars with their labels, and the notes; two charts with the same appearance read the same."""
    ticks = {axis.axis_name: _ticks_seen(axis) for axis in (ax.xaxis, ax.yaxis)}
    return {
        "title": ax.get_title(), "xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel(),
        "xlim": tuple(float(v) for v in ax.get_xlim()), "ylim": tuple(float(v) for v in ax.get_ylim()),
        "xticks": ticks["x"], "yticks": ticks["y"],
        "grid": tuple(bool(axis.get_major_ticks()[0].gridline.get_visible()) for axis in (ax.xaxis, ax.yaxis)),
        "lines": [(line.get_xydata().tolist(), line.get_marker() not in (None, "None", "", " "))
                  for line in ax.get_lines() if line.get_visible()],
        "bars": [(p.get_y(), p.get_width(), p.get_height()) for p in ax.patches if p.get_visible()],
        "texts": sorted((t.get_text(), tuple(np.round(getattr(t, "xy", t.get_position()), 10)))
                        for t in ax.texts if t.get_visible()),
    }


def drawn_texts(ax) -> list:
    """The Text artists a draw of ``ax`` puts on the figure (tick labels within the limits)."""
    texts = [ax.title, ax.xaxis.label, ax.yaxis.label, ax.xaxis.offsetText, ax.yaxis.offsetText, *ax.texts]
    for axis in (ax.xaxis, ax.yaxis):
        low, high = sorted(axis.get_view_interval())
        texts += [tick.label1 for tick in axis.get_major_ticks(len(axis.get_majorticklocs()))
                  if np.isclose(tick.get_loc(), np.clip(tick.get_loc(), low, high), rtol=1e-10, atol=0)]
    return [text for text in texts if text.get_visible() and text.get_text()]


def _encode(canvas: FigureCanvasAgg) -> bytes:
    """The canvas as last drawn, as PNG: opaque (the figure is), quickly compressed (small images)."""
    buf = io.BytesIO()
    image = Image.frombuffer("RGBA", canvas.get_width_height(physical=True), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    image.convert("RGB").save(buf, format="png", compress_level=1)
    return buf.getvalue()


def _fix_ticks(axis, locator, formatter) -> None:
    """Give ``axis`` the ticks and labels ``locator`` and ``formatter`` make for its current limits
    and length, computed once: a draw asks for them several times (tick, label and title placement)."""
    axis.set_major_locator(locator)
    axis.set_major_formatter(formatter)
    locations = axis.get_majorticklocs()
    labels = FixedFormatter(formatter.format_ticks(locations))
    labels.set_offset_string(formatter.get_offset())
    axis.set_major_locator(FixedLocator(locations))
    axis.set_major_formatter(labels)


def _ticks(*tickers: tuple[Any, Any, Any]) -> Tickers:
    """Fix each axis' ticks (see :func:`_fix_ticks`); the tickers, for a layout to make them again."""
    for ticker in tickers:
        _fix_ticks(*ticker)
    return list(tickers)


class _Chart:
    """A figure with one Axes, kept; subclasses set its artists, :meth:`_render` draws it.

    The title is placed where matplotlib places it when nothing is above the
    Axes (``y=1``), instead of being placed anew at each draw;
    :class:`TimelineChart` hands the rare chart whose y-axis offset label
    ("1e6") could push it up to a chart of its own that places it.
    """

    def __init__(self, *, fixed_title: bool = True) -> None:
        # No layout engine: :meth:`_layout` runs one when the text no longer fits.
        self.figure = Figure(figsize=FIGSIZE, dpi=DPI)
        self.canvas = TextCachingCanvas(self.figure)
        self.ax = self.figure.add_subplot()
        self._note = no_data(self.ax)
        self._title_y = 1.0 if fixed_title else None
        self._last: tuple[Any, bytes] | None = None  # what was rendered last, and its PNG
        self._margins: np.ndarray | None = None  # blank pixels left, bottom, right, top after the last layout
        self.layouts = self.moves = 0  # counted for the tests
        self._shown: _Chart = self  # the chart that drew the last PNG
        self._grid_set: tuple | None = None

    def _grid(self, visible: bool, **kwargs: Any) -> None:
        # Setting the grid restyles every tick: only when it changes.
        if self._grid_set != (visible, kwargs):
            self.ax.grid(visible, **kwargs)
            self._grid_set = (visible, kwargs)

    def _set_title(self, title: str) -> None:
        self.ax.set_title(title, y=self._title_y)

    def _empty(self, title: str, xlabel: str, ylabel: str) -> Tickers:
        """The Axes as the plotting functions leave it when there is nothing to draw; its tickers."""
        ax = self.ax
        self._note.set_visible(True)
        self._set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.yaxis.set_inverted(False)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        self._grid(False)
        return _ticks((ax.xaxis, AutoLocator(), ScalarFormatter()), (ax.yaxis, AutoLocator(), ScalarFormatter()))

    def showing(self) -> tuple[Any, bytes | None]:
        """The Axes the last PNG is a picture of, and that PNG."""
        chart = self._shown
        return chart.ax, chart._last[1] if chart._last is not None else None

    def _unchanged(self, key: Any) -> bytes | None:
        """The PNG of the last render if it showed ``key`` too."""
        if self._last is None or self._last[0] != key:
            return None
        self._shown = self
        return self._last[1]

    def _layout(self, tickers: Tickers) -> None:
        """Lay the figure out as a new constrained one is (from the subplot's own position, ticks made
        for the Axes' length at each step), draw it, and keep the blank margins it leaves."""
        self.ax.set_subplotspec(self.ax.get_subplotspec())
        self.ax.set_in_layout(True)  # set_position in a move took it out
        for axis, locator, formatter in tickers:
            axis.set_major_locator(locator)
            axis.set_major_formatter(formatter)
        ConstrainedLayoutEngine().execute(self.figure)
        _ticks(*tickers)
        self.layouts += 1
        self.canvas.draw()
        self._margins = self._blank()

    def _blank(self) -> np.ndarray:
        """The blank pixels left, below, right of and above everything the last draw drew."""
        renderer = self.canvas.renderer
        width, height = renderer.width, renderer.height
        box = self.ax.bbox
        x0, y0, x1, y1 = box.x0, height - box.y1, box.x1, height - box.y0  # y down, as the text boxes
        for bx0, by0, bx1, by1 in renderer.text_boxes:
            x0, y0, x1, y1 = min(x0, bx0), min(y0, by0), max(x1, bx1), max(y1, by1)
        return np.array([x0, height - y1, width - x1, y0])

    def _render(self, key: Any, tickers: Tickers) -> bytes:
        """Draw at the last position, the Axes moved if the text left its margins; as PNG.

        Moves that do not bring every margin back (a title wider than the Axes it is centred on
        moves half as far as the side moved) give way to a layout, as does any change after a
        layout that left text outside the figure: the chart is then placed as matplotlib places it.
        """
        if self._margins is None:
            self._layout(tickers)
        else:
            self.canvas.draw()
            for moved in range(MOVES + 1):
                off = self._blank() - self._margins
                if np.all((off >= -MARGIN_LOST) & (off <= MARGIN_GAINED)):
                    break
                if moved == MOVES or np.any(self._margins < 0) or not self._move(off, tickers):
                    self._layout(tickers)
                    break
                self.canvas.draw()
        png = _encode(self.canvas)
        self._last, self._shown = (key, png), self
        return png

    def _move(self, off: np.ndarray, tickers: Tickers) -> bool:
        """Move each side of the Axes by what its margin is off (pixels: left, bottom, right, top),
        as a layout would: the text beside a side moves with it. False, unmoved, if the Axes would
        shrink to less than a tenth of the figure (a layout says what to do with text that wide)."""
        width, height = self.canvas.get_width_height(physical=True)
        pos = self.ax.get_position()
        x0, y0 = pos.x0 - off[0] / width, pos.y0 - off[1] / height
        x1, y1 = pos.x1 + off[2] / width, pos.y1 + off[3] / height
        if x1 - x0 < 0.1 or y1 - y0 < 0.1:
            return False
        self.ax.set_position((x0, y0, x1 - x0, y1 - y0))
        self.moves += 1
        _ticks(*tickers)  # for the new length
        return True


class TimelineChart(_Chart):
    """Events (or distinct users) per bucket, as :func:`~statsig_pandas.plotting.plot_timeline` draws them."""

    def __init__(self, *, fixed_title: bool = True) -> None:
        super().__init__(fixed_title=fixed_title)
        (self._line,) = self.ax.plot([], [], markersize=3, linewidth=1.5)
        self._placed_title: TimelineChart | None = None  # draws the charts with an offset label

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
            return self._render(key, self._empty(title, xlabel, what))
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
        tickers = _ticks((ax.xaxis, locator, mdates.ConciseDateFormatter(locator, tz=zone)),
                         (ax.yaxis, MaxNLocator(integer=True), ScalarFormatter()))
        if self._title_y is not None and ax.yaxis.get_major_formatter().get_offset():
            if self._placed_title is None:
                self._placed_title = TimelineChart(fixed_title=False)
            self._shown = self._placed_title
            return self._placed_title.show(data, freq=freq, users=users)
        self._grid(True, alpha=0.3)
        return self._render(key, tickers)


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
            return self._render(key, self._empty("Most frequent value", "Events", "value"))
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
        tickers = _ticks((ax.xaxis, AutoLocator(), ScalarFormatter()))
        self._grid(True, axis="x", alpha=0.3)
        return self._render(key, tickers)
