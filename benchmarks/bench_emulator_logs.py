"""How fast the emulator serves ``GET /console/v1/logs`` from a big store.

    .venv/bin/python benchmarks/bench_emulator_logs.py [--quick] [--events 2000000] [--latency 0.02] [--clients 8]

1. Builds a store of ``--events`` events over 30 days with numpy (time, bytes).
2. Times one request of 1000 rows in process: the indexed store (binary
   search of the window, then render ``limit`` rows) against a naive
   baseline that scans every event per request (vectorised with numpy, so
   a generous baseline), and prints the ratio.
3. Serves the store over HTTP from its own process and measures requests/s:
   one client without latency, then 1 and ``--clients`` client processes
   walking day windows with cursors at ``--latency`` seconds per answer,
   against the ideal ``clients / latency``.

``--big`` also builds a 10,000,000-event store and reports its build time
and size; ``--quick`` serves 500,000 events to 4 clients for 2 s each.

Targets, what ``statsig_pandas.testing.logs`` promises: a request costs a binary search plus ``limit``
rows whatever the size of the store, so on 2,000,000 events the indexed request is at least 10x
faster than the full scan (CPU time, which a busy machine moves less than wall time); and a store
builds at 2,000,000 events a CPU second or more. The HTTP figures are printed, not targets: on two cores
the clients and the server share the CPU. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import orjson
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Targets

from statsig_pandas.testing import StatsigEmulator
from statsig_pandas.testing.logs import LOGS_PATH, LogsEndpoint, LogStore, event_name_filter

DAY_MS = 86_400_000
END_MS = 1_790_000_000_000  # a fixed span, so every run serves the same events
START_MS = END_MS - 30 * DAY_MS
NAME = "add_to_cart"
MIN_INDEX_SPEEDUP, MIN_BUILD_RATE = 10.0, 2_000_000


def naive_answer(store: LogStore, name: str, start: int, end: int, offset: int, limit: int) -> bytes:
    """What an emulator without an index does: look at every event, keep the window's, sort, slice."""
    code = store.names.index(name)
    name_of = np.searchsorted(store.bounds, np.arange(len(store)), side="right") - 1
    hits = np.flatnonzero((name_of == code) & (store.ts >= start) & (store.ts < end))
    hits = hits[np.lexsort((-hits, -store.ts[hits]))]  # newest first, ties by id (ids follow rows here)
    return orjson.dumps({"data": store.log_items(hits[offset:offset + limit])})


def timed(fn, repeat: int) -> tuple[float, float]:
    """Median wall seconds of ``fn()`` over ``repeat`` runs, and CPU seconds per run (less sensitive to a busy
    machine)."""
    times = []
    cpu = time.process_time()
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), (time.process_time() - cpu) / repeat


def serve(conn, n_events: int, latency: float) -> None:
    """Child process: build the store, serve it, report the URL, wait to be told to stop."""
    with StatsigEmulator.for_logs(n_events, start_ms=START_MS, end_ms=END_MS, seed=1, latency=latency) as emu:
        conn.send((emu.url, emu.api_key))
        conn.recv()


def walk_windows(url: str, key: str, windows: list, deadline: float) -> tuple[int, int]:
    """Client process: walk each window's cursor chain until done or out of time; (requests, rows)."""
    session = requests.Session()
    session.headers["STATSIG-API-KEY"] = key
    count = rows = 0
    for start, end in windows:
        params = {"source": "events", "query": event_name_filter(NAME), "start_ts": start, "end_ts": end,
                  "limit": 1000}
        while time.monotonic() < deadline:
            answer = session.get(url + LOGS_PATH, params=params, timeout=30)
            answer.raise_for_status()
            body = orjson.loads(answer.content)
            count, rows = count + 1, rows + len(body["data"])
            if not body["pagination"]["has_more"]:
                break
            params["after"] = body["pagination"]["next_cursor"]
    return count, rows


def throughput(n_events: int, latency: float, clients: int, seconds: float) -> tuple[float, float]:
    """Requests/s and rows/s served to ``clients`` processes walking day windows."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    server = ctx.Process(target=serve, args=(child, n_events, latency), daemon=True)
    server.start()
    url, key = parent.recv()
    try:
        days = [(START_MS + d * DAY_MS, START_MS + (d + 1) * DAY_MS) for d in range(30)]
        with ctx.Pool(clients) as pool:
            pool.apply(walk_windows, (url, key, days[:1], time.monotonic() + 1))  # warm up
            deadline = time.monotonic() + seconds
            start = time.monotonic()
            results = pool.starmap(walk_windows, [(url, key, days[i::clients], deadline) for i in range(clients)])
            elapsed = time.monotonic() - start
    finally:
        parent.send("stop")
        server.join(10)
    return sum(r[0] for r in results) / elapsed, sum(r[1] for r in results) / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--big", action="store_true", help="also build a 10,000,000-event store")
    parser.add_argument("--quick", action="store_true", help="500,000 events, 4 clients, 2 s a measure")
    args = parser.parse_args()
    if args.quick:
        args.events, args.clients, args.seconds = 500_000, 4, 2.0
    print(f"cores: {os.cpu_count()}; events: {args.events:,} over 30 days")

    start, cpu = time.perf_counter(), time.process_time()
    store = LogStore.synthetic(args.events, start_ms=START_MS, end_ms=END_MS, seed=1)
    build, build_cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"build: {build:.2f} s ({build_cpu:.2f} s CPU), {store.nbytes / 1e6:.0f} MB of columns "
          f"({store.nbytes / len(store):.1f} bytes/event)")
    if args.big:
        start = time.perf_counter()
        big = LogStore.synthetic(10_000_000, start_ms=START_MS, end_ms=END_MS, seed=2)
        print(f"build 10,000,000: {time.perf_counter() - start:.2f} s, {big.nbytes / 1e6:.0f} MB of columns, "
              f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
        del big

    endpoint = LogsEndpoint(store=store)
    day = (START_MS + 10 * DAY_MS, START_MS + 11 * DAY_MS)
    request = endpoint.parse({"source": "events", "query": event_name_filter(NAME), "start_ts": str(day[0]),
                              "end_ts": str(day[1]), "limit": "1000"})
    (indexed, indexed_cpu), (naive, naive_cpu) = (timed(lambda: endpoint.answer(store, request), 200),
                                                  timed(lambda: naive_answer(store, NAME, *day, 0, 1000), 10))
    print(f"one request of 1000 rows, in process: indexed {indexed * 1e3:.2f} ms ({indexed_cpu * 1e3:.2f} ms CPU), "
          f"full scan {naive * 1e3:.1f} ms ({naive_cpu * 1e3:.1f} ms CPU): indexed is {naive / indexed:.0f}x faster")

    rps, _ = throughput(args.events, 0.0, 1, min(args.seconds, 3))
    print(f"over HTTP, 1 client, no latency: {rps:.0f} requests/s ({1e3 / rps:.1f} ms a request, client included)")
    for clients in sorted({1, args.clients}):
        rps, rows = throughput(args.events, args.latency, clients, args.seconds)
        ideal = clients / args.latency
        print(f"over HTTP, {clients} client(s), {args.latency * 1e3:.0f} ms latency: {rps:.0f} requests/s, "
              f"{rows:,.0f} rows/s ({rps / ideal:.0%} of the ideal {ideal:.0f} requests/s)")

    targets = Targets()
    if args.events >= 2_000_000:  # the full scan grows with the store; on a small one the ratio says little
        targets.check(f"indexed vs full scan, {args.events:,} events (CPU)", naive_cpu / indexed_cpu,
                      MIN_INDEX_SPEEDUP, at_least=True)
    targets.check("store build rate (CPU)", len(store) / build_cpu / 1e6, MIN_BUILD_RATE / 1e6, at_least=True,
                  unit="M events/s")
    return targets.report()


if __name__ == "__main__":
    sys.exit(main())
