"""The browser's in-place charts and their canvas: text drawn as Agg draws it, the layout kept while it fits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from statsig_pandas import plotting
from statsig_pandas.browser import _agg
from statsig_pandas.browser._charts import (
    MARGIN_GAINED,
    TimelineChart,
    TopValuesChart,
    appearance,
    drawn_texts,
    from_scratch,
)


def _figure(canvas_class, layout="constrained") -> Figure:
    figure = Figure(figsize=(5.4, 3.0), dpi=80, layout=layout)
    canvas_class(figure)
    ax = figure.add_subplot()
    ax.plot([0, 1, 2], [3, 1, 2])
    ax.set_title("Events per hour")
    ax.set_xlabel("Time (Europe/Paris)")
    ax.set_ylabel("Distinct users")
    ax.set_xticks([0, 1, 2], ["Sep-22", "12:00", "Sep-23"])
    ax.text(1, 2, "$x^2$ and (empty)")  # mathtext: the stock drawing
    return figure


def _pixels(figure) -> np.ndarray:
    figure.canvas.draw()
    return np.asarray(figure.canvas.buffer_rgba()).astype(int)


def test_the_canvas_draws_text_as_agg_does_and_notes_where():
    ours, stock = _figure(_agg.TextCachingCanvas), _figure(FigureCanvasAgg)
    mine, theirs = _pixels(ours), _pixels(stock)
    assert mine.shape == theirs.shape
    # The same picture; glyphs differ only by where a string's origin is rounded to (a fraction of a pixel).
    assert np.abs(mine - theirs).mean() < 1
    assert ((mine != theirs).any(axis=-1)).mean() < 0.03
    renderer = ours.canvas.get_renderer()
    texts = drawn_texts(ours.axes[0])
    assert len(renderer.text_boxes) == len(texts) == 12  # title, 2 labels, the note, 3 + 5 tick labels
    height = renderer.height
    # Each ink box lies in the box matplotlib gives its text (y up there), give or take the origin's
    # rounding and a glyph's overhang.
    extents = [text.get_window_extent(renderer).padded(1.5) for text in texts]
    for x0, y0, x1, y1 in renderer.text_boxes:
        assert any(e.x0 <= x0 and x1 <= e.x1 and e.y0 <= height - y1 and height - y0 <= e.y1
                   for e in extents), (x0, y0, x1, y1)


def test_a_string_is_shaped_and_rasterised_once(monkeypatch):
    if not _agg.GLYPH_RUNS:
        pytest.skip("this matplotlib draws a string as one bitmap")
    figure = _figure(_agg.TextCachingCanvas, layout=None)  # each draw at the same place
    calls = []
    real = _agg.TextCachingRenderer._rasterise
    monkeypatch.setattr(_agg.TextCachingRenderer, "_rasterise", lambda self, *a: calls.append(a[0]) or real(self, *a))
    first = _pixels(figure)
    assert "Events per hour" in calls and "$x^2$ and (empty)" not in calls
    calls.clear()
    figure.axes[0].set_title("Distinct users per hour")
    second = _pixels(figure)
    assert calls == ["Distinct users per hour"]  # every other string drawn from what was kept
    figure.axes[0].set_title("Events per hour")
    assert np.array_equal(_pixels(figure), first) and not np.array_equal(second, first)


def _counts(labels: list[str]) -> pd.Series:
    return pd.Series(np.arange(len(labels), 0, -1) * 7, index=labels)


def _reference(counts: pd.Series):
    frame = pd.DataFrame({"value": np.repeat(counts.index, counts.to_numpy())})
    return from_scratch(lambda ax: plotting.plot_value_counts(frame, top=10, ax=ax))[0]


def _left(ax) -> float:
    return ax.get_position().x0 * ax.figure.canvas.get_width_height()[0]


def _assert_fits(ax) -> None:
    renderer = ax.figure.canvas.get_renderer()
    width, height = ax.figure.canvas.get_width_height()
    for text in drawn_texts(ax):
        box = text.get_window_extent(renderer)
        assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= width and box.y1 <= height, text.get_text()


def _shows_as_from_scratch(chart, counts: pd.Series) -> tuple[float, float]:
    """Show ``counts``; the chart reads as plot_value_counts' chart. The Axes' left edges (pixels)."""
    chart.show(counts)
    ax, _ = chart.showing()
    reference = _reference(counts)
    assert appearance(ax) == appearance(reference)
    return _left(ax), _left(reference)


def test_a_chart_makes_room_for_longer_labels_and_gives_it_back():
    chart = TopValuesChart()
    short, long = _counts(["a", "b", "c"]), _counts(["a value of twenty-five ch", "a longer value", "c"])
    lefts = []
    for counts in (short, long, short):
        lefts.append(_shows_as_from_scratch(chart, counts))
        _assert_fits(chart.showing()[0])
    assert chart.layouts == 1 and chart.moves >= 2  # laid out once, then moved
    assert lefts[1][0] > lefts[0][0] + 100  # room for the long labels
    for ours, theirs in lefts:  # never much more blank than a layout from scratch leaves
        assert abs(ours - theirs) <= MARGIN_GAINED + 1


def test_a_title_wider_than_its_room_is_placed_as_matplotlib_places_it():
    # Labels of 40 characters leave the centred title no room to its right, from scratch too:
    # moving the Axes' sides cannot help, the chart is laid out as the plotting function's.
    chart = TopValuesChart()
    short, long = _counts(["a", "b", "c"]), _counts(["x" * 39 + "…", "a much longer value than before", "c"])
    _shows_as_from_scratch(chart, short)
    ours, theirs = _shows_as_from_scratch(chart, long)
    assert chart.layouts == 2 and ours == pytest.approx(theirs, abs=0.5)
    ours, theirs = _shows_as_from_scratch(chart, short)  # and back, text inside again
    assert chart.layouts == 3 and abs(ours - theirs) <= MARGIN_GAINED + 1
    _assert_fits(chart.showing()[0])


def test_a_timeline_keeps_its_labels_inside_as_its_counts_grow_and_shrink():
    chart = TimelineChart()
    index = pd.date_range("2026-09-22", periods=30, freq="h", tz="UTC")
    for peak in (7, 90_000, 12, 999_999):
        data = pd.Series(np.linspace(1, peak, len(index)).round().astype("int64"), index=index)
        chart.show(data, freq="h", users=False)
        ax, _ = chart.showing()
        frame = pd.DataFrame({"timestamp": np.repeat(index, data.to_numpy()), "name": "e", "userID": "u",
                              "value": "", "source": "s"}) if peak < 100 else None
        if frame is not None:  # the plotting function counts rows: only for a frame small enough to build
            reference = from_scratch(lambda ax, frame=frame: plotting.plot_timeline(frame, freq="h", ax=ax))[0]
            assert appearance(ax) == appearance(reference)
        ticks, offset = appearance(ax)["yticks"]
        assert ticks[-1][0] >= peak * 0.8 and offset == ""
        _assert_fits(ax)
    assert chart.layouts == 1
