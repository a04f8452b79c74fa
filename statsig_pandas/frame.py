"""Pages of events -> one typed DataFrame.

The schema lives here and nowhere else. A page is made small as soon as it
arrives, so that its events can be freed straight away: as a
:class:`PageText` (each field one NUL-joined string, converted in bulk with
every other page of the read), or as :class:`PageColumns` of Arrow arrays
(:func:`list_columns` from typed decoding, :func:`page_columns` from dicts),
with each row's metadata kept as its JSON text. :func:`build_frame` stitches
the pages, drops events that the moving window showed on two pages, sorts by
time and hands back pandas columns of the documented dtypes. Arrow calls cost
microseconds each whatever their size, so they are made per field of the
whole read where possible, never per row.

Event metadata is read-only: rows that logged the same metadata share one
dict, which is what keeps a frame of a million events small (see
``benchmarks/bench_reader.py``). ``dict(row)`` gives a copy you can change.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import msgspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.types import union_categoricals

from ._timebuckets import NAT
from .errors import ResponseFormatError, StatsigError

# A page's metadata is kept as JSON text: msgspec writes and reads it ~10x faster than json.
_json_load = msgspec.json.decode
_encode_lines = msgspec.json.Encoder().encode_lines

__all__ = [
    "COLUMNS",
    "EMPTY_METADATA",
    "SCHEMA",
    "PageColumns",
    "build_frame",
    "concat_frames",
    "empty_frame",
    "expand_metadata_columns",
    "log_page_columns",
    "page_columns",
    "split_pages",
]

TIMESTAMP_DTYPE = pd.DatetimeTZDtype("ms", "UTC")
STRING_DTYPE = pd.StringDtype("pyarrow")
CATEGORY_DTYPE = pd.CategoricalDtype(pd.Index([], dtype=STRING_DTYPE))

#: Column name -> dtype of every frame the reader returns, in order.
SCHEMA: dict[str, Any] = {
    "timestamp": TIMESTAMP_DTYPE,
    "name": CATEGORY_DTYPE,
    "source": CATEGORY_DTYPE,
    "value": STRING_DTYPE,
    "userID": STRING_DTYPE,
    "metadata": np.dtype(object),
}
COLUMNS = tuple(SCHEMA)
METADATA_PREFIX = "metadata."

# The event fields that become Arrow columns. pandas keeps its "string" columns
# as large_string, so building them as such spares a cast (a copy) later.
_FIELDS = ("timestamp", "name", "source", "value", "userID")
_TEXT = pa.large_string()
_EVENT = pa.struct([pa.field(f, _TEXT) for f in _FIELDS])
_CODED = pa.dictionary(pa.int32(), _TEXT)


class _Metadata(dict):
    """The metadata of one or more events: a read-only dict.

    Events repeat a few metadata objects (``{}`` above all); one shared dict
    per distinct object instead of one per row saves 64-300 bytes a row. It
    refuses mutation so that changing one row can never silently change others.
    """

    __slots__ = ()

    def _readonly(self, *args, **kwargs):
        raise TypeError("event metadata is shared and read-only; use dict(row) to get a copy you can change")

    __setitem__ = __delitem__ = update = setdefault = pop = popitem = clear = __ior__ = _readonly

    def __reduce__(self):
        return (_metadata, (dict(self),))


def _metadata(items: dict) -> dict:
    return _Metadata(items) if items else EMPTY_METADATA


_empty_metadata = _metadata  # unpickles frames pickled before metadata was shared

#: The metadata value of events that logged none.
EMPTY_METADATA = _Metadata()


class _PageMetadata(Sequence):
    """A page's metadata as the JSON text of each row: about 10 bytes a row instead of a dict of 64 to 300.

    ``texts`` is an Arrow binary array, one JSON object or ``null`` per row,
    made while the page's events are still in the CPU cache so that they can
    go at once; :func:`build_frame` reads the texts of all pages in bulk.
    Indexing or iterating decodes them (``EMPTY_METADATA`` for none).
    """

    __slots__ = ("texts",)

    def __init__(self, texts: pa.Array):
        self.texts = texts

    def __len__(self) -> int:
        return len(self.texts)

    def _decoded(self) -> list:
        return [_json_load(t) or EMPTY_METADATA for t in self.texts.to_pylist()]

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


def _rows_texts(metas: Sequence) -> pa.Array | None:
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
    metadata: Sequence = field(repr=False)  # a dict per row (or None / empty), often a _PageMetadata
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


def _timestamps(text: pa.Array, records: Sequence[dict], *, errors: str, page: int) -> tuple[pa.Array, int]:
    # Fast path: every timestamp is a string of digits, as documented.
    try:
        arr = text.cast(pa.int64())  # the method costs less per call than pc.cast
        if not arr.null_count:
            return arr, 0
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        pass
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
    """Each row's metadata (``EMPTY_METADATA`` for none) and the count of non-objects."""
    texts = _rows_texts(metas)
    if texts is not None:  # the documented shape
        return _PageMetadata(texts), 0
    metadata, bad = [], 0
    for m in metas:
        if m is None or isinstance(m, dict):
            metadata.append(m or EMPTY_METADATA)
        else:
            bad += 1
            metadata.append(EMPTY_METADATA)
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
            f"page {page}: an event is {type(bad).__name__}, not a JSON object", page=page, snippet=repr(bad)[:200]
        ) from None
    metadata, bad_meta = _page_metadata(metas)
    if bad_meta and errors == "raise":
        raise ResponseFormatError(
            f"page {page}: {bad_meta} event(s) have {key} that is not a JSON object; "
            "pass errors='coerce' to read them with empty metadata",
            page=page,
        )
    return metadata, bad_meta


def page_columns(records: Sequence[Any], *, page: int, errors: str = "raise") -> PageColumns:
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
    >>> cols = page_columns([{"timestamp": "1720567904601", "name": "add_to_cart", "source": "js-client",
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
    parsed = pd.to_datetime(pd.Series(raw, dtype=object).where(lambda s: s.map(type) == str),
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


def log_page_columns(records: Sequence[Any], *, page: int, errors: str = "raise") -> PageColumns:
    """Convert one page of ``/console/v1/logs`` items to the same columns as :func:`page_columns`.

    ``event_name``, ``sdk_type`` and ``user_id`` become ``name``, ``source`` and
    ``userID``; ISO 8601 timestamps become epoch ms; a null ``value`` becomes
    ``""``; ``fields`` becomes ``metadata``; ``id`` is kept to tell events apart.

    Examples
    --------
    >>> cols = log_page_columns([{"id": "e1", "timestamp": "2024-07-10T00:00:00.123Z", "event_name": "buy",
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


def _text_columns(columns: list[list]) -> list[pa.Array]:
    """Lists of str (or None) as Arrow string arrays: one copy for all of them, split on NULs."""
    n = len(columns[0])
    try:
        joinable = columns
        joined = _NUL.join(chain.from_iterable(columns))
    except TypeError:  # a null: only the columns without one are joined
        joinable = [c for c in columns if None not in c]
        joined = _NUL.join(chain.from_iterable(joinable))
    whole = split_joined(joined.encode(), n * len(joinable), sep=b"\x00") if joinable else None
    if whole is None:  # nulls, or a NUL inside a string: Arrow's converter, one item at a time
        return [pa.array(c, type=_TEXT) for c in columns]
    sliced = {id(c): whole.slice(i * n, n) for i, c in enumerate(joinable)}
    return [sliced[id(c)] if id(c) in sliced else pa.array(c, type=_TEXT) for c in columns]


def _objects_or_nulls(joined: bytes, rows: int) -> bool:
    """Whether NUL-joined JSON texts are each an object or null (JSON text never holds a raw NUL)."""
    starts = joined.count(b"\x00{") + joined.count(b"\x00n") + joined.startswith((b"{", b"n"))
    return starts == rows


def list_columns(fields: Sequence[list], metadata: Sequence, *, page: int, errors: str = "raise",
                 logs: bool = False) -> PageColumns:
    """Columns from one list per field (in ``_FIELDS`` or ``_LOG_FIELDS`` order) and raw metadata JSON texts.

    The values are str or None, as a typed decoder gives them; anything the
    bulk path cannot take (a time that does not parse, a metadata that is not
    an object) goes through :func:`page_columns` / :func:`log_page_columns`,
    which give the same columns or the documented error.
    """
    joined = b"\x00".join(metadata)
    if _objects_or_nulls(joined, len(metadata)):
        texts = split_joined(joined, len(metadata), sep=b"\x00", binary=True)
        timestamp, name, source, value, user, *ids = _text_columns(list(fields))
        try:
            timestamp = pc.cast(timestamp, _UTC_MS).cast(pa.int64()) if logs else timestamp.cast(pa.int64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            timestamp = None
        if timestamp is not None and not timestamp.null_count:
            if value.null_count:
                value = pc.fill_null(value, "")
            ids = ids[0] if ids and not ids[0].null_count else None
            return PageColumns(page=page, timestamp=timestamp, name=name, source=source, value=value,
                               user=user, metadata=_PageMetadata(texts), ids=ids)
    names = _LOG_FIELDS if logs else _FIELDS
    meta_key = "fields" if logs else "metadata"
    records = [dict(zip(names, row), **{meta_key: _json_load(m)}) for *row, m in zip(*fields, metadata)]
    return (log_page_columns if logs else page_columns)(records, page=page, errors=errors)


class PageText:
    """One page of the events endpoint as text, that :func:`build_frame` converts with many others at once.

    Arrow and NumPy calls cost microseconds each whatever their size: a dozen
    per page cost more than parsing a page of 100 events. So a page keeps each
    field as one str, its values joined by NULs, and its metadata as the
    events' raw JSON texts joined the same way: a few bytes a row, made by a
    handful of joins. ``build_frame`` converts every page of a read in one
    call per field; reading a field here converts this page alone.

    :meth:`from_lists` checks what the bulk conversion relies on (no nulls,
    times of digits, metadata objects) and answers None for a page that needs
    :func:`list_columns` instead. No value may hold a NUL: counting them would
    cost a tenth of the conversion, so the caller makes sure (the codec reads
    a body with an escaped NUL the generic way), and the bulk conversion
    raises rather than return shifted rows if one slipped through.
    """

    __slots__ = ("page", "rows", "texts", "metadata_text", "errors", "_columns")
    ids = None

    def __init__(self, page: int, rows: int, texts: tuple[str, ...], metadata_text: bytes, errors: str):
        self.page, self.rows, self.texts, self.metadata_text, self.errors = page, rows, texts, metadata_text, errors
        self._columns = None

    @classmethod
    def from_lists(cls, fields: Sequence[list], metadata: Sequence, *, page: int,
                   errors: str = "raise") -> PageText | None:
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
        return 0 if self._columns is None else self._columns.coerced

    def digest(self) -> int:
        """As :meth:`PageColumns.digest`, without converting the page on its own."""
        return hash((self.texts[0], self.texts[3], self.texts[4]))

    @property
    def columns(self) -> PageColumns:
        if self._columns is None:
            bulk = _bulk_columns([self])
            self._columns = bulk if bulk is not None else self._list_columns()
        return self._columns

    def _list_columns(self) -> PageColumns:
        fields = [text.split(_NUL) for text in self.texts]
        return list_columns(fields, self.metadata_text.split(b"\x00"), page=self.page, errors=self.errors)

    timestamp = property(lambda self: self.columns.timestamp)
    name = property(lambda self: self.columns.name)
    source = property(lambda self: self.columns.source)
    value = property(lambda self: self.columns.value)
    user = property(lambda self: self.columns.user)
    metadata = property(lambda self: self.columns.metadata)

    def filter(self, mask: np.ndarray, *, coerced: int = 0) -> PageColumns:
        return self.columns.filter(mask, coerced=coerced)


def _bulk_columns(pages: list[PageText]) -> PageColumns | None:
    """The pages' rows as one PageColumns, one conversion per field; None if a time overflows int64."""
    rows = sum(p.rows for p in pages)
    fields = [split_joined(_NUL.join(p.texts[k] for p in pages).encode(), rows, sep=b"\x00") for k in range(5)]
    if any(f is None for f in fields):
        raise StatsigError(f"a value on one of pages {sorted({p.page for p in pages})} holds a NUL character; "
                           "such pages must be converted with list_columns")
    try:
        timestamp = fields[0].cast(pa.int64())
    except pa.ArrowInvalid:
        return None
    metadata = split_joined(b"\x00".join(p.metadata_text for p in pages), rows, sep=b"\x00", binary=True)
    return PageColumns(page=pages[0].page, timestamp=timestamp, name=fields[1], source=fields[2],
                       value=fields[3], user=fields[4], metadata=_PageMetadata(metadata))


def _merged(pages: list) -> list[PageColumns]:
    """The pages as PageColumns, each run of PageText merged into one by :func:`_bulk_columns`."""
    merged, run = [], []
    for p in pages + [None]:
        if isinstance(p, PageText) and p._columns is None:
            run.append(p)
            continue
        if run:
            bulk = _bulk_columns(run)
            merged.extend([bulk] if bulk is not None else [q.columns for q in run])
            run = []
        if p is not None:
            merged.append(p.columns if isinstance(p, PageText) else p)
    return merged


def split_pages(pages: list[PageColumns], *, before: int | None) -> tuple[list[PageColumns], list[PageColumns]]:
    """Split rows into those timestamped before ``before`` (all of them for None) and the rest.

    Rows whose time could not be parsed stay in the rest until ``before`` is None.
    """
    below, rest = [], []
    for p in pages:
        if before is None:
            below.append(p)
            continue
        mask = pc.fill_null(pc.less(p.timestamp, before), False).to_numpy(zero_copy_only=False)
        if mask.all():
            below.append(p)
        elif not mask.any():
            rest.append(p)
        else:
            below.append(p.filter(mask, coerced=p.coerced))
            rest.append(p.filter(~mask))
    return below, rest


def concat_frames(frames: Iterable[pd.DataFrame | None]) -> pd.DataFrame:
    """Concatenate frames of the reader's schema, keeping ``name`` and ``source`` categorical.

    Examples
    --------
    >>> ev = {"timestamp": "2", "name": "e", "source": "s", "value": "v", "userID": "1"}
    >>> a, _ = build_frame([page_columns([ev], page=1)])
    >>> b, _ = build_frame([page_columns([dict(ev, name="f")], page=1)])
    >>> concat_frames([a, b])["name"].cat.categories.tolist()
    ['e', 'f']
    """
    frames = [f for f in frames if f is not None]
    if not frames:
        return empty_frame()
    # pandas 2 warns about (and pandas 3 changes) how empty frames weigh on the result's dtypes.
    frames = [f for f in frames if len(f)] or frames[:1]
    out = pd.concat(frames, ignore_index=True)
    for column in ("name", "source"):
        if column in out and all(isinstance(f[column].dtype, pd.CategoricalDtype) for f in frames):
            out[column] = union_categoricals([f[column].array for f in frames])
    return out


def _concat_text(chunks: list[pa.Array]) -> pa.Array:
    """One string array of all pages (one copy, in one call: per-page calls cost more than the copy)."""
    if any(c.type != _TEXT for c in chunks):
        chunks = [c.cast(_TEXT) for c in chunks]
    return pa.concat_arrays(chunks)


def _text_column(text: pa.Array, order: np.ndarray) -> pd.api.extensions.ExtensionArray:
    return pd.array(text.take(pa.array(order)), dtype=STRING_DTYPE)


def _codes(chunks: list[pa.Array]) -> tuple[np.ndarray, pd.Index]:
    """Dictionary codes (-1 for null) over all pages, and the categories they index."""
    if all(c.type == _CODED for c in chunks):
        encoded = pa.concat_arrays(chunks)  # unifies the pages' dictionaries
    else:
        encoded = _concat_text(chunks).dictionary_encode()
    indices = encoded.indices
    if indices.null_count:
        indices = pc.fill_null(indices, -1)
    return indices.to_numpy(), pd.Index(pd.array(encoded.dictionary, dtype=STRING_DTYPE))


def _categorical(codes: np.ndarray, categories: pd.Index) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(categories))


def _shared_metadata(pages: list[PageColumns], n: int) -> np.ndarray:
    """Every row's metadata: ``EMPTY_METADATA``, or the one read-only dict of its distinct value.

    Rows share a dict when their metadata has the same JSON text (same keys
    in the same order, same values of the same types).
    """
    result = np.full(n, EMPTY_METADATA, dtype=object)
    texts, ranges, start = [], [], 0
    for p in pages:
        page_texts = (p.metadata.texts if isinstance(p.metadata, _PageMetadata)
                      else _rows_texts([m or None for m in p.metadata]))
        if page_texts is not None:
            texts.append(page_texts)
            ranges.append(range(start, start + len(p)))
        else:  # not JSON: these rows keep their own dicts, read-only like the rest
            result[start:start + len(p)] = [_Metadata(m) if m else EMPTY_METADATA for m in p.metadata]
        start += len(p)
    if not texts:
        return result
    keys = pa.concat_arrays(texts)
    encoded = keys.dictionary_encode()
    codes = encoded.indices.to_numpy()
    shared = np.empty(len(encoded.dictionary), dtype=object)
    nested = []
    for j, key in enumerate(encoded.dictionary.to_pylist()):
        shared[j] = _metadata(_json_load(key) or {})
        if any(isinstance(v, (dict, list)) for v in shared[j].values()):
            nested.append(j)  # a nested list or dict would still be mutable, and shared
    rows = shared[codes]
    for i in np.flatnonzero(np.isin(codes, nested)) if nested else ():  # such rows get their own
        rows[i] = _Metadata(_json_load(keys[int(i)].as_py()))
    if len(ranges) == len(pages):
        return rows
    result[np.fromiter(chain.from_iterable(ranges), dtype=np.intp, count=len(rows))] = rows
    return result


def _metadata_key(m: dict) -> str:
    return json.dumps(m, sort_keys=True, default=str) if m else ""


def _cross_page_duplicates(sorted_ts: np.ndarray, order: np.ndarray, pages: np.ndarray, key_columns) -> np.ndarray:
    """Mask of rows to drop: events already seen on another page.

    The window moves while it is read, so the same event can show on two
    pages; two identical events on one page are two real events. For each
    distinct event, keep the rows of the page where it occurs most often.

    Only rows whose timestamp shows on more than one page can be such
    events; they are found on the sorted timestamps and compared exactly.
    """
    drop = np.zeros(len(order), dtype=bool)
    sorted_pages = pages[order]
    if not (sorted_ts[1:] == sorted_ts[:-1])[sorted_pages[1:] != sorted_pages[:-1]].any():
        return drop  # no timestamp shows on two pages: the usual case, found in a few vector operations
    starts = np.flatnonzero(np.concatenate(([True], sorted_ts[1:] != sorted_ts[:-1])))
    mixed = np.minimum.reduceat(sorted_pages, starts) != np.maximum.reduceat(sorted_pages, starts)
    if not mixed.any():
        return drop
    run_of_row = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, len(order))))
    rows = np.sort(order[mixed[run_of_row]])
    keys = list(zip(*(column(rows) for column in key_columns)))
    counts: dict = {}
    for key, page in zip(keys, pages[rows]):
        per_page = counts.setdefault(key, {})
        per_page[page] = per_page.get(page, 0) + 1
    best = {key: max(per_page, key=lambda p: (per_page[p], -p)) for key, per_page in counts.items()}
    for row, key, page in zip(rows, keys, pages[rows]):
        if page != best[key]:
            drop[row] = True
    return drop


def empty_frame(*, expand_metadata: bool = False) -> pd.DataFrame:
    """The frame of a read that found no events: same columns and dtypes.

    Examples
    --------
    >>> list(empty_frame().columns)
    ['timestamp', 'name', 'source', 'value', 'userID', 'metadata']
    """
    return pd.DataFrame({name: pd.Series([], dtype=dtype) for name, dtype in SCHEMA.items()})


def build_frame(pages: Iterable[PageColumns | PageText], *, expand_metadata: bool = False) -> tuple[pd.DataFrame, int]:
    """Stitch converted pages into the typed frame.

    Parameters
    ----------
    pages : iterable of PageColumns
        Every page read, in order; each read counts as its own page (an
        event that shows on two of them is one event).
    expand_metadata : bool, default False
        Add a ``metadata.<key>`` column per metadata key.

    Returns
    -------
    frame : pandas.DataFrame
        Sorted by time (stable; unparseable times last), with a RangeIndex.
    dropped : int
        The number of cross-page duplicates dropped.

    Examples
    --------
    >>> ev = {"timestamp": "2", "name": "e", "source": "s", "value": "v", "userID": "1", "metadata": {}}
    >>> df, dropped = build_frame([page_columns([ev], page=1), page_columns([ev], page=2)])
    >>> len(df), dropped
    (1, 1)
    """
    pages = [p for p in pages if len(p)]
    if not pages:
        return empty_frame(), 0
    lengths = [len(p) for p in pages]
    n = sum(lengths)
    chunks = _merged(pages)  # each read is still its own "page" below, through lengths
    timestamps = pa.concat_arrays([p.timestamp for p in chunks])
    ts = pc.fill_null(timestamps, NAT).to_numpy() if timestamps.null_count else timestamps.to_numpy()
    # Unparseable times (NaT) sort last, as in pandas.
    sort_key = np.where(ts == NAT, np.iinfo(np.int64).max, ts) if timestamps.null_count else ts
    order = np.argsort(sort_key, kind="stable")  # pages come newest first: a run that timsort reverses
    name_codes, name_categories = _codes([p.name for p in chunks])
    source_codes, source_categories = _codes([p.source for p in chunks])
    values = _concat_text([p.value for p in chunks])
    users = _concat_text([p.user for p in chunks])
    metadata = _shared_metadata(chunks, n)
    dropped = 0
    if all(p.ids is not None for p in chunks):
        # Log events carry an id: a read twice is the same id, and nothing else is a duplicate.
        drop = pd.Series(pa.chunked_array([p.ids for p in chunks], type=_TEXT).to_numpy(
            zero_copy_only=False)).duplicated(keep="first").to_numpy()
        dropped = int(drop.sum())
        if dropped:
            order = order[~drop[order]]
    elif len(pages) > 1:
        # Each read is its own "page" here, re-reads of one page number included.
        page_of_row = np.repeat(np.arange(len(pages)), lengths)
        drop = _cross_page_duplicates(sort_key[order], order, page_of_row, (
            lambda rows: ts[rows].tolist(),
            lambda rows: name_codes[rows].tolist(),
            lambda rows: source_codes[rows].tolist(),
            lambda rows: values.take(pa.array(rows)).to_pylist(),
            lambda rows: users.take(pa.array(rows)).to_pylist(),
            lambda rows: [_metadata_key(m) for m in metadata[rows]],
        ))
        dropped = int(drop.sum())
        if dropped:
            order = order[~drop[order]]
    frame = pd.DataFrame(
        {
            "timestamp": pd.Series(ts[order].view("M8[ms]"), copy=False).dt.tz_localize("UTC"),
            "name": _categorical(name_codes[order], name_categories),
            "source": _categorical(source_codes[order], source_categories),
            "value": _text_column(values, order),
            "userID": _text_column(users, order),
            "metadata": metadata[order],
        },
        copy=False,
    )
    if expand_metadata:
        frame = expand_metadata_columns(frame)
    return frame, dropped


def expand_metadata_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Add one ``metadata.<key>`` column per key found in ``metadata``.

    String-valued keys become string columns (missing keys are ``<NA>``);
    other keys keep their Python objects.

    Examples
    --------
    >>> df = pd.DataFrame({"metadata": [{"plan": "pro"}, {}]})
    >>> expand_metadata_columns(df)["metadata.plan"].tolist()
    ['pro', <NA>]
    """
    keys: dict[str, None] = {}
    for m in frame["metadata"]:
        if m:
            keys.update(dict.fromkeys(m))
    extra = {}
    for key in keys:
        values = [m.get(key) if m else None for m in frame["metadata"]]
        if all(v is None or isinstance(v, str) for v in values):
            extra[METADATA_PREFIX + str(key)] = pd.array(values, dtype=STRING_DTYPE)
        else:
            col = np.empty(len(values), dtype=object)
            col[:] = values
            extra[METADATA_PREFIX + str(key)] = col
    if not extra:
        return frame
    return pd.concat([frame, pd.DataFrame(extra, index=frame.index)], axis=1)
