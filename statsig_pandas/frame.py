"""Pages of events -> one typed DataFrame.

The schema lives here and nowhere else. Each page is converted as soon as it
arrives (:func:`page_columns`: one pass of Arrow's converter over the page's
dicts, and its metadata written as one JSON text), so the per-row dicts of a
page can be freed straight away; :func:`build_frame` stitches the pages, drops
events that the moving window showed on two pages, sorts by time and hands
back pandas columns of the documented dtypes. Arrow calls cost tens of
microseconds each whatever their size, so there are a handful per page and
per column, never per row.

Event metadata is read-only: rows that logged the same metadata share one
dict, which is what keeps a frame of a million events small (see
``benchmarks/bench_reader.py``). ``dict(row)`` gives a copy you can change.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.types import union_categoricals

from .errors import ResponseFormatError, StatsigError

try:  # a page's metadata is kept as JSON text; orjson writes and reads it ~10x faster than json
    import orjson
    from orjson import loads as _json_load

    # Metadata is read back from this text, so anything JSON would not give back as it was (dates,
    # dataclasses, subclasses) must make the writing fail instead.
    _OPTIONS = (orjson.OPT_INDENT_2 | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
                | orjson.OPT_PASSTHROUGH_SUBCLASS)

    def _json_text(obj: Any) -> bytes:
        return orjson.dumps(obj, option=_OPTIONS)
except ImportError:  # pragma: no cover - orjson is a dependency, kept optional for minimal installs
    from json import loads as _json_load

    def _json_text(obj: Any) -> bytes:
        return json.dumps(obj, ensure_ascii=False, indent=2, separators=(",", ": "), allow_nan=False).encode()

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
_NAT = np.iinfo(np.int64).min  # datetime64's NaT


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
    """A page's metadata as one indented JSON list: about 15 bytes a row instead of a dict of 64 to 300.

    Made in one call while the page's dicts are still in the CPU cache, it
    lets them go at once; :func:`build_frame` reads the text of all pages in
    bulk. Indexing or iterating decodes it (``EMPTY_METADATA`` for none).
    """

    __slots__ = ("_rows", "text")

    def __init__(self, text: bytes, rows: int):
        self.text, self._rows = text, rows

    def __len__(self) -> int:
        return self._rows

    def _decoded(self) -> list:
        return [m or EMPTY_METADATA for m in _json_load(self.text)]

    def __getitem__(self, index):
        return self._decoded()[index]

    def __iter__(self):
        return iter(self._decoded())

    def __eq__(self, other) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    def __repr__(self) -> str:
        return repr(self._decoded())


_OBJECT_OR_NULL = {dict, type(None)}


def _rows_text(metas: Sequence) -> bytes | None:
    """The rows' metadata as one indented JSON list, if every row's is an object or null; else None."""
    if not set(map(type, metas)) <= _OBJECT_OR_NULL:
        return None
    try:
        text = _json_text(metas)
    except (TypeError, ValueError):  # not JSON: a caller's own objects
        return None
    # orjson's result keeps the whole buffer it grew (~250 KB for a page of 1,000): keep a copy of the text.
    return bytes(memoryview(text))


# How orjson (and json, indent=2) lay out a list: every item on lines of its own, after this separator.
_LIST_START, _ITEM_SEP, _LIST_END = b"[\n  ", b",\n  ", b"\n]"


def _item_starts(text: bytes) -> np.ndarray:
    """Where each item of indented JSON lists of objects and nulls starts."""
    data = np.frombuffer(text, dtype=np.uint8)
    newlines = np.flatnonzero(data[:-3] == ord("\n"))
    after = data[newlines + 3]
    items = (data[newlines + 1] == ord(" ")) & (data[newlines + 2] == ord(" ")) & (
        (after == ord("{")) | (after == ord("n")))
    return newlines[items] + 3


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
    text = _rows_text(metas)
    if text is not None:  # the documented shape
        return _PageMetadata(text, len(metas)), 0
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
        text = (p.metadata.text if isinstance(p.metadata, _PageMetadata)
                else _rows_text([m or None for m in p.metadata]))
        if text is not None:
            texts.append(text)
            ranges.append(range(start, start + len(p)))
        else:  # not JSON: these rows keep their own dicts, read-only like the rest
            result[start:start + len(p)] = [_Metadata(m) if m else EMPTY_METADATA for m in p.metadata]
        start += len(p)
    if not texts:
        return result
    # All pages' items in one list, each followed by the separator: a row's key is its item's text up
    # to the next item, the same wherever the row is.
    text = b"\n  " + _ITEM_SEP.join(t[len(_LIST_START):-len(_LIST_END)] for t in texts) + _ITEM_SEP
    offsets = np.append(_item_starts(text), len(text))
    keys = pa.Array.from_buffers(pa.large_binary(), len(offsets) - 1,
                                 [None, pa.py_buffer(offsets), pa.py_buffer(text)])
    encoded = keys.dictionary_encode()
    codes = encoded.indices.to_numpy()
    shared = np.empty(len(encoded.dictionary), dtype=object)
    nested = []
    for j, key in enumerate(encoded.dictionary.to_pylist()):
        if key.startswith((b"{}", b"null")):
            shared[j] = EMPTY_METADATA
        else:
            shared[j] = _Metadata(_json_load(key[: -len(_ITEM_SEP)]))
            if any(isinstance(v, (dict, list)) for v in shared[j].values()):
                nested.append(j)  # a nested list or dict would still be mutable, and shared
    rows = shared[codes]
    for i in np.flatnonzero(np.isin(codes, nested)) if nested else ():  # such rows get their own
        rows[i] = _Metadata(_json_load(keys[int(i)].as_py()[: -len(_ITEM_SEP)]))
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


def build_frame(pages: Iterable[PageColumns], *, expand_metadata: bool = False) -> tuple[pd.DataFrame, int]:
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
    n = sum(len(p) for p in pages)
    timestamps = pa.concat_arrays([p.timestamp for p in pages])
    ts = pc.fill_null(timestamps, _NAT).to_numpy() if timestamps.null_count else timestamps.to_numpy()
    # Unparseable times (NaT) sort last, as in pandas.
    sort_key = np.where(ts == _NAT, np.iinfo(np.int64).max, ts) if timestamps.null_count else ts
    order = np.argsort(sort_key, kind="stable")  # pages come newest first: a run that timsort reverses
    name_codes, name_categories = _codes([p.name for p in pages])
    source_codes, source_categories = _codes([p.source for p in pages])
    values = _concat_text([p.value for p in pages])
    users = _concat_text([p.user for p in pages])
    metadata = _shared_metadata(pages, n)
    dropped = 0
    if all(p.ids is not None for p in pages):
        # Log events carry an id: a read twice is the same id, and nothing else is a duplicate.
        drop = pd.Series(pa.chunked_array([p.ids for p in pages], type=_TEXT).to_numpy(
            zero_copy_only=False)).duplicated(keep="first").to_numpy()
        dropped = int(drop.sum())
        if dropped:
            order = order[~drop[order]]
    elif len(pages) > 1:
        # Each read is its own "page" here, re-reads of one page number included.
        page_of_row = np.repeat(np.arange(len(pages)), [len(p) for p in pages])
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
