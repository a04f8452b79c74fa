"""Retention: the design note's vectors, the edges of each option, and a brute-force reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from support import event_frame

from statsig_pandas import StatsigError, StatsigWarning, Step
from statsig_pandas.retention import retention, retention_curve

D1 = pd.Timestamp("2026-03-02", tz="UTC")
LATER = ("someone", D1 + pd.Timedelta(days=40), "other")  # keeps every cell of these tests complete


def day(d: int, hour: float = 0) -> pd.Timestamp:
    return D1 + pd.Timedelta(days=d) + pd.Timedelta(hours=hour)


def frame(*rows):
    return event_frame([*rows, LATER])


def cells(table, cohort: pd.Timestamp) -> list:
    return table.loc[cohort].drop("units").tolist()


def test_a_unit_joins_every_recurring_cohort_it_starts_in():
    df = frame(("u", day(0), "start"), ("u", day(2), "start"))
    table = retention(df, "start", "start", periods=3, values="units")
    assert table["units"].tolist() == [1, 0, 1]
    assert cells(table, day(0)) == [1, 0, 1]
    assert cells(table, day(2)) == [1, 0, 0]
    first = retention(df, "start", "start", periods=3, values="units", cohorts="first_time")
    assert first["units"].tolist() == [1, 0, 0]


def test_a_return_in_the_start_period_does_not_raise_offset_0():
    df = frame(("u", day(0, 1), "start"), ("u", day(0, 2), "back"), ("v", day(0, 3), "start"))
    table = retention(df, "start", "back", periods=2, values="units")
    assert table.loc[day(0)].tolist() == [2, 2, 0]
    assert retention(df, "start", "back", periods=2).loc[day(0)].tolist() == [2, 1.0, 0.0]


def test_a_return_late_the_same_day_is_offset_0_in_both_modes():
    df = frame(("u", day(0, 0), "start"), ("u", day(0, 23.99), "back"))
    for mode in ("calendar", "rolling"):
        assert cells(retention(df, "start", "back", periods=3, mode=mode, values="units"), day(0)) == [1, 0, 0]


def test_calendar_next_day_but_rolling_same_24_hours():
    df = frame(("u", day(0, 23), "start"), ("u", day(1, 1), "back"))
    assert cells(retention(df, "start", "back", periods=3, values="units"), day(0)) == [1, 1, 0]
    assert cells(retention(df, "start", "back", periods=3, mode="rolling", values="units"), day(0)) == [1, 0, 0]
    # 25 hours on is rolling offset 1
    df = frame(("u", day(0, 23), "start"), ("u", day(2, 0), "back"))
    assert cells(retention(df, "start", "back", periods=3, mode="rolling", values="units"), day(0)) == [1, 1, 0]


def test_rolling_uses_the_first_start_event_of_the_cohort_period():
    df = frame(("u", day(0, 1), "start"), ("u", day(0, 20), "start"), ("u", day(1, 10), "back"))
    # t0 = 01:00: 33 hours on is offset 1 (from 20:00 it would be offset 0)
    assert cells(retention(df, "start", "back", periods=3, mode="rolling", values="units"), day(0)) == [1, 1, 0]


def test_cumulative_counts_every_offset_up_to_the_last_return():
    df = frame(("u", day(0), "start"), ("u", day(3), "back"), ("v", day(0), "start"))
    plain = retention(df, "start", "back", periods=5, values="units")
    assert cells(plain, day(0)) == [2, 0, 0, 1, 0]
    cumulative = retention(df, "start", "back", periods=5, values="units", cumulative=True)
    assert cells(cumulative, day(0)) == [2, 1, 1, 1, 0]
    rolling = retention(df, "start", "back", periods=5, values="units", cumulative=True, mode="rolling")
    assert cells(rolling, day(0)) == [2, 1, 1, 1, 0]


def test_cells_past_the_last_event_are_nan_not_low():
    df = event_frame([("u", day(0), "a"), ("u", day(1), "a"), ("v", day(1), "a"), ("v", day(2, 12), "a")])
    table = retention(df, periods=4)
    assert table.index.name == "cohort" and str(table.index.tz) == "UTC"
    assert table.columns.tolist() == ["units", 0, 1, 2, 3]
    assert table["units"].tolist() == [1, 2, 1]
    assert table.loc[day(0)].tolist()[:3] == [1, 1.0, 1.0]
    # day 2 ends after the last event (12:00 that day): every cell reaching it is unknown
    assert np.isnan(table.loc[day(0), 2]) and np.isnan(table.loc[day(0), 3])
    assert table.loc[day(1)].tolist()[:2] == [2, 1.0] and np.isnan(table.loc[day(1), 1])
    assert table.loc[day(2), 0] == 1.0 and table.loc[day(2)].iloc[2:].isna().all()
    units = retention(df, periods=4, values="units")
    assert np.isnan(units.loc[day(1), 1]) and units.loc[day(0), 1] == 1


def test_the_curve_is_the_weighted_mean_of_complete_cells():
    rows = [("a", day(0), "x"), ("a", day(1), "x"), ("b", day(0), "x"), ("c", day(0), "x"),
            ("d", day(1), "x"), ("d", day(2), "x"), ("e", day(1), "x"), ("f", day(3), "x"), ("f", day(4, 23), "x")]
    df = event_frame(rows)
    table = retention(df, periods=3, values="units")
    curve = retention_curve(df, periods=3)
    assert curve.index.name == "offset" and curve.name == "retention"
    # Recurring cohorts: day 0 {a, b, c}, day 1 {a, d, e}, day 2 {d}, day 3 {f}, day 4 {f}; the frame ends
    # on day 4 at 23:00, so day 4 is incomplete. Offset 1: 1 of 3, 1 of 3 (d), 0 of 1; f's return is not
    # counted: 2 of 7, not the 3 of 8 a mean over every cell would give.
    assert table["units"].tolist() == [3, 3, 1, 1, 1]
    assert table.loc[day(0), 1] == 1 and table.loc[day(1), 1] == 1 and table.loc[day(2), 1] == 0
    assert np.isnan(table.loc[day(3), 1])
    assert curve[1] == pytest.approx(2 / 7)
    # offset 2: cohorts 0 and 1 are complete: 0 of 6
    assert curve[2] == 0.0
    assert curve[0] == 1.0


def test_start_none_is_any_event_and_return_none_the_start_event():
    df = frame(("u", day(0), "signup"), ("u", day(1), "view"), ("v", day(0), "view"), ("v", day(1), "signup"))
    assert cells(retention(df, periods=2, values="units"), day(0)) == [2, 2]
    assert cells(retention(df, "signup", periods=2, values="units"), day(0)) == [1, 0]
    assert cells(retention(df, "signup", "view", periods=2, values="units"), day(0)) == [1, 1]
    assert cells(retention(df, Step(["signup", "view"]), periods=2, values="units"), day(0)) == [2, 2]


def test_periods_follow_the_wall_clock_of_tz():
    df = frame(("u", "2026-03-02 23:30", "a"), ("u", "2026-03-03 00:30", "a"))
    utc = retention(df, "a", periods=2, values="units")
    paris = retention(df, "a", periods=2, values="units", tz="Europe/Paris")
    assert cells(utc, pd.Timestamp("2026-03-02", tz="UTC")) == [1, 1]
    assert paris.index[0] == pd.Timestamp("2026-03-03", tz="Europe/Paris")
    assert paris["units"].iloc[0] == 1 and paris.iloc[0, 2] == 0


def test_weekly_periods_start_on_monday():
    df = frame(("u", "2026-03-04", "a"), ("u", "2026-03-10", "a"), ("v", "2026-03-08", "a"))
    table = retention(df, "a", period="W", periods=2, values="units")
    assert table.index[0] == pd.Timestamp("2026-03-02", tz="UTC")
    assert table.loc[pd.Timestamp("2026-03-02", tz="UTC")].tolist() == [2, 2, 1]


def test_rows_without_unit_are_counted():
    df = frame(("u", day(0), "a"), ("", day(0), "a"), (None, day(1), "a"))
    assert retention(df, "a").attrs["rows_without_unit"] == 2


def test_an_event_matching_nothing_warns():
    with pytest.warns(StatsigWarning, match="'signpu'"):
        retention(frame(("u", day(0), "signup")), "signpu")


@pytest.mark.parametrize("kwargs", [{"period": "fortnight"}, {"periods": 0}, {"periods": 65}, {"periods": 2.5},
                                    {"cohorts": "first"}, {"mode": "sliding"}, {"cumulative": 1},
                                    {"values": "share"}, {"tz": "Mars/Base"}, {"unit": "team"},
                                    {"start_event": 3}, {"return_event": [1]},
                                    {"mode": "rolling", "period": "QS"}])
def test_bad_arguments_raise(kwargs):
    with pytest.raises(StatsigError):
        retention(frame(("u", day(0), "a")), **kwargs)


def test_an_empty_result_keeps_its_shape():
    with pytest.warns(StatsigWarning):
        table = retention(frame(("u", day(0), "a")), "b", periods=3)
    assert len(table) == 0 and table.columns.tolist() == ["units", 0, 1, 2]


# ---------------------------------------------------------------- against a brute-force reference


def reference(df, periods, cohorts, mode, cumulative):
    """Per (cohort day, offset) the set of retained users, by walking each user's events (days in UTC)."""
    ts = df["timestamp"]
    days = ts.dt.floor("D")
    counts: dict = {}
    sizes: dict = {}
    for _user, group in df.groupby("userID"):
        g_days, g_ts = days[group.index], ts[group.index]
        cohort_days = sorted(set(g_days)) if cohorts == "recurring" else [min(g_days)]
        for c in cohort_days:
            sizes[c] = sizes.get(c, 0) + 1
            t0 = g_ts[g_days == c].min()
            hit = set()
            for t, d in zip(g_ts, g_days):
                k = (d - c).days if mode == "calendar" else int((t - t0) // pd.Timedelta(days=1))
                if 1 <= k < periods and t >= (c if mode == "calendar" else t0):
                    hit.add(k)
            if cumulative and hit:
                hit = set(range(1, max(hit) + 1))
            for k in hit:
                counts[(c, k)] = counts.get((c, k), 0) + 1
    return sizes, counts


@pytest.mark.parametrize("cohorts", ["recurring", "first_time"])
@pytest.mark.parametrize("mode", ["calendar", "rolling"])
@pytest.mark.parametrize("cumulative", [False, True])
@pytest.mark.parametrize("periods", [6, 12])  # 12: offsets past the first byte of each unit's bits
def test_random_frames_agree_with_a_brute_force_reference(cohorts, mode, cumulative, periods):
    rng = np.random.default_rng(11)
    n = 700
    times = D1 + pd.to_timedelta(rng.integers(0, 20 * 86_400_000, size=n), unit="ms")
    df = event_frame([(f"u{u}", t, "a") for u, t in zip(rng.integers(0, 50, size=n), times)])
    table = retention(df, periods=periods, cohorts=cohorts, mode=mode, cumulative=cumulative, values="units")
    sizes, counts = reference(df, periods, cohorts, mode, cumulative)
    for c, row in table.iterrows():
        assert row["units"] == sizes.get(c, 0)
        for k in range(1, periods):
            if not np.isnan(row[k]):
                assert row[k] == counts.get((c, k), 0), (c, k)
    # every cell within the data is complete
    assert not table.loc[: D1 + pd.Timedelta(days=16 - periods), list(range(periods))].isna().any().any()


# ---------------------------------------------------------------- accessor and plots


def test_the_accessor_fronts_the_functions():
    import statsig_pandas  # noqa: F401  (registers df.statsig)

    df = frame(("u", day(0), "a"), ("u", day(2), "b"), ("v", day(1), "a"))
    pd.testing.assert_frame_equal(df.statsig.retention("a", "b", periods=4, values="units", mode="rolling"),
                                  retention(df, "a", "b", periods=4, values="units", mode="rolling"))
    pd.testing.assert_series_equal(df.statsig.retention_curve(periods=3, cohorts="first_time"),
                                   retention_curve(df, periods=3, cohorts="first_time"))


def test_plot_retention_is_an_absolute_heatmap_with_blank_incomplete_cells():
    import matplotlib.pyplot as plt

    from statsig_pandas.plotting import plot_retention

    df = event_frame([("u", day(0), "a"), ("u", day(1), "a"), ("v", day(1), "a"), ("w", day(1), "a"),
                      ("w", day(3), "a"), ("v", day(4, 12), "a")])
    table = retention(df, periods=3)
    ax = plot_retention(df, periods=3)
    image = ax.images[0]
    assert image.get_clim() == (0.0, 1.0)
    grid = image.get_array()
    assert grid.shape == (len(table) + 1, 3)
    values = table.drop(columns="units").to_numpy()
    np.testing.assert_allclose(grid[:-1].filled(np.nan), values)
    assert grid.mask[:-1].tolist() == np.isnan(values).tolist()
    np.testing.assert_allclose(grid[-1].filled(np.nan), retention_curve(df, periods=3).to_numpy())
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "2026-03-02  (n=1)" and labels[1] == "2026-03-03  (n=3)" and labels[-1].startswith("Mean")
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("100%") >= 3 and "33%" in texts
    plt.close("all")


def test_plot_retention_curve_draws_the_mean_bold():
    import matplotlib.pyplot as plt

    from statsig_pandas.plotting import plot_retention_curve

    df = event_frame([("u", day(0), "a"), ("u", day(1), "a"), ("v", day(1), "a"), ("v", day(5), "a")])
    _, given = plt.subplots()
    ax = plot_retention_curve(df, periods=3, ax=given)
    assert ax is given
    mean = ax.get_lines()[-1]
    np.testing.assert_allclose(mean.get_ydata(), retention_curve(df, periods=3).to_numpy())
    assert mean.get_linewidth() > ax.get_lines()[0].get_linewidth()
    plt.close("all")


def test_small_blocks_give_the_same_triangles(monkeypatch):
    """Events and members are handled a block at a time: blocks cutting through units and days change nothing."""
    from statsig_pandas import retention as module

    rng = np.random.default_rng(5)
    n = 600
    times = D1 + pd.to_timedelta(rng.integers(0, 15 * 86_400_000, size=n), unit="ms")
    df = event_frame([(f"{u:03d}", t, ("a", "b")[i % 2]) for i, (u, t) in enumerate(zip(rng.integers(0, 30, size=n),
                                                                                        times))])
    options = [dict(cohorts=c, mode=m, cumulative=k) for c in ("recurring", "first_time")
               for m in ("calendar", "rolling") for k in (False, True)]
    whole = [retention(df, "a", None if i % 2 else "b", periods=5, values="units", **o) for i, o in enumerate(options)]
    monkeypatch.setattr(module, "_BLOCK", 7)
    for i, o in enumerate(options):
        pd.testing.assert_frame_equal(retention(df, "a", None if i % 2 else "b", periods=5, values="units", **o),
                                      whole[i])
