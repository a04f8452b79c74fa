"""Retention: of the units that did a start event in a period, the share that came back later.

Each unit's return periods are kept as bits (one word per 64 periods), so a
cohort's offsets 1..n are read with one shift of a word rather than one
lookup per offset; counting a bit across a cohort period's members gives a
cell of the triangle.

>>> import pandas as pd
>>> from statsig_pandas.retention import retention
>>> df = pd.DataFrame({
...     "timestamp": pd.to_datetime(["2026-03-02 10:00", "2026-03-03 09:00", "2026-03-02 11:00",
...                                  "2026-03-05 08:00"], utc=True),
...     "name": "view", "source": "js", "value": "", "userID": ["1", "1", "2", "2"]})
>>> retention(df, periods=3, values="units")
                           units    0    1    2
cohort
2026-03-02 00:00:00+00:00      2  2.0  1.0  0.0
2026-03-03 00:00:00+00:00      1  1.0  0.0  NaN
2026-03-04 00:00:00+00:00      0  0.0  NaN  NaN
2026-03-05 00:00:00+00:00      1  1.0  NaN  NaN
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import _kernels, _options, _steps, _timebuckets
from .errors import StatsigError

__all__ = ["retention", "retention_curve", "mean_curve", "shares", "COHORTS", "MODES", "MAX_PERIODS"]

COHORTS = ("recurring", "first_time")
MODES = ("calendar", "rolling")
#: Offsets a triangle can have: a unit's offsets are read from one 64-bit word.
MAX_PERIODS = 64
# Rolling periods of the calendar frequencies (Amplitude's and Mixpanel's conventions).
_ROLLING_DAYS = {"W": 7, "M": 30}
# Above this many bytes, a unit's return bits are kept only for the words that have some.
_DENSE_BYTES = 1 << 28
_ONE = np.uint64(1)
_ZERO = np.uint64(0)
# Events (or cohort members) handled at a time: temporaries stay a few MB whatever the frame.
_BLOCK = 1 << 20


@dataclass
class Triangle:
    index: pd.DatetimeIndex
    sizes: np.ndarray  # (cohorts,) units per cohort
    counts: np.ndarray  # (cohorts, periods) retained units; column 0 is the size
    complete: np.ndarray  # (cohorts, periods) bool
    rows_without_unit: int


class _Bits:
    """Per unit, one bit per period (cell), in 64-bit words: word ``unit * width + period // 64``.

    Built a block of events at a time, so that no temporary is as long as the stream.
    """

    def __init__(self, units: np.ndarray, cells: np.ndarray, n_units: int, n_cells: int):
        self.width = n_cells // 64 + 2  # one spare word: a 64-bit read may run past the last cell
        self.dense = n_units * self.width * 8 <= _DENSE_BYTES
        parts = []
        words = np.zeros(n_units * self.width if self.dense else 0, dtype=np.uint64)
        for lo in range(0, len(units), _BLOCK):
            u, c = units[lo: lo + _BLOCK], cells[lo: lo + _BLOCK]
            ids = u.astype(np.int64)
            ids *= self.width
            ids += c >> 6
            runs = np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1])))
            values = np.bitwise_or.reduceat(np.left_shift(_ONE, (c & 63).astype(np.uint64)), runs)
            if self.dense:
                words[ids[runs]] |= values  # ids are distinct within a block; blocks meet in order
            else:
                parts.append((ids[runs], values))
        if self.dense:
            self.words = words
        else:  # the events are sorted by unit and cell: so are the ids, and a block's first may be the last's
            ids = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
            values = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.uint64)
            self.ids, first = np.unique(ids, return_index=True)
            self.words = np.bitwise_or.reduceat(values, first) if len(first) else values
        self._ranks = None

    def word(self, ids: np.ndarray) -> np.ndarray:
        if self.dense:
            return self.words[ids]
        at = np.searchsorted(self.ids, ids)
        safe = np.minimum(at, max(len(self.ids) - 1, 0))
        found = (at < len(self.ids)) & (self.ids[safe] == ids) if len(self.ids) else np.zeros(len(ids), bool)
        return np.where(found, self.words[safe], np.uint64(0))

    def read(self, units: np.ndarray, first: np.ndarray) -> np.ndarray:
        """Bits ``first .. first + 63`` of each unit's row, bit 0 = cell ``first``."""
        base = units.astype(np.int64) * self.width + (first >> 6)
        shift = (first & 63).astype(np.uint64)
        low = self.word(base) >> shift
        high = self.word(base + 1)
        # x << 64 is undefined: where the read is word-aligned the high word adds nothing.
        high = np.where(shift == 0, np.uint64(0), high << ((np.uint64(64) - shift) % np.uint64(64)))
        return low | high

    def build_ranks(self) -> None:
        """The running count of set bits :meth:`rank` reads, built once (before threads share it)."""
        if self._ranks is None:
            self._ranks = np.concatenate(([0], np.cumsum(_popcount(self.words), dtype=np.int64)))

    def rank(self, rows: np.ndarray, cells: np.ndarray) -> np.ndarray:
        """How many set bits come before bit ``cells`` of each row (``unit * width``: a caller that
        ranks the same units again keeps them), over the whole table: the index of that (unit, cell)
        among all of them, in (unit, cell) order."""
        self.build_ranks()
        ids = rows + (cells >> 6)
        at = ids if self.dense else np.searchsorted(self.ids, ids)
        below = self.word(ids) & ((_ONE << (cells & 63).astype(np.uint64)) - _ONE)
        return self._ranks[at] + _popcount(below)


def _popcount(x: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):  # NumPy 2
        return np.bitwise_count(x).astype(np.int64)
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return ((x * np.uint64(0x0101010101010101)) >> np.uint64(56)).astype(np.int64)


def _lowest_bit(low: np.ndarray) -> np.ndarray:
    """Position of the bit of each word that has one bit set (0 for 0)."""
    if hasattr(np, "bitwise_count"):  # NumPy 2: the ones below it, one instruction
        return np.bitwise_count(low - _ONE) & np.uint8(63)
    return (np.frexp(low.astype(np.float64))[1] - 1).clip(min=0)


def _options_of(start_event, return_event, *, period, periods, cohorts, mode, cumulative, unit):
    start = _steps.as_step(start_event, "start_event")
    back = start if return_event is None else _steps.as_step(return_event, "return_event")
    freq = _timebuckets.parse_freq(period)
    periods = _options.positive_int(periods, "periods", allow_none=False)
    if periods > MAX_PERIODS:
        raise StatsigError(f"periods must be at most {MAX_PERIODS}, not {periods}")
    if cohorts not in COHORTS:
        raise StatsigError(f"cohorts must be one of {', '.join(map(repr, COHORTS))}, not {cohorts!r}")
    if mode not in MODES:
        raise StatsigError(f"mode must be one of {', '.join(map(repr, MODES))}, not {mode!r}")
    if not isinstance(cumulative, (bool, np.bool_)):
        raise StatsigError(f"cumulative must be True or False, not {cumulative!r}")
    if not isinstance(unit, str):
        raise StatsigError(f"unit must be a column name or 'metadata.<key>', not {unit!r}")
    rolling_ns = None
    if mode == "rolling":
        if freq.fixed:
            rolling_ns = freq.nominal_ns
        elif freq.period is not None and freq.period[0] in _ROLLING_DAYS:
            rolling_ns = _ROLLING_DAYS[freq.period[0]] * _timebuckets.DAY_NS
        else:
            raise StatsigError(f"rolling retention takes a length of time, weeks or months, not period={period!r}")
    return start, back, freq, periods, rolling_ns


def _triangle(df, start_event, return_event, *, period, periods, cohorts, mode, cumulative, tz, unit) -> Triangle:
    start, back, freq, periods, rolling_ns = _options_of(
        start_event, return_event, period=period, periods=periods, cohorts=cohorts, mode=mode,
        cumulative=cumulative, unit=unit)
    stream = _steps.event_stream(df, [start, back], unit=unit, what="event", keep_rows=False)
    times = stream.times
    zone = _timebuckets.zone(tz, times)
    is_start = stream.match[:, 0]
    if not is_start.any():
        index = pd.DatetimeIndex([], dtype=pd.DatetimeTZDtype(times.unit, zone), name="cohort")
        empty = np.zeros((0, periods), dtype=np.int64)
        return Triangle(index, np.zeros(0, np.int64), empty, empty.astype(bool), stream.rows_without_unit)
    # Start or return "any event" is every event: then no index arrays the length of the stream.
    starts = None if is_start.all() else np.flatnonzero(is_start)
    time, unit = stream.time, stream.unit
    last = _steps.last_event(df)
    # Periods up to the frame's last event: a return period after it is incomplete, not empty.
    first_start = int(time.min()) if starts is None else int(time[starts].min())
    bounds = _timebuckets.boundaries(first_start, last, freq=freq, tz=zone, times=times)
    bucket = _timebuckets.narrow_bucket_codes(time, bounds.asi8, block=_BLOCK)
    s_unit, s_bucket = (unit, bucket) if starts is None else (unit[starts], bucket[starts])
    # Cohort members: the first start event of each unit in each period (or of each unit at all).
    first = np.ones(len(s_unit), dtype=bool)
    np.not_equal(s_unit[1:], s_unit[:-1], out=first[1:])
    if cohorts == "recurring":
        first[1:] |= s_bucket[1:] != s_bucket[:-1]
    local = np.flatnonzero(first).astype(np.int32 if len(time) < 1 << 31 else np.int64)
    members = local if starts is None else starts[local].astype(local.dtype)
    n_cohorts = int(s_bucket.max()) + 1  # every period from the first start event's to the last's
    cohort = s_bucket[local].astype(np.int16 if n_cohorts < 1 << 15 else np.int32)
    del first, local, s_unit, s_bucket
    back = stream.match[:, 1] & (bucket >= 0)
    returns = None if back.all() else np.flatnonzero(back)
    del back
    if mode == "calendar":
        r_unit, r_cell = (unit, bucket) if returns is None else (unit[returns], bucket[returns])
        bits = _Bits(r_unit, r_cell, len(stream.units), len(bounds) + MAX_PERIODS)
        del r_unit, r_cell, bucket

        def retained(lo: int, hi: int) -> np.ndarray:
            return bits.read(unit[members[lo:hi]], cohort[lo:hi].astype(np.int64))
    else:
        del bucket
        retained = _rolling(stream, returns, members, rolling_ns // times.ns, periods)
    keep = (_ONE << np.uint64(periods)) - _ONE if periods < 64 else ~np.uint64(0)
    keep &= ~_ONE  # offset 0 is the cohort itself, whatever came back in its period

    sizes = np.bincount(cohort, minlength=n_cohorts).astype(np.int64)
    # Blocks of members are independent: counted on every core, in blocks as much smaller as there
    # are workers, so that the temporaries in flight stay those of one block.
    block = max(1, _BLOCK // _kernels.workers(len(members)))

    def block_counts(lo: int) -> np.ndarray:
        got = retained(lo, lo + block) & keep
        c = cohort[lo: lo + block]
        if cumulative:  # retained at k when retained at any offset >= k: count by the highest offset
            highest = np.bincount(c.astype(np.int64) * periods + _highest_bit(got), minlength=n_cohorts * periods)
            return np.cumsum(highest.reshape(n_cohorts, periods)[:, ::-1], axis=1)[:, ::-1]
        return _bit_counts(got, c, n_cohorts, periods)

    counts = np.zeros((n_cohorts, periods), dtype=np.int64)
    for part in _kernels.parallel(block_counts, list(range(0, len(members), block)), work=len(members)):
        counts += part
    counts[:, 0] = sizes

    ends = _steps.period_ends(bounds, freq).asi8
    offsets = np.arange(periods)
    if mode == "calendar":
        cell = np.arange(n_cohorts)[:, None] + offsets
        end = np.where(cell < len(bounds), ends[np.minimum(cell, len(bounds) - 1)], np.iinfo(np.int64).max)
        complete = end - 1 <= last
    else:
        step = rolling_ns // times.ns
        # The cohort's latest member starts just before its period ends; its window k ends (k + 1) steps on.
        complete = ends[:n_cohorts, None] - 1 + (offsets + 1) * step - 1 <= last
    complete[:, 0] = True
    return Triangle(_timebuckets.regular(bounds[:n_cohorts], freq).rename("cohort"), sizes, counts, complete,
                    stream.rows_without_unit)


_BYTE_BITS = ((np.arange(256)[:, None] >> np.arange(8)) & 1).astype(np.int64)  # row b: the bits of byte b


def _bit_counts(words: np.ndarray, groups: np.ndarray, n_groups: int, n_bits: int) -> np.ndarray:
    """``out[g, k]``: how many of the words in group ``g`` have bit ``k`` set.

    One histogram of byte values per group and byte of the words, turned into bit counts by a small
    matrix product: two passes over the words for 14 bits, where a pass per bit would take 14.
    """
    out = np.zeros((n_groups, n_bits), dtype=np.int64)
    base = groups.astype(np.int64) << 8
    for low in range(0, n_bits, 8):
        byte = ((words >> np.uint64(low)) & np.uint64(0xFF)).astype(np.int64)
        byte += base
        hist = np.bincount(byte, minlength=n_groups << 8).reshape(n_groups, 256)
        width = min(8, n_bits - low)
        out[:, low: low + width] = hist @ _BYTE_BITS[:, :width]
    return out


def _highest_bit(x: np.ndarray) -> np.ndarray:
    """Position of the highest set bit of each word (0 for 0)."""
    top = np.minimum(np.frexp(x.astype(np.float64))[1] - 1, 63).clip(min=0)
    # float64 may round a wide word up to the next power of two: one too high then.
    top -= (x >> top.astype(np.uint64)) == 0
    return top.clip(min=0).astype(np.int64)


def _rolling(stream, returns, members, step: int, periods: int):
    """A function giving, for members ``lo:hi``, the offsets (as bits) at which each has a return in
    ``[t0 + k * step, t0 + (k + 1) * step)``.

    Time is cut into cells of ``step`` from an origin; a window of offset k then covers the end of
    cell ``g0 + k`` (from the phase of t0 on) and the start of cell ``g0 + k + 1`` (before it). Per
    unit and cell, the earliest and latest phase of its returns decide both parts.
    """
    time = stream.time
    origin = int(time.min())
    r_time = time if returns is None else time[returns]
    r_unit = stream.unit if returns is None else stream.unit[returns]
    r_cell = np.empty(len(r_time), dtype=np.int32)
    for lo in range(0, len(r_time), _BLOCK):
        r_cell[lo: lo + _BLOCK] = (r_time[lo: lo + _BLOCK] - origin) // step
    n_cells = int(r_cell.max()) + 2 + MAX_PERIODS if len(r_cell) else MAX_PERIODS
    bits = _Bits(r_unit, r_cell, len(stream.units), n_cells)
    # Earliest and latest phase per (unit, cell), in (unit, cell) order: the order of the set bits.
    phase_type = np.int32 if step < 1 << 31 else np.int64
    lo_phase, hi_phase = [], []
    edges = _block_edges(r_unit, r_cell)
    for lo, hi in itertools.pairwise(edges):
        u, c = r_unit[lo:hi], r_cell[lo:hi]
        p = ((r_time[lo:hi] - origin) % step).astype(phase_type)
        runs = np.flatnonzero(np.concatenate(([True], (u[1:] != u[:-1]) | (c[1:] != c[:-1]))))
        lo_phase.append(np.minimum.reduceat(p, runs))
        hi_phase.append(np.maximum.reduceat(p, runs))
    del r_cell, r_unit
    lo_phase = np.concatenate(lo_phase) if lo_phase else np.zeros(0, phase_type)
    hi_phase = np.concatenate(hi_phase) if hi_phase else np.zeros(0, phase_type)
    bits.build_ranks()  # now, not in each worker thread at once

    def retained(lo: int, hi: int) -> np.ndarray:
        t0 = time[members[lo:hi]]
        unit = stream.unit[members[lo:hi]]
        g0 = ((t0 - origin) // step).astype(np.int32)
        p0 = ((t0 - origin) % step).astype(phase_type)
        candidates = bits.read(unit, g0 + 1)  # bit j - 1: a return in cell g0 + j
        if periods < 64:
            candidates &= (_ONE << np.uint64(periods)) - _ONE
        out = np.zeros(len(t0), dtype=np.uint64)
        # Follow each member's candidate cells, lowest first. The arrays shrink as members run out of
        # cells, when a quarter has: until then a finished member's results are masked out.
        active = np.flatnonzero(candidates)
        y, p0 = candidates[active], p0[active]
        row = unit[active].astype(np.int64) * bits.width
        cell0 = g0[active].astype(np.int64) + 1  # the cell of bit 0 of y
        found = np.zeros(len(active), dtype=np.uint64)
        last = max(len(lo_phase) - 1, 0)
        while len(active):
            low = y & (~y + _ONE)  # a finished member's is 0: it adds no bit below
            y ^= low
            at = np.minimum(bits.rank(row, cell0 + _lowest_bit(low)), last)
            # Bit b of y is cell g0 + b + 1: a return there at or after t0's phase is offset b + 1,
            # one before it offset b (bit 0, offset 0, is dropped by the caller).
            found |= np.where(hi_phase[at] >= p0, low << _ONE, _ZERO)
            found |= np.where(lo_phase[at] < p0, low, _ZERO)
            more = np.flatnonzero(y)
            if len(more) < 0.75 * len(y):
                done = np.flatnonzero(y == 0)
                out[active[done]] = found[done]
                active, y, row, cell0, p0, found = (a.take(more) for a in (active, y, row, cell0, p0, found))
        return out

    return retained


def _block_edges(units: np.ndarray, cells: np.ndarray) -> list[int]:
    """Edges of blocks of about ``_BLOCK`` events, each at the start of a (unit, cell) run, so that no
    run is cut in two."""
    n = len(units)
    edges, b = [0], _BLOCK
    while b < n:
        j = b
        while j < n:  # the first change of run at or after b; runs are short, so this ends soon
            stop = min(j + 4096, n)
            changed = np.flatnonzero((units[j:stop] != units[j - 1: stop - 1])
                                     | (cells[j:stop] != cells[j - 1: stop - 1]))
            if len(changed):
                j += int(changed[0])
                break
            j = stop
        if j >= n:
            break
        edges.append(j)
        b = j + _BLOCK
    edges.append(n)
    return edges


def retention(
    df: pd.DataFrame,
    start_event: Any = None,
    return_event: Any = None,
    *,
    period: Any = "D",
    periods: int = 8,
    cohorts: str = "recurring",
    mode: str = "calendar",
    cumulative: bool = False,
    values: str = "rate",
    tz: Any = None,
    unit: str = "userID",
) -> pd.DataFrame:
    """The retention triangle: per cohort period, the share of its units that came back k periods on.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame of events.
    start_event : name, list of names or Step, optional
        What puts a unit in a cohort; None: any event.
    return_event : name, list of names or Step, optional
        What counts as coming back; None: the start event.
    period : str or DateOffset, default "D"
        Cohort and return period: a length of time (``"h"``, ``"D"``, ``"7D"``)
        or a calendar period (``"W"``, ``"MS"``), on the wall clock of ``tz``.
    periods : int, default 8
        Offsets shown, 0 .. periods - 1 (at most 64).
    cohorts : {"recurring", "first_time"}, default "recurring"
        ``"recurring"``: a unit joins the cohort of every period in which it
        did the start event. ``"first_time"``: only that of its first start
        event in the frame.
    mode : {"calendar", "rolling"}, default "calendar"
        ``"calendar"``: retained at offset k with a return event in period
        cohort + k. ``"rolling"``: with one in ``[t0 + k*P, t0 + (k+1)*P)``,
        t0 the unit's first start event of the cohort period and P the period
        (24 h for ``"D"``, 7 days for weeks, 30 days for months).
    cumulative : bool, default False
        Retained at k when retained at any offset >= k (shown) ("on or after").
    values : {"rate", "units"}, default "rate"
        Shares of the cohort, or counts of units.
    tz : str or tzinfo, optional
        Zone of the periods; default the timestamp column's.
    unit : str, default "userID"
        What is counted: a column or ``metadata.<key>``. Events whose unit is
        missing or ``""`` are left out (``attrs["rows_without_unit"]``).

    Returns
    -------
    pandas.DataFrame
        Index ``cohort`` (period starts, tz-aware): every period from the
        first start event's to the last's. Column ``units`` (the cohort size,
        int64), then columns ``0 .. periods-1``: offset 0 is the cohort itself
        (1.0, or its size); a cell whose period ends after the frame's last
        event is NaN (incomplete: returns may not be in the frame yet), never
        a low number. Empty cohorts have NaN rates.

    Raises
    ------
    StatsigError
        For a bad event, period, option or column, before any work.

    Warns
    -----
    StatsigWarning
        Naming a start or return event that matches no event of the frame.

    Examples
    --------
    Back 2 hours later, the next calendar day but within the first 24 hours:

    >>> df = pd.DataFrame({
    ...     "timestamp": pd.to_datetime(["2026-03-02 23:00", "2026-03-03 01:00", "2026-03-09 00:00"], utc=True),
    ...     "name": ["signup", "view", "view"], "source": "js", "value": "", "userID": ["1", "1", "2"]})
    >>> retention(df, "signup", "view", periods=2).iloc[0].tolist()
    [1.0, 1.0, 1.0]
    >>> retention(df, "signup", "view", periods=2, mode="rolling").iloc[0].tolist()
    [1.0, 1.0, 0.0]
    """
    if values not in ("rate", "units"):
        raise StatsigError(f"values must be 'rate' or 'units', not {values!r}")
    tri = _triangle(df, start_event, return_event, period=period, periods=periods, cohorts=cohorts, mode=mode,
                    cumulative=cumulative, tz=tz, unit=unit)
    cells = tri.counts.astype(np.float64)
    cells[~tri.complete] = np.nan
    out = pd.DataFrame(cells, index=tri.index, columns=pd.Index(range(cells.shape[1])))
    out.insert(0, "units", tri.sizes)
    out.columns = pd.Index(["units", *range(cells.shape[1])], dtype=object)
    out.attrs["rows_without_unit"] = tri.rows_without_unit
    return shares(out) if values == "rate" else out


def shares(units: pd.DataFrame) -> pd.DataFrame:
    """A triangle of counts (``retention(..., values="units")``) as shares of each cohort (NaN for
    an empty cohort), as ``values="rate"`` returns it.

    Examples
    --------
    >>> shares(pd.DataFrame({"units": [4, 0], 0: [4.0, 0.0], 1: [1.0, 0.0]})).to_numpy().tolist()
    [[4.0, 1.0, 0.25], [0.0, nan, nan]]
    """
    sizes = units["units"].to_numpy()
    cells = units.drop(columns="units").to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        cells = np.where(sizes[:, None] > 0, cells / np.maximum(sizes, 1)[:, None], np.nan)
    out = units.copy()
    out.iloc[:, 1:] = cells
    return out


def retention_curve(
    df: pd.DataFrame,
    start_event: Any = None,
    return_event: Any = None,
    *,
    period: Any = "D",
    periods: int = 8,
    cohorts: str = "recurring",
    mode: str = "calendar",
    cumulative: bool = False,
    tz: Any = None,
    unit: str = "userID",
) -> pd.Series:
    """The mean retention by offset: retained units over cohort sizes, across the complete cells only.

    The weighted mean of the rows of :func:`retention` (Mixpanel's and
    PostHog's default): at offset k, the sum of the units retained over the
    sum of the cohort sizes, both over the cohorts whose cell k is complete.

    Parameters
    ----------
    df, start_event, return_event, period, periods, cohorts, mode, cumulative, tz, unit
        As for :func:`retention`.

    Returns
    -------
    pandas.Series
        float64 named ``retention``, indexed by ``offset`` 0 .. periods-1
        (NaN where no cohort is complete).

    Examples
    --------
    >>> df = pd.DataFrame({
    ...     "timestamp": pd.to_datetime(["2026-03-02", "2026-03-03", "2026-03-02", "2026-03-03",
    ...                                  "2026-03-04"], utc=True),
    ...     "name": "view", "source": "js", "value": "", "userID": ["1", "1", "2", "3", "3"]})
    >>> retention_curve(df, periods=3).round(3).tolist()
    [1.0, 0.5, nan]
    """
    return mean_curve(retention(df, start_event, return_event, period=period, periods=periods, cohorts=cohorts,
                                mode=mode, cumulative=cumulative, values="units", tz=tz, unit=unit))


def mean_curve(units: pd.DataFrame) -> pd.Series:
    """The weighted mean by offset of a triangle of counts (``retention(..., values="units")``): the
    units retained over the cohort sizes, both summed over the complete (non-NaN) cells.

    Examples
    --------
    >>> table = pd.DataFrame({"units": [4, 2], 0: [4.0, 2.0], 1: [1.0, float("nan")]})
    >>> mean_curve(table).tolist()
    [1.0, 0.25]
    """
    counts = units.drop(columns="units").to_numpy(dtype=np.float64)
    complete = ~np.isnan(counts)
    sizes = units["units"].to_numpy(dtype=np.float64)[:, None]
    retained = np.where(complete, counts, 0).sum(axis=0)
    total = np.where(complete, sizes, 0).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        curve = np.where(total > 0, retained / np.maximum(total, 1), np.nan)
    out = pd.Series(curve, index=pd.RangeIndex(len(curve), name="offset"), name="retention")
    out.attrs = dict(units.attrs)
    return out
