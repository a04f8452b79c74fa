"""Checks of the arguments every entry point shares, each written once."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .errors import StatsigError


def positive_int(value: Any, what: str, *, allow_none: bool = True) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise StatsigError(f"{what} must be a positive integer{' or None' if allow_none else ''}, not {value!r}")
    return int(value)


def positive_timedelta(value: Any, what: str) -> pd.Timedelta:
    """``value`` (``"30min"``, ``"14D"``, a Timedelta, ...) as a positive Timedelta."""
    try:
        delta = pd.Timedelta(value)
    except (TypeError, ValueError) as exc:
        raise StatsigError(f"{what}={value!r} is not a length of time: {exc}") from None
    if delta is pd.NaT or delta <= pd.Timedelta(0):
        raise StatsigError(f"{what} must be a positive length of time, not {value!r}")
    return delta
