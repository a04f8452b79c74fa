"""Statsig specifics: event paths and filters, equal time edges, and the provenance record."""

from __future__ import annotations

import pytest

from statsig_pandas import StatsigError, read_events
from statsig_pandas.endpoints import Provenance, equal_edges, event_filter, event_path, time_windows
from statsig_pandas.testing import StatsigEmulator

NASTY = ["checkout/v2", "what?x=1", "a#b", "with space", "%2F", "%2E%2E", "ünïcödé", "../gates", "a+b&c=d", "..."]


@pytest.mark.parametrize("name", NASTY)
def test_every_name_is_exactly_one_path_segment(name):
    path = event_path(name)
    assert path.startswith("/console/v1/events/")
    segment = path[len("/console/v1/events/"):]
    assert "/" not in segment and "?" not in segment and "#" not in segment and segment not in (".", "..")


@pytest.mark.parametrize("name", [".", ".."])
def test_dot_names_no_url_can_carry_are_refused_before_any_request(emulator, name):
    with pytest.raises(StatsigError, match="cannot be sent in a URL path"):
        read_events(name, base_url=emulator.url, api_key=emulator.api_key)
    assert emulator.requests == []


def test_nasty_names_reach_their_own_event_over_http():
    events = [{"timestamp": str(1000 + i), "name": name, "source": "s", "value": name, "userID": "1",
               "metadata": {}} for i, name in enumerate(NASTY)]
    with StatsigEmulator(events) as emu:
        df = read_events(NASTY, base_url=emu.url, api_key=emu.api_key, progress=False)
        paths = [r.path for r in emu.requests]
    assert sorted(df["value"].tolist()) == sorted(NASTY)
    assert sorted(paths) == sorted(f"/console/v1/events/{name}" for name in NASTY)


def test_equal_edges_cut_a_range_into_equal_parts_but_never_below_a_millisecond():
    assert equal_edges(0, 10, 3) == [0, 3, 6, 10]
    assert equal_edges(100, 103, 10) == [100, 101, 102, 103]
    assert equal_edges(5, 6, 0) == [5, 6]


def test_time_windows_are_equal_per_name_and_quote_the_name():
    windows = time_windows(["a", 'say "hi"'], 0, 100, 2)
    assert [(w.start, w.end) for w in windows] == [(0, 50), (0, 50), (50, 100), (50, 100)]
    assert windows[1].params == {"source": "events", "query": event_filter('say "hi"')}


def test_every_read_records_the_one_declared_set_of_keys(emulator):
    recent = read_events("purchase", base_url=emulator.url, api_key=emulator.api_key, progress=False)
    ranged = read_events("purchase", base_url=emulator.url, api_key=emulator.api_key, progress=False,
                         start="2000-01-01")
    declared = list(Provenance().to_attrs())
    assert list(recent.attrs["statsig"]) == list(ranged.attrs["statsig"]) == declared
    assert recent.attrs["statsig"]["endpoint"] == "/console/v1/events/{eventName}"
    assert recent.attrs["statsig"]["total_items_reported"] == len(recent) and recent.attrs["statsig"]["start"] is None
    assert ranged.attrs["statsig"]["endpoint"] == "/console/v1/logs" and ranged.attrs["statsig"]["windows"] >= 1
    assert Provenance.of(ranged) == Provenance(**ranged.attrs["statsig"])
