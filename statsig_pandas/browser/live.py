"""The live browser: an event-name box, a Fetch button and a progress bar in front of the reader.

The progress bar follows the reader's own progress reports (``read_events(...,
progress=callback)``), one per page read.
"""

from __future__ import annotations

import html
import threading
import time
import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING

import ipywidgets as widgets
import pandas as pd

from ..errors import AuthenticationError, NotFoundError, StatsigConnectionError, StatsigError, StatsigWarning, redact
from ..reader import read_events
from .view import EventBrowser

if TYPE_CHECKING:
    from ..pagination import ReadProgress

__all__ = ["LiveEventBrowser", "browse"]


class _ProgressBar:
    """Shows the reader's progress reports on a bar and a label, at most every ``every`` seconds
    (a million events are 10,000 pages); :meth:`show` shows the last report at once."""

    def __init__(self, bar: widgets.IntProgress, label: widgets.Label, *, every: float = 0.1):
        self.bar, self.label, self.every = bar, label, every
        self.last: ReadProgress | None = None
        self._shown = 0.0
        self._lock = threading.Lock()  # reports may come from the reader's worker threads

    def __call__(self, progress: ReadProgress) -> None:
        with self._lock:
            self.last = progress
            now = time.monotonic()
            if now - self._shown >= self.every:
                self._shown = now
                self._draw(progress)

    def show(self) -> None:
        with self._lock:
            if self.last is not None:
                self._draw(self.last)

    def _draw(self, progress: ReadProgress) -> None:
        expected = progress.total if progress.total is not None else progress.rows
        self.bar.max = max(expected, progress.rows, 1)
        self.bar.value = progress.rows
        self.label.value = f"{progress.rows:,} / {expected:,} events"


def _readable(exc: BaseException) -> str:
    """One line a user can act on, for an error shown in the UI."""
    if isinstance(exc, AuthenticationError):
        hint = "the API refused the key; check STATSIG_CONSOLE_API_KEY (a Console key) or pass api_key="
    elif isinstance(exc, NotFoundError):
        hint = "no such event (or endpoint); check the event name"
    elif isinstance(exc, StatsigConnectionError):
        hint = "could not reach the Statsig API"
    elif isinstance(exc, StatsigError):
        hint = "could not read the events"
    else:
        hint = f"unexpected error ({type(exc).__name__})"
    return f"{hint}: {exc}"


class LiveEventBrowser:
    """Fetch events by name with :func:`~statsig_pandas.read_events`, then browse them.

    An event-name box, a Fetch button and a progress bar; once the events are
    read, an :class:`EventBrowser` over them appears below. Errors (a bad key,
    an unknown event, the network) show as a message, not a traceback.

    Use :func:`browse` to make one.

    Attributes
    ----------
    names, fetch_button, progress, status : ipywidgets widgets
        The input box, the button, the progress bar and the message line.
    frame : pandas.DataFrame or None
        The events of the last successful fetch.
    browser : EventBrowser or None
        The browser over ``frame``.
    widget : ipywidgets.VBox
        The whole UI.
    """

    def __init__(self, names: str | Iterable[str] | None = None, *, debounce: float = 0.2, **read_options):
        self._read_options = read_options
        self._secret = read_options.get("api_key")
        self._debounce = debounce
        text = names if isinstance(names, str) else ", ".join(names or ())
        self.names = widgets.Text(value=text, placeholder="event names, comma-separated", description="Events",
                                  layout=widgets.Layout(width="420px"))
        self.fetch_button = widgets.Button(description="Fetch", icon="cloud-download", button_style="primary")
        self.progress = widgets.IntProgress(value=0, min=0, max=1, layout=widgets.Layout(width="240px",
                                                                                            visibility="hidden"))
        self.progress_label = widgets.Label()
        self.status = widgets.HTML()
        self.area = widgets.VBox()
        self.frame: pd.DataFrame | None = None
        self.browser: EventBrowser | None = None
        for name, widget in (("names", self.names), ("fetch", self.fetch_button), ("progress", self.progress),
                             ("progress-label", self.progress_label), ("status", self.status)):
            widget.add_class(f"statsig-live-{name}")
        self.widget = widgets.VBox([
            widgets.HBox([self.names, self.fetch_button, self.progress, self.progress_label],
                         layout=widgets.Layout(align_items="center")),
            self.status,
            self.area,
        ])
        self.widget.add_class("statsig-live")
        self.fetch_button.on_click(lambda _: self.fetch())

    def fetch(self) -> pd.DataFrame | None:
        """Read the events named in the box and show a browser over them.

        Returns the frame, or None when the read failed (the message says why).
        """
        names = [n.strip() for n in self.names.value.split(",") if n.strip()]
        if not names:
            self._say("type one or more event names, separated by commas", error=True)
            return None
        self.fetch_button.disabled = True
        self.progress.value, self.progress.max, self.progress.bar_style = 0, 1, "info"
        self.progress.layout.visibility = "visible"
        self.progress_label.value = ""
        self._say(f"reading {', '.join(names)}…")
        shown = _ProgressBar(self.progress, self.progress_label)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", StatsigWarning)
                frame = read_events(names, progress=shown, **self._read_options)
        except Exception as exc:  # shown to the user instead of a traceback in a log
            self.progress.bar_style = "danger"
            self._say(_readable(exc), error=True)
            return None
        finally:
            self.fetch_button.disabled = False
        shown.show()  # the last report, which the throttle may have held back
        self.progress.bar_style = "success"
        self.frame = frame
        self.browser = EventBrowser(frame, debounce=self._debounce)
        self.area.children = (self.browser.widget,)
        notes = "".join(f"<br><i>note: {html.escape(redact(str(w.message), self._secret))}</i>"
                        for w in caught if issubclass(w.category, StatsigWarning))
        self.status.value = f"read {len(frame):,} events of {html.escape(', '.join(names))}{notes}"
        return frame

    def _say(self, text: str, *, error: bool = False) -> None:
        text = html.escape(redact(text, self._secret))
        self.status.value = f"<span style='color:#b00'>{text}</span>" if error else text

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        bundle = dict(self.widget._repr_mimebundle_(include=include, exclude=exclude) or {})
        bundle["text/plain"] = repr(self)
        return bundle

    def __repr__(self) -> str:
        state = f"{len(self.frame):,} events" if self.frame is not None else "nothing fetched yet"
        return f"<LiveEventBrowser {state}>"


def browse(names: str | Iterable[str] | None = None, *, api_key: str | None = None, base_url: str | None = None,
           page_size: int = 100, max_concurrency: int = 4, errors: str = "raise", timeout: float = 30,
           debounce: float = 0.2) -> LiveEventBrowser:
    """Fetch Statsig events from a notebook and browse them.

    Shows an event-name box, a Fetch button and a progress bar. Fetch reads
    the events with :func:`~statsig_pandas.read_events` (the key comes from
    ``$STATSIG_CONSOLE_API_KEY`` unless given) and shows an
    :class:`EventBrowser` over them; errors show as a readable message.

    Parameters
    ----------
    names : str or list of str, optional
        Event names to fill the box with.
    api_key, base_url, page_size, max_concurrency, errors, timeout
        Passed to :func:`~statsig_pandas.read_events`.
    debounce : float, default 0.2
        Passed to :class:`EventBrowser`.

    Returns
    -------
    LiveEventBrowser
        Display it (leave it last in a cell); ``.frame`` holds the events read.

    Examples
    --------
    >>> import statsig_pandas
    >>> live = statsig_pandas.browse("add_to_cart")   # doctest: +SKIP
    >>> live                                            # doctest: +SKIP
    >>> live.frame.statsig.summary()                    # doctest: +SKIP
    """
    return LiveEventBrowser(names, debounce=debounce, api_key=api_key, base_url=base_url, page_size=page_size,
                            max_concurrency=max_concurrency, errors=errors, timeout=timeout)
