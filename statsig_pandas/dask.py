"""Time-range reads as a Dask DataFrame: one partition per time window, fetched where it runs.

Install with ``pip install "statsig-pandas[dask]"``. Each partition is an
ordinary :func:`statsig_pandas.read_events` of its window, run by whichever
Dask worker gets it, so a long history is read by many machines at once and
never has to fit in one.

The API key travels inside the task graph (the workers need it) wrapped in
:class:`ApiKey`, which never shows it and tokenizes to a random value of its
own: the key is in no repr of the collection or its graph, in no task name,
and in no log line. It is in the pickled graph sent to the workers, as it
must be.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from itertools import pairwise
from typing import Any

import pandas as pd

_INSTALL = 'statsig_pandas.dask needs Dask: pip install "statsig-pandas[dask]"'

try:
    import dask
except ImportError:  # pragma: no cover - exercised only without the extra
    raise ImportError(_INSTALL) from None

from . import reader
from ._options import check_read_options, event_names, time_range, timestamp_utc
from .cache import Cache, cache_and_settle
from .endpoints import equal_edges
from .errors import StatsigError
from .frame import empty_frame
from .retry import RetryPolicy
from .transport import check_timeout, normalize_base_url, resolve_key

__all__ = ["MAX_PARTITIONS", "ApiKey", "read_events"]

#: The most partitions one call may cut a range into (a year of hours fits).
MAX_PARTITIONS = 10_000


class ApiKey:
    """An API key that can go anywhere a task graph goes without being shown.

    Its ``repr``/``str`` are redacted, and it pickles the real key so that a
    worker in another process or on another machine can use it. Dask tokens
    (and so task names) get a random value drawn for each wrapper, never
    anything computed from the key: a hash of the key would let anyone who
    sees a task name test guesses against it, and a constant would give
    reads with different keys the same task names, so that a cluster holding
    one read's results would hand them to another key.

    Examples
    --------
    >>> key = ApiKey("console-abc")
    >>> key
    ApiKey(***)
    >>> f"{key}", key.reveal()
    ('ApiKey(***)', 'console-abc')
    """

    __slots__ = ("_key", "_token")

    def __init__(self, key: str, _token: str | None = None):
        self._key = key
        self._token = _token or secrets.token_hex(16)

    def reveal(self) -> str:
        """The key itself, for the one call that sends it."""
        return self._key

    def __repr__(self) -> str:
        return "ApiKey(***)"

    __str__ = __repr__

    def __reduce__(self):
        return (ApiKey, (self._key, self._token))

    def __dask_tokenize__(self) -> tuple[str, str]:
        return ("statsig-pandas-api-key", self._token)


def _partition_edges(names: list[str], start_ms: int, end_ms: int, partition_freq: Any) -> list[int]:
    """Window edges in epoch ms, oldest first: ``start``, the frequency's boundaries, ``end``."""
    if isinstance(partition_freq, int) and not isinstance(partition_freq, bool):
        if not 1 <= partition_freq <= MAX_PARTITIONS:
            raise StatsigError(f"partition_freq as a number of partitions must be 1 to {MAX_PARTITIONS}, "
                               f"not {partition_freq}")
        return equal_edges(start_ms, end_ms, partition_freq)  # the reader's own equal cut
    try:
        offset = pd.tseries.frequencies.to_offset(partition_freq)
    except (TypeError, ValueError):
        offset = None
    if offset is None or offset.n < 1:
        raise StatsigError(f"partition_freq must be a pandas frequency such as 'D', 'h' or 'W', or a number "
                           f"of partitions, not {partition_freq!r}")
    start, end = timestamp_utc(start_ms), timestamp_utc(end_ms)
    try:  # fixed frequencies: boundaries on the clock (days at midnight UTC, hours on the hour)
        anchor = start.floor(offset)
    except ValueError:  # calendar ones (weeks, months): the boundary at or before start
        anchor = offset.rollback(start.normalize())
    step = (anchor + offset) - anchor
    if (end - anchor) / step > MAX_PARTITIONS:
        raise StatsigError(f"partition_freq={partition_freq!r} cuts {start} to {end} into more than "
                           f"{MAX_PARTITIONS} partitions; pass a longer frequency")
    inner = pd.date_range(anchor, end, freq=offset).as_unit("ms").asi8
    return [start_ms] + [int(t) for t in inner if start_ms < t < end_ms] + [end_ms]


def _read_partition(window: tuple[int, int], *, names: list[str], api_key: ApiKey, base_url: str,
                    page_size: int | None, max_concurrency: int, errors: str, timeout: float,
                    retry: RetryPolicy | None, cache: Cache | None = None, settle: Any = None,
                    columns: Sequence[str] | None = None) -> pd.DataFrame:
    """One partition: the pandas reader over ``[window[0], window[1])``, on the worker that runs it."""
    lo, hi = window
    frame = reader.read_events(names, start=timestamp_utc(lo), end=timestamp_utc(hi),
                               api_key=api_key.reveal(), base_url=base_url, page_size=page_size,
                               max_concurrency=max_concurrency, progress=False, errors=errors,
                               timeout=timeout, retry=retry, cache=cache, settle=settle)
    # Dask asks for only the columns a computation uses (column projection).
    return frame if columns is None else frame[list(columns)]


def read_events(
    names: str | Iterable[str],
    *,
    start: Any,
    end: Any = None,
    partition_freq: str | pd.DateOffset | pd.Timedelta | int = "D",
    api_key: str | None = None,
    base_url: str | None = None,
    page_size: int | None = None,
    max_concurrency: int = 2,
    errors: str = "raise",
    timeout: float = 30,
    retry: RetryPolicy | None = None,
    cache: Any = None,
    settle: Any = None,
) -> dask.dataframe.DataFrame:
    """Read a time range of Statsig events as a Dask DataFrame, one partition per time window.

    Nothing is read until the collection is computed; then each partition is
    read by whichever Dask worker runs it, through
    ``GET /console/v1/logs`` exactly as :func:`statsig_pandas.read_events`
    reads ``start``/``end``. The key and base URL are resolved here, on the
    client, so workers need neither environment variable.

    Parameters
    ----------
    names : str or list of str
        One event name, or several (every partition reads all of them).
    start : str, datetime or Timestamp
        The first instant read (inclusive); naive times are UTC.
    end : str, datetime or Timestamp, optional
        The instant the read stops before (exclusive); defaults to now, fixed
        at this call so that every partition reads up to the same instant.
    partition_freq : str, DateOffset, Timedelta or int, default "D"
        How the range is cut into partitions. A pandas frequency (``"D"``,
        ``"6h"``, ``"W"``, ``"MS"``) gives one partition per period, on UTC
        boundaries (``"D"``: midnight to midnight UTC); the first and last
        are cut at ``start`` and ``end``. An int gives that many partitions
        of equal length. At most :data:`MAX_PARTITIONS`.
    api_key : str, optional
        A Console API key. Defaults to ``$STATSIG_CONSOLE_API_KEY`` (read here).
    base_url : str, optional
        Defaults to ``$STATSIG_CONSOLE_API_URL`` (read here), else
        ``https://statsigapi.net``; every worker must be able to reach it.
    page_size : int, optional
        The ``limit`` asked for; default 1000, the most the endpoint allows.
    max_concurrency : int, default 2
        Requests in flight per partition being read. A cluster reading
        ``k`` partitions at once sends up to ``k * max_concurrency``
        requests at a time: mind the project's rate limit.
    errors : {"raise", "coerce"}, default "raise"
        What an unparseable timestamp does, as in the pandas reader. Its
        :class:`StatsigWarning` is issued on the worker, not here.
    timeout : float, default 30
        Seconds one attempt at a page may take, from connecting to the last
        byte of the body, as in the pandas reader.
    retry : RetryPolicy, optional
        How 429, 5xx and dropped connections are retried, per request.
    cache : True, str, path-like or Cache, optional
        Keep settled days in this cache folder, as the pandas reader's
        ``cache=`` does (True: ``$STATSIG_PANDAS_CACHE_DIR`` or the user cache
        folder, as seen here). Each worker reads and fills the folder at
        that path on its own machine: a shared file system lets every
        worker use the days any of them read.
    settle : str or Timedelta, optional
        With ``cache``: how long after its end a day may be cached
        (default one day).

    Returns
    -------
    dask.dataframe.DataFrame
        The pandas reader's columns and dtypes (``metadata`` a dict per row,
        whatever ``dataframe.convert-string`` says), partitions in time
        order, each sorted by time with its own RangeIndex. Divisions are
        unknown (the index is not the time), and so are the categories of
        ``name`` and ``source`` until computed (``.cat.as_known()``).

    Raises
    ------
    StatsigError
        At this call: no key, bad arguments, a refused URL. At compute: what
        the pandas reader raises, with its type (``AuthenticationError``,
        ``RateLimitError``, ``StatsigConnectionError``, ...).

    Examples
    --------
    >>> import statsig_pandas.dask as sd  # doctest: +SKIP
    >>> ddf = sd.read_events("purchase", start="2026-01-01", end="2026-04-01")  # doctest: +SKIP
    >>> ddf.npartitions  # doctest: +SKIP
    90
    >>> ddf.groupby("userID")["value"].count().compute()  # doctest: +SKIP
    """
    # Imported here, not above: workers import this module only for
    # _read_partition, and dask.dataframe would add a second or more to each one's first task.
    try:
        import dask.dataframe as dd
        from dask.dataframe.utils import clear_known_categories
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError(f"{_INSTALL} ({exc})") from None
    names = event_names(names)
    key = ApiKey(resolve_key(api_key))
    base_url = normalize_base_url(base_url)
    check_read_options(errors=errors, page_size=page_size, max_concurrency=max_concurrency, retry=retry)
    timeout = check_timeout(timeout)  # here, not on a worker at compute time
    start_ms, end_ms = time_range(start, end)
    cache, _ = cache_and_settle(cache, settle)
    edges = _partition_edges(names, start_ms, end_ms, partition_freq)
    windows = list(pairwise(edges))
    # Categories differ from window to window, so the meta leaves them unknown.
    meta = clear_known_categories(empty_frame())
    # Dask's convert-string would add a step turning the object column (the
    # metadata dicts) into strings; built without it, the graph yields the
    # reader's dtypes whatever the configuration where it is computed.
    with dask.config.set({"dataframe.convert-string": False}):
        return dd.from_map(
            _read_partition, windows, meta=meta, divisions=None, label="read-statsig-events",
            enforce_metadata=False, names=names, api_key=key, base_url=base_url, page_size=page_size,
            max_concurrency=max_concurrency, errors=errors, timeout=timeout, retry=retry, cache=cache,
            settle=settle,
        )
