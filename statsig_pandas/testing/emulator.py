"""A real HTTP stand-in for the Statsig Console API, for tests, demos and offline notebooks.

>>> from statsig_pandas.testing import StatsigEmulator
>>> with StatsigEmulator() as emu:                                  # doctest: +SKIP
...     df = read_events("add_to_cart", base_url=emu.url, api_key=emu.api_key)

It serves the documented envelope on 127.0.0.1, checks the key, and can
inject the faults a real API shows: latency, error statuses with
``Retry-After``, dropped connections, malformed bodies, a clamped ``limit``,
a server that ignores ``page`` and a window that moves during a walk.
``GET /console/v1/logs`` (time windows, cursors) is served from a columnar
index of the same events (see :mod:`statsig_pandas.testing.logs`);
:meth:`StatsigEmulator.for_logs` builds millions of events in seconds, and
:meth:`StatsigEmulator.for_journeys` users who browse, buy and come back
(:mod:`statsig_pandas.testing.journeys`), for demos of funnels and retention.
"""

from __future__ import annotations

import json
import math
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from .logs import LOGS_PATH, MAX_CURSOR_ROWS, LogsEndpoint, LogsRequestError, LogStore, epoch_ms
from .synthetic import DEFAULT_EVENT_NAMES, synthetic_events

__all__ = ["StatsigEmulator", "Fault", "RecordedRequest"]

EVENTS_PREFIX = "/console/v1/events"
DEFAULT_KEY = "console-emulator-not-a-real-key"


@dataclass
class Fault:
    """One injected fault; fires on the next ``times`` matching requests.

    kind: ``"status"`` (answer ``status``, with ``Retry-After`` if given),
    ``"drop"`` (close the connection without answering), ``"drop_body"``
    (send headers and half the body, then close), ``"malformed"`` (200 with
    a body that is not JSON), ``"redirect"`` (302 to ``location``).
    ``"slow"`` (wait ``delay`` seconds, then answer normally), ``"json"``
    (200 with ``body`` as JSON bytes). With ``"status"``, a ``body`` replaces
    the usual error JSON. ``body`` may be a callable of the number of
    answers this fault gave before (0, 1, ...) returning the bytes, for
    bodies that change from one answer to the next; ``headers`` are added to
    the answer (``Content-Encoding: gzip`` for a compressed ``body``).
    ``page`` and ``path`` narrow which requests match; on
    ``/console/v1/logs``, ``page`` is the request's place in its cursor walk
    (1 without ``after``, 2 for the first cursor, ...).
    """

    kind: str
    times: int = 1
    status: int = 503
    retry_after: str | None = None
    page: int | None = None
    path: str | None = None
    location: str | None = None
    body: bytes | Callable[[int], bytes] | None = None
    delay: float = 0.0
    headers: dict | None = None
    served: int = 0  # answers given so far

    def content(self) -> bytes | None:
        """The body of this answer (a callable ``body`` is asked with the answers given before)."""
        return self.body(self.served - 1) if callable(self.body) else self.body

    def matches(self, path: str, page: int | None) -> bool:
        return self.times > 0 and (self.page is None or self.page == page) and (
            self.path is None or self.path == path)


@dataclass
class RecordedRequest:
    """What the emulator saw of one request (headers lower-cased)."""

    path: str
    query: dict
    headers: dict = field(repr=False)
    raw_path: str = ""
    concurrent: int = 1  # requests being served when this one arrived, itself included
    fault: str | None = None  # the injected fault it got, e.g. "status 429"
    received: float = field(default_factory=time.monotonic)  # when it arrived (time.monotonic())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm the client's delayed ACK
    # stalls every keep-alive answer by ~40 ms.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format, *args):  # quiet: tests read .requests instead
        pass

    def do_GET(self):
        self.server.emulator._handle(self)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # A client that hung up (it gave up on a slow or huge answer) is no error of the server's.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class StatsigEmulator:
    """Serve ``/console/v1/events[/{name}]`` and ``/console/v1/logs`` over real HTTP on 127.0.0.1.

    Parameters
    ----------
    events : iterable of dict, optional
        Events in the API's shape; default: ``synthetic_events(n_events)``.
    n_events : int
        Size of the synthetic event set when ``events`` is not given.
    api_key : str or None
        The only key accepted; None accepts any request.
    latency : float
        Seconds added to every answer.
    max_limit : int or None
        Clamp ``limit`` to this silently, as a real server may.
    window : int or None
        Serve only the newest ``window`` events of each name (the rolling window).
    grow_per_request : int
        The window moves: after each page served, this many new events
        arrive at the front of that event's list.
    ignore_page : bool
        Answer page 1 whatever page is asked (a broken server).
    unknown_event_status : int or None
        The answer for an event name with no events: 404 (default), or None
        for an empty list.
    port : int
        0 picks a free port.
    logs : LogStore, optional
        Serve this columnar store (on both endpoints) instead of ``events``;
        see :meth:`for_logs`. It is fixed: no ``add_events``, no ``grow_per_request``.
    max_cursor_rows : int, default 100,000
        ``/console/v1/logs`` refuses (400) a cursor this many rows deep.
    end_inclusive : bool, default False
        ``/console/v1/logs`` also serves the events at exactly ``end_ts`` (a
        server reading the undocumented bound the other way).
    """

    def __init__(self, events: Iterable[dict] | None = None, *, n_events: int = 1000,
                 names: Iterable[str] = DEFAULT_EVENT_NAMES, seed: int = 0, api_key: str | None = DEFAULT_KEY,
                 latency: float = 0.0, max_limit: int | None = None, window: int | None = None,
                 grow_per_request: int = 0, ignore_page: bool = False, unknown_event_status: int | None = 404,
                 host: str = "127.0.0.1", port: int = 0, logs: LogStore | None = None,
                 max_cursor_rows: int = MAX_CURSOR_ROWS, end_inclusive: bool = False):
        if logs is not None and (events is not None or grow_per_request):
            raise ValueError("logs= serves a fixed store: pass neither events nor grow_per_request with it")
        if events is None and logs is None:
            events = synthetic_events(n_events, names=tuple(names), seed=seed)
        self.api_key = api_key
        self.latency = latency
        self.max_limit = max_limit
        self.window = window
        self.grow_per_request = grow_per_request
        self.ignore_page = ignore_page
        self.unknown_event_status = unknown_event_status
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests ever served at once
        self.faults: list[Fault] = []
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._by_name: dict[str, list[dict]] = {}
        self._all: list[dict] = []
        self._grown = 0
        self._logs = LogsEndpoint(store=logs, max_cursor_rows=max_cursor_rows, max_limit=max_limit,
                                  end_inclusive=end_inclusive)
        if logs is None:
            self.add_events(events)
        else:  # views render the store's events only when a page of them is served
            self._by_name, self._all = logs.events_by_name(), logs.events_view()
        self._host, self._port = host, port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def for_logs(cls, n_events: int = 2_000_000, *, names: Iterable[str] = DEFAULT_EVENT_NAMES,
                 start_ms: int | None = None, end_ms: int | None = None, seed: int = 0, users: int = 10_000,
                 prerender: bool = False, **kwargs) -> StatsigEmulator:
        """An emulator of ``n_events`` synthetic events over ``[start_ms, end_ms)`` (default: the last 30 days).

        Built column by column (:meth:`LogStore.synthetic`): ten million
        events take seconds and a few hundred MB. ``prerender=True`` renders
        every event's JSON up front (:meth:`LogStore.prerender`), so that the
        emulator is not what a benchmark of concurrent clients measures.
        Other keyword arguments go to the constructor (``api_key``,
        ``latency``, ``max_cursor_rows``, ...).

        Examples
        --------
        >>> StatsigEmulator.for_logs(100_000, start_ms=0, end_ms=86_400_000, latency=0.02)
        <StatsigEmulator stopped events=100000>
        """
        store = LogStore.synthetic(n_events, names=tuple(names), start_ms=start_ms, end_ms=end_ms, seed=seed,
                                   users=users)
        if prerender:
            store.prerender()
        return cls(logs=store, **kwargs)

    @classmethod
    def for_journeys(cls, users: int = 2_000, *, days: int = 28, seed: int = 0, end_ms: int | None = None,
                     **kwargs) -> StatsigEmulator:
        """An emulator of users going through a journey, for demos of funnels, retention and paths.

        Serves :func:`~statsig_pandas.testing.journeys.journey_store`:
        ``page_view`` -> ``add_to_cart`` -> ``purchase`` sessions with
        drop-off at each step, and return visits that fade over the ``days``
        before ``end_ms`` (default now). Other keyword arguments go to the
        constructor (``api_key``, ``latency``, ...).

        Examples
        --------
        >>> StatsigEmulator.for_journeys(500, seed=1, end_ms=1_774_000_000_000)
        <StatsigEmulator stopped events=10603>
        """
        from .journeys import journey_store

        return cls(logs=journey_store(users, days=days, seed=seed, end_ms=end_ms), **kwargs)

    # -- data ---------------------------------------------------------------
    def add_events(self, events: Iterable[dict]) -> None:
        """Add events; each name's list is kept newest first."""
        if self._logs.store is not None:
            raise TypeError("this emulator serves a fixed LogStore (logs=...): events cannot be added to it")
        with self._lock:
            for event in events:
                self._by_name.setdefault(event.get("name"), []).append(event)
                self._all.append(event)
            for items in [*self._by_name.values(), self._all]:
                items.sort(key=lambda e: _ts(e), reverse=True)

    def events(self, name: str | None = None) -> list[dict]:
        """The events currently served (the window), newest first."""
        with self._lock:
            items = self._all if name is None else self._by_name.get(name, [])
            return list(items[: self.window] if self.window else items)

    def _grow(self, name: str | None) -> None:
        if not self.grow_per_request:
            return
        newest = _ts(self._all[0]) if self._all else int(time.time() * 1000)
        fresh = []
        for _ in range(self.grow_per_request):
            self._grown += 1
            fresh.append({"timestamp": str(newest + self._grown), "name": name or "grown",
                          "source": "js-client", "value": f"new-{self._grown}", "userID": str(self._grown),
                          "metadata": {}})
        for event in fresh:
            self._by_name.setdefault(event["name"], []).insert(0, event)
            self._all.insert(0, event)

    # -- faults -------------------------------------------------------------
    def inject(self, kind: str, **kwargs) -> Fault:
        """Queue a :class:`Fault`; see its docstring for the kinds."""
        fault = Fault(kind, **kwargs)
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    # -- lifecycle ----------------------------------------------------------
    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not running; use it as a context manager or call start()")
        return f"http://{self._host}:{self._server.server_address[1]}"

    @property
    def port(self) -> int:
        return self._server.server_address[1] if self._server else self._port

    def start(self) -> StatsigEmulator:
        if self._server is None:
            self._server = _Server((self._host, self._port), _Handler)
            self._server.emulator = self
            self._thread = threading.Thread(target=self._server.serve_forever, name="statsig-emulator",
                                            kwargs={"poll_interval": 0.05}, daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self) -> StatsigEmulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = self.url if self._server else "stopped"
        return f"<StatsigEmulator {state} events={len(self._all)}>"

    # -- serving ------------------------------------------------------------
    def _handle(self, handler: _Handler) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            self._serve(handler)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _serve(self, handler: _Handler) -> None:
        parts = urlsplit(handler.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        headers = {k.lower(): v for k, v in handler.headers.items()}
        record = RecordedRequest(unquote(parts.path), query, headers, raw_path=parts.path,
                                 concurrent=self.in_flight)
        with self._lock:
            self.requests.append(record)
        if self.latency:
            time.sleep(self.latency)
        if self.api_key is not None and headers.get("statsig-api-key") != self.api_key:
            sent = headers.get("statsig-api-key", "")
            return _send_json(handler, 401, {
                "status": 401,
                "message": "This endpoint only accepts an active CONSOLE key, but an invalid key was sent. "
                           f"Key: {sent}",
            })
        raw_path = _resolve_dot_segments(parts.path)
        if raw_path == LOGS_PATH:
            return self._serve_logs(handler, query, record)
        if raw_path != EVENTS_PREFIX and not raw_path.startswith(EVENTS_PREFIX + "/"):
            return _send_json(handler, 404, {"status": 404, "message": f"Cannot GET {raw_path}"})
        rest = raw_path[len(EVENTS_PREFIX) + 1:]
        if "/" in rest:  # an encoded name is one segment; a literal slash is another route
            return _send_json(handler, 404, {"status": 404, "message": f"Cannot GET {raw_path}"})
        name = unquote(rest) if rest else None
        try:
            page = int(query.get("page", "1"))
            limit = int(query.get("limit", "100"))
            if page < 1 or limit < 1:
                raise ValueError
        except ValueError:
            return _send_json(handler, 400, {"status": 400, "message": "Invalid request: page and limit must be "
                                                                         "positive integers", "errors": []})
        fault = self._take_fault(unquote(raw_path), page, record)
        if fault is not None:
            return self._fault(handler, fault)
        if name is not None and name not in self._by_name and self.unknown_event_status:
            status = self.unknown_event_status
            return _send_json(handler, status, {"status": status, "message": f"Event {name} not found"})
        with self._lock:
            body = self._page(name, 1 if self.ignore_page else page, limit, raw_path)
            self._grow(name)
        return _send_json(handler, 200, body)

    def _take_fault(self, path: str, page: int, record: RecordedRequest) -> Fault | None:
        """The fault this request must answer with, if any (a "slow" one only delays, here)."""
        with self._lock:
            fault = next((f for f in self.faults if f.matches(path, page)), None)
            if fault is not None:
                fault.times -= 1
                fault.served += 1
                record.fault = f"status {fault.status}" if fault.kind == "status" else fault.kind
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)
            return None
        return fault

    def _serve_logs(self, handler: _Handler, query: dict, record: RecordedRequest) -> None:
        try:
            request = self._logs.parse(query)
        except LogsRequestError as exc:
            # A fault for every request of the path also answers the cursors it made up itself.
            fault = self._take_fault(LOGS_PATH, None, record)
            if fault is not None:
                return self._fault(handler, fault)
            return _send_json(handler, exc.status, {"status": exc.status, "message": str(exc)})
        fault = self._take_fault(LOGS_PATH, request.page, record)
        if fault is not None:
            return self._fault(handler, fault)
        with self._lock:
            store = self._logs.store_for(self._all)
        return _send_json(handler, 200, self._logs.answer(store, request))

    def _page(self, name: str | None, page: int, limit: int, raw_path: str) -> dict:
        items = self._all if name is None else self._by_name.get(name, [])
        if self.window:
            items = items[: self.window]
        per_page = min(limit, self.max_limit) if self.max_limit else limit
        start = (page - 1) * per_page
        data = items[start: start + per_page]
        pages = max(1, math.ceil(len(items) / per_page))
        link = lambda p: f"{raw_path}?page={p}&limit={per_page}"  # noqa: E731
        return {
            "message": "Event values listed successfully.",
            "data": data,
            "pagination": {
                "itemsPerPage": per_page,
                "pageNumber": page,
                "totalItems": len(items),
                "nextPage": link(page + 1) if page < pages else None,
                "previousPage": link(page - 1) if page > 1 else None,
                "all": raw_path,
            },
        }

    def _fault(self, handler: _Handler, fault: Fault) -> None:
        extra = dict(fault.headers or {})
        if fault.kind == "status":
            if fault.retry_after is not None:
                extra["Retry-After"] = fault.retry_after
            body = fault.content() or {"status": fault.status, "message": f"Injected error {fault.status}"}
            return _send_json(handler, fault.status, body, extra)
        if fault.kind == "json":
            return _send_json(handler, 200, fault.content() or b"{}", extra)
        if fault.kind == "malformed":
            return _send_raw(handler, 200, fault.content() or b"<html><body>Bad gateway</body></html>", "text/html")
        if fault.kind == "redirect":
            return _send_raw(handler, 302, b"", "text/plain", {"Location": fault.location or "/"})
        if fault.kind == "drop_body":
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", "1000")
            handler.end_headers()
            handler.wfile.write(b'{"message": "Event values listed successfully.", "data": [')
            handler.wfile.flush()
        handler.close_connection = True
        try:
            handler.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _resolve_dot_segments(path: str) -> str:
    """Resolve ``.`` and ``..`` segments (also as ``%2E``), as every real server does (RFC 3986 5.2.4)."""
    out: list[str] = []
    for segment in path.split("/")[1:]:
        plain = unquote(segment)
        if plain == "..":
            if out:
                out.pop()
        elif plain != ".":
            out.append(segment)
    trailing = "/" if path.endswith(("/.", "/..", "/%2E", "/%2e", "/%2E%2E", "/%2e%2e")) else ""
    return "/" + "/".join(out) + trailing


def _ts(event: dict) -> int:
    return epoch_ms(event.get("timestamp"))


def _send_raw(handler, status: int, body: bytes, content_type: str, extra: dict | None = None) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for k, v in (extra or {}).items():
        handler.send_header(k, v)
    handler.end_headers()
    handler.wfile.write(body)


def _send_json(handler, status: int, body: dict | bytes, extra: dict | None = None) -> None:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()  # bytes: already encoded JSON
    _send_raw(handler, status, data, "application/json; charset=utf-8", extra)
