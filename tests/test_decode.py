"""Page bodies -> columns: the typed bulk path gives what the generic path gives, or the same error."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from statsig_pandas import StatsigError, StatsigWarning, read_events
from statsig_pandas.decode import JoinedPage, PageCodec, convert_dicts, convert_log_dicts, envelope_data, split_joined
from statsig_pandas.errors import ResponseFormatError
from statsig_pandas.frame import build_frame
from statsig_pandas.testing import StatsigEmulator, synthetic_events


def ev(ts="1720567904601", value="v", user="1", meta=None, name="e", source="s"):
    return {"timestamp": ts, "name": name, "source": source, "value": value, "userID": user, "metadata": meta}


def body(events) -> bytes:
    return json.dumps({"message": "ok", "data": events, "pagination": {"itemsPerPage": len(events)}}).encode()


def by_codec(pages, *, errors="raise", logs=False):
    codec = PageCodec(errors=errors, logs=logs)
    converted = []
    for number, events in enumerate(pages, 1):
        data, _ = envelope_data(codec.parse(body(events)), None)
        converted.append(codec.convert(data, page=number))
    return converted


def by_dicts(pages, *, errors="raise", logs=False):
    convert = convert_log_dicts if logs else convert_dicts
    return [convert(json.loads(body(events))["data"], page=number, errors=errors)
            for number, events in enumerate(pages, 1)]


def assert_same_frames(pages, **kwargs):
    fast, fast_dropped = build_frame(by_codec(pages, **kwargs))
    slow, slow_dropped = build_frame(by_dicts(pages, **kwargs))
    pd.testing.assert_frame_equal(fast, slow)
    assert fast_dropped == slow_dropped
    return fast


def test_documented_pages_take_the_bulk_path_and_match_the_generic_one():
    events = synthetic_events(3000, seed=3, end_ms=1_774_000_000_000)
    pages = [events[i:i + 250] for i in range(0, len(events), 250)]
    assert all(isinstance(p, JoinedPage) for p in by_codec(pages))
    df = assert_same_frames(pages)
    assert len(df) == 3000 and str(df["timestamp"].dtype) == "datetime64[ms, UTC]"


ODD_PAGES = {
    "unicode and empty strings": [ev(value="été ☃"), ev(value="", user="𝔘"), ev(name="名前")],
    "missing fields": [{"timestamp": "5"}, ev(ts="6")],
    "null value and user": [ev(value=None, user=None), ev(ts="7")],
    "metadata of every kind": [ev(meta={"a": 1, "b": [1, {"c": None}]}), ev(meta={}), ev(meta=None),
                               ev(meta={"plan": "pro"}), ev(meta={"plan": "pro"})],
    "a NUL inside a value": [ev(value="a\x00b"), ev(user="\x00")],
    "numbers where strings belong": [ev(value=1.5), {**ev(), "timestamp": 1720567904601}, ev(user=42)],
    "times in odd but exact forms": [ev(ts="1.0e3"), ev(ts="-5"), ev(ts="0012"), ev(ts=" 7 ")],
    "a newline and quotes in values": [ev(value='say "hi"\n'), ev(value="back\\slash")],
}


@pytest.mark.parametrize("events", list(ODD_PAGES.values()), ids=list(ODD_PAGES))
def test_odd_pages_read_as_the_generic_path_reads_them(events):
    assert_same_frames([events, [ev(ts="1"), ev(ts="2")]])


@pytest.mark.parametrize("raw", [None, "soon", "99999999999999999999", "", "1.5"])
def test_bad_times_raise_the_same_error_or_coerce_the_same_way(raw):
    pages = [[ev(ts="3"), ev(ts=raw)]]
    with pytest.raises(StatsigError) as fast:
        build_frame(by_codec(pages))  # the bulk path raises here at the latest
    with pytest.raises(StatsigError) as slow:
        build_frame(by_dicts(pages))
    assert str(fast.value) == str(slow.value)
    df = assert_same_frames(pages, errors="coerce")
    assert df["timestamp"].isna().sum() == 1


def test_an_overflowing_time_among_good_pages_is_found_by_the_bulk_path():
    pages = [[ev(ts=str(t))] for t in range(1, 6)] + [[ev(ts="99999999999999999999")]]
    fast = by_codec(pages, errors="coerce")
    assert all(isinstance(p, JoinedPage) for p in fast)  # digits only: it is found in bulk, not per page
    df, _ = build_frame(fast)
    assert df["timestamp"].isna().sum() == 1 and len(df) == 6
    assert sum(p.coerced for p in fast) == 1  # what the reader's warning counts
    with pytest.raises(StatsigError, match="page 6"):
        build_frame(by_codec(pages))


def test_metadata_that_is_not_an_object_raises_the_same_error():
    pages = [[ev(meta="text"), ev()]]
    with pytest.raises(ResponseFormatError) as fast:
        by_codec(pages)
    with pytest.raises(ResponseFormatError) as slow:
        by_dicts(pages)
    assert str(fast.value) == str(slow.value)
    assert_same_frames(pages, errors="coerce")


def test_a_page_read_on_its_own_gives_the_same_columns():
    events = [ev(ts="3", meta={"k": "v"}), ev(ts="2", value="é")]
    (text,) = by_codec([events])
    (cols,) = by_dicts([events])
    assert isinstance(text, JoinedPage)
    for field in ("timestamp", "name", "source", "value", "user"):
        assert getattr(text, field).to_pylist() == getattr(cols, field).to_pylist()
    assert list(text.metadata) == list(cols.metadata)


def test_a_page_served_twice_has_one_digest():
    events = [ev(ts="3"), ev(ts="2")]
    first, second, other = by_codec([events, events, [ev(ts="4")]])
    assert first.digest() == second.digest() != other.digest()


def test_log_pages_match_the_generic_path():
    item = {"id": "e1", "timestamp": "2024-07-10T00:00:00.123Z", "event_name": "buy", "user_id": "7",
            "value": None, "sdk_type": "js", "fields": {"plan": "pro"}}
    pages = [[item, {**item, "id": "e2", "value": "x", "fields": None}], [{**item, "id": "e3", "user_id": None}]]
    df = assert_same_frames(pages, logs=True)
    assert df["value"].tolist() == ["", "x", ""]


def test_a_body_that_is_not_the_envelope_still_raises():
    codec = PageCodec()
    with pytest.raises(ResponseFormatError, match="envelope"):
        envelope_data(codec.parse(b'[{"timestamp": "1"}]'), type("R", (), {"page": 1, "path": "/x"})())
    with pytest.raises(ValueError):
        codec.parse(b"<html>")


def test_split_joined_counts_its_items():
    assert split_joined(b"a\x00\x00bc", 3, sep=b"\x00").to_pylist() == ["a", "", "bc"]
    assert split_joined(b"a\nb\n", 2, sep=b"\n", binary=True).to_pylist() == [b"a", b"b"]
    assert split_joined(b"a\x00b", 3, sep=b"\x00") is None
    assert split_joined(b"", 0, sep=b"\x00").to_pylist() == []


def test_values_with_nul_and_escapes_survive_a_read_over_http():
    events = [ev(ts="1720567904601", value="a\x00b", user="ü\"x"), ev(ts="1720567904600", meta={"q": "\x00"})]
    with StatsigEmulator(events, api_key="test-key") as emulator:
        df = read_events("e", api_key="test-key", base_url=emulator.url, progress=False)
    assert df["value"].tolist() == ["v", "a\x00b"]
    assert df["userID"].tolist() == ["1", "ü\"x"]
    assert df["metadata"].tolist() == [{"q": "\x00"}, {}]


def test_a_time_too_large_for_int64_is_coerced_with_a_warning_over_http():
    events = [ev(ts="1720567904601"), ev(ts="99999999999999999999")]
    with StatsigEmulator(events, api_key="test-key") as emulator:
        with pytest.warns(StatsigWarning, match="1 event"):
            df = read_events("e", api_key="test-key", base_url=emulator.url, progress=False, errors="coerce")
        with pytest.raises(StatsigError, match="unparseable timestamp '99999999999999999999'"):
            read_events("e", api_key="test-key", base_url=emulator.url, progress=False)
    assert len(df) == 2 and df["timestamp"].isna().sum() == 1
