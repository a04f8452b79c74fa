"""A script that used the event browser exits cleanly, whatever redraw was still waiting."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from statsig_pandas import read_events
from statsig_pandas.testing import StatsigEmulator

# Two browsers, a filter changed on each, then the script ends: at once (both redraws still waiting for
# their debounce), or while the first redraw draws its charts (it sets the summary first). Either way an
# interpreter shutting down must not tear Arrow and matplotlib down under a redraw; at exit (atexit runs
# once the interpreter has waited for its threads) the waiting redraws have run.
SCRIPT = textwrap.dedent("""
    import atexit
    import sys
    import time
    import matplotlib
    matplotlib.use("Agg")
    import pandas as pd
    from statsig_pandas.browser import EventBrowser

    frame = pd.read_pickle(sys.argv[1])
    first, second = EventBrowser(frame), EventBrowser(frame)
    before = first.views.summary.value
    first.controls.name.value = "purchase"
    second.controls.user.value = "1"
    drawn = first.redraws, second.redraws
    atexit.register(lambda: print("redrawn before exit:", first.redraws - drawn[0], second.redraws - drawn[1]))
    if sys.argv[2] == "while-drawing":
        deadline = time.monotonic() + 60
        while first.views.summary.value == before and time.monotonic() < deadline:
            time.sleep(0.001)
""")


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_a_script_that_changed_a_browser_filter_exits_with_status_0_every_time(tmp_path):
    with StatsigEmulator(n_events=3000, seed=3) as emu:
        names = sorted({e["name"] for e in emu.events()})
        read_events(names, api_key=emu.api_key, base_url=emu.url, progress=False).to_pickle(tmp_path / "events.pkl")
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATSIG_")}
    failures = []
    for run in range(20):
        when = "while-drawing" if run % 2 else "at-once"
        done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "events.pkl"), when], env=env,
                              capture_output=True, text=True, timeout=120)
        if done.returncode != 0 or "redrawn before exit: 1 1" not in done.stdout:
            failures.append((run, when, done.returncode, done.stdout[-200:], done.stderr[-300:]))
    assert failures == []
