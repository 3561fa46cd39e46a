"""Reviewing production packages (``approval.required=true``).

::

    Status 0, hold "approval"
       ├── approve (owner / admin / deploy role) ─▶ HandlerId = reviewer, executed at once
       │                                            (Status 1, or 2 if execution fails)
       └── reject  (same roles, a reason)         ─▶ Status 6 REJECTED, items 6 REJECT,
                                                     ErrorMessage = the reason; versions go
                                                     back as after a failed package

Each decision is one transaction that locks the package first and moves it with a
compare-and-set (:mod:`openworks.core.lifecycle`); a package that is not waiting for
approval is refused, so approving twice, approving a rejected package, or an approve and a
reject at the same moment cannot both succeed: one wins, the other gets
``Invalid.Deploy.NotAwaitingApproval``. An approved package whose target moved on (a newer
version deployed, the file deleted) fails as stale instead of being applied.

:func:`awaiting_approval` and :func:`reviewers` tell a reader (the CLI's ``deployments
list|show|wait``) which packages wait and who may decide: the account's root user and every
enabled member holding one of :data:`REVIEWER_ROLES`, the rule :func:`approve_package` applies.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import lifecycle
from .access import OWNER, ProjectRef, resolve_project
from .context import Core
from .errors import Forbidden, Invalid, NotFound
from .lifecycle import HOLD_APPROVAL
from .model import Package, PackageStatus, Principal, Project
from .ports import Page, Tx

__all__ = [
    "REVIEWER_ROLES",
    "Reviewer",
    "approve_package",
    "awaiting_approval",
    "reject_package",
    "reviewers",
]

REVIEWER_ROLES = frozenset({OWNER, "role_project_admin", "role_project_deploy"})


@dataclass(frozen=True, slots=True)
class Reviewer:
    """A user who may approve or reject a workspace's packages, and why."""

    user_id: str
    name: str
    roles: tuple[str, ...]  # the reviewer roles held; () for the account's root user

    @property
    def is_root(self) -> bool:
        return not self.roles


def awaiting_approval(package: Package) -> bool:
    """Whether the package is held until a reviewer approves or rejects it."""
    return package.status == PackageStatus.READY and package.hold == HOLD_APPROVAL


def reviewers(tx: Tx, project: Project) -> list[Reviewer]:
    """Who may review the workspace's packages: the account's root user first, then every
    enabled member with a reviewer role (owner, admin, deploy), by user ID."""
    root_name = tx.user_name(project.account_id) or "root"
    found = [Reviewer(project.account_id, root_name, ())]
    page = Page(1, 100)
    while True:
        members, total = tx.list_members(project.id, page)
        for member in members:
            held = tuple(sorted(set(member.roles) & REVIEWER_ROLES))
            if held and not member.user.disabled and not member.user.is_root:
                found.append(Reviewer(member.user.id, member.user.name, held))
        if page.number * page.size >= total:
            return found
        page = Page(page.number + 1, page.size)


def _waiting(tx: Tx, principal: Principal, package_id: int, ref: ProjectRef | None) -> Package:
    package = lifecycle.lock(tx, package_id)
    project = tx.project(package.project_id) if package is not None else None
    if package is None or project is None or project.account_id != principal.account_id:
        raise NotFound(
            "InvalidDeployment.NotFound", f"The deployment package {package_id} does not exist."
        )
    if ref is not None and resolve_project(tx, principal, ref).id != project.id:
        raise NotFound(
            "InvalidDeployment.NotFound",
            f"The deployment package {package_id} does not exist in that workspace.",
        )
    if (
        not principal.is_root
        and not tx.member_roles(project.id, principal.user_id) & REVIEWER_ROLES
    ):
        raise Forbidden(
            "Forbidden.Deploy.NotReviewer",
            f"The user {principal.user_id} may not review packages of workspace "
            f"{project.identifier}: it needs the owner, admin or deploy role.",
        )
    if package.status != PackageStatus.READY or package.hold != HOLD_APPROVAL:
        state = {
            PackageStatus.SUCCESS: "has already been deployed",
            PackageStatus.FAILED: "has failed",
            PackageStatus.REJECTED: "has been rejected",
        }.get(PackageStatus(package.status), "is not waiting for approval")
        raise Invalid(
            "Invalid.Deploy.NotAwaitingApproval",
            f"The deployment package {package_id} {state} (Status {package.status}); only a "
            "package waiting for approval can be approved or rejected.",
        )
    return package


def approve_package(
    core: Core, principal: Principal, package_id: int, ref: ProjectRef | None = None
) -> Package:
    """Approve and execute the package in one transaction; the package afterwards."""
    with core.store.transaction(write=True) as tx:
        package = _waiting(tx, principal, package_id, ref)
        lifecycle.approve(tx, package, principal.user_id, core.clock(), core.lifecycle_gates)
        return package


def reject_package(
    core: Core,
    principal: Principal,
    package_id: int,
    reason: str,
    ref: ProjectRef | None = None,
) -> Package:
    reason = reason.strip()
    if not reason:
        raise Invalid("Invalid.Param", "A rejection needs a reason.")
    with core.store.transaction(write=True) as tx:
        package = _waiting(tx, principal, package_id, ref)
        lifecycle.reject(tx, package, principal.user_id, reason, core.clock(), core.lifecycle_gates)
        return package
