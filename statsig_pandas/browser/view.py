"""The event browser's view: controls, charts, the paged table, CSV export and the static fallback.

:class:`EventBrowser` turns its controls into a
:class:`~statsig_pandas.browser.state.Filters`, asks its
:class:`~statsig_pandas.browser.state.BrowserState` for what the views show,
and redraws only what a change touches, debounced.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import os
from dataclasses import dataclass
from pathlib import Path

import ipywidgets as widgets
import pandas as pd

from .. import _options, _timebuckets, analysis
from .._fallback import with_image
from ..errors import StatsigError
from ..frame import metadata_json
from . import _charts
from ._debounce import Debouncer
from .analyses import Analyses
from .state import ALL, BrowserState, Filters

__all__ = ["EventBrowser", "Controls", "Views"]

PAGE_SIZE = 20
TOP_VALUES = 12
TOP_BARS = _charts.BARS
BUCKETS = (("minute", "min"), ("hour", "h"), ("day", "D"), ("week", "W"))
METRICS = (("events", "events"), ("distinct users", "users"))
# Steps of the time-range slider, finest first; the first that needs at most
# MAX_TIME_STEPS positions is used.
TIME_STEPS = ("1min", "5min", "15min", "1h", "6h", "1D", "7D")
MAX_TIME_STEPS = 400
_CHART_WIDTH = f"{_charts.FIGSIZE[0] * _charts.DPI:.0f}px"

_CSS = """<style>
.statsig-browser-table table {border-collapse: collapse; font-size: 12px; width: 100%;}
.statsig-browser-table th, .statsig-browser-table td {padding: 2px 8px; text-align: left;
  border-bottom: 1px solid #ddd; white-space: nowrap; max-width: 28em; overflow: hidden;
  text-overflow: ellipsis;}
.statsig-browser-table th {background: #f4f4f4;}
</style>"""


def _fmt_time(ts: pd.Timestamp) -> str:
    return "–" if pd.isna(ts) else ts.strftime("%Y-%m-%d %H:%M")


def _metadata_text(metadata: pd.Series) -> list[str]:
    """The metadata column as JSON text, keys sorted: for the table and the CSV export."""
    # No metadata at all (None, NaN) shows as nothing, an empty dict as {}.
    return ["" if m is None or isinstance(m, float) else metadata_json(m, ensure_ascii=False) for m in metadata]


@dataclass(frozen=True)
class Controls:
    """The browser's input widgets; set their ``.value`` to drive it from code."""

    name: widgets.Dropdown
    source: widgets.Dropdown
    values: widgets.SelectMultiple
    value_search: widgets.Text
    user: widgets.Text
    time_range: widgets.SelectionRangeSlider
    bucket: widgets.ToggleButtons
    metric: widgets.ToggleButtons


@dataclass(frozen=True)
class Views:
    """The browser's output widgets."""

    time_label: widgets.Label
    summary: widgets.HTML
    timeline: widgets.Image
    top_values: widgets.Image
    table: widgets.HTML
    page_label: widgets.Label
    previous: widgets.Button
    next: widgets.Button
    export: widgets.Button
    message: widgets.HTML


class EventBrowser:
    """Explore a frame of Statsig events with filters, charts and a paged table.

    Filters (event name, values, source, user ID, time range), a bucket size
    and a metric drive a one-line summary, the timeline, a top-values bar
    chart and a table of the matching rows, newest first, 20 a page. The
    table is paged in the kernel: a frame of a million rows never travels to
    the browser whole. Redraws are debounced, and only the views a change
    touches are recomputed.

    Tabs beside this explore view hold the analyses of the filtered events
    (funnel, retention, lifecycle, paths; see
    :mod:`~statsig_pandas.browser.analyses`); the filters hold for every
    tab, and only the visible one is computed.

    Parameters
    ----------
    df : pandas.DataFrame
        Events as :func:`~statsig_pandas.read_events` returns them (at least
        the columns ``timestamp``, ``name``, ``source``, ``value``, ``userID``).
    debounce : float, default 0.2
        Seconds of quiet after a control changes before the views redraw;
        0 redraws at once.
    page_size : int, default 20
        Rows per table page.
    top_values : int, default 12
        Most frequent values offered in the value multi-select.

    Attributes
    ----------
    controls : Controls
        The input widgets (``name``, ``source``, ``values``, ``value_search``,
        ``user``, ``time_range``, ``bucket``, ``metric``).
    views : Views
        The output widgets (``summary``, ``timeline``, ``top_values``,
        ``table`` and the paging and export buttons).
    analyses : Analyses
        The analysis views (``analyses.views["funnel"]``, ...) and their tabs;
        ``analyses.select("funnel")`` opens one.
    widget : ipywidgets.VBox
        The whole browser, for embedding in a layout of your own.
    state : BrowserState
        The frame indexed for filtering and the cached results, no widgets.

    Raises
    ------
    StatsigError
        If ``df`` is not a DataFrame of events.

    See Also
    --------
    browse : fetch events by name, then browse them.

    Examples
    --------
    >>> from statsig_pandas import EventBrowser
    >>> browser = EventBrowser(df)               # doctest: +SKIP
    >>> browser                                   # doctest: +SKIP
    >>> browser.controls.name.value = "purchase"  # doctest: +SKIP
    >>> browser.filtered.statsig.summary()        # doctest: +SKIP
    """

    def __init__(self, df: pd.DataFrame, *, debounce: float = 0.2, page_size: int = PAGE_SIZE,
                 top_values: int = TOP_VALUES):
        self.state = BrowserState(df)  # checks the frame
        self.page_size = _options.positive_int(page_size, "page_size", allow_none=False)
        top_values = _options.positive_int(top_values, "top_values", allow_none=False)
        if isinstance(debounce, bool) or not isinstance(debounce, (int, float)) or not debounce >= 0:
            raise StatsigError(f"debounce must be a number of seconds >= 0, not {debounce!r}")
        self._df = df
        self._first, self._last = self.state.first, self.state.last
        self._page = 0
        self.redraws = 0  # counted for the tests of debouncing
        self._timeline_chart, self._top_values_chart = _charts.TimelineChart(), _charts.TopValuesChart()
        self.controls = self._build_controls(top_values)
        self.views = self._build_views()
        self.analyses = Analyses(self.state, lambda: self.filters, debounce=debounce)
        self._explore_stale = False
        self.widget = self._layout()
        self._debouncer = Debouncer(self._redraw_shown, debounce)
        for control in (self.controls.name, self.controls.source, self.controls.values,
                        self.controls.value_search, self.controls.user, self.controls.time_range):
            control.observe(self._on_filter, names="value")
        for control in (self.controls.bucket, self.controls.metric):
            control.observe(self._on_view, names="value")
        self.controls.time_range.observe(self._show_time_range, names="value")
        self._show_time_range()
        self.views.previous.on_click(lambda _: self.previous_page())
        self.views.next.on_click(lambda _: self.next_page())
        self.views.export.on_click(lambda _: self._export_clicked())
        self._redraw()

    # -- set-up -------------------------------------------------------------
    def _build_controls(self, top_values: int) -> Controls:
        names = analysis.value_counts(self._df, "name").index
        name = widgets.Dropdown(options=[("all events", ALL)] + [(str(n), n) for n in sorted(names, key=str)],
                                value=ALL, description="Event", layout=widgets.Layout(width="280px"))
        name.layout.display = None if len(names) > 1 else "none"
        sources = analysis.value_counts(self._df, "source").index
        source = widgets.Dropdown(options=[("all sources", ALL)] + [(str(s), s) for s in sorted(sources, key=str)],
                                  value=ALL, description="Source", layout=widgets.Layout(width="280px"))
        top = analysis.value_counts(self._df, top=top_values)
        values = widgets.SelectMultiple(
            options=[(f"{analysis.display_label(v)}  ({n:,})", v) for v, n in top.items()], value=(),
            description="Values", rows=min(6, max(2, len(top))), layout=widgets.Layout(width="280px"))
        value_search = widgets.Text(placeholder="or values containing…", description=" ",
                                    layout=widgets.Layout(width="280px"))
        user = widgets.Text(placeholder="user ID contains…", description="User",
                            layout=widgets.Layout(width="280px"))
        time_options = self._time_options()
        # The slider's own readout is too narrow for two times; a label beside it shows them.
        time_range = widgets.SelectionRangeSlider(options=time_options, index=(0, len(time_options) - 1),
                                                  description="Time", readout=False,
                                                  layout=widgets.Layout(width="420px"),
                                                  disabled=len(time_options) < 2)
        bucket = widgets.ToggleButtons(options=BUCKETS, value=self._default_bucket(), description="Bucket",
                                       style={"button_width": "76px"})
        metric = widgets.ToggleButtons(options=METRICS, value="events", description="Count",
                                       style={"button_width": "110px"})
        controls = Controls(name=name, source=source, values=values, value_search=value_search, user=user,
                            time_range=time_range, bucket=bucket, metric=metric)
        for field, control in controls.__dict__.items():
            control.add_class(f"statsig-browser-{field.replace('_', '-')}")
        return controls

    def _time_options(self) -> list[tuple[str, pd.Timestamp]]:
        if pd.isna(self._first):
            return [("no timestamps", None)]
        span = self._last - self._first
        step = next((s for s in TIME_STEPS if span / pd.Timedelta(s) <= MAX_TIME_STEPS), TIME_STEPS[-1])
        # Edges on the UTC grid (no ambiguous local times), shown in the frame's zone.
        first, last = self._first.tz_convert("UTC"), self._last.tz_convert("UTC")
        start, end = first.floor(step), last.floor(step) + pd.Timedelta(step)
        if span / pd.Timedelta(step) > MAX_TIME_STEPS:  # longer than the coarsest step allows
            edges = pd.date_range(start, end, periods=MAX_TIME_STEPS + 1)
        else:
            edges = pd.date_range(start, end, freq=step)
        return [(_fmt_time(t), t) for t in edges.tz_convert(self._first.tz)]

    def _show_time_range(self, change=None) -> None:
        options = self.controls.time_range.options
        lo, hi = self.controls.time_range.index
        zone = f" {self._first.tz}" if not pd.isna(self._first) and self._first.tz is not None else ""
        self.views.time_label.value = (f"{options[lo][0]} → {options[hi][0]}{zone}" if len(options) > 1
                                       else options[0][0])

    def _default_bucket(self) -> str:
        if pd.isna(self._first):
            return "h"
        span = self._last - self._first
        if span <= pd.Timedelta("6h"):
            return "min"
        if span <= pd.Timedelta("14D"):
            return "h"
        return "D" if span <= pd.Timedelta("180D") else "W"

    def _build_views(self) -> Views:
        views = Views(
            time_label=widgets.Label(),
            summary=widgets.HTML(),
            timeline=widgets.Image(format="png", layout=widgets.Layout(width=_CHART_WIDTH)),
            top_values=widgets.Image(format="png", layout=widgets.Layout(width=_CHART_WIDTH)),
            table=widgets.HTML(),
            page_label=widgets.Label(),
            previous=widgets.Button(description="Previous", icon="chevron-left",
                                    layout=widgets.Layout(width="110px")),
            next=widgets.Button(description="Next", icon="chevron-right", layout=widgets.Layout(width="110px")),
            export=widgets.Button(description="Export CSV", icon="download", layout=widgets.Layout(width="130px"),
                                  tooltip="write the filtered events to a CSV file in the working directory"),
            message=widgets.HTML(),
        )
        for field, view in views.__dict__.items():
            view.add_class(f"statsig-browser-{field.replace('_', '-')}")
        return views

    def _layout(self) -> widgets.VBox:
        c, v = self.controls, self.views
        filters = widgets.HBox([
            widgets.VBox([c.name, c.source, c.user]),
            widgets.VBox([c.values, c.value_search]),
        ])
        options = widgets.VBox([c.bucket, c.metric])
        charts = widgets.HBox([v.timeline, v.top_values], layout=widgets.Layout(flex_flow="row wrap"))
        pager = widgets.HBox([v.previous, v.page_label, v.next, v.export, v.message],
                             layout=widgets.Layout(align_items="center"))
        # The filters, the time range and the summary hold for every view; the tabs below them.
        explore = widgets.VBox([options, charts, v.table, pager])
        tabs = self.analyses.tabbed(explore, on_explore=self._explore_opened)
        root = widgets.VBox([filters, widgets.HBox([c.time_range, v.time_label]), v.summary, tabs])
        root.add_class("statsig-browser")
        return root

    # -- events -------------------------------------------------------------
    def _on_filter(self, change) -> None:
        self._page = 0
        self._debouncer()

    def _on_view(self, change) -> None:
        self._debouncer()

    def refresh(self) -> None:
        """Redraw now (a redraw still waiting for its debounce runs at once)."""
        view = self.analyses.shown
        if not self._debouncer.pending and not (view is not None and view.pending):
            self._redraw_shown()
        if self._debouncer.pending:
            self._debouncer.flush()
        if view is not None and view.pending:
            view.refresh()

    def _redraw_shown(self) -> None:
        # Only the visible view computes; the explore view catches up when its tab opens.
        if self.analyses.shown is None:
            self._redraw_reporting()
            return
        self._explore_stale = True
        with self.state.lock:
            self.views.summary.value = f"<b>{html.escape(self.summary)}</b>"
            self.analyses.filters_changed()

    def _explore_opened(self) -> None:
        if self._explore_stale:
            self._explore_stale = False
            self._redraw_reporting()

    # -- state --------------------------------------------------------------
    @property
    def filters(self) -> Filters:
        """The filters the controls set, as the methods of :attr:`state` take them."""
        c = self.controls
        lo, hi = c.time_range.index
        ranged = len(c.time_range.options) > 1 and (lo, hi) != (0, len(c.time_range.options) - 1)
        start, end = c.time_range.value if ranged else (None, None)
        return Filters(name=c.name.value, source=c.source.value, values=tuple(c.values.value),
                       value_search=c.value_search.value.strip(), user=c.user.value.strip(), start=start, end=end)

    @property
    def filtered(self) -> pd.DataFrame:
        """The events that pass the current filters, all columns, in frame order."""
        with self.state.lock:
            return self.state.filtered(self.filters)

    @property
    def matches(self) -> int:
        """How many events pass the current filters."""
        with self.state.lock:
            return self.state.matches(self.filters)

    @property
    def freq(self) -> str:
        """The timeline's bucket as a pandas frequency (``"min"``, ``"h"``, ``"D"`` or ``"W"``)."""
        return self.controls.bucket.value

    @property
    def timeline(self) -> pd.Series:
        """What the timeline plots: events (or distinct users) per bucket."""
        with self.state.lock:
            return self.state.timeline(self.filters, freq=self.freq, users=self.controls.metric.value == "users")

    @property
    def top_values(self) -> pd.Series:
        """What the bar chart plots: the most frequent values of the matching events."""
        with self.state.lock:
            return self.state.top_values(self.filters, top=TOP_BARS)

    @property
    def summary(self) -> str:
        """The one-line summary, as plain text."""
        with self.state.lock:
            numbers = self.state.summary(self.filters)
        events, users = numbers.events, numbers.users
        text = f"{events:,} event{'s' * (events != 1)} · {users:,} user{'s' * (users != 1)}"
        if events and not pd.isna(numbers.first):
            zone = f" {numbers.first.tz}" if numbers.first.tz is not None else ""
            text += (f" · {_fmt_time(numbers.first)} → {_fmt_time(numbers.last)}{zone}"
                     f" ({_timebuckets.format_duration(numbers.span)})")
        if events != len(self._df):
            text += f" · of {len(self._df):,}"
        return text

    # -- paging -------------------------------------------------------------
    @property
    def page(self) -> int:
        """The table's page, counting from 0."""
        return self._page

    @property
    def pages(self) -> int:
        return max(1, -(-self.matches // self.page_size))

    def page_frame(self, page: int | None = None) -> pd.DataFrame:
        """The rows of a table page (default: the current one), newest first.

        Examples
        --------
        >>> browser.page_frame(0)   # the 20 newest matching events  # doctest: +SKIP
        """
        with self.state.lock:
            return self.state.page(self.filters, self._page if page is None else page, self.page_size)

    def next_page(self) -> None:
        """Show the next (older) page of the table."""
        self._go_to(self._page + 1)

    def previous_page(self) -> None:
        """Show the previous (newer) page of the table."""
        self._go_to(self._page - 1)

    def _go_to(self, page: int) -> None:
        with self.state.lock:
            page = min(max(page, 0), self.pages - 1)
            if page != self._page:
                self._page = page
                self._draw_table()

    # -- drawing ------------------------------------------------------------
    def _redraw_reporting(self) -> None:
        # A debounced redraw runs outside any cell: an error would only reach a log.
        try:
            self._redraw()
        except Exception as exc:
            self.views.message.value = (f"<span style='color:#b00'>could not redraw: "
                                        f"{html.escape(f'{type(exc).__name__}: {exc}')}</span>")
            raise

    def _redraw(self) -> None:
        with self.state.lock:
            # Text first: each value reaches the page as soon as it is set, and
            # the charts take most of the time.
            self.views.summary.value = f"<b>{html.escape(self.summary)}</b>"
            self._page = min(self._page, self.pages - 1)
            self._draw_table()
            self.views.timeline.value = self._timeline_png()
            self.views.top_values.value = self._top_values_png()
            self.redraws += 1

    def _timeline_png(self) -> bytes:
        filters, freq, users = self.filters, self.freq, self.controls.metric.value == "users"
        return self.state.cached("timeline_png", (filters, freq, users), lambda: self._timeline_chart.show(
            self.state.timeline(filters, freq=freq, users=users), freq=freq, users=users))

    def _top_values_png(self) -> bytes:
        filters = self.filters
        return self.state.cached("top_values_png", filters, lambda: self._top_values_chart.show(
            self.state.value_counts(filters), top=TOP_BARS))

    def _table_html(self, page: int) -> str:
        rows = self.page_frame(page)
        if not len(rows):
            return "<p><i>no events match the filters</i></p>"
        shown = pd.DataFrame({
            "timestamp": rows["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S.%f").str[:-3],
            **{c: rows[c].astype(object) for c in ("name", "source", "value", "userID")},
        })
        if "metadata" in rows:
            shown["metadata"] = _metadata_text(rows["metadata"])
        return shown.to_html(index=False, na_rep="", border=0, classes="dataframe", escape=True)

    def _draw_table(self) -> None:
        first = self._page * self.page_size
        shown = min(self.page_size, self.matches - first)
        self.views.table.value = _CSS + self._table_html(self._page)
        self.views.page_label.value = (f"rows {first + 1:,}–{first + shown:,} of {self.matches:,} "
                                       f"(page {self._page + 1:,} of {self.pages:,}, newest first)"
                                       if shown > 0 else "no rows")
        self.views.previous.disabled = self._page == 0
        self.views.next.disabled = self._page >= self.pages - 1

    # -- export -------------------------------------------------------------
    def export(self, path: str | Path | None = None) -> Path:
        """Write the filtered events to CSV; ``metadata`` becomes JSON text.

        Parameters
        ----------
        path : str or Path, optional
            Where to write; by default a new ``statsig-events-<time>.csv`` in
            the working directory.

        Returns
        -------
        Path
            The absolute path written.

        Examples
        --------
        >>> browser.export()   # doctest: +SKIP
        PosixPath('/home/me/statsig-events-20240710-091500.csv')
        """
        frame = self.filtered
        if "metadata" in frame:
            frame = frame.assign(metadata=_metadata_text(frame["metadata"]))
        try:
            path = _new_export_path() if path is None else Path(path).resolve()
            frame.to_csv(path, index=False)
        except OSError as exc:
            where = path if path is not None else "the working directory"
            raise StatsigError(f"could not write {where}: {exc.strerror or exc}") from None
        return path

    def _export_clicked(self) -> None:
        try:
            path = self.export()
        except StatsigError as exc:
            self.views.message.value = f"<span style='color:#b00'>{html.escape(str(exc))}</span>"
        else:
            self.views.message.value = (f"Wrote {self.matches:,} events to "
                                        f"<code>{html.escape(str(path))}</code>")

    # -- display ------------------------------------------------------------
    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        # Besides the live widget: the summary, the first rows and the
        # timeline, for a report exported without widget state or a notebook
        # shown on GitHub.
        if self._debouncer.pending:
            self.refresh()
        with self.state.lock:
            bundle = dict(self.widget._repr_mimebundle_(include=include, exclude=exclude) or {})
            bundle["text/plain"] = repr(self)
            shown = self.analyses.shown
            if shown is not None:  # the analysis that was open: its chart and table
                bundle["text/html"] = (f"<div class='statsig-browser-static'><p><b>{html.escape(self.summary)}</b>"
                                       f"</p>{_CSS}{shown.static_html()}</div>")
                if shown.png():
                    bundle["image/png"] = base64.b64encode(shown.png()).decode("ascii")
                return bundle
            png = base64.b64encode(self._timeline_png()).decode("ascii")
            bundle["text/html"] = with_image(
                f"<div class='statsig-browser-static'><p><b>{html.escape(self.summary)}</b></p>"
                f"{_CSS}<div class='statsig-browser-table'>{self._table_html(0)}</div></div>",
                f"<img alt='timeline' src='data:image/png;base64,{png}'/>")
            bundle["image/png"] = png
        return bundle

    def __repr__(self) -> str:
        return f"<EventBrowser {self.matches:,} of {len(self._df):,} events>"


def _new_export_path() -> Path:
    """A CSV name in the working directory that no earlier export used."""
    cwd = Path(os.getcwd())
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    path, n = cwd / f"statsig-events-{stamp}.csv", 1
    while path.exists():
        path, n = cwd / f"statsig-events-{stamp}-{n}.csv", n + 1
    return path
