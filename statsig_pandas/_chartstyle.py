"""What the figures of :mod:`~statsig_pandas.plotting` and the event browser's charts share.

Value labels, bucket names and the no-data note, so that a chart the browser
updates in place reads exactly as the plotting function draws it. Private to
the package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .analysis import display_label

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.text import Text

LABEL_CHARS = 40
FREQ_NAMES = {"s": "second", "min": "minute", "h": "hour", "D": "day", "W": "week", "MS": "month",
              "ME": "month", "M": "month", "QS": "quarter", "QE": "quarter", "YS": "year", "YE": "year"}


def short_label(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "\u2026"


def value_label(value: Any) -> str:
    """A value as a tick or legend label: ``""`` as ``(empty)``, long ones cut."""
    return short_label(display_label(value))


def bucket_name(freq: Any) -> str:
    text = freq if isinstance(freq, str) else getattr(freq, "freqstr", str(freq))
    return FREQ_NAMES.get(text) or FREQ_NAMES.get(text.split("-")[0]) or f"{text} bucket"


def no_data(ax: Axes) -> Text:
    """The note an empty chart shows in its middle."""
    return ax.text(0.5, 0.5, "No events", transform=ax.transAxes, ha="center", va="center", color="0.4")
