"""Walking a paginated endpoint: one mechanism, pluggable strategies.

:class:`Paginator` is the mechanism: it asks a :class:`Walk` strategy which
requests to send next, runs them concurrently through the
:class:`~statsig_pandas.transport.Transport` (fewer at a time after a 429),
converts each page to columns in the worker that fetched it, shows progress
and hands back pages in request order.

A strategy only decides *what* to ask for next from what it has seen:
:class:`PageNumberWalk` (``page``/``limit``, the events endpoint) plans many
pages at once; a cursor walk plans one request per chain, each after the last.
"""

from __future__ import annotations

import hashlib
import math
import threading
import warnings
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from .errors import ResponseFormatError, StatsigWarning
from .frame import PageColumns, page_columns
from .transport import Transport

__all__ = ["PageRequest", "Walk", "PageNumberWalk", "Paginator", "ConcurrencyLimit"]


@dataclass(frozen=True)
class PageRequest:
    """One request a walk wants sent; ``key`` orders the pages it yields."""

    key: tuple
    path: str
    params: dict = field(compare=False, hash=False)
    page: int | None = None  # for messages


@dataclass
class Page:
    request: PageRequest
    envelope: dict
    columns: PageColumns
    fingerprint: bytes


def _number(value: Any) -> int | None:
    """Pagination numbers may arrive as JSON floats (``100.0``) or strings."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if math.isfinite(number) and number >= 0 else None


def envelope_data(body: Any, request: PageRequest, status: int = 200) -> tuple[list, dict]:
    """The ``data`` list and ``pagination`` object of a documented envelope."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        snippet = repr(body)[:200]
        raise ResponseFormatError(
            f"page {request.page} of {request.path} is not the documented {{message, data, pagination}} "
            f"envelope: {snippet}",
            status=status, page=request.page, snippet=snippet,
        )
    pagination = body.get("pagination")
    return body["data"], pagination if isinstance(pagination, dict) else {}


class Walk:
    """A pagination strategy: what to request first, and next."""

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

    #: Items the server says the whole walk holds, once known.
    total_items: int | None = None

    def finish(self) -> list[str]:
        """Messages for a :class:`StatsigWarning` once the walk is over."""
        return []


class PageNumberWalk(Walk):
    """``page``/``limit`` pagination of the events endpoint.

    Page 1 tells the page size the server really uses (``itemsPerPage``; a
    server may clamp ``limit``) and the window's size (``totalItems``); the
    remaining pages are then requested together. The window grows while it is
    read, so ``totalItems`` and ``nextPage`` are taken afresh from every answer
    and the walk goes on while the furthest page says there is more. The URL
    of ``nextPage`` is never requested: it only means "there is more".
    """

    def __init__(self, path: str, *, limit: int, max_pages: int | None = None):
        self.path = path
        self.limit = limit
        self.max_pages = max_pages
        self.per_page: int | None = None
        self.total_items = None
        self.sent: set[int] = set()
        self.received: dict[int, Page] = {}
        self.furthest_more = True  # does the furthest page read say there is more?
        self.end: int | None = None  # first page known to be past the end
        self.ignored_page: tuple[int, int] | None = None  # (asked, answered) when the server ignores `page`

    def _request(self, page: int) -> PageRequest:
        self.sent.add(page)
        return PageRequest(key=(page,), path=self.path, params={"page": page, "limit": self.limit}, page=page)

    def first(self) -> list[PageRequest]:
        return [self._request(1)]

    def receive(self, page: Page) -> bool:
        number = page.request.page
        data, pagination = page.envelope["_data_len"], page.envelope["_pagination"]
        answered = _number(pagination.get("pageNumber"))
        previous = self.received.get(number - 1)
        if (answered is not None and answered != number) or (
            number > 1 and data and previous is not None and previous.fingerprint == page.fingerprint
        ):
            # A server that ignores `page` would otherwise be walked forever.
            self.ignored_page = (number, answered if answered is not None else number - 1)
            self._stop_at(number)
            return False
        self.received[number] = page
        if number == 1:
            self.per_page = _number(pagination.get("itemsPerPage")) or data or self.limit
        total = _number(pagination.get("totalItems"))
        if total is not None:
            self.total_items = total
        if not data:
            self._stop_at(number)
        elif number == max(self.received):
            self.furthest_more = pagination.get("nextPage") not in (None, "")
            if not self.furthest_more:
                self._stop_at(number + 1)
        return True

    def wants(self, request: PageRequest) -> bool:
        return self.end is None or request.page < self.end

    def _stop_at(self, page: int) -> None:
        self.end = page if self.end is None else min(self.end, page)

    def _last_page_wanted(self) -> int:
        """The last page the latest answers say exists."""
        furthest = max(self.received) if self.received else 1
        if self.total_items is not None and self.per_page:
            by_total = math.ceil(self.total_items / self.per_page)
        else:
            by_total = furthest + (1 if self.furthest_more else 0)
        wanted = max(by_total, 1)
        if self.furthest_more and self.total_items is not None and self.total_items > furthest * self.per_page:
            wanted = max(wanted, furthest + 1)
        if self.end is not None:
            wanted = min(wanted, self.end - 1)
        if self.max_pages is not None:
            wanted = min(wanted, self.max_pages)
        return wanted

    def plan(self, in_flight: int) -> list[PageRequest]:
        if not self.received:
            return []
        return [self._request(p) for p in range(2, self._last_page_wanted() + 1) if p not in self.sent]

    def finish(self) -> list[str]:
        if self.ignored_page:
            asked, answered = self.ignored_page
            return [
                f"the server ignored the page parameter (asked for page {asked}, got page {answered} again); "
                f"stopped after {len(self.received)} page(s) instead of walking forever"
            ]
        return []


class ConcurrencyLimit:
    """How many requests may be in flight: halved on every 429, regrown slowly."""

    def __init__(self, maximum: int):
        self.maximum = max(1, int(maximum))
        self.current = self.maximum
        self._successes = 0
        self._lock = threading.Lock()
        self.throttled = 0

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


def _fingerprint(columns: PageColumns) -> bytes:
    digest = hashlib.blake2b(digest_size=16)
    for array in (columns.timestamp, columns.user, columns.value):
        for buffer in array.buffers():
            if buffer is not None:
                digest.update(buffer)
    return digest.digest()


class Paginator:
    """Runs a :class:`Walk` against a :class:`Transport`.

    Parameters
    ----------
    transport : Transport
    walk : Walk
    max_concurrency : int
        Requests in flight at most (lowered for a while after a 429).
    convert : callable
        ``(data, request) -> PageColumns``; runs in the worker thread.
    progress : bool or None
        A tqdm bar over events once the total is known; None shows it for
        walks of more than one page.
    desc : str
        The progress bar's label.
    """

    def __init__(self, transport: Transport, walk: Walk, *, max_concurrency: int = 4,
                 convert: Callable[[list, PageRequest], PageColumns] | None = None,
                 progress: bool | None = None, desc: str = "events",
                 envelope: Callable[[Any, PageRequest], tuple[list, dict]] = envelope_data):
        self.transport = transport
        self.walk = walk
        self.limit = ConcurrencyLimit(max_concurrency)
        self.convert = convert or (lambda data, req: page_columns(data, page=req.page or 0))
        self.progress = progress
        self.desc = desc
        self.envelope = envelope
        self.pages_read = 0
        self.rows_received = 0

    def _fetch(self, request: PageRequest) -> Page:
        body = self.transport.get_json(request.path, request.params, page=request.page,
                                       on_throttle=self.limit.throttle)
        self.limit.success()
        data, pagination = self.envelope(body, request)
        columns = self.convert(data, request)
        body = {"_data_len": len(data), "_pagination": pagination}  # drop the per-row dicts now
        return Page(request, body, columns, _fingerprint(columns))

    def _bar(self):
        show = self.progress
        total = self.walk.total_items
        if show is None:
            per_page = getattr(self.walk, "per_page", None)
            show = bool(total and per_page and total > per_page)
        if not show:
            return None
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=self.desc, unit=" events", leave=False)

    def __iter__(self) -> Iterator[Page]:
        """Pages in request order, each as soon as every earlier one has arrived."""
        pending = list(self.walk.first())
        in_flight: dict[Future, PageRequest] = {}
        arrived: dict[tuple, Page] = {}
        order: list[tuple] = []
        next_out = 0
        bar = None
        pool = ThreadPoolExecutor(max_workers=self.limit.maximum, thread_name_prefix="statsig-page")
        try:
            while pending or in_flight:
                while pending and len(in_flight) < self.limit.current:
                    request = pending.pop(0)
                    if not self.walk.wants(request):
                        continue
                    order.append(request.key)
                    in_flight[pool.submit(self._fetch, request)] = request
                done, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
                for future in sorted(done, key=lambda f: in_flight[f].key):
                    request = in_flight.pop(future)
                    page = future.result()  # an error ends the walk; `finally` cancels the rest
                    self.pages_read += 1
                    self.rows_received += len(page.columns)
                    if not self.walk.receive(page):
                        order.remove(request.key)
                        continue
                    arrived[request.key] = page
                    if bar is None and self.progress is not False:
                        bar = self._bar()
                    if bar is not None:
                        if self.walk.total_items is not None and bar.total != self.walk.total_items:
                            bar.total = max(self.walk.total_items, self.rows_received)
                            bar.refresh()
                        bar.update(len(page.columns))
                pending.extend(r for r in self.walk.plan(len(in_flight) + len(pending)) if r not in pending)
                pending.sort(key=lambda r: r.key)
                order.sort()
                pending = [r for r in pending if self.walk.wants(r)]
                while next_out < len(order) and order[next_out] in arrived:
                    yield arrived.pop(order[next_out])
                    next_out += 1
            for key in order[next_out:]:
                if key in arrived:
                    yield arrived.pop(key)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
            if bar is not None:
                bar.close()
        for message in self.walk.finish():
            warnings.warn(message, StatsigWarning, stacklevel=4)
