"""Server text in messages is scrubbed and short; odd input is a typed error saying what was wrong."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from urllib.parse import quote

import pytest
from faults.helpers import T0, Outcome, ev, events_body, opts

from statsig_pandas import ResponseFormatError, StatsigAPIError, StatsigError, read_events
from statsig_pandas.testing import StatsigEmulator

# A key with characters that URL-encoding changes; "S3cr3t" is in every spelling of it.
KEY = "console-k3y+S3cr3t/Value="
SPELLINGS = [KEY, KEY.upper(), KEY.lower(), quote(KEY, safe=""), quote(KEY).upper(), "Key=" + quote(KEY, safe="")]


def leaks(*texts) -> bool:
    return any("s3cr3t" in str(t).lower() for t in texts)


def echoing(body: bytes, **fault):
    """An emulator that answers page 1 with ``body``."""
    emu = StatsigEmulator([ev(T0 + i) for i in range(5)], api_key=KEY)
    emu.start()
    emu.inject(fault.pop("kind", "json"), page=1, body=body, **fault)
    return emu


def read(emu, **kwargs):
    return read_events("buy", **opts(emu, **kwargs))


# -- 7: scrubbed and short ---------------------------------------------------------------------------------

@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_body_that_is_not_the_envelope_is_scrubbed_in_every_spelling_of_the_key(spelling):
    body = json.dumps({"error": f"no such thing for key {spelling}", "pad": "x" * 5000}).encode()
    with echoing(body) as emu, pytest.raises(ResponseFormatError) as caught:
        read(emu)
    err = caught.value
    assert not leaks(str(err), repr(err), err.snippet, err.args)
    assert len(err.snippet) <= 300 and len(str(err)) <= 700


@pytest.mark.parametrize("spelling", SPELLINGS[1:4])
def test_a_body_that_is_not_json_is_scrubbed(spelling):
    with echoing(f"<html>bad gateway for {spelling}</html>".encode(), kind="malformed") as emu, \
            pytest.raises(ResponseFormatError) as caught:
        read(emu)
    assert not leaks(str(caught.value), caught.value.snippet)


def test_an_event_that_is_not_an_object_is_scrubbed():
    body = events_body([f"Key: {KEY.upper()} " + "y" * 2000], itemsPerPage=100, pageNumber=1, totalItems=1)
    with echoing(body) as emu, pytest.raises(ResponseFormatError) as caught:
        read(emu)
    assert not leaks(str(caught.value), caught.value.snippet)
    assert len(caught.value.snippet) <= 300


def test_an_unparseable_timestamp_quoted_in_the_error_is_scrubbed():
    body = events_body([ev(T0), ev(f"at {KEY.upper()}", value=quote(KEY, safe=""))], itemsPerPage=100,
                       pageNumber=1, totalItems=2)
    with echoing(body) as emu, pytest.raises(StatsigError, match="timestamp") as caught:
        read(emu)
    assert not leaks(str(caught.value), caught.value.args)


def test_an_invalid_total_in_a_warning_is_scrubbed_and_short():
    body = events_body([ev(T0)], itemsPerPage=100, pageNumber=1, totalItems=f"{quote(KEY, safe='')} " * 100)
    with echoing(body) as emu:
        outcome = Outcome(lambda: read(emu))
    messages = [w for w in outcome.warnings if "totalItems" in w]
    assert messages and not leaks(*messages)
    assert all(len(m) <= 600 for m in messages)


def test_an_error_answer_is_scrubbed_in_message_body_and_text():
    body = json.dumps({"status": 400, "message": f"bad key {KEY.lower()}", "errors": [quote(KEY, safe="")]})
    with echoing(body.encode(), kind="status", status=400) as emu, pytest.raises(StatsigAPIError) as caught:
        read(emu)
    err = caught.value
    assert not leaks(str(err), err.message, err.body, repr(err))


# -- 9: typed errors, arguments checked before any request -------------------------------------------------

DEEP = b'{"data": [], "pagination": {}, "x": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"


def test_deeply_nested_json_is_a_response_format_error():
    with echoing(DEEP) as emu, pytest.raises(ResponseFormatError, match=r"(?i)nest|deep"):
        read(emu)


def test_deeply_nested_json_in_an_error_answer_is_still_the_api_error():
    with echoing(DEEP, kind="status", status=400) as emu, pytest.raises(StatsigAPIError) as caught:
        read(emu)
    assert caught.value.status == 400


def test_invalid_utf8_in_metadata_is_a_response_format_error():
    good = events_body([ev(T0, meta={"plan": "PLACEHOLDER"})], itemsPerPage=100, pageNumber=1, totalItems=1)
    with echoing(good.replace(b"PLACEHOLDER", b"caf\xe9")) as emu, \
            pytest.raises(ResponseFormatError, match=r"(?i)utf-8|utf8|encoding"):
        read(emu)


@pytest.mark.parametrize("location", ["http://[::1", "http://127.0.0.1:99999/x", "http://[::1]:port/"])
def test_a_malformed_redirect_location_is_a_typed_error(location):
    with echoing(b"", kind="redirect", location=location) as emu, pytest.raises(StatsigError, match=r"(?i)redirect"):
        read(emu)


@pytest.mark.parametrize("base_url", ["http://[::1", "http://127.0.0.1:８０８０", "http://ｌocalhost:8080",
                                      "http://127.0.0.1:99999", b"http://127.0.0.1:8080", 8080])
def test_a_malformed_base_url_is_refused_before_any_request(base_url, no_network):
    with pytest.raises(StatsigError, match=r"(?i)base_url|url"):
        read_events("buy", api_key=KEY, base_url=base_url, progress=False)
    assert no_network == []


@pytest.mark.parametrize("timeout", [0, -1, "30s", math.nan, math.inf, True, None, b"30"])
def test_a_bad_timeout_is_refused_before_any_request(timeout):
    with StatsigEmulator(n_events=10, names=["buy"], api_key=KEY) as emu:
        with pytest.raises(StatsigError, match="timeout"):
            read(emu, timeout=timeout)
        assert emu.requests == []


def test_the_cli_reports_a_nested_answer_without_a_traceback():
    with echoing(DEEP) as emu:
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("STATSIG_")},
               "STATSIG_CONSOLE_API_URL": emu.url, "STATSIG_CONSOLE_API_KEY": KEY}
        done = subprocess.run([sys.executable, "-m", "statsig_pandas.cli", "fetch", "buy"], env=env,
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "statsig-pandas: error:" in done.stderr, done.stderr[-2000:]
    assert not leaks(done.stderr, done.stdout)


@pytest.mark.parametrize("timeout", [0, "30s", math.nan])
def test_a_bad_timeout_of_a_dask_read_is_refused_where_it_is_built(timeout):
    sdd = pytest.importorskip("statsig_pandas.dask")
    with StatsigEmulator(n_events=10, names=["buy"], api_key=KEY) as emu:
        with pytest.raises(StatsigError, match="timeout"):
            sdd.read_events("buy", start="2026-09-01", end="2026-09-02", timeout=timeout, api_key=KEY,
                            base_url=emu.url)
        assert emu.requests == []
