"""Checks of the arguments every entry point shares, each written once."""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import StatsigError


def positive_int(value: Any, what: str, *, allow_none: bool = True) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise StatsigError(f"{what} must be a positive integer{' or None' if allow_none else ''}, not {value!r}")
    return int(value)
