"""Funnels: how many units go through a sequence of steps, and how conversion moves over time.

The engine follows PostHog's funnel (the latest-starting attempt that reaches
each step; the window measured from the step-1 event, inclusive; tied events
filling consecutive steps in step order, one event per step), computed for
every attempt at once: an attempt starts at each step-1 event and its next
step is the first unused event at or after its current one that matches
(greedy matching is optimal for a sequence), looked up in a "next match"
array per step. Each unit then counts its best attempt.

>>> import pandas as pd
>>> from statsig_pandas.funnels import funnel
>>> df = pd.DataFrame({
...     "timestamp": pd.to_datetime(["2026-03-02 10:00", "2026-03-02 10:05", "2026-03-02 11:00"], utc=True),
...     "name": ["view", "cart", "view"], "source": "js", "value": "", "userID": ["1", "1", "2"]})
>>> funnel(df, ["view", "cart"])["units"].tolist()
[2, 1]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import _kernels, _options, _steps, _timebuckets
from .errors import StatsigError
from .frame import STRING_DTYPE

__all__ = ["funnel", "funnel_trend", "ORDERS"]

#: The step orders a funnel understands.
ORDERS = ("ordered", "strict", "any")
OTHER_LABEL = "(other)"
# Attempts followed at a time: temporaries stay a few tens of MB whatever the frame.
_BLOCK = 1 << 20
# Any-order funnels whose steps share events solve a small matching over every subset of steps.
_MAX_OVERLAPPING_STEPS = 12


# ---------------------------------------------------------------- arguments


def window_ticks(within: Any, times: _timebuckets.Times) -> int:
    """``within`` (``"14D"``, a Timedelta, ...) in ticks of the timestamp column, rounded down
    (an inclusive bound on integer ticks)."""
    return int(_options.positive_timedelta(within, "within").value // times.ns)


def _check_within(within: Any) -> None:
    window_ticks(within, _timebuckets.Times(np.empty(0, dtype=np.int64), "ns", None))


def _options_of(steps, *, order, reentry, exclude, unit, by=None, top=None):
    """Every argument checked before any work; the steps and exclusions as Steps."""
    steps = _steps.as_steps(steps, "steps")
    if order not in ORDERS:
        raise StatsigError(f"order must be one of {', '.join(map(repr, ORDERS))}, not {order!r}")
    if not isinstance(reentry, (bool, np.bool_)):
        raise StatsigError(f"reentry must be True or False, not {reentry!r}")
    excluded = [] if exclude is None else _steps.as_steps(exclude, "exclude")
    if not isinstance(unit, str):
        raise StatsigError(f"unit must be a column name or 'metadata.<key>', not {unit!r}")
    if by is not None and not isinstance(by, str):
        raise StatsigError(f"by must be a column name or 'metadata.<key>', not {by!r}")
    top = _options.positive_int(top, "top")
    if order == "any" and len(steps) > _MAX_OVERLAPPING_STEPS:
        raise StatsigError(f"an any-order funnel takes at most {_MAX_OVERLAPPING_STEPS} steps, not {len(steps)}")
    return steps, excluded, top


def _bounds(start: Any, end: Any, *, tz: Any, times: _timebuckets.Times) -> tuple[int | None, int | None]:
    lo = None if start is None else _timebuckets.ticks(start, tz=tz, times=times, what="start")
    hi = None if end is None else _timebuckets.ticks(end, tz=tz, times=times, what="end")
    if lo is not None and hi is not None and hi < lo:
        raise StatsigError(f"end ({end!r}) is before start ({start!r})")
    return lo, hi


# ---------------------------------------------------------------- engine


def _first_run(keys: np.ndarray) -> np.ndarray:
    """True at the first element of each run of equal ``keys``."""
    first = np.ones(len(keys), dtype=bool)
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    return first


@dataclass
class Attempts:
    """One attempt per entry event: the stream index of the event that filled each step (-1: not
    reached) and how far it got."""

    pos: np.ndarray  # (attempts, steps) int64
    reach: np.ndarray  # (attempts,) number of steps reached, >= 1

    @property
    def start(self) -> np.ndarray:
        return self.pos[:, 0]

    @property
    def last(self) -> np.ndarray:
        """Stream index of the event that filled the attempt's furthest step."""
        last = self.pos[:, 0].copy()
        for k in range(1, self.pos.shape[1]):
            np.copyto(last, self.pos[:, k], where=self.reach > k)
        return last


class _Ties:
    """Tie groups (events of a unit with one timestamp) of a sorted stream, found by searching the
    few events that continue a group, so nothing the length of the stream is built for them."""

    def __init__(self, stream: _steps.EventStream):
        more = ~stream.new_tie
        self.size = len(more)
        self.cont = np.flatnonzero(more)  # events that are not the first of their group
        run_start = np.ones(len(self.cont), dtype=bool)
        run_start[1:] = np.diff(self.cont) != 1
        starts = np.flatnonzero(run_start)
        lengths = np.diff(np.append(starts, len(self.cont)))
        self.first = np.repeat(self.cont[starts] - 1, lengths)  # group start of each continuing event
        self.after = np.repeat(self.cont[starts] + lengths, lengths)  # one past its group's end

    def _find(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        at = np.searchsorted(self.cont, idx)
        safe = np.minimum(at, max(len(self.cont) - 1, 0))
        hit = (at < len(self.cont)) & (self.cont[safe] == idx) if len(self.cont) else np.zeros(len(idx), bool)
        return hit, safe

    def start(self, idx: np.ndarray) -> np.ndarray:
        """First index of the tie group of each index."""
        if not len(self.cont):
            return idx
        hit, safe = self._find(idx)
        return np.where(hit, self.first[safe], idx)

    def end(self, idx: np.ndarray) -> np.ndarray:
        """One past the last index of the tie group of each index."""
        nxt = idx + 1
        if not len(self.cont):
            return nxt
        hit, safe = self._find(np.minimum(nxt, self.size - 1))
        return np.where((nxt < self.size) & hit, self.after[safe], nxt)


class _Engine:
    """The funnel steps over one sorted event stream."""

    def __init__(self, stream: _steps.EventStream, n_steps: int, window: int, order: str):
        self.stream, self.n, self.window, self.order = stream, n_steps, window, order
        self.size = len(stream)
        self.ties = _Ties(stream)
        self._next: dict[int, np.ndarray] = {}
        self._before: dict[int, np.ndarray] = {}
        self.index = np.int32 if self.size < (1 << 31) - 1 else np.int64

    def next_at(self, k: int, idx: np.ndarray) -> np.ndarray:
        """The first index ``>= idx`` (at most ``size + 1``) of an event matching step ``k`` (``size``
        if none)."""
        if k not in self._next:
            # A table of the answer for every index, a backward running minimum: one pass over the
            # stream, where a binary search per query costs a few times that for as many queries.
            table = np.full(self.size + 2, self.size, dtype=self.index)
            at = np.flatnonzero(self.stream.match[:, k])
            table[at] = at
            del at
            backward = table[::-1]
            np.minimum.accumulate(backward, out=backward)  # in place: no second table
            self._next[k] = table
        return self._next[k][idx]

    def count_between(self, k: int, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Events matching column ``k`` with an index in ``[lo, hi)``."""
        if k not in self._before:  # events matching k before each index: two look-ups per query, no search
            before = np.zeros(self.size + 1, dtype=self.index)
            np.cumsum(self.stream.match[:, k], out=before[1:])
            self._before[k] = before
        before = self._before[k]
        return before[hi] - before[lo]

    def entries(self, lo: int | None, hi: int | None, *, reentry: bool) -> np.ndarray:
        """Stream indices of the events that may start an attempt: step-1 events (any step's in an
        any-order funnel) inside ``[lo, hi)``; without re-entry only the first of each unit."""
        m = self.stream.match
        ok = _steps.any_step(m[:, : self.n]) if self.order == "any" else m[:, 0].copy()
        t = self.stream.time
        if lo is not None:
            ok &= t >= lo
        if hi is not None:
            ok &= t < hi
        entries = np.flatnonzero(ok).astype(self.index)
        if not reentry:
            entries = entries[_first_run(self.stream.unit[entries])]
        return entries

    def run(self, entries: np.ndarray) -> Attempts:
        """The attempts starting at ``entries``, a block at a time (attempts are independent), so
        that the temporaries stay small whatever the frame."""
        step = self._any_order if self.order == "any" else self._in_order
        if len(entries) <= _BLOCK:
            return step(entries)
        out = Attempts(np.empty((len(entries), self.n), dtype=self.index), np.empty(len(entries), dtype=np.int16))
        for lo in range(0, len(entries), _BLOCK):
            part = step(entries[lo: lo + _BLOCK])
            out.pos[lo: lo + _BLOCK] = part.pos
            out.reach[lo: lo + _BLOCK] = part.reach
        return out

    def _in_order(self, entries: np.ndarray) -> Attempts:
        stream, size = self.stream, self.size
        unit, time = stream.unit, stream.time
        pos = np.full((len(entries), self.n), -1, dtype=self.index)
        pos[:, 0] = entries
        alive = np.arange(len(entries))
        for k in range(1, self.n):
            if not len(alive):
                break
            cur = pos[alive, k - 1]
            cand = self.next_at(k, self.ties.start(cur))
            # One event fills at most one step: skip the events this attempt already used (only
            # events tied with the current one can be met again, and at most k of them).
            for _ in range(k):
                used = np.zeros(len(alive), dtype=bool)
                for j in range(k):
                    used |= cand == pos[alive, j]
                if not used.any():
                    break
                cand[used] = self.next_at(k, cand[used] + 1)
            start = entries[alive]
            found = cand < size
            safe = np.where(found, cand, 0)
            ok = found & (unit[safe] == unit[start]) & (time[safe] - time[start] <= self.window)
            if self.order == "strict":
                ok &= ~self._broken(cur, safe, k - 1)
            alive = alive[ok]
            pos[alive, k] = cand[ok]
        return Attempts(pos, (pos >= 0).sum(axis=1, dtype=np.int16))

    def _broken(self, cur: np.ndarray, nxt: np.ndarray, k: int) -> np.ndarray:
        """Strict order: is there an event, other than a repeat of step ``k``, strictly between the
        tie group of ``cur`` and that of ``nxt``? (Tied events never break an attempt.)"""
        a, b = self.ties.end(cur), self.ties.start(nxt)
        b = np.maximum(a, b)
        return (b - a) - self.count_between(k, a, b) > 0

    def window_end(self, idx: np.ndarray) -> np.ndarray:
        """One past the last stream index of the same unit with a time ``<= time[idx] + window``."""
        unit, time = self.stream.unit, self.stream.time
        if not len(time):
            return idx.copy()
        t0 = int(time.min())
        span = int(time.max()) - t0 + self.window + 1
        n_units = int(unit[-1]) + 1
        if n_units.bit_length() + span.bit_length() <= 62:
            key = unit.astype(np.int64)
            key *= span
            key += time
            key -= t0
            return np.searchsorted(key, key[idx] + self.window, side="right")
        # Times too fine for one key: rank them (the window is applied to the real times first).
        order_key = np.unique(np.concatenate([time, time[idx] + self.window]))
        rank = np.searchsorted(order_key, time)
        key = unit * (len(order_key) + 1) + rank
        target = unit[idx] * (len(order_key) + 1) + np.searchsorted(order_key, time[idx] + self.window)
        return np.searchsorted(key, target, side="right")

    def _any_order(self, entries: np.ndarray) -> Attempts:
        """Any order: from each entry, the steps with an event inside the window; step k of the
        result is "completed any k of the steps"."""
        lo = self.ties.start(entries)
        unit, time = self.stream.unit, self.stream.time
        u0, t0 = unit[entries], time[entries]
        first = np.empty((len(entries), self.n), dtype=self.index)
        for k in range(self.n):
            f = self.next_at(k, lo)
            safe = np.minimum(f, self.size - 1)
            inside = (f < self.size) & (unit[safe] == u0) & (time[safe] - t0 <= self.window)
            first[:, k] = np.where(inside, f, self.size)
        _sort_rows(first)
        count = (first < self.size).sum(axis=1)
        m = self.stream.match
        overlapping = np.zeros(self.size, dtype=np.int8)
        for k in range(self.n):
            overlapping += m[:, k]
        if self.size and overlapping.max() > 1:
            count = np.minimum(count, self._matching_size(lo, self.window_end(entries)))
        pos = np.where(np.arange(self.n) < count[:, None], first, -1).astype(self.index)
        return Attempts(pos, count.astype(np.int16))

    def _matching_size(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Steps that can each get an event of their own inside ``[lo, hi)``, when one event may match
        several steps: n minus the largest deficiency |S| - |events matching some step of S| (Hall)."""
        m = self.stream.match
        deficiency = np.zeros(len(lo), dtype=np.int64)
        for subset in range(1, 1 << self.n):
            members = [k for k in range(self.n) if subset >> k & 1]
            hits = np.zeros(self.size + 1, dtype=np.int64)
            np.cumsum(_steps.any_step(m[:, members]), out=hits[1:])
            deficiency = np.maximum(deficiency, len(members) - (hits[hi] - hits[lo]))
        return self.n - deficiency


def _sort_rows(x: np.ndarray) -> None:
    """Sort each row of ``x`` in place. A funnel has few steps: then an odd-even transposition
    network of whole-column minima and maxima beats NumPy's sort called on every short row."""
    n = x.shape[1]
    if n > 8:
        x.sort(axis=1)
        return
    for p in range(n):
        for i in range(p % 2, n - 1, 2):
            low = np.minimum(x[:, i], x[:, i + 1])
            np.maximum(x[:, i], x[:, i + 1], out=x[:, i + 1])
            x[:, i] = low


def _counted(att: Attempts, keys: np.ndarray) -> np.ndarray:
    """Index of the counted attempt of each run of equal ``keys`` (one per unit, or per unit and
    bucket): the one reaching furthest, then the first to get there, then the latest to start."""
    n = len(att.reach)
    if not n:
        return np.zeros(0, dtype=np.int64)
    bits = max(1, int(max(n, int(att.pos.max()) + 1)).bit_length())
    runs = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    if 2 * bits + int(att.reach.max()).bit_length() <= 62:
        score = att.reach.astype(np.int64)
        score <<= 2 * bits
        rest = att.last.astype(np.int64)
        np.subtract((1 << bits) - 1, rest, out=rest)  # the earliest furthest step scores highest
        rest <<= bits
        score |= rest
        del rest
        score |= np.arange(n, dtype=np.int64)
        return np.maximum.reduceat(score, runs) & ((1 << bits) - 1)
    order = np.lexsort((np.arange(n), -att.last, att.reach, keys))
    ends = np.append(runs[1:], n) - 1
    return order[ends]


def _tainted(engine: _Engine, att: Attempts, chosen: np.ndarray, n_steps: int) -> np.ndarray:
    """Does an excluded event fall after the attempt's step-1 event and before its furthest step?"""
    a = att.start[chosen] + 1
    b = np.maximum(att.last[chosen], a)
    tainted = np.zeros(len(chosen), dtype=bool)
    for k in range(n_steps, engine.stream.match.shape[1]):
        tainted |= engine.count_between(k, a, b) > 0
    return tainted


def _table(att: Attempts, chosen: np.ndarray, stream: _steps.EventStream, steps) -> pd.DataFrame:
    """The per-step table of the counted attempts ``chosen``."""
    n = len(steps)
    reach = att.reach[chosen]
    units = np.array([(reach >= k).sum() for k in range(1, n + 1)], dtype=np.int64)
    medians = np.full(n, _timebuckets.NAT, dtype=np.int64)
    time, pos = stream.time, att.pos[chosen]
    for k in range(1, n):
        got = reach > k
        if got.any():
            medians[k] = round(float(np.median(time[pos[got, k]] - time[pos[got, k - 1]])) * stream.times.ns)
    first = units[0] if n else 0
    previous = np.concatenate(([units[0]], units[:-1])) if n else units
    with np.errstate(divide="ignore", invalid="ignore"):
        conversion = np.where(first > 0, units / max(first, 1), np.nan)
        step_conversion = np.where(previous > 0, units / np.maximum(previous, 1), np.nan)
    step_conversion[:1] = 1.0 if first else np.nan
    return pd.DataFrame({
        "event": pd.array([s.label for s in steps], dtype=STRING_DTYPE),
        "units": units,
        "conversion": conversion.astype(float),
        "step_conversion": step_conversion.astype(float),
        "dropped": np.concatenate(([0], previous[1:] - units[1:])).astype(np.int64),
        "median_time": medians.view("m8[ns]"),
    }, index=pd.RangeIndex(1, n + 1, name="step"))


def _run(df, steps, excluded, *, within, order, start, end, unit, tz=None):
    """Match and sort: the stream, its engine, the zone and the entry range in ticks."""
    # Strict order looks at every event of the unit, the others only at the events of the steps.
    stream = _steps.event_stream(df, [*steps, *excluded], unit=unit, keep="all" if order == "strict" else "matched")
    engine = _Engine(stream, len(steps), window_ticks(within, stream.times), order)
    zone = _timebuckets.zone(tz, stream.times)
    lo, hi = _bounds(start, end, tz=zone, times=stream.times)
    return stream, engine, zone, lo, hi


def funnel(
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
) -> pd.DataFrame:
    """Units reaching each step of a funnel, with conversion rates, drop-offs and times between steps.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame of events.
    steps : list
        The steps in order: each an event name, a list of names (any of them)
        or a :class:`statsig_pandas.Step` (names with value, source or
        metadata filters).
    within : str or Timedelta, default "14D"
        Conversion window, measured from the step-1 event and inclusive: a
        step at exactly ``step-1 time + within`` counts.
    order : {"ordered", "strict", "any"}, default "ordered"
        ``"ordered"``: steps in order, other events may come between.
        ``"strict"``: no other event of the unit between consecutive steps (a
        repeat of the current step keeps the attempt alive). ``"any"``: steps
        in any order inside the window; step k then reads "completed any k of
        the steps".
    reentry : bool, default True
        True: every step-1 event starts an attempt and each unit counts its
        best one (the furthest step; then the first to get there; then the
        latest start). False: only the unit's first step-1 event in range.
    by : str, optional
        A column or ``metadata.<key>``: one funnel per value of the step-1
        event of each unit's counted attempt. Units whose value is missing are
        left out (counted in ``attrs["units_without_group"]``).
    top : int, default 10
        With ``by``: the groups with the most step-1 units; the rest are pooled
        as ``"(other)"``.
    exclude : name, list or Step, optional
        Events that must not happen inside an attempt: a unit whose counted
        attempt has one after its step-1 event and before its furthest step
        leaves every step (their number is ``attrs["excluded_units"]``).
    start, end : str, datetime or Timestamp, optional
        The half-open range ``[start, end)`` the step-1 event must fall in;
        later steps may come after ``end``, inside the window. Naive values
        are read in the zone of the timestamp column.
    unit : str, default "userID"
        What is counted: a column or ``metadata.<key>`` (e.g. a stable ID).
        Events whose unit is missing or ``""`` are left out; their number is
        ``attrs["rows_without_unit"]``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``step`` (1..n), or by (``by`` value, ``step``). Columns
        ``event`` (the step's label), ``units`` (int64), ``conversion`` (units
        over step-1 units), ``step_conversion`` (over the previous step's;
        1.0 at step 1), ``dropped`` (the previous step's units minus this
        one's; 0 at step 1), ``median_time`` (from the previous step, over
        the units that reached this one; NaT at step 1).

    Raises
    ------
    StatsigError
        For a bad step, order, window, bound or column, before any work.

    Warns
    -----
    StatsigWarning
        Naming a step (or exclusion) that matches no event of the frame.

    Examples
    --------
    >>> df = pd.DataFrame({
    ...     "timestamp": pd.to_datetime(["2026-03-02 10:00", "2026-03-02 10:20", "2026-03-02 10:30",
    ...                                  "2026-03-02 12:00"], utc=True),
    ...     "name": ["view", "cart", "buy", "view"], "source": "js", "value": "",
    ...     "userID": ["1", "1", "1", "2"]})
    >>> funnel(df, ["view", "cart", "buy"], within="1h")[["units", "conversion", "dropped"]]
          units  conversion  dropped
    step
    1         2         1.0        0
    2         1         0.5        1
    3         1         0.5        0
    """
    steps, excluded, top = _options_of(steps, order=order, reentry=reentry, exclude=exclude, unit=unit, by=by,
                                       top=top)
    _check_within(within)
    if by is not None:
        _kernels.frame_column(df.iloc[:0], by)  # an unknown column fails now, before any work
    stream, engine, _, lo, hi = _run(df, steps, excluded, within=within, order=order,
                                     start=start, end=end, unit=unit)
    att = engine.run(engine.entries(lo, hi, reentry=reentry))
    chosen = _counted(att, stream.unit[att.start])
    tainted = _tainted(engine, att, chosen, len(steps))
    kept = chosen[~tainted]
    if by is None:
        result = _table(att, kept, stream, steps)
    else:
        result = _by_table(df, by, top, att, kept, stream, steps)
    result.attrs["excluded_units"] = int(tainted.sum())
    return stream.stamp(result)


def _by_table(df, by, top, att, kept, stream, steps) -> pd.DataFrame:
    codes, labels = _kernels.factorize(_kernels.frame_column(df, by).iloc[stream.row[att.start[kept]]])
    known = codes >= 0
    missing = int((~known).sum())
    kept, codes = kept[known], codes[known]
    sizes = np.bincount(codes, minlength=len(labels))
    order = np.argsort(-sizes, kind="stable")
    order = order[sizes[order] > 0]
    shown, rest = order[:top], order[top:]
    tables, keys = [], []
    for g in shown:
        tables.append(_table(att, kept[codes == g], stream, steps))
        keys.append(labels[g])
    if len(rest):
        tables.append(_table(att, kept[np.isin(codes, rest)], stream, steps))
        keys.append(OTHER_LABEL)
    if tables:
        result = pd.concat(tables, keys=keys, names=[by])
    else:
        empty = _table(att, kept[:0], stream, steps).iloc[:0]
        result = empty.set_index(pd.MultiIndex.from_arrays([[], []], names=[by, "step"]))
    result.attrs = {}
    result.attrs["units_without_group"] = missing
    return result


def funnel_trend(
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
) -> pd.DataFrame:
    """Conversion through a funnel by entry period: units entering in each bucket and how many converted.

    Each bucket holds the funnel of the units whose step-1 event falls in it,
    exactly as ``funnel(df, steps, start=bucket, end=next bucket, ...)``
    computes it: a unit counts once per bucket it enters in, and its
    conversion counts for that bucket even when it completes in a later one.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame of events.
    steps, within, order, reentry, exclude, unit
        As for :func:`funnel`.
    freq : str or DateOffset, default "D"
        Bucket length (as for :func:`statsig_pandas.analysis.timeline`).
    start, end : str, datetime or Timestamp, optional
        The range of entries; buckets from the one holding ``start`` (default:
        the first step-1 event) to the one holding the last instant before
        ``end`` (default: the last step-1 event). Naive values are read in ``tz``.
    tz : str or tzinfo, optional
        Time zone of the buckets; default the timestamp column's.

    Returns
    -------
    pandas.DataFrame
        Indexed by the bucket starts (tz-aware, named ``timestamp``), columns
        ``entered`` and ``converted`` (int64 units), ``conversion`` (NaN where
        nobody entered) and ``complete``: False when the bucket's end plus
        the window passes the frame's last event (later conversions may not
        be in the frame yet).

    Examples
    --------
    >>> df = pd.DataFrame({
    ...     "timestamp": pd.to_datetime(["2026-03-02 10:00", "2026-03-02 10:20", "2026-03-03 09:00",
    ...                                  "2026-03-04 08:00"], utc=True),
    ...     "name": ["view", "buy", "view", "view"], "source": "js", "value": "", "userID": ["1", "1", "2", "1"]})
    >>> funnel_trend(df, ["view", "buy"], within="1h")[["entered", "converted", "complete"]]
                               entered  converted  complete
    timestamp
    2026-03-02 00:00:00+00:00        1          1      True
    2026-03-03 00:00:00+00:00        1          0      True
    2026-03-04 00:00:00+00:00        1          0     False
    """
    steps, excluded, _ = _options_of(steps, order=order, reentry=reentry, exclude=exclude, unit=unit)
    _check_within(within)
    parsed = _timebuckets.parse_freq(freq)
    stream, engine, zone, lo, hi = _run(df, steps, excluded, within=within, order=order,
                                        start=start, end=end, unit=unit, tz=tz)
    entries = engine.entries(lo, hi, reentry=True)
    t = stream.time[entries]
    first = lo if lo is not None else (int(t.min()) if len(t) else None)
    last = hi - 1 if hi is not None else (int(t.max()) if len(t) else None)
    if first is None or last is None or last < first:
        index = pd.DatetimeIndex([], dtype=pd.DatetimeTZDtype(stream.times.unit, zone), name="timestamp")
        out = pd.DataFrame({"entered": np.zeros(0, np.int64), "converted": np.zeros(0, np.int64),
                            "conversion": np.zeros(0), "complete": np.zeros(0, bool)}, index=index)
        out.attrs["excluded_units"] = 0
        return stream.stamp(out)
    bounds = _timebuckets.boundaries(first, last, freq=parsed, tz=zone, times=stream.times)
    n_buckets = len(bounds)
    bucket = _timebuckets.bucket_codes(t, bounds.asi8)
    # A unit enters a bucket once: its attempts are grouped by (unit, bucket), both sorted.
    keys = stream.unit[entries].astype(np.int64) * n_buckets + bucket
    if not reentry:
        entries, bucket, keys = (a[_first_run(keys)] for a in (entries, bucket, keys))
    att = engine.run(entries)
    chosen = _counted(att, keys)
    tainted = _tainted(engine, att, chosen, len(steps))
    kept = chosen[~tainted]
    entered = np.bincount(bucket[kept], minlength=n_buckets).astype(np.int64)
    converted = np.bincount(bucket[kept[att.reach[kept] == len(steps)]], minlength=n_buckets).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        conversion = np.where(entered > 0, converted / np.maximum(entered, 1), np.nan)
    ends = _steps.period_ends(bounds, parsed)
    # The last attempt of a bucket starts at its last instant; its window must be in the frame.
    complete = ends.asi8 - 1 + engine.window <= _steps.last_event(df)
    out = pd.DataFrame({"entered": entered, "converted": converted, "conversion": conversion,
                        "complete": complete}, index=_timebuckets.regular(bounds, parsed))
    out.attrs["excluded_units"] = int(tainted.sum())
    return stream.stamp(out)
