#!/usr/bin/env bash
# Set up, index corpus/ and start the Streamlit app on the embedded defaults.
#   bash scripts/run.sh [streamlit options]        the chat app on http://localhost:8501
#   bash scripts/run.sh --api [serve options]      the HTTP API and website widget
#                                                  (http://localhost:8000; same as ASSISTANT_RUN=api)
set -euo pipefail
cd "$(dirname "$0")/.."
target="${ASSISTANT_RUN:-app}"
if [ "${1:-}" = "--api" ]; then
  target=api
  shift
fi
bash scripts/setup.sh
.venv/bin/python index.py
if [ "$target" = api ]; then
  exec .venv/bin/python -m assistant serve "$@"
fi
exec .venv/bin/streamlit run app.py --server.headless true "$@"
