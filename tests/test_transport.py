"""Retries, error mapping, redirects and key safety, over real HTTP."""

from __future__ import annotations

import logging
import time
import warnings

import pytest
import requests

from statsig_pandas import (
    AuthenticationError,
    NotFoundError,
    RateLimitError,
    ResponseFormatError,
    RetryPolicy,
    StatsigAPIError,
    StatsigConnectionError,
    StatsigError,
    read_events,
)
from statsig_pandas.testing import StatsigEmulator
from statsig_pandas.transport import Transport

FAST = RetryPolicy(max_attempts=4, backoff_base=0.01, backoff_cap=0.05, retry_after_cap=0.3, jitter=lambda: 0.0)
SECRET = "console-planted-secret-that-must-never-leak"


def read(emu, name="purchase", **kwargs):
    kwargs.setdefault("retry", FAST)
    kwargs.setdefault("progress", False)
    return read_events(name, base_url=emu.url, api_key=emu.api_key, **kwargs)


# -- retries -----------------------------------------------------------------

@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_transient_statuses_are_retried(emulator, status):
    emulator.inject("status", status=status, times=2, page=1)
    df = read(emulator)
    assert len(df) == len(emulator.events("purchase"))
    assert [r.query["page"] for r in emulator.requests[:3]] == ["1", "1", "1"]


def test_dropped_connections_are_retried(emulator):
    emulator.inject("drop", times=1, page=1)
    emulator.inject("drop_body", times=1, page=2)
    df = read(emulator)
    assert len(df) == len(emulator.events("purchase"))


def test_timeouts_are_retried(emulator):
    emulator.inject("slow", delay=1.0, times=1, page=1)
    start = time.monotonic()
    df = read(emulator, timeout=0.3)
    assert len(df) == len(emulator.events("purchase"))
    assert time.monotonic() - start < 5


def test_retry_after_seconds_is_honoured(emulator):
    emulator.inject("status", status=429, times=1, page=1, retry_after="0.25")
    start = time.monotonic()
    read(emulator)
    assert time.monotonic() - start >= 0.25


def test_retry_after_http_date_is_honoured_and_capped(emulator):
    import email.utils

    far = email.utils.formatdate(time.time() + 3600, usegmt=True)
    emulator.inject("status", status=503, times=1, page=1, retry_after=far)
    start = time.monotonic()
    read(emulator)  # FAST caps Retry-After at 0.3 s instead of waiting an hour
    assert 0.2 <= time.monotonic() - start < 3


def test_persistent_429_raises_rate_limit_error_after_bounded_attempts(emulator):
    emulator.inject("status", status=429, times=100, retry_after="0.01")
    with pytest.raises(RateLimitError) as info:
        read(emulator)
    assert info.value.status == 429
    assert info.value.retry_after == pytest.approx(0.01)
    assert len(emulator.requests) == FAST.max_attempts


def test_total_retry_time_is_bounded(emulator):
    # Delays of ~0.1 s within a 0.5 s budget: about five attempts, never the fifty allowed.
    policy = RetryPolicy(max_attempts=50, max_elapsed=0.5, backoff_base=0.1, backoff_cap=0.1, jitter=lambda: 0.999)
    emulator.inject("status", status=503, times=1000)
    start = time.monotonic()
    with pytest.raises(StatsigAPIError) as info:
        read(emulator, retry=policy)
    assert info.value.status == 503
    assert time.monotonic() - start < 3
    assert 2 <= len(emulator.requests) <= 6


@pytest.mark.parametrize("status, error", [(400, StatsigAPIError), (401, AuthenticationError),
                                           (403, AuthenticationError), (404, NotFoundError),
                                           (409, StatsigAPIError)])
def test_other_client_errors_are_not_retried(emulator, status, error):
    emulator.inject("status", status=status, times=5, page=1)
    with pytest.raises(error) as info:
        read(emulator)
    assert type(info.value) is error
    assert info.value.status == status and info.value.page == 1
    assert f"Injected error {status}" in info.value.message
    assert len(emulator.requests) == 1


def test_429_lowers_concurrency():
    def walk(emu):
        read_events("add_to_cart", base_url=emu.url, api_key=emu.api_key, page_size=10, max_concurrency=8,
                    retry=FAST, progress=False)
        return emu.requests

    with StatsigEmulator(n_events=3000, latency=0.03) as calm:
        assert max(r.concurrent for r in walk(calm)) >= 6
    with StatsigEmulator(n_events=3000, latency=0.03) as busy:
        for page in range(5, 60):  # keep throttling: the limit never gets the time to regrow
            busy.inject("status", status=429, times=1, page=page, retry_after="0")
        seen = walk(busy)
    # Once the first 429s have been answered, and while they go on, far fewer requests run at once.
    last_429 = max(i for i, r in enumerate(seen) if r.fault == "status 429")
    assert last_429 > 60
    assert max(r.concurrent for r in seen[20:last_429]) <= 3
    # Without 429s the limit grows back.
    assert max(r.concurrent for r in seen[last_429:]) > 3


# -- malformed answers -------------------------------------------------------

def test_non_json_body_is_a_format_error_naming_page_and_status(emulator):
    emulator.inject("malformed", page=2)
    with pytest.raises(ResponseFormatError) as info:
        read(emulator, page_size=50)
    err = info.value
    assert err.page == 2 and err.status == 200
    assert "Bad gateway" in err.snippet and "page 2" in str(err)


@pytest.mark.parametrize("body", [b"[1, 2, 3]", b'{"message": "ok"}', b'{"data": {"a": 1}}', b"null"])
def test_json_that_is_not_the_envelope_is_a_format_error(emulator, body):
    emulator.inject("malformed", body=body, page=1)
    with pytest.raises(ResponseFormatError, match="envelope"):
        read(emulator)


def test_events_that_are_not_objects_are_a_format_error(emulator):
    emulator.inject("malformed", body=b'{"data": [1, "x"], "pagination": {}}', page=1)
    with pytest.raises(ResponseFormatError, match="not a JSON object"):
        read(emulator)


def test_unreachable_server_is_a_connection_error():
    with StatsigEmulator() as emu:
        url, key = emu.url, emu.api_key
    with pytest.raises(StatsigConnectionError) as info:
        read_events("purchase", base_url=url, api_key=key, retry=FAST, progress=False)
    assert "127.0.0.1" in str(info.value)


# -- the key -----------------------------------------------------------------

def test_missing_key_raises_before_any_request(emulator):
    with pytest.raises(StatsigError, match="STATSIG_CONSOLE_API_KEY"):
        read_events("purchase", base_url=emulator.url)
    with pytest.raises(StatsigError, match="STATSIG_CONSOLE_API_KEY"):
        read_events("purchase", base_url=emulator.url, api_key="  ")
    assert emulator.requests == []


def test_key_and_url_come_from_the_environment(api):
    df = read_events("purchase", progress=False)
    assert len(df) == len(api.events("purchase"))


def test_wrong_key_is_an_authentication_error_that_never_shows_the_key(emulator, caplog):
    caplog.set_level(logging.DEBUG)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(AuthenticationError) as info:
            read_events("purchase", base_url=emulator.url, api_key=SECRET, retry=FAST, progress=False)
    err = info.value
    assert err.status == 401
    assert "only accepts an active CONSOLE key" in err.message
    assert emulator.requests[0].headers["statsig-api-key"] == SECRET  # the server did echo it back
    for text in (str(err), repr(err), err.message, err.body, caplog.text, *map(str, caught),
                 "".join(__import__("traceback").format_exception(err))):
        assert SECRET not in text
        assert SECRET[8:20] not in text


def test_key_not_in_transport_repr_or_attrs(emulator):
    with Transport(api_key=SECRET, base_url=emulator.url) as transport:
        assert SECRET not in repr(transport) and SECRET not in str(transport)
    emulator.api_key = SECRET
    df = read_events("purchase", base_url=emulator.url, api_key=SECRET, progress=False)
    assert SECRET not in repr(df.attrs)


@pytest.mark.parametrize("url", ["http://statsigapi.net", "http://10.0.0.8:8080", "http://example.com/console/v1",
                                 "ftp://statsigapi.net", "statsigapi.net", "https://"])
def test_key_is_never_sent_over_plain_http_or_odd_schemes(url):
    with pytest.raises(StatsigError) as info:
        read_events("purchase", base_url=url, api_key=SECRET)
    assert SECRET not in str(info.value)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_plain_http_to_loopback_is_allowed(emulator, host):
    url = emulator.url.replace("127.0.0.1", host)
    assert len(read_events("purchase", base_url=url, api_key=emulator.api_key, progress=False)) > 0


def test_redirect_to_another_host_is_refused_without_sending_the_key(emulator):
    with StatsigEmulator(host="127.0.0.2", api_key=None) as other:
        emulator.inject("redirect", location=other.url + "/console/v1/events/purchase", page=1)
        with pytest.raises(StatsigError, match="another host") as info:
            read(emulator)
        assert other.requests == []
    assert emulator.api_key not in str(info.value)


def test_redirect_on_the_same_host_is_followed(emulator):
    emulator.inject("redirect", location="/console/v1/events/purchase?page=1&limit=100", page=1, times=1)
    df = read(emulator)
    assert len(df) == len(emulator.events("purchase"))


def test_header_injection_in_key_is_refused(emulator):
    with pytest.raises(StatsigError, match="cannot be sent"):
        read_events("purchase", base_url=emulator.url, api_key="console-abc\r\nX-Evil: 1")
    assert emulator.requests == []


def test_user_session_is_not_given_the_key(emulator):
    with requests.Session() as session:
        read_events("purchase", base_url=emulator.url, api_key=emulator.api_key, session=session, progress=False)
        assert all(emulator.api_key not in str(v) for v in session.headers.values())


def test_proxy_from_the_environment_is_still_used(monkeypatch, no_network):
    # Off loopback, the environment's proxy carries the request (a CONNECT tunnel for https); this one
    # only records what it was asked and hangs up, so nothing leaves the machine. (Loopback targets
    # never take the environment's proxy: tests/faults/test_faults_http.py.)
    from faults.rawhttp import RawServer, hang_up

    with RawServer(hang_up, host="127.0.0.2") as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        with pytest.raises(StatsigConnectionError):
            read_events("purchase", base_url="https://statsigapi.net", api_key="console-test",
                        retry=RetryPolicy(max_attempts=1), progress=False)
        heads = list(proxy.requests)
    assert heads and heads[0].startswith(b"CONNECT statsigapi.net:443 ")
    assert no_network == []


