#!/bin/sh
# Build the release files into dist/ and check them: `python -m build` (an sdist, then the
# wheel built from that sdist) and `twine check --strict`. build and twine go into a
# throwaway virtual environment: neither is needed to develop or test openworks.
# tests/unit/test_packaging.py checks the same build offline on every test run.
# Usage: scripts/package.sh
set -eu
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
tools="$(mktemp -d)"
trap 'rm -rf "$tools"' EXIT
"$PYTHON" -m venv "$tools"
"$tools/bin/python" -m pip install --quiet build twine
version="$("$tools/bin/python" -c \
    "import tomllib; print(tomllib.load(open('pyproject.toml', 'rb'))['project']['version'])")"
rm -f "dist/openworks-$version.tar.gz" "dist/openworks-$version-py3-none-any.whl"
"$tools/bin/python" -m build --outdir dist .
"$tools/bin/twine" check --strict "dist/openworks-$version.tar.gz" \
    "dist/openworks-$version-py3-none-any.whl"
echo "== dist/openworks-$version.tar.gz and dist/openworks-$version-py3-none-any.whl;" \
     "install with: pip install dist/openworks-$version-py3-none-any.whl"
