"""Prism serving Statsig's published OpenAPI spec on 127.0.0.1: the outside referee.

Prism is installed by ``make prism`` (a dependency of ``make test``) into
``tests/contract/node_modules``. Where it or Node.js is missing the contract
tests skip, except under CI (``CI`` set), where a referee that cannot run is a
failure: CI must run them.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import support

from statsig_pandas.testing import StatsigEmulator

HERE = Path(__file__).resolve().parent
SPEC = HERE / "statsig-events-openapi.json"
PRISM_JS = HERE / "node_modules" / "@stoplight" / "prism-cli" / "dist" / "index.js"
# Made up: Prism only checks that the key header is there.
API_KEY = "console-contract-test-key-not-real"
_LISTENING = re.compile(rb"Prism is listening on (http://127\.0\.0\.1:\d+)")
STARTUP_TIMEOUT = 60


def unavailable(reason: str):
    """Skip, or fail under CI, which must run the contract tests."""
    support.unavailable(reason, in_ci="CI is set, so the contract tests must run")


@dataclass
class Prism:
    """A running Prism and every answer the sessions it made have received."""

    url: str
    log: Path
    api_key: str = API_KEY
    answers: list = field(default_factory=list)  # (status, url, sl-violations header or None)

    def session(self, **headers: str) -> requests.Session:
        """A session recording every answer, for ``read_events(session=...)``."""
        session = requests.Session()
        session.headers.update(headers)
        session.hooks["response"].append(self._record)
        return session

    def _record(self, response: requests.Response, *args, **kwargs) -> None:
        self.answers.append((response.status_code, response.url, response.headers.get("sl-violations")))

    def violations(self) -> list:
        """Answers that were not a clean 2xx: what the spec does not allow."""
        return [a for a in self.answers if a[2] is not None or not 200 <= a[0] < 300]


@contextlib.contextmanager
def run_prism(*args: str, log: Path):
    """Run ``prism <args>`` on 127.0.0.1 and a free port; terminate and wait at the end."""
    node = shutil.which("node")
    if node is None:
        unavailable("Node.js (node) is not installed, so Prism cannot run")
    if not PRISM_JS.exists():
        unavailable(f"Prism is not installed in {HERE / 'node_modules'}: `make prism` (part of `make test`) "
                    "installs it with npm")
    # Port 0: Prism binds a free port and prints it, so parallel runs never race for one.
    # --errors: a violation is an error answer (4xx/5xx), never just a line in a log.
    command = [node, str(PRISM_JS), *args, "--host", "127.0.0.1", "--port", "0", "--errors"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   cwd=HERE)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not (match := _LISTENING.search(log.read_bytes())):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Prism did not start (exit code {process.poll()}):\n"
                            f"{log.read_text('utf-8', 'replace')[-3000:]}", pytrace=False)
            time.sleep(0.05)
        yield Prism(match.group(1).decode(), log)
    finally:
        support.stop(process)


@pytest.fixture(scope="session")
def prism_mock(tmp_path_factory):
    """Prism in mock mode: it answers from the spec alone."""
    with run_prism("mock", str(SPEC), log=tmp_path_factory.mktemp("prism") / "mock.log") as prism:
        yield prism


@pytest.fixture
def prism(prism_mock):
    """The mock server, with a fresh record of answers for each test."""
    prism_mock.answers = []
    return prism_mock


@pytest.fixture(scope="module")
def emulator_behind_prism(tmp_path_factory):
    """Our emulator behind Prism in proxy mode, which checks every request and answer against the spec."""
    log = tmp_path_factory.mktemp("prism") / "proxy.log"
    with StatsigEmulator(n_events=600, seed=3) as emu, run_prism("proxy", str(SPEC), emu.url, log=log) as prism:
        yield emu, prism


@pytest.fixture
def proxied(emulator_behind_prism):
    emu, prism = emulator_behind_prism
    emu.clear_faults()
    prism.answers = []
    return emu, prism


@contextlib.contextmanager
def _hang_guard(seconds: float, what: str):
    """Fail (instead of hanging, or eating memory for minutes) if the block outlives ``seconds``.

    A guard against a runaway, not a speed check: its bound is far above a
    normal run. pytest-timeout's own alarm is suspended meanwhile and re-armed after.
    """

    def expire(signum, frame):
        pytest.fail(f"{what} did not finish within {seconds:g} s", pytrace=False)

    previous = signal.signal(signal.SIGALRM, expire)
    outer, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
    started = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - started), 0.001))


@pytest.fixture
def hang_guard():
    """``with hang_guard(seconds, "what"):`` fails a runaway block instead of waiting for it."""
    return _hang_guard


@pytest.fixture(scope="session")
def spec() -> dict:
    """The trimmed spec that Prism serves."""
    return json.loads(SPEC.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def derive_spec():
    """The derivation script beside the trimmed spec, as a module."""
    loader = importlib.util.spec_from_file_location("derive_spec", HERE / "derive_spec.py")
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def published_spec(derive_spec) -> dict:
    """Statsig's full published spec, from the shared folder beside the repository."""
    source = derive_spec.DEFAULT_SOURCE
    if not source.exists():
        unavailable(f"Statsig's published spec is not at {source}")
    return json.loads(source.read_text(encoding="utf-8"))
