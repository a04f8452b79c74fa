"""statsig-pandas: Statsig event data in pandas and Jupyter.

>>> import statsig_pandas
>>> df = pd.read_statsig_events("add_to_cart")   # doctest: +SKIP

Importing the package adds ``pd.read_statsig_events`` and the ``df.statsig`` accessor. The public surface
is what ``__all__`` lists here (``from statsig_pandas import read_events``), plus five modules:

- ``statsig_pandas.analysis``: the plain functions behind ``df.statsig`` (``value_counts(df, ...)``, ...);
- ``statsig_pandas.plotting``: matplotlib charts of a frame, each taking ``ax=`` and returning the ``Axes``;
- ``statsig_pandas.dask``: ``read_events`` of a time range as a Dask DataFrame (the ``dask`` extra);
- ``statsig_pandas.report``: ``ReportHeader`` and ``TEMPLATE_NOTEBOOK``, to write a report template of
  your own for ``render_report(notebook=...)``;
- ``statsig_pandas.testing``: ``StatsigEmulator`` (the Console API over real HTTP on 127.0.0.1),
  ``synthetic_frame`` and ``synthetic_events``, for notebooks and tests.

The ``statsig-pandas`` command is ``statsig_pandas.cli``. Every other module (reader, frame, decode,
pagination, transport, ...) is the implementation: its public names are imported from here, and it may
change between releases. Modules with a leading underscore are private helpers.
"""

import importlib

import pandas as pd

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


# The browser pulls in ipywidgets and matplotlib (about half a second): imported only when one of its
# names is asked for, so scripts, Dask workers and report kernels that never browse do not pay for it.
_LAZY = {"EventBrowser": "browser", "LiveEventBrowser": "browser", "browse": "browser"}


def __getattr__(name: str):
    if name in _LAZY:
        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    # dir() and tab completion list the lazy names too, before their first use.
    return sorted(set(globals()) | set(_LAZY))


# pandas' own read_* live on the module; ours joins them. Plain assignment is
# idempotent, so a second import or importlib.reload() warns about nothing.
pd.read_statsig_events = read_events

# df.statsig. Registered once: a reload finds it there already (pandas would
# warn about overriding it), since accessor.py itself is not re-executed.
if getattr(pd.DataFrame, "statsig", None) is not StatsigAccessor:
    pd.api.extensions.register_dataframe_accessor("statsig")(StatsigAccessor)
