"""Two writers on one Parquet dataset: the second is refused, nothing is lost, a dead writer's lock is taken over."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pyarrow.parquet as pq
import pytest
from faults.helpers import DAY, T0, ms, opts
from faults.rawhttp import wait_for

import statsig_pandas as sp
from statsig_pandas import StatsigError
from statsig_pandas.parquet import MANIFEST
from statsig_pandas.testing import StatsigEmulator

NAMES = ["purchase", "add_to_cart"]
START, END = T0, T0 + 3 * DAY

WRITER = textwrap.dedent("""
    import sys
    import pandas as pd
    import statsig_pandas as sp
    url, key, path, start, end = sys.argv[1:]
    summary = sp.to_parquet(["purchase", "add_to_cart"], path, start=pd.Timestamp(int(start), unit="ms", tz="UTC"),
                            end=pd.Timestamp(int(end), unit="ms", tz="UTC"), chunksize=400, max_concurrency=1,
                            api_key=key, base_url=url, progress=False)
    print("rows", summary["rows_written"], flush=True)
""")


@pytest.fixture
def slow_logs():
    """Three days of events, each answer 50 ms late so that a run lasts a few seconds."""
    with StatsigEmulator.for_logs(6000, start_ms=START, end_ms=END, seed=3, latency=0.05, max_limit=200) as emu:
        yield emu


def start_writer(emu, path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATSIG_")}
    return subprocess.Popen([sys.executable, "-c", WRITER, emu.url, emu.api_key, str(path), str(START), str(END)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def reap(process: subprocess.Popen, timeout: float = 60) -> tuple[str, str]:
    try:
        return process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate(timeout=10)


def assert_complete(emu, path) -> None:
    """The dataset holds every event of the range once, and the manifest counts what the files hold."""
    expected = sp.read_events(NAMES, start=ms(START), end=ms(END), **opts(emu))
    back = sp.read_parquet(path)
    assert len(back) == len(expected)
    manifest = json.loads((path / MANIFEST).read_text())
    assert set(manifest["days"]) == {"2026-09-22", "2026-09-23", "2026-09-24"}
    for day, entry in manifest["days"].items():
        files = list((path / f"day={day}").glob("*.parquet"))
        assert entry["rows"] == sum(pq.ParquetFile(f).metadata.num_rows for f in files) > 0
    assert not list(path.glob(".staging-*"))


@pytest.mark.timeout(120)
def test_second_writer_on_a_dataset_is_refused_and_the_first_loses_nothing(slow_logs, tmp_path):
    path = tmp_path / "ds"
    first = start_writer(slow_logs, path)
    try:
        assert wait_for(lambda: len(slow_logs.requests) >= 3, timeout=30), reap(first, 1)
        began = time.monotonic()
        with pytest.raises(StatsigError, match=r"(?i)another|in use|locked"):
            sp.to_parquet(NAMES, path, start=ms(START), end=ms(END), **opts(slow_logs))
        assert time.monotonic() - began < 2
        _, err = reap(first)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 0, err[-2000:]
    assert_complete(slow_logs, path)


@pytest.mark.timeout(120)
def test_lock_of_a_killed_writer_is_taken_over_and_the_rerun_completes(slow_logs, tmp_path):
    path = tmp_path / "ds"
    first = start_writer(slow_logs, path)
    assert wait_for(lambda: len(slow_logs.requests) >= 5, timeout=30), reap(first, 1)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    summary = sp.to_parquet(NAMES, path, start=ms(START), end=ms(END), **opts(slow_logs))
    assert summary["days_written"] + summary["days_skipped"] == 3
    assert_complete(slow_logs, path)
