"""The emulator's ``GET /console/v1/logs``: a columnar event store and the cursor endpoint over it.

Events are held column by column (numpy arrays), grouped by event name and
sorted by timestamp inside each name, so a request costs a binary search of
its time window plus the rendering of at most ``limit`` rows, whatever the
size of the store:

>>> from statsig_pandas.testing.logs import LogStore
>>> store = LogStore.synthetic(10_000, start_ms=0, end_ms=86_400_000, seed=1)
>>> len(store), store.names
(10000, ('add_to_cart', 'purchase', 'page_view'))

The HTTP contract (what :class:`~statsig_pandas.testing.StatsigEmulator`
serves; undocumented points follow ``API.md``):

- ``source=events`` is required (anything else: 400).
- ``query=event_name:"<name>"`` selects one event name: the value in double
  quotes, ``"`` and ``\\`` escaped by a backslash (no other escape); a bare
  name without spaces, quotes or backslashes is accepted too. No ``query``
  (or an empty one) lists every event; a name without events is an empty
  list, not a 404. ``columns`` is accepted and ignored (``fields`` is
  always sent).
- ``start_ts`` inclusive, ``end_ts`` exclusive, epoch milliseconds; ``end_ts``
  defaults to now and ``start_ts`` to an hour before ``end_ts`` (a defaulted
  window is fixed when the walk starts: its cursors carry it).
- ``limit``: default 100, larger than 1000 is clamped to 1000 (or to the
  emulator's ``max_limit``), not a positive integer: 400.
- ``after``: the ``pagination.next_cursor`` of the previous answer, valid
  only for the same filter, window and (clamped) limit; otherwise 400
  ``invalid cursor``. A cursor whose offset reaches ``max_cursor_rows``
  (default 100,000) is refused with 400: narrow the time window.
- Answers are newest first; events of the same millisecond come in
  decreasing ``id`` order. ``value`` is null for about half of the events
  whose value is ``""`` on the events endpoint; ``fields`` holds the
  metadata and is left out when empty.

A cursor is opaque: URL-safe base64 of the row offset, the resolved window
and a keyed digest binding them to the request, so it cannot be forged or
carried over to another query (or another emulator).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import struct
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import msgspec
import numpy as np

from .synthetic import COUNTRIES, DEFAULT_EVENT_NAMES, PLANS, SOURCES, VALUES, rank_weights

__all__ = ["LOGS_PATH", "LogStore", "LogsEndpoint", "LogsQuery", "LogsRequestError", "event_name_filter"]

LOGS_PATH = "/console/v1/logs"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_CURSOR_ROWS = 100_000
DEFAULT_WINDOW_MS = 3_600_000
DAY_MS = 86_400_000
SDK_VERSIONS = ("1.9.2", "2.4.0", "3.1.5")
# The range of a JavaScript Date: wider epoch milliseconds are no time at all.
_MAX_EPOCH_MS = 8_640_000_000_000_000
_INTEGER = re.compile(r"-?[0-9]{1,19}")
_DIGITS = re.compile(r"[0-9]+")
_FILTER = re.compile(r'\s*event_name\s*:\s*(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<bare>[^\s"\\]+))\s*', re.DOTALL)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_CURSOR = struct.Struct(">qqq")  # offset, start_ms, end_ms
_DIGEST = 12


def event_name_filter(name: str) -> str:
    """The Logs Explorer filter selecting one event name, quoted so no name can change the query.

    Examples
    --------
    >>> print(event_name_filter('checkout "v2"'))
    event_name:"checkout \\"v2\\""
    """
    return 'event_name:"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_event_name_filter(text: str | None) -> str | None:
    """The event name a ``query`` selects (None: no filter, every event).

    Raises :class:`LogsRequestError` (400) for anything else than
    ``event_name:"<quoted>"`` or ``event_name:<bare>``.
    """
    if text is None or not text.strip():
        return None
    match = _FILTER.fullmatch(text)
    if match is None:
        raise LogsRequestError(
            f'Invalid query {text!r}: expected event_name:"<name>" (double quotes; escape " and \\ with a '
            "backslash) or event_name:<name> for a name without spaces or quotes")
    if match["bare"] is not None:
        return match["bare"]
    quoted = match["quoted"]
    bad = sorted({c for c in _ESCAPE.findall(quoted) if c not in '"\\'})
    if bad:
        raise LogsRequestError(f"Invalid query {text!r}: only \\\" and \\\\ are escapes, not "
                               + ", ".join("\\" + c for c in bad))
    return _ESCAPE.sub(r"\1", quoted)


class LogsRequestError(Exception):
    """A request the logs endpoint refuses: ``status`` and a message for the ``{"status", "message"}`` body."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class LogsQuery:
    """One parsed logs request: which events, which page of them."""

    name: str | None  # None: every event name
    start_ms: int
    end_ms: int
    limit: int
    offset: int
    binding: bytes  # what a cursor of this walk must be bound to

    @property
    def page(self) -> int:
        """The position of this request in its cursor walk (1 for the first); what ``Fault.page`` matches."""
        return self.offset // self.limit + 1


class LogStore:
    """Events stored column by column, grouped by name and sorted by (timestamp, id) inside a name.

    Build one with :meth:`synthetic` (vectorised: millions of events in
    seconds, a few bytes each) or :meth:`from_events` (events in the events
    endpoint's shape). The store is immutable; it renders rows on demand in
    the logs shape (:meth:`log_items`) and in the events shape
    (:meth:`event_items`, :meth:`events_view`).

    Strings live in small tables (``sources``, ``values``, ``users``,
    ``versions``, ``fields``) indexed by integer code columns. Ids are
    ``id_base + row`` unless an explicit ``ids`` column is given; either way
    they render as 16 hexadecimal digits.
    """

    def __init__(self, *, names: Sequence, bounds: np.ndarray, ts: np.ndarray, source: np.ndarray,
                 value: np.ndarray, user: np.ndarray, version: np.ndarray, fields: np.ndarray,
                 sources: Sequence, values: Sequence, users: Sequence, versions: Sequence,
                 fields_table: Sequence[dict], ids: np.ndarray | None = None, id_base: int = 0):
        self.names = tuple(names)
        self.bounds = np.asarray(bounds, dtype=np.int64)
        self.ts = np.asarray(ts, dtype=np.int64)
        n = len(self.ts)
        if len(self.bounds) != len(self.names) + 1 or self.bounds[0] != 0 or self.bounds[-1] != n:
            raise ValueError("bounds must hold one [start, end) row range per name, covering every row")
        self.source, self.value, self.user, self.version, self.fields = source, value, user, version, fields
        for column in (source, value, user, version, fields) + (() if ids is None else (ids,)):
            if len(column) != n:
                raise ValueError("every column must have one entry per event")
        self.sources, self.values, self.users = list(sources), list(values), list(users)
        self.versions, self.fields_table = list(versions), [dict(f or {}) for f in fields_table]
        self.ids = None if ids is None else np.asarray(ids, dtype=np.uint64)
        self.id_base = int(id_base)
        self._name_index = {name: i for i, name in enumerate(self.names)}
        self._global: tuple[np.ndarray, np.ndarray] | None = None
        self._global_lock = threading.Lock()
        self._json: tuple | None = None  # each string table encoded as JSON, for log_items_json
        self._empty_value = -1
        self._rendered: np.ndarray | None = None  # every row's JSON, once prerender() has run

    # -- building -----------------------------------------------------------
    @classmethod
    def synthetic(cls, n_events: int = 1_000_000, *, names: Sequence[str] = DEFAULT_EVENT_NAMES,
                  start_ms: int | None = None, end_ms: int | None = None, seed: int = 0,
                  users: int = 10_000, metadata_rate: float = 0.2) -> LogStore:
        """``n_events`` random events spread uniformly over ``[start_ms, end_ms)``, built with numpy.

        No per-event Python object is made: ten million events build in a
        few seconds and take about 150 MB (see :attr:`nbytes`). Drawn like
        :func:`~statsig_pandas.testing.synthetic_events` draws them: the first
        name the most frequent, mostly category values (some ``""``),
        amounts such as ``"19.99"`` for ``purchase``, user IDs with leading
        zeros, metadata on about one event in five.

        Parameters
        ----------
        n_events : int
            Number of events.
        names : sequence of str
            Event names, the first the most frequent.
        start_ms, end_ms : int, optional
            The span in epoch milliseconds (end exclusive); default the 30
            days before now.
        seed : int, default 0
            Same seed and span, same store (ids included).
        users : int, default 10,000
            Number of distinct user IDs (Zipf-distributed).
        metadata_rate : float, default 0.2
            Share of events carrying ``{"plan": ..., "country": ...}``.

        Returns
        -------
        LogStore

        Examples
        --------
        >>> store = LogStore.synthetic(1_000, names=["a", "b"], start_ms=0, end_ms=1_000, seed=3)
        >>> int(store.ts.min()) >= 0 and int(store.ts.max()) < 1_000
        True
        """
        names = list(names)
        if not names or len(set(names)) != len(names):
            raise ValueError("names must be distinct and there must be at least one")
        end_ms = int(time.time() * 1000) if end_ms is None else int(end_ms)
        start_ms = end_ms - 30 * DAY_MS if start_ms is None else int(start_ms)
        if n_events < 0 or start_ms >= end_ms:
            raise ValueError("need n_events >= 0 and start_ms < end_ms")
        rng = np.random.default_rng(seed)
        counts = rng.multinomial(n_events, rank_weights(len(names)))
        bounds = np.concatenate([[0], np.cumsum(counts)])
        ts = rng.integers(start_ms, end_ms, size=n_events, dtype=np.int64)
        for b, e in pairwise(bounds):
            ts[b:e].sort()  # each name's rows in time order: the index is the sort
        source = rng.choice(len(SOURCES), size=n_events, p=rank_weights(len(SOURCES))).astype(np.int8)
        amounts = [f"{a:.2f}" for a in np.round(rng.gamma(2.0, 15.0, size=1000), 2)]
        value = rng.choice(len(VALUES), size=n_events, p=rank_weights(len(VALUES))).astype(np.int16)
        if "purchase" in names:  # purchases mostly log an amount
            b, e = bounds[names.index("purchase")], bounds[names.index("purchase") + 1]
            as_amount = value[b:e] % 4 != 0
            value[b:e][as_amount] = len(VALUES) + rng.integers(0, len(amounts), size=int(as_amount.sum()))
        zipf = 1.0 / np.arange(1, users + 1) ** 1.3
        user = rng.choice(users, size=n_events, p=zipf / zipf.sum()).astype(_code_dtype(users))
        version = rng.integers(0, len(SDK_VERSIONS), size=n_events, dtype=np.int8)
        combos = [{}] + [{"plan": p, "country": c} for p in PLANS for c in COUNTRIES]
        fields = np.where(rng.random(n_events) < metadata_rate,
                          rng.integers(1, len(combos), size=n_events), 0).astype(np.int8)
        return cls(names=names, bounds=bounds, ts=ts, source=source, value=value, user=user, version=version,
                   fields=fields, sources=SOURCES, values=list(VALUES) + amounts,
                   users=[f"{u:04d}" for u in range(users)], versions=SDK_VERSIONS, fields_table=combos,
                   id_base=(seed & 0xFFFFFF) << 40)

    @classmethod
    def from_events(cls, events: Iterable[dict]) -> LogStore:
        """A store of events in the events endpoint's shape (``timestamp``, ``name``, ``source``, ...).

        Each event's id is a digest of its content (and of how many identical
        events came before it), so ids stay the same when events are added.

        Examples
        --------
        >>> store = LogStore.from_events([{"timestamp": "1000", "name": "a", "source": "js-client",
        ...                                "value": "x", "userID": "7", "metadata": {}}])
        >>> [item["event_name"] for item in store.log_items(np.arange(1))]
        ['a']
        """
        events = list(events)
        names, name = _factorize(e.get("name") for e in events)
        sources, source = _factorize(e.get("source") for e in events)
        values, value = _factorize("" if e.get("value") is None else e.get("value") for e in events)
        users, user = _factorize(e.get("userID") for e in events)
        keys, fields_table = [""], [{}]
        fields = np.zeros(len(events), dtype=np.int32)
        codes: dict[str, int] = {"": 0}
        seen: dict[bytes, int] = {}
        ids = np.empty(len(events), dtype=np.uint64)
        ts = np.empty(len(events), dtype=np.int64)
        for i, event in enumerate(events):
            meta = event.get("metadata")
            key = json.dumps(meta, sort_keys=True, default=str) if isinstance(meta, dict) and meta else ""
            if key not in codes:
                codes[key] = len(fields_table)
                keys.append(key)
                fields_table.append(dict(meta))
            fields[i] = codes[key]
            content = json.dumps(event, sort_keys=True, default=str).encode()
            seen[content] = nth = seen.get(content, -1) + 1
            ids[i] = int.from_bytes(hashlib.blake2b(content + b"#%d" % nth, digest_size=8).digest(), "big")
            ts[i] = epoch_ms(event.get("timestamp"))
        order = np.lexsort((ids, ts, name))
        counts = np.bincount(name, minlength=len(names))
        return cls(names=names, bounds=np.concatenate([[0], np.cumsum(counts)]), ts=ts[order],
                   source=source[order], value=value[order], user=user[order],
                   version=(ids[order] % len(SDK_VERSIONS)).astype(np.int8), fields=fields[order],
                   sources=sources, values=values, users=users, versions=SDK_VERSIONS,
                   fields_table=fields_table, ids=ids[order])

    # -- size ---------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.ts)

    @property
    def nbytes(self) -> int:
        """Bytes held by the columns (the string tables are small)."""
        columns = [self.ts, self.bounds, self.source, self.value, self.user, self.version, self.fields]
        if self.ids is not None:
            columns.append(self.ids)
        if self._global is not None:
            columns.extend(self._global)
        return sum(c.nbytes for c in columns)

    def __repr__(self) -> str:
        return f"<LogStore events={len(self)} names={len(self.names)} {self.nbytes / 1e6:.0f} MB>"

    # -- selecting ------------------------------------------------------------
    def _lane(self, name: str | None) -> tuple[np.ndarray, np.ndarray | int]:
        """The time-sorted timestamps of one name (or of all), and how their positions map to rows."""
        if name is None:
            if self._global is None:
                with self._global_lock:
                    if self._global is None:  # built once, on first use: only the all-names views need it
                        order = np.lexsort((self._ids(np.arange(len(self))), self.ts))
                        self._global = (self.ts[order], order)
            return self._global
        i = self._name_index.get(name)
        if i is None:
            return self.ts[:0], 0
        b, e = int(self.bounds[i]), int(self.bounds[i + 1])
        return self.ts[b:e], b

    def select(self, name: str | None, start_ms: int, end_ms: int, *, offset: int = 0,
               limit: int = MAX_LIMIT) -> tuple[np.ndarray, int]:
        """Rows of ``[start_ms, end_ms)`` newest first, ``offset`` and ``limit`` applied; and the window's size.

        Examples
        --------
        >>> store = LogStore.synthetic(100, names=["a"], start_ms=0, end_ms=10, seed=0)
        >>> rows, total = store.select("a", 0, 10, limit=5)
        >>> len(rows), total
        (5, 100)
        """
        ts, to_rows = self._lane(name)
        lo = int(np.searchsorted(ts, start_ms, side="left"))
        hi = int(np.searchsorted(ts, end_ms, side="left"))
        top = max(lo, hi - offset)
        positions = np.arange(top - 1, max(lo, top - limit) - 1, -1, dtype=np.int64)
        rows = positions + to_rows if isinstance(to_rows, int) else to_rows[positions]
        return rows, max(0, hi - lo)

    # -- rendering ------------------------------------------------------------
    def _ids(self, rows: np.ndarray) -> np.ndarray:
        return self.ids[rows] if self.ids is not None else rows.astype(np.uint64) + np.uint64(self.id_base)

    def _columns(self, rows: np.ndarray):
        name_of = np.searchsorted(self.bounds, rows, side="right") - 1
        return (self._ids(rows).tolist(), self.ts[rows], name_of.tolist(), self.source[rows].tolist(),
                self.value[rows].tolist(), self.user[rows].tolist(), self.fields[rows].tolist())

    def log_items(self, rows: np.ndarray) -> list[dict]:
        """``rows`` as the logs endpoint renders them (``id``, ISO ``timestamp``, ``event_name``, ...)."""
        ids, ts, name_of, source, value, user, fields = self._columns(rows)
        iso = np.datetime_as_string(ts.astype("M8[ms]"), unit="ms", timezone="UTC").tolist()
        version = self.version[rows].tolist()
        names, sources, values, users = self.names, self.sources, self.values, self.users
        versions, fields_table = self.versions, self.fields_table
        items = []
        for id_, stamp, n, s, v, u, ver, f in zip(ids, iso, name_of, source, value, user, version, fields):
            text = values[v]
            item = {"id": f"{id_:016x}", "timestamp": stamp, "event_name": names[n], "user_id": users[u],
                    # Half the empty values come back null, so clients must map null to "".
                    "value": None if text == "" and id_ & 1 else text,
                    "sdk_type": sources[s], "sdk_version": versions[ver]}
            if f:
                item["fields"] = fields_table[f]
            items.append(item)
        return items

    def log_items_json(self, rows: np.ndarray) -> bytes:
        """The JSON array :meth:`log_items` would give, rendered without a dict per row
        (every string is encoded once per store), or taken from :meth:`prerender`'s cache."""
        if self._rendered is not None:
            return b"[" + b",".join(self._rendered[rows].tolist()) + b"]"
        return b"[" + b",".join(self._render(rows)) + b"]"

    def prerender(self) -> LogStore:
        """Render every row once, so that serving a page is a slice and a join (~0.1 ms).

        For benchmarks of concurrent clients: they measure the client, and on two cores a
        server spending 2 ms of Python a page would be what they measured. Costs about
        2 s per million events and 200 bytes per event: 2,000,000 events take ~4 s and ~400 MB.
        """
        rendered = np.empty(len(self.ts), dtype=object)
        step = 100_000
        for lo in range(0, len(self.ts), step):
            rows = np.arange(lo, min(lo + step, len(self.ts)), dtype=np.int64)
            rendered[lo:lo + len(rows)] = self._render(rows)
        self._rendered = rendered
        return self

    def _render(self, rows: np.ndarray) -> list[bytes]:
        tables = self._json_tables()
        ids, ts, name_of, source, value, user, fields = self._columns(rows)
        iso = np.datetime_as_string(ts.astype("M8[ms]"), unit="ms", timezone="UTC").astype("S24").tolist()
        version = self.version[rows].tolist()
        names, sources, values, users, versions, fields_json = tables
        null_empty = self._empty_value
        return [b'{"id":"%016x","timestamp":"%s","event_name":%s,"user_id":%s,"value":%s,'
                b'"sdk_type":%s,"sdk_version":%s%s}' % (
                    id_, stamp, names[n], users[u], b"null" if v == null_empty and id_ & 1 else values[v],
                    sources[s], versions[ver], fields_json[f])
                for id_, stamp, n, s, v, u, ver, f in zip(ids, iso, name_of, source, value, user, version, fields)]

    def _json_tables(self):
        if self._json is None:
            encode = lambda table: [msgspec.json.encode(x) for x in table]  # noqa: E731
            self._empty_value = self.values.index("") if "" in self.values else -1
            self._json = (encode(self.names), encode(self.sources), encode(self.values), encode(self.users),
                          encode(self.versions),
                          [b',"fields":' + msgspec.json.encode(f) if f else b"" for f in self.fields_table])
        return self._json

    def event_items(self, rows: np.ndarray) -> list[dict]:
        """``rows`` as the events endpoint renders them (string epoch ``timestamp``, ``name``, ``userID``...)."""
        _, ts, name_of, source, value, user, fields = self._columns(rows)
        return [{"timestamp": str(t), "name": self.names[n], "source": self.sources[s], "value": self.values[v],
                 "userID": self.users[u], "metadata": dict(self.fields_table[f])}
                for t, n, s, v, u, f in zip(ts.tolist(), name_of, source, value, user, fields)]

    def events_view(self, name: str | None = None) -> EventsView:
        """A read-only list of one name's events (None: all), newest first, in the events endpoint's shape."""
        return EventsView(self, name)

    def events_by_name(self) -> dict[str, EventsView]:
        """One :meth:`events_view` per name that has events."""
        return {name: EventsView(self, name) for i, name in enumerate(self.names)
                if self.bounds[i + 1] > self.bounds[i]}


class EventsView(Sequence):
    """A newest-first list of a store's events, rendered as dicts only when indexed or sliced.

    Lets the events endpoint serve a store of millions of events page by
    page without ever holding millions of dicts.
    """

    def __init__(self, store: LogStore, name: str | None):
        self.store, self.name = store, name

    def __len__(self) -> int:
        if self.name is None:
            return len(self.store)
        i = self.store._name_index.get(self.name)
        return 0 if i is None else int(self.store.bounds[i + 1] - self.store.bounds[i])

    def _rows(self, newest_first: np.ndarray) -> np.ndarray:
        ts, to_rows = self.store._lane(self.name)  # the all-names order is only sorted when first read
        positions = len(ts) - 1 - newest_first
        return positions + to_rows if isinstance(to_rows, int) else to_rows[positions]

    def __getitem__(self, key):
        if isinstance(key, slice):
            return self.store.event_items(self._rows(np.arange(*key.indices(len(self)), dtype=np.int64)))
        index = range(len(self))[key]  # IndexError and negative indices as a list has them
        return self.store.event_items(self._rows(np.array([index])))[0]

    def __repr__(self) -> str:
        return f"<EventsView {self.name!r} events={len(self)}>"


class LogsEndpoint:
    """Parse, page and render ``GET /console/v1/logs`` over a :class:`LogStore`.

    Parameters
    ----------
    store : LogStore, optional
        A fixed store. Without one, :meth:`store_for` builds one from the
        emulator's events (again whenever their number changes).
    max_cursor_rows : int, default 100,000
        Cursors whose offset reaches this are refused with 400.
    max_limit : int, optional
        A lower clamp of ``limit`` than 1000.
    end_inclusive : bool, default False
        Serve ``[start_ts, end_ts]`` rather than ``[start_ts, end_ts)``.
    """

    def __init__(self, *, store: LogStore | None = None, max_cursor_rows: int = MAX_CURSOR_ROWS,
                 max_limit: int | None = None, clock=time.time, end_inclusive: bool = False):
        if max_cursor_rows < 1:
            raise ValueError("max_cursor_rows must be a positive number of rows")
        self.store = store
        self.max_cursor_rows = max_cursor_rows
        self.max_limit = min(MAX_LIMIT, max_limit) if max_limit else MAX_LIMIT
        self._clock = clock
        self.end_inclusive = end_inclusive
        self._secret = os.urandom(16)  # cursors from another emulator are invalid here
        self._built: LogStore | None = None

    def store_for(self, events: Sequence[dict]) -> LogStore:
        """The store to serve: the fixed one, or one built from ``events`` (events are only ever added)."""
        if self.store is not None:
            return self.store
        if self._built is None or len(self._built) != len(events):
            self._built = LogStore.from_events(events)
        return self._built

    # -- requests -------------------------------------------------------------
    def parse(self, query: dict) -> LogsQuery:
        """Check a request's query (one value per key); raise :class:`LogsRequestError` for a bad one."""
        if query.get("source") != "events":
            raise LogsRequestError(f"Invalid request: source must be 'events', got {query.get('source')!r}")
        name = parse_event_name_filter(query.get("query"))
        raw_limit = query.get("limit", str(DEFAULT_LIMIT))
        if not _DIGITS.fullmatch(raw_limit) or int(raw_limit) < 1:
            raise LogsRequestError(f"Invalid request: limit must be a positive integer, got {raw_limit!r}")
        limit = min(int(raw_limit), self.max_limit)
        raw_start, raw_end = query.get("start_ts"), query.get("end_ts")
        start, end = _epoch_param("start_ts", raw_start), _epoch_param("end_ts", raw_end)
        binding = msgspec.json.encode([name, raw_start, raw_end, limit])
        cursor = query.get("after")
        if cursor:
            offset, start, end = self._open_cursor(cursor, binding)
            if offset >= self.max_cursor_rows:
                raise LogsRequestError(
                    f"Cursor too deep: this endpoint pages through at most {self.max_cursor_rows} rows of one "
                    "query; narrow the time window (start_ts/end_ts) and page through each part")
        else:
            offset = 0
            if end is None:
                end = int(self._clock() * 1000)
            if start is None:
                start = end - DEFAULT_WINDOW_MS
            if start > end:
                raise LogsRequestError(f"Invalid request: start_ts ({start}) is after end_ts ({end})")
        return LogsQuery(name, start, end, limit, offset, binding)

    def answer(self, store: LogStore, request: LogsQuery) -> bytes:
        """The 200 body (JSON bytes) of a parsed request."""
        end = request.end_ms + 1 if self.end_inclusive else request.end_ms
        rows, total = store.select(request.name, request.start_ms, end, offset=request.offset,
                                   limit=request.limit)
        after = request.offset + len(rows)
        has_more = after < total
        pagination = {"next_cursor": self._cursor(after, request) if has_more else None, "has_more": has_more}
        return (b'{"message":"Logs listed successfully.","data":' + store.log_items_json(rows)
                + b',"pagination":' + msgspec.json.encode(pagination) + b"}")

    # -- cursors --------------------------------------------------------------
    def _digest(self, payload: bytes, binding: bytes) -> bytes:
        return hashlib.blake2b(payload + binding, key=self._secret, digest_size=_DIGEST).digest()

    def _cursor(self, offset: int, request: LogsQuery) -> str:
        payload = _CURSOR.pack(offset, request.start_ms, request.end_ms)
        return base64.urlsafe_b64encode(payload + self._digest(payload, request.binding)).rstrip(b"=").decode()

    def _open_cursor(self, cursor: str, binding: bytes) -> tuple[int, int, int]:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError):
            raw = b""
        payload, digest = raw[:_CURSOR.size], raw[_CURSOR.size:]
        if len(raw) != _CURSOR.size + _DIGEST or not hmac.compare_digest(digest, self._digest(payload, binding)):
            raise LogsRequestError("Invalid request: invalid cursor (a cursor is only valid for the query, time "
                                   "window and limit that produced it)")
        offset, start, end = _CURSOR.unpack(payload)
        return offset, start, end


def _epoch_param(key: str, raw: str | None) -> int | None:
    if raw is None:
        return None
    if not _INTEGER.fullmatch(raw) or abs(int(raw)) > _MAX_EPOCH_MS:
        raise LogsRequestError(f"Invalid request: {key} must be an integer of epoch milliseconds, got {raw!r}")
    return int(raw)


def epoch_ms(value) -> int:
    """An epoch-milliseconds timestamp as the events endpoint sends it (a string), as an int; 0 if not one."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _factorize(items: Iterable) -> tuple[list, np.ndarray]:
    """Distinct items in first-seen order, and each item's code."""
    table: dict = {}
    codes = [table.setdefault(item, len(table)) for item in items]
    return list(table), np.asarray(codes, dtype=np.int64)


def _code_dtype(size: int) -> type:
    return np.uint16 if size <= 1 << 16 else np.int32
