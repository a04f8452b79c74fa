"""Steps and units: what the unit-based analyses (funnels, retention, ...) share.

A *step* (or a start/return event) is an event name, a list of names (any of
them) or a :class:`Step` with filters. A call turns its steps into one boolean
match matrix ``match[row, step]``, keeps the rows of the frame that have a
unit (``userID`` by default; ``""`` and missing are no unit) and sorts them
once by (unit, timestamp, row position): the :class:`EventStream` every
analysis then walks with segment arithmetic, never a loop per unit.
Private to the package: the names here are public only to its modules.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import _kernels, _timebuckets
from .errors import FrameSchemaError, StatsigError, StatsigWarning
from .frame import STRING_DTYPE

__all__ = ["Step", "as_step", "as_steps", "EventStream", "event_stream", "unit_codes", "match_matrix",
           "warn_unmatched", "any_step", "period_ends", "last_event"]


def _strings(values: Any, what: str, *, allow_none: bool = True) -> tuple[str, ...] | None:
    """``values`` (a string or an iterable of strings) as a non-empty tuple; None stays None."""
    if values is None and allow_none:
        return None
    if isinstance(values, str):
        return (values,)
    if isinstance(values, (Step, dict)) or not isinstance(values, Iterable):
        raise StatsigError(f"{what} must be a string or a list of strings, not {values!r}")
    out = tuple(values)
    wrong = [v for v in out if not isinstance(v, str)]
    if wrong:
        raise StatsigError(f"{what} takes strings (Statsig sends every {what} as text), not {wrong[0]!r}")
    if not out:
        raise StatsigError(f"{what} is an empty list: it would match no event")
    return out


class Step:
    """A step of a funnel (or a start or return event of a retention): event names and filters.

    Parameters
    ----------
    names : str or list of str or None
        The event name, or several (an event with any of them matches).
        None matches every name (then at least one filter is usual).
    value, source : str or list of str, optional
        Keep only events whose ``value`` (``source``) is one of these;
        ``""`` matches empty values.
    metadata : dict, optional
        ``{key: value or list of values}``: every key must hold one of its
        values in the event's metadata.

    Examples
    --------
    >>> from statsig_pandas import Step
    >>> Step("purchase", value=["books", "toys"]).label
    'purchase (value=books|toys)'
    >>> Step(["add_to_cart", "purchase"], metadata={"plan": "pro"}).label
    'add_to_cart|purchase (metadata.plan=pro)'
    """

    __slots__ = ("metadata", "names", "source", "value")

    def __init__(self, names: str | Sequence[str] | None, *, value: str | Sequence[str] | None = None,
                 source: str | Sequence[str] | None = None, metadata: dict[str, Any] | None = None):
        names = _strings(names, "an event name")
        value = _strings(value, "value")
        source = _strings(source, "source")
        if metadata is not None:
            if not isinstance(metadata, dict):
                raise StatsigError(f"metadata must be a dict of key -> value(s), not {metadata!r}")
            for key in metadata:
                if not isinstance(key, str) or not key:
                    raise StatsigError(f"a metadata key must be a non-empty string, not {key!r}")
            metadata = {key: _strings(v, f"metadata[{key!r}]", allow_none=False) for key, v in metadata.items()}
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "metadata", metadata or None)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a Step cannot be changed; make a new one")

    def _key(self) -> tuple:
        return (self.names, self.value, self.source,
                None if self.metadata is None else tuple(sorted(self.metadata.items())))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Step) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    @property
    def label(self) -> str:
        """How the step is named in results and plots: its names joined by ``|``, then its filters."""
        text = "(any event)" if self.names is None else "|".join(self.names)
        filters = [f"{what}={'|'.join(values)}" for what, values in (("value", self.value), ("source", self.source))
                   if values is not None]
        filters += [f"metadata.{key}={'|'.join(values)}" for key, values in (self.metadata or {}).items()]
        return f"{text} ({', '.join(filters)})" if filters else text

    @property
    def any_event(self) -> bool:
        """True when the step matches every event (no name and no filter)."""
        return self.names is None and self.value is None and self.source is None and self.metadata is None

    def __repr__(self) -> str:
        args = [repr(self.names if self.names is None or len(self.names) > 1 else self.names[0])]
        args += [f"{what}={getattr(self, what)!r}" for what in ("value", "source", "metadata")
                 if getattr(self, what) is not None]
        return f"Step({', '.join(args)})"


def as_step(spec: Any, what: str = "step") -> Step:
    """A step spec (name, list of names, :class:`Step`; None: any event) as a :class:`Step`."""
    if isinstance(spec, Step):
        return spec
    if spec is None:
        return Step(None)
    if isinstance(spec, str) or (isinstance(spec, (list, tuple)) and all(isinstance(s, str) for s in spec)):
        return Step(spec)
    raise StatsigError(f"{what} must be an event name, a list of names or a statsig_pandas.Step, not {spec!r}")


def as_steps(specs: Any, what: str = "steps", *, at_least: int = 1) -> list[Step]:
    """A list of step specs as Steps; a lone string or Step is a list of one."""
    if isinstance(specs, (str, Step)):
        specs = [specs]
    if not isinstance(specs, (list, tuple)):
        raise StatsigError(f"{what} must be a list of event names, lists of names or Steps, not {specs!r}")
    steps = [as_step(s, f"{what}[{i}]") for i, s in enumerate(specs)]
    if len(steps) < at_least:
        raise StatsigError(f"{what} needs at least {at_least} step{'s' if at_least > 1 else ''}, got {len(steps)}")
    return steps


def _require(df: pd.DataFrame, columns: Iterable[str]) -> None:
    if not isinstance(df, pd.DataFrame):
        raise FrameSchemaError(f"expected a DataFrame of Statsig events, not {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise FrameSchemaError("not a Statsig events frame: missing column(s) " + ", ".join(map(repr, missing)))
    if "timestamp" in columns and not _timebuckets.is_datetime(df["timestamp"].dtype):
        raise FrameSchemaError(f"column 'timestamp' has dtype {df['timestamp'].dtype}, not a datetime")


def _isin(ser: pd.Series, wanted: tuple[str, ...]) -> np.ndarray:
    """``ser.isin(wanted)`` as a bool array, through the codes: each distinct value is compared once."""
    codes, labels = _kernels.factorize(ser)
    hit = np.append(np.asarray(labels.isin(list(wanted)), dtype=bool), False)  # code -1 (missing) never matches
    return hit[codes]


def match_matrix(df: pd.DataFrame, steps: Sequence[Step]) -> np.ndarray:
    """``match[row, k]``: does row ``row`` of ``df`` match step ``k``? (bool, Fortran order: each
    step's column is contiguous)."""
    match = np.empty((len(df), len(steps)), dtype=bool, order="F")
    cache: dict[tuple, np.ndarray] = {}  # steps sharing a criterion compare it once

    def criterion(column: str, wanted: tuple[str, ...]) -> np.ndarray:
        key = (column, wanted)
        if key not in cache:
            cache[key] = _isin(_kernels.frame_column(df, column), wanted)
        return cache[key]

    for k, step in enumerate(steps):
        parts = [criterion(column, wanted) for column, wanted in
                 (("name", step.names), ("value", step.value), ("source", step.source)) if wanted is not None]
        parts += [criterion(f"metadata.{key}", wanted) for key, wanted in (step.metadata or {}).items()]
        if not parts:
            match[:, k] = True
            continue
        column = parts[0].copy() if len(parts) > 1 else parts[0]
        for part in parts[1:]:
            column &= part
        match[:, k] = column
    return match


def any_step(match: np.ndarray) -> np.ndarray:
    """``match.any(axis=1)``, as an OR of whole columns (much faster than a reduction along rows)."""
    if match.shape[1] == 0:
        return np.zeros(len(match), dtype=bool)
    out = match[:, 0].copy()
    for k in range(1, match.shape[1]):
        out |= match[:, k]
    return out


def warn_unmatched(match: np.ndarray, steps: Sequence[Step], what: str = "step") -> None:
    """A StatsigWarning naming every step that matches no event (a typo must not read as 0 %)."""
    hit = match.any(axis=0) if len(match) else np.zeros(len(steps), dtype=bool)
    # A step without names or filters matches nothing only in an empty frame: no typo to point at.
    missing = [steps[k].label for k in np.flatnonzero(~hit) if not steps[k].any_event]
    missing = list(dict.fromkeys(missing))
    if missing:
        warnings.warn(f"{what} {', '.join(map(repr, missing))} match{'es' if len(missing) == 1 else ''} no event "
                      "in the frame (a misspelt name?)", StatsigWarning, stacklevel=4)


def unit_codes(df: pd.DataFrame, unit: str, rows: np.ndarray | None = None) -> tuple[np.ndarray, pd.Index, int]:
    """Codes of the unit of each row (of ``rows``; None: every row), ``-1`` where it is missing or
    ``""``; the labels they index (in the order of :func:`event_stream`'s units); and how many rows
    of the whole frame have no unit."""
    ser = _kernels.frame_column(df, unit)
    keys, label_of = _unit_keys(ser, rows)
    valid = np.flatnonzero(keys >= 0)
    _, first, inverse = np.unique(keys[valid], return_index=True, return_inverse=True)
    codes = np.full(len(keys), -1, dtype=np.int64)
    codes[valid] = inverse.reshape(-1)
    return codes, label_of(valid[first]), _without_unit(ser)


def _without_unit(ser: pd.Series) -> int:
    return int(ser.isna().sum()) + int((ser == "").sum())


def _unit_keys(ser: pd.Series, rows: np.ndarray | None = None) -> tuple[np.ndarray, Any]:
    """Integer keys of the units of ``ser`` (at ``rows``; None: all), equal where the units are,
    ``-1`` where there is none (missing or ``""``), and a function giving the labels of the units
    at given positions of those rows.

    IDs written in decimal digits (as many user IDs are) are read as numbers, a cast, where hashing
    ten million strings of a million users takes seconds; the length stays in the key, so "042"
    and "42" remain two units.
    """
    data = _kernels.arrow_view(ser)
    if data is not None and _kernels.is_text(data.type) and len(data):
        keys = _decimal_keys(data if rows is None else data.take(pa.array(rows)))
        if keys is not None:
            def label_of(at: np.ndarray) -> pd.Index:
                taken = data.take(pa.array(at if rows is None else rows[at]))
                return _kernels.as_labels(pd.array(taken, dtype=STRING_DTYPE))

            return keys, label_of
    codes, labels = _kernels.factorize(ser if rows is None else ser.iloc[rows])
    # A vectorised compare finds "": get_indexer would hash every label first.
    empty = np.flatnonzero(np.asarray(labels == "", dtype=bool)) if labels.inferred_type == "string" else []
    if len(empty):
        codes = np.where(codes == empty[0], -1, codes)
    return codes.astype(np.int64), lambda at: labels[codes[at]]


def _decimal_keys(data: pa.ChunkedArray) -> np.ndarray | None:
    """``value * 18 + length`` of IDs written in at most 17 decimal digits (-1: no ID); None when
    some ID is not such a number."""
    lengths = pc.binary_length(data)
    longest = pc.max(lengths).as_py()
    if longest is None or longest > 17:
        return None
    whole = data.null_count == 0 and pc.min(lengths).as_py() > 0
    present = None if whole else pc.fill_null(pc.greater(lengths, 0), False)
    texts = data if whole else pc.if_else(present, data, pa.scalar("0", data.type))
    if not pc.all(pc.ascii_is_decimal(texts)).as_py():
        return None
    keys = pc.cast(texts, pa.int64()).to_numpy() * 18  # a writable copy of Arrow's buffer
    keys += lengths.to_numpy() if whole else lengths.fill_null(0).to_numpy()
    if present is not None:
        keys[~present.to_numpy(zero_copy_only=False)] = -1
    return keys


@dataclass(frozen=True)
class EventStream:
    """The kept events sorted by (unit, timestamp, row position), as parallel arrays.

    ``unit`` holds codes into ``units``; ``time`` ticks of ``times.unit`` since
    the epoch (UTC); ``row`` positions in the frame (None when not asked
    for); ``match[i, k]`` whether event ``i`` matches step ``k``. ``rows_without_unit`` counts the frame's
    rows left out for want of a unit (missing or ``""``).
    """

    unit: np.ndarray
    time: np.ndarray
    row: np.ndarray | None
    match: np.ndarray
    units: pd.Index
    times: _timebuckets.Times
    rows_without_unit: int
    steps: tuple[Step, ...]

    def __len__(self) -> int:
        return len(self.time)

    @property
    def new_unit(self) -> np.ndarray:
        """True at the first event of each unit."""
        out = np.ones(len(self.unit), dtype=bool)
        np.not_equal(self.unit[1:], self.unit[:-1], out=out[1:])
        return out

    @property
    def new_tie(self) -> np.ndarray:
        """True at the first event of each tie group (same unit, same timestamp)."""
        out = self.new_unit
        out[1:] |= self.time[1:] != self.time[:-1]
        return out

    def segments(self, starts: np.ndarray) -> np.ndarray:
        """Segment number of each event, segments starting where ``starts`` is True."""
        return np.cumsum(starts) - 1

    def stamp(self, result: pd.DataFrame) -> pd.DataFrame:
        """``result`` with ``attrs["rows_without_unit"]`` set."""
        return stamp(result, self.rows_without_unit)


def stamp(result: pd.DataFrame, rows_without_unit: int) -> pd.DataFrame:
    """``result`` with ``attrs["rows_without_unit"]`` set, for a caller that let its stream go to save memory."""
    result.attrs["rows_without_unit"] = rows_without_unit
    return result


def event_stream(df: pd.DataFrame, steps: Sequence[Step], *, unit: str = "userID", keep: str = "matched",
                 what: str = "step", keep_rows: bool = True) -> EventStream:
    """Match ``steps``, warn about any that matches nothing, keep the rows with a unit and a
    timestamp (``keep="matched"``: only those matching a step; ``"all"``: every one) and sort them.
    ``keep_rows=False`` lets the events' frame positions go once times and matches are read: an analysis
    that never looks back at the frame holds one array as long as the stream less.

    Sorting packs (unit code, position in time order) into one int64 per event: the keys are
    distinct, so NumPy's fast unstable sort gives the stable (unit, time, row) order, and ranges of
    keys can be sorted on several cores at once.
    """
    if not isinstance(unit, str):
        raise StatsigError(f"unit must be a column name or 'metadata.<key>', not {unit!r}")
    if keep not in ("matched", "all"):
        raise StatsigError(f"keep must be 'matched' or 'all', not {keep!r}")
    _require(df, ["timestamp", *(["name"] if any(s.names for s in steps) else [])])
    if not unit.startswith("metadata.") and unit not in df.columns:
        _kernels.frame_column(df, unit)  # raises, naming the columns there are
    steps = tuple(steps)
    match = match_matrix(df, steps)
    warn_unmatched(match, steps, what)
    times = _timebuckets.frame_times(df)
    v = times.values
    wanted = any_step(match) if keep == "matched" else None
    if len(v) and v.min() == _timebuckets.NAT:
        wanted = (v != _timebuckets.NAT) if wanted is None else wanted & (v != _timebuckets.NAT)
    rows = None if wanted is None or wanted.all() else np.flatnonzero(wanted)
    ser = _kernels.frame_column(df, unit)
    without = _without_unit(ser)
    keys, label_of = _unit_keys(ser, rows)
    kept = np.flatnonzero(keys >= 0) if len(keys) and keys.min() < 0 else None
    if kept is not None:
        keys = keys[kept]
        rows = kept if rows is None else rows[kept]
    n = len(keys)
    # The key packs (unit key, position in (time, row) order) into one int64. Keys are distinct, so
    # NumPy's fast unstable sort yields the stable (unit, time, row) order. Frames come time-sorted
    # from the reader: then the positions are the rows' own order and no time sort is needed.
    in_time_order = len(v) < 2 or bool((v[1:] >= v[:-1]).all())
    by_time = None
    if not in_time_order:
        by_time = np.argsort(v if rows is None else v[rows], kind="stable")
    shift = max(1, int(n).bit_length())
    low = int(keys.min()) if n else 0
    if n and (int(keys.max()) - low).bit_length() + shift > 62:
        keys = np.unique(keys, return_inverse=True)[1].reshape(-1)  # too wide to pack: ranks instead
        low = 0
    key = keys - low if low else keys
    del keys
    key <<= shift
    if by_time is None:
        key |= np.arange(n, dtype=np.int64)
    else:
        key[by_time] |= np.arange(n, dtype=np.int64)
    key = _kernels.sort_distinct(key)
    order = key & ((1 << shift) - 1)
    if by_time is not None:
        order = by_time[order]
    key >>= shift
    first = np.ones(n, dtype=bool)
    np.not_equal(key[1:], key[:-1], out=first[1:])
    del key
    unit_code = np.cumsum(first, dtype=np.int32 if n < 1 << 31 else np.int64)
    unit_code -= 1  # units numbered 0.. in sorted order
    labels = label_of(order[first] if kept is None else kept[order[first]])
    index = np.int32 if len(df) < 1 << 31 else np.int64
    row = order.astype(index) if rows is None else rows[order].astype(index, copy=False)
    del order
    return EventStream(
        unit=unit_code, time=_kernels.take(v, row), match=_gather_columns(match, row), row=row if keep_rows else None,
        units=labels, times=times, rows_without_unit=without, steps=steps,
    )


def _gather_columns(match: np.ndarray, row: np.ndarray) -> np.ndarray:
    """``match[row]`` (Fortran order): the steps' bits packed into one integer per event, so that
    the scattered reads happen once, not once per step."""
    out = np.empty((len(row), match.shape[1]), dtype=bool, order="F")
    # A step that matches every kept event (or none), as "any event" does, needs no scattered read.
    varied = []
    for k in range(match.shape[1]):
        column = match[:, k]
        if column.all():
            out[:, k] = True
        elif not column.any():
            out[:, k] = False
        else:
            varied.append(k)
    if len(varied) > 64:
        for k in varied:
            np.take(match[:, k], row, out=out[:, k])
        return out
    if not varied:
        return out
    n_steps = len(varied)
    width = np.uint8 if n_steps <= 8 else np.uint16 if n_steps <= 16 else np.uint32 if n_steps <= 32 else np.uint64
    packed = np.zeros(len(match), dtype=width)
    for bit, k in enumerate(varied):
        packed |= match[:, k].view(np.uint8).astype(width) << width(bit)
    picked = packed[row]
    for bit, k in enumerate(varied):
        np.not_equal(picked & width(1 << bit), 0, out=out[:, k])
    return out


def period_ends(bounds: pd.DatetimeIndex, freq: _timebuckets.Freq) -> pd.DatetimeIndex:
    """The end (the next bucket's first instant) of each bucket of ``bounds`` (from
    :func:`_timebuckets.boundaries`): a window or a return period past it is not yet in the frame."""
    if not len(bounds):
        return bounds
    tz = bounds.tz
    wall = bounds[-1].tz_localize(None)
    nxt = wall + freq.offset if freq.fixed else (pd.Period(wall, freq=freq.period) + 1).start_time
    last = pd.DatetimeIndex([nxt]).tz_localize(tz, ambiguous=np.array([True]), nonexistent="shift_forward")
    return bounds[1:].append(last.as_unit(bounds.unit))


def last_event(df: pd.DataFrame) -> int:
    """Ticks of the frame's last event (NaT as the smallest int64 if none): where the data ends."""
    v = _timebuckets.frame_times(df).values
    # NaT is the smallest int64: the plain maximum skips it, without a copy of the times without it.
    return int(v.max()) if len(v) else _timebuckets.NAT
