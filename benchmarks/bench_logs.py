"""Time-range reads through /console/v1/logs: concurrency speed-up, and Parquet streaming memory.

Run ``.venv/bin/python benchmarks/bench_logs.py`` (``--quick`` for a smaller run). It prints:

* the wall time of reading 2,000,000 events spread over 30 days from the emulator (in its own process,
  pages rendered up front, 20 ms added latency per request) with 1, 4 and 8 concurrent windows, and the
  ratio to 1 window;
* the peak RSS of ``to_parquet`` streaming 10,000,000 events into a day-partitioned dataset (in a fresh
  process, so that its peak is its own), against the naive approach of one ``read_events`` of the whole
  range followed by ``to_parquet`` of the frame (measured on a tenth of the events and scaled: it grows
  linearly with them, and holding ten million rows to prove it would take minutes).

Targets: at least 4x at 8 windows; peak RSS under 600 MB for 10,000,000 events. Exits 1 when one is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import KEY_ENV, Targets, emulator_process, mb, peak_rss, reset_peak_rss

DAY = 86_400_000
START_MS = 1_788_220_800_000  # 2026-09-01T00:00:00Z
NAMES = ("purchase",)
MIN_SPEEDUP_AT_8, MAX_PEAK_RSS = 4.0, 600e6

SERVE = """
import os, sys
from statsig_pandas.testing import StatsigEmulator
emu = StatsigEmulator.for_logs({n}, names={names!r}, start_ms={start}, end_ms={end}, latency={latency},
                               api_key=os.environ[{key!r}], seed=1, prerender={prerender})
with emu:
    print(emu.url, flush=True)
    sys.stdin.read()
"""


def serve(n: int, days: int, latency: float, prerender: bool = False) -> str:
    return SERVE.format(n=n, names=NAMES, start=START_MS, end=START_MS + days * DAY, latency=latency, key=KEY_ENV,
                        prerender=prerender)


def stamp(ms: int):
    import pandas as pd

    return pd.Timestamp(ms, unit="ms", tz="UTC")


def time_windows(n: int, days: int) -> dict[int, float]:
    from statsig_pandas import read_events

    seconds = {}
    # Pages are rendered up front: on two cores, a server spending 2 ms of Python a page would be
    # what this measured, not the reader.
    with emulator_process(serve(n, days, 0.02, prerender=True)) as (url, key):
        for concurrency in (1, 4, 8):
            start = time.perf_counter()
            df = read_events(list(NAMES), base_url=url, api_key=key, start=stamp(START_MS),
                             end=stamp(START_MS + days * DAY), max_concurrency=concurrency, progress=False)
            seconds[concurrency] = time.perf_counter() - start
            if len(df) != n:
                raise RuntimeError(f"read {len(df)} events, expected {n}")
            print(f"  {concurrency} window(s): {seconds[concurrency]:6.1f} s  "
                  f"({df.attrs['statsig']['pages_read']} requests)", flush=True)
    return seconds


def memory_worker(mode: str, url: str, key: str, days: int, target: str) -> None:
    """In a fresh process: stream (ours) or read-then-write (naive), and report the peak RSS."""
    import statsig_pandas as sp

    base = reset_peak_rss()
    options = dict(base_url=url, api_key=key, start=stamp(START_MS), end=stamp(START_MS + days * DAY),
                   progress=False)
    if mode == "stream":
        rows = sp.to_parquet(list(NAMES), target, chunksize=200_000, **options)["rows_written"]
    else:
        frame = sp.read_events(list(NAMES), **options)
        frame.assign(metadata=frame["metadata"].map(json.dumps)).to_parquet(Path(target) / "all.parquet")
        rows = len(frame)
    print(json.dumps({"base": base, "peak": peak_rss(), "rows": rows}))


def measure_memory(mode: str, n: int, days: int) -> dict:
    with emulator_process(serve(n, days, 0.0)) as (url, key), tempfile.TemporaryDirectory() as target:
        out = subprocess.run([sys.executable, __file__, "--memory-worker", mode, url, key, str(days), target],
                             check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200,000 and 1,000,000 events instead")
    parser.add_argument("--memory-worker", nargs=5, metavar=("MODE", "URL", "KEY", "DAYS", "TARGET"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_worker:
        mode, url, key, days, target = args.memory_worker
        memory_worker(mode, url, key, int(days), target)
        return 0
    read_n, stream_n = (200_000, 1_000_000) if args.quick else (2_000_000, 10_000_000)
    print(f"machine: {os.cpu_count()} cores; emulator in its own process")
    print(f"read {read_n:,} events over 30 days, 20 ms latency, limit 1000:")
    seconds = time_windows(read_n, 30)
    speedup = {c: seconds[1] / s for c, s in seconds.items()}
    print("  speed-up vs 1 window: " + ", ".join(f"{c}: {r:.1f}x" for c, r in speedup.items()))

    print(f"to_parquet of {stream_n:,} events over 30 days (chunks of 200,000):", flush=True)
    ours = measure_memory("stream", stream_n, 30)
    naive = measure_memory("naive", stream_n // 10, 30)
    print(f"  streaming: peak RSS {mb(ours['peak'])} for {ours['rows']:,} rows "
          f"(interpreter and imports: {mb(ours['base'])})")
    print(f"  naive read-then-write: peak RSS {mb(naive['peak'])} for {naive['rows']:,} rows, "
          f"so about {mb(naive['base'] + (naive['peak'] - naive['base']) * 10)} for {stream_n:,}")

    targets = Targets()
    targets.check("speed-up at 8 windows", speedup[8], MIN_SPEEDUP_AT_8, at_least=True)
    targets.check(f"streaming peak RSS for {stream_n:,} events", ours["peak"] / 1e6, MAX_PEAK_RSS / 1e6,
                  at_least=False, unit=" MB")
    return targets.report()


if __name__ == "__main__":
    sys.exit(main())
