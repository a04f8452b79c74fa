"""The one-line readings under the report's charts: built from the result's numbers, in plain words."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from statsig_pandas.readings import (
    duration,
    funnel_reading,
    lifecycle_reading,
    paths_reading,
    percent,
    retention_reading,
)

NAT = pd.NaT


def funnel_result(events, units, median_minutes=None):
    units = np.asarray(units, dtype=float)
    minutes = median_minutes or [None] * (len(units) - 1)
    median = [NAT] + [pd.Timedelta(minutes=m) if m is not None else NAT for m in minutes]
    return pd.DataFrame({"event": events, "units": units.astype(int), "conversion": units / units[0],
                         "step_conversion": np.r_[1.0, units[1:] / units[:-1]], "dropped": np.r_[0, -np.diff(units)],
                         "median_time": median}, index=pd.RangeIndex(1, len(units) + 1, name="step"))


def test_percent_and_duration_read_as_a_person_writes_them():
    assert [percent(x) for x in (1.0, 0.385, 0.0999, 0.005, 0.0, 0.00001)] == [
        "100 %", "38 %", "10.0 %", "0.5 %", "0 %", "< 0.1 %"]
    assert [duration(x) for x in ("1D", "14D", "2h", "1h", "30min", "45s", pd.Timedelta("7D"))] == [
        "1 day", "14 days", "2 hours", "1 hour", "30 minutes", "45 seconds", "7 days"]
    assert [duration(pd.Timedelta(seconds=s), short=True) for s in (20, 90, 5400, 3 * 86_400, 30 * 86_400)] == [
        "20 s", "2 min", "1.5 h", "3.0 days", "30 days"]


def test_a_two_step_funnel_reads_as_a_share_of_the_first_step_with_its_window_and_median():
    text = funnel_reading(funnel_result(["add_to_cart", "purchase"], [250, 95], [12]), within="1D")
    assert text == "38 % of users who add_to_cart purchase within 1 day (median 12 min after add_to_cart)."


def test_a_longer_funnel_names_the_step_that_loses_most():
    result = funnel_result(["page_view", "add_to_cart", "checkout", "purchase"], [1000, 600, 150, 120])
    text = funnel_reading(result, within="14D")
    assert text.startswith("12 % of users who page_view go on to purchase within 14 days;")
    assert "between add_to_cart and checkout (75 % of them leave)" in text


def test_an_empty_funnel_says_so_rather_than_dividing_by_zero():
    result = funnel_result(["a", "b"], [1, 0]).assign(units=[0, 0], conversion=[np.nan, np.nan])
    assert funnel_reading(result) == "No users did a in this data, so the funnel is empty."
    with pytest.raises(ValueError, match="two steps"):
        funnel_reading(result.iloc[:1])


def test_retention_reading_weights_cohorts_by_size_and_leaves_incomplete_cells_out():
    triangle = pd.DataFrame({"units": [100, 300, 50], 0: [1.0, 1.0, 1.0], 1: [0.5, 0.3, np.nan],
                             2: [0.2, np.nan, np.nan]}, index=pd.Index(["w1", "w2", "w3"], name="cohort"))
    text = retention_reading(triangle, period="W")
    # (0.5 * 100 + 0.3 * 300) / 400 = 35 %; week 2 only the first cohort is over
    assert text == ("On average 35 % of users come back 1 week later and 20 % 2 weeks later "
                    "(cohorts weighted by size; weeks not over yet left out).")


def test_retention_reading_of_cohorts_too_young_says_so():
    triangle = pd.DataFrame({"units": [10], 0: [1.0], 1: [np.nan]})
    assert retention_reading(triangle, period="D") == "No cohort is old enough yet to show who comes back a day later."
    one = pd.DataFrame({"units": [10, 0], 0: [1.0, np.nan], 1: [0.4, np.nan]})
    assert retention_reading(one, period="h") == ("On average 40 % of users come back 1 hour later "
                                                   "(cohorts weighted by size; hours not over yet left out).")


def test_lifecycle_reading_tells_the_last_complete_bucket():
    days = pd.date_range("2026-11-27", periods=4, freq="D", tz="UTC")
    stages = pd.DataFrame({"new": [40, 20, 15, 3], "returning": [0, 25, 22, 4], "resurrecting": [0, 0, 6, 1],
                           "dormant": [0, -15, -9, -30]}, index=days)
    # The data ends during the last day: the one before is the last complete.
    text = lifecycle_reading(stages, freq="D", end=pd.Timestamp("2026-11-30 10:00", tz="UTC"))
    assert text == ("In the day starting 2026-11-29: 43 active users (15 new, 22 returning, 6 resurrecting); "
                    "9 of the day before did not come back.")
    assert lifecycle_reading(stages, freq="D", end=pd.Timestamp("2026-12-01", tz="UTC")).startswith(
        "In the day starting 2026-11-30: 8 active users")
    assert lifecycle_reading(stages.iloc[:0], freq="D") == "No users were active in this data."
    hourly = stages.set_axis(pd.date_range("2026-11-30 08:00", periods=4, freq="h", tz="Europe/Paris"))
    assert lifecycle_reading(hourly, freq="h").startswith("In the hour starting 2026-11-30 10:00:")


def test_paths_reading_follows_the_heaviest_transition_from_the_first_step():
    edges = pd.DataFrame({"step": [1, 1, 2, 2, 3], "source": ["view", "cart", "cart", "view", "buy"],
                          "target": ["cart", "buy", "buy", "view", "view"], "value": [300, 120, 90, 40, 10],
                          "mean_gap": pd.to_timedelta(["150s", "4min", "5min", "1min", "1h"])})
    assert paths_reading(edges) == ("The busiest transitions lead view → cart → buy: 300 sessions go from view "
                                    "to cart (2 min apart on average), and 90 from cart on to buy.")
    # buy -> view (10) is under a fifth of the first move's 300; at 60 it is part of the path
    edges.loc[4, "value"] = 60
    assert paths_reading(edges).startswith("The busiest transitions lead view → cart → buy → view:")
    assert paths_reading(edges).endswith("and 60 from buy on to view.")
    assert paths_reading(edges.iloc[:0]) == "No sessions have two events in a row to make a path."


# -- on real results, from the journeys the demo shows -------------------------------------------

@pytest.fixture(scope="module")
def journeys_frame():
    import statsig_pandas  # noqa: F401 - the accessor
    from statsig_pandas.testing.journeys import journey_frame

    return journey_frame(1_500, days=21, seed=11, end_ms=1_774_000_000_000)


def test_the_funnel_reading_carries_the_funnels_numbers(journeys_frame):
    steps = ["add_to_cart", "purchase"]
    from statsig_pandas.funnels import funnel

    result = funnel(journeys_frame, steps, within="1D")
    # Independently: users whose first add_to_cart is followed by a purchase within a day.
    carts = journeys_frame[journeys_frame["name"] == "add_to_cart"].groupby("userID")["timestamp"].min()
    buys = journeys_frame[journeys_frame["name"] == "purchase"]
    after = buys.assign(cart=buys["userID"].map(carts)).dropna(subset=["cart"])
    within = (after["timestamp"] >= after["cart"]) & (after["timestamp"] <= after["cart"] + pd.Timedelta("1D"))
    converted = after.loc[within, "userID"].nunique()
    assert converted <= result["units"].iloc[-1]  # re-entry may find later attempts too
    text = funnel_reading(result, within="1D")
    assert text.startswith(f"{percent(result['units'].iloc[-1] / len(carts))} of users who add_to_cart purchase "
                           "within 1 day (median ")
    assert 0.3 < result["conversion"].iloc[-1] < 0.7


def test_the_lifecycle_reading_carries_the_last_complete_days_numbers(journeys_frame):
    stages = journeys_frame.statsig.lifecycle("D")
    end = journeys_frame["timestamp"].max()
    last = stages.loc[stages.index[stages.index + pd.Timedelta("1D") <= end][-1]]
    text = lifecycle_reading(stages, freq="D", end=end)
    counts = {k: f"{int(last[k]):,}" for k in ("new", "returning", "resurrecting")}
    assert f"{counts['new']} new, {counts['returning']} returning, {counts['resurrecting']} resurrecting" in text
    assert f"; {-int(last['dormant']):,} of the day before did not come back." in text


def test_the_paths_reading_starts_from_the_busiest_first_move(journeys_frame):
    edges = journeys_frame.statsig.paths()
    first = edges[edges["step"] == 1].sort_values("value", ascending=False).iloc[0]
    text = paths_reading(edges)
    assert text.startswith(f"The busiest transitions lead {first['source']} → {first['target']}")
    assert f"{int(first['value']):,} sessions go from {first['source']} to {first['target']}" in text
