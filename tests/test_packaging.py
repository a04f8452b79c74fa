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


def _import_source(node, here: tuple[str, ...]) -> str | None:
    """The package module (dotted, relative to statsig_pandas) an ``ImportFrom`` reads from, None if outside."""
    if node.level:  # relative: level 1 is this module's own package, 2 its parent, ...
        package_parts = here[:-1]  # an __init__'s parts end in "__init__", so this holds for it too
        base = list(package_parts[: len(package_parts) - node.level + 1])
        return ".".join(base + ([node.module] if node.module else []))
    if node.module and node.module.startswith("statsig_pandas"):
        return node.module.removeprefix("statsig_pandas").lstrip(".")
    return None


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _private_imports(path: Path) -> list[str]:
    """Each use in ``path`` of another package module's private name: ``from .x import _y`` or ``x._y``.

    Private *modules* (``from . import _kernels``) are the package's own helpers and may be imported;
    dunders (``__version__``) are not private.
    """
    import ast

    package = ROOT / "statsig_pandas"
    tree = ast.parse(path.read_text(), filename=str(path))
    here = path.relative_to(package).with_suffix("").parts
    modules = {".".join(p.relative_to(package).with_suffix("").parts) for p in package.rglob("*.py")}
    found, aliases = [], {}
    for node in ast.walk(tree):
        source = _import_source(node, here) if isinstance(node, ast.ImportFrom) else None
        for alias in node.names if source is not None else ():
            target = f"{source}.{alias.name}".lstrip(".")
            if target in modules or f"{target}.__init__" in modules:
                aliases[alias.asname or alias.name] = target
            elif _private(alias.name):
                found.append(f"{path.name}:{node.lineno} imports {alias.name} from {source}")
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                and _private(node.attr)):
            found.append(f"{path.name}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}")
    return found


def test_no_module_imports_a_private_name_of_another():
    found = [use for path in sorted((ROOT / "statsig_pandas").rglob("*.py")) for use in _private_imports(path)]
    assert found == []


def test_the_private_import_check_sees_both_spellings(tmp_path):
    # The check above must be able to fail: a module that borrows privates both ways is caught.
    probe = ROOT / "statsig_pandas" / "_probe_private_imports.py"
    probe.write_text("from .reader import _read_recent\nfrom . import analysis\nanalysis._x\n")
    try:
        assert _private_imports(probe) == [
            "_probe_private_imports.py:1 imports _read_recent from reader",
            "_probe_private_imports.py:3 uses analysis._x",
        ]
    finally:
        probe.unlink()


def test_the_readme_shows_read_events_signature_as_the_code_has_it():
    import inspect

    text = " ".join((ROOT / "README.md").read_text().split())
    shown = re.search(r"`(read_events\(names, \*.*?\))`", text).group(1)
    parts = []
    for name, parameter in inspect.signature(statsig_pandas.read_events).parameters.items():
        if parameter.kind is parameter.KEYWORD_ONLY and "*" not in parts:
            parts.append("*")
        default = parameter.default
        parts.append(name if default is parameter.empty else
                     f"{name}={default!r}".replace("'", '"'))
    assert shown == f"read_events({', '.join(parts)})"
