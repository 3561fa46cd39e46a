"""The README's test-kit example runs verbatim as a user's test file, with only the plugin."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_readme_fixture_example_passes(tmp_path: Path) -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Test your automation", 1)[1]
    block = re.search(r"```python\n(.*?)```", section, flags=re.S)
    assert block is not None, "the README lost its test-kit example"
    assert len(block.group(1).strip().splitlines()) <= 10
    (tmp_path / "test_example.py").write_text(block.group(1), encoding="utf-8")
    shutil.copy(ROOT / "examples" / "deployer" / "deployer.py", tmp_path / "deployer.py")
    (tmp_path / "pytest.ini").write_text("[pytest]\nfilterwarnings = error\npythonpath = .\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENWORKS_")}
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
