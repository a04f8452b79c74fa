"""statsig-pandas: Statsig event data in pandas and Jupyter.

>>> import statsig_pandas
>>> df = pd.read_statsig_events("add_to_cart")   # doctest: +SKIP
"""

from __future__ import annotations

import pandas as pd

from ._steps import Step
from ._version import __version__
from .accessor import StatsigAccessor
from .errors import (
    AuthenticationError,
    FrameSchemaError,
    NotFoundError,
    RateLimitError,
    ReportError,
    ResponseFormatError,
    StatsigAPIError,
    StatsigConnectionError,
    StatsigError,
    StatsigWarning,
)
from .frame import SCHEMA
from .pagination import ReadProgress
from .parquet import read_parquet, to_parquet
from .reader import read_events
from .report import render_report
from .retry import RetryPolicy

__all__ = [
    "__version__",
    "read_events",
    "to_parquet",
    "read_parquet",
    "render_report",
    "StatsigAccessor",
    "EventBrowser",
    "LiveEventBrowser",
    "browse",
    "RetryPolicy",
    "ReadProgress",
    "Step",
    "SCHEMA",
    "StatsigError",
    "StatsigAPIError",
    "AuthenticationError",
    "FrameSchemaError",
    "NotFoundError",
    "RateLimitError",
    "ReportError",
    "ResponseFormatError",
    "StatsigConnectionError",
    "StatsigWarning",
]


def __getattr__(name: str):
    # The browser pulls in ipywidgets and matplotlib (about half a second): only when it is asked for,
    # so scripts, Dask workers and report kernels that never browse do not pay for it.
    if name in ("EventBrowser", "LiveEventBrowser", "browse"):
        from . import browser

        return getattr(browser, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# pandas' own read_* live on the module; ours joins them. Plain assignment is
# idempotent, so a second import or importlib.reload() warns about nothing.
pd.read_statsig_events = read_events

# df.statsig. Registered once: a reload finds it there already (pandas would
# warn about overriding it), since accessor.py itself is not re-executed.
if getattr(pd.DataFrame, "statsig", None) is not StatsigAccessor:
    pd.api.extensions.register_dataframe_accessor("statsig")(StatsigAccessor)
