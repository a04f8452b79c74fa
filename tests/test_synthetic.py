"""The synthetic frame: its user skew, and its outputs for existing arguments unchanged."""

from __future__ import annotations

import hashlib

import pandas as pd

from statsig_pandas.testing.synthetic import synthetic_frame

END_MS = 1_775_000_000_000


def digest(df: pd.DataFrame) -> str:
    text = pd.util.hash_pandas_object(df.drop(columns="metadata"), index=False).to_numpy().tobytes()
    return hashlib.sha256(text).hexdigest()[:16]


def test_the_default_skew_keeps_the_frames_of_before():
    # The digest of this frame as synthetic_frame built it before it had a user_skew.
    assert digest(synthetic_frame(5000, seed=3, end_ms=END_MS, users=400)) == "5d0de0b71846c06e"
    assert digest(synthetic_frame(5000, seed=3, end_ms=END_MS, users=400, user_skew=1.3)) == "5d0de0b71846c06e"


def test_no_skew_spreads_events_over_every_user():
    even = synthetic_frame(50_000, seed=1, end_ms=END_MS, users=5_000, user_skew=0.0)
    skewed = synthetic_frame(50_000, seed=1, end_ms=END_MS, users=5_000)
    assert even["userID"].nunique() > 4_900
    assert skewed["userID"].nunique() < 3_000
    assert even["userID"].value_counts().max() < 40
