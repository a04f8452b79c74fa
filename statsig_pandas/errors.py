"""Exceptions and warnings raised by statsig-pandas.

Every failure the package reports is one of these; no raw library traceback
reaches the user::

    StatsigError                    base class; also: no key, bad arguments,
    │                               refused URL (plain http, foreign redirect),
    │                               unparseable timestamp with errors="raise"
    ├── StatsigAPIError             the API answered with an HTTP error
    │   │                           (.url, .page, .status, .message, .body)
    │   ├── AuthenticationError     401 / 403
    │   ├── NotFoundError           404
    │   └── RateLimitError          429 after retries (.retry_after)
    ├── ResponseFormatError         a body that is not the documented envelope
    │                               (.url, .page, .status, .snippet)
    ├── StatsigConnectionError      network failure or timeout after retries
    │                               (.url, .page)
    ├── FrameSchemaError            a frame lacks the events columns df.statsig needs
    │                               (also an AttributeError, as pandas expects)
    └── ReportError                 a report could not be rendered (.cell, .ename,
                                    .evalue); nothing was written

    StatsigWarning(UserWarning)     a read that succeeded with something to say
                                    (short read, duplicates, coerced values)

The three request errors (``StatsigAPIError``, ``ResponseFormatError``,
``StatsigConnectionError``) all say which request failed: ``.url`` (never
with the key, which travels in a header) and ``.page`` (None when the
request was not a page). All of them pickle with their attributes, so they
cross process boundaries (Dask workers) intact.

Messages never contain the API key: server text is passed through
:func:`redact` before it is stored on an exception.
"""

from __future__ import annotations

import os
import re
import sys
from urllib.parse import quote, quote_plus

__all__ = [
    "StatsigError",
    "StatsigAPIError",
    "AuthenticationError",
    "NotFoundError",
    "RateLimitError",
    "ResponseFormatError",
    "StatsigConnectionError",
    "ReportError",
    "FrameSchemaError",
    "StatsigWarning",
    "find_stack_level",
    "SNIPPET",
    "redact",
    "scrub",
    "scrub_error",
]

# Statsig echoes (part of) the key in its 401 message; scrub anything key-shaped, in any case, and
# percent-encoded characters in it too (a key quoted into a URL).
_KEY_PATTERN = re.compile(r"(?:console|secret|client)-(?:[A-Za-z0-9_\-]|%[0-9A-Fa-f]{2})+", re.IGNORECASE)

#: The most characters of server text any message, attribute or warning carries.
SNIPPET = 200


def _spellings(secret: str) -> set[str]:
    """The ways a secret can appear in server text: as is, and URL-encoded (``+`` for a space, or not)."""
    return {secret, quote(secret, safe=""), quote(secret), quote_plus(secret)}


def redact(text: str, *secrets: str | None) -> str:
    """Return ``text`` with every secret and every key-shaped token replaced, whatever their case.

    Examples
    --------
    >>> redact("bad key CONSOLE-ABC%2BDEF, also console-abc+def; CLIENT-xyz", "console-abc+def")
    'bad key ***, also ***; CLIENT-***'
    """
    spellings = sorted({s for secret in secrets if secret for s in _spellings(secret)}, key=len, reverse=True)
    if spellings:
        text = re.sub("|".join(map(re.escape, spellings)), "***", text, flags=re.IGNORECASE)
    return _KEY_PATTERN.sub(lambda m: m.group(0).split("-", 1)[0] + "-***", text)


def scrub(text: str | bytes, *secrets: str | None, limit: int = SNIPPET) -> str:
    """Server text made fit for a message: redacted first, then cut to ``limit`` characters.

    Examples
    --------
    >>> scrub(b"key console-abc " + b"x" * 300, limit=20)
    'key console-*** xxxx...'
    """
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text[:limit * 20]).decode("utf-8", "replace")
    text = redact(text[:limit * 20], *secrets)  # cut generously first: a key must not be cut in two
    return text[:limit] + ("..." if len(text) > limit else "")


def scrub_error(error: StatsigError, *secrets: str | None) -> StatsigError:
    """``error`` with its message and every text attribute scrubbed (in place; returned for ``raise``)."""
    error.args = tuple(scrub(a, *secrets, limit=3 * SNIPPET) if isinstance(a, str) else a for a in error.args)
    for name in ("snippet", "body", "message"):
        value = getattr(error, name, None)
        if isinstance(value, str):
            setattr(error, name, scrub(value, *secrets, limit=500 if name == "body" else SNIPPET))
    return error


class StatsigError(Exception):
    """Base class of every error raised by statsig-pandas."""


class StatsigAPIError(StatsigError):
    """The Console API answered with an HTTP error status.

    Attributes
    ----------
    status : int
        The HTTP status code.
    message : str
        The server's ``message`` field (or a short snippet of the body), redacted.
    body : str
        At most 500 characters of the response body, redacted.
    page : int or None
        The page being read when the error came.
    url : str
        The URL requested (never contains the key: it travels in a header).
    """

    def __init__(self, message: str, *, status: int, body: str = "", page: int | None = None, url: str = ""):
        self.status = status
        self.message = message
        self.body = body
        self.page = page
        self.url = url
        where = f" (page {page})" if page is not None else ""
        super().__init__(f"HTTP {status}{where} from {url}: {message}" if url else f"HTTP {status}{where}: {message}")

    def __reduce__(self):
        return (_rebuild_api_error,
                (type(self), self.message, self.status, self.body, self.page, self.url, self.__dict__))


def _rebuild_api_error(cls, message, status, body, page, url, state):
    err = cls(message, status=status, body=body, page=page, url=url)
    err.__dict__.update(state)
    return err


class AuthenticationError(StatsigAPIError):
    """401 or 403: the key is missing, invalid, not a Console key, or lacks permission."""


class NotFoundError(StatsigAPIError):
    """404: the endpoint or event does not exist."""


class RateLimitError(StatsigAPIError):
    """429 that persisted through every retry.

    ``retry_after`` is the server's last ``Retry-After`` in seconds, or None.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs):
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class ResponseFormatError(StatsigError):
    """A response body that is not the documented ``{message, data, pagination}`` JSON.

    Attributes
    ----------
    url : str
        The URL requested ("" if not known).
    page : int or None
        The page being read.
    status : int or None
        The HTTP status of the answer.
    snippet : str
        The start of the offending body or item, redacted.
    """

    def __init__(self, message: str, *, status: int | None = None, page: int | None = None, snippet: str = "",
                 url: str = ""):
        self.status = status
        self.page = page
        self.snippet = snippet
        self.url = url
        super().__init__(message)

    def __reduce__(self):
        return (_rebuild_format_error, (type(self), self.args[0], self.status, self.page, self.snippet, self.url))


def _rebuild_format_error(cls, message, status, page, snippet, url=""):
    return cls(message, status=status, page=page, snippet=snippet, url=url)


class StatsigConnectionError(StatsigError):
    """The API could not be reached (refused, dropped, timed out) after every retry.

    Attributes
    ----------
    url : str
        The URL requested.
    page : int or None
        The page being read.
    """

    def __init__(self, message: str, *, url: str = "", page: int | None = None):
        self.url = url
        self.page = page
        super().__init__(message)

    def __reduce__(self):
        return (_rebuild_connection_error, (type(self), self.args[0], self.url, self.page))


def _rebuild_connection_error(cls, message, url, page):
    return cls(message, url=url, page=page)


class FrameSchemaError(StatsigError, AttributeError):
    """The frame lacks a column of the events schema, or has it with an unusable dtype.

    An :class:`AttributeError` too, as pandas expects of an accessor that does
    not apply to a frame (``hasattr(df, "statsig")`` is then False).
    """


class ReportError(StatsigError):
    """A report could not be rendered; nothing was written.

    Attributes
    ----------
    cell : int or None
        1-based number of the failing code cell in the template, if a cell failed.
    ename, evalue : str or None
        The exception the cell raised, as the kernel reported it.
    """

    def __init__(self, message: str, *, cell: int | None = None, ename: str | None = None,
                 evalue: str | None = None):
        super().__init__(message)
        self.cell, self.ename, self.evalue = cell, ename, evalue


class StatsigWarning(UserWarning):
    """Something the user should know about a read that still returned data."""


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def find_stack_level() -> int:
    """The ``stacklevel`` that attributes a warning to the first frame outside this package.

    So a warning points at the user's line however deep in the package it is
    issued (a generator, a callback), as pandas' own ``find_stack_level`` does.
    """
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level
