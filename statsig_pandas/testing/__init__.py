"""Test helpers users can rely on too: a real emulator of the API and synthetic events."""

from .emulator import Fault, RecordedRequest, StatsigEmulator
from .synthetic import synthetic_events

__all__ = ["StatsigEmulator", "Fault", "RecordedRequest", "synthetic_events"]
