"""Reviewing a package from the console: who may, what the checks said, approve / reject.

::

    package page ──▶ view(): may the user review? is the package waiting for it?
                     check results (one line per check run), timeline steps
    POST …/approve ──▶ core.approvals.approve_package(core, principal, id, ref)  ─┐ the core
    POST …/reject  ──▶ core.approvals.reject_package(core, principal, id, reason, ref) ─┘
                       enforces roles (owner, admin, deploy) and state (waiting only)

The buttons are shown only to users the core would let through (the same
``REVIEWER_ROLES``); a hand-made POST from anyone else gets the core's 403 anyway.

Timeline: Created → Checked (newest check answer) → Waiting for approval → Rejected by X, or
Approved by X and executed, or Executed. A package whose handler differs from its creator was
approved by that handler (the core records the reviewer as HandlerId and nothing else sets it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.responses import RedirectResponse, Response

from openworks.core import approvals
from openworks.core.access import ProjectRef, resolve_project
from openworks.core.checks import HOLD_APPROVAL
from openworks.core.context import Core
from openworks.core.model import Package, PackageStatus, Principal, Project

from . import labels
from .inputs import path_id
from .web import Console, Refused, SignedIn

__all__ = ["CheckLine", "ReviewView", "approve", "reject", "timeline", "view"]

MAX_REASON = 1024


@dataclass(frozen=True, slots=True)
class CheckLine:
    name: str
    kind: str
    status: str
    message: str
    finish_time: int | None


@dataclass(frozen=True, slots=True)
class ReviewView:
    can_review: bool = False
    awaiting: bool = False
    checks: list[CheckLine] = field(default_factory=list)


def view(core: Core, principal: Principal, project: Project, package: Package) -> ReviewView:
    """Whether the user may review, whether the package waits, and its check results."""
    with core.store.transaction() as tx:
        resolve_project(tx, principal, ProjectRef(id=project.id))
        roles = set() if principal.is_root else tx.member_roles(project.id, principal.user_id)
        runs = tx.checks().runs_for_package(package.id)
    lines = [CheckLine(r.name, r.kind, str(r.status), r.message, r.finish_time) for r in runs]
    return ReviewView(
        can_review=principal.is_root or bool(roles & approvals.REVIEWER_ROLES),
        awaiting=package.status == PackageStatus.READY and package.hold == HOLD_APPROVAL,
        checks=lines,
    )


def timeline(package: Package, review: ReviewView) -> list[tuple[str, str]]:
    steps = [(f"Created by {package.creator_id}", labels.when(package.create_time))]
    finished = [c.finish_time for c in review.checks if c.finish_time]
    if finished and len(finished) == len(review.checks):
        failed = any(c.status == "FAIL" for c in review.checks)
        steps.append(("Checks failed" if failed else "Checks passed", labels.when(max(finished))))
    if review.awaiting:
        steps.append(("Waiting for approval", "now"))
    if package.execute_time:
        at = labels.when(package.execute_time)
        if package.status == PackageStatus.REJECTED:
            steps.append((f"Rejected by {package.handler_id}", at))
        elif package.handler_id and package.handler_id != package.creator_id:
            steps.append((f"Approved by {package.handler_id} and executed", at))
        else:
            steps.append(("Executed", at))
    return steps


def _target(signed: SignedIn) -> tuple[ProjectRef, int, str]:
    params = signed.request.path_params
    project_id = path_id(params, "project_id", "workspace")
    package_id = path_id(params, "deployment_id", "deployment package")
    back = f"/console/w/{project_id}/deployments/{package_id}"
    return ProjectRef(id=project_id), package_id, back


async def approve(console: Console, signed: SignedIn) -> Response:
    ref, package_id, back = _target(signed)
    await console.call(
        approvals.approve_package, console.service.core, signed.principal, package_id, ref
    )
    return RedirectResponse(back, 303)


async def reject(console: Console, signed: SignedIn) -> Response:
    ref, package_id, back = _target(signed)
    reason = signed.form.get("reason", "").strip()
    if not reason:
        raise Refused(400, "Reason missing", "Say why the package is rejected.")
    if len(reason) > MAX_REASON:
        raise Refused(400, "Reason too long", f"A reason has at most {MAX_REASON} characters.")
    await console.call(
        approvals.reject_package, console.service.core, signed.principal, package_id, reason, ref
    )
    return RedirectResponse(back, 303)
