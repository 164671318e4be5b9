#!/usr/bin/env bash
# Set up (with test dependencies) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements-dev.txt
exec .venv/bin/python -m pytest -q "$@"
