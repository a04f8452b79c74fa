"""Converted pages -> one typed DataFrame.

The schema lives here and nowhere else. :mod:`.decode` makes each page small
as soon as it arrives (a :class:`~statsig_pandas.decode.PageColumns`, or a
:class:`~statsig_pandas.decode.JoinedPage` converted later with every other
page of the read). :func:`build_frame` stitches the pages, drops events that
the moving window showed on two pages, sorts by time and hands back pandas
columns of the documented dtypes; :class:`ChunkAssembler` does the same for
a time-range read cut into chunks. Arrow calls cost microseconds each
whatever their size, so they are made per field of the whole read where
possible, never per row.

Event metadata is read-only: rows that logged the same metadata share one
dict, which is what keeps a frame of a million events small (see
``benchmarks/bench_reader.py``). ``dict(row)`` gives a copy you can change.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from itertools import chain
from typing import Any

import msgspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.types import union_categoricals

from ._timebuckets import NAT
from .decode import JoinedPage, PageColumns, PageMetadata, convert_pages, metadata_texts

# A page's metadata is kept as JSON text: msgspec reads it ~10x faster than json.
_json_load = msgspec.json.decode

__all__ = [
    "EMPTY_METADATA",
    "SCHEMA",
    "ChunkAssembler",
    "build_frame",
    "concat_frames",
    "empty_frame",
    "expand_metadata_columns",
    "metadata_column",
    "metadata_json",
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
METADATA_PREFIX = "metadata."

# pandas keeps its "string" columns as large_string: decode builds them so, which spares a cast (a copy).
_TEXT = pa.large_string()
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


#: The metadata value of events that logged none.
EMPTY_METADATA = _Metadata()


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
    >>> from statsig_pandas.decode import convert_dicts
    >>> ev = {"timestamp": "2", "name": "e", "source": "s", "value": "v", "userID": "1"}
    >>> a, _ = build_frame([convert_dicts([ev], page=1)])
    >>> b, _ = build_frame([convert_dicts([dict(ev, name="f")], page=1)])
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
        page_texts = (p.metadata.texts if isinstance(p.metadata, PageMetadata)
                      else metadata_texts([m or None for m in p.metadata]))
        if page_texts is not None:
            texts.append(page_texts)
            ranges.append(range(start, start + len(p)))
        else:  # not JSON: these rows keep their own dicts, read-only like the rest
            result[start:start + len(p)] = [_Metadata(m) if m else EMPTY_METADATA for m in p.metadata]
        start += len(p)
    if not texts:
        return result
    rows = metadata_column(pa.concat_arrays(texts))
    if len(ranges) == len(pages):
        return rows
    result[np.fromiter(chain.from_iterable(ranges), dtype=np.intp, count=len(rows))] = rows
    return result


def metadata_column(texts: pa.Array) -> np.ndarray:
    """The metadata column from each row's JSON text (binary, or dictionary-encoded binary; null for none).

    Rows of the same text share one read-only dict (``EMPTY_METADATA`` for
    none), decoded once; a dict holding a nested list or dict would still be
    mutable, so each such row gets its own.

    Examples
    --------
    >>> rows = metadata_column(pa.array([b'{"plan": "pro"}', None, b'{"plan": "pro"}']))
    >>> rows.tolist(), rows[0] is rows[2], rows[1] is EMPTY_METADATA
    ([{'plan': 'pro'}, {}, {'plan': 'pro'}], True, True)
    """
    encoded = texts if pa.types.is_dictionary(texts.type) else texts.dictionary_encode()
    # One more entry past the dictionary: the empty metadata of null rows.
    codes = pc.fill_null(encoded.indices, len(encoded.dictionary)).to_numpy(zero_copy_only=False)
    shared = np.empty(len(encoded.dictionary) + 1, dtype=object)
    shared[-1] = EMPTY_METADATA
    nested = []
    for j, key in enumerate(encoded.dictionary.to_pylist()):
        shared[j] = _metadata(_json_load(key) or {})
        if any(isinstance(v, (dict, list)) for v in shared[j].values()):
            nested.append(j)  # a nested list or dict would still be mutable, and shared
    rows = shared[codes]
    for i in np.flatnonzero(np.isin(codes, nested)) if nested else ():  # such rows get their own
        rows[i] = _Metadata(_json_load(encoded.dictionary[int(codes[i])].as_py()))
    return rows


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


def empty_frame() -> pd.DataFrame:
    """The frame of a read that found no events: same columns and dtypes.

    Examples
    --------
    >>> list(empty_frame().columns)
    ['timestamp', 'name', 'source', 'value', 'userID', 'metadata']
    """
    return pd.DataFrame({name: pd.Series([], dtype=dtype) for name, dtype in SCHEMA.items()})


def build_frame(pages: Iterable[PageColumns | JoinedPage], *,
                expand_metadata: bool = False) -> tuple[pd.DataFrame, int]:
    """Stitch converted pages into the typed frame.

    Parameters
    ----------
    pages : iterable of PageColumns or JoinedPage
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
    >>> from statsig_pandas.decode import convert_dicts
    >>> ev = {"timestamp": "2", "name": "e", "source": "s", "value": "v", "userID": "1", "metadata": {}}
    >>> df, dropped = build_frame([convert_dicts([ev], page=1), convert_dicts([ev], page=2)])
    >>> len(df), dropped
    (1, 1)
    """
    pages = [p for p in pages if len(p)]
    if not pages:
        return empty_frame(), 0
    lengths = [len(p) for p in pages]
    n = sum(lengths)
    chunks = convert_pages(pages)  # each read is still its own "page" below, through lengths
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


def metadata_json(value: Any, *, sort_keys: bool = True, ensure_ascii: bool = True) -> str:
    """One row's metadata as JSON text, ``"{}"`` for none: how files that cannot hold dicts store it.

    Examples
    --------
    >>> metadata_json({"plan": "pro", "country": "DE"})
    '{"country": "DE", "plan": "pro"}'
    >>> metadata_json(EMPTY_METADATA)
    '{}'
    """
    # default=str: a dict a user built may hold values JSON has no type for (a Timestamp); show them as text.
    return json.dumps(value, sort_keys=sort_keys, ensure_ascii=ensure_ascii, default=str) if value else "{}"


class ChunkAssembler:
    """Pages of a time-range read in, time-ordered frames of ``chunksize`` rows out.

    Rows are held back until every window that could still return older ones
    is done (the walk's watermark), then sorted, de-duplicated and cut; a
    remainder shorter than a chunk waits for the next pages.

    Parameters
    ----------
    chunksize : int
        Rows per frame; only the last may be shorter.
    expand_metadata : bool, default False
        As in :func:`build_frame`.
    on_coerced : callable, optional
        Called with the count of coerced rows of each batch of pages turned into frames, when not 0.

    Examples
    --------
    >>> from statsig_pandas.decode import convert_dicts
    >>> page = convert_dicts([{"timestamp": t, "name": "e", "source": "s", "value": t, "userID": "1"}
    ...                       for t in ("5", "3", "1")], page=1)
    >>> chunks = ChunkAssembler(2)
    >>> [c["value"].tolist() for c in chunks.add(page, watermark=4)]  # 5 may still have older company
    [['1', '3']]
    >>> [c["value"].tolist() for c in chunks.finish()]
    [['5']]
    """

    def __init__(self, chunksize: int, *, expand_metadata: bool = False, on_coerced=None):
        self.chunksize, self.expand_metadata, self.on_coerced = chunksize, expand_metadata, on_coerced
        self.duplicates = 0
        self._held: list = []  # pages' rows not yet below the watermark
        self._ready: list = []  # rows below it, waiting for a full chunk
        self._carry: pd.DataFrame | None = None  # a de-duplicated, sorted remainder shorter than a chunk
        self._last: int | None = -1  # the watermark the held rows were last split at

    def add(self, page: PageColumns | JoinedPage, *, watermark: int | None) -> list[pd.DataFrame]:
        """Take in one page and the walk's watermark after it; the chunks now complete."""
        self._held.append(page)
        return self._release(watermark, final=False)

    def finish(self) -> list[pd.DataFrame]:
        """Every row still held, as the last chunks (the walk is over)."""
        return self._release(None, final=True)

    def _release(self, watermark: int | None, *, final: bool) -> list[pd.DataFrame]:
        # A new page's window starts at or after the watermark, so only a move of the
        # watermark can release rows: split the held pages only then.
        if watermark != self._last:
            below, self._held = split_pages(self._held, before=watermark)
            self._ready.extend(below)
            self._last = watermark
        waiting = sum(map(len, self._ready)) + (len(self._carry) if self._carry is not None else 0)
        if not final and waiting < self.chunksize:
            return []
        # Events read twice (the boundary millisecond of a split window) share an id and a
        # timestamp, so both copies are always on the same side of the watermark.
        frame, dropped = build_frame(self._ready, expand_metadata=self.expand_metadata)
        coerced = sum(p.coerced for p in self._ready)
        if coerced and self.on_coerced is not None:
            self.on_coerced(coerced)
        self.duplicates += dropped
        self._ready = []
        frame = concat_frames([self._carry, frame]) if self._carry is not None else frame
        size = self.chunksize
        cut = len(frame) if final else len(frame) - len(frame) % size
        chunks = [frame.iloc[lo:lo + size].reset_index(drop=True) for lo in range(0, cut, size)]
        self._carry = frame.iloc[cut:].reset_index(drop=True) if cut < len(frame) else None
        return chunks
