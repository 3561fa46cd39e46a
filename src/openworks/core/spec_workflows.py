"""2024 workflow definitions over 2020 business flows: a workflow IS a Business.

::

    kind CycleWorkflow ↔ UseType NORMAL (业务流程/<name>)
    kind ManualWorkflow ↔ UseType MANUAL_BIZ (手动业务流程/<name>)

    Create(Spec)          the workflow only (spec.workflows[0]; its nodes are ignored)
    Import(Spec, DryRun)  the workflow and its nodes in ONE transaction: a workflow id (or,
                          without one, its name) that exists is updated; a node id that is
                          a live node is updated (merged), any other node is created in the
                          workflow. DryRun runs the same and rolls back.
    Update(Spec)          the workflow's own fields (name, description, owner)
    Delete / Rename       as 2020 DeleteBusiness / UpdateBusiness
    Move(Path)            workflows sit at their root; only that root is accepted

The import is synchronous: its AsyncJob is final when the call returns (see
:class:`ImportResult`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import flowspec, folders
from .access import ProjectRef, resolve_project, visible_project
from .context import Core
from .errors import DomainError, Invalid, NotFound
from .folder_model import Business
from .folder_paths import ROOTS, parse_path
from .model import File, Principal, Project
from .ports import FileFilter, Page, Tx
from .spec_nodes import all_files, find_node, parse_id, write_node

__all__ = [
    "KINDS",
    "ImportResult",
    "create_workflow",
    "delete_workflow",
    "get_workflow",
    "import_workflow",
    "list_workflows",
    "move_workflow",
    "rename_workflow",
    "update_workflow",
]

KINDS = {"CycleWorkflow": "NORMAL", "ManualWorkflow": "MANUAL_BIZ"}
_WRONG_KIND = "spec kind and request not match (CycleWorkflow or ManualWorkflow)"


@dataclass(slots=True)
class ImportResult:
    """The AsyncJob of an import: already final (Success, or Fail with ``error``)."""

    id: str
    create_time: int
    ok: bool
    error: str = ""
    workflow_id: int | None = None
    node_ids: list[int] = field(default_factory=list)


class _DryRun(Exception):
    """Raised to roll a dry run back."""


def _workflow(spec: str) -> tuple[dict[str, Any], str, dict[str, Any]]:
    doc = flowspec.load(spec)
    kind = flowspec.require_kind(doc, tuple(KINDS), _WRONG_KIND)
    workflow = flowspec.workflows_of(doc)[0]
    name = workflow.get("name")
    if name is not None and not isinstance(name, str):
        raise Invalid("Invalid.FlowSpec.Field", "spec.workflows[0].name must be a string.")
    for key in ("description", "owner"):
        if workflow.get(key) is not None and not isinstance(workflow[key], str):
            raise Invalid("Invalid.FlowSpec.Field", f"spec.workflows[0].{key} must be a string.")
    return doc, kind, workflow


def _named(workflow: Mapping[str, Any]) -> str:
    name = workflow.get("name")
    if not name:
        raise Invalid("Invalid.FlowSpec.Name", "The workflow has no name (spec.workflows[0].name).")
    return str(name)


def _business(tx: Tx, project: Project, workflow_id: int) -> Business:
    found = tx.business(workflow_id)
    if found is None or found.project_id != project.id:
        raise NotFound(
            "InvalidBusiness.NotFound",
            f"The workflow {workflow_id} does not exist in workspace {project.identifier}.",
        )
    return found


def create_workflow(core: Core, principal: Principal, ref: ProjectRef, spec: str) -> int:
    _, kind, workflow = _workflow(spec)
    return folders.create_business(
        core,
        principal,
        ref,
        _named(workflow),
        workflow.get("description"),
        workflow.get("owner"),
        KINDS[kind],
    )


def _upsert(
    tx: Tx, project: Project, principal: Principal, kind: str, workflow: dict[str, Any], now: int
) -> Business:
    name = _named(workflow)
    given = workflow.get("id")
    existing = (
        _business(tx, project, parse_id(str(given), "spec.workflows[0].id"))
        if given not in (None, "")
        else tx.business_by_name(project.id, name)
    )
    if existing is None:
        business_id = folders.insert_business(
            tx, project, principal, name, workflow.get("description") or "", KINDS[kind], now
        )
        return _business(tx, project, business_id)
    if existing.use_type != KINDS[kind]:
        raise Invalid("Invalid.FlowSpec.Kind", f"Workflow {existing.name} is not a {kind}.")
    folders.change_business(
        tx, project, existing.id, name, workflow.get("description"), workflow.get("owner"), now
    )
    return _business(tx, project, existing.id)


def _import(
    tx: Tx, project: Project, principal: Principal, doc: Mapping[str, Any], now: int
) -> tuple[int, list[int]]:
    kind = str(doc["kind"])
    workflow = flowspec.workflows_of(doc)[0]
    business = _upsert(tx, project, principal, kind, workflow, now)
    nodes = workflow.get("nodes") or []
    if not isinstance(nodes, list):
        raise Invalid("Invalid.FlowSpec.Field", "spec.workflows[0].nodes must be a list.")
    dependencies = workflow.get("dependencies", doc["spec"].get("dependencies"))
    inner: dict[str, Any] = {"nodes": nodes}
    if dependencies is not None:
        inner["dependencies"] = dependencies
    scoped = {"version": doc.get("version"), "spec": inner}
    ids = []
    for index, node in enumerate(nodes):
        try:
            if not isinstance(node, dict):
                raise Invalid("Invalid.FlowSpec.Field", "A node must be an object.")
            current = _existing(tx, project, node.get("id"))
            if current is not None:
                node = flowspec.merge(flowspec.file_node(project, current), node)
            file = write_node(
                tx, project, principal, scoped, node, now, current=current, container=business
            )
        except DomainError as err:
            err.message = f"$.spec.workflows[0].nodes[{index}]: {err.message}"
            err.args = (err.message,)
            raise
        ids.append(file.id)
    return business.id, ids


def _existing(tx: Tx, project: Project, given: Any) -> File | None:
    text = str(given or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        return None
    try:
        return find_node(tx, project, int(text))
    except DomainError:
        return None


def import_workflow(
    core: Core, principal: Principal, ref: ProjectRef, spec: str, dry_run: bool
) -> ImportResult:
    """Import a workflow and its nodes; a failing dry run reports through the job."""
    doc, _, _ = _workflow(spec)
    now = core.clock()
    job = ImportResult(id=str(uuid.uuid4()), create_time=now, ok=True)
    try:
        with core.store.transaction(write=True) as tx:
            project = resolve_project(tx, principal, ref)
            job.workflow_id, job.node_ids = _import(tx, project, principal, doc, now)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    except DomainError as err:
        if not dry_run or err.kind == "forbidden":
            raise
        job.ok, job.error = False, f"{err.code}: {err.message}"
        job.workflow_id, job.node_ids = None, []
    return job


def get_workflow(
    core: Core, principal: Principal, ref: ProjectRef, workflow_id: str
) -> tuple[Project, Business, list[File]]:
    number = parse_id(workflow_id)
    with core.store.transaction() as tx:
        if ref.given:
            project = resolve_project(tx, principal, ref)
        else:
            found = tx.business(number)
            visible = visible_project(tx, principal, found.project_id if found else None)
            if visible is None:
                raise _business_missing(number)
            project = visible
        business = _business(tx, project, number)
        members = [f for f in all_files(tx, project.id, FileFilter()) if f.business_id == number]
        return project, business, members


def _business_missing(number: int) -> NotFound:
    return NotFound("InvalidBusiness.NotFound", f"The workflow {number} does not exist.")


def update_workflow(
    core: Core, principal: Principal, ref: ProjectRef, workflow_id: str, spec: str
) -> None:
    number = parse_id(workflow_id)
    _, kind, workflow = _workflow(spec)
    now = core.clock()
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ref)
        business = _business(tx, project, number)
        if business.use_type != KINDS[kind]:
            raise Invalid("Invalid.FlowSpec.Kind", f"Workflow {business.name} is not a {kind}.")
        folders.change_business(
            tx,
            project,
            number,
            workflow.get("name"),
            workflow.get("description"),
            workflow.get("owner"),
            now,
        )


def list_workflows(
    core: Core,
    principal: Principal,
    ref: ProjectRef,
    kind: str | None,
    name: str | None,
    owner: str | None,
    page: Page,
) -> tuple[Project, list[Business], int]:
    """ListWorkflowDefinitions; Type defaults to CycleWorkflow, as DataWorks documents."""
    use_type = KINDS.get(kind or "CycleWorkflow")
    if use_type is None:
        raise Invalid("Invalid.Param", "Type must be CycleWorkflow or ManualWorkflow.")
    with core.store.transaction() as tx:
        project = resolve_project(tx, principal, ref)
        everything: list[Business] = []
        number = 1
        while True:
            batch, total = tx.list_businesses(project.id, name or None, Page(number, 100))
            everything.extend(batch)
            if len(everything) >= total or not batch:
                break
            number += 1
        chosen = [
            b for b in everything if b.use_type == use_type and (not owner or b.owner == owner)
        ]
        return project, chosen[page.offset : page.offset + page.size], len(chosen)


def delete_workflow(core: Core, principal: Principal, ref: ProjectRef, workflow_id: str) -> None:
    folders.delete_business(core, principal, ref, parse_id(workflow_id))


def rename_workflow(
    core: Core, principal: Principal, ref: ProjectRef, workflow_id: str, name: str
) -> None:
    folders.update_business(core, principal, ref, parse_id(workflow_id), name, None, None)


def move_workflow(
    core: Core, principal: Principal, ref: ProjectRef, workflow_id: str, path: str
) -> None:
    """Workflows live directly under their root; moving one there is a no-op."""
    number = parse_id(workflow_id)
    with core.store.transaction() as tx:
        business = _business(tx, resolve_project(tx, principal, ref), number)
    try:
        target = parse_path(path)
    except DomainError:
        target = None
    if target is None or target.level != 0 or ROOTS[target.root] != business.use_type:
        raise Invalid(
            "Invalid.Folder.Path",
            f"Workflow {business.name} can only sit directly under its root "
            f"({'手动业务流程' if business.use_type == 'MANUAL_BIZ' else '业务流程'}); "
            f"{path!r} is not it.",
        )
