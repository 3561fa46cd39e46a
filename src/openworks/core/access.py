"""Which workspace a call means, and whether the caller may do the operation there.

``ProjectId`` or ``ProjectIdentifier`` selects the workspace; when both are given they must
name the same one. A workspace of another account answers exactly like one that does not
exist. The account's root user acts as owner in every workspace of its account; any other
user must be a member, and the operation's permission (:mod:`openworks.core.roles`) must be
held by one of the member's roles.

The api layer runs every handler inside :func:`enforcing` with the operation's rule, which
the operation's API version states (its overlay, ``openworks.api.versions``); core keeps no
table of operations. :func:`enforcing` puts the rule in a context variable::

    enforcing(op, rule) ─▶ rule missing? ──────────▶ Forbidden.Access (fail closed)
         │
         ├─ account scope: root-only rule and caller not root ─▶ Forbidden.Access
         ├─ workspace scope, the operation writes
         │     └─ authorize(...) before the handler ─▶ ProjectNotExists / UserNotInProject /
         │                                             Forbidden.Access / ...OwnerOrAdmin
         └─ handler ─▶ resolve_project / authorize_project (check the rule; mark checked)
                 ├─ handler error before any check ─▶ authorize(...) first: access errors win
                 └─ a workspace read that checked nothing ─▶ refused after the fact
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from .context import Core
from .errors import DomainError, Forbidden, Invalid
from .model import Principal, Project
from .ports import Tx
from .roles import OWNER, Permission, Rule, Scope, holders, permits

__all__ = [
    "OWNER",
    "Guard",
    "ProjectRef",
    "admit_project",
    "authorize",
    "authorize_project",
    "enforcing",
    "resolve_project",
    "visible_project",
]


@dataclass(frozen=True, slots=True)
class ProjectRef:
    id: int | None = None
    identifier: str | None = None

    @property
    def given(self) -> bool:
        return self.id is not None or bool(self.identifier)


@dataclass(slots=True)
class Guard:
    """The rule of the running operation and whether a workspace check happened."""

    operation: str
    rule: Rule
    checked: bool = False


_GUARD: ContextVar[Guard | None] = ContextVar("openworks_access_guard", default=None)


def _not_exists(ref: ProjectRef) -> Invalid:
    name = ref.id if ref.id is not None else ref.identifier
    return Invalid("Invalid.Tenant.ProjectNotExists", f"The project {name} does not exist.")


def _denied(operation: str, permission: Permission, project: Project | None) -> Forbidden:
    where = f" in workspace {project.identifier}" if project is not None else ""
    if permission is Permission.MANAGE:
        return Forbidden(
            "Invalid.Tenant.UserIsNotProjectOwnerOrAdmin",
            f"{operation} needs the workspace owner or administrator role{where}.",
        )
    if permission is Permission.ACCOUNT_ADMIN:
        return Forbidden(
            "Forbidden.Access", f"{operation} may only be called by the account's root user."
        )
    roles = ", ".join(sorted(holders(permission)))
    return Forbidden(
        "Forbidden.Access",
        f"{operation} needs the {permission.value} permission{where} (roles: {roles}).",
    )


def authorize_project(tx: Tx, principal: Principal, project: Project) -> Project:
    """Check the caller against a workspace already found (same account, member, rule)."""
    if project.account_id != principal.account_id or project.status == 1:
        raise _not_exists(ProjectRef(project.id))
    guard = _GUARD.get()
    if not principal.is_root:
        roles = tx.member_roles(project.id, principal.user_id)
        if not roles:
            raise Invalid(
                "Invalid.Tenant.UserNotInProject",
                f"The user {principal.user_id} is not a member of workspace {project.identifier}.",
            )
        if guard is not None and not permits(guard.rule, project.mode, roles, False):
            raise _denied(guard.operation, guard.rule.required(project.mode), project)
    if guard is not None:
        guard.checked = True
    return project


def visible_project(tx: Tx, principal: Principal, project_id: int | None) -> Project | None:
    """The workspace ``project_id`` if the caller may use it under the running rule, else
    None without saying why: for objects that name their own workspace (2024 GetNode,
    GetTask, ListSnapshots...), where one the caller cannot see answers like a missing one."""
    project = tx.project(project_id) if project_id is not None else None
    if project is None:
        return None
    try:
        return authorize_project(tx, principal, project)
    except DomainError:
        return None


def resolve_project(tx: Tx, principal: Principal, ref: ProjectRef) -> Project:
    if not ref.given:
        raise Invalid("Invalid.Param", "Specify ProjectId or ProjectIdentifier.")
    if ref.id is not None:
        return admit_project(tx, principal, ref, tx.project(ref.id))
    return admit_project(tx, principal, ref, tx.project_by_identifier(ref.identifier or ""))


def admit_project(tx: Tx, principal: Principal, ref: ProjectRef, found: Project | None) -> Project:
    """:func:`resolve_project`'s checks on the workspace already read for ``ref`` (None: no
    such workspace): both names agree, it is the caller's and live, the rule admits them."""
    named = ref.id is not None and ref.identifier
    if found is not None and named and found.identifier != ref.identifier:
        raise Invalid(
            "Invalid.Param",
            f"ProjectId {ref.id} and ProjectIdentifier {ref.identifier} name different workspaces.",
        )
    if found is None or found.account_id != principal.account_id or found.status == 1:
        raise _not_exists(ref)
    return authorize_project(tx, principal, found)


def authorize(core: Core, principal: Principal, ref: ProjectRef) -> Project:
    """Resolve and check the workspace of the running operation in its own transaction."""
    with core.store.transaction() as tx:
        return resolve_project(tx, principal, ref)


@contextlib.contextmanager
def enforcing(
    core: Core,
    principal: Principal,
    operation: str,
    ref: ProjectRef,
    writes: bool,
    rule: Rule | None,
) -> Iterator[Guard]:
    """Run ``operation`` under ``rule`` (see the module docstring); no rule: refused."""
    if rule is None:
        raise Forbidden("Forbidden.Access", f"{operation} has no permission rule; refused.")
    guard = Guard(operation, rule)
    token = _GUARD.set(guard)
    try:
        if rule.scope is Scope.ACCOUNT:
            if not permits(rule, 0, frozenset(), principal.is_root):
                raise _denied(operation, rule.permission, None)
            guard.checked = True
        elif writes:
            authorize(core, principal, ref)
        # Reads check inside the handler's own transaction (resolve_project) instead of in a
        # transaction of their own first: one round of queries less on the hot read path.
        try:
            yield guard
        except DomainError:
            if not guard.checked and ref.given:
                # the handler failed before checking: an unauthorised caller must get the
                # access error, not learn anything from the handler's error
                authorize(core, principal, ref)
            raise
        if not guard.checked:
            raise Forbidden(
                "Forbidden.Access", f"{operation} did not check workspace access; refused."
            )
    finally:
        _GUARD.reset(token)
