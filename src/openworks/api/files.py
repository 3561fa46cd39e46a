"""File operations: CreateFile, UpdateFile, GetFile, ListFiles, DeleteFile, and versions."""

from __future__ import annotations

from typing import Any

import orjson

from openworks.core import files, folders, packages
from openworks.core.errors import Invalid
from openworks.core.files import SCHEDULE_DEFAULTS, split_names
from openworks.core.folder_paths import parse_path
from openworks.core.model import File, FileVersion, Project
from openworks.core.ports import FileFilter

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
    files.update_file(call.core, call.principal, project_ref(p), p["FileId"], _changes(p))
    return {}


def _json_list(text: str | None) -> list[Any]:
    if not text:
        return []
    value = orjson.loads(text)
    return value if isinstance(value, list) else [value]


def _str_bool(value: Any) -> str | None:
    return None if value is None else ("true" if value else "false")


def file_summary(f: File) -> dict[str, Any]:
    return {
        "AutoParsing": f.auto_parsing,
        "BizId": f.business_id,
        "BusinessId": f.business_id,
        "CommitStatus": f.commit_status,
        "ConnectionName": f.connection_name,
        "Content": f.content,
        "CreateTime": f.create_time,
        "CreateUser": f.create_user,
        "CurrentVersion": f.current_version,
        "DeletedStatus": f.deleted_status,
        "FileDescription": f.description,
        "FileFolderId": None,
        "FileId": f.id,
        "FileName": f.name,
        "FileType": f.file_type,
        "IsMaxCompute": False,
        "LastEditTime": f.last_edit_time,
        "LastEditUser": f.last_edit_user,
        "NodeId": f.node_id,
        "Owner": f.owner,
        "ParentId": f.parent_id,
        "UseType": f.use_type,
        "AdvancedSettings": f.advanced_settings,
    }


def node_configuration(project: Project, f: File) -> dict[str, Any]:
    c = f.config
    parse = "AUTO" if f.auto_parsing else "MANUAL"
    return {
        "ApplyScheduleImmediately": _str_bool(c.get("ApplyScheduleImmediately")),
        "AutoRerunIntervalMillis": c.get("AutoRerunIntervalMillis"),
        "AutoRerunTimes": c.get("AutoRerunTimes"),
        "CronExpress": c.get("CronExpress"),
        "CycleType": c.get("CycleType"),
        "DependentNodeIdList": c.get("DependentNodeIdList"),
        "DependentType": c.get("DependentType"),
        "EndEffectDate": c.get("EndEffectDate"),
        "IgnoreParentSkipRunningProperty": _str_bool(c.get("IgnoreParentSkipRunningProperty")),
        "ImageId": c.get("ImageId"),
        "InputList": [
            {"Input": name, "ParseType": parse} for name in split_names(c.get("InputList"))
        ],
        "InputParameters": _json_list(c.get("InputParameters")),
        "OutputList": [
            {"Output": name, "RefTableName": None}
            for name in packages.node_outputs(project, f.name, c)
        ],
        "OutputParameters": _json_list(c.get("OutputParameters")),
        "ParaValue": c.get("ParaValue"),
        "RerunMode": c.get("RerunMode"),
        "ResourceGroupId": c.get("ResourceGroupId"),
        "SchedulerType": c.get("SchedulerType"),
        "StartEffectDate": c.get("StartEffectDate"),
        "StartImmediately": c.get("StartImmediately"),
        "Stop": c.get("Stop"),
        "Timeout": c.get("Timeout"),
    }


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
            "NodeConfiguration": node_configuration(project, f),
            "ResourceDownloadLink": {"downloadLink": None},
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


def _camel(key: str) -> str:
    return key[:1].lower() + key[1:]


def version_document(f: File, v: FileVersion) -> dict[str, Any]:
    properties = {
        "fileName": v.name,
        "fileType": v.file_type,
        "fileFolderPath": v.folder_path,
        "owner": v.owner,
        "fileDescription": v.description,
    }
    return {
        "ChangeType": v.change_type,
        "Comment": v.comment,
        "CommitTime": v.commit_time,
        "CommitUser": v.commit_user,
        "FileContent": v.content,
        "FileName": v.name,
        "FilePropertyContent": orjson.dumps(properties).decode(),
        "FileVersion": v.version,
        "IsCurrentProd": f.prod_version == v.version,
        "NodeContent": orjson.dumps({_camel(k): val for k, val in v.config.items()}).decode(),
        "NodeId": v.node_id,
        "Status": v.status,
        "UseType": v.use_type,
    }


@handles("ListFileVersions")
def list_file_versions(call: Call, p: Params) -> dict[str, Any]:
    page = page_of(p)
    f, versions, total = files.list_versions(
        call.core, call.principal, project_ref(p), p["FileId"], page
    )
    return {"Data": paged("FileVersions", [version_document(f, v) for v in versions], page, total)}


@handles("GetFileVersion")
def get_file_version(call: Call, p: Params) -> dict[str, Any]:
    f, v = files.get_version(
        call.core, call.principal, project_ref(p), p["FileId"], p["FileVersion"]
    )
    return {"Data": version_document(f, v)}
