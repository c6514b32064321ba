# Every target creates and reuses .venv on its own: `make demo` and `make test` are all a
# fresh machine needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-compiled check bench install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,ml]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/tradebot demo

test: $(STAMP)
	$(BIN)/pytest -q -p no:cacheprovider -n 2 --cov=tradebot --cov-report=term --cov-fail-under=85

# The suites that drive the modules a wheel compiles with mypyc (hatch_build.py), run against
# that wheel's build: the compiled code must trade as the source does.
COMPILED := $(CURDIR)/build/compiled
COMPILED_TESTS := tests/unit tests/contract tests/scenario tests/integration/sandbox \
	tests/integration/exchange tests/integration/state

test-compiled: $(STAMP)
	rm -rf build/wheel $(COMPILED)
	$(BIN)/pip wheel --no-deps -q -w build/wheel .
	$(BIN)/python -m zipfile -e build/wheel/tradebot-*.whl $(COMPILED)
	PYTHONPATH=$(COMPILED) TRADEBOT_EXPECT_COMPILED=1 \
		$(BIN)/pytest -q -p no:cacheprovider -n 2 $(COMPILED_TESTS)

check: $(STAMP)
	$(BIN)/ruff check src tests bench hatch_build.py
	$(BIN)/ruff format --check src tests bench hatch_build.py
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,ml,bench]'
	$(BIN)/python bench/backtest_speed.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache reports build bench/.compiled
