"""Shared reports: execute the report notebook and export one self-contained HTML file.

>>> from statsig_pandas import render_report
>>> render_report(["add_to_cart", "purchase"], "report.html", freq="D")   # doctest: +SKIP

The template, ``statsig_pandas/notebooks/event_report.ipynb``, is executed in
a fresh kernel of the running Python with :mod:`nbclient`; its cell tagged
``parameters`` is followed by an injected cell holding the caller's values.
The result is exported with :mod:`nbconvert` through the template in
``statsig_pandas/templates/statsig_report``: code hidden, images inlined, CSS
inline, and no ``<script>`` at all. Widget views are replaced by the static
fallback their ``_repr_mimebundle_`` carries, because no kernel stands behind a
shared report (and the stock template's require.js and widget manager come from
CDNs, so widget cells show blank offline).

The API key reaches the kernel through its environment only: never as a
parameter, so it is in no cell, output or metadata; the exported HTML is
checked for it before it is written.
"""

from __future__ import annotations

import ast
import base64
import datetime as _dt
import functools
import html
import importlib.util
import os
import re
import tempfile
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from ._fallback import with_image
from ._timebuckets import format_duration
from .endpoints import Provenance
from .errors import ReportError, StatsigError, redact
from .transport import KEY_ENV, URL_ENV

__all__ = ["render_report", "execute_notebook", "ReportError", "ReportHeader", "TEMPLATE_NOTEBOOK"]

#: The report template every ``render_report`` executes unless given another.
TEMPLATE_NOTEBOOK = resources.files("statsig_pandas") / "notebooks" / "event_report.ipynb"
_EXPORT_TEMPLATE = "statsig_report"
_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# Tags of cells that configure the run or guide a notebook user, and say nothing to a reader of the report.
_HIDDEN_TAGS = frozenset({"parameters", "injected-parameters", "notebook-only"})
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_REPORT_DEPS = ("nbclient", "nbconvert", "nbformat", "ipykernel")


# -- the provenance header the template shows first ---------------------------------------------

class ReportHeader:
    """What a report is about, from ``df.attrs["statsig"]``: events, source, fetched at, window.

    Displays as an HTML card in a notebook or report and as text elsewhere.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame returned by :func:`statsig_pandas.read_events`.
    title : str, optional
        Defaults to the event names.
    tz : str, optional
        Time zone the window is shown in (UTC if not given).
    source : str, optional
        How to name the data's origin; defaults to the API base URL that was read.

    Examples
    --------
    >>> df = read_events(["add_to_cart", "purchase"])            # doctest: +SKIP
    >>> ReportHeader(df, tz="Europe/Paris")                      # doctest: +SKIP
    """

    def __init__(self, df: pd.DataFrame, *, title: str | None = None, tz: str | None = None,
                 source: str | None = None):
        info = Provenance.of(df)
        names = info.event_names or sorted(map(str, df["name"].dropna().unique()))
        self.title = title or "Statsig events: " + ", ".join(names)
        self.tz = tz or "UTC"
        stamps = df["timestamp"].dropna()
        if len(stamps):
            first, last = stamps.min().tz_convert(self.tz), stamps.max().tz_convert(self.tz)
            window = f"{first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} {self.tz} ({format_duration(last - first)})"
        else:
            window = "no events"
        fetched = info.fetched_at
        if fetched:
            fetched = pd.Timestamp(fetched).tz_convert(self.tz).strftime(f"%Y-%m-%d %H:%M:%S {self.tz}")
        self.rows: dict[str, str] = {
            "Events": ", ".join(names),
            "Source": source or info.base_url or "unknown",
            "Fetched at": fetched or "unknown",
            "Window covered": window,
            "Rows": f"{len(df):,} events from {df['userID'].nunique():,} users",
        }
        if info.pages_read is not None:
            self.rows["Read"] = (f"{info.pages_read:,} pages of {info.endpoint or 'the events endpoint'}"
                                 f" (API version {info.api_version or '?'})")
        if info.duplicates_dropped:
            self.rows["Duplicates dropped"] = (f"{info.duplicates_dropped:,} (the window moved while "
                                               "it was read)")

    def __repr__(self) -> str:
        width = max(map(len, self.rows))
        return "\n".join([self.title] + [f"  {k:<{width}}  {v}" for k, v in self.rows.items()])

    def _repr_html_(self) -> str:
        from ._version import __version__

        cells = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                        for k, v in self.rows.items())
        return (f'<div class="sp-provenance"><h1>{html.escape(self.title)}</h1>'
                f'<table class="sp-provenance-table">{cells}</table>'
                f'<p class="sp-generated">Report generated {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC'
                f" by statsig-pandas {html.escape(__version__)}</p></div>")


# -- rendering ----------------------------------------------------------------------------------

def render_report(
    names: str | Iterable[str],
    path: str | os.PathLike,
    *,
    demo: bool = False,
    api_key: str | None = None,
    base_url: str | None = None,
    notebook: str | os.PathLike | None = None,
    progress: bool | None = None,
    cell_timeout: float = 600,
    **params: Any,
) -> Path:
    """Execute the report notebook for some events and write it as one offline HTML file.

    The HTML needs nothing but itself: images are inlined, the style sheet is
    inline, and it loads no script, style sheet or font from any host. Code
    cells are hidden; the event browser appears as its static fallback.

    Parameters
    ----------
    names : str or list of str
        Event names to report on.
    path : str or path-like
        Where to write the HTML. Written whole or not at all: a failure leaves
        no file behind (and an existing file untouched).
    demo : bool, default False
        Read synthetic events from the embedded emulator, which the report's
        kernel starts and stops: no account, no key, no network.
    api_key : str, optional
        Defaults to ``$STATSIG_CONSOLE_API_KEY``. It reaches the kernel through
        its environment, never as a notebook parameter.
    base_url : str, optional
        Defaults to ``$STATSIG_CONSOLE_API_URL``, else the Statsig API.
    notebook : str or path-like, optional
        Another template; defaults to :data:`TEMPLATE_NOTEBOOK`.
    progress : bool, optional
        Show a progress bar over the executed cells; by default when stderr is a terminal.
    cell_timeout : float, default 600
        Seconds one cell may run.
    **params
        Values for the template's ``parameters`` cell (for the default template:
        ``freq="D"``, ``tz=None``, ``top=10``, ``title=None``); Python literals only.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    StatsigError
        Bad names or parameters, no key, or the report dependencies are missing.
    ReportError
        A cell failed (the message names the cell and its error), or the
        kernel could not start.

    Examples
    --------
    >>> render_report("add_to_cart", "demo.html", demo=True, freq="h", tz="Europe/Paris")  # doctest: +SKIP
    PosixPath('demo.html')
    """
    from ._options import event_names

    _require_report_deps()
    import nbformat

    names = event_names(names)
    path = Path(path)
    if not path.parent.is_dir():
        raise StatsigError(f"cannot write {str(path)!r}: directory {str(path.parent)!r} does not exist")
    source = Path(notebook) if notebook is not None else TEMPLATE_NOTEBOOK
    try:
        with source.open(encoding="utf-8") as fh:
            nb = nbformat.read(fh, as_version=4)
    except (OSError, ValueError) as exc:  # missing file, or not a notebook (nbformat raises ValueError kinds)
        raise StatsigError(f"cannot read the report notebook {str(source)!r}: {exc}") from None
    inject_parameters(nb, {"names": names, "demo": bool(demo), **params})

    # The kernel needs its inline backend, and a demo run needs no key at all (so none can leak).
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND" and not (demo and k in (KEY_ENV, URL_ENV))}
    secret = None
    if not demo:
        secret = api_key or env.get(KEY_ENV)
        if not secret:
            raise StatsigError(f"no Statsig Console API key: set {KEY_ENV}, pass api_key=, or use demo=True")
        env[KEY_ENV] = secret
        if base_url:
            env[URL_ENV] = base_url
    with tempfile.TemporaryDirectory(prefix="statsig-report-") as workdir:
        execute_notebook(nb, env=env, cwd=workdir, progress=progress, cell_timeout=cell_timeout, secret=secret)
    page = export_html(nb, title=params.get("title") or ", ".join(names))
    if secret and secret in page:  # the last line of defence; nothing upstream should let it through
        raise ReportError("the report would contain the API key; it was not written")
    _write_atomically(path, page)
    return path


def _require_report_deps() -> None:
    missing = [module for module in _REPORT_DEPS if importlib.util.find_spec(module) is None]
    if missing:
        raise StatsigError(f"rendering reports needs {', '.join(missing)}: "
                           "pip install 'statsig-pandas[report]'")


def inject_parameters(nb, params: dict[str, Any]) -> None:
    """Insert a cell tagged ``injected-parameters`` after the one tagged ``parameters``.

    Only names the ``parameters`` cell assigns are accepted, and only values
    that survive ``repr`` -> ``literal_eval`` unchanged, so the injected cell is
    plain data and can run no code of the caller's.
    """
    import nbformat

    index = next((i for i, c in enumerate(nb.cells)
                  if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])), None)
    if index is None:
        raise StatsigError("the report notebook has no cell tagged 'parameters'")
    known = _assigned_names(nb.cells[index].source)
    unknown = sorted(set(params) - known)
    if unknown:
        raise StatsigError(f"unknown report parameter(s) {', '.join(map(repr, unknown))}; "
                           f"the template takes {', '.join(sorted(known))}")
    lines = ["# Parameters of this run"]
    for name, value in params.items():
        text = repr(value)
        try:
            same = ast.literal_eval(text) == value
        except (ValueError, SyntaxError):
            same = False
        if not same:
            raise StatsigError(f"report parameter {name}={value!r} must be a plain Python literal "
                               "(str, number, bool, None, or a list of them)")
        lines.append(f"{name} = {text}")
    cell = nbformat.v4.new_code_cell("\n".join(lines), metadata={"tags": ["injected-parameters"]})
    nb.cells.insert(index + 1, cell)


def _assigned_names(source: str) -> set[str]:
    names = set()
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


@functools.cache
def _kernel_manager_class():
    """A kernel manager for this very Python.

    Looking ``python3`` up among installed kernelspecs could find a user-level
    spec that points at another interpreter (without statsig_pandas); the spec
    ipykernel builds from ``sys.executable`` cannot.
    """
    from ipykernel.kernelspec import RESOURCES, get_kernel_dict
    from jupyter_client import AsyncKernelManager
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from traitlets import default

    class ThisPythonKernelSpecs(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            return KernelSpec(resource_dir=RESOURCES, **get_kernel_dict())

    class ThisPythonKernelManager(AsyncKernelManager):
        @default("kernel_spec_manager")
        def _default_kernel_spec_manager(self):
            return ThisPythonKernelSpecs(parent=self)

    return ThisPythonKernelManager


def execute_notebook(nb, *, env: dict | None = None, cwd: str | os.PathLike | None = None,
                     progress: bool | None = None, cell_timeout: float = 600, secret: str | None = None) -> None:
    """Execute ``nb`` in place in a fresh kernel of this Python, stopping at the first failing cell.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook; its outputs are filled in.
    env : dict, optional
        The kernel's whole environment (default: this process's).
    cwd : str or path-like, optional
        The kernel's working directory (default: the current one).
    progress : bool, optional
        A progress bar over code cells; by default when stderr is a terminal.
    cell_timeout : float, default 600
        Seconds one cell may run.
    secret : str, optional
        Scrubbed from error messages.

    Raises
    ------
    ReportError
        Naming the failing cell (number, section heading, first line) and its error.

    Examples
    --------
    >>> nb = nbformat.read("notebooks/quickstart.ipynb", as_version=4)   # doctest: +SKIP
    >>> execute_notebook(nb, progress=True)                              # doctest: +SKIP
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellControlSignal, CellExecutionError, DeadKernelError
    from tqdm.auto import tqdm
    from traitlets.config import Config

    # Cells are numbered (and counted by the bar) as in the template file, which has no injected cell.
    numbered = [i for i, c in enumerate(nb.cells)
                if c.cell_type == "code" and "injected-parameters" not in c.metadata.get("tags", [])]
    current = {"index": None}
    bar = tqdm(total=len(numbered), desc="report", unit=" cells", disable=None if progress is None else not progress)

    def on_start(cell, cell_index):
        current["index"] = cell_index
        bar.set_postfix_str(_section(nb, cell_index)[:40], refresh=True)

    def on_executed(cell, cell_index, execute_reply):
        bar.update(1 if cell_index in numbered else 0)

    cwd = str(cwd or os.getcwd())
    sockets = tempfile.TemporaryDirectory(prefix="statsig-kernel-")
    config = Config()
    if os.name == "posix":
        # Unix sockets in a private directory: nothing listens on TCP, and the kernel does not
        # warn about unencrypted TCP on every run. The path is absolute: the kernel runs in cwd.
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = os.path.join(sockets.name, "kernel")
    client = NotebookClient(nb, kernel_name="python3", kernel_manager_class=_kernel_manager_class(),
                            config=config, timeout=cell_timeout, startup_timeout=120, allow_errors=False,
                            resources={"metadata": {"path": cwd}}, on_cell_start=on_start,
                            on_cell_executed=on_executed)
    try:
        client.execute(env=dict(os.environ) if env is None else env, cwd=cwd)
    except (CellExecutionError, CellControlSignal, DeadKernelError) as exc:
        index = current["index"]
        ename, evalue = getattr(exc, "ename", None) or type(exc).__name__, getattr(exc, "evalue", None)
        if evalue is None:
            evalue = str(exc).strip().splitlines()[-1] if str(exc).strip() else ""
        where = _describe_cell(nb, index, numbered) if index is not None else "starting the kernel"
        message = redact(_ANSI.sub("", f"{where} failed: {ename}: {evalue}"), secret)
        raise ReportError(message, cell=numbered.index(index) + 1 if index in numbered else None,
                          ename=ename, evalue=redact(_ANSI.sub("", str(evalue)), secret)) from None
    except Exception as exc:  # the kernel could not start or the connection broke
        if current["index"] is not None:
            raise
        raise ReportError(redact(f"could not start a Python kernel for the report: {exc}", secret)) from None
    finally:
        bar.close()
        sockets.cleanup()


def _section(nb, index: int) -> str:
    """The heading of the markdown cell above ``index``, which is what a reader of the report sees."""
    for cell in reversed(nb.cells[:index]):
        if cell.cell_type == "markdown" and not _HIDDEN_TAGS & set(cell.metadata.get("tags", [])):
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return "setup"


def _describe_cell(nb, index: int, numbered: list[int]) -> str:
    lines = [s for s in nb.cells[index].source.splitlines() if s.strip() and not s.lstrip().startswith("#")]
    first = lines[0].strip() if lines else ""
    if len(first) > 60:
        first = first[:57] + "..."
    number = f"cell {numbered.index(index) + 1} of {len(numbered)}" if index in numbered else "parameters cell"
    return f"report {number} (section {_section(nb, index)!r}: {first})"


# -- export --------------------------------------------------------------------------------------

def static_outputs(nb) -> None:
    """Make an executed notebook fit for a report with no kernel and no script behind it.

    Drops the parameter cells (and those tagged ``notebook-only``), widget
    state and script outputs; replaces each widget view by its static fallback
    (its ``text/html``, with the ``image/png`` of the same bundle placed under
    the headline when the HTML has no image); and gives every image an
    alternative text naming its section.
    """
    nb.cells = [c for c in nb.cells if not _HIDDEN_TAGS & set(c.metadata.get("tags", []))]
    nb.metadata.pop("widgets", None)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        alt = f"Chart: {_section(nb, index)}"
        outputs = []
        for out in cell.get("outputs", []):
            data = out.get("data")
            if data is None:
                outputs.append(out)
                continue
            data.pop("application/javascript", None)
            widget = data.pop(_WIDGET_VIEW, None)
            if "image/png" in data:
                img = _img(data["image/png"], alt, out.get("metadata", {}).get("image/png", {}))
                if "text/html" not in data:
                    data["text/html"] = f'<div class="sp-figure">{img}</div>'
                elif widget is not None:
                    data["text/html"] = with_image(data["text/html"], img)
            if widget is not None and not set(data) - {"text/plain"}:
                continue  # "VBox(children=...)" tells a reader nothing
            outputs.append(out)
        cell.outputs = outputs


def _img(png, alt: str, metadata: dict) -> str:
    b64 = png if isinstance(png, str) else base64.b64encode(png).decode()
    # Retina figures carry their display size; without it they would show at twice the size.
    size = "".join(f' {k}="{int(metadata[k])}"' for k in ("width", "height") if metadata.get(k))
    return f'<img alt="{html.escape(alt)}"{size} src="data:image/png;base64,{b64}">'


def export_html(nb, *, title: str) -> str:
    """Export an executed notebook as the report's self-contained HTML (see :func:`static_outputs`)."""
    from nbconvert import HTMLExporter

    static_outputs(nb)
    exporter = HTMLExporter(template_name=_EXPORT_TEMPLATE,
                            extra_template_basedirs=[str(resources.files("statsig_pandas") / "templates")],
                            exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
                            embed_images=True)
    page, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    return page


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, _file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _file_mode(path: Path) -> int:
    """Keep the mode of the file replaced, else what open() would give (mkstemp makes 0600)."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
