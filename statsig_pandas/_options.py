"""Checks of the arguments every entry point shares, each written once.

Also the conversions between the times users pass (strings, datetimes,
Timestamps; naive means UTC) and the epoch milliseconds the API speaks.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Iterable

import numpy as np
import pandas as pd

from .endpoints import event_path
from .errors import StatsigError
from .retry import RetryPolicy

__all__ = [
    "ERRORS",
    "check_errors",
    "check_read_options",
    "check_retry",
    "epoch_ms",
    "event_names",
    "iso_utc",
    "now_iso",
    "positive_int",
    "time_range",
    "timestamp_utc",
]

#: The values of every ``errors=`` argument.
ERRORS = ("raise", "coerce")


def positive_int(value: Any, what: str, *, allow_none: bool = True) -> int | None:
    """``value`` as an int if it is a positive integer (or None, when allowed); else a StatsigError."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise StatsigError(f"{what} must be a positive integer{' or None' if allow_none else ''}, not {value!r}")
    return int(value)


def event_names(names: str | Iterable[str]) -> list[str]:
    """One event name or several as a list without repeats, each one a name a URL can carry.

    Examples
    --------
    >>> event_names(["buy", "view", "buy"])
    ['buy', 'view']
    """
    if isinstance(names, str):
        names = [names]
    try:
        names = list(dict.fromkeys(names))
    except TypeError:
        raise StatsigError(f"names must be an event name or a list of them, not {type(names).__name__}") from None
    if not names:
        raise StatsigError("no event names given")
    for name in names:
        event_path(name)
    return names


def check_errors(errors: Any) -> None:
    if errors not in ERRORS:
        raise StatsigError(f"errors must be 'raise' or 'coerce', not {errors!r}")


def check_retry(retry: Any) -> None:
    if retry is not None and not isinstance(retry, RetryPolicy):
        raise StatsigError(f"retry must be a RetryPolicy, not {type(retry).__name__}")


def check_read_options(*, errors: str = "raise", page_size: int | None = None, max_concurrency: int = 1,
                       chunksize: int | None = None, retry: Any = None) -> None:
    """Refuse bad reading options before any request, with a clear :class:`StatsigError`."""
    check_errors(errors)
    for value, what in ((page_size, "page_size"), (chunksize, "chunksize")):
        if value is not None:
            positive_int(value, what, allow_none=False)
    positive_int(max_concurrency, "max_concurrency", allow_none=False)
    check_retry(retry)


def epoch_ms(value: Any, what: str) -> int:
    """Epoch milliseconds from a string, datetime or Timestamp (naive means UTC).

    Examples
    --------
    >>> epoch_ms("2024-07-10", "start")
    1720569600000
    """
    if isinstance(value, (int, float)):  # seconds? milliseconds? nanoseconds? too easy to get wrong
        raise StatsigError(f"{what} must be a date, datetime or Timestamp, not the number {value!r} "
                           "(for epoch milliseconds use pd.Timestamp(ms, unit='ms', tz='UTC'))")
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise StatsigError(f"{what} must be a date, datetime or Timestamp, not {value!r}") from None
    if stamp is pd.NaT:
        raise StatsigError(f"{what} must be a date, datetime or Timestamp, not {value!r}")
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return int(stamp.value // 1_000_000)


def timestamp_utc(ms: int) -> pd.Timestamp:
    """Epoch milliseconds as a UTC Timestamp."""
    return pd.Timestamp(ms, unit="ms", tz="UTC")


def iso_utc(ms: int) -> str:
    """Epoch milliseconds as ISO 8601 in UTC, with a ``Z``.

    Examples
    --------
    >>> iso_utc(1720569600123)
    '2024-07-10T00:00:00.123000Z'
    """
    return timestamp_utc(ms).isoformat().replace("+00:00", "Z")


def now_iso() -> str:
    """Now, as ISO 8601 in UTC with a ``Z``."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat().replace("+00:00", "Z")


def time_range(start: Any, end: Any) -> tuple[int, int]:
    """``[start, end)`` in epoch ms; ``end`` defaults to now."""
    if start is None:
        raise StatsigError("a time range needs start= (end= defaults to now)")
    start_ms = epoch_ms(start, "start")
    end_ms = epoch_ms(pd.Timestamp.now(tz="UTC") if end is None else end, "end")
    if end_ms <= start_ms:
        raise StatsigError(f"end ({end}) must be after start ({start})")
    return start_ms, end_ms


def positive_timedelta(value: Any, what: str) -> pd.Timedelta:
    """``value`` (``"30min"``, ``"14D"``, a Timedelta, ...) as a positive Timedelta."""
    try:
        delta = pd.Timedelta(value)
    except (TypeError, ValueError) as exc:
        raise StatsigError(f"{what}={value!r} is not a length of time: {exc}") from None
    if delta is pd.NaT or delta <= pd.Timedelta(0):
        raise StatsigError(f"{what} must be a positive length of time, not {value!r}")
    return delta
