"""statsig_pandas.analysis, checked against results computed independently with plain pandas."""

from __future__ import annotations

import io
import json
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from statsig_pandas import StatsigError, _kernels, analysis
from statsig_pandas.analysis import FrameSchemaError
from statsig_pandas.frame import EMPTY_METADATA, empty_frame, expand_metadata_columns
from statsig_pandas.testing.synthetic import synthetic_frame

END_MS = 1_775_000_000_000  # 2026-03-31 23:33 UTC: fixed, so every run sees the same events
PARIS = "Europe/Paris"
HOUR = pd.Timedelta("1h")


@pytest.fixture(scope="module")
def events():
    """Ten days of synthetic events of the reader's dtypes (sorted, as read)."""
    return synthetic_frame(4000, seed=7, end_ms=END_MS, span_ms=10 * 86_400_000, users=300)


@pytest.fixture
def dst_events(make_events):
    """An event every 30 minutes across both 2026 daylight-saving changes of Europe/Paris."""
    times = [*pd.date_range("2026-03-27", "2026-04-01", freq="30min", tz="UTC", inclusive="left"),
             *pd.date_range("2026-10-23", "2026-10-28", freq="30min", tz="UTC", inclusive="left")]
    return make_events([(t, "add_to_cart", "py-server" if i % 3 == 0 else "js-client",
                         "" if i % 4 == 0 else f"v{i % 5}", f"{i % 7:04d}") for i, t in enumerate(times)])


def ms(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """An expected index in the reader's unit (pandas 2 and 3 build ranges in different units)."""
    return index.as_unit("ms")


def brute_force_counts(df: pd.DataFrame, labels: pd.DatetimeIndex) -> list[int]:
    """Events in [label i, label i+1) for each label (the last bucket: up to the last event)."""
    ts = np.sort(df["timestamp"].dropna().to_numpy(dtype="M8[ns]"))
    edges = labels.tz_convert("UTC").tz_localize(None).as_unit("ns").to_numpy()
    below = np.searchsorted(ts, edges, side="left")
    return np.diff(np.append(below, len(ts))).tolist()


# ---------------------------------------------------------------- validation


def test_validation_names_every_missing_column():
    df = pd.DataFrame({"timestamp": pd.to_datetime([0], utc=True), "value": ["x"]})
    with pytest.raises(FrameSchemaError, match="'name', 'source', 'userID'") as info:
        analysis.validate_frame(df)
    assert isinstance(info.value, AttributeError) and isinstance(info.value, StatsigError)


def test_validation_refuses_a_timestamp_that_is_not_a_datetime(events):
    df = events.assign(timestamp=events["timestamp"].astype("int64"))
    with pytest.raises(FrameSchemaError, match="'timestamp' has dtype int64"):
        analysis.validate_frame(df)
    with pytest.raises(FrameSchemaError):
        analysis.timeline(df)


def test_functions_check_only_the_columns_they_use():
    df = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-01 10:00"], utc=True), "userID": ["7"]})
    assert analysis.unique_users(df).tolist() == [1]
    with pytest.raises(FrameSchemaError, match="'value'"):
        analysis.numeric_value(df)


# ---------------------------------------------------------------- value_counts


@pytest.mark.parametrize("column", ["value", "source", "userID", "name"])
def test_value_counts_match_pandas(events, column):
    result = analysis.value_counts(events, column)
    expected = Counter(events[column].dropna().astype(object))
    assert result.to_dict() == dict(expected)
    assert (np.diff(result.to_numpy()) <= 0).all(), "most frequent first"
    assert result.name == "count" and result.index.name == column and result.dtype == np.int64


def test_empty_string_is_a_value_of_its_own(make_events):
    df = make_events([("2026-03-01", "e", "js-client", v, "1") for v in ["", "books", "", "", "books", "toys"]])
    result = analysis.value_counts(df)
    assert result.to_dict() == {"": 3, "books": 2, "toys": 1}
    assert result[""] == 3


def test_categories_without_rows_are_not_counted(events):
    filtered = events[events["source"] != "js-client"]
    assert "js-client" in filtered["source"].cat.categories  # still a category...
    counts = analysis.value_counts(filtered, "source")
    assert "js-client" not in counts.index  # ...but not a value
    assert counts.to_dict() == dict(Counter(filtered["source"].astype(object)))
    assert (counts > 0).all()


def test_top_and_normalize(events):
    full = analysis.value_counts(events)
    top = analysis.value_counts(events, top=3)
    pd.testing.assert_series_equal(top, full.iloc[:3])
    shares = analysis.value_counts(events, normalize=True)
    assert shares.name == "proportion"
    np.testing.assert_allclose(shares.to_numpy(), full.to_numpy() / len(events))
    assert shares.sum() == pytest.approx(1.0)
    assert analysis.value_counts(events, top=2, normalize=True).to_numpy() == pytest.approx(shares.iloc[:2].to_numpy())


def test_missing_values_are_left_out_unless_asked(make_events):
    df = make_events([("2026-03-01", "e", "s", "x", u) for u in ["1", None, "1", None, "2"]])
    assert analysis.value_counts(df, "userID").to_dict() == {"1": 2, "2": 1}
    with_missing = analysis.value_counts(df, "userID", dropna=False)
    assert with_missing.sum() == 5
    assert with_missing[with_missing.index.isna()].tolist() == [2]


def test_metadata_keys_are_counted_from_the_dicts(events):
    result = analysis.value_counts(events, "metadata.plan")
    expected = Counter(m["plan"] for m in events["metadata"] if m)
    assert result.to_dict() == dict(expected) and result.index.name == "metadata.plan"
    # An expanded column of the same name is used as it is.
    expanded = expand_metadata_columns(events)
    pd.testing.assert_series_equal(analysis.value_counts(expanded, "metadata.plan"), result)
    assert analysis.value_counts(events, "metadata.nope").empty
    # Parquet keeps metadata as JSON text (statsig_pandas.parquet) or as structs (plain pyarrow).
    as_text = events.assign(metadata=[json.dumps(m) for m in events["metadata"]])
    assert analysis.value_counts(as_text, "metadata.plan").to_dict() == dict(expected)
    buffer = io.BytesIO()
    events.to_parquet(buffer)
    buffer.seek(0)
    assert analysis.value_counts(pd.read_parquet(buffer), "metadata.plan").to_dict() == dict(expected)
    with pytest.raises(StatsigError, match="neither a dict nor JSON"):
        analysis.value_counts(events.assign(metadata="plan=pro"), "metadata.plan")


def test_value_counts_of_an_empty_frame_and_of_one_event(make_events):
    empty = analysis.value_counts(empty_frame())
    assert empty.empty and empty.dtype == np.int64
    assert analysis.value_counts(empty_frame(), "source").empty
    one = make_events([("2026-03-01 12:00", "e", "js-client", "books", "42")])
    assert analysis.value_counts(one).to_dict() == {"books": 1}
    assert analysis.value_counts(one, "source").to_dict() == {"js-client": 1}


def test_value_counts_bad_arguments(events):
    with pytest.raises(StatsigError, match="no column 'nope'"):
        analysis.value_counts(events, "nope")
    for top in (0, -1, 2.5, True):
        with pytest.raises(StatsigError, match="top must be a positive integer"):
            analysis.value_counts(events, top=top)


def test_counting_in_parallel_parts_gives_the_same_counts(events, monkeypatch):
    monkeypatch.setattr(_kernels, "_PARALLEL_ROWS", 100)
    monkeypatch.setattr(_kernels, "_WORKERS", 3)
    for column in ("value", "userID"):
        assert analysis.value_counts(events, column).to_dict() == dict(Counter(events[column].astype(object)))


# ---------------------------------------------------------------- timeline


def test_hourly_timeline_matches_pandas_with_empty_hours_filled(events):
    result = analysis.timeline(events, freq="h")
    floor = events["timestamp"].dt.floor("h")
    expected = events.groupby(floor).size().reindex(
        ms(pd.date_range(floor.min(), floor.max(), freq="h")), fill_value=0)
    pd.testing.assert_series_equal(result, expected.rename("events"), check_freq=False, check_names=False)
    assert result.name == "events" and result.index.name == "timestamp"
    assert str(result.index.tz) == "UTC" and (np.diff(result.index) == HOUR).all()
    assert (result == 0).any(), "quiet hours are listed as 0"


def test_timeline_by_source_has_one_column_per_source_present(events):
    filtered = events[events["source"] != "statsig-node"]
    result = analysis.timeline(filtered, freq="D", by="source")
    day = filtered["timestamp"].dt.floor("D")
    expected = (filtered.assign(day=day).groupby(["day", "source"], observed=True).size().unstack(fill_value=0)
                .reindex(ms(pd.date_range(day.min(), day.max(), freq="D")), fill_value=0))
    assert "statsig-node" not in result.columns
    assert sorted(result.columns) == sorted(expected.columns.astype(str))
    for source in result.columns:
        assert result[source].tolist() == expected[source].tolist(), source
    assert result.sum().is_monotonic_decreasing, "busiest group first"
    assert result.columns.name == "source"


def test_timeline_of_distinct_users(events):
    result = analysis.timeline(events, freq="6h", users=True)
    key = events["timestamp"].dt.floor("6h")
    expected = events.groupby(key)["userID"].nunique().reindex(
        ms(pd.date_range(key.min(), key.max(), freq="6h")), fill_value=0)
    assert result.name == "users"
    assert result.tolist() == expected.tolist() and (result.index == expected.index).all()


def test_daily_buckets_in_a_local_zone_are_real_local_days(dst_events):
    result = analysis.timeline(dst_events, freq="D", tz=PARIS)
    local_day = dst_events["timestamp"].dt.tz_convert(PARIS).dt.normalize()
    expected = dst_events.groupby(local_day).size()
    expected = expected.reindex(ms(pd.date_range(local_day.min(), local_day.max(), freq="D", tz=PARIS)), fill_value=0)
    assert str(result.index.tz) == PARIS
    assert result.index.equals(expected.index) and result.tolist() == expected.tolist()
    # One event every 30 minutes: a 23-hour day in March, a 25-hour one in October.
    assert result[pd.Timestamp("2026-03-29", tz=PARIS)] == 46
    assert result[pd.Timestamp("2026-10-25", tz=PARIS)] == 50
    lengths = pd.Series(np.diff(result.index), index=result.index[:-1])
    assert lengths[pd.Timestamp("2026-03-29", tz=PARIS)] == 23 * HOUR
    assert lengths[pd.Timestamp("2026-10-25", tz=PARIS)] == 25 * HOUR


def test_hourly_buckets_across_daylight_saving_changes(dst_events):
    result = analysis.timeline(dst_events, freq="h", tz=PARIS)
    local = result.index.tz_convert(PARIS)
    spring = local[(local.year == 2026) & (local.month == 3) & (local.day == 29)]
    assert 2 not in spring.hour and len(spring) == 23, "the skipped hour is no bucket"
    autumn = local[(local.month == 10) & (local.day == 25) & (local.hour == 2)]
    assert [t.utcoffset() for t in autumn] == [2 * HOUR, HOUR], "the repeated hour is two buckets"
    for first, last in (("2026-03-27", "2026-03-31 23:00"), ("2026-10-23", "2026-10-27 23:00")):
        window = result[pd.Timestamp(first, tz="UTC"):pd.Timestamp(last, tz="UTC")]
        assert len(window) == 5 * 24
        assert (window == 2).all(), "every real hour holds its two events"
    utc_hours = dst_events["timestamp"].dt.floor("h")
    every_hour = ms(pd.date_range(utc_hours.min(), utc_hours.max(), freq="h")).tz_convert(PARIS)
    expected = dst_events.groupby(utc_hours.dt.tz_convert(PARIS)).size().reindex(every_hour, fill_value=0)
    assert result.index.equals(expected.index) and result.tolist() == expected.tolist()


@pytest.mark.parametrize("tz", [None, PARIS, "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"])
@pytest.mark.parametrize("freq", ["15min", "h", "6h", "D", "W", "MS"])
def test_every_bucket_holds_exactly_its_events(dst_events, freq, tz):
    result = analysis.timeline(dst_events, freq=freq, tz=tz)
    assert result.sum() == len(dst_events)
    assert result.tolist() == brute_force_counts(dst_events, result.index)
    assert result.index.is_monotonic_increasing and result.index.is_unique
    assert str(result.index.tz) == (tz or "UTC")
    local = result.index.tz_convert(tz or "UTC")
    first = local[0]
    assert dst_events["timestamp"].min() >= first
    if freq in ("D", "W", "MS") and tz != "Australia/Lord_Howe":  # whole hours: midnights exist there
        assert (local.hour == 0).all() and (local.minute == 0).all()
    if freq == "W":
        assert (local.day_of_week == 0).all(), "weeks start on Monday"
    if freq == "MS":
        assert (local.day == 1).all()


def test_weeks_are_pandas_weekly_periods(events):
    result = analysis.unique_users(events, freq="W")
    periods = events["timestamp"].dt.tz_localize(None).dt.to_period("W")
    expected = events.groupby(periods)["userID"].nunique()
    assert result.tolist() == expected.tolist()
    assert [t.tz_localize(None) for t in result.index] == list(expected.index.start_time)


def test_start_and_end_bound_the_events_and_the_buckets(dst_events):
    result = analysis.timeline(dst_events, freq="D", tz=PARIS, start="2026-03-20", end="2026-04-05")
    assert result.index[0] == pd.Timestamp("2026-03-20", tz=PARIS)
    assert result.index[-1] == pd.Timestamp("2026-04-04", tz=PARIS)
    assert len(result) == 16 and result["2026-03-20":"2026-03-26"].eq(0).all()
    ts = dst_events["timestamp"]
    inside = (ts >= pd.Timestamp("2026-03-20", tz=PARIS)) & (ts < pd.Timestamp("2026-04-05", tz=PARIS))
    assert result.sum() == inside.sum()
    # end is exclusive, start inclusive, to the millisecond.
    sliver = analysis.timeline(dst_events, freq="h", start=ts.iloc[1], end=ts.iloc[3])
    assert sliver.sum() == 2


def test_timeline_of_an_empty_frame(make_events):
    empty = analysis.timeline(empty_frame())
    assert empty.empty and empty.dtype == np.int64 and isinstance(empty.index, pd.DatetimeIndex)
    assert str(empty.index.tz) == "UTC"
    by = analysis.timeline(empty_frame(), by="source")
    assert by.shape == (0, 0)
    zeros = analysis.timeline(empty_frame(), freq="D", start="2026-03-01", end="2026-03-04", tz=PARIS)
    assert zeros.tolist() == [0, 0, 0] and str(zeros.index.tz) == PARIS
    assert analysis.timeline(empty_frame(), start="2026-03-01", end="2026-03-01").empty


def test_timeline_of_a_single_event(make_events):
    one = make_events([("2026-03-01 12:34:56", "e", "js-client", "", "1")])
    result = analysis.timeline(one, freq="h")
    assert result.to_dict() == {pd.Timestamp("2026-03-01 12:00", tz="UTC"): 1}
    assert analysis.timeline(one, freq="D", by="value").to_dict() == {"": {pd.Timestamp("2026-03-01", tz="UTC"): 1}}


def test_events_without_a_timestamp_are_not_in_a_timeline(make_events):
    df = make_events([("2026-03-01 10:00", "e", "s", "", "1"), ("2026-03-01 11:00", "e", "s", "", "2")])
    df.loc[1, "timestamp"] = pd.NaT
    assert analysis.timeline(df, freq="h").tolist() == [1]
    assert analysis.unique_users(df).tolist() == [1]


def test_timeline_bad_arguments(events):
    for freq, message in [("bogus", "unknown freq"), ("2W", "not supported"), ("BME", "not supported")]:
        with pytest.raises(StatsigError, match=message):
            analysis.timeline(events, freq=freq)
    with pytest.raises(StatsigError, match="unknown time zone"):
        analysis.timeline(events, tz="Mars/Olympus_Mons")
    with pytest.raises(StatsigError, match="before start"):
        analysis.timeline(events, start="2026-03-10", end="2026-03-01")
    with pytest.raises(StatsigError, match="not a date"):
        analysis.timeline(events, start="yesterday-ish")
    with pytest.raises(StatsigError, match="buckets"):
        analysis.timeline(events, freq="ms")
    with pytest.raises(StatsigError, match="users must be"):
        analysis.timeline(events, users="yes")
    with pytest.raises(StatsigError, match="not a single instant"):
        analysis.timeline(events, tz=PARIS, start="2026-10-25 02:30")


def test_naive_timestamps_are_read_as_utc(events):
    naive = events.assign(timestamp=events["timestamp"].dt.tz_localize(None))
    pd.testing.assert_series_equal(analysis.timeline(naive, freq="D"), analysis.timeline(events, freq="D"))


def test_the_zone_of_the_column_is_the_default(dst_events):
    local = dst_events.assign(timestamp=dst_events["timestamp"].dt.tz_convert(PARIS))
    pd.testing.assert_series_equal(analysis.timeline(local, freq="D"),
                                   analysis.timeline(dst_events, freq="D", tz=PARIS))
    assert str(analysis.resolve_tz(local)) == PARIS
    assert str(analysis.summary(local)["summary"][("events", "first")].tz) == PARIS
    # Offsets and timedeltas are frequencies too.
    pd.testing.assert_series_equal(analysis.timeline(dst_events, freq=pd.Timedelta("6h")),
                                   analysis.timeline(dst_events, freq="6h"))


# ---------------------------------------------------------------- unique users


def test_daily_active_users_match_pandas(events):
    result = analysis.unique_users(events)
    day = events["timestamp"].dt.floor("D")
    expected = events.groupby(day)["userID"].nunique()
    assert result.tolist() == expected.tolist() and result.index.equals(expected.index)
    assert result.name == "users"


def test_unique_users_in_a_local_zone_across_dst(dst_events):
    result = analysis.unique_users(dst_events, tz=PARIS)
    local_day = dst_events["timestamp"].dt.tz_convert(PARIS).dt.normalize()
    expected = dst_events.groupby(local_day)["userID"].nunique().reindex(result.index, fill_value=0)
    assert result.tolist() == expected.tolist()


def test_unique_users_of_unsorted_filtered_and_parallel_frames(events, monkeypatch):
    expected = analysis.unique_users(events, freq="h").pipe(lambda s: s[s.index.notna()])
    shuffled = events.sample(frac=1.0, random_state=3)
    pd.testing.assert_series_equal(analysis.unique_users(shuffled, freq="h"), expected)
    monkeypatch.setattr(_kernels, "_PARALLEL_ROWS", 100)
    monkeypatch.setattr(_kernels, "_WORKERS", 2)
    pd.testing.assert_series_equal(analysis.unique_users(events, freq="h"), expected)
    hours = events["timestamp"].dt.floor("h")
    assert expected[expected > 0].tolist() == events.groupby(hours)["userID"].nunique().tolist()
    # A time window of a sorted frame is one run of rows; a filter by source is not.
    window = analysis.timeline(events, freq="h", users=True, start="2026-03-25", end="2026-03-27")
    inside = events[(events["timestamp"] >= "2026-03-25") & (events["timestamp"] < "2026-03-27")]
    assert window.tolist() == inside.groupby(inside["timestamp"].dt.floor("h"))["userID"].nunique().reindex(
        window.index, fill_value=0).tolist()
    js = events[events["source"] == "js-client"]
    assert analysis.unique_users(js).tolist() == js.groupby(js["timestamp"].dt.floor("D"))["userID"].nunique().tolist()


def test_missing_user_ids_are_not_users(make_events):
    df = make_events([("2026-03-01 10:00", "e", "s", "", u) for u in ["1", None, "1", "2", None]])
    assert analysis.unique_users(df).tolist() == [2]
    by = analysis.timeline(df, freq="D", users=True, by="source")
    assert by.to_dict() == {"s": {pd.Timestamp("2026-03-01", tz="UTC"): 2}}


def test_distinct_users_by_group(events):
    result = analysis.timeline(events, freq="D", by="name", users=True)
    day = events["timestamp"].dt.floor("D")
    expected = events.groupby([day, "name"], observed=True)["userID"].nunique().unstack(fill_value=0)
    for name in result.columns:
        assert result[name].tolist() == expected[name].reindex(result.index, fill_value=0).tolist()


# ---------------------------------------------------------------- filters


def test_between_keeps_start_drops_end(events):
    result = analysis.between(events, start="2026-03-25", end="2026-03-27 12:00")
    ts = events["timestamp"]
    mask = (ts >= pd.Timestamp("2026-03-25", tz="UTC")) & (ts < pd.Timestamp("2026-03-27 12:00", tz="UTC"))
    pd.testing.assert_frame_equal(result, events[mask])
    assert analysis.between(events, start=ts.iloc[10], end=ts.iloc[10]).empty
    assert len(analysis.between(events, start=ts.iloc[10])) == (ts >= ts.iloc[10]).sum()
    assert len(analysis.between(events, end=ts.iloc[10])) == (ts < ts.iloc[10]).sum()


def test_between_accepts_datetimes_and_a_zone(events):
    import datetime as dt

    paris_day = analysis.between(events, start="2026-03-26", end="2026-03-27", tz=PARIS)
    aware = analysis.between(events, start=pd.Timestamp("2026-03-25 23:00", tz="UTC"),
                             end=dt.datetime(2026, 3, 27, tzinfo=dt.timezone(dt.timedelta(hours=1))))
    pd.testing.assert_frame_equal(paris_day, aware)
    assert analysis.between(events, start=dt.date(2026, 3, 26), end=dt.date(2026, 3, 27)).equals(
        analysis.between(events, start="2026-03-26", end="2026-03-27"))
    with pytest.raises(StatsigError, match="start"):
        analysis.between(events, start=[1, 2])


def test_between_never_matches_events_without_a_timestamp(make_events):
    df = make_events([("2026-03-01 10:00", "e", "s", "", "1"), ("2026-03-01 11:00", "e", "s", "", "2")])
    df.loc[0, "timestamp"] = pd.NaT
    assert analysis.between(df, end="2030-01-01")["userID"].tolist() == ["2"]
    assert len(analysis.between(df)) == 2


def test_where_filters_with_strings_and_lists(events):
    result = analysis.where(events, source="js-client", value=["", "books"])
    mask = (events["source"] == "js-client") & events["value"].isin(["", "books"])
    pd.testing.assert_frame_equal(result, events[mask])
    assert (result["value"] == "").any(), '"" matches empty values'
    assert result["source"].dtype == events["source"].dtype
    users = list(events["userID"].unique()[:3])
    assert set(analysis.where(events, user=users)["userID"]) == set(users)
    assert analysis.where(events, name="purchase")["name"].eq("purchase").all()
    assert analysis.where(events, source=[]).empty
    pd.testing.assert_frame_equal(analysis.where(events), events)


def test_where_refuses_numbers_for_ids(events):
    with pytest.raises(StatsigError, match="user IDs such as '0042' stay strings"):
        analysis.where(events, user=42)
    with pytest.raises(StatsigError, match="source takes strings"):
        analysis.where(events, source=["js-client", None])


def test_numeric_value(make_events):
    texts = ["19.99", "", "books", "3", "-2.5e1", " 4 ", ".5", "1,000", "inf", "0x10", "19.99"]
    df = make_events([("2026-03-01", "purchase", "s", v, "1") for v in texts])
    result = analysis.numeric_value(df)
    assert result.dtype == np.float64 and result.name == "value" and result.index.equals(df.index)
    expected = [19.99, np.nan, np.nan, 3.0, -25.0, 4.0, 0.5, np.nan, np.nan, np.nan, 19.99]
    np.testing.assert_array_equal(result.to_numpy(), expected)
    # The same from plain Python strings with a missing value, and from an empty frame.
    plain = pd.DataFrame({"value": pd.Series(texts + [None], dtype=object, index=range(10, 22))})
    np.testing.assert_array_equal(analysis.numeric_value(plain).to_numpy(), expected + [np.nan])
    assert analysis.numeric_value(plain).index.equals(plain.index)
    assert analysis.numeric_value(empty_frame()).empty


# ---------------------------------------------------------------- tables


def test_activity_counts_local_weekday_and_hour(dst_events):
    result = analysis.activity(dst_events, tz=PARIS)
    local = dst_events["timestamp"].dt.tz_convert(PARIS)
    expected = pd.crosstab(local.dt.day_of_week, local.dt.hour).reindex(index=range(7), columns=range(24),
                                                                         fill_value=0)
    assert result.shape == (7, 24) and list(result.index) == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert list(result.columns) == list(range(24))
    np.testing.assert_array_equal(result.to_numpy(), expected.to_numpy())
    # Sunday 2026-10-25 lived its 02:00 hour twice (4 events), its 04:00 hour once (2).
    autumn = analysis.activity(analysis.between(dst_events, start="2026-10-25", end="2026-10-26", tz=PARIS), tz=PARIS)
    assert (autumn.loc["Sun", 2], autumn.loc["Sun", 4]) == (4, 2)
    assert autumn.to_numpy().sum() == 50


def test_summary_heads_a_report(events):
    result = analysis.summary(events, top=3)["summary"]
    assert result[("events", "total")] == len(events)
    assert result[("events", "users")] == events["userID"].nunique()
    assert result[("events", "first")] == events["timestamp"].min()
    assert result[("events", "last")] == events["timestamp"].max()
    assert ("events", "without timestamp") not in result.index
    assert result["source"].to_dict() == dict(Counter(events["source"].astype(object)))
    assert result["name"].to_dict() == dict(Counter(events["name"].astype(object)))
    top = Counter(events["value"].astype(object)).most_common(3)
    assert result["value"].to_dict() == {("(empty)" if v == "" else v): n for v, n in top}


def test_summary_of_empty_and_untimed_frames(make_events):
    empty = analysis.summary(empty_frame())["summary"]
    assert empty[("events", "total")] == 0 and empty[("events", "users")] == 0
    assert empty[("events", "first")] is pd.NaT
    df = make_events([("2026-03-01 10:00", "e", "s", "", "1"), ("2026-03-01 11:00", "e", "s", "", "2")])
    df.loc[0, "timestamp"] = pd.NaT
    assert analysis.summary(df)["summary"][("events", "without timestamp")] == 1


def test_summary_numbers_are_what_the_summary_shows(events, make_events):
    numbers = analysis.summary_numbers(events)
    assert (numbers.events, numbers.users, numbers.untimed) == (len(events), events["userID"].nunique(), 0)
    assert (numbers.first, numbers.last) == (events["timestamp"].min(), events["timestamp"].max())
    assert numbers.span == events["timestamp"].max() - events["timestamp"].min()
    table = analysis.summary(events)["summary"]["events"]
    assert table.to_dict() == {"total": numbers.events, "users": numbers.users, "first": numbers.first,
                               "last": numbers.last}
    df = make_events([("2026-03-01 10:00", "e", "s", "", "1"), ("2026-03-01 11:00", "e", "s", "", "1")])
    df.loc[1, "timestamp"] = pd.NaT
    untimed = analysis.summary_numbers(df)
    assert (untimed.events, untimed.users, untimed.untimed) == (2, 1, 1)
    assert untimed.first == untimed.last == pd.Timestamp("2026-03-01 10:00", tz="UTC")
    empty = analysis.summary_numbers(empty_frame())
    assert (empty.events, empty.users) == (0, 0) and empty.first is pd.NaT and empty.span is pd.NaT
    with pytest.raises(StatsigError, match="missing column"):
        analysis.summary_numbers(pd.DataFrame({"timestamp": []}))


# ---------------------------------------------------------------- frames from elsewhere


@pytest.mark.parametrize("backend", ["numpy_nullable", "pyarrow", None])
def test_a_frame_read_back_from_parquet_gives_the_same_results(events, backend):
    buffer = io.BytesIO()
    events.drop(columns="metadata").to_parquet(buffer, engine="pyarrow")
    buffer.seek(0)
    back = pd.read_parquet(buffer, engine="pyarrow", **({"dtype_backend": backend} if backend else {}))
    for column in ("value", "source", "userID", "name"):
        assert analysis.value_counts(back, column).to_dict() == analysis.value_counts(events, column).to_dict()
    pd.testing.assert_series_equal(analysis.unique_users(back, tz=PARIS), analysis.unique_users(events, tz=PARIS))
    pd.testing.assert_frame_equal(analysis.timeline(back, freq="h", by="source"),
                                  analysis.timeline(events, freq="h", by="source"), check_column_type=False)
    pd.testing.assert_frame_equal(analysis.summary(back), analysis.summary(events))
    assert len(analysis.where(back, source="js-client", value="")) == len(analysis.where(events, source="js-client",
                                                                                          value=""))


def test_a_concatenation_of_frames_with_different_categories(events, make_events):
    other = make_events([("2026-04-02 10:00", "signup", "web-sdk", "", "9999")])
    both = pd.concat([events, other])  # categories differ: pandas falls back to plain strings
    counts = analysis.value_counts(both, "source")
    assert counts["web-sdk"] == 1 and counts.sum() == len(both)
    assert analysis.timeline(both, freq="D", by="name")["signup"].sum() == 1
    assert analysis.summary(both)["summary"][("events", "total")] == len(both)
    assert len(analysis.between(both, start="2026-04-01")) == 1


def test_shared_metadata_dicts_are_read_not_changed(events):
    before = [dict(m) for m in events["metadata"].head(50)]
    analysis.value_counts(events, "metadata.country")
    assert [dict(m) for m in events["metadata"].head(50)] == before
    assert any(m is EMPTY_METADATA for m in events["metadata"])
