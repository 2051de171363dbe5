#!/usr/bin/env bash
# Set up (with test tools and chromium), lint, type-check and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy assistant app.py index.py
.venv/bin/python -m pytest "$@"
