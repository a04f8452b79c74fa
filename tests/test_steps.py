"""Steps and units, the rules every unit-based analysis shares: matching, ordering, missing units."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from support import event_frame

import statsig_pandas
from statsig_pandas import StatsigError, StatsigWarning, Step, _kernels
from statsig_pandas._steps import as_step, as_steps, event_stream, match_matrix

T0 = pd.Timestamp("2026-03-02 10:00", tz="UTC")


def at(minutes: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(minutes=minutes)


def test_step_is_exported_from_the_package():
    assert statsig_pandas.Step is Step
    assert "Step" in statsig_pandas.__all__


def test_a_step_is_a_name_a_list_of_names_or_a_step():
    assert as_step("a") == Step("a")
    assert as_step(["a", "b"]) == Step(["a", "b"]) == Step(("a", "b"))
    assert as_step(Step("a", value="x")).value == ("x",)
    assert as_step(None).any_event
    assert [s.label for s in as_steps("a")] == ["a"]
    assert [s.label for s in as_steps(["a", ["b", "c"], Step("d", source="ios")])] == ["a", "b|c", "d (source=ios)"]
    assert Step("a", metadata={"plan": ["pro", "free"]}).label == "a (metadata.plan=pro|free)"
    assert len({Step("a"), Step(["a"]), Step("b")}) == 2


@pytest.mark.parametrize("bad", [3, {"name": "a"}, ["a", 3], [], [["a"], "b"], 2.5])
def test_bad_steps_raise_before_any_work(bad):
    with pytest.raises(StatsigError):
        as_steps([bad])


@pytest.mark.parametrize("kwargs", [{"value": 3}, {"source": [None]}, {"metadata": ["plan"]},
                                    {"metadata": {"plan": 1}}, {"metadata": {"": "x"}}, {"value": []}])
def test_bad_filters_raise(kwargs):
    with pytest.raises(StatsigError):
        Step("a", **kwargs)


def test_a_step_cannot_be_changed():
    step = Step("a")
    with pytest.raises(AttributeError):
        step.names = ("b",)


def test_too_few_steps_raise():
    with pytest.raises(StatsigError, match="at least 2"):
        as_steps(["a"], at_least=2)
    with pytest.raises(StatsigError):
        as_steps(42)


def test_the_match_matrix_ors_names_and_ands_filters():
    df = event_frame([
        ("u", at(0), "a", {"value": "books", "source": "ios", "metadata": {"plan": "pro"}}),
        ("u", at(1), "b", {"value": "toys", "metadata": {"plan": "free"}}),
        ("u", at(2), "c", {"value": "books"}),
        ("u", at(3), "a", {"value": "", "source": "ios"}),
    ])
    steps = [Step(["a", "b"]), Step("a", value="books"), Step(None, value=["books", "toys"], source="js-client"),
             Step(["a", "b"], metadata={"plan": ["pro", "free"]}), Step("a", value="")]
    match = match_matrix(df, steps)
    assert match.tolist() == [
        [True, True, False, True, False],
        [True, False, True, True, False],
        [False, False, True, False, False],
        [True, False, False, False, True],
    ]


def test_a_metadata_column_already_expanded_is_used():
    df = event_frame([("u", at(0), "a"), ("u", at(1), "a")]).assign(**{"metadata.plan": ["pro", "free"]})
    assert match_matrix(df, [Step("a", metadata={"plan": "pro"})])[:, 0].tolist() == [True, False]


def test_events_sort_by_unit_then_time_then_row():
    df = event_frame([
        ("u2", at(5), "a"),
        ("u1", at(3), "b"),
        ("u1", at(1), "a"),
        ("u2", at(5), "b"),  # tie with row 0: row order kept
        ("u1", at(3), "a"),  # tie with row 1
        ("u2", at(0), "a"),
    ])
    stream = event_stream(df, [Step("a"), Step("b")])
    # Units are contiguous, in code order; within a unit: time, then row.
    assert [stream.units[u] for u in stream.unit] in (["u2"] * 3 + ["u1"] * 3, ["u1"] * 3 + ["u2"] * 3)
    by_unit = pd.DataFrame({"unit": np.asarray(stream.units[stream.unit]), "row": stream.row})
    assert by_unit.groupby("unit")["row"].apply(list).to_dict() == {"u1": [2, 1, 4], "u2": [5, 0, 3]}
    assert (np.diff(stream.unit) >= 0).all()
    assert stream.match[stream.row == 3].tolist() == [[False, True]]
    assert stream.time.tolist() == df["timestamp"].to_numpy("M8[ms]").view("i8")[stream.row].tolist()
    ties = stream.new_tie
    assert sorted(int(r) for r in stream.row[~ties]) == [3, 4]


def test_a_large_shuffled_frame_sorts_like_pandas():
    rng = np.random.default_rng(3)
    n = 20_000
    df = event_frame([(f"u{rng.integers(0, 300)}", at(int(rng.integers(0, 500))), ("a", "b", "c")[i % 3])
                      for i in range(n)])
    stream = event_stream(df, [Step("a"), Step("c")])
    mask = df["name"].isin(["a", "c"]).to_numpy()
    kept = df[mask].assign(row=np.flatnonzero(mask))
    expected = kept.sort_values(["userID", "timestamp", "row"], kind="stable")
    got = pd.DataFrame({"user": np.asarray(stream.units[stream.unit]), "row": stream.row})
    expected_order = expected.groupby("userID", sort=False)["row"].apply(list).to_dict()
    assert got.groupby("user", sort=False)["row"].apply(list).to_dict() == expected_order


@pytest.mark.parametrize("workers", [2, 3])
def test_a_sort_split_over_threads_orders_events_as_one_sort_does(monkeypatch, workers):
    rng = np.random.default_rng(11)
    n = 30_000
    times = np.sort(rng.integers(0, 5_000, n))  # in time order, as frames come from the reader
    df = event_frame([(str(rng.integers(0, 2_000)), at(int(t)), ("a", "b")[i % 2]) for i, t in enumerate(times)])
    alone = event_stream(df, [Step("a"), Step("b")])
    monkeypatch.setattr(_kernels, "_PARALLEL_ROWS", 1_000)
    monkeypatch.setattr(_kernels, "_WORKERS", workers)
    split = event_stream(df, [Step("a"), Step("b")])
    for field in ("unit", "time", "row", "match"):
        assert np.array_equal(getattr(split, field), getattr(alone, field)), field
    assert split.units.equals(alone.units)


def test_a_stream_without_rows_is_the_same_stream_less_its_frame_positions():
    df = event_frame([("u2", at(5), "a"), ("u1", at(3), "b"), ("u2", at(1), "a"), ("", at(2), "a")])
    full = event_stream(df, [Step("a"), Step("b")])
    lean = event_stream(df, [Step("a"), Step("b")], keep_rows=False)
    assert lean.row is None and full.row is not None
    for field in ("unit", "time", "match"):
        assert np.array_equal(getattr(lean, field), getattr(full, field)), field
    assert lean.units.equals(full.units) and lean.rows_without_unit == full.rows_without_unit == 1


@pytest.mark.parametrize("n", [0, 1, 7, 50_001])
def test_take_in_parts_gathers_as_indexing_does(monkeypatch, n):
    monkeypatch.setattr(_kernels, "_PARALLEL_ROWS", 1_000)
    monkeypatch.setattr(_kernels, "_WORKERS", 3)
    rng = np.random.default_rng(n)
    values, at = rng.integers(-2**62, 2**62, 60_000), rng.integers(0, 60_000, n).astype(np.int32)
    assert np.array_equal(_kernels.take(values, at), values[at])


@pytest.mark.parametrize("n", [0, 1, 7, 50_001])
def test_sort_distinct_sorts_whatever_the_split(monkeypatch, n):
    monkeypatch.setattr(_kernels, "_PARALLEL_ROWS", 1_000)
    monkeypatch.setattr(_kernels, "_WORKERS", 3)
    keys = np.random.default_rng(n).permutation(np.arange(n, dtype=np.int64) * 7 - 3_000)
    assert np.array_equal(_kernels.sort_distinct(keys.copy()), np.sort(keys))


def test_rows_without_a_unit_are_left_out_and_counted():
    df = event_frame([("u", at(0), "a"), ("", at(1), "a"), (None, at(2), "a"), ("v", at(3), "x"), (None, at(4), "x")])
    stream = event_stream(df, [Step("a")])
    assert stream.rows_without_unit == 3  # every row of the frame without a unit, matched or not
    assert stream.row.tolist() == [0]
    assert stream.stamp(pd.DataFrame()).attrs["rows_without_unit"] == 3
    everything = event_stream(df, [Step("a")], keep="all")
    assert sorted(everything.row.tolist()) == [0, 3]


def test_the_unit_may_be_any_column_or_a_metadata_key():
    df = event_frame([
        ("u1", at(0), "a", {"metadata": {"stableID": "s1"}}),
        ("u2", at(1), "a", {"metadata": {"stableID": "s1"}}),
        ("u3", at(2), "a", {"metadata": {}}),
    ])
    stream = event_stream(df, [Step("a")], unit="metadata.stableID")
    assert list(stream.units[stream.unit]) == ["s1", "s1"] and stream.rows_without_unit == 1
    by_source = event_stream(df, [Step("a")], unit="source")
    assert list(by_source.units[by_source.unit]) == ["js-client"] * 3
    with pytest.raises(StatsigError, match="no column 'team'"):
        event_stream(df, [Step("a")], unit="team")
    with pytest.raises(StatsigError, match="unit must be"):
        event_stream(df, [Step("a")], unit=["userID"])


def test_a_step_matching_nothing_warns_naming_it():
    df = event_frame([("u", at(0), "a")])
    with pytest.warns(StatsigWarning, match="'purchse'"):
        event_stream(df, [Step("a"), Step("purchse")])
    with pytest.warns(StatsigWarning, match=r"'a \(value=books\)'"):
        event_stream(df, [Step("a", value="books")])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        event_stream(df, [Step("a")])


def test_events_without_a_timestamp_are_left_out():
    df = event_frame([("u", at(0), "a"), ("u", at(1), "a")])
    df.loc[1, "timestamp"] = pd.NaT
    assert event_stream(df, [Step("a")]).row.tolist() == [0]


@pytest.mark.parametrize("ids", [
    ["042", "42", "042", "", None, "7"],  # decimal IDs: read as numbers, the length kept
    ["042", "42", "042", "", None, "x7"],  # one that is not: hashed as text
    ["1" * 20, "1" * 19, "1" * 20, "", None, "7"],  # too long for a number
])
def test_unit_ids_are_compared_as_text(ids):
    df = event_frame([(u, at(i), "a") for i, u in enumerate(ids)])
    stream = event_stream(df, [Step("a")])
    labels = [stream.units[u] for u in stream.unit]
    assert sorted(zip(labels, stream.row.tolist())) == sorted(
        (u, i) for i, u in enumerate(ids) if u)
    assert len(stream.units) == 3 and stream.rows_without_unit == 2
    # the same unit is one code, consecutive, its events in time order
    assert stream.row[stream.unit == stream.unit[0]].tolist() == sorted(stream.row[stream.unit == stream.unit[0]])


def test_unit_codes_index_their_labels():
    from statsig_pandas._steps import unit_codes

    df = event_frame([("b", at(0), "a"), ("a", at(1), "a"), ("", at(2), "a"), ("b", at(3), "a"), (None, at(4), "a")])
    codes, labels, without = unit_codes(df, "userID")
    assert [labels[c] if c >= 0 else None for c in codes] == ["b", "a", None, "b", None]
    assert without == 2
    codes, labels, _ = unit_codes(df, "userID", rows=np.array([3, 2]))
    assert [labels[c] if c >= 0 else None for c in codes] == ["b", None]
