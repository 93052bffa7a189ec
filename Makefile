# otelite: `make run` starts the server on its embedded DuckDB store, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint typecheck fuzz crash-loop clean chromium prometheus screenshots bench \
	bench-quick

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

test: $(DEV_STAMP) chromium prometheus
	$(BIN)/ruff check otelite tests
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n auto --dist loadscope -m "not browser"
	$(BIN)/python -m pytest -q -m browser

# The browser tests (tests/ui) drive Debian's chromium through Playwright.
chromium:
	@command -v chromium >/dev/null || { SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update && $$SUDO apt-get install -y chromium; }

# The PromQL tests (tests/promql) ask Debian's prometheus the same queries as otelite, over
# blocks its promtool writes. No recommends: they would add node-exporter, a daemon.
prometheus:
	@{ command -v prometheus && command -v promtool; } >/dev/null || { \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update && $$SUDO apt-get install -y --no-install-recommends prometheus; }

screenshots: $(DEV_STAMP) chromium
	$(BIN)/python -m tests.ui.screenshots docs/screenshots

# Benchmarks: rewrite BENCHMARKS.md (bench/run.py; `make bench` also runs Arize Phoenix).
bench: $(DEV_STAMP)
	$(BIN)/python -m bench

bench-quick: $(DEV_STAMP)
	$(BIN)/python -m bench --quick

# Longer runs of what `make test` runs briefly: 5,000 examples per hypothesis-fuzzed
# property (tests/hardening), then atheris on each target of fuzz/ for a million executions
# (FUZZ_RUNS), growing fuzz/corpus/, which `make test` replays; and 100 kill -9 cycles
# during ingest.
FUZZ_RUNS ?= 1000000
fuzz: $(DEV_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,fuzz]'
	OTELITE_FUZZ_EXAMPLES=$${OTELITE_FUZZ_EXAMPLES:-5000} $(BIN)/python -m pytest -q \
		-p no:cacheprovider --timeout=0 tests/hardening/test_fuzz.py
	$(BIN)/python -m fuzz all --runs $(FUZZ_RUNS)

crash-loop: $(DEV_STAMP)
	OTELITE_CRASH_CYCLES=$${OTELITE_CRASH_CYCLES:-100} $(BIN)/python -m pytest -q -s \
		--timeout=0 tests/hardening/test_crash_loop.py

clean:
	rm -rf $(VENV) otelite-data .pytest_cache .mypy_cache .ruff_cache
