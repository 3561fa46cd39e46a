#!/bin/sh
# Install openworks with its test dependencies into .venv and run the whole test suite:
# lint, type check, the suite on SQLite, the suite again on PostgreSQL (when one answers on
# 127.0.0.1:5432 or OPENWORKS_TEST_POSTGRES names one), and the example user project.
# Usage: scripts/test.sh [pytest args...]
set -eu
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'

# The console's browser tests drive Debian's Chromium (never a downloaded browser).
if ! command -v chromium >/dev/null 2>&1 && [ -z "${OPENWORKS_SKIP_BROWSER_TESTS:-}" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "== installing chromium for the console tests"
        apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
    else
        echo "chromium is missing: run 'sudo apt-get install -y chromium fonts-wqy-microhei'" \
             "or set OPENWORKS_SKIP_BROWSER_TESTS=1" >&2
    fi
fi

.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
.venv/bin/mypy

echo "== test suite on SQLite"
.venv/bin/python -m pytest "$@"

POSTGRES="${OPENWORKS_TEST_POSTGRES:-postgresql://postgres@127.0.0.1:5432/test}"
if .venv/bin/python -c "import psycopg,sys; psycopg.connect(sys.argv[1], connect_timeout=3).close()" \
        "$POSTGRES" 2>/dev/null; then
    echo "== test suite on PostgreSQL ($POSTGRES, a schema per server)"
    OPENWORKS_TEST_POSTGRES="$POSTGRES" .venv/bin/python -m pytest "$@"
else
    echo "== PostgreSQL not reachable at $POSTGRES: skipping the PostgreSQL pass" >&2
fi

echo "== example user project (examples/deployer) with the openworks pytest plugin"
(cd examples/deployer && ../../.venv/bin/python -m pytest -p no:cacheprovider)
