"""Workspace roles and permissions: who holds which permission, and the rule type.

Which operation needs which permission is an operation's fact: each API version's overlay
(``openworks.api.versions``) gives every operation it serves a :class:`Rule`. The api layer
passes the rule of the running operation to :func:`openworks.core.access.enforcing`, which
refuses an operation without one; docs/security.md shows the matrix of 2020-05-18, rendered
by :func:`render_matrix`.

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


def render_matrix(rules: Mapping[str, Rule]) -> str:
    """The matrix of ``rules`` (operation name → rule) as Markdown tables; docs/security.md
    embeds exactly this text for the rules of the 2020-05-18 overlay."""
    lines = [
        "| Permission | Held by |",
        "|---|---|",
        *(f"| `{p.value}` | {_who(p)} |" for p in Permission),
        "",
        "| Operation | Standard workspace | Basic workspace |",
        "|---|---|---|",
    ]
    for name in sorted(rules):
        rule = rules[name]
        basic = rule.required(ProjectMode.BASIC)
        lines.append(f"| {name} | `{rule.permission.value}` | `{basic.value}` |")
    return "\n".join(lines) + "\n"
