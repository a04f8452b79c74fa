"""Pieces the fault tests share: quick retries, events of known times, page bodies."""

from __future__ import annotations

import json
import warnings

import pandas as pd

from statsig_pandas import RetryPolicy

DAY = 86_400_000
T0 = 1_790_035_200_000  # 2026-09-22T00:00:00Z: a midnight
QUICK = RetryPolicy(max_attempts=3, backoff_base=0.01, backoff_cap=0.02, jitter=lambda: 0.0)


def ms(value: int) -> pd.Timestamp:
    return pd.Timestamp(value, unit="ms", tz="UTC")


def ev(ts, *, name="buy", value="v", user="1", meta=None):
    """An event in the events endpoint's shape."""
    return {"timestamp": str(ts), "name": name, "source": "js-client", "value": value, "userID": user,
            "metadata": meta or {}}


def log_item(ts: int, *, id_: str, name: str = "buy") -> dict:
    """An item in the logs endpoint's shape."""
    return {"id": id_, "timestamp": ms(ts).isoformat().replace("+00:00", "Z"), "event_name": name,
            "user_id": "1", "value": "v", "sdk_type": "js-client", "sdk_version": "1.0"}


def events_body(data, **pagination) -> bytes:
    return json.dumps({"message": "Event values listed successfully.", "data": data,
                       "pagination": pagination}).encode()


def opts(emu, **kwargs):
    kwargs.setdefault("progress", False)
    return dict(api_key=emu.api_key, base_url=emu.url, **kwargs)


class Outcome:
    """What a call did: its result, the typed error it raised, the warnings it gave."""

    def __init__(self, call, *errors):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            self.result, self.error = None, None
            try:
                self.result = call()
            except errors as exc:
                self.error = exc
        self.warnings = [str(w.message) for w in caught]


