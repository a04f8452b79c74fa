"""``df.statsig``: the events frame's accessor, a thin front to :mod:`~statsig_pandas.analysis`
and :mod:`~statsig_pandas.plotting`.

It keeps nothing but the frame: pandas may build a new accessor on every
attribute access, so every call computes from the frame as it is now.
Registered by ``import statsig_pandas``.

>>> import statsig_pandas  # doctest: +SKIP
>>> df = pd.read_statsig_events("add_to_cart")  # doctest: +SKIP
>>> df.statsig.where(source="js-client").statsig.timeline("D")  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from . import analysis, engagement, funnels, journeys, plotting, retention

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from .browser import EventBrowser

__all__ = ["StatsigAccessor"]


class StatsigAccessor:
    """Analysis and plots of a frame of Statsig events, as ``df.statsig``.

    Works on any frame with the columns of :func:`statsig_pandas.read_events`
    (``timestamp``, ``name``, ``source``, ``value``, ``userID``), including a
    filtered or concatenated one or one read back from Parquet. Every method
    is also a plain function of :mod:`statsig_pandas.analysis` or
    :mod:`statsig_pandas.plotting` taking the frame first.

    Parameters
    ----------
    pandas_obj : pandas.DataFrame
        The frame.

    Raises
    ------
    statsig_pandas.analysis.FrameSchemaError
        (an :class:`AttributeError`) naming the missing columns, or a
        ``timestamp`` column that is not a datetime.

    Examples
    --------
    >>> import statsig_pandas
    >>> from statsig_pandas.testing.synthetic import synthetic_frame
    >>> df = synthetic_frame(1_000, seed=1, end_ms=1_774_000_000_000)
    >>> df.statsig.value_counts("source", top=2).index.tolist()
    ['js-client', 'statsig-node']
    >>> int(df.statsig.where(source="js-client").statsig.timeline("D").sum())
    432
    """

    def __init__(self, pandas_obj: pd.DataFrame):
        analysis.validate_frame(pandas_obj)
        self._obj = pandas_obj

    # ------------------------------------------------------------ analysis

    def value_counts(self, column: str = "value", *, top: int | None = None, normalize: bool = False,
                     dropna: bool = True) -> pd.Series:
        """Events per distinct value of ``column``, most frequent first; see :func:`.analysis.value_counts`.

        Examples
        --------
        >>> df.statsig.value_counts(top=3)  # doctest: +SKIP
        """
        return analysis.value_counts(self._obj, column, top=top, normalize=normalize, dropna=dropna)

    def timeline(self, freq: Any = "h", *, by: str | None = None, users: bool = False, tz: Any = None,
                 start: Any = None, end: Any = None) -> pd.Series | pd.DataFrame:
        """Events (or distinct users) per time bucket, empty buckets 0; see :func:`.analysis.timeline`.

        Examples
        --------
        >>> df.statsig.timeline("D", by="source", tz="Europe/Paris")  # doctest: +SKIP
        """
        return analysis.timeline(self._obj, freq=freq, by=by, users=users, tz=tz, start=start, end=end)

    def unique_users(self, freq: Any = "D", *, tz: Any = None) -> pd.Series:
        """Distinct users per bucket (DAU; WAU with ``freq="W"``); see :func:`.analysis.unique_users`.

        Examples
        --------
        >>> df.statsig.unique_users("W")  # doctest: +SKIP
        """
        return analysis.unique_users(self._obj, freq=freq, tz=tz)

    def summary(self, *, top: int = 5) -> pd.DataFrame:
        """The small table that heads a report; see :func:`.analysis.summary`.

        Examples
        --------
        >>> df.statsig.summary()  # doctest: +SKIP
        """
        return analysis.summary(self._obj, top=top)

    def activity(self, *, tz: Any = None) -> pd.DataFrame:
        """Events by day of week and hour of day; see :func:`.analysis.activity`.

        Examples
        --------
        >>> df.statsig.activity(tz="Europe/Paris")  # doctest: +SKIP
        """
        return analysis.activity(self._obj, tz=tz)

    def numeric_value(self) -> pd.Series:
        """``value`` as floats (``""`` and non-numbers NaN); see :func:`.analysis.numeric_value`.

        Examples
        --------
        >>> df.statsig.where(name="purchase").statsig.numeric_value().sum()  # doctest: +SKIP
        """
        return analysis.numeric_value(self._obj)

    # ------------------------------------------------------------ filters

    def between(self, start: Any = None, end: Any = None, *, tz: Any = None) -> pd.DataFrame:
        """The events with ``start <= timestamp < end``; see :func:`.analysis.between`.

        ``start`` and ``end`` may both be given by position: a range reads as
        a pair.

        Examples
        --------
        >>> df.statsig.between("2026-03-01", "2026-03-08").statsig.unique_users()  # doctest: +SKIP
        """
        return analysis.between(self._obj, start=start, end=end, tz=tz)

    def where(self, *, value: Any = None, source: Any = None, user: Any = None, name: Any = None) -> pd.DataFrame:
        """The events matching every criterion (a string or a list each); see :func:`.analysis.where`.

        Examples
        --------
        >>> df.statsig.where(source="js-client", value=["", "books"])  # doctest: +SKIP
        """
        return analysis.where(self._obj, value=value, source=source, user=user, name=name)

    # ------------------------------------------------------------ plots

    def plot_timeline(self, freq: Any = "h", *, by: str | None = None, users: bool = False, tz: Any = None,
                      start: Any = None, end: Any = None, ax: Axes | None = None, title: str | None = None) -> Axes:
        """Line chart of :meth:`timeline`; see :func:`.plotting.plot_timeline`.

        Examples
        --------
        >>> df.statsig.plot_timeline("D", by="source")  # doctest: +SKIP
        """
        return plotting.plot_timeline(self._obj, freq=freq, by=by, users=users, tz=tz, start=start, end=end, ax=ax,
                                      title=title)

    def plot_value_counts(self, column: str = "value", *, top: int = 10, ax: Axes | None = None,
                          title: str | None = None) -> Axes:
        """Bar chart of the most frequent values; see :func:`.plotting.plot_value_counts`.

        Examples
        --------
        >>> df.statsig.plot_value_counts(top=5)  # doctest: +SKIP
        """
        return plotting.plot_value_counts(self._obj, column, top=top, ax=ax, title=title)

    def plot_activity_heatmap(self, *, tz: Any = None, ax: Axes | None = None, title: str | None = None) -> Axes:
        """Heatmap of :meth:`activity`; see :func:`.plotting.plot_activity_heatmap`.

        Examples
        --------
        >>> df.statsig.plot_activity_heatmap(tz="Europe/Paris")  # doctest: +SKIP
        """
        return plotting.plot_activity_heatmap(self._obj, tz=tz, ax=ax, title=title)

    # ------------------------------------------------------------ browser

    def browse(self, *, debounce: float = 0.2, page_size: int = 20, top_values: int = 12) -> EventBrowser:
        """Explore the frame in a notebook: filters, charts, a paged table, CSV export.

        See :class:`statsig_pandas.browser.EventBrowser`.

        Examples
        --------
        >>> df.statsig.browse()  # doctest: +SKIP
        """
        from .browser import EventBrowser

        return EventBrowser(self._obj, debounce=debounce, page_size=page_size, top_values=top_values)

    # ------------------------------------------------------------ funnels and retention

    def funnel(self, steps: Any, *, within: Any = "14D", order: str = "ordered", reentry: bool = True,
               by: str | None = None, top: int = 10, exclude: Any = None, start: Any = None, end: Any = None,
               unit: str = "userID") -> pd.DataFrame:
        """Units reaching each step, conversion, drop-off, time between steps; see :func:`.funnels.funnel`.

        Examples
        --------
        >>> df.statsig.funnel(["page_view", "add_to_cart", "purchase"], within="1D")  # doctest: +SKIP
        """
        return funnels.funnel(self._obj, steps, within=within, order=order, reentry=reentry, by=by, top=top,
                              exclude=exclude, start=start, end=end, unit=unit)

    def funnel_trend(self, steps: Any, *, freq: Any = "D", within: Any = "14D", order: str = "ordered",
                     reentry: bool = True, exclude: Any = None, start: Any = None, end: Any = None, tz: Any = None,
                     unit: str = "userID") -> pd.DataFrame:
        """Entered, converted and conversion per entry bucket; see :func:`.funnels.funnel_trend`.

        Examples
        --------
        >>> df.statsig.funnel_trend(["page_view", "purchase"], freq="W", within="1D")  # doctest: +SKIP
        """
        return funnels.funnel_trend(self._obj, steps, freq=freq, within=within, order=order, reentry=reentry,
                                    exclude=exclude, start=start, end=end, tz=tz, unit=unit)

    def retention(self, start_event: Any = None, return_event: Any = None, *, period: Any = "D", periods: int = 8,
                  cohorts: str = "recurring", mode: str = "calendar", cumulative: bool = False, values: str = "rate",
                  tz: Any = None, unit: str = "userID") -> pd.DataFrame:
        """The retention triangle, cohorts by offsets; see :func:`.retention.retention`.

        Examples
        --------
        >>> df.statsig.retention("signup", "page_view", period="W", periods=6)  # doctest: +SKIP
        """
        return retention.retention(self._obj, start_event, return_event, period=period, periods=periods,
                                   cohorts=cohorts, mode=mode, cumulative=cumulative, values=values, tz=tz,
                                   unit=unit)

    def retention_curve(self, start_event: Any = None, return_event: Any = None, *, period: Any = "D",
                        periods: int = 8, cohorts: str = "recurring", mode: str = "calendar",
                        cumulative: bool = False, tz: Any = None, unit: str = "userID") -> pd.Series:
        """The weighted mean retention by offset, over complete cells; see :func:`.retention.retention_curve`.

        Examples
        --------
        >>> df.statsig.retention_curve(periods=14)  # doctest: +SKIP
        """
        return retention.retention_curve(self._obj, start_event, return_event, period=period, periods=periods,
                                         cohorts=cohorts, mode=mode, cumulative=cumulative, tz=tz, unit=unit)

    def plot_funnel(self, steps: Any, *, within: Any = "14D", order: str = "ordered", reentry: bool = True,
                    by: str | None = None, top: int = 10, exclude: Any = None, start: Any = None, end: Any = None,
                    unit: str = "userID", ax: Axes | None = None, title: str | None = None) -> Axes:
        """Bars per step over a hatched drop-off backdrop; see :func:`.plotting.plot_funnel`.

        Examples
        --------
        >>> df.statsig.plot_funnel(["page_view", "add_to_cart", "purchase"], by="source", top=3)  # doctest: +SKIP
        """
        return plotting.plot_funnel(self._obj, steps, within=within, order=order, reentry=reentry, by=by, top=top,
                                    exclude=exclude, start=start, end=end, unit=unit, ax=ax, title=title)

    def plot_funnel_trend(self, steps: Any, *, freq: Any = "D", within: Any = "14D", order: str = "ordered",
                          reentry: bool = True, exclude: Any = None, start: Any = None, end: Any = None,
                          tz: Any = None, unit: str = "userID", ax: Axes | None = None,
                          title: str | None = None) -> Axes:
        """Conversion per entry bucket, incomplete buckets hollow; see :func:`.plotting.plot_funnel_trend`.

        Examples
        --------
        >>> df.statsig.plot_funnel_trend(["page_view", "purchase"], within="1D")  # doctest: +SKIP
        """
        return plotting.plot_funnel_trend(self._obj, steps, freq=freq, within=within, order=order, reentry=reentry,
                                          exclude=exclude, start=start, end=end, tz=tz, unit=unit, ax=ax, title=title)

    def plot_retention(self, start_event: Any = None, return_event: Any = None, *, period: Any = "D",
                       periods: int = 8, cohorts: str = "recurring", mode: str = "calendar",
                       cumulative: bool = False, tz: Any = None, unit: str = "userID", ax: Axes | None = None,
                       title: str | None = None) -> Axes:
        """The triangle as a 0-100 % heatmap with sizes and a mean row; see :func:`.plotting.plot_retention`.

        Examples
        --------
        >>> df.statsig.plot_retention(periods=14)  # doctest: +SKIP
        """
        return plotting.plot_retention(self._obj, start_event, return_event, period=period, periods=periods,
                                       cohorts=cohorts, mode=mode, cumulative=cumulative, tz=tz, unit=unit, ax=ax,
                                       title=title)

    def plot_retention_curve(self, start_event: Any = None, return_event: Any = None, *, period: Any = "D",
                             periods: int = 8, cohorts: str = "recurring", mode: str = "calendar",
                             cumulative: bool = False, tz: Any = None, unit: str = "userID",
                             ax: Axes | None = None, title: str | None = None) -> Axes:
        """Retention by offset, one faint line per cohort and the bold mean; see
        :func:`.plotting.plot_retention_curve`.

        Examples
        --------
        >>> df.statsig.plot_retention_curve(periods=14)  # doctest: +SKIP
        """
        return plotting.plot_retention_curve(self._obj, start_event, return_event, period=period, periods=periods,
                                             cohorts=cohorts, mode=mode, cumulative=cumulative, tz=tz, unit=unit,
                                             ax=ax, title=title)

    # ------------------------------------------------------------ engagement and journeys

    def lifecycle(self, freq: Any = "W", *, event: Any = None, tz: Any = None, unit: str = "userID") -> pd.DataFrame:
        """New, returning, resurrecting and dormant (<= 0) units per bucket; see :func:`.engagement.lifecycle`.

        Examples
        --------
        >>> df.statsig.lifecycle("W", event="purchase")  # doctest: +SKIP
        """
        return engagement.lifecycle(self._obj, freq=freq, event=event, tz=tz, unit=unit)

    def stickiness(self, freq: Any = "D", *, per: Any = "W", event: Any = None, cumulative: bool = False,
                   tz: Any = None, unit: str = "userID") -> pd.DataFrame:
        """Unit-periods by number of active buckets (days a week, ...); see :func:`.engagement.stickiness`.

        Examples
        --------
        >>> df.statsig.stickiness("D", per="W", cumulative=True)  # doctest: +SKIP
        """
        return engagement.stickiness(self._obj, freq=freq, per=per, event=event, cumulative=cumulative, tz=tz,
                                     unit=unit)

    def sessions(self, *, gap: Any = "30min", max_length: Any = None, unit: str = "userID") -> pd.DataFrame:
        """One row per session, cut at pauses of ``gap`` or more; see :func:`.journeys.sessions`.

        Examples
        --------
        >>> df.statsig.sessions(gap="30min", max_length="4h")  # doctest: +SKIP
        """
        return journeys.sessions(self._obj, gap=gap, max_length=max_length, unit=unit)

    def paths(self, start: Any = None, end: Any = None, *, steps: int = 5, gap: Any = "30min",
              collapse_repeats: bool = True, top: int | None = 50, unit: str = "userID") -> pd.DataFrame:
        """The edges of the units' journeys (step, source, target, value, mean_gap); see :func:`.journeys.paths`.

        Examples
        --------
        >>> df.statsig.paths(start="page_view", steps=4)  # doctest: +SKIP
        """
        return journeys.paths(self._obj, start=start, end=end, steps=steps, gap=gap,
                              collapse_repeats=collapse_repeats, top=top, unit=unit)

    def plot_lifecycle(self, freq: Any = "W", *, event: Any = None, tz: Any = None, unit: str = "userID",
                       ax: Axes | None = None, title: str | None = None) -> Axes:
        """Stacked bars of :meth:`lifecycle`, dormant below zero; see :func:`.plotting.plot_lifecycle`.

        Examples
        --------
        >>> df.statsig.plot_lifecycle("W")  # doctest: +SKIP
        """
        return plotting.plot_lifecycle(self._obj, freq=freq, event=event, tz=tz, unit=unit, ax=ax, title=title)

    def plot_stickiness(self, freq: Any = "D", *, per: Any = "W", event: Any = None, cumulative: bool = False,
                        tz: Any = None, unit: str = "userID", ax: Axes | None = None,
                        title: str | None = None) -> Axes:
        """Bars of :meth:`stickiness` ("1 day", "2 days", ...); see :func:`.plotting.plot_stickiness`.

        Examples
        --------
        >>> df.statsig.plot_stickiness("D", per="W")  # doctest: +SKIP
        """
        return plotting.plot_stickiness(self._obj, freq=freq, per=per, event=event, cumulative=cumulative, tz=tz,
                                        unit=unit, ax=ax, title=title)

    def plot_paths(self, start: Any = None, end: Any = None, *, steps: int = 5, gap: Any = "30min",
                   collapse_repeats: bool = True, top: int | None = 50, unit: str = "userID",
                   min_share: float = 0.02, ax: Axes | None = None, title: str | None = None) -> Axes:
        """Sankey diagram of :meth:`paths`; see :func:`.plotting.plot_paths`.

        Examples
        --------
        >>> df.statsig.plot_paths(start="page_view")  # doctest: +SKIP
        """
        return plotting.plot_paths(self._obj, start=start, end=end, steps=steps, gap=gap,
                                   collapse_repeats=collapse_repeats, top=top, unit=unit, min_share=min_share,
                                   ax=ax, title=title)
