"""The event browser: explore a frame of events in a notebook without writing code.

:class:`EventBrowser` is built from core ipywidgets controls and PNG images
drawn by matplotlib only, so it works wherever ipywidgets does (JupyterLab,
Notebook, VS Code, Colab) and degrades to a static summary, table and chart
where widgets do not render (exported HTML, GitHub).

Everything a view needs is computed in the kernel: the filters become one
boolean mask over codes factorised once, the table sends 20 rows a page, and
only what a change touches is recomputed and redrawn.

:func:`browse` is the live variant: an event-name box, a Fetch button and a
progress bar in front of :func:`~statsig_pandas.read_events`.

The parts: :mod:`~statsig_pandas.browser.state` (the frame indexed for
filtering and the cached results, no widgets), :mod:`~statsig_pandas.browser.view`
(:class:`EventBrowser`), :mod:`~statsig_pandas.browser.analyses` (the funnel,
retention, lifecycle and paths tabs), :mod:`~statsig_pandas.browser.live`
(:class:`LiveEventBrowser`, :func:`browse`).
"""

from __future__ import annotations

from .live import LiveEventBrowser, browse
from .state import ALL, BrowserState, Filters
from .view import EventBrowser

__all__ = ["EventBrowser", "LiveEventBrowser", "browse", "ALL", "BrowserState", "Filters"]
