"""Synthetic events (statsig_pandas.testing.synthetic): the reader's shapes, drawn deterministically."""

from __future__ import annotations

import numpy as np
import pandas as pd

from statsig_pandas import SCHEMA, read_events
from statsig_pandas.testing import StatsigEmulator, synthetic_events, synthetic_frame
from statsig_pandas.testing.synthetic import rank_weights

END_MS = 1_774_000_000_000
DAY_MS = 86_400_000


def test_synthetic_frame_has_the_readers_columns_dtypes_order_and_index():
    frame = synthetic_frame(2000, seed=4, end_ms=END_MS)
    with StatsigEmulator(n_events=300, seed=4) as emu:
        read = read_events(["add_to_cart", "purchase", "page_view"], base_url=emu.url, api_key=emu.api_key,
                           progress=False)
    assert list(frame.columns) == list(SCHEMA) == list(read.columns)
    assert frame.dtypes.astype(str).tolist() == read.dtypes.astype(str).tolist()
    assert isinstance(frame.index, pd.RangeIndex) and frame["timestamp"].is_monotonic_increasing


def test_synthetic_frame_falls_in_its_span_and_is_deterministic():
    frame = synthetic_frame(5000, seed=2, end_ms=END_MS, span_ms=3 * DAY_MS, users=50, metadata_rate=0.5)
    stamps = frame["timestamp"].astype("int64")
    assert stamps.min() >= END_MS - 3 * DAY_MS and stamps.max() < END_MS
    assert frame["userID"].nunique() <= 50 and frame["userID"].str.fullmatch(r"\d{4}").all()
    assert 0.4 < (frame["metadata"].map(len) > 0).mean() < 0.6
    pd.testing.assert_frame_equal(frame, synthetic_frame(5000, seed=2, end_ms=END_MS, span_ms=3 * DAY_MS,
                                                         users=50, metadata_rate=0.5))
    assert not frame.equals(synthetic_frame(5000, seed=3, end_ms=END_MS, span_ms=3 * DAY_MS, users=50,
                                            metadata_rate=0.5))


def test_the_first_name_is_the_most_frequent_and_purchases_log_amounts():
    frame = synthetic_frame(20_000, seed=1, end_ms=END_MS, names=["purchase", "page_view"])
    counts = frame["name"].value_counts()
    assert counts["purchase"] > counts["page_view"]
    amounts = pd.to_numeric(frame.loc[frame["name"] == "purchase", "value"], errors="coerce")
    assert amounts.notna().mean() > 0.5  # mostly amounts such as "19.99"
    assert (frame.loc[frame["name"] == "page_view", "value"] == "").any()  # "" is a value of its own


def test_synthetic_events_are_the_apis_items_newest_first():
    events = synthetic_events(500, seed=5, end_ms=END_MS, span_ms=DAY_MS)
    assert set(events[0]) == {"timestamp", "name", "source", "value", "userID", "metadata"}
    stamps = [int(e["timestamp"]) for e in events]
    assert stamps == sorted(stamps, reverse=True)
    assert END_MS - DAY_MS < min(stamps) and max(stamps) <= END_MS
    assert all(isinstance(e["timestamp"], str) and len(e["userID"]) == 4 for e in events)
    assert events == synthetic_events(500, seed=5, end_ms=END_MS, span_ms=DAY_MS)


def test_rank_weights_follow_one_over_rank():
    weights = rank_weights(4)
    assert np.isclose(weights.sum(), 1.0)
    assert np.allclose(weights / weights[0], [1, 1 / 2, 1 / 3, 1 / 4])
