"""What the benchmarks share: peak RSS, an emulator in its own process, and the PASS/MISS report."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

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
