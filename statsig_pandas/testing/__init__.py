"""Test helpers users can rely on too: a real emulator of the API and synthetic events.

>>> from statsig_pandas.testing import synthetic_frame
>>> len(synthetic_frame(100, seed=1, end_ms=1_774_000_000_000))
100
"""

from .emulator import Fault, RecordedRequest, StatsigEmulator
from .synthetic import synthetic_events, synthetic_frame

__all__ = ["StatsigEmulator", "Fault", "RecordedRequest", "synthetic_events", "synthetic_frame"]
