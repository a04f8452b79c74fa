"""The plots: what they draw (data, labels, titles) on the Agg backend."""

from __future__ import annotations

import io

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import statsig_pandas  # noqa: F401  (registers df.statsig)
from statsig_pandas import analysis, plotting
from statsig_pandas._chartstyle import LABEL_CHARS
from statsig_pandas.frame import empty_frame
from statsig_pandas.testing.synthetic import synthetic_frame

END_MS = 1_775_000_000_000
PARIS = "Europe/Paris"


@pytest.fixture(scope="module")
def events():
    return synthetic_frame(2000, seed=5, end_ms=END_MS, span_ms=6 * 86_400_000, users=100)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def line_data(ax) -> dict[str, np.ndarray]:
    return {line.get_label(): np.asarray(line.get_ydata()) for line in ax.get_lines()}


def test_timeline_plot_draws_the_timeline(events):
    ax = events.statsig.plot_timeline("D", tz=PARIS)
    expected = analysis.timeline(events, freq="D", tz=PARIS)
    [y] = line_data(ax).values()
    np.testing.assert_array_equal(y, expected.to_numpy())
    x = mdates.num2date(ax.get_lines()[0].get_xdata(orig=False))
    assert [pd.Timestamp(t) for t in x] == list(expected.index.tz_convert("UTC"))
    assert ax.get_title() == "Events per day"
    assert ax.get_ylabel() == "Events" and ax.get_xlabel() == f"Time ({PARIS})"
    assert isinstance(ax.xaxis.get_major_formatter(), mdates.ConciseDateFormatter)
    assert ax.get_ylim()[0] == 0


def test_timeline_plot_by_group_with_users(events):
    ax = events.statsig.plot_timeline("D", by="value", users=True)
    expected = analysis.timeline(events, freq="D", by="value", users=True)
    lines = line_data(ax)
    assert ax.get_title() == "Distinct users per day by value" and ax.get_ylabel() == "Distinct users"
    assert ax.get_legend().get_title().get_text() == "value"
    # Amounts make many values: the nine busiest get a line, the rest one "(other)" line.
    assert len(lines) == plotting.MAX_SERIES
    shown = [analysis.display_label(v) for v in expected.columns[: plotting.MAX_SERIES - 1]]
    assert list(lines)[:-1] == shown and "(empty)" in shown
    for column, label in zip(expected.columns, shown):
        np.testing.assert_array_equal(lines[label], expected[column].to_numpy())
    other = list(lines)[-1]
    assert other.startswith("(other: ")
    np.testing.assert_array_equal(lines[other], expected.iloc[:, plotting.MAX_SERIES - 1:].sum(axis=1).to_numpy())


def test_plots_draw_into_a_given_axes(events):
    fig, (left, middle, right) = plt.subplots(1, 3)
    assert events.statsig.plot_timeline("h", ax=left) is left
    assert events.statsig.plot_value_counts(ax=middle) is middle
    assert events.statsig.plot_activity_heatmap(ax=right) is right
    assert len(fig.axes) == 4  # and the heatmap's colour bar
    assert events.statsig.plot_timeline("h", ax=left, title="Checkout").get_title() == "Checkout"


def test_value_counts_plot(make_events):
    df = make_events([("2026-03-01", "e", "s", v, "1") for v in ["", "", "", "books", "books", "toys"] + ["x" * 60]])
    ax = df.statsig.plot_value_counts(top=3)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["(empty)", "books", "toys"]
    assert [bar.get_width() for bar in ax.patches] == [3, 2, 1]
    assert ax.get_title() == "Most frequent value (top 3 of 4 distinct)"
    assert ax.get_xlabel() == "Events" and ax.get_ylabel() == "value"
    assert ax.yaxis_inverted(), "the most frequent on top"
    assert [t.get_text() for t in ax.texts] == ["3", "2", "1"]
    long = df.statsig.plot_value_counts(top=10)
    assert max(len(t.get_text()) for t in long.get_yticklabels()) == LABEL_CHARS


def test_value_counts_plot_of_a_source_column(events):
    ax = plotting.plot_value_counts(events, "source", top=10)
    expected = analysis.value_counts(events, "source")
    assert [t.get_text() for t in ax.get_yticklabels()] == list(expected.index)
    assert [bar.get_width() for bar in ax.patches] == expected.tolist()
    assert ax.get_title() == "Most frequent source (5 distinct)"


def test_activity_heatmap(events):
    ax = events.statsig.plot_activity_heatmap(tz=PARIS)
    expected = analysis.activity(events, tz=PARIS)
    np.testing.assert_array_equal(ax.images[0].get_array(), expected.to_numpy())
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert ax.get_xlabel() == "Hour of day" and ax.get_ylabel() == "Day of week"
    assert PARIS in ax.get_title()
    colorbar = ax.images[0].colorbar
    assert colorbar.ax.get_ylabel() == "Events"


def test_plots_of_an_empty_frame_say_so():
    frame = empty_frame()
    for ax in (frame.statsig.plot_timeline(), frame.statsig.plot_value_counts()):
        assert [t.get_text() for t in ax.texts] == ["No events"]
        assert not ax.get_lines() and not ax.patches
    heat = frame.statsig.plot_activity_heatmap()
    assert not heat.images[0].get_array().any() and "No events" in [t.get_text() for t in heat.texts]


def test_plots_export_to_png(events):
    ax = events.statsig.plot_timeline("h", by="source")
    buffer = io.BytesIO()
    ax.figure.savefig(buffer, format="png")
    assert buffer.getvalue().startswith(b"\x89PNG")
