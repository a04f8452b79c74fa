"""The event browser in a real JupyterLab and a real (headless) Chromium, driven as a user would.

The notebook next to this file builds a browser over events read from the
emulator, then the live variant. The test changes filters, pages and exports
through the page, opens the analysis views and changes a funnel step, and
checks what the page shows: the summary, the charts, the tables, the
messages, and that no request left the machine. A screenshot of each view is
kept under ``artifacts/``.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest

from statsig_pandas import funnels
from statsig_pandas.decode import convert_dicts
from statsig_pandas.frame import build_frame
from statsig_pandas.testing import synthetic_events

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(240)]

NOTEBOOK = Path(__file__).with_name("event_browser.ipynb")
# Only this status-bar name proves a kernel is up: the toolbar says "idle" before one exists.
KERNEL_IDLE = "Python 3 (ipykernel) | Idle"


@pytest.fixture(scope="module")
def served() -> pd.DataFrame:
    """What the notebook's emulator serves (same size and seed), to know the right answers."""
    return pd.DataFrame(synthetic_events(3000, seed=7))


def _rendered(locator, *, timeout: float = 15) -> bytes:
    """The pixels of a loaded image element."""
    deadline = time.monotonic() + timeout
    while not locator.evaluate("img => img.complete && img.naturalWidth > 0"):
        if time.monotonic() > deadline:
            raise AssertionError("the chart image never loaded")
        time.sleep(0.1)
    return locator.screenshot()


def _changed(locator, before: bytes, *, timeout: float = 15) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        now = _rendered(locator, timeout=timeout)
        if now != before:
            return now
        if time.monotonic() > deadline:
            raise AssertionError("the chart did not change")
        time.sleep(0.2)


def test_filter_page_export_and_fetch_in_jupyterlab(jupyterlab, chromium, served, artifacts):
    from playwright.sync_api import expect

    purchases = served[served["name"] == "purchase"]
    mine = purchases[purchases["userID"].str.contains("0001")]
    shutil.copy(NOTEBOOK, jupyterlab.root / NOTEBOOK.name)
    page = chromium.page
    try:
        page.goto(jupyterlab.notebook_url(NOTEBOOK.name))
        page.get_by_role("button", name=KERNEL_IDLE, exact=True).wait_for(timeout=60_000)
        page.locator(".lm-MenuBar-item", has_text="Run").click()
        page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()

        browser = page.locator(".jp-Cell").nth(1).locator(".statsig-browser")
        summary = browser.locator(".statsig-browser-summary")
        expect(summary).to_contain_text("3,000 events", timeout=45_000)
        timeline = browser.locator(".statsig-browser-timeline")
        top_values = browser.locator(".statsig-browser-top-values")
        timeline_before, top_before = _rendered(timeline), _rendered(top_values)

        # Pick an event name from the drop-down.
        browser.locator(".statsig-browser-name select").select_option(label="purchase")
        users = purchases["userID"].nunique()
        expect(summary).to_contain_text(f"{len(purchases):,} events · {users:,} users")
        expect(summary).to_contain_text("of 3,000")
        timeline_after = _changed(timeline, timeline_before)
        _changed(top_values, top_before)
        browser.locator(".statsig-browser-name").evaluate("e => e.scrollIntoView({block: 'start'})")
        page.screenshot(path=artifacts / "jupyterlab-event-browser.png")

        # Type a user ID key by key: each keystroke is a change, the redraw follows the last.
        browser.locator(".statsig-browser-user input").press_sequentially("0001", delay=40)
        expect(summary).to_contain_text(f"{len(mine):,} events · 1 user")
        _changed(timeline, timeline_after)

        # Page through the matching rows.
        table_rows = browser.locator(".statsig-browser-table tbody tr")
        label = browser.locator(".statsig-browser-page-label")
        expect(label).to_contain_text(f"rows 1–20 of {len(mine):,}")
        expect(table_rows).to_have_count(20)
        first_row = table_rows.first.inner_text()
        assert "purchase" in first_row and "0001" in first_row
        browser.locator("button.statsig-browser-next").click()
        expect(label).to_contain_text(f"rows 21–40 of {len(mine):,}")
        assert table_rows.first.inner_text() != first_row

        # Export what is shown.
        browser.locator("button.statsig-browser-export").click()
        message = browser.locator(".statsig-browser-message")
        expect(message).to_contain_text(f"Wrote {len(mine):,} events to")
        written = Path(re.search(r"to (\S+\.csv)", message.inner_text()).group(1))
        assert written.parent == jupyterlab.root.resolve()
        exported = pd.read_csv(written, dtype=str, keep_default_na=False)
        assert len(exported) == len(mine)
        assert set(exported["name"]) == {"purchase"} and set(exported["userID"]) == {"0001"}

        _analysis_views(page, browser, summary, artifacts)

        # The live variant: an unknown event is a readable message, a known one a browser.
        live = page.locator(".statsig-live")
        names = live.locator(".statsig-live-names input")
        names.fill("no_such_event")
        live.locator("button.statsig-live-fetch").click()
        expect(live.locator(".statsig-live-status")).to_contain_text("no such event", timeout=30_000)
        names.fill("purchase")
        live.locator("button.statsig-live-fetch").click()
        expect(live.locator(".statsig-live-status")).to_contain_text(f"read {len(purchases):,} events",
                                                                     timeout=30_000)
        expect(live.locator(".statsig-live-progress-label")).to_contain_text(
            f"{len(purchases):,} / {len(purchases):,} events")
        expect(live.locator(".statsig-browser-summary")).to_contain_text(f"{len(purchases):,} events")
        assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
    finally:
        page.screenshot(path=artifacts / "jupyterlab-event-browser-last.png")
    assert chromium.foreign_requests() == []


def _cells(table) -> list[list[str]]:
    return [[td.strip() for td in row.split("\t")] for row in table.locator("tbody tr").all_inner_texts()]


def _analysis_views(page, browser, summary, artifacts) -> None:
    """Back to every event; open each analysis view (a screenshot of each), then change a funnel step
    through its drop-down and check that the table shows the new funnel's numbers."""
    from playwright.sync_api import expect

    frame, _ = build_frame([convert_dicts(synthetic_events(3000, seed=7), page=1)])
    browser.locator(".statsig-browser-name select").select_option(label="all events")
    browser.locator(".statsig-browser-user input").fill("")
    expect(summary).to_contain_text("3,000 events · ")
    expect(summary).not_to_contain_text("of 3,000")
    tabs = browser.locator(".statsig-browser-tabs .lm-TabBar-tab")
    expect(tabs).to_have_text(["Explore", "Funnel", "Retention", "Lifecycle", "Paths"])
    for title in ("Retention", "Lifecycle", "Paths", "Funnel"):
        tabs.filter(has_text=title).click()
        view = browser.locator(f".statsig-browser-{title.lower()}")
        chart = view.locator(f".statsig-{title.lower()}-chart")
        _rendered(chart, timeout=30)
        expect(view.locator(f".statsig-{title.lower()}-table table")).to_be_visible()
        view.evaluate("e => e.scrollIntoView({block: 'start'})")
        page.screenshot(path=artifacts / f"jupyterlab-event-browser-{title.lower()}.png")

    funnel = browser.locator(".statsig-browser-funnel")
    table = funnel.locator(".statsig-funnel-table table")
    steps = [funnel.locator(f".statsig-funnel-step-{k} select").input_value() for k in (1, 2, 3)]
    names = [funnel.locator(f".statsig-funnel-step-{k} select option:checked").inner_text() for k in (1, 2, 3)]
    expected = funnels.funnel(frame, names, within="1D")
    assert steps and [row[1] for row in _cells(table)] == names
    assert [row[2] for row in _cells(table)] == [f"{u:,}" for u in expected["units"]]
    chart = funnel.locator(".statsig-funnel-chart")
    before = _rendered(chart)

    # A user picks another second step in the page.
    second = next(n for n in ("page_view", "add_to_cart", "purchase") if n != names[1])
    funnel.locator(".statsig-funnel-step-2 select").select_option(label=second)
    expected = funnels.funnel(frame, [names[0], second, names[2]], within="1D")
    expect(table.locator("tbody tr").nth(1)).to_contain_text(second)
    assert [row[2] for row in _cells(table)] == [f"{u:,}" for u in expected["units"]]
    _changed(chart, before)
    funnel.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.screenshot(path=artifacts / "jupyterlab-event-browser-funnel-changed.png")

    # And the shared filters reach the funnel: the source drop-down above the tabs.
    source = sorted(frame["source"].unique())[0]
    browser.locator(".statsig-browser-source select").select_option(label=source)
    expected = funnels.funnel(frame[frame["source"] == source], [names[0], second, names[2]], within="1D")
    expect(table.locator("tbody tr").first).to_contain_text(f"{expected['units'].iloc[0]:,}")
    assert [row[2] for row in _cells(table)] == [f"{u:,}" for u in expected["units"]]
    tabs.filter(has_text="Explore").click()
    browser.locator(".statsig-browser-source select").select_option(label="all sources")
