"""The page-number walk's planning, without HTTP: what it asks for next."""

from __future__ import annotations

from statsig_pandas.decode import convert_dicts
from statsig_pandas.pagination import Page, PageNumberWalk


def answer(walk, request, *, items, total, next_page=True, per_page=None, page_number=None):
    data = [{"timestamp": str(1000 * request.page + i), "name": "e", "source": "s", "value": str(i),
             "userID": str(request.page)} for i in range(items)]
    pagination = {"itemsPerPage": per_page or items, "pageNumber": page_number or request.page,
                  "totalItems": total, "nextPage": "/x?page=next" if next_page else None}
    cols = convert_dicts(data, page=request.page)
    return walk.receive(Page(request, {"_data_len": items, "_pagination": pagination}, cols,
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
