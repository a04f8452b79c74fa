"""A script that used the event browser exits cleanly, whatever redraw was still waiting."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import time
    import matplotlib
    matplotlib.use("Agg")
    from statsig_pandas import read_events
    from statsig_pandas.browser import EventBrowser
    from statsig_pandas.testing import StatsigEmulator

    with StatsigEmulator(n_events=3000, seed=3) as emu:
        names = sorted({e["name"] for e in emu.events()})
        frame = read_events(names, api_key=emu.api_key, base_url=emu.url, progress=False)
    first, second = EventBrowser(frame), EventBrowser(frame)
    before = first.views.summary.value
    first.controls.name.value = "purchase"
    second.controls.user.value = "1"
    # The redraw sets the summary first, then draws the charts: exit while it draws them.
    deadline = time.monotonic() + 60
    while first.views.summary.value == before and time.monotonic() < deadline:
        time.sleep(0.001)
""")


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_script_that_changed_a_browser_filter_exits_with_status_0_every_time():
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATSIG_")}
    failures = []
    for run in range(20):
        done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            failures.append((run, done.returncode, done.stderr[-300:]))
    assert failures == []
