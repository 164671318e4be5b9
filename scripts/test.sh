#!/usr/bin/env bash
# Set up (with test dependencies) and run the whole test suite.
# Tests run on every core (pytest-xdist), one test file per worker so a file's module fixtures are built once;
# PYTEST_WORKERS=0 runs them in this process (e.g. with -x or a debugger).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements-dev.txt
exec .venv/bin/python -m pytest -q -n "${PYTEST_WORKERS:-auto}" --dist loadfile "$@"
