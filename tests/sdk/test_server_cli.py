"""The server command, its configuration and the users CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .clients import CallFailed, TeaClient, make_client
from .conftest import RunningServer, start_server, unique


def test_users_create_while_server_runs(server: RunningServer, dialect: str) -> None:
    name = unique("alice")
    done = server.cli("users", "create", name)
    assert done.returncode == 0, done.stderr
    user = json.loads(done.stdout)
    assert set(user) == {"UserId", "AccessKeyId", "AccessKeySecret"}
    client = make_client(dialect, server.endpoint, user["AccessKeyId"], user["AccessKeySecret"])
    pid = client.call("CreateProject", ProjectIdentifier=unique("alice_ws"), ProjectName="a")
    project = client.call("GetProject", ProjectId=pid["Data"])["Data"]
    assert project["ProjectOwnerBaseId"] == user["UserId"]
    again = server.cli("users", "create", name)
    assert again.returncode != 0 and "already exists" in again.stderr


def test_configured_root_key_and_account(tmp_path: Path) -> None:
    env = {
        "OPENWORKS_ACCESS_KEY_ID": "LTAIconfiguredKey000001",
        "OPENWORKS_ACCESS_KEY_SECRET": "configured-secret-value-123",
        "OPENWORKS_ACCOUNT_ID": "1234567890123456",
    }
    running = start_server(tmp_path, env)
    try:
        client = TeaClient(
            running.endpoint, env["OPENWORKS_ACCESS_KEY_ID"], env["OPENWORKS_ACCESS_KEY_SECRET"]
        )
        pid = client.call("CreateProject", ProjectIdentifier=unique("cfg"), ProjectName="c")
        assert client.call("GetProject", ProjectId=pid["Data"])["Data"]["TenantId"] == int(
            env["OPENWORKS_ACCOUNT_ID"]
        )
        dev = TeaClient(running.endpoint, "openworks-dev-key", "openworks-dev-secret")
        try:
            dev.call("ListProjects")
            raise AssertionError("the development key must not work when a key is configured")
        except CallFailed as err:
            assert err.code == "InvalidAccessKeyId.NotFound"
        log = running.log()
        assert "configured-secret-value-123" not in log
        assert "CreateProject 200" in log and "GetProject 200" in log
    finally:
        running.stop()


def test_refuses_public_address_without_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENWORKS_")}
    env["XDG_DATA_HOME"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "openworks", "serve", "--host", "0.0.0.0", "--port", "1"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "OPENWORKS_ACCESS_KEY_ID" in done.stderr


def test_default_database_in_xdg_data_home(server: RunningServer, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENWORKS_")}
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    done = subprocess.run(
        [sys.executable, "-m", "openworks", "users", "create", "bob"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "data" / "openworks" / "openworks.db").exists()


def test_request_log_has_one_line_per_call_and_no_secret(server: RunningServer) -> None:
    client = TeaClient(server.endpoint, "openworks-dev-key", "openworks-dev-secret")
    marker = unique("logged")
    client.call("CreateProject", ProjectIdentifier=marker, ProjectName="log")
    lines = [line for line in server.log().splitlines() if "openworks.access" in line]
    assert lines and all(
        "openworks-dev-secret" not in line
        for line in server.log().splitlines()
        if "AccessKeySecret" not in line
    )
    assert any(" CreateProject 200 " in line and "ms " in line for line in lines)
