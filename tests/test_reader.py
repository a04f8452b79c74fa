"""read_events end to end, over real HTTP against the emulator."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest

import statsig_pandas as sp
from statsig_pandas import StatsigError, StatsigWarning, read_events
from statsig_pandas.testing import StatsigEmulator

COLUMNS = ["timestamp", "name", "source", "value", "userID", "metadata"]


def expected_frame(events: list[dict]) -> pd.DataFrame:
    """The frame a user should get, computed independently of the reader."""
    rows = sorted(events, key=lambda e: int(e["timestamp"]))  # Python's sort is stable
    return pd.DataFrame({
        "timestamp": pd.to_datetime([int(e["timestamp"]) for e in rows], unit="ms", utc=True),
        "name": [e["name"] for e in rows],
        "source": [e["source"] for e in rows],
        "value": [e["value"] for e in rows],
        "userID": [e["userID"] for e in rows],
        "metadata": [e.get("metadata") or {} for e in rows],
    })


def assert_same_events(df: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(df.columns) == COLUMNS
    assert len(df) == len(expected)
    assert (df["timestamp"] == expected["timestamp"]).all()
    for col in ("name", "source", "value", "userID"):
        assert df[col].astype(object).tolist() == expected[col].tolist(), col
    assert df["metadata"].tolist() == expected["metadata"].tolist()


def test_reads_every_page_into_typed_frame(api):
    df = pd.read_statsig_events("add_to_cart", progress=False)
    events = api.events("add_to_cart")
    assert len(events) > 300  # several pages of 100
    assert_same_events(df, expected_frame(events))
    assert str(df["timestamp"].dtype) == "datetime64[ms, UTC]"
    assert isinstance(df["name"].dtype, pd.CategoricalDtype)
    assert isinstance(df["source"].dtype, pd.CategoricalDtype)
    assert isinstance(df["value"].dtype, pd.StringDtype)
    assert isinstance(df["userID"].dtype, pd.StringDtype)
    assert df["metadata"].dtype == object
    assert isinstance(df.index, pd.RangeIndex) and df.index[0] == 0
    assert df["timestamp"].is_monotonic_increasing
    pages = [r for r in api.requests if r.path.endswith("/add_to_cart")]
    assert sorted(int(r.query["page"]) for r in pages) == list(range(1, len(events) // 100 + 2))


def test_pd_read_statsig_events_is_read_events():
    assert pd.read_statsig_events is sp.read_events is read_events


def test_several_names_in_one_frame(api):
    df = read_events(["add_to_cart", "purchase"], progress=False)
    both = api.events("add_to_cart") + api.events("purchase")
    assert_same_events(df, expected_frame(both))
    assert set(df["name"].cat.categories) == {"add_to_cart", "purchase"}
    assert df.attrs["statsig"]["event_names"] == ["add_to_cart", "purchase"]


def test_values_and_user_ids_stay_strings():
    events = [
        {"timestamp": "1720567904601", "name": "e", "source": "statsig-node", "value": "", "userID": "0042",
         "metadata": {}},
        {"timestamp": "1720567904602", "name": "e", "source": "js-client", "value": "463", "userID": "7",
         "metadata": None},
        {"timestamp": "1720567904603", "name": "e", "source": "js-client", "value": "x", "userID": "00"},
    ]
    with StatsigEmulator(events) as emu:
        df = read_events("e", base_url=emu.url, api_key=emu.api_key)
    assert df["value"].tolist() == ["", "463", "x"]
    assert df["userID"].tolist() == ["0042", "7", "00"]
    assert df["metadata"].tolist() == [{}, {}, {}]
    assert df["timestamp"].iloc[0] == pd.Timestamp(1720567904601, unit="ms", tz="UTC")


def test_sorted_by_time_stably_with_ties():
    events = [
        {"timestamp": "2000", "name": "e", "source": "s", "value": "b", "userID": "1", "metadata": {}},
        {"timestamp": "1000", "name": "e", "source": "s", "value": "a", "userID": "1", "metadata": {}},
        {"timestamp": "2000", "name": "e", "source": "s", "value": "c", "userID": "1", "metadata": {}},
    ]
    with StatsigEmulator(events) as emu:
        emu.add_events([])
        df = read_events("e", base_url=emu.url, api_key=emu.api_key)
    served = [e["value"] for e in emu.events("e")]
    assert df["value"].tolist() == ["a"] + [v for v in served if v != "a"]


def test_empty_result_has_the_same_schema(emulator):
    with StatsigEmulator([], unknown_event_status=None) as emu:
        empty = read_events("nothing", base_url=emu.url, api_key=emu.api_key)
    full = read_events("purchase", base_url=emulator.url, api_key=emulator.api_key, progress=False)
    assert len(empty) == 0
    assert list(empty.columns) == list(full.columns)
    assert empty.dtypes.astype(str).tolist() == full.dtypes.astype(str).tolist()
    assert isinstance(empty.index, pd.RangeIndex)


def test_expand_metadata_adds_a_column_per_key(api):
    df = read_events("purchase", expand_metadata=True, progress=False)
    assert list(df.columns[:6]) == COLUMNS
    assert {"metadata.plan", "metadata.country"} <= set(df.columns)
    for _, row in df.head(200).iterrows():
        assert (row["metadata"].get("plan") if row["metadata"] else None) == (
            None if pd.isna(row["metadata.plan"]) else row["metadata.plan"])


def test_attrs_provenance_is_json_and_keyless(api):
    df = read_events("purchase", progress=False)
    prov = df.attrs["statsig"]
    text = json.dumps(prov)
    assert api.api_key not in text
    assert prov["base_url"] == api.url
    assert prov["api_version"] == "20240601"
    assert prov["pages_read"] == len(api.requests)
    assert prov["rows_received"] == len(df)
    assert prov["total_items_reported"] == len(api.events("purchase"))
    assert prov["duplicates_dropped"] == 0
    assert pd.Timestamp(prov["fetched_at"]).tzinfo is not None


def test_every_request_sends_the_documented_headers_and_params(api):
    read_events(["purchase", "page_view"], progress=False)
    assert api.requests
    for req in api.requests:
        assert req.headers["statsig-api-key"] == api.api_key
        assert req.headers["statsig-api-version"] == "20240601"
        assert req.headers["user-agent"].startswith(f"statsig-pandas/{sp.__version__}")
        assert "page" in req.query and req.query["limit"] == "100"


def test_base_url_may_end_with_console_v1(emulator):
    df = read_events("purchase", base_url=emulator.url + "/console/v1/", api_key=emulator.api_key,
                     progress=False)
    assert len(df) == len(emulator.events("purchase"))


def test_clamped_limit_still_reads_everything():
    with StatsigEmulator(n_events=600, max_limit=17) as emu:
        df = read_events("add_to_cart", base_url=emu.url, api_key=emu.api_key, page_size=1000, progress=False)
        events = emu.events("add_to_cart")
    assert_same_events(df, expected_frame(events))
    assert df.attrs["statsig"]["pages_read"] == -(-len(events) // 17)


def test_concurrency_is_bounded():
    with StatsigEmulator(n_events=2000, latency=0.03) as emu:
        read_events("add_to_cart", base_url=emu.url, api_key=emu.api_key, page_size=20, max_concurrency=3,
                    progress=False)
        assert 2 <= emu.max_in_flight <= 3


def test_moving_window_is_read_completely_and_counted_once():
    with StatsigEmulator(n_events=1500, grow_per_request=2, latency=0.002) as emu:
        before = {e["timestamp"] for e in emu.events("purchase")}
        df = read_events("purchase", base_url=emu.url, api_key=emu.api_key, page_size=40, progress=False)
        served = emu.events("purchase")
    prov = df.attrs["statsig"]
    assert prov["duplicates_dropped"] > 0
    assert not df.drop(columns="metadata").duplicated().any()
    # Every event in the window when the read began, and every one that arrived during it, is there.
    got = {str(t) for t in df["timestamp"].astype("int64")}
    assert before <= got
    assert len(df) == prov["total_items_reported"]
    assert got <= {e["timestamp"] for e in served}


def test_window_moving_faster_than_reads_warns_how_many_may_be_missing():
    with StatsigEmulator(n_events=1500, grow_per_request=9) as emu:
        before = {e["timestamp"] for e in emu.events("purchase")}
        with pytest.warns(StatsigWarning) as record:
            df = read_events("purchase", base_url=emu.url, api_key=emu.api_key, page_size=40, progress=False)
    messages = [str(w.message) for w in record]
    assert any("may be missing" in m for m in messages)
    shortfall = df.attrs["statsig"]["total_items_reported"] - len(df)
    assert shortfall > 0 and any(f"{shortfall} fewer" in m for m in messages)
    # The warning never understates what was lost of the events that were there all along.
    import re

    said = int(re.search(r"(\d+) event\(s\) may be missing", " ".join(messages)).group(1))
    assert len(before - {str(t) for t in df["timestamp"].astype("int64")}) <= said
    assert not df.drop(columns="metadata").duplicated().any()


def test_identical_events_on_one_page_are_both_kept():
    twin = {"timestamp": "5000", "name": "e", "source": "s", "value": "v", "userID": "1", "metadata": {}}
    events = [dict(twin), dict(twin)] + [
        {"timestamp": str(1000 + i), "name": "e", "source": "s", "value": str(i), "userID": "2", "metadata": {}}
        for i in range(10)
    ]
    with StatsigEmulator(events) as emu:
        df = read_events("e", base_url=emu.url, api_key=emu.api_key, page_size=4, progress=False)
    assert len(df) == 12
    assert (df["value"] == "v").sum() == 2
    assert df.attrs["statsig"]["duplicates_dropped"] == 0


def test_server_ignoring_page_stops_and_warns():
    with StatsigEmulator(n_events=900, ignore_page=True) as emu:
        with pytest.warns(StatsigWarning) as record:
            df = read_events("page_view", base_url=emu.url, api_key=emu.api_key, page_size=25, progress=False)
        total = len(emu.events("page_view"))
        assert len(emu.requests) <= -(-total // 25)
    messages = " ".join(str(w.message) for w in record)
    assert "ignored the page parameter" in messages
    assert f"{total - 25} fewer" in messages
    assert len(df) == 25


def test_unparseable_timestamp_raises_naming_event_and_value():
    events = [{"timestamp": "yesterday", "name": "checkout", "source": "s", "value": "", "userID": "1"}]
    with StatsigEmulator(events) as emu:
        with pytest.raises(StatsigError, match=r"'yesterday'.*'checkout'"):
            read_events("checkout", base_url=emu.url, api_key=emu.api_key)


def test_unparseable_timestamp_coerced_to_nat_with_count():
    events = [
        {"timestamp": "yesterday", "name": "checkout", "source": "s", "value": "", "userID": "1"},
        {"timestamp": None, "name": "checkout", "source": "s", "value": "", "userID": "2"},
        {"timestamp": "1720567904601", "name": "checkout", "source": "s", "value": "", "userID": "3"},
    ]
    with StatsigEmulator(events) as emu:
        with pytest.warns(StatsigWarning, match=r"^2 event\(s\)"):
            df = read_events("checkout", base_url=emu.url, api_key=emu.api_key, errors="coerce")
    assert df["timestamp"].isna().sum() == 2
    assert len(df) == 3
    assert str(df["timestamp"].dtype) == "datetime64[ms, UTC]"


@pytest.mark.parametrize("kwargs, match", [
    ({"errors": "ignore"}, "errors must be"),
    ({"page_size": 0}, "page_size"),
    ({"max_concurrency": 0}, "max_concurrency"),
])
def test_bad_arguments_are_clear_errors(emulator, kwargs, match):
    with pytest.raises(StatsigError, match=match):
        read_events("purchase", base_url=emulator.url, api_key=emulator.api_key, **kwargs)
    assert emulator.requests == []


@pytest.mark.parametrize("names", [[], "", [""], [None], 42])
def test_bad_names_are_clear_errors(emulator, names):
    with pytest.raises(StatsigError):
        read_events(names, base_url=emulator.url, api_key=emulator.api_key)
    assert emulator.requests == []


def test_only_names_is_positional():
    with pytest.raises(TypeError):
        read_events("purchase", "console-key")  # type: ignore[misc]


def test_progress_bar_shown_for_multi_page_reads_and_off_on_request(api, capsys):
    read_events("add_to_cart")
    err = capsys.readouterr().err
    assert "add_to_cart" in err and "events" in err
    read_events("add_to_cart", progress=False)
    assert capsys.readouterr().err == ""


def test_progress_bar_closed_when_read_fails(api, monkeypatch):
    from tqdm import tqdm

    bars = []
    original_init = tqdm.__init__

    def tracking_init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        bars.append(self)

    monkeypatch.setattr(tqdm, "__init__", tracking_init)
    api.inject("status", status=400, page=3)
    with pytest.raises(sp.StatsigAPIError):
        read_events("add_to_cart", progress=True)
    assert bars, "a progress bar was shown"
    assert all(bar.disable for bar in bars), "tqdm.close() marks a bar disabled"


def test_gc_is_enabled_again_after_a_failed_read(api):
    import gc

    api.inject("status", status=400, page=2)
    with pytest.raises(sp.StatsigAPIError):
        read_events("add_to_cart", progress=False)
    assert gc.isenabled()


def test_user_session_is_used_and_left_open(api):
    import requests

    with requests.Session() as session:
        session.headers["X-Trace"] = "abc"
        read_events("purchase", session=session, progress=False)
        assert all(r.headers.get("x-trace") == "abc" for r in api.requests)
        assert session.adapters  # still usable
        assert session.get(api.url + "/console/v1/events/purchase",
                           headers={"STATSIG-API-KEY": api.api_key}).status_code == 200


def test_numeric_values_survive_as_text():
    events = [{"timestamp": "1", "name": "e", "source": "s", "value": 463, "userID": 12, "metadata": {}}]
    with StatsigEmulator(events) as emu:
        df = read_events("e", base_url=emu.url, api_key=emu.api_key)
    assert df["value"].tolist() == ["463"] and df["userID"].tolist() == ["12"]
    assert np.isclose(float(df["value"].iloc[0]), 463)


def _assert_monotone(seen):
    assert seen, "the callable was never called"
    assert all(isinstance(p, sp.ReadProgress) for p in seen)
    assert [p.pages for p in seen] == list(range(1, len(seen) + 1))  # once per page, counting up
    assert all(a.rows < b.rows for a, b in itertools.pairwise(seen))


def test_a_progress_callable_follows_every_page_from_the_calling_thread(api):
    import threading

    seen, threads = [], set()

    def progress(p):
        seen.append(p)
        threads.add(threading.get_ident())

    df = read_events("add_to_cart", page_size=50, max_concurrency=4, progress=progress)
    _assert_monotone(seen)
    assert seen[-1].rows == len(df) and seen[-1].pages == -(-len(df) // 50)
    assert {p.total for p in seen} == {len(api.events("add_to_cart"))}  # totalItems, known from page 1
    assert threads == {threading.get_ident()}


def test_progress_of_several_names_counts_the_whole_read(api):
    seen = []
    df = read_events(["add_to_cart", "purchase"], progress=seen.append)
    _assert_monotone(seen)
    assert seen[-1].rows == len(df)
    assert seen[-1].total == len(api.events("add_to_cart")) + len(api.events("purchase"))


def test_progress_true_draws_a_bar_and_false_draws_nothing(api, capsys):
    read_events("add_to_cart", progress=False)
    assert capsys.readouterr().err == ""
    read_events("add_to_cart", progress=True)
    assert "events" in capsys.readouterr().err
