"""File operations: CreateFile, UpdateFile, GetFile, ListFiles, DeleteFile, and versions.

The same functions serve these operations at 2024-05-18 (``api/v2024/legacy.py``); ListFiles
there also takes ``CommitStatus``."""

from __future__ import annotations

from typing import Any

from openworks.core import files, folders, packages, resources
from openworks.core.errors import Invalid
from openworks.core.files import SCHEDULE_DEFAULTS
from openworks.core.folder_paths import parse_path
from openworks.core.ports import FileFilter
from openworks.presenters.file import file_summary, file_version, resource_download_link
from openworks.presenters.node import node_configuration
from openworks.protocol.errors import invalid_parameter

from .registry import Call, Params, handles, page_of, paged, project_ref

__all__: list[str] = []

# Fields of Create/UpdateFile that go to the domain as they are.
_FIELDS = (
    "FileName",
    "Content",
    "FileFolderPath",
    "CreateFolderIfNotExists",
    "FileDescription",
    "Owner",
    "AutoParsing",
    "ConnectionName",
    "AdvancedSettings",
    *SCHEDULE_DEFAULTS,
)


def _changes(p: Params) -> dict[str, Any]:
    return {key: p[key] for key in _FIELDS if key in p}


@handles("CreateFile")
def create_file(call: Call, p: Params) -> dict[str, Any]:
    file_id = files.create_file(
        call.core, call.principal, project_ref(p), p["FileType"], _changes(p)
    )
    return {"Data": file_id}


@handles("UpdateFile")
def update_file(call: Call, p: Params) -> dict[str, Any]:
    resources.update_file(call.core, call.principal, project_ref(p), p["FileId"], _changes(p))
    return {}


@handles("GetFile")
def get_file(call: Call, p: Params) -> dict[str, Any]:
    project, f = files.get_file(
        call.core, call.principal, project_ref(p), p.get("FileId"), p.get("NodeId")
    )
    summary = file_summary(f)
    summary["FileFolderId"] = folders.folder_ids(call.core, project.id, [f.folder_path]).get(
        f.folder_path
    )
    return {
        "Data": {
            "File": summary,
            "NodeConfiguration": node_configuration(project, f.name, f.config, f.auto_parsing),
            "ResourceDownloadLink": resource_download_link(
                resources.download_link(call.core, f, call.core.clock())
            ),
        }
    }


def _int_list(p: Params, name: str) -> list[int] | None:
    """A comma-separated list parameter, typed and bounded by the operation table
    (``int_list``); blank means no filter."""
    numbers: list[int] | None = p.get(name)
    return numbers or None


def _folder_filter(text: str | None) -> str | None:
    """FileFolderPath of ListFiles in canonical form (English aliases accepted)."""
    if not text:
        return None
    try:
        return parse_path(text).text
    except Invalid:
        return text


def _commit_status(p: Params) -> int | None:
    """2024's CommitStatus filter (the 2020 operation declares no such parameter, so it
    never arrives there): 0 = changed since the last commit, 1 = committed."""
    status: int | None = p.get("CommitStatus")
    if status not in (None, 0, 1):
        raise invalid_parameter("CommitStatus", "must be 0 (uncommitted) or 1 (committed)")
    return status


@handles("ListFiles")
def list_files(call: Call, p: Params) -> dict[str, Any]:
    page = page_of(p)
    flt = FileFilter(
        folder_path=_folder_filter(p.get("FileFolderPath")),
        keyword=p.get("Keyword"),
        exact_name=p.get("ExactFileName"),
        file_ids=_int_list(p, "FileIdIn"),
        file_types=_int_list(p, "FileTypes"),
        node_id=p.get("NodeId"),
        owner=p.get("Owner"),
        last_edit_user=p.get("LastEditUser"),
        use_type=p.get("UseType"),
        commit_status=_commit_status(p),
    )
    found, total = files.list_files(call.core, call.principal, project_ref(p), flt, page)
    need_content = bool(p.get("NeedContent"))
    need_path = bool(p.get("NeedAbsoluteFolderPath"))
    items = []
    paths = [f.folder_path for f in found]
    ids = folders.folder_ids(call.core, found[0].project_id, paths) if found else {}
    for f in found:
        item = file_summary(f)
        item["FileFolderId"] = ids.get(f.folder_path)
        item["Content"] = f.content if need_content else None
        item["AbsoluteFolderPath"] = f.folder_path if need_path else None
        items.append(item)
    return {"Data": paged("Files", items, page, total)}


@handles("DeleteFile")
def delete_file(call: Call, p: Params) -> dict[str, Any]:
    package_id = packages.delete_file(call.core, call.principal, project_ref(p), p["FileId"])
    return {"DeploymentId": package_id}


@handles("ListFileVersions")
def list_file_versions(call: Call, p: Params) -> dict[str, Any]:
    page = page_of(p)
    f, versions, total = files.list_versions(
        call.core, call.principal, project_ref(p), p["FileId"], page
    )
    return {"Data": paged("FileVersions", [file_version(f, v) for v in versions], page, total)}


@handles("GetFileVersion")
def get_file_version(call: Call, p: Params) -> dict[str, Any]:
    f, v = files.get_version(
        call.core, call.principal, project_ref(p), p["FileId"], p["FileVersion"]
    )
    return {"Data": file_version(f, v)}
