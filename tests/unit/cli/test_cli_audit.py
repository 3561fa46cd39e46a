"""Changes made with ``openworks`` commands are in ``openworks audit`` (issue 17): source
``cli``, the account and user the command acted as, and the operator (OS user@host)."""

from __future__ import annotations

import getpass
import json
import socket
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import insert, select

from openworks.cli import audited
from openworks.core.members import add_member
from openworks.store import make_engine, migrate
from openworks.store.audit import AuditEntry, append, query
from openworks.store.db import MIGRATIONS
from openworks.store.schema_security import audit_log
from tests.dbutil import postgres_base

from .conftest import ACCOUNT, ROOT, CliDb
from .test_cli_newcomer import held_package, user


def cli_rows(cli_db: CliDb, *extra: str) -> list[dict[str, Any]]:
    done = cli_db.invoke("audit", "--source", "cli", "--json", *extra)
    assert done.exit_code == 0, done.output
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_operator_is_the_os_user_and_host(monkeypatch: pytest.MonkeyPatch) -> None:
    host = socket.gethostname()
    monkeypatch.setattr(getpass, "getuser", lambda: "alice")
    monkeypatch.delenv("SUDO_USER", raising=False)
    assert audited.operator() == f"alice@{host}"
    monkeypatch.setattr(getpass, "getuser", lambda: "root")
    monkeypatch.setenv("SUDO_USER", "alice")
    assert audited.operator() == f"alice@{host}(sudo:root)"

    def nameless() -> str:
        raise OSError("no user name for uid 4242")

    monkeypatch.delenv("SUDO_USER")
    monkeypatch.setattr(getpass, "getuser", nameless)
    assert audited.operator().endswith(f"@{host}") and audited.operator().startswith("uid")


def test_workspace_changes_are_audited_with_the_operator(
    cli_db: CliDb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(getpass, "getuser", lambda: "alice")
    operator = f"alice@{socket.gethostname()}"
    dana, dev = user(cli_db, "dana"), user(cli_db, "dev")
    add_member(cli_db.core, ROOT, cli_db.project_id, dana, "role_project_deploy")
    add_member(cli_db.core, ROOT, cli_db.project_id, dev, "role_project_dev")
    package_id = held_package(cli_db, tmp_path)  # workspace set + sync, through the CLI
    refused = cli_db.invoke("deployments", "approve", str(package_id), "--user", "dev")
    assert refused.exit_code == 1
    rejected = cli_db.invoke(
        "deployments", "reject", str(package_id), "--reason", "not today", "--user", "dana"
    )
    assert rejected.exit_code == 0, rejected.output
    secret = "s3cret-signing-key"
    added = cli_db.invoke(
        "extensions", "add", "chk_audit", "--name", "audit", "--events", "commit-file",
        "--url", "http://127.0.0.1:9/hook", "--secret", secret, "--workspace", "ws_cli",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert cli_db.invoke("extensions", "remove", "chk_audit").exit_code == 0
    assert cli_db.invoke("deployments", "list", "--workspace", "ws_cli").exit_code == 0  # a read
    dry = cli_db.invoke("sync", str(tmp_path / "nodes"), "--workspace", "ws_cli", "--dry-run")
    assert dry.exit_code == 0, dry.output  # changes nothing: not recorded

    rows = cli_rows(cli_db)
    assert [r["Action"] for r in rows] == [
        "workspace.set",
        "sync",
        "deployments.approve",
        "deployments.reject",
        "extensions.add",
        "extensions.remove",
    ]
    assert {(r["Source"], r["Operator"], r["AccessKeyId"]) for r in rows} == {("cli", operator, "")}
    assert all(r["AccountId"] == ACCOUNT and r["RequestId"] for r in rows)
    setting, synced, approve, reject, add, remove = rows
    assert (setting["UserId"], setting["ProjectId"], setting["Code"]) == (
        ACCOUNT,
        cli_db.project_id,
        "OK",
    )
    assert setting["Parameters"]["Settings"] == {"approval.required": "true"}
    assert synced["ProjectId"] == cli_db.project_id
    assert synced["Parameters"]["Plan"]["create"] == 1 and synced["Parameters"]["Deploy"]
    assert synced["Parameters"]["Result"]["TimedOut"] == [package_id]
    # a refusal is recorded too, as the API records one: who tried, and the code
    assert (approve["UserId"], approve["Status"], approve["Code"]) == (
        dev,
        403,
        "Forbidden.Deploy.NotReviewer",
    )
    assert approve["ProjectId"] == cli_db.project_id
    assert "may not review" in approve["Parameters"]["ErrorMessage"]
    assert (reject["UserId"], reject["Code"], reject["Parameters"]["Reason"]) == (
        dana,
        "OK",
        "not today",
    )
    assert add["Parameters"]["Secret"] == "***" and add["ProjectId"] == cli_db.project_id
    assert remove["Parameters"] == {"ExtensionCode": "chk_audit"}

    everything = cli_db.invoke("audit")
    assert secret not in everything.output
    text = [line for line in everything.stdout.splitlines() if " deployments.reject " in line]
    assert len(text) == 1 and f" {dana} cli:{operator} deployments.reject " in text[0]
    by_workspace = cli_rows(cli_db, "--workspace", "ws_cli")
    assert [r["Action"] for r in by_workspace] == [r["Action"] for r in rows[:5]]
    assert cli_db.invoke("audit", "--source", "api", "--json").stdout == ""


def test_identity_commands_are_audited_without_secrets(cli_db: CliDb) -> None:
    made = json.loads(cli_db.invoke("users", "create", "erin").stdout)
    key = json.loads(cli_db.invoke("keys", "create", "--user", "erin").stdout)
    assert cli_db.invoke("keys", "disable", key["AccessKeyId"]).exit_code == 0
    assert cli_db.invoke("keys", "delete", key["AccessKeyId"]).exit_code == 0
    sts = json.loads(cli_db.invoke("sts", "issue", "--user", "erin").stdout)
    assert cli_db.invoke("users", "disable", "erin").exit_code == 0
    assert cli_db.invoke("users", "disable", "nobody").exit_code == 1
    passwd = cli_db.invoke(
        "users", "passwd", "erin", "--password-stdin", stdin="a-long-console-password\n"
    )
    assert passwd.exit_code == 0, passwd.output
    account = json.loads(cli_db.invoke("accounts", "create", "tenant-b").stdout)

    rows = cli_rows(cli_db)
    assert [(r["Action"], r["Code"]) for r in rows] == [
        ("users.create", "OK"),
        ("keys.create", "OK"),
        ("keys.disable", "OK"),
        ("keys.delete", "OK"),
        ("sts.issue", "OK"),
        ("users.disable", "OK"),
        ("users.disable", "Invalid.Command"),
        ("users.passwd", "OK"),
        ("accounts.create", "OK"),
    ]
    assert rows[0]["Parameters"]["Result"]["AccessKeyId"] == made["AccessKeyId"]
    assert rows[1]["Parameters"]["Result"]["AccessKeyId"] == key["AccessKeyId"]
    assert rows[4]["Parameters"]["Result"]["AccessKeyId"] == sts["AccessKeyId"]
    assert rows[6]["Status"] == 400 and "nobody" in rows[6]["Parameters"]["ErrorMessage"]
    assert rows[8]["Parameters"]["Result"]["AccountId"] == account["AccountId"]
    trail = cli_db.invoke("audit", "--all-accounts", "--json").stdout
    for secret in (
        made["AccessKeySecret"],
        key["AccessKeySecret"],
        sts["AccessKeySecret"],
        sts["SecurityToken"],
        account["AccessKeySecret"],
        "a-long-console-password",
    ):
        assert secret not in trail


def test_api_rows_keep_source_api(cli_db: CliDb) -> None:
    entry = AuditEntry(1, ACCOUNT, ACCOUNT, "LTAIkey", "CreateFile", 200, "OK", "RID-1")
    assert append(cli_db.engine, entry)
    (found,) = query(cli_db.engine, ACCOUNT)
    assert (found.source, found.operator) == ("api", None)
    shown = cli_db.invoke("audit").stdout
    assert " LTAIkey CreateFile - 200 OK RID-1 " in shown


@pytest.mark.skipif(postgres_base() is not None, reason="an SQLite file at an old revision")
def test_rows_written_before_the_upgrade_read_as_api(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/old.db")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0009")
    with engine.begin() as conn:
        conn.execute(insert(audit_log).values(_old_row()))  # the 0009 columns only
    migrate(engine)
    with engine.connect() as conn:
        row = conn.execute(select(audit_log.c.source, audit_log.c.operator)).one()
    assert tuple(row) == ("api", None)
    engine.dispose()


def _old_row() -> dict[str, object]:
    return {
        "time": 1,
        "account_id": ACCOUNT,
        "user_id": ACCOUNT,
        "access_key_id": "LTAIold",
        "action": "CreateFile",
        "params": "{}",
        "status": 200,
        "code": "OK",
        "request_id": "RID-old",
    }
