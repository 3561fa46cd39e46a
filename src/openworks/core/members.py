"""Workspace members and their roles.

Who may call these is decided by the permission matrix (member management needs owner or
admin); this module keeps the membership itself consistent::

    user of the account ──CreateProjectMember(RoleCode? = visitor)──▶ member {roles}
    member ──AddProjectMemberToRole──▶ member {roles + role}
    member ──RemoveProjectMemberFromRole──▶ member {roles - role}   (the last role stays)
    member ──DeleteProjectMember──▶ not a member

Rules: only users of the workspace's account can join (``Invalid.Tenant.UserNotInTenant``);
the owner role is neither granted nor removed here and the workspace owner cannot be
removed; unknown role codes are ``Invalid.Param``.
"""

from __future__ import annotations

from .access import ProjectRef, resolve_project
from .context import Core
from .errors import Forbidden, Invalid
from .member_model import Member, UserInfo
from .model import Principal, Project
from .ports import Page, Tx
from .roles import GUEST, OWNER, ROLES, RoleInfo, role_info

__all__ = [
    "add_member",
    "add_role",
    "list_members",
    "list_roles",
    "remove_member",
    "remove_role",
]


def _role(code: str, *, assignable: bool = True) -> str:
    if role_info(code) is None:
        known = ", ".join(r.code for r in ROLES)
        raise Invalid("Invalid.Param", f"RoleCode {code!r} is not a workspace role ({known}).")
    if assignable and code == OWNER:
        raise Invalid(
            "Invalid.Param", "The role_project_owner role belongs to the workspace creator."
        )
    return code


def _account_user(tx: Tx, project: Project, user_id: str) -> UserInfo:
    user = tx.user(user_id)
    if user is None or user.account_id != project.account_id:
        raise Forbidden(
            "Invalid.Tenant.UserNotInTenant",
            f"The user {user_id} is not a user of the workspace's account.",
        )
    return user


def _member_roles(tx: Tx, project: Project, user_id: str) -> set[str]:
    roles = tx.member_roles(project.id, user_id)
    if not roles:
        raise Invalid(
            "Invalid.Tenant.UserNotInProject",
            f"The user {user_id} is not a member of workspace {project.identifier}.",
        )
    return roles


def list_members(
    core: Core, principal: Principal, project_id: int, page: Page
) -> tuple[list[Member], int]:
    with core.store.transaction() as tx:
        project = resolve_project(tx, principal, ProjectRef(project_id))
        return tx.list_members(project.id, page)


def list_roles(core: Core, principal: Principal, project_id: int) -> tuple[RoleInfo, ...]:
    with core.store.transaction() as tx:
        resolve_project(tx, principal, ProjectRef(project_id))
    return ROLES


def add_member(
    core: Core, principal: Principal, project_id: int, user_id: str, role: str | None
) -> None:
    code = _role(role or GUEST)
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ProjectRef(project_id))
        _account_user(tx, project, user_id)
        if tx.member_roles(project.id, user_id):
            raise Invalid(
                "Invalid.Tenant.UserAlreadyInProject",
                f"The user {user_id} is already a member of workspace {project.identifier}.",
            )
        tx.add_member(project.id, user_id, code)


def remove_member(core: Core, principal: Principal, project_id: int, user_id: str) -> None:
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ProjectRef(project_id))
        _member_roles(tx, project, user_id)
        if user_id == project.owner_id:
            raise Forbidden(
                "Forbidden.Access", f"The owner of workspace {project.identifier} stays a member."
            )
        tx.remove_member(project.id, user_id)


def add_role(core: Core, principal: Principal, project_id: int, user_id: str, role: str) -> None:
    code = _role(role)
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ProjectRef(project_id))
        _member_roles(tx, project, user_id)
        tx.add_member(project.id, user_id, code)  # no-op when already held


def remove_role(core: Core, principal: Principal, project_id: int, user_id: str, role: str) -> None:
    code = _role(role)
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ProjectRef(project_id))
        roles = _member_roles(tx, project, user_id)
        if code not in roles:
            return
        if roles == {code}:
            raise Invalid(
                "Invalid.Param",
                f"{code} is the last role of user {user_id}; use DeleteProjectMember to remove "
                "the member.",
            )
        tx.remove_member(project.id, user_id, code)
