"""Pages of events -> one typed DataFrame.

The schema lives here and nowhere else. Each page is converted to Arrow
arrays as soon as it arrives (:func:`page_columns`), so the per-row Python
dicts of a page can be freed straight away; :func:`build_frame` stitches the
pages, drops events that the moving window showed on two pages, sorts by time
and hands back pandas columns of the documented dtypes.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .errors import ResponseFormatError, StatsigError

__all__ = [
    "COLUMNS",
    "SCHEMA",
    "EMPTY_METADATA",
    "PageColumns",
    "page_columns",
    "build_frame",
    "empty_frame",
    "expand_metadata_columns",
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


class _EmptyMetadata(dict):
    """The ``{}`` shared by every event without metadata.

    Most events carry no metadata; one shared empty dict instead of a fresh one
    per row saves 64 bytes a row. It refuses mutation so that changing one row
    can never silently change them all.
    """

    __slots__ = ()

    def _readonly(self, *args, **kwargs):
        raise TypeError("empty event metadata is shared and read-only; use dict(row) to get a copy you can change")

    __setitem__ = __delitem__ = update = setdefault = pop = popitem = clear = __ior__ = _readonly

    def __reduce__(self):
        return (_empty_metadata, ())

    def __repr__(self) -> str:
        return "{}"


def _empty_metadata() -> dict:
    return EMPTY_METADATA


#: The metadata value of events that logged none.
EMPTY_METADATA = _EmptyMetadata()


@dataclass
class PageColumns:
    """One page converted to columns; small and free of per-row dicts."""

    page: int
    timestamp: pa.Array  # int64 epoch ms, null where unparseable (coerced)
    name: pa.Array  # string
    source: pa.Array
    value: pa.Array
    user: pa.Array
    metadata: list = field(repr=False)
    coerced: int = 0

    def __len__(self) -> int:
        return len(self.timestamp)


def _text(values: list, *, null_as: str | None) -> pa.Array:
    """Strings as an Arrow array; numbers become their JSON text, nulls ``null_as``."""
    try:
        arr = pa.array(values, type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        arr = pa.array(
            [v if isinstance(v, str) or v is None else json.dumps(v, separators=(",", ":")) for v in values],
            type=pa.string(),
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


def _timestamps(raw: list, *, errors: str, page: int, names: list) -> tuple[pa.Array, int]:
    # Fast path: every timestamp is a string of digits, as documented.
    try:
        arr = pc.cast(pa.array(raw, type=pa.string()), pa.int64())
        if not arr.null_count:
            return arr, 0
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        pass
    parsed = [_parse_one_timestamp(r) for r in raw]
    bad = [i for i, v in enumerate(parsed) if v is None]
    if bad and errors == "raise":
        i = bad[0]
        raise StatsigError(
            f"unparseable timestamp {raw[i]!r} in event {names[i]!r} on page {page} "
            f"({len(bad)} such row(s) on this page); pass errors='coerce' to read them as NaT"
        )
    return pa.array(parsed, type=pa.int64()), len(bad)


def page_columns(records: Sequence[Any], *, page: int, errors: str = "raise") -> PageColumns:
    """Convert the ``data`` list of one page to columns.

    Raises
    ------
    ResponseFormatError
        If an item is not a JSON object.
    StatsigError
        If a timestamp cannot be parsed and ``errors="raise"``.
    """
    try:
        # One pass per field; .get keeps missing keys as None.
        ts = [r.get("timestamp") for r in records]
        names = [r.get("name") for r in records]
        sources = [r.get("source") for r in records]
        values = [r.get("value") for r in records]
        users = [r.get("userID") for r in records]
        metas = [r.get("metadata") for r in records]
    except AttributeError:
        bad = next(r for r in records if not isinstance(r, dict))
        raise ResponseFormatError(
            f"page {page}: an event is {type(bad).__name__}, not a JSON object", page=page, snippet=repr(bad)[:200]
        ) from None
    metadata, bad_meta = [], 0
    for m in metas:
        if m.__class__ is dict and m:
            metadata.append(m)
        elif m is None or m.__class__ is dict or isinstance(m, dict):
            metadata.append(m if m else EMPTY_METADATA)
        else:
            bad_meta += 1
            metadata.append(EMPTY_METADATA)
    if bad_meta and errors == "raise":
        raise ResponseFormatError(
            f"page {page}: {bad_meta} event(s) have metadata that is not a JSON object; "
            "pass errors='coerce' to read them with empty metadata",
            page=page,
        )
    timestamp, coerced = _timestamps(ts, errors=errors, page=page, names=names)
    return PageColumns(
        page=page,
        timestamp=timestamp,
        name=_text(names, null_as=None),
        source=_text(sources, null_as=None),
        value=_text(values, null_as=""),
        user=_text(users, null_as=None),
        metadata=metadata,
        coerced=coerced + bad_meta,
    )


def _strings(chunks: list[pa.Array]) -> pd.Series:
    return pd.Series(pd.array(pa.chunked_array(chunks, type=pa.string()), dtype=STRING_DTYPE), copy=False)


def _categorical(chunks: list[pa.Array]) -> pd.Categorical:
    encoded = pa.chunked_array(chunks, type=pa.string()).combine_chunks().dictionary_encode()
    categories = pd.Index(pd.array(encoded.dictionary, dtype=STRING_DTYPE))
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    codes = np.where(np.isnan(codes), -1, codes) if codes.dtype.kind == "f" else codes
    return pd.Categorical.from_codes(codes.astype(np.int32, copy=False), dtype=pd.CategoricalDtype(categories))


def _metadata_key(m: dict) -> str:
    return json.dumps(m, sort_keys=True, default=str) if m else ""


def _cross_page_duplicates(frame: pd.DataFrame, pages: np.ndarray) -> np.ndarray:
    """Mask of rows to drop: events already seen on another page.

    The window moves while it is read, so the same event can show on two
    pages; two identical events on one page are two real events. For each
    distinct event, keep the rows of the page where it occurs most often.
    """
    hashed = pd.util.hash_pandas_object(frame[["timestamp", "name", "source", "value", "userID"]], index=False)
    by_page = pd.DataFrame({"h": hashed.to_numpy(), "p": pages})
    # Hashes seen on more than one page are the only candidates; check them exactly.
    distinct = by_page.drop_duplicates()
    multi = distinct["h"][distinct["h"].duplicated(keep=False)].unique()
    drop = np.zeros(len(frame), dtype=bool)
    if len(multi) == 0:
        return drop
    rows = np.flatnonzero(by_page["h"].isin(multi).to_numpy())
    sub = frame.iloc[rows]
    keys = list(
        zip(
            sub["timestamp"].array.asi8 if hasattr(sub["timestamp"].array, "asi8") else sub["timestamp"].to_numpy(),
            sub["name"].astype(object),
            sub["source"].astype(object),
            sub["value"].astype(object),
            sub["userID"].astype(object),
            map(_metadata_key, sub["metadata"]),
        )
    )
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
    """The frame of a read that found no events: same columns and dtypes."""
    return pd.DataFrame({name: pd.Series([], dtype=dtype) for name, dtype in SCHEMA.items()})


def build_frame(pages: Iterable[PageColumns], *, expand_metadata: bool = False) -> tuple[pd.DataFrame, int]:
    """Stitch converted pages into the typed frame.

    Returns the frame (sorted by time, stable; RangeIndex) and the number of
    cross-page duplicates dropped.
    """
    pages = [p for p in pages if len(p)]
    if not pages:
        return empty_frame(), 0
    ts = pa.chunked_array([p.timestamp for p in pages], type=pa.int64()).to_numpy()
    if ts.dtype.kind == "f":  # nulls from coerced timestamps come back as NaN
        ts = np.where(np.isnan(ts), np.iinfo(np.int64).min, ts).astype(np.int64)
    timestamp = pd.Series(pd.array(ts.view("M8[ms]"), dtype="M8[ms]")).dt.tz_localize("UTC")
    metadata = np.empty(len(ts), dtype=object)
    metadata[:] = [m for p in pages for m in p.metadata]
    frame = pd.DataFrame(
        {
            "timestamp": timestamp,
            "name": _categorical([p.name for p in pages]),
            "source": _categorical([p.source for p in pages]),
            "value": _strings([p.value for p in pages]),
            "userID": _strings([p.user for p in pages]),
            "metadata": metadata,
        },
        copy=False,
    )
    dropped = 0
    if len(pages) > 1:
        # Each read is its own "page" here, re-reads of one page number included.
        page_of_row = np.repeat(np.arange(len(pages)), [len(p) for p in pages])
        drop = _cross_page_duplicates(frame, page_of_row)
        dropped = int(drop.sum())
        if dropped:
            frame = frame[~drop]
    order = np.argsort(frame["timestamp"].to_numpy(), kind="stable")
    frame = frame.take(order).reset_index(drop=True)
    if expand_metadata:
        frame = expand_metadata_columns(frame)
    return frame, dropped


def expand_metadata_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Add one ``metadata.<key>`` column per key found in ``metadata``.

    String-valued keys become string columns (missing keys are ``<NA>``);
    other keys keep their Python objects.
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
