"""Time-range reads through the cache of settled days, over real HTTP against the emulator.

The emulator's events are placed relative to now (the last week up to this
moment) and ``settle`` is an hour, so which days are settled never depends on
the wall clock's date; the requests the emulator receives say which days were
read from the API.
"""

from __future__ import annotations

import json
import multiprocessing
import pickle
import time
import warnings

import pandas as pd
import pytest

import statsig_pandas
from statsig_pandas import Cache, StatsigError, StatsigWarning, read_events
from statsig_pandas.cache import settle_ms, settled_days
from statsig_pandas.endpoints import DAY_MS, LOGS_PATH
from statsig_pandas.report import ReportHeader
from statsig_pandas.testing import StatsigEmulator
from statsig_pandas.testing.logs import LogStore, parse_event_name_filter

SETTLE = "1h"
NAMES = ("purchase", "add_to_cart")


def now_ms() -> int:
    return pd.Timestamp.now(tz="UTC").value // 1_000_000


def stamp(ms: int) -> pd.Timestamp:
    return pd.Timestamp(ms, unit="ms", tz="UTC")


# -- the emulator, and what it was asked ----------------------------------------------------------

@pytest.fixture(scope="module")
def store():
    """Events of the last 7 days up to now, and a day with none among them."""
    end = now_ms()
    events = LogStore.synthetic(12_000, names=NAMES, start_ms=end - 7 * DAY_MS, end_ms=end, seed=5, users=300)
    return events


@pytest.fixture(scope="module")
def shared_emu(store):
    with StatsigEmulator(logs=store, api_key=None) as emu:  # any key: tests tell keys apart
        yield emu


@pytest.fixture
def emu(shared_emu):
    shared_emu.requests.clear()
    return shared_emu


def logs_requests(emu) -> list:
    return [r for r in emu.requests if r.path == LOGS_PATH]


def days_requested(emu) -> set[tuple[str, int]]:
    """(event name, UTC day) of every day some request of the logs endpoint covered part of."""
    days = set()
    for r in logs_requests(emu):
        name = parse_event_name_filter(r.query.get("query"))
        lo, hi = int(r.query["start_ts"]), int(r.query["end_ts"])
        days.update((name, d) for d in range(lo // DAY_MS, (hi - 1) // DAY_MS + 1))
    return days


def today() -> int:
    return now_ms() // DAY_MS


@pytest.fixture(autouse=True)
def clear_of_day_edges():
    """Tests name days by ``today()`` and take a second or two; one that began just before a UTC
    midnight, or just before the hour that settles yesterday, would see its days shift under it.
    Such a test waits the few seconds out rather than assert on a moving edge."""
    margin = 15_000
    for edge in (DAY_MS, settle_ms(SETTLE)):  # midnight; the moment yesterday becomes settled
        left = -(now_ms() - edge % DAY_MS) % DAY_MS
        if left < margin:
            time.sleep((left + 1000) / 1000)


def read(emu, names="purchase", start=None, end=None, *, key="console-one", **kwargs):
    kwargs.setdefault("progress", False)
    return read_events(names, base_url=emu.url, api_key=key, start=stamp(start), end=stamp(end), **kwargs)


def assert_same_frame(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Row for row and dtype for dtype. The order of categories is that of first sight in pages that
    arrive concurrently, so it varies between two uncached reads too: compared as sets."""
    assert got.dtypes.equals(want.dtypes)
    assert list(got.columns) == list(want.columns) and isinstance(got.index, pd.RangeIndex)
    pd.testing.assert_frame_equal(got, want, check_categorical=False)
    for column in ("name", "source"):
        assert set(got[column].cat.categories) == set(want[column].cat.categories)


def by_content(df: pd.DataFrame) -> pd.DataFrame:
    """Rows of several names in one order whatever the order of events logged in the same millisecond."""
    key = df.assign(meta=df["metadata"].map(lambda m: json.dumps(m, sort_keys=True)))
    order = key.sort_values(["timestamp", "name", "userID", "value", "meta"], kind="stable").index
    return df.loc[order].reset_index(drop=True)


# -- the behaviour --------------------------------------------------------------------------

def test_second_identical_read_asks_only_for_unsettled_days(emu, tmp_path):
    start, end = now_ms() - 6 * DAY_MS, now_ms()
    plain = read(emu, start=start, end=end)
    emu.requests.clear()
    first = read(emu, start=start, end=end, cache=tmp_path, settle=SETTLE)
    assert_same_frame(first, plain)
    assert first.attrs["statsig"]["days_from_cache"] == 0 and first.attrs["statsig"]["cache"] == str(tmp_path)
    emu.requests.clear()
    before = now_ms()
    second = read(emu, start=start, end=end, cache=tmp_path, settle=SETTLE)
    assert_same_frame(second, plain)
    first_unsettled = (before - settle_ms(SETTLE)) // DAY_MS
    assert logs_requests(emu) and {day for _, day in days_requested(emu)} <= {first_unsettled, today()}
    settled = settled_days(start, end, now_ms=before, settle_ms=settle_ms(SETTLE))
    info = second.attrs["statsig"]
    assert info["days_from_cache"] == len(settled) >= 5
    assert info["days_from_cache"] + info["days_from_api"] == end // DAY_MS - start // DAY_MS + 1
    assert info["pages_read"] == len(logs_requests(emu))


def test_an_overlapping_range_reuses_the_days_it_shares(emu, tmp_path):
    d = today()
    read(emu, start=(d - 6) * DAY_MS, end=(d - 3) * DAY_MS, cache=tmp_path, settle=SETTLE)
    assert days_requested(emu) == {("purchase", day) for day in (d - 6, d - 5, d - 4)}
    emu.requests.clear()
    later = read(emu, start=(d - 5) * DAY_MS, end=(d - 2) * DAY_MS, cache=tmp_path, settle=SETTLE)
    assert days_requested(emu) == {("purchase", d - 3)}
    assert later.attrs["statsig"]["days_from_cache"] == 2 and later.attrs["statsig"]["days_from_api"] == 1
    assert_same_frame(later, read(emu, start=(d - 5) * DAY_MS, end=(d - 2) * DAY_MS))


def test_partial_first_and_last_days_are_cut_from_the_cached_whole_days(emu, tmp_path):
    d = today()
    start, end = (d - 5) * DAY_MS + 6 * 3_600_000, (d - 2) * DAY_MS + 18 * 3_600_000 + 1
    first = read(emu, start=start, end=end, cache=tmp_path, settle=SETTLE)
    # Stored whole: the first read asked for the whole first and last days.
    lows = [int(r.query["start_ts"]) for r in logs_requests(emu)]
    highs = [int(r.query["end_ts"]) for r in logs_requests(emu)]
    assert min(lows) == (d - 5) * DAY_MS and max(highs) == (d - 1) * DAY_MS
    emu.requests.clear()
    again = read(emu, start=start, end=end, cache=tmp_path, settle=SETTLE)
    assert logs_requests(emu) == []
    plain = read(emu, start=start, end=end)
    assert_same_frame(first, plain)
    assert_same_frame(again, plain)
    assert again["timestamp"].min() >= stamp(start) and again["timestamp"].max() < stamp(end)
    # A range inside one cached day, no request at all.
    emu.requests.clear()
    inner = read(emu, start=start + 3_600_000, end=start + 2 * 3_600_000, cache=tmp_path, settle=SETTLE)
    assert logs_requests(emu) == []
    assert_same_frame(inner, read(emu, start=start + 3_600_000, end=start + 2 * 3_600_000))


def test_several_names_are_cached_and_counted_per_day(emu, tmp_path):
    d = today()
    start, end = (d - 5) * DAY_MS, (d - 2) * DAY_MS
    read(emu, "purchase", start, end, cache=tmp_path, settle=SETTLE)
    emu.requests.clear()
    both = read(emu, list(NAMES), start, end, cache=tmp_path, settle=SETTLE)
    assert {name for name, _ in days_requested(emu)} == {"add_to_cart"}  # purchase's days were there
    assert both.attrs["statsig"]["days_from_cache"] == 0  # a day is from the cache when all its events are
    emu.requests.clear()
    again = read(emu, list(NAMES), start, end, cache=tmp_path, settle=SETTLE)
    assert logs_requests(emu) == [] and again.attrs["statsig"]["days_from_cache"] == 3
    plain = read(emu, list(NAMES), start, end)
    assert set(plain["name"]) == set(NAMES)
    assert_same_frame(by_content(both), by_content(plain))
    assert_same_frame(by_content(again), by_content(plain))
    assert again["timestamp"].is_monotonic_increasing


def test_a_corrupted_cache_file_is_read_again_with_a_warning(emu, tmp_path):
    d = today()
    start, end = (d - 5) * DAY_MS, (d - 2) * DAY_MS
    plain = read(emu, start=start, end=end, cache=tmp_path, settle=SETTLE)
    damaged = sorted(tmp_path.glob("v1/*/*/*/*.parquet"))[1]  # the middle day
    damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size // 2])
    emu.requests.clear()
    with pytest.warns(StatsigWarning, match=r"cached day .* of 'purchase' .* is damaged .* reading it again") as seen:
        again = read(emu, start=start, end=end, cache=tmp_path, settle=SETTLE)
    assert [w.filename for w in seen] == [__file__]  # pointed at the caller's line, not at a thread
    assert days_requested(emu) == {("purchase", d - 4)}
    assert_same_frame(again, plain)
    emu.requests.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # stored again, whole
        assert_same_frame(read(emu, start=start, end=end, cache=tmp_path, settle=SETTLE), plain)
    assert logs_requests(emu) == []


def test_another_key_or_host_shares_nothing(emu, store, tmp_path):
    d = today()
    start, end = (d - 4) * DAY_MS, (d - 2) * DAY_MS
    read(emu, start=start, end=end, key="console-one", cache=tmp_path, settle=SETTLE)
    emu.requests.clear()
    read(emu, start=start, end=end, key="console-two", cache=tmp_path, settle=SETTLE)
    assert days_requested(emu) == {("purchase", d - 4), ("purchase", d - 3)}
    with StatsigEmulator(logs=store, api_key=None) as other:  # the same events on another host (port)
        read(other, start=start, end=end, key="console-one", cache=tmp_path, settle=SETTLE)
        assert days_requested(other) == {("purchase", d - 4), ("purchase", d - 3)}
    assert len(list(tmp_path.glob("v1/*/*"))) == 3  # host and key scopes: (emu, one), (emu, two), (other, one)


def test_the_cache_never_holds_the_key(emu, tmp_path):
    key = "console-test-secret-that-must-not-leak"  # fake: hyphens keep it unlike a real key
    d = today()
    df = read(emu, list(NAMES), (d - 4) * DAY_MS, now_ms(), key=key, cache=tmp_path, settle=SETTLE)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".parquet" for p in files) and (tmp_path / "salt").exists()
    for path in files:
        data = path.read_bytes()
        assert key.encode() not in data and b"secret-that-must" not in data, path
    assert key not in str([p.name for p in tmp_path.rglob("*")])
    assert key not in repr(df.attrs) and key not in repr(Cache(tmp_path).info())


def _fill_in_a_process(args):
    url, folder, start, end = args
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = read_events("purchase", base_url=url, api_key="console-one", start=stamp(start), end=stamp(end),
                            cache=folder, settle=SETTLE, progress=False, max_concurrency=2)
    return pickle.dumps(frame)


def test_two_processes_filling_the_same_days_give_the_same_frame(emu, tmp_path):
    d = today()
    start, end = (d - 6) * DAY_MS, (d - 1) * DAY_MS
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        frames = [pickle.loads(f) for f in pool.map(_fill_in_a_process, [(emu.url, str(tmp_path), start, end)] * 2)]
    plain = read(emu, start=start, end=end)
    for frame in frames:
        assert_same_frame(frame, plain)
    emu.requests.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cached = read(emu, start=start, end=end, cache=tmp_path, settle=SETTLE)
    assert logs_requests(emu) == [] and cached.attrs["statsig"]["days_from_cache"] == 5
    assert_same_frame(cached, plain)
    assert not list(tmp_path.rglob(".tmp-*"))


def test_days_without_events_are_cached_too(emu, tmp_path):
    d = today()
    start, end = (d - 30) * DAY_MS, (d - 8) * DAY_MS  # before the emulator's first event
    assert read(emu, start=start, end=end, cache=tmp_path, settle=SETTLE).empty
    emu.requests.clear()
    again = read(emu, start=start, end=end, cache=tmp_path, settle=SETTLE)
    assert again.empty and logs_requests(emu) == [] and again.attrs["statsig"]["days_from_cache"] == 22
    assert again.dtypes.equals(read(emu, start=start, end=end).dtypes)


def test_chunks_come_through_the_cache_in_time_order(emu, tmp_path):
    d = today()
    start, end = (d - 5) * DAY_MS + 1000, now_ms()
    plain = read(emu, start=start, end=end)
    for _ in range(2):
        emu.requests.clear()
        before = now_ms()
        chunks = list(read(emu, start=start, end=end, cache=tmp_path, settle=SETTLE, chunksize=700))
        assert [len(c) for c in chunks[:-1]] == [700] * (len(chunks) - 1) and 0 < len(chunks[-1]) <= 700
        assert_same_frame(pd.concat(chunks, ignore_index=True), plain)
    assert {day for _, day in days_requested(emu)} <= {(now_ms() - settle_ms(SETTLE)) // DAY_MS, today()}
    # Days d-5 to d-1, but in the hour after midnight yesterday is not settled yet.
    settled = settled_days(start, end, now_ms=before, settle_ms=settle_ms(SETTLE))
    assert chunks[-1].attrs["statsig"]["days_from_cache"] == len(settled) >= 4


def test_expand_metadata_through_the_cache(emu, tmp_path):
    d = today()
    start, end = (d - 3) * DAY_MS, (d - 1) * DAY_MS
    read(emu, start=start, end=end, cache=tmp_path, settle=SETTLE)
    got = read(emu, start=start, end=end, cache=tmp_path, settle=SETTLE, expand_metadata=True)
    want = read(emu, start=start, end=end, expand_metadata=True)
    assert "metadata.plan" in got.columns
    assert_same_frame(got, want)


def test_cached_metadata_is_shared_and_read_only_like_a_fresh_read(emu, tmp_path):
    d = today()
    read(emu, start=(d - 3) * DAY_MS, end=(d - 2) * DAY_MS, cache=tmp_path, settle=SETTLE)
    df = read(emu, start=(d - 3) * DAY_MS, end=(d - 2) * DAY_MS, cache=tmp_path, settle=SETTLE)
    with_meta = df["metadata"][df["metadata"].map(bool)]
    assert len(with_meta) and len({id(m) for m in with_meta}) < len(with_meta)
    with pytest.raises(TypeError, match="read-only"):
        with_meta.iloc[0]["plan"] = "x"


# -- arguments --------------------------------------------------------------------------------------

def test_cache_without_a_time_range_is_refused(emu, tmp_path):
    with pytest.raises(StatsigError, match=r"rolling window .* cannot be cached"):
        read_events("purchase", base_url=emu.url, api_key="console-one", cache=tmp_path)
    assert emu.requests == [] and not tmp_path.joinpath("v1").exists()


@pytest.mark.parametrize("kwargs, match", [
    ({"settle": "1h"}, "settle= .* needs cache="),
    ({"cache": 3}, "cache must be True, a folder or a Cache"),
    ({"cache": True, "settle": "-1h"}, "settle must be a duration of zero or more"),
    ({"cache": True, "settle": 3600}, "settle must be a duration"),
])
def test_bad_cache_arguments_are_clear_errors(emu, kwargs, match, tmp_path, monkeypatch):
    monkeypatch.setenv("STATSIG_PANDAS_CACHE_DIR", str(tmp_path))
    with pytest.raises(StatsigError, match=match):
        read(emu, start=now_ms() - DAY_MS, end=now_ms(), **kwargs)
    assert emu.requests == []


def test_cache_true_is_the_environment_folder(emu, tmp_path, monkeypatch):
    monkeypatch.setenv("STATSIG_PANDAS_CACHE_DIR", str(tmp_path / "env"))
    df = read(emu, start=(today() - 2) * DAY_MS, end=(today() - 1) * DAY_MS, cache=True, settle=SETTLE)
    assert df.attrs["statsig"]["cache"] == str(tmp_path / "env")
    assert statsig_pandas.cache_info()["days"] == 1


# -- the other entry points -------------------------------------------------------------------------

def test_to_parquet_reads_settled_days_through_the_cache(emu, tmp_path):
    d = today()
    start, end = stamp((d - 4) * DAY_MS), stamp(now_ms())
    options = dict(base_url=emu.url, api_key="console-one", start=start, end=end, progress=False,
                   cache=tmp_path / "cache", settle=SETTLE, chunksize=500)
    statsig_pandas.to_parquet("purchase", tmp_path / "a", **options)
    emu.requests.clear()
    statsig_pandas.to_parquet("purchase", tmp_path / "b", **options)
    assert {day for _, day in days_requested(emu)} <= {(now_ms() - settle_ms(SETTLE)) // DAY_MS, today()}
    first, second = statsig_pandas.read_parquet(tmp_path / "a"), statsig_pandas.read_parquet(tmp_path / "b")
    pd.testing.assert_frame_equal(second, first, check_categorical=False)
    assert len(first) == len(read(emu, start=start.value // 10**6, end=end.value // 10**6))


def test_dask_partitions_read_through_the_cache(emu, tmp_path):
    sd = pytest.importorskip("statsig_pandas.dask")
    d = today()
    start, end = stamp((d - 4) * DAY_MS), stamp((d - 1) * DAY_MS)
    options = dict(base_url=emu.url, api_key="console-one", start=start, end=end, cache=tmp_path, settle=SETTLE)
    first = sd.read_events("purchase", **options).compute(scheduler="sync")
    emu.requests.clear()
    again = sd.read_events("purchase", **options).compute(scheduler="sync")
    assert logs_requests(emu) == []
    plain = read(emu, start=start.value // 10**6, end=end.value // 10**6)
    pd.testing.assert_frame_equal(again.reset_index(drop=True), plain, check_categorical=False)
    pd.testing.assert_frame_equal(first.reset_index(drop=True), plain, check_categorical=False)
    with pytest.raises(StatsigError, match="needs cache="):
        sd.read_events("purchase", base_url=emu.url, api_key="console-one", start=start, settle="1h")


def test_the_report_header_says_how_many_days_came_from_the_cache(emu, tmp_path):
    end = now_ms()
    start = end - 6 * DAY_MS
    read(emu, start=start, end=end, cache=tmp_path, settle="1D")
    df = read(emu, start=start, end=end, cache=tmp_path, settle="1D")
    settled = len(settled_days(start, end, now_ms=now_ms(), settle_ms=DAY_MS))
    header = ReportHeader(df)
    assert header.rows["Cache"] == f"{settled} days from the cache, {7 - settled} from the API"
    assert f"{settled} days from the cache" in header._repr_html_()


def _report_template(path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[
        new_code_cell('names = ["purchase"]\ndemo = False\nstart = None\nend = None\ncache = None',
                      metadata={"tags": ["parameters"]}),
        new_code_cell("from statsig_pandas import read_events\nfrom statsig_pandas.report import ReportHeader\n"
                      f"df = read_events(names, start=start, end=end, cache=cache, settle={SETTLE!r}, progress=False)\n"
                      "ReportHeader(df)"),
    ])
    nbformat.write(nb, path)
    return path


@pytest.mark.notebook
def test_a_report_run_again_says_how_many_days_came_from_the_cache(emu, tmp_path):
    from statsig_pandas import render_report

    template = _report_template(tmp_path / "template.ipynb")
    start = stamp(now_ms() - 6 * DAY_MS).isoformat()
    pages = []
    for run in range(2):
        out = render_report("purchase", tmp_path / f"report{run}.html", notebook=template, api_key="console-one",
                            base_url=emu.url, cache=tmp_path / "cache", start=start, progress=False)
        pages.append(out.read_text())
    settled = len(settled_days(pd.Timestamp(start).value // 10**6, now_ms(), now_ms=now_ms(),
                               settle_ms=settle_ms(SETTLE)))
    assert "0 days from the cache, 7 from the API" in pages[0]
    assert f"{settled} days from the cache, {7 - settled} from the API" in pages[1]
    assert "console-one" not in pages[1]


def test_a_report_with_a_cache_needs_a_time_range(tmp_path):
    from statsig_pandas import render_report

    with pytest.raises(StatsigError, match="needs a time range"):
        render_report("purchase", tmp_path / "r.html", api_key="console-one", cache=tmp_path / "cache")
    assert not (tmp_path / "r.html").exists() and not (tmp_path / "cache").exists()


# -- the command line -------------------------------------------------------------------------------

def test_cache_info_and_clear_commands(emu, tmp_path, capsys):
    from statsig_pandas.cli import main

    d = today()
    read(emu, list(NAMES), (d - 4) * DAY_MS, (d - 1) * DAY_MS, cache=tmp_path, settle=SETTLE)
    assert main(["cache", "info", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"cache folder: {tmp_path}" in out and "in 6 day(s)" in out
    rows = {line.split()[1]: line.split() for line in out.splitlines() if line.split()[1:2] in (["purchase"],
                                                                                                ["add_to_cart"])}
    assert rows["purchase"][2] == "3" and rows["add_to_cart"][2] == "3"  # days per event name
    assert main(["cache", "clear", "--dir", str(tmp_path), "--event", "add_to_cart"]) == 0
    assert "removed 3 day(s)" in capsys.readouterr().out
    assert main(["cache", "clear", "--dir", str(tmp_path), "--older-than", "2d"]) == 0
    assert "removed 2 day(s)" in capsys.readouterr().out  # days d-4 and d-3 ended more than 2 days ago
    assert Cache(tmp_path).info()["days"] == 1
    assert main(["cache", "clear", "--dir", str(tmp_path), "--older-than", "soon"]) == 1
    assert "older_than must be a duration" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["fetch", "purchase"], ["report", "purchase", "-o", "r.html"]])
def test_fetch_and_report_pass_cache_through(command, tmp_path, capsys, monkeypatch):
    from statsig_pandas.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STATSIG_CONSOLE_API_KEY", "console-one")
    monkeypatch.setenv("STATSIG_PANDAS_CACHE_DIR", str(tmp_path / "default"))
    for option in (["--cache"], ["--cache", str(tmp_path / "mine")]):
        assert main(command + option) == 1  # these read the rolling window here: refused, not read uncached
        assert "cannot be cached" in capsys.readouterr().err
