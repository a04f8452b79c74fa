# Two commands a new user needs: `make demo` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# The oldest supported pandas, checked in CI beside the newest.
OLDEST_VENV ?= .venv-oldest
OLDEST_PANDAS ?= pandas==2.2.*

.PHONY: setup test test-oldest demo bench clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

# The suite against the oldest pandas we support (what the browser tests check
# does not depend on pandas, so they run only in `make test`).
test-oldest:
	$(PYTHON) -m venv $(OLDEST_VENV)
	$(OLDEST_VENV)/bin/python -m pip install -q --disable-pip-version-check -e ".[test]" "$(OLDEST_PANDAS)"
	$(OLDEST_VENV)/bin/python -c "import pandas; print('pandas', pandas.__version__)"
	$(OLDEST_VENV)/bin/python -m pytest -m "not browser" $(PYTEST_ARGS)

demo: setup
	$(PY) -m statsig_pandas.cli demo

bench: setup
	$(PY) benchmarks/bench_reader.py

clean:
	rm -rf $(VENV) $(OLDEST_VENV) build dist *.egg-info reports artifacts
