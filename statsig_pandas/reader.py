"""``read_events``: event names and options -> walks -> one typed frame."""

from __future__ import annotations

import datetime as _dt
import gc
import warnings
from contextlib import contextmanager
from typing import Iterable
from urllib.parse import quote

import pandas as pd
import requests

from .errors import StatsigError, StatsigWarning
from .frame import build_frame, page_columns
from .pagination import PageNumberWalk, Paginator
from .retry import RetryPolicy
from .transport import API_VERSION, Transport

__all__ = ["read_events", "event_path"]

_ERRORS = ("raise", "coerce")


def event_path(name: str) -> str:
    """The path of one event's endpoint; the name is always exactly one segment."""
    if not isinstance(name, str) or not name:
        raise StatsigError(f"an event name must be a non-empty string, not {name!r}")
    segment = quote(name, safe="")
    if segment in (".", ".."):  # dot segments would be resolved away by URL normalisation
        segment = segment.replace(".", "%2E")
    return f"/console/v1/events/{segment}"


def _names(names: str | Iterable[str]) -> list[str]:
    if isinstance(names, str):
        names = [names]
    try:
        names = list(dict.fromkeys(names))
    except TypeError:
        raise StatsigError(f"names must be an event name or a list of them, not {type(names).__name__}") from None
    if not names:
        raise StatsigError("no event names given")
    for name in names:
        event_path(name)
    return names


@contextmanager
def _gc_paused():
    """Pause the cyclic GC while pages become columns: the per-row dicts of a
    page are short-lived and acyclic, and collecting them costs about a third
    of the conversion time (see benchmarks/)."""
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
    page_size: int = 100,
    max_concurrency: int = 4,
    progress: bool | None = None,
    errors: str = "raise",
    expand_metadata: bool = False,
    timeout: float = 30,
    session: requests.Session | None = None,
    retry: RetryPolicy | None = None,
) -> pd.DataFrame:
    """Read every page of Statsig events into a typed DataFrame.

    Reads ``GET /console/v1/events/{name}`` of the Statsig Console API, page
    after page (several at a time), until the endpoint's rolling window of
    recent events has been read whole.

    Parameters
    ----------
    names : str or list of str
        One event name, or several (one frame; the ``name`` column tells them apart).
    api_key : str, optional
        A Console API key. Defaults to ``$STATSIG_CONSOLE_API_KEY``.
    base_url : str, optional
        Defaults to ``$STATSIG_CONSOLE_API_URL``, else ``https://statsigapi.net``.
        Must be https, except to a loopback host such as the emulator.
    page_size : int, default 100
        The ``limit`` asked for; the server may use a smaller one.
    max_concurrency : int, default 4
        Pages requested at once (lowered for a while after a 429).
    progress : bool, optional
        Show a progress bar; by default only for reads of more than one page.
    errors : {"raise", "coerce"}, default "raise"
        What an unparseable timestamp does: raise :class:`StatsigError`, or
        become ``NaT`` with a :class:`StatsigWarning` giving the count.
    expand_metadata : bool, default False
        Add a ``metadata.<key>`` column for every metadata key.
    timeout : float, default 30
        Seconds to connect and to wait for each read of a response.
    session : requests.Session, optional
        A session of your own (proxies, certificates). It is not closed.
    retry : RetryPolicy, optional
        How 429, 5xx, dropped connections and timeouts are retried; by
        default at most 5 attempts within 120 s, honouring ``Retry-After``.

    Returns
    -------
    pandas.DataFrame
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
    """
    names = _names(names)
    if errors not in _ERRORS:
        raise StatsigError(f"errors must be 'raise' or 'coerce', not {errors!r}")
    if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
        raise StatsigError(f"page_size must be a positive integer, not {page_size!r}")
    if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int) or max_concurrency < 1:
        raise StatsigError(f"max_concurrency must be a positive integer, not {max_concurrency!r}")

    fetched_at = _dt.datetime.now(_dt.timezone.utc)
    pages, stats = [], []
    with Transport(api_key=api_key, base_url=base_url, timeout=timeout, session=session, retry=retry,
                   pool_size=max_concurrency) as transport:
        for name in names:
            walk = PageNumberWalk(event_path(name), limit=page_size)
            paginator = Paginator(
                transport, walk, max_concurrency=max_concurrency, progress=progress, desc=name,
                convert=lambda data, req: page_columns(data, page=req.page, errors=errors),
            )
            with _gc_paused():
                read = [page.columns for page in paginator]
            pages.extend(read)
            stats.append((name, walk, paginator, sum(len(c) for c in read)))
        base = transport.base_url

    frame, duplicates = build_frame(pages, expand_metadata=expand_metadata)
    coerced = sum(c.coerced for c in pages)
    if coerced:
        warnings.warn(f"{coerced} event(s) had an unparseable timestamp or metadata and were coerced "
                      "(timestamp NaT, metadata {})", StatsigWarning, stacklevel=2)

    kept_by_name = frame["name"].value_counts() if len(names) > 1 else None
    reported = 0
    for name, walk, paginator, received in stats:
        kept = int(kept_by_name.get(name, 0)) if kept_by_name is not None else len(frame)
        total = walk.total_items
        reported += total or 0
        if total is not None and kept != total:
            more_or_less = "fewer" if kept < total else "more"
            warnings.warn(
                f"{name!r}: kept {kept} event(s), {abs(total - kept)} {more_or_less} than the {total} the server "
                f"reported (the window moves while it is read; {received - kept} duplicate(s) across pages "
                f"dropped)" if received != kept else
                f"{name!r}: kept {kept} event(s), {abs(total - kept)} {more_or_less} than the {total} the server "
                f"reported", StatsigWarning, stacklevel=2)

    frame.attrs["statsig"] = {
        "endpoint": "/console/v1/events/{eventName}",
        "event_names": names,
        "base_url": base,
        "api_version": API_VERSION,
        "fetched_at": fetched_at.isoformat().replace("+00:00", "Z"),
        "pages_read": sum(p.pages_read for _, _, p, _ in stats),
        "rows_received": sum(p.rows_received for _, _, p, _ in stats),
        "duplicates_dropped": duplicates,
        "total_items_reported": reported if any(w.total_items is not None for _, w, _, _ in stats) else None,
    }
    return frame
