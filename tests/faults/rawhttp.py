"""Small socket servers on loopback for faults that HTTP itself must commit.

Each serves every connection with a bounded script and then closes it, so a
client that never gives up still sees the server stop talking; ``stop()``
closes the listening socket and every connection still open.
"""

from __future__ import annotations

import socket
import threading
import time


class RawServer:
    """Accept connections on ``host`` (a loopback address); answer each with ``script(conn)``.

    ``connections`` counts the connections accepted, ``requests`` holds the raw
    request heads read (when the script reads them with :meth:`read_head`).
    """

    def __init__(self, script, *, host: str = "127.0.0.1"):
        if not host.startswith("127."):
            raise ValueError("test servers bind loopback addresses only")
        self.script = script
        self.connections = 0
        self.requests: list[bytes] = []
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, 0))
        self._sock.listen(16)
        self._sock.settimeout(0.05)
        self.host, self.port = self._sock.getsockname()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> RawServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)
        self._sock.close()
        with self._lock:
            for conn in self._open:
                try:
                    conn.close()
                except OSError:
                    pass

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._open.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            self.script(self, conn)
        except OSError:
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def read_head(self, conn: socket.socket) -> bytes:
        """The request line and headers (a GET has no body)."""
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 65536:
            chunk = conn.recv(4096)
            if not chunk:
                break
            head += chunk
        with self._lock:
            self.requests.append(head)
        return head

    def sleep(self, seconds: float) -> bool:
        """Wait, unless the server is stopping; False once it is."""
        return not self._stopped.wait(seconds)


def trickle(*, delay: float, max_bytes: int, headers_too: bool):
    """A script sending an answer one byte every ``delay`` s, ``max_bytes`` at most, then closing.

    With ``headers_too`` the status line and headers trickle as well;
    otherwise they arrive at once and only the body trickles.
    """
    body = b'{"message": "ok", "data": [], "pagination": {"itemsPerPage": 100, "pageNumber": 1}}' + b" " * 10_000
    head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + b"X-Padding: " + b"p" * 2000 + b"\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode())

    def script(server: RawServer, conn: socket.socket) -> None:
        server.read_head(conn)
        slow = head + body if headers_too else body
        if not headers_too:
            conn.sendall(head)
        for i in range(min(max_bytes, len(slow))):
            if not server.sleep(delay):
                return
            conn.sendall(slow[i:i + 1])

    return script


def hang_up(server: RawServer, conn: socket.socket) -> None:
    """Read the request and close without a word (a proxy that must never have been asked)."""
    server.read_head(conn)


def wait_for(predicate, *, timeout: float, every: float = 0.02) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` s have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return predicate()
