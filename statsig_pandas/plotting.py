"""Figures of an events frame, drawn with matplotlib from :mod:`~statsig_pandas.analysis` results.

Every function draws into ``ax`` when given (so a figure of several panels, or
the event browser, can place it) or into a new figure, and returns the
``Axes``. Axes are titled and labelled, dates are formatted for the time zone
of the data, and ``""`` values show as ``(empty)``; the default (light)
matplotlib style is assumed, and figures use a constrained layout so nothing
is clipped when exported to a report.

>>> from statsig_pandas import plotting
>>> from statsig_pandas.testing import synthetic_frame
>>> ax = plotting.plot_timeline(synthetic_frame(500, end_ms=1_774_000_000_000), freq="D")
>>> ax.get_title()
'Events per day'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import _options, analysis
from ._chartstyle import bucket_name as _bucket_name
from ._chartstyle import no_data as _no_data
from ._chartstyle import value_label as _label

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_timeline", "plot_value_counts", "plot_activity_heatmap"]

#: Series drawn by name in a timeline; the rest are summed as "(other)".
MAX_SERIES = 10


def _axes(ax: Axes | None, *, figsize: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def plot_timeline(
    df: pd.DataFrame,
    *,
    freq: Any = "h",
    by: str | None = None,
    users: bool = False,
    tz: Any = None,
    start: Any = None,
    end: Any = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Line chart of events (or distinct users) per time bucket.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame of events.
    freq, by, users, tz, start, end
        As for :func:`statsig_pandas.analysis.timeline`. With ``by``, the
        :data:`MAX_SERIES` - 1 busiest groups get a line each and the rest one
        ``(other)`` line (with ``users=True`` that line sums the groups' users).
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.
    title : str, optional
        Replaces the title (default: what is counted per which bucket).

    Returns
    -------
    matplotlib.axes.Axes
        One line per series, x in dates (ticks in ``tz``), y from 0.

    Examples
    --------
    >>> from statsig_pandas.testing import synthetic_frame
    >>> ax = plot_timeline(synthetic_frame(500, end_ms=1_774_000_000_000), freq="D", by="source")
    >>> ax.get_legend().get_title().get_text()
    'source'
    """
    import matplotlib.dates as mdates
    from matplotlib.ticker import MaxNLocator

    data = analysis.timeline(df, freq=freq, by=by, users=users, tz=tz, start=start, end=end)
    ax = _axes(ax, figsize=(9, 4))
    what = "Distinct users" if users else "Events"
    ax.set_title(title if title is not None else f"{what} per {_bucket_name(freq)}" + (f" by {by}" if by else ""))
    ax.set_ylabel(what)
    zone = data.index.tz
    ax.set_xlabel(f"Time ({zone})")
    if by is None:
        columns = {analysis.display_label(data.name): data.to_numpy()}
    else:
        shown = data.iloc[:, : MAX_SERIES - 1] if data.shape[1] > MAX_SERIES else data
        columns = {_label(c): shown[c].to_numpy() for c in shown.columns}
        if data.shape[1] > MAX_SERIES:
            columns[f"(other: {data.shape[1] - shown.shape[1]})"] = data.iloc[:, MAX_SERIES - 1:].sum(axis=1).to_numpy()
    if len(data.index) == 0 or not columns:
        _no_data(ax)
        return ax
    # matplotlib gets naive UTC instants; the locator and formatter show them in the data's zone.
    x = data.index.tz_convert("UTC").tz_localize(None).to_numpy()
    marker = "o" if len(x) <= 48 else None
    for label, y in columns.items():
        ax.plot(x, y, marker=marker, markersize=3, linewidth=1.5, label=label)
    locator = mdates.AutoDateLocator(tz=zone)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=zone))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(bottom=0, top=max(1, max(float(np.max(y)) for y in columns.values()) * 1.05))
    ax.grid(True, alpha=0.3)
    if by is not None:
        ax.legend(title=by, fontsize="small", title_fontsize="small", loc="upper left",
                  bbox_to_anchor=(1.01, 1.0), frameon=False)
    return ax


def plot_value_counts(
    df: pd.DataFrame,
    column: str = "value",
    *,
    top: int = 10,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Horizontal bar chart of the most frequent values of a column, the most frequent on top.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame of events.
    column : str, default "value"
        As for :func:`statsig_pandas.analysis.value_counts`.
    top : int, default 10
        Number of bars.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.
    title : str, optional
        Replaces the title (default: the column and how many values are shown).

    Returns
    -------
    matplotlib.axes.Axes
        One bar per value, labelled with its count; ``""`` as ``(empty)``.

    Examples
    --------
    >>> df = pd.DataFrame({"value": ["books", "", "books"]})
    >>> [t.get_text() for t in plot_value_counts(df).get_yticklabels()]
    ['books', '(empty)']
    """
    every = analysis.value_counts(df, column)
    counts = every.iloc[: _options.positive_int(top, "top", allow_none=False)]
    distinct = len(every)
    ax = _axes(ax, figsize=(7, 0.9 + 0.35 * max(len(counts), 3)))
    shown = f"top {len(counts)} of {distinct}" if distinct > len(counts) else f"{distinct}"
    if title is None:
        title = f"Most frequent {column} ({shown} distinct)" if len(counts) else f"Most frequent {column}"
    ax.set_title(title)
    ax.set_xlabel("Events")
    ax.set_ylabel(column)
    if not len(counts):
        _no_data(ax)
        return ax
    positions = np.arange(len(counts))
    bars = ax.barh(positions, counts.to_numpy(), color="C0")
    ax.set_yticks(positions, [_label(v) for v in counts.index])
    ax.invert_yaxis()  # the most frequent on top
    ax.bar_label(bars, labels=[f"{c:,}" for c in counts.to_numpy()], padding=3, fontsize="small")
    ax.set_xlim(right=counts.max() * 1.15)
    ax.grid(True, axis="x", alpha=0.3)
    return ax


def plot_activity_heatmap(df: pd.DataFrame, *, tz: Any = None, ax: Axes | None = None,
                          title: str | None = None) -> Axes:
    """Heatmap of events by hour of day (x) and day of week (y), in the wall clock of ``tz``.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame of events.
    tz : str or tzinfo, optional
        As for :func:`statsig_pandas.analysis.activity`.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.
    title : str, optional
        Replaces the title (default: names the time zone).

    Returns
    -------
    matplotlib.axes.Axes
        An image of the 7 x 24 counts (``ax.images[0].get_array()``) with a
        colour bar of event counts.

    Examples
    --------
    >>> from statsig_pandas.testing import synthetic_frame
    >>> ax = plot_activity_heatmap(synthetic_frame(500, end_ms=1_774_000_000_000), tz="Europe/Paris")
    >>> ax.images[0].get_array().shape
    (7, 24)
    """
    table = analysis.activity(df, tz=tz)
    zone = analysis.resolve_tz(df, tz)
    ax = _axes(ax, figsize=(9, 3.6))
    image = ax.imshow(table.to_numpy(), aspect="auto", cmap="Blues", interpolation="nearest",
                      vmin=0, vmax=max(1, int(table.to_numpy().max())))
    ax.set_title(title if title is not None else f"Events by hour of day and day of week ({zone})")
    ax.set_xlabel("Hour of day")
    ax.set_ylabel("Day of week")
    ax.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
    ax.set_yticks(range(7), list(table.index))
    colorbar = ax.figure.colorbar(image, ax=ax, pad=0.01)
    colorbar.set_label("Events")
    if not table.to_numpy().any():
        _no_data(ax)
    return ax
