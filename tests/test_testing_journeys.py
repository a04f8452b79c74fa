"""The journey generator behind the demo: deterministic, and shaped so that the analyses find something."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from statsig_pandas import read_events
from statsig_pandas.testing import StatsigEmulator
from statsig_pandas.testing.journeys import JOURNEY_STEPS, journey_events, journey_frame, journeys

END = 1_774_000_000_000  # a fixed end, so that the same seed gives the same events
DAY = pd.Timedelta("1D")


@pytest.fixture(scope="module")
def frame():
    return journey_frame(3_000, days=28, seed=7, end_ms=END)


def test_same_seed_same_events_and_another_seed_others():
    a = journey_events(300, seed=1, end_ms=END)
    assert a == journey_events(300, seed=1, end_ms=END)
    assert a != journey_events(300, seed=2, end_ms=END)


def test_events_have_the_api_shape_and_fall_in_the_span(frame):
    hours = frame["timestamp"].dt.hour.value_counts()
    assert len(hours) == 24 and hours[15] > 3 * hours[4]  # busy afternoons, quiet nights (UTC)
    events = journey_events(200, days=10, seed=3, end_ms=END)
    assert {tuple(sorted(e)) for e in events} == {("metadata", "name", "source", "timestamp", "userID", "value")}
    stamps = [int(e["timestamp"]) for e in events]
    assert stamps == sorted(stamps, reverse=True)  # newest first, as the endpoint lists them
    assert END - 10 * 86_400_000 <= min(stamps) and max(stamps) < END
    assert set(frame["name"].unique()) == set(JOURNEY_STEPS)


def test_each_user_keeps_one_client_and_one_metadata(frame):
    assert (frame.groupby("userID")["source"].nunique(dropna=False) == 1).all()
    assert (frame.assign(meta=frame["metadata"].map(lambda m: tuple(sorted(m.items()))))
            .groupby("userID")["meta"].nunique() == 1).all()


def test_the_funnel_drops_off_at_every_step(frame):
    users = [frame.loc[frame["name"] == step, "userID"].nunique() for step in JOURNEY_STEPS]
    assert users[0] == frame["userID"].nunique()  # every user views a page
    assert users[0] > users[1] > users[2] > 0
    assert 0.2 < users[2] / users[0] < 0.8


def test_in_a_session_each_step_comes_after_the_one_before_it():
    j = journeys(1_000, seed=4, end_ms=END)
    events = pd.DataFrame({"session": j.session, "step": j.step, "ts": j.ts}).sort_values(["session", "ts"],
                                                                                          kind="stable")
    assert (events.groupby("session")["step"].first() == 0).all()  # every session opens with a page view
    # A purchase follows an add_to_cart, and an add_to_cart a page view, with nothing else between.
    before = events.groupby("session")["step"].shift()
    later = events["step"] > 0
    assert (before[later] == events["step"][later] - 1).all()
    # Sessions go on after a cart or a purchase: some browse on, and paths have more than one shape.
    assert ((before > 0) & (events["step"] == 0)).sum() > 0.02 * len(events)


def test_returns_decay_with_the_days_since_the_first_visit(frame):
    day = frame["timestamp"].dt.floor("D")
    first = day.groupby(frame["userID"]).min()
    since = ((day - frame["userID"].map(first)) // DAY).to_numpy()
    last_day = pd.Timestamp(END - 1, unit="ms", tz="UTC").floor("D")
    share = []
    for k in (1, 3, 7, 14):
        eligible = first.index[first + k * DAY <= last_day]  # users whose day k is inside the span
        back = frame.loc[since == k, "userID"].unique()
        share.append(np.isin(eligible, back).mean())
    assert share == sorted(share, reverse=True) and share[0] > 2 * share[-1]
    assert share[-1] > 0  # some users still come back two weeks later


def test_users_have_several_sessions(frame):
    ordered = frame.sort_values(["userID", "timestamp"], kind="stable")
    gap = ordered.groupby("userID")["timestamp"].diff()
    sessions = (gap.isna() | (gap >= pd.Timedelta("30min"))).groupby(ordered["userID"]).sum()
    assert sessions.mean() > 2.5 and (sessions >= 3).mean() > 0.4
    assert (sessions == 1).any()  # and some never come back


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="distinct"):
        journeys(10, steps=["a", "a"])
    with pytest.raises(ValueError, match="step_rates needs 2"):
        journeys(10, step_rates=[0.5])
    with pytest.raises(ValueError, match="positive"):
        journeys(0)


def test_the_emulator_serves_the_journeys_on_both_endpoints():
    expected = journey_frame(400, days=14, seed=9, end_ms=END)
    with StatsigEmulator.for_journeys(400, days=14, seed=9, end_ms=END) as emu:
        window = read_events(["add_to_cart", "purchase"], base_url=emu.url, api_key=emu.api_key, progress=False)
        ranged = read_events(["add_to_cart", "purchase"], base_url=emu.url, api_key=emu.api_key, progress=False,
                             start=pd.Timestamp(END - 7 * 86_400_000, unit="ms", tz="UTC"),
                             end=pd.Timestamp(END, unit="ms", tz="UTC"))
    carts = expected[expected["name"].isin(["add_to_cart", "purchase"])]
    assert len(window) == len(carts)
    assert window["userID"].value_counts().sort_index().equals(carts["userID"].value_counts().sort_index())
    week = carts[carts["timestamp"] >= pd.Timestamp(END - 7 * 86_400_000, unit="ms", tz="UTC")]
    assert len(ranged) == len(week) and ranged.attrs["statsig"]["endpoint"] == "/console/v1/logs"


def test_drawing_is_fast():
    import time

    started = time.perf_counter()
    j = journeys(20_000, seed=0, end_ms=END)
    assert len(j) > 150_000 and time.perf_counter() - started < 2


def test_the_span_opens_on_a_running_product_not_an_empty_one(frame):
    daily = frame.groupby(frame["timestamp"].dt.floor("D"))["userID"].nunique().iloc[1:-1]  # whole days only
    assert daily.iloc[:7].mean() > 0.75 * daily.iloc[-7:].mean()
    without = journey_frame(3_000, days=28, seed=7, end_ms=END, history=0)
    early = without.groupby(without["timestamp"].dt.floor("D"))["userID"].nunique().iloc[1:-1]
    assert early.iloc[:7].mean() < 0.6 * early.iloc[-7:].mean()  # every user new: it starts from nothing


def buying_by_return(df: pd.DataFrame) -> tuple[float, float]:
    """Purchases per page view of the users active on 5 days or more, and of those active on one."""
    days = df.assign(day=df["timestamp"].dt.floor("D")).groupby("userID")["day"].nunique()
    counts = pd.crosstab(df["userID"], df["name"].astype(str))
    rate = counts["purchase"] / counts["page_view"]
    return rate[days[rate.index] >= 5].mean(), rate[days[rate.index] == 1].mean()


def test_users_who_come_back_more_buy_more_readily(frame):
    often, once = buying_by_return(frame)
    assert often > 1.5 * once
    often, once = buying_by_return(journey_frame(3_000, days=28, seed=7, end_ms=END, engagement=0))
    assert often < 1.3 * once  # with every user alike, coming back does not change the odds
