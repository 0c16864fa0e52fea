# Two entry points for a newcomer: `make run` (set up, load the bundled data, serve) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup run test lint system-deps clean

$(BIN)/openness: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(BIN)/openness

server/web/node_modules/.package-lock.json: server/web/package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --prefix server/web --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the query editor (YASGUI) will not be installed; everything else works"; fi

## setup: Python virtual environment with the package, and the query editor from npm
setup: $(BIN)/openness server/web/node_modules/.package-lock.json

## run: set up, then serve the bundled data (loaded and assessed on first start) on http://$(HOST):$(PORT)/
run: setup
	$(BIN)/openness serve --host $(HOST) --port $(PORT)

## test: set up, then run the whole test suite
test: setup
	$(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check loaders server tests bench

## system-deps: Debian packages for the browser and Virtuoso tests (skipped when absent); needs root
system-deps:
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium virtuoso-opensource

clean:
	rm -rf $(VENV) var server/web/node_modules
