"""``--database-url mysql://…`` and an unreachable PostgreSQL, as a user meets them: the
``openworks`` process prints one line (what is wrong, the URL without its password, what to
do) and exits 2, for every command, ``serve`` included (issue 17; before: a 39-line and a
130-line traceback)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import free_port

PASSWORD = "hunter22"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENWORKS_")}
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    return subprocess.run(
        [sys.executable, "-m", "openworks", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


COMMANDS = [
    ("serve", "--port", "PORT"),
    ("worker",),
    ("workspaces", "list"),
    ("deployments", "show", "1"),
    ("audit",),
]


@pytest.mark.parametrize("kind", ["mysql", "postgresql"])
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: "-".join(c[:2]))
def test_an_unusable_database_url_is_one_line_and_exit_2(
    tmp_path: Path, kind: str, command: tuple[str, ...]
) -> None:
    if kind == "mysql":
        url, shown = f"mysql://app:{PASSWORD}@127.0.0.1:3306/ow", "mysql://app@127.0.0.1:3306/ow"
        reason = "openworks stores its data in SQLite or PostgreSQL only"
    else:
        port = closed_port()
        url = f"postgresql://postgres:{PASSWORD}@127.0.0.1:{port}/test"
        shown = f"postgresql://postgres@127.0.0.1:{port}/test"
        reason = "Connection refused"
    args = [str(free_port()) if a == "PORT" else a for a in command]
    done = run(tmp_path, *args, "--database-url", url)
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr and PASSWORD not in done.stderr + done.stdout
    assert lines[0].startswith("openworks: ")
    for needle in (shown, reason, "--database-url or OPENWORKS_DATABASE_URL"):
        assert needle in lines[0], lines[0]
    assert "listening" not in done.stdout  # serve announced nothing
