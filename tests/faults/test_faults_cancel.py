"""The first error, or Ctrl-C, stops a read: no request starts after it, and the call ends within a timeout."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from faults.helpers import DAY, T0, opts
from faults.rawhttp import wait_for

from statsig_pandas import AuthenticationError, RetryPolicy, read_events
from statsig_pandas.testing import StatsigEmulator

# Backoff far shorter than a timeout: what keeps a read going after it should stop is retries, not sleeps.
RETRIES = RetryPolicy(max_attempts=5, backoff_base=0.05, backoff_cap=0.1, jitter=lambda: 0.0)

INTERRUPTED = textwrap.dedent("""
    import sys
    from statsig_pandas import RetryPolicy, read_events
    url, key = sys.argv[1:]
    try:
        read_events("purchase", api_key=key, base_url=url, page_size=10, max_concurrency=4, timeout=1,
                    progress=True, retry=RetryPolicy(max_attempts=5, backoff_base=0.05, backoff_cap=0.1))
    except KeyboardInterrupt:
        print("KeyboardInterrupt reached the caller", flush=True)
        raise
    print("the read finished", flush=True)
""")

INTERRUPTED_PARQUET = textwrap.dedent("""
    import sys
    import pandas as pd
    from statsig_pandas import RetryPolicy, to_parquet
    url, key, path, start, end = sys.argv[1:]
    try:
        to_parquet("purchase", path, start=pd.Timestamp(int(start), unit="ms", tz="UTC"),
                   end=pd.Timestamp(int(end), unit="ms", tz="UTC"), chunksize=50, api_key=key, base_url=url,
                   timeout=1, progress=False, retry=RetryPolicy(max_attempts=5, backoff_base=0.05, backoff_cap=0.1))
    except KeyboardInterrupt:
        print("KeyboardInterrupt reached the caller", flush=True)
        raise
    print("the run finished", flush=True)
""")


def slow_pages(emu, pages, *, delay: float) -> None:
    """Every request for these pages takes ``delay`` s to answer (longer than the reader's timeout)."""
    for page in pages:
        emu.inject("slow", page=page, delay=delay, times=100)


def requests_after(emu, moment: float) -> int:
    return sum(r.received > moment for r in emu.requests)


@pytest.mark.timeout(60)
def test_no_request_starts_after_an_error_on_one_page():
    with StatsigEmulator(n_events=3000, seed=2) as emu:
        emu.inject("status", status=401, page=2)
        slow_pages(emu, range(3, 30), delay=2.0)
        began = time.monotonic()
        with pytest.raises(AuthenticationError):
            read_events("purchase", page_size=10, max_concurrency=4, timeout=0.5, retry=RETRIES, **opts(emu))
        raised = time.monotonic()
        assert raised - began < 1.5  # the error is the call's answer at once, not after the slow pages
        time.sleep(3)  # long enough for several retries of the slow pages, had they gone on
        assert requests_after(emu, raised + 0.05) == 0, [(r.query, r.fault) for r in emu.requests]


def interrupt(emu, args: list[str], *, after_requests: int) -> tuple[str, str, int, int, float]:
    """Run a script, Ctrl-C it once the emulator saw ``after_requests`` requests; what followed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATSIG_")}
    process = subprocess.Popen([sys.executable, "-c", *args], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: len(emu.requests) >= after_requests, timeout=30)
        time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        interrupted = time.monotonic()
        try:
            out, err = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate(timeout=10)
        lived = time.monotonic() - interrupted
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return out, err, process.returncode, requests_after(emu, interrupted + 0.1), lived


@pytest.mark.timeout(60)
def test_ctrl_c_stops_every_request_and_reaches_the_caller_as_keyboard_interrupt():
    with StatsigEmulator(n_events=3000, seed=2) as emu:
        slow_pages(emu, range(2, 60), delay=3.0)
        # page 1, then four slow pages at once
        out, err, status, late, lived = interrupt(emu, [INTERRUPTED, emu.url, emu.api_key], after_requests=5)
    assert "KeyboardInterrupt reached the caller" in out, err[-2000:]
    assert "the read finished" not in out
    assert status != 0
    assert late == 0, f"{late} request(s) started after Ctrl-C"
    assert lived < 2.5, f"the process lived {lived:.1f} s after Ctrl-C"


@pytest.mark.timeout(60)
def test_ctrl_c_during_to_parquet_stops_every_request(tmp_path):
    with StatsigEmulator.for_logs(4000, start_ms=T0, end_ms=T0 + 3 * DAY, seed=2, max_limit=100) as emu:
        for page in range(2, 60):  # every chain's first page is quick, the rest slower than the timeout
            emu.inject("slow", path="/console/v1/logs", page=page, delay=3.0, times=100)
        args = [INTERRUPTED_PARQUET, emu.url, emu.api_key, str(tmp_path / "ds"), str(T0), str(T0 + 3 * DAY)]
        out, err, status, late, lived = interrupt(emu, args, after_requests=6)
    assert "KeyboardInterrupt reached the caller" in out, err[-2000:]
    assert status != 0
    assert late == 0, f"{late} request(s) started after Ctrl-C"
    assert lived < 2.5, f"the process lived {lived:.1f} s after Ctrl-C"
