"""Credentials through the official SDKs: key rotation and disable, users disabled, STS
tokens (all three dialects, expiry, tampering), replay, clock skew, body and parameter
limits, the audit trail, and a database copy without the server key."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from openworks.store import make_engine
from openworks.store.identity import lookup_key
from openworks.store.secrets import SecretBox
from tests.dbutil import postgres_base

from .clients import CallFailed, LegacyClient, Tea2024Client, TeaClient
from .conftest import DEV_KEY, RunningServer, start_server, unique
from .security_helpers import cli_json, eventually_fails, failure, new_project, new_user, root


class LegacyStsClient(LegacyClient):
    """The legacy SDK with ``StsTokenCredential`` (sends ``SecurityToken``)."""

    def __init__(self, endpoint: str, key_id: str, secret: str, token: str) -> None:
        self.token = token
        super().__init__(endpoint, key_id, secret)

    def make_sdk(self) -> Any:
        from aliyunsdkcore.auth.credentials import StsTokenCredential
        from aliyunsdkcore.client import AcsClient

        credential = StsTokenCredential(self.key_id, self.secret, self.token)
        return AcsClient(region_id="cn-shanghai", credential=credential, auto_retry=False)


def _sts(server: RunningServer, user: str, duration: str = "900s") -> dict[str, Any]:
    return cli_json(server, "sts", "issue", "--user", user, "--duration", duration)


def test_key_rotation_disable_and_delete(server: RunningServer) -> None:
    user = new_user(server, "rot")
    old = user.tea(server)
    second = cli_json(server, "keys", "create", "--user", user.name)
    new = TeaClient(server.endpoint, second["AccessKeyId"], second["AccessKeySecret"])
    assert old.call("ListProjects")["PageResult"] is not None  # both keys work at once
    assert new.call("ListProjects")["PageResult"] is not None
    listed = server.cli("keys", "list", "--user", user.name, "--json")
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert {r["AccessKeyId"] for r in rows} == {user.key_id, second["AccessKeyId"]}
    assert user.secret not in listed.stdout and second["AccessKeySecret"] not in listed.stdout

    assert server.cli("keys", "disable", user.key_id).returncode == 0
    err = eventually_fails(lambda: old.call("ListProjects"), "InvalidAccessKeyId.Inactive")
    assert (err.code, err.status) == ("InvalidAccessKeyId.Inactive", 400)
    new.call("ListProjects")
    assert server.cli("keys", "delete", user.key_id).returncode == 0
    gone = eventually_fails(lambda: old.call("ListProjects"), "InvalidAccessKeyId.NotFound")
    assert gone.code == "InvalidAccessKeyId.NotFound"

    assert server.cli("users", "disable", user.name).returncode == 0
    eventually_fails(lambda: new.call("ListProjects"), "InvalidAccessKeyId.Inactive")
    users = server.cli("users", "list", "--json").stdout.splitlines()
    assert {"UserId": user.user_id, "Name": user.name, "Status": "disabled", "Root": False} in [
        json.loads(line) for line in users
    ]
    assert server.cli("users", "enable", user.name).returncode == 0
    time.sleep(2.2)  # the key cache remembers the refusal for 2 s
    new.call("ListProjects")


@pytest.mark.parametrize("dialect", ["tea", "tea-v2", "legacy"])
def test_sts_credentials_work_in_every_sdk(server: RunningServer, dialect: str) -> None:
    user = new_user(server, "sts")
    cred = _sts(server, user.name)
    assert cred["AccessKeyId"].startswith("STS.")
    args = (server.endpoint, cred["AccessKeyId"], cred["AccessKeySecret"])
    client: TeaClient | LegacyClient
    if dialect == "legacy":
        client = LegacyStsClient(*args, cred["SecurityToken"])
    else:
        client = TeaClient(*args, v2=dialect == "tea-v2", security_token=cred["SecurityToken"])
    project_id = new_project(client)
    got = client.call("GetProject", ProjectId=project_id)["Data"]
    assert got["ProjectOwnerBaseId"] == user.user_id  # acts as the user it was issued to


def test_sts_expiry_tampering_and_mismatch(server: RunningServer) -> None:
    user = new_user(server, "stx")
    short = _sts(server, user.name, "2s")
    client = TeaClient(
        server.endpoint,
        short["AccessKeyId"],
        short["AccessKeySecret"],
        security_token=short["SecurityToken"],
    )
    client.call("ListProjects")
    time.sleep(2.2)
    expired = failure(lambda: client.call("ListProjects"))
    assert (expired.code, expired.status) == ("InvalidSecurityToken.Expired", 400)

    cred, other = _sts(server, user.name), _sts(server, user.name)
    token = cred["SecurityToken"]
    middle = len(token) // 2
    tampered = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    for bad, code in [
        (tampered, "InvalidSecurityToken.Malformed"),
        (other["SecurityToken"], "InvalidSecurityToken.MismatchWithAccessKey"),
    ]:
        c = TeaClient(
            server.endpoint, cred["AccessKeyId"], cred["AccessKeySecret"], security_token=bad
        )
        assert failure(lambda c=c: c.call("ListProjects")).code == code
    wrong_secret = TeaClient(server.endpoint, cred["AccessKeyId"], "x" * 30, security_token=token)
    assert failure(lambda: wrong_secret.call("ListProjects")).code == "SignatureDoesNotMatch"
    assert server.cli("users", "disable", user.name).returncode == 0
    valid = TeaClient(
        server.endpoint, cred["AccessKeyId"], cred["AccessKeySecret"], security_token=token
    )
    assert failure(lambda: valid.call("ListProjects")).code == "InvalidAccessKeyId.Inactive"


def test_the_same_signed_request_twice_is_refused(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alibabacloud_tea_openapi import client as openapi

    sent: list[Any] = []
    original = openapi.DaraCore.do_action

    def capture(request: Any, runtime: Any = None) -> Any:
        sent.append((request, runtime))
        return original(request, runtime)

    monkeypatch.setattr(openapi.DaraCore, "do_action", staticmethod(capture))
    tea = root(server)
    project_id = new_project(tea)
    monkeypatch.setattr(openapi.DaraCore, "do_action", staticmethod(original))
    request, runtime = sent[-1]
    replay = original(request, runtime)  # exactly the same bytes, signature and nonce
    assert replay.status_code == 400
    body = json.loads(replay.body.read() if hasattr(replay.body, "read") else replay.body)
    assert body["Code"] == "SignatureNonceUsed"
    assert tea.call("GetProject", ProjectId=project_id)["Data"]["ProjectId"] == project_id


@pytest.mark.parametrize("skew", [+20 * 60, -20 * 60])
def test_timestamps_outside_the_window_are_refused(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch, skew: int
) -> None:
    from alibabacloud_tea_openapi.utils import Utils

    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + skew))
    monkeypatch.setattr(Utils, "get_timestamp", staticmethod(lambda: stamp))
    err = failure(lambda: root(server).call("ListProjects"))
    assert (err.code, err.status) == ("InvalidTimeStamp.Expired", 400)


def test_body_and_parameter_limits(server: RunningServer) -> None:
    tea = root(server)
    project_id = new_project(tea)
    big = failure(
        lambda: tea.call(
            "CreateFile",
            ProjectId=project_id,
            FileName="big",
            FileType=10,
            Content="x" * (4 * 1024 * 1024 + 10),
        )
    )
    assert (big.code, big.status) == ("RequestBodyTooLarge", 413)
    long_name = failure(
        lambda: tea.call("CreateFile", ProjectId=project_id, FileName="n" * 5000, FileType=10)
    )
    assert (long_name.code, long_name.status) == ("InvalidParameter", 400)
    assert "FileName" in long_name.message


def test_audit_trail(server: RunningServer) -> None:
    dev = new_user(server, "aud")
    tea = root(server)
    project_id = new_project(tea)
    tea.call(
        "CreateProjectMember",
        ProjectId=project_id,
        UserId=dev.user_id,
        RoleCode=("role_project_dev"),
    )
    client = dev.tea(server)
    file_id = client.call(
        "CreateFile", ProjectId=project_id, FileName=unique("a"), FileType=10, Content="y" * 900
    )["Data"]
    failure(lambda: client.call("DeployFile", ProjectId=project_id, FileId=file_id))
    client.call("GetFile", ProjectId=project_id, FileId=file_id)  # a read: not recorded
    done = server.cli("audit", "--workspace", str(project_id), "--since", "10m", "--json")
    assert done.returncode == 0, done.stderr
    entries = [json.loads(line) for line in done.stdout.splitlines()]
    assert [e["Action"] for e in entries] == [
        "CreateProject",
        "CreateProjectMember",
        "CreateFile",
        "DeployFile",
    ]
    create, deploy = entries[2], entries[3]
    assert (create["UserId"], create["AccessKeyId"], create["Code"]) == (
        dev.user_id,
        dev.key_id,
        "OK",
    )
    assert len(create["Parameters"]["Content"]) < 300  # long values are cut
    assert (deploy["Code"], deploy["Status"]) == ("Forbidden.Access", 403)
    assert all(e["RequestId"] and e["Time"].endswith("Z") for e in entries)
    assert dev.secret not in done.stdout and DEV_KEY[1] not in done.stdout


@pytest.mark.skipif(postgres_base() is not None, reason="copies an SQLite file")
def test_a_database_copy_without_the_server_key_reveals_no_secret(tmp_path: Path) -> None:
    running = start_server(tmp_path)
    try:
        users = [new_user(running, "cp") for _ in range(2)]
        extra = cli_json(running, "keys", "create", "--user", users[0].name)
        TeaClient(running.endpoint, *DEV_KEY).call("ListProjects")
        database = Path(running.database_url.removeprefix("sqlite:///"))
        copy = tmp_path / "copy" / "stolen.db"
        copy.parent.mkdir()
        with sqlite3.connect(database) as source, sqlite3.connect(copy) as target:
            source.backup(target)
        secrets = [u.secret for u in users] + [extra["AccessKeySecret"], DEV_KEY[1]]
        raw = b"".join(
            p.read_bytes()
            for p in database.parent.glob(database.name + "*")
            if not p.name.endswith(".key")
        )
        dump = "\n".join(sqlite3.connect(copy).iterdump())
        for secret in secrets:
            assert secret not in dump
            assert secret.encode() not in raw
        assert (database.parent / (database.name + ".key")).stat().st_mode & 0o077 == 0
        engine = make_engine(f"sqlite:///{copy}")
        assert (
            lookup_key(engine, SecretBox(b"guessed-server-key-0123456789abc"), users[0].key_id)
            is None
        )
        engine.dispose()
    finally:
        running.stop()


def test_an_unknown_key_and_a_wrong_secret(server: RunningServer) -> None:
    user = new_user(server, "wrong")
    bad = TeaClient(server.endpoint, user.key_id, "not-the-secret")
    assert failure(lambda: bad.call("ListProjects")).code == "SignatureDoesNotMatch"
    with pytest.raises(CallFailed) as caught:
        TeaClient(server.endpoint, "LTAInope", "x").call("ListProjects")
    assert caught.value.code == "InvalidAccessKeyId.NotFound"


def test_audit_trail_records_the_api_version(server: RunningServer) -> None:
    tea = root(server)
    name = unique("aud24")
    new = Tea2024Client(server.endpoint, *DEV_KEY)
    project_id = int(new.call("CreateProject", Name=name, DisplayName="audit 2024")["Id"])
    new.call("UpdateProject", Id=project_id, Description="changed through 2024")
    tea.call("CreateFile", ProjectId=project_id, FileName=unique("f"), FileType=10)
    done = server.cli("audit", "--workspace", str(project_id), "--since", "10m", "--json")
    assert done.returncode == 0, done.stderr
    entries = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(e["Action"], e["Version"], e["ProjectId"]) for e in entries] == [
        ("CreateProject", "2024-05-18", project_id),
        ("UpdateProject", "2024-05-18", project_id),  # the workspace named by Id
        ("CreateFile", "2020-05-18", project_id),
    ]
    text = server.cli("audit", "--workspace", str(project_id), "--since", "10m")
    assert " UpdateProject@2024-05-18 " in text.stdout and " CreateFile " in text.stdout
