"""What units do in a row: sessions, and the paths they take between events.

Both walk each unit's events in time order (the one sort of
:mod:`statsig_pandas._steps`: by unit, timestamp, then row position) and cut
them with segment arithmetic: no loop per unit or per event. Rows without a
unit are left out and counted in ``result.attrs["rows_without_unit"]``.

>>> import pandas as pd
>>> from statsig_pandas import journeys
>>> df = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-02 10:00", "2026-03-02 10:10",
...                                                 "2026-03-02 12:00"], utc=True),
...                    "name": ["home", "cart", "home"], "userID": "a"})
>>> journeys.sessions(df)[["session", "events", "first_event", "last_event"]].to_dict("list")
{'session': [0, 1], 'events': [2, 1], 'first_event': ['home', 'home'], 'last_event': ['cart', 'home']}
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from . import _kernels, _options, _steps
from .errors import StatsigError

__all__ = ["sessions", "paths", "session_starts", "path_edges", "ELLIPSIS"]

#: The item standing for the middle of a path cut short between ``start`` and ``end``.
ELLIPSIS = "..."


# ---------------------------------------------------------------- kernels on plain arrays


def session_starts(new_unit: np.ndarray, time: np.ndarray, gap: int, max_length: int | None = None) -> np.ndarray:
    """True at the first event of each session, over events sorted by (unit, time).

    A session starts at a unit's first event (``new_unit``), at every event at
    least ``gap`` ticks after the previous one, and at every event that would
    make its session last more than ``max_length`` ticks.

    Examples
    --------
    >>> t = np.array([0, 10, 40, 45, 60, 75])
    >>> session_starts(np.array([1, 0, 0, 0, 0, 0], dtype=bool), t, gap=30).astype(int).tolist()
    [1, 0, 1, 0, 0, 0]
    >>> session_starts(np.array([1, 0, 0, 0, 0, 0], dtype=bool), t, gap=30, max_length=20).astype(int).tolist()
    [1, 0, 1, 0, 0, 1]
    """
    starts = new_unit.copy()
    if len(time) > 1:
        starts[1:] |= (time[1:] - time[:-1]) >= gap
    if max_length is None or not len(time):
        return starts
    first = np.flatnonzero(starts)
    stop = np.append(first[1:], len(time))
    long = time[stop - 1] - time[first] > max_length
    if not long.any():
        return starts
    # Only the sessions too long are cut again: rows of those, numbered 0.. in order.
    lo, hi = first[long], stop[long]
    sizes = hi - lo
    seg = np.repeat(np.arange(len(lo)), sizes)
    rows = np.repeat(lo - np.cumsum(np.append(0, sizes[:-1])), sizes) + np.arange(sizes.sum())
    t = time[rows]
    # nxt[i]: the first row of i's segment more than max_length after row i (or the segment's end),
    # found for every row at once by merging the queries (seg, t + max_length) into the rows (seg, t).
    m = len(rows)
    merged = np.lexsort((np.r_[np.zeros(m, np.int8), np.ones(m, np.int8)], np.r_[t, t + max_length],
                         np.r_[seg, seg]))
    is_query = merged >= m
    nxt = np.empty(m, dtype=np.int64)
    nxt[merged[is_query] - m] = np.flatnonzero(is_query) - np.arange(m)
    end_of = np.repeat(np.cumsum(sizes), sizes)
    # Greedy cuts: from each segment's first row jump to nxt until the segment ends (one round per cut).
    frontier = np.cumsum(np.append(0, sizes[:-1]))
    while len(frontier):
        jump = nxt[frontier]
        frontier = jump[jump < end_of[frontier]]
        starts[rows[frontier]] = True
    return starts


def _first_per_segment(flags: np.ndarray, seg: np.ndarray, n_seg: int) -> np.ndarray:
    """Index of the first True of each segment (``len(flags)`` where there is none)."""
    out = np.full(n_seg, len(flags), dtype=np.int64)
    hits = np.flatnonzero(flags)
    # hits are in order, so the first hit of a segment is where its segment number first appears.
    keep = np.ones(len(hits), dtype=bool)
    keep[1:] = seg[hits[1:]] != seg[hits[:-1]]
    out[seg[hits[keep]]] = hits[keep]
    return out


def path_edges(path_start: np.ndarray, item: np.ndarray, time: np.ndarray, *, n_items: int, steps: int,
               collapse_repeats: bool = True, start: np.ndarray | None = None, end: np.ndarray | None = None,
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The edges of the paths, aggregated: (step, source, target, value, sum of gaps).

    Events are sorted by (unit, time); ``path_start`` marks the first event of
    each path (session), ``item`` holds codes in ``[0, n_items)`` and ``time``
    ticks. ``start``/``end`` mark the events matching the start/end event.
    Item code ``n_items`` is :data:`ELLIPSIS`; gaps through it are NaN.

    Examples
    --------
    >>> first = np.array([1, 0, 0, 1, 0], dtype=bool)
    >>> step, source, target, value, gaps = path_edges(first, np.array([0, 0, 1, 0, 1]), np.arange(5),
    ...                                                n_items=2, steps=5)
    >>> step.tolist(), source.tolist(), target.tolist(), value.tolist(), gaps.tolist()
    ([1], [0], [1], [2], [2.0])
    """
    n = len(item)
    keep = np.ones(n, dtype=bool)
    if collapse_repeats and n > 1:  # a repeat keeps its last occurrence (and time)
        keep[:-1] = path_start[1:] | (item[1:] != item[:-1])
    index = np.int32 if n < 1 << 31 else np.int64  # path numbers and positions: narrow, as the stream's rows
    path = np.cumsum(path_start, dtype=index)
    path -= 1
    if start is not None or end is not None:
        n_paths = int(path[-1]) + 1 if n else 0
        idx = np.arange(n)
        if start is not None:  # from the path's first start event on; paths without one drop
            keep &= idx >= _first_per_segment(start & keep, path, n_paths)[path]
        if end is not None:  # up to its first end event (after the start); paths without one drop
            last = _first_per_segment(end & keep, path, n_paths)[path]
            keep &= (idx <= last) & (last < n)
        del idx
    rows = np.flatnonzero(keep)
    del keep
    # Where each kept item sits in ``time``, not its time: an index of half the width, and the
    # times are read only at the edges' two ends.
    path, item, at = path[rows], item[rows], rows.astype(index)
    new = np.ones(len(rows), dtype=bool)
    new[1:] = path[1:] != path[:-1]
    del rows
    # 0-based place in the path: the distance back to the path's first item, in two arrays of the
    # stream's index width (the first items' places, repeated, would take two of int64 more).
    pos = np.arange(len(path), dtype=index)
    head = np.where(new, pos, 0).astype(index, copy=False)
    np.maximum.accumulate(head, out=head)
    pos -= head
    del head
    if end is None:  # the first `steps` items
        take = pos < steps
    else:
        first = np.flatnonzero(new)
        length = np.diff(np.append(first, len(path)))
        size = np.repeat(length, length)
        if start is None:  # the last `steps` items, up to the end event
            take = pos >= size - steps
            pos = pos - np.maximum(size - steps, 0)
        else:  # start ... end: the first and last steps // 2 when longer than steps
            half = steps // 2
            cut = size > steps
            take = ~cut | (pos < half) | (pos >= size - half)
            pos = np.where(cut & (pos >= half), pos - (size - half) + half + 1, pos)
        del size
    del new
    path, item, at, pos = path[take], item[take], at[take], pos[take]
    if start is not None and end is not None:
        # "..." goes before the first of the last items of each path cut short (its time: none)
        gaps_at = np.flatnonzero(cut[take] & (pos == half + 1))
        path = np.insert(path, gaps_at, path[gaps_at])
        item = np.insert(item, gaps_at, n_items)
        at = np.insert(at, gaps_at, 0)  # any place: gaps through "..." are NaN
        pos = np.insert(pos, gaps_at, half)
    pair = np.flatnonzero(path[1:] == path[:-1])  # an edge from event i to i + 1
    width = n_items + 1
    key = (pos[pair].astype(np.int64) * width + item[pair]) * width + item[pair + 1]
    gap = (time[at[pair + 1]] - time[at[pair]]).astype(np.float64)
    gap[(item[pair] == n_items) | (item[pair + 1] == n_items)] = np.nan
    size = steps * width * width
    if size <= 1 << 24:  # few names: count straight into a table, no sort
        value = np.bincount(key, minlength=size)
        cells = np.flatnonzero(value)
        value, gaps = value[cells], np.bincount(key, weights=gap, minlength=size)[cells]
    else:
        cells, inverse = np.unique(key, return_inverse=True)
        value = np.bincount(inverse, minlength=len(cells))
        gaps = np.bincount(inverse, weights=gap, minlength=len(cells))
    return cells // (width * width) + 1, cells // width % width, cells % width, value.astype(np.int64), gaps


# ---------------------------------------------------------------- frames


def _ticks(value: Any, what: str, times, *, allow_none: bool = False) -> int | None:
    """A positive length of time (``"30min"``, a Timedelta) as ticks of the frame's unit."""
    if value is None and allow_none:
        return None
    # Rounded up: on integer ticks, a gap of at least 1.5 ticks is a gap of at least 2.
    return -(-_options.positive_timedelta(value, what).value // times.ns)


def _event_names(df: pd.DataFrame, rows: np.ndarray) -> tuple[np.ndarray, pd.Index]:
    """Codes of the events' names (of ``rows``) and the names they index; a missing name is ``<NA>``,
    an item of its own."""
    codes, labels = _kernels.factorize(df["name"])
    # Codes as narrow as the names allow (one more for a missing name, one for "..."): a stream
    # as long as the frame of them, in int64, would be four times the memory for nothing.
    small = np.int16 if len(labels) + 2 < 1 << 15 else np.int32
    codes = _kernels.take(codes.astype(small), rows)
    if len(codes) and codes.min() < 0:
        codes = np.where(codes < 0, small(len(labels)), codes)
        labels = labels.append(pd.Index(pd.array([pd.NA], dtype=labels.dtype)))
    return codes, labels


def _names_of(codes: np.ndarray, labels: pd.Index) -> pd.Categorical:
    """Event names as a categorical of the frame's names: codes, no strings built per row."""
    present = labels.notna()
    if present.all():
        return pd.Categorical.from_codes(codes, categories=labels)
    # A missing name stays missing (code -1); the categories are the names that exist.
    remap = np.append(np.cumsum(present) - 1, -1)
    return pd.Categorical.from_codes(np.where(present[codes], remap[codes], -1), categories=labels[present])


def _instants(ticks: np.ndarray, times) -> pd.Series:
    # Built as UTC directly: DatetimeIndex.tz_localize is ten times slower here.
    return pd.Series(pd.DatetimeIndex(ticks.view(f"M8[{times.unit}]"), tz="UTC")).dt.tz_convert(times.tz)


def sessions(df: pd.DataFrame, *, gap: Any = "30min", max_length: Any = None, unit: str = "userID") -> pd.DataFrame:
    """One row per session: each unit's events cut wherever it paused for ``gap`` or more.

    A new session starts at a unit's first event, at every event whose gap to
    the previous one is ``>= gap``, and at every event that would make the
    session last longer than ``max_length``. Events with equal timestamps keep
    their row order.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame of events.
    gap : str or Timedelta, default "30min"
        The pause that ends a session (Statsig's JS SDK and PostHog: 30 minutes).
    max_length : str or Timedelta, optional
        The longest a session may last (PostHog: 24 hours, Statsig's JS SDK:
        4 hours); default no limit.
    unit : str, default "userID"
        The unit column (or ``metadata.<key>``); rows without one are left out
        and counted in ``result.attrs["rows_without_unit"]``.

    Returns
    -------
    pandas.DataFrame
        Columns: the unit column (a categorical of the frame's units);
        ``session`` (int64, 0-based within the unit,
        in time order); ``start`` and ``end`` (first and last event, in the
        frame's zone); ``duration`` (``end - start``, 0 for a single event);
        ``events`` (int64); ``first_event`` and ``last_event`` (names, as a
        categorical of the frame's event names). Each unit's sessions are
        consecutive rows, in session order.

    Raises
    ------
    StatsigError
        For a ``gap`` or ``max_length`` that is not a positive length of time,
        or an unknown unit column.

    Examples
    --------
    >>> df = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-02 10:00", "2026-03-02 10:29",
    ...                                                 "2026-03-02 10:58"], utc=True),
    ...                    "name": "view", "userID": "a"})
    >>> sessions(df)[["session", "duration", "events"]]
       session        duration  events
    0        0 0 days 00:58:00       3
    >>> len(sessions(df, gap="30min", max_length="45min"))
    2
    """
    stream = _steps.event_stream(df, [_steps.as_step(None)], unit=unit, keep="all")
    times, units, without = stream.times, stream.units, stream.rows_without_unit
    gap_ = _ticks(gap, "gap", times)
    limit = _ticks(max_length, "max_length", times, allow_none=True)
    new_unit = stream.new_unit
    first = np.flatnonzero(session_starts(new_unit, stream.time, gap_, limit))
    last = np.append(first[1:], len(new_unit))[:len(first)] - 1
    names, labels = _event_names(df, stream.row)
    first_names, last_names = names[first], names[last]
    t0, t1 = stream.time[first], stream.time[last]
    unit_of = stream.unit[first]
    # The stream is as big as the frame: let it go before the result is built.
    del stream, names
    opens = np.flatnonzero(new_unit[first])  # each unit's first session
    number = np.arange(len(first)) - np.repeat(opens, np.diff(np.append(opens, len(first))))
    result = pd.DataFrame({
        # The frame's units as categories: codes, not a string per session.
        unit: _kernels.distinct_categorical(unit_of, units),
        "session": number,
        "start": _instants(t0, times),
        "end": _instants(t1, times),
        "duration": pd.Series((t1 - t0).view(f"m8[{times.unit}]")),
        "events": last - first + 1,
        "first_event": _names_of(first_names, labels),
        "last_event": _names_of(last_names, labels),
    }, copy=False)  # one block per column: no copy into a consolidated block
    return _steps.stamp(result, without)


def paths(df: pd.DataFrame, start: Any = None, end: Any = None, *, steps: int = 5, gap: Any = "30min",
          collapse_repeats: bool = True, top: int | None = 50, unit: str = "userID") -> pd.DataFrame:
    """The edges of the units' journeys from event to event, as a Sankey diagram draws them.

    Each unit's events are cut into paths at pauses of ``gap`` or more (as
    :func:`sessions` cuts them); consecutive repeats of an event collapse into
    its last occurrence (``collapse_repeats``); then

    - ``start`` keeps each path from its first ``start`` event (paths without
      one are dropped), and the first ``steps`` items;
    - ``end`` keeps each path up to its first ``end`` event (paths without one
      are dropped), and the last ``steps`` items;
    - both keep from the first ``start`` to the first ``end`` after it; a path
      longer than ``steps`` keeps its first and last ``steps // 2`` items with
      :data:`ELLIPSIS` (``"..."``) between them;
    - neither keeps the first ``steps`` items.

    An edge is a move from the item at position ``step`` of a path to the one
    at ``step + 1``. Only the ``top`` edges by value are kept (ties: the
    earlier step, then source and target by name), and of those only the
    ones reachable from step 1 through kept edges.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame of events.
    start, end : str, list of str or statsig_pandas.Step, optional
        The event the paths start from / lead to.
    steps : int, default 5
        The most items a path keeps (at least 2).
    gap : str or Timedelta, default "30min"
        The pause that ends a path.
    collapse_repeats : bool, default True
        Collapse consecutive repeats of an event into one item.
    top : int or None, default 50
        The most edges kept (PostHog's default); None keeps all.
    unit : str, default "userID"
        The unit column (or ``metadata.<key>``); rows without one are left out
        and counted in ``result.attrs["rows_without_unit"]``.

    Returns
    -------
    pandas.DataFrame
        One row per edge: ``step`` (int64, 1-based position of the source),
        ``source`` and ``target`` (event names), ``value`` (int64: paths making
        that move; a unit's every session counts) and ``mean_gap`` (Timedelta
        between the two items; NaT through ``"..."``), sorted by step, then
        value descending, then source and target.

    Raises
    ------
    StatsigError
        For bad ``steps``, ``top``, ``gap`` or ``start``/``end`` specs.

    Warns
    -----
    StatsigWarning
        When ``start`` or ``end`` matches no event.

    Examples
    --------
    >>> df = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-02 10:00", "2026-03-02 10:01",
    ...                                                 "2026-03-02 10:05", "2026-03-02 11:00",
    ...                                                 "2026-03-02 11:02"], utc=True),
    ...                    "name": ["home", "home", "cart", "home", "cart"], "userID": "a"})
    >>> paths(df)
       step source target  value        mean_gap
    0     1   home   cart      2 0 days 00:03:00
    """
    steps = _options.positive_int(steps, "steps", allow_none=False)
    if steps < 2:
        raise StatsigError(f"steps must be at least 2 (a path of one item has no edge), not {steps}")
    top = _options.positive_int(top, "top")
    if not isinstance(collapse_repeats, (bool, np.bool_)):
        raise StatsigError(f"collapse_repeats must be True or False, not {collapse_repeats!r}")
    anchors = [(what, _steps.as_step(spec, what)) for what, spec in (("start", start), ("end", end))
               if spec is not None]
    stream = _steps.event_stream(df, [step for _, step in anchors] or [_steps.as_step(None)], unit=unit,
                                 keep="all", what="start/end event")
    times, time, without = stream.times, stream.time, stream.rows_without_unit
    gap_ = _ticks(gap, "gap", times)
    marks = {what: stream.match[:, k] for k, (what, _) in enumerate(anchors)}
    names, labels = _event_names(df, stream.row)
    starts = session_starts(stream.new_unit, time, gap_)
    del stream  # as big as the frame: what the paths need is taken out
    step, source, target, value, gaps = path_edges(
        starts, names, time, n_items=len(labels), steps=steps, collapse_repeats=bool(collapse_repeats),
        start=marks.get("start"), end=marks.get("end"))
    items = labels.append(pd.Index(pd.array([ELLIPSIS], dtype=labels.dtype)))
    # The top edges (ties: earlier step, then source and target by name), then those reachable from step 1.
    rank = np.empty(len(items), dtype=np.int64)
    rank[np.argsort(np.array([str(item) for item in items]), kind="stable")] = np.arange(len(items))  # few names
    order = np.lexsort((rank[target], rank[source], step, -value))[:top]
    order = order[_reachable(step[order], source[order], target[order])]
    mean = gaps[order] / value[order]
    result = pd.DataFrame({
        "step": step[order].astype(np.int64),
        "source": items.take(source[order]),
        "target": items.take(target[order]),
        "value": value[order],
        "mean_gap": pd.to_timedelta(np.round(mean) * times.ns, unit="ns").as_unit(times.unit),
    })
    result = result.sort_values(["step", "value", "source", "target"], ascending=[True, False, True, True],
                                ignore_index=True, kind="stable")
    return _steps.stamp(result, without)


def _reachable(step: np.ndarray, source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Which edges can be reached from step 1 through the given edges (one pass per step)."""
    keep = step == 1
    for k in range(2, int(step.max()) + 1 if len(step) else 0):
        arrived = target[keep & (step == k - 1)]
        keep |= (step == k) & np.isin(source, arrived)
    return keep
