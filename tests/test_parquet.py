"""Streaming a time range to a Parquet dataset, and resuming after an interruption."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import requests

import statsig_pandas as sp
from statsig_pandas import StatsigError
from statsig_pandas.testing import StatsigEmulator

DAY = 86_400_000
T0 = 1_790_035_200_000  # 2026-09-22T00:00:00Z: a midnight
NAMES = ["purchase", "add_to_cart"]


@pytest.fixture(scope="module")
def five_days():
    with StatsigEmulator.for_logs(30_000, start_ms=T0, end_ms=T0 + 5 * DAY, seed=5) as emu:
        yield emu


def ms(value: int) -> pd.Timestamp:
    return pd.Timestamp(value, unit="ms", tz="UTC")


def options(emu, **kwargs):
    return dict(api_key=emu.api_key, base_url=emu.url, progress=False, **kwargs)


def rows(df):
    return sorted(zip(df["timestamp"].astype("int64"), df["name"].astype(str), df["userID"], df["value"],
                      map(json.dumps, df["metadata"])))


def test_dataset_holds_exactly_the_range_partitioned_by_day(five_days, tmp_path):
    start, end = T0 + DAY // 2, T0 + 4 * DAY + 123
    summary = sp.to_parquet(NAMES, tmp_path / "ds", start=ms(start), end=ms(end), chunksize=1500,
                            **options(five_days))
    expected = sp.read_events(NAMES, start=ms(start), end=ms(end), **options(five_days))
    back = sp.read_parquet(tmp_path / "ds")
    assert summary["rows_written"] == len(expected) == len(back)
    assert rows(back) == rows(expected)
    assert back.dtypes.astype(str).tolist() == expected.dtypes.astype(str).tolist()
    assert all(isinstance(m, dict) for m in back["metadata"])
    days = sorted(p.name for p in (tmp_path / "ds").iterdir() if p.name.startswith("day="))
    assert days == sorted(set(expected["timestamp"].dt.strftime("day=%Y-%m-%d")))
    assert days[0] == "day=2026-09-22" and len(days) >= 4  # a day without events has no folder
    assert len(list((tmp_path / "ds" / "day=2026-09-23").glob("part-*.parquet"))) >= 2  # chunked
    for day in days:
        part = pd.read_parquet(tmp_path / "ds" / day)
        stamps = pd.to_datetime(part["timestamp"], utc=True)
        assert (stamps.dt.strftime("day=%Y-%m-%d") == day).all()


def test_read_parquet_filters_by_time(five_days, tmp_path):
    sp.to_parquet("purchase", tmp_path, start=ms(T0), end=ms(T0 + 2 * DAY), **options(five_days))
    lo, hi = pd.Timestamp(T0 + DAY // 3, unit="ms", tz="UTC"), pd.Timestamp(T0 + DAY, unit="ms", tz="UTC")
    part = sp.read_parquet(tmp_path, start=lo, end=hi)
    whole = sp.read_parquet(tmp_path)
    assert rows(part) == rows(whole[(whole["timestamp"] >= lo) & (whole["timestamp"] < hi)])


class InterruptingSession(requests.Session):
    """A user's session that is interrupted (Ctrl-C) after a number of requests."""

    def __init__(self, after: int):
        super().__init__()
        self.left = after

    def send(self, request, **kwargs):
        self.left -= 1
        if self.left < 0:
            raise KeyboardInterrupt
        return super().send(request, **kwargs)


def test_an_interrupted_run_resumes_without_duplicates_or_rereading_finished_days(five_days, tmp_path):
    target = tmp_path / "ds"
    with pytest.raises(KeyboardInterrupt):
        sp.to_parquet(NAMES, target, start=ms(T0), end=ms(T0 + 5 * DAY), session=InterruptingSession(after=25),
                      max_concurrency=2, **options(five_days))
    manifest = json.loads((target / "_statsig_manifest.json").read_text())
    finished = set(manifest["days"])
    assert 0 < len(finished) < 5
    five_days.requests.clear()
    summary = sp.to_parquet(NAMES, target, start=ms(T0), end=ms(T0 + 5 * DAY), **options(five_days))
    assert summary["days_skipped"] == len(finished)
    for request in five_days.requests:  # nothing of a finished day was asked for again
        day = pd.Timestamp(int(request.query["start_ts"]), unit="ms", tz="UTC").strftime("%Y-%m-%d")
        assert day not in finished
    back = sp.read_parquet(target)
    expected = sp.read_events(NAMES, start=ms(T0), end=ms(T0 + 5 * DAY), **options(five_days))
    assert rows(back) == rows(expected)
    assert not list(target.glob(".staging-*"))


def test_a_dataset_of_other_events_is_not_mixed_into(five_days, tmp_path):
    sp.to_parquet("purchase", tmp_path, start=ms(T0), end=ms(T0 + DAY), **options(five_days))
    with pytest.raises(StatsigError, match="holds events"):
        sp.to_parquet("add_to_cart", tmp_path, start=ms(T0), end=ms(T0 + DAY), **options(five_days))


def test_reading_a_folder_that_is_not_a_dataset_is_a_clear_error(tmp_path):
    with pytest.raises(StatsigError, match="not a dataset"):
        sp.read_parquet(tmp_path)


def test_a_progress_callable_follows_each_days_read(five_days, tmp_path):
    seen = []
    summary = sp.to_parquet(NAMES, tmp_path / "ds", start=ms(T0), end=ms(T0 + 2 * DAY), chunksize=5000,
                            api_key=five_days.api_key, base_url=five_days.url, progress=seen.append)
    restarts = [i for i, p in enumerate(seen) if p.pages == 1]
    assert len(restarts) == summary["days_written"] == 2  # a read per day, each counted from its first page
    assert sum(seen[i - 1].rows for i in [*restarts[1:], len(seen)]) == summary["rows_written"]


def test_read_parquet_records_the_declared_provenance(five_days, tmp_path):
    sp.to_parquet(NAMES, tmp_path / "ds", start=ms(T0), end=ms(T0 + DAY), **options(five_days))
    back = sp.read_parquet(tmp_path / "ds", start=ms(T0 + 1))
    direct = sp.read_events(NAMES, start=ms(T0), end=ms(T0 + DAY), **options(five_days))
    assert list(back.attrs["statsig"]) == list(direct.attrs["statsig"])  # one set of keys, in one order
    assert back.attrs["statsig"]["source"] == "parquet" and direct.attrs["statsig"]["source"] == "api"
    assert back.attrs["statsig"]["start"] == "2026-09-22T00:00:00.001000Z"
    assert back.attrs["statsig"]["pages_read"] is None
