"""The error tree, what every request error says about its request, and where warnings point."""

from __future__ import annotations

import pickle
import warnings

import pytest

import statsig_pandas as sp
from statsig_pandas import (
    AuthenticationError,
    NotFoundError,
    RateLimitError,
    ResponseFormatError,
    RetryPolicy,
    StatsigAPIError,
    StatsigConnectionError,
    StatsigError,
    StatsigWarning,
    read_events,
)
from statsig_pandas.endpoints import LOGS_PATH
from statsig_pandas.testing import StatsigEmulator

FAST = RetryPolicy(max_attempts=2, backoff_base=0.01, backoff_cap=0.05, jitter=lambda: 0.0)


def test_errors_pickle_with_their_fields():
    err = RateLimitError("slow down", retry_after=3.0, status=429, body="{}", page=2, url="https://x")
    again = pickle.loads(pickle.dumps(err))
    assert (type(again), again.status, again.retry_after, again.page, str(again)) == (
        RateLimitError, 429, 3.0, 2, str(err))


def test_every_request_error_pickles_with_its_url_and_page():
    errors = [
        NotFoundError("no such event", status=404, body="{}", page=1, url="https://x/console/v1/events/a"),
        ResponseFormatError("not JSON", status=200, page=3, snippet="<html>", url="https://x/console/v1/logs"),
        StatsigConnectionError("refused", url="https://x/console/v1/events/b", page=2),
    ]
    for err in errors:
        again = pickle.loads(pickle.dumps(err))
        assert type(again) is type(err) and str(again) == str(err)
        assert (again.url, again.page) == (err.url, err.page)
    assert pickle.loads(pickle.dumps(errors[1])).snippet == "<html>"


def test_error_tree():
    for cls in (AuthenticationError, NotFoundError, RateLimitError):
        assert issubclass(cls, StatsigAPIError)
    for cls in (StatsigAPIError, ResponseFormatError, StatsigConnectionError):
        assert issubclass(cls, StatsigError)
    assert issubclass(sp.StatsigWarning, UserWarning)


def _read(emu, **kwargs):
    return read_events("purchase", base_url=emu.url, api_key=emu.api_key, retry=FAST, progress=False, **kwargs)


def test_an_error_answer_names_its_url_and_page(emulator):
    emulator.inject("status", status=404, page=2)
    with pytest.raises(NotFoundError) as info:
        _read(emulator, page_size=50)
    assert info.value.url == emulator.url + "/console/v1/events/purchase" and info.value.page == 2


@pytest.mark.parametrize("body", [b"<html>Bad gateway</html>", b'{"message": "ok"}', b'{"data": [1]}'])
def test_a_body_of_the_wrong_shape_names_its_url_and_page(emulator, body):
    emulator.inject("malformed", body=body, page=2)
    with pytest.raises(ResponseFormatError) as info:
        _read(emulator, page_size=50)
    assert info.value.url == emulator.url + "/console/v1/events/purchase" and info.value.page == 2


def test_an_unreachable_server_names_the_url_and_page():
    with StatsigEmulator() as emu:
        url, key = emu.url, emu.api_key
    with pytest.raises(StatsigConnectionError) as info:
        read_events("purchase", base_url=url, api_key=key, retry=FAST, progress=False)
    assert info.value.url == url + "/console/v1/events/purchase" and info.value.page == 1


def test_a_coerced_rows_warning_points_at_the_callers_line():
    events = [{"timestamp": "soon", "name": "e", "source": "s", "value": "", "userID": "1", "metadata": {}},
              {"timestamp": "5", "name": "e", "source": "s", "value": "", "userID": "2", "metadata": {}}]
    with StatsigEmulator(events) as emu, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = _line() + 1
        read_events("e", base_url=emu.url, api_key=emu.api_key, errors="coerce", progress=False)
    (warning,) = [w for w in caught if issubclass(w.category, StatsigWarning)]
    assert "coerced" in str(warning.message)
    assert (warning.filename, warning.lineno) == (__file__, line)


def test_a_chunked_reads_warning_points_at_the_loop_over_its_chunks():
    good = [{"timestamp": str(1000 + i), "name": "e", "source": "s", "value": "", "userID": str(i)} for i in range(3)]
    bad_page = (b'{"data": [{"id": "x", "timestamp": "soon", "event_name": "e", "user_id": "1", "value": "",'
                b' "sdk_type": "s"}], "pagination": {"has_more": false}}')
    with StatsigEmulator(good) as emu, warnings.catch_warnings(record=True) as caught:
        emu.inject("malformed", path=LOGS_PATH, page=1, body=bad_page)
        warnings.simplefilter("always")
        chunks = read_events("e", base_url=emu.url, api_key=emu.api_key, errors="coerce", progress=False,
                             start="1970-01-01", end="1970-01-01 00:00:10", chunksize=10, max_concurrency=1)
        line = _line() + 1
        frames = list(chunks)
    assert [len(f) for f in frames] == [1] and frames[0]["timestamp"].isna().all()
    (warning,) = [w for w in caught if issubclass(w.category, StatsigWarning)]
    assert "coerced" in str(warning.message) and (warning.filename, warning.lineno) == (__file__, line)


def _line() -> int:
    import inspect

    return inspect.currentframe().f_back.f_lineno
