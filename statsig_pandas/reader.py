"""``read_events``: event names and options -> walks -> one typed frame."""

from __future__ import annotations

import gc
import warnings
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import requests

from ._options import check_read_options, epoch_ms, event_names, iso_utc, now_iso, time_range
from .cache import NEEDS_RANGE, Cache, cache_and_settle, frame_table, settled_days, table_frame
from .decode import PageCodec
from .endpoints import (
    DAY_MS,
    EVENTS_ENDPOINT,
    LOGS_MAX_LIMIT,
    LOGS_PATH,
    Provenance,
    equal_edges,
    event_path,
    logs_query,
    time_windows,
)
from .errors import StatsigError, StatsigWarning, find_stack_level
from .frame import ChunkAssembler, build_frame, concat_frames, expand_metadata_columns
from .pagination import CursorWalk, PageNumberWalk, Paginator, Progress, ReadProgress, TimeWindow
from .retry import RetryPolicy
from .transport import API_VERSION, MAX_RESPONSE_BYTES, Transport

__all__ = ["read_events"]

MAX_WINDOWS = 64


@contextmanager
def _gc_paused():
    """Pause the cyclic GC while a read's pages are converted.

    Decoding allocates many short-lived, acyclic objects (the per-field lists
    of each page; per-row dicts on the generic path) that set off collections
    for nothing: pausing saves 5-8 % of the conversion of 200,000 events
    (typed and generic path alike; it was a third before pages were decoded
    into ``gc=False`` structs)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_events(
    names: str | Iterable[str],
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    page_size: int | None = None,
    max_concurrency: int = 4,
    progress: Progress = None,
    errors: str = "raise",
    expand_metadata: bool = False,
    timeout: float = 30,
    session: requests.Session | None = None,
    retry: RetryPolicy | None = None,
    start: Any = None,
    end: Any = None,
    chunksize: int | None = None,
    cache: Any = None,
    settle: Any = None,
    max_response_bytes: int = MAX_RESPONSE_BYTES,
) -> pd.DataFrame | Iterator[pd.DataFrame]:
    """Read Statsig events into a typed DataFrame.

    Without a time range, reads every page of ``GET /console/v1/events/{name}``:
    the endpoint's rolling window of recent events. With ``start`` (and
    ``end``), reads that range through ``GET /console/v1/logs``, cut into time
    windows walked concurrently, for histories longer than the window.

    Parameters
    ----------
    names : str or list of str
        One event name, or several (one frame; the ``name`` column tells them apart).
    api_key : str, optional
        A Console API key. Defaults to ``$STATSIG_CONSOLE_API_KEY``.
    base_url : str, optional
        Defaults to ``$STATSIG_CONSOLE_API_URL``, else ``https://statsigapi.net``.
        Must be https, except to a loopback host such as the emulator.
    page_size : int, optional
        The ``limit`` asked for: default 100 for the events endpoint, 1000 (the
        most it allows) for time ranges. The server may use a smaller one.
    max_concurrency : int, default 4
        Requests in flight at once (lowered for a while after a 429).
    progress : bool or callable, optional
        Show a progress bar; by default only for reads of more than one
        page. A callable instead gets a :class:`~statsig_pandas.ReadProgress`
        (rows and pages read so far, and the total when the server tells it)
        after every page, from the thread that called ``read_events`` (or
        iterates its chunks).
    errors : {"raise", "coerce"}, default "raise"
        What an unparseable timestamp does: raise :class:`StatsigError`, or
        become ``NaT`` with a :class:`StatsigWarning` giving the count.
    expand_metadata : bool, default False
        Add a ``metadata.<key>`` column for every metadata key.
    timeout : float, default 30
        Seconds one attempt at a page may take, from connecting to the last
        byte of the body (a server trickling bytes is a timeout, retried as one).
    session : requests.Session, optional
        A session of your own (proxies, certificates). It is not closed.
    retry : RetryPolicy, optional
        How 429, 5xx, dropped connections and timeouts are retried; by
        default at most 5 attempts within 120 s, honouring ``Retry-After``.
    start, end : str, datetime or Timestamp, optional
        Read the events logged in ``[start, end)`` (naive times are UTC);
        ``end`` defaults to now.
    chunksize : int, optional
        With a time range: return an iterator of frames of at most this many
        rows, in time order, so a long range never has to fit in memory.
    cache : True, str, path-like or Cache, optional
        With a time range: take whole UTC days that ended ``settle`` ago from
        a local cache, and store there those read, so that a re-run asks the
        API only for the days the cache lacks and the recent ones that may
        still change. True: ``$STATSIG_PANDAS_CACHE_DIR``, else the user
        cache folder; a path: that folder (see :class:`~statsig_pandas.Cache`).
        The frame is the one an uncached read gives (a partial first or last
        day is cut from the cached whole day). Keyed by API host and a
        fingerprint of the key, never the key. With ``chunksize``, the range
        is read a day at a time.
    settle : str or Timedelta, default "1D"
        With ``cache``: how long after its end a day is taken as final. Events
        reach the API late (SDKs batch and retry their uploads; an offline
        device sends its own when it is back): one day covers that, and a
        90-day read re-run each morning still takes 89 days from the cache.
    max_response_bytes : int, default 64 MiB
        The largest page body accepted, measured after decompression; a
        larger one is a :class:`ResponseFormatError`.

    Returns
    -------
    pandas.DataFrame or iterator of DataFrame
        Columns ``timestamp`` (``datetime64[ms, UTC]``), ``name`` and ``source``
        (categorical), ``value`` and ``userID`` (string), ``metadata`` (a dict
        per row), sorted by time, with a RangeIndex. ``df.attrs["statsig"]``
        holds the read's provenance.

    Raises
    ------
    StatsigError
        No key, bad arguments, a refused URL, or an unparseable timestamp.
    AuthenticationError, NotFoundError, RateLimitError, StatsigAPIError
        The API answered with an error.
    ResponseFormatError
        The API answered something other than the documented envelope.
    StatsigConnectionError
        The API could not be reached after retries.

    Warns
    -----
    StatsigWarning
        When the rows kept differ from the ``totalItems`` the server reported,
        or a read ended short.

    Examples
    --------
    >>> import statsig_pandas  # doctest: +SKIP
    >>> df = pd.read_statsig_events("add_to_cart")  # doctest: +SKIP
    >>> df.statsig.timeline("D")  # doctest: +SKIP
    >>> month = pd.read_statsig_events("purchase", start="2026-10-01", end="2026-11-01")  # doctest: +SKIP
    >>> for chunk in pd.read_statsig_events("purchase", start="2026-10-01", chunksize=100_000):  # doctest: +SKIP
    ...     chunk.statsig.value_counts()
    >>> since = pd.Timestamp.now(tz="UTC") - pd.Timedelta(days=90)  # doctest: +SKIP
    >>> quarter = pd.read_statsig_events("purchase", start=since, cache=True)  # doctest: +SKIP
    >>> quarter.attrs["statsig"]["days_from_cache"]  # doctest: +SKIP
    89
    """
    names = event_names(names)
    check_read_options(errors=errors, page_size=page_size, max_concurrency=max_concurrency, chunksize=chunksize,
                  retry=retry)
    options = dict(api_key=api_key, base_url=base_url, timeout=timeout, session=session, retry=retry,
                   pool_size=max_concurrency, max_response_bytes=max_response_bytes)
    store, settle_after = cache_and_settle(cache, settle)
    if start is None and end is None:
        if chunksize is not None:
            raise StatsigError("chunksize needs a time range: pass start= (and end=)")
        if store is not None:
            raise StatsigError(NEEDS_RANGE)
        return _read_recent(names, Transport(**options), page_size=page_size or 100,
                            max_concurrency=max_concurrency, progress=progress, errors=errors,
                            expand_metadata=expand_metadata)
    start_ms, end_ms = time_range(start, end)
    shape = dict(start_ms=start_ms, end_ms=end_ms, limit=min(page_size or LOGS_MAX_LIMIT, LOGS_MAX_LIMIT),
                 max_concurrency=max_concurrency, progress=progress, errors=errors, expand_metadata=expand_metadata)
    if store is not None:
        read = _CachedRangeRead(names, options, cache=store, settle_ms=settle_after, **shape)
    else:
        read = _RangeRead(names, options, **shape)
    return read.chunks(chunksize) if chunksize is not None else read.frame()


def _warn_coerced(coerced: int) -> None:
    if coerced:
        warnings.warn(f"{coerced} event(s) had an unparseable timestamp or metadata and were coerced "
                      "(timestamp NaT, metadata {})", StatsigWarning, stacklevel=find_stack_level())


def _after(earlier: list[Paginator], report: Callable[[ReadProgress], Any]) -> Callable[[ReadProgress], Any]:
    """A walk's progress as progress of the whole read: added to that of the walks before it."""
    rows = sum(p.rows_taken for p in earlier)
    pages = sum(p.pages_taken for p in earlier)
    totals = [p.walk.total_items for p in earlier]
    before = None if None in totals else sum(totals)

    def forward(progress: ReadProgress) -> None:
        total = None if before is None or progress.total is None else before + progress.total
        report(ReadProgress(rows + progress.rows, pages + progress.pages, total))

    return forward


def _read_recent(names: list[str], transport: Transport, *, page_size: int, max_concurrency: int,
                 progress: Progress, errors: str, expand_metadata: bool) -> pd.DataFrame:
    """The events endpoint: every page of each name's rolling window."""
    fetched_at = now_iso()
    pages, stats = [], []
    with transport:
        for name in names:
            walk = PageNumberWalk(event_path(name), limit=page_size, lookahead=4 * max_concurrency)
            paginator = Paginator(
                transport, walk, max_concurrency=max_concurrency, desc=name, codec=PageCodec(errors=errors),
                progress=_after([p for _, _, p in stats], progress) if callable(progress) else progress,
            )
            with _gc_paused():
                read = [page.content for page in paginator]
            pages.extend(read)
            stats.append((name, walk, paginator))

    frame, duplicates = build_frame(pages, expand_metadata=expand_metadata)
    _warn_coerced(sum(p.coerced for p in pages))
    kept_by_name = frame["name"].value_counts()
    for name, walk, _ in stats:
        kept, total = int(kept_by_name.get(name, 0)), walk.total_items
        if total is not None and kept != total:
            warnings.warn(
                f"{name!r}: kept {kept} event(s), {abs(total - kept)} {'fewer' if kept < total else 'more'} "
                f"than the {total} the server reported", StatsigWarning, stacklevel=find_stack_level())
    totals = [w.total_items for _, w, _ in stats if w.total_items is not None]
    frame.attrs["statsig"] = Provenance(
        endpoint=EVENTS_ENDPOINT, event_names=names, base_url=transport.base_url, api_version=API_VERSION,
        fetched_at=fetched_at, pages_read=sum(p.pages_read for _, _, p in stats),
        rows_received=sum(p.rows_received for _, _, p in stats), duplicates_dropped=duplicates,
        total_items_reported=sum(totals) if totals else None,
    ).to_attrs()
    return frame


class _RangeRead:
    """A time-range read through ``/console/v1/logs``: whole, or in time-ordered chunks."""

    def __init__(self, names, options, *, start_ms, end_ms, limit, max_concurrency, progress, errors,
                 expand_metadata):
        self.names, self.options = names, options
        self.start_ms, self.end_ms, self.limit = start_ms, end_ms, limit
        self.max_concurrency, self.progress, self.errors = max_concurrency, progress, errors
        self.expand_metadata = expand_metadata
        # Enough windows to keep every connection busy, and one a day (up to a
        # point: a sparse decade is not 3,650 requests) so that chunks come out
        # steadily; dense windows split themselves at the cursor cap.
        days = -(-(end_ms - start_ms) // DAY_MS)
        self.window_count = max(max_concurrency, min(days, MAX_WINDOWS))

    def _walk(self, transport: Transport, windows: list[TimeWindow] | None = None):
        if windows is None:
            windows = time_windows(self.names, self.start_ms, self.end_ms, self.window_count)
        walk = CursorWalk(LOGS_PATH, windows, limit=self.limit)
        paginator = Paginator(
            transport, walk, max_concurrency=self.max_concurrency, progress=self.progress,
            desc=", ".join(self.names),
            codec=PageCodec(logs=True, errors=self.errors),
        )
        return walk, paginator

    def _attrs(self, transport, walk, paginator, fetched_at, duplicates) -> dict:
        return Provenance(
            endpoint=LOGS_PATH, event_names=self.names, base_url=transport.base_url, api_version=API_VERSION,
            fetched_at=fetched_at, start=iso_utc(self.start_ms), end=iso_utc(self.end_ms),
            windows=len(walk.windows), window_splits=walk.splits, pages_read=paginator.pages_read,
            rows_received=paginator.rows_received, duplicates_dropped=duplicates,
        ).to_attrs()

    def frame(self) -> pd.DataFrame:
        fetched_at = now_iso()
        with Transport(**self.options) as transport:
            walk, paginator = self._walk(transport)
            with _gc_paused():
                pages = [page.content for page in paginator]
        frame, duplicates = build_frame(pages, expand_metadata=self.expand_metadata)
        _warn_coerced(sum(p.coerced for p in pages))
        frame.attrs["statsig"] = self._attrs(transport, walk, paginator, fetched_at, duplicates)
        return frame

    def chunks(self, chunksize: int) -> Iterator[pd.DataFrame]:
        """Frames of ``chunksize`` rows (the last may be shorter), in time order.

        Rows are held back until every window that could still return older
        ones is done (the walk's watermark), then sorted and cut.
        """
        # Validate and connect now, not at the first next(): errors belong to the call.
        transport = Transport(**self.options)
        return self._chunks(transport, chunksize)

    def _chunks(self, transport: Transport, chunksize: int) -> Iterator[pd.DataFrame]:
        fetched_at = now_iso()
        assembler = ChunkAssembler(chunksize, expand_metadata=self.expand_metadata, on_coerced=_warn_coerced)
        with transport:
            walk, paginator = self._walk(transport)
            for page in paginator:
                for chunk in assembler.add(page.content, watermark=page.watermark):
                    chunk.attrs["statsig"] = self._attrs(transport, walk, paginator, fetched_at, assembler.duplicates)
                    yield chunk
            for chunk in assembler.finish():
                chunk.attrs["statsig"] = self._attrs(transport, walk, paginator, fetched_at, assembler.duplicates)
                yield chunk


class _CachedRangeRead(_RangeRead):
    """A time-range read that takes settled days from a :class:`~statsig_pandas.Cache` and stores those it reads.

    Whole UTC days that ended ``settle`` ago belong to the cache: each is read
    whole when it is not there (a partial first or last day of the range is
    cut afterwards) and stored. The rest of the range, the unsettled tail, is
    read as without a cache, in the same walk as the missing days.
    """

    def __init__(self, names, options, *, cache: Cache, settle_ms: int, **kwargs):
        super().__init__(names, options, **kwargs)
        self.cache, self.settle_ms = cache, settle_ms

    def _windows(self, missing: list[tuple[int, int]], queries: list[dict], tail: int) -> list[TimeWindow]:
        """Windows over the missing days (a few days are cut further, to keep every connection busy) and the tail."""
        per_day = -(-self.max_concurrency // len(missing)) if missing else 1
        windows = [TimeWindow(lo, hi, dict(queries[i])) for day, i in missing
                   for lo, hi in pairwise(equal_edges(day * DAY_MS, (day + 1) * DAY_MS, per_day))]
        if tail < self.end_ms:
            count = max(self.max_concurrency, -(-(self.end_ms - tail) // DAY_MS))
            windows += time_windows(self.names, tail, self.end_ms, count)
        return windows

    def _read(self, transport: Transport, units: list[tuple[int, int]], tail: int, walks: list) -> dict:
        """Walk the ``units`` (whole days of one name) and ``[tail, end)``: their pages, by unit (None: the tail)."""
        queries = [logs_query(name) for name in self.names]
        walk, paginator = self._walk(transport, self._windows(units, queries, tail))
        walks.append((walk, paginator))
        name_of = {query["query"]: i for i, query in enumerate(queries)}
        pages: dict = {}
        with _gc_paused():
            for page in paginator:
                lo = page.request.params["start_ts"]  # a window, and the halves it splits into, are in one day
                unit = None if lo >= tail else (lo // DAY_MS, name_of[page.request.params["query"]])
                pages.setdefault(unit, []).append(page.content)
        return pages

    def frame(self) -> pd.DataFrame:
        fetched_at = now_iso()
        days = settled_days(self.start_ms, self.end_ms, now_ms=epoch_ms(fetched_at, "now"),
                            settle_ms=self.settle_ms)
        tail = max(self.start_ms, (days[-1] + 1) * DAY_MS) if days else self.start_ms
        queries = [logs_query(name) for name in self.names]
        units = [(day, i) for day in days for i in range(len(self.names))]
        walks: list = []
        with Transport(**self.options) as transport:
            scope = self.cache.scope(transport.base_url, transport.key_fingerprint(self.cache.salt()))
            # Cached days load (and are checked) in threads while the others are read.
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="statsig-cache") as pool:
                loads = {(day, i): pool.submit(scope.load_checked, self.names[i], queries[i], day)
                         for day, i in units if scope.has(self.names[i], queries[i], day)}
                missing = [unit for unit in units if unit not in loads]
                pages = self._read(transport, missing, tail, walks)
                cached = {unit: load.result() for unit, load in loads.items()}
            for (day, i), (_, problem) in cached.items():
                if problem is not None:
                    scope.report(self.names[i], day, problem)
            cached = {unit: table for unit, (table, _) in cached.items()}
            damaged = [unit for unit, table in cached.items() if table is None]
            if damaged:  # read again
                pages.update(self._read(transport, damaged, self.end_ms, walks))
        pieces, duplicates = [(unit, table) for unit, table in cached.items() if table is not None], 0
        for unit in missing + damaged + [None]:
            frame, dropped = build_frame(pages.get(unit, []))
            duplicates += dropped
            table = frame_table(frame)  # None when a caller's own metadata is not JSON
            if unit is not None and table is not None and not sum(p.coerced for p in pages.get(unit, [])):
                scope.save(self.names[unit[1]], queries[unit[1]], unit[0], table)  # coerced days depend on errors=
            pieces.append(((tail // DAY_MS + 1, 0) if unit is None else unit, frame if table is None else table))
        _warn_coerced(sum(p.coerced for unit_pages in pages.values() for p in unit_pages))
        pieces = [piece for _, piece in sorted(pieces, key=lambda piece: piece[0])]
        if all(isinstance(piece, pa.Table) for piece in pieces):
            frame = table_frame(pieces)
        else:
            frame = concat_frames(table_frame([p]) if isinstance(p, pa.Table) else p for p in pieces)
        frame = _in_order(frame, self.start_ms, self.end_ms)
        if self.expand_metadata:
            frame = expand_metadata_columns(frame)
        loaded = {unit for unit, table in cached.items() if table is not None}
        from_cache = sum(all((day, i) in loaded for i in range(len(self.names))) for day in days)
        all_days = (self.end_ms - 1) // DAY_MS - self.start_ms // DAY_MS + 1
        frame.attrs["statsig"] = Provenance(
            endpoint=LOGS_PATH, event_names=self.names, base_url=transport.base_url, api_version=API_VERSION,
            fetched_at=fetched_at, start=iso_utc(self.start_ms), end=iso_utc(self.end_ms),
            windows=sum(len(w.windows) for w, _ in walks), window_splits=sum(w.splits for w, _ in walks),
            pages_read=sum(p.pages_read for _, p in walks), rows_received=sum(p.rows_received for _, p in walks),
            duplicates_dropped=duplicates, cache=str(self.cache.path), days_from_cache=from_cache,
            days_from_api=all_days - from_cache,
        ).to_attrs()
        return frame

    def chunks(self, chunksize: int) -> Iterator[pd.DataFrame]:
        """Frames of ``chunksize`` rows in time order, read a UTC day at a time (each day through the cache)."""
        Transport(**self.options).close()  # check the key and URL now: errors belong to the call
        return self._cached_chunks(chunksize)

    def _cached_chunks(self, chunksize: int) -> Iterator[pd.DataFrame]:
        days = range(self.start_ms // DAY_MS, (self.end_ms - 1) // DAY_MS + 1)
        carry, totals = None, {}
        for number, day in enumerate(days):
            lo, hi = max(self.start_ms, day * DAY_MS), min(self.end_ms, (day + 1) * DAY_MS)
            read = _CachedRangeRead(self.names, self.options, cache=self.cache, settle_ms=self.settle_ms,
                                    start_ms=lo, end_ms=hi, limit=self.limit, max_concurrency=self.max_concurrency,
                                    progress=self.progress, errors=self.errors, expand_metadata=self.expand_metadata)
            frame = read.frame()
            info = frame.attrs["statsig"]
            for key in ("windows", "window_splits", "pages_read", "rows_received", "duplicates_dropped",
                        "days_from_cache", "days_from_api"):
                totals[key] = totals.get(key, 0) + info[key]
            attrs = {**info, **totals, "start": iso_utc(self.start_ms), "end": iso_utc(self.end_ms)}
            frame = concat_frames([carry, frame]) if carry is not None else frame
            last = number == len(days) - 1
            cut = len(frame) if last else len(frame) - len(frame) % chunksize
            for at in range(0, cut, chunksize):
                chunk = frame.iloc[at:at + chunksize].reset_index(drop=True)
                chunk.attrs["statsig"] = attrs
                yield chunk
            carry = frame.iloc[cut:].reset_index(drop=True) if cut < len(frame) else None


def _in_order(frame: pd.DataFrame, start_ms: int, end_ms: int) -> pd.DataFrame:
    """Days read whole cut to ``[start_ms, end_ms)``, sorted by time (stable; unparseable times last)."""
    ts = frame["timestamp"].array.asi8  # NaT: the smallest int64
    if not len(ts) or (ts[0] >= start_ms and ts[-1] < end_ms and (ts[1:] >= ts[:-1]).all()):
        return frame  # the usual case: in order, and nothing outside the range (nor NaT, which sorts first)
    nat = ts == np.iinfo(np.int64).min
    order = np.flatnonzero((ts >= start_ms) & (ts < end_ms) | nat)
    key = np.where(nat, np.iinfo(np.int64).max, ts)[order]
    if not (key[1:] >= key[:-1]).all():
        order = order[np.argsort(key, kind="stable")]
    return frame.take(order).reset_index(drop=True)
