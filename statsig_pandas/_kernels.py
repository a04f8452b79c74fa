"""Column kernels shared by the analysis functions and the event browser.

Arrow and NumPy routines over one column of an events frame: a zero-copy Arrow
view, integer codes, value tallies, distinct units per cell, ``metadata.<key>``
lookup, and the few-threads split that lets Arrow's kernels use every core.
Private to the package: the names here are public only to its modules.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .errors import StatsigError
from .frame import METADATA_PREFIX, STRING_DTYPE, expand_metadata_columns

# Distinct (bucket, user) pairs are marked in a boolean table while it stays this small.
_MAX_TABLE = 1 << 26
# Columns this long are counted in parts on several threads.
_PARALLEL_ROWS = 1 << 20
_WORKERS = min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def frame_column(df: pd.DataFrame, column: str) -> pd.Series:
    """A column of ``df``, or ``metadata.<key>`` taken out of the metadata dicts."""
    if not isinstance(column, str):
        raise StatsigError(f"a column name must be a string, not {column!r}")
    if column in df.columns:
        return df[column]
    if column.startswith(METADATA_PREFIX) and "metadata" in df.columns:
        dicts = pd.DataFrame({"metadata": metadata_dicts(df["metadata"])}, index=df.index)
        expanded = expand_metadata_columns(dicts)
        if column in expanded.columns:
            return expanded[column]
        return pd.Series(pd.array([pd.NA] * len(df), dtype=STRING_DTYPE), index=df.index, name=column)
    raise StatsigError(
        f"no column {column!r} in the frame (columns: {', '.join(map(str, df.columns))}; "
        f"'{METADATA_PREFIX}<key>' reads a key of the metadata column)"
    )


def metadata_dicts(metadata: pd.Series) -> np.ndarray:
    """The metadata column as dicts: as read, or parsed from the JSON text a Parquet file stores."""
    out = np.empty(len(metadata), dtype=object)
    parsed: dict[str, dict] = {}  # metadata repeats: parse each distinct text once
    for i, m in enumerate(metadata):
        if isinstance(m, dict):
            out[i] = m
        elif isinstance(m, str):
            if m not in parsed:
                try:
                    parsed[m] = json.loads(m) if m else {}
                except ValueError:
                    raise StatsigError(f"metadata {m[:80]!r} is neither a dict nor JSON text") from None
            out[i] = parsed[m] if isinstance(parsed[m], dict) else {}
        else:  # None, NaN: no metadata
            out[i] = {}
    return out


def as_labels(values: Any) -> pd.Index:
    """Labels as an Index; text in the reader's string dtype whatever the source (Parquet, concat)."""
    index = pd.Index(values)
    if index.dtype != STRING_DTYPE and index.inferred_type in ("string", "empty"):
        return index.astype(STRING_DTYPE)
    return index


def distinct_categorical(codes: np.ndarray, categories: pd.Index) -> pd.Categorical:
    """``pd.Categorical.from_codes`` for categories known to be distinct and codes known to be in
    range (a stream's units): pandas would hash every label to check, 0.3 s for a million units.
    The fast path is pandas' own private constructor (in 2.2 and 3.x alike); without it, the check."""
    fast = getattr(pd.CategoricalDtype, "_from_fastpath", None)
    dtype = fast(categories, False) if fast is not None else pd.CategoricalDtype(categories)
    return pd.Categorical.from_codes(codes, dtype=dtype, validate=False)


def arrow_view(ser: pd.Series) -> pa.ChunkedArray | None:
    """The Arrow data behind an Arrow-backed column (zero-copy), else None."""
    dtype = ser.dtype
    if isinstance(dtype, pd.ArrowDtype) or (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"):
        data = pa.array(ser.array)
        data = data if isinstance(data, pa.ChunkedArray) else pa.chunked_array([data])
        if pa.types.is_dictionary(data.type):
            data = data.cast(data.type.value_type)
        return data
    return None


def factorize(ser: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes (``-1`` for missing) and the labels they index."""
    if isinstance(ser.dtype, pd.CategoricalDtype):
        return ser.cat.codes.to_numpy(), as_labels(ser.cat.categories)
    data = arrow_view(ser)
    if data is not None:
        encoded = data.dictionary_encode()  # one dictionary shared by every chunk
        indices = pa.chunked_array([c.indices for c in encoded.chunks], type=pa.int32())
        codes = (indices.fill_null(-1) if indices.null_count else indices).to_numpy()
        dictionary = encoded.chunk(0).dictionary if encoded.num_chunks else pa.array([], data.type)
        return codes, as_labels(pd.array(dictionary, dtype=STRING_DTYPE) if is_text(dictionary.type)
                              else dictionary.to_pandas())
    codes, uniques = pd.factorize(ser, use_na_sentinel=True)
    return codes, as_labels(uniques)


def is_text(arrow_type: pa.DataType) -> bool:
    return pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)


def workers(work: int) -> int:
    """The threads :func:`parallel` runs ``work`` rows of items on (1: in the calling thread)."""
    return 1 if _WORKERS < 2 or work < _PARALLEL_ROWS else _WORKERS


def parallel(fn: Callable[[Any], Any], items: list, *, work: int) -> list:
    """``[fn(item) for item in items]``, on a few threads when there is enough ``work`` (rows):
    Arrow's kernels release the GIL, so the parts run on every core."""
    if workers(work) < 2 or len(items) < 2:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
        return list(pool.map(fn, items))


def sort_distinct(keys: np.ndarray) -> np.ndarray:
    """Sort distinct integer keys in place: when long, partitioned (in place, in linear time) into
    one range per worker and each range sorted on its own thread, as NumPy's sort releases the GIL.
    Keys are distinct, so the result is the same whatever the split."""
    parts = workers(len(keys) // 4)  # splitting one array pays on arrays four times parallel()'s threshold
    if parts < 2:
        keys.sort()
        return keys
    edges = [len(keys) * i // parts for i in range(parts + 1)]
    keys.partition(edges[1:-1])  # every key of a range is below every key of the next
    parallel(np.ndarray.sort, [keys[lo:hi] for lo, hi in itertools.pairwise(edges)], work=len(keys))
    return keys


def take(values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``values[at]``, gathered in one part per worker when long: a scattered read waits on memory,
    and NumPy's take releases the GIL, so the parts overlap their waits."""
    out = np.empty(len(at), dtype=values.dtype)
    parts = workers(len(at) // 4)  # as in sort_distinct
    edges = [len(at) * i // parts for i in range(parts + 1)]
    parallel(lambda span: np.take(values, at[span[0]:span[1]], out=out[span[0]:span[1]]),
             list(itertools.pairwise(edges)), work=len(at))
    return out


def split(data: pa.ChunkedArray) -> list[pa.ChunkedArray]:
    """Zero-copy slices of ``data``, one per worker when it is long enough to be worth it."""
    parts = workers(len(data))
    size = -(-len(data) // parts)
    return [data.slice(i * size, size) for i in range(parts)]


def value_tally(ser: pd.Series, *, dropna: bool) -> tuple[pd.Index, np.ndarray]:
    """Labels and counts of the values present, in first-seen (or category) order; missing values
    last under a missing label unless ``dropna``."""
    if isinstance(ser.dtype, pd.CategoricalDtype):
        # bincount over the codes: no hashing; shifted by one so that -1 (NA) is counted too.
        tally = np.bincount(ser.cat.codes.to_numpy().astype(np.intp) + 1, minlength=len(ser.cat.categories) + 1)
        labels, counts, missing = as_labels(ser.cat.categories), tally[1:], int(tally[0])
    else:
        data = arrow_view(ser)
        if data is not None:
            tallies = parallel(lambda part: part.value_counts(), split(data), work=len(data))
            if len(tallies) == 1:
                values, counts = tallies[0].field(0), tallies[0].field(1)
            else:  # sum the parts' counts; group_by keeps the first-seen order of the values
                merged = pa.table({
                    "v": pa.concat_arrays([t.field(0) for t in tallies]),
                    "n": pa.concat_arrays([t.field(1) for t in tallies]),
                }).group_by("v", use_threads=False).aggregate([("n", "sum")])
                values, counts = merged["v"].combine_chunks(), merged["n_sum"]
            counts = counts.to_numpy().astype(np.int64)
            valid = values.is_valid().to_numpy(zero_copy_only=False)
            missing = int(counts[~valid].sum())
            labels = as_labels(pd.array(values.filter(valid), dtype=STRING_DTYPE) if is_text(values.type)
                             else values.filter(valid).to_pandas())
            counts = counts[valid]
        else:
            tally = ser.value_counts(dropna=False, sort=False)
            na = tally.index.isna()
            missing = int(tally.to_numpy()[na].sum())
            labels, counts = as_labels(tally.index[~na]), tally.to_numpy()[~na].astype(np.int64)
    present = counts > 0
    labels, counts = labels[present], counts[present]
    if not dropna and missing:
        labels = labels.append(pd.Index(pd.array([pd.NA], dtype=labels.dtype)
                                        if isinstance(labels.dtype, pd.StringDtype) else [None]))
        counts = np.append(counts, missing)
    return labels, counts


def distinct_per_cell(cells: np.ndarray, users: np.ndarray, n_cells: int, n_users: int) -> np.ndarray:
    """Number of distinct users in each cell (cells and users as codes >= 0)."""
    if n_cells == 0 or n_users == 0:
        return np.zeros(n_cells, dtype=np.int64)
    pairs = cells.astype(np.int64) * n_users + users
    if n_cells * n_users <= _MAX_TABLE:
        seen = np.zeros(n_cells * n_users, dtype=bool)
        seen[pairs] = True
        return seen.reshape(n_cells, n_users).sum(axis=1, dtype=np.int64)
    return np.bincount(pd.unique(pairs) // n_users, minlength=n_cells).astype(np.int64)


def distinct_users(users: pd.Series, rows: np.ndarray | None, cells: np.ndarray, n_cells: int) -> np.ndarray:
    """Distinct non-missing users of the kept ``rows`` (None: all) in each cell."""
    data = arrow_view(users)
    in_one_run = rows is None or (len(rows) > 0 and rows[-1] - rows[0] + 1 == len(rows))
    if data is not None and len(cells) and in_one_run and (cells[1:] >= cells[:-1]).all():
        # Time-sorted rows (as read) put each bucket's users in one run: count each run's
        # distinct IDs straight from the Arrow strings, no codes and no pairs needed.
        part = data if rows is None else data.slice(int(rows[0]), len(rows))
        starts = np.flatnonzero(np.concatenate(([True], cells[1:] != cells[:-1])))
        ends = np.append(starts[1:], len(cells))
        counts = np.zeros(n_cells, dtype=np.int64)
        counts[cells[starts]] = parallel(
            lambda run: pc.count_distinct(part.slice(run[0], run[1] - run[0])).as_py(),
            list(zip(starts.tolist(), ends.tolist())), work=len(cells))
        return counts
    codes, labels = factorize(users)
    if rows is not None:
        codes = codes[rows]
    known = codes >= 0
    if not known.all():
        cells, codes = cells[known], codes[known]
    return distinct_per_cell(cells, codes, n_cells, len(labels))
