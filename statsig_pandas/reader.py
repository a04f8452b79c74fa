"""``read_events``: event names and options -> walks -> one typed frame."""

from __future__ import annotations

import gc
import warnings
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator

import pandas as pd
import requests

from ._options import check_read_options, event_names, iso_utc, now_iso, time_range
from .decode import PageCodec
from .endpoints import DAY_MS, EVENTS_ENDPOINT, LOGS_MAX_LIMIT, LOGS_PATH, Provenance, event_path, time_windows
from .errors import StatsigError, StatsigWarning, find_stack_level
from .frame import ChunkAssembler, build_frame
from .pagination import CursorWalk, PageNumberWalk, Paginator, Progress, ReadProgress
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
    """
    names = event_names(names)
    check_read_options(errors=errors, page_size=page_size, max_concurrency=max_concurrency, chunksize=chunksize,
                  retry=retry)
    options = dict(api_key=api_key, base_url=base_url, timeout=timeout, session=session, retry=retry,
                   pool_size=max_concurrency, max_response_bytes=max_response_bytes)
    if start is None and end is None:
        if chunksize is not None:
            raise StatsigError("chunksize needs a time range: pass start= (and end=)")
        return _read_recent(names, Transport(**options), page_size=page_size or 100,
                            max_concurrency=max_concurrency, progress=progress, errors=errors,
                            expand_metadata=expand_metadata)
    start_ms, end_ms = time_range(start, end)
    read = _RangeRead(names, options, start_ms=start_ms, end_ms=end_ms,
                      limit=min(page_size or LOGS_MAX_LIMIT, LOGS_MAX_LIMIT), max_concurrency=max_concurrency,
                      progress=progress, errors=errors, expand_metadata=expand_metadata)
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

    def _walk(self, transport: Transport):
        walk = CursorWalk(LOGS_PATH, time_windows(self.names, self.start_ms, self.end_ms, self.window_count),
                          limit=self.limit)
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
