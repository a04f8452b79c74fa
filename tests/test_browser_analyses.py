"""The browser's analysis views, kernel side: set the controls' values, check what each view computes and shows."""

from __future__ import annotations

import base64
import re
import time

import ipywidgets as widgets
import pandas as pd
import pytest

from statsig_pandas import engagement, funnels, journeys, retention
from statsig_pandas.browser import ALL, EventBrowser
from statsig_pandas.errors import StatsigError
from statsig_pandas.testing.synthetic import synthetic_frame

PNG = b"\x89PNG\r\n\x1a\n"
DAY_MS = 86_400_000


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return synthetic_frame(4_000, seed=4, end_ms=1_774_000_000_000, span_ms=21 * DAY_MS, users=300)


@pytest.fixture
def browser(events) -> EventBrowser:
    return EventBrowser(events, debounce=0)


def _same(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(ours, theirs, check_like=False)


def test_the_views_are_tabs_beside_the_explore_view_under_the_shared_filters(browser):
    tabs = [w for w in browser.widget.children if isinstance(w, widgets.Tab)]
    assert len(tabs) == 1
    assert tabs[0].titles == ("Explore", "Funnel", "Retention", "Lifecycle", "Paths")
    assert tabs[0].selected_index == 0 and browser.analyses.shown is None
    # The filters sit above the tabs, so every view follows them.
    shared = browser.widget.children[: browser.widget.children.index(tabs[0])]
    assert browser.controls.name in shared[0].children[0].children
    assert browser.controls.time_range in shared[1].children


def test_funnel_steps_window_and_order_drive_the_result(browser, events):
    view = browser.analyses.select("funnel")
    c = view.controls
    assert view.steps == ["add_to_cart", "purchase", "page_view"]  # the most frequent names first
    _same(view.result, funnels.funnel(events, view.steps, within="1D"))
    before = bytes(view.chart.value)
    c["step_2"].value = "page_view"
    c["step_3"].value = ALL  # the "—" choice: no step
    assert view.steps == ["add_to_cart", "page_view"]
    _same(view.result, funnels.funnel(events, ["add_to_cart", "page_view"], within="1D"))
    assert bytes(view.chart.value).startswith(PNG) and bytes(view.chart.value) != before
    c["within"].value = "1h"
    c["order"].value = "strict"
    _same(view.result, funnels.funnel(events, ["add_to_cart", "page_view"], within="1h", order="strict"))
    units = view.result["units"].tolist()
    assert [f"{u:,}" in view.table.value for u in units] == [True, True]
    assert view.message.value == ""


def test_funnel_takes_two_to_six_steps(browser, events):
    view = browser.analyses.select("funnel")
    view.steps = ["add_to_cart", "purchase", "add_to_cart", "purchase", "add_to_cart", "page_view"]
    assert len(view.result) == 6
    _same(view.result, funnels.funnel(events, view.steps, within="1D"))
    for wrong in (["purchase"], ["purchase"] * 7, []):
        with pytest.raises(StatsigError, match="2 to 6 steps"):
            view.steps = wrong
    with pytest.raises(StatsigError, match="no event named 'signup'"):
        view.steps = ["page_view", "signup"]
    # One step left through the drop-downs: a message in the view, no chart, no table.
    for k in range(2, 7):
        view.controls[f"step_{k}"].value = ALL
    assert "Pick 2 to 6 steps (now 1)" in view.message.value
    assert view.result is None and view.table.value == "" and view.chart.layout.display == "none"
    view.controls["step_2"].value = "purchase"
    assert view.message.value == "" and view.chart.layout.display is None and view.result is not None


def test_views_follow_every_shared_filter(browser, events):
    c = browser.controls
    c.source.value = "js-client"
    c.user.value = "1"
    lo, hi = 2, len(c.time_range.options) // 2
    c.time_range.index = (lo, hi)
    start, end = c.time_range.options[lo][1], c.time_range.options[hi][1]
    kept = events[(events["source"] == "js-client") & events["userID"].str.contains("1")
                  & (events["timestamp"] >= start) & (events["timestamp"] < end)]
    assert 0 < len(kept) < len(events)
    funnel = browser.analyses.select("funnel")
    _same(funnel.result, funnels.funnel(kept, funnel.steps, within="1D"))
    ret = browser.analyses.select("retention")
    _same(ret.result, retention.retention(kept, values="units"))
    life = browser.analyses.select("lifecycle")
    _same(life.result, engagement.lifecycle(kept, "D"))
    paths = browser.analyses.select("paths")
    _same(paths.result, journeys.paths(kept, "add_to_cart", steps=4))
    # And the event-name filter: a funnel over purchases alone.
    c.time_range.index = (0, len(c.time_range.options) - 1)
    c.user.value, c.source.value, c.name.value = "", ALL, "purchase"
    funnel = browser.analyses.select("funnel")
    funnel.steps = ["purchase", "purchase"]
    _same(funnel.result, funnels.funnel(events[events["name"] == "purchase"], ["purchase", "purchase"], within="1D"))


def test_retention_lifecycle_and_paths_controls_drive_their_results(browser, events):
    ret = browser.analyses.select("retention")
    c = ret.controls
    c["start_event"].value, c["return_event"].value = "add_to_cart", "purchase"
    c["period"].value, c["periods"].value, c["cohorts"].value = "W", 3, "first_time"
    _same(ret.result, retention.retention(events, "add_to_cart", "purchase", period="W", periods=3,
                                          cohorts="first_time", values="units"))
    assert bytes(ret.chart.value).startswith(PNG) and "cohort" in ret.table.value
    life = browser.analyses.select("lifecycle")
    life.controls["event"].value, life.controls["freq"].value = "purchase", "W"
    _same(life.result, engagement.lifecycle(events, "W", event="purchase"))
    paths = browser.analyses.select("paths")
    paths.controls["start"].value, paths.controls["steps"].value = "purchase", 3
    _same(paths.result, journeys.paths(events, "purchase", steps=3))
    assert paths.result["step"].max() <= 2


def test_steps_that_match_nothing_show_a_message_not_a_traceback(browser):
    browser.controls.name.value = "purchase"  # no page_view is left
    view = browser.analyses.select("funnel")
    view.steps = ["purchase", "page_view"]
    assert "&#x27;page_view&#x27; matches no event" in view.message.value
    assert view.result["units"].tolist()[1] == 0 and bytes(view.chart.value).startswith(PNG)
    browser.controls.user.value = "no such user"
    assert "No events match the filters." in view.message.value
    assert view.result is None and view.table.value == ""


def test_only_the_visible_view_computes(browser, monkeypatch):
    calls = []
    real = funnels.funnel
    monkeypatch.setattr(funnels, "funnel", lambda *a, **k: calls.append(1) or real(*a, **k))
    view = browser.analyses.views["funnel"]
    explore_redraws = browser.redraws
    view.controls["step_2"].value = "page_view"  # hidden: nothing computed
    browser.controls.source.value = "js-client"
    assert calls == [] and view.redraws == 0 and browser.redraws == explore_redraws + 1
    browser.analyses.select("funnel")  # opened: computed now
    assert len(calls) == 1 and view.redraws == 1
    browser.controls.source.value = "ios-client"  # a filter change redraws the funnel, not the explore view
    assert len(calls) == 2 and browser.redraws == explore_redraws + 1
    browser.controls.source.value = "js-client"  # back to an earlier state: from the cache
    assert len(calls) == 2 and view.redraws == 3
    browser.analyses.select(None)  # the explore view catches up with the filters once
    assert browser.redraws == explore_redraws + 2 and len(calls) == 2
    browser.analyses.select("explore")
    assert browser.redraws == explore_redraws + 2


def test_a_burst_of_control_changes_redraws_the_view_once(events):
    browser = EventBrowser(events, debounce=1.0)
    view = browser.analyses.select("funnel")
    drawn = view.redraws
    for name in ("page_view", "purchase", "page_view"):
        view.controls["step_2"].value = name
    assert view.redraws == drawn
    deadline = time.monotonic() + 20
    while view.redraws == drawn and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # the earlier changes of the burst were cancelled: no second redraw comes
    assert view.redraws == drawn + 1
    assert view.result.loc[2, "event"] == "page_view"
    view.controls["step_2"].value = "purchase"
    browser.refresh()  # a pending redraw of the visible view runs now
    assert view.redraws == drawn + 2 and view.result.loc[2, "event"] == "purchase"


def test_static_fallback_shows_the_view_that_was_open(browser):
    bundle = browser._repr_mimebundle_()
    assert "alt='timeline'" in bundle["text/html"]
    view = browser.analyses.select("funnel")
    bundle = browser._repr_mimebundle_()
    page = bundle["text/html"]
    assert "<b>Funnel</b>" in page and "alt='funnel'" in page and "alt='timeline'" not in page
    assert base64.b64decode(bundle["image/png"]) == bytes(view.chart.value)
    assert f"base64,{bundle['image/png']}" in page
    for units in view.result["units"]:
        assert f"<td>{units:,}</td>" in page
    assert "application/vnd.jupyter.widget-view+json" in bundle
    browser.analyses.select("retention")
    assert "<b>Retention</b>" in browser._repr_mimebundle_()["text/html"]


def test_unknown_view_is_a_clear_error(browser):
    with pytest.raises(StatsigError, match="no view named 'funnels'; the views are explore, funnel"):
        browser.analyses.select("funnels")


def test_a_report_exported_without_widget_state_shows_the_open_view(tmp_path):
    """Through a real kernel and nbconvert's HTML export (what a report is), the browser's output shows
    the funnel that was open: its title, its chart and its numbers."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nbconvert = pytest.importorskip("nbconvert")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(
        "import statsig_pandas\n"
        "from statsig_pandas.testing.synthetic import synthetic_frame\n"
        "df = synthetic_frame(3_000, seed=2, end_ms=1_774_000_000_000)\n"
        "browser = df.statsig.browse()\n"
        "browser.analyses.select('funnel').steps = ['page_view', 'purchase']\n"
        "print(browser.analyses.shown.result['units'].tolist())\n"
        "browser")]
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
                            ).execute()
    units = [int(u) for u in nb.cells[0].outputs[0]["text"].strip().strip("[]").split(",")]
    assert len(units) == 2 and units[0] > 0
    del nb.metadata["widgets"]
    page, _ = nbconvert.HTMLExporter().from_notebook_node(nb)
    # (nbconvert writes the attributes back in double quotes)
    assert "<b>Funnel</b>" in page and re.search("<img alt=.funnel. src=.data:image/png;base64,", page)
    assert not re.search("alt=.timeline.", page)
    for n in units:
        assert f"<td>{n:,}</td>" in page
