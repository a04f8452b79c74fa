"""Time-range reads through /console/v1/logs, over real HTTP against the emulator."""

from __future__ import annotations

import datetime as dt
import itertools

import pandas as pd
import pytest

from statsig_pandas import RetryPolicy, StatsigError, read_events
from statsig_pandas.decode import PageCodec
from statsig_pandas.endpoints import LOGS_PATH, time_windows
from statsig_pandas.frame import build_frame, concat_frames
from statsig_pandas.pagination import CursorWalk, Paginator
from statsig_pandas.testing import StatsigEmulator
from statsig_pandas.transport import Transport

T0 = 1_790_000_000_000  # 2026-09-21, in epoch ms
FAST = RetryPolicy(max_attempts=4, backoff_base=0.01, backoff_cap=0.05, jitter=lambda: 0.0)


def ev(ts, name="buy", value="v", user="1", meta=None):
    return {"timestamp": str(ts), "name": name, "source": "js-client", "value": value, "userID": user,
            "metadata": meta or {}}


def expected(emu, name, start, end):
    """What a range read must return, computed from the emulator's own event list."""
    rows = sorted((e for e in emu.events(name) if start <= int(e["timestamp"]) < end),
                  key=lambda e: int(e["timestamp"]))
    return [(int(e["timestamp"]), e["userID"], e["value"]) for e in rows]


def got(df):
    return sorted(zip(df["timestamp"].astype("int64").tolist(), df["userID"].tolist(), df["value"].tolist()))


def read(emu, names, start, end, **kwargs):
    kwargs.setdefault("progress", False)
    return read_events(names, base_url=emu.url, api_key=emu.api_key, start=pd.Timestamp(start, unit="ms", tz="UTC"),
                       end=pd.Timestamp(end, unit="ms", tz="UTC"), **kwargs)


@pytest.fixture(scope="module")
def shared_emu():
    with StatsigEmulator(n_events=6000, seed=3) as emu:
        yield emu


@pytest.fixture
def logs_emu(shared_emu):
    """One emulator for the module (building its index once), with a fresh request log per test."""
    shared_emu.requests.clear()
    return shared_emu


def test_range_read_returns_exactly_the_events_in_start_end(logs_emu):
    events = logs_emu.events("purchase")
    stamps = sorted(int(e["timestamp"]) for e in events)
    start, end = stamps[100], stamps[-100]  # start inclusive, end exclusive
    df = read(logs_emu, "purchase", start, end)
    assert got(df) == sorted(expected(logs_emu, "purchase", start, end))
    assert df["timestamp"].is_monotonic_increasing and isinstance(df.index, pd.RangeIndex)
    assert df["timestamp"].iloc[0] == pd.Timestamp(start, unit="ms", tz="UTC")
    assert str(df["timestamp"].dtype) == "datetime64[ms, UTC]"
    assert list(df.columns) == ["timestamp", "name", "source", "value", "userID", "metadata"]
    assert set(df["name"]) == {"purchase"}
    assert all(r.path == LOGS_PATH for r in logs_emu.requests)
    prov = df.attrs["statsig"]
    assert prov["endpoint"] == LOGS_PATH and prov["rows_received"] == len(df)
    assert pd.Timestamp(prov["start"]) == pd.Timestamp(start, unit="ms", tz="UTC")


def test_same_typed_frame_as_the_events_endpoint(logs_emu):
    window = read_events("purchase", base_url=logs_emu.url, api_key=logs_emu.api_key, progress=False)
    stamps = window["timestamp"].astype("int64")
    ranged = read(logs_emu, "purchase", int(stamps.min()), int(stamps.max()) + 1)
    assert ranged.dtypes.astype(str).tolist() == window.dtypes.astype(str).tolist()
    cols = ["timestamp", "source", "value", "userID"]
    key = lambda df: df[cols].astype(str).apply(tuple, axis=1).tolist()  # noqa: E731
    assert sorted(key(ranged)) == sorted(key(window))  # null values in logs came back as ""
    assert sorted(map(repr, ranged["metadata"])) == sorted(map(repr, window["metadata"]))


def test_several_names_and_every_request_quotes_its_filter(logs_emu):
    df = read(logs_emu, ["purchase", "add_to_cart"], T0 - 10**12, T0 + 10**12)
    assert sorted(df["name"].unique()) == ["add_to_cart", "purchase"]
    assert len(df) == len(logs_emu.events("purchase")) + len(logs_emu.events("add_to_cart"))
    queries = {r.query["query"] for r in logs_emu.requests}
    assert queries == {'event_name:"purchase"', 'event_name:"add_to_cart"'}
    assert all(r.query["source"] == "events" and int(r.query["limit"]) == 1000 for r in logs_emu.requests)


@pytest.mark.parametrize("name", ['checkout "v2"', "back\\slash", 'x" OR event_name:"purchase', "a:b c"])
def test_no_name_can_change_the_query(name):
    events = [ev(T0 + i, name=name, value="mine") for i in range(5)] + [ev(T0 + i, name="purchase", value="other")
                                                                        for i in range(7)]
    with StatsigEmulator(events) as emu:
        df = read(emu, name, T0, T0 + 100)
    assert len(df) == 5 and set(df["value"]) == {"mine"} and set(df["name"]) == {name}


def test_events_on_window_edges_are_neither_lost_nor_doubled():
    # Four windows of 1000 ms: events exactly on, just before and just after each edge, and a crowd at one ms.
    stamps = [T0 + edge + d for edge in (0, 1000, 2000, 3000) for d in (-1, 0, 1) if 0 <= edge + d < 4000]
    events = [ev(ts, user=str(i)) for i, ts in enumerate(stamps)] + [ev(T0 + 2000, user=f"crowd{i}")
                                                                     for i in range(30)]
    with StatsigEmulator(events) as emu:
        df = read(emu, "buy", T0, T0 + 4000, max_concurrency=4)
        assert df.attrs["statsig"]["windows"] == 4
    assert len(df) == len(events)
    assert sorted(df["userID"]) == sorted(e["userID"] for e in events)


def test_a_window_deeper_than_the_cursor_cap_is_split_without_gaps_or_duplicates():
    # 2,500 events; the server refuses cursors deeper than 300 rows; 40 events share the boundary millisecond.
    events = [ev(T0 + i * 7, user=str(i)) for i in range(2500)] + [ev(T0 + 7 * 2200, user=f"same{i}")
                                                                   for i in range(40)]
    with StatsigEmulator(events, max_cursor_rows=300) as emu:
        df = read(emu, "buy", T0, T0 + 7 * 2500, max_concurrency=2, page_size=100, retry=FAST)
    assert df.attrs["statsig"]["window_splits"] > 0
    assert len(df) == len(events) and not df["userID"].duplicated().any()
    assert got(df) == sorted(expected(emu, "buy", T0, T0 + 7 * 2500))


def test_walk_splits_before_the_server_refuses():
    events = [ev(T0 + i * 3, user=str(i)) for i in range(3000)]
    with StatsigEmulator(events, max_cursor_rows=500) as emu:
        with Transport(api_key=emu.api_key, base_url=emu.url) as transport:
            walk = CursorWalk(LOGS_PATH, time_windows(["buy"], T0, T0 + 9000, 1), limit=100, cap=500)
            pages = [p.content for p in Paginator(transport, walk, max_concurrency=2, progress=False,
                                                  codec=PageCodec(logs=True))]
    df, _dropped = build_frame(pages)
    assert walk.splits >= 3 and walk.refused == 0
    assert len(df) == 3000 and not df["userID"].duplicated().any()


def test_chunks_come_in_time_order_and_add_up_to_the_whole(logs_emu):
    stamps = sorted(int(e["timestamp"]) for e in logs_emu.events())
    start, end = stamps[0], stamps[-1] + 1
    whole = read(logs_emu, ["purchase", "page_view"], start, end)
    chunks = list(read(logs_emu, ["purchase", "page_view"], start, end, chunksize=700, max_concurrency=3))
    assert [len(c) for c in chunks[:-1]] == [700] * (len(chunks) - 1) and 0 < len(chunks[-1]) <= 700
    joined = concat_frames(chunks)
    assert joined["timestamp"].is_monotonic_increasing
    assert got(joined) == got(whole)
    assert all(isinstance(c.index, pd.RangeIndex) and c.index[0] == 0 for c in chunks)
    assert isinstance(joined["name"].dtype, pd.CategoricalDtype)


def test_chunked_read_checks_its_arguments_at_the_call(logs_emu):
    with pytest.raises(StatsigError, match="chunksize needs a time range"):
        read_events("purchase", base_url=logs_emu.url, api_key=logs_emu.api_key, chunksize=10)
    with pytest.raises(StatsigError, match="STATSIG_CONSOLE_API_KEY"):
        read_events("purchase", base_url=logs_emu.url, start="2026-01-01", chunksize=10)


@pytest.mark.parametrize("start, end", [
    ("2026-09-21", "2026-09-22"),
    (dt.datetime(2026, 9, 21), dt.datetime(2026, 9, 22)),
    (dt.datetime(2026, 9, 21, 2, tzinfo=dt.timezone(dt.timedelta(hours=2))), pd.Timestamp("2026-09-22", tz="UTC")),
    (pd.Timestamp("2026-09-20 20:00", tz="America/New_York"), "2026-09-22T00:00:00Z"),
])
def test_start_and_end_accept_strings_datetimes_and_timestamps(start, end):
    day = int(pd.Timestamp("2026-09-21", tz="UTC").value // 10**6)
    events = [ev(day - 1, user="before"), ev(day, user="first"), ev(day + 86_400_000 - 1, user="last"),
              ev(day + 86_400_000, user="after")]
    with StatsigEmulator(events) as emu:
        df = read_events("buy", base_url=emu.url, api_key=emu.api_key, start=start, end=end, progress=False)
        sent = {(int(r.query["start_ts"]), int(r.query["end_ts"])) for r in emu.requests}
    assert sorted(df["userID"]) == ["first", "last"]
    assert min(s for s, _ in sent) == day and max(e for _, e in sent) == day + 86_400_000


@pytest.mark.parametrize("kwargs, match", [
    ({"start": "2026-09-22", "end": "2026-09-21"}, "must be after"),
    ({"start": "not a date"}, "start must be"),
    ({"end": "2026-09-21"}, "needs start"),
    ({"start": "2026-09-21", "chunksize": 0}, "chunksize"),
])
def test_bad_ranges_are_clear_errors(logs_emu, kwargs, match):
    before = len(logs_emu.requests)
    with pytest.raises(StatsigError, match=match):
        read_events("purchase", base_url=logs_emu.url, api_key=logs_emu.api_key, **kwargs)
    assert len(logs_emu.requests) == before


def test_faults_on_the_logs_endpoint_are_retried():
    events = [ev(T0 + i, user=str(i)) for i in range(1500)]
    with StatsigEmulator(events) as emu:
        emu.inject("status", status=503, times=2, path=LOGS_PATH, retry_after="0")
        emu.inject("drop", times=1, path=LOGS_PATH, page=2)
        df = read(emu, "buy", T0, T0 + 1500, max_concurrency=1, retry=FAST)
    assert len(df) == 1500


def test_a_progress_callable_follows_a_range_read_and_its_chunks(logs_emu):
    stamps = sorted(int(e["timestamp"]) for e in logs_emu.events("purchase"))
    seen = []
    df = read(logs_emu, "purchase", stamps[0], stamps[-1] + 1, page_size=100, progress=seen.append)
    assert [p.pages for p in seen] == list(range(1, len(seen) + 1)) and len(seen) > 1
    assert all(a.rows < b.rows for a, b in itertools.pairwise(seen))
    assert seen[-1].rows == len(df) and {p.total for p in seen} == {None}  # the logs endpoint gives no total
    seen.clear()
    chunks = list(read(logs_emu, "purchase", stamps[0], stamps[-1] + 1, page_size=100, chunksize=500,
                       progress=seen.append))
    assert seen[-1].rows == sum(map(len, chunks)) == len(df)
