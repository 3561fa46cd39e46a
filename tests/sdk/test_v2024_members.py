"""2024-05-18 members and roles through the official 2024 SDK (ACS3, v2) and core's
CommonRequest: the eight member operations, the same rows as 2020 both ways, and the
refusals (bad role code, owner role, last role, not a member, developer caller)."""

from __future__ import annotations

from typing import Any

from openworks.core.roles import ADMIN, DEVELOP, GUEST, OPS, OWNER, ROLES

from .clients import CommonClient2024, Tea2024Client, TeaClient
from .conftest import DEV_KEY, RunningServer, unique
from .security_helpers import failure, new_user

Client24 = Tea2024Client | CommonClient2024
ROOT = "1000000000000001"


def workspace(client: Client24) -> int:
    made = client.call("CreateProject", Name=unique("m24"), DisplayName="members")
    return int(made["Id"])


def codes(member: dict[str, Any]) -> list[str]:
    return [r["Code"] for r in member["Roles"]]


def test_member_lifecycle(client24: Client24, server: RunningServer) -> None:
    project_id = workspace(client24)
    user = new_user(server, "m24")
    client24.call(
        "CreateProjectMember", ProjectId=project_id, UserId=user.user_id, RoleCodes=[DEVELOP, OPS]
    )
    member = client24.call("GetProjectMember", ProjectId=project_id, UserId=user.user_id)
    got = member["ProjectMember"]
    assert got == {
        "ProjectId": project_id,
        "Roles": [
            {"Code": DEVELOP, "Name": "Develop", "Type": "System"},
            {"Code": OPS, "Name": "O&M", "Type": "System"},
        ],
        "Status": "Normal",
        "UserId": user.user_id,
        "UserName": user.name,
    }
    listed = client24.call("ListProjectMembers", ProjectId=project_id)["PagingInfo"]
    assert listed["TotalCount"] == 2 and (listed["PageNumber"], listed["PageSize"]) == (1, 10)
    by_user = {m["UserId"]: m for m in listed["ProjectMembers"]}
    assert codes(by_user[ROOT]) == [OWNER] and by_user[user.user_id] == got

    client24.call(
        "GrantMemberProjectRoles",
        ProjectId=project_id,
        UserId=user.user_id,
        RoleCodes=[ADMIN, DEVELOP],
    )
    client24.call(
        "RevokeMemberProjectRoles",
        ProjectId=project_id,
        UserId=user.user_id,
        RoleCodes=[OPS, GUEST],  # GUEST is not held: no change
    )
    got = client24.call("GetProjectMember", ProjectId=project_id, UserId=user.user_id)
    assert codes(got["ProjectMember"]) == [ADMIN, DEVELOP]

    filtered = client24.call("ListProjectMembers", ProjectId=project_id, RoleCodes=[ADMIN])
    assert [m["UserId"] for m in filtered["PagingInfo"]["ProjectMembers"]] == [user.user_id]
    filtered = client24.call("ListProjectMembers", ProjectId=project_id, UserIds=[ROOT])
    assert [m["UserId"] for m in filtered["PagingInfo"]["ProjectMembers"]] == [ROOT]
    paged = client24.call("ListProjectMembers", ProjectId=project_id, PageSize=1, PageNumber=2)
    assert paged["PagingInfo"]["TotalCount"] == 2
    assert len(paged["PagingInfo"]["ProjectMembers"]) == 1

    client24.call("DeleteProjectMember", ProjectId=project_id, UserId=user.user_id)
    gone = failure(
        lambda: client24.call("GetProjectMember", ProjectId=project_id, UserId=user.user_id)
    )
    assert (gone.code, gone.status) == ("Invalid.Tenant.UserNotInProject", 400)


def test_member_refusals(client24: Client24, server: RunningServer) -> None:
    project_id = workspace(client24)
    user = new_user(server, "r24")

    def call(action: str, roles: Any = None, who: str = user.user_id) -> Any:
        extra = {} if roles is None else {"RoleCodes": roles}
        return failure(lambda: client24.call(action, ProjectId=project_id, UserId=who, **extra))

    assert call("CreateProjectMember", ["boss"]).code == "Invalid.Param"
    assert call("CreateProjectMember", [OWNER]).code == "Invalid.Param"
    assert call("CreateProjectMember", []).code == "Invalid.Param"
    outsider = call("CreateProjectMember", [DEVELOP], who="no-such-user")
    assert (outsider.code, outsider.status) == ("Invalid.Tenant.UserNotInTenant", 403)
    assert call("GrantMemberProjectRoles", [DEVELOP]).code == "Invalid.Tenant.UserNotInProject"
    client24.call(
        "CreateProjectMember", ProjectId=project_id, UserId=user.user_id, RoleCodes=[DEVELOP]
    )
    again = call("CreateProjectMember", [GUEST])
    assert again.code == "Invalid.Tenant.UserAlreadyInProject"
    last = call("RevokeMemberProjectRoles", [DEVELOP])
    assert (last.code, last.status) == ("Invalid.Param", 400) and "DeleteProjectMember" in (
        last.message
    )
    owner = call("RevokeMemberProjectRoles", [OWNER], who=ROOT)
    assert (owner.code, owner.status) == ("Invalid.Param", 400)
    assert call("GrantMemberProjectRoles", [OWNER]).code == "Invalid.Param"
    assert call("GrantMemberProjectRoles", ["nope"]).code == "Invalid.Param"
    removed = call("DeleteProjectMember", who=ROOT)
    assert removed.status == 403
    unknown = failure(lambda: client24.call("ListProjectMembers", ProjectId=987654321))
    assert unknown.code == "Invalid.Tenant.ProjectNotExists"


def test_roles(client24: Client24) -> None:
    project_id = workspace(client24)
    listed = client24.call("ListProjectRoles", ProjectId=project_id, PageSize=100)["PagingInfo"]
    assert (listed["PageNumber"], listed["PageSize"], listed["TotalCount"]) == (
        "1",
        "100",
        str(len(ROLES)),
    )
    assert [r["Code"] for r in listed["ProjectRoles"]] == [r.code for r in ROLES]
    owner = listed["ProjectRoles"][0]
    assert (owner["Type"], owner["ProjectId"], owner["Name"]) == ("System", -1, "Workspace Owner")
    assert [m["ModuleName"] for m in owner["ModulePermissions"]] == [
        "read",
        "develop",
        "deploy",
        "manage",
    ]
    some = client24.call("ListProjectRoles", ProjectId=project_id, Codes=[DEVELOP, OPS])
    assert [r["Code"] for r in some["PagingInfo"]["ProjectRoles"]] == [DEVELOP, OPS]
    named = client24.call("ListProjectRoles", ProjectId=project_id, Names=["Develop"])
    assert [r["Code"] for r in named["PagingInfo"]["ProjectRoles"]] == [DEVELOP]
    custom = client24.call("ListProjectRoles", ProjectId=project_id, Type="UserCustom")
    assert custom["PagingInfo"]["TotalCount"] == "0"
    second = client24.call("ListProjectRoles", ProjectId=project_id, PageSize=5, PageNumber=3)
    assert len(second["PagingInfo"]["ProjectRoles"]) == len(ROLES) - 10
    bad_type = failure(lambda: client24.call("ListProjectRoles", ProjectId=project_id, Type="x"))
    assert (bad_type.code, bad_type.status) == ("InvalidParameter", 400)

    role = client24.call("GetProjectRole", ProjectId=project_id, Code=DEVELOP)["ProjectRole"]
    assert role == next(r for r in listed["ProjectRoles"] if r["Code"] == DEVELOP)
    assert [m["ModuleName"] for m in role["ModulePermissions"]] == ["read", "develop"]
    missing = failure(lambda: client24.call("GetProjectRole", ProjectId=project_id, Code="boss"))
    assert (missing.code, missing.status) == ("InvalidProjectRole.NotFound", 404)


def test_same_rows_as_2020(tea24: Tea2024Client, tea: TeaClient, server: RunningServer) -> None:
    project_id = workspace(tea24)
    made_2020, made_2024 = new_user(server, "a20"), new_user(server, "a24")
    tea.call("CreateProjectMember", ProjectId=project_id, UserId=made_2020.user_id, RoleCode=OPS)
    tea24.call(
        "CreateProjectMember", ProjectId=project_id, UserId=made_2024.user_id, RoleCodes=[ADMIN]
    )
    seen_2024 = tea24.call("GetProjectMember", ProjectId=project_id, UserId=made_2020.user_id)
    assert codes(seen_2024["ProjectMember"]) == [OPS]
    old = tea.call("ListProjectMembers", ProjectId=project_id, PageSize=100)["Data"]
    roles_2020 = {
        m["ProjectMemberId"]: [r["ProjectRoleCode"] for r in m["ProjectRoleList"]]
        for m in old["ProjectMemberList"]
    }
    assert roles_2020 == {ROOT: [OWNER], made_2020.user_id: [OPS], made_2024.user_id: [ADMIN]}
    tea.call(
        "AddProjectMemberToRole", ProjectId=project_id, UserId=made_2024.user_id, RoleCode=GUEST
    )
    got = tea24.call("GetProjectMember", ProjectId=project_id, UserId=made_2024.user_id)
    assert codes(got["ProjectMember"]) == [ADMIN, GUEST]
    tea24.call("DeleteProjectMember", ProjectId=project_id, UserId=made_2020.user_id)
    gone = failure(
        lambda: tea.call("DeleteProjectMember", ProjectId=project_id, UserId=made_2020.user_id)
    )
    assert gone.code == "Invalid.Tenant.UserNotInProject"


def test_developer_may_read_but_not_manage(server: RunningServer, tea24: Tea2024Client) -> None:
    project_id = workspace(tea24)
    dev, other = new_user(server, "d24"), new_user(server, "o24")
    tea24.call("CreateProjectMember", ProjectId=project_id, UserId=dev.user_id, RoleCodes=[DEVELOP])
    as_dev = Tea2024Client(server.endpoint, dev.key_id, dev.secret)
    listed = as_dev.call("ListProjectMembers", ProjectId=project_id)["PagingInfo"]
    assert listed["TotalCount"] == 2
    assert as_dev.call("GetProjectRole", ProjectId=project_id, Code=OWNER)["ProjectRole"]
    for action, roles in (
        ("CreateProjectMember", [GUEST]),
        ("GrantMemberProjectRoles", [ADMIN]),
        ("RevokeMemberProjectRoles", [DEVELOP]),
        ("DeleteProjectMember", None),
    ):
        extra = {} if roles is None else {"RoleCodes": roles}
        who = other.user_id if action == "CreateProjectMember" else dev.user_id
        denied = failure(
            lambda action=action, extra=extra, who=who: as_dev.call(
                action, ProjectId=project_id, UserId=who, **extra
            )
        )
        assert (denied.code, denied.status) == (
            "Invalid.Tenant.UserIsNotProjectOwnerOrAdmin",
            403,
        ), action


def test_malformed_role_codes(server: RunningServer, tea24: Tea2024Client) -> None:
    project_id = workspace(tea24)
    common = CommonClient2024(server.endpoint, *DEV_KEY)
    for value in ("[", '"role_project_dev"', "{}", '[["x"]]'):
        bad = failure(
            lambda value=value: common.call(
                "CreateProjectMember", ProjectId=project_id, UserId=ROOT, RoleCodes=value
            )
        )
        assert (bad.code, bad.status) == ("InvalidParameter", 400), value
