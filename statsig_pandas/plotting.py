"""Figures of an events frame, drawn with matplotlib from :mod:`~statsig_pandas.analysis` results.

Every function draws into ``ax`` when given (so a figure of several panels, or
the event browser, can place it) or into a new figure, and returns the
``Axes``. Axes are titled and labelled, dates are formatted for the time zone
of the data, and ``""`` values show as ``(empty)``; the default (light)
matplotlib style is assumed, and figures use a constrained layout so nothing
is clipped when exported to a report.

>>> from statsig_pandas import plotting
>>> from statsig_pandas.testing.synthetic import synthetic_frame
>>> ax = plotting.plot_timeline(synthetic_frame(500, end_ms=1_774_000_000_000), freq="D")
>>> ax.get_title()
'Events per day'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import _options, _sankey, _steps, analysis, engagement, journeys
from .errors import StatsigError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_timeline", "plot_value_counts", "plot_activity_heatmap", "plot_lifecycle", "plot_stickiness",
           "plot_paths"]

#: Series drawn by name in a timeline; the rest are summed as "(other)".
MAX_SERIES = 10
_LABEL_CHARS = 40
_FREQ_NAMES = {"s": "second", "min": "minute", "h": "hour", "D": "day", "W": "week", "MS": "month",
               "ME": "month", "M": "month", "QS": "quarter", "QE": "quarter", "YS": "year", "YE": "year"}


def _axes(ax: Axes | None, *, figsize: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _short(label: str) -> str:
    return label if len(label) <= _LABEL_CHARS else label[: _LABEL_CHARS - 1] + "\u2026"


def _label(value: Any) -> str:
    return _short(analysis.display_label(value))


def _bucket_name(freq: Any) -> str:
    text = freq if isinstance(freq, str) else getattr(freq, "freqstr", str(freq))
    return _FREQ_NAMES.get(text) or _FREQ_NAMES.get(text.split("-")[0]) or f"{text} bucket"


def _no_data(ax: Axes) -> None:
    ax.text(0.5, 0.5, "No events", transform=ax.transAxes, ha="center", va="center", color="0.4")


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
    >>> from statsig_pandas.testing.synthetic import synthetic_frame
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
    >>> from statsig_pandas.testing.synthetic import synthetic_frame
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


# ---------------------------------------------------------------- engagement and journeys

_LIFECYCLE_COLOURS = {"new": "#1f5fa8", "returning": "#5b9bd5", "resurrecting": "#a9cbea", "dormant": "#c0392b"}


def _bucket_labels(index: pd.DatetimeIndex) -> list[str]:
    timed = len(index) and (index.hour != 0).any() or (index.minute != 0).any()
    return list(index.strftime("%Y-%m-%d %H:%M" if timed else "%Y-%m-%d"))


def plot_lifecycle(df: pd.DataFrame, *, freq: Any = "W", event: Any = None, tz: Any = None, unit: str = "userID",
                   ax: Axes | None = None, title: str | None = None) -> Axes:
    """Stacked bars of new, returning and resurrecting units per bucket, dormant below zero.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame of events.
    freq, event, tz, unit
        As for :func:`statsig_pandas.engagement.lifecycle` (the frame's first
        bucket is a warm-up and is not drawn).
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.
    title : str, optional
        Replaces the title.

    Returns
    -------
    matplotlib.axes.Axes
        One bar container per status (``ax.containers``), in the order new,
        returning, resurrecting, dormant; x ticks labelled with bucket starts.

    Examples
    --------
    >>> from statsig_pandas.testing.synthetic import synthetic_frame
    >>> ax = plot_lifecycle(synthetic_frame(2_000, end_ms=1_774_000_000_000, span_ms=20 * 86_400_000))
    >>> [c.get_label() for c in ax.containers]
    ['new', 'returning', 'resurrecting', 'dormant']
    """
    from matplotlib.ticker import MaxNLocator

    data = engagement.lifecycle(df, freq=freq, event=event, tz=tz, unit=unit)
    ax = _axes(ax, figsize=(9, 4.5))
    ax.set_title(title if title is not None else f"Lifecycle of {unit} per {_bucket_name(freq)}")
    ax.set_ylabel("Units (dormant below zero)")
    ax.set_xlabel(f"{_bucket_name(freq).capitalize()} starting ({data.index.tz})")
    if not len(data):
        _no_data(ax)
        return ax
    x = np.arange(len(data))
    bottom = np.zeros(len(data))
    for status in ("new", "returning", "resurrecting", "dormant"):
        values = data[status].to_numpy()
        base = np.zeros(len(data)) if status == "dormant" else bottom
        ax.bar(x, values, bottom=base, color=_LIFECYCLE_COLOURS[status], label=status, width=0.8)
        if status != "dormant":
            bottom = bottom + values
    ax.axhline(0, color="0.2", linewidth=0.8)
    every = max(1, len(x) // 12)
    ax.set_xticks(x[::every], _bucket_labels(data.index)[::every], rotation=30, ha="right")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return ax


def plot_stickiness(df: pd.DataFrame, *, freq: Any = "D", per: Any = "W", event: Any = None,
                    cumulative: bool = False, tz: Any = None, unit: str = "userID", ax: Axes | None = None,
                    title: str | None = None) -> Axes:
    """Bars of unit-periods by number of active buckets, labelled "1 day", "2 days", ...

    Parameters
    ----------
    df : pandas.DataFrame
        A frame of events.
    freq, per, event, cumulative, tz, unit
        As for :func:`statsig_pandas.engagement.stickiness`; with
        ``cumulative`` the bars read "1 day or more", ...
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.
    title : str, optional
        Replaces the title.

    Returns
    -------
    matplotlib.axes.Axes
        One bar per number of active buckets, each labelled with its share.

    Examples
    --------
    >>> from statsig_pandas.testing.synthetic import synthetic_frame
    >>> ax = plot_stickiness(synthetic_frame(2_000, end_ms=1_774_000_000_000, span_ms=20 * 86_400_000))
    >>> [t.get_text() for t in ax.get_xticklabels()][:3]
    ['1 day', '2 days', '3 days']
    """
    data = engagement.stickiness(df, freq=freq, per=per, event=event, cumulative=cumulative, tz=tz, unit=unit)
    bucket, period = _bucket_name(freq), _bucket_name(per)
    ax = _axes(ax, figsize=(8, 4))
    ax.set_title(title if title is not None else
                 f"Active {bucket}s per {period} ({data.attrs.get('periods', 0)} complete {period}s)")
    ax.set_ylabel(f"{unit} x {period}")
    ax.set_xlabel(f"Active {bucket}s in the {period}")
    if not len(data):
        _no_data(ax)
        return ax
    names = [f"{k} {bucket}{'' if k == 1 else 's'}" + (" or more" if cumulative else "") for k in data.index]
    x = np.arange(len(data))
    bars = ax.bar(x, data["units"].to_numpy(), color="C0")
    ax.bar_label(bars, labels=[f"{s:.0%}" for s in data["share"]], padding=2, fontsize="small")
    ax.set_xticks(x, names, rotation=30 if len(x) > 8 else 0, ha="right" if len(x) > 8 else "center")
    ax.set_ylim(top=max(1, int(data["units"].max())) * 1.12)
    ax.grid(True, axis="y", alpha=0.3)
    return ax


def plot_paths(df: pd.DataFrame, *, start: Any = None, end: Any = None, steps: int = 5, gap: Any = "30min",
               collapse_repeats: bool = True, top: int | None = 50, unit: str = "userID", min_share: float = 0.02,
               ax: Axes | None = None, title: str | None = None) -> Axes:
    """Sankey diagram of the paths: one column per step, nodes sized by count, ribbons between them.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame of events.
    start, end, steps, gap, collapse_repeats, top, unit
        As for :func:`statsig_pandas.journeys.paths`.
    min_share : float, default 0.02
        Nodes holding less than this share of their column are folded into
        one ``Others`` node (0 keeps every node).
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.
    title : str, optional
        Replaces the title.

    Returns
    -------
    matplotlib.axes.Axes
        Nodes as rectangles labelled "item (n)" and ribbons as Bézier
        ``PathPatch`` es, one per edge (after folding).

    Examples
    --------
    >>> from statsig_pandas.testing.synthetic import synthetic_frame
    >>> ax = plot_paths(synthetic_frame(2_000, end_ms=1_774_000_000_000), steps=3)
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['Step 1', 'Step 2', 'Step 3']
    """
    if isinstance(min_share, bool) or not isinstance(min_share, (int, float)) or not 0 <= min_share < 1:
        raise StatsigError(f"min_share must be a number from 0 up to (not including) 1, not {min_share!r}")
    edges = journeys.paths(df, start=start, end=end, steps=steps, gap=gap, collapse_repeats=collapse_repeats,
                           top=top, unit=unit)
    ax = _axes(ax, figsize=(10, 5.5))
    anchor = "".join(f" {what} {_short(_steps.as_step(spec, what).label)}" for what, spec in
                     (("from", start), ("to", end)) if spec is not None)
    ax.set_title(title if title is not None else f"Paths{anchor} ({int(edges['value'].sum()):,} moves shown)")
    if not len(edges):
        _no_data(ax)
        return ax
    _sankey.draw(ax, _sankey.fold_small(edges, min_share), label=_label)
    return ax
