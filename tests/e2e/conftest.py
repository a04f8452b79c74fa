"""JupyterLab on 127.0.0.1 driven by Debian's headless Chromium through Playwright.

What these fixtures guard against (each one broke runs before):
- JupyterLab exits as root without ``--allow-root``;
- a user's Jupyter config, settings, workspaces or kernels leaking in: every
  Jupyter directory points into a throw-away folder;
- the "Jupyter news?" toast covering screenshots;
- an inherited ``MPLBACKEND=Agg`` silencing plots in the kernel;
- an un-waited server left as a zombie;
- Chromium calling hosts it cannot reach (background-networking flags), and a
  browser download (``executable_path`` is always Debian's binary).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
import support

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
SERVER_START_TIMEOUT = 30  # seconds; it takes about 3 on a 2-core machine


def _missing(reason: str):
    """Skip where the browser cannot run, but never silently in CI: CI must run it."""
    support.unavailable(reason, in_ci="CI is set, so this test must run; `make test` installs chromium")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} not found: install Debian's chromium (`make browser-deps`, as root with apt)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing('playwright is not installed: pip install -e ".[test]"')
    return str(CHROMIUM)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Lab:
    url: str
    token: str
    root: Path
    process: subprocess.Popen
    log: Path = field(repr=False)

    def notebook_url(self, name: str) -> str:
        return f"{self.url}/lab/tree/{name}?token={self.token}"

    def server_log(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory, chromium_path) -> Lab:
    """A JupyterLab server on 127.0.0.1 with a throw-away config, token and root folder."""
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "root"
    root.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND" and not k.startswith("STATSIG_")}
    dirs = {
        "JUPYTER_CONFIG_DIR": "config",
        "JUPYTER_DATA_DIR": "data",
        "JUPYTER_RUNTIME_DIR": "runtime",
        "JUPYTERLAB_SETTINGS_DIR": "settings",
        "JUPYTERLAB_WORKSPACES_DIR": "workspaces",
        "IPYTHONDIR": "ipython",
    }
    for var, sub in dirs.items():
        (base / sub).mkdir()
        env[var] = str(base / sub)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    # No "Jupyter news?" toast over the screenshot, and no update check leaving the machine.
    notification = base / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    # Every cell stays in the page: windowed notebooks detach cells scrolled out of view.
    tracker = base / "settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))

    port, token = _free_port(), secrets.token_hex(16)
    log = base / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
             f"--port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
             "--ServerApp.port_retries=0", "--LabApp.news_url=",
             "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
            cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    lab = Lab(url=f"http://127.0.0.1:{port}", token=token, root=root, process=process, log=log)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"JupyterLab exited with {process.returncode}:\n{lab.server_log()}")
            try:
                if requests.get(f"{lab.url}/api/status", params={"token": token}, timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer within {SERVER_START_TIMEOUT} s:\n{lab.server_log()}")
            time.sleep(0.2)
        yield lab
    finally:
        # SIGTERM lets the server shut its kernels down before it is reaped.
        support.stop(process, timeout=15)


@dataclass
class Browser:
    page: object
    requests: list = field(default_factory=list)

    def foreign_requests(self) -> list[str]:
        return [u for u in self.requests if urlsplit(u).scheme not in ("data", "blob")
                and urlsplit(u).hostname != "127.0.0.1"]


@pytest.fixture
def chromium(chromium_path):
    """A headless Debian Chromium page that records every request it makes."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            page.set_default_timeout(20_000)
            recorded = Browser(page=page)
            page.on("request", lambda request: recorded.requests.append(request.url))
            yield recorded
        finally:
            browser.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """The folder for screenshots kept after the run (ignored by git)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS

