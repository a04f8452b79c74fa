"""The console script as a user runs it: the emulator for demos, and fetching to a file."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

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
