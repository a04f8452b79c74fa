"""What is particular to Statsig's Console API: paths, filters, limits, and a read's provenance.

The events endpoint (``/console/v1/events/{eventName}``) serves a rolling
window of recent events; the logs endpoint (``/console/v1/logs``) serves any
time range, cut here into equal windows. Every frame the package hands back
records where it came from in ``df.attrs["statsig"]``, as a
:class:`Provenance`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from itertools import pairwise
from typing import Any
from urllib.parse import quote

import pandas as pd

from .errors import StatsigError
from .pagination import TimeWindow

__all__ = [
    "DAY_MS",
    "EVENTS_ENDPOINT",
    "LOGS_MAX_LIMIT",
    "LOGS_PATH",
    "Provenance",
    "equal_edges",
    "event_filter",
    "event_path",
    "time_windows",
]

EVENTS_ENDPOINT = "/console/v1/events/{eventName}"
LOGS_PATH = "/console/v1/logs"
LOGS_MAX_LIMIT = 1000  # the most events a page of the logs endpoint holds
DAY_MS = 86_400_000


def event_path(name: str) -> str:
    """The path of one event's endpoint; the name is always exactly one segment.

    Examples
    --------
    >>> event_path("add to/cart")
    '/console/v1/events/add%20to%2Fcart'
    """
    if not isinstance(name, str) or not name:
        raise StatsigError(f"an event name must be a non-empty string, not {name!r}")
    if name in (".", ".."):  # dot segments: every server resolves them away, even as %2E
        raise StatsigError(f"the event name {name!r} cannot be sent in a URL path")
    return EVENTS_ENDPOINT.replace("{eventName}", quote(name, safe=""))


def event_filter(name: str) -> str:
    """The Logs Explorer filter selecting one event: the name quoted, so it cannot change the query.

    Examples
    --------
    >>> print(event_filter('say "hi"'))
    event_name:"say \\"hi\\""
    """
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'event_name:"{escaped}"'


def equal_edges(start_ms: int, end_ms: int, count: int) -> list[int]:
    """``count + 1`` edges cutting ``[start_ms, end_ms)`` into equal parts (at most one a millisecond).

    Examples
    --------
    >>> equal_edges(0, 10, 3)
    [0, 3, 6, 10]
    """
    count = max(1, min(count, end_ms - start_ms))
    return [start_ms + (end_ms - start_ms) * i // count for i in range(count + 1)]


def time_windows(names: list[str], start_ms: int, end_ms: int, count: int) -> list[TimeWindow]:
    """The logs endpoint's windows: ``count`` equal ones per name, oldest first."""
    return [TimeWindow(lo, hi, {"source": "events", "query": event_filter(name)})
            for lo, hi in pairwise(equal_edges(start_ms, end_ms, count)) for name in names]


@dataclass(frozen=True)
class Provenance:
    """Where a frame's events came from: the record kept in ``df.attrs["statsig"]``.

    Every frame carries every key below; those that do not apply to how it was
    read are None.

    Attributes
    ----------
    source : str
        ``"api"`` (read from the Console API) or ``"parquet"`` (:func:`statsig_pandas.read_parquet`).
    endpoint : str or None
        The API path read (the events endpoint's template, or ``/console/v1/logs``).
    event_names : list of str or None
    base_url, api_version : str or None
    fetched_at : str or None
        When the read began, ISO 8601 UTC.
    start, end : str or None
        The time range read, ISO 8601 UTC.
    path : str or None
        The Parquet dataset read.
    pages_read, rows_received, duplicates_dropped : int or None
    total_items_reported : int or None
        What the events endpoint said its window held.
    windows, window_splits : int or None
        The time windows a range read was cut into, and how many were split at the cursor cap.

    Examples
    --------
    >>> record = Provenance(source="parquet", path="events/").to_attrs()
    >>> record["source"], record["path"], record["pages_read"]
    ('parquet', 'events/', None)
    >>> Provenance.of(pd.DataFrame()).source
    'api'
    """

    source: str = "api"
    endpoint: str | None = None
    event_names: list[str] | None = None
    base_url: str | None = None
    api_version: str | None = None
    fetched_at: str | None = None
    start: str | None = None
    end: str | None = None
    path: str | None = None
    pages_read: int | None = None
    rows_received: int | None = None
    duplicates_dropped: int | None = None
    total_items_reported: int | None = None
    windows: int | None = None
    window_splits: int | None = None

    def to_attrs(self) -> dict[str, Any]:
        """The plain dict stored in ``df.attrs["statsig"]`` (pandas copies attrs, so plain values)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def of(cls, frame: pd.DataFrame) -> Provenance:
        """A frame's record; empty for a frame that has none (keys it does not know are left out)."""
        info = frame.attrs.get("statsig") or {}
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in info.items() if k in known})
