"""How units come back: lifecycle (new, returning, resurrecting, dormant) and stickiness.

Both count *units* (``userID`` by default, or any column or ``metadata.<key>``)
active in calendar buckets, with the rules every unit-based analysis shares
(:class:`statsig_pandas.Step` for ``event``; rows without a unit are left out
and counted in ``result.attrs["rows_without_unit"]``). Both walk the events sorted
once by unit and time, where each distinct (unit, bucket) pair is a run, and
count with segment arithmetic over those runs: no loop per unit.

The frame is all that is known: it covers the span from its first event to its
last, so "new" means first seen *in the frame* and only periods lying wholly
inside that span count as complete.

>>> import pandas as pd
>>> from statsig_pandas import engagement
>>> df = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-02", "2026-03-09", "2026-03-10"], utc=True),
...                    "name": "visit", "userID": ["a", "a", "b"]})
>>> engagement.lifecycle(df, freq="W").to_dict("list")
{'new': [1], 'returning': [1], 'resurrecting': [0], 'dormant': [0]}
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from . import _steps, _timebuckets
from .errors import StatsigError, StatsigWarning

__all__ = ["lifecycle", "stickiness", "lifecycle_counts", "stickiness_counts"]

LIFECYCLE_COLUMNS = ("new", "returning", "resurrecting", "dormant")


# ---------------------------------------------------------------- kernels on plain arrays


def _pairs(unit: np.ndarray, bucket: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (unit, bucket) pairs of events sorted by unit then time, as two arrays: each pair
    is a run of the sorted events."""
    new = np.ones(len(unit), dtype=bool)
    if len(unit) > 1:
        np.not_equal(unit[1:], unit[:-1], out=new[1:])
        new[1:] |= bucket[1:] != bucket[:-1]
    return unit[new], bucket[new]


def lifecycle_counts(unit: np.ndarray, bucket: np.ndarray, n_buckets: int) -> np.ndarray:
    """``(n_buckets, 4)`` int64 counts of new, returning, resurrecting and (negative) dormant units.

    ``unit`` and ``bucket`` are codes of the active events sorted by unit, then
    time (as :func:`statsig_pandas._steps.event_stream` sorts them). Bucket 0
    has no previous bucket: its units all count as new, and callers that cannot
    see before it drop it.

    Examples
    --------
    >>> lifecycle_counts(np.array([0, 0, 0, 1]), np.array([0, 1, 3, 1]), 4).tolist()
    [[1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 0, -2], [0, 0, 1, 0]]
    """
    u, t = _pairs(unit, bucket)
    first = np.ones(len(u), dtype=bool)  # the unit's first active bucket
    np.not_equal(u[1:], u[:-1], out=first[1:])
    follows = np.zeros(len(u), dtype=bool)  # active in the previous bucket too
    follows[1:] = ~first[1:] & (t[1:] - t[:-1] == 1)
    # A pair not followed by its unit's next bucket makes the unit dormant there.
    left = np.ones(len(u), dtype=bool)
    left[:-1] = ~follows[1:]
    gone = t[left] + 1
    out = np.zeros((n_buckets, 4), dtype=np.int64)
    out[:, 0] = np.bincount(t[first], minlength=n_buckets)
    out[:, 1] = np.bincount(t[follows], minlength=n_buckets)
    out[:, 2] = np.bincount(t[~first & ~follows], minlength=n_buckets)
    out[:, 3] = -np.bincount(gone[gone < n_buckets], minlength=n_buckets)
    return out


def stickiness_counts(unit: np.ndarray, bucket: np.ndarray, period_of: np.ndarray, max_active: int) -> np.ndarray:
    """Unit-periods by number of distinct active buckets: ``out[k - 1]`` holds those with exactly k.

    ``unit`` and ``bucket`` are codes of the active events sorted by unit, then
    time; ``period_of[b]`` is the period of bucket ``b`` (periods numbered in
    time order), ``-1`` for a bucket outside every counted period.

    Examples
    --------
    >>> stickiness_counts(np.array([0, 0, 0, 1]), np.array([0, 1, 1, 2]), np.array([0, 0, 1]), 2).tolist()
    [1, 1]
    """
    n = len(unit)
    if not n:
        return np.zeros(max_active, dtype=np.int64)
    period = period_of.astype(np.int32)[bucket]
    # Sorted events: a unit-period is a run of events, and so is each of its active buckets. Count
    # the bucket runs inside each unit-period run, on the events themselves (no pair arrays).
    new_unit = np.ones(n, dtype=bool)
    np.not_equal(unit[1:], unit[:-1], out=new_unit[1:])
    new_bucket = new_unit.copy()
    new_bucket[1:] |= bucket[1:] != bucket[:-1]
    new_period = new_unit
    new_period[1:] |= period[1:] != period[:-1]
    seen = np.cumsum(new_bucket, dtype=np.int32 if n < 1 << 31 else np.int64)  # bucket runs so far, this one's included
    del new_bucket
    starts = np.flatnonzero(new_period)
    del new_period
    ends = np.append(starts[1:], n)
    runs = seen[ends - 1] - seen[starts] + 1
    runs = runs[period[starts] >= 0]
    return np.bincount(runs, minlength=max_active + 1)[1:max_active + 1].astype(np.int64)


# ---------------------------------------------------------------- frames


def _active(df: pd.DataFrame, event: Any, unit: str) -> _steps.EventStream:
    """The events of ``event`` that have a unit and a timestamp, sorted by unit then time."""
    return _steps.event_stream(df, [_steps.as_step(event, "event")], unit=unit, what="event", keep_rows=False)


def _span(stream: _steps.EventStream) -> tuple[int, int] | None:
    """First and last tick of the frame's timestamped events (all of them, whatever ``event``)."""
    v = stream.times.values
    if len(v) and v.min() == _timebuckets.NAT:
        v = v[v != _timebuckets.NAT]
    return (int(v.min()), int(v.max())) if len(v) else None


def _bucket_index(bounds: np.ndarray, times: _timebuckets.Times, tz: Any, name: str) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(bounds.view(f"M8[{times.unit}]"), name=name).tz_localize("UTC").tz_convert(tz)


def lifecycle(df: pd.DataFrame, freq: Any = "W", *, event: Any = None, tz: Any = None,
              unit: str = "userID") -> pd.DataFrame:
    """New, returning, resurrecting and dormant units per calendar bucket.

    With ``A_t`` the units active in bucket ``t`` (at least one ``event``):

    - ``new``: in ``A_t``, active for the first time in the frame;
    - ``returning``: in ``A_t`` and in ``A_{t-1}``;
    - ``resurrecting``: in ``A_t``, not in ``A_{t-1}``, seen in an earlier bucket;
    - ``dormant``: in ``A_{t-1}`` and not in ``A_t``, as a negative count.

    So ``new + returning + resurrecting = |A_t|`` and
    ``returning - dormant = |A_{t-1}|``. "New" can only mean first seen in
    the frame, which begins at its first event: the frame's first bucket is a
    warm-up whose units cannot be told apart, and it is not reported (the
    first row is the second bucket). The last bucket may be cut short by the
    frame's end.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame of events.
    freq : str or DateOffset, default "W"
        Bucket length: ``"D"``, ``"W"`` (Monday to Sunday), ``"W-SAT"``,
        ``"MS"``, ``"h"``, ... (as for :func:`statsig_pandas.analysis.timeline`).
    event : str, list of str or statsig_pandas.Step, optional
        What counts as active: an event name, any of several names, or a
        :class:`~statsig_pandas.Step` with filters. Default: any event.
    tz : str or tzinfo, optional
        Zone whose wall clock the buckets follow; default the frame's (UTC).
    unit : str, default "userID"
        The column (or ``metadata.<key>``) naming the unit. Rows where it is
        missing or ``""`` are left out; their number is in
        ``result.attrs["rows_without_unit"]``.

    Returns
    -------
    pandas.DataFrame
        int64 columns ``new``, ``returning``, ``resurrecting``, ``dormant``
        (``<= 0``), on a tz-aware DatetimeIndex named ``bucket`` (bucket
        starts), every bucket of the frame after the first, empty ones 0.

    Raises
    ------
    StatsigError
        For an unknown ``freq``, ``tz`` or unit column, or a bad ``event``.

    Warns
    -----
    StatsigWarning
        When ``event`` matches no event, or the frame spans a single bucket
        (only the warm-up: the result is empty).

    Examples
    --------
    >>> df = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-02", "2026-03-03", "2026-03-05"], utc=True),
    ...                    "name": "visit", "userID": ["a", "b", "a"]})
    >>> lifecycle(df, freq="D")
                               new  returning  resurrecting  dormant
    bucket
    2026-03-03 00:00:00+00:00    1          0             0       -1
    2026-03-04 00:00:00+00:00    0          0             0       -1
    2026-03-05 00:00:00+00:00    0          0             1        0
    """
    freq_ = _timebuckets.parse_freq(freq)
    stream = _active(df, event, unit)
    tz = _timebuckets.zone(tz, stream.times)
    span = _span(stream)
    if span is None:
        bounds = np.zeros(0, dtype=np.int64)
    else:
        bounds = _timebuckets.boundaries(*span, freq=freq_, tz=tz, times=stream.times).asi8
    counts = lifecycle_counts(stream.unit, _timebuckets.narrow_bucket_codes(stream.time, bounds) if len(bounds) else
                              stream.unit[:0], len(bounds))
    if len(bounds) < 2:
        warnings.warn(f"the frame spans {'no' if span is None else 'a single'} freq={freq_.text!r} bucket: the "
                      "first bucket is a warm-up (no previous bucket to compare with), so there is nothing to "
                      "report; choose a shorter freq", StatsigWarning, stacklevel=2)
    index = _timebuckets.regular(_bucket_index(bounds[1:], stream.times, tz, "bucket"), freq_)
    return stream.stamp(pd.DataFrame(counts[1:], index=index, columns=list(LIFECYCLE_COLUMNS)))


def stickiness(df: pd.DataFrame, freq: Any = "D", *, per: Any = "W", event: Any = None, cumulative: bool = False,
               tz: Any = None, unit: str = "userID") -> pd.DataFrame:
    """How many ``freq`` buckets of each ``per`` period units are active in: days a week, hours a day, ...

    For every unit and every ``per`` period lying wholly inside the frame
    (which covers from its first event to its last: a period the frame only
    partly covers would read low), the number of distinct ``freq`` buckets
    holding at least one ``event``; then the histogram of those numbers over
    unit-periods, so a unit counts once in every period it is active in.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame of events.
    freq : str or DateOffset, default "D"
        The buckets counted (``"h"``, ``"D"``, ``"W"``, ...).
    per : str or DateOffset, default "W"
        The period they are counted in (``"D"``, ``"W"``, ``"MS"``, ...);
        each ``freq`` bucket must lie within one period (days in weeks or
        months, hours in days; not weeks in months).
    event : str, list of str or statsig_pandas.Step, optional
        What counts as active; default any event.
    cumulative : bool, default False
        Count the unit-periods active in that many buckets *or more*.
    tz : str or tzinfo, optional
        Zone whose wall clock buckets and periods follow; default the frame's.
    unit : str, default "userID"
        The unit column (or ``metadata.<key>``); rows without one are left out
        and counted in ``result.attrs["rows_without_unit"]``.

    Returns
    -------
    pandas.DataFrame
        Index ``active`` (1 to the most ``freq`` buckets a period holds),
        columns ``units`` (int64: unit-periods with exactly, or with
        ``cumulative`` at least, that many active buckets) and ``share``
        (float64: of all unit-periods with any activity).
        ``attrs["periods"]`` is the number of complete periods counted.

    Raises
    ------
    StatsigError
        For an unknown ``freq``, ``per``, ``tz`` or unit, or buckets that do
        not nest in the periods.

    Warns
    -----
    StatsigWarning
        When no period lies wholly inside the frame (the result is empty), or
        ``event`` matches nothing.

    Examples
    --------
    >>> days = pd.to_datetime(["2026-03-01 23:00", "2026-03-02 10:00", "2026-03-04 00:00", "2026-03-04 12:00",
    ...                        "2026-03-06 00:00", "2026-03-09 01:00"], utc=True)
    >>> df = pd.DataFrame({"timestamp": days, "name": "visit", "userID": ["a", "a", "a", "a", "b", "a"]})
    >>> stickiness(df)["units"].tolist()  # the week of 2 March: a on 2 days, b on 1
    [1, 1, 0, 0, 0, 0, 0]
    """
    if not isinstance(cumulative, (bool, np.bool_)):
        raise StatsigError(f"cumulative must be True or False, not {cumulative!r}")
    freq_, per_ = _timebuckets.parse_freq(freq), _timebuckets.parse_freq(per)
    stream = _active(df, event, unit)
    times = stream.times
    tz = _timebuckets.zone(tz, times)
    span = _span(stream)
    max_active, periods = 0, 0
    if span is not None:
        lo, end = span[0], span[1] + 1  # the frame covers [lo, end)
        buckets = _timebuckets.boundaries(lo, end, freq=freq_, tz=tz, times=times).asi8
        edges = _timebuckets.boundaries(lo, end, freq=per_, tz=tz, times=times).asi8
        whole = np.flatnonzero((edges[:-1] >= lo) & (edges[1:] <= end))  # periods inside [lo, end)
        periods = len(whole)
        if periods:
            inner = edges[whole[0]:whole[-1] + 2]
            if not np.isin(inner, buckets).all():
                raise StatsigError(f"freq={freq_.text!r} buckets do not nest in per={per_.text!r} periods (a "
                                   "bucket would straddle two periods); choose a freq that divides per, such as "
                                   "'D' in 'W' or 'MS'")
            # Period of each bucket; -1 outside the complete periods.
            period_of = np.searchsorted(edges, buckets, side="right") - 1
            period_of = np.where(np.isin(period_of, whole) & (buckets < edges[whole[-1] + 1]), period_of, -1)
            max_active = int(np.bincount(period_of[period_of >= 0]).max())
            counts = stickiness_counts(stream.unit, _timebuckets.narrow_bucket_codes(stream.time, buckets), period_of,
                                       max_active)
    if not max_active:
        counts = np.zeros(0, dtype=np.int64)
        first_last = "" if span is None else (
            f" (it covers {pd.Timestamp(span[0], unit=times.unit, tz='UTC').tz_convert(tz)} to "
            f"{pd.Timestamp(span[1], unit=times.unit, tz='UTC').tz_convert(tz)})")
        warnings.warn(f"no per={per_.text!r} period lies wholly inside the frame{first_last}, so stickiness has "
                      "nothing to count; read a longer span or choose a shorter per", StatsigWarning, stacklevel=2)
    total = int(counts.sum())
    if cumulative:
        counts = counts[::-1].cumsum()[::-1]
    result = pd.DataFrame({"units": counts.astype(np.int64),
                           "share": counts / total if total else np.zeros(len(counts))},
                          index=pd.RangeIndex(1, len(counts) + 1, name="active"))
    result.attrs["periods"] = periods
    return stream.stamp(result)
