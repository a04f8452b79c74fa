"""The package's set-up: declared dependencies, the public surface, the console script."""

from __future__ import annotations

import configparser
import importlib
import re
import subprocess
import sys
import types
import warnings
from pathlib import Path

import pandas as pd
import yaml

import statsig_pandas

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_declares_the_same_runtime_dependencies_as_setup_cfg():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    pip_deps = {_name(r): r.strip() for r in cfg["options"]["install_requires"].strip().splitlines()}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    conda = {_name(d): d for d in env["dependencies"] if isinstance(d, str) and _name(d) not in ("python", "pip")}
    assert set(conda) == set(pip_deps)
    for name, requirement in pip_deps.items():
        assert requirement.replace(" ", "") == conda[name].replace(" ", ""), name


def test_public_surface_is_exported():
    for name in statsig_pandas.__all__:
        assert getattr(statsig_pandas, name) is not None, name
    assert pd.read_statsig_events is statsig_pandas.read_events


def test_all_lists_exactly_the_public_names():
    # Public: every name without a leading underscore that is not a submodule (nor an imported library),
    # the lazily imported ones included: dir() lists them before their first use.
    public = {name for name in dir(statsig_pandas)
              if not name.startswith("_") and not isinstance(getattr(statsig_pandas, name), types.ModuleType)}
    assert len(statsig_pandas.__all__) == len(set(statsig_pandas.__all__))
    assert set(statsig_pandas.__all__) - {"__version__"} == public
    assert "__version__" in statsig_pandas.__all__


def test_star_import_gives_every_name_of_all_the_lazy_ones_included():
    namespace: dict = {}
    exec("from statsig_pandas import *", namespace)  # what a user's star import does
    assert set(statsig_pandas.__all__) <= set(namespace)
    assert namespace["EventBrowser"] is statsig_pandas.EventBrowser


def test_testing_exports_its_public_names():
    import statsig_pandas.testing as testing
    from statsig_pandas.testing import synthetic

    assert testing.synthetic_frame is synthetic.synthetic_frame
    public = {name for name in dir(testing)
              if not name.startswith("_") and not isinstance(getattr(testing, name), types.ModuleType)}
    assert set(testing.__all__) == public


def test_second_import_and_reload_warn_about_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        importlib.import_module("statsig_pandas")
        module = importlib.reload(statsig_pandas)
    assert pd.read_statsig_events is module.read_events


def test_import_does_not_load_the_widget_and_plotting_stacks():
    # Scripts, Dask workers and report kernels import the package without ever browsing or plotting.
    code = ("import sys, statsig_pandas; loaded = [m for m in ('ipywidgets', 'matplotlib') if m in sys.modules]; "
            "print(loaded); from statsig_pandas import EventBrowser; assert 'ipywidgets' in sys.modules")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
