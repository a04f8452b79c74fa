"""Shared fixtures: a real emulator of the Console API on 127.0.0.1."""

from __future__ import annotations

import os

import matplotlib
import pytest

matplotlib.use("Agg")

from statsig_pandas.testing import StatsigEmulator  # noqa: E402


@pytest.fixture(autouse=True)
def _no_ambient_statsig_env(monkeypatch):
    """Tests never read a developer's real key or URL from the environment."""
    monkeypatch.delenv("STATSIG_CONSOLE_API_KEY", raising=False)
    monkeypatch.delenv("STATSIG_CONSOLE_API_URL", raising=False)


@pytest.fixture
def emulator():
    """A fresh emulator with 1,000 synthetic events (three event names)."""
    with StatsigEmulator(n_events=1000, seed=1) as emu:
        yield emu


@pytest.fixture
def api(emulator, monkeypatch):
    """Point the reader at the emulator through the environment, as a user would."""
    monkeypatch.setenv("STATSIG_CONSOLE_API_KEY", emulator.api_key)
    monkeypatch.setenv("STATSIG_CONSOLE_API_URL", emulator.url)
    return emulator


@pytest.fixture
def make_events():
    """Build a frame of the reader's dtypes from ``(time, name, source, value, userID)`` tuples,
    through the reader's own frame builder (times: anything ``pd.Timestamp`` reads, as UTC)."""
    import pandas as pd

    from statsig_pandas.decode import convert_dicts
    from statsig_pandas.frame import build_frame

    def epoch_ms(t) -> str:
        t = pd.Timestamp(t)
        return str((t.tz_localize("UTC") if t.tz is None else t).value // 10**6)

    def make(rows):
        records = [{"timestamp": epoch_ms(t), "name": name, "source": source, "value": value, "userID": user,
                    "metadata": {}} for t, name, source, value, user in rows]
        return build_frame([convert_dicts(records, page=1)])[0]

    return make


@pytest.fixture(scope="session")
def demo_report(tmp_path_factory):
    """What `make demo` runs (`statsig-pandas demo`), once per session: it takes a kernel run.

    The finished process, with ``.path`` the report it wrote.
    """
    import subprocess
    import sys

    path = tmp_path_factory.mktemp("report") / "demo.html"
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATSIG_")}
    done = subprocess.run([sys.executable, "-m", "statsig_pandas.cli", "demo", "-o", str(path)], env=env,
                          capture_output=True, text=True, timeout=300)
    done.path = path
    return done


@pytest.fixture
def close_figures():
    """pyplot, every figure closed after the test."""
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")
