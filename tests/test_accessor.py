"""df.statsig: registration, validation, statelessness, delegation and chaining."""

from __future__ import annotations

import importlib
import io
import warnings

import pandas as pd
import pytest

import statsig_pandas
from statsig_pandas import StatsigAccessor, StatsigError, analysis, read_events
from statsig_pandas.frame import empty_frame
from statsig_pandas.testing.synthetic import synthetic_frame

END_MS = 1_775_000_000_000


@pytest.fixture(scope="module")
def events():
    return synthetic_frame(3000, seed=11, end_ms=END_MS, span_ms=5 * 86_400_000, users=150)


def test_the_accessor_is_registered_and_exported():
    assert pd.DataFrame.statsig is StatsigAccessor
    assert "StatsigAccessor" in statsig_pandas.__all__
    assert isinstance(empty_frame().statsig, StatsigAccessor)


def test_reimporting_the_package_warns_about_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        importlib.reload(statsig_pandas)
    assert pd.DataFrame.statsig is StatsigAccessor


def test_a_frame_without_the_columns_has_no_accessor():
    df = pd.DataFrame({"timestamp": pd.to_datetime([0], utc=True), "value": ["x"]})
    with pytest.raises(AttributeError, match="'name', 'source', 'userID'") as info:
        df.statsig  # noqa: B018
    assert isinstance(info.value, StatsigError)
    assert not hasattr(df, "statsig")
    with pytest.raises(AttributeError, match="'timestamp' has dtype"):
        empty_frame().assign(timestamp=[]).astype({"timestamp": "int64"}).statsig  # noqa: B018


def test_the_accessor_keeps_no_state(events):
    df = events.copy()
    accessor = df.statsig
    assert vars(accessor) == {"_obj": df}
    before = accessor.value_counts("source")
    df.loc[df.index[:100], "source"] = "py-server"
    after = df.statsig.value_counts("source")
    assert after["py-server"] == before["py-server"] + (events["source"].iloc[:100] != "py-server").sum()


def test_methods_delegate_to_the_functions(events):
    s = events.statsig
    pd.testing.assert_series_equal(s.value_counts("userID", top=5, normalize=True),
                                   analysis.value_counts(events, "userID", top=5, normalize=True))
    pd.testing.assert_frame_equal(s.timeline("D", by="source", users=True, tz="Europe/Paris"),
                                  analysis.timeline(events, freq="D", by="source", users=True, tz="Europe/Paris"))
    pd.testing.assert_series_equal(s.unique_users("W", tz="Asia/Tokyo"),
                                   analysis.unique_users(events, freq="W", tz="Asia/Tokyo"))
    pd.testing.assert_frame_equal(s.summary(top=2), analysis.summary(events, top=2))
    pd.testing.assert_frame_equal(s.activity(tz="Europe/Paris"), analysis.activity(events, tz="Europe/Paris"))
    pd.testing.assert_series_equal(s.numeric_value(), analysis.numeric_value(events))
    pd.testing.assert_frame_equal(s.between("2026-03-29", "2026-03-30"),
                                  analysis.between(events, start="2026-03-29", end="2026-03-30"))
    pd.testing.assert_frame_equal(s.where(source=["js-client"], value=""),
                                  analysis.where(events, source=["js-client"], value=""))


def test_filters_chain(events):
    result = events.statsig.where(source="js-client").statsig.between("2026-03-28", "2026-03-31").statsig.timeline("D")
    ts = events["timestamp"]
    mask = (events["source"] == "js-client") & (ts >= "2026-03-28") & (ts < "2026-03-31")
    expected = events[mask].groupby(events[mask]["timestamp"].dt.floor("D")).size()
    assert result.tolist() == expected.tolist() and result.index.equals(expected.index)


def test_frames_built_by_the_reader_work(api):
    df = read_events(["add_to_cart", "purchase", "page_view"])
    assert df.statsig.summary()["summary"][("events", "total")] == len(df) == 1000
    assert df.statsig.value_counts("name").sum() == 1000
    day = df["timestamp"].dt.floor("D")
    assert df.statsig.unique_users().tolist() == df.groupby(day)["userID"].nunique().reindex(
        df.statsig.unique_users().index, fill_value=0).tolist()
    # The reader keeps "" values, and so do the counts.
    assert df.statsig.value_counts()[""] == (df["value"] == "").sum() > 0


def test_parquet_filtered_and_concatenated_frames_keep_the_accessor(events):
    buffer = io.BytesIO()
    events.drop(columns="metadata").to_parquet(buffer)
    buffer.seek(0)
    back = pd.read_parquet(buffer)
    pd.testing.assert_series_equal(back.statsig.unique_users(), events.statsig.unique_users())
    filtered = events[events["name"] == "purchase"]
    assert filtered.statsig.value_counts("name").to_dict() == {"purchase": len(filtered)}
    both = pd.concat([events, events])
    assert (both.statsig.timeline("D") == 2 * events.statsig.timeline("D")).all()
    assert (both.statsig.unique_users() == events.statsig.unique_users()).all()


def test_bad_arguments_are_statsig_errors(events):
    with pytest.raises(StatsigError, match="unknown freq"):
        events.statsig.timeline("fortnightly")
    with pytest.raises(StatsigError, match="user IDs"):
        events.statsig.where(user=[1, 2])


def test_accessor_signatures_match_functions():
    """Every df.statsig method takes exactly the parameters of the function it fronts (names,
    defaults, which are keyword-only), the frame aside: the two spellings never drift apart."""
    import inspect

    from statsig_pandas import browser, engagement, funnels, journeys, plotting, retention

    fronted = {"browse": browser.EventBrowser.__init__}
    methods = {name: member for name, member in vars(StatsigAccessor).items()
               if inspect.isfunction(member) and not name.startswith("_")}
    assert {"funnel", "funnel_trend", "retention", "retention_curve", "plot_funnel", "plot_retention"} <= set(methods)
    assert {"lifecycle", "stickiness", "sessions", "paths", "plot_lifecycle", "plot_stickiness", "plot_paths"} <= set(
        methods)
    for name, method in methods.items():
        if name in fronted:
            function, skip = fronted[name], 2  # self, df
        else:
            homes = [m for m in (analysis, funnels, retention, engagement, journeys, plotting)
                     if name in getattr(m, "__all__", ())]
            assert len(homes) == 1, f"df.statsig.{name} fronts no (or several) public functions"
            function, skip = getattr(homes[0], name), 1  # df
        ours = list(inspect.signature(method).parameters.values())[1:]
        theirs = list(inspect.signature(function).parameters.values())[skip:]
        assert [(p.name, p.kind, p.default) for p in ours] == [(p.name, p.kind, p.default) for p in theirs], name
