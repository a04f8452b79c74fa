"""The notebooks users open: stored clean, one report template, installed with the package, and runnable."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from statsig_pandas.report import TEMPLATE_NOTEBOOK, execute_notebook

ROOT = Path(__file__).resolve().parents[1]
SKIP_DIRS = {".venv", ".venv-oldest", "node_modules", ".ipynb_checkpoints", "build", "dist", ".git"}
NOTEBOOKS = sorted(p for p in ROOT.rglob("*.ipynb") if not SKIP_DIRS & set(p.relative_to(ROOT).parts))
TEMPLATE_FILES = ["statsig_pandas/notebooks/event_report.ipynb", "statsig_pandas/templates/statsig_report/conf.json",
                  "statsig_pandas/templates/statsig_report/index.html.j2",
                  "statsig_pandas/templates/statsig_report/report.css"]


def test_the_user_facing_notebooks_are_there():
    names = {p.relative_to(ROOT).as_posix() for p in NOTEBOOKS}
    assert {"notebooks/quickstart.ipynb", "notebooks/event_report.ipynb"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_notebook_is_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert dirty == [], f"clear the outputs of cells {dirty} (Kernel > Restart and Clear Outputs) before committing"
    assert "widgets" not in nb.metadata, "saved widget state: clear it before committing"


def test_notebooks_event_report_is_the_packaged_template():
    # One template: the notebook users open is the one `statsig-pandas report` runs.
    assert (ROOT / "notebooks" / "event_report.ipynb").read_bytes() == TEMPLATE_NOTEBOOK.read_bytes()


def test_template_has_one_parameters_cell_and_no_key():
    nb = nbformat.read(TEMPLATE_NOTEBOOK.open(encoding="utf-8"), as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and tagged[0].cell_type == "code"
    assert "key" not in {line.split("=")[0].strip().lower() for line in tagged[0].source.splitlines()}


@pytest.mark.slow
def test_the_report_template_ships_in_the_wheel_and_renders_from_it(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"),
                           str(ROOT)], check=False, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    wheel = next((tmp_path / "dist").glob("statsig_pandas-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        assert set(TEMPLATE_FILES) <= set(zf.namelist())
        zf.extractall(tmp_path / "site")
    # Render from the unpacked wheel, not from this checkout.
    script = ("import statsig_pandas.report as r, sys; print(r.__file__);"
              "r.render_report('purchase', sys.argv[1], demo=True, progress=False)")
    env = {"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "r.html")], check=False,
                          capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(str(tmp_path / "site"))
    assert "Statsig events: purchase" in (tmp_path / "r.html").read_text()


@pytest.mark.notebook
def test_quickstart_runs_top_to_bottom_on_the_emulator_without_a_key(tmp_path):
    nb = nbformat.read(ROOT / "notebooks" / "quickstart.ipynb", as_version=4)
    execute_notebook(nb, cwd=tmp_path, progress=False)
    first = next(c for c in nb.cells if c.cell_type == "code" and c.outputs).outputs[0]
    assert first.output_type == "stream" and "embedded emulator" in first.text
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 3  # the three plots
    browser = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert browser, "the event browser was not displayed"
