"""Everyday analysis of an events frame: plain functions, one implementation.

Every function takes the frame :func:`statsig_pandas.read_events` returns (or
any frame with its columns: filtered, concatenated, read back from Parquet)
and returns a Series or a DataFrame. ``df.statsig`` (:mod:`statsig_pandas.accessor`)
and the plots (:mod:`statsig_pandas.plotting`) delegate here.

Conventions, the same everywhere:

- ``""`` is a value like any other: counted, grouped and filtered as itself
  (:func:`display_label` shows it as ``(empty)``). Missing values (``<NA>``)
  are left out of counts and groups unless asked for.
- A category with no rows (left over after filtering) is not a value: it never
  shows as a 0-count row or a 0-filled column.
- Time buckets are labelled by their first instant and hold events with
  ``label <= timestamp < next label``; ``start`` is inclusive, ``end``
  exclusive. Buckets follow the wall clock of ``tz`` (default: the frame's own
  zone, UTC for the reader's frames), so a day is a real local day (23 or 25
  hours across a daylight-saving change) and the repeated hour of an autumn
  night is two hourly buckets. The result index stays tz-aware.

>>> from statsig_pandas import analysis
>>> from statsig_pandas.testing import synthetic_frame
>>> df = synthetic_frame(1_000, seed=1, end_ms=1_774_000_000_000)
>>> analysis.timeline(df, freq="D", tz="Europe/Paris").sum()
np.int64(1000)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import _kernels, _options, _timebuckets
from .errors import FrameSchemaError, StatsigError

__all__ = [
    "REQUIRED_COLUMNS",
    "FrameSchemaError",
    "validate_frame",
    "value_counts",
    "timeline",
    "unique_users",
    "summary",
    "summary_numbers",
    "SummaryNumbers",
    "between",
    "where",
    "numeric_value",
    "activity",
    "display_label",
    "resolve_tz",
]

#: The columns every function here may rely on (``metadata`` is optional).
REQUIRED_COLUMNS = ("timestamp", "name", "source", "value", "userID")

EMPTY_LABEL = "(empty)"
MISSING_LABEL = "(missing)"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# A number as numeric_value reads one out of a value's text.
_NUMBER = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"



# ---------------------------------------------------------------- validation


def validate_frame(df: pd.DataFrame, *, columns: Iterable[str] = REQUIRED_COLUMNS) -> None:
    """Check, cheaply, that ``df`` has the events columns the analysis needs.

    Only column names and the dtype of ``timestamp`` are looked at, never the
    data, so this costs microseconds whatever the size of the frame.

    Parameters
    ----------
    df : pandas.DataFrame
        The frame to check.
    columns : iterable of str, default :data:`REQUIRED_COLUMNS`
        The columns that must be present.

    Raises
    ------
    FrameSchemaError
        Naming every missing column, or the unusable ``timestamp`` dtype.

    Examples
    --------
    >>> validate_frame(pd.DataFrame({"timestamp": []}))
    Traceback (most recent call last):
    ...
    statsig_pandas.errors.FrameSchemaError: not a Statsig events frame: missing column(s) 'name', 'source', \
'value', 'userID' (expected the columns of read_events: timestamp, name, source, value, userID)
    """
    if not isinstance(df, pd.DataFrame):
        raise FrameSchemaError(f"expected a DataFrame of Statsig events, not {type(df).__name__}")
    columns = tuple(columns)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise FrameSchemaError(
            "not a Statsig events frame: missing column(s) " + ", ".join(map(repr, missing))
            + " (expected the columns of read_events: " + ", ".join(REQUIRED_COLUMNS) + ")"
        )
    if "timestamp" in columns and not _timebuckets.is_datetime(df["timestamp"].dtype):
        raise FrameSchemaError(
            f"column 'timestamp' has dtype {df['timestamp'].dtype}, not a datetime; convert it first, "
            "e.g. df['timestamp'] = pd.to_datetime(df['timestamp'], unit='ms', utc=True)"
        )




# ---------------------------------------------------------------- helpers


def display_label(value: Any) -> str:
    """How a value is shown in a plot or a summary: ``""`` and missing values made visible.

    Examples
    --------
    >>> display_label(""), display_label(pd.NA), display_label("books")
    ('(empty)', '(missing)', 'books')
    """
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return MISSING_LABEL
    if isinstance(value, str) and value == "":
        return EMPTY_LABEL
    return str(value)






def resolve_tz(df: pd.DataFrame, tz: Any = None) -> Any:
    """The time zone the functions here bucket ``df`` in: ``tz``, else the timestamp column's (UTC if naive).

    Raises
    ------
    StatsigError
        For an unknown zone.

    Examples
    --------
    >>> df = pd.DataFrame({"timestamp": pd.to_datetime([0], unit="s", utc=True)})
    >>> str(resolve_tz(df)), str(resolve_tz(df, "Europe/Paris"))
    ('UTC', 'Europe/Paris')
    """
    _require(df, "timestamp")
    return _timebuckets.zone(tz, _timebuckets.frame_times(df))






def _require(df: pd.DataFrame, *columns: str) -> None:
    validate_frame(df, columns=columns)




















# ---------------------------------------------------------------- value counts




def value_counts(
    df: pd.DataFrame,
    column: str = "value",
    *,
    top: int | None = None,
    normalize: bool = False,
    dropna: bool = True,
) -> pd.Series:
    """Events per distinct value of a column, most frequent first.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame of events.
    column : str, default "value"
        The column to count: ``value``, ``source``, ``userID``, ``name``, any
        other column, or ``metadata.<key>`` (a key of the metadata dicts, when
        the frame has no such column already).
    top : int, optional
        Keep only the ``top`` most frequent values.
    normalize : bool, default False
        Shares of all counted events instead of counts (computed before
        ``top`` is applied, so the shares of the top values need not sum to 1).
    dropna : bool, default True
        Leave missing values (``<NA>``) out, as :meth:`pandas.Series.value_counts`
        does; with False they are counted under a missing label.

    Returns
    -------
    pandas.Series
        Named ``count`` (int64) or ``proportion`` (float64), indexed by the
        values (named after ``column``). ``""`` is a value of its own. Only
        values that occur are listed: categories without rows (after a filter)
        are not. Ties keep their order of first appearance (category order for
        categorical columns).

    Raises
    ------
    StatsigError
        For an unknown column or a bad ``top``.

    Examples
    --------
    >>> df = pd.DataFrame({"timestamp": pd.to_datetime([1, 2, 3], unit="s", utc=True),
    ...                    "value": ["books", "", "books"]})
    >>> value_counts(df).to_dict()
    {'books': 2, '': 1}
    """
    top = _options.positive_int(top, "top")
    labels, counts = _kernels.value_tally(_kernels.frame_column(df, column), dropna=dropna)
    order = np.argsort(-counts, kind="stable")
    labels, counts = labels[order], counts[order]
    labels.name = column
    if normalize:
        total = counts.sum()
        result = pd.Series(counts / total if total else counts.astype(float), index=labels, name="proportion")
    else:
        result = pd.Series(counts, index=labels, name="count", dtype=np.int64)
    return result.iloc[:top] if top is not None else result


# ---------------------------------------------------------------- time buckets


















def _tally(df, *, freq, by, users, tz, start, end):
    """Counts per bucket (and group): the index, an (n_buckets, n_groups) array and the group labels."""
    _require(df, "timestamp", *(["userID"] if users else []))
    freq = _timebuckets.parse_freq(freq)
    times = _timebuckets.frame_times(df)
    tz = _timebuckets.zone(tz, times)
    v = times.values
    lo_bound = None if start is None else _timebuckets.ticks(start, tz=tz, times=times, what="start")
    hi_bound = None if end is None else _timebuckets.ticks(end, tz=tz, times=times, what="end")
    if lo_bound is not None and hi_bound is not None and hi_bound < lo_bound:
        raise StatsigError(f"end ({end!r}) is before start ({start!r})")
    group_codes, group_labels = (None, None) if by is None else _kernels.factorize(_kernels.frame_column(df, by))

    # Most calls keep every row: then nothing is masked or copied.
    keep = None
    if len(v) and v.min() == _timebuckets.NAT:
        keep = v != _timebuckets.NAT
    if lo_bound is not None:
        keep = (v >= lo_bound) if keep is None else keep & (v >= lo_bound)
    if hi_bound is not None:
        keep = (v < hi_bound) if keep is None else keep & (v < hi_bound)
    if group_codes is not None and len(group_codes) and group_codes.min() < 0:
        keep = (group_codes >= 0) if keep is None else keep & (group_codes >= 0)
    rows = None if keep is None else np.flatnonzero(keep)
    if rows is not None:
        v = v[rows]
        group_codes = None if group_codes is None else group_codes[rows]

    # The span: from start (or the first event) to just before end (or the last event).
    lo = lo_bound if lo_bound is not None else (int(v.min()) if len(v) else None)
    hi = hi_bound - 1 if hi_bound is not None else (int(v.max()) if len(v) else None)
    if lo is None or hi is None or hi < lo:  # nothing to lay buckets on
        index = pd.DatetimeIndex([], dtype=pd.DatetimeTZDtype(times.unit, tz), name="timestamp")
        return index, np.zeros((0, 1 if by is None else 0), dtype=np.int64), (
            None if by is None else group_labels[:0])

    bounds = _timebuckets.boundaries(lo, hi, freq=freq, tz=tz, times=times)
    n_buckets = len(bounds)
    buckets = _timebuckets.bucket_codes(v, bounds.asi8)
    n_groups = 1 if by is None else len(group_labels)
    cells = buckets if by is None else buckets * n_groups + group_codes
    n_cells = n_buckets * n_groups
    if users:
        counts = _kernels.distinct_users(df["userID"], rows, cells, n_cells)
    else:
        counts = np.bincount(cells, minlength=n_cells)
    counts = counts.reshape(n_buckets, n_groups).astype(np.int64, copy=False)
    if by is None:
        return _timebuckets.regular(bounds, freq), counts, None
    # Groups without a row are not groups; the busiest first (ties in first-seen or category order).
    totals = counts.sum(axis=0)
    order = np.argsort(-totals, kind="stable")
    order = order[totals[order] > 0]
    return _timebuckets.regular(bounds, freq), counts[:, order], group_labels[order]


def timeline(
    df: pd.DataFrame,
    freq: Any = "h",
    *,
    by: str | None = None,
    users: bool = False,
    tz: Any = None,
    start: Any = None,
    end: Any = None,
) -> pd.Series | pd.DataFrame:
    """Events (or distinct users) per time bucket, on a regular index with empty buckets as 0.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame of events.
    freq : str or DateOffset, default "h"
        Bucket length: a length of wall-clock time (``"min"``, ``"15min"``,
        ``"h"``, ``"6h"``, ``"D"``) or a calendar period (``"W"`` = weeks
        Monday to Sunday, ``"W-SAT"`` = Sunday to Saturday, ``"MS"``, ``"QS"``,
        ``"YS"``). Buckets are labelled by their first instant.
    by : str, optional
        A column (``source``, ``name``, ``value``, ``metadata.<key>``, ...):
        one output column per value present, the busiest first; rows where
        it is missing are left out.
    users : bool, default False
        Count distinct ``userID`` per bucket instead of events (missing IDs
        are not users).
    tz : str or tzinfo, optional
        Time zone whose wall clock the buckets follow (daily counts in an
        analyst's own day: 23 or 25 hours across a daylight-saving change).
        Default: the zone of the timestamp column (UTC for frames from
        :func:`~statsig_pandas.read_events`).
    start, end : str, datetime or Timestamp, optional
        Keep events with ``start <= timestamp < end`` and lay the buckets from
        the one holding ``start`` to the one holding the last instant before
        ``end`` (empty buckets included). Naive values are read in ``tz``.
        Default: from the first event to the last.

    Returns
    -------
    pandas.Series or pandas.DataFrame
        int64 counts named ``events`` (or ``users``) on a tz-aware
        DatetimeIndex named ``timestamp``; a DataFrame with one column per
        group when ``by`` is given. Events without a timestamp (NaT) are not
        counted.

    Raises
    ------
    StatsigError
        For an unknown or unsupported ``freq``, an unknown ``tz`` or column,
        unparseable bounds or ``end`` before ``start``.

    Examples
    --------
    >>> df = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-28 23:30", "2026-03-29 22:30"], utc=True),
    ...                    "userID": ["1", "2"]})
    >>> timeline(df, freq="D", tz="Europe/Paris").index.strftime("%d %H:%M %z").tolist()
    ['29 00:00 +0100', '30 00:00 +0200']
    """
    if not isinstance(users, (bool, np.bool_)):
        raise StatsigError(f"users must be True or False, not {users!r}")
    index, counts, groups = _tally(df, freq=freq, by=by, users=users, tz=tz, start=start, end=end)
    if by is None:
        return pd.Series(counts[:, 0], index=index, name="users" if users else "events")
    columns = pd.Index(groups, name=by)
    return pd.DataFrame(counts, index=index, columns=columns)


def unique_users(df: pd.DataFrame, freq: Any = "D", *, tz: Any = None) -> pd.Series:
    """Distinct users per time bucket: daily (DAU), weekly (``freq="W"``: WAU), ...

    The same as ``timeline(df, freq=freq, users=True, tz=tz)``.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame of events.
    freq : str or DateOffset, default "D"
        Bucket length (see :func:`timeline`).
    tz : str or tzinfo, optional
        Time zone of the buckets (see :func:`timeline`).

    Returns
    -------
    pandas.Series
        Distinct non-missing ``userID`` per bucket, named ``users``, empty
        buckets 0, on a tz-aware DatetimeIndex.

    Examples
    --------
    >>> df = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-02 10:00", "2026-03-02 11:00",
    ...                                                 "2026-03-04 09:00"], utc=True),
    ...                    "userID": ["7", "7", "8"]})
    >>> unique_users(df).tolist()
    [1, 0, 1]
    """
    return timeline(df, freq=freq, users=True, tz=tz)


# ---------------------------------------------------------------- filters


def between(df: pd.DataFrame, start: Any = None, end: Any = None, *, tz: Any = None) -> pd.DataFrame:
    """The events with ``start <= timestamp < end``.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame of events.
    start, end : str, datetime or Timestamp, optional
        Bounds; either may be omitted. ``end`` is exclusive, so
        ``between(df, start="2026-03-01", end="2026-03-02")`` is one day.
    tz : str or tzinfo, optional
        Zone to read naive bounds in; default the timestamp column's (UTC).

    Returns
    -------
    pandas.DataFrame
        The matching rows, same columns, dtypes and index labels. Events
        without a timestamp never match a bound.

    Examples
    --------
    >>> df = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-01 10:00", "2026-03-02 10:00"], utc=True)})
    >>> len(between(df, start="2026-03-02"))
    1
    """
    _require(df, "timestamp")
    times = _timebuckets.frame_times(df)
    tz = _timebuckets.zone(tz, times)
    v = times.values
    keep = np.ones(len(df), dtype=bool)
    if start is not None:
        keep &= v >= _timebuckets.ticks(start, tz=tz, times=times, what="start")
    if end is not None:
        # NaT is the smallest int64: it would pass "< end".
        keep &= (v < _timebuckets.ticks(end, tz=tz, times=times, what="end")) & (v != _timebuckets.NAT)
    return df[keep]


def _wanted(values: Any, what: str) -> list:
    if isinstance(values, str):
        return [values]
    try:
        values = list(values)
    except TypeError:
        values = [values]
    wrong = [v for v in values if not isinstance(v, str)]
    if wrong:
        raise StatsigError(
            f"{what} takes strings (Statsig sends every {what} as text; user IDs such as '0042' stay "
            f"strings), not {wrong[0]!r}"
        )
    return values


def where(
    df: pd.DataFrame,
    *,
    value: Any = None,
    source: Any = None,
    user: Any = None,
    name: Any = None,
) -> pd.DataFrame:
    """The events matching every criterion given (a string or a list of strings each).

    Parameters
    ----------
    df : pandas.DataFrame
        A frame of events.
    value, source, user, name : str or list of str, optional
        Keep events whose ``value``, ``source``, ``userID``, ``name`` is one of
        these. ``""`` matches empty values.

    Returns
    -------
    pandas.DataFrame
        The matching rows, same columns, dtypes and index labels (categories
        are kept even when no row has them).

    Raises
    ------
    StatsigError
        If a criterion holds something other than strings.

    Examples
    --------
    >>> df = pd.DataFrame({"source": ["js-client", "py-server"], "value": ["", "books"]})
    >>> where(df, source=["js-client"], value="").index.tolist()
    [0]
    """
    criteria = {"value": value, "source": source, "userID": user, "name": name}
    criteria = {column: wanted for column, wanted in criteria.items() if wanted is not None}
    _require(df, *criteria)
    keep = np.ones(len(df), dtype=bool)
    for column, wanted in criteria.items():
        keep &= df[column].isin(_wanted(wanted, "user" if column == "userID" else column)).to_numpy(dtype=bool)
    return df[keep]


def numeric_value(df: pd.DataFrame) -> pd.Series:
    """``value`` as floats, for events that log amounts: ``""`` and non-numbers become NaN.

    A number is written in decimal: ``"19.99"``, ``"-3"``, ``".5"``, ``"1e3"``,
    with optional surrounding spaces. Anything else (``""``, ``"books"``,
    ``"1,000"``, ``"inf"``, ``"0x10"``) is NaN.

    Returns
    -------
    pandas.Series
        float64, named ``value``, with the frame's index.

    Examples
    --------
    >>> numeric_value(pd.DataFrame({"value": ["19.99", "", "books", " 3 "]})).tolist()
    [19.99, nan, nan, 3.0]
    """
    _require(df, "value")
    ser = df["value"]
    data = _kernels.arrow_view(ser)
    if data is None:
        try:
            data = pa.chunked_array([pa.array(np.asarray(ser, dtype=object), type=pa.large_string(), from_pandas=True)])
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # not text: let pandas judge each value
            numbers = pd.to_numeric(ser, errors="coerce")
            return pd.Series(np.asarray(numbers, dtype=np.float64), index=df.index, name="value")
    # Parse each distinct text once (values repeat a lot), with Arrow's vectorised regex and cast.
    encoded = data.dictionary_encode()
    dictionary = encoded.chunk(0).dictionary if encoded.num_chunks else pa.array([], data.type)
    is_number = pc.match_substring_regex(dictionary, _NUMBER)
    parsed = pc.if_else(is_number, pc.utf8_trim_whitespace(dictionary), pa.scalar(None, dictionary.type))
    floats = np.append(pc.cast(parsed, pa.float64()).to_numpy(zero_copy_only=False), np.nan)
    codes = pa.chunked_array([c.indices for c in encoded.chunks], type=pa.int32()).fill_null(-1).to_numpy()
    return pd.Series(floats[codes], index=df.index, name="value")  # code -1 (missing) takes the NaN at the end



# ---------------------------------------------------------------- tables


def activity(df: pd.DataFrame, *, tz: Any = None) -> pd.DataFrame:
    """Events by day of week (rows, Monday first) and hour of day (columns 0-23), in ``tz``.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame of events.
    tz : str or tzinfo, optional
        Time zone of the wall clock; default the timestamp column's (UTC).

    Returns
    -------
    pandas.DataFrame
        7 x 24 int64 counts, index ``weekday`` (``Mon`` ... ``Sun``), columns
        ``hour``. Events without a timestamp are not counted.

    Examples
    --------
    >>> df = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-02 10:15"], utc=True)})  # a Monday
    >>> int(activity(df, tz="Europe/Paris").loc["Mon", 11])
    1
    """
    _require(df, "timestamp")
    times = _timebuckets.frame_times(df)
    tz = _timebuckets.zone(tz, times)
    v = times.values
    v = v[v != _timebuckets.NAT]
    # Wall-clock ticks, then plain arithmetic (pandas' per-field accessors are much slower).
    local = pd.DatetimeIndex(v.view(f"M8[{times.unit}]")).tz_localize("UTC").tz_convert(tz).tz_localize(None)
    hours = local.as_unit(times.unit).asi8 // (3600 * 10**9 // times.ns)
    weekday = (hours // 24 + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
    cells = np.bincount(weekday * 24 + hours % 24, minlength=7 * 24)
    return pd.DataFrame(
        cells.reshape(7, 24).astype(np.int64),
        index=pd.Index(list(WEEKDAYS), name="weekday"),
        columns=pd.Index(range(24), name="hour"),
    )


@dataclass(frozen=True)
class SummaryNumbers:
    """The headline numbers of a frame of events, as :func:`summary` shows them.

    Attributes
    ----------
    events : int
        Rows of the frame.
    users : int
        Distinct ``userID`` values (missing IDs are not a user).
    first, last : pandas.Timestamp
        The earliest and latest timestamp, in the frame's zone; ``NaT`` when
        no event has a time.
    untimed : int
        Events without a timestamp.
    """

    events: int
    users: int
    first: pd.Timestamp
    last: pd.Timestamp
    untimed: int

    @property
    def span(self) -> pd.Timedelta:
        """``last - first`` (``NaT`` when no event has a time)."""
        return self.last - self.first


def summary_numbers(df: pd.DataFrame) -> SummaryNumbers:
    """Events, distinct users, first and last time: the numbers that head :func:`summary`.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame of events.

    Returns
    -------
    SummaryNumbers

    Examples
    --------
    >>> from statsig_pandas.testing.synthetic import synthetic_frame
    >>> numbers = summary_numbers(synthetic_frame(100, seed=3, end_ms=1_774_000_000_000))
    >>> numbers.events, numbers.untimed, numbers.first <= numbers.last
    (100, 0, True)
    """
    _require(df, *REQUIRED_COLUMNS)
    times = _timebuckets.frame_times(df)
    ticks = times.values
    timed = ticks[ticks != _timebuckets.NAT]

    def instant(reduce):
        return pd.Timestamp(reduce(timed), unit=times.unit, tz="UTC").tz_convert(times.tz) if len(timed) else pd.NaT

    return SummaryNumbers(events=len(df), users=len(value_counts(df, "userID")), first=instant(np.min),
                          last=instant(np.max), untimed=len(ticks) - len(timed))


def summary(df: pd.DataFrame, *, top: int = 5) -> pd.DataFrame:
    """One small table to head a report: volume, users, time span, sources, names, top values.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame of events.
    top : int, default 5
        How many of the most frequent values to list.

    Returns
    -------
    pandas.DataFrame
        One column ``summary`` (object), indexed by (``section``, ``item``):
        ``events/total``, ``events/users`` (distinct), ``events/first`` and
        ``events/last`` (timestamps), ``events/without timestamp`` (only when
        there are some), then one row per event ``name``, per ``source`` and
        per top ``value`` with its event count. Items are shown as in plots
        (``""`` as ``(empty)``).

    See Also
    --------
    summary_numbers : the numbers of the ``events`` section, as a dataclass.

    Examples
    --------
    >>> from statsig_pandas.testing import synthetic_frame
    >>> summary(synthetic_frame(100, seed=3, end_ms=1_774_000_000_000)).loc[("events", "total"), "summary"]
    100
    """
    numbers = summary_numbers(df)
    top = _options.positive_int(top, "top", allow_none=False)
    rows: list[tuple[tuple[str, str], Any]] = [
        (("events", "total"), numbers.events),
        (("events", "users"), numbers.users),
        (("events", "first"), numbers.first),
        (("events", "last"), numbers.last),
    ]
    if numbers.untimed:
        rows.append((("events", "without timestamp"), numbers.untimed))
    for section, counts in (("name", value_counts(df, "name")), ("source", value_counts(df, "source")),
                            ("value", value_counts(df, "value", top=top))):
        rows.extend(((section, display_label(label)), int(count)) for label, count in counts.items())
    index = pd.MultiIndex.from_tuples([key for key, _ in rows], names=["section", "item"])
    values = np.empty(len(rows), dtype=object)
    values[:] = [value for _, value in rows]
    return pd.DataFrame({"summary": values}, index=index)
