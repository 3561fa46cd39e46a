"""Workspace roles and the permission matrix: which operation needs which permission.

One declarative table, :data:`MATRIX`, maps every operation name to a :class:`Rule`; the api
layer enforces it on every call (see :mod:`openworks.core.access`) and docs/security.md
shows it, rendered by :func:`render_matrix`. An operation missing from the table is refused.

::

    Permission        scope       who holds it
    ─────────────     ─────────   ────────────────────────────────────────────────
    ACCOUNT_READ      account     every enabled user of the account
    ACCOUNT_WRITE     account     every enabled user of the account
    ACCOUNT_ADMIN     account     the account's root user only
    READ              workspace   any member (any role)
    DEVELOP           workspace   owner, admin, develop
    DEPLOY            workspace   owner, admin, O&M, deploy
    MANAGE            workspace   owner, admin

The account's root user (user ID = account ID) holds every permission in its own account.
A :class:`Rule` may name a stricter permission for *basic* workspaces, where a commit is
already production (SubmitFile, DeleteFile).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from .model import ProjectMode

__all__ = [
    "ADMIN",
    "DEPLOY_ROLE",
    "DEVELOP",
    "GUEST",
    "MATRIX",
    "OPS",
    "OWNER",
    "ROLES",
    "Permission",
    "RoleInfo",
    "Rule",
    "Scope",
    "holders",
    "permits",
    "render_matrix",
    "role_info",
]

OWNER = "role_project_owner"
ADMIN = "role_project_admin"
DEVELOP = "role_project_dev"
OPS = "role_project_pe"
DEPLOY_ROLE = "role_project_deploy"
GUEST = "role_project_guest"


@dataclass(frozen=True, slots=True)
class RoleInfo:
    code: str
    id: int
    name: str


# The built-in (SYSTEM) roles of every workspace, in ListProjectRoles order.
ROLES: tuple[RoleInfo, ...] = (
    RoleInfo(OWNER, 1, "Workspace Owner"),
    RoleInfo(ADMIN, 2, "Workspace Administrator"),
    RoleInfo(DEVELOP, 3, "Develop"),
    RoleInfo(OPS, 4, "O&M"),
    RoleInfo(DEPLOY_ROLE, 5, "Deploy"),
    RoleInfo(GUEST, 6, "Visitor"),
    RoleInfo("role_project_security", 7, "Security Administrator"),
    RoleInfo("role_project_tester", 8, "Experience User"),
    RoleInfo("role_project_erd", 9, "Model Designer"),
    RoleInfo("role_project_data_analyst", 10, "Data Analyst"),
    RoleInfo("role_project_dg_admin", 11, "Data Governance Administrator"),
)
_BY_CODE = {r.code: r for r in ROLES}


def role_info(code: str) -> RoleInfo | None:
    return _BY_CODE.get(code)


class Scope(StrEnum):
    ACCOUNT = "account"
    WORKSPACE = "workspace"


class Permission(StrEnum):
    ACCOUNT_READ = "account-read"
    ACCOUNT_WRITE = "account-write"
    ACCOUNT_ADMIN = "account-admin"
    READ = "read"
    DEVELOP = "develop"
    DEPLOY = "deploy"
    MANAGE = "manage"

    @property
    def scope(self) -> Scope:
        return Scope.ACCOUNT if self.value.startswith("account") else Scope.WORKSPACE


# Workspace roles holding each workspace permission (the root user holds all of them).
_HOLDERS: dict[Permission, frozenset[str]] = {
    Permission.READ: frozenset(_BY_CODE),
    Permission.DEVELOP: frozenset({OWNER, ADMIN, DEVELOP}),
    Permission.DEPLOY: frozenset({OWNER, ADMIN, OPS, DEPLOY_ROLE}),
    Permission.MANAGE: frozenset({OWNER, ADMIN}),
}


def holders(permission: Permission) -> frozenset[str]:
    """The workspace roles that hold a workspace permission (empty for account ones)."""
    return _HOLDERS.get(permission, frozenset())


@dataclass(frozen=True, slots=True)
class Rule:
    permission: Permission
    basic: Permission | None = None
    """Stricter permission in basic workspaces, where a commit reaches production."""

    @property
    def scope(self) -> Scope:
        return self.permission.scope

    def required(self, mode: int) -> Permission:
        if mode == ProjectMode.BASIC and self.basic is not None:
            return self.basic
        return self.permission


def permits(rule: Rule, mode: int, roles: set[str] | frozenset[str], is_root: bool) -> bool:
    """Whether a caller with these workspace roles may run an operation with ``rule``."""
    if is_root:
        return True
    permission = rule.required(mode)
    if permission.scope is Scope.ACCOUNT:
        return permission is not Permission.ACCOUNT_ADMIN
    return bool(holders(permission) & roles)


P = Permission
_R = Rule(P.READ)
_DEV = Rule(P.DEVELOP)
_COMMIT = Rule(P.DEVELOP, basic=P.DEPLOY)

MATRIX: Mapping[str, Rule] = {
    # account level: no workspace in the request
    "CreateProject": Rule(P.ACCOUNT_WRITE),
    "ListProjects": Rule(P.ACCOUNT_READ),
    "ListExtensions": Rule(P.ACCOUNT_READ),
    "GetExtension": Rule(P.ACCOUNT_READ),
    "CallbackExtension": Rule(P.ACCOUNT_ADMIN),
    "UpdateIDEEventResult": Rule(P.ACCOUNT_ADMIN),
    "CheckFileDeployment": Rule(P.ACCOUNT_ADMIN),
    # workspace reads
    "GetProject": _R,
    "ListProjectMembers": _R,
    "ListProjectRoles": _R,
    "GetFile": _R,
    "ListFiles": _R,
    "GetFileVersion": _R,
    "ListFileVersions": _R,
    "ListFileType": _R,
    "GetFolder": _R,
    "ListFolders": _R,
    "GetBusiness": _R,
    "ListBusiness": _R,
    "GetDeployment": _R,
    "ListDeployments": _R,
    "GetNode": _R,
    "GetNodeCode": _R,
    "ListNodes": _R,
    "GetNodeParents": _R,
    "GetNodeChildren": _R,
    "GetIDEEventDetail": _R,
    "ListCheckProcesses": _R,
    # development
    "CreateFile": _DEV,
    "UpdateFile": _DEV,
    "CreateResourceFile": _DEV,
    "CreateUdfFile": _DEV,
    "UpdateUdfFile": _DEV,
    "CreateFolder": _DEV,
    "UpdateFolder": _DEV,
    "DeleteFolder": _DEV,
    "CreateBusiness": _DEV,
    "UpdateBusiness": _DEV,
    "DeleteBusiness": _DEV,
    "EstablishRelationTableToBusiness": _DEV,
    # commits: development in standard workspaces, production in basic ones
    "SubmitFile": _COMMIT,
    "DeleteFile": _COMMIT,
    # production
    "DeployFile": Rule(P.DEPLOY),
    "OfflineNode": Rule(P.DEPLOY),
    # member management
    "CreateProjectMember": Rule(P.MANAGE),
    "DeleteProjectMember": Rule(P.MANAGE),
    "AddProjectMemberToRole": Rule(P.MANAGE),
    "RemoveProjectMemberFromRole": Rule(P.MANAGE),
}

_WHO = {
    P.ACCOUNT_READ: "any user of the account",
    P.ACCOUNT_WRITE: "any user of the account",
    P.ACCOUNT_ADMIN: "the account's root user",
}


def _who(permission: Permission) -> str:
    if permission in _WHO:
        return _WHO[permission]
    if permission is P.READ:
        return "any member"
    return ", ".join(r.code for r in ROLES if r.code in holders(permission))


def render_matrix() -> str:
    """The matrix as Markdown tables (docs/security.md embeds exactly this text)."""
    lines = [
        "| Permission | Held by |",
        "|---|---|",
        *(f"| `{p.value}` | {_who(p)} |" for p in Permission),
        "",
        "| Operation | Standard workspace | Basic workspace |",
        "|---|---|---|",
    ]
    for name in sorted(MATRIX):
        rule = MATRIX[name]
        basic = rule.required(ProjectMode.BASIC)
        lines.append(f"| {name} | `{rule.permission.value}` | `{basic.value}` |")
    return "\n".join(lines) + "\n"
