"""2024-05-18 member operations: ListProjectMembers, GetProjectMember, CreateProjectMember,
DeleteProjectMember, GrantMemberProjectRoles, RevokeMemberProjectRoles, ListProjectRoles,
GetProjectRole.

The same member rows and role codes as 2020 (core/members.py, core/roles.py); ``RoleCodes``
are JSON arrays. ListProjectRoles' paging numbers are strings, as the SDK types them::

    ListProjectMembers(RoleCodes?, UserIds?) ─▶ PagingInfo{ProjectMembers[...], numbers}
    ListProjectRoles(Codes?, Names?, Type?)   ─▶ PagingInfo{ProjectRoles[...], "numbers"}
    GetProjectRole(Code)                      ─▶ ProjectRole | InvalidProjectRole.NotFound
"""

from __future__ import annotations

from typing import Any

from openworks.core import members
from openworks.core.errors import NotFound
from openworks.core.roles import RoleInfo, role_info
from openworks.presenters.workspace_2024 import SYSTEM, member_document, role_document
from openworks.protocol.errors import invalid_parameter

from ..registry import Call, Params, handles, page_of, paged

__all__: list[str] = []

V = "2024-05-18"
_ROLE_TYPES = (SYSTEM, "UserCustom")


@handles("ListProjectMembers", version=V)
def list_project_members(call: Call, p: Params) -> dict[str, Any]:
    page = page_of(p)
    project_id = p["ProjectId"]
    found, total = members.find_members(
        call.core,
        call.principal,
        project_id,
        page,
        roles=p.get("RoleCodes") or (),
        user_ids=p.get("UserIds") or (),
    )
    listed = [member_document(project_id, m) for m in found]
    return {"PagingInfo": paged("ProjectMembers", listed, page, total)}


@handles("GetProjectMember", version=V)
def get_project_member(call: Call, p: Params) -> dict[str, Any]:
    member = members.get_member(call.core, call.principal, p["ProjectId"], p["UserId"])
    return {"ProjectMember": member_document(p["ProjectId"], member)}


@handles("CreateProjectMember", version=V)
def create_project_member(call: Call, p: Params) -> dict[str, Any]:
    members.add_member_with_roles(
        call.core, call.principal, p["ProjectId"], p["UserId"], p["RoleCodes"]
    )
    return {}


@handles("DeleteProjectMember", version=V)
def delete_project_member(call: Call, p: Params) -> dict[str, Any]:
    members.remove_member(call.core, call.principal, p["ProjectId"], p["UserId"])
    return {}


@handles("GrantMemberProjectRoles", version=V)
def grant_member_project_roles(call: Call, p: Params) -> dict[str, Any]:
    members.grant_roles(call.core, call.principal, p["ProjectId"], p["UserId"], p["RoleCodes"])
    return {}


@handles("RevokeMemberProjectRoles", version=V)
def revoke_member_project_roles(call: Call, p: Params) -> dict[str, Any]:
    members.revoke_roles(call.core, call.principal, p["ProjectId"], p["UserId"], p["RoleCodes"])
    return {}


def _selected(roles: tuple[RoleInfo, ...], p: Params) -> list[RoleInfo]:
    kind = p.get("Type")
    if kind is not None and kind not in _ROLE_TYPES:
        raise invalid_parameter("Type", f"must be {' or '.join(_ROLE_TYPES)}")
    codes, names = p.get("Codes") or (), p.get("Names") or ()
    return [
        r
        for r in roles
        if (kind in (None, SYSTEM))
        and (not codes or r.code in codes)
        and (not names or r.name in names)
    ]


@handles("ListProjectRoles", version=V)
def list_project_roles(call: Call, p: Params) -> dict[str, Any]:
    page = page_of(p)
    roles = _selected(members.list_roles(call.core, call.principal, p["ProjectId"]), p)
    shown = [role_document(r) for r in roles[page.offset : page.offset + page.size]]
    # the SDK types this operation's paging numbers as strings
    return {
        "PagingInfo": {
            "ProjectRoles": shown,
            "PageNumber": str(page.number),
            "PageSize": str(page.size),
            "TotalCount": str(len(roles)),
        }
    }


@handles("GetProjectRole", version=V)
def get_project_role(call: Call, p: Params) -> dict[str, Any]:
    members.list_roles(call.core, call.principal, p["ProjectId"])  # the workspace check
    role = role_info(p["Code"])
    if role is None:
        raise NotFound(
            "InvalidProjectRole.NotFound",
            f"The workspace has no role with the code {p['Code']!r}.",
        )
    return {"ProjectRole": role_document(role)}
