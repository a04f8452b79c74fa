"""HTTP that misbehaves: a trickled answer is a timeout; proxies never see the key in cleartext."""

from __future__ import annotations

import time

import pytest
import requests
from faults.helpers import opts
from faults.rawhttp import RawServer, hang_up, trickle

from statsig_pandas import RetryPolicy, StatsigConnectionError, StatsigError, read_events
from statsig_pandas.testing import StatsigEmulator

TWO_TRIES = RetryPolicy(max_attempts=2, backoff_base=0.01, backoff_cap=0.01, jitter=lambda: 0.0)
PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")


# -- 5: a whole-response deadline per attempt --------------------------------------------------------------

@pytest.mark.timeout(60)
@pytest.mark.parametrize("headers_too", [False, True], ids=["body", "headers"])
def test_an_answer_trickled_byte_by_byte_is_a_timeout_and_is_retried(headers_too):
    with RawServer(trickle(delay=0.1, max_bytes=50, headers_too=headers_too)) as server:
        began = time.monotonic()
        with pytest.raises(StatsigConnectionError, match=r"(?i)timed out|timeout|deadline"):
            read_events("buy", api_key="console-test", base_url=server.url, timeout=0.5, retry=TWO_TRIES,
                        progress=False)
        took = time.monotonic() - began
        connections = server.connections
    assert connections == 2  # retried like any timeout
    assert took < 3, f"two attempts of a 0.5 s timeout took {took:.1f} s"


# -- 6: proxies --------------------------------------------------------------------------------------------

@pytest.fixture
def local_proxy(monkeypatch):
    """A proxy on another loopback address, configured the usual ways; it hangs up on whatever comes."""
    with RawServer(hang_up, host="127.0.0.2") as proxy:
        for name in PROXY_VARIABLES:
            monkeypatch.setenv(name, proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        yield proxy


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_loopback_requests_never_go_through_a_proxy_from_the_environment(local_proxy, host):
    with StatsigEmulator(n_events=300, names=["buy"], seed=1) as emu:
        df = read_events("buy", api_key=emu.api_key, base_url=f"http://{host}:{emu.port}", retry=TWO_TRIES,
                         progress=False)
        served = len(emu.requests)
    assert len(df) == 300 and served >= 1
    assert local_proxy.connections == 0


def test_loopback_requests_of_a_session_of_ones_own_skip_the_environment_proxy(local_proxy):
    with StatsigEmulator(n_events=300, names=["buy"], seed=1) as emu, requests.Session() as session:
        df = read_events("buy", session=session, retry=TWO_TRIES, **opts(emu))
    assert len(df) == 300
    assert local_proxy.connections == 0


def test_plain_http_is_refused_before_any_connection_to_a_proxy_off_loopback(no_network):
    with StatsigEmulator(n_events=300, names=["buy"], seed=1) as emu, requests.Session() as session:
        session.proxies = {"http": "http://192.0.2.10:3128", "all": "http://192.0.2.10:3128"}
        with pytest.raises(StatsigError, match=r"(?i)proxy") as caught:
            read_events("buy", session=session, retry=TWO_TRIES, **opts(emu))
        served = len(emu.requests)
    assert not isinstance(caught.value, StatsigConnectionError)  # refused, not tried and failed
    assert no_network == [] and served == 0
