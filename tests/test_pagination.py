"""The walks' planning without HTTP (what they ask for next), and the Paginator that runs them over HTTP."""

from __future__ import annotations

import pytest

from statsig_pandas import RetryPolicy, StatsigAPIError, StatsigError
from statsig_pandas.decode import JoinedPage, PageCodec, PageColumns, convert_dicts, convert_log_dicts
from statsig_pandas.endpoints import LOGS_PATH, event_path, time_windows
from statsig_pandas.pagination import ConcurrencyLimit, CursorWalk, Page, PageNumberWalk, Paginator, TimeWindow
from statsig_pandas.transport import Transport


def answer(walk, request, *, items, total, next_page=True, per_page=None, page_number=None):
    data = [{"timestamp": str(1000 * request.page + i), "name": "e", "source": "s", "value": str(i),
             "userID": str(request.page)} for i in range(items)]
    pagination = {"itemsPerPage": per_page or items, "pageNumber": page_number or request.page,
                  "totalItems": total, "nextPage": "/x?page=next" if next_page else None}
    cols = convert_dicts(data, page=request.page)
    return walk.receive(Page(request, items=items, pagination=pagination, content=cols,
                             fingerprint=bytes([request.page % 256]) * 4))


def test_plans_every_page_from_the_first_answer_and_trusts_items_per_page():
    walk = PageNumberWalk("/p", limit=1000)
    (first,) = walk.first()
    assert first.params == {"page": 1, "limit": 1000}
    answer(walk, first, items=30, total=95)  # the server clamped 1000 to 30
    assert [r.page for r in walk.plan(0)] == [2, 3, 4]
    assert all(r.params["limit"] == 1000 for r in walk.plan(0)) is True


def test_stops_on_an_empty_page_and_on_a_null_next_page():
    walk = PageNumberWalk("/p", limit=10)
    (first,) = walk.first()
    answer(walk, first, items=10, total=50)
    requests = walk.plan(0)
    answer(walk, requests[0], items=0, total=50)  # page 2 empty: the window shrank
    assert not walk.wants(requests[1])
    walk2 = PageNumberWalk("/p", limit=10)
    answer(walk2, walk2.first()[0], items=10, total=10, next_page=False)
    assert walk2.plan(0) == []


def test_follows_next_page_when_total_is_missing():
    walk = PageNumberWalk("/p", limit=10)
    answer(walk, walk.first()[0], items=10, total=None)
    (second,) = walk.plan(0)
    answer(walk, second, items=10, total=None)
    (third,) = walk.plan(0)
    assert third.page == 3
    answer(walk, third, items=4, total=None, next_page=False)
    assert walk.plan(0) == []


def test_a_walk_without_total_stops_at_its_page_ceiling_and_says_so():
    walk = PageNumberWalk("/p", limit=10, max_pages_without_total=3)
    request = walk.first()[0]
    for _ in range(3):
        answer(walk, request, items=10, total=None)
        planned = walk.plan(0)
        request = planned[0] if planned else None
    assert request is None and walk.end == 4
    (message,) = walk.finish()
    assert "no totalItems" in message and "after 3 page(s)" in message and "missing" in message


def test_a_walk_with_a_total_is_bounded_by_it_not_by_the_ceiling():
    walk = PageNumberWalk("/p", limit=10, max_pages_without_total=2)
    answer(walk, walk.first()[0], items=10, total=50)
    assert [r.page for r in walk.plan(0)] == [2, 3, 4, 5] and walk.finish() == []


def test_window_growth_plans_more_pages_and_rereads_gaps():
    walk = PageNumberWalk("/p", limit=10)
    answer(walk, walk.first()[0], items=10, total=30)
    p2, p3 = walk.plan(0)
    answer(walk, p3, items=10, total=30)  # page 3 served before page 2 ...
    answer(walk, p2, items=10, total=35)  # ... which saw 5 new events: 5 were never seen, and 5 are new in front
    extra = walk.plan(0)
    assert [r.page for r in extra] == [4]  # the window now holds 35
    answer(walk, extra[0], items=5, total=35, next_page=False)
    assert walk.gaps() == [(0, 5), (20, 25)]
    rereads = walk.plan(0)
    assert sorted(r.page for r in rereads) == [1, 3]
    assert all(r.key[0] == 1 for r in rereads)


def test_server_ignoring_page_is_detected_by_page_number():
    walk = PageNumberWalk("/p", limit=7)
    answer(walk, walk.first()[0], items=7, total=100)
    second = walk.plan(0)[0]
    assert answer(walk, second, items=7, total=100, page_number=1) is False
    assert walk.plan(0) == [] and "ignored the page parameter" in walk.finish()[0]


def test_a_page_served_again_is_told_by_its_fingerprint():
    walk = PageNumberWalk("/p", limit=5)
    (first,) = walk.first()
    data = [{"timestamp": str(i), "name": "e", "source": "s", "value": "", "userID": "u"} for i in range(5)]
    cols = convert_dicts(data, page=1)
    pagination = {"itemsPerPage": 5, "totalItems": 50, "nextPage": "/x"}
    assert walk.receive(Page(first, items=5, pagination=pagination, content=cols, fingerprint=cols.digest()))
    second = walk.plan(0)[0]
    again = convert_dicts(data, page=2)  # the server ignored `page` and sent page 1 again
    assert walk.receive(Page(second, items=5, pagination=pagination, content=again,
                             fingerprint=again.digest())) is False
    assert "ignored the page parameter" in walk.finish()[0]


# -- the cursor walk ----------------------------------------------------------------------------------

def log_page(request, stamps, *, cursor=None):
    """An answer of the logs endpoint to ``request``: events at ``stamps`` (ms), newest first."""
    items = [{"id": f"{request.key}-{t}", "timestamp": f"{_iso(t)}", "event_name": "buy", "user_id": "1",
              "value": "", "sdk_type": "js"} for t in sorted(stamps, reverse=True)]
    cols = convert_log_dicts(items, page=request.page)
    pagination = {"has_more": cursor is not None, "next_cursor": cursor}
    return Page(request, items=len(items), pagination=pagination, content=cols, fingerprint=cols.digest())


def _iso(ms):
    import pandas as pd

    return pd.Timestamp(ms, unit="ms", tz="UTC").isoformat().replace("+00:00", "Z")


def test_cursor_walk_follows_each_chain_and_its_watermark_is_the_oldest_open_window():
    walk = CursorWalk(LOGS_PATH, time_windows(["buy"], 0, 4000, 2), limit=10)
    early, late = sorted(walk.first(), key=lambda r: r.params["start_ts"])
    assert (early.params["start_ts"], early.params["end_ts"], late.params["end_ts"]) == (0, 2000, 4000)
    assert early.params["query"] == 'event_name:"buy"' and "after" not in early.params
    assert walk.watermark() == 0
    assert walk.receive(log_page(early, [1500, 1900], cursor="c1"))
    (following,) = walk.plan(1)
    assert following.params["after"] == "c1" and following.key[:-1] == early.key[:-1] and following.page == 2
    walk.receive(log_page(following, [100]))  # no more: the early window is done
    assert walk.watermark() == 2000
    walk.receive(log_page(late, [3000]))
    assert walk.watermark() is None and walk.plan(0) == []


def test_cursor_walk_splits_a_window_about_to_pass_the_cap_at_its_oldest_event():
    walk = CursorWalk(LOGS_PATH, [TimeWindow(0, 10_000, {"query": "q"})], limit=10, cap=15)
    (first,) = walk.first()
    walk.receive(log_page(first, range(9000, 9010), cursor="c1"))  # 10 rows read; 10 more would pass 15
    halves = walk.plan(0)
    assert walk.splits == 1
    assert [(r.params["start_ts"], r.params["end_ts"]) for r in halves] == [(0, 4500), (4500, 9001)]
    assert all("after" not in r.params and r.params["query"] == "q" for r in halves)


def test_cursor_walk_recovers_from_a_refused_deep_cursor_but_not_from_a_refused_first_page():
    walk = CursorWalk(LOGS_PATH, [TimeWindow(0, 10_000)], limit=10)
    (first,) = walk.first()
    refused = StatsigAPIError("cursor too deep", status=400)
    assert walk.recover(first, refused) is False
    walk.receive(log_page(first, [8000, 9000], cursor="c1"))
    (deeper,) = walk.plan(0)
    assert walk.recover(deeper, refused) is True
    assert walk.refused == 1 and walk.splits == 1 and len(walk.plan(0)) == 2


def test_cursor_walk_refuses_to_split_a_window_that_returned_nothing():
    walk = CursorWalk(LOGS_PATH, [TimeWindow(0, 10_000)], limit=10, cap=5)
    (first,) = walk.first()
    with pytest.raises(StatsigError, match="before returning any event"):
        walk.receive(log_page(first, [], cursor="c1"))


# -- the paginator, over HTTP ---------------------------------------------------------------------------

def test_paginator_yields_typed_pages_of_one_fingerprint_type(emulator):
    total = len(emulator.events("purchase"))
    with Transport(api_key=emulator.api_key, base_url=emulator.url) as transport:
        walk = PageNumberWalk(event_path("purchase"), limit=40)
        pages = list(Paginator(transport, walk, max_concurrency=3, progress=False))
        logs = list(Paginator(transport, CursorWalk(LOGS_PATH, time_windows(["purchase"], 0, 2**41, 2), limit=40),
                              max_concurrency=2, progress=False, codec=PageCodec(logs=True)))
    assert sum(p.items for p in pages) == total == sum(len(p.content) for p in pages)
    assert sorted(p.request.page for p in pages) == list(range(1, -(-total // 40) + 1))
    assert all(p.pagination["totalItems"] == total and p.watermark is None for p in pages)
    assert {type(p.content) for p in pages} == {JoinedPage} and {type(p.content) for p in logs} == {PageColumns}
    assert {type(p.fingerprint) for p in pages + logs} == {bytes}
    assert len({p.fingerprint for p in pages}) == len(pages)
    assert sum(p.items for p in logs) == total and logs[-1].watermark is None


def test_paginator_halves_its_concurrency_on_a_429(emulator):
    emulator.inject("status", status=429, retry_after="0", times=1, page=2)
    fast = RetryPolicy(max_attempts=3, backoff_base=0.01, jitter=lambda: 0.0)
    with Transport(api_key=emulator.api_key, base_url=emulator.url, retry=fast) as transport:
        paginator = Paginator(transport, PageNumberWalk(event_path("purchase"), limit=40), max_concurrency=4,
                              progress=False)
        pages = list(paginator)
    assert paginator.concurrency.throttled == 1 and paginator.concurrency.current < 4
    assert sum(p.items for p in pages) == len(emulator.events("purchase"))


def test_concurrency_limit_halves_on_throttle_and_regrows():
    limit = ConcurrencyLimit(8)
    limit.throttle()
    assert limit.current == 4
    limit.throttle()
    limit.throttle()
    limit.throttle()
    assert limit.current == 1
    for _ in range(2):
        limit.success()
    assert limit.current == 2
    assert limit.throttled == 4
