"""The console script as a user runs it: the emulator for demos, fetching to a file, and report options."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from statsig_pandas import read_events

SCRIPT = str(Path(sys.executable).parent / "statsig-pandas")


def test_emulator_command_serves_until_terminated():
    server = subprocess.Popen([SCRIPT, "emulator", "--port", "0", "--events", "300"], stdout=subprocess.PIPE,
                              text=True)
    try:
        lines = [server.stdout.readline() for _ in range(3)]
        url = re.search(r"STATSIG_CONSOLE_API_URL=(\S+)", "".join(lines)).group(1)
        key = re.search(r"STATSIG_CONSOLE_API_KEY=(\S+)", "".join(lines)).group(1)
        assert url.startswith("http://127.0.0.1:")
        df = read_events(["add_to_cart", "purchase", "page_view"], base_url=url, api_key=key, progress=False)
        assert len(df) == 300
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0


def test_fetch_to_parquet_keeps_metadata_as_json(emulator, tmp_path):
    out = tmp_path / "events.parquet"
    env = {"STATSIG_CONSOLE_API_KEY": emulator.api_key, "STATSIG_CONSOLE_API_URL": emulator.url}
    done = subprocess.run([SCRIPT, "fetch", "purchase", "-o", str(out)], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    table = pq.read_table(out).to_pandas()
    expected = read_events("purchase", base_url=emulator.url, api_key=emulator.api_key, progress=False)
    assert len(table) == len(expected)
    assert [json.loads(m) for m in table["metadata"]] == expected["metadata"].tolist()
    assert pd.to_datetime(table["timestamp"], utc=True).equals(expected["timestamp"].astype("datetime64[ms, UTC]"))


def test_report_command_refuses_a_funnel_or_range_it_cannot_draw_in_one_line(tmp_path):
    out = tmp_path / "r.html"
    # (render_report's own refusals are tested in tests/test_report.py)
    for extra, message in ((["--funnel", "add_to_cart,checkout"], "'checkout' are not among the report's events"),
                           (["--start", "2026-12-01", "--end", "2026-11-01"], "must be after start")):
        done = subprocess.run([SCRIPT, "report", "add_to_cart", "purchase", "--demo", "-q", "-o", str(out), *extra],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 1 and "Traceback" not in done.stderr
        assert done.stderr.startswith("statsig-pandas: error: ") and message in done.stderr, done.stderr
    assert not out.exists()


@pytest.mark.notebook
def test_report_command_passes_range_funnel_window_and_retention_period_to_the_report(tmp_path):
    out = tmp_path / "r.html"
    done = subprocess.run([SCRIPT, "report", "page_view", "add_to_cart", "purchase", "--demo", "-q", "-o", str(out),
                           "--start", "21D", "--funnel", "add_to_cart, purchase", "--within", "1D",
                           "--retention-period", "W", "--freq", "W"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    page = out.read_text()
    end = pd.Timestamp.now(tz="UTC")
    assert re.search(rf"{end - pd.Timedelta('21D'):%Y-%m-%d} \d\d:\d\d to {end:%Y-%m-%d} \d\d:\d\d UTC \(21 days\), "
                     "the time range read through /console/v1/logs", page)
    assert re.search(r"\d+ % of users who add_to_cart purchase within 1 day", page)
    assert re.search(r"On average \d+(\.\d)? % of users come back 1 week later", page)
    assert re.search(r"In the week starting \d{4}-\d\d-\d\d: [\d,]+ active users", page)
