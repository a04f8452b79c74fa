"""Time on a wall clock: the timestamp column as ticks, zones, ``freq`` parsing and bucket boundaries.

Buckets are labelled by their first instant and laid on the wall clock of a
zone (a day is 23 or 25 hours across a daylight-saving change). Shared by the
analysis functions and the event browser; private to the package.
"""

from __future__ import annotations

import datetime as _dt
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.tseries.frequencies import to_offset

from .errors import StatsigError

#: datetime64's NaT as int64 ticks.
NAT = np.iinfo(np.int64).min
NS_PER_UNIT = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
DAY_NS = 86_400 * 10**9
# More buckets than this is a typo (freq="s" over a year), not an analysis.
_MAX_BUCKETS = 5_000_000


def is_datetime(dtype: Any) -> bool:
    if isinstance(dtype, pd.ArrowDtype):
        return pa.types.is_timestamp(dtype.pyarrow_dtype)
    return isinstance(dtype, pd.DatetimeTZDtype) or (isinstance(dtype, np.dtype) and dtype.kind == "M")


@dataclass(frozen=True)
class Times:
    """The timestamp column as int64 ticks since the epoch (UTC), NaT as ``NAT``."""

    values: np.ndarray
    unit: str
    tz: Any

    @property
    def ns(self) -> int:
        return NS_PER_UNIT[self.unit]


def frame_times(df: pd.DataFrame) -> Times:
    ser = df["timestamp"]
    dtype = ser.dtype
    if isinstance(dtype, pd.ArrowDtype):  # a Parquet file read with dtype_backend="pyarrow"
        arrow = dtype.pyarrow_dtype
        dtype = pd.DatetimeTZDtype(arrow.unit, arrow.tz) if arrow.tz else np.dtype(f"M8[{arrow.unit}]")
        ser = ser.astype(dtype)
    if isinstance(dtype, pd.DatetimeTZDtype):
        unit, tz = dtype.unit, dtype.tz
    else:  # naive: read as UTC, the zone Statsig's epoch timestamps are in
        unit, tz = np.datetime_data(dtype)[0], _dt.timezone.utc
    # to_numpy with a datetime64 dtype is a zero-copy view of the UTC instants.
    return Times(ser.to_numpy(dtype=f"M8[{unit}]").view("i8"), unit, tz)


def zone(tz: Any, times: Times) -> Any:
    if tz is None:
        return times.tz
    try:
        return pd.Timestamp(0, tz=tz).tz
    except (KeyError, TypeError, ValueError) as exc:  # zoneinfo and pytz raise KeyErrors
        raise StatsigError(f"unknown time zone {tz!r}: {exc}") from None


def ticks(when: Any, *, tz: Any, times: Times, what: str) -> int:
    """``when`` (str, date, datetime, Timestamp) as a bound on ``times.values``, rounded up:
    ``t >= when`` iff ``ticks >= bound`` and ``t < when`` iff ``ticks < bound``.
    Naive times are read in ``tz``."""
    try:
        ts = pd.Timestamp(when)
    except (TypeError, ValueError) as exc:
        raise StatsigError(f"{what}={when!r} is not a date or time: {exc}") from None
    if ts is pd.NaT:
        raise StatsigError(f"{what} must be a date or time, not {when!r}")
    try:
        ts = ts.tz_localize(tz) if ts.tz is None else ts.tz_convert(tz)
    except Exception as exc:
        raise StatsigError(f"{what}={when!r} is not a single instant in {tz} ({exc}); give a UTC offset") from None
    try:
        ns = ts.as_unit("ns").value
    except (OverflowError, ValueError) as exc:
        raise StatsigError(f"{what}={when!r} is out of range: {exc}") from None
    return -(-ns // times.ns)


@dataclass(frozen=True)
class Freq:
    text: str
    offset: pd.DateOffset
    fixed: bool  # a fixed length of wall-clock time (s, min, h, D), else a calendar period
    period: str | None  # the Period frequency of a calendar period
    nominal_ns: int  # length of a bucket, about (used to bound the number of buckets)


_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def parse_freq(freq: Any) -> Freq:
    try:
        with warnings.catch_warnings():
            # pandas 2.2 warns about some spellings (e.g. 'H') before accepting or refusing them.
            warnings.simplefilter("ignore", FutureWarning)
            offset = to_offset(freq)
    except (TypeError, ValueError) as exc:
        raise StatsigError(f"unknown freq {freq!r}: {exc}") from None
    text = freq if isinstance(freq, str) else offset.freqstr
    # pandas 2 counts Day among its Ticks, pandas 3 does not: both are fixed wall-clock lengths here.
    if isinstance(offset, pd.offsets.Day):
        return Freq(text, offset, True, None, offset.n * DAY_NS)
    if isinstance(offset, pd.offsets.Tick):
        if offset.nanos <= 0:
            raise StatsigError(f"freq must be a positive length of time, not {freq!r}")
        return Freq(text, offset, True, None, offset.nanos)
    period = _calendar_period(offset) if offset.n == 1 else None
    if period is None:
        raise StatsigError(
            f"freq {freq!r} is not supported: use a length of time ('min', '15min', 'h', 'D', '7D', ...) "
            "or a calendar period ('W', 'W-MON', 'MS', 'QS', 'YS')"
        )
    return Freq(text, offset, False, period, DAY_NS)


def _calendar_period(offset: pd.DateOffset) -> str | None:
    """The Period frequency of a one-period calendar offset (``W-MON``, ``M``, ``Q-DEC``, ...), else None."""
    if isinstance(offset, pd.offsets.Week) and offset.weekday is not None:
        return "W-" + ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")[offset.weekday]
    if isinstance(offset, (pd.offsets.MonthBegin, pd.offsets.MonthEnd)):
        return "M"
    if isinstance(offset, pd.offsets.QuarterEnd):
        return f"Q-{_MONTHS[offset.startingMonth - 1]}"
    if isinstance(offset, pd.offsets.QuarterBegin):
        return f"Q-{_MONTHS[(offset.startingMonth - 2) % 12]}"
    if isinstance(offset, pd.offsets.YearEnd):
        return f"Y-{_MONTHS[offset.month - 1]}"
    if isinstance(offset, pd.offsets.YearBegin):
        return f"Y-{_MONTHS[(offset.month - 2) % 12]}"
    return None


def boundaries(lo: int, hi: int, *, freq: Freq, tz: Any, times: Times) -> pd.DatetimeIndex:
    """The first instant of every bucket from the one holding tick ``lo`` to the one holding ``hi``.

    Buckets are laid out on the wall clock of ``tz`` and each label is then
    placed on the time line: a label that occurs twice (the repeated hour of
    an autumn night) starts two buckets when buckets are shorter than a day;
    a label that does not exist (the skipped spring hour) starts at the first
    instant after the gap, so its bucket is merged into the next when they meet.
    """
    span = (hi - lo) * times.ns
    if span // freq.nominal_ns + 2 > _MAX_BUCKETS:
        raise StatsigError(
            f"freq={freq.text!r} makes more than {_MAX_BUCKETS:,} buckets over "
            f"{pd.Timedelta(span, unit='ns')}; choose a coarser freq or a shorter span"
        )
    wall_lo, wall_hi = (pd.Timestamp(t, unit=times.unit, tz="UTC").tz_convert(tz).tz_localize(None) for t in (lo, hi))
    if freq.fixed:
        labels = pd.date_range(wall_lo.floor(freq.offset), wall_hi, freq=freq.offset)
    else:
        labels = pd.period_range(pd.Period(wall_lo, freq=freq.period), pd.Period(wall_hi, freq=freq.period),
                                 freq=freq.period).start_time
    occurrences = [True, False] if freq.fixed and freq.nominal_ns < DAY_NS else [True]
    instants = np.unique(np.concatenate([
        labels.tz_localize(tz, ambiguous=np.full(len(labels), first), nonexistent="shift_forward")
        .as_unit(times.unit).asi8 for first in occurrences]))
    return pd.DatetimeIndex(instants.view(f"M8[{times.unit}]"), name="timestamp").tz_localize("UTC").tz_convert(tz)


def regular(bounds: pd.DatetimeIndex, freq: Freq) -> pd.DatetimeIndex:
    """``bounds`` with its ``freq`` set when pandas agrees the index is regular in it."""
    if len(bounds) < 2:
        return bounds
    try:
        return pd.DatetimeIndex(bounds, freq=freq.offset)
    except ValueError:  # across a DST change, hours or days are not evenly spaced
        return bounds


def bucket_codes(values: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Index of the bucket of each tick (``-1`` before the first; past the last: ``len(bounds) - 1``
    or more, callers mask with their own end)."""
    if len(bounds) == 1:
        return np.where(values >= bounds[0], 0, -1)
    steps = np.diff(bounds)
    if (steps == steps[0]).all():  # evenly spaced (any UTC grid): arithmetic, not a search
        codes = values - bounds[0]
        codes //= steps[0]  # in place: one array the size of the column, not two
        return codes
    return np.searchsorted(bounds, values, side="right") - 1


def narrow_bucket_codes(values: np.ndarray, bounds: np.ndarray, *, block: int = 1 << 20) -> np.ndarray:
    """:func:`bucket_codes` as int32 (buckets are few), computed a block at a time: no int64
    temporary as long as ``values``, where a stream of ten million events would hold two."""
    out = np.empty(len(values), dtype=np.int32)
    for lo in range(0, len(values), block):
        codes = bucket_codes(values[lo: lo + block], bounds)
        # Before the first bucket is -1 however long before; far past the last stays past it.
        np.clip(codes, -1, np.iinfo(np.int32).max, out=codes)
        out[lo: lo + block] = codes
    return out


def format_duration(span: pd.Timedelta) -> str:
    """A span of time as a reader says it, to its two largest units: ``3 days 4 h``, ``4 h 5 min``,
    ``21 days``, ``5 min``, ``30 s``."""
    seconds = int(pd.Timedelta(span).total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    # A second unit that is zero is left out: "21 days", not "21 days 0 h".
    if days:
        return f"{days} day{'s' * (days != 1)}" + (f" {hours} h" if hours else "")
    if hours:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    return f"{minutes} min" if minutes else f"{seconds} s"
