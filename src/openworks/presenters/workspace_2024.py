"""Workspaces, members and roles in their 2024-05-18 shapes.

The same rows as 2020 (:mod:`.workspace`, ``api/members.py``), other names::

    2020 (GetProject Data)          2024 (Project)
    ProjectId                       Id
    ProjectIdentifier               Name
    ProjectName                     DisplayName
    ProjectDescription              Description
    ProjectOwnerBaseId              Owner
    Status 0 / 4 ...                Status "Available" / "Forbidden" ...
    ProjectMode 3 / 2               DevEnvironmentEnabled true / false
    DisableDevelopment              DevRoleDisabled
    ResourceManagerResourceGroupId  AliyunResourceGroupId
    Tags                            AliyunResourceTags
    (none)                          PaiTaskEnabled: always false (no PAI scheduling)

A member is ``{ProjectId, UserId, UserName, Status "Normal"|"Forbidden", Roles[{Code, Name,
Type "System"}]}``; a role is ``{Code, Name, Type "System", ProjectId -1, ModulePermissions}``
where the module permissions are the openworks permissions the role holds.
"""

from __future__ import annotations

from typing import Any

from openworks.core.member_model import Member
from openworks.core.model import Project, ProjectMode
from openworks.core.roles import Permission, RoleInfo, holders, role_info

__all__ = [
    "STATUS_CODE",
    "STATUS_NAME",
    "member_document",
    "project_document",
    "role_document",
    "role_entry",
]

# projects.status (the 2020 GetProject Status numbers) and their 2024 names
STATUS_NAME: dict[int, str] = {
    0: "Available",
    1: "Deleted",  # never shown: a deleted workspace answers like a missing one
    2: "Initializing",
    3: "InitFailed",
    4: "Forbidden",
    5: "Deleting",
    6: "DeleteFailed",
    7: "Frozen",
    8: "Updating",
    9: "UpdateFailed",
}
STATUS_CODE: dict[str, int] = {name: code for code, name in STATUS_NAME.items() if code != 1}
SYSTEM = "System"
SYSTEM_ROLE_PROJECT = -1  # DataWorks: "for default system roles ProjectId is fixed to -1"
_MODULES = (Permission.READ, Permission.DEVELOP, Permission.DEPLOY, Permission.MANAGE)


def project_document(p: Project) -> dict[str, Any]:
    """GetProject's ``Project`` and one entry of ListProjects' ``Projects``."""
    return {
        "AliyunResourceGroupId": p.resource_group_id,
        "AliyunResourceTags": [{"Key": t["Key"], "Value": t.get("Value", "")} for t in p.tags],
        "Description": p.description,
        "DevEnvironmentEnabled": p.mode == ProjectMode.STANDARD,
        "DevRoleDisabled": p.disable_development,
        "DisplayName": p.name,
        "Id": p.id,
        "Name": p.identifier,
        "Owner": p.owner_id,
        "PaiTaskEnabled": False,
        "Status": STATUS_NAME.get(p.status, str(p.status)),
    }


def role_entry(role: RoleInfo) -> dict[str, Any]:
    """A role as a member's ``Roles`` entry."""
    return {"Code": role.code, "Name": role.name, "Type": SYSTEM}


def member_document(project_id: int, member: Member) -> dict[str, Any]:
    """GetProjectMember's ``ProjectMember`` and a ListProjectMembers entry."""
    roles = sorted(
        (info for code in member.roles if (info := role_info(code)) is not None),
        key=lambda r: r.id,
    )
    return {
        "ProjectId": project_id,
        "Roles": [role_entry(r) for r in roles],
        "Status": "Forbidden" if member.user.disabled else "Normal",
        "UserId": member.user.id,
        "UserName": member.user.name,
    }


def role_document(role: RoleInfo) -> dict[str, Any]:
    """GetProjectRole's ``ProjectRole`` and a ListProjectRoles entry."""
    permissions = [
        {"ModuleId": number, "ModuleName": permission.value, "PermissionType": "Allow"}
        for number, permission in enumerate(_MODULES, start=1)
        if role.code in holders(permission)
    ]
    return {
        "Code": role.code,
        "ModulePermissions": permissions,
        "Name": role.name,
        "ProjectId": SYSTEM_ROLE_PROJECT,
        "Type": SYSTEM,
    }
