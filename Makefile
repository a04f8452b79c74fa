# Two commands a new user needs: `make demo` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# The oldest supported pandas, checked in CI beside the newest.
OLDEST_VENV ?= .venv-oldest
OLDEST_PANDAS ?= pandas==2.2.*

.PHONY: setup lint test test-oldest demo bench clean browser-deps prism

# Install into the venv $(1) the package with its test extras, plus $(2). uv (from PyPI, into the
# venv) resolves and installs in seconds where pip takes minutes, and caches for the second venv;
# plain pip is the fallback where uv cannot be had.
define install
	$(PYTHON) -m venv $(1)
	$(1)/bin/python -m pip install -q --disable-pip-version-check uv || true
	if [ -x $(1)/bin/uv ]; then $(1)/bin/uv pip install --python $(1)/bin/python -q -e ".[test]" $(2); \
	else $(1)/bin/python -m pip install -q --disable-pip-version-check -e ".[test]" $(2); fi
endef

$(STAMP): setup.cfg pyproject.toml
	$(call install,$(VENV),)
	touch $(STAMP)

setup: $(STAMP)

test: setup lint browser-deps prism
	$(PY) -m pytest $(PYTEST_ARGS)

# ruff with the project's rules (pyproject.toml): the code, the tests, the benchmarks and the notebooks.
lint: setup
	$(PY) -m ruff check .

# The JupyterLab test drives Debian's Chromium (a browser is never downloaded by
# playwright). Installed where apt exists and we are root; elsewhere that test
# skips (and fails under CI). Fast when already there: no apt-get update then.
browser-deps:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian chromium for the browser test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "chromium missing and apt unavailable (or not root): the browser test will skip"; fi

# Prism (pinned by tests/contract/package-lock.json) serves Statsig's OpenAPI spec
# to the contract tests. Installed into tests/contract/node_modules, never globally,
# without install scripts; fast when the stamp is newer than the lock. Without npm
# those tests skip (and fail under CI).
PRISM_STAMP := tests/contract/node_modules/.installed-stamp

prism: $(PRISM_STAMP)

$(PRISM_STAMP): tests/contract/package.json $(wildcard tests/contract/package-lock.json)
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "npm not found: the contract tests (Prism) will skip; install Node.js and npm to run them"; \
	else \
		cd tests/contract && NPM="npm --ignore-scripts --no-audit --no-fund --loglevel=error"; \
		if [ -f package-lock.json ]; then $$NPM ci; else $$NPM install; fi && touch node_modules/.installed-stamp; \
	fi

# The suite against the oldest pandas we support (what the browser tests check
# does not depend on pandas, so they run only in `make test`).
test-oldest: prism
	$(call install,$(OLDEST_VENV),"$(OLDEST_PANDAS)")
	$(OLDEST_VENV)/bin/python -c "import pandas; print('pandas', pandas.__version__)"
	$(OLDEST_VENV)/bin/python -m pytest -m "not browser" $(PYTEST_ARGS)

# A real report from synthetic events: the report's kernel starts the embedded emulator on
# 127.0.0.1, reads two events from it, stops it; the page is written whole or not at all.
DEMO_REPORT ?= reports/demo.html

demo: setup
	$(PY) -m statsig_pandas.cli demo -o $(DEMO_REPORT)

# Every benchmark runs even when one misses its targets; the status says whether any did.
BENCHMARKS := bench_reader bench_accessor bench_browser bench_logs bench_emulator_logs bench_analytics bench_cache

bench: setup
	@missed=""; for b in $(BENCHMARKS); do \
		echo "== benchmarks/$$b.py"; $(PY) benchmarks/$$b.py || missed="$$missed $$b"; \
	done; if [ -n "$$missed" ]; then echo "targets missed in:$$missed"; exit 1; fi

clean:
	rm -rf $(VENV) $(OLDEST_VENV) build dist *.egg-info reports artifacts tests/contract/node_modules
