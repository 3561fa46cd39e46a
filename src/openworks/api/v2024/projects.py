"""2024-05-18 workspace operations: CreateProject, GetProject, ListProjects, UpdateProject,
DeleteProject (the workspace is named by ``Id``).

Same workspaces as 2020, 2024 names (presenters/workspace_2024.py)::

    CreateProject(Name, DisplayName, DevEnvironmentEnabled?=true) ─▶ {Id, ProjectId}
    UpdateProject(Id; DisplayName, Description, DevEnvironmentEnabled false→true only,
                  DevRoleDisabled true→false only, Status "Available")
    DeleteProject(Id) ─▶ status 1: answers InvalidTenant.ProjectNotExists from then on
                         (refused while a package of the workspace is in flight)

PaiTaskEnabled is not modelled: it reads false and ``true`` is refused.
"""

from __future__ import annotations

from typing import Any

from openworks.core import projects
from openworks.core.access import ProjectRef
from openworks.core.model import ProjectMode
from openworks.presenters.workspace_2024 import STATUS_CODE, project_document
from openworks.protocol.errors import invalid_parameter

from ..registry import Call, Params, handles, page_of, paged

__all__: list[str] = []

V = "2024-05-18"


def _no_pai(p: Params) -> None:
    if p.get("PaiTaskEnabled"):
        raise invalid_parameter("PaiTaskEnabled", "openworks schedules no PAI tasks")


def _tags(p: Params) -> list[dict[str, str]]:
    tags: list[dict[str, str]] = p.get("AliyunResourceTags") or []
    return tags


def _mode(enabled: bool | None) -> int | None:
    if enabled is None:
        return None
    return ProjectMode.STANDARD if enabled else ProjectMode.BASIC


@handles("CreateProject", version=V)
def create_project(call: Call, p: Params) -> dict[str, Any]:
    _no_pai(p)
    spec = projects.NewProject(
        identifier=p["Name"],
        name=p["DisplayName"],
        mode=_mode(p.get("DevEnvironmentEnabled")),
        description=p.get("Description"),
        disable_development=p.get("DevRoleDisabled"),
        resource_group_id=p.get("AliyunResourceGroupId"),
        tags=_tags(p),
        labels=("Name", "DisplayName"),
    )
    project_id = projects.create_project(call.core, call.principal, spec)
    return {"Id": project_id, "ProjectId": project_id}


@handles("GetProject", version=V)
def get_project(call: Call, p: Params) -> dict[str, Any]:
    project = projects.get_project(call.core, call.principal, ProjectRef(p["Id"]))
    return {"Project": project_document(project)}


def _status(p: Params) -> int | None:
    name: str | None = p.get("Status")
    if name is None:
        return None
    if name not in STATUS_CODE:
        raise invalid_parameter("Status", f"must be one of {', '.join(STATUS_CODE)}")
    return STATUS_CODE[name]


@handles("ListProjects", version=V)
def list_projects(call: Call, p: Params) -> dict[str, Any]:
    page = page_of(p)
    if p.get("PaiTaskEnabled"):  # no workspace schedules PAI tasks
        return {"PagingInfo": paged("Projects", [], page, 0)}
    flt = projects.ProjectFilter(
        ids=p.get("Ids") or (),
        identifiers=p.get("Names") or (),
        standard=p.get("DevEnvironmentEnabled"),
        disable_development=p.get("DevRoleDisabled"),
        status=_status(p),
        resource_group_id=p.get("AliyunResourceGroupId"),
        tags=[(t["Key"], t.get("Value", "")) for t in _tags(p)],
    )
    found, total = projects.find_projects(call.core, call.principal, flt, page)
    return {"PagingInfo": paged("Projects", [project_document(x) for x in found], page, total)}


@handles("UpdateProject", version=V)
def update_project(call: Call, p: Params) -> dict[str, Any]:
    _no_pai(p)
    status = _status(p)
    if status is not None and status != 0:
        raise invalid_parameter(
            "Status", "openworks does not disable workspaces: only Available is accepted"
        )
    changes = projects.ProjectChanges(
        name=p.get("DisplayName"),
        description=p.get("Description"),
        standard=p.get("DevEnvironmentEnabled"),
        disable_development=p.get("DevRoleDisabled"),
    )
    projects.update_project(call.core, call.principal, ProjectRef(p["Id"]), changes)
    return {}


@handles("DeleteProject", version=V)
def delete_project(call: Call, p: Params) -> dict[str, Any]:
    projects.delete_project(call.core, call.principal, ProjectRef(p["Id"]))
    return {}
