"""Pages -> typed frame: the schema, duplicates across pages, metadata."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from statsig_pandas.decode import convert_dicts
from statsig_pandas.frame import EMPTY_METADATA, SCHEMA, build_frame, empty_frame


def ev(ts, value="v", user="1", meta=None, name="e", source="s"):
    return {"timestamp": str(ts), "name": name, "source": source, "value": value, "userID": user, "metadata": meta}


def frame(*pages):
    return build_frame([convert_dicts(p, page=i + 1) for i, p in enumerate(pages)])


def test_empty_frame_matches_the_schema():
    df = empty_frame()
    assert list(df.columns) == list(SCHEMA)
    assert [str(t) for t in df.dtypes] == [str(t) for t in SCHEMA.values()]
    df2, dropped = build_frame([convert_dicts([], page=1)])
    assert dropped == 0 and df2.dtypes.astype(str).tolist() == df.dtypes.astype(str).tolist()


def test_same_event_on_two_pages_counts_once():
    df, dropped = frame([ev(3), ev(2)], [ev(2), ev(1)])
    assert dropped == 1
    assert df["timestamp"].astype("int64").tolist() == [1, 2, 3]


def test_identical_events_within_a_page_are_both_kept():
    df, dropped = frame([ev(2), ev(2), ev(1)])
    assert dropped == 0 and len(df) == 3


def test_multiplicity_is_the_largest_seen_on_any_one_page():
    # Two real identical events; one of them also shows on the next page after a shift.
    df, dropped = frame([ev(5), ev(2), ev(2)], [ev(2), ev(1)])
    assert (df["timestamp"].astype("int64") == 2).sum() == 2
    assert dropped == 1 and len(df) == 4


def test_events_differing_only_in_metadata_are_distinct():
    df, dropped = frame([ev(2, meta={"a": "1"})], [ev(2, meta={"a": "2"}), ev(2, meta={"a": "1"})])
    assert dropped == 1
    assert sorted(m["a"] for m in df["metadata"]) == ["1", "2"]


def test_metadata_missing_null_or_empty_is_an_empty_dict():
    df, _ = frame([ev(1, meta=None), ev(2, meta={}), {"timestamp": "3", "name": "e", "source": "s", "value": "",
                                                        "userID": "1"}])
    assert df["metadata"].tolist() == [{}, {}, {}]
    assert all(isinstance(m, dict) for m in df["metadata"])
    assert json.dumps(df["metadata"].tolist()) == "[{}, {}, {}]"


def test_shared_empty_metadata_refuses_mutation():
    with pytest.raises(TypeError, match="read-only"):
        EMPTY_METADATA["x"] = 1
    assert EMPTY_METADATA == {} and dict(EMPTY_METADATA) == {}
    copy = dict(EMPTY_METADATA)
    copy["x"] = 1
    assert EMPTY_METADATA == {}


def test_metadata_that_is_not_an_object_raises_or_coerces():
    from statsig_pandas import ResponseFormatError

    with pytest.raises(ResponseFormatError, match="metadata"):
        convert_dicts([ev(1, meta="oops")], page=3)
    cols = convert_dicts([ev(1, meta="oops")], page=3, errors="coerce")
    assert cols.coerced == 1 and cols.metadata == [{}]


@pytest.mark.parametrize("raw, expected", [("1720567904601", 1720567904601), (1720567904601, 1720567904601),
                                           (1720567904601.0, 1720567904601), (" 42 ", 42)])
def test_timestamps_in_odd_but_exact_forms_parse(raw, expected):
    cols = convert_dicts([{**ev(0), "timestamp": raw}], page=1)
    assert cols.timestamp.to_pylist() == [expected]


@pytest.mark.parametrize("raw", ["soon", "", None, True, 1.5, "1e400", {"t": 1}, [1]])
def test_unparseable_timestamps_raise_or_coerce(raw):
    from statsig_pandas import StatsigError

    with pytest.raises(StatsigError, match="unparseable timestamp"):
        convert_dicts([{**ev(0), "timestamp": raw}], page=1)
    cols = convert_dicts([{**ev(0), "timestamp": raw}], page=1, errors="coerce")
    df, _ = build_frame([cols])
    assert df["timestamp"].isna().all() and cols.coerced == 1


def test_expand_metadata_types():
    df, _ = build_frame([convert_dicts([ev(1, meta={"plan": "pro", "n": 3}), ev(2, meta={})], page=1)],
                        expand_metadata=True)
    assert isinstance(df["metadata.plan"].dtype, pd.StringDtype)
    assert df["metadata.plan"].tolist()[0] == "pro" and pd.isna(df["metadata.plan"].iloc[1])
    assert df["metadata.n"].tolist() == [3, None]


def test_frame_survives_parquet_round_trip(tmp_path):
    df, _ = frame([ev(1, meta={"a": "b"}, value=""), ev(2, user="0042")])
    path = tmp_path / "events.parquet"
    df.to_parquet(path)
    back = pd.read_parquet(path)
    assert back["userID"].tolist() == ["1", "0042"] and back["value"].tolist() == ["", "v"]
    assert back["timestamp"].equals(df["timestamp"])
