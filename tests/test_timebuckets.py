"""Time on a wall clock, the parts used outside the analysis functions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from statsig_pandas import _timebuckets
from statsig_pandas._timebuckets import format_duration


@pytest.mark.parametrize("span, text", [
    ("0s", "0 s"), ("42s", "42 s"), ("59min 59s", "59 min"), ("1h", "1 h"), ("21D", "21 days"), ("2h 30s", "2 h"),
    ("5h 7min 30s", "5 h 7 min"),
    ("1D 3h 20min", "1 day 3 h"), ("9D 23h 59min", "9 days 23 h"),
])
def test_a_duration_reads_in_its_two_largest_units(span, text):
    assert format_duration(pd.Timedelta(span)) == text


@pytest.mark.parametrize("bounds", [np.array([100, 200, 300, 400]), np.array([100, 150, 300, 310])])
def test_narrow_bucket_codes_are_the_codes_in_int32_whatever_the_block(bounds):
    values = np.array([-(2**62), 99, 100, 199, 200, 305, 399, 400, 10**12, 2**62])
    wide = _timebuckets.bucket_codes(values, bounds)
    narrow = _timebuckets.narrow_bucket_codes(values, bounds, block=3)
    assert narrow.dtype == np.int32
    assert narrow[:2].tolist() == [-1, -1]  # before the first bucket, however long before
    assert np.array_equal(narrow[1:-2], wide[1:-2])  # every value in int32 range: the same code
    assert (narrow[-2:] >= len(bounds) - 1).all()  # far past the last: still past it, not wrapped round
