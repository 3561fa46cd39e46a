"""Node operations: GetNode, ListNodes, GetNodeCode, OfflineNode, GetNodeParents/Children."""

from __future__ import annotations

from typing import Any

from openworks.core import nodes
from openworks.core.access import ProjectRef
from openworks.core.nodes import NodeFilter
from openworks.presenters import node as present
from openworks.presenters.labels import PROGRAM_TYPE

from .registry import Call, Params, handles, page_of, paged

__all__: list[str] = []


@handles("GetNode")
def get_node(call: Call, p: Params) -> dict[str, Any]:
    view = nodes.get_node(call.core, call.principal, p["NodeId"], nodes.parse_env(p["ProjectEnv"]))
    # GetNode types Repeatability as a string, ListNodes as a boolean.
    return {"Data": present.node(view, "true" if present.repeatable(view.node) else "false")}


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
        PROGRAM_TYPE,
    )
    listed = [present.node(v, present.repeatable(v.node)) for v in found]
    return {"Data": paged("Nodes", listed, page, total)}


@handles("GetNodeCode")
def get_node_code(call: Call, p: Params) -> dict[str, Any]:
    view = nodes.get_node(call.core, call.principal, p["NodeId"], nodes.parse_env(p["ProjectEnv"]))
    return {"Data": view.node.content}


@handles("OfflineNode")
def offline_node(call: Call, p: Params) -> dict[str, Any]:
    nodes.offline_node(call.core, call.principal, ProjectRef(p["ProjectId"]), p["NodeId"])
    return {}


@handles("GetNodeParents")
def get_node_parents(call: Call, p: Params) -> dict[str, Any]:
    env = nodes.parse_env(p["ProjectEnv"])
    found = nodes.parents(call.core, call.principal, p["NodeId"], env)
    return {"Data": {"Nodes": [present.relative(n) for n in found]}}


@handles("GetNodeChildren")
def get_node_children(call: Call, p: Params) -> dict[str, Any]:
    env = nodes.parse_env(p["ProjectEnv"])
    found = nodes.children(call.core, call.principal, p["NodeId"], env)
    return {"Data": {"Nodes": [present.relative(n) for n in found]}}
