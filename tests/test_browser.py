"""The event browser's view, kernel side: drive the controls from Python, check what each view shows."""

from __future__ import annotations

import base64
import json
import time

import pandas as pd
import pytest

from statsig_pandas import plotting
from statsig_pandas.browser import ALL, EventBrowser
from statsig_pandas.browser._charts import TimelineChart, TopValuesChart, appearance, drawn_texts, from_scratch
from statsig_pandas.decode import convert_dicts
from statsig_pandas.errors import StatsigError
from statsig_pandas.frame import build_frame
from statsig_pandas.testing import synthetic_events
from statsig_pandas.testing.synthetic import synthetic_frame

PNG = b"\x89PNG\r\n\x1a\n"


def _frame(n: int, *, seed: int = 3, **kwargs) -> pd.DataFrame:
    frame, _ = build_frame([convert_dicts(synthetic_events(n, seed=seed, **kwargs), page=1)])
    return frame


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return _frame(2000)


@pytest.fixture
def browser(events) -> EventBrowser:
    return EventBrowser(events, debounce=0)


def _newest_first(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("timestamp", ascending=False, kind="stable")


# -- filters -> .filtered and the summary -------------------------------------------------------
def test_unfiltered_browser_summarises_every_event(browser, events):
    users = events["userID"].nunique()
    assert browser.summary.startswith(f"{len(events):,} events · {users:,} users · ")
    assert "UTC" in browser.summary and "of " not in browser.summary
    assert f"<b>{browser.summary}</b>" == browser.views.summary.value.replace("&gt;", ">")
    pd.testing.assert_frame_equal(browser.filtered, events)
    assert browser.matches == len(events)
    assert repr(browser) == f"<EventBrowser {len(events):,} of {len(events):,} events>"


def test_event_name_filter(browser, events):
    browser.controls.name.value = "purchase"
    expected = events[events["name"] == "purchase"]
    pd.testing.assert_frame_equal(browser.filtered, expected)
    users = expected["userID"].nunique()
    assert browser.summary.startswith(f"{len(expected):,} events · {users:,} users · ")
    assert browser.summary.endswith(f"of {len(events):,}")
    assert browser.views.summary.value.startswith(f"<b>{len(expected):,} events")


def test_name_control_lists_the_names_and_hides_for_a_single_name(browser, events):
    labels = [label for label, _ in browser.controls.name.options]
    assert labels[0] == "all events" and sorted(labels[1:]) == sorted(events["name"].unique())
    assert browser.controls.name.layout.display is None
    single = EventBrowser(events[events["name"] == "purchase"], debounce=0)
    assert single.controls.name.layout.display == "none"
    assert [v for _, v in single.controls.name.options] == [ALL, "purchase"]


def test_all_choice_is_selected_and_clears_the_filter(browser, events):
    for control in (browser.controls.name, browser.controls.source):
        assert control.index == 0 and control.label.startswith("all ")  # shown, not a blank selection
    browser.controls.source.value = "js-client"
    browser.controls.source.value = ALL
    pd.testing.assert_frame_equal(browser.filtered, events)


def test_time_label_shows_the_selected_range(browser):
    slider = browser.controls.time_range
    assert browser.views.time_label.value == f"{slider.options[0][0]} → {slider.options[-1][0]} UTC"
    slider.index = (2, 5)
    assert browser.views.time_label.value == f"{slider.options[2][0]} → {slider.options[5][0]} UTC"


def test_value_multiselect_offers_most_frequent_values_with_counts(browser, events):
    counts = events["value"].value_counts()
    options = browser.controls.values.options
    assert [v for _, v in options] == list(counts.index[:len(options)])
    label, _ = options[0]
    assert label.endswith(f"({counts.iloc[0]:,})")


def test_selected_values_or_values_containing_the_search_text(browser, events):
    browser.controls.values.value = ("books", "toys")
    pd.testing.assert_frame_equal(browser.filtered, events[events["value"].isin(["books", "toys"])])
    # The search box reaches values the multi-select does not list (prices here).
    browser.controls.value_search.value = "9.9"
    expected = events[events["value"].isin(["books", "toys"]) | events["value"].str.contains("9.9", regex=False)]
    pd.testing.assert_frame_equal(browser.filtered, expected)
    browser.controls.values.value = ()
    pd.testing.assert_frame_equal(browser.filtered,
                                  events[events["value"].str.contains("9.9", regex=False)])


def test_source_and_user_filters_combine_with_the_others(browser, events):
    browser.controls.source.value = "js-client"
    browser.controls.user.value = " 01 "  # surrounding spaces are ignored
    browser.controls.name.value = "add_to_cart"
    expected = events[(events["source"] == "js-client") & events["userID"].str.contains("01")
                      & (events["name"] == "add_to_cart")]
    assert len(expected) > 0
    pd.testing.assert_frame_equal(browser.filtered, expected)
    assert set(browser.filtered["userID"]) <= set(events["userID"])
    assert all("01" in u for u in browser.filtered["userID"])


def test_time_range_keeps_events_from_start_up_to_end(browser, events):
    slider = browser.controls.time_range
    n = len(slider.options)
    assert n > 10
    slider.index = (n // 4, n // 2)
    start, end = slider.value
    expected = events[(events["timestamp"] >= start) & (events["timestamp"] < end)]
    assert 0 < len(expected) < len(events)
    pd.testing.assert_frame_equal(browser.filtered, expected)
    assert browser.summary.startswith(f"{len(expected):,} events")


def test_slider_spans_every_event(browser, events):
    first, last = browser.controls.time_range.options[0][1], browser.controls.time_range.options[-1][1]
    assert first <= events["timestamp"].min() and last > events["timestamp"].max()


def test_no_match_shows_empty_views(browser):
    browser.controls.user.value = "no such user"
    assert browser.matches == 0 and len(browser.filtered) == 0
    assert browser.summary.startswith("0 events · 0 users")
    assert "no events match" in browser.views.table.value
    assert browser.views.page_label.value == "no rows"
    assert bytes(browser.views.timeline.value).startswith(PNG)
    assert browser.views.next.disabled and browser.views.previous.disabled


# -- the paged table ------------------------------------------------------------------------------
def test_table_pages_newest_first_twenty_at_a_time(browser, events):
    browser.controls.name.value = "page_view"
    expected = _newest_first(events[events["name"] == "page_view"])
    pd.testing.assert_frame_equal(browser.page_frame(), expected.iloc[:20])
    assert f"rows 1–20 of {len(expected):,}" in browser.views.page_label.value
    assert browser.views.previous.disabled and not browser.views.next.disabled
    browser.views.next.click()
    assert browser.page == 1
    pd.testing.assert_frame_equal(browser.page_frame(), expected.iloc[20:40])
    assert f"rows 21–40 of {len(expected):,}" in browser.views.page_label.value
    # The table sends the rows of this page only, user IDs with their leading zeros.
    table = browser.views.table.value
    assert table.count("<tr>") == 20
    for user in expected["userID"].iloc[20:40]:
        assert f"<td>{user}</td>" in table
    browser.views.previous.click()
    assert browser.page == 0


def test_paging_stops_at_both_ends_and_a_filter_change_goes_back_to_the_first_page(browser, events):
    browser.previous_page()
    assert browser.page == 0
    browser.controls.user.value = "0001"
    total = browser.matches
    last = browser.pages - 1
    for _ in range(browser.pages + 2):
        browser.next_page()
    assert browser.page == last and browser.views.next.disabled
    assert len(browser.page_frame()) == total - 20 * last
    browser.controls.source.value = "js-client"
    assert browser.page == 0


def test_page_size_is_configurable(events):
    small = EventBrowser(events, debounce=0, page_size=7)
    assert len(small.page_frame()) == 7 and small.pages == -(-len(events) // 7)


# -- the charts -----------------------------------------------------------------------------------
def test_timeline_follows_filters_bucket_and_metric(browser, events):
    png = bytes(browser.views.timeline.value)
    assert png.startswith(PNG)
    assert int(browser.timeline.sum()) == len(events)
    browser.controls.name.value = "purchase"
    purchases = events[events["name"] == "purchase"]
    assert int(browser.timeline.sum()) == len(purchases)
    assert bytes(browser.views.timeline.value) != png
    hourly = browser.timeline
    browser.controls.bucket.value = "D"
    assert browser.freq == "D"
    daily = browser.timeline
    assert len(daily) < len(hourly) and int(daily.sum()) == len(purchases)
    browser.controls.metric.value = "users"
    per_day = purchases.groupby(purchases["timestamp"].dt.floor("D"))["userID"].nunique()
    users = browser.timeline
    assert list(users[users > 0].to_numpy()) == list(per_day.to_numpy())


def _assert_top_values(shown: pd.Series, frame: pd.DataFrame) -> None:
    """The 10 most frequent values of ``frame``, most frequent first (ties in any order)."""
    counts = frame["value"].value_counts()
    assert list(shown.to_numpy()) == list(counts.to_numpy()[:10])
    assert all(counts[label] == n for label, n in shown.items())


def test_top_values_chart_follows_filters(browser, events):
    png = bytes(browser.views.top_values.value)
    assert png.startswith(PNG)
    _assert_top_values(browser.top_values, events)
    browser.controls.name.value = "add_to_cart"
    _assert_top_values(browser.top_values, events[events["name"] == "add_to_cart"])
    assert bytes(browser.views.top_values.value) != png


def test_only_what_changed_is_recomputed(browser, monkeypatch):
    calls = []
    for chart, name in ((TimelineChart, "timeline"), (TopValuesChart, "top_values")):
        monkeypatch.setattr(chart, "show", lambda self, *a, _real=chart.show, _name=name, **k:
                            calls.append(_name) or _real(self, *a, **k))
    timeline = bytes(browser.views.timeline.value)
    browser.controls.bucket.value = "D"
    assert calls == ["timeline"]
    assert bytes(browser.views.timeline.value) != timeline
    browser.next_page()
    assert calls == ["timeline"]
    browser.controls.source.value = "js-client"
    assert sorted(calls) == ["timeline", "timeline", "top_values"]


def _from_scratch(browser) -> tuple:
    """The two charts as the plotting functions draw the browser's matching events into a new figure
    (those the browser counts, whose categories order values of equal counts), as drawn Axes."""
    frame, users = browser.state.matching(browser.filters), browser.controls.metric.value == "users"
    return (from_scratch(lambda ax: plotting.plot_timeline(frame, freq=browser.freq, users=users, ax=ax))[0],
            from_scratch(lambda ax: plotting.plot_value_counts(frame, top=10, ax=ax))[0])


def _assert_text_fits(ax, label="") -> None:
    """Every string the chart draws is inside the figure and clear of the others."""
    renderer = ax.figure.canvas.get_renderer()
    width, height = ax.figure.canvas.get_width_height()
    boxes = [(text.get_text(), text.get_window_extent(renderer)) for text in drawn_texts(ax)]
    assert len(boxes) >= 6, label  # a title, two axis labels and ticks at least
    for text, box in boxes:
        assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= width and box.y1 <= height, (label, text, box)
    for i, (text, box) in enumerate(boxes):
        for other, other_box in boxes[i + 1:]:
            assert not box.overlaps(other_box), (label, text, other)


def _assert_read_as_from_scratch(browser, seen: dict, label: str) -> None:
    """Each chart shown reads as the plotting function's chart of the same events: the same titles,
    limits, ticks and labels, lines and bars, and its text fits the figure. A picture the browser
    shows again from its cache is one it showed for the same state before."""
    filters, freq, metric = browser.filters, browser.freq, browser.controls.metric.value
    charts = ((browser._timeline_chart, browser.views.timeline, ("timeline", filters, freq, metric)),
              (browser._top_values_chart, browser.views.top_values, ("top values", filters)))
    for (chart, view, key), reference in zip(charts, _from_scratch(browser)):
        ax, png = chart.showing()
        if bytes(view.value) == png:
            assert appearance(ax) == appearance(reference), label
            _assert_text_fits(ax, label)
            _assert_text_fits(reference, label)  # the check holds for matplotlib's own layout too
        else:
            assert bytes(view.value) in seen.get(key, ()), label
        seen.setdefault(key, set()).add(bytes(view.value))


def test_charts_updated_in_place_read_as_the_plotting_functions_draw_them(browser):
    c = browser.controls
    steps = [("name", "purchase"), ("bucket", "D"), ("metric", "users"), ("user", "no such user"), ("user", ""),
             ("values", ("books",)), ("values", ()), ("bucket", "min"), ("name", ALL), ("source", "js-client"),
             ("metric", "events"), ("bucket", "W")]
    seen: dict = {}
    _assert_read_as_from_scratch(browser, seen, "at first")
    for control, value in steps:
        getattr(c, control).value = value
        _assert_read_as_from_scratch(browser, seen, f"after {control}={value!r}")


def test_a_timeline_with_a_million_events_a_bucket_keeps_its_title_clear_of_the_axis_multiplier():
    # Counts of a million or more get a "1e6" above the y axis; matplotlib moves the title up for it.
    million = synthetic_frame(1_050_000, seed=2, end_ms=1_774_000_000_000, span_ms=2_400_000, users=50)
    browser = EventBrowser(million, debounce=0)
    browser.controls.bucket.value = "h"
    assert int(browser.timeline.max()) >= 1_000_000
    ax, png = browser._timeline_chart.showing()
    assert bytes(browser.views.timeline.value) == png and ax.yaxis.get_offset_text().get_text() == "1e6"
    assert appearance(ax) == appearance(_from_scratch(browser)[0])
    _assert_text_fits(ax)  # the title clear of the "1e6"


# -- debouncing ------------------------------------------------------------------------------------
def test_a_burst_of_changes_redraws_once_after_the_quiet_period(events):
    browser = EventBrowser(events, debounce=1.0)
    before = browser.redraws
    summary = browser.views.summary.value
    browser.controls.name.value = "purchase"
    browser.controls.source.value = "js-client"
    browser.controls.user.value = "00"
    # Nothing redrawn yet, but .filtered already answers for the new filters.
    assert browser.redraws == before and browser.views.summary.value == summary
    assert set(browser.filtered["source"]) == {"js-client"}
    deadline = time.monotonic() + 20
    while browser.redraws == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert browser.redraws == before + 1
    assert browser.views.summary.value.startswith(f"<b>{browser.matches:,} events")


def test_refresh_runs_a_pending_redraw_now(events):
    browser = EventBrowser(events, debounce=60)
    browser.controls.name.value = "purchase"
    assert browser.redraws == 1
    browser.refresh()
    assert browser.redraws == 2
    assert browser.views.summary.value.startswith(f"<b>{browser.matches:,} events")


# -- export ----------------------------------------------------------------------------------------
def test_export_writes_the_filtered_events_to_csv(browser, events, tmp_path):
    browser.controls.name.value = "purchase"
    path = browser.export(tmp_path / "out.csv")
    back = pd.read_csv(path, dtype=str, keep_default_na=False)
    expected = browser.filtered
    assert len(back) == len(expected)
    assert list(back["userID"]) == list(expected["userID"])  # leading zeros kept
    assert [json.loads(m) for m in back["metadata"]] == [dict(m) for m in expected["metadata"]]
    assert set(back["name"]) == {"purchase"}


def test_export_button_writes_to_the_working_directory_and_says_where(browser, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    browser.controls.user.value = "0001"
    browser.views.export.click()
    browser.views.export.click()  # a second export does not overwrite the first
    files = sorted(tmp_path.glob("statsig-events-*.csv"))
    assert len(files) == 2
    assert f"Wrote {browser.matches:,} events to" in browser.views.message.value
    assert str(files[-1]) in browser.views.message.value or str(files[0]) in browser.views.message.value
    assert all(len(pd.read_csv(f, dtype=str)) == browser.matches for f in files)


def test_export_failure_is_a_clear_error_and_a_message_in_the_ui(browser, tmp_path, monkeypatch):
    with pytest.raises(StatsigError, match="could not write"):
        browser.export(tmp_path / "missing" / "out.csv")
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()  # the working directory vanished under the notebook
    browser.views.export.click()
    assert "could not write" in browser.views.message.value
    assert "color:#b00" in browser.views.message.value


# -- the static fallback ---------------------------------------------------------------------------
def test_mimebundle_carries_a_static_summary_table_and_timeline(browser, events):
    browser.controls.name.value = "purchase"
    bundle = browser._repr_mimebundle_()
    view = bundle["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == browser.widget.model_id
    assert browser.summary in bundle["text/html"]
    newest = _newest_first(events[events["name"] == "purchase"]).iloc[:20]
    for user in newest["userID"]:
        assert f"<td>{user}</td>" in bundle["text/html"]
    png = base64.b64decode(bundle["image/png"])
    assert png.startswith(PNG) and png == bytes(browser.views.timeline.value)
    assert f"src='data:image/png;base64,{bundle['image/png']}'" in bundle["text/html"]
    assert bundle["text/plain"] == repr(browser)


def test_static_html_escapes_event_data():
    raw = synthetic_events(50, seed=1)
    raw[0]["value"] = "<script>alert(1)</script>"
    raw[0]["userID"] = "<b>me</b>"
    frame, _ = build_frame([convert_dicts(raw, page=1)])
    html = EventBrowser(frame, debounce=0)._repr_mimebundle_()["text/html"]
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>me</b>" not in html


# -- odd frames and bad input ---------------------------------------------------------------------
def test_empty_frame():
    from statsig_pandas.frame import empty_frame

    browser = EventBrowser(empty_frame(), debounce=0)
    assert browser.summary.startswith("0 events · 0 users")
    assert browser.controls.time_range.disabled
    assert browser.page_frame().empty


@pytest.mark.parametrize("bad, match", [
    ([1, 2], "DataFrame of Statsig events, not list"),
    (pd.DataFrame({"timestamp": []}), "missing column.*'name', 'source', 'value', 'userID'"),
    (pd.DataFrame({c: ["x"] for c in ("timestamp", "name", "source", "value", "userID")}), "not a datetime"),
])
def test_bad_frames_are_clear_errors(bad, match):
    with pytest.raises(StatsigError, match=match):
        EventBrowser(bad)


@pytest.mark.parametrize("kwargs", [{"page_size": 0}, {"top_values": "5"}, {"debounce": -1}, {"page_size": True}])
def test_bad_options_are_clear_errors(events, kwargs):
    with pytest.raises(StatsigError, match=next(iter(kwargs))):
        EventBrowser(events, **kwargs)


def test_options_are_keyword_only(events):
    with pytest.raises(TypeError):
        EventBrowser(events, 0)


# -- in a real kernel ------------------------------------------------------------------------------
@pytest.mark.notebook
@pytest.mark.slow
def test_in_a_kernel_the_debounced_redraw_runs_and_the_outputs_carry_a_static_fallback(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in (
        "import asyncio\n"
        "import statsig_pandas\n"
        "from statsig_pandas.decode import convert_dicts\n"
        "from statsig_pandas.frame import build_frame\n"
        "from statsig_pandas.testing import synthetic_events\n"
        "df, _ = build_frame([convert_dicts(synthetic_events(500, seed=5), page=1)])\n"
        "browser = df.statsig.browse(debounce=0.3)\n"
        "browser",
        # Changed from code, as the front end would: the redraw waits for the kernel's event loop.
        "browser.controls.name.value = 'purchase'\n"
        "browser.controls.source.value = 'js-client'\n"
        "print(browser.redraws)",
        "await asyncio.sleep(1.5)\n"
        "print(browser.redraws, browser.views.summary.value.startswith(f'<b>{browser.matches:,} events'))",
    )]
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
                            ).execute()
    shown = nb.cells[0].outputs[0]["data"]
    assert set(shown) >= {"text/plain", "text/html", "image/png", "application/vnd.jupyter.widget-view+json"}
    assert "500 events" in shown["text/html"] and base64.b64decode(shown["image/png"]).startswith(PNG)
    # Exported without widget state (or viewed on GitHub), the HTML and PNG still show the data.
    assert "<table" in shown["text/html"]
    assert nb.cells[1].outputs[0]["text"].strip() == "1"  # nothing redrawn inside the cell
    assert nb.cells[2].outputs[0]["text"].strip() == "2 True"  # one redraw for both changes
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert shown["application/vnd.jupyter.widget-view+json"]["model_id"] in state
    # An HTML export without the widget state falls back to our summary, chart and rows.
    nbconvert = pytest.importorskip("nbconvert")
    del nb.metadata["widgets"]
    page, _ = nbconvert.HTMLExporter().from_notebook_node(nb)
    assert "500 events" in page and "data:image/png;base64," in page and "statsig-browser-table" in page
