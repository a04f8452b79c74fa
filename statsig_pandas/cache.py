"""A local cache of settled days of events, so that re-reading a time range costs almost nothing.

A past UTC day stops changing once its late events have arrived: the cache
keeps such days, one Parquet file per event name and day, and a time-range
read with ``cache=`` takes them from here and asks the API only for the days
it does not hold and the recent days that may still change.

Layout of a cache folder (folders 0700, files 0600: it holds event data)::

    <folder>/salt                 random bytes; keys are known here only as HMACs under them
    <folder>/v1/<host>/<key fingerprint>/<event>/<YYYY-MM-DD>.json             the day's manifest
    <folder>/v1/<host>/<key fingerprint>/<event>/<YYYY-MM-DD>.<digest>.parquet  the day's events

``v1`` is the format version, ``<host>`` the API host (and a digest of the
whole base URL), ``<event>`` a digest of the event name and the query that
selects it. A day is written as a Parquet file named after its own SHA-256,
then committed by renaming its manifest (rows, size, checksum) into place, so
a reader sees a whole day or none, and two processes filling the same day
write the same file. A day whose file is missing, short or does not match its
manifest is reported with a :class:`StatsigWarning`, dropped, and read again.

>>> from statsig_pandas.cache import settled_days
>>> DAY_MS = 86_400_000
>>> settled_days(0, 3 * DAY_MS, now_ms=3 * DAY_MS + 1, settle_ms=DAY_MS)  # day 2 ended less than a day ago
[0, 1]
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
import secrets
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .endpoints import DAY_MS
from .errors import StatsigError, StatsigWarning, find_stack_level
from .frame import SCHEMA, STRING_DTYPE, empty_frame, metadata_column

__all__ = [
    "CACHE_DIR_ENV",
    "DAY_SCHEMA",
    "DEFAULT_SETTLE",
    "FORMAT",
    "NEEDS_RANGE",
    "Cache",
    "CacheScope",
    "cache_and_settle",
    "cache_info",
    "clear_cache",
    "day_label",
    "duration_ms",
    "frame_table",
    "settle_ms",
    "settled_days",
    "table_frame",
]

#: Where ``cache=True`` keeps its folder, when set (else the user cache folder of the platform).
CACHE_DIR_ENV = "STATSIG_PANDAS_CACHE_DIR"
#: The format version: part of every path, so a new layout never reads an old one.
FORMAT = 1
#: How long after its end a day is taken as final. SDKs batch events and flush them every few seconds
#: to a minute, retry failed uploads, and client SDKs hold events of an offline device until it is back
#: (usually the same day); a full day after midnight covers those, and a 90-day report re-run in the
#: morning still takes 89 of its days from the cache.
DEFAULT_SETTLE = pd.Timedelta(days=1)

#: Why ``cache=`` without a time range is refused.
NEEDS_RANGE = ("cache= needs a time range (start=, end=): the rolling window of recent events the events "
               "endpoint serves changes all the time and cannot be cached")

_SALT = "salt"
_SALT_BYTES = 32
_DIR_MODE = 0o700
_SLUG = re.compile(r"[^A-Za-z0-9.-]+")
# "30d" as people write it (pandas deprecates the lower-case day).
_DURATION = re.compile(r"\s*(?P<number>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>w|d|h|m|min|s)\s*", re.IGNORECASE)
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "min": "minutes", "s": "seconds"}
_MANIFEST = re.compile(r"^(\d{4}-\d{2}-\d{2})\.json$")


# -- days and settling ------------------------------------------------------------------------

def duration_ms(value: Any, what: str) -> int:
    """A duration of zero or more (a Timedelta, timedelta, or text such as ``"30d"``, ``"1D"``, ``"6h"``) in ms.

    Examples
    --------
    >>> duration_ms("30d", "older_than") == duration_ms(pd.Timedelta(days=30), "older_than")
    True
    """
    message = f"{what} must be a duration such as '1D', '6h' or pd.Timedelta(hours=6), not {value!r}"
    if isinstance(value, (bool, int, float)):  # seconds? days? say which
        raise StatsigError(message)
    if isinstance(value, str) and (match := _DURATION.fullmatch(value)):
        delta = pd.Timedelta(**{_UNITS[match["unit"].lower()]: float(match["number"])})
    else:
        try:
            delta = pd.Timedelta(value)
        except (TypeError, ValueError):
            raise StatsigError(message) from None
    if delta is pd.NaT or delta < pd.Timedelta(0):
        raise StatsigError(f"{what} must be a duration of zero or more, not {value!r}")
    return int(delta.value // 1_000_000)


def settle_ms(settle: Any) -> int:
    """``settle`` (see :func:`duration_ms`; None: :data:`DEFAULT_SETTLE`) in ms.

    Examples
    --------
    >>> settle_ms("6h"), settle_ms(None) == settle_ms("1D")
    (21600000, True)
    """
    return duration_ms(DEFAULT_SETTLE if settle is None else settle, "settle")


def cache_and_settle(cache: Any, settle: Any) -> tuple[Cache | None, int | None]:
    """The :class:`Cache` a ``cache=`` argument names (None for none) and ``settle=`` in ms, both checked.

    Examples
    --------
    >>> cache_and_settle(None, None)
    (None, None)
    """
    store = Cache.resolve(cache)
    if store is None:
        if settle is not None:
            raise StatsigError("settle= says when a day may be cached: it needs cache= too")
        return None, None
    return store, settle_ms(settle)


def settled_days(start_ms: int, end_ms: int, *, now_ms: int, settle_ms: int) -> list[int]:
    """The UTC days (as day numbers since the epoch) that overlap ``[start_ms, end_ms)`` and ended
    at least ``settle_ms`` before ``now_ms``, oldest first.

    Examples
    --------
    >>> settled_days(DAY_MS // 2, 2 * DAY_MS, now_ms=10 * DAY_MS, settle_ms=0)  # a partial first day counts
    [0, 1]
    """
    first = start_ms // DAY_MS
    last = min((end_ms - 1) // DAY_MS, (now_ms - settle_ms) // DAY_MS - 1)
    return list(range(first, last + 1))


def day_label(day: int) -> str:
    """``YYYY-MM-DD`` of a day number.

    Examples
    --------
    >>> day_label(20_454)
    '2026-01-01'
    """
    return (_dt.date(1970, 1, 1) + _dt.timedelta(days=day)).isoformat()


def _label_day(label: str) -> int:
    return (_dt.date.fromisoformat(label) - _dt.date(1970, 1, 1)).days


def _now_ms() -> int:
    return int(pd.Timestamp.now(tz="UTC").value // 1_000_000)


# -- files ------------------------------------------------------------------------------------

def _mkdirs(path: Path, root: Path) -> None:
    """Create ``path`` and its missing parents below ``root``, each private to the user."""
    missing = []
    for parent in [path, *path.parents]:
        if parent.exists() or parent == root.parent:
            break
        missing.append(parent)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=_DIR_MODE)
        except FileExistsError:  # another process made it first
            continue
        folder.chmod(_DIR_MODE)  # mkdir's mode is filtered by the umask


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all (a temporary file, then a rename), mode 0600."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)  # mkstemp: mode 0600
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _tree_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _host_slug(base_url: str) -> str:
    """A folder name for an API: its host, readable, and a digest of the whole base URL."""
    parts = urlsplit(base_url)
    digest = hashlib.sha256(base_url.encode()).hexdigest()[:8]
    return f"{_SLUG.sub('_', parts.netloc.lower()) or 'host'}-{digest}"


def _event_slug(name: str, query: dict) -> str:
    return hashlib.sha256(json.dumps([name, query], sort_keys=True).encode()).hexdigest()[:32]


# -- the cache --------------------------------------------------------------------------------

class Cache:
    """A folder of settled days of events.

    Parameters
    ----------
    path : str or path-like, optional
        The folder; by default ``$STATSIG_PANDAS_CACHE_DIR``, else the user
        cache folder of the platform (``~/.cache/statsig-pandas`` on Linux).
        Created, private to the user, when first written.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     cache = Cache(folder)
    ...     cache.info()["days"], cache.clear()["days_removed"]
    (0, 0)
    """

    def __init__(self, path: str | os.PathLike | None = None):
        if path is None:
            path = os.environ.get(CACHE_DIR_ENV) or _user_cache_dir()
        try:
            self.path = Path(path).expanduser()
        except TypeError:
            raise StatsigError(f"cache must be True, a folder or a Cache, not {type(path).__name__}") from None
        if self.path.exists() and not self.path.is_dir():
            raise StatsigError(f"the cache folder {str(self.path)!r} is a file")

    @classmethod
    def resolve(cls, cache: Any) -> Cache | None:
        """The cache a ``cache=`` argument names: None or False for none, True for the default folder,
        a path for that folder, or a :class:`Cache`."""
        if cache is None or cache is False:
            return None
        if cache is True:
            return cls()
        if isinstance(cache, Cache):
            return cache
        if isinstance(cache, (str, os.PathLike)):
            return cls(cache)
        raise StatsigError(f"cache must be True, a folder or a Cache, not {type(cache).__name__}")

    def __repr__(self) -> str:
        return f"<Cache {str(self.path)!r}>"

    def __eq__(self, other) -> bool:
        return isinstance(other, Cache) and other.path == self.path

    __hash__ = None  # a folder's contents change; compare by path only

    @property
    def _data(self) -> Path:
        return self.path / f"v{FORMAT}"

    def salt(self) -> bytes:
        """The cache's random salt (created on first use): API keys are known here only as HMACs under it."""
        path = self.path / _SALT
        try:
            return path.read_bytes()
        except FileNotFoundError:
            pass
        _mkdirs(self.path, self.path)
        fd, tmp = tempfile.mkstemp(dir=self.path, prefix=".tmp-salt-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(secrets.token_bytes(_SALT_BYTES))
            try:
                os.link(tmp, path)  # fails if another process made the salt first: then use theirs
            except FileExistsError:
                pass
        finally:
            os.unlink(tmp)
        return path.read_bytes()

    def scope(self, base_url: str, key_fingerprint: str) -> CacheScope:
        """The part of the cache for one API host and one key (known by its fingerprint under :meth:`salt`)."""
        if not re.fullmatch(r"[0-9a-f]{16,128}", key_fingerprint or ""):
            raise StatsigError("a cache scope needs the key's hexadecimal fingerprint, never the key")
        return CacheScope(self, self._data / _host_slug(base_url) / key_fingerprint)

    # -- what it holds ----------------------------------------------------------------------
    def _manifests(self) -> Iterator[tuple[Path, dict | None]]:
        if not self._data.is_dir():
            return
        for path in sorted(self._data.glob("*/*/*/*.json")):
            if _MANIFEST.match(path.name):
                yield path, _read_manifest(path)

    def info(self) -> dict:
        """What the cache holds.

        Returns
        -------
        dict
            ``path`` (the folder), ``bytes`` (its size on disk), ``days`` (days
            stored, all events together) and ``events``: a DataFrame with one
            row per API host and event name (``host``, ``event``, ``days``,
            ``first_day``, ``last_day``, ``rows``, ``bytes``).
        """
        rows = []
        for path, manifest in self._manifests():
            if manifest is None:
                continue
            rows.append({"host": manifest.get("host", path.parents[2].name), "event": manifest["event"],
                         "day": manifest["day"], "rows": manifest["rows"], "bytes": manifest["bytes"]})
        columns = ["host", "event", "days", "first_day", "last_day", "rows", "bytes"]
        if rows:
            events = (pd.DataFrame(rows).groupby(["host", "event"], sort=True)
                      .agg(days=("day", "size"), first_day=("day", "min"), last_day=("day", "max"),
                           rows=("rows", "sum"), bytes=("bytes", "sum")).reset_index())
        else:
            events = pd.DataFrame({c: pd.Series([], dtype=object if c in ("host", "event", "first_day", "last_day")
                                                else "int64") for c in columns})
        return {"path": str(self.path), "bytes": _tree_bytes(self.path) if self.path.is_dir() else 0,
                "days": len(rows), "events": events[columns]}

    def clear(self, *, older_than: Any = None, event: str | None = None) -> dict:
        """Remove cached days: all of them, or those matching every filter given.

        Parameters
        ----------
        older_than : str or Timedelta, optional
            Only days that ended more than this long ago, e.g. ``"30d"``.
        event : str, optional
            Only the days of this event name.

        Returns
        -------
        dict
            ``{"days_removed", "bytes_freed"}``.
        """
        if event is not None and (not isinstance(event, str) or not event):
            raise StatsigError(f"event must be an event name, not {event!r}")
        cutoff = None
        if older_than is not None:
            # Days that end at or before this day's start ended more than older_than ago.
            cutoff = (_now_ms() - duration_ms(older_than, "older_than")) // DAY_MS
        before = _tree_bytes(self._data) if self._data.is_dir() else 0
        removed = 0
        if cutoff is None and event is None:
            removed = sum(1 for _ in self._manifests())
            shutil.rmtree(self._data, ignore_errors=True)
            return {"days_removed": removed, "bytes_freed": before}
        for path, manifest in self._manifests():
            if manifest is None:
                continue
            if event is not None and manifest["event"] != event:
                continue
            if cutoff is not None and _label_day(manifest["day"]) + 1 > cutoff:
                continue
            _remove_day(path, manifest)
            removed += 1
        for folder in sorted(self._data.glob("*/*/*"), reverse=True) + sorted(self._data.glob("*/*"), reverse=True):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        after = _tree_bytes(self._data) if self._data.is_dir() else 0
        return {"days_removed": removed, "bytes_freed": before - after}


def _user_cache_dir() -> str:
    import platformdirs

    return platformdirs.user_cache_dir("statsig-pandas", appauthor=False)


def _read_manifest(path: Path) -> dict | None:
    """A day's manifest, or None when it is unreadable or not one of ours."""
    try:
        manifest = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    needed = {"format": int, "event": str, "day": str, "rows": int, "bytes": int, "sha256": str, "file": str}
    if not isinstance(manifest, dict) or any(not isinstance(manifest.get(k), t) for k, t in needed.items()):
        return None
    if manifest["format"] != FORMAT or "/" in manifest["file"] or manifest["file"].startswith("."):
        return None
    return manifest


def _remove_day(path: Path, manifest: dict | None) -> None:
    path.unlink(missing_ok=True)
    if manifest is not None:
        (path.parent / manifest["file"]).unlink(missing_ok=True)


def _day_problem(manifest: dict | None, name: str, day: int) -> str | None:
    if manifest is None:
        return "its manifest is unreadable"
    if manifest["event"] != name or manifest["day"] != day_label(day):
        return "its manifest describes another day"
    return None


def _checked_table(data: bytes, manifest: dict) -> tuple[pa.Table | None, str | None]:
    """The table in a day's file, if the file is the one its manifest describes."""
    if len(data) != manifest["bytes"]:
        return None, f"its file holds {len(data)} bytes, not {manifest['bytes']}"
    if hashlib.sha256(data).hexdigest() != manifest["sha256"]:
        return None, "its file does not match its checksum"
    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as exc:
        return None, f"its file cannot be read ({type(exc).__name__})"
    if table.num_rows != manifest["rows"]:
        return None, f"its file holds {table.num_rows} rows, not {manifest['rows']}"
    return table, None


@dataclass(frozen=True)
class CacheScope:
    """The days one API host and one key can see; every other host and key sees other folders.

    Entries are keyed by event name, query (the parameters that select the
    events) and UTC day; each holds an Arrow table.
    """

    cache: Cache
    path: Path

    def _folder(self, name: str, query: dict) -> Path:
        return self.path / _event_slug(name, query)

    def load(self, name: str, query: dict, day: int) -> pa.Table | None:
        """The day's table, or None if it is not cached.

        A day whose files are damaged (missing, truncated, not matching the
        manifest) is reported with a :class:`StatsigWarning` and removed, and
        None is returned: the caller reads it again.
        """
        table, problem = self.load_checked(name, query, day)
        if problem is not None:
            self.report(name, day, problem)
        return table

    def load_checked(self, name: str, query: dict, day: int) -> tuple[pa.Table | None, str | None]:
        """The day's table (None if it is not cached or damaged) and what damage was found (None if none).

        A damaged day is removed; the caller says so (:meth:`report`), from
        the thread the user called in.
        """
        manifest_path = self._folder(name, query) / f"{day_label(day)}.json"
        if not manifest_path.exists():
            return None, None
        manifest = _read_manifest(manifest_path)
        table, problem = None, _day_problem(manifest, name, day)
        if problem is None:
            try:
                data = (manifest_path.parent / manifest["file"]).read_bytes()
            except FileNotFoundError:
                data, problem = None, "its file is missing"
            if data is not None:
                table, problem = _checked_table(data, manifest)
        if problem is not None:
            _remove_day(manifest_path, manifest)
        return table, problem

    def report(self, name: str, day: int, problem: str) -> None:
        """Warn that a cached day was damaged (and so is read again)."""
        warnings.warn(f"the cached day {day_label(day)} of {name!r} in {str(self.cache.path)!r} is damaged "
                      f"({problem}); reading it again from the API", StatsigWarning, stacklevel=find_stack_level())

    def save(self, name: str, query: dict, day: int, table: pa.Table) -> None:
        """Store the day's table (replacing what was there), atomically."""
        folder = self._folder(name, query)
        _mkdirs(folder, self.cache.path)
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression="zstd")
        data = sink.getvalue().to_pybytes()
        digest = hashlib.sha256(data).hexdigest()
        label = day_label(day)
        file = folder / f"{label}.{digest[:16]}.parquet"
        if not file.exists():  # the same day written by two processes is the same file
            _write_atomically(file, data)
        manifest_path = folder / f"{label}.json"
        previous = _read_manifest(manifest_path) if manifest_path.exists() else None
        manifest = {"format": FORMAT, "event": name, "query": query, "day": label, "rows": table.num_rows,
                    "bytes": len(data), "sha256": digest, "file": file.name, "host": self.path.parent.name,
                    "written_at": pd.Timestamp.now(tz="UTC").isoformat()}
        _write_atomically(manifest_path, json.dumps(manifest, indent=1, sort_keys=True).encode())
        if previous is not None and previous["file"] != file.name:
            (folder / previous["file"]).unlink(missing_ok=True)

    def has(self, name: str, query: dict, day: int) -> bool:
        """Whether the day is cached (not checked: :meth:`load` checks)."""
        return (self._folder(name, query) / f"{day_label(day)}.json").exists()

    def days(self, name: str, query: dict) -> list[int]:
        """The days cached for this event and query, oldest first (not checked: :meth:`load` checks)."""
        folder = self._folder(name, query)
        if not folder.is_dir():
            return []
        return sorted(_label_day(m.group(1)) for p in folder.iterdir() if (m := _MANIFEST.match(p.name)))


def cache_info(cache: Any = True) -> dict:
    """What a cache holds: see :meth:`Cache.info`.

    Examples
    --------
    >>> import tempfile
    >>> from statsig_pandas import cache_info
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     cache_info(folder)["days"]
    0
    """
    return _resolved(cache).info()


def clear_cache(cache: Any = True, *, older_than: Any = None, event: str | None = None) -> dict:
    """Remove cached days: see :meth:`Cache.clear`.

    Examples
    --------
    >>> import tempfile
    >>> from statsig_pandas import clear_cache
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     clear_cache(folder, older_than="30d", event="purchase")
    {'days_removed': 0, 'bytes_freed': 0}
    """
    return _resolved(cache).clear(older_than=older_than, event=event)


def _resolved(cache: Any) -> Cache:
    resolved = Cache.resolve(cache)
    if resolved is None:
        raise StatsigError("no cache named: pass True (the default folder), a folder or a Cache")
    return resolved


# -- a day of the reader's frame as a table, and back ---------------------------------------------

_encode = msgspec.json.Encoder().encode
_CODED = pa.dictionary(pa.int32(), pa.large_string())
#: The columns of a cached day.
DAY_SCHEMA = pa.schema([("timestamp", pa.timestamp("ms", tz="UTC")), ("name", _CODED), ("source", _CODED),
                        ("value", pa.large_string()), ("userID", pa.large_string()),
                        ("metadata", pa.dictionary(pa.int32(), pa.binary()))])


def frame_table(frame: pd.DataFrame) -> pa.Table | None:
    """A frame of the reader's schema as the table a cached day holds; None if its metadata is not JSON.

    ``metadata`` becomes JSON text, encoded once per distinct dict (rows share
    them), null where empty; ``name`` and ``source`` stay dictionary-encoded.
    """
    meta = frame["metadata"].to_numpy()
    codes, uniques = pd.factorize(np.fromiter(map(id, meta), dtype=np.int64, count=len(meta)))
    first = np.empty(len(uniques), dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)  # the first row of each distinct dict
    empty = np.fromiter((not meta[i] for i in first), dtype=bool, count=len(first))
    try:
        texts = pa.array([_encode(meta[i]) for i in first[~empty]], pa.binary())
    except (TypeError, msgspec.EncodeError):  # a caller's own objects: such a day is not cached
        return None
    position = np.cumsum(~empty) - 1  # each distinct dict's entry; null for the empty ones
    indices = position[codes]
    empty_rows = empty[codes]
    metadata = pa.DictionaryArray.from_arrays(pa.array(indices, pa.int32(), mask=empty_rows), texts)
    columns = {c: pa.array(frame[c].array) for c in SCHEMA if c != "metadata"}
    return pa.table({**columns, "metadata": metadata}).cast(DAY_SCHEMA)


def table_frame(tables: list[pa.Table]) -> pd.DataFrame:
    """The reader's frame of cached days' tables, in the order given."""
    if not tables or not sum(t.num_rows for t in tables):
        return empty_frame()
    # Parquet gives dictionaries back as string: the same type for all, cast the (small) dictionaries only.
    table = pa.concat_tables([t.cast(DAY_SCHEMA) for t in tables]).unify_dictionaries()
    columns = {"timestamp": table["timestamp"].to_pandas()}
    for name in ("name", "source"):
        chunks = table[name].chunks
        codes = np.concatenate([(pc.fill_null(c.indices, -1) if c.null_count else c.indices).to_numpy()
                                for c in chunks])
        categories = pd.Index(pd.array(chunks[0].dictionary, dtype=STRING_DTYPE))
        columns[name] = pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(categories))
    for name in ("value", "userID"):
        columns[name] = pd.array(table[name], dtype=STRING_DTYPE)
    columns["metadata"] = metadata_column(table["metadata"].combine_chunks())
    return pd.DataFrame(columns, copy=False)
