"""What a cross run copies: the source's deployed objects, and whether the target takes them.

::

    ObjectIds[0] ─▶ a file of the source deployed to production ─▶ root Node | Resource |
                    (its prod version, not a deletion)               Function
                 └▶ a workflow (business) of the source with at least one deployed file
                    ─▶ root WorkflowDefinition + each deployed file of it (ParentObjectId:
                       the workflow)
    then         every resource a function among them names (ParentObjectId: the function),
                 deployed in the source, unless already an item
    else         404 InvalidObject.NotFound / 400 Invalid.CrossProjectPipelineRun.NotDeployed

Items carry the source's DEPLOYED version: the working copy and later commits of the
source are never copied. :func:`target_problem` fixes each item's ChangeType (Create, or
Update of the copy the environment's mapping names) and says why the target cannot take
them (a file of the same name that is no copy, a copy of another type, a copy busy in a
package), or None.
"""

from __future__ import annotations

from collections.abc import Iterator

from .cross_model import CrossItem, Environment
from .errors import Invalid, NotFound
from .flowspec_objects import function_record
from .folder_model import Business
from .function_deps import is_function
from .model import ChangeType, DeletedStatus, File, FileVersion, Project
from .ports import FileFilter, Page, Tx
from .resources import is_resource

__all__ = [
    "CREATE",
    "FILE",
    "UPDATE",
    "WORKFLOW",
    "WORKFLOW_KIND",
    "deployed",
    "deployed_files",
    "object_type",
    "resolve_items",
    "target_problem",
]

FILE, WORKFLOW_KIND = "file", "workflow"  # mapping kinds
WORKFLOW = "WorkflowDefinition"
CREATE, UPDATE = "Create", "Update"
_SCAN = 500


def object_type(file_type: int) -> str:
    if is_resource(file_type):
        return "Resource"
    return "Function" if is_function(file_type) else "Node"


def deployed(tx: Tx, file: File | None) -> FileVersion | None:
    """The version of a live file that is in production (not a deletion), or None."""
    if file is None or file.deleted_status != DeletedStatus.NORMAL or not file.prod_version:
        return None
    version = tx.version(file.id, file.prod_version)
    if version is None or version.change_type == ChangeType.DELETE:
        return None
    return version


def _files(tx: Tx, project_id: int) -> Iterator[File]:
    number = 1
    while True:
        batch, total = tx.list_files(project_id, FileFilter(), Page(number, _SCAN))
        yield from batch
        if number * _SCAN >= total or not batch:
            return
        number += 1


def deployed_files(tx: Tx, project: Project) -> list[tuple[File, FileVersion]]:
    """Every live file of the workspace in production, with its deployed version."""
    found = []
    for file in _files(tx, project.id):
        version = deployed(tx, file)
        if version is not None:
            found.append((file, version))
    return found


def _item(file: File, version: FileVersion, root: bool, parent: int | None) -> CrossItem:
    return CrossItem(
        file.id, object_type(file.file_type), version.name, version.version, CREATE, root, parent
    )


def _workflow_items(tx: Tx, project: Project, business: Business) -> list[CrossItem]:
    files = [(f, v) for f, v in deployed_files(tx, project) if f.business_id == business.id]
    if not files:
        raise Invalid(
            "Invalid.CrossProjectPipelineRun.NotDeployed",
            f"No node of workflow {business.name} ({business.id}) is deployed to production "
            f"in workspace {project.identifier}; only deployed objects can be promoted.",
        )
    root = CrossItem(business.id, WORKFLOW, business.name, None, CREATE, True, None)
    return [root, *(_item(f, v, False, business.id) for f, v in files)]


def _with_resources(tx: Tx, project: Project, items: list[CrossItem]) -> list[CrossItem]:
    """Add the deployed resources the functions among ``items`` name."""
    have = {i.object_id for i in items if i.object_type != WORKFLOW}
    out = list(items)
    for item in items:
        if item.object_type != "Function" or item.version is None:
            continue
        version = tx.version(item.object_id, item.version)
        names = (function_record(version.config).get("resources") or []) if version else []
        for name in names:
            file = tx.file_by_name(project.id, str(name))
            found = deployed(tx, file) if file and is_resource(file.file_type) else None
            if file is None or found is None:
                raise Invalid(
                    "Invalid.CrossProjectPipelineRun.Dependency",
                    f"The function {item.name} ({item.object_id}) needs resource {name}, "
                    f"which is not deployed in workspace {project.identifier}.",
                )
            if file.id not in have:
                have.add(file.id)
                out.append(_item(file, found, False, item.object_id))
    return out


def resolve_items(tx: Tx, project: Project, object_ids: list[str]) -> list[CrossItem]:
    """The root object ``ObjectIds`` names and its children, root first."""
    if len(object_ids) != 1:
        raise Invalid(
            "Invalid.Param",
            f"ObjectIds must name exactly one object (a node, resource, function or workflow "
            f"of the source workspace), not {len(object_ids)}.",
        )
    text = str(object_ids[0]).strip()
    number = int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None
    file = tx.file(number) if number is not None else None
    if file is not None and file.project_id == project.id:
        version = deployed(tx, file)
        if file.deleted_status != DeletedStatus.NORMAL:
            file = None
        elif version is None:
            raise Invalid(
                "Invalid.CrossProjectPipelineRun.NotDeployed",
                f"{object_type(file.file_type)} {file.name} ({file.id}) is not deployed to "
                f"production in workspace {project.identifier}; only deployed objects can "
                "be promoted.",
            )
        else:
            return _with_resources(tx, project, [_item(file, version, True, None)])
    business = tx.business(number) if number is not None and file is None else None
    if business is not None and business.project_id == project.id:
        return _with_resources(tx, project, _workflow_items(tx, project, business))
    raise NotFound(
        "InvalidObject.NotFound",
        f"No object {text!r} was found in source workspace {project.identifier} (ObjectIds "
        "takes the ID of a node, resource, function or workflow).",
    )


def _file_problem(tx: Tx, env: Environment, target: Project, item: CrossItem) -> str | None:
    version = tx.version(item.object_id, item.version or 0)
    if version is None:
        return f"Version {item.version} of {item.name} ({item.object_id}) no longer exists."
    copy_id = tx.cross().mapped(env.id, FILE, item.object_id)
    copy = tx.file(copy_id) if copy_id is not None else None
    if copy is not None and (
        copy.project_id != target.id or copy.deleted_status == DeletedStatus.DELETED
    ):
        copy = None  # the copy is gone for good: copy it anew
    clash = tx.file_by_name(target.id, version.name)
    if copy is None:
        item.change_type, item.target_id = CREATE, None
        if clash is not None:
            return (
                f"Workspace {target.identifier} already has a file named {version.name} "
                f"(FileId {clash.id}) that is no copy of {item.object_type} {item.object_id}."
            )
        return None
    item.change_type, item.target_id = UPDATE, copy.id
    if copy.deleted_status != DeletedStatus.NORMAL:
        return f"The copy {copy.id} of {item.name} is in the recycle bin of the target."
    if copy.file_type != version.file_type:
        return (
            f"The copy {copy.id} of {item.name} in the target has FileType {copy.file_type}, "
            f"the source's version FileType {version.file_type}."
        )
    if clash is not None and clash.id != copy.id:
        return (
            f"Workspace {target.identifier} already has another file named {version.name} "
            f"(FileId {clash.id})."
        )
    busy = tx.busy_version(copy.id)
    if busy is not None:
        return (
            f"Version {busy.version} of the copy {copy.id} of {item.name} is still in a "
            "deployment package of the target; wait for it to finish."
        )
    return None


def target_problem(tx: Tx, env: Environment, target: Project, items: list[CrossItem]) -> str | None:
    """Set each item's ChangeType and known copy; the first reason the target cannot take
    them, or None."""
    for item in items:
        if item.object_type == WORKFLOW:
            copy_id = tx.cross().mapped(env.id, WORKFLOW_KIND, item.object_id)
            copy = tx.business(copy_id) if copy_id is not None else None
            if copy is None or copy.project_id != target.id:
                copy = tx.business_by_name(target.id, item.name)
            item.change_type = UPDATE if copy is not None else CREATE
            item.target_id = copy.id if copy is not None else None
            continue
        problem = _file_problem(tx, env, target, item)
        if problem is not None:
            return problem
    return None
