"""Node operations: GetNode, ListNodes, GetNodeCode, OfflineNode, GetNodeParents/Children."""

from __future__ import annotations

from typing import Any

from openworks.core import nodes
from openworks.core.access import ProjectRef
from openworks.core.filetypes import FILE_TYPES
from openworks.core.model import Node
from openworks.core.nodes import NodeFilter, NodeView, scheduler_type

from .registry import Call, Params, handles, page_of, paged

__all__: list[str] = []

_TYPE_NAMES = {code: t.type_name for code, t in FILE_TYPES.items()}
_REPEAT_MODES = {"FAILURE_ALLOWED": 0, "ALL_ALLOWED": 1, "ALL_DENIED": 2}


def _repeatable(n: Node) -> bool:
    return n.config.get("RerunMode") != "ALL_DENIED"


def _node(view: NodeView, repeatability: bool | str) -> dict[str, Any]:
    n, c = view.node, view.node.config
    return {
        "BaselineId": None,
        "BusinessId": view.business_id,
        "Connection": view.connection,
        "CreateTime": view.create_time,
        "CronExpress": c.get("CronExpress"),
        "DeployDate": n.modify_time,
        "Description": view.description,
        "DqcDescription": None,
        "DqcType": 0,
        "FileId": n.file_id,
        "FileType": n.file_type,
        "FileVersion": n.file_version,
        "ModifyTime": n.modify_time,
        "NodeId": n.node_id,
        "NodeName": n.name,
        "OwnerId": n.owner,
        "ParamValues": c.get("ParaValue"),
        "Priority": 1,
        "ProgramType": _TYPE_NAMES.get(n.file_type),
        "ProjectId": n.project_id,
        "RelatedFlowId": view.business_id,
        "RepeatInterval": c.get("AutoRerunIntervalMillis"),
        "RepeatMode": _REPEAT_MODES.get(str(c.get("RerunMode"))),
        "Repeatability": repeatability,
        "ResGroupIdentifier": c.get("ResourceGroupIdentifier"),
        "ResGroupName": c.get("ResourceGroupIdentifier"),
        "SchedulerType": scheduler_type(n),
    }


@handles("GetNode")
def get_node(call: Call, p: Params) -> dict[str, Any]:
    view = nodes.get_node(call.core, call.principal, p["NodeId"], nodes.parse_env(p["ProjectEnv"]))
    # GetNode types Repeatability as a string, ListNodes as a boolean.
    return {"Data": _node(view, "true" if _repeatable(view.node) else "false")}


@handles("ListNodes")
def list_nodes(call: Call, p: Params) -> dict[str, Any]:
    page = page_of(p)
    flt = NodeFilter(
        name=p.get("NodeName"),
        owner=p.get("Owner"),
        business_name=p.get("BizName"),
        program_type=p.get("ProgramType"),
        scheduler_type=p.get("SchedulerType"),
    )
    found, total = nodes.list_nodes(
        call.core,
        call.principal,
        ProjectRef(p["ProjectId"]),
        nodes.parse_env(p["ProjectEnv"]),
        flt,
        page,
        _TYPE_NAMES,
    )
    return {"Data": paged("Nodes", [_node(v, _repeatable(v.node)) for v in found], page, total)}


@handles("GetNodeCode")
def get_node_code(call: Call, p: Params) -> dict[str, Any]:
    view = nodes.get_node(call.core, call.principal, p["NodeId"], nodes.parse_env(p["ProjectEnv"]))
    return {"Data": view.node.content}


@handles("OfflineNode")
def offline_node(call: Call, p: Params) -> dict[str, Any]:
    nodes.offline_node(call.core, call.principal, ProjectRef(p["ProjectId"]), p["NodeId"])
    return {}


def _relative(n: Node) -> dict[str, Any]:
    return {
        "BaselineId": None,
        "CronExpress": n.config.get("CronExpress"),
        "NodeId": n.node_id,
        "NodeName": n.name,
        "OwnerId": n.owner,
        "Priority": 1,
        "ProgramType": _TYPE_NAMES.get(n.file_type),
        "ProjectId": n.project_id,
        "Repeatability": _repeatable(n),
        "SchedulerType": scheduler_type(n),
        "StepType": "0",
    }


@handles("GetNodeParents")
def get_node_parents(call: Call, p: Params) -> dict[str, Any]:
    env = nodes.parse_env(p["ProjectEnv"])
    found = nodes.parents(call.core, call.principal, p["NodeId"], env)
    return {"Data": {"Nodes": [_relative(n) for n in found]}}


@handles("GetNodeChildren")
def get_node_children(call: Call, p: Params) -> dict[str, Any]:
    env = nodes.parse_env(p["ProjectEnv"])
    found = nodes.children(call.core, call.principal, p["NodeId"], env)
    return {"Data": {"Nodes": [_relative(n) for n in found]}}
