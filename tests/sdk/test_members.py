"""Members and roles through the official SDKs: the six member operations, the role
matrix operation by operation (generated from the matrix the server enforces), the
important denials by hand, and isolation between accounts."""

from __future__ import annotations

import re
from typing import Any

import pytest

from openworks.api import HANDLERS, matrix, operations
from openworks.core.roles import (
    ADMIN,
    DEPLOY_ROLE,
    DEVELOP,
    GUEST,
    OPS,
    Permission,
    Scope,
    permits,
)

from .clients import CallFailed, LegacyClient, TeaClient
from .conftest import RunningServer, poll, unique
from .security_helpers import User, cli_json, failure, new_project, new_user, root

DENIALS = {
    "Forbidden.Access",
    "Invalid.Tenant.UserIsNotProjectOwnerOrAdmin",
    "Invalid.Tenant.UserNotInProject",
}
NOT_MEMBER = "Invalid.Tenant.UserNotInProject"
MATRIX = matrix()  # the rules of the 2020-05-18 overlay, as the server enforces them
ROLE_OF = {"admin": ADMIN, "dev": DEVELOP, "pe": OPS, "deploy": DEPLOY_ROLE, "guest": GUEST}


@pytest.fixture(scope="module")
def team(server: RunningServer) -> dict[str, Any]:
    """A standard and a basic workspace of the root account with one member per role."""
    owner = root(server)
    users = {who: new_user(server, who) for who in [*ROLE_OF, "outsider"]}
    projects = {"standard": new_project(owner, 3), "basic": new_project(owner, 2)}
    for project_id in projects.values():
        for who, role in ROLE_OF.items():
            owner.call(
                "CreateProjectMember",
                ProjectId=project_id,
                UserId=users[who].user_id,
                RoleCode=role,
            )
    return {"users": users, "projects": projects}


def test_member_lifecycle(client: TeaClient | LegacyClient, server: RunningServer) -> None:
    project_id = new_project(client)
    user = new_user(server, "m")
    client.call("CreateProjectMember", ProjectId=project_id, UserId=user.user_id)
    listed = client.call("ListProjectMembers", ProjectId=project_id, PageSize=100)["Data"]
    assert listed["TotalCount"] == 2
    found = {m["ProjectMemberId"]: m for m in listed["ProjectMemberList"]}
    assert [r["ProjectRoleCode"] for r in found[user.user_id]["ProjectRoleList"]] == [GUEST]
    assert found[user.user_id]["ProjectMemberType"] == "5"
    assert found[user.user_id]["Nick"] == user.name and found[user.user_id]["Status"] == "0"
    owner_roles = [r["ProjectRoleCode"] for r in found["1000000000000001"]["ProjectRoleList"]]
    assert owner_roles == ["role_project_owner"]
    assert found["1000000000000001"]["ProjectMemberType"] == "1"

    client.call(
        "AddProjectMemberToRole", ProjectId=project_id, UserId=user.user_id, RoleCode=DEVELOP
    )
    client.call(
        "AddProjectMemberToRole", ProjectId=project_id, UserId=user.user_id, RoleCode=DEVELOP
    )
    client.call(
        "RemoveProjectMemberFromRole", ProjectId=project_id, UserId=user.user_id, RoleCode=GUEST
    )
    listed = client.call("ListProjectMembers", ProjectId=project_id, PageSize=1, PageNumber=2)
    page = listed["Data"]["ProjectMemberList"]
    assert listed["Data"]["TotalCount"] == 2 and len(page) == 1
    assert [r["ProjectRoleCode"] for r in page[0]["ProjectRoleList"]] == [DEVELOP]

    last = failure(
        lambda: client.call(
            "RemoveProjectMemberFromRole",
            ProjectId=project_id,
            UserId=user.user_id,
            RoleCode=DEVELOP,
        )
    )
    assert (last.code, last.status) == ("Invalid.Param", 400)
    again = failure(
        lambda: client.call("CreateProjectMember", ProjectId=project_id, UserId=user.user_id)
    )
    assert again.code == "Invalid.Tenant.UserAlreadyInProject"
    unknown = failure(
        lambda: client.call(
            "AddProjectMemberToRole", ProjectId=project_id, UserId=user.user_id, RoleCode="boss"
        )
    )
    assert unknown.code == "Invalid.Param"
    owner = failure(
        lambda: client.call("DeleteProjectMember", ProjectId=project_id, UserId="1000000000000001")
    )
    assert owner.status == 403

    client.call("DeleteProjectMember", ProjectId=project_id, UserId=user.user_id)
    gone = failure(
        lambda: client.call("DeleteProjectMember", ProjectId=project_id, UserId=user.user_id)
    )
    assert gone.code == "Invalid.Tenant.UserNotInProject"
    roles = client.call("ListProjectRoles", ProjectId=project_id)["ProjectRoleList"]
    assert {r["ProjectRoleCode"] for r in roles} >= {ADMIN, DEVELOP, OPS, DEPLOY_ROLE, GUEST}
    assert all(r["ProjectRoleType"] == "0" for r in roles)


def _dummy(spec: Any) -> Any:
    return {"int": 1, "bool": False, "str": "x1"}.get(spec.type, "x1")


def _params(operation: str, project_id: int) -> dict[str, Any]:
    """Placeholder values for what the operation requires (at least one of each group)."""
    specs = {p.name: p for p in operations()[operation].params}
    params = {name: _dummy(p) for name, p in specs.items() if p.required}
    for spec in specs.values():
        if spec.one_of and not any(name in params for name in spec.one_of):
            params[spec.one_of[0]] = _dummy(specs[spec.one_of[0]])
    return params | {"ProjectId": project_id}


def _table() -> list[tuple[str, str, str]]:
    cases = []
    for name in sorted(HANDLERS):
        rule = MATRIX[name]
        names = {p.name for p in operations()[name].params}
        if rule.scope is not Scope.WORKSPACE or "ProjectId" not in names:
            continue  # workspace found from an object (GetNode...): see the guard tests
        for mode in ("standard", "basic"):
            if mode == "basic" and rule.basic is None:
                continue
            cases.extend((name, who, mode) for who in [*ROLE_OF, "outsider"])
    return cases


@pytest.mark.parametrize(("operation", "who", "mode"), _table())
def test_matrix(
    server: RunningServer, team: dict[str, Any], operation: str, who: str, mode: str
) -> None:
    """Each role against each workspace operation: denied exactly when the matrix says."""
    user: User = team["users"][who]
    project_id = team["projects"][mode]
    params = _params(operation, project_id)
    rule = MATRIX[operation]
    mode_code = 3 if mode == "standard" else 2
    try:
        user.tea(server).call(operation, **params)
        code, message = "OK", ""
    except CallFailed as err:
        code, message = err.code, err.message
    # UserNotInProject about the target user (dummy UserId) is not a denial of the caller
    caller_denied = code in DENIALS and (code != NOT_MEMBER or user.user_id in message)
    if who == "outsider":
        assert code == NOT_MEMBER and caller_denied
    elif permits(rule, mode_code, {ROLE_OF[who]}, False):
        assert not caller_denied, (code, message)
    elif rule.required(mode_code) is Permission.MANAGE:
        assert code == "Invalid.Tenant.UserIsNotProjectOwnerOrAdmin"
    else:
        assert code == "Forbidden.Access"


def _file(client: TeaClient, project_id: int) -> int:
    return int(
        client.call(
            "CreateFile",
            ProjectId=project_id,
            FileName=unique("f"),
            FileType=10,
            Content="select 1;",
        )["Data"]
    )


def test_developer_submits_but_cannot_deploy_and_om_deploys(
    server: RunningServer, team: dict[str, Any]
) -> None:
    dev, pe = (team["users"][w].tea(server) for w in ("dev", "pe"))
    project_id = team["projects"]["standard"]
    file_id = _file(dev, project_id)
    submitted = dev.call("SubmitFile", ProjectId=project_id, FileId=file_id)["Data"]
    assert poll(dev, project_id, submitted)["Data"]["Deployment"]["Status"] == 1
    denied = failure(lambda: dev.call("DeployFile", ProjectId=project_id, FileId=file_id))
    assert (denied.code, denied.status) == ("Forbidden.Access", 403)
    assert "deploy" in denied.message
    deployed = pe.call("DeployFile", ProjectId=project_id, FileId=file_id)["Data"]
    assert poll(pe, project_id, deployed)["Data"]["Deployment"]["Status"] == 1


def test_visitor_reads_only(server: RunningServer, team: dict[str, Any]) -> None:
    project_id = team["projects"]["standard"]
    file_id = _file(root(server), project_id)
    guest = team["users"]["guest"].tea(server)
    got = guest.call("GetFile", ProjectId=project_id, FileId=file_id)
    assert got["Data"]["File"]["FileId"] == file_id
    for action, extra in [
        ("UpdateFile", {"FileId": file_id, "Content": "select 2;"}),
        ("CreateFile", {"FileName": unique("g"), "FileType": 10}),
        ("SubmitFile", {"FileId": file_id}),
        ("CreateProjectMember", {"UserId": team["users"]["outsider"].user_id}),
    ]:
        err = failure(lambda a=action, e=extra: guest.call(a, ProjectId=project_id, **e))
        assert err.status == 403, (action, err.code)


def test_basic_workspace_commit_is_production(server: RunningServer, team: dict[str, Any]) -> None:
    dev, pe = (team["users"][w].tea(server) for w in ("dev", "pe"))
    project_id = team["projects"]["basic"]
    file_id = _file(dev, project_id)
    assert failure(lambda: dev.call("SubmitFile", ProjectId=project_id, FileId=file_id)).code == (
        "Forbidden.Access"
    )
    package = pe.call("SubmitFile", ProjectId=project_id, FileId=file_id)["Data"]
    assert poll(pe, project_id, package)["Data"]["Deployment"]["Status"] == 1


def test_non_member_and_legacy_sdk(server: RunningServer, team: dict[str, Any]) -> None:
    outsider: User = team["users"]["outsider"]
    legacy = LegacyClient(server.endpoint, outsider.key_id, outsider.secret)
    err = failure(lambda: legacy.call("GetProject", ProjectId=team["projects"]["standard"]))
    assert (err.code, err.status) == ("Invalid.Tenant.UserNotInProject", 400)
    mine = new_project(legacy)  # any user of the account may create a workspace, and owns it
    assert legacy.call("GetProject", ProjectId=mine)["Data"]["ProjectOwnerBaseId"] == (
        outsider.user_id
    )


def _plain(message: str, project_id: int) -> str:
    """The message without the request id and the workspace ID."""
    return re.sub(r"request id: \S+", "", message).replace(str(project_id), "N")


def test_accounts_are_isolated(server: RunningServer, team: dict[str, Any]) -> None:
    other = cli_json(server, "accounts", "create", unique("acct"))
    theirs = TeaClient(server.endpoint, other["AccessKeyId"], other["AccessKeySecret"])
    ours = team["projects"]["standard"]
    hidden = failure(lambda: theirs.call("GetProject", ProjectId=ours))
    missing = failure(lambda: theirs.call("GetProject", ProjectId=987654321))
    assert (hidden.code, hidden.status) == (missing.code, missing.status)
    assert hidden.code == "Invalid.Tenant.ProjectNotExists"
    assert _plain(hidden.message, ours) == _plain(missing.message, 987654321)
    listed = theirs.call("ListProjects", PageSize=100)["PageResult"]
    assert listed["TotalCount"] == 0

    their_project = new_project(theirs)
    assert failure(lambda: root(server).call("GetProject", ProjectId=their_project)).code == (
        "Invalid.Tenant.ProjectNotExists"
    )
    stranger = new_user(server, "x", "--account", other["AccountId"])
    cross = failure(
        lambda: root(server).call("CreateProjectMember", ProjectId=ours, UserId=stranger.user_id)
    )
    assert (cross.code, cross.status) == ("Invalid.Tenant.UserNotInTenant", 403)
    theirs.call("CreateProjectMember", ProjectId=their_project, UserId=stranger.user_id)
    assert stranger.tea(server).call("GetProject", ProjectId=their_project)["Data"][
        "ProjectId"
    ] == (their_project)
