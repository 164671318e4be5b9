#!/usr/bin/env bash
# Set up, load the bundled demo tables into the data factory, and start the studio on http://localhost:8501
# (only this machine can reach it; on the first visit it asks for the first administrator — see README "Plant server").
# Another address (--server.address 0.0.0.0) is refused while no administrator exists.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements.txt
.venv/bin/python -m engine demo
ADDRESS=127.0.0.1
prev=""
for arg in "$@"; do
  case "$arg" in --server.address=*) ADDRESS="${arg#*=}" ;; esac
  if [ "$prev" = "--server.address" ]; then ADDRESS="$arg"; fi
  prev="$arg"
done
.venv/bin/python -m engine bind-check "$ADDRESS"
exec .venv/bin/streamlit run app.py --server.headless true --browser.gatherUsageStats false \
  --client.toolbarMode minimal --server.address "$ADDRESS" "$@"
