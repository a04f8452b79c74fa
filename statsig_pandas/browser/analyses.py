"""The event browser's analysis views: funnel, retention, lifecycle and paths of the filtered events.

Each view is a tab beside the explore view. Its controls choose what to
compute (steps, events, periods); the browser's shared filters (event,
source, values, user, time range) choose the rows, taken from the
:class:`~statsig_pandas.browser.state.BrowserState` as the explore view takes
them. A view computes in the kernel only while it is shown: a filter change
redraws the visible view, and a tab opened later computes then. Results (the
chart's PNG and the table) are cached per filter state and options.

>>> from statsig_pandas.browser import EventBrowser
>>> from statsig_pandas.testing.synthetic import synthetic_frame
>>> browser = EventBrowser(synthetic_frame(2_000, seed=1, end_ms=1_774_000_000_000), debounce=0)
>>> funnel = browser.analyses.select("funnel")
>>> funnel.steps = ["page_view", "purchase"]
>>> funnel.result[["event", "units"]].iloc[0].tolist() == ["page_view", int(funnel.result["units"].iloc[0])]
True
>>> browser.controls.user.value = "no such user"
>>> funnel.message.value
"<span style='color:#8a5300'>No events match the filters.</span>"
"""

from __future__ import annotations

import base64
import html
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd

from .. import _timebuckets, engagement, funnels, journeys, plotting, retention
from ..errors import StatsigError, StatsigWarning
from . import _charts
from ._debounce import Debouncer
from .state import ALL, BrowserState, Filters

__all__ = ["AnalysisView", "FunnelView", "RetentionView", "LifecycleView", "PathsView", "Analyses", "Outcome"]

#: Steps a funnel view takes.
MIN_STEPS, MAX_STEPS = 2, 6
# Analysis charts need more room than the explore view's two small ones.
FIGSIZE = (8.0, 4.2)
_WIDTH = f"{FIGSIZE[0] * _charts.DPI:.0f}px"
_NONE = "—"
TABLE_ROWS = 20


@dataclass(frozen=True)
class Outcome:
    """What a view shows for one filter state and set of options, its chart aside (:meth:`AnalysisView.png`)."""

    result: Any  # the computed table (None when nothing could be computed)
    table: str  # HTML
    message: str  # plain text; "" when all is well
    key: Any = None  # what it was computed for: (view, filters, options)
    options: Any = None


def _png(draw: Callable[[Any], Any]) -> bytes:
    def sized(ax):
        ax.figure.set_size_inches(FIGSIZE)
        draw(ax)
    return _charts.png(sized)


def _pct(x: Any) -> str:
    return "" if pd.isna(x) else f"{x:.1%}"


def _duration(x: Any) -> str:
    return "" if pd.isna(x) else _timebuckets.format_duration(pd.Timedelta(x))


class AnalysisView:
    """One analysis tab: its controls, a message line, a chart and a table.

    Subclasses give :attr:`name`, :attr:`title`, the controls, how they read
    as options (:meth:`options`), how to compute from the filtered rows
    (:meth:`compute`), draw (:meth:`draw`) and tabulate (:meth:`tabulate`).

    Attributes
    ----------
    controls : dict of str to ipywidgets.Widget
        The view's input widgets; set their ``.value`` to drive it from code.
    message, chart, table : ipywidgets.HTML, ipywidgets.Image, ipywidgets.HTML
        What the view shows: a message (empty when all is well), the chart as
        PNG and the table.
    widget : ipywidgets.VBox
        The whole view, a tab of the browser.
    """

    name = ""
    title = ""

    def __init__(self, state: BrowserState, filters: Callable[[], Filters], names: list, *, debounce: float):
        self.state = state
        self._filters = filters
        self.visible = False
        self.redraws = 0  # counted for the tests: computed (or taken from the cache) and shown
        self._shown: Any = None  # the key of what the widgets show
        self.controls = self._build_controls(names)
        self.message = widgets.HTML()
        self.chart = widgets.Image(format="png", layout=widgets.Layout(width=_WIDTH))
        self.table = widgets.HTML()
        for field, widget in (*self.controls.items(), ("message", self.message), ("chart", self.chart),
                              ("table", self.table)):
            widget.add_class(f"statsig-{self.name}-{field.replace('_', '-')}")
        rows = [widgets.HBox(list(self.controls.values())[i:i + 3]) for i in range(0, len(self.controls), 3)]
        self.widget = widgets.VBox([*rows, self.message, self.chart, self.table])
        self.widget.add_class(f"statsig-browser-{self.name}")
        self._debouncer = Debouncer(self._redraw_reporting, debounce)
        for control in self.controls.values():
            control.observe(lambda _: self._debouncer(), names="value")

    # -- what subclasses give ---------------------------------------------
    def _build_controls(self, names: list) -> dict[str, widgets.Widget]:
        raise NotImplementedError

    def options(self) -> dict[str, Any]:
        """The controls as keyword arguments of the analysis (hashable values); by default each
        control's value under its name, the no-event choice as None.

        Raises
        ------
        StatsigError
            If the controls do not make a valid analysis.
        """
        return _values(self.controls)

    def compute(self, frame: pd.DataFrame, options: dict[str, Any]) -> Any:
        raise NotImplementedError

    def draw(self, result: Any, options: dict[str, Any], ax: Any) -> None:
        raise NotImplementedError

    def tabulate(self, result: Any) -> pd.DataFrame:
        raise NotImplementedError

    # -- computing ----------------------------------------------------------
    def outcome(self) -> Outcome:
        """What the view shows for the current filters and controls (cached)."""
        filters = self._filters()
        try:
            options = self.options()
        except StatsigError as exc:
            return Outcome(None, "", str(exc))
        key = (self.name, filters, tuple(options.items()))
        return self.state.cached("analysis", key, lambda: self._outcome(key, filters, options))

    def _outcome(self, key: Any, filters: Filters, options: dict[str, Any]) -> Outcome:
        frame = self.state.matching(filters)
        if not len(frame):
            return Outcome(None, "", "No events match the filters.")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", StatsigWarning)
            try:
                result = self.compute(frame, options)
            except StatsigError as exc:
                return Outcome(None, "", str(exc))
        notes = []
        for w in caught:  # ours become the view's message; anything else goes on as it came
            if issubclass(w.category, StatsigWarning):
                notes.append(str(w.message))
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        shown = self.tabulate(result)
        table = shown.to_html(index=False, border=0, classes="dataframe", na_rep="") if len(shown) else ""
        return Outcome(result, table, " ".join(dict.fromkeys(notes)), key, options)

    def png(self) -> bytes:
        """The chart for the current filters and controls as PNG (cached; empty when there is no result)."""
        with self.state.lock:
            out = self.outcome()
            if out.result is None:
                return b""
            return self.state.cached("analysis_png", out.key,
                                     lambda: _png(lambda ax: self.draw(out.result, out.options, ax)))

    @property
    def result(self) -> Any:
        """The computed table for the current filters and controls (None if none could be computed)."""
        with self.state.lock:
            return self.outcome().result

    # -- showing ------------------------------------------------------------
    def _redraw_reporting(self) -> None:
        # A debounced redraw runs outside any cell: an error would only reach a log.
        try:
            self.redraw()
        except Exception as exc:
            self.message.value = (f"<span style='color:#b00'>could not redraw: "
                                  f"{html.escape(f'{type(exc).__name__}: {exc}')}</span>")
            raise

    def redraw(self, *, force: bool = False) -> None:
        """Show what the current filters and controls give; nothing to do while hidden
        (unless ``force``) or when it shows that already."""
        if not (self.visible or force):
            return
        with self.state.lock:
            out = self.outcome()
            if out is not self._shown:
                self._shown = out
                # Text first: each value reaches the page as soon as it is set, and the chart takes longer.
                self.message.value = f"<span style='color:#8a5300'>{html.escape(out.message)}</span>" \
                    if out.message else ""
                self.table.value = f"<div class='statsig-browser-table'>{out.table}</div>" if out.table else ""
                png = self.png()
                self.chart.value = png
                self.chart.layout.display = None if png else "none"
            self.redraws += 1

    @property
    def pending(self) -> bool:
        """Whether a redraw waits for its debounce."""
        return self._debouncer.pending

    def refresh(self) -> None:
        """Redraw now (a redraw waiting for its debounce runs at once)."""
        if self._debouncer.pending:
            self._debouncer.flush()
        else:
            self.redraw()

    def static_html(self) -> str:
        """The view as plain HTML (its title, message, chart and table), for viewers without widgets."""
        with self.state.lock:
            out, png = self.outcome(), self.png()
        parts = [f"<p><b>{html.escape(self.title)}</b></p>"]
        if out.message:
            parts.append(f"<p><i>{html.escape(out.message)}</i></p>")
        if png:
            data = base64.b64encode(png).decode("ascii")
            parts.append(f"<img alt='{self.name}' src='data:image/png;base64,{data}'/>")
        if out.table:
            parts.append(f"<div class='statsig-browser-table'>{out.table}</div>")
        return "".join(parts)


def _event_options(names: list, none: str) -> list[tuple[str, Any]]:
    # ALL, not None, for the choice of no event: a drop-down reads None as no selection (a blank box).
    return [(none, ALL), *((str(n), n) for n in names)]


def _values(controls: dict[str, widgets.Widget]) -> dict[str, Any]:
    """The controls' values as options, the no-event choice as None."""
    return {k: None if c.value is ALL else c.value for k, c in controls.items()}


class FunnelView(AnalysisView):
    """Units reaching each of 2 to 6 steps, in order, within a window (:func:`~statsig_pandas.funnels.funnel`)."""

    name, title = "funnel", "Funnel"
    WINDOWS = (("1 hour", "1h"), ("1 day", "1D"), ("7 days", "7D"), ("14 days", "14D"), ("30 days", "30D"))
    ORDERS = (("ordered", "ordered"), ("strict", "strict"), ("any order", "any"))

    def _build_controls(self, names):
        controls = {}
        for k in range(MAX_STEPS):
            default = names[k] if k < min(3, len(names)) else ALL
            controls[f"step_{k + 1}"] = widgets.Dropdown(options=_event_options(names, _NONE), value=default,
                                                         description=f"Step {k + 1}",
                                                         layout=widgets.Layout(width="240px"))
        controls["within"] = widgets.Dropdown(options=self.WINDOWS, value="1D", description="Within",
                                              layout=widgets.Layout(width="240px"))
        controls["order"] = widgets.ToggleButtons(options=self.ORDERS, value="ordered", description="Order",
                                                  style={"button_width": "90px"})
        return controls

    @property
    def steps(self) -> list:
        """The chosen steps, in order (the unset ones left out)."""
        return [self.controls[f"step_{k + 1}"].value for k in range(MAX_STEPS)
                if self.controls[f"step_{k + 1}"].value is not ALL]

    @steps.setter
    def steps(self, steps: list) -> None:
        steps = list(steps)
        _check_steps(steps)
        choices = {v for _, v in self.controls["step_1"].options}
        unknown = [s for s in steps if s not in choices]
        if unknown:
            raise StatsigError(f"no event named {unknown[0]!r} in the frame")
        with self.controls["step_1"].hold_trait_notifications():
            for k in range(MAX_STEPS):
                self.controls[f"step_{k + 1}"].value = steps[k] if k < len(steps) else ALL

    def options(self):
        steps = tuple(self.steps)
        _check_steps(steps)
        return {"steps": steps, "within": self.controls["within"].value, "order": self.controls["order"].value}

    def compute(self, frame, options):
        return funnels.funnel(frame, list(options["steps"]), within=options["within"], order=options["order"])

    def draw(self, result, options, ax):
        plotting.draw_funnel(result, within=options["within"], order=options["order"], ax=ax)

    def tabulate(self, result):
        return pd.DataFrame({
            "step": result.index, "event": result["event"].astype(str).to_numpy(),
            "units": [f"{u:,}" for u in result["units"]], "conversion": [_pct(x) for x in result["conversion"]],
            "from previous": [_pct(x) for x in result["step_conversion"]],
            "dropped": [f"{d:,}" for d in result["dropped"]],
            "median time": [_duration(x) for x in result["median_time"]]})


def _check_steps(steps) -> None:
    if not MIN_STEPS <= len(steps) <= MAX_STEPS:
        raise StatsigError(f"Pick {MIN_STEPS} to {MAX_STEPS} steps (now {len(steps)}).")


class RetentionView(AnalysisView):
    """The retention triangle: cohorts by period, the share back k periods on
    (:func:`~statsig_pandas.retention.retention`)."""

    name, title = "retention", "Retention"
    PERIODS = (("day", "D"), ("week", "W"), ("month", "MS"))
    COHORTS = (("recurring", "recurring"), ("first time", "first_time"))

    def _build_controls(self, names):
        return {
            "start_event": widgets.Dropdown(options=_event_options(names, "any event"), value=ALL,
                                            description="Start", layout=widgets.Layout(width="240px")),
            "return_event": widgets.Dropdown(options=_event_options(names, "the start event"), value=ALL,
                                             description="Return", layout=widgets.Layout(width="240px")),
            "periods": widgets.BoundedIntText(value=8, min=2, max=30, description="Periods",
                                              layout=widgets.Layout(width="160px")),
            "period": widgets.ToggleButtons(options=self.PERIODS, value="D", description="Period",
                                            style={"button_width": "70px"}),
            "cohorts": widgets.ToggleButtons(options=self.COHORTS, value="recurring", description="Cohorts",
                                             style={"button_width": "90px"}),
        }

    def compute(self, frame, options):
        units = retention.retention(frame, options["start_event"], options["return_event"], values="units",
                                    period=options["period"], periods=options["periods"], cohorts=options["cohorts"])
        return units

    def draw(self, result, options, ax):
        plotting.draw_retention(result, retention.mean_curve(result), start_event=options["start_event"],
                                return_event=options["return_event"], period=options["period"], ax=ax)

    def tabulate(self, result):
        sizes = result["units"].to_numpy()
        counts = result.drop(columns="units")
        with np.errstate(divide="ignore", invalid="ignore"):
            rates = counts.to_numpy(dtype=float) / np.where(sizes > 0, sizes, np.nan)[:, None]
        out = pd.DataFrame({"cohort": result.index.strftime("%Y-%m-%d %H:%M"), "units": sizes})
        for j, column in enumerate(counts.columns):
            out[f"{column}"] = [_pct(x) for x in rates[:, j]]
        return out


class LifecycleView(AnalysisView):
    """New, returning, resurrecting and dormant units per bucket (:func:`~statsig_pandas.engagement.lifecycle`)."""

    name, title = "lifecycle", "Lifecycle"
    FREQS = (("day", "D"), ("week", "W"), ("month", "MS"))

    def _build_controls(self, names):
        return {
            "event": widgets.Dropdown(options=_event_options(names, "any event"), value=ALL,
                                      description="Active", layout=widgets.Layout(width="240px")),
            "freq": widgets.ToggleButtons(options=self.FREQS, value="D", description="Bucket",
                                          style={"button_width": "70px"}),
        }

    def compute(self, frame, options):
        return engagement.lifecycle(frame, options["freq"], event=options["event"])

    def draw(self, result, options, ax):
        plotting.draw_lifecycle(result, freq=options["freq"], ax=ax)

    def tabulate(self, result):
        return result.reset_index().assign(**{result.index.name or "bucket": result.index.strftime("%Y-%m-%d %H:%M")})


class PathsView(AnalysisView):
    """Where units go from an event, step by step, as a Sankey diagram (:func:`~statsig_pandas.journeys.paths`)."""

    name, title = "paths", "Paths"

    def _build_controls(self, names):
        return {
            "start": widgets.Dropdown(options=_event_options(names, "any event"), value=names[0] if names else ALL,
                                      description="From", layout=widgets.Layout(width="240px")),
            "steps": widgets.BoundedIntText(value=4, min=2, max=8, description="Steps",
                                            layout=widgets.Layout(width="160px")),
        }

    def compute(self, frame, options):
        return journeys.paths(frame, options["start"], steps=options["steps"])

    def draw(self, result, options, ax):
        plotting.draw_paths(result, start=options["start"], ax=ax)

    def tabulate(self, result):
        shown = result.head(TABLE_ROWS)
        return pd.DataFrame({"step": shown["step"].to_numpy(), "from": shown["source"].astype(str).to_numpy(),
                             "to": shown["target"].astype(str).to_numpy(),
                             "units": [f"{v:,}" for v in shown["value"]],
                             "mean gap": [_duration(x) for x in shown["mean_gap"]]})


VIEWS = (FunnelView, RetentionView, LifecycleView, PathsView)


class Analyses:
    """The analysis views of a browser and the tabs that hold them beside the explore view.

    Parameters
    ----------
    state : BrowserState
        The browser's indexed frame and cache.
    filters : callable
        Returns the browser's current :class:`~statsig_pandas.browser.state.Filters`.
    debounce : float
        Seconds of quiet after a view's control changes before it redraws.

    Attributes
    ----------
    views : dict of str to AnalysisView
        ``"funnel"``, ``"retention"``, ``"lifecycle"``, ``"paths"``.
    tabs : ipywidgets.Tab or None
        Made by :meth:`tabbed`; tab 0 is the explore view.
    """

    def __init__(self, state: BrowserState, filters: Callable[[], Filters], *, debounce: float):
        counts = state.df["name"].value_counts(sort=True, dropna=True)
        names = [n for n in counts.index if counts[n] > 0]
        self.views: dict[str, AnalysisView] = {cls.name: cls(state, filters, names, debounce=debounce)
                                               for cls in VIEWS}
        self.tabs: widgets.Tab | None = None
        self._on_explore: Callable[[], None] = lambda: None

    def tabbed(self, explore: widgets.Widget, on_explore: Callable[[], None]) -> widgets.Tab:
        """A Tab of ``explore`` and the views; ``on_explore`` runs when the explore tab is opened."""
        self._on_explore = on_explore
        self.tabs = widgets.Tab(children=[explore, *(v.widget for v in self.views.values())],
                                titles=["Explore", *(v.title for v in self.views.values())])
        self.tabs.add_class("statsig-browser-tabs")
        self.tabs.observe(self._on_tab, names="selected_index")
        return self.tabs

    @property
    def shown(self) -> AnalysisView | None:
        """The visible analysis view (None: the explore view)."""
        index = self.tabs.selected_index if self.tabs is not None else 0
        return list(self.views.values())[index - 1] if index else None

    def select(self, name: str | None) -> AnalysisView | None:
        """Open the tab of view ``name`` (None or ``"explore"``: the explore view); return the view."""
        names = ["explore", *self.views]
        key = "explore" if name is None else name
        if key not in names:
            raise StatsigError(f"no view named {name!r}; the views are {', '.join(names)}")
        self.tabs.selected_index = names.index(key)
        return self.shown

    def _on_tab(self, change) -> None:
        for view in self.views.values():
            view.visible = view is self.shown
        if self.shown is None:
            self._on_explore()
        else:
            self.shown.redraw()

    def filters_changed(self) -> None:
        """Redraw the visible view for the new filters (the others compute when opened)."""
        if self.shown is not None:
            self.shown.redraw()
