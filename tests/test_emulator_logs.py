"""The emulator's ``GET /console/v1/logs``, over real HTTP: filter, window, limit, cursors, faults."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
import requests

from statsig_pandas.endpoints import event_path as event_url_path
from statsig_pandas.testing import StatsigEmulator
from statsig_pandas.testing.logs import LOGS_PATH, LogStore, event_name_filter

FAR_FUTURE = 4_102_444_800_000  # 2100-01-01
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
ODD_NAMES = ['checkout "v2"', "back\\slash", "two words", "a:b", 'event_name:"purchase"', '\\"', "x\" OR y"]


def get(emu, key=None, **params):
    params.setdefault("source", "events")
    key = emu.api_key if key is None else key
    return requests.get(emu.url + LOGS_PATH, params=params, headers={"STATSIG-API-KEY": key}, timeout=10)


def walk(emu, after=None, **params):
    """Every item of one cursor walk (from ``after``, if given), and the number of requests it took."""
    items, cursor, pages = [], after, 0
    while True:
        answer = get(emu, **params, **({"after": cursor} if cursor else {}))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        items += body["data"]
        pages += 1
        cursor = body["pagination"]["next_cursor"]
        assert body["pagination"]["has_more"] is (cursor is not None)
        if cursor is None:
            return items, pages


def epoch_ms(iso: str) -> int:
    return (datetime.fromisoformat(iso) - EPOCH) // timedelta(milliseconds=1)


def as_event(item: dict) -> tuple:
    """A logs item in the events endpoint's terms, as a reader maps it."""
    return (str(epoch_ms(item["timestamp"])), item["event_name"], item["sdk_type"],
            "" if item["value"] is None else item["value"], item["user_id"],
            tuple(sorted((item.get("fields") or {}).items())))


def event_key(event: dict) -> tuple:
    return (event["timestamp"], event["name"], event["source"], event["value"], event["userID"],
            tuple(sorted((event.get("metadata") or {}).items())))


def served_events(emu, name):
    """Every event the events endpoint serves for ``name``, page by page over HTTP."""
    events, page = [], 1
    while True:
        body = requests.get(emu.url + event_url_path(name), params={"page": page, "limit": 100},
                            headers={"STATSIG-API-KEY": emu.api_key}, timeout=10).json()
        events += body["data"]
        if body["pagination"]["nextPage"] is None:
            return events
        page += 1


def event(ts, name="e", value="v", user="1", **extra):
    return {"timestamp": str(ts), "name": name, "source": "js-client", "value": value, "userID": user,
            "metadata": {}, **extra}


def assert_error(answer, status, *words):
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["status"] == status
    for word in words:
        assert word in body["message"]


# -- shape and content ---------------------------------------------------------

def test_items_have_the_logs_shape(emulator):
    body = get(emulator, query='event_name:"purchase"', start_ts=0, end_ts=FAR_FUTURE, limit=1000).json()
    assert body["message"] == "Logs listed successfully."
    assert len(body["data"]) == len(emulator.events("purchase"))
    for item in body["data"]:
        assert set(item) - {"fields"} == {"id", "timestamp", "event_name", "user_id", "value", "sdk_type",
                                          "sdk_version"}
        assert ISO_MS.fullmatch(item["timestamp"])
        assert item["event_name"] == "purchase"
        assert "fields" not in item or item["fields"]  # present only when there is metadata
    assert len({item["id"] for item in body["data"]}) == len(body["data"])


def test_same_events_as_the_events_endpoint(emulator):
    for name in ("add_to_cart", "purchase", "page_view"):
        items, _ = walk(emulator, query=event_name_filter(name), start_ts=0, end_ts=FAR_FUTURE, limit=1000)
        assert Counter(map(as_event, items)) == Counter(map(event_key, served_events(emulator, name)))


def test_about_half_the_empty_values_come_back_null(emulator):
    items, _ = walk(emulator, start_ts=0, end_ts=FAR_FUTURE, limit=1000)
    empty = [item["value"] for item in items if item["value"] in ("", None)]
    nulls = empty.count(None)
    assert len(empty) > 20 and 0.25 < nulls / len(empty) < 0.75
    assert sum(e["value"] == "" for e in emulator.events()) == len(empty)


def test_ids_are_stable_across_restarts_and_added_events():
    events = [event(1000 + i, value=str(i % 3)) for i in range(50)] + [event(1500)] * 3  # identical triplets
    with StatsigEmulator(events, api_key=None) as emu:
        before = {i["id"]: as_event(i) for i in get(emu, start_ts=0, end_ts=5000, limit=1000).json()["data"]}
        emu.add_events([event(4000, name="late")])
        after = {i["id"]: as_event(i) for i in get(emu, start_ts=0, end_ts=5000, limit=1000).json()["data"]}
    with StatsigEmulator(events, api_key=None) as emu:
        again = {i["id"]: as_event(i) for i in get(emu, start_ts=0, end_ts=5000, limit=1000).json()["data"]}
    assert len(before) == 53 and len(after) == 54
    assert before == again and before.items() <= after.items()


def test_without_a_filter_every_name_is_listed_newest_first(emulator):
    items, _ = walk(emulator, start_ts=0, end_ts=FAR_FUTURE, limit=1000)
    assert Counter(map(as_event, items)) == Counter(map(event_key, emulator.events()))
    stamps = [epoch_ms(i["timestamp"]) for i in items]
    assert stamps == sorted(stamps, reverse=True)


# -- the filter ------------------------------------------------------------------

@pytest.fixture
def odd_names():
    events = [event(1000 + 10 * i + k, name=name) for i, name in enumerate(ODD_NAMES) for k in range(i + 1)]
    events += [event(5000 + k, name="purchase") for k in range(5)]
    with StatsigEmulator(events) as emu:
        yield emu


@pytest.mark.parametrize("name", ODD_NAMES)
def test_a_quoted_filter_selects_exactly_that_name(odd_names, name):
    data = get(odd_names, query=event_name_filter(name), start_ts=0, end_ts=10_000).json()["data"]
    assert len(data) == ODD_NAMES.index(name) + 1
    assert {item["event_name"] for item in data} == {name}


def test_a_bare_name_and_spacing_around_the_filter_are_accepted(odd_names):
    for query in ("event_name:purchase", ' event_name : "purchase" ', 'event_name:"purchase"'):
        data = get(odd_names, query=query, start_ts=0, end_ts=10_000).json()["data"]
        assert len(data) == 5 and {item["event_name"] for item in data} == {"purchase"}


def test_an_unknown_name_is_an_empty_list(odd_names):
    answer = get(odd_names, query=event_name_filter("nobody logs this"), start_ts=0, end_ts=10_000)
    assert answer.status_code == 200
    assert answer.json()["data"] == [] and answer.json()["pagination"] == {"next_cursor": None, "has_more": False}


@pytest.mark.parametrize("query", [
    'event_name:"unterminated',
    'event_name:"a"b"',
    'event_name:"a" OR event_name:"purchase"',
    "event_name:two words",
    'event_name:"tab\\t"',
    "event_name:",
    "user_id:42",
    "purchase",
])
def test_a_malformed_filter_is_a_400_saying_how_to_quote(odd_names, query):
    assert_error(get(odd_names, query=query, start_ts=0, end_ts=10_000), 400, "Invalid query", "event_name:")


# -- the time window ---------------------------------------------------------------

def test_start_is_inclusive_and_end_exclusive():
    with StatsigEmulator([event(ts, value=str(ts)) for ts in (999, 1000, 1001, 1999, 2000, 2001)]) as emu:
        data = get(emu, query="event_name:e", start_ts=1000, end_ts=2000).json()["data"]
        assert [item["value"] for item in data] == ["1999", "1001", "1000"]
        assert get(emu, query="event_name:e", start_ts=1000, end_ts=1000).json()["data"] == []


def test_the_default_window_is_the_hour_before_now():
    now = int(time.time() * 1000)
    offsets = {"10 min ago": -600_000, "2 h ago": -7_200_000, "in 10 min": 600_000, "59 min ago": -3_540_000}
    with StatsigEmulator([event(now + d, value=label) for label, d in offsets.items()]) as emu:
        data = get(emu, query="event_name:e").json()["data"]
        assert [item["value"] for item in data] == ["10 min ago", "59 min ago"]


@pytest.mark.parametrize("params, words", [
    ({"start_ts": "yesterday"}, ["start_ts", "epoch milliseconds"]),
    ({"end_ts": "1.5e12"}, ["end_ts"]),
    ({"start_ts": 2000, "end_ts": 1000}, ["start_ts", "after end_ts"]),
    ({"source": "exposures"}, ["source", "events"]),
    ({"source": ""}, ["source"]),
])
def test_a_bad_window_or_source_is_a_400(emulator, params, words):
    assert_error(get(emulator, **params), 400, *words)


def test_source_is_required(emulator):
    answer = requests.get(emulator.url + LOGS_PATH, headers={"STATSIG-API-KEY": emulator.api_key}, timeout=10)
    assert_error(answer, 400, "source")


# -- limit -----------------------------------------------------------------------------

def test_limit_defaults_to_100_and_is_clamped_to_1000():
    with StatsigEmulator.for_logs(5_000, names=["e"], start_ms=0, end_ms=100_000) as emu:
        assert len(get(emu, query="event_name:e", start_ts=0, end_ts=100_000).json()["data"]) == 100
        assert len(get(emu, query="event_name:e", start_ts=0, end_ts=100_000, limit=1).json()["data"]) == 1
        clamped = get(emu, query="event_name:e", start_ts=0, end_ts=100_000, limit=5000).json()
        assert len(clamped["data"]) == 1000
        # The clamped limit is the one a cursor is bound to.
        following = get(emu, query="event_name:e", start_ts=0, end_ts=100_000, limit=1000,
                        after=clamped["pagination"]["next_cursor"])
        assert following.status_code == 200 and len(following.json()["data"]) == 1000


@pytest.mark.parametrize("limit", ["0", "-5", "1.5", "ten", "", " 10"])
def test_a_limit_that_is_not_a_positive_integer_is_a_400(emulator, limit):
    assert_error(get(emulator, limit=limit), 400, "limit")


def test_max_limit_clamps_the_logs_limit_too():
    with StatsigEmulator.for_logs(500, names=["e"], start_ms=0, end_ms=1000, max_limit=50) as emu:
        assert len(get(emu, query="event_name:e", start_ts=0, end_ts=1000, limit=1000).json()["data"]) == 50


# -- cursors ---------------------------------------------------------------------------

def test_a_cursor_walk_returns_every_event_once_newest_first(emulator):
    window = {"start_ts": 0, "end_ts": FAR_FUTURE}
    everything = get(emulator, query="event_name:purchase", limit=1000, **window).json()["data"]
    items, pages = walk(emulator, query="event_name:purchase", limit=7, **window)
    assert pages == -(-len(everything) // 7)
    assert [i["id"] for i in items] == [i["id"] for i in everything]
    assert len({i["id"] for i in items}) == len(items) == len(emulator.events("purchase"))
    stamps = [i["timestamp"] for i in items]
    assert stamps == sorted(stamps, reverse=True)


def test_events_of_the_same_millisecond_are_walked_once_in_id_order():
    # 3,000 events over 50 ms: every millisecond holds dozens of them.
    with StatsigEmulator.for_logs(3_000, names=["e"], start_ms=1_000, end_ms=1_050, seed=4) as emu:
        items, _ = walk(emu, query="event_name:e", start_ts=1_000, end_ts=1_050, limit=13)
    keys = [(epoch_ms(i["timestamp"]), int(i["id"], 16)) for i in items]
    assert len(items) == len(set(keys)) == 3_000
    assert keys == sorted(keys, reverse=True)


def test_a_defaulted_window_stays_fixed_along_its_walk():
    now = int(time.time() * 1000)
    with StatsigEmulator([event(now - 1000 * k - 1, value="old") for k in range(30)]) as emu:
        first = get(emu, query="event_name:e", limit=10).json()
        time.sleep(0.01)
        emu.add_events([event(int(time.time() * 1000), value="new")])  # after the walk's window
        time.sleep(0.01)
        rest, _ = walk(emu, query="event_name:e", limit=10, after=first["pagination"]["next_cursor"])
    # Had the window moved to the new "now", the new event would be in it and shift every page.
    assert len(first["data"]) + len(rest) == 30
    assert {i["value"] for i in rest} == {"old"}
    assert rest[0]["timestamp"] < first["data"][-1]["timestamp"]


@pytest.mark.parametrize("change", [
    {"query": "event_name:add_to_cart"},
    {"query": None},
    {"start_ts": 1},
    {"end_ts": FAR_FUTURE - 1},
    {"end_ts": None},
    {"limit": 6},
])
def test_a_cursor_is_only_valid_for_its_query_window_and_limit(emulator, change):
    params = {"query": "event_name:purchase", "start_ts": 0, "end_ts": FAR_FUTURE, "limit": 5}
    cursor = get(emulator, **params).json()["pagination"]["next_cursor"]
    assert get(emulator, **params, after=cursor).status_code == 200
    changed = {k: v for k, v in {**params, **change}.items() if v is not None}
    assert_error(get(emulator, **changed, after=cursor), 400, "invalid cursor")


def test_forged_and_foreign_cursors_are_invalid(emulator):
    params = {"query": "event_name:purchase", "start_ts": 0, "end_ts": FAR_FUTURE, "limit": 5}
    cursor = get(emulator, **params).json()["pagination"]["next_cursor"]
    flipped = cursor[:-1] + ("A" if cursor[-1] != "A" else "B")
    for bad in ("not a cursor", "====", flipped, cursor + "AA"):
        assert_error(get(emulator, **params, after=bad), 400, "invalid cursor")
    with StatsigEmulator(emulator.events(), api_key=emulator.api_key) as other:
        assert_error(get(other, **params, after=cursor), 400, "invalid cursor")


def test_cursors_past_the_row_cap_are_refused():
    with StatsigEmulator.for_logs(1_000, names=["e"], start_ms=0, end_ms=10_000, max_cursor_rows=25) as emu:
        params = {"query": "event_name:e", "start_ts": 0, "end_ts": 10_000, "limit": 10}
        cursor, served = None, 0
        for _ in range(3):  # offsets 0, 10, 20: below the cap
            body = get(emu, **params, **({"after": cursor} if cursor else {})).json()
            served += len(body["data"])
            cursor = body["pagination"]["next_cursor"]
        assert served == 30 and cursor is not None
        assert_error(get(emu, **params, after=cursor), 400, "narrow the time window")
        # A narrower window walks from its start again.
        assert len(walk(emu, **{**params, "end_ts": 200})[0]) == len(get(
            emu, **{**params, "end_ts": 200, "limit": 1000}).json()["data"])


def test_the_cap_is_100_000_rows_by_default():
    with StatsigEmulator.for_logs(101_000, names=["e"], start_ms=0, end_ms=10_000) as emu:
        params = {"query": "event_name:e", "start_ts": 0, "end_ts": 10_000, "limit": 1000}
        cursor, pages = None, 0
        while True:
            answer = get(emu, **params, **({"after": cursor} if cursor else {}))
            if answer.status_code != 200:
                break
            pages, cursor = pages + 1, answer.json()["pagination"]["next_cursor"]
        assert pages == 100
        assert_error(answer, 400, "100000 rows", "narrow the time window")


# -- key, faults ----------------------------------------------------------------------

@pytest.mark.parametrize("key", ["", "console-wrong", "secret-abc"])
def test_the_key_is_checked(emulator, key):
    assert_error(get(emulator, key=key, query="event_name:purchase"), 401, "CONSOLE key")


def test_an_injected_fault_hits_the_logs_path_at_its_page(emulator):
    emulator.inject("status", status=503, retry_after="1", path=LOGS_PATH, page=2)
    emulator.inject("status", status=500, path=event_url_path("purchase"))  # another path: not for logs
    params = {"query": "event_name:purchase", "start_ts": 0, "end_ts": FAR_FUTURE, "limit": 10}
    first = get(emulator, **params)
    assert first.status_code == 200
    cursor = first.json()["pagination"]["next_cursor"]
    failed = get(emulator, **params, after=cursor)
    assert_error(failed, 503)
    assert failed.headers["Retry-After"] == "1"
    again = get(emulator, **params, after=cursor)
    assert again.status_code == 200 and again.json()["data"][0]["id"] != first.json()["data"][0]["id"]
    assert [r.fault for r in emulator.requests] == [None, "status 503", None]


def test_a_dropped_connection_and_latency_apply_to_logs():
    with StatsigEmulator.for_logs(100, names=["e"], start_ms=0, end_ms=1000, latency=0.2) as emu:
        emu.inject("drop", path=LOGS_PATH)
        with pytest.raises(requests.ConnectionError):
            get(emu, query="event_name:e", start_ts=0, end_ts=1000)
        start = time.monotonic()
        assert get(emu, query="event_name:e", start_ts=0, end_ts=1000).status_code == 200
        assert time.monotonic() - start >= 0.2


# -- a store built with numpy -------------------------------------------------------------

def test_a_built_store_serves_the_same_events_on_both_endpoints():
    names = ["add_to_cart", "purchase", "page_view"]
    with StatsigEmulator.for_logs(3_000, names=names, start_ms=0, end_ms=86_400_000, seed=2) as emu:
        for name in names:
            items, _ = walk(emu, query=event_name_filter(name), start_ts=0, end_ts=86_400_000, limit=1000)
            served = served_events(emu, name)
            assert Counter(map(as_event, items)) == Counter(map(event_key, served))
            assert [int(e["timestamp"]) for e in served] == sorted((int(e["timestamp"]) for e in served),
                                                                   reverse=True)
        assert sum(len(emu.events(n)) for n in names) == len(emu.events()) == 3_000
        with pytest.raises(TypeError, match="fixed LogStore"):
            emu.add_events([event(5)])


def test_a_store_is_given_with_logs_and_not_with_events():
    store = LogStore.synthetic(10, names=["e"], start_ms=0, end_ms=10)
    with pytest.raises(ValueError, match="neither events nor grow_per_request"):
        StatsigEmulator([event(1)], logs=store)
    with StatsigEmulator(logs=store) as emu:
        assert len(get(emu, query="event_name:e", start_ts=0, end_ts=10).json()["data"]) == 10


def test_a_synthetic_store_is_deterministic_and_compact():
    a = LogStore.synthetic(100_000, start_ms=0, end_ms=86_400_000, seed=7)
    b = LogStore.synthetic(100_000, start_ms=0, end_ms=86_400_000, seed=7)
    rows, total = a.select("purchase", 0, 86_400_000, limit=1000)
    assert total == int(a.bounds[2] - a.bounds[1])
    assert a.log_items(rows) == b.log_items(rows)
    assert a.nbytes < 20 * len(a)  # bytes per event: columns of small integer codes


def test_prerendered_store_serves_the_same_bytes():
    plain = LogStore.synthetic(20_000, start_ms=0, end_ms=10**9, seed=4)
    cached = LogStore.synthetic(20_000, start_ms=0, end_ms=10**9, seed=4).prerender()
    for name, offset in ((None, 0), ("purchase", 700), ("add_to_cart", 12_000)):
        rows, _ = plain.select(name, 0, 10**9, offset=offset, limit=1000)
        assert cached.log_items_json(rows) == plain.log_items_json(rows)
        assert json.loads(plain.log_items_json(rows)) == plain.log_items(rows)
