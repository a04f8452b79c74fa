"""Funnels: the test vectors of the vendors' docs and bug reports, then the edges of each option."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from support import event_frame

from statsig_pandas import StatsigError, StatsigWarning, Step
from statsig_pandas.funnels import funnel, funnel_trend
from statsig_pandas.testing.synthetic import synthetic_frame

T0 = pd.Timestamp("2026-03-02 10:00", tz="UTC")


def at(minutes: float = 0, *, days: float = 0, ms: int = 0) -> pd.Timestamp:
    return T0 + pd.Timedelta(minutes=minutes) + pd.Timedelta(days=days) + pd.Timedelta(milliseconds=ms)


def one_unit(*events, user="u"):
    """A frame of one unit's events, ``(time, name)`` pairs in row order."""
    return event_frame([(user, t, name) for t, name in events])


def reached(df, steps, **kwargs) -> int:
    """How many steps the (single) unit of ``df`` reached."""
    units = funnel(df, steps, **kwargs)["units"]
    return int((units > 0).sum())


# ---------------------------------------------------------------- the design note's vectors


def test_statsig_ordered_repeats_in_between_still_convert():
    df = one_unit(*[(at(i), name) for i, name in enumerate("ABBACD")])
    assert reached(df, list("ABCD")) == 4


def test_mixpanel_reentry_off_reaches_b_only_and_on_converts_via_the_later_attempt():
    df = one_unit((at(0), "A"), (at(30), "A"), (at(45), "B"), (at(75), "C"))
    assert reached(df, list("ABC"), within="1h", reentry=False) == 2
    table = funnel(df, list("ABC"), within="1h", reentry=True)
    assert table["units"].tolist() == [1, 1, 1]
    # The counted attempt is the 13:30 one: 15 minutes to B, 30 more to C.
    assert table["median_time"].tolist()[1:] == [pd.Timedelta(minutes=15), pd.Timedelta(minutes=30)]


def test_statsig_whn_first_entry_only_versus_reentry():
    df = one_unit((at(days=0), "A"), (at(days=5), "A"), (at(1, days=5), "B"), (at(2, days=5), "C"))
    assert reached(df, list("ABC"), within="1D", reentry=False) == 1
    assert reached(df, list("ABC"), within="1D", reentry=True) == 3


def test_the_window_is_inclusive_to_the_millisecond():
    assert reached(one_unit((at(0), "A"), (at(60), "B")), ["A", "B"], within="1h") == 2
    assert reached(one_unit((at(0), "A"), (at(60, ms=1), "B")), ["A", "B"], within="1h") == 1


@pytest.mark.parametrize("rows", [["A", "B"], ["B", "A"]])
def test_a_tie_converts_in_either_row_order(rows):
    df = one_unit(*[(at(0), name) for name in rows])
    assert reached(df, ["A", "B"]) == 2


def test_one_event_fills_one_step_but_tied_repeats_fill_consecutive_steps():
    assert reached(one_unit((at(0), "pv")), ["pv", "pv"]) == 1
    assert reached(one_unit((at(0), "pv"), (at(0), "pv")), ["pv", "pv"]) == 2
    # PostHog issue #25048
    df = one_unit((at(0), "onboarding"), (at(1), "pv"), (at(1), "pv"), (at(2), "pv"))
    assert reached(df, ["onboarding", "pv", "pv"]) == 3
    assert reached(df, ["onboarding", "pv", "pv", "pv"]) == 4
    assert reached(df, ["onboarding", "pv", "pv", "pv", "pv"]) == 4


def test_strict_order_breaks_on_any_other_event_but_not_on_a_repeat():
    assert reached(one_unit((at(0), "A"), (at(1), "X"), (at(2), "B")), ["A", "B"], order="strict") == 1
    assert reached(one_unit((at(0), "A"), (at(1), "A"), (at(2), "B")), ["A", "B"], order="strict") == 2
    # ...while the ordered funnel lets X pass.
    assert reached(one_unit((at(0), "A"), (at(1), "X"), (at(2), "B")), ["A", "B"]) == 2


def test_an_excluded_event_between_steps_removes_the_unit():
    excluded = funnel(one_unit((at(0), "A"), (at(1), "X"), (at(2), "B")), ["A", "B"], exclude="X")
    assert excluded["units"].tolist() == [0, 0]
    assert excluded.attrs["excluded_units"] == 1
    after = funnel(one_unit((at(0), "A"), (at(1), "B"), (at(2), "X")), ["A", "B"], exclude=["X"])
    assert after["units"].tolist() == [1, 1] and after.attrs["excluded_units"] == 0


def test_any_order_counts_the_steps_completed_inside_one_window():
    assert reached(one_unit((at(0), "C"), (at(1), "A"), (at(2), "B")), list("ABC"), order="any") == 3
    df = one_unit((at(0), "C"), (at(days=20), "A"), (at(1, days=20), "B"))
    assert reached(df, list("ABC"), order="any") == 2
    assert funnel(df, list("ABC"), order="any")["event"].tolist() == ["A", "B", "C"]


# ---------------------------------------------------------------- the table


def test_the_table_has_the_documented_columns_and_arithmetic():
    rows = []
    for i in range(10):
        rows.append((f"u{i}", at(i), "view"))
        if i < 6:
            rows.append((f"u{i}", at(i + 10), "cart"))
        if i < 3:
            rows.append((f"u{i}", at(i + 30), "buy"))
    table = funnel(event_frame(rows), ["view", "cart", "buy"])
    assert table.index.name == "step" and table.index.tolist() == [1, 2, 3]
    assert table.columns.tolist() == ["event", "units", "conversion", "step_conversion", "dropped", "median_time"]
    assert table["units"].tolist() == [10, 6, 3] and table["units"].dtype == np.int64
    assert table["conversion"].tolist() == [1.0, 0.6, 0.3]
    assert table["step_conversion"].tolist() == [1.0, 0.6, 0.5]
    assert table["dropped"].tolist() == [0, 4, 3]
    assert pd.isna(table["median_time"].iloc[0])
    assert table["median_time"].iloc[1] == pd.Timedelta(minutes=10)
    assert table["median_time"].iloc[2] == pd.Timedelta(minutes=20)
    assert table.attrs["rows_without_unit"] == 0


def test_median_time_is_over_the_units_that_reached_the_step():
    df = event_frame([("a", at(0), "A"), ("a", at(2), "B"), ("b", at(0), "A"), ("b", at(4), "B"),
                      ("c", at(0), "A"), ("c", at(9), "B"), ("d", at(0), "A")])
    assert funnel(df, ["A", "B"])["median_time"].iloc[1] == pd.Timedelta(minutes=4)


def test_steps_may_be_lists_and_filtered_steps():
    df = event_frame([
        ("a", at(0), "view"), ("a", at(1), "buy", {"value": "books"}),
        ("b", at(0), "visit"), ("b", at(1), "buy", {"value": "toys"}),
    ])
    table = funnel(df, [["view", "visit"], Step("buy", value="books")])
    assert table["units"].tolist() == [2, 1]
    assert table["event"].tolist() == ["view|visit", "buy (value=books)"]


def test_rows_without_unit_are_left_out_and_counted():
    df = event_frame([("a", at(0), "A"), ("", at(1), "A"), (None, at(2), "A"), (None, at(3), "B")])
    table = funnel(df, ["A", "B"])
    assert table["units"].tolist() == [1, 0]
    assert table.attrs["rows_without_unit"] == 3


def test_the_unit_may_be_a_metadata_key():
    df = event_frame([
        ("u1", at(0), "A", {"metadata": {"stableID": "s"}}),
        ("u2", at(1), "B", {"metadata": {"stableID": "s"}}),
    ])
    assert funnel(df, ["A", "B"])["units"].tolist() == [1, 0]
    assert funnel(df, ["A", "B"], unit="metadata.stableID")["units"].tolist() == [1, 1]


def test_events_out_of_time_order_are_sorted_per_unit():
    df = one_unit((at(2), "C"), (at(1), "B"), (at(0), "A"))
    assert reached(df, list("ABC")) == 3
    assert reached(df, list("CBA")) == 1


def test_a_step_matching_nothing_warns_by_name():
    df = one_unit((at(0), "A"), (at(1), "B"))
    with pytest.warns(StatsigWarning, match="'purchse'"):
        table = funnel(df, ["A", "purchse"])
    assert table["units"].tolist() == [1, 0]


@pytest.mark.parametrize("kwargs", [
    {"within": "soon"}, {"within": "-1h"}, {"within": 0}, {"order": "loose"}, {"reentry": "yes"},
    {"top": 0}, {"by": 3}, {"by": "plan"}, {"unit": "team"}, {"exclude": 5}, {"start": "never"},
    {"start": "2026-03-05", "end": "2026-03-01"},
])
def test_bad_arguments_raise_before_any_work(kwargs):
    df = one_unit((at(0), "A"), (at(1), "B"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "matches nothing" warning: it fails first
        with pytest.raises(StatsigError):
            funnel(df, ["A", "B"], **kwargs)


@pytest.mark.parametrize("steps", [[], "A", [3], [["A", 2]], [{"name": "A"}]])
def test_bad_steps_raise(steps):
    df = one_unit((at(0), "A"))
    if steps == "A":  # a lone name is a one-step funnel
        assert funnel(df, steps)["units"].tolist() == [1]
        return
    with pytest.raises(StatsigError):
        funnel(df, steps)


def test_start_and_end_bound_the_entry_only():
    df = one_unit((at(0), "A"), (at(days=1), "B"), (at(days=3), "A"))
    assert funnel(df, ["A", "B"], start=at(-1), end=at(1))["units"].tolist() == [1, 1]  # B past end counts
    assert funnel(df, ["A", "B"], start=at(1))["units"].tolist() == [1, 0]
    assert funnel(df, ["A", "B"], end=at(0))["units"].tolist() == [0, 0]  # end is exclusive
    assert funnel(df, ["A", "B"], start=at(0), end=at(0, ms=1))["units"].tolist() == [1, 1]


def test_reentry_off_uses_the_first_entry_in_range():
    df = one_unit((at(0), "A"), (at(days=5), "A"), (at(1, days=5), "B"))
    assert reached(df, ["A", "B"], within="1D", reentry=False) == 1
    assert reached(df, ["A", "B"], within="1D", reentry=False, start=at(1)) == 2


def test_strict_ties_do_not_break_and_repeats_of_later_steps_keep_it_alive():
    # X tied with B: simultaneous, so not "between".
    assert reached(one_unit((at(0), "A"), (at(1), "X"), (at(1), "B")), ["A", "B"], order="strict") == 2
    assert reached(one_unit((at(0), "A"), (at(1), "B"), (at(2), "B"), (at(3), "C")), list("ABC"),
                   order="strict") == 3
    assert reached(one_unit((at(0), "A"), (at(1), "B"), (at(2), "X"), (at(3), "C")), list("ABC"),
                   order="strict") == 2
    # a later A restarts: A X A B converts strictly through the second A
    assert reached(one_unit((at(0), "A"), (at(1), "X"), (at(2), "A"), (at(3), "B")), ["A", "B"],
                   order="strict") == 2
    # events of other units never break a unit's attempt
    df = event_frame([("u", at(0), "A"), ("v", at(1), "X"), ("u", at(2), "B")])
    assert funnel(df, ["A", "B"], order="strict")["units"].tolist() == [1, 1]


def test_exclusion_only_taints_the_counted_attempt():
    # The first attempt is tainted but the second (A, B) is the counted one: the unit stays.
    df = one_unit((at(0), "A"), (at(1), "X"), (at(2), "A"), (at(3), "B"))
    table = funnel(df, ["A", "B"], exclude=Step("X"))
    assert table["units"].tolist() == [1, 1] and table.attrs["excluded_units"] == 0
    # X before step 1 or after the last reached step does not count.
    with pytest.warns(StatsigWarning, match="'B'"):
        assert funnel(one_unit((at(0), "X"), (at(1), "A")), ["A", "B"], exclude="X")["units"].tolist() == [1, 0]
    with pytest.warns(StatsigWarning, match="'B'"):
        assert funnel(one_unit((at(0), "A"), (at(1), "X")), ["A", "B"], exclude="X")["units"].tolist() == [1, 0]


def test_any_order_window_and_overlapping_steps():
    assert reached(one_unit((at(0), "B"), (at(days=1), "A")), ["A", "B"], order="any", within="1D") == 2
    assert reached(one_unit((at(0), "B"), (at(1, days=1), "A")), ["A", "B"], order="any", within="1D") == 1
    # One event cannot complete two steps at once, even when it matches both.
    assert reached(one_unit((at(0), "A")), [["A", "B"], "A"], order="any") == 1
    assert reached(one_unit((at(0), "A"), (at(1), "B")), [["A", "B"], "A"], order="any") == 2
    assert reached(one_unit((at(0), "A"), (at(1), "A")), ["A", "A"], order="any") == 2


def test_by_groups_units_by_their_step_1_event_and_pools_the_rest():
    rows = []
    plans = ["free"] * 5 + ["pro"] * 3 + ["team"] * 2 + ["solo"]
    for i, plan in enumerate(plans):
        rows.append((f"u{i}", at(i), "A", {"metadata": {"plan": plan}}))
        if i % 2 == 0:
            rows.append((f"u{i}", at(i + 20), "B", {"metadata": {"plan": "other"}}))
    rows.append(("nobody", at(50), "A"))  # no plan: left out of the groups
    table = funnel(event_frame(rows), ["A", "B"], by="metadata.plan", top=2)
    assert table.index.names == ["metadata.plan", "step"]
    assert table.index.get_level_values(0).unique().tolist() == ["free", "pro", "(other)"]
    assert table.xs(1, level="step")["units"].tolist() == [5, 3, 3]
    assert table.xs(2, level="step")["units"].tolist() == [3, 1, 2]
    assert table.loc[("(other)", 2), "conversion"] == pytest.approx(2 / 3)
    assert table.attrs["units_without_group"] == 1


def test_funnel_trend_counts_entries_per_bucket_and_flags_incomplete_ones():
    rows = [
        ("a", "2026-03-02 10:00", "A"), ("a", "2026-03-03 09:00", "B"),  # converts in a later bucket
        ("b", "2026-03-02 11:00", "A"),
        ("a", "2026-03-04 10:00", "A"), ("a", "2026-03-04 10:30", "B"),  # a enters again
        ("c", "2026-03-06 23:00", "X"),  # the frame's last event
    ]
    df = event_frame(rows)
    trend = funnel_trend(df, ["A", "B"], within="1D")
    assert trend.index.name == "timestamp" and str(trend.index.tz) == "UTC"
    assert trend.index.strftime("%m-%d").tolist() == ["03-02", "03-03", "03-04"]
    assert trend["entered"].tolist() == [2, 0, 1]
    assert trend["converted"].tolist() == [1, 0, 1]
    assert trend["conversion"].tolist()[0] == 0.5 and np.isnan(trend["conversion"].iloc[1])
    assert trend["complete"].tolist() == [True, True, True]
    assert funnel_trend(df, ["A", "B"], within="3D")["complete"].tolist() == [True, False, False]


def test_funnel_trend_buckets_equal_funnels_over_each_bucket():
    df = synthetic_frame(4000, seed=5, end_ms=1_775_000_000_000, span_ms=6 * 86_400_000, users=120)
    steps = ["page_view", "add_to_cart", "purchase"]
    for kwargs in ({}, {"reentry": False}, {"order": "strict"}, {"order": "any"}, {"exclude": "page_view"}):
        trend = funnel_trend(df, steps[1:] if "exclude" in kwargs else steps, within="6h", tz="Europe/Paris",
                             **kwargs)
        for label, row in trend.iterrows():
            one = funnel(df, steps[1:] if "exclude" in kwargs else steps, within="6h", start=label,
                         end=label + pd.DateOffset(days=1), **kwargs)  # a wall-clock day
            assert (row["entered"], row["converted"]) == (one["units"].iloc[0], one["units"].iloc[-1]), kwargs


def test_funnel_trend_in_a_local_zone():
    df = event_frame([("a", "2026-03-28 23:30", "A"), ("a", "2026-03-29 23:30", "A")])
    trend = funnel_trend(df, ["A"], tz="Europe/Paris")
    assert trend.index.strftime("%d %H:%M %z").tolist() == ["29 00:00 +0100", "30 00:00 +0200"]
    assert trend["entered"].tolist() == [1, 1]


# ---------------------------------------------------------------- against a plain reference


def reference_reach(times, names, steps, window, order):  # noqa: C901 - the definition, spelled out
    """Per unit, the furthest step of the best attempt, by trying every assignment (tiny inputs)."""
    import itertools

    n = len(steps)
    best = 0
    events = sorted(range(len(times)), key=lambda i: (times[i], i))
    for first in events:
        if names[first] != steps[0]:
            continue
        best = max(best, 1)
        for k in range(2, n + 1):
            ok = False
            for combo in itertools.permutations([e for e in events if e != first], k - 1):
                chain = [first, *combo]
                if any(names[chain[j]] != steps[j] for j in range(k)):
                    continue
                if any(times[chain[j + 1]] < times[chain[j]] for j in range(k - 1)):
                    continue
                if times[chain[-1]] - times[first] > window:
                    continue
                if order == "strict":
                    broken = False
                    for j in range(k - 1):
                        lo, hi = times[chain[j]], times[chain[j + 1]]
                        if any(lo < times[e] < hi and names[e] != steps[j] for e in events):
                            broken = True
                    if broken:
                        continue
                ok = True
                break
            if not ok:
                break
            best = max(best, k)
    return best


@pytest.mark.parametrize("order", ["ordered", "strict"])
def test_random_small_units_agree_with_an_exhaustive_search(order):
    rng = np.random.default_rng(7)
    rows, truth = [], {}
    steps = ["A", "B", "C"]
    for u in range(150):
        k = int(rng.integers(1, 7))
        times = rng.integers(0, 8, size=k).tolist()
        names = rng.choice(["A", "B", "C", "X"], size=k).tolist()
        rows += [(f"u{u}", at(t), name) for t, name in zip(times, names)]
        truth[f"u{u}"] = reference_reach(times, names, steps, 4, order)
    df = event_frame(rows)
    table = funnel(df, steps, within="4min", order=order)
    expected = [sum(1 for r in truth.values() if r >= k) for k in (1, 2, 3)]
    assert table["units"].tolist() == expected


# ---------------------------------------------------------------- accessor and plot


def test_the_accessor_fronts_the_functions():
    import statsig_pandas  # noqa: F401  (registers df.statsig)

    df = synthetic_frame(3000, seed=2, end_ms=1_775_000_000_000, span_ms=5 * 86_400_000, users=90)
    steps = ["page_view", "add_to_cart", "purchase"]
    pd.testing.assert_frame_equal(df.statsig.funnel(steps, within="1D", by="source", top=2, order="any"),
                                  funnel(df, steps, within="1D", by="source", top=2, order="any"))
    pd.testing.assert_frame_equal(df.statsig.funnel_trend(steps, freq="12h", within="2h", tz="Asia/Tokyo"),
                                  funnel_trend(df, steps, freq="12h", within="2h", tz="Asia/Tokyo"))


def test_plot_funnel_draws_the_backdrop_and_the_converted_share():
    import matplotlib.pyplot as plt

    from statsig_pandas.plotting import plot_funnel

    df = synthetic_frame(3000, seed=2, end_ms=1_775_000_000_000, span_ms=5 * 86_400_000, users=90)
    steps = ["page_view", "add_to_cart", "purchase"]
    _, given = plt.subplots()
    ax = plot_funnel(df, steps, within="1D", ax=given)
    assert ax is given
    table = funnel(df, steps, within="1D")
    backdrop, solid = ax.patches[:3], ax.patches[3:]
    assert [p.get_height() for p in backdrop] == [1.0] * 3 and all(p.get_hatch() == "//" for p in backdrop)
    assert all(p.get_alpha() == 0.125 for p in backdrop)
    assert [p.get_height() for p in solid] == pytest.approx(table["conversion"].tolist())
    texts = [t.get_text() for t in ax.texts]
    assert f"{table['units'].iloc[1]:,}\n{table['conversion'].iloc[1]:.0%}" in texts
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks[0] == "1. page_view" and f"\u2212{table['dropped'].iloc[2]:,}" in ticks[2]

    by = plot_funnel(df, steps, within="1D", by="source", top=2)
    assert len(by.patches) == 2 * 3 * 3  # backdrop + bar, 3 steps, 2 groups + (other)
    groups = funnel(df, steps, within="1D", by="source", top=2).index.get_level_values(0).unique().tolist()
    assert [t.get_text() for t in by.get_legend().get_texts()] == groups and groups[-1] == "(other)"
    plt.close("all")


def test_plot_funnel_trend_draws_complete_and_open_buckets():
    import matplotlib.pyplot as plt

    from statsig_pandas.plotting import plot_funnel_trend

    df = synthetic_frame(3000, seed=2, end_ms=1_775_000_000_000, span_ms=5 * 86_400_000, users=90)
    trend = funnel_trend(df, ["page_view", "purchase"], within="1D")
    ax = plot_funnel_trend(df, ["page_view", "purchase"], within="1D")
    done, open_ = ax.get_lines()
    y = trend["conversion"].to_numpy()
    complete = trend["complete"].to_numpy()
    np.testing.assert_allclose(done.get_ydata()[complete], y[complete])
    assert np.isnan(done.get_ydata()[~complete]).all()
    np.testing.assert_allclose(np.asarray(open_.get_ydata())[~complete], y[~complete])
    plt.close("all")


def test_small_blocks_of_attempts_give_the_same_funnels(monkeypatch):
    from statsig_pandas import funnels as module

    df = synthetic_frame(3000, seed=4, end_ms=1_775_000_000_000, span_ms=4 * 86_400_000, users=60)
    steps = ["page_view", "add_to_cart", "purchase"]
    options = [{"order": o, "reentry": r} for o in ("ordered", "strict", "any") for r in (True, False)]
    whole = [funnel(df, steps, within="12h", **o) for o in options]
    trend = funnel_trend(df, steps, within="12h")
    monkeypatch.setattr(module, "_BLOCK", 5)
    for o, expected in zip(options, whole):
        pd.testing.assert_frame_equal(funnel(df, steps, within="12h", **o), expected)
    pd.testing.assert_frame_equal(funnel_trend(df, steps, within="12h"), trend)
