"""The demo report as a reader sees it: opened from disk in headless Debian Chromium, offline.

Uses this folder's Chromium fixtures (Debian's binary, requests recorded) and
the session's rendered demo report (tests/conftest.py). The screenshot is kept
in artifacts/report-demo.png.
"""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.notebook]

SECTIONS = ["Summary", "Events over time", "Unique users", "Top values", "When users are active", "Funnel",
            "Retention", "Lifecycle", "Top paths", "Event browser"]


def test_report_renders_offline_with_every_section_visible(demo_report, chromium, artifacts):
    from playwright.sync_api import expect

    assert demo_report.returncode == 0, demo_report.stderr
    page = chromium.page
    page.goto(demo_report.path.as_uri())
    page.wait_for_load_state("load")
    page.screenshot(path=str(artifacts / "report-demo.png"), full_page=True)

    expect(page.get_by_role("heading", name="Statsig events: page_view, add_to_cart, purchase")).to_be_visible()
    for name in SECTIONS:
        expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
    expect(page.locator(".sp-provenance-table")).to_contain_text("Window covered")
    expect(page.locator("table.dataframe").first).to_be_visible()
    expect(page.locator(".statsig-browser-static")).to_be_visible()

    images = page.evaluate("() => Array.from(document.images).map(i => [i.complete, i.naturalWidth])")
    assert len(images) >= 9
    assert all(complete and width > 0 for complete, width in images), images  # every image decoded
    # Nothing is fetched: not a script, style sheet, font or image from any host.
    assert [u for u in chromium.requests if not u.startswith(("file://", "data:"))] == []
    assert chromium.requests[0] == demo_report.path.as_uri()
    # Readable at a laptop's width: nothing wider than the window.
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
