#!/usr/bin/env bash
# Create .venv (once) and install the pinned requirements. Usage: scripts/setup.sh [requirements file]
set -euo pipefail
cd "$(dirname "$0")/.."
REQ="${1:-requirements.txt}"
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
STAMP=".venv/.installed-$(basename "$REQ")-$(cat requirements*.txt | sha256sum | cut -c1-16)"
if [ ! -f "$STAMP" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$REQ"
  touch "$STAMP"
fi
# LightGBM needs the OpenMP runtime (Debian: libgomp1).
if ! .venv/bin/python -c "import lightgbm" 2>/dev/null; then
  echo "lightgbm cannot load: install the OpenMP runtime (Debian/Ubuntu: apt-get install libgomp1)" >&2
  exit 1
fi
