"""Page bodies -> :class:`PageColumns`, without a dict per event.

One vocabulary: a page *converted* is a :class:`PageColumns` (Arrow arrays,
one per field, and each row's metadata as its JSON text); every ``convert*``
function returns one. A page of the events endpoint may instead stay a
:class:`JoinedPage` (each field one NUL-joined string) until
:func:`convert_pages` converts it with every other page of the read, one
Arrow call per field.

A page of the documented shape is decoded by msgspec straight into small
typed structs (every field a string, metadata kept as its raw JSON text). An
events page then becomes a :class:`JoinedPage`; a logs page is converted on
arrival the same way (:func:`convert_lists`). Per-page Arrow calls cost
microseconds each however small the page, so this is what keeps the
conversion close to the cost of parsing the JSON at all (see
``benchmarks/bench_reader.py``).

A body off that shape (a number where a string belongs, a null time, a
metadata that is not an object, an escaped NUL, no envelope) fails the typed
decode or the bulk conversion and takes the generic path instead: plain JSON
values, then :func:`convert_dicts` (or :func:`convert_log_dicts`), which
knows every tolerated deviation and the error to raise for the rest. Both
paths give the same frame (``tests/test_decode.py`` holds them to it).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, Generic, TypeVar

import msgspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .errors import ResponseFormatError, StatsigError

__all__ = [
    "EVENTS",
    "JoinedPage",
    "PageCodec",
    "PageColumns",
    "PageMetadata",
    "convert_dicts",
    "convert_lists",
    "convert_log_dicts",
    "convert_pages",
    "envelope_data",
    "metadata_texts",
    "split_joined",
]

# A page's metadata is kept as JSON text: msgspec writes and reads it ~10x faster than json.
_json_load = msgspec.json.decode
_encode_lines = msgspec.json.Encoder().encode_lines

# The event fields that become Arrow columns. pandas keeps its "string" columns
# as large_string, so building them as such spares a cast (a copy) later.
_FIELDS = ("timestamp", "name", "source", "value", "userID")
_TEXT = pa.large_string()
_EVENT = pa.struct([pa.field(f, _TEXT) for f in _FIELDS])
# The metadata a page shows for a row that logged none; the frame swaps in its own read-only dicts.
_NO_METADATA: dict = {}


class PageMetadata(Sequence):
    """A page's metadata as the JSON text of each row: about 10 bytes a row instead of a dict of 64 to 300.

    ``texts`` is an Arrow binary array, one JSON object or ``null`` per row,
    made while the page's events are still in the CPU cache so that they can
    go at once; ``frame.build_frame`` reads the texts of all pages in bulk.
    Indexing or iterating decodes them (``{}`` for none).
    """

    __slots__ = ("texts",)

    def __init__(self, texts: pa.Array):
        self.texts = texts

    def __len__(self) -> int:
        return len(self.texts)

    def _decoded(self) -> list:
        return [_json_load(t) or _NO_METADATA for t in self.texts.to_pylist()]

    def __getitem__(self, index):
        return self._decoded()[index]

    def __iter__(self):
        return iter(self._decoded())

    def __eq__(self, other) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    def __repr__(self) -> str:
        return repr(self._decoded())


_OBJECT_OR_NULL = {dict, type(None)}


def split_joined(joined: bytes, count: int, *, sep: bytes, binary: bool = False) -> pa.Array | None:
    """``count`` items joined by ``sep`` as one Arrow string (or binary) array; None if miscounted.

    One ``join`` and one Arrow split instead of a converter call per item. A
    trailing separator is allowed. None when an item itself holds the
    separator (the count is then wrong).
    """
    if not count:
        return pa.array([], type=pa.large_binary() if binary else _TEXT)
    whole = pa.Array.from_buffers(pa.large_binary(), 1, [
        None, pa.py_buffer(np.array([0, len(joined)], dtype=np.int64)), pa.py_buffer(joined)])
    items = pc.split_pattern(whole, pattern=sep, memory_pool=pa.system_memory_pool()).flatten()
    if len(items) == count + 1 and joined.endswith(sep):
        items = items.slice(0, count)
    if len(items) != count:
        return None
    return items if binary else items.view(_TEXT)  # str.encode gave valid UTF-8


def metadata_texts(metas: Sequence) -> pa.Array | None:
    """The rows' metadata as JSON texts, if every row's is an object or null that JSON gives back as it was."""
    if not set(map(type, metas)) <= _OBJECT_OR_NULL:
        return None
    try:
        lines = _encode_lines(metas)
    except (TypeError, ValueError, msgspec.EncodeError):  # not JSON: a caller's own objects
        return None
    # Dates, tuples, NaN... would come back as something else: such rows keep their own dicts.
    if _json_load(b"[" + lines[:-1].replace(b"\n", b",") + b"]") != list(metas):
        return None
    return split_joined(lines, len(metas), sep=b"\n", binary=True)


@dataclass
class PageColumns:
    """One page converted to columns; small and free of per-row dicts."""

    page: int
    timestamp: pa.Array  # int64 epoch ms, null where unparseable (coerced)
    name: pa.Array  # large_string
    source: pa.Array
    value: pa.Array
    user: pa.Array
    metadata: Sequence = field(repr=False)  # a dict per row (or None / empty), often a PageMetadata
    coerced: int = 0
    ids: pa.Array | None = None  # the logs endpoint's event ids; None on the events endpoint

    def __len__(self) -> int:
        return len(self.timestamp)

    def digest(self) -> bytes:
        """Equal for pages of equal events (times, values and users), for telling a page served twice."""
        digest = hashlib.blake2b(digest_size=16)
        for array in (self.timestamp, self.user, self.value):
            for buffer in array.buffers():
                if buffer is not None:
                    digest.update(buffer)
        return digest.digest()

    def filter(self, mask: np.ndarray, *, coerced: int = 0) -> PageColumns:
        """The rows where ``mask`` is true."""
        keep = pa.array(mask)
        return PageColumns(
            page=self.page, timestamp=self.timestamp.filter(keep), name=self.name.filter(keep),
            source=self.source.filter(keep), value=self.value.filter(keep), user=self.user.filter(keep),
            metadata=[m for m, k in zip(self.metadata, mask) if k], coerced=coerced,
            ids=None if self.ids is None else self.ids.filter(keep),
        )


def _text(values: list, *, null_as: str | None) -> pa.Array:
    """Strings as an Arrow array; numbers become their JSON text, nulls ``null_as``."""
    try:
        arr = pa.array(values, type=_TEXT)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        arr = pa.array(
            [v if isinstance(v, str) or v is None else json.dumps(v, separators=(",", ":")) for v in values],
            type=_TEXT,
        )
    if null_as is not None and arr.null_count:
        arr = pc.fill_null(arr, null_as)
    return arr


def _parse_one_timestamp(raw: Any) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if -(2**63) < raw < 2**63 else None
    if isinstance(raw, float):
        return int(raw) if math.isfinite(raw) and raw.is_integer() and abs(raw) < 2**62 else None
    if isinstance(raw, str):
        text = raw.strip()
        try:
            return _parse_one_timestamp(int(text))
        except ValueError:
            try:
                return _parse_one_timestamp(float(text))
            except ValueError:
                return None
    return None


_INT64_MIN = -(2**63)  # pandas' NaT: a time of that value would silently become a missing one


def _epoch_ms_fast(text: pa.Array) -> pa.Array | None:
    """The times as int64 if each is a whole number a timestamp can hold; None to take the slow path."""
    try:
        arr = text.cast(pa.int64())  # the method costs less per call than pc.cast
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    if arr.null_count or (len(arr) and pc.min(arr).as_py() == _INT64_MIN):
        return None
    return arr


def _timestamps(text: pa.Array, records: Sequence[dict], *, errors: str, page: int) -> tuple[pa.Array, int]:
    # Fast path: every timestamp is a string of digits, as documented.
    arr = _epoch_ms_fast(text)
    if arr is not None:
        return arr, 0
    raw = [r.get("timestamp") for r in records]
    parsed = [_parse_one_timestamp(r) for r in raw]
    bad = [i for i, v in enumerate(parsed) if v is None]
    if bad and errors == "raise":
        i = bad[0]
        raise StatsigError(
            f"unparseable timestamp {raw[i]!r} in event {records[i].get('name')!r} on page {page} "
            f"({len(bad)} such row(s) on this page); pass errors='coerce' to read them as NaT"
        )
    return pa.array(parsed, type=pa.int64()), len(bad)


def _page_metadata(metas: list) -> tuple[Sequence, int]:
    """Each row's metadata (``_NO_METADATA`` for none) and the count of non-objects."""
    texts = metadata_texts(metas)
    if texts is not None:  # the documented shape
        return PageMetadata(texts), 0
    metadata, bad = [], 0
    for m in metas:
        if m is None or isinstance(m, dict):
            metadata.append(m or _NO_METADATA)
        else:
            bad += 1
            metadata.append(_NO_METADATA)
    return metadata, bad


def _records_metadata(records: Sequence[Any], key: str, *, page: int, errors: str) -> tuple[Sequence, int]:
    """Each record's metadata object (read from ``key``), after checking records are objects."""
    try:
        try:
            metas = [r[key] for r in records]  # faster than .get; the key is usually there
        except (KeyError, TypeError):
            metas = [r.get(key) for r in records]
    except AttributeError:
        bad = next(r for r in records if not isinstance(r, dict))
        raise ResponseFormatError(
            f"page {page}: an event is {type(bad).__name__}, not a JSON object", page=page, snippet=repr(bad)[:2000]
        ) from None
    metadata, bad_meta = _page_metadata(metas)
    if bad_meta and errors == "raise":
        raise ResponseFormatError(
            f"page {page}: {bad_meta} event(s) have {key} that is not a JSON object; "
            "pass errors='coerce' to read them with empty metadata",
            page=page,
        )
    return metadata, bad_meta


def convert_dicts(records: Sequence[Any], *, page: int, errors: str = "raise") -> PageColumns:
    """Convert the ``data`` list of one page to columns.

    Parameters
    ----------
    records : sequence of dict
        The events of one page, as the API sends them.
    page : int
        The page number, for messages.
    errors : {"raise", "coerce"}, default "raise"
        What an unparseable timestamp or a metadata that is not an object
        does: raise, or become ``NaT`` / ``{}`` (counted in ``coerced``).

    Returns
    -------
    PageColumns

    Raises
    ------
    ResponseFormatError
        If an item is not a JSON object, or (``errors="raise"``) its metadata is not one.
    StatsigError
        If a timestamp cannot be parsed and ``errors="raise"``.

    Examples
    --------
    >>> cols = convert_dicts([{"timestamp": "1720567904601", "name": "add_to_cart", "source": "js-client",
    ...                       "value": "books", "userID": "0042", "metadata": None}], page=1)
    >>> len(cols), cols.timestamp.to_pylist(), cols.metadata
    (1, [1720567904601], [{}])
    """
    metadata, bad_meta = _records_metadata(records, "metadata", page=page, errors=errors)
    try:
        # Arrow's converter reads the fields of every dict in one pass; missing keys become nulls.
        ts_text, name, source, value, user = pa.array(records, type=_EVENT).flatten()
        if value.null_count:
            value = pc.fill_null(value, "")
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # a field is not a string: numbers become their JSON text
        ts_text, name, source, value, user = (
            _text([r.get(f) for r in records], null_as="" if f == "value" else None) for f in _FIELDS
        )
    timestamp, coerced = _timestamps(ts_text, records, errors=errors, page=page)
    return PageColumns(page=page, timestamp=timestamp, name=name, source=source, value=value, user=user,
                       metadata=metadata, coerced=coerced + bad_meta)


# The logs endpoint's names for the same fields, in _FIELDS order, then its event id.
_LOG_FIELDS = ("timestamp", "event_name", "sdk_type", "value", "user_id", "id")
_LOG_EVENT = pa.struct([pa.field(f, _TEXT) for f in _LOG_FIELDS])
_UTC_MS = pa.timestamp("ms", tz="UTC")


def _iso_timestamps(text: pa.Array, records: Sequence[dict], *, errors: str, page: int) -> tuple[pa.Array, int]:
    """ISO 8601 times (the logs endpoint) as int64 epoch ms."""
    try:
        arr = pc.cast(text, _UTC_MS)
        if not arr.null_count:
            return arr.cast(pa.int64()), 0
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        pass
    raw = [r.get("timestamp") for r in records]
    parsed = pd.to_datetime(pd.Series(raw, dtype=object).where(lambda s: s.map(type) == str),  # noqa: E721 - an elementwise compare of a Series
                            utc=True, errors="coerce", format="ISO8601")
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if len(bad) and errors == "raise":
        i = int(bad[0])
        raise StatsigError(
            f"unparseable timestamp {raw[i]!r} in event {records[i].get('event_name')!r} on page {page} "
            f"({len(bad)} such row(s) on this page); pass errors='coerce' to read them as NaT"
        )
    ms = parsed.dt.as_unit("ms").astype("int64").to_numpy()
    return pa.array(ms, type=pa.int64(), mask=parsed.isna().to_numpy()), len(bad)


def convert_log_dicts(records: Sequence[Any], *, page: int, errors: str = "raise") -> PageColumns:
    """Convert one page of ``/console/v1/logs`` items to the same columns as :func:`convert_dicts`.

    ``event_name``, ``sdk_type`` and ``user_id`` become ``name``, ``source`` and
    ``userID``; ISO 8601 timestamps become epoch ms; a null ``value`` becomes
    ``""``; ``fields`` becomes ``metadata``; ``id`` is kept to tell events apart.

    Examples
    --------
    >>> cols = convert_log_dicts([{"id": "e1", "timestamp": "2024-07-10T00:00:00.123Z", "event_name": "buy",
    ...                           "user_id": "7", "value": None, "sdk_type": "js-client"}], page=1)
    >>> cols.timestamp.to_pylist(), cols.value.to_pylist(), cols.ids.to_pylist()
    ([1720569600123], [''], ['e1'])
    """
    metadata, bad_meta = _records_metadata(records, "fields", page=page, errors=errors)
    try:
        event = pa.array(records, type=_LOG_EVENT)
        ts_text, name, source, value, user, ids = (event.field(i) for i in range(len(_LOG_FIELDS)))
        if value.null_count:
            value = pc.fill_null(value, "")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        ts_text, name, source, value, user, ids = (
            _text([r.get(f) for r in records], null_as="" if f == "value" else None) for f in _LOG_FIELDS
        )
    timestamp, coerced = _iso_timestamps(ts_text, records, errors=errors, page=page)
    return PageColumns(page=page, timestamp=timestamp, name=name, source=source, value=value, user=user,
                       metadata=metadata, coerced=coerced + bad_meta, ids=None if ids.null_count else ids)


# -- pages decoded to lists of field values (see decode.py) --------------------------------------------------
_NUL = "\x00"  # joins a field's values: none may hold one (checked)


def _text_arrays(fields: list[list]) -> list[pa.Array]:
    """Lists of str (or None) as Arrow string arrays: one copy for all of them, split on NULs."""
    n = len(fields[0])
    try:
        joinable = fields
        joined = _NUL.join(chain.from_iterable(fields))
    except TypeError:  # a null: only the fields without one are joined
        joinable = [c for c in fields if None not in c]
        joined = _NUL.join(chain.from_iterable(joinable))
    whole = split_joined(joined.encode(), n * len(joinable), sep=b"\x00") if joinable else None
    if whole is None:  # nulls, or a NUL inside a string: Arrow's converter, one item at a time
        return [pa.array(c, type=_TEXT) for c in fields]
    sliced = {id(c): whole.slice(i * n, n) for i, c in enumerate(joinable)}
    return [sliced[id(c)] if id(c) in sliced else pa.array(c, type=_TEXT) for c in fields]


def _objects_or_nulls(joined: bytes, rows: int) -> bool:
    """Whether NUL-joined JSON texts are each an object or null (JSON text never holds a raw NUL)."""
    starts = joined.count(b"\x00{") + joined.count(b"\x00n") + joined.startswith((b"{", b"n"))
    return starts == rows


def convert_lists(fields: Sequence[list], metadata: Sequence, *, page: int, errors: str = "raise",
                 logs: bool = False) -> PageColumns:
    """Columns from one list per field (in ``_FIELDS`` or ``_LOG_FIELDS`` order) and raw metadata JSON texts.

    The values are str or None, as a typed decoder gives them; anything the
    bulk path cannot take (a time that does not parse, a metadata that is not
    an object) goes through :func:`convert_dicts` / :func:`convert_log_dicts`,
    which give the same columns or the documented error.
    """
    joined = b"\x00".join(metadata)
    if _objects_or_nulls(joined, len(metadata)):
        texts = split_joined(joined, len(metadata), sep=b"\x00", binary=True)
        timestamp, name, source, value, user, *ids = _text_arrays(list(fields))
        try:
            timestamp = pc.cast(timestamp, _UTC_MS).cast(pa.int64()) if logs else _epoch_ms_fast(timestamp)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            timestamp = None
        if timestamp is not None and not timestamp.null_count:
            if value.null_count:
                value = pc.fill_null(value, "")
            ids = ids[0] if ids and not ids[0].null_count else None
            return PageColumns(page=page, timestamp=timestamp, name=name, source=source, value=value,
                               user=user, metadata=PageMetadata(texts), ids=ids)
    names = _LOG_FIELDS if logs else _FIELDS
    meta_key = "fields" if logs else "metadata"
    records = [dict(zip(names, row), **{meta_key: _json_load(m)}) for *row, m in zip(*fields, metadata)]
    return (convert_log_dicts if logs else convert_dicts)(records, page=page, errors=errors)


class JoinedPage:
    """One page of the events endpoint as text, that :func:`convert_pages` converts with many others at once.

    Arrow and NumPy calls cost microseconds each whatever their size: a dozen
    per page cost more than parsing a page of 100 events. So a page keeps each
    field as one str, its values joined by NULs, and its metadata as the
    events' raw JSON texts joined the same way: a few bytes a row, made by a
    handful of joins. :func:`convert_pages` converts every page of a read in
    one call per field; reading a field here converts this page alone.

    :meth:`from_lists` checks what the bulk conversion relies on (no nulls,
    times of digits, metadata objects) and answers None for a page that needs
    :func:`convert_lists` instead. No value may hold a NUL: counting them would
    cost a tenth of the conversion, so the caller makes sure (the codec reads
    a body with an escaped NUL the generic way), and the bulk conversion
    raises rather than return shifted rows if one slipped through.
    """

    __slots__ = ("_converted", "errors", "metadata_text", "page", "rows", "texts")
    ids = None

    def __init__(self, page: int, rows: int, texts: tuple[str, ...], metadata_text: bytes, errors: str):
        self.page, self.rows, self.texts, self.metadata_text, self.errors = page, rows, texts, metadata_text, errors
        self._converted = None

    @classmethod
    def from_lists(cls, fields: Sequence[list], metadata: Sequence, *, page: int,
                   errors: str = "raise") -> JoinedPage | None:
        rows = len(metadata)
        if not rows:
            return None
        try:
            texts = tuple(_NUL.join(values) for values in fields)
        except TypeError:  # a null
            return None
        times = texts[0]
        # Digits only (else the generic parse decides), and no empty value.
        if (not times.isascii() or times.encode().translate(None, b"0123456789\x00") or not times
                or times[0] == _NUL or times[-1] == _NUL or _NUL * 2 in times):
            return None
        metadata_text = b"\x00".join(metadata)
        if not _objects_or_nulls(metadata_text, rows):
            return None
        return cls(page, rows, texts, metadata_text, errors)

    def __len__(self) -> int:
        return self.rows

    @property
    def coerced(self) -> int:
        """Rows coerced to NaT or ``{}``: only a page converted on its own (a time overflowed int64) has any."""
        return 0 if self._converted is None else self._converted.coerced

    def digest(self) -> bytes:
        """As :meth:`PageColumns.digest`, without converting the page on its own."""
        digest = hashlib.blake2b(digest_size=16)
        for text in (self.texts[0], self.texts[4], self.texts[3]):  # times, users, values
            digest.update(text.encode())
            digest.update(b"\xff")  # never in UTF-8: fields cannot run into each other
        return digest.digest()

    @property
    def converted(self) -> PageColumns:
        """This page alone as :class:`PageColumns` (converted once, on first use)."""
        if self._converted is None:
            bulk = _convert_joined([self])
            self._converted = bulk if bulk is not None else self._convert_alone()
        return self._converted

    def _convert_alone(self) -> PageColumns:
        fields = [text.split(_NUL) for text in self.texts]
        return convert_lists(fields, self.metadata_text.split(b"\x00"), page=self.page, errors=self.errors)

    timestamp = property(lambda self: self.converted.timestamp)
    name = property(lambda self: self.converted.name)
    source = property(lambda self: self.converted.source)
    value = property(lambda self: self.converted.value)
    user = property(lambda self: self.converted.user)
    metadata = property(lambda self: self.converted.metadata)

    def filter(self, mask: np.ndarray, *, coerced: int = 0) -> PageColumns:
        return self.converted.filter(mask, coerced=coerced)


def _convert_joined(pages: list[JoinedPage]) -> PageColumns | None:
    """The pages' rows as one PageColumns, one conversion per field.

    None if a time overflows int64 or is NaT's value: each page is then converted on its own.
    """
    rows = sum(p.rows for p in pages)
    fields = [split_joined(_NUL.join(p.texts[k] for p in pages).encode(), rows, sep=b"\x00") for k in range(5)]
    if any(f is None for f in fields):
        raise StatsigError(f"a value on one of pages {sorted({p.page for p in pages})} holds a NUL character; "
                           "such pages must be converted with convert_lists")
    timestamp = _epoch_ms_fast(fields[0])
    if timestamp is None:
        return None
    metadata = split_joined(b"\x00".join(p.metadata_text for p in pages), rows, sep=b"\x00", binary=True)
    return PageColumns(page=pages[0].page, timestamp=timestamp, name=fields[1], source=fields[2],
                       value=fields[3], user=fields[4], metadata=PageMetadata(metadata))


def convert_pages(pages: list[PageColumns | JoinedPage]) -> list[PageColumns]:
    """The pages as PageColumns, each run of unconverted JoinedPages converted together into one."""
    merged, run = [], []
    for p in [*pages, None]:
        if isinstance(p, JoinedPage) and p._converted is None:
            run.append(p)
            continue
        if run:
            bulk = _convert_joined(run)
            merged.extend([bulk] if bulk is not None else [q.converted for q in run])
            run = []
        if p is not None:
            merged.append(p.converted if isinstance(p, JoinedPage) else p)
    return merged


_NULL = msgspec.Raw(b"null")


class _Event(msgspec.Struct, gc=False):
    """An item of ``/console/v1/events/{eventName}``."""

    timestamp: str | None = None
    name: str | None = None
    source: str | None = None
    value: str | None = None
    user: str | None = msgspec.field(default=None, name="userID")
    metadata: msgspec.Raw = _NULL


class _LogEvent(msgspec.Struct, gc=False):
    """An item of ``/console/v1/logs``: the same fields under other names, and an id."""

    timestamp: str | None = None
    name: str | None = msgspec.field(default=None, name="event_name")
    source: str | None = msgspec.field(default=None, name="sdk_type")
    value: str | None = None
    user: str | None = msgspec.field(default=None, name="user_id")
    metadata: msgspec.Raw = msgspec.field(default=_NULL, name="fields")
    id: str | None = None


E = TypeVar("E")


class _Body(msgspec.Struct, Generic[E], gc=False):
    data: list[E]
    pagination: dict[str, Any] | None = None


def envelope_data(body: Any, request: Any) -> tuple[list, dict | None]:
    """The ``data`` list and ``pagination`` object of a documented envelope (None if it has none)."""
    if isinstance(body, _Body):
        return body.data, body.pagination
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        snippet = repr(body)[:2000]  # cut to a snippet once the key is scrubbed from it
        raise ResponseFormatError(
            f"page {request.page} of {request.path} is not the documented {{message, data, pagination}} "
            f"envelope: {snippet}",
            status=200, page=request.page, snippet=snippet,
        )
    pagination = body.get("pagination")
    return body["data"], pagination if isinstance(pagination, dict) else None


class PageCodec:
    """How the pages of one endpoint become :class:`PageColumns`.

    Parameters
    ----------
    logs : bool, default False
        ``/console/v1/logs`` (ISO 8601 times, event ids) rather than the events endpoint.
    errors : {"raise", "coerce"}, default "raise"
        As in :func:`convert_dicts`.

    Examples
    --------
    >>> codec = PageCodec()
    >>> body = codec.parse(b'{"data": [{"timestamp": "1720567904601", "name": "buy", "source": "js",'
    ...                    b' "value": "", "userID": "7", "metadata": {"plan": "pro"}}], "pagination": {}}')
    >>> cols = codec.convert(envelope_data(body, None)[0], page=1)
    >>> cols.timestamp.to_pylist(), cols.user.to_pylist(), list(cols.metadata)
    ([1720567904601], ['7'], [{'plan': 'pro'}])
    """

    def __init__(self, *, logs: bool = False, errors: str = "raise"):
        self.logs, self.errors = logs, errors
        self._event = _LogEvent if logs else _Event
        self._decoder = msgspec.json.Decoder(_Body[self._event])

    def parse(self, content: bytes) -> Any:
        """The body: typed structs if it has the documented shape, plain JSON values otherwise.

        Raises ``ValueError`` (``msgspec.DecodeError``, ``UnicodeDecodeError``)
        if it is not JSON in UTF-8.
        """
        if not content.isascii():
            # The metadata is kept as raw JSON, which the decoder does not check: check the text here,
            # so that a bad byte is this page's error and not the whole read's, later.
            content.decode("utf-8")
        # A value with a NUL in it (escaped: JSON has no raw one) cannot be joined by NULs.
        if b"\\u0000" not in content:
            try:
                return self._decoder.decode(content)
            except msgspec.ValidationError:
                pass
        return msgspec.json.decode(content)

    def convert(self, data: list, *, page: int) -> PageColumns | JoinedPage:
        """A page's ``data`` (structs from :meth:`parse`, or dicts) converted.

        Pages of the events endpoint come back as :class:`JoinedPage`
        when they can, for :func:`convert_pages` to convert in bulk.
        """
        if not (data and type(data[0]) is self._event):
            convert = convert_log_dicts if self.logs else convert_dicts
            return convert(data, page=page, errors=self.errors)
        # One list per field, each by its own comprehension: reading a named slot is what is fast.
        fields = [[e.timestamp for e in data], [e.name for e in data], [e.source for e in data],
                  [e.value for e in data], [e.user for e in data]]
        metadata = [e.metadata for e in data]
        if self.logs:
            fields.append([e.id for e in data])
        else:
            text = JoinedPage.from_lists(fields, metadata, page=page, errors=self.errors)
            if text is not None:
                return text
        return convert_lists(fields, metadata, page=page, errors=self.errors, logs=self.logs)


#: The events endpoint's codec, for errors="raise".
EVENTS = PageCodec()
