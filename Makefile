# Wangzi — the two set-up commands from README's Quick start:
#   make demo   create .venv, install, run `wangzi demo` (offline, bundled recording)
#   make test   create .venv, install with test extras and system packages, run every test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test install system-deps clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Debian packages the tests drive for real: Chromium (Playwright), PostgreSQL, Redis.
system-deps:
	@sh scripts/install-system-deps.sh

demo: install system-deps
	$(BIN)/wangzi demo

test: install system-deps
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts wangzi.db wangzi.db-wal wangzi.db-shm
