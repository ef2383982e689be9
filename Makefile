# Cuishou — quick start: `make demo` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: setup demo test lint typecheck unit bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# the Spark engine's extra (PySpark) too where Java is present, so that `make test` runs the
	@# Spark tests there (ADR 0034)
	extras=dev; if command -v java >/dev/null 2>&1; then extras=dev,spark; fi; \
	$(BIN)/python -m pip install --quiet -e ".[$$extras]"
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/cuishou demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

# Store tests run on SQLite and on PostgreSQL. When CUISHOU_TEST_DATABASE_URL is not set and
# Debian's postgresql is installed, a throwaway server is started (scripts/pg-test-server);
# without it the PostgreSQL half is skipped locally (CI requires it).
test: lint typecheck
	@url="$${CUISHOU_TEST_DATABASE_URL:-$$(scripts/pg-test-server 2>/dev/null || true)}"; \
	if [ -n "$$url" ]; then echo "store tests: SQLite and $$url"; else echo "store tests: SQLite only (no PostgreSQL found)"; fi; \
	CUISHOU_TEST_DATABASE_URL="$$url" $(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis demo-data cuishou.db*
