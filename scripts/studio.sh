#!/usr/bin/env bash
# Set up, load the bundled demo tables into the data factory, and start the studio on http://localhost:8501
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements.txt
.venv/bin/python -m engine demo
exec .venv/bin/streamlit run app.py --server.headless true --browser.gatherUsageStats false \
  --client.toolbarMode minimal "$@"
