"""Reviewing production packages (``approval.required=true``).

::

    Status 0, hold "approval"
       ├── approve (owner / admin / deploy role) ─▶ HandlerId = reviewer, executed at once
       │                                            (Status 1, or 2 if execution fails)
       └── reject  (same roles, a reason)         ─▶ Status 6 REJECTED, items 6 REJECT,
                                                     ErrorMessage = the reason; versions go
                                                     back as after a failed package

Each decision is one transaction; a package that is not waiting for approval is refused,
so approving twice, or approving a rejected package, cannot run it again.
"""

from __future__ import annotations

from .access import OWNER, ProjectRef, resolve_project
from .checks import HOLD_APPROVAL
from .context import Core
from .errors import Forbidden, Invalid, NotFound
from .model import ItemStatus, Package, PackageStatus, Principal
from .packages import _settle_version, execute_package
from .ports import Tx

__all__ = ["REVIEWER_ROLES", "approve_package", "reject_package"]

REVIEWER_ROLES = frozenset({OWNER, "role_project_admin", "role_project_deploy"})


def _waiting(tx: Tx, principal: Principal, package_id: int, ref: ProjectRef | None) -> Package:
    package = tx.package(package_id)
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
        package.hold = None
        package.handler_id = principal.user_id
        execute_package(tx, package, core.clock())
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
        for item in package.items:
            item.status = ItemStatus.REJECT
            version = tx.version(item.file_id, item.file_version)
            if version is not None:
                _settle_version(tx, package, version, ok=False)
        package.status = PackageStatus.REJECTED
        package.error_message = reason
        package.handler_id = principal.user_id
        package.execute_time = core.clock()
        package.hold = None
        tx.update_package(package)
        return package
