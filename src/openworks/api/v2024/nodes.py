"""2024-05-18 node operations (group ``node``): Data Studio nodes in FlowSpec.

A node IS a 2020 file (:mod:`openworks.core.spec_nodes`); its ``Id`` is the decimal FileId
and its ``Spec`` the FlowSpec rendering (:mod:`openworks.presenters.flowspec`)::

    CreateNode ─▶ Id        GetNode ─▶ Node{…, TaskId, Spec}      UpdateNode ─▶ Success
    ListNodes / ListNodeDependencies ─▶ PagingInfo{Nodes[…], PageNumber…} (no Spec)
    DeleteNode / MoveNode / RenameNode ─▶ Success
"""

from __future__ import annotations

from typing import Any

from openworks.core import spec_nodes
from openworks.core.model import File, Project
from openworks.presenters.flowspec import file_spec, node_summary

from ..registry import Call, Params, handles, page_of, project_ref

__all__: list[str] = []

V2024 = "2024-05-18"
_MAX_PAGE = 100


def _listing(
    project: Project, found: list[tuple[File, int | None]], p: Params, total: int
) -> dict[str, Any]:
    page = page_of(p, max_size=_MAX_PAGE)
    return {
        "PagingInfo": {
            "Nodes": [node_summary(project, f, task) for f, task in found],
            "PageNumber": str(page.number),
            "PageSize": str(page.size),
            "TotalCount": str(total),
        }
    }


@handles("CreateNode", version=V2024)
def create_node(call: Call, p: Params) -> dict[str, Any]:
    node_id = spec_nodes.create_node(
        call.core, call.principal, project_ref(p), p.get("Scene"), p.get("ContainerId"), p["Spec"]
    )
    return {"Id": str(node_id)}


@handles("GetNode", version=V2024)
def get_node(call: Call, p: Params) -> dict[str, Any]:
    project, f, task = spec_nodes.get_node(call.core, call.principal, project_ref(p), p["Id"])
    return {
        "Node": {
            "Id": str(f.id),
            "ProjectId": project.id,
            "Name": f.name,
            "Owner": f.owner,
            "CreateTime": f.create_time,
            "ModifyTime": f.last_edit_time or f.create_time,
            "TaskId": task,
            "Spec": file_spec(project, f),
        }
    }


@handles("UpdateNode", version=V2024)
def update_node(call: Call, p: Params) -> dict[str, Any]:
    spec_nodes.update_node(call.core, call.principal, project_ref(p), p["Id"], p["Spec"])
    return {"Success": True}


@handles("ListNodes", version=V2024)
def list_nodes(call: Call, p: Params) -> dict[str, Any]:
    container = p.get("ContainerId")
    query = spec_nodes.NodeQuery(
        scene=p.get("Scene"),
        container_id=spec_nodes.parse_id(container, "ContainerId") if container else None,
        name=p.get("Name"),
        recurrence=p.get("Recurrence"),
        rerun_mode=p.get("RerunMode"),
    )
    page = page_of(p, max_size=_MAX_PAGE)
    project, found, total = spec_nodes.list_nodes(
        call.core, call.principal, project_ref(p), query, page
    )
    return _listing(project, found, p, total)


@handles("ListNodeDependencies", version=V2024)
def list_node_dependencies(call: Call, p: Params) -> dict[str, Any]:
    page = page_of(p, max_size=_MAX_PAGE)
    project, found, total = spec_nodes.node_dependencies(
        call.core, call.principal, project_ref(p), p["Id"], page
    )
    return _listing(project, found, p, total)


@handles("DeleteNode", version=V2024)
def delete_node(call: Call, p: Params) -> dict[str, Any]:
    spec_nodes.delete_node(call.core, call.principal, project_ref(p), p["Id"])
    return {"Success": True}


@handles("MoveNode", version=V2024)
def move_node(call: Call, p: Params) -> dict[str, Any]:
    spec_nodes.move_node(call.core, call.principal, project_ref(p), p["Id"], p["Path"])
    return {"Success": True}


@handles("RenameNode", version=V2024)
def rename_node(call: Call, p: Params) -> dict[str, Any]:
    spec_nodes.rename_node(call.core, call.principal, project_ref(p), p["Id"], p["Name"])
    return {"Success": True}
