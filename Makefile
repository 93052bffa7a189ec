# otelite: `make run` starts the server on its embedded DuckDB store, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint typecheck clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP) $@

run: $(STAMP)
	$(BIN)/otelite serve

lint: $(DEV_STAMP)
	$(BIN)/ruff check otelite tests
	$(BIN)/ruff format --check otelite tests

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

test: $(DEV_STAMP)
	$(BIN)/ruff check otelite tests
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) otelite-data .pytest_cache .mypy_cache .ruff_cache
