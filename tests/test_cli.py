"""The console script as a user runs it: the emulator, fetching to the screen or a file, the usage errors."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

import statsig_pandas
from statsig_pandas import read_events
from statsig_pandas.testing import StatsigEmulator

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


def test_console_script_reads_from_the_emulator(emulator, tmp_path):
    out = tmp_path / "events.csv"
    env = {"STATSIG_CONSOLE_API_KEY": emulator.api_key, "STATSIG_CONSOLE_API_URL": emulator.url,
           "PATH": str(Path(sys.executable).parent)}
    done = subprocess.run([str(Path(sys.executable).parent / "statsig-pandas"), "fetch", "purchase", "-o", str(out)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    back = pd.read_csv(out, dtype={"userID": str, "value": str}, keep_default_na=False)
    assert len(back) == len(emulator.events("purchase"))
    assert emulator.api_key not in done.stdout + done.stderr


def test_console_script_reports_errors_without_a_traceback(emulator):
    env = {"STATSIG_CONSOLE_API_KEY": "console-wrong", "STATSIG_CONSOLE_API_URL": emulator.url}
    done = subprocess.run([sys.executable, "-m", "statsig_pandas.cli", "fetch", "purchase"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "AuthenticationError" not in done.stderr or "Traceback" not in done.stderr
    assert "Traceback" not in done.stderr and "401" in done.stderr
    assert "console-wrong" not in done.stderr


# -- helpers for the commands below --------------------------------------------------------------

def run(*args, emulator=None, key=None, timeout=120):
    env = {"PATH": str(Path(sys.executable).parent)}
    if emulator is not None:
        env.update(STATSIG_CONSOLE_API_KEY=key or emulator.api_key, STATSIG_CONSOLE_API_URL=emulator.url)
    return subprocess.run([SCRIPT, *map(str, args)], env=env, capture_output=True, text=True, timeout=timeout)


def iso(ms: int) -> str:
    return pd.Timestamp(ms, unit="ms", tz="UTC").isoformat()


def middle_of(emulator, name="purchase"):
    """A [start, end) holding most but not all of the emulator's events of ``name``, as ISO strings."""
    stamps = sorted(int(e["timestamp"]) for e in emulator.events(name))
    return stamps[10], stamps[-10]


def expected_range(emulator, start, end, name="purchase"):
    return read_events(name, base_url=emulator.url, api_key=emulator.api_key, progress=False,
                       start=pd.Timestamp(start, unit="ms", tz="UTC"), end=pd.Timestamp(end, unit="ms", tz="UTC"))


def rows(df) -> list[tuple]:
    stamps = pd.to_datetime(df["timestamp"], utc=True).dt.as_unit("ms").astype("int64")
    return list(zip(stamps, df["userID"].astype(str), df["value"].astype(str)))


# -- --version, fetch of a time range ----------------------------------------------------------

def test_version_prints_the_package_version():
    done = run("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"statsig-pandas {statsig_pandas.__version__}"


def test_fetch_range_to_csv_reads_exactly_the_range_through_the_logs_endpoint(emulator, tmp_path):
    start, end = middle_of(emulator)
    out = tmp_path / "range.csv"
    done = run("fetch", "purchase", "--start", iso(start), "--end", iso(end), "--max-concurrency", 2,
               "--chunksize", 50, "-o", out, emulator=emulator)
    assert done.returncode == 0, done.stderr
    back = pd.read_csv(out, dtype={"userID": str, "value": str}, keep_default_na=False)
    expected = expected_range(emulator, start, end)
    assert len(expected) > 150  # so that the file was written in several chunks of 50
    assert rows(back) == rows(expected)  # one header, every chunk once, in time order
    assert [json.loads(m) for m in back["metadata"]] == expected["metadata"].tolist()
    assert {r.path for r in emulator.requests} == {"/console/v1/logs"}
    assert f"wrote {len(expected)} events to {out}" in done.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["range.csv"]  # no partial file left beside it


def test_fetch_range_to_parquet_streams_a_dataset_that_a_second_run_resumes(emulator, tmp_path):
    start, end = middle_of(emulator)
    out = tmp_path / "purchases.parquet"
    args = ("fetch", "purchase", "--start", iso(start), "--end", iso(end), "--chunksize", 100, "-o", out)
    done = run(*args, emulator=emulator)
    assert done.returncode == 0, done.stderr
    assert out.is_dir() and any(out.glob("day=*/part-00000.parquet"))
    back = statsig_pandas.read_parquet(out)
    expected = expected_range(emulator, start, end)
    assert rows(back) == rows(expected)
    assert back["metadata"].tolist() == expected["metadata"].tolist()
    emulator.requests.clear()
    again = run(*args, emulator=emulator)
    assert again.returncode == 0, again.stderr
    assert "0 days written" in again.stderr and emulator.requests == []  # finished days are not read again
    assert rows(statsig_pandas.read_parquet(out)) == rows(expected)


def test_fetch_range_to_a_folder_is_the_same_dataset(emulator, tmp_path):
    start, end = middle_of(emulator)
    done = run("fetch", "purchase", "--start", iso(start), "--end", iso(end), "-o", f"{tmp_path / 'ds'}/",
               emulator=emulator)
    assert done.returncode == 0, done.stderr
    assert rows(statsig_pandas.read_parquet(tmp_path / "ds")) == rows(expected_range(emulator, start, end))


def test_fetch_range_prints_the_frame_without_output(emulator):
    start, end = middle_of(emulator)
    done = run("fetch", "purchase", "--start", iso(start), "--end", iso(end), emulator=emulator)
    assert done.returncode == 0, done.stderr
    assert f"[{len(expected_range(emulator, start, end))} rows x 6 columns]" in done.stdout


# -- errors: one line on stderr, a non-zero status, and no request sent -------------------------

@pytest.mark.parametrize(("args", "message"), [
    (["--start", "not-a-date"], "start must be a date, datetime or Timestamp, not 'not-a-date'"),
    (["--start", "2026-02-01", "--end", "2026-01-31"], "end (2026-01-31) must be after start (2026-02-01)"),
    (["--start", "2026-02-01", "--end", "someday"], "end must be a date"),
    (["--end", "2026-01-31"], "--end needs --start"),
    (["--chunksize", "10", "-o", "x.csv"], "--chunksize is for a time range streamed to a file"),
    (["--start", "2026-02-01", "--chunksize", "10"], "--chunksize is for a time range streamed to a file"),
    (["--start", "2026-02-01", "--chunksize", "0", "-o", "x.csv"], "chunksize must be a positive integer"),
    (["--errors", "ignore"], "argument --errors: invalid choice: 'ignore'"),
    (["--max-concurrency", "0"], "max_concurrency must be a positive integer"),
    (["--max-concurrency", "four"], "argument --max-concurrency: invalid int value: 'four'"),
    (["--page-size", "-5"], "page_size must be a positive integer"),
    (["--frobnicate"], "unrecognized arguments: --frobnicate"),
    (["-o", "events.json"], "-o takes a .csv or .parquet file"),
    (["-o", "folder/"], "a dataset folder needs a time range (--start)"),
])
def test_bad_fetch_arguments_are_one_line_without_a_request(emulator, tmp_path, args, message):
    done = subprocess.run([SCRIPT, "fetch", "purchase", *args], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env={"STATSIG_CONSOLE_API_KEY": emulator.api_key,
                                            "STATSIG_CONSOLE_API_URL": emulator.url})
    assert done.returncode != 0
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("statsig-pandas"), done.stderr
    assert message in lines[0]
    assert emulator.requests == []
    assert list(tmp_path.iterdir()) == []


def test_a_range_onto_an_existing_file_is_refused(emulator, tmp_path):
    out = tmp_path / "events.parquet"
    out.write_bytes(b"a previous single-file fetch")
    done = run("fetch", "purchase", "--start", "2026-01-01", "-o", out, emulator=emulator)
    assert done.returncode == 1
    assert done.stderr.strip() == (f"statsig-pandas: error: {out} is a file; a time range is written as a dataset "
                                   "folder: choose another path, or -o with .csv")
    assert out.read_bytes() == b"a previous single-file fetch"


def test_a_failed_fetch_leaves_no_file(emulator, tmp_path):
    start, end = middle_of(emulator)
    for out in (tmp_path / "events.csv", tmp_path / "window.csv"):
        ranged = ["--start", iso(start), "--end", iso(end)] if out.stem == "events" else []
        done = run("fetch", "purchase", *ranged, "-o", out, emulator=emulator, key="console-wrong")
        assert done.returncode == 1 and "Traceback" not in done.stderr and "401" in done.stderr
        assert len(done.stderr.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_the_output_folder_is_made_before_the_read_or_the_failure_is_one_line(emulator, tmp_path):
    done = run("fetch", "purchase", "-q", "-o", tmp_path / "new" / "events.csv", emulator=emulator)
    assert done.returncode == 0, done.stderr
    assert len(pd.read_csv(tmp_path / "new" / "events.csv")) == len(emulator.events("purchase"))
    (tmp_path / "a-file").write_text("")
    emulator.requests.clear()
    done = run("fetch", "purchase", "-o", tmp_path / "a-file" / "events.csv", emulator=emulator)
    assert done.returncode == 1
    assert re.fullmatch(r"statsig-pandas: error: \[Errno \d+\] .+: '.+a-file'\n", done.stderr), done.stderr
    assert emulator.requests == []


def test_an_interrupted_fetch_says_so_in_one_line_and_leaves_no_file(tmp_path):
    with StatsigEmulator(n_events=3000, seed=2, latency=0.3) as slow:
        start, end = middle_of(slow)
        out = tmp_path / "events.csv"
        env = {"STATSIG_CONSOLE_API_KEY": slow.api_key, "STATSIG_CONSOLE_API_URL": slow.url}
        fetch = subprocess.Popen([SCRIPT, "fetch", "purchase", "--start", iso(start), "--end", iso(end),
                                  "--page-size", "10", "--max-concurrency", "1", "-q", "-o", str(out)], env=env,
                                 stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not slow.requests and time.monotonic() < deadline:  # the read has begun
            time.sleep(0.05)
        fetch.send_signal(signal.SIGINT)
        _, stderr = fetch.communicate(timeout=60)
    assert fetch.returncode == 130
    assert stderr == "statsig-pandas: interrupted\n"
    assert list(tmp_path.iterdir()) == []


# -- report and demo: one command, two spellings ------------------------------------------------

def test_report_needs_names_unless_demo(tmp_path):
    done = run("report", "-o", tmp_path / "r.html")
    assert done.returncode == 1
    assert done.stderr.strip() == "statsig-pandas: error: report needs event names (or --demo)"


@pytest.mark.parametrize("command", [["demo"], ["report", "--demo", "-o", "r.html"]])
def test_demo_takes_the_options_of_report(command, tmp_path):
    done = run(*command, "--top", "many")
    assert done.returncode == 2
    assert "argument --top: invalid int value: 'many'" in done.stderr
    assert len(done.stderr.splitlines()) == 1


@pytest.mark.notebook
def test_demo_command_shows_progress_and_prints_the_path(demo_report):
    assert demo_report.returncode == 0, demo_report.stderr
    assert f"Report written to {demo_report.path.resolve()}" in demo_report.stdout
    assert re.search(r"report: 100%.*\b(\d+)/\1\b", demo_report.stderr)  # a bar over the cells, finished


@pytest.mark.notebook
def test_cli_report_failure_is_one_line_without_traceback(tmp_path):
    out = tmp_path / "bad.html"
    done = subprocess.run([sys.executable, "-m", "statsig_pandas.cli", "report", "purchase", "--demo",
                           "--tz", "Mars/Olympus_Mons", "-q", "-o", str(out)],
                          check=False, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert re.search(r"statsig-pandas: error: report cell \d+ of \d+ \(section '.+'.*Mars/Olympus_Mons", done.stderr)
    assert not out.exists()
