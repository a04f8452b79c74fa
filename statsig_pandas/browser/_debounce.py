"""Run a function once after a burst of calls: the browser's redraw after its controls settle."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any


class Debouncer:
    """Run ``fn`` once, ``delay`` seconds after the last of a burst of calls.

    In a kernel the call is scheduled on the kernel's own event loop, so the
    redraw runs on the main thread between messages; elsewhere (a script, a
    test) a timer thread runs it, one the interpreter waits for at exit.
    ``delay=0`` runs it at once.
    """

    def __init__(self, fn: Callable[[], None], delay: float):
        self._fn = fn
        self.delay = delay
        self._handle: Any = None
        self._token = 0  # which scheduled call is the current one
        self._lock = threading.Lock()

    @property
    def pending(self) -> bool:
        return self._handle is not None

    def __call__(self) -> None:
        if self.delay <= 0:
            self._fn()
            return
        with self._lock:
            self._cancel()
            token = self._token
            try:
                self._handle = asyncio.get_running_loop().call_later(self.delay, self._fire, token)
            except RuntimeError:  # no loop in this thread
                # Not a daemon: the interpreter waits for a pending redraw before it shuts down, rather
                # than tearing Arrow and matplotlib down under one (an abort, "terminate called ...").
                self._handle = threading.Timer(self.delay, self._fire, args=(token,))
                self._handle.daemon = False
                self._handle.start()

    def _cancel(self) -> None:
        self._token += 1  # a timer already past its wait finds itself stale
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _fire(self, token: int) -> None:
        with self._lock:
            if token != self._token:
                return
            self._handle = None
        self._fn()

    def flush(self) -> None:
        """Run now what is pending, if anything."""
        with self._lock:
            was = self._handle is not None
            self._cancel()
        if was:
            self._fn()
