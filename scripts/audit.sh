#!/bin/sh
# Audit the installed dependencies (the environment `pip install -e '.[dev]'` made) for known
# vulnerabilities with pip-audit, using PyPI's advisory data (the package index itself, so it
# works wherever pip does). Exit 0: no known vulnerability; 1: some (listed); other: could not audit.
#   scripts/audit.sh              # table
#   scripts/audit.sh -f json      # machine-readable
set -eu
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] && PYTHON=${PYTHON_AUDIT:-.venv/bin/python}
exec "$PYTHON" -m pip_audit --local --skip-editable --vulnerability-service pypi --progress-spinner off "$@"
