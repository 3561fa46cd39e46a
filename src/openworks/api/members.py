"""Member operations: ListProjectMembers, CreateProjectMember, DeleteProjectMember,
ListProjectRoles, AddProjectMemberToRole, RemoveProjectMemberFromRole.

Numbers that the contract types as strings are rendered as DataWorks does: member type
``"1"`` (the account itself) or ``"5"`` (a user of it), status ``"0"``/``"1"`` (normal,
disabled user), role type ``"0"`` (SYSTEM).
"""

from __future__ import annotations

from typing import Any

from openworks.core import members
from openworks.core.member_model import Member
from openworks.core.roles import RoleInfo, role_info

from .registry import Call, Params, handles, page_of, paged

__all__: list[str] = []


def role_document(role: RoleInfo) -> dict[str, Any]:
    return {
        "ProjectRoleCode": role.code,
        "ProjectRoleId": role.id,
        "ProjectRoleName": role.name,
        "ProjectRoleType": "0",
    }


def member_document(member: Member) -> dict[str, Any]:
    roles = [info for code in member.roles if (info := role_info(code)) is not None]
    return {
        "Nick": member.user.name,
        "ProjectMemberId": member.user.id,
        "ProjectMemberName": member.user.name,
        "ProjectMemberType": "1" if member.user.is_root else "5",
        "ProjectRoleList": [role_document(r) for r in sorted(roles, key=lambda r: r.id)],
        "Status": "1" if member.user.disabled else "0",
    }


@handles("ListProjectMembers")
def list_project_members(call: Call, p: Params) -> dict[str, Any]:
    page = page_of(p)
    found, total = members.list_members(call.core, call.principal, p["ProjectId"], page)
    return {"Data": paged("ProjectMemberList", [member_document(m) for m in found], page, total)}


@handles("ListProjectRoles")
def list_project_roles(call: Call, p: Params) -> dict[str, Any]:
    roles = members.list_roles(call.core, call.principal, p["ProjectId"])
    return {"ProjectRoleList": [role_document(r) for r in roles]}


@handles("CreateProjectMember")
def create_project_member(call: Call, p: Params) -> dict[str, Any]:
    members.add_member(call.core, call.principal, p["ProjectId"], p["UserId"], p.get("RoleCode"))
    return {}


@handles("DeleteProjectMember")
def delete_project_member(call: Call, p: Params) -> dict[str, Any]:
    members.remove_member(call.core, call.principal, p["ProjectId"], p["UserId"])
    return {}


@handles("AddProjectMemberToRole")
def add_project_member_to_role(call: Call, p: Params) -> dict[str, Any]:
    members.add_role(call.core, call.principal, p["ProjectId"], p["UserId"], p["RoleCode"])
    return {}


@handles("RemoveProjectMemberFromRole")
def remove_project_member_from_role(call: Call, p: Params) -> dict[str, Any]:
    members.remove_role(call.core, call.principal, p["ProjectId"], p["UserId"], p["RoleCode"])
    return {}
