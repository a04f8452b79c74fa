"""Time on a wall clock, the parts used outside the analysis functions."""

from __future__ import annotations

import pandas as pd
import pytest

from statsig_pandas._timebuckets import format_duration


@pytest.mark.parametrize("span, text", [
    ("0s", "0 s"), ("42s", "42 s"), ("59min 59s", "59 min"), ("1h", "1 h 0 min"), ("5h 7min 30s", "5 h 7 min"),
    ("1D 3h 20min", "1 day 3 h"), ("9D 23h 59min", "9 days 23 h"),
])
def test_a_duration_reads_in_its_two_largest_units(span, text):
    assert format_duration(pd.Timedelta(span)) == text
