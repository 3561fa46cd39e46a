"""The scheduler's view: nodes as deployed into DEV or PROD, and their dependency graph.

Nodes are written only by successful packages (:mod:`openworks.core.packages`); this
module reads them and takes production nodes out of scheduling::

    deploy ──▶ status NORMAL (SchedulerType from the deployed version)
                  │ OfflineNode (PROD only)
                  ▼
              status OFFLINE (shown as SchedulerType PAUSE) ──next deploy──▶ NORMAL

Edges: node B is a child of node A in an environment when one of B's inputs is one of
A's outputs there (same-cycle dependencies, StepType 0). GetNode and friends carry no
workspace: the node decides it, and a node of a workspace the caller cannot see answers
exactly like one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from .access import ProjectRef, resolve_project
from .context import Core
from .errors import DomainError, Invalid, NotFound
from .model import Env, Node, Principal, Project
from .ports import Page, Tx

__all__ = [
    "OFFLINE",
    "NodeFilter",
    "NodeView",
    "children",
    "get_node",
    "list_nodes",
    "offline_node",
    "parents",
    "parse_env",
    "scheduler_type",
]

OFFLINE = "OFFLINE"
_ENVS = {"DEV": Env.DEV, "PROD": Env.PROD}


@dataclass(frozen=True, slots=True)
class NodeView:
    """A node plus what the listing shows about it from its file and version."""

    node: Node
    business_id: int | None = None
    business_name: str | None = None
    description: str = ""
    connection: str | None = None
    create_time: int | None = None


@dataclass(frozen=True, slots=True)
class NodeFilter:
    name: str | None = None
    owner: str | None = None
    business_name: str | None = None
    program_type: str | None = None
    scheduler_type: str | None = None


def parse_env(text: str) -> Env:
    env = _ENVS.get(text.strip().upper())
    if env is None:
        raise Invalid("Invalid.Param", f"ProjectEnv must be DEV or PROD, not {text!r}.")
    return env


def scheduler_type(node: Node) -> str:
    if node.status == OFFLINE:
        return "PAUSE"
    return str(node.config.get("SchedulerType") or "NORMAL")


def _not_found(node_id: int, env: Env) -> NotFound:
    return NotFound(
        "InvalidNode.NotFound", f"The node {node_id} does not exist in the {env.name} environment."
    )


def _view(tx: Tx, node: Node) -> NodeView:
    file = tx.file(node.file_id)
    version = tx.version(node.file_id, node.file_version)
    business = tx.business(file.business_id) if file and file.business_id else None
    return NodeView(
        node=node,
        business_id=business.id if business else None,
        business_name=business.name if business else None,
        description=version.description if version else "",
        connection=file.connection_name if file else None,
        create_time=file.create_time if file else None,
    )


def _visible_node(tx: Tx, principal: Principal, node_id: int, env: Env) -> tuple[Project, Node]:
    node = tx.node(env, node_id)
    if node is None:
        raise _not_found(node_id, env)
    try:
        project = resolve_project(tx, principal, ProjectRef(node.project_id))
    except DomainError:
        raise _not_found(node_id, env) from None
    return project, node


def get_node(core: Core, principal: Principal, node_id: int, env: Env) -> NodeView:
    with core.store.transaction() as tx:
        _, node = _visible_node(tx, principal, node_id, env)
        return _view(tx, node)


def _matches(view: NodeView, flt: NodeFilter, program_type: str) -> bool:
    n = view.node
    return (
        (not flt.name or flt.name.lower() in n.name.lower())
        and (not flt.owner or flt.owner == n.owner)
        and (
            not flt.business_name or (view.business_name or "").lower() == flt.business_name.lower()
        )
        and (not flt.program_type or flt.program_type.upper() == program_type)
        and (not flt.scheduler_type or flt.scheduler_type.upper() == scheduler_type(n))
    )


def list_nodes(
    core: Core,
    principal: Principal,
    ref: ProjectRef,
    env: Env,
    flt: NodeFilter,
    page: Page,
    type_name: dict[int, str],
) -> tuple[list[NodeView], int]:
    """Nodes of the workspace in ``env`` that pass the filter, by NodeId."""
    with core.store.transaction() as tx:
        project = resolve_project(tx, principal, ref)
        views = [_view(tx, n) for n in tx.list_nodes(project.id, env)]
    chosen = [v for v in views if _matches(v, flt, type_name.get(v.node.file_type, ""))]
    return chosen[page.offset : page.offset + page.size], len(chosen)


def offline_node(core: Core, principal: Principal, ref: ProjectRef, node_id: int) -> None:
    """Take a production node out of scheduling; idempotent."""
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ref)
        node = tx.node(Env.PROD, node_id)
        if node is None or node.project_id != project.id:
            raise NotFound(
                "InvalidNode.NotFound",
                f"The node {node_id} is not deployed to production in workspace "
                f"{project.identifier}.",
            )
        tx.set_node_status(Env.PROD, node_id, OFFLINE)


def parents(core: Core, principal: Principal, node_id: int, env: Env) -> list[Node]:
    with core.store.transaction() as tx:
        project, node = _visible_node(tx, principal, node_id, env)
        found: dict[int, Node] = {}
        for wanted in node.inputs:
            for producer in tx.producers(project.id, env, wanted):
                parent = tx.node(env, producer) if producer != node_id else None
                if parent is not None:
                    found.setdefault(parent.node_id, parent)
        return sorted(found.values(), key=lambda n: n.node_id)


def children(core: Core, principal: Principal, node_id: int, env: Env) -> list[Node]:
    with core.store.transaction() as tx:
        project, node = _visible_node(tx, principal, node_id, env)
        return [c for c in tx.consumers(project.id, env, node.outputs) if c.node_id != node_id]
