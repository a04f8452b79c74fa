"""Synthetic Statsig events, shaped exactly like the API's ``data`` items."""

from __future__ import annotations

import time
from typing import Sequence

import numpy as np

__all__ = ["synthetic_events", "DEFAULT_EVENT_NAMES"]

DEFAULT_EVENT_NAMES = ("add_to_cart", "purchase", "page_view")
SOURCES = ("js-client", "statsig-node", "py-server", "ios-client", "android-client")
VALUES = ("appliances", "books", "electronics", "garden", "toys", "", "grocery", "sports")
PLANS = ("free", "pro", "enterprise")
COUNTRIES = ("US", "FR", "DE", "JP", "BR")


def synthetic_events(
    n: int = 1000,
    *,
    names: Sequence[str] = DEFAULT_EVENT_NAMES,
    seed: int = 0,
    end_ms: int | None = None,
    span_ms: int = 7 * 24 * 3600 * 1000,
    users: int = 500,
) -> list[dict]:
    """``n`` events over ``span_ms`` ending at ``end_ms`` (default: now), newest first.

    Deterministic for a given seed and ``end_ms``. Values are mostly
    categories, some empty (``""``) and, for ``purchase``, amounts such as
    ``"19.99"``; user IDs keep leading zeros (``"0042"``); about one event in
    five carries metadata.
    """
    rng = np.random.default_rng(seed)
    end_ms = int(time.time() * 1000) if end_ms is None else int(end_ms)
    # A daily rhythm (busy afternoons, quiet nights), so timelines and heatmaps show something.
    hour_weights = 1.0 + np.sin((np.arange(24) - 9) / 24 * 2 * np.pi) * 0.8
    hour_of = rng.choice(24, size=n, p=hour_weights / hour_weights.sum())
    start_ms = end_ms - span_ms
    day0 = start_ms - start_ms % 86_400_000
    days = max(1, -(-span_ms // 86_400_000) + 1)
    ts = day0 + rng.integers(0, days, size=n) * 86_400_000 + hour_of * 3_600_000 + rng.integers(0, 3_600_000, size=n)
    ts = np.where((ts > end_ms) | (ts <= start_ms), end_ms - rng.integers(0, span_ms, size=n), ts)
    ts = np.sort(ts)[::-1]
    name_idx = rng.choice(len(names), size=n, p=_weights(len(names)))
    source_idx = rng.choice(len(SOURCES), size=n, p=_weights(len(SOURCES)))
    value_idx = rng.choice(len(VALUES), size=n, p=_weights(len(VALUES)))
    amounts = np.round(rng.gamma(2.0, 15.0, size=n), 2)
    user_ids = rng.zipf(1.3, size=n) % users
    has_meta = rng.random(n) < 0.2
    plan_idx = rng.integers(0, len(PLANS), size=n)
    country_idx = rng.integers(0, len(COUNTRIES), size=n)
    events = []
    for i in range(n):
        name = names[name_idx[i]]
        value = f"{amounts[i]:.2f}" if name == "purchase" and value_idx[i] % 4 else VALUES[value_idx[i]]
        events.append({
            "timestamp": str(int(ts[i])),
            "name": name,
            "source": SOURCES[source_idx[i]],
            "value": value,
            "userID": f"{user_ids[i]:04d}",
            "metadata": {"plan": PLANS[plan_idx[i]], "country": COUNTRIES[country_idx[i]]} if has_meta[i] else {},
        })
    return events


def _weights(k: int) -> np.ndarray:
    w = 1.0 / np.arange(1, k + 1)
    return w / w.sum()


def synthetic_frame(
    n: int = 1000,
    *,
    seed: int = 0,
    names: Sequence[str] = DEFAULT_EVENT_NAMES,
    end_ms: int | None = None,
    span_ms: int = 7 * 24 * 3600 * 1000,
    users: int = 500,
    metadata_rate: float = 0.2,
    user_skew: float = 1.3,
):
    """A typed frame of ``n`` synthetic events, as :func:`statsig_pandas.read_events` returns it.

    Built column by column with numpy and Arrow, no per-row Python objects, so
    ten million rows take seconds. Same dtypes, column order, sort order and RangeIndex as
    the reader's frame; values, sources and user IDs are drawn like
    :func:`synthetic_events` draws them (``""`` values, amounts for
    ``purchase``, user IDs with leading zeros).

    Parameters
    ----------
    n : int
        Number of events.
    seed : int, default 0
        Seed of the random generator; same seed and ``end_ms``, same frame.
    names : sequence of str
        Event names, the first the most frequent.
    end_ms : int, optional
        Epoch milliseconds of the end of the span (exclusive); default now.
    span_ms : int, default one week
        Length of the span the events fall in.
    users : int, default 500
        Number of distinct user IDs to draw from (Zipf-distributed).
    user_skew : float, default 1.3
        Exponent of that Zipf law: 0 draws every user alike (a million
        users in ten million events), higher values concentrate the events
        on the first users.
    metadata_rate : float, default 0.2
        Share of events carrying ``{"plan": ..., "country": ...}`` metadata.

    Returns
    -------
    pandas.DataFrame
        Columns ``timestamp``, ``name``, ``source``, ``value``, ``userID``,
        ``metadata`` with the dtypes of ``statsig_pandas.frame.SCHEMA``.

    Examples
    --------
    >>> from statsig_pandas.testing.synthetic import synthetic_frame
    >>> df = synthetic_frame(1_000, seed=1, end_ms=1_774_000_000_000)
    >>> len(df), str(df["timestamp"].dtype)
    (1000, 'datetime64[ms, UTC]')
    """
    import pandas as pd
    import pyarrow as pa

    from ..frame import EMPTY_METADATA, STRING_DTYPE

    rng = np.random.default_rng(seed)
    end_ms = int(time.time() * 1000) if end_ms is None else int(end_ms)
    start_ms = end_ms - span_ms
    # Same daily rhythm as synthetic_events: busy afternoons (UTC), quiet nights.
    hour_weights = 1.0 + np.sin((np.arange(24) - 9) / 24 * 2 * np.pi) * 0.8
    day0 = start_ms - start_ms % 86_400_000
    days = -(-(end_ms - day0) // 86_400_000)
    ts = (day0 + rng.integers(0, days, size=n) * 86_400_000 + _draw(rng, hour_weights, n) * 3_600_000
          + rng.integers(0, 3_600_000, size=n))
    outside = (ts >= end_ms) | (ts < start_ms)
    ts[outside] = start_ms + rng.integers(0, span_ms, size=int(outside.sum()))
    ts.sort()

    def categorical(pool: Sequence[str], codes: np.ndarray) -> pd.Categorical:
        categories = pd.Index(pd.array(list(pool), dtype=STRING_DTYPE))
        return pd.Categorical.from_codes(codes.astype(np.int32), dtype=pd.CategoricalDtype(categories))

    def strings(pool: Sequence[str], codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
        return pd.array(pa.array(list(pool), type=pa.string()).take(pa.array(codes)), dtype=STRING_DTYPE)

    name_idx = _draw(rng, _weights(len(names)), n)
    source_idx = _draw(rng, _weights(len(SOURCES)), n)
    # Purchases mostly log an amount: 500 distinct amounts listed after the category values.
    amounts = [f"{a:.2f}" for a in np.round(rng.gamma(2.0, 15.0, size=500), 2)]
    value_idx = _draw(rng, _weights(len(VALUES)), n)
    as_amount = (np.asarray(names)[name_idx] == "purchase") & (value_idx % 4 != 0)
    value_idx = np.where(as_amount, len(VALUES) + rng.integers(0, len(amounts), size=n), value_idx)
    # A truncated Zipf law over the user IDs (numpy's zipf sampler is slow for a near 1).
    user_idx = _draw(rng, 1.0 / np.arange(1, users + 1) ** user_skew, n)

    # As the reader does: rows with the same metadata share one read-only dict.
    shared = np.empty(1 + len(PLANS) * len(COUNTRIES), dtype=object)
    shared[:] = [EMPTY_METADATA] + [type(EMPTY_METADATA)(plan=p, country=c) for p in PLANS for c in COUNTRIES]
    combo = np.where(rng.random(n) < metadata_rate, 1 + rng.integers(0, len(shared) - 1, size=n), 0)
    metadata = shared[combo]

    return pd.DataFrame({
        "timestamp": pd.Series(ts.astype("M8[ms]")).dt.tz_localize("UTC"),
        "name": categorical(names, name_idx),
        "source": categorical(SOURCES, source_idx),
        "value": strings(list(VALUES) + amounts, value_idx),
        "userID": strings([f"{u:04d}" for u in range(users)], user_idx),
        "metadata": metadata,
    })


def _draw(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    """``n`` indices drawn with the given (unnormalised) weights, by inverting the CDF."""
    cdf = np.cumsum(weights, dtype=float)
    return np.searchsorted(cdf / cdf[-1], rng.random(n), side="right").clip(max=len(cdf) - 1)
