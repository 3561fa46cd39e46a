"""Files: the folder tree, one file with DEV and PROD side by side, and version diffs.

::

    /console/w/{ProjectId}/files?folder=A/B          files under a folder, with the tree;
                                                     in a workflow, its tables too
    /console/w/{ProjectId}/files/{FileId}            DEV | PROD, history, diff picker
    /console/w/{ProjectId}/files/{FileId}?version=N  the same, showing version N's content
    /console/w/{ProjectId}/files/{FileId}/diff?from=A&to=B
                                                     line diff; A, B = a version or "working"

What is in DEV is the newest version whose commit succeeded (COMMITTED, DEPLOYING or
DEPLOYED), unless that version deleted the file; what is in PROD is the file's production
version. A basic workspace has no DEV column.

A version number in the query (``version``, ``from``, ``to``) is a 32-bit integer (else
400); one the file does not have is a 404. Diffs are bounded in size, work and rows shown
(:mod:`openworks.console.diffing`) and computed in a thread of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.responses import Response

from openworks.core import files as core_files
from openworks.core import projects, table_relations
from openworks.core.access import ProjectRef
from openworks.core.context import Core
from openworks.core.folder_model import Business, TableRelation
from openworks.core.model import (
    ChangeType,
    File,
    FileVersion,
    Principal,
    Project,
    ProjectMode,
    VersionStatus,
)
from openworks.core.ports import FileFilter, Page

from .deployments import project_of
from .diffing import DiffRow, compare, diff_rows
from .inputs import path_id, query_int
from .web import Console, Refused, SignedIn

__all__ = ["DiffRow", "Folder", "diff_rows", "file_detail", "file_diff", "file_list", "tree"]

WORKING = "working"
_IN_DEV = {VersionStatus.COMMITTED, VersionStatus.DEPLOYING, VersionStatus.DEPLOYED}


@dataclass
class Folder:
    name: str
    path: str
    count: int = 0
    children: dict[str, Folder] = field(default_factory=dict)

    @property
    def sorted_children(self) -> list[Folder]:
        return [self.children[k] for k in sorted(self.children, key=str.lower)]


def tree(paths: list[str]) -> Folder:
    """Folders of the given file paths; each folder counts the files at or below it."""
    root = Folder("", "")
    for path in paths:
        node = root
        node.count += 1
        parts = [p for p in path.split("/") if p]
        for depth, part in enumerate(parts):
            child = node.children.get(part)
            if child is None:
                child = Folder(part, "/".join(parts[: depth + 1]))
                node.children[part] = child
            child.count += 1
            node = child
    return root


# the workspace, the folder tree, the files shown, the workflow of the folder and its tables
_Listing = tuple[Project, Folder, list[File], Business | None, list[TableRelation]]


def _all_files(core: Core, principal: Principal, project: Project) -> list[File]:
    found: list[File] = []
    number = 1
    while True:
        batch, total = core_files.list_files(
            core, principal, ProjectRef(id=project.id), FileFilter(), Page(number, 100)
        )
        found.extend(batch)
        if not batch or number * 100 >= total:
            return found
        number += 1


async def file_list(console: Console, signed: SignedIn) -> Response:
    ref = project_of(signed)
    core, principal = console.service.core, signed.principal

    folder = signed.request.query_params.get("folder", "").strip("/")

    def load() -> _Listing:
        # the tree and the filtering are in the thread too: a workspace may hold many files
        project = projects.get_project(core, principal, ref)
        workflow, tables = table_relations.workflow_tables(core, principal, ref, folder)
        every = _all_files(core, principal, project)
        shown = [
            f
            for f in every
            if not folder
            or f.folder_path.strip("/") == folder
            or f.folder_path.strip("/").startswith(folder + "/")
        ]
        shown.sort(key=lambda f: (f.folder_path.lower(), f.name.lower()))
        return project, tree([f.folder_path for f in every]), shown, workflow, tables

    project, root, shown, workflow, tables = await console.read(signed, "ListFiles", ref, load)
    return await console.page(
        "files.html",
        session=signed.session,
        project=project,
        root=root,
        folder=folder,
        files=shown,
        workflow=workflow,
        tables=tables,
    )


def _versions(
    core: Core, principal: Principal, project: Project, file_id: int
) -> tuple[File, list[FileVersion]]:
    ref = ProjectRef(id=project.id)
    every: list[FileVersion] = []
    number = 1
    while True:
        file, batch, total = core_files.list_versions(
            core, principal, ref, file_id, Page(number, 100)
        )
        every.extend(batch)
        if not batch or number * 100 >= total:
            break
        number += 1
    every.sort(key=lambda v: v.version, reverse=True)
    return file, every


async def _load_versions(
    console: Console, signed: SignedIn
) -> tuple[Project, File, list[FileVersion]]:
    ref, file_id = project_of(signed), _file_id(signed)
    core, principal = console.service.core, signed.principal

    def load() -> tuple[Project, File, list[FileVersion]]:
        project = projects.get_project(core, principal, ref)
        return (project, *_versions(core, principal, project, file_id))

    return await console.read(signed, "ListFileVersions", ref, load)


def dev_version(project: Project, versions: list[FileVersion]) -> FileVersion | None:
    if project.mode == ProjectMode.BASIC:
        return None
    for version in versions:
        if version.status in _IN_DEV:
            return None if version.change_type == ChangeType.DELETE else version
    return None


def _pick(versions: list[FileVersion], number: int | None) -> FileVersion | None:
    return next((v for v in versions if v.version == number), None)


def _file_id(signed: SignedIn) -> int:
    return path_id(signed.request.path_params, "file_id", "file")


async def file_detail(console: Console, signed: SignedIn) -> Response:
    project, file, versions = await _load_versions(console, signed)
    chosen: FileVersion | None = None
    wanted = signed.request.query_params.get("version")
    if wanted:
        chosen = _pick(versions, query_int("version", wanted, 32))
        if chosen is None:
            raise Refused(404, "Not found", f"The file {file.id} has no version {wanted}.")
    dev = dev_version(project, versions)
    prod = _pick(versions, file.prod_version)
    return await console.page(
        "file.html",
        session=signed.session,
        project=project,
        file=file,
        versions=versions,
        chosen=chosen,
        dev=dev,
        prod=prod,
        basic=project.mode == ProjectMode.BASIC,
    )


def _side(file: File, versions: list[FileVersion], text: str, name: str) -> tuple[str, str]:
    """(label, content) of one side of a diff: 400 for a malformed side, 404 for a version
    the file does not have."""
    if text == WORKING:
        return "Working copy", file.content
    try:
        number = query_int(name, text, 32)
    except Refused:
        raise Refused(
            400,
            "Bad comparison",
            f'{name} must be a version of file {file.id} or "{WORKING}".',
        ) from None
    version = _pick(versions, number)
    if version is None:
        raise Refused(404, "Bad comparison", f"The file {file.id} has no version {number}.")
    return f"Version {version.version}", version.content


async def file_diff(console: Console, signed: SignedIn) -> Response:
    project, file, versions = await _load_versions(console, signed)
    query = signed.request.query_params
    default_new = str(versions[0].version) if versions else WORKING
    default_old = str(versions[1].version) if len(versions) > 1 else default_new
    old_text, new_text = query.get("from", default_old), query.get("to", default_new)
    old_label, old = _side(file, versions, old_text, "from")
    new_label, new = _side(file, versions, new_text, "to")
    diff = await console.heavy(lambda: compare(old, new))  # bounded, and off the event loop
    return await console.page(
        "diff.html",
        session=signed.session,
        project=project,
        file=file,
        versions=versions,
        old_text=old_text,
        new_text=new_text,
        old_label=old_label,
        new_label=new_label,
        diff=diff,
        rows=diff.rows,
        added=diff.added,
        removed=diff.removed,
    )
