"""The retry policy's pure functions, with jitter pinned."""

from __future__ import annotations

import email.utils

import pytest

from statsig_pandas.retry import RetryPolicy, backoff_delay, is_retryable_status, parse_retry_after, retry_delay


@pytest.mark.parametrize("status, retry", [(429, True), (500, True), (502, True), (503, True), (504, True),
                                           (400, False), (401, False), (403, False), (404, False), (200, False)])
def test_only_throttling_and_transient_server_errors_are_retried(status, retry):
    assert is_retryable_status(status) is retry


def test_retry_after_in_seconds():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-4") == 0.0


def test_retry_after_as_http_date():
    now = 1_800_000_000.0
    header = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after(header, now=now) == pytest.approx(30)
    past = email.utils.formatdate(now - 30, usegmt=True)
    assert parse_retry_after(past, now=now) == 0.0


@pytest.mark.parametrize("header", [None, "", "soon", "Mon, 99 Foo 2024"])
def test_unreadable_retry_after_is_ignored(header):
    assert parse_retry_after(header) is None


def test_backoff_grows_exponentially_up_to_the_cap_with_pinned_jitter():
    top = RetryPolicy(backoff_base=0.5, backoff_cap=4.0, jitter=lambda: 0.999999)
    bottom = RetryPolicy(backoff_base=0.5, backoff_cap=4.0, jitter=lambda: 0.0)
    assert [round(backoff_delay(n, top), 3) for n in range(1, 6)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert [backoff_delay(n, bottom) for n in range(1, 6)] == [0.25, 0.5, 1.0, 2.0, 2.0]


def test_retry_after_wins_over_backoff_but_is_capped():
    policy = RetryPolicy(retry_after_cap=10.0, jitter=lambda: 0.0)
    assert retry_delay(1, 7.0, policy) == 7.0
    assert retry_delay(1, 3600.0, policy) == 10.0
    assert retry_delay(3, None, policy) == backoff_delay(3, policy)
