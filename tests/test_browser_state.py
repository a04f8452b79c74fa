"""The browser's state without a front end: filters -> matching rows, table order, cached results."""

from __future__ import annotations

import pandas as pd
import pytest

from statsig_pandas import analysis
from statsig_pandas.browser.state import ALL, BrowserState, Filters
from statsig_pandas.errors import StatsigError
from statsig_pandas.frame import empty_frame
from statsig_pandas.testing.synthetic import synthetic_frame

END_MS = 1_774_000_000_000


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return synthetic_frame(3000, seed=5, end_ms=END_MS)


@pytest.fixture
def state(events) -> BrowserState:
    return BrowserState(events)


def test_no_filter_is_every_event_without_a_copy(state, events):
    nothing = Filters()
    assert state.mask(nothing) is None and state.positions(nothing) is None
    assert state.filtered(nothing) is events and state.matches(nothing) == len(events)
    assert Filters(name=ALL, source=ALL) == nothing


@pytest.mark.parametrize("filters, select", [
    (Filters(name="purchase"), lambda df: df["name"] == "purchase"),
    (Filters(source="js-client"), lambda df: df["source"] == "js-client"),
    (Filters(values=("books", "")), lambda df: df["value"].isin(["books", ""])),
    (Filters(value_search="9.9"), lambda df: df["value"].str.contains("9.9", regex=False)),
    (Filters(values=("toys",), value_search="BOO"),  # the search adds to the chosen values, any case
     lambda df: df["value"].isin(["toys"]) | df["value"].str.lower().str.contains("boo")),
    (Filters(user="01"), lambda df: df["userID"].str.contains("01")),
    (Filters(name="add_to_cart", source="js-client", user="0"),
     lambda df: (df["name"] == "add_to_cart") & (df["source"] == "js-client") & df["userID"].str.contains("0")),
    (Filters(name="no such name"), lambda df: df["name"] == "no such name"),
])
def test_filters_keep_what_pandas_would(state, events, filters, select):
    expected = events[select(events).fillna(False).astype(bool)]
    pd.testing.assert_frame_equal(state.filtered(filters), expected)
    assert state.matches(filters) == len(expected)


def test_time_range_is_start_inclusive_end_exclusive_and_leaves_untimed_events_out(events):
    df = events.copy()
    df.loc[[7, 8], "timestamp"] = pd.NaT
    state = BrowserState(df)
    start, end = df["timestamp"].iloc[1000], df["timestamp"].iloc[2000]  # sorted: real event times
    both = state.filtered(Filters(start=start, end=end))
    pd.testing.assert_frame_equal(both, df[(df["timestamp"] >= start) & (df["timestamp"] < end)])
    assert both["timestamp"].iloc[0] == start and (both["timestamp"] < end).all()
    assert state.matches(Filters(start=start)) == int((df["timestamp"] >= start).sum())
    before = state.filtered(Filters(end=end))
    assert len(before) == int((df["timestamp"] < end).sum()) and before["timestamp"].notna().all()
    assert state.matches(Filters()) == len(df)  # no range: untimed events too


def test_time_bounds_in_another_zone_are_the_same_instants(state, events):
    start = events["timestamp"].iloc[500]
    local = Filters(start=start.tz_convert("Asia/Tokyo"), end=pd.Timestamp(events["timestamp"].iloc[900]))
    assert state.matches(local) == 400


def test_pages_are_newest_first_ties_in_frame_order_untimed_last(events):
    df = events.iloc[:50].copy()
    df.loc[3, "timestamp"] = pd.NaT
    df.loc[[10, 11, 12], "timestamp"] = df.loc[20, "timestamp"]  # a tie
    state = BrowserState(df)
    order = df.assign(untimed=df["timestamp"].isna()).sort_values(["untimed", "timestamp"],
                                                                  ascending=[True, False], kind="stable")
    rows = pd.concat([state.page(Filters(), page, 20) for page in range(3)])
    pd.testing.assert_frame_equal(rows, df.loc[order.index])
    assert state.page(Filters(), 3, 20).empty
    purchases = state.page(Filters(name="purchase"), 0, 5)
    pd.testing.assert_frame_equal(purchases, order[order["name"] == "purchase"].drop(columns="untimed").iloc[:5])


def test_summary_timeline_and_top_values_are_analysis_over_the_matching_events(state, events):
    filters = Filters(source="js-client")
    expected = events[events["source"] == "js-client"]
    assert state.summary(filters) == analysis.summary_numbers(expected)
    assert state.summary(filters).events == len(expected)
    pd.testing.assert_series_equal(state.timeline(filters, freq="D", users=True),
                                   analysis.timeline(expected, freq="D", users=True), check_dtype=False)
    top = state.top_values(filters, top=3)
    assert top.to_dict() == expected["value"].value_counts().iloc[:3].to_dict()


def test_results_are_kept_per_filter_state_the_large_ones_for_the_last_state_only(state):
    a, b = Filters(name="purchase"), Filters(name="page_view")
    mask, summary = state.mask(a), state.summary(a)
    assert state.mask(a) is mask and state.summary(a) is summary  # computed once
    state.mask(b), state.summary(b)
    assert state.summary(a) is summary  # A, B, A: small results come from memory
    assert state.mask(a) is not mask and (state.mask(a) == mask).all()  # frame-sized: recomputed
    calls = []
    for key in range(20):
        state.cached("text", key, lambda key=key: calls.append(key) or key)
    state.cached("text", 19, lambda: calls.append("again"))
    state.cached("text", 0, lambda: calls.append("again"))  # the oldest of 20 was forgotten
    assert calls == [*range(20), "again"]
    state.clear()
    assert state.summary(a) is not summary


def test_an_empty_frame_and_a_bad_one(events):
    empty = BrowserState(empty_frame())
    assert empty.matches(Filters(name="x")) == 0 and pd.isna(empty.first) and pd.isna(empty.last)
    assert empty.page(Filters(), 0, 20).empty
    with pytest.raises(StatsigError, match="missing column"):
        BrowserState(events.drop(columns="userID"))
