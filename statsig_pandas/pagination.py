"""Walking a paginated endpoint: one mechanism, pluggable strategies.

:class:`Paginator` is the mechanism: it asks a :class:`Walk` strategy which
requests to send next, runs them concurrently through the
:class:`~statsig_pandas.transport.Transport` (fewer at a time after a 429),
converts each page (:mod:`.decode`) in the worker that fetched it, reports
progress (a tqdm bar, or a :class:`ReadProgress` to a callable) and hands back
typed :class:`Page` records as they are taken in, each with the walk's
watermark.

A strategy (the :class:`Walk` protocol) only decides *what* to ask for next
from what it has seen: :class:`PageNumberWalk` (``page``/``limit``, the events
endpoint) plans many pages at once; :class:`CursorWalk` (the logs endpoint)
plans one request per chain of cursors, each after the last.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import math
import threading
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Protocol

import pyarrow.compute as pc

from .decode import EVENTS, JoinedPage, PageCodec, PageColumns, envelope_data
from .errors import SNIPPET, ResponseFormatError, StatsigAPIError, StatsigError, StatsigWarning, find_stack_level
from .transport import Transport

__all__ = ["PageRequest", "Walk", "PageNumberWalk", "CursorWalk", "TimeWindow", "Paginator", "ConcurrencyLimit",
           "ReadProgress", "Progress"]


@dataclass(frozen=True)
class ReadProgress:
    """How far a read has got, as passed to a ``progress=`` callable after every page taken in.

    Attributes
    ----------
    rows : int
        Rows read so far in this read (before duplicates are dropped).
    pages : int
        Pages read so far in this read.
    total : int or None
        Rows the read is expected to hold, when the server says (the events
        endpoint's ``totalItems``); None otherwise (time-range reads).

    Examples
    --------
    >>> seen = []
    >>> read_events("purchase", progress=seen.append)  # doctest: +SKIP
    >>> seen[-1]  # doctest: +SKIP
    ReadProgress(rows=1200, pages=12, total=1200)
    """

    rows: int
    pages: int
    total: int | None


#: What ``progress=`` accepts: a bool or None for a tqdm bar (None: only for reads of more than one page),
#: or a callable given a :class:`ReadProgress` after every page.
Progress = bool | None | Callable[[ReadProgress], Any]


@dataclass(frozen=True)
class PageRequest:
    """One request a walk wants sent; ``key`` orders the pages it yields."""

    key: tuple
    path: str
    params: dict = field(compare=False, hash=False)
    page: int | None = None  # for messages


@dataclass
class Page:
    """One answer, made small: its events converted, the rest of the envelope kept as walks need it."""

    request: PageRequest
    items: int  # events in the answer's ``data``
    pagination: dict | None  # the answer's ``pagination`` object, as sent (None if it had none)
    content: PageColumns | JoinedPage  # the events converted, or joined for converting in bulk
    fingerprint: bytes  # equal for answers of equal events: how a page served twice is told
    #: The walk's watermark once this page (and every page yielded before it) was taken in.
    watermark: int | None = None


#: A pagination number that was sent but means nothing (negative, fractional, not a number).
INVALID = "invalid"


def _number(value: Any) -> int | str | None:
    """A pagination number: they may arrive as JSON floats (``100.0``) or strings.

    None when absent, :data:`INVALID` when present but not a whole number >= 0.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return INVALID
    try:
        number = float(value)
    except (TypeError, ValueError):
        return INVALID
    return int(number) if math.isfinite(number) and number >= 0 and number.is_integer() else INVALID


class Walk(Protocol):
    """A pagination strategy: what to request first, and next.

    Its hooks, all called from the thread iterating the :class:`Paginator`:
    :meth:`first`, :meth:`receive`, :meth:`wants`, :meth:`plan`,
    :meth:`recover`, :meth:`finish` and :meth:`watermark`, with the
    attributes ``path``, ``expect_many`` and ``total_items``. Subclasses get
    the defaults below.
    """

    path: str

    def first(self) -> list[PageRequest]:
        raise NotImplementedError

    def receive(self, page: Page) -> bool:
        """Learn from one page; False rejects it (it is not part of the result)."""
        raise NotImplementedError

    def wants(self, request: PageRequest) -> bool:
        """Whether a request planned earlier is still worth sending."""
        return True

    def plan(self, in_flight: int) -> list[PageRequest]:
        """Requests to send now that were not sent before."""
        raise NotImplementedError

    def recover(self, request: PageRequest, error: Exception) -> bool:
        """Whether the walk can go on without this request (it re-planned)."""
        return False

    #: Whether a progress bar is worth showing (more than one request expected).
    expect_many: bool = False

    #: Items the server says the whole walk holds, once known.
    total_items: int | None = None

    def finish(self) -> list[str]:
        """Messages for a :class:`StatsigWarning` once the walk is over."""
        return []

    def watermark(self) -> int | None:
        """A time before which every event has been taken in, for walks that know one."""
        return None


def _pages_covering(gaps: list[tuple[int, int]], size: int) -> Iterator[int]:
    """The page numbers (1-based, ascending, once each) whose items cover the sorted ``gaps``."""
    last = 0
    for start, stop in gaps:
        for page in range(max(start // size + 1, last + 1), (stop - 1) // size + 2):
            last = page
            yield page


#: Pages a walk follows ``nextPage`` for when the server never says how many items there are: far more
#: than the events endpoint's rolling window holds (a million events at the default page size).
MAX_PAGES_WITHOUT_TOTAL = 10_000


class PageNumberWalk(Walk):
    """``page``/``limit`` pagination of the events endpoint.

    Page 1 tells the page size the server really uses (``itemsPerPage``; a
    server may clamp ``limit``) and the window's size (``totalItems``); the
    remaining pages are then requested together. The URL of ``nextPage`` is
    never requested: it only means "there is more".

    The window grows at its front while it is read (newest first), so every
    item moves back by one place per new event. Each answer's ``totalItems``
    says how far the window had grown when that page was served, which places
    the page in the coordinates of the latest window. Pages served out of
    order (concurrency) can leave gaps there, and events that arrived during
    the walk sit in front of page 1: once the walk is done, the pages that
    cover any gap are read again, for at most ``max_rounds`` rounds.
    Duplicates that re-reading and shifting produce are dropped later.

    A server that sends no ``totalItems`` bounds the walk only by ``nextPage``;
    one that keeps saying "more" is followed for ``max_pages_without_total``
    pages at most, then the walk stops with a warning rather than run forever.
    """

    def __init__(self, path: str, *, limit: int, max_rounds: int = 3, lookahead: int = 16,
                 max_pages_without_total: int = MAX_PAGES_WITHOUT_TOTAL):
        self.path = path
        self.limit = limit
        self.max_rounds = max_rounds
        self.max_pages_without_total = max_pages_without_total
        self.ceiling_hit = False  # did a walk without totalItems stop at max_pages_without_total?
        # Pages planned beyond the furthest one read: enough to keep every connection
        # busy, few enough that a server announcing millions of pages costs nothing up front.
        self.lookahead = lookahead
        self.invalid_total: Any = None
        self.per_page: int | None = None
        self.total_items = None
        self.sent: set[tuple] = set()
        self.pages: dict[int, Page] = {}  # the first accepted read of each page
        self.reads: list[tuple[int, int, int]] = []  # (page, totalItems then, items) of every accepted read
        self.furthest_more = True  # does the furthest page read say there is more?
        self.end: int | None = None  # first page known to be past the end
        self.round = 0
        self.ignored_page: tuple[int, int] | None = None  # (asked, answered) when the server ignores `page`
        self.unpaginated: tuple[int, int] | None = None  # (page, events) of the first answer without pagination
        self.uncovered = 0

    def _request(self, page: int, round_: int = 0) -> PageRequest:
        self.sent.add((page, round_))
        return PageRequest(key=(round_, page), path=self.path, params={"page": page, "limit": self.limit},
                           page=page)

    def first(self) -> list[PageRequest]:
        return [self._request(1)]

    def receive(self, page: Page) -> bool:
        number = page.request.page
        data, pagination = page.items, page.pagination
        if pagination is None:  # nothing says whether more follows: read no further, and say so
            self.unpaginated = self.unpaginated or (number, data)
            pagination = {}
        answered = _number(pagination.get("pageNumber"))
        previous = self.pages.get(number - 1)
        if (answered is not None and answered != number) or (
            number > 1 and data and previous is not None and previous.fingerprint == page.fingerprint
        ):
            # A server that ignores `page` would otherwise be walked forever.
            self.ignored_page = (number, pagination.get("pageNumber") if answered is not None else number - 1)
            self._stop_at(number)
            return False
        self.pages.setdefault(number, page)
        if number == 1 and self.per_page is None:
            per_page = _number(pagination.get("itemsPerPage"))
            self.per_page = per_page if isinstance(per_page, int) and per_page > 0 else (data or self.limit)
        total = _number(pagination.get("totalItems"))
        if total is INVALID:
            self.invalid_total, total = pagination.get("totalItems"), None
        if total is not None:
            self.total_items = total if self.total_items is None else max(self.total_items, total)
            self.reads.append((number, total, data))
        if page.request.key[0] == 0:  # the first round decides where the window ends
            self._find_end(number, data, pagination)
        return True

    def _find_end(self, number: int, data: int, pagination: dict) -> None:
        if not data:
            self._stop_at(number)
        elif number == max(n for n in self.pages):
            self.furthest_more = pagination.get("nextPage") not in (None, "")
            if not self.furthest_more:
                self._stop_at(number + 1)
            elif self.total_items is None and number >= self.max_pages_without_total:
                self.ceiling_hit = True  # distinct full pages without end, and no total to check them by
                self._stop_at(number + 1)

    def wants(self, request: PageRequest) -> bool:
        return request.key[0] > 0 or self.end is None or request.page < self.end

    @property
    def expect_many(self) -> bool:
        return bool(self.total_items and self.per_page and self.total_items > self.per_page)

    def _stop_at(self, page: int) -> None:
        self.end = page if self.end is None else min(self.end, page)

    def _last_page_wanted(self) -> int:
        """The last page the latest answers say exists."""
        furthest = max(self.pages) if self.pages else 1
        if self.total_items is not None and self.per_page:
            wanted = math.ceil(self.total_items / self.per_page)
        else:
            wanted = furthest + (1 if self.furthest_more else 0)
        if self.end is not None:
            wanted = min(wanted, self.end - 1)
        return max(wanted, 1)

    def gaps(self) -> list[tuple[int, int]]:
        """Stretches of the latest window that no read covered, as [start, stop) indices."""
        if self.total_items is None or not self.per_page or not self.reads:
            return []
        latest, size = self.total_items, self.per_page
        covered = sorted(
            ((page - 1) * size + latest - total, (page - 1) * size + latest - total + items)
            for page, total, items in self.reads if items
        )
        gaps, reached = [], 0
        for start, stop in covered:
            if start > reached:
                gaps.append((reached, start))
            reached = max(reached, stop)
        if self.end is None and reached < latest:
            gaps.append((reached, latest))
        return gaps

    def plan(self, in_flight: int) -> list[PageRequest]:
        if not self.pages:
            return []
        if self.round == 0:
            upto = min(self._last_page_wanted(), max(self.pages) + self.lookahead)
            fresh = [self._request(p) for p in range(2, upto + 1) if (p, 0) not in self.sent]
            if fresh or in_flight:
                return fresh
        elif in_flight:
            return []
        gaps = self.gaps() if not self.ignored_page else []
        self.uncovered = sum(stop - start for start, stop in gaps)
        if not gaps or self.round >= self.max_rounds:
            return []
        self.round += 1
        # As many pages as were seen at most, found lazily: a total that jumps to a billion must cost
        # neither a billion requests nor the memory to list them.
        budget = max(self.lookahead, len(self.pages))
        wanted = itertools.islice(_pages_covering(gaps, self.per_page), budget)
        return [self._request(p, self.round) for p in wanted]

    def finish(self) -> list[str]:
        messages = []
        if self.unpaginated:
            page, events = self.unpaginated
            messages.append(
                f"page {page} of {self.path} had no pagination object: the walk stopped after it "
                f"({events} event(s) on it); the server did not say how many more it holds, so an unknown "
                "number of events may be missing")
        if self.ignored_page:
            asked, answered = self.ignored_page
            messages.append(
                f"the server ignored the page parameter (asked for page {asked}, got page {answered} again); "
                f"stopped after {len(self.pages)} page(s) instead of walking forever"
            )
        if self.ceiling_hit:
            messages.append(
                f"the server sent no totalItems and still said more followed after {self.max_pages_without_total:,} "
                f"page(s) of {self.path}: the walk stopped there; any events beyond them are missing")
        if self.invalid_total is not None:
            messages.append(f"the server sent an invalid totalItems ({self.invalid_total!r}); "
                            "read until it said there was no more")
        if self.uncovered:
            messages.append(
                f"the window moved faster than it could be read: {self.uncovered} event(s) may be missing "
                f"after {self.round} re-read(s)"
            )
        return messages


@dataclass
class TimeWindow:
    """A stretch ``[start, end)`` of epoch milliseconds walked by one cursor chain."""

    start: int
    end: int
    params: dict = field(default_factory=dict)  # the query that selects this window's events
    cursor: str | None = None
    seq: int = 0
    rows: int = 0
    oldest: int | None = None  # the oldest timestamp read so far (answers come newest first)
    done: bool = False
    cursors: set = field(default_factory=set, repr=False)  # every cursor this chain was given
    stalls: int = 0  # pages in a row that brought nothing new
    last_fingerprint: Any = None

    @property
    def key(self) -> tuple:
        return (self.start, self.end, tuple(sorted(self.params.items())))


def _iso(ms: int) -> str:
    return _dt.datetime.fromtimestamp(ms / 1000, tz=_dt.timezone.utc).isoformat(timespec="milliseconds")


class CursorWalk(Walk):
    """Cursor pagination of ``/console/v1/logs`` over time windows.

    The range is cut into windows walked concurrently; each window's cursor
    chain is sequential. The server refuses cursors deeper than ``cap`` rows,
    so a window about to go deeper is closed at the oldest timestamp it
    reached: what it read stands, and the rest of it (up to and including
    that millisecond) is halved into two new windows. Nothing is read twice
    but the boundary millisecond, whose events are told apart by ``id``.
    """

    #: Pages in a row a chain may bring nothing new on (empty, or the same events again) before it ends.
    MAX_STALLS = 2

    def __init__(self, path: str, windows: list[TimeWindow], *, limit: int = 1000, cap: int = 100_000):
        self.path = path
        self.limit = limit
        self.cap = cap
        self.windows: dict[tuple, TimeWindow] = {}
        self.queue: list[PageRequest] = []
        self.ended: list[str] = []  # why chains ended before the server said they were done
        self.splits = 0
        self.refused = 0  # cursors the server refused before the walk expected it to (read by tests only)
        for window in windows:
            self._open(window)

    def _open(self, window: TimeWindow) -> None:
        self.windows[window.key] = window
        self.queue.append(self._request(window))

    def _request(self, window: TimeWindow) -> PageRequest:
        params = {**window.params, "start_ts": window.start, "end_ts": window.end, "limit": self.limit}
        if window.cursor:
            params["after"] = window.cursor
        return PageRequest(key=(*window.key, window.seq), path=self.path, params=params, page=window.seq + 1)

    def first(self) -> list[PageRequest]:
        return self.plan(0)

    @property
    def expect_many(self) -> bool:
        return True

    def _window(self, request: PageRequest) -> TimeWindow:
        return self.windows[request.key[:-1]]

    def receive(self, page: Page) -> bool:
        window = self._window(page.request)
        self._keep_inside(page, window)
        pagination = page.pagination
        window.rows += page.items
        oldest = pc.min(page.content.timestamp).as_py() if len(page.content) else None
        if oldest is not None:
            window.oldest = oldest if window.oldest is None else min(window.oldest, oldest)
        if pagination is None:
            window.done = True
            self._end(window, "an answer had no pagination object, so whether more followed is unknown")
            return True
        cursor = pagination.get("next_cursor")
        stalled = not page.items or page.fingerprint == window.last_fingerprint
        window.stalls = window.stalls + 1 if stalled else 0
        window.last_fingerprint = page.fingerprint
        if not (pagination.get("has_more") and cursor):
            window.done = True
        elif str(cursor) in window.cursors:
            window.done = True
            self._end(window, "the server sent a cursor it had sent before (the cursor did not advance)")
        elif window.stalls >= self.MAX_STALLS:
            window.done = True
            self._end(window, f"{window.stalls} pages in a row brought no new event (the cursor did not "
                              "advance)")
        elif window.rows + self.limit > self.cap:
            self._split(window)
        else:
            window.cursor, window.seq = str(cursor), window.seq + 1
            window.cursors.add(window.cursor)
            self.queue.append(self._request(window))
        return True

    def _keep_inside(self, page: Page, window: TimeWindow) -> None:
        """Drop the rows outside ``[window.start, window.end)``: the server's bounds are not documented."""
        ts = page.content.timestamp
        if not len(ts) or ts.null_count == len(ts):
            return
        bounds = pc.min_max(ts)  # one call for the usual page, wholly inside
        if window.start <= bounds["min"].as_py() and bounds["max"].as_py() < window.end:
            return
        inside = pc.fill_null(pc.and_(pc.greater_equal(ts, window.start), pc.less(ts, window.end)), True)
        page.content = page.content.filter(inside.to_numpy(zero_copy_only=False), coerced=page.content.coerced)

    def _end(self, window: TimeWindow, why: str) -> None:
        missing = (f"events before {_iso(window.oldest)} in it may be missing" if window.oldest is not None
                   else "its events may be missing")
        self.ended.append(f"the logs walk of [{_iso(window.start)}, {_iso(window.end)}) stopped after "
                          f"{window.seq + 1} page(s): {why}; {missing}")

    def finish(self) -> list[str]:
        return list(self.ended)

    def _split(self, window: TimeWindow) -> None:
        """Close ``window`` at its oldest row; walk the rest as two halves."""
        window.done = True
        if window.oldest is None:
            raise StatsigError(f"the server refused to page through [{window.start}, {window.end}) before "
                               "returning any event")
        rest_end = window.oldest + 1  # re-read the boundary millisecond: it may hold more events
        if rest_end >= window.end:
            raise StatsigError(
                f"about {self.cap} events share the millisecond {window.oldest}; the logs endpoint "
                "cannot page through more of them"
            )
        self.splits += 1
        middle = (window.start + rest_end) // 2
        for start, end in ((window.start, middle), (middle, rest_end)):
            if end > start:
                self._open(TimeWindow(start, end, dict(window.params)))

    def recover(self, request: PageRequest, error: Exception) -> bool:
        # The server may cap cursors lower than we think: a 400 deep in a chain means "narrow the window".
        window = self._window(request)
        if isinstance(error, StatsigAPIError) and error.status == 400 and window.seq > 0:
            self.refused += 1
            self._split(window)
            return True
        return False

    def plan(self, in_flight: int) -> list[PageRequest]:
        queued, self.queue = self.queue, []
        return queued

    def watermark(self) -> int | None:
        """Every event older than this has been read (None: the walk is over)."""
        return min((w.start for w in self.windows.values() if not w.done), default=None)


class ConcurrencyLimit:
    """How many requests may be in flight: halved on every 429, regrown slowly."""

    def __init__(self, maximum: int):
        self.maximum = max(1, int(maximum))
        self.current = self.maximum
        self._successes = 0
        self._lock = threading.Lock()
        self.throttled = 0  # 429s seen: read by tests only

    def throttle(self) -> None:
        with self._lock:
            self.throttled += 1
            self.current = max(1, self.current // 2)
            self._successes = 0

    def success(self) -> None:
        with self._lock:
            self._successes += 1
            if self.current < self.maximum and self._successes >= 2 * self.current:
                self.current += 1
                self._successes = 0


class Paginator:
    """Runs a :class:`Walk` against a :class:`Transport`.

    Parameters
    ----------
    transport : Transport
    walk : Walk
    max_concurrency : int
        Requests in flight at most (lowered for a while after a 429).
    codec : PageCodec
        Parses and converts each body, in the worker thread
        that fetched it (default: the events endpoint's).
    progress : bool, None or callable
        A tqdm bar over events once the total is known; None shows it for
        walks of more than one page. A callable gets a :class:`ReadProgress`
        after every page taken in, from the thread iterating the paginator,
        instead of a bar.
    desc : str
        The progress bar's label.
    """

    def __init__(self, transport: Transport, walk: Walk, *, max_concurrency: int = 4,
                 codec: PageCodec = EVENTS, progress: Progress = None, desc: str = "events"):
        self.transport = transport
        self.walk = walk
        self.concurrency = ConcurrencyLimit(max_concurrency)
        self.codec = codec
        self.progress = progress
        self.desc = desc
        self.pages_read = 0
        self.rows_received = 0
        self.pages_taken = 0  # pages the walk accepted
        self.rows_taken = 0

    def _fetch(self, request: PageRequest) -> Page:
        body = self.transport.get(request.path, request.params, page=request.page,
                                       on_throttle=self.concurrency.throttle, parse=self.codec.parse)
        self.concurrency.success()
        try:
            data, pagination = envelope_data(body, request)
            content = self.codec.convert(data, page=request.page or 0)
        except StatsigError as error:  # the body's shape, or a value the codec refused: the server's text
            if isinstance(error, ResponseFormatError):  # say which request it answered
                error.url = error.url or self.transport.url(request.path)
            self.transport.scrub_error(error)
            raise
        return Page(request, len(data), pagination, content, content.digest())  # the per-row events go now

    def _progress(self, bar, rows: int):
        """Create the bar once the total is known (if wanted), then advance it."""
        total = self.walk.total_items
        if bar is None:
            show = self.walk.expect_many if self.progress is None else self.progress
            if not show:
                return None
            from tqdm.auto import tqdm

            bar = tqdm(total=total, desc=self.desc, unit=" events", leave=False)
        if total is not None and bar.total != total:
            bar.total = max(total, bar.n + rows)  # the window grew while it was read
            bar.refresh()
        bar.update(rows)
        return bar

    def _submit(self, pending: list[PageRequest], in_flight: dict[Future, PageRequest], pool) -> None:
        """Start the pending requests the walk still wants, up to the current concurrency."""
        while pending and len(in_flight) < self.concurrency.current:
            request = pending.pop(0)
            if self.walk.wants(request):
                in_flight[pool.submit(self._fetch, request)] = request

    def _taken(self, page: Page, bar):
        """Count a page the walk took in, show it (the bar is made on the first page that needs one) and
        stamp it with the walk's watermark; the bar."""
        self.pages_taken += 1
        self.rows_taken += len(page.content)
        if callable(self.progress):
            self.progress(ReadProgress(self.rows_taken, self.pages_taken, self.walk.total_items))
        else:
            bar = self._progress(bar, len(page.content))
        page.watermark = self.walk.watermark()
        return bar

    def __iter__(self) -> Iterator[Page]:
        """Pages in the order they are taken in, each with the walk's watermark at that moment.

        Yielding in that order (not request order) is what makes the
        watermark true of what the consumer has seen: every page the walk
        had taken in when it was computed has been yielded.
        """
        pending = sorted(self.walk.first(), key=lambda r: r.key)
        in_flight: dict[Future, PageRequest] = {}
        bar = None
        pool = ThreadPoolExecutor(max_workers=self.concurrency.maximum, thread_name_prefix="statsig-page")
        finished = False
        try:
            while pending or in_flight:
                self._submit(pending, in_flight, pool)
                if not in_flight:
                    continue
                done, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
                for future in sorted(done, key=lambda f: in_flight[f].key):
                    request = in_flight.pop(future)
                    try:
                        page = future.result()
                    except StatsigError as error:  # unless the walk can route around it, it ends the walk
                        if self.walk.recover(request, error):
                            continue
                        raise
                    self.pages_read += 1
                    self.rows_received += len(page.content)
                    if not self.walk.receive(page):
                        continue
                    bar = self._taken(page, bar)
                    yield page
                planned = self.walk.plan(len(in_flight) + len(pending))
                pending = sorted((r for r in pending + planned if self.walk.wants(r)), key=lambda r: r.key)
            finished = True
        finally:
            if not finished:  # an error, Ctrl-C or a consumer that stopped: abort what is in flight
                self.transport.cancel()
            pool.shutdown(wait=False, cancel_futures=True)
            if bar is not None:
                bar.close()
        for message in self.walk.finish():
            warnings.warn(self.transport.scrub(message, limit=3 * SNIPPET), StatsigWarning,
                          stacklevel=find_stack_level())
