"""``openworks extensions add`` refuses link-local and unspecified URLs unless allowed."""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import RunningServer, unique


def add(
    server: RunningServer, code: str, url: str, allow: bool = False
) -> subprocess.CompletedProcess[str]:
    env = dict(server.env)
    if allow:
        env["OPENWORKS_EXTENSION_ALLOW_ANY_ADDRESS"] = "1"
    return subprocess.run(
        [
            sys.executable, "-m", "openworks", "extensions", "add", code, "--name", "probe",
            "--events", "commit-file", "--url", url, "--secret", "secret-123",
            "--database-url", server.database_url,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )  # fmt: skip


def registered(server: RunningServer) -> set[str]:
    done = server.cli("extensions", "list")
    assert done.returncode == 0, done.stderr
    return {json.loads(line)["ExtensionCode"] for line in done.stdout.splitlines()}


def test_cli_refuses_metadata_and_unspecified_urls(server: RunningServer) -> None:
    codes = []
    for url, why in [
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("http://[fe80::a9fe:a9fe]:8080/x", "fe80::a9fe:a9fe is a link-local address"),
        ("http://0.0.0.0:5432/", "0.0.0.0 is an unspecified address"),
    ]:
        codes.append(unique("ext"))
        done = add(server, codes[-1], url)
        assert done.returncode == 1, done.stdout
        assert done.stderr.startswith(f"openworks: The extension URL {url!r} is refused: {why}")
        assert "OPENWORKS_EXTENSION_ALLOW_ANY_ADDRESS=1" in done.stderr
        assert done.stderr.rstrip().endswith("(Invalid.Param)")
    assert not set(codes) & registered(server)


def test_cli_accepts_loopback_and_allowed_addresses(server: RunningServer) -> None:
    loopback, allowed = unique("ext"), unique("ext")
    done = add(server, loopback, "http://127.0.0.1:9/hook")
    assert done.returncode == 0, done.stderr
    done = add(server, allowed, "http://169.254.169.254/hook", allow=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["Url"] == "http://169.254.169.254/hook"
    assert {loopback, allowed} <= registered(server)
    for code in (loopback, allowed):
        assert server.cli("extensions", "remove", code).returncode == 0
