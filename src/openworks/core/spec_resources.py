"""2024 resources (FlowSpec ``kind: Resource``) over 2020 resource files, and the object
operations resources and functions share (find, get, list, move, rename, delete).

::

    CreateResource(Spec, ResourceFile) ─▶ resources.create_resource_file (bytes first)
    UpdateResource(Id, Spec, ResourceFile)
        ─▶ merge(rendered resource, patch) ─▶ new bytes? (ResourceFile, or a non-empty
           script.content in the patch) ─▶ files.change_file       (type cannot change)
    Move(Path) / Rename(Name) ─▶ the same edit with a new script.path / name
    Delete ─▶ packages.delete_file (as 2020 DeleteFile)
    Get / List ─▶ live files of the resource types (12-15)

An object's ``Id`` is the decimal FileId. Where it lives follows the node rule: a
``script.path`` directory that is a 2020 file folder places the file there (created when
missing); any other directory is kept verbatim (``config["FlowSpec"]["folder"]``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import flowspec, resources
from .access import ProjectRef, resolve_project, visible_project
from .context import Core
from .errors import Invalid, NotFound
from .files import change_file
from .flowspec_fields import EXTRAS_KEY
from .flowspec_objects import (
    LIST_KEYS,
    RESOURCE_TYPE_NAMES,
    ObjectFields,
    first_object,
    object_fields,
    render_resource,
)
from .model import DeletedStatus, File, Principal, Project
from .packages import delete_file
from .ports import FileFilter, Page, Tx
from .spec_nodes import all_files, folder_placement

__all__ = [
    "KINDS",
    "ObjectQuery",
    "create_resource",
    "delete_object",
    "edit_object",
    "find_object",
    "get_object",
    "list_objects",
    "move_object",
    "object_id",
    "placement",
    "rename_object",
    "update_resource",
]


@dataclass(frozen=True)
class Kind:
    """How one FlowSpec kind maps to files: its file types and the word for it."""

    name: str
    file_types: tuple[int, ...]
    label: str


KINDS = {
    "Resource": Kind("Resource", tuple(RESOURCE_TYPE_NAMES), "resource"),
    "Function": Kind("Function", (17,), "function"),
}


@dataclass(frozen=True, slots=True)
class ObjectQuery:
    name: str | None = None
    owner: str | None = None
    file_types: tuple[int, ...] | None = None
    accept: Callable[[File], bool] | None = None


def object_id(text: str | None, kind: str) -> int:
    value = (text or "").strip()
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise Invalid(
            "Invalid.Param", f"Id must be the decimal id of a {KINDS[kind].label}, not {text!r}."
        )
    return int(value)


def _missing(kind: str, number: int | str) -> NotFound:
    message = f"The {KINDS[kind].label} {number} does not exist."
    # literal codes, so that every not-found code in the source can be listed and checked
    if kind == "Function":
        return NotFound("InvalidFunction.NotFound", message)
    return NotFound("InvalidResource.NotFound", message)


def find_object(tx: Tx, project: Project, number: int, kind: str) -> File:
    """The live file of this kind with this id in the workspace."""
    file = tx.file(number)
    if (
        file is None
        or file.project_id != project.id
        or file.deleted_status != DeletedStatus.NORMAL
        or file.file_type not in KINDS[kind].file_types
    ):
        raise _missing(kind, number)
    return file


def get_object(
    core: Core, principal: Principal, ref: ProjectRef, text: str, kind: str
) -> tuple[Project, File]:
    """Without ProjectId the object names its workspace, which is then authorized (an
    object the caller cannot see answers like a missing one)."""
    number = object_id(text, kind)
    with core.store.transaction() as tx:
        if ref.given:
            project = resolve_project(tx, principal, ref)
        else:
            file = tx.file(number)
            visible = visible_project(tx, principal, file.project_id if file else None)
            if visible is None:
                raise _missing(kind, number)
            project = visible
        return project, find_object(tx, project, number, kind)


def list_objects(
    core: Core, principal: Principal, ref: ProjectRef, kind: str, query: ObjectQuery, page: Page
) -> tuple[Project, list[File], int]:
    types = query.file_types or KINDS[kind].file_types
    flt = FileFilter(keyword=query.name or None, owner=query.owner or None, file_types=types)
    with core.store.transaction() as tx:
        project = resolve_project(tx, principal, ref)
        chosen = [
            f
            for f in all_files(tx, project.id, flt)
            if f.file_type in types and (query.accept is None or query.accept(f))
        ]
        return project, chosen[page.offset : page.offset + page.size], len(chosen)


def placement(fields: ObjectFields) -> tuple[dict[str, Any], str | None]:
    """FileFolderPath changes, and the directory kept verbatim (if any)."""
    return folder_placement(fields.folder)


def apply_fields(
    tx: Tx, project: Project, principal: Principal, file: File, fields: ObjectFields, now: int
) -> None:
    """Write ``fields`` (of the merged object) over ``file``: same type, kept extras."""
    if fields.file_type not in (None, file.file_type):
        raise Invalid(
            "Invalid.FlowSpec.Command",
            f"The type of {file.name} cannot change: {flowspec.command_of(file.file_type)} "
            f"is not {flowspec.command_of(fields.file_type or 0)}.",
        )
    if not fields.name:
        raise Invalid("Invalid.FlowSpec.Name", "The object has no name.")
    if resources.is_resource(file.file_type):
        resources.check_name(file.file_type, fields.name)
    changes = dict(fields.changes)
    moved, kept_folder = placement(fields)
    changes.update(moved)
    extras = dict(fields.extras)
    if kept_folder:
        extras["folder"] = kept_folder
    file.config[EXTRAS_KEY] = extras
    if fields.folder is not None and not moved:
        file.folder_path, file.business_id = "", None
    change_file(tx, project, principal, file, changes, now)


# Renders the current object for a merge: (file, id) -> FlowSpec item.
Render = Callable[[File, int], dict[str, Any]]
# Writes a merged object: (tx, project, file, doc, merged object, now).
Write = Callable[[Tx, Project, File, Mapping[str, Any], dict[str, Any], int], None]


def edit_object(
    core: Core,
    principal: Principal,
    ref: ProjectRef,
    text: str,
    kind: str,
    patch: Mapping[str, Any],
    write: Write,
    render: Render,
) -> None:
    """Merge ``patch`` into the current object and write it (Move, Rename)."""
    number = object_id(text, kind)
    now = core.clock()
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ref)
        file = find_object(tx, project, number, kind)
        merged = flowspec.merge(render(file, file.id), patch)
        kept = file.config.get(EXTRAS_KEY)
        doc: dict[str, Any] = {"version": flowspec.DEFAULT_VERSION, "kind": kind}
        if isinstance(kept, dict):
            doc["version"] = kept.get("version") or flowspec.DEFAULT_VERSION
            if "metadata" in kept:
                doc["metadata"] = kept["metadata"]
        doc["spec"] = {LIST_KEYS[kind]: [merged]}
        write(tx, project, file, doc, merged, now)


def move_object(
    core: Core,
    principal: Principal,
    ref: ProjectRef,
    text: str,
    kind: str,
    path: str,
    write: Write,
    render: Render,
) -> None:
    """``path`` is the new directory, without the object's name."""
    folder = path.strip().strip("/")
    if not folder:
        raise Invalid("Invalid.Param", "Path must name the directory to move to.")
    with core.store.transaction() as tx:
        project = resolve_project(tx, principal, ref)
        name = find_object(tx, project, object_id(text, kind), kind).name
    patch = {"script": {"path": f"{folder}/{name}"}}
    edit_object(core, principal, ref, text, kind, patch, write, render)


def rename_object(
    core: Core,
    principal: Principal,
    ref: ProjectRef,
    text: str,
    kind: str,
    name: str,
    write: Write,
    render: Render,
) -> None:
    """A new name in the same directory."""
    with core.store.transaction() as tx:
        project = resolve_project(tx, principal, ref)
        file = find_object(tx, project, object_id(text, kind), kind)
        folder = render(file, file.id)["script"]["path"].rpartition("/")[0]
    patch = {"name": name, "script": {"path": f"{folder}/{name}" if folder else name}}
    edit_object(core, principal, ref, text, kind, patch, write, render)


def delete_object(core: Core, principal: Principal, ref: ProjectRef, text: str, kind: str) -> None:
    """As 2020 DeleteFile (a committed object leaves through a deletion package)."""
    number = object_id(text, kind)
    with core.store.transaction() as tx:
        find_object(tx, resolve_project(tx, principal, ref), number, kind)
    delete_file(core, principal, ref, number)


# -- resources -------------------------------------------------------------------------


def _resource_doc(spec: str) -> tuple[dict[str, Any], dict[str, Any]]:
    doc = flowspec.load(spec)
    flowspec.require_kind(doc, ("Resource",), "spec kind and request not match")
    return doc, first_object(doc, "Resource")


def create_resource(
    core: Core, principal: Principal, ref: ProjectRef, spec: str, resource_file: str | None
) -> int:
    """CreateResource: the bytes from ``ResourceFile`` (a data: URL or an openworks upload
    URL) or, without it, the text of ``script.content``."""
    doc, obj = _resource_doc(spec)
    fields = object_fields(doc, obj, "Resource")
    if not fields.name:
        raise Invalid("Invalid.FlowSpec.Name", "The resource has no name (fileResources[0].name).")
    if fields.file_type is None:
        raise Invalid(
            "Invalid.FlowSpec.Command",
            "The resource has no type: give script.runtime.command (ODPS_PYTHON, ODPS_JAR, "
            "ODPS_ARCHIVE, ODPS_FILE) or type (python, jar, archive, file).",
        )
    moved, kept_folder = placement(fields)
    extras = dict(fields.extras)
    if kept_folder:
        extras["folder"] = kept_folder
    changes = {k: v for k, v in fields.changes.items() if k != "Content"}
    changes.update(moved)
    given = resources.ResourceInput(
        origin_name=fields.name,
        register_to_calc_engine=False,
        content=fields.content or None,
        resource_file=resource_file or None,
    )
    return resources.create_resource_file(
        core, principal, ref, fields.file_type, changes, given, {EXTRAS_KEY: extras}
    )


def render(file: File, number: int) -> dict[str, Any]:
    """The current resource as a FlowSpec item (for merges: no download link)."""
    return render_resource(file, number)


def resource_writer(
    core: Core, principal: Principal, staged: tuple[str, bool] | None = None, text: str = ""
) -> Write:
    """Writes a merged resource; ``staged`` new bytes (stage_bytes) replace its digest and
    its Content becomes ``text`` (the text of a text resource, else empty)."""

    def write(
        tx: Tx, project: Project, file: File, doc: Mapping[str, Any], obj: dict[str, Any], now: int
    ) -> None:
        obj.pop("file", None)
        fields = object_fields(doc, obj, "Resource")
        fields.changes.pop("Content", None)
        if staged is not None:
            digest, size = resources.take_bytes(core, tx, project, staged, now)
            record = dict(resources.resource_of(file.config) or {})
            file.config[resources.CONFIG_KEY] = {**record, "digest": digest, "size": size}
            fields.changes["Content"] = text
        apply_fields(tx, project, principal, file, fields, now)

    return write


def update_resource(
    core: Core,
    principal: Principal,
    ref: ProjectRef,
    text: str,
    spec: str,
    resource_file: str | None,
) -> None:
    """UpdateResource: incremental (the patch merges into the current resource). New bytes
    come from ``ResourceFile`` or a non-empty ``script.content`` (text mode); earlier
    versions keep the digests they committed."""
    number = object_id(text, "Resource")
    doc, patch = _resource_doc(spec)
    if patch.get("id") not in (None, "", text, number):
        raise Invalid(
            "Invalid.FlowSpec.Field",
            f"spec.fileResources[0].id {patch.get('id')!r} is not the resource being updated.",
        )
    script = patch.get("script") if isinstance(patch.get("script"), dict) else {}
    content = (script or {}).get("content")
    content = content if isinstance(content, str) and content else None
    staged = None
    if resource_file or content:
        given = resources.ResourceInput(
            origin_name="-",
            register_to_calc_engine=False,
            content=content,
            resource_file=resource_file or None,
        )
        staged = resources.stage_bytes(core, given)
    write = resource_writer(core, principal, staged, content or "")
    now = core.clock()
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ref)
        file = find_object(tx, project, number, "Resource")
        merged = flowspec.merge(render(file, file.id), patch)
        if isinstance(patch.get("name"), str) and "path" not in (script or {}):
            folder = render(file, file.id)["script"]["path"].rpartition("/")[0]
            merged["script"]["path"] = f"{folder}/{patch['name']}" if folder else patch["name"]
        write(tx, project, file, doc, merged, now)
