"""Event metadata in the frame: shared read-only dicts that keep exactly what the API sent."""

from __future__ import annotations

import datetime as dt
import pickle

import pytest

from statsig_pandas import ResponseFormatError
from statsig_pandas.decode import convert_dicts
from statsig_pandas.frame import EMPTY_METADATA, build_frame


def ev(ts, meta, **fields):
    return {"timestamp": str(ts), "name": "e", "source": "s", "value": "v", "userID": "1", "metadata": meta,
            **fields}


def frame(*pages, errors="raise"):
    df, _ = build_frame([convert_dicts(p, page=i + 1, errors=errors) for i, p in enumerate(pages)])
    return df


def test_rows_with_the_same_metadata_share_one_read_only_dict_across_pages():
    df = frame([ev(9, {"plan": "pro"}), ev(8, None), ev(7, {"plan": "pro"})],
               [ev(6, {"plan": "pro"}), ev(5, {"plan": "free"})])
    pro = [m for m in df["metadata"] if m == {"plan": "pro"}]
    assert len(pro) == 3 and all(m is pro[0] for m in pro)
    with pytest.raises(TypeError, match=r"dict\(row\)"):
        pro[0]["plan"] = "free"
    copy = dict(pro[0])
    copy["plan"] = "free"
    assert [m["plan"] for m in df["metadata"] if m] == ["free", "pro", "pro", "pro"]


def test_metadata_keeps_its_types_and_key_order():
    sent = [{"a": 1}, {"a": 1.0}, {"a": True}, {"a": "1"}, {"a": None}, {"a": "x", "b": "y"}, {"b": "y", "a": "x"}]
    df = frame([ev(i, m) for i, m in enumerate(sent)])
    got = df["metadata"].tolist()
    assert [list(m.items()) for m in got] == [list(m.items()) for m in sent]
    assert [type(m["a"]) for m in got] == [int, float, bool, str, type(None), str, str]


def test_nested_values_are_never_shared_between_rows():
    df = frame([ev(2, {"tags": ["a"]}), ev(1, {"tags": ["a"]})])
    first, second = df["metadata"]
    first["tags"].append("b")
    assert second == {"tags": ["a"]}


def test_missing_null_and_empty_metadata_are_the_shared_empty_dict():
    df = frame([ev(3, None), ev(2, {})], [{k: v for k, v in ev(1, None).items() if k != "metadata"}])
    assert all(m is EMPTY_METADATA for m in df["metadata"])


def test_metadata_that_is_not_json_is_kept_as_given():
    when = dt.datetime(2024, 7, 10)
    df = frame([ev(2, {"at": when}), ev(1, {"at": when})])
    assert df["metadata"].tolist() == [{"at": when}, {"at": when}]


@pytest.mark.parametrize("meta", ["", 0, [], False, "oops", [["k", "v"]]])
def test_metadata_that_is_not_an_object_raises_or_becomes_empty(meta):
    with pytest.raises(ResponseFormatError, match="not a JSON object"):
        convert_dicts([ev(1, meta)], page=4)
    df = frame([ev(2, meta), ev(1, {"a": "b"})], errors="coerce")
    assert df["metadata"].tolist() == [{"a": "b"}, {}]


def test_a_frame_with_shared_metadata_survives_pickle():
    df = frame([ev(2, {"plan": "pro"}), ev(1, {"plan": "pro"})])
    back = pickle.loads(pickle.dumps(df))
    assert back["metadata"].tolist() == [{"plan": "pro"}, {"plan": "pro"}]
    with pytest.raises(TypeError):
        back["metadata"].iloc[0]["plan"] = "free"
