"""A deployment package as GetDeployment, ListDeployments and the CLI show it.

:func:`deployment` is GetDeployment's ``Data``; :func:`card` is what ``openworks
deployments show`` and ``list --json`` print: the same fields, led by the package's IDs and
its status in words, and with who may approve a package held for approval.
"""

from __future__ import annotations

from typing import Any

from openworks.core.approvals import Reviewer, awaiting_approval
from openworks.core.model import Package, Project

from .labels import PACKAGE_STATUS_NAME, WAITING_FOR_APPROVAL

__all__ = [
    "card",
    "decision",
    "deployed_items",
    "deployment",
    "deployment_row",
    "reviewer",
    "status_name",
]


def deployed_items(package: Package) -> list[dict[str, Any]]:
    return [
        {"FileId": i.file_id, "FileVersion": i.file_version, "Status": i.status}
        for i in package.items
    ]


def deployment(package: Package) -> dict[str, Any]:
    """GetDeployment's ``Data``: ``{"Deployment": {...}, "DeployedItems": [...]}``."""
    return {
        "Deployment": {
            "Status": package.status,
            "ErrorMessage": package.error_message,
            "FromEnvironment": package.from_env,
            "ToEnvironment": package.to_env,
            "CheckingStatus": package.checking_status,
            "CreateTime": package.create_time,
            "HandlerId": package.handler_id,
            "CreatorId": package.creator_id,
            "ExecuteTime": package.execute_time,
            "Name": package.name,
        },
        "DeployedItems": deployed_items(package),
    }


def deployment_row(package: Package) -> dict[str, Any]:
    """One entry of ListDeployments' ``Deployments``."""
    return {
        "Id": package.id,
        "Name": package.name,
        "Status": package.status,
        "Creator": package.creator_id,
        "Executor": package.handler_id,
        "CreateTime": package.create_time,
        "ExecuteTime": package.execute_time,
        "ErrorMessage": package.error_message,
    }


def status_name(package: Package) -> str:
    """``READY``, ``SUCCESS``, ``FAILED``, ``REJECTED`` or ``WAITING FOR APPROVAL``."""
    if awaiting_approval(package):
        return WAITING_FOR_APPROVAL
    return PACKAGE_STATUS_NAME.get(package.status, str(package.status))


def reviewer(r: Reviewer) -> dict[str, Any]:
    return {"UserId": r.user_id, "UserName": r.name, "Roles": list(r.roles) or ["root"]}


# The fields of GetDeployment's Deployment in the order the CLI prints them after its lead.
_CARD_FIELDS = (
    "CheckingStatus",
    "FromEnvironment",
    "ToEnvironment",
    "CreatorId",
    "HandlerId",
    "CreateTime",
    "ExecuteTime",
    "ErrorMessage",
)


def card(
    package: Package, project: Project | None = None, team: list[Reviewer] | None = None
) -> dict[str, Any]:
    """The CLI's document: IDs, status in words, reviewers if held, then GetDeployment's
    fields and items."""
    waiting = awaiting_approval(package)
    document: dict[str, Any] = {"DeploymentId": package.id, "ProjectId": package.project_id}
    if project is not None:
        document["ProjectIdentifier"] = project.identifier
    document.update(
        {
            "Name": package.name,
            "Status": package.status,
            "StatusName": status_name(package),
            "WaitingForApproval": waiting,
        }
    )
    if waiting and team is not None:
        document["Reviewers"] = [reviewer(r) for r in team]
    wire = deployment(package)
    fields = wire["Deployment"]
    document.update({name: fields[name] for name in _CARD_FIELDS})
    document["DeployedItems"] = wire["DeployedItems"]
    return document


def decision(package: Package) -> dict[str, Any]:
    """A package after an approval or a rejection (``openworks deployments approve|reject``)."""
    return {
        "DeploymentId": package.id,
        "Status": package.status,
        "HandlerId": package.handler_id,
        "ErrorMessage": package.error_message,
    }
