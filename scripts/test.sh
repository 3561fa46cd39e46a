#!/bin/sh
# Install openworks with its test dependencies into .venv and run the whole test suite.
# Usage: scripts/test.sh [pytest args...]
set -eu
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'
.venv/bin/ruff check src tests
.venv/bin/mypy
echo "== test suite on SQLite"
.venv/bin/python -m pytest "$@"
echo "== example user project (examples/deployer) with the openworks pytest plugin"
(cd examples/deployer && ../../.venv/bin/python -m pytest -p no:cacheprovider)
