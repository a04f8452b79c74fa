"""Lifecycle and stickiness: the design note's definitions, invariants on random frames, edges."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from support import event_frame

import statsig_pandas  # noqa: F401  (registers df.statsig)
from statsig_pandas import StatsigError, StatsigWarning, Step, engagement
from statsig_pandas.testing.synthetic import synthetic_frame

MON = pd.Timestamp("2026-03-02", tz="UTC")  # a Monday


def day(n: float, hour: float = 12) -> pd.Timestamp:
    return MON + pd.Timedelta(days=n, hours=hour)


def bucket_starts(df: pd.DataFrame, period: str, tz: str) -> pd.Series:
    """The start of each row's bucket, by pandas' own periods (the reference the counts are checked against)."""
    local = df["timestamp"].dt.tz_convert(tz).dt.tz_localize(None)
    return local.dt.to_period(period).dt.start_time.dt.tz_localize(tz)


def sets_per_bucket(df: pd.DataFrame, period: str, tz: str = "UTC") -> dict[pd.Timestamp, set]:
    """Active units per bucket (rows without a unit left out)."""
    keep = df["userID"].notna() & (df["userID"] != "")
    return {k: set(g) for k, g in df.loc[keep, "userID"].groupby(bucket_starts(df, period, tz)[keep])}


# ---------------------------------------------------------------- lifecycle


@pytest.fixture
def weekly():
    """Four weeks: a every week; b in weeks 0 and 2; c new in week 1 only; d new in week 3."""
    return event_frame([
        ("a", day(0), "visit"), ("b", day(1), "visit"),
        ("a", day(7), "visit"), ("c", day(8), "visit"),
        ("a", day(14), "visit"), ("b", day(15), "visit"), ("b", day(16), "visit"),
        ("a", day(21), "visit"), ("d", day(22), "visit"),
    ])


def test_lifecycle_statuses_match_their_definitions(weekly):
    result = engagement.lifecycle(weekly, freq="W")
    # Week 0 is the warm-up: the first row is week 1.
    assert result.index.tolist() == [MON + pd.Timedelta(weeks=k) for k in (1, 2, 3)]
    assert result.index.name == "bucket" and str(result.index.tz) == "UTC"
    assert result.columns.tolist() == ["new", "returning", "resurrecting", "dormant"]
    assert (result.dtypes == np.int64).all()
    assert result.to_dict("list") == {
        "new": [1, 0, 1],           # c in week 1, d in week 3
        "returning": [1, 1, 1],     # a every week
        "resurrecting": [0, 1, 0],  # b back in week 2
        "dormant": [-1, -1, -1],    # b gone in week 1, c in week 2, b in week 3
    }


def test_lifecycle_counts_the_matching_events_only(weekly):
    weekly.loc[weekly["userID"] == "b", "name"] = "visit"
    frame = pd.concat([weekly, event_frame([("z", day(9), "purchase"), ("z", day(15), "purchase")])],
                      ignore_index=True)
    everything = engagement.lifecycle(frame, freq="W")
    purchases = engagement.lifecycle(frame, freq="W", event="purchase")
    assert everything["new"].tolist() == [2, 0, 1]
    assert purchases.to_dict("list") == {"new": [1, 0, 0], "returning": [0, 1, 0], "resurrecting": [0, 0, 0],
                                         "dormant": [0, 0, -1]}
    assert purchases.index.equals(everything.index)  # the frame's buckets, whatever the event
    filtered = engagement.lifecycle(frame, freq="W", event=Step(["visit", "purchase"], source="js-client"))
    assert filtered.to_dict("list") == everything.to_dict("list")


def test_lifecycle_leaves_rows_without_a_unit_out_and_counts_them(weekly):
    extra = event_frame([(None, day(8), "visit"), ("", day(9), "visit")])
    result = engagement.lifecycle(pd.concat([weekly, extra], ignore_index=True), freq="W")
    assert result.to_dict("list") == engagement.lifecycle(weekly, freq="W").to_dict("list")
    assert result.attrs["rows_without_unit"] == 2
    assert engagement.lifecycle(weekly, freq="W").attrs["rows_without_unit"] == 0


def test_lifecycle_follows_the_wall_clock_of_tz():
    # 23:30 UTC on Sunday 1 March is already Monday in Paris.
    df = event_frame([("a", "2026-02-23 12:00", "v"), ("a", "2026-03-01 23:30", "v"), ("b", "2026-03-03", "v")])
    utc = engagement.lifecycle(df, freq="W")
    paris = engagement.lifecycle(df, freq="W", tz="Europe/Paris")
    assert utc.to_dict("list") == {"new": [1], "returning": [0], "resurrecting": [0], "dormant": [-1]}
    assert paris.to_dict("list") == {"new": [1], "returning": [1], "resurrecting": [0], "dormant": [0]}
    assert paris.index[0] == pd.Timestamp("2026-03-02", tz="Europe/Paris")


def test_lifecycle_of_one_bucket_warns_and_is_empty():
    df = event_frame([("a", day(0), "v"), ("b", day(2), "v")])
    with pytest.warns(StatsigWarning, match="warm-up"):
        result = engagement.lifecycle(df, freq="W")
    assert result.empty and result.columns.tolist() == ["new", "returning", "resurrecting", "dormant"]


def test_lifecycle_warns_of_an_event_that_matches_nothing(weekly):
    with pytest.warns(StatsigWarning, match="'vist'"):
        result = engagement.lifecycle(weekly, freq="W", event="vist")
    assert (result.to_numpy() == 0).all()


@pytest.mark.parametrize("bad", [{"freq": "2W"}, {"freq": "banana"}, {"tz": "Mars/Olympus"}, {"unit": "nope"},
                                 {"event": 3}])
def test_lifecycle_bad_arguments_raise_statsig_errors(weekly, bad):
    with pytest.raises(StatsigError):
        engagement.lifecycle(weekly, **bad)


def test_lifecycle_through_the_accessor_is_the_function(weekly):
    pd.testing.assert_frame_equal(weekly.statsig.lifecycle("W", event="visit"),
                                  engagement.lifecycle(weekly, freq="W", event="visit"))


def random_frame(seed: int) -> pd.DataFrame:
    """A small frame in no particular order, with missing and empty units and (often) tied times."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    users = np.array([f"u{i}" for i in range(int(rng.integers(1, 40)))] + ["", None], dtype=object)
    start = pd.Timestamp("2026-01-01", tz="UTC") + pd.Timedelta(hours=int(rng.integers(0, 500)))
    span_ms = int(rng.integers(1, 80)) * 86_400_000
    grain = int(rng.choice([1, 3_600_000]))  # hour-rounded times tie a lot
    times = start + pd.to_timedelta(rng.integers(0, span_ms, size=n) // grain * grain, unit="ms")
    return event_frame(list(zip(rng.choice(users, size=n), times, rng.choice(["a", "b", "c"], size=n))))


@pytest.mark.parametrize("freq, period", [("D", "D"), ("W", "W-SUN"), ("MS", "M")])
def test_lifecycle_invariants_and_definitions_hold_on_random_frames(freq, period):
    tz = "Europe/Paris"
    for seed in range(60):
        df = random_frame(seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StatsigWarning)  # a frame of a single bucket
            result = engagement.lifecycle(df, freq=freq, tz=tz)
        active = sets_per_bucket(df, period, tz)
        starts = bucket_starts(df, period, tz)
        # Every bucket from the frame's first (the warm-up, left out) to its last.
        expected = pd.period_range(starts.min().tz_localize(None), starts.max().tz_localize(None), freq=period)
        assert result.index.tolist() == expected.start_time.tz_localize(tz)[1:].tolist(), seed
        seen = set(active.get(starts.min(), set()))
        previous = seen
        for label, row in result.iterrows():
            now = active.get(label, set())
            # The two invariants of the design note.
            assert row["new"] + row["returning"] + row["resurrecting"] == len(now), (seed, label)
            assert row["returning"] - row["dormant"] == len(previous), (seed, label)
            # And each status by its own definition.
            assert row["new"] == len(now - seen), (seed, label)
            assert row["returning"] == len(now & previous), (seed, label)
            assert row["resurrecting"] == len((now - previous) & seen), (seed, label)
            assert row["dormant"] == -len(previous - now), (seed, label)
            seen |= now
            previous = now
        assert result.attrs["rows_without_unit"] == int(df["userID"].isna().sum() + (df["userID"] == "").sum())


def test_lifecycle_counts_kernel_marks_the_gaps():
    # Unit 0 active in buckets 0, 1, 3; unit 1 in 1 only (events sorted by unit, then time).
    counts = engagement.lifecycle_counts(np.array([0, 0, 0, 0, 1]), np.array([0, 0, 1, 3, 1]), 5)
    assert counts.tolist() == [[1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 0, -2], [0, 0, 1, 0], [0, 0, 0, -1]]


# ---------------------------------------------------------------- stickiness


@pytest.fixture
def two_weeks():
    """From Sunday 1 March to Monday 16 March: the weeks of 2 and 9 March are complete."""
    return event_frame([
        ("a", MON - pd.Timedelta(hours=1), "visit"),                      # Sunday before: a partial week
        ("a", day(0), "visit"), ("a", day(0, 18), "visit"), ("a", day(2), "visit"), ("a", day(6), "visit"),
        ("b", day(3), "visit"),
        ("a", day(7), "visit"), ("b", day(8), "purchase"), ("b", day(9), "visit"),
        ("c", day(14, 1), "visit"),                                       # Monday 16: a partial week
    ])


def test_stickiness_counts_active_days_of_unit_weeks(two_weeks):
    result = engagement.stickiness(two_weeks)
    # Week of 2 March: a on 3 days, b on 1; week of 9 March: a on 1, b on 2. Partial weeks are left out.
    assert result.index.tolist() == [1, 2, 3, 4, 5, 6, 7] and result.index.name == "active"
    assert result["units"].tolist() == [2, 1, 1, 0, 0, 0, 0]
    assert result["share"].tolist() == [0.5, 0.25, 0.25, 0, 0, 0, 0]
    assert result["units"].dtype == np.int64 and result["share"].dtype == np.float64
    assert result.attrs["periods"] == 2 and result.attrs["rows_without_unit"] == 0


def test_cumulative_stickiness_counts_that_many_or_more(two_weeks):
    result = engagement.stickiness(two_weeks, cumulative=True)
    assert result["units"].tolist() == [4, 2, 1, 0, 0, 0, 0]
    assert result["share"].tolist() == [1.0, 0.5, 0.25, 0, 0, 0, 0]


def test_stickiness_of_one_event(two_weeks):
    assert engagement.stickiness(two_weeks, event="purchase")["units"].tolist() == [1, 0, 0, 0, 0, 0, 0]


def test_stickiness_without_a_complete_period_warns_why_and_is_empty(two_weeks):
    short = two_weeks[two_weeks["timestamp"] < day(5)]
    with pytest.warns(StatsigWarning, match="no per='W' period lies wholly inside the frame"):
        result = engagement.stickiness(short)
    assert result.empty and result.columns.tolist() == ["units", "share"]


def test_stickiness_of_days_in_months_indexes_up_to_the_longest_month():
    # All of March 2026 (31 days) and of April (30): u active on 2 days of each.
    df = event_frame([("u", "2026-02-28 23:00", "v"), ("u", "2026-03-01 00:00", "v"), ("u", "2026-03-31", "v"),
                      ("u", "2026-04-02", "v"), ("u", "2026-04-30 23:59", "v"), ("u", "2026-05-01 00:00", "v")])
    result = engagement.stickiness(df, freq="D", per="MS")
    assert result.index.tolist() == list(range(1, 32))
    assert result["units"].tolist() == [0, 2] + [0] * 29
    assert result.attrs["periods"] == 2


def test_stickiness_of_hours_in_a_day_across_daylight_saving():
    # 29 March 2026 in Paris is a 23-hour day, 25 October a 25-hour one.
    hours = pd.date_range("2026-10-24 22:00", "2026-10-26 00:00", freq="h", tz="UTC", inclusive="left")
    df = event_frame([("u", t, "v") for t in hours])
    result = engagement.stickiness(df, freq="h", per="D", tz="Europe/Paris")
    assert len(result) == 25 and result["units"].iloc[-1] == 1 and result["units"].sum() == 1


def test_stickiness_buckets_must_nest_in_periods(two_weeks):
    with pytest.raises(StatsigError, match="do not nest"):
        engagement.stickiness(pd.concat([two_weeks, event_frame([("a", "2026-05-01", "v")])]), freq="W",
                              per="MS")


@pytest.mark.parametrize("bad", [{"per": "nope"}, {"cumulative": "yes"}, {"unit": 3}])
def test_stickiness_bad_arguments_raise_statsig_errors(two_weeks, bad):
    with pytest.raises(StatsigError):
        engagement.stickiness(two_weeks, **bad)


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_stickiness_matches_pandas_on_a_synthetic_frame(seed):
    df = synthetic_frame(5_000, seed=seed, end_ms=1_775_000_000_000, span_ms=30 * 86_400_000, users=400)
    result = df.statsig.stickiness("D", per="W", tz="Europe/Paris")
    local = df["timestamp"].dt.tz_convert("Europe/Paris")
    lo, hi = local.min(), local.max()
    weeks = local.dt.tz_localize(None).dt.to_period("W-SUN")
    whole = (weeks.dt.start_time >= lo.tz_localize(None)) & (weeks.dt.end_time < hi.tz_localize(None))
    days = local.dt.tz_localize(None).dt.floor("D")
    per_unit_week = (pd.DataFrame({"u": df["userID"], "w": weeks, "d": days})[whole]
                     .groupby(["u", "w"], observed=True)["d"].nunique())
    expected = per_unit_week.value_counts().reindex(range(1, 8), fill_value=0)
    assert result["units"].tolist() == expected.tolist()
    assert result["share"].sum() == pytest.approx(1.0)
    assert result.attrs["periods"] == whole.groupby(weeks).any().sum()


# ---------------------------------------------------------------- plots


def test_lifecycle_plot_stacks_the_active_and_puts_dormant_below_zero(weekly, close_figures):
    from statsig_pandas import plotting

    _, given = close_figures.subplots()
    ax = weekly.statsig.plot_lifecycle("W", ax=given)
    assert ax is given
    bars = {c.get_label(): c for c in ax.containers}
    assert list(bars) == ["new", "returning", "resurrecting", "dormant"]
    heights = {k: [p.get_height() for p in c.patches] for k, c in bars.items()}
    assert heights == {"new": [1, 0, 1], "returning": [1, 1, 1], "resurrecting": [0, 1, 0],
                       "dormant": [-1, -1, -1]}
    # Stacked: returning sits on new, resurrecting on both; dormant hangs from zero.
    assert [p.get_y() for p in bars["returning"].patches] == [1, 0, 1]
    assert [p.get_y() for p in bars["resurrecting"].patches] == [2, 1, 2]
    assert [p.get_y() for p in bars["dormant"].patches] == [0, 0, 0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2026-03-09", "2026-03-16", "2026-03-23"]
    assert plotting.plot_lifecycle(weekly, freq="W", title="mine").get_title() == "mine"


def test_stickiness_plot_labels_bars_in_buckets(two_weeks, close_figures):
    ax = two_weeks.statsig.plot_stickiness("D", per="W")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1 day"] + [f"{k} days" for k in range(2, 8)]
    assert [p.get_height() for p in ax.containers[0].patches] == [2, 1, 1, 0, 0, 0, 0]
    cumulative = two_weeks.statsig.plot_stickiness(cumulative=True)
    assert cumulative.get_xticklabels()[1].get_text() == "2 days or more"
    assert "2 complete weeks" in ax.get_title()


def test_plots_of_nothing_say_so(close_figures):
    df = event_frame([("a", day(0), "v")])
    with pytest.warns(StatsigWarning):
        ax = df.statsig.plot_stickiness()
    assert "No events" in [t.get_text() for t in ax.texts]
    with pytest.warns(StatsigWarning):
        ax = df.statsig.plot_lifecycle()
    assert "No events" in [t.get_text() for t in ax.texts]


# ---------------------------------------------------------------- edges


def test_lifecycle_and_stickiness_of_another_unit(two_weeks):
    plans = {"a": "pro", "b": "pro", "c": "free"}
    df = two_weeks.assign(metadata=[{"plan": plans[u]} for u in two_weeks["userID"]])
    # a and b share the plan: the week of 2 March is 4 active days of "pro", that of 9 March 3.
    assert engagement.stickiness(df, unit="metadata.plan")["units"].tolist() == [0, 0, 1, 1, 0, 0, 0]
    # Weeks of 2, 9 and 16 March: "pro" active since the warm-up week until the 9th, "free" new on the 16th.
    assert engagement.lifecycle(df, freq="W", unit="metadata.plan").to_dict("list") == {
        "new": [0, 0, 1], "returning": [1, 1, 0], "resurrecting": [0, 0, 0], "dormant": [0, 0, -1]}


def test_events_without_a_timestamp_are_left_out(weekly):
    ghost = weekly.iloc[[0]].assign(userID="ghost")
    ghost["timestamp"] = pd.Series([pd.NaT], dtype=weekly["timestamp"].dtype, index=ghost.index)
    with_nat = pd.concat([weekly, ghost], ignore_index=True)
    pd.testing.assert_frame_equal(engagement.lifecycle(with_nat, freq="W"), engagement.lifecycle(weekly, freq="W"))
