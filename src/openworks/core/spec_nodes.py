"""2024 nodes (Data Studio, FlowSpec) over 2020 files: a node IS a file.

::

    CreateNode(Spec, Scene, ContainerId) ──▶ files.add_file   (nodes[0] only; Id = FileId)
    UpdateNode(Id, Spec)                 ──▶ merge(current node, patch) ──▶ files.change_file
    Move / Rename                        ──▶ the same, with a new script.path / name
    DeleteNode                           ──▶ packages.delete_file (as 2020 DeleteFile)
    Get / List / ListNodeDependencies    ──▶ files (not deleted), TaskId = the deployed NodeId

Resources (FileType 12-15) and functions (17) are files too, but not nodes: the node
operations answer DataWorks' node-not-found code 5801488441564725286 for their ids and
ListNodes / ListNodeDependencies leave them out (ListResources / ListFunctions and the
resource and function operations serve them; core/spec_resources.py).

Where a node lives: ``ContainerId`` (a workflow = business flow) puts it in that workflow's
engine folder for its type; else a ``script.path`` whose directory is a 2020 file folder
(``业务流程/<workflow>/<engine>/…``) places it there (created when missing); any other
directory is kept verbatim with the spec and the file has no 2020 folder.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import files, flowspec
from .access import ProjectRef, resolve_project, visible_project
from .context import Core
from .errors import DomainError, Invalid, NotFound
from .files import split_names
from .flowspec_objects import FUNCTION_FILE_TYPE, RESOURCE_TYPE_NAMES
from .folder_model import Business
from .folder_paths import parse_path
from .folders import USE_TYPES
from .lifecycle import node_outputs
from .model import DeletedStatus, Env, File, Principal, Project
from .packages import delete_file
from .ports import FileFilter, Page, Tx

__all__ = [
    "SCENES",
    "NodeQuery",
    "all_files",
    "create_node",
    "delete_node",
    "engine_folder",
    "find_node",
    "folder_placement",
    "get_node",
    "is_node",
    "list_nodes",
    "move_node",
    "node_dependencies",
    "parse_id",
    "rename_node",
    "task_id",
    "update_node",
    "write_node",
]

# Scene spellings (CreateNode's and ListNodes') → the canonical one.
SCENES = {
    "DATAWORKS_PROJECT": "DATAWORKS_PROJECT",
    "DATAWORKS_MANUAL_WORKFLOW": "DATAWORKS_MANUAL_WORKFLOW",
    "DATAWORKS_MANUAL_TASK": "DATAWORKS_MANUAL_TASK",
    "DataworksProject": "DATAWORKS_PROJECT",
    "DataworksManualWorkflow": "DATAWORKS_MANUAL_WORKFLOW",
    "DataworksManualTask": "DATAWORKS_MANUAL_TASK",
}
_ENGINES = (
    (("ODPS", "PY_ODPS", "PYTHON3"), "MaxCompute"),
    (("EMR",), "EMR"),
    (("HOLOGRES",), "Hologres"),
    (("DI", "RI"), "数据集成"),
)
_SCAN = 1000  # files read per page when a listing filters in Python


@dataclass(frozen=True, slots=True)
class NodeQuery:
    scene: str | None = None
    container_id: int | None = None
    name: str | None = None
    recurrence: str | None = None
    rerun_mode: str | None = None


def parse_id(text: str | None, what: str = "Id") -> int:
    value = (text or "").strip()
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise Invalid("Invalid.Param", f"{what} must be the decimal id of a node, not {text!r}.")
    return int(value)


def scene_of(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    scene = SCENES.get(text.strip())
    if scene is None:
        raise Invalid(
            "Invalid.Param",
            f"Scene must be DATAWORKS_PROJECT, DATAWORKS_MANUAL_WORKFLOW or "
            f"DATAWORKS_MANUAL_TASK, not {text!r}.",
        )
    return scene


def engine_folder(file_type: int) -> str:
    """The engine folder a node of this type goes to inside a workflow."""
    name = flowspec.command_of(file_type)
    for prefixes, folder in _ENGINES:
        if any(name == p or name.startswith(f"{p}_") for p in prefixes):
            return folder
    return "通用"


def _missing(node_id: int | str) -> NotFound:
    # DataWorks' own code and message for a 2024 node it cannot find (semantics-2024 §6;
    # aliyun/alibabacloud-python-sdk#37): clients that match on it keep working
    return NotFound("5801488441564725286", f"未找到节点: {node_id} (node not found).")


_NOT_NODES = frozenset({*RESOURCE_TYPE_NAMES, FUNCTION_FILE_TYPE})


def is_node(file: File) -> bool:
    """Whether the file is a node (not a resource or a function)."""
    return file.file_type not in _NOT_NODES


def find_node(tx: Tx, project: Project, node_id: int) -> File:
    """The live (not deleted) node file with this id in the workspace."""
    file = tx.file(node_id)
    if (
        file is None
        or file.project_id != project.id
        or file.deleted_status != DeletedStatus.NORMAL
        or not is_node(file)
    ):
        raise _missing(node_id)
    return file


def task_id(tx: Tx, file: File) -> int | None:
    """The scheduler task of a node: its 2020 NodeId once deployed (PROD, else DEV)."""
    if file.node_id is None:
        return None
    for env in (Env.PROD, Env.DEV):
        if tx.node(env, file.node_id) is not None:
            return file.node_id
    return None


def _container(tx: Tx, project: Project, container_id: int) -> Business:
    business = tx.business(container_id)
    if business is None or business.project_id != project.id:
        raise Invalid(
            "Invalid.Node.Container",
            f"ContainerId {container_id} is not a workflow of workspace {project.identifier}.",
        )
    return business


def _placement(
    fields: flowspec.NodeFields, file_type: int, container: Business | None
) -> tuple[dict[str, Any], str | None]:
    """FileFolderPath changes for the node, and the directory kept verbatim (if any)."""
    if container is not None:
        root = USE_TYPES[container.use_type]
        path = f"{root}/{container.name}/{engine_folder(file_type)}"
        return {"FileFolderPath": path, "CreateFolderIfNotExists": True}, None
    return folder_placement(fields.folder)


def folder_placement(folder: str | None) -> tuple[dict[str, Any], str | None]:
    """Where ``script.path``'s directory puts an object (node, resource, function): a valid
    2020 folder (created if missing), else no folder and the directory kept verbatim."""
    if not folder:
        return {}, None
    try:
        level = parse_path(folder).level
    except DomainError:
        level = 0
    if level >= 2:
        return {"FileFolderPath": folder, "CreateFolderIfNotExists": True}, None
    return {}, folder


def write_node(
    tx: Tx,
    project: Project,
    principal: Principal,
    doc: Mapping[str, Any],
    node: Mapping[str, Any],
    now: int,
    *,
    current: File | None = None,
    container: Business | None = None,
    manual: bool = False,
) -> File:
    """Create (``current`` None) or rewrite a file from a complete FlowSpec node."""
    fields = flowspec.node_fields(doc, node, project.identifier)
    if not fields.name:
        raise Invalid("Invalid.FlowSpec.Name", "The node has no name (spec.nodes[0].name).")
    if current is None and fields.file_type is None:
        raise Invalid(
            "Invalid.FlowSpec.Command", "The node has no script.runtime.command (its type)."
        )
    if current is not None and fields.file_type not in (None, current.file_type):
        raise Invalid(
            "Invalid.FlowSpec.Command",
            f"The node type cannot change: {flowspec.command_of(current.file_type)} is not "
            f"{flowspec.command_of(fields.file_type or 0)}.",
        )
    file_type = current.file_type if current is not None else fields.file_type or 0
    changes = dict(fields.changes)
    if manual:
        changes["SchedulerType"] = "MANUAL"
    placement, kept_folder = _placement(fields, file_type, container)
    changes.update(placement)
    extras = dict(fields.extras)
    if kept_folder:
        extras["folder"] = kept_folder
    if current is None:
        return files.add_file(
            tx, project, principal, file_type, changes, now, {flowspec.EXTRAS_KEY: extras}
        )
    current.config[flowspec.EXTRAS_KEY] = extras
    if container is None and fields.folder is not None and not placement:
        current.folder_path, current.business_id = "", None
    files.change_file(tx, project, principal, current, changes, now)
    return current


def create_node(
    core: Core,
    principal: Principal,
    ref: ProjectRef,
    scene: str | None,
    container_id: str | None,
    spec: str,
) -> int:
    canonical = scene_of(scene) or "DATAWORKS_PROJECT"
    doc = flowspec.load(spec)
    flowspec.require_kind(doc, ("Node", "ManualNode"), "spec kind and request not match")
    node = flowspec.first_node(doc)
    now = core.clock()
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ref)
        container = None
        if container_id is not None and container_id.strip():
            container = _container(tx, project, parse_id(container_id, "ContainerId"))
        if canonical == "DATAWORKS_MANUAL_WORKFLOW" and (
            container is None or container.use_type != "MANUAL_BIZ"
        ):
            raise Invalid(
                "Invalid.Node.Container",
                "Scene DATAWORKS_MANUAL_WORKFLOW needs a ContainerId that is a manual workflow.",
            )
        manual = canonical == "DATAWORKS_MANUAL_TASK" or doc.get("kind") == "ManualNode"
        return write_node(
            tx, project, principal, doc, node, now, container=container, manual=manual
        ).id


def _patched(project: Project, file: File, patch: Mapping[str, Any]) -> dict[str, Any]:
    """The current node merged with ``patch``; a new name without a path renames in place."""
    current = flowspec.file_node(project, file)
    merged = flowspec.merge(current, patch)
    script = patch.get("script") if isinstance(patch.get("script"), dict) else {}
    if isinstance(patch.get("name"), str) and "path" not in (script or {}):
        folder = current["script"]["path"].rpartition("/")[0]
        merged["script"]["path"] = f"{folder}/{patch['name']}" if folder else patch["name"]
    return merged


def update_node(core: Core, principal: Principal, ref: ProjectRef, node_id: str, spec: str) -> None:
    number = parse_id(node_id)
    doc = flowspec.load(spec)
    flowspec.require_kind(doc, ("Node",), "spec kind and request not match")
    patch = flowspec.first_node(doc)
    if patch.get("id") not in (None, "", node_id, number):
        raise Invalid(
            "Invalid.FlowSpec.Field",
            f"spec.nodes[0].id {patch.get('id')!r} is not the node being updated ({node_id}).",
        )
    now = core.clock()
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ref)
        file = find_node(tx, project, number)
        merged = _patched(project, file, patch)
        if doc["spec"].get("dependencies") is not None and "inputs" not in patch:
            merged["inputs"] = {"nodeOutputs": []}
        write_node(tx, project, principal, doc, merged, now, current=file)


def _edit(
    core: Core, principal: Principal, ref: ProjectRef, node_id: str, patch: dict[str, Any]
) -> None:
    number = parse_id(node_id)
    now = core.clock()
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ref)
        file = find_node(tx, project, number)
        merged = _patched(project, file, patch)
        doc = {"version": flowspec.DEFAULT_VERSION, "kind": "Node", "spec": {"nodes": [merged]}}
        kept = file.config.get(flowspec.EXTRAS_KEY)
        if isinstance(kept, dict):
            doc["version"] = kept.get("version") or flowspec.DEFAULT_VERSION
            if "metadata" in kept:
                doc["metadata"] = kept["metadata"]
        write_node(tx, project, principal, doc, merged, now, current=file)


def move_node(core: Core, principal: Principal, ref: ProjectRef, node_id: str, path: str) -> None:
    """MoveNode: ``path`` is the new directory, without the node's name."""
    folder = path.strip().strip("/")
    if not folder:
        raise Invalid("Invalid.Param", "Path must name the directory to move the node to.")
    with core.store.transaction() as tx:
        project = resolve_project(tx, principal, ref)
        name = find_node(tx, project, parse_id(node_id)).name
    _edit(core, principal, ref, node_id, {"script": {"path": f"{folder}/{name}"}})


def rename_node(core: Core, principal: Principal, ref: ProjectRef, node_id: str, name: str) -> None:
    _edit(core, principal, ref, node_id, {"name": name})


def delete_node(core: Core, principal: Principal, ref: ProjectRef, node_id: str) -> None:
    """As 2020 DeleteFile (a committed node leaves through a deletion package)."""
    number = parse_id(node_id)
    with core.store.transaction() as tx:
        find_node(tx, resolve_project(tx, principal, ref), number)
    delete_file(core, principal, ref, number)


def get_node(
    core: Core, principal: Principal, ref: ProjectRef, node_id: str
) -> tuple[Project, File, int | None]:
    """The node, its workspace and TaskId; without ProjectId the node names the workspace
    (and a node the caller cannot see answers like a missing one)."""
    number = parse_id(node_id)
    with core.store.transaction() as tx:
        if ref.given:
            project = resolve_project(tx, principal, ref)
        else:
            file = tx.file(number)
            visible = visible_project(tx, principal, file.project_id if file else None)
            if visible is None:
                raise _missing(node_id)
            project = visible
        file = find_node(tx, project, number)
        return project, file, task_id(tx, file)


def _recurrence(file: File) -> str:
    scheduler = file.config.get("SchedulerType")
    if scheduler == "SKIP":
        return "Skip"
    return "Pause" if scheduler == "PAUSE" or file.config.get("Stop") else "Normal"


def _scene(tx: Tx, file: File, cache: dict[int, Business | None]) -> str:
    if file.business_id is not None:
        if file.business_id not in cache:
            cache[file.business_id] = tx.business(file.business_id)
        business = cache[file.business_id]
        if business is not None and business.use_type == "MANUAL_BIZ":
            return "DATAWORKS_MANUAL_WORKFLOW"
    if file.config.get("SchedulerType") == "MANUAL":
        return "DATAWORKS_MANUAL_TASK"
    return "DATAWORKS_PROJECT"


def all_files(tx: Tx, project_id: int, flt: FileFilter) -> list[File]:
    """Every live file of the workspace matching ``flt``, in id order."""
    found: list[File] = []
    number = 1
    while True:
        batch, total = tx.list_files(project_id, flt, Page(number, _SCAN))
        found.extend(batch)
        if len(found) >= total or not batch:
            return found
        number += 1


def list_nodes(
    core: Core, principal: Principal, ref: ProjectRef, query: NodeQuery, page: Page
) -> tuple[Project, list[tuple[File, int | None]], int]:
    """ListNodes: the workspace's live nodes (no resources or functions), filtered, in id
    order."""
    scene = scene_of(query.scene)
    rerun = flowspec.RERUN_MODES.get(query.rerun_mode or "") if query.rerun_mode else None
    if query.rerun_mode and rerun is None:
        raise Invalid("Invalid.Param", "RerunMode must be Allowed, Denied or FailureAllowed.")
    if query.recurrence and query.recurrence not in ("Normal", "Pause", "Skip"):
        raise Invalid("Invalid.Param", "Recurrence must be Normal, Pause or Skip.")
    with core.store.transaction() as tx:
        project = resolve_project(tx, principal, ref)
        cache: dict[int, Business | None] = {}
        chosen = [
            f
            for f in all_files(tx, project.id, FileFilter(keyword=query.name or None))
            if is_node(f)
            and (query.container_id is None or f.business_id == query.container_id)
            and (scene is None or _scene(tx, f, cache) == scene)
            and (not query.recurrence or _recurrence(f) == query.recurrence)
            and (rerun is None or f.config.get("RerunMode") == rerun)
        ]
        shown = chosen[page.offset : page.offset + page.size]
        return project, [(f, task_id(tx, f)) for f in shown], len(chosen)


def node_dependencies(
    core: Core, principal: Principal, ref: ProjectRef, node_id: str, page: Page
) -> tuple[Project, list[tuple[File, int | None]], int]:
    """The node's upstream nodes: live files of the workspace producing one of its inputs
    (the same output names as the 2020 dependency graph; the workspace root has none)."""
    number = parse_id(node_id)
    with core.store.transaction() as tx:
        project = resolve_project(tx, principal, ref)
        file = find_node(tx, project, number)
        wanted = set(split_names(str(file.config.get("InputList") or "")))
        wanted.discard(project.root_output)
        upstream = [
            f
            for f in all_files(tx, project.id, FileFilter())
            if f.id != file.id
            and is_node(f)
            and wanted & set(node_outputs(project, f.name, f.config))
        ]
        shown = upstream[page.offset : page.offset + page.size]
        return project, [(f, task_id(tx, f)) for f in shown], len(upstream)
