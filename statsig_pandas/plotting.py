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

from . import _options, _sankey, _steps, analysis, engagement, journeys
from ._chartstyle import bucket_name as _bucket_name
from ._chartstyle import no_data as _no_data
from ._chartstyle import short_label as _short
from ._chartstyle import value_label as _label
from .errors import StatsigError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_timeline", "plot_value_counts", "plot_activity_heatmap", "plot_funnel", "plot_funnel_trend",
           "plot_retention", "plot_retention_curve", "plot_lifecycle", "plot_stickiness", "plot_paths"]

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
    freq: Any = "h",
    *,
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


# ---------------------------------------------------------------- funnels and retention


def _percent_axis(axis: Any) -> None:
    from matplotlib.ticker import PercentFormatter

    axis.set_major_formatter(PercentFormatter(1.0, decimals=0))


def _duration(delta: Any) -> str:
    """A time between steps, short: 45s, 12m, 3.5h, 2.1d."""
    if pd.isna(delta):
        return ""
    seconds = pd.Timedelta(delta).total_seconds()
    for size, suffix in ((86_400, "d"), (3_600, "h"), (60, "m")):
        if seconds >= size:
            value = seconds / size
            return f"{value:.1f}{suffix}" if value < 10 else f"{value:.0f}{suffix}"
    return f"{seconds:.0f}s"


def _window(within: Any) -> str:
    return within if isinstance(within, str) else _duration(pd.Timedelta(within))


def plot_funnel(
    df: pd.DataFrame,
    steps: Any,
    *,
    within: Any = "14D",
    order: str = "ordered",
    reentry: bool = True,
    by: str | None = None,
    top: int = 10,
    exclude: Any = None,
    start: Any = None,
    end: Any = None,
    unit: str = "userID",
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Bars per step: the converted share solid, the drop-off a faint hatched backdrop behind it.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame of events.
    steps, within, order, reentry, by, top, exclude, start, end, unit
        As for :func:`statsig_pandas.funnels.funnel`. With ``by``, one bar
        per group within each step, side by side, one colour per group.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.
    title : str, optional
        Replaces the title (default: the order and the window).

    Returns
    -------
    matplotlib.axes.Axes
        y from 0 to 100 % of the first step. Each bar is labelled with its
        units and conversion; under each step its name, the units dropped
        since the previous step and the median time from it.

    Examples
    --------
    >>> from statsig_pandas.testing.synthetic import synthetic_frame
    >>> df = synthetic_frame(2_000, end_ms=1_774_000_000_000)
    >>> ax = plot_funnel(df, ["page_view", "add_to_cart", "purchase"], within="1D")
    >>> len(ax.patches)  # a backdrop and a bar per step
    6
    """
    from . import funnels

    table = funnels.funnel(df, steps, within=within, order=order, reentry=reentry, by=by, top=top,
                           exclude=exclude, start=start, end=end, unit=unit)
    return draw_funnel(table, within=within, order=order, by=by, ax=ax, title=title)


def draw_funnel(table: pd.DataFrame, *, within: Any = "14D", order: str = "ordered", by: str | None = None,
                ax: Axes | None = None, title: str | None = None) -> Axes:
    """Draw a table of :func:`statsig_pandas.funnels.funnel` as :func:`plot_funnel` does (no computing).

    ``within``, ``order`` and ``by`` are those the table was computed with
    (for the title and the legend).

    Examples
    --------
    >>> from statsig_pandas import funnels
    >>> from statsig_pandas.testing.synthetic import synthetic_frame
    >>> table = funnels.funnel(synthetic_frame(2_000, end_ms=1_774_000_000_000), ["page_view", "purchase"])
    >>> len(draw_funnel(table).patches)
    4
    """
    groups = [(None, table)] if by is None else [(g, table.xs(g, level=0)) for g in
                                                   table.index.get_level_values(0).unique()]
    n_steps = int(table.index.get_level_values("step").max()) if len(table) else 0
    ax = _axes(ax, figsize=(max(6.0, 2.2 * n_steps + 0.4 * len(groups)), 4.6))
    ax.set_title(title if title is not None else f"Funnel ({order}, within {_window(within)})"
                 + (f" by {by}" if by else ""))
    ax.set_ylabel("Conversion from step 1")
    _percent_axis(ax.yaxis)
    ax.set_ylim(0, 1.18)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.grid(True, axis="y", linestyle="--", alpha=0.4)
    ax.set_axisbelow(True)
    x = np.arange(n_steps, dtype=float)
    width = 0.8 / max(len(groups), 1)
    for i, (group, part) in enumerate(groups):
        colour = f"C{i % 10}"
        offset = x - 0.4 + width * (i + 0.5)
        rate = np.nan_to_num(part["conversion"].to_numpy(dtype=float))
        ax.bar(offset, np.ones(n_steps), width, color=colour, alpha=0.125, hatch="//", edgecolor=colour, linewidth=0)
        bars = ax.bar(offset, rate, width, color=colour, label=None if group is None else _label(group))
        labels = [f"{u:,}\n{r:.0%}" if u else "0" for u, r in zip(part["units"].to_numpy(), rate)]
        ax.bar_label(bars, labels=labels, padding=2, fontsize="x-small" if len(groups) > 2 else "small")
    names = table["event"].to_numpy()[:n_steps]
    ticks = []
    for k in range(n_steps):
        text = f"{k + 1}. {_short(str(names[k]))}"
        if k and len(groups) == 1:
            part = groups[0][1]
            dropped, previous = int(part["dropped"].iloc[k]), int(part["units"].iloc[k - 1])
            text += f"\n\u2212{dropped:,}" + (f" ({dropped / previous:.0%})" if previous else "")
            median = _duration(part["median_time"].iloc[k])
            text += f"\nmedian {median}" if median else ""
        ticks.append(text)
    ax.set_xticks(x, ticks, fontsize="small")
    for sep in x[1:] - 0.5:
        ax.axvline(sep, color="0.8", linestyle="--", linewidth=0.8)
    ax.set_xlim(-0.5, n_steps - 0.5)
    if by is not None and groups:
        ax.legend(title=by, fontsize="small", title_fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  frameon=False)
    if not len(table) or not table["units"].any():
        _no_data(ax)
    return ax


def plot_funnel_trend(
    df: pd.DataFrame,
    steps: Any,
    *,
    freq: Any = "D",
    within: Any = "14D",
    order: str = "ordered",
    reentry: bool = True,
    exclude: Any = None,
    start: Any = None,
    end: Any = None,
    tz: Any = None,
    unit: str = "userID",
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Line of the conversion per entry bucket; buckets still open (incomplete) dashed and hollow.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame of events.
    steps, freq, within, order, reentry, exclude, start, end, tz, unit
        As for :func:`statsig_pandas.funnels.funnel_trend`.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.
    title : str, optional
        Replaces the title.

    Returns
    -------
    matplotlib.axes.Axes
        x in dates (ticks in the buckets' zone), y from 0 to 100 %.

    Examples
    --------
    >>> from statsig_pandas.testing.synthetic import synthetic_frame
    >>> df = synthetic_frame(2_000, end_ms=1_774_000_000_000)
    >>> ax = plot_funnel_trend(df, ["page_view", "purchase"], within="1h")
    >>> [line.get_label() for line in ax.get_lines()]
    ['complete', 'in progress']
    """
    import matplotlib.dates as mdates

    from . import funnels

    data = funnels.funnel_trend(df, steps, freq=freq, within=within, order=order, reentry=reentry, exclude=exclude,
                                start=start, end=end, tz=tz, unit=unit)
    ax = _axes(ax, figsize=(9, 4))
    ax.set_title(title if title is not None else f"Conversion by entry {_bucket_name(freq)} (within {_window(within)})")
    ax.set_ylabel("Converted / entered")
    zone = data.index.tz
    ax.set_xlabel(f"Entry ({zone})")
    _percent_axis(ax.yaxis)
    ax.set_ylim(0, 1.05)
    ax.grid(True, alpha=0.3)
    if not len(data):
        _no_data(ax)
        return ax
    x = data.index.tz_convert("UTC").tz_localize(None).to_numpy()
    y = data["conversion"].to_numpy(dtype=float)
    done = data["complete"].to_numpy(dtype=bool)
    solid = np.where(done, y, np.nan)
    # Incomplete buckets are the last ones; their dashed stretch starts at the last complete point.
    first_open = int(np.argmin(done)) if not done.all() else len(done)
    open_part = np.where(np.arange(len(y)) >= max(first_open - 1, 0), y, np.nan)
    ax.plot(x, solid, marker="o", markersize=3, color="C0", label="complete")
    ax.plot(x, open_part, marker="o", markersize=4, color="C0", linestyle="--", markerfacecolor="white",
            label="in progress")
    locator = mdates.AutoDateLocator(tz=zone)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=zone))
    if not done.all():
        ax.legend(fontsize="small", frameon=False, loc="upper left")
    return ax


def _retention_shares(df, start_event, return_event, **options) -> tuple[np.ndarray, np.ndarray, pd.Index, pd.Series]:
    """Cohort sizes, the (cohorts x offsets) shares, the cohorts and the weighted mean, from one triangle."""
    from . import retention

    units = retention.retention(df, start_event, return_event, values="units", **options)
    rates = retention.shares(units).drop(columns="units").to_numpy(dtype=float)
    return units["units"].to_numpy(), rates, units.index, retention.mean_curve(units)


def plot_retention(
    df: pd.DataFrame,
    start_event: Any = None,
    return_event: Any = None,
    *,
    period: Any = "D",
    periods: int = 8,
    cohorts: str = "recurring",
    mode: str = "calendar",
    cumulative: bool = False,
    tz: Any = None,
    unit: str = "userID",
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """The retention triangle as a heatmap on an absolute 0-100 % scale, with cohort sizes and a mean row.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame of events.
    start_event, return_event, period, periods, cohorts, mode, cumulative, tz, unit
        As for :func:`statsig_pandas.retention.retention`.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.
    title : str, optional
        Replaces the title.

    Returns
    -------
    matplotlib.axes.Axes
        An image of the cohorts' shares (``ax.images[0].get_array()``; its
        last row is the weighted mean over complete cells) with each cell's
        percentage written in it; incomplete cells are left blank. Rows are
        labelled with the cohort and its size.

    Examples
    --------
    >>> from statsig_pandas.testing.synthetic import synthetic_frame
    >>> ax = plot_retention(synthetic_frame(2_000, end_ms=1_774_000_000_000), periods=5)
    >>> ax.images[0].get_array().shape
    (9, 5)
    """
    from . import retention

    units = retention.retention(df, start_event, return_event, values="units", period=period, periods=periods,
                                cohorts=cohorts, mode=mode, cumulative=cumulative, tz=tz, unit=unit)
    mean = retention.mean_curve(units)
    return draw_retention(units, mean, start_event=start_event, return_event=return_event, period=period,
                          mode=mode, ax=ax, title=title)


def draw_retention(units: pd.DataFrame, mean: pd.Series, *, start_event: Any = None, return_event: Any = None,
                   period: Any = "D", mode: str = "calendar", ax: Axes | None = None,
                   title: str | None = None) -> Axes:
    """Draw a triangle of units (``retention(..., values="units")``) and its mean curve
    (:func:`statsig_pandas.retention.mean_curve`) as :func:`plot_retention` does (no computing).

    Examples
    --------
    >>> from statsig_pandas import retention
    >>> from statsig_pandas.testing.synthetic import synthetic_frame
    >>> units = retention.retention(synthetic_frame(2_000, end_ms=1_774_000_000_000), periods=4, values="units")
    >>> draw_retention(units, retention.mean_curve(units)).images[0].get_array().shape
    (9, 4)
    """
    from . import retention

    sizes, cohorts_index = units["units"].to_numpy(), units.index
    rates = retention.shares(units).drop(columns="units").to_numpy(dtype=float)
    grid = np.vstack([rates, mean.to_numpy()[None, :]]) if len(rates) else mean.to_numpy()[None, :]
    n_rows, n_cols = grid.shape
    ax = _axes(ax, figsize=(min(2.5 + 0.75 * n_cols, 16), min(1.4 + 0.32 * n_rows, 14)))
    image = ax.imshow(np.ma.masked_invalid(grid), aspect="auto", cmap=_retention_colours(), vmin=0.0, vmax=1.0,
                      interpolation="nearest")
    what = "" if start_event is None and return_event is None else " of " + " \u2192 ".join(
        str(analysis.display_label(getattr(e, "label", e))) for e in (start_event, return_event) if e is not None)
    ax.set_title(title if title is not None else f"Retention{what} ({mode}, by {_bucket_name(period)})")
    ax.set_xlabel(f"{_bucket_name(period).capitalize()}s after the cohort's {_bucket_name(period)}")
    fmt = "%Y-%m-%d %H:%M" if _bucket_name(period) in ("hour", "minute", "second") else "%Y-%m-%d"
    rows = [f"{c.strftime(fmt)}  (n={n:,})" for c, n in zip(cohorts_index, sizes)]
    ax.set_yticks(range(n_rows), [*rows, "Mean (complete cells)"], fontsize="small")
    ax.set_xticks(range(n_cols), [str(k) for k in range(n_cols)])
    ax.set_xticks(np.arange(-0.5, n_cols), minor=True)
    ax.set_yticks(np.arange(-0.5, n_rows), minor=True)
    ax.grid(which="minor", color="0.85", linewidth=0.5)
    ax.tick_params(which="minor", length=0)
    ax.axhline(n_rows - 1.5, color="0.3", linewidth=1.0)
    if n_rows * n_cols <= 900:
        for (r, c), value in np.ndenumerate(grid):
            if not np.isnan(value):
                ax.text(c, r, f"{value:.0%}" if value >= 0.1 or value == 0 else f"{value:.1%}", ha="center",
                        va="center", fontsize="x-small", color="white" if value >= 0.65 else "0.15",
                        fontweight="bold" if r == n_rows - 1 else None)
    colorbar = ax.figure.colorbar(image, ax=ax, pad=0.01)
    _percent_axis(colorbar.ax.yaxis)
    colorbar.set_label("Retained (blank: period not over yet)")
    if not len(sizes):
        _no_data(ax)
    return ax


def plot_retention_curve(
    df: pd.DataFrame,
    start_event: Any = None,
    return_event: Any = None,
    *,
    period: Any = "D",
    periods: int = 8,
    cohorts: str = "recurring",
    mode: str = "calendar",
    cumulative: bool = False,
    tz: Any = None,
    unit: str = "userID",
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Retention by offset: a faint line per cohort and the bold weighted mean over complete cells.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame of events.
    start_event, return_event, period, periods, cohorts, mode, cumulative, tz, unit
        As for :func:`statsig_pandas.retention.retention_curve`.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.
    title : str, optional
        Replaces the title.

    Returns
    -------
    matplotlib.axes.Axes
        x = offsets, y from 0 to 100 %; the last line is the mean (labelled).

    Examples
    --------
    >>> from statsig_pandas.testing.synthetic import synthetic_frame
    >>> ax = plot_retention_curve(synthetic_frame(2_000, end_ms=1_774_000_000_000), periods=5)
    >>> ax.get_lines()[-1].get_label()
    'mean'
    """
    sizes, rates, _, mean = _retention_shares(
        df, start_event, return_event, period=period, periods=periods, cohorts=cohorts, mode=mode,
        cumulative=cumulative, tz=tz, unit=unit)
    ax = _axes(ax, figsize=(8, 4))
    ax.set_title(title if title is not None else f"Retention curve ({mode}, by {_bucket_name(period)})")
    ax.set_xlabel(f"{_bucket_name(period).capitalize()}s after the cohort's {_bucket_name(period)}")
    ax.set_ylabel("Retained")
    _percent_axis(ax.yaxis)
    ax.set_ylim(0, 1.05)
    ax.grid(True, alpha=0.3)
    offsets = np.arange(len(mean))
    for n, row in zip(sizes, rates):
        if n:
            ax.plot(offsets, row, color="C0", alpha=0.15, linewidth=0.8)
    ax.plot(offsets, mean.to_numpy(), color="C0", linewidth=2.5, marker="o", markersize=4, label="mean")
    ax.set_xticks(offsets)
    ax.legend(fontsize="small", frameon=False)
    if not sizes.any():
        _no_data(ax)
    return ax


def _retention_colours():
    """PostHog's retention scale: hue 212, saturation 63 %, lightness from 95 % (0 %) down to 30 % (100 %);
    incomplete (masked) cells white."""
    import colorsys

    from matplotlib.colors import ListedColormap

    colours = [colorsys.hls_to_rgb(212 / 360, (30 + 0.65 * (100 - p)) / 100, 0.63) for p in np.linspace(0, 100, 256)]
    return ListedColormap(colours, name="statsig_retention").with_extremes(bad="white")


# ---------------------------------------------------------------- engagement and journeys

_LIFECYCLE_COLOURS = {"new": "#1f5fa8", "returning": "#5b9bd5", "resurrecting": "#a9cbea", "dormant": "#c0392b"}


def _bucket_labels(index: pd.DatetimeIndex) -> list[str]:
    timed = (len(index) and (index.hour != 0).any()) or (index.minute != 0).any()
    return list(index.strftime("%Y-%m-%d %H:%M" if timed else "%Y-%m-%d"))


def plot_lifecycle(df: pd.DataFrame, freq: Any = "W", *, event: Any = None, tz: Any = None, unit: str = "userID",
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
    data = engagement.lifecycle(df, freq=freq, event=event, tz=tz, unit=unit)
    return draw_lifecycle(data, freq=freq, unit=unit, ax=ax, title=title)


def draw_lifecycle(data: pd.DataFrame, *, freq: Any = "W", unit: str = "userID", ax: Axes | None = None,
                   title: str | None = None) -> Axes:
    """Draw a table of :func:`statsig_pandas.engagement.lifecycle` as :func:`plot_lifecycle` does.

    Examples
    --------
    >>> from statsig_pandas import engagement
    >>> from statsig_pandas.testing.synthetic import synthetic_frame
    >>> data = engagement.lifecycle(synthetic_frame(2_000, end_ms=1_774_000_000_000), "D")
    >>> [c.get_label() for c in draw_lifecycle(data, freq="D").containers]
    ['new', 'returning', 'resurrecting', 'dormant']
    """
    from matplotlib.ticker import MaxNLocator

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


def plot_stickiness(df: pd.DataFrame, freq: Any = "D", *, per: Any = "W", event: Any = None,
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
    ax.set_ylabel(f"Unit-{period}s ({unit})")
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


def plot_paths(df: pd.DataFrame, start: Any = None, end: Any = None, *, steps: int = 5, gap: Any = "30min",
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
    return draw_paths(edges, start=start, end=end, min_share=min_share, ax=ax, title=title)


def draw_paths(edges: pd.DataFrame, *, start: Any = None, end: Any = None, min_share: float = 0.02,
               ax: Axes | None = None, title: str | None = None) -> Axes:
    """Draw the edges of :func:`statsig_pandas.journeys.paths` as :func:`plot_paths` does.

    Examples
    --------
    >>> from statsig_pandas import journeys
    >>> from statsig_pandas.testing.synthetic import synthetic_frame
    >>> edges = journeys.paths(synthetic_frame(2_000, end_ms=1_774_000_000_000), steps=3)
    >>> [t.get_text() for t in draw_paths(edges).get_xticklabels()]
    ['Step 1', 'Step 2', 'Step 3']
    """
    ax = _axes(ax, figsize=(10, 5.5))
    anchor = "".join(f" {what} {_short(_steps.as_step(spec, what).label)}" for what, spec in
                     (("from", start), ("to", end)) if spec is not None)
    ax.set_title(title if title is not None else f"Paths{anchor} ({int(edges['value'].sum()):,} moves shown)")
    if not len(edges):
        _no_data(ax)
        return ax
    _sankey.draw(ax, _sankey.fold_small(edges, min_share), label=_label)
    return ax
