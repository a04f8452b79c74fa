"""Shared reports: parameters, static export, key safety, failures, and the rendered demo report.

Tests marked ``notebook`` start a real kernel; the rest check the export
machinery on notebooks built by hand. The report as Chromium shows it is
tested in ``tests/e2e/test_report_in_chromium.py``.
"""

from __future__ import annotations

import base64
import hashlib
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from statsig_pandas import read_events
from statsig_pandas.errors import StatsigError
from statsig_pandas.report import (
    TEMPLATE_NOTEBOOK,
    ReportError,
    ReportHeader,
    export_html,
    inject_parameters,
    render_report,
    static_outputs,
)
from statsig_pandas.testing import StatsigEmulator

PLANTED = "console-PLANTED-s3cr3t-d0-not-leak-7f3a9c"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 32).decode()
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
SECTIONS = ["Summary", "Events over time", "Unique users", "Top values", "When users are active",
            "Event browser"]


class _Refs(HTMLParser):
    """Every URL the page would load or link to, and every script element."""

    def __init__(self):
        super().__init__()
        self.urls, self.scripts = [], 0

    def handle_starttag(self, tag, attrs):
        self.scripts += tag == "script"
        self.urls += [v for k, v in attrs if k in ("src", "href", "srcset", "data", "poster") and v]


def external_references(page: str) -> list[str]:
    """URLs a browser would fetch from another host: attributes, CSS url() and @import."""
    parser = _Refs()
    parser.feed(page)
    urls = parser.urls + re.findall(r"url\(\s*['\"]?([^'\")]+)", page) + re.findall(r"@import\s+['\"]([^'\"]+)", page)
    return [u for u in urls if not u.startswith(("data:", "#"))]


def script_count(page: str) -> int:
    parser = _Refs()
    parser.feed(page)
    return parser.scripts


def tiny_notebook(*cells) -> nbformat.NotebookNode:
    params = new_code_cell('names = ["x"]\ndemo = False\nfreq = "D"', metadata={"tags": ["parameters"]})
    return new_notebook(cells=[params, *cells])


def write_notebook(nb, path: Path) -> Path:
    nbformat.write(nb, path)
    return path


# -- parameters ---------------------------------------------------------------------------------

def test_parameters_are_injected_after_the_parameters_cell_as_plain_literals():
    nb = tiny_notebook(new_code_cell("print(names)"))
    inject_parameters(nb, {"names": ["add_to_cart", "it's"], "freq": "h", "demo": True})
    injected = nb.cells[1]
    assert injected.metadata["tags"] == ["injected-parameters"]
    namespace: dict = {}
    exec(injected.source, namespace)  # our own generated literals
    assert namespace["names"] == ["add_to_cart", "it's"] and namespace["freq"] == "h" and namespace["demo"] is True
    assert nb.cells[2].source == "print(names)"


def test_unknown_parameter_is_refused_naming_it_and_the_known_ones():
    with pytest.raises(StatsigError, match=r"'frequency'.*takes demo, freq, names"):
        inject_parameters(tiny_notebook(), {"frequency": "h"})


def test_non_literal_parameter_is_refused():
    with pytest.raises(StatsigError, match="plain Python literal"):
        inject_parameters(tiny_notebook(), {"freq": pd.Timestamp("2024-01-01")})


def test_template_without_parameters_cell_is_refused():
    with pytest.raises(StatsigError, match="no cell tagged 'parameters'"):
        inject_parameters(new_notebook(cells=[new_code_cell("1")]), {})


def test_the_template_accepts_every_option_of_the_cli():
    nb = nbformat.read(TEMPLATE_NOTEBOOK.open(encoding="utf-8"), as_version=4)
    inject_parameters(nb, {"names": ["a"], "freq": "W", "tz": "Europe/Paris", "top": 5, "title": "T",
                           "demo": False})


# -- export -------------------------------------------------------------------------------------

def executed_by_hand() -> nbformat.NotebookNode:
    """What a kernel leaves behind: a parameters cell, a widget with a fallback, one without, a plot."""
    nb = tiny_notebook(
        new_markdown_cell("## Section A"),
        new_code_cell("secret_code_here()", outputs=[new_output(
            "execute_result", execution_count=2,
            data={"text/html": "<table class='dataframe'><tr><td>42</td></tr></table>", "text/plain": "42"})]),
        new_code_cell("browser", outputs=[new_output("display_data", data={
            WIDGET_VIEW: {"model_id": "abc", "version_major": 2, "version_minor": 0},
            "text/html": "<p class='fallback'>3 events</p>", "image/png": PNG, "text/plain": "<EventBrowser>"})]),
        new_code_cell("slider", outputs=[new_output("display_data", data={
            WIDGET_VIEW: {"model_id": "def", "version_major": 2, "version_minor": 0},
            "text/plain": "IntSlider(value=0)"})]),
        new_code_cell("js", outputs=[new_output("display_data", data={
            "application/javascript": "alert(1)", "text/plain": "<js>"})]),
        new_code_cell("plot()", outputs=[new_output("display_data", data={"image/png": PNG,
                                                                           "text/plain": "<Figure>"})]),
    )
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {"abc": {}}}}
    return nb


def test_widget_views_become_their_static_fallback_with_the_image():
    nb = executed_by_hand()
    static_outputs(nb)
    assert "widgets" not in nb.metadata
    assert not any("parameters" in " ".join(c.metadata.get("tags", [])) for c in nb.cells)
    browser = nb.cells[2].outputs[0].data
    assert WIDGET_VIEW not in browser
    assert browser["text/html"].startswith("<p class='fallback'>3 events</p><img ")  # headline, then picture
    assert f'alt="Chart: Section A" src="data:image/png;base64,{PNG}"' in browser["text/html"]
    assert nb.cells[3].outputs == []  # a widget with nothing but "IntSlider(...)" shows nothing
    assert "application/javascript" not in nb.cells[4].outputs[0].data


def test_exported_page_is_self_contained_with_code_hidden():
    page = export_html(executed_by_hand(), title="A & B")
    assert script_count(page) == 0
    assert external_references(page) == []
    assert "secret_code_here" not in page and "names = " not in page  # inputs and parameters hidden
    assert "<title>A &amp; B</title>" in page
    assert page.count(f"data:image/png;base64,{PNG}") == 2  # the browser snapshot and the plot
    assert page.count('alt="Chart: Section A"') == 2
    assert "<td>42</td>" in page and "3 events" in page
    assert "IntSlider" not in page and "alert(1)" not in page
    assert "<style>" in page and "font-family" in page


# -- the provenance header ----------------------------------------------------------------------

def test_report_header_tells_what_where_when_and_which_window():
    with StatsigEmulator(n_events=300, seed=3, names=("add_to_cart", "<b>odd</b>")) as emu:
        df = read_events(["add_to_cart", "<b>odd</b>"], base_url=emu.url, api_key=emu.api_key)
    header = ReportHeader(df, tz="Europe/Paris")
    rows = header.rows
    assert rows["Events"] == "add_to_cart, <b>odd</b>"
    assert rows["Source"] == df.attrs["statsig"]["base_url"]
    first = df["timestamp"].min().tz_convert("Europe/Paris")
    assert rows["Window covered"].startswith(f"{first:%Y-%m-%d %H:%M} to ")
    assert rows["Window covered"].endswith(")") and "Europe/Paris" in rows["Window covered"]
    fetched = pd.Timestamp(df.attrs["statsig"]["fetched_at"]).tz_convert("Europe/Paris")
    assert rows["Fetched at"] == fetched.strftime("%Y-%m-%d %H:%M:%S Europe/Paris")
    assert rows["Rows"] == f"{len(df):,} events from {df['userID'].nunique():,} users"
    assert "&lt;b&gt;odd&lt;/b&gt;" in header._repr_html_() and "<b>odd</b>" not in header._repr_html_()
    assert "add_to_cart" in repr(header)
    assert emu.api_key not in header._repr_html_() + repr(header)


def test_report_header_of_an_empty_frame_says_so():
    from statsig_pandas.frame import empty_frame

    header = ReportHeader(empty_frame(), source="nowhere")
    assert header.rows["Window covered"] == "no events" and header.rows["Source"] == "nowhere"


# -- refusals before any kernel starts -----------------------------------------------------------

def test_no_key_is_a_clear_error_and_writes_nothing(tmp_path):
    out = tmp_path / "r.html"
    with pytest.raises(StatsigError, match=r"STATSIG_CONSOLE_API_KEY.*demo=True"):
        render_report("add_to_cart", out)
    assert list(tmp_path.iterdir()) == []


def test_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(StatsigError, match="does not exist"):
        render_report("add_to_cart", tmp_path / "nope" / "r.html", demo=True)


def test_a_template_that_is_not_a_notebook_is_a_clear_error(tmp_path):
    (tmp_path / "t.ipynb").write_text("not json")
    with pytest.raises(StatsigError, match="cannot read the report notebook"):
        render_report("x", tmp_path / "r.html", notebook=tmp_path / "t.ipynb", demo=True)
    with pytest.raises(StatsigError, match="cannot read the report notebook"):
        render_report("x", tmp_path / "r.html", notebook=tmp_path / "missing.ipynb", demo=True)


def test_bad_event_names_are_refused(tmp_path):
    with pytest.raises(StatsigError, match="no event names"):
        render_report([], tmp_path / "r.html", demo=True)


# -- with a kernel ------------------------------------------------------------------------------

@pytest.mark.notebook
def test_failing_cell_is_named_without_the_key_and_leaves_no_report(tmp_path):
    nb = tiny_notebook(new_markdown_cell("## Loading"), new_code_cell("import os\nx = 1"),
                       new_markdown_cell("## Totals"),
                       new_code_cell("# sum them\n"
                                     "raise ValueError('no total for ' + os.environ['STATSIG_CONSOLE_API_KEY'])"),
                       new_code_cell("print('never')"))
    template = write_notebook(nb, tmp_path / "t.ipynb")
    out = tmp_path / "out"
    out.mkdir()
    (out / "r.html").write_text("the previous report")
    with pytest.raises(ReportError) as caught:
        render_report("x", out / "r.html", notebook=template, api_key=PLANTED, progress=False)
    message = str(caught.value)
    assert "cell 3 of 4" in message and "'Totals'" in message and "raise ValueError" in message
    assert "ValueError: no total for " in message
    assert caught.value.cell == 3 and caught.value.ename == "ValueError"
    assert PLANTED not in message and PLANTED not in caught.value.evalue
    assert (out / "r.html").read_text() == "the previous report"  # untouched, and no temp file left
    assert [p.name for p in out.iterdir()] == ["r.html"]


@pytest.mark.notebook
def test_kernel_is_this_python_and_gets_the_key_only_through_its_environment(tmp_path, monkeypatch):
    # A user-level "python3" kernelspec for another interpreter must not be picked up.
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text('{"argv": ["/bin/false", "{connection_file}"], '
                                      '"display_name": "other", "language": "python"}')
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "jupyter"))
    nb = tiny_notebook(new_code_cell(
        "import hashlib, os, sys\n"
        "print('kernel python:', sys.executable)\n"
        "print('key sha256', hashlib.sha256(os.environ['STATSIG_CONSOLE_API_KEY'].encode()).hexdigest())"))
    template = write_notebook(nb, tmp_path / "t.ipynb")
    out = render_report("x", tmp_path / "r.html", notebook=template, api_key=PLANTED, progress=False)
    page = out.read_text()
    assert f"kernel python: {sys.executable}" in page
    assert f"key sha256 {hashlib.sha256(PLANTED.encode()).hexdigest()}" in page
    assert PLANTED not in page and PLANTED not in template.read_text()


@pytest.mark.notebook
def test_a_report_that_would_show_the_key_is_not_written(tmp_path):
    nb = tiny_notebook(new_code_cell("import os\nprint(os.environ['STATSIG_CONSOLE_API_KEY'])"))
    with pytest.raises(ReportError, match="would contain the API key") as caught:
        render_report("x", tmp_path / "r.html", notebook=write_notebook(nb, tmp_path / "t.ipynb"),
                      api_key=PLANTED, progress=False)
    assert PLANTED not in str(caught.value)
    assert not (tmp_path / "r.html").exists()


@pytest.mark.notebook
def test_real_api_path_reads_with_the_environment_key_and_never_shows_it(tmp_path, monkeypatch):
    with StatsigEmulator(n_events=400, seed=5, api_key=PLANTED) as emu:
        monkeypatch.setenv("STATSIG_CONSOLE_API_KEY", PLANTED)
        monkeypatch.setenv("STATSIG_CONSOLE_API_URL", emu.url)
        out = render_report(["add_to_cart", "purchase"], tmp_path / "real.html", freq="h", tz="Europe/Paris",
                            progress=False)
        expected = read_events(["add_to_cart", "purchase"], base_url=emu.url, api_key=PLANTED, progress=False)
        url = emu.url
    page = out.read_text()
    assert PLANTED not in page and "PLANTED" not in page
    assert url in page  # the provenance names the source that was read
    assert f"{len(expected):,} events from {expected['userID'].nunique():,} users" in page
    assert "Europe/Paris" in page


# -- the demo report, rendered once per session (tests/conftest.py) ------------------------------

def demo_page(demo_report) -> str:
    assert demo_report.returncode == 0, demo_report.stderr
    return demo_report.path.read_text()


@pytest.mark.notebook
def test_demo_report_holds_every_section_with_inline_images_and_no_external_reference(demo_report):
    page = demo_page(demo_report)
    for heading in SECTIONS:
        assert re.search(rf"<h2[^>]*>{re.escape(heading)}", page), heading
    assert "Statsig events: add_to_cart, purchase" in page
    assert "embedded Statsig emulator (synthetic demo events)" in page
    assert page.count('class="dataframe') >= 2  # the summary and the browser's newest events
    assert page.count("data:image/png;base64,") >= 5  # timeline, users, top values, heatmap, browser
    assert "statsig-browser-static" in page  # the browser's static fallback
    assert script_count(page) == 0 and external_references(page) == []
    assert "Traceback" not in page and "Error" not in page
    assert "read_events(" not in page  # code cells are hidden


@pytest.mark.notebook
def test_demo_report_images_are_real_pngs(demo_report):
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', demo_page(demo_report))
    sizes = []
    for data in images:
        raw = base64.b64decode(data)
        assert raw[:8] == b"\x89PNG\r\n\x1a\n"
        sizes.append(int.from_bytes(raw[16:20], "big"))  # IHDR width
    assert min(sizes) >= 300
