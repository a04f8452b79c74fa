"""Helpers the test suites share (on the path through pytest's ``pythonpath``)."""

from __future__ import annotations

import os
import subprocess

import pytest


def unavailable(reason: str, *, in_ci: str) -> None:
    """Skip where a tool the test needs cannot run; under CI, which must run every test, fail."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} ({in_ci})", pytrace=False)
    pytest.skip(reason)


def stop(process: subprocess.Popen, *, timeout: float = 10) -> None:
    """Terminate a server we started and reap it (an un-waited child stays a zombie)."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
