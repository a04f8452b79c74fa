"""Sessions and paths: the design note's cases, a reference walk on random frames, edges."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest
from support import event_frame

import statsig_pandas  # noqa: F401  (registers df.statsig)
from statsig_pandas import StatsigError, StatsigWarning, Step, journeys

T0 = pd.Timestamp("2026-03-02 10:00", tz="UTC")


def at(minutes: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(minutes=minutes)


# ---------------------------------------------------------------- sessions


def test_a_gap_of_exactly_gap_starts_a_new_session():
    df = event_frame([("a", at(0), "x"), ("a", at(29.5), "y"), ("a", at(59), "z"), ("a", at(89), "w")])
    result = journeys.sessions(df)
    assert result.columns.tolist() == ["userID", "session", "start", "end", "duration", "events", "first_event",
                                       "last_event"]
    # 29.5 min apart twice: one session; then exactly 30 min apart: a new one.
    assert result["session"].tolist() == [0, 1]
    assert result["events"].tolist() == [3, 1]
    assert result["first_event"].tolist() == ["x", "w"] and result["last_event"].tolist() == ["z", "w"]
    assert result["duration"].tolist() == [pd.Timedelta(minutes=59), pd.Timedelta(0)]
    assert result["start"].tolist() == [at(0), at(89)] and result["end"].tolist() == [at(59), at(89)]


def test_sessions_are_numbered_per_unit_in_time_order_whatever_the_row_order():
    df = event_frame([("b", at(100), "late"), ("a", at(0), "p"), ("b", at(0), "early"), ("a", at(50), "q"),
                      ("a", at(51), "r")])
    result = journeys.sessions(df)
    as_tuples = list(zip(result["userID"], result["session"], result["first_event"], result["events"]))
    assert as_tuples == [("b", 0, "early", 1), ("b", 1, "late", 1), ("a", 0, "p", 1), ("a", 1, "q", 2)]
    assert result["session"].dtype == np.int64 and result["events"].dtype == np.int64
    assert str(result["start"].dt.tz) == "UTC"


def test_tied_events_keep_their_row_order():
    df = event_frame([("a", at(0), "second"), ("a", at(-1), "first"), ("a", at(0), "third")])
    result = journeys.sessions(df)
    assert result[["first_event", "last_event", "events"]].values.tolist() == [["first", "third", 3]]


def test_max_length_cuts_a_session_that_would_last_longer():
    # Every 10 minutes for 70 minutes: no pause, but at most 30 minutes a session.
    df = event_frame([("a", at(m), f"e{m}") for m in range(0, 80, 10)])
    result = journeys.sessions(df, max_length="30min")
    # 0..30 (30 min exactly is not longer), 40..70.
    assert result["first_event"].tolist() == ["e0", "e40"]
    assert result["events"].tolist() == [4, 4]
    assert result["duration"].max() == pd.Timedelta("30min")
    assert journeys.sessions(df, max_length="25min")["first_event"].tolist() == ["e0", "e30", "e60"]
    assert len(journeys.sessions(df)) == 1


def test_sessions_leave_rows_without_a_unit_out_and_count_them():
    df = event_frame([("a", at(0), "x"), (None, at(1), "y"), ("", at(2), "z"), ("a", at(3), "w")])
    result = journeys.sessions(df)
    assert result["events"].tolist() == [2] and result.attrs["rows_without_unit"] == 2


def test_sessions_of_another_unit_column():
    device = {"metadata": {"device": "d1"}}
    df = event_frame([("a", at(0), "x", device), ("b", at(5), "y", device), ("c", at(6), "z", {"metadata": {}})])
    result = journeys.sessions(df, unit="metadata.device")
    assert result["metadata.device"].tolist() == ["d1"] and result["events"].tolist() == [2]
    assert result.attrs["rows_without_unit"] == 1


@pytest.mark.parametrize("bad", [{"gap": "soon"}, {"gap": "0s"}, {"gap": "-5min"}, {"max_length": "x"},
                                 {"max_length": 0}, {"unit": "nope"}])
def test_sessions_bad_arguments_raise_statsig_errors(bad):
    with pytest.raises(StatsigError):
        journeys.sessions(event_frame([("a", at(0), "x")]), **bad)


def reference_sessions(df: pd.DataFrame, gap: pd.Timedelta, max_length: pd.Timedelta | None) -> list[tuple]:
    """The definition, walked event by event: (unit, session, first, last, events)."""
    ordered = df[df["userID"].notna() & (df["userID"] != "")].copy()
    ordered["row"] = np.arange(len(ordered))
    out = []
    for user, events in ordered.groupby("userID", sort=False):
        events = events.sort_values(["timestamp", "row"])
        number, start, previous, count, first, last = -1, None, None, 0, None, None
        for t, name in zip(events["timestamp"], events["name"]):
            if previous is None or t - previous >= gap or (max_length is not None and t - start > max_length):
                if previous is not None:
                    out.append((user, number, first, last, count))
                number, start, count, first = number + 1, t, 0, name
            previous, last, count = t, name, count + 1
        out.append((user, number, first, last, count))
    return out


@pytest.mark.parametrize("max_length", [None, "20min", "1h"])
def test_sessions_match_the_definition_on_random_frames(max_length):
    for seed in range(40):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(1, 200))
        users = np.array(["u0", "u1", "u2", "u3", "", None], dtype=object)[: int(rng.integers(2, 7))]
        minutes = rng.integers(0, 600, size=n) * rng.choice([1, 5])
        df = event_frame(list(zip(rng.choice(users, size=n), [at(m) for m in minutes],
                                  rng.choice(["a", "b", "c"], size=n))))
        result = journeys.sessions(df, gap="15min", max_length=max_length)
        got = list(zip(result["userID"], result["session"], result["first_event"], result["last_event"],
                       result["events"]))
        limit = None if max_length is None else pd.Timedelta(max_length)
        assert sorted(got) == sorted(reference_sessions(df, pd.Timedelta("15min"), limit)), seed
        assert (result["duration"] == result["end"] - result["start"]).all()


# ---------------------------------------------------------------- paths


@pytest.fixture
def guide():
    """The five paths of retentioneering's path-analysis guide, a minute apart (each user one session)."""
    paths = {"u1": ["home", "catalog", "cart", "purchase"], "u2": ["home", "catalog", "cart", "purchase"],
             "u3": ["home", "catalog", "catalog", "cart"], "u4": ["home", "search", "cart"],
             "u5": ["home", "search", "search"]}
    return event_frame([(user, at(i), name) for user, names in paths.items() for i, name in enumerate(names)])


def arrivals(edges: pd.DataFrame, step: int) -> dict[str, int]:
    """Paths sitting on each item at 1-based position ``step`` (>= 2), from the edges into it."""
    into = edges[edges["step"] == step - 1]
    return into.groupby("target")["value"].sum().to_dict()


def test_paths_of_the_guide_without_collapsing_repeats(guide):
    edges = journeys.paths(guide, collapse_repeats=False)
    assert edges.columns.tolist() == ["step", "source", "target", "value", "mean_gap"]
    assert arrivals(edges, 3)["cart"] == 3  # "cart at step 3 is 0.6": three of the five paths
    assert arrivals(edges, 2) == {"catalog": 3, "search": 2}
    assert list(edges.itertuples(index=False, name=None))[:2] == [
        (1, "home", "catalog", 3, pd.Timedelta("1min")), (1, "home", "search", 2, pd.Timedelta("1min"))]
    assert ("catalog", "catalog") in set(zip(edges["source"], edges["target"]))


def test_collapsing_repeats_makes_a_a_b_read_a_b(guide):
    edges = journeys.paths(guide)
    assert ("catalog", "catalog") not in set(zip(edges["source"], edges["target"]))
    assert arrivals(edges, 3) == {"cart": 4}  # u3's catalog, catalog is one item now; u5 ends at step 2
    assert arrivals(edges, 4) == {"purchase": 2}
    # The repeat keeps its last occurrence: u3 moves from its second catalog (10:02) to cart (10:03).
    row = edges[(edges["step"] == 2) & (edges["source"] == "catalog")].iloc[0]
    assert row["value"] == 3 and row["mean_gap"] == pd.Timedelta("1min")
    first = edges[edges["step"] == 1].set_index("target")["mean_gap"]
    assert first["catalog"] == pd.Timedelta("80s")  # (1 + 1 + 2) / 3 minutes: u3's catalog is its second


def test_a_31_minute_gap_splits_a_path_in_two():
    df = event_frame([("a", at(0), "home"), ("a", at(1), "cart"), ("a", at(32), "home"), ("a", at(33), "cart")])
    edges = journeys.paths(df)
    assert edges[["step", "source", "target", "value"]].values.tolist() == [[1, "home", "cart", 2]]
    assert journeys.paths(df, gap="40min")[["step", "value"]].values.tolist() == [[1, 1], [2, 1], [3, 1]]


def test_edges_are_sorted_by_step_then_value(guide):
    edges = journeys.paths(guide, collapse_repeats=False)
    keys = list(zip(edges["step"], -edges["value"]))
    assert keys == sorted(keys)
    assert edges["step"].dtype == np.int64 and edges["value"].dtype == np.int64


def test_start_keeps_paths_from_their_first_start_event(guide):
    edges = journeys.paths(guide, start="catalog")
    # u1..u3 from catalog on (u3's repeat collapsed); u4, u5 never reach catalog and drop.
    assert edges[["step", "source", "target", "value"]].values.tolist() == [
        [1, "catalog", "cart", 3], [2, "cart", "purchase", 2]]


def test_end_keeps_paths_up_to_their_first_end_event_and_the_last_steps(guide):
    edges = journeys.paths(guide, end="cart", steps=2)
    # Paths without cart (u5) drop; each keeps its last two items up to cart.
    assert edges[["step", "source", "target", "value"]].values.tolist() == [
        [1, "catalog", "cart", 3], [1, "search", "cart", 1]]


def test_start_and_end_keep_the_middle_as_ellipsis():
    names = ["a", "s", "b", "c", "d", "e", "f", "t", "g"]
    df = event_frame([("u", at(i), n) for i, n in enumerate(names)]
                     + [("v", at(i), n) for i, n in enumerate(["s", "x", "t"])])
    edges = journeys.paths(df, start="s", end="t", steps=4)
    moves = edges[["step", "source", "target", "value"]].values.tolist()
    # u: s b c d e f t is longer than 4: s b ... f t; v: s x t as it is.
    assert sorted(moves) == sorted([[1, "s", "b", 1], [2, "b", "...", 1], [3, "...", "f", 1], [4, "f", "t", 1],
                                    [1, "s", "x", 1], [2, "x", "t", 1]])
    assert edges.loc[edges["source"].eq("...") | edges["target"].eq("..."), "mean_gap"].isna().all()
    assert edges.loc[edges["source"] == "s", "mean_gap"].tolist() == [pd.Timedelta("1min")] * 2


def test_start_and_end_as_steps_with_filters():
    df = event_frame([("u", at(0), "view", {"value": "home"}), ("u", at(1), "view", {"value": "cart"}),
                      ("u", at(2), "buy"), ("u", at(3), "view", {"value": "home"})])
    edges = journeys.paths(df, start=Step("view", value="cart"), end=["buy", "refund"])
    assert edges[["step", "source", "target", "value"]].values.tolist() == [[1, "view", "buy", 1]]


def test_top_keeps_the_biggest_edges_then_only_those_reachable_from_step_1(guide):
    every = journeys.paths(guide, collapse_repeats=False)
    top3 = journeys.paths(guide, collapse_repeats=False, top=3)
    # The 3 biggest: home->catalog (3), home->search (2), catalog->cart (2); all reachable.
    assert top3[["step", "source", "target"]].values.tolist() == [
        [1, "home", "catalog"], [1, "home", "search"], [2, "catalog", "cart"]]
    # Without home->search, search->* at step 2 cannot be reached from step 1.
    df = event_frame([(f"s{i}", at(i * 60 + j), n) for i in range(5) for j, n in enumerate(["x", "y", "z"])]
                     + [(f"t{i}", at(i * 60 + j), n) for i in range(3) for j, n in enumerate(["w", "y", "q"])])
    pruned = journeys.paths(df, top=3)
    assert pruned[["step", "source", "target", "value"]].values.tolist() == [
        [1, "x", "y", 5], [1, "w", "y", 3], [2, "y", "z", 5]]
    assert len(every) > len(top3)


def test_paths_count_every_session_of_a_unit():
    df = event_frame([("a", at(60 * i + j), n) for i in range(3) for j, n in enumerate(["home", "cart"])])
    assert journeys.paths(df)["value"].tolist() == [3]


def test_paths_warn_of_a_start_that_matches_nothing(guide):
    with pytest.warns(StatsigWarning, match="'chekout'"):
        edges = journeys.paths(guide, start="chekout")
    assert edges.empty and edges.columns.tolist() == ["step", "source", "target", "value", "mean_gap"]


@pytest.mark.parametrize("bad", [{"steps": 1}, {"steps": 0}, {"steps": 2.5}, {"top": 0}, {"gap": "never"},
                                 {"collapse_repeats": "yes"}, {"start": 3}, {"unit": "nope"}])
def test_paths_bad_arguments_raise_statsig_errors(guide, bad):
    with pytest.raises(StatsigError):
        journeys.paths(guide, **bad)


def reference_edges(df: pd.DataFrame, *, steps: int, gap: pd.Timedelta, collapse: bool) -> Counter:
    """The paths built one by one in Python: (step, source, target) -> value."""
    ordered = df[df["userID"].notna() & (df["userID"] != "")].copy()
    ordered["row"] = np.arange(len(ordered))
    counts: Counter = Counter()
    for _, events in ordered.groupby("userID", sort=False):
        events = events.sort_values(["timestamp", "row"])
        path, previous = [], None
        for t, name in [*zip(events["timestamp"], events["name"]), (None, None)]:
            if t is None or (previous is not None and t - previous >= gap):
                items = [n for i, n in enumerate(path) if not collapse or i + 1 == len(path) or path[i + 1] != n]
                items = items[:steps]
                counts.update((k + 1, items[k], items[k + 1]) for k in range(len(items) - 1))
                path = []
            path.append(name)
            previous = t
    return counts


@pytest.mark.parametrize("collapse", [True, False])
def test_paths_match_a_reference_walk_on_random_frames(collapse):
    for seed in range(30):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(1, 150))
        minutes = rng.integers(0, 400, size=n)
        df = event_frame(list(zip(rng.choice(["u0", "u1", "u2", None], size=n), [at(m) for m in minutes],
                                  rng.choice(["a", "b", "c"], size=n))))
        edges = journeys.paths(df, steps=4, gap="20min", collapse_repeats=collapse, top=None)
        got = Counter({(s, a, b): v for s, a, b, v in zip(edges["step"], edges["source"], edges["target"],
                                                         edges["value"])})
        assert got == reference_edges(df, steps=4, gap=pd.Timedelta("20min"), collapse=collapse), seed


def test_accessor_methods_are_the_functions(guide):
    pd.testing.assert_frame_equal(guide.statsig.paths("home", steps=3), journeys.paths(guide, start="home", steps=3))
    pd.testing.assert_frame_equal(guide.statsig.sessions(gap="1h"), journeys.sessions(guide, gap="1h"))


def test_session_starts_kernel_cuts_long_sessions_greedily():
    t = np.array([0, 5, 10, 15, 20, 25, 30, 100, 101])
    first = np.zeros(len(t), dtype=bool)
    first[0] = True
    starts = journeys.session_starts(first, t, gap=50, max_length=12)
    assert np.flatnonzero(starts).tolist() == [0, 3, 6, 7]


# ---------------------------------------------------------------- Sankey


def test_paths_plot_draws_a_column_per_step_and_a_ribbon_per_edge(guide, close_figures):
    from matplotlib.patches import PathPatch, Rectangle

    _, given = close_figures.subplots()
    ax = guide.statsig.plot_paths(collapse_repeats=False, min_share=0, ax=given)
    assert ax is given
    edges = journeys.paths(guide, collapse_repeats=False)
    ribbons = [p for p in ax.patches if isinstance(p, PathPatch)]
    nodes = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(ribbons) == len(edges)
    labels = {t.get_text() for t in ax.texts}
    assert {"home (5)", "catalog (3)", "search (2)", "cart (3)", "purchase (2)"} <= labels
    assert len(nodes) == len(labels)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Step 1", "Step 2", "Step 3", "Step 4"]
    # Node heights are proportional to their counts.
    by_height = sorted(nodes, key=lambda r: (r.get_x(), -r.get_height()))
    home, catalog, search = by_height[0], by_height[1], by_height[2]
    assert catalog.get_height() / home.get_height() == pytest.approx(3 / 5)
    assert search.get_height() / home.get_height() == pytest.approx(2 / 5)


def test_ribbons_are_bezier_patches_as_wide_as_their_value(guide, close_figures):
    from matplotlib.patches import PathPatch, Rectangle
    from matplotlib.path import Path

    ax = guide.statsig.plot_paths(collapse_repeats=False, min_share=0)
    home = max((p for p in ax.patches if isinstance(p, Rectangle)), key=lambda r: r.get_height())
    ribbon = next(p for p in ax.patches if isinstance(p, PathPatch))  # the first edge: home -> catalog
    codes = ribbon.get_path().codes
    assert (codes == Path.CURVE4).sum() == 6
    vertices = ribbon.get_path().vertices
    width_at_source = vertices[0][1] - vertices[7][1]
    assert width_at_source == pytest.approx(home.get_height() * 3 / 5)  # home -> catalog: 3 of 5


def test_small_nodes_fold_into_others(guide, close_figures):
    ax = guide.statsig.plot_paths(collapse_repeats=False, min_share=0.3)
    labels = {t.get_text() for t in ax.texts}
    # Step 3: cart 3, catalog 1, search 1 of 5: the two small ones become one Others (2).
    assert "Others (2)" in labels and "cart (3)" in labels and "search (1)" not in labels
    with pytest.raises(StatsigError, match="min_share"):
        guide.statsig.plot_paths(min_share=1.5)


def test_paths_plot_of_no_path_says_so(guide, close_figures):
    with pytest.warns(StatsigWarning):
        ax = guide.statsig.plot_paths(start="nothing")
    assert "No events" in [t.get_text() for t in ax.texts]
    assert journeys.paths(guide, start="home").shape[0] and "from home" in guide.statsig.plot_paths(
        start="home").get_title()


# ---------------------------------------------------------------- edges


def test_sessions_and_paths_of_a_frame_without_events():
    from statsig_pandas.frame import empty_frame

    sessions = journeys.sessions(empty_frame())
    assert sessions.empty and sessions.columns.tolist()[1:] == ["session", "start", "end", "duration", "events",
                                                                 "first_event", "last_event"]
    edges = journeys.paths(empty_frame())
    assert edges.empty and edges["mean_gap"].dtype.kind == "m"


def test_events_without_a_timestamp_are_left_out():
    df = event_frame([("a", at(0), "home"), ("a", at(1), "cart")])
    lost = df.iloc[[0]].copy()
    lost["timestamp"] = pd.Series([pd.NaT], dtype=df["timestamp"].dtype, index=lost.index)
    df = pd.concat([df, lost], ignore_index=True)
    assert journeys.sessions(df)["events"].tolist() == [2]
    assert journeys.paths(df)["value"].tolist() == [1]


def test_a_missing_event_name_is_an_item_of_its_own():
    df = event_frame([("a", at(0), "home"), ("a", at(1), "cart"), ("a", at(2), "cart")])
    df["name"] = df["name"].cat.add_categories(["unused"])
    df.loc[1, "name"] = pd.NA
    sessions = journeys.sessions(df)
    assert sessions["first_event"].tolist() == ["home"] and sessions["last_event"].tolist() == ["cart"]
    assert "unused" in sessions["first_event"].cat.categories  # the frame's own names
    edges = journeys.paths(df)
    assert edges["value"].tolist() == [1, 1] and edges["source"].isna().tolist() == [False, True]


def test_paths_of_a_frame_out_of_time_order_and_in_another_zone():
    df = event_frame([("a", at(2), "cart"), ("a", at(0), "home"), ("a", at(5), "buy")], tz="Europe/Paris")
    edges = journeys.paths(df)
    assert edges[["source", "target"]].values.tolist() == [["home", "cart"], ["cart", "buy"]]
    assert edges["mean_gap"].tolist() == [pd.Timedelta("2min"), pd.Timedelta("3min")]
    assert str(journeys.sessions(df)["start"].dt.tz) == "Europe/Paris"


def test_top_none_keeps_every_edge(guide):
    assert len(journeys.paths(guide, top=None, collapse_repeats=False)) == 8


def test_the_unit_column_of_sessions_is_a_categorical_of_the_units_a_pandas_check_accepts():
    rng = np.random.default_rng(8)
    df = pd.DataFrame({"timestamp": pd.to_datetime(np.sort(rng.integers(0, 10**7, 3_000)), unit="s", utc=True),
                       "name": "view", "userID": [f"u{i}" for i in rng.integers(0, 400, 3_000)]})
    got = journeys.sessions(df)["userID"]
    assert isinstance(got.dtype, pd.CategoricalDtype) and got.cat.categories.is_unique
    assert set(got.cat.categories) == set(df["userID"]) and not got.isna().any()
    # The same categorical as pandas builds with its checks, code for code.
    checked = pd.Categorical(got.astype(object), categories=got.cat.categories)
    assert np.array_equal(checked.codes, got.cat.codes.to_numpy())
