#!/bin/sh
# Refresh the console screenshots in docs/screenshots/ (the README's pictures): runs the
# console tests that take them, with OPENWORKS_SCREENSHOTS pointing there. The ordinary test
# run (scripts/test.sh) writes its screenshots to a temporary directory instead.
# Needs the dev install and Debian's Chromium, as scripts/test.sh sets up.
# Usage: scripts/screenshots.sh [pytest args...]
set -eu
cd "$(dirname "$0")/.."
OPENWORKS_SCREENSHOTS="$PWD/docs/screenshots" .venv/bin/python -m pytest -p no:cacheprovider \
    tests/console/test_console_auth.py tests/console/test_console_deployments.py \
    tests/console/test_console_files.py tests/console/test_console_review.py "$@"
echo "== docs/screenshots refreshed (git diff --stat docs/screenshots shows which changed)"
