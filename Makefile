# The two commands of the README: `make demo` and `make test`. Each builds its own virtualenv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint browser bench bench-load clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/housing-match demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The browser tests drive Debian's chromium; installed when we may (root), skipped otherwise
# (except with CI=true, where a missing browser fails them).
browser:
	@command -v chromium >/dev/null || [ "$$(id -u)" != 0 ] \
		|| apt-get install -y --no-install-recommends chromium \
		|| (apt-get update && apt-get install -y --no-install-recommends chromium)

test: lint browser
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m bench.run --national 10000,50000
	$(BIN)/python -m bench.cli
	$(BIN)/python -m bench.dbpath

bench-load: $(STAMP)
	$(BIN)/python -m bench.load

clean:
	rm -rf $(VENV) out
