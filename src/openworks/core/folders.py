"""Workflows (businesses) and DataStudio folders; where a file lives decides its workflow.

Paths follow :mod:`openworks.core.folder_paths`. Every workflow has a folder row for
itself (level 1); engine and sub folders are rows below it. Creating a folder creates its
missing ancestors (a missing workflow included), like ``mkdir -p``.

Errors::

    Invalid.Folder.Path        the path breaks the layout rules (root, engine, depth)
    Invalid.Folder.Name        a workflow or folder name is empty, too long or has "/"
    Invalid.Folder.Exists      CreateFolder on a path that already exists
    Invalid.Folder.NotExists   CreateFile/UpdateFile into a missing folder (no auto-create)
    Invalid.Folder.NotEmpty    DeleteFolder / DeleteBusiness on a folder that holds files or
                               sub folders (names the first ones found)
    Invalid.Business.NameExists, Invalid.Folder.Fixed (engine folders cannot be renamed)
    InvalidFolder.NotFound / InvalidBusiness.NotFound (404)
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from .access import ProjectRef, resolve_project
from .context import Core
from .errors import Invalid, NotFound
from .folder_model import Business, Folder
from .folder_paths import FolderPath, check_segment, parse_path
from .model import Principal, Project
from .ports import Page, Tx

__all__ = [
    "change_business",
    "create_business",
    "create_folder",
    "delete_business",
    "delete_folder",
    "folder_ids",
    "get_business",
    "get_folder",
    "insert_business",
    "list_business",
    "list_folders",
    "place_file",
    "update_business",
    "update_folder",
]

USE_TYPES = {"NORMAL": "业务流程", "MANUAL_BIZ": "手动业务流程"}


def _new_folder_id() -> str:
    return uuid.uuid4().hex


def _canonical(tx: Tx, project: Project, path: FolderPath) -> tuple[FolderPath, Business | None]:
    """The path with the workflow name spelled as stored, and that workflow (if it exists)."""
    if path.workflow is None:
        return path, None
    business = tx.business_by_name(project.id, path.workflow)
    if business is None:
        return path, None
    if USE_TYPES[business.use_type] != path.root:
        raise Invalid(
            "Invalid.Folder.Path",
            f"Workflow {business.name} is a {business.use_type} workflow; its folders live "
            f"under {USE_TYPES[business.use_type]}, not {path.root}.",
        )
    return path.with_workflow(business.name), business


def _insert_business(
    tx: Tx, project: Project, name: str, owner: str, description: str, use_type: str, now: int
) -> Business:
    business = Business(0, project.id, name, owner, now, now, description, use_type)
    tx.insert_business(business)
    root = USE_TYPES[use_type]
    tx.insert_folder(Folder(_new_folder_id(), project.id, f"{root}/{name}", root, business.id, now))
    return business


def _ensure(tx: Tx, project: Project, principal: Principal, path: FolderPath, now: int) -> Folder:
    """Create every missing folder (and the workflow) down to ``path``; the deepest one.

    Concurrent requests may create the same path at once (CreateFolderIfNotExists from
    many clients): each insert gives way to a row another transaction made meanwhile
    (``add_business`` / ``add_folder``), so all of them succeed on the same folders."""
    path, business = _canonical(tx, project, path)
    if business is None:
        assert path.workflow is not None
        business = tx.add_business(
            Business(0, project.id, path.workflow, principal.user_id, now, now, "", path.use_type)
        )
        root = USE_TYPES[business.use_type]
        tx.add_folder(
            Folder(_new_folder_id(), project.id, f"{root}/{business.name}", root, business.id, now)
        )
    found: Folder | None = None
    for step in path.ancestors():
        found = tx.folder_by_path(project.id, step.text)
        if found is None:
            found = tx.add_folder(
                Folder(
                    _new_folder_id(), project.id, step.text, step.parent().text, business.id, now
                )
            )
    assert found is not None
    return found


def place_file(
    tx: Tx, project: Project, principal: Principal, text: str, create: bool, now: int
) -> Folder:
    """The folder a file goes into (created when ``create``); files need an engine level."""
    path = parse_path(text)
    if path.level < 2:
        raise Invalid(
            "Invalid.Folder.Path",
            f"Illegal folder path {text!r} for a file: a file must be in an engine folder "
            "(for example 业务流程/<workflow>/MaxCompute) or below it.",
        )
    canonical, _ = _canonical(tx, project, path)
    folder = tx.folder_by_path(project.id, canonical.text)
    if folder is not None:
        return folder
    if not create:
        raise Invalid(
            "Invalid.Folder.NotExists",
            f"The folder {canonical.text} does not exist in workspace {project.identifier}; "
            "create it first or pass CreateFolderIfNotExists=true.",
        )
    return _ensure(tx, project, principal, canonical, now)


def folder_ids(core: Core, project_id: int, paths: Iterable[str]) -> dict[str, str]:
    """FolderId of each stored folder path among ``paths``."""
    wanted = {p for p in paths if p}
    with core.store.transaction() as tx:
        found = {p: tx.folder_by_path(project_id, p) for p in wanted}
    return {p: f.id for p, f in found.items() if f is not None}


# -- folders ---------------------------------------------------------------------------


def create_folder(core: Core, principal: Principal, ref: ProjectRef, text: str) -> str:
    path = parse_path(text)
    if path.level < 1:
        raise Invalid("Invalid.Folder.Path", f"{path.root} is a fixed root; it always exists.")
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ref)
        canonical, _ = _canonical(tx, project, path)
        if tx.folder_by_path(project.id, canonical.text) is not None:
            raise Invalid("Invalid.Folder.Exists", f"The folder {canonical.text} already exists.")
        return _ensure(tx, project, principal, canonical, core.clock()).id


def _find_folder(tx: Tx, project: Project, folder_id: str | None, path: str | None) -> Folder:
    found: Folder | None = None
    if folder_id:
        found = tx.folder(folder_id)
        if found is not None and found.project_id != project.id:
            found = None
    elif path:
        canonical, _ = _canonical(tx, project, parse_path(path))
        found = tx.folder_by_path(project.id, canonical.text)
    else:
        raise Invalid("Invalid.Param", "Specify FolderId or FolderPath.")
    if found is None:
        what = f"FolderId {folder_id}" if folder_id else f"FolderPath {path}"
        raise NotFound("InvalidFolder.NotFound", f"The folder ({what}) does not exist.")
    return found


def get_folder(
    core: Core, principal: Principal, ref: ProjectRef, folder_id: str | None, path: str | None
) -> Folder:
    with core.store.transaction() as tx:
        return _find_folder(tx, resolve_project(tx, principal, ref), folder_id, path)


def list_folders(
    core: Core, principal: Principal, ref: ProjectRef, parent: str, page: Page
) -> tuple[list[Folder], int]:
    path = parse_path(parent)
    with core.store.transaction() as tx:
        project = resolve_project(tx, principal, ref)
        canonical, _ = _canonical(tx, project, path)
        if canonical.level >= 1 and tx.folder_by_path(project.id, canonical.text) is None:
            raise NotFound("InvalidFolder.NotFound", f"The folder {canonical.text} does not exist.")
        return tx.child_folders(project.id, canonical.text, page)


def _rename_tree(tx: Tx, project: Project, old: FolderPath, new: FolderPath) -> None:
    if tx.folder_by_path(project.id, new.text) is not None:
        raise Invalid("Invalid.Folder.Exists", f"The folder {new.text} already exists.")
    tx.move_folder_tree(project.id, old.text, new.text)


def update_folder(
    core: Core, principal: Principal, ref: ProjectRef, folder_id: str, name: str
) -> None:
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ref)
        folder = _find_folder(tx, project, folder_id, None)
        path = parse_path(folder.path)
        if path.level == 1:
            _rename_business(tx, project, folder.business_id, name, core.clock())
            return
        if path.level == 2:
            raise Invalid(
                "Invalid.Folder.Fixed",
                f"{folder.path} is an engine folder; its name is fixed.",
            )
        if name != folder.name:
            _rename_tree(tx, project, path, path.renamed(check_segment(name)))


def _refuse_unless_empty(tx: Tx, project: Project, folder: Folder, what: str) -> None:
    path = parse_path(folder.path)
    children, _ = tx.child_folders(project.id, folder.path, None)
    if path.level == 1:  # a workflow's empty engine folders do not count
        children = [
            c
            for c in children
            if tx.child_folders(project.id, c.path, None)[1]
            or tx.count_live_files_in(project.id, c.path)
        ]
    files = tx.count_live_files_in(project.id, folder.path)
    if children or files:
        parts = []
        if files:
            parts.append(f"{files} file(s)")
        if children:
            parts.append("sub folder(s) " + ", ".join(c.name for c in children[:5]))
        raise Invalid(
            "Invalid.Folder.NotEmpty",
            f"{what} {folder.path} is not empty: it holds {' and '.join(parts)}. "
            "Delete or move them first.",
        )


def delete_folder(core: Core, principal: Principal, ref: ProjectRef, folder_id: str) -> None:
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ref)
        folder = _find_folder(tx, project, folder_id, None)
        if parse_path(folder.path).level == 1:
            _delete_business(tx, project, folder.business_id)
            return
        _refuse_unless_empty(tx, project, folder, "The folder")
        tx.delete_folder(folder.id)


# -- workflows ---------------------------------------------------------------------------


def _find_business(tx: Tx, project: Project, business_id: int) -> Business:
    found = tx.business(business_id)
    if found is None or found.project_id != project.id:
        raise NotFound(
            "InvalidBusiness.NotFound",
            f"The workflow {business_id} does not exist in workspace {project.identifier}.",
        )
    return found


def _unique_business_name(tx: Tx, project: Project, name: str, business_id: int | None) -> None:
    other = tx.business_by_name(project.id, name)
    if other is not None and other.id != business_id:
        raise Invalid(
            "Invalid.Business.NameExists",
            f"A workflow named {other.name} already exists in workspace {project.identifier} "
            f"(BusinessId {other.id}).",
        )


def create_business(
    core: Core,
    principal: Principal,
    ref: ProjectRef,
    name: str,
    description: str | None,
    owner: str | None,
    use_type: str | None,
) -> int:
    check_segment(name, "BusinessName")
    kind = use_type or "NORMAL"
    if kind not in USE_TYPES:
        raise Invalid("Invalid.Param", "UseType must be NORMAL or MANUAL_BIZ.")
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ref)
        _unique_business_name(tx, project, name, None)
        owner_id = owner or principal.user_id
        business = _insert_business(
            tx, project, name, owner_id, description or "", kind, core.clock()
        )
        return business.id


def get_business(core: Core, principal: Principal, ref: ProjectRef, business_id: int) -> Business:
    with core.store.transaction() as tx:
        return _find_business(tx, resolve_project(tx, principal, ref), business_id)


def list_business(
    core: Core, principal: Principal, ref: ProjectRef, keyword: str | None, page: Page
) -> tuple[list[Business], int]:
    with core.store.transaction() as tx:
        project = resolve_project(tx, principal, ref)
        return tx.list_businesses(project.id, keyword, page)


def _rename_business(tx: Tx, project: Project, business_id: int, name: str, now: int) -> None:
    business = _find_business(tx, project, business_id)
    check_segment(name, "BusinessName")
    if name == business.name:
        return
    _unique_business_name(tx, project, name, business.id)
    root = USE_TYPES[business.use_type]
    tx.move_folder_tree(project.id, f"{root}/{business.name}", f"{root}/{name}")
    business.name, business.modify_time = name, now
    tx.update_business(business)


def change_business(
    tx: Tx,
    project: Project,
    business_id: int,
    name: str | None,
    description: str | None,
    owner: str | None,
    now: int,
) -> None:
    """Rename (with its folders) and edit a workflow in the caller's transaction."""
    if name is not None:
        _rename_business(tx, project, business_id, name, now)
    business = _find_business(tx, project, business_id)
    if description is not None:
        business.description = description
    if owner:
        business.owner = owner
    business.modify_time = now
    tx.update_business(business)


def insert_business(
    tx: Tx,
    project: Project,
    principal: Principal,
    name: str,
    description: str,
    use_type: str,
    now: int,
) -> int:
    """Create a workflow (and its folder row) in the caller's transaction."""
    check_segment(name, "BusinessName")
    _unique_business_name(tx, project, name, None)
    return _insert_business(tx, project, name, principal.user_id, description, use_type, now).id


def update_business(
    core: Core,
    principal: Principal,
    ref: ProjectRef,
    business_id: int,
    name: str | None,
    description: str | None,
    owner: str | None,
) -> None:
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ref)
        change_business(tx, project, business_id, name, description, owner, core.clock())


def _delete_business(tx: Tx, project: Project, business_id: int) -> None:
    business = _find_business(tx, project, business_id)
    root = USE_TYPES[business.use_type]
    folder = tx.folder_by_path(project.id, f"{root}/{business.name}")
    if folder is not None:
        _refuse_unless_empty(tx, project, folder, "The workflow")
    tx.delete_business(business.id)


def delete_business(core: Core, principal: Principal, ref: ProjectRef, business_id: int) -> None:
    with core.store.transaction(write=True) as tx:
        _delete_business(tx, resolve_project(tx, principal, ref), business_id)
