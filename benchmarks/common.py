"""What the benchmarks share: peak RSS, the peak a call allocates, an emulator in its own process, and the
PASS/MISS report."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import threading
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

KEY_ENV = "BENCH_EMULATOR_KEY"


def _status(field: str) -> int:
    with open("/proc/self/status") as status:
        return int(re.search(rf"^{field}:\s+(\d+) kB", status.read(), re.M).group(1)) * 1024


def reset_peak_rss() -> int:
    """Forget the peak so far (a child inherits its parent's across fork and exec); return the RSS now."""
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    return _status("VmRSS")


def peak_rss() -> int:
    return _status("VmHWM")


_PROXIES: list = []


def allocated_peak(fn: Callable[[], Any]) -> tuple[int, Any]:
    """Call ``fn`` once; return the most memory it held at once above what was held before, and its result.

    Counted as allocations, not RSS (which misses memory an earlier call freed and the allocator kept
    for reuse): NumPy buffers and Python objects through ``tracemalloc``, Arrow's buffers (which
    ``tracemalloc`` does not see) through a proxy pool set as the default for the call. Their sum is
    sampled every millisecond; the peak is the largest sample, or either one's own exact peak if larger.
    """
    import pyarrow as pa

    original = pa.default_memory_pool()
    proxy = pa.proxy_memory_pool(original)
    _PROXIES.append(proxy)  # buffers it handed out may outlive the call: freeing them needs the proxy
    pa.set_memory_pool(proxy)
    stop, high = threading.Event(), [0]

    def sample() -> None:
        while not stop.wait(0.001):
            high[0] = max(high[0], tracemalloc.get_traced_memory()[0] + proxy.bytes_allocated())

    tracemalloc.start()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = fn()
        _, traced = tracemalloc.get_traced_memory()
    finally:
        stop.set()
        sampler.join()
        tracemalloc.stop()
        pa.set_memory_pool(original)
    return max(high[0], traced, proxy.max_memory()), result


@contextmanager
def emulator_process(code: str) -> Iterator[tuple[str, str]]:
    """Run ``code`` (which must print the emulator's URL, then wait for stdin to close) in its own
    process, so that serving does not share the client's interpreter; yield (url, key)."""
    key = "bench-" + secrets.token_hex(8)
    server = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env={**os.environ, KEY_ENV: key})
    try:
        url = server.stdout.readline().strip()
        if not url:
            raise RuntimeError("the emulator process did not start")
        yield url, key
    finally:
        server.stdin.close()
        server.wait(timeout=60)


class Targets:
    """Collects target checks and prints them as PASS/MISS lines."""

    def __init__(self):
        self.missed = 0
        self.lines: list[str] = []

    def check(self, label: str, value: float, limit: float, *, at_least: bool, unit: str = "x") -> None:
        ok = value >= limit if at_least else value <= limit
        self.missed += not ok
        sign = ">=" if at_least else "<="
        self.lines.append(f"  {'PASS' if ok else 'MISS'}  {label}: {value:.2f}{unit} ({sign} {limit:g}{unit})")

    def report(self) -> int:
        print("targets:")
        print("\n".join(self.lines))
        return 1 if self.missed else 0


def mb(n: float) -> str:
    return f"{n / 1e6:,.0f} MB"
