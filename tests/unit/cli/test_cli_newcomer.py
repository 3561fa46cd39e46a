"""What a new user tripped over (issue 17): no command listed workspaces, ``deployments show
ID`` wanted ``--workspace``, a package waiting for approval looked like any READY one, and
``extensions add --help`` hid the secret's minimum length."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from openworks.cli.extensions import MIN_SECRET_LENGTH
from openworks.core.errors import Invalid
from openworks.core.extensions import add_extension
from openworks.core.members import add_member
from openworks.core.projects import NewProject, create_project
from openworks.store.identity import create_user, set_user_disabled
from openworks.store.secrets import SecretBox, load_server_key

from .conftest import ACCOUNT, ROOT, CliDb

APPROVAL_NOTE = "is waiting for approval by the root user or a workspace owner"


def held_package(cli_db: CliDb, tmp_path: Path) -> int:
    """A production package of ws_cli held for approval (through the CLI, as a user would)."""
    assert cli_db.invoke("workspace", "set", "ws_cli", "approval.required=true").exit_code == 0
    folder = tmp_path / "nodes"
    folder.mkdir()
    (folder / "one.sql").write_text("select 1;\n")
    synced = cli_db.invoke(
        "sync", str(folder), "--workspace", "ws_cli", "--deploy", "--wait", "--local-worker",
        "--timeout", "0.5",
    )  # fmt: skip
    assert synced.exit_code == 1, synced.output  # the deploy package cannot finish alone
    assert APPROVAL_NOTE in synced.stderr  # sync says why
    listed = json.loads(
        cli_db.invoke("deployments", "list", "--workspace", "ws_cli", "--json").stdout
    )
    waiting = [d for d in listed["Deployments"] if d["WaitingForApproval"]]
    assert len(waiting) == 1
    return int(waiting[0]["DeploymentId"])


def user(cli_db: CliDb, name: str) -> str:
    box = SecretBox(load_server_key(cli_db.url))
    return create_user(cli_db.engine, box, ACCOUNT, name)[0]


# -- workspaces list|show -----------------------------------------------------------------


def test_workspaces_list_prints_every_workspace_with_its_id(cli_db: CliDb) -> None:
    other = create_project(cli_db.core, ROOT, NewProject("ws_basic", "Basic one", mode=2))
    listed = cli_db.invoke("workspaces", "list")
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["ID", "IDENTIFIER", "MODE", "OWNER", "NAME"]
    assert lines[1].split()[:3] == [str(cli_db.project_id), "ws_cli", "standard"]
    assert lines[2].split()[:3] == [str(other), "ws_basic", "basic"]
    assert lines[-1] == f"2 workspace(s) in account {ACCOUNT}"

    as_json = json.loads(cli_db.invoke("workspaces", "list", "--json").stdout)
    assert as_json["TotalCount"] == 2
    assert [(w["ProjectId"], w["ProjectIdentifier"]) for w in as_json["Workspaces"]] == [
        (cli_db.project_id, "ws_cli"),
        (other, "ws_basic"),
    ]
    assert as_json["Workspaces"][1]["EnvTypes"] == ["PROD"]


def test_workspaces_list_in_an_empty_account_says_how_to_make_one(cli_db: CliDb) -> None:
    empty = cli_db.invoke("workspaces", "list", env={"OPENWORKS_ACCOUNT_ID": "1000000000000777"})
    assert empty.exit_code == 0, empty.output
    assert "no workspaces in account 1000000000000777 yet" in empty.stdout
    assert "CreateProject" in empty.stdout


def test_workspaces_show_by_id_or_identifier(cli_db: CliDb) -> None:
    dana = user(cli_db, "dana")
    add_member(cli_db.core, ROOT, cli_db.project_id, dana, "role_project_deploy")
    by_name = cli_db.invoke("workspaces", "show", "ws_cli")
    assert by_name.exit_code == 0, by_name.output
    shown = json.loads(by_name.stdout)
    assert json.loads(cli_db.invoke("workspaces", "show", str(cli_db.project_id)).stdout) == shown
    assert (shown["ProjectId"], shown["ProjectIdentifier"], shown["Mode"]) == (
        cli_db.project_id,
        "ws_cli",
        "standard",
    )
    roles = {m["UserName"]: m["Roles"] for m in shown["Members"]}
    assert roles == {"root": ["role_project_owner"], "dana": ["role_project_deploy"]}
    assert shown["Settings"]["approval.required"] == "false"
    missing = cli_db.invoke("workspaces", "show", "nope")
    assert missing.exit_code == 1
    assert "The project nope does not exist" in missing.stderr
    assert "Traceback" not in missing.output


# -- deployments show without --workspace ------------------------------------------------


def test_deployments_show_finds_the_workspace_from_the_package_id(
    cli_db: CliDb, tmp_path: Path
) -> None:
    package_id = held_package(cli_db, tmp_path)
    shown = cli_db.invoke("deployments", "show", str(package_id))  # as docs/behaviour.md has it
    assert shown.exit_code == 0, shown.output
    document = json.loads(shown.stdout)
    assert (document["DeploymentId"], document["ProjectId"], document["ProjectIdentifier"]) == (
        package_id,
        cli_db.project_id,
        "ws_cli",
    )
    narrowed = cli_db.invoke("deployments", "show", str(package_id), "--workspace", "ws_cli")
    assert json.loads(narrowed.stdout) == document

    create_project(cli_db.core, ROOT, NewProject("ws_other", "other"))
    elsewhere = cli_db.invoke("deployments", "show", str(package_id), "--workspace", "ws_other")
    assert elsewhere.exit_code == 1
    assert "does not exist in workspace ws_other" in elsewhere.stderr
    foreign = cli_db.invoke(
        "deployments", "show", str(package_id), env={"OPENWORKS_ACCOUNT_ID": "1000000000000777"}
    )  # another account's package is one that does not exist
    assert foreign.exit_code == 1
    assert f"The deployment package {package_id} does not exist." in foreign.stderr
    unknown = cli_db.invoke("deployments", "show", "424242")
    assert unknown.exit_code == 1 and "InvalidDeployment.NotFound" in unknown.stderr


# -- a package waiting for approval says so, and who may approve ---------------------------


def test_a_package_waiting_for_approval_is_shown_as_such_with_its_reviewers(
    cli_db: CliDb, tmp_path: Path
) -> None:
    dana, dev, gone = user(cli_db, "dana"), user(cli_db, "dev"), user(cli_db, "gone")
    add_member(cli_db.core, ROOT, cli_db.project_id, dana, "role_project_deploy")
    add_member(cli_db.core, ROOT, cli_db.project_id, dev, "role_project_dev")
    add_member(cli_db.core, ROOT, cli_db.project_id, gone, "role_project_admin")
    set_user_disabled(cli_db.engine, ACCOUNT, "gone", True)
    package_id = held_package(cli_db, tmp_path)

    table = cli_db.invoke("deployments", "list", "--workspace", "ws_cli")
    assert table.exit_code == 0, table.output
    row = next(line for line in table.stdout.splitlines() if line.split()[0] == str(package_id))
    assert "WAITING FOR APPROVAL" in row
    assert (
        f"waiting for approval: {package_id}; may approve or reject: root (root user), "
        "dana (deploy)"
    ) in table.stdout
    assert "dev (" not in table.stdout and "gone" not in table.stdout  # no role / disabled

    shown = cli_db.invoke("deployments", "show", str(package_id))
    document = json.loads(shown.stdout)  # stdout stays JSON
    assert document["Status"] == 0
    assert document["StatusName"] == "WAITING FOR APPROVAL"
    assert document["WaitingForApproval"] is True
    assert [(r["UserName"], r["Roles"]) for r in document["Reviewers"]] == [
        ("root", ["root"]),
        ("dana", ["role_project_deploy"]),
    ]
    assert APPROVAL_NOTE in shown.stderr and "root (root user), dana (deploy)" in shown.stderr
    assert f"openworks deployments approve {package_id}" in shown.stderr

    waited = cli_db.invoke(
        "deployments", "wait", str(package_id), "--timeout", "0.2", "--interval", "0.05"
    )
    assert waited.exit_code == 2
    assert waited.stderr.count(APPROVAL_NOTE) == 1
    assert f"deployment {package_id}: still waiting for approval after 0.2 s" in waited.stderr

    approved = cli_db.invoke("deployments", "approve", str(package_id), "--user", "dana")
    assert approved.exit_code == 0, approved.output
    after = json.loads(cli_db.invoke("deployments", "show", str(package_id)).stdout)
    assert (after["StatusName"], after["WaitingForApproval"]) == ("SUCCESS", False)
    assert "Reviewers" not in after


# -- extensions add --help ------------------------------------------------------------------


def test_extensions_add_help_states_the_secret_minimum(cli_db: CliDb) -> None:
    helped = cli_db.invoke("extensions", "add", "--help")
    assert "at least 8" in " ".join(helped.stdout.split())
    # the number in the help is the one the core enforces
    short, enough = "x" * (MIN_SECRET_LENGTH - 1), "x" * MIN_SECRET_LENGTH
    with pytest.raises(Invalid, match=f"at least {MIN_SECRET_LENGTH} characters"):
        add_extension(
            cli_db.core, ROOT, "chk_a", "a", ["commit-file"], "http://127.0.0.1:9/", short, [], ""
        )
    add_extension(
        cli_db.core, ROOT, "chk_b", "b", ["commit-file"], "http://127.0.0.1:9/", enough, [], ""
    )
    refused = cli_db.invoke(
        "extensions", "add", "chk_c", "--name", "c", "--events", "commit-file",
        "--url", "http://127.0.0.1:9/", "--secret", short,
    )  # fmt: skip
    assert refused.exit_code == 1 and "at least 8 characters" in refused.stderr
