# Every target creates and reuses .venv on its own: `make demo` and `make test` are all a
# fresh machine needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check bench install clean

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

check: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,ml,bench]'
	$(BIN)/python bench/backtest_speed.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache reports
