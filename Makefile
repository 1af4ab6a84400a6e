# Wangzi — the two set-up commands from README's Quick start:
#   make demo   create .venv, install, run `wangzi demo` (offline, bundled recording)
#   make test   create .venv, install with test extras and system packages, run every test
# Both install the exact versions in requirements.lock (hash-checked); `make lock` refreshes it.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test install system-deps lock clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

install: $(STAMP)

## Debian packages the tests drive for real: Chromium (Playwright), PostgreSQL, Redis.
system-deps:
	@sh scripts/install-system-deps.sh

demo: install system-deps
	$(BIN)/wangzi demo

## One pytest-xdist worker per CPU; a test file's tests stay on one worker (their module fixtures,
## servers and recordings are shared within a file).
test: install system-deps
	$(BIN)/python -m pytest -n auto --dist loadfile

## Re-resolve requirements.lock from pyproject.toml (newest versions its ranges allow), with
## hashes, for every platform, for Python 3.11+. Run after changing a dependency; commit both.
## It needs only uv (not the project's install, which the old lock may no longer satisfy).
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --universal --python-version 3.11 \
		-o requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts wangzi.db wangzi.db-wal wangzi.db-shm
