"""HTTP plumbing under the transport: a deadline per attempt, a cap on bodies, aborting what is in flight.

``requests`` bounds each socket operation by its ``timeout``, not a response:
a server sending a byte every second holds a read forever. Here every
attempt gets a deadline; a single watchdog thread per transport shuts down
the socket of an attempt that passes it (headers or body), and of every
attempt in flight when the read is cancelled (an error elsewhere, Ctrl-C).
Connections register themselves for that through the adapter of the
transport's own session (:class:`WatchedAdapter`); with a session of the
user's own, the deadline is still checked between chunks of the body.
"""

from __future__ import annotations

import heapq
import socket
import threading
import time
from collections.abc import Iterable

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

__all__ = ["Attempt", "Watchdog", "WatchedAdapter", "read_body", "BodyTooLarge", "Cancelled", "DeadlinePassed"]

_current = threading.local()  # the attempt the calling thread is making


class Cancelled(Exception):
    """The read was cancelled: no attempt starts, the ones in flight are aborted."""


class DeadlinePassed(requests.Timeout):
    """An attempt outlived its whole-response deadline (a Timeout, so it is retried as one)."""


class BodyTooLarge(Exception):
    def __init__(self, size: int, cap: int, *, encoded: bool):
        self.size, self.cap, self.encoded = size, cap, encoded
        super().__init__(f"{size} bytes, more than the cap of {cap}")


class Attempt:
    """One request's try: its deadline, and the connection carrying it once there is one."""

    def __init__(self, deadline: float):
        self.deadline = deadline
        self.connection: HTTPConnection | None = None
        self.aborted: str | None = None  # why it was aborted: "deadline" or "cancelled"
        self._lock = threading.Lock()

    def attach(self, connection: HTTPConnection) -> None:
        with self._lock:
            self.connection = connection
            aborted = self.aborted
        if aborted:
            _shutdown(connection)

    def abort(self, why: str) -> None:
        with self._lock:
            if self.aborted:
                return
            self.aborted = why
            connection = self.connection
        if connection is not None:
            _shutdown(connection)

    def __enter__(self) -> Attempt:
        _current.attempt = self
        return self

    def __exit__(self, *exc) -> None:
        _current.attempt = None


def _shutdown(connection: HTTPConnection) -> None:
    sock = getattr(connection, "sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)  # wakes a recv blocked in another thread
        except OSError:
            pass


class Watchdog:
    """Aborts attempts past their deadline, and all of them on :meth:`cancel`; one thread, started lazily."""

    def __init__(self):
        self._heap: list[tuple[float, int, Attempt]] = []
        self._live: set[Attempt] = set()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.cancelled = threading.Event()
        self._seq = 0

    def start(self, timeout: float) -> Attempt:
        if self.cancelled.is_set():
            raise Cancelled()
        attempt = Attempt(time.monotonic() + timeout)
        with self._cond:
            self._seq += 1
            heapq.heappush(self._heap, (attempt.deadline, self._seq, attempt))
            self._live.add(attempt)
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name="statsig-deadline", daemon=True)
                self._thread.start()
            elif self._heap[0][2] is attempt:  # the watchdog sleeps until an earlier deadline: wake it
                self._cond.notify()
        return attempt

    def done(self, attempt: Attempt) -> None:
        with self._cond:
            self._live.discard(attempt)

    def cancel(self) -> None:
        """Abort every attempt in flight; no attempt may start after this."""
        self.cancelled.set()
        with self._cond:
            live = list(self._live)
        for attempt in live:
            attempt.abort("cancelled")

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()

    def _run(self) -> None:
        with self._cond:
            while not self._closed:
                now = time.monotonic()
                while self._heap and (self._heap[0][2] not in self._live or self._heap[0][0] <= now):
                    _, _, attempt = heapq.heappop(self._heap)
                    if attempt in self._live:
                        attempt.abort("deadline")
                self._cond.wait(self._heap[0][0] - now if self._heap else None)
            self._thread = None


class _WatchedHTTPConnection(HTTPConnection):
    def request(self, *args, **kwargs):
        attempt = getattr(_current, "attempt", None)
        if attempt is not None:
            attempt.attach(self)
        return super().request(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    request = _WatchedHTTPConnection.request


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class WatchedAdapter(HTTPAdapter):
    """An adapter whose connections tell the calling thread's :class:`Attempt` about themselves."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def proxy_manager_for(self, *args, **kwargs):
        manager = super().proxy_manager_for(*args, **kwargs)
        manager.pool_classes_by_scheme = dict(_POOLS)
        return manager


def read_body(response: requests.Response, attempt: Attempt, *, cap: int, chunk: int = 1 << 16) -> bytes:
    """The whole (decoded) body, refusing more than ``cap`` bytes and checking the deadline between chunks."""
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > cap:
        response.close()
        raise BodyTooLarge(int(length), cap, encoded=bool(response.headers.get("Content-Encoding")))
    parts: list[bytes] = []
    size = 0
    chunks: Iterable[bytes] = response.iter_content(chunk)
    for part in chunks:
        size += len(part)
        if size > cap:
            response.close()
            raise BodyTooLarge(size, cap, encoded=bool(response.headers.get("Content-Encoding")))
        if time.monotonic() > attempt.deadline:
            response.close()
            raise DeadlinePassed("the answer took longer than the deadline of the attempt")
        parts.append(part)
    return b"".join(parts)
