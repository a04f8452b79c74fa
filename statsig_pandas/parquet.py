"""Stream a time range of events into a Parquet dataset, resumably.

The dataset is partitioned by UTC day (``day=YYYY-MM-DD/part-NNNNN.parquet``).
Each day is read in time-ordered chunks (so memory stays bounded whatever
the range), written into a hidden staging folder, and moved into place in one
rename once the day is complete; a small manifest records finished days. An
interrupted run therefore leaves either a whole day or none of it, and the
next run with the same arguments picks up at the first unfinished day.

``metadata`` is stored as JSON text (Parquet has no type for dicts whose keys
vary from row to row); :func:`read_parquet` turns it back into dicts.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from ._lock import DatasetLock
from ._options import check_read_options, epoch_ms, event_names, iso_utc, time_range, timestamp_utc
from .endpoints import DAY_MS, Provenance
from .errors import StatsigError
from .frame import SCHEMA, empty_frame, metadata_json
from .pagination import Progress
from .reader import read_events

__all__ = ["to_parquet", "read_parquet"]

MANIFEST = "_statsig_manifest.json"
_FORMAT = 1


def _days(start_ms: int, end_ms: int) -> list[tuple[str, int, int]]:
    """``[start, end)`` cut at UTC midnights: (day label, start ms, end ms)."""
    units, lo = [], start_ms
    while lo < end_ms:
        hi = min((lo // DAY_MS + 1) * DAY_MS, end_ms)
        units.append((timestamp_utc(lo).strftime("%Y-%m-%d"), lo, hi))
        lo = hi
    return units


def _load_manifest(root: Path, names: list[str]) -> dict:
    path = root / MANIFEST
    if not path.exists():
        if root.exists() and any(p.name.startswith("day=") for p in root.iterdir()):
            raise StatsigError(f"{root} holds day partitions but no {MANIFEST}: not a dataset written by "
                               "to_parquet; choose an empty folder")
        return {"format": _FORMAT, "event_names": names, "days": {}}
    try:
        manifest = json.loads(path.read_text())
    except ValueError:
        raise StatsigError(f"{path} is damaged; delete the dataset folder to start again") from None
    if manifest.get("event_names") != names:
        raise StatsigError(f"{root} holds events {manifest.get('event_names')}, not {names}; "
                           "write these events to another folder")
    return manifest


def _save_manifest(root: Path, manifest: dict) -> None:
    tmp = root / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    os.replace(tmp, root / MANIFEST)  # atomic: a crash leaves the old manifest or the new one


def arrow_table(frame: pd.DataFrame) -> pa.Table:
    """The reader's frame as an Arrow table Parquet can hold: ``metadata`` as JSON text."""
    out = frame[list(SCHEMA)].copy()
    out["metadata"] = [metadata_json(m, sort_keys=False, ensure_ascii=False) for m in out["metadata"]]
    return pa.Table.from_pandas(out, preserve_index=False)


def to_parquet(
    names: str | Iterable[str],
    path: str | os.PathLike,
    *,
    start: Any,
    end: Any = None,
    chunksize: int = 200_000,
    api_key: str | None = None,
    base_url: str | None = None,
    max_concurrency: int = 4,
    progress: Progress = None,
    errors: str = "raise",
    cache: Any = None,
    settle: Any = None,
    **read_options,
) -> dict:
    """Stream the events of ``[start, end)`` into a Parquet dataset partitioned by day.

    Parameters
    ----------
    names : str or list of str
        The event name(s); a dataset holds one set of names.
    path : str or path-like
        The dataset folder (created if needed). Run again with the same
        arguments after an interruption: finished days are skipped.
    start, end : str, datetime or Timestamp
        The range (naive times are UTC; ``end`` defaults to now).
    chunksize : int, default 200,000
        Rows per file at most, and so the most rows held in memory at once.
    api_key, base_url, max_concurrency, progress, errors, **read_options
        As for :func:`statsig_pandas.read_events`; a ``progress`` callable
        follows each day's read in turn (its counts start again each day).
    cache, settle
        As for :func:`statsig_pandas.read_events`: settled days come from
        (and go to) the cache, so a second dataset of the same days, or the
        same one written again, reads only the days the cache lacks.

    Returns
    -------
    dict
        ``{"path", "days_written", "days_skipped", "rows_written"}``.

    Examples
    --------
    >>> statsig_pandas.to_parquet("purchase", "purchases/", start="2026-10-01", end="2026-11-01")  # doctest: +SKIP
    >>> df = statsig_pandas.read_parquet("purchases/")  # doctest: +SKIP
    """
    names = event_names(names)
    check_read_options(errors=errors, max_concurrency=max_concurrency, chunksize=chunksize)
    start_ms, end_ms = time_range(start, end)
    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    read = dict(chunksize=chunksize, api_key=api_key, base_url=base_url, max_concurrency=max_concurrency,
                progress=progress, errors=errors, cache=cache, settle=settle, **read_options)
    # Held for the whole run: a second writer would delete this run's staging folders and rewrite its days.
    with DatasetLock(root):
        manifest = _load_manifest(root, names)
        for stale in root.glob(".staging-*"):  # what an interrupted run left: no live run holds the lock
            shutil.rmtree(stale, ignore_errors=True)
        summary = {"path": str(root), "days_written": 0, "days_skipped": 0, "rows_written": 0}
        for day, lo, hi in _days(start_ms, end_ms):
            done = manifest["days"].get(day)
            if done and done["start_ms"] <= lo and hi <= done["end_ms"]:
                summary["days_skipped"] += 1
                continue
            rows = _write_day(root, day, lo, hi, names, read)
            manifest["days"][day] = {"start_ms": lo, "end_ms": hi, "rows": rows}
            _save_manifest(root, manifest)  # only now is the day complete: its files are in place and counted
            summary["days_written"] += 1
            summary["rows_written"] += rows
    return summary


def _write_day(root: Path, day: str, lo: int, hi: int, names: list[str], read: dict) -> int:
    """Read ``[lo, hi)`` into ``day=<day>/`` through a staging folder; the rows now in place."""
    staging = root / f".staging-day={day}"
    staging.mkdir()
    rows = 0
    chunks = read_events(names, start=timestamp_utc(lo), end=timestamp_utc(hi), **read)
    try:
        for number, chunk in enumerate(chunks):
            pq.write_table(arrow_table(chunk), staging / f"part-{number:05d}.parquet")
            rows += len(chunk)
    finally:  # Ctrl-C while a chunk is written: the read's requests in flight stop now, not at exit
        chunks.close()
    final = root / f"day={day}"
    if final.exists():  # written by a run that stopped before recording it
        shutil.rmtree(final)
    if not rows:
        staging.rmdir()
        return 0
    os.replace(staging, final)
    counted = sum(pq.ParquetFile(part).metadata.num_rows for part in final.glob("part-*.parquet"))
    if counted != rows:
        raise StatsigError(f"{final} holds {counted} row(s) where {rows} were written; the day is not "
                           "recorded as complete (run again to rewrite it)")
    return rows


def read_parquet(path: str | os.PathLike, *, start: Any = None, end: Any = None) -> pd.DataFrame:
    """Read a dataset written by :func:`to_parquet` back into the reader's typed frame.

    Parameters
    ----------
    path : str or path-like
    start, end : optional
        Keep only events in ``[start, end)``.

    Examples
    --------
    >>> df = statsig_pandas.read_parquet("purchases/", start="2026-10-15")  # doctest: +SKIP
    """
    root = Path(path)
    if not (root / MANIFEST).exists():
        raise StatsigError(f"{root} is not a dataset written by statsig_pandas.to_parquet (no {MANIFEST})")
    dataset = ds.dataset(root, format="parquet", partitioning="hive")
    condition = None
    stamp = ds.field("timestamp")
    if start is not None:
        condition = stamp >= pa.scalar(epoch_ms(start, "start"), pa.timestamp("ms", tz="UTC"))
    if end is not None:
        upper = stamp < pa.scalar(epoch_ms(end, "end"), pa.timestamp("ms", tz="UTC"))
        condition = upper if condition is None else condition & upper
    table = dataset.to_table(columns=list(SCHEMA), filter=condition)
    if not table.num_rows:
        return empty_frame()
    frame = table.to_pandas()
    frame["metadata"] = [json.loads(m) for m in frame["metadata"]]
    for column, dtype in SCHEMA.items():
        if column != "metadata" and str(frame[column].dtype) != str(dtype):
            frame[column] = frame[column].astype(dtype if column not in ("name", "source") else "category")
    for column in ("name", "source"):
        frame[column] = frame[column].cat.rename_categories(
            pd.Index(pd.array(frame[column].cat.categories.astype(str), dtype=SCHEMA["value"])))
    frame = frame.sort_values("timestamp", kind="stable", ignore_index=True)
    frame.attrs["statsig"] = Provenance(
        source="parquet", path=str(root), start=None if start is None else iso_utc(epoch_ms(start, "start")),
        end=None if end is None else iso_utc(epoch_ms(end, "end")),
    ).to_attrs()
    return frame
