"""The live browser: fetch from the emulator over real HTTP, with progress, errors as messages."""

from __future__ import annotations

import pandas as pd

from statsig_pandas.browser import browse
from statsig_pandas.errors import StatsigConnectionError
from statsig_pandas.testing import StatsigEmulator, synthetic_events


def test_live_browser_fetches_with_progress_then_browses(api):
    live = browse("purchase, add_to_cart")
    assert live.browser is None and "nothing fetched" in repr(live)
    live.fetch_button.click()
    expected = api.events("purchase") + api.events("add_to_cart")
    assert len(live.frame) == len(expected)
    assert live.progress.value == live.progress.max == len(expected)
    assert live.progress.bar_style == "success"
    assert live.progress_label.value == f"{len(expected):,} / {len(expected):,} events"
    assert f"read {len(expected):,} events" in live.status.value
    assert live.area.children == (live.browser.widget,)
    assert live.browser.summary.startswith(f"{len(expected):,} events")
    assert set(live.frame["name"]) == {"purchase", "add_to_cart"}


def test_live_browser_progress_survives_retried_pages():
    with StatsigEmulator(n_events=600, seed=2) as emu:
        emu.inject("drop_body", page=2)  # half a body, then the connection closes
        emu.inject("drop", page=3)
        live = browse("purchase", api_key=emu.api_key, base_url=emu.url)
        frame = live.fetch()
        served = len(emu.events("purchase"))
    assert frame is not None and len(frame) == served
    assert live.progress_label.value == f"{served:,} / {served:,} events"


def test_live_browser_progress_moves_while_the_pages_are_read():
    # The bar follows the reader's progress reports (read_events(progress=callback)), page by page.
    with StatsigEmulator(n_events=1500, seed=4) as emu:
        live = browse("page_view", api_key=emu.api_key, base_url=emu.url, page_size=50)
        seen = []
        live.progress.observe(lambda change: seen.append((change["new"], live.status.value.startswith("reading"))),
                              names="value")
        frame = live.fetch()
        served = len(emu.events("page_view"))
    assert frame is not None and len(frame) == served > 100
    during = [value for value, reading in seen if reading]
    assert during and 0 < during[0] < served  # shown before the last page came
    assert during == sorted(during)
    assert live.progress.value == live.progress.max == served
    assert live.progress_label.value == f"{served:,} / {served:,} events"


def test_live_browser_unknown_event_is_a_message(api):
    live = browse(["no_such_event"])
    assert live.fetch() is None
    assert "no such event" in live.status.value and "404" in live.status.value
    assert live.browser is None and live.progress.bar_style == "danger"
    assert not live.fetch_button.disabled


def test_live_browser_bad_key_is_a_message_without_the_key(emulator):
    secret = "console-PLANTED-secret-1234"
    live = browse("purchase", api_key=secret, base_url=emulator.url)
    live.fetch()
    assert "refused the key" in live.status.value and "401" in live.status.value
    assert secret not in live.status.value and secret not in repr(live)
    assert "PLANTED" not in live.status.value


def test_live_browser_without_a_key_says_how_to_give_one(emulator):
    live = browse("purchase", base_url=emulator.url)
    live.fetch()
    assert "STATSIG_CONSOLE_API_KEY" in live.status.value


def test_live_browser_network_failure_is_a_message(api, monkeypatch):
    def unreachable(*args, **kwargs):
        raise StatsigConnectionError("could not read page 1 from https://statsigapi.net: timed out")

    monkeypatch.setattr("statsig_pandas.browser.live.read_events", unreachable)
    live = browse("purchase")
    live.fetch()
    assert "could not reach the Statsig API" in live.status.value


def test_live_browser_needs_names(api):
    live = browse()
    live.names.value = " , "
    assert live.fetch() is None
    assert "type one or more event names" in live.status.value


def test_live_browser_shows_read_warnings_as_notes_and_browses_unparseable_times():
    raw = synthetic_events(60, seed=2, names=("purchase",))
    raw[5]["timestamp"] = "not a time"
    with StatsigEmulator(raw) as emu:
        live = browse("purchase", api_key=emu.api_key, base_url=emu.url, errors="coerce")
        frame = live.fetch()
    assert len(frame) == 60
    assert "<i>note: 1 event(s) had an unparseable timestamp" in live.status.value
    browser = live.browser
    assert browser.summary.startswith("60 events")
    # The event without a time is listed last, and a time range leaves it out.
    assert pd.isna(browser.page_frame(browser.pages - 1)["timestamp"].iloc[-1])
    browser.controls.time_range.index = (0, len(browser.controls.time_range.options) - 2)
    assert browser.filtered["timestamp"].notna().all()
