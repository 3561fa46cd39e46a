"""Which workspace a call means, and whether the caller may see it.

``ProjectId`` or ``ProjectIdentifier`` selects the workspace; when both are given they must
name the same one. A workspace of another account answers exactly like one that does not
exist. The account's root user may act in every workspace of its account; any other user
must be a member.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import Invalid
from .model import Principal, Project
from .ports import Tx

__all__ = ["OWNER", "ProjectRef", "resolve_project"]

OWNER = "role_project_owner"


@dataclass(frozen=True, slots=True)
class ProjectRef:
    id: int | None = None
    identifier: str | None = None


def _not_exists(ref: ProjectRef) -> Invalid:
    name = ref.id if ref.id is not None else ref.identifier
    return Invalid("Invalid.Tenant.ProjectNotExists", f"The project {name} does not exist.")


def resolve_project(tx: Tx, principal: Principal, ref: ProjectRef) -> Project:
    if ref.id is None and not ref.identifier:
        raise Invalid("Invalid.Param", "Specify ProjectId or ProjectIdentifier.")
    project: Project | None
    if ref.id is not None:
        project = tx.project(ref.id)
        if project is not None and ref.identifier and project.identifier != ref.identifier:
            raise Invalid(
                "Invalid.Param",
                f"ProjectId {ref.id} and ProjectIdentifier {ref.identifier} name different "
                "workspaces.",
            )
    else:
        project = tx.project_by_identifier(ref.identifier or "")
    if project is None or project.account_id != principal.account_id or project.status == 1:
        raise _not_exists(ref)
    if principal.is_root:
        return project
    if not tx.member_roles(project.id, principal.user_id):
        raise Invalid(
            "Invalid.Tenant.UserNotInProject",
            f"The user {principal.user_id} is not a member of workspace {project.identifier}.",
        )
    return project
