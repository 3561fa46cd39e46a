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

from collections.abc import Sequence

from .access import ProjectRef, resolve_project
from .context import Core
from .errors import Forbidden, Invalid
from .member_model import Member, UserInfo
from .model import Principal, Project
from .ports import Page, Tx
from .roles import GUEST, OWNER, ROLES, RoleInfo, role_info

__all__ = [
    "add_member",
    "add_member_with_roles",
    "add_role",
    "find_members",
    "get_member",
    "grant_roles",
    "list_members",
    "list_roles",
    "remove_member",
    "remove_role",
    "revoke_roles",
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


# -- 2024-05-18: several roles at once, one member, filtered listing -----------------------
#
#   CreateProjectMember(RoleCodes) ─▶ member {codes}          (at least one code)
#   GrantMemberProjectRoles(codes) ─▶ member {roles + codes}   (held ones: no change)
#   RevokeMemberProjectRoles(codes) ─▶ member {roles - codes}  (not held: no change; the
#                                                              last role stays)
# The owner role is neither granted nor revoked, as in 2020.

_EVERY = Page(1, 1 << 62)


def _roles(codes: Sequence[str]) -> list[str]:
    if not codes:
        raise Invalid("Invalid.Param", "RoleCodes must name at least one workspace role.")
    return list(dict.fromkeys(_role(code) for code in codes))


def get_member(core: Core, principal: Principal, project_id: int, user_id: str) -> Member:
    with core.store.transaction() as tx:
        project = resolve_project(tx, principal, ProjectRef(project_id))
        roles = _member_roles(tx, project, user_id)
        user = tx.user(user_id)
    if user is None:  # pragma: no cover - a member row always names a user
        raise Invalid("Invalid.Tenant.UserNotInProject", f"The user {user_id} is unknown.")
    return Member(user, sorted(roles))


def find_members(
    core: Core,
    principal: Principal,
    project_id: int,
    page: Page,
    roles: Sequence[str] = (),
    user_ids: Sequence[str] = (),
) -> tuple[list[Member], int]:
    """Members holding any of ``roles`` and among ``user_ids`` (empty: no filter)."""
    with core.store.transaction() as tx:
        project = resolve_project(tx, principal, ProjectRef(project_id))
        every, _ = tx.list_members(project.id, _EVERY)
    found = [
        m
        for m in every
        if (not roles or set(m.roles) & set(roles)) and (not user_ids or m.user.id in user_ids)
    ]
    return found[page.offset : page.offset + page.size], len(found)


def add_member_with_roles(
    core: Core, principal: Principal, project_id: int, user_id: str, codes: Sequence[str]
) -> None:
    wanted = _roles(codes)
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ProjectRef(project_id))
        _account_user(tx, project, user_id)
        if tx.member_roles(project.id, user_id):
            raise Invalid(
                "Invalid.Tenant.UserAlreadyInProject",
                f"The user {user_id} is already a member of workspace {project.identifier}.",
            )
        for code in wanted:
            tx.add_member(project.id, user_id, code)


def grant_roles(
    core: Core, principal: Principal, project_id: int, user_id: str, codes: Sequence[str]
) -> None:
    wanted = _roles(codes)
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ProjectRef(project_id))
        _member_roles(tx, project, user_id)
        for code in wanted:
            tx.add_member(project.id, user_id, code)  # no-op when already held


def revoke_roles(
    core: Core, principal: Principal, project_id: int, user_id: str, codes: Sequence[str]
) -> None:
    unwanted = set(_roles(codes))
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ProjectRef(project_id))
        held = _member_roles(tx, project, user_id)
        if not held - unwanted:
            raise Invalid(
                "Invalid.Param",
                f"Revoking {', '.join(sorted(unwanted & held))} would leave user {user_id} "
                "without a role; use DeleteProjectMember to remove the member.",
            )
        for code in sorted(unwanted & held):
            tx.remove_member(project.id, user_id, code)
