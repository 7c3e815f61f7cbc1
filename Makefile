# The two commands: `make run` (Azurite + the local Functions host on http://127.0.0.1:7071) and `make test`.
# `make run-parity`: the same app as deployed (the Bicep's settings, identity-based storage over HTTPS, devhost/README.md).
# Everything installs from the repository's own files into .venv/ and node_modules/.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run run-parity test install lint typecheck bench screenshots clean

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed

run: install
	$(PY) -m devhost --azurite .azurite --port 7071

run-parity: install
	$(PY) -m devhost --parity .parity --port 7071

test: install
	$(PY) -m ruff check .
	$(PY) -m mypy scheduler_core
	$(PY) -m pytest

lint: install
	$(PY) -m ruff check .

typecheck: install
	$(PY) -m mypy scheduler_core

bench: install
	$(PY) -m bench

# PNGs of the console's pages into docs/console/ (needs the distribution's chromium: apt-get install -y chromium).
screenshots: install
	$(PY) -m tests.browser.screenshots

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache .hypothesis
