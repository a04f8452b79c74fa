"""What the event browser knows, without a widget: the frame indexed once, filters, cached results.

:class:`BrowserState` factorises the filterable columns once, so that a
filter (:class:`Filters`) becomes one boolean mask built from table look-ups
over integer codes; from the mask come the matching positions, the rows
newest first for the table, and the numbers and series the charts draw.
Results are cached per filter state, so going back to an earlier filter
redraws from memory. The view (:mod:`statsig_pandas.browser.view`) turns
controls into :class:`Filters` and results into widgets.

>>> from statsig_pandas.browser.state import BrowserState, Filters
>>> from statsig_pandas.testing.synthetic import synthetic_frame
>>> state = BrowserState(synthetic_frame(1_000, seed=1, end_ms=1_774_000_000_000))
>>> purchases = Filters(name="purchase")
>>> state.matches(purchases) == int((state.df["name"] == "purchase").sum())
True
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import _kernels, _timebuckets, analysis

__all__ = ["ALL", "Filters", "BrowserState"]

# Cached per filter state: the last RECENT of the small results (images,
# text), only the last one of those as large as the frame.
RECENT = 16
LARGE = frozenset({"mask", "positions", "matching", "newest_first"})
FILTERED = ("name", "source", "value", "userID")


class _All:
    """The "everything" choice of a drop-down (a value of None would read as no selection)."""

    def __repr__(self) -> str:
        return "ALL"


#: The value of the name and source filters (and drop-downs) when they do not filter.
ALL = _All()


@dataclass(frozen=True)
class Filters:
    """One state of the browser's filters; the default filters nothing.

    ``name`` and ``source`` are a value or :data:`ALL`; ``values`` are values
    chosen, ``value_search`` adds the values containing it (case-insensitive);
    ``user`` keeps user IDs containing it; ``start``/``end`` keep the events
    with ``start <= timestamp < end`` (``None``: unbounded).
    """

    name: Any = ALL
    source: Any = ALL
    values: tuple = ()
    value_search: str = ""
    user: str = ""
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None


def _lookup(uniques: pd.Index, selected: np.ndarray) -> np.ndarray:
    """A table indexed by code; the extra last slot answers code -1 (missing)."""
    table = np.zeros(len(uniques) + 1, dtype=bool)
    table[:-1] = selected
    return table


def _contains(uniques: pd.Index, text: str) -> np.ndarray:
    strings = pd.Series(uniques.astype(str), copy=False)
    return strings.str.contains(text, case=False, regex=False).to_numpy(dtype=bool, na_value=False)


def _and(mask: np.ndarray | None, more: np.ndarray) -> np.ndarray:
    return more if mask is None else mask & more


class BrowserState:
    """A frame of events indexed for filtering, and the results of its filter states.

    Every method takes a :class:`Filters` and answers for the events that pass
    it; results are computed once per filter state (see :meth:`cached`).
    Thread-safe: ``lock`` serialises whoever computes or reads.

    Attributes
    ----------
    df : pandas.DataFrame
        The frame, as given.
    first, last : pandas.Timestamp
        The earliest and latest event time in the frame's zone (``NaT`` if none).
    lock : threading.RLock

    Parameters
    ----------
    df : pandas.DataFrame
        Events as :func:`~statsig_pandas.read_events` returns them.

    Raises
    ------
    StatsigError
        If ``df`` is not a DataFrame of events.
    """

    def __init__(self, df: pd.DataFrame):
        analysis.validate_frame(df)
        self.df = df
        self.lock = threading.RLock()
        self._cache: dict[str, OrderedDict] = {}
        self._codes: dict[str, np.ndarray] = {}
        self._uniques: dict[str, pd.Index] = {}
        for column in FILTERED:
            self._codes[column], self._uniques[column] = _kernels.factorize(df[column])
        # What the views compute from: the same labels, but every text column
        # categorical over the codes above, so that taking the matching rows
        # and counting them (analysis' categorical paths) never hashes strings
        # again; and no metadata dicts, which would cost more than the rest.
        self._core = pd.DataFrame(
            {"timestamp": df["timestamp"].array,
             **{c: pd.Categorical.from_codes(self._codes[c], categories=self._uniques[c]) for c in FILTERED}},
            copy=False,
        )
        self._times = _timebuckets.frame_times(df)
        ticks = self._times.values
        # In the frame's zone (UTC for a naive frame, as analysis reads it); the first redraw shows them too.
        everything = self.summary(Filters())
        self.first, self.last = everything.first, everything.last
        # Newest first, ties in frame order, NaT last: table pages read positions off this.
        self._newest_first = np.argsort(np.where(ticks == _timebuckets.NAT, np.iinfo(np.int64).max, -ticks),
                                        kind="stable")

    # -- the cache ----------------------------------------------------------
    def cached(self, slot: str, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per ``key`` in ``slot``. Small results are kept for the last
        few keys (A, B, A redraws A from memory), those as large as the frame for the last one."""
        with self.lock:
            entries = self._cache.setdefault(slot, OrderedDict())
            if key in entries:
                entries.move_to_end(key)
                return entries[key]
            value = compute()
            entries[key] = value
            while len(entries) > (1 if slot in LARGE else RECENT):
                entries.popitem(last=False)
            return value

    def clear(self) -> None:
        """Forget every cached result."""
        with self.lock:
            self._cache.clear()

    # -- the matching rows --------------------------------------------------
    def mask(self, filters: Filters) -> np.ndarray | None:
        """The rows that pass ``filters`` (None: all of them)."""
        return self.cached("mask", filters, lambda: self._mask(filters))

    def _mask(self, f: Filters) -> np.ndarray | None:
        mask = None
        for column, chosen in (("name", f.name), ("source", f.source)):
            if chosen is not None and chosen is not ALL:
                uniques = self._uniques[column]
                mask = _and(mask, _lookup(uniques, np.asarray(uniques.isin([chosen]), dtype=bool))[self._codes[column]])
        if f.values or f.value_search:
            uniques = self._uniques["value"]
            chosen = np.asarray(uniques.isin(list(f.values)), dtype=bool)
            if f.value_search:
                chosen |= _contains(uniques, f.value_search)
            mask = _and(mask, _lookup(uniques, chosen)[self._codes["value"]])
        if f.user:
            uniques = self._uniques["userID"]
            mask = _and(mask, _lookup(uniques, _contains(uniques, f.user))[self._codes["userID"]])
        if f.start is not None or f.end is not None:
            ticks = self._times.values
            # NaT is the smallest tick: any lower bound keeps the events without a time out.
            in_range = ticks >= (self._edge(f.start) if f.start is not None else _timebuckets.NAT + 1)
            if f.end is not None:
                in_range &= ticks < self._edge(f.end)
            mask = _and(mask, in_range)
        return mask

    def _edge(self, when: pd.Timestamp) -> int:
        return _timebuckets.ticks(when, tz=self._times.tz, times=self._times, what="time range")

    def positions(self, filters: Filters) -> np.ndarray | None:
        """Positions of the matching rows in frame order (None: every row)."""
        mask = self.mask(filters)
        if mask is None:
            return None
        return self.cached("positions", filters, lambda: np.flatnonzero(mask))

    def matches(self, filters: Filters) -> int:
        """How many events pass ``filters``."""
        positions = self.positions(filters)
        return len(self.df) if positions is None else len(positions)

    def filtered(self, filters: Filters) -> pd.DataFrame:
        """The events that pass ``filters``, all columns, in frame order."""
        positions = self.positions(filters)
        return self.df if positions is None else self.df.take(positions)

    def matching(self, filters: Filters) -> pd.DataFrame:
        """The matching rows of the columns the views count (categorical, no metadata)."""
        def take():
            positions = self.positions(filters)
            return self._core if positions is None else self._core.take(positions)
        return self.cached("matching", filters, take)

    def newest_first(self, filters: Filters) -> np.ndarray:
        """Positions of the matching rows, newest first (ties in frame order, no time last)."""
        def order():
            mask = self.mask(filters)
            return self._newest_first if mask is None else self._newest_first[mask[self._newest_first]]
        return self.cached("newest_first", filters, order)

    def page(self, filters: Filters, page: int, page_size: int) -> pd.DataFrame:
        """Rows ``page * page_size`` up to the next page's of the matching events, newest first."""
        rows = self.newest_first(filters)[page * page_size:(page + 1) * page_size]
        return self.df.take(rows)

    # -- what the views show --------------------------------------------------
    def summary(self, filters: Filters) -> analysis.SummaryNumbers:
        """Events, users, first and last time of the matching events."""
        return self.cached("summary", filters, lambda: analysis.summary_numbers(self.matching(filters)))

    def timeline(self, filters: Filters, *, freq: str, users: bool) -> pd.Series:
        """Events (or distinct users) of the matching events per bucket of ``freq``."""
        return self.cached("timeline", (filters, freq, users),
                           lambda: analysis.timeline(self.matching(filters), freq=freq, users=users))

    def value_counts(self, filters: Filters) -> pd.Series:
        """Events per value of the matching events, most frequent first."""
        return self.cached("value_counts", filters, lambda: analysis.value_counts(self.matching(filters)))

    def top_values(self, filters: Filters, *, top: int) -> pd.Series:
        """The ``top`` most frequent values of the matching events."""
        return self.value_counts(filters).iloc[:top]
