"""One-line readings of analysis results, for a report's reader: what the chart above them shows.

Each function takes the frame an analysis returned (:meth:`df.statsig.funnel
<statsig_pandas.accessor.StatsigAccessor.funnel>`, ``retention``,
``lifecycle``, ``paths``) and builds a sentence from its numbers, so that a
report says "38 % of users who add_to_cart purchase within 14 days" of the
data it was rendered from, never of the data it was written against.

>>> import pandas as pd
>>> from statsig_pandas.readings import funnel_reading
>>> result = pd.DataFrame({"event": ["add_to_cart", "purchase"], "units": [200, 76],
...                        "conversion": [1.0, 0.38], "step_conversion": [1.0, 0.38], "dropped": [0, 124],
...                        "median_time": [pd.NaT, pd.Timedelta("6min")]}, index=pd.RangeIndex(1, 3, name="step"))
>>> funnel_reading(result, within="1D")
'38 % of users who add_to_cart purchase within 1 day (median 6 min after add_to_cart).'
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["funnel_reading", "retention_reading", "lifecycle_reading", "paths_reading", "percent", "duration"]

_UNITS = (("day", 86_400), ("hour", 3_600), ("minute", 60), ("second", 1))
# A path's reading follows transitions that carry at least this share of the first one's paths.
_PATH_SHARE = 0.2
_PERIODS = {"h": "hour", "D": "day", "W": "week", "M": "month", "MS": "month", "ME": "month"}


def percent(share: float) -> str:
    """A share as a reader wants it: whole percent, a decimal below 10 %, never a 0 % that is not 0.

    Parameters
    ----------
    share : float
        0 to 1; NaN reads "n/a".

    Returns
    -------
    str

    Examples
    --------
    >>> percent(0.3812), percent(0.042), percent(0.0004), percent(0.0), percent(float("nan"))
    ('38 %', '4.2 %', '< 0.1 %', '0 %', 'n/a')
    """
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "n/a"
    value = 100 * float(share)
    if value == 0 or value >= 10:
        return f"{value:.0f} %"
    return f"{value:.1f} %" if value >= 0.1 else "< 0.1 %"


def duration(delta: Any, *, short: bool = False) -> str:
    """A length of time in the largest unit it is a whole number of (``short``: rounded, abbreviated).

    Parameters
    ----------
    delta : str or Timedelta
        Anything :class:`pandas.Timedelta` reads (``"14D"``, ``"90min"``).
    short : bool, default False
        Round to one unit and abbreviate, for measured times (a median, a mean gap).

    Returns
    -------
    str

    Examples
    --------
    >>> duration("14D"), duration("36h"), duration("90min"), duration(pd.Timedelta("1D"))
    ('14 days', '36 hours', '90 minutes', '1 day')
    >>> duration(pd.Timedelta(seconds=383), short=True), duration("26h", short=True), duration("40s", short=True)
    ('6 min', '1.1 days', '40 s')
    """
    seconds = pd.Timedelta(delta).total_seconds()
    if short:
        seconds = round(seconds)
        if seconds >= 86_400:
            days = seconds / 86_400
            return f"{days:.1f} days" if days < 10 else f"{days:.0f} days"
        if seconds >= 3_600:
            return f"{seconds / 3_600:.1f} h"
        return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"
    for name, size in _UNITS:
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {name}{'s' * (count != 1)}"
    return f"{seconds:g} seconds"


def _period_name(period: Any) -> str:
    text = period if isinstance(period, str) else getattr(period, "freqstr", str(period))
    return _PERIODS.get(text) or _PERIODS.get(text.split("-")[0]) or f"{text} period"


def _count(n: Any, noun: str) -> str:
    n = int(n)
    return f"{n:,} {noun if n != 1 else noun.removesuffix('s')}"


def funnel_reading(result: pd.DataFrame, *, within: Any = "14D", noun: str = "users") -> str:
    """What a funnel shows: how many of those who did the first step did the last, and where most left.

    Parameters
    ----------
    result : pandas.DataFrame
        What :meth:`df.statsig.funnel` returns: one row per step, in order,
        with ``event``, ``units``, ``conversion`` (share of the first step),
        ``step_conversion`` (share of the step before) and ``median_time``.
    within : str or Timedelta, default "14D"
        The conversion window the funnel was computed with.
    noun : str, default "users"
        What the units are, plural.

    Returns
    -------
    str

    Examples
    --------
    >>> steps = pd.DataFrame({"event": ["page_view", "add_to_cart", "purchase"], "units": [1000, 420, 210],
    ...                       "conversion": [1.0, 0.42, 0.21], "step_conversion": [1.0, 0.42, 0.5],
    ...                       "median_time": [pd.NaT, pd.Timedelta("3min"), pd.Timedelta("4min")]},
    ...                      index=pd.RangeIndex(1, 4, name="step"))
    >>> print(funnel_reading(steps))
    21 % of users who page_view go on to purchase within 14 days; most are lost between page_view and
    add_to_cart (58 % of them leave).
    """
    if len(result) < 2:
        raise ValueError("a funnel reading needs at least two steps")
    first, last = result.iloc[0], result.iloc[-1]
    if not first["units"]:
        return f"No {noun} did {first['event']} in this data, so the funnel is empty."
    window = duration(within)
    if len(result) == 2:
        text = f"{percent(last['conversion'])} of {noun} who {first['event']} {last['event']} within {window}"
        median = last.get("median_time")
        if last["units"] and pd.notna(median):
            text += f" (median {duration(median, short=True)} after {first['event']})"
        return text + "."
    step_conversion = result["step_conversion"].iloc[1:].astype(float).to_numpy()
    worst = int(np.nanargmin(step_conversion)) + 1 if not np.isnan(step_conversion).all() else 1
    before, at = result.iloc[worst - 1], result.iloc[worst]
    return (f"{percent(last['conversion'])} of {noun} who {first['event']} go on to {last['event']} within "
            f"{window}; most are lost between {before['event']} and {at['event']} "
            f"({percent(1 - at['step_conversion'])} of them leave).")


def retention_reading(result: pd.DataFrame, *, period: Any = "D", noun: str = "users") -> str:
    """What a retention triangle shows: the share back one period later and in the last period measured.

    Shares are means over the cohorts whose cell is complete, weighted by
    cohort size (cells of periods not over yet are NaN and left out).

    Parameters
    ----------
    result : pandas.DataFrame
        What :meth:`df.statsig.retention` returns: one row per cohort, a
        ``units`` column (its size) and one column per period offset
        ``0, 1, ...`` holding shares.
    period : str, default "D"
        The retention period ("h", "D", "W", "M").
    noun : str, default "users"
        What the units are, plural.

    Returns
    -------
    str

    Examples
    --------
    >>> triangle = pd.DataFrame({"units": [100, 300], 0: [1.0, 1.0], 1: [0.5, 0.3], 2: [0.2, float("nan")]},
    ...                         index=pd.Index(["d1", "d2"], name="cohort"))
    >>> print(retention_reading(triangle))
    On average 35 % of users come back 1 day later and 20 % 2 days later (cohorts weighted by size; days not
    over yet left out).
    """
    name = _period_name(period)
    offsets = [c for c in result.columns if c != "units" and int(c) > 0]
    sizes = result["units"].astype(float)
    means = {}
    for offset in offsets:
        cells = result[offset].astype(float)
        known = cells.notna() & (sizes > 0)
        if known.any():
            means[offset] = float((cells[known] * sizes[known]).sum() / sizes[known].sum())
    if not means:
        return f"No cohort is old enough yet to show who comes back a {name} later."
    first, last = min(means), max(means)
    text = f"On average {percent(means[first])} of {noun} come back {_count(first, name + 's')} later"
    if last != first:
        text += f" and {percent(means[last])} {_count(last, name + 's')} later"
    return text + f" (cohorts weighted by size; {name}s not over yet left out)."


def lifecycle_reading(result: pd.DataFrame, *, freq: Any = "W", end: Any = None, noun: str = "users") -> str:
    """What a lifecycle chart shows, for its last complete bucket: new, returning, resurrecting, dormant.

    Parameters
    ----------
    result : pandas.DataFrame
        What :meth:`df.statsig.lifecycle` returns: one row per bucket (its
        first instant), columns ``new``, ``returning``, ``resurrecting`` and
        ``dormant`` (zero or negative).
    freq : str, default "W"
        The buckets' length, to tell a complete bucket from the one still running.
    end : Timestamp, optional
        The end of the data; buckets ending after it are not complete. By
        default every bucket but the last counts as complete.
    noun : str, default "users"
        What the units are, plural.

    Returns
    -------
    str

    Examples
    --------
    >>> weeks = pd.DataFrame({"new": [50, 40, 10], "returning": [0, 30, 5], "resurrecting": [0, 5, 1],
    ...                       "dormant": [0, -20, -3]},
    ...                      index=pd.DatetimeIndex(["2026-11-16", "2026-11-23", "2026-11-30"], tz="UTC"))
    >>> print(lifecycle_reading(weeks, freq="W"))
    In the week starting 2026-11-23: 75 active users (40 new, 30 returning, 5 resurrecting); 20 of the week
    before did not come back.
    """
    if not len(result):
        return f"No {noun} were active in this data."
    step = pd.tseries.frequencies.to_offset("7D" if _period_name(freq) == "week" else freq)
    labels = pd.DatetimeIndex(result.index)
    if end is not None:
        done = np.flatnonzero(labels + step <= pd.Timestamp(end))
        row = int(done[-1]) if len(done) else len(result) - 1
    else:
        row = max(len(result) - 2, 0)
    counts = result.iloc[row]
    active = int(counts["new"] + counts["returning"] + counts["resurrecting"])
    when = labels[row]
    stamp = f"{when:%Y-%m-%d}" if when == when.normalize() else f"{when:%Y-%m-%d %H:%M}"
    name = _period_name(freq)
    text = (f"In the {name} starting {stamp}: {_count(active, 'active ' + noun)} ({int(counts['new']):,} new, "
            f"{int(counts['returning']):,} returning, {int(counts['resurrecting']):,} resurrecting)")
    dormant = -int(counts["dormant"])
    if row > 0:
        text += f"; {dormant:,} of the {name} before did not come back"
    return text + "."


def paths_reading(result: pd.DataFrame, *, noun: str = "sessions") -> str:
    """What a paths chart shows: the path that follows the heaviest transition from step to step.

    The path stops at the first step whose heaviest transition carries less
    than a fifth of the paths of the first one: a trickle is not "the" path.

    Parameters
    ----------
    result : pandas.DataFrame
        What :meth:`df.statsig.paths` returns: one row per transition, with
        ``step`` (the position of ``source``, from 1), ``source``,
        ``target``, ``value`` (paths making it) and ``mean_gap``.
    noun : str, default "sessions"
        What a path is, plural.

    Returns
    -------
    str

    Examples
    --------
    >>> edges = pd.DataFrame({"step": [1, 1, 2], "source": ["view", "view", "cart"],
    ...                       "target": ["cart", "exit", "buy"], "value": [120, 30, 50],
    ...                       "mean_gap": pd.to_timedelta(["2min", "1min", "3min"])})
    >>> print(paths_reading(edges))
    The busiest transitions lead view → cart → buy: 120 sessions go from view to cart (2 min apart on
    average), and 50 from cart on to buy.
    """
    if not len(result):
        return f"No {noun} have two events in a row to make a path."
    steps = result.sort_values(["step", "value"], ascending=[True, False], kind="stable")
    first = steps[steps["step"] == steps["step"].min()].iloc[0]
    chain, values, edge = [first["source"], first["target"]], [], first
    while True:
        values.append(int(edge["value"]))
        nxt = steps[(steps["step"] == edge["step"] + 1) & (steps["source"] == edge["target"])]
        if not len(nxt) or nxt["value"].iloc[0] < _PATH_SHARE * values[0]:
            break
        edge = nxt.iloc[0]
        chain.append(edge["target"])
    text = (f"The busiest transitions lead {' → '.join(map(str, chain))}: {_count(values[0], noun)} go from "
            f"{chain[0]} to {chain[1]}")
    if pd.notna(first.get("mean_gap")):
        text += f" ({duration(first['mean_gap'], short=True)} apart on average)"
    if len(values) > 1:
        text += f", and {values[-1]:,} from {chain[-2]} on to {chain[-1]}"
    return text + "."
