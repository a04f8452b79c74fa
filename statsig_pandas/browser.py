"""The event browser: explore a frame of events in a notebook without writing code.

:class:`EventBrowser` is built from core ipywidgets controls and PNG images
drawn by matplotlib only, so it works wherever ipywidgets does (JupyterLab,
Notebook, VS Code, Colab) and degrades to a static summary, table and chart
where widgets do not render (exported HTML, GitHub).

Everything a view needs is computed in the kernel: the filters become one
boolean mask over codes factorised once, the table sends 20 rows a page, and
only what a change touches is recomputed and redrawn.

:func:`browse` is the live variant: an event-name box, a Fetch button and a
progress bar in front of :func:`~statsig_pandas.read_events`.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as _dt
import html
import io
import os
import threading
import time
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit

import ipywidgets as widgets
import msgspec
import numpy as np
import pandas as pd
import requests
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from . import _kernels, _timebuckets, analysis, plotting
from .errors import (
    AuthenticationError,
    NotFoundError,
    StatsigConnectionError,
    StatsigError,
    StatsigWarning,
    redact,
)
from .reader import read_events

__all__ = ["EventBrowser", "LiveEventBrowser", "browse"]

PAGE_SIZE = 20
TOP_VALUES = 12
TOP_BARS = 10
BUCKETS = (("minute", "min"), ("hour", "h"), ("day", "D"), ("week", "W"))
METRICS = (("events", "events"), ("distinct users", "users"))
# Steps of the time-range slider, finest first; the first that needs at most
# MAX_TIME_STEPS positions is used.
TIME_STEPS = ("1min", "5min", "15min", "1h", "6h", "1D", "7D")
MAX_TIME_STEPS = 400
# Cached per filter state: the last RECENT of the small results (images,
# text), only the last one of those as large as the frame.
RECENT = 16
_LARGE = frozenset({"mask", "positions", "matching", "newest_first"})
FIGSIZE = (5.4, 3.0)
DPI = 80

_CSS = """<style>
.statsig-browser-table table {border-collapse: collapse; font-size: 12px; width: 100%;}
.statsig-browser-table th, .statsig-browser-table td {padding: 2px 8px; text-align: left;
  border-bottom: 1px solid #ddd; white-space: nowrap; max-width: 28em; overflow: hidden;
  text-overflow: ellipsis;}
.statsig-browser-table th {background: #f4f4f4;}
</style>"""


class _Debouncer:
    """Run ``fn`` once, ``delay`` seconds after the last of a burst of calls.

    In a kernel the call is scheduled on the kernel's own event loop, so the
    redraw runs on the main thread between messages; elsewhere (a script, a
    test) a timer thread runs it, one the interpreter waits for at exit.
    ``delay=0`` runs it at once.
    """

    def __init__(self, fn: Callable[[], None], delay: float):
        self._fn = fn
        self.delay = delay
        self._handle: Any = None
        self._token = 0  # which scheduled call is the current one
        self._lock = threading.Lock()

    @property
    def pending(self) -> bool:
        return self._handle is not None

    def __call__(self) -> None:
        if self.delay <= 0:
            self._fn()
            return
        with self._lock:
            self._cancel()
            token = self._token
            try:
                self._handle = asyncio.get_running_loop().call_later(self.delay, self._fire, token)
            except RuntimeError:  # no loop in this thread
                # Not a daemon: the interpreter waits for a pending redraw before it shuts down, rather
                # than tearing Arrow and matplotlib down under one (an abort, "terminate called ...").
                self._handle = threading.Timer(self.delay, self._fire, args=(token,))
                self._handle.daemon = False
                self._handle.start()

    def _cancel(self) -> None:
        self._token += 1  # a timer already past its wait finds itself stale
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _fire(self, token: int) -> None:
        with self._lock:
            if token != self._token:
                return
            self._handle = None
        self._fn()

    def flush(self) -> None:
        """Run now what is pending, if anything."""
        with self._lock:
            was = self._handle is not None
            self._cancel()
        if was:
            self._fn()


class _All:
    """The "everything" choice of a drop-down (a value of None would read as no selection)."""

    def __repr__(self) -> str:
        return "ALL"


#: The value of the name and source drop-downs when they do not filter.
ALL = _All()


def _lookup(uniques: pd.Index, selected: np.ndarray) -> np.ndarray:
    """A table indexed by code; the extra last slot answers code -1 (missing)."""
    table = np.zeros(len(uniques) + 1, dtype=bool)
    table[:-1] = selected
    return table


def _contains(uniques: pd.Index, text: str) -> np.ndarray:
    strings = pd.Series(uniques.astype(str), copy=False)
    return strings.str.contains(text, case=False, regex=False).to_numpy(dtype=bool, na_value=False)


def _fmt_time(ts: pd.Timestamp) -> str:
    return "–" if pd.isna(ts) else ts.strftime("%Y-%m-%d %H:%M")


def _png(draw: Callable[[Any], None]) -> bytes:
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


def _metadata_json(value: Any) -> str:
    if not value:
        return "" if value is None or isinstance(value, float) else "{}"
    return msgspec.json.encode(value, order="sorted", enc_hook=str).decode()


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
    widget : ipywidgets.VBox
        The whole browser, for embedding in a layout of your own.

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
        analysis.validate_frame(df)
        for label, number in (("page_size", page_size), ("top_values", top_values)):
            if isinstance(number, bool) or not isinstance(number, int) or number < 1:
                raise StatsigError(f"{label} must be a positive integer, not {number!r}")
        if isinstance(debounce, bool) or not isinstance(debounce, (int, float)) or not debounce >= 0:
            raise StatsigError(f"debounce must be a number of seconds >= 0, not {debounce!r}")
        self._df = df
        self.page_size = page_size
        self._index_columns(df)
        self._lock = threading.RLock()
        self._cache: dict[str, OrderedDict] = {}
        self._page = 0
        self.redraws = 0
        self.controls = self._build_controls(top_values)
        self.views = self._build_views()
        self.widget = self._layout()
        self._debouncer = _Debouncer(self._redraw_reporting, debounce)
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
    def _index_columns(self, df: pd.DataFrame) -> None:
        """Factorise the filterable columns once; a filter is then a few table look-ups."""
        self._codes: dict[str, np.ndarray] = {}
        self._uniques: dict[str, pd.Index] = {}
        for column in ("name", "source", "value", "userID"):
            self._codes[column], self._uniques[column] = _kernels.factorize(df[column])
        # What the views compute from: the same labels, but every text column
        # categorical over the codes above, so that taking the matching rows
        # and counting them (analysis' categorical paths) never hashes strings
        # again; and no metadata dicts, which would cost more than the rest.
        self._core = pd.DataFrame(
            {"timestamp": df["timestamp"].array,
             **{c: pd.Categorical.from_codes(self._codes[c], categories=self._uniques[c])
                for c in ("name", "source", "value", "userID")}},
            copy=False,
        )
        times = _timebuckets.frame_times(df)
        self._unit, self._ts = times.unit, times.values
        timed = self._ts[self._ts != _timebuckets.NAT]
        # The slider shows the frame's zone (UTC for a naive frame, as analysis reads it).
        self._first, self._last = (
            pd.Timestamp(int(f(timed)), unit=self._unit, tz="UTC").tz_convert(times.tz) if len(timed) else pd.NaT
            for f in (np.min, np.max))
        # Newest first, ties in frame order, NaT last: the table reads positions off this.
        self._newest_first = np.argsort(np.where(self._ts == _timebuckets.NAT, np.iinfo(np.int64).max, -self._ts),
                                        kind="stable")

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
            timeline=widgets.Image(format="png", layout=widgets.Layout(width=f"{FIGSIZE[0] * DPI:.0f}px")),
            top_values=widgets.Image(format="png", layout=widgets.Layout(width=f"{FIGSIZE[0] * DPI:.0f}px")),
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
        options = widgets.VBox([widgets.HBox([c.time_range, v.time_label]), c.bucket, c.metric])
        charts = widgets.HBox([v.timeline, v.top_values], layout=widgets.Layout(flex_flow="row wrap"))
        pager = widgets.HBox([v.previous, v.page_label, v.next, v.export, v.message],
                             layout=widgets.Layout(align_items="center"))
        root = widgets.VBox([filters, options, v.summary, charts, v.table, pager])
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
        if self._debouncer.pending:
            self._debouncer.flush()
        else:
            self._redraw()

    # -- state --------------------------------------------------------------
    def _filter_key(self) -> tuple:
        c = self.controls
        return (c.name.value, c.source.value, tuple(c.values.value), c.value_search.value.strip(),
                c.user.value.strip(), tuple(c.time_range.index))

    def _cached(self, slot: str, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per ``key``; small results are kept for the last few keys,
        so going back to an earlier filter (A, B, A) redraws from memory."""
        entries = self._cache.setdefault(slot, OrderedDict())
        if key in entries:
            entries.move_to_end(key)
            return entries[key]
        value = compute()
        entries[key] = value
        while len(entries) > (1 if slot in _LARGE else RECENT):
            entries.popitem(last=False)
        return value

    def _mask(self) -> np.ndarray | None:
        """The rows that pass every filter (None: all of them)."""
        c = self.controls
        mask = None

        def both(m, more):
            return more if m is None else m & more

        for column, control in (("name", c.name), ("source", c.source)):
            if control.value is not None and control.value is not ALL:
                chosen = np.asarray(self._uniques[column].isin([control.value]), dtype=bool)
                mask = both(mask, _lookup(self._uniques[column], chosen)[self._codes[column]])
        values, search = tuple(c.values.value), c.value_search.value.strip()
        if values or search:
            uniques = self._uniques["value"]
            chosen = np.asarray(uniques.isin(values), dtype=bool)
            if search:
                chosen |= _contains(uniques, search)
            mask = both(mask, _lookup(uniques, chosen)[self._codes["value"]])
        user = c.user.value.strip()
        if user:
            uniques = self._uniques["userID"]
            mask = both(mask, _lookup(uniques, _contains(uniques, user))[self._codes["userID"]])
        lo, hi = c.time_range.index
        options = c.time_range.options
        if len(options) > 1 and (lo, hi) != (0, len(options) - 1):
            start, end = (self._ticks(t) for t in c.time_range.value)
            mask = both(mask, (self._ts >= start) & (self._ts < end))
        return mask

    def _ticks(self, when: pd.Timestamp) -> int:
        """``when`` as an integer in the frame's own time unit (UTC)."""
        when = pd.Timestamp(when)
        when = when.tz_convert("UTC").tz_localize(None) if when.tz is not None else when
        return int(when.as_unit(self._unit).asm8.view("i8"))

    def _positions(self) -> np.ndarray | None:
        """Positions of the matching rows in frame order (None: every row)."""
        mask = self._cached("mask", self._filter_key(), self._mask)
        if mask is None:
            return None
        return self._cached("positions", self._filter_key(), lambda: np.flatnonzero(mask))

    def _matching(self) -> pd.DataFrame:
        """The matching rows of the columns the views need (computed once per filter)."""
        def take():
            pos = self._positions()
            return self._core if pos is None else self._core.take(pos)
        return self._cached("matching", self._filter_key(), take)

    @property
    def filtered(self) -> pd.DataFrame:
        """The events that pass the current filters, all columns, in frame order."""
        with self._lock:
            pos = self._positions()
            return self._df if pos is None else self._df.take(pos)

    @property
    def matches(self) -> int:
        """How many events pass the current filters."""
        with self._lock:
            pos = self._positions()
            return len(self._df) if pos is None else len(pos)

    @property
    def freq(self) -> str:
        """The timeline's bucket as a pandas frequency (``"min"``, ``"h"``, ``"D"`` or ``"W"``)."""
        return self.controls.bucket.value

    @property
    def timeline(self) -> pd.Series:
        """What the timeline plots: events (or distinct users) per bucket."""
        with self._lock:
            key = (self._filter_key(), self.freq, self.controls.metric.value)
            return self._cached("timeline", key, lambda: analysis.timeline(
                self._matching(), freq=self.freq, users=self.controls.metric.value == "users"))

    @property
    def top_values(self) -> pd.Series:
        """What the bar chart plots: the most frequent values of the matching events."""
        with self._lock:
            return self._cached("top_values", self._filter_key(),
                                lambda: analysis.value_counts(self._matching(), top=TOP_BARS))

    @property
    def summary(self) -> str:
        """The one-line summary, as plain text."""
        with self._lock:
            return self._cached("summary", self._filter_key(), self._summary_text)

    def _summary_text(self) -> str:
        stats = analysis.summary(self._matching())["summary"]
        events, users = int(stats[("events", "total")]), int(stats[("events", "users")])
        first, last = stats[("events", "first")], stats[("events", "last")]
        text = f"{events:,} event{'s' * (events != 1)} · {users:,} user{'s' * (users != 1)}"
        if events and not pd.isna(first):
            zone = f" {first.tz}" if first.tz is not None else ""
            text += f" · {_fmt_time(first)} → {_fmt_time(last)}{zone} ({_fmt_span(last - first)})"
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
        with self._lock:
            page = self._page if page is None else page
            rows = self._newest_first_matching()[page * self.page_size:(page + 1) * self.page_size]
            return self._df.take(rows)

    def _newest_first_matching(self) -> np.ndarray:
        def order():
            mask = self._cached("mask", self._filter_key(), self._mask)
            return self._newest_first if mask is None else self._newest_first[mask[self._newest_first]]
        return self._cached("newest_first", self._filter_key(), order)

    def next_page(self) -> None:
        """Show the next (older) page of the table."""
        self._go_to(self._page + 1)

    def previous_page(self) -> None:
        """Show the previous (newer) page of the table."""
        self._go_to(self._page - 1)

    def _go_to(self, page: int) -> None:
        with self._lock:
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
        with self._lock:
            # Text first: each value reaches the page as soon as it is set, and
            # the charts take most of the time.
            self.views.summary.value = f"<b>{html.escape(self.summary)}</b>"
            self._page = min(self._page, self.pages - 1)
            self._draw_table()
            self.views.timeline.value = self._timeline_png()
            self.views.top_values.value = self._top_values_png()
            self.redraws += 1

    def _timeline_png(self) -> bytes:
        key = (self._filter_key(), self.freq, self.controls.metric.value)
        return self._cached("timeline_png", key, lambda: _png(lambda ax: plotting.plot_timeline(
            self._matching(), freq=self.freq, users=self.controls.metric.value == "users", ax=ax)))

    def _top_values_png(self) -> bytes:
        return self._cached("top_values_png", self._filter_key(), lambda: _png(
            lambda ax: plotting.plot_value_counts(self._matching(), top=TOP_BARS, ax=ax)))

    def _table_html(self, page: int) -> str:
        rows = self.page_frame(page)
        if not len(rows):
            return "<p><i>no events match the filters</i></p>"
        shown = pd.DataFrame({
            "timestamp": rows["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S.%f").str[:-3],
            **{c: rows[c].astype(object) for c in ("name", "source", "value", "userID")},
        })
        if "metadata" in rows:
            shown["metadata"] = [_metadata_json(m) for m in rows["metadata"]]
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
            frame = frame.assign(metadata=[_metadata_json(m) for m in frame["metadata"]])
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
        with self._lock:
            bundle = dict(self.widget._repr_mimebundle_(include=include, exclude=exclude) or {})
            png = base64.b64encode(self._timeline_png()).decode("ascii")
            bundle["text/plain"] = repr(self)
            # Viewers show one type per output and prefer HTML to PNG: the chart goes in it too.
            bundle["text/html"] = (f"<div class='statsig-browser-static'><p><b>{html.escape(self.summary)}</b></p>"
                                   f"<img alt='timeline' src='data:image/png;base64,{png}'/>"
                                   f"{_CSS}<div class='statsig-browser-table'>{self._table_html(0)}</div></div>")
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


def _fmt_span(span: pd.Timedelta) -> str:
    seconds = int(span.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min" if minutes else f"{seconds} s"



class _PageCounter:
    """A ``requests`` response hook that advances a progress bar page by page.

    ``read_events`` reads through the session it is given; each page's
    envelope says how many events the window holds (``totalItems``) and how
    many came with it. Updates are throttled: a million events are 10,000 pages.
    """

    def __init__(self, bar: widgets.IntProgress, label: widgets.Label, *, every: float = 0.1):
        self.bar, self.label, self.every = bar, label, every
        self.totals: dict[str, int] = {}
        self.rows = 0
        self._shown = 0.0
        self._lock = threading.Lock()

    def __call__(self, response: requests.Response, *args, **kwargs) -> None:
        if response.status_code != 200:
            return
        try:
            body = msgspec.json.decode(response.content)
            data, pagination = body.get("data"), body.get("pagination") or {}
        except (msgspec.DecodeError, AttributeError):
            return  # the reader reports a malformed page itself
        with self._lock:
            total = pagination.get("totalItems") if isinstance(pagination, dict) else None
            if isinstance(total, (int, float)) and not isinstance(total, bool):
                self.totals[urlsplit(response.url).path] = int(total)
            self.rows += len(data) if isinstance(data, list) else 0
            now = time.monotonic()
            if now - self._shown >= self.every:
                self._shown = now
                self.show()

    def show(self) -> None:
        total = max(sum(self.totals.values()), self.rows, 1)
        self.bar.max = total
        self.bar.value = min(self.rows, total)
        self.label.value = f"{self.rows:,} / {sum(self.totals.values()) or self.rows:,} events"


def _readable(exc: BaseException) -> str:
    """One line a user can act on, for an error shown in the UI."""
    if isinstance(exc, AuthenticationError):
        hint = "the API refused the key; check STATSIG_CONSOLE_API_KEY (a Console key) or pass api_key="
    elif isinstance(exc, NotFoundError):
        hint = "no such event (or endpoint); check the event name"
    elif isinstance(exc, StatsigConnectionError):
        hint = "could not reach the Statsig API"
    elif isinstance(exc, StatsigError):
        hint = "could not read the events"
    else:
        hint = f"unexpected error ({type(exc).__name__})"
    return f"{hint}: {exc}"


class LiveEventBrowser:
    """Fetch events by name with :func:`~statsig_pandas.read_events`, then browse them.

    An event-name box, a Fetch button and a progress bar; once the events are
    read, an :class:`EventBrowser` over them appears below. Errors (a bad key,
    an unknown event, the network) show as a message, not a traceback.

    Use :func:`browse` to make one.

    Attributes
    ----------
    names, fetch_button, progress, status : ipywidgets widgets
        The input box, the button, the progress bar and the message line.
    frame : pandas.DataFrame or None
        The events of the last successful fetch.
    browser : EventBrowser or None
        The browser over ``frame``.
    widget : ipywidgets.VBox
        The whole UI.
    """

    def __init__(self, names: str | Iterable[str] | None = None, *, debounce: float = 0.2, **read_options):
        self._read_options = read_options
        self._secret = read_options.get("api_key")
        self._debounce = debounce
        text = names if isinstance(names, str) else ", ".join(names or ())
        self.names = widgets.Text(value=text, placeholder="event names, comma-separated", description="Events",
                                  layout=widgets.Layout(width="420px"))
        self.fetch_button = widgets.Button(description="Fetch", icon="cloud-download", button_style="primary")
        self.progress = widgets.IntProgress(value=0, min=0, max=1, layout=widgets.Layout(width="240px",
                                                                                            visibility="hidden"))
        self.progress_label = widgets.Label()
        self.status = widgets.HTML()
        self.area = widgets.VBox()
        self.frame: pd.DataFrame | None = None
        self.browser: EventBrowser | None = None
        for name, widget in (("names", self.names), ("fetch", self.fetch_button), ("progress", self.progress),
                             ("progress-label", self.progress_label), ("status", self.status)):
            widget.add_class(f"statsig-live-{name}")
        self.widget = widgets.VBox([
            widgets.HBox([self.names, self.fetch_button, self.progress, self.progress_label],
                         layout=widgets.Layout(align_items="center")),
            self.status,
            self.area,
        ])
        self.widget.add_class("statsig-live")
        self.fetch_button.on_click(lambda _: self.fetch())

    def fetch(self) -> pd.DataFrame | None:
        """Read the events named in the box and show a browser over them.

        Returns the frame, or None when the read failed (the message says why).
        """
        names = [n.strip() for n in self.names.value.split(",") if n.strip()]
        if not names:
            self._say("type one or more event names, separated by commas", error=True)
            return None
        self.fetch_button.disabled = True
        self.progress.value, self.progress.max, self.progress.bar_style = 0, 1, "info"
        self.progress.layout.visibility = "visible"
        self.progress_label.value = ""
        self._say(f"reading {', '.join(names)}…")
        counter = _PageCounter(self.progress, self.progress_label)
        try:
            with requests.Session() as session, warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", StatsigWarning)
                session.hooks["response"].append(counter)
                frame = read_events(names, session=session, progress=False, **self._read_options)
        except Exception as exc:  # shown to the user instead of a traceback in a log
            self.progress.bar_style = "danger"
            self._say(_readable(exc), error=True)
            return None
        finally:
            self.fetch_button.disabled = False
        counter.show()
        self.progress.bar_style = "success"
        self.frame = frame
        self.browser = EventBrowser(frame, debounce=self._debounce)
        self.area.children = (self.browser.widget,)
        notes = "".join(f"<br><i>note: {html.escape(redact(str(w.message), self._secret))}</i>"
                        for w in caught if issubclass(w.category, StatsigWarning))
        self.status.value = f"read {len(frame):,} events of {html.escape(', '.join(names))}{notes}"
        return frame

    def _say(self, text: str, *, error: bool = False) -> None:
        text = html.escape(redact(text, self._secret))
        self.status.value = f"<span style='color:#b00'>{text}</span>" if error else text

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        bundle = dict(self.widget._repr_mimebundle_(include=include, exclude=exclude) or {})
        bundle["text/plain"] = repr(self)
        return bundle

    def __repr__(self) -> str:
        state = f"{len(self.frame):,} events" if self.frame is not None else "nothing fetched yet"
        return f"<LiveEventBrowser {state}>"


def browse(names: str | Iterable[str] | None = None, *, api_key: str | None = None, base_url: str | None = None,
           page_size: int = 100, max_concurrency: int = 4, errors: str = "raise", timeout: float = 30,
           debounce: float = 0.2) -> LiveEventBrowser:
    """Fetch Statsig events from a notebook and browse them.

    Shows an event-name box, a Fetch button and a progress bar. Fetch reads
    the events with :func:`~statsig_pandas.read_events` (the key comes from
    ``$STATSIG_CONSOLE_API_KEY`` unless given) and shows an
    :class:`EventBrowser` over them; errors show as a readable message.

    Parameters
    ----------
    names : str or list of str, optional
        Event names to fill the box with.
    api_key, base_url, page_size, max_concurrency, errors, timeout
        Passed to :func:`~statsig_pandas.read_events`.
    debounce : float, default 0.2
        Passed to :class:`EventBrowser`.

    Returns
    -------
    LiveEventBrowser
        Display it (leave it last in a cell); ``.frame`` holds the events read.

    Examples
    --------
    >>> import statsig_pandas
    >>> live = statsig_pandas.browse("add_to_cart")   # doctest: +SKIP
    >>> live                                            # doctest: +SKIP
    >>> live.frame.statsig.summary()                    # doctest: +SKIP
    """
    return LiveEventBrowser(names, debounce=debounce, api_key=api_key, base_url=base_url, page_size=page_size,
                            max_concurrency=max_concurrency, errors=errors, timeout=timeout)
