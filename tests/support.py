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


def event_frame(rows, *, tz="UTC"):
    """A frame of the reader's dtypes from ``(user, time, name)`` or ``(user, time, name, extra)``
    tuples, in the order given (no sort: tests of ordering need rows out of time order). ``extra``
    is a dict of ``value``, ``source`` and ``metadata``; times are anything ``pd.Timestamp`` reads,
    naive ones in UTC; a user of None is a missing ID."""
    import pandas as pd

    from statsig_pandas.frame import STRING_DTYPE

    rows = [tuple(r) + ({},) * (4 - len(r)) for r in rows]
    times = [pd.Timestamp(t) for _, t, _, _ in rows]
    times = [t.tz_localize("UTC") if t.tz is None else t.tz_convert("UTC") for t in times]
    names = [n for _, _, n, _ in rows]
    return pd.DataFrame({
        "timestamp": pd.Series(pd.DatetimeIndex(times, dtype="datetime64[ms, UTC]")).dt.tz_convert(tz),
        "name": pd.Categorical(names, categories=pd.Index(sorted(set(names)), dtype=STRING_DTYPE)),
        "source": pd.array([e.get("source", "js-client") for *_, e in rows], dtype=STRING_DTYPE),
        "value": pd.array([e.get("value", "") for *_, e in rows], dtype=STRING_DTYPE),
        "userID": pd.array([u for u, *_ in rows], dtype=STRING_DTYPE),
        "metadata": [e.get("metadata", {}) for *_, e in rows],
    })
