"""The retry policy, as small pure functions.

Statsig counts rejected attempts against the project's quota, so retries are
few and bounded both in number and in total time. The only randomness is the
``jitter`` callable of :class:`RetryPolicy`, so tests can pin it.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["RetryPolicy", "is_retryable_status", "parse_retry_after", "backoff_delay", "retry_delay"]

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a failed request.

    Parameters
    ----------
    max_attempts : int
        Attempts in all, the first included.
    max_elapsed : float
        Seconds after the first attempt beyond which no retry is started.
    backoff_base, backoff_cap : float
        Exponential backoff: ``base * 2**(n-1)`` seconds before retry ``n``, capped.
    retry_after_cap : float
        The longest ``Retry-After`` honoured; a longer one is cut to this.
    jitter : callable
        Returns a float in [0, 1); the delay is scaled into [50%, 100%) by it.
    """

    max_attempts: int = 5
    max_elapsed: float = 120.0
    backoff_base: float = 0.5
    backoff_cap: float = 16.0
    retry_after_cap: float = 60.0
    jitter: Callable[[], float] = field(default=random.random, compare=False)


def is_retryable_status(status: int) -> bool:
    """429 and the transient 5xx statuses are retried; every other status is final."""
    return status in RETRYABLE_STATUSES


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date).

    Returns None for a missing or unreadable header; never a negative number.
    """
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def backoff_delay(attempt: int, policy: RetryPolicy) -> float:
    """Delay before retry number ``attempt`` (1 = the first retry), with jitter."""
    raw = min(policy.backoff_cap, policy.backoff_base * 2 ** (attempt - 1))
    return raw * (0.5 + 0.5 * policy.jitter())


def retry_delay(attempt: int, retry_after: float | None, policy: RetryPolicy) -> float:
    """The server's ``Retry-After`` (capped) when it gave one, else backoff."""
    if retry_after is not None:
        return min(retry_after, policy.retry_after_cap)
    return backoff_delay(attempt, policy)
