"""Workspace operations: CreateProject, GetProject, ListProjects."""

from __future__ import annotations

from typing import Any

from openworks.core import projects
from openworks.presenters.workspace import listed_project, project_document

from .registry import Call, Params, handles, page_of, paged, project_ref

__all__: list[str] = []


@handles("CreateProject")
def create_project(call: Call, p: Params) -> dict[str, Any]:
    spec = projects.NewProject(
        identifier=p["ProjectIdentifier"],
        name=p["ProjectName"],
        mode=p.get("ProjectMode"),
        description=p.get("ProjectDescription"),
        disable_development=p.get("DisableDevelopment"),
        is_allow_download=p.get("IsAllowDownload"),
        resource_group_id=p.get("ResourceManagerResourceGroupId"),
        tags=p.get("Tags") or (),
        client_token=p.get("ClientToken"),
    )
    return {"Data": projects.create_project(call.core, call.principal, spec)}


@handles("GetProject")
def get_project(call: Call, p: Params) -> dict[str, Any]:
    project = projects.get_project(call.core, call.principal, project_ref(p))
    return {"Data": project_document(project)}


@handles("ListProjects")
def list_projects(call: Call, p: Params) -> dict[str, Any]:
    page = page_of(p)
    found, total = projects.list_projects(call.core, call.principal, page, p.get("Tags") or ())
    listed = [listed_project(x) for x in found]
    return {"PageResult": paged("ProjectList", listed, page, total)}
