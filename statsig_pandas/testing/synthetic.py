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
