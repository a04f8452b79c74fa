"""Walks that end: stuck cursors, claims of size, pages without pagination, rows out of range, odd times."""

from __future__ import annotations

import gzip
import json
import tracemalloc

import pytest
from faults.helpers import DAY, T0, Outcome, ev, events_body, log_item, ms, opts

import statsig_pandas as sp
from statsig_pandas import ResponseFormatError, StatsigError, StatsigWarning, read_events
from statsig_pandas.pagination import PageNumberWalk, Paginator
from statsig_pandas.testing import StatsigEmulator
from statsig_pandas.transport import Transport

LOGS = "/console/v1/logs"


def logs_body(items, *, cursor, has_more=True) -> bytes:
    return json.dumps({"message": "Logs listed successfully.", "data": items,
                       "pagination": {"next_cursor": cursor, "has_more": has_more}}).encode()


def ended_with_a_word(outcome: Outcome, *words: str) -> bool:
    """A ResponseFormatError, or a StatsigWarning, saying one of ``words``."""
    texts = [str(outcome.error)] if outcome.error is not None else outcome.warnings
    return any(w in t.lower() for t in texts for w in words)


# -- 3: a cursor walk always ends -------------------------------------------------------------------------

@pytest.mark.timeout(60)
def test_logs_cursor_that_repeats_ends_the_window():
    with StatsigEmulator.for_logs(200, start_ms=T0, end_ms=T0 + DAY, seed=1) as emu:
        stuck = logs_body([log_item(T0 + 5000, id_="a")], cursor="stuck")
        emu.inject("json", path=LOGS, times=300, body=stuck)
        outcome = Outcome(lambda: read_events("purchase", start=ms(T0), end=ms(T0 + DAY), max_concurrency=1,
                                              **opts(emu)), ResponseFormatError)
        sent = len(emu.requests)
    assert sent <= 4, f"{sent} requests for a cursor that never moved"
    assert ended_with_a_word(outcome, "cursor"), (outcome.error, outcome.warnings)


@pytest.mark.timeout(60)
def test_logs_pages_that_move_no_event_forward_end_the_window():
    with StatsigEmulator.for_logs(200, start_ms=T0, end_ms=T0 + DAY, seed=1) as emu:
        same = lambda n: logs_body([log_item(T0 + 5000, id_="a")], cursor=f"fresh-{n}")  # noqa: E731
        emu.inject("json", path=LOGS, times=300, body=same)
        outcome = Outcome(lambda: read_events("purchase", start=ms(T0), end=ms(T0 + DAY), max_concurrency=1,
                                              **opts(emu)), ResponseFormatError)
        sent = len(emu.requests)
    assert sent <= 4, f"{sent} requests for pages that brought nothing new"
    assert ended_with_a_word(outcome, "cursor", "no new", "advance"), (outcome.error, outcome.warnings)


@pytest.mark.timeout(60)
def test_logs_empty_pages_that_claim_more_end_the_window():
    with StatsigEmulator.for_logs(200, start_ms=T0, end_ms=T0 + DAY, seed=1) as emu:
        emu.inject("json", path=LOGS, times=300, body=lambda n: logs_body([], cursor=f"fresh-{n}"))
        outcome = Outcome(lambda: read_events("purchase", start=ms(T0), end=ms(T0 + DAY), max_concurrency=1,
                                              **opts(emu)), ResponseFormatError)
        sent = len(emu.requests)
    assert sent <= 4, f"{sent} requests for empty pages"
    assert ended_with_a_word(outcome, "cursor", "no new", "advance", "empty"), (outcome.error, outcome.warnings)


# -- 4: rows stay in [start, end) -----------------------------------------------------------------------

def boundary_events():
    """Events at both ends of two days, and at the midnight between them."""
    return [ev(t, user=str(i)) for i, t in enumerate(
        [T0 - 1, T0, T0 + 1, T0 + DAY - 1, T0 + DAY, T0 + DAY + 1, T0 + 2 * DAY - 1, T0 + 2 * DAY])]


def test_rows_outside_the_range_never_come_back_from_an_inclusive_server():
    with StatsigEmulator(boundary_events(), end_inclusive=True) as emu:
        whole = read_events("buy", start=ms(T0), end=ms(T0 + 2 * DAY), **opts(emu))
        chunks = list(read_events("buy", start=ms(T0), end=ms(T0 + 2 * DAY), chunksize=2, **opts(emu)))
    inside = [T0, T0 + 1, T0 + DAY - 1, T0 + DAY, T0 + DAY + 1, T0 + 2 * DAY - 1]
    assert whole["timestamp"].astype("int64").tolist() == inside
    assert [t for c in chunks for t in c["timestamp"].astype("int64")] == inside


def test_parquet_stores_each_boundary_event_once_from_an_inclusive_server(tmp_path):
    with StatsigEmulator(boundary_events(), end_inclusive=True) as emu:
        summary = sp.to_parquet("buy", tmp_path / "ds", start=ms(T0), end=ms(T0 + 2 * DAY), **opts(emu))
    back = sp.read_parquet(tmp_path / "ds")
    assert summary["rows_written"] == 6
    assert back["timestamp"].astype("int64").tolist() == [T0, T0 + 1, T0 + DAY - 1, T0 + DAY, T0 + DAY + 1,
                                                          T0 + 2 * DAY - 1]


# -- 8: planning follows pages seen, not the claim -------------------------------------------------------

@pytest.mark.timeout(120)
def test_a_total_that_jumps_mid_read_plans_no_more_than_pages_seen():
    with StatsigEmulator(n_events=1000, names=["buy"], seed=4) as emu:
        events = emu.events("buy")
        emu.inject("json", page=2, body=events_body(events[100:200], itemsPerPage=100, pageNumber=2,
                                                    totalItems=10**8, nextPage="/console/v1/events/buy?page=3"))
        tracemalloc.start()
        try:
            with pytest.warns(StatsigWarning):
                df = read_events("buy", page_size=100, **opts(emu))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        sent = len(emu.requests)
    assert len(df) == 1000
    assert peak < 30 * 2**20, f"the read peaked at {peak / 2**20:.0f} MiB"
    # 10 pages, 16 planned ahead of the furthest seen, then 3 rounds of re-reads of at most 16 pages each
    assert sent <= 10 + 16 + 3 * 16


@pytest.mark.timeout(60)
def test_endless_distinct_pages_without_a_total_end_at_the_ceiling_with_a_warning():
    # Every page full, new, and "more follows", with nothing to say how many: only a ceiling ends it.
    endless = lambda n: events_body([ev(T0 - n * 10 - i, user=f"u{n}-{i}") for i in range(10)],  # noqa: E731
                                    itemsPerPage=10, nextPage="/console/v1/events/buy?page=next")
    with StatsigEmulator(n_events=10, names=["buy"], seed=1) as emu:
        emu.inject("json", path="/console/v1/events/buy", times=10_000, body=endless)
        transport = Transport(api_key=emu.api_key, base_url=emu.url)
        walk = PageNumberWalk("/console/v1/events/buy", limit=10, max_pages_without_total=25)
        with pytest.warns(StatsigWarning, match=r"no totalItems .* after 25 page\(s\)"):
            pages = list(Paginator(transport, walk, max_concurrency=4, progress=False))
        transport.close()
        sent = len(emu.requests)
    assert len(pages) == 25 and sent == 25
    assert sum(p.items for p in pages) == 250


def gzip_json(inflated: int) -> bytes:
    """A valid envelope that inflates to ``inflated`` bytes (mostly one long string)."""
    head, tail = b'{"data": [], "pagination": {}, "padding": "', b'"}'
    return gzip.compress(head + b"a" * (inflated - len(head) - len(tail)) + tail, compresslevel=9)


@pytest.mark.timeout(120)
def test_a_gzip_body_inflating_past_the_cap_is_refused():
    bomb = gzip_json(80 * 2**20)
    assert len(bomb) < 200_000
    with StatsigEmulator(n_events=100, names=["buy"], seed=4) as emu:
        emu.inject("json", page=1, body=bomb, headers={"Content-Encoding": "gzip"})
        tracemalloc.start()
        try:
            with pytest.raises(ResponseFormatError, match=r"(?i)larger|too large|exceeds|cap"):
                read_events("buy", **opts(emu))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 80 * 2**20, f"the read peaked at {peak / 2**20:.0f} MiB"


def test_a_body_over_a_configured_cap_is_refused_compressed_or_not():
    big = events_body([ev(T0 + i, value="x" * 1000) for i in range(2000)], itemsPerPage=2000, pageNumber=1,
                      totalItems=2000)
    with StatsigEmulator(n_events=100, names=["buy"], seed=4) as emu:
        emu.inject("json", page=1, body=big)
        with pytest.raises(ResponseFormatError, match=r"(?i)larger|too large|exceeds|cap"):
            read_events("buy", max_response_bytes=1_000_000, **opts(emu))
        emu.inject("json", page=1, body=gzip.compress(big), headers={"Content-Encoding": "gzip"})
        with pytest.raises(ResponseFormatError, match=r"(?i)larger|too large|exceeds|cap"):
            read_events("buy", max_response_bytes=1_000_000, **opts(emu))
        assert len(read_events("buy", max_response_bytes=1_000_000, **opts(emu))) == 100  # the cap leaves the rest


# -- 10: no silent short result --------------------------------------------------------------------------

def test_an_answer_without_pagination_is_not_a_silent_short_read():
    with StatsigEmulator(n_events=1000, names=["buy"], seed=4) as emu:
        page = json.dumps({"message": "ok", "data": emu.events("buy")[:100]}).encode()
        emu.inject("json", page=1, body=page)
        outcome = Outcome(lambda: read_events("buy", page_size=100, **opts(emu)), ResponseFormatError)
    assert outcome.error is not None or any("pagination" in w and "100" in w for w in outcome.warnings), \
        outcome.warnings


def test_a_logs_answer_without_pagination_is_not_a_silent_short_read():
    with StatsigEmulator.for_logs(200, start_ms=T0, end_ms=T0 + DAY, seed=1) as emu:
        page = json.dumps({"message": "ok", "data": [log_item(T0 + 5, id_="a")]}).encode()
        emu.inject("json", path=LOGS, body=page)
        outcome = Outcome(lambda: read_events("purchase", start=ms(T0), end=ms(T0 + DAY), max_concurrency=1,
                                              **opts(emu)), ResponseFormatError)
    assert outcome.error is not None or any("pagination" in w for w in outcome.warnings), outcome.warnings


def test_the_lowest_int64_timestamp_is_an_error_not_a_silent_nat():
    events = [ev(T0 + 1), ev(-(2**63)), ev(T0 + 2)]
    with StatsigEmulator(events) as emu:
        with pytest.raises(StatsigError, match="timestamp"):
            read_events("buy", **opts(emu))


def test_every_coerced_timestamp_is_counted_in_the_warning():
    events = [ev(t, user=str(i)) for i, t in enumerate([T0 + 1, -(2**63), "soon", T0 + 2])]
    with StatsigEmulator(events) as emu:  # a page each: the lowest int64 alone on a page of digits
        with pytest.warns(StatsigWarning, match=r"\b2 event\(s\)"):
            df = read_events("buy", errors="coerce", page_size=1, **opts(emu))
    assert df["timestamp"].isna().sum() == 2
