#!/usr/bin/env bash
# Set up, index corpus/ and start the Streamlit app on the embedded defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python index.py
exec .venv/bin/streamlit run app.py --server.headless true "$@"
