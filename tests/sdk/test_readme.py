"""The README's SDK example runs verbatim against a real server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from .conftest import RunningServer

README = Path(__file__).resolve().parents[2] / "README.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_sdk_example_runs(server: RunningServer, tmp_path: Path) -> None:
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    assert blocks, "the README lost its Python example"
    script = tmp_path / "example.py"
    script.write_text(blocks[0], encoding="utf-8")
    env = {**os.environ, "OPENWORKS_ENDPOINT": server.endpoint, "NO_PROXY": "*"}
    done = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("deployed ")


def test_readme_2024_example_runs(server: RunningServer, tmp_path: Path) -> None:
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 2, "the README lost its 2024-05-18 example"
    script = tmp_path / "example_2024.py"
    script.write_text(blocks[1], encoding="utf-8")
    env = {**os.environ, "OPENWORKS_ENDPOINT": server.endpoint, "NO_PROXY": "*"}
    done = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("deployed node ")
    assert "BUILD_PACKAGE" in done.stdout and "'PROD'" in done.stdout
