"""DataStudio files: the working copy, and reading committed versions.

A file's working copy changes freely (CreateFile, UpdateFile); every change marks it
uncommitted (``commit_status`` 0). Committing, deploying and deleting live in
:mod:`openworks.core.packages`, because each of them creates a deployment package.

Changes arrive as a mapping of DataWorks field names (``FileName``, ``CronExpress``…) to
values; ``None`` means "not given".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .access import ProjectRef, resolve_project
from .context import Core
from .errors import Invalid, NotFound
from .filetypes import is_known
from .folders import place_file
from .model import DeletedStatus, File, FileVersion, Principal, Project
from .parsing import apply_auto_parsing
from .ports import FileFilter, Page, Tx

__all__ = [
    "SCHEDULE_DEFAULTS",
    "add_file",
    "change_file",
    "create_file",
    "find_file",
    "get_file",
    "get_version",
    "list_files",
    "list_versions",
    "split_names",
    "update_file",
]

# Node configuration fields with the value a new file gets when the caller leaves them out.
SCHEDULE_DEFAULTS: dict[str, Any] = {
    "ApplyScheduleImmediately": False,
    "AutoRerunIntervalMillis": 120_000,
    "AutoRerunTimes": 3,
    "CronExpress": "00 00 00 * * ?",
    "CycleType": "DAY",
    "DependentNodeIdList": "",
    "DependentType": "NONE",
    "EndEffectDate": 4_155_787_800_000,
    "IgnoreParentSkipRunningProperty": False,
    "ImageId": None,
    "InputList": "",
    "InputParameters": None,
    "OutputList": "",
    "OutputParameters": None,
    "ParaValue": "",
    "RerunMode": "ALL_ALLOWED",
    "ResourceGroupId": None,
    "ResourceGroupIdentifier": None,
    "SchedulerType": "NORMAL",
    "StartEffectDate": 0,
    "StartImmediately": False,
    "Stop": False,
    "Timeout": 0,
}

_CHOICES: dict[str, frozenset[str]] = {
    "CycleType": frozenset({"DAY", "NOT_DAY"}),
    "RerunMode": frozenset({"ALL_ALLOWED", "FAILURE_ALLOWED", "ALL_DENIED"}),
    "SchedulerType": frozenset({"NORMAL", "MANUAL", "PAUSE", "SKIP"}),
    "DependentType": frozenset(
        {"SELF", "CHILD", "USER_DEFINE", "NONE", "USER_DEFINE_AND_SELF", "CHILD_AND_SELF"}
    ),
}
_RANGES: dict[str, tuple[int, int]] = {
    "AutoRerunTimes": (0, 10),
    "AutoRerunIntervalMillis": (0, 1_800_000),
    "Timeout": (0, 7 * 24 * 3600),
}
_JSON_FIELDS = ("InputParameters", "OutputParameters")
_FORBIDDEN_NAME_CHARS = frozenset("/\\")


def split_names(value: str | None) -> list[str]:
    """A comma-separated list of node input or output names, trimmed, without blanks."""
    if not value:
        return []
    seen: dict[str, None] = {}
    for part in value.split(","):
        name = part.strip()
        if name:
            seen.setdefault(name, None)
    return list(seen)


def _check_name(name: str) -> None:
    if not name or len(name) > 128 or name != name.strip():
        raise Invalid("Invalid.Param", "FileName must be 1-128 characters without outer spaces.")
    if any(c in _FORBIDDEN_NAME_CHARS or ord(c) < 32 for c in name):
        raise Invalid("Invalid.Param", f"FileName {name!r} contains a forbidden character.")


def _check_schedule(changes: Mapping[str, Any]) -> None:
    for key, allowed in _CHOICES.items():
        value = changes.get(key)
        if value is not None and value not in allowed:
            raise Invalid("Invalid.Param", f"{key} must be one of {', '.join(sorted(allowed))}.")
    for key, (low, high) in _RANGES.items():
        value = changes.get(key)
        if value is not None and not low <= value <= high:
            raise Invalid("Invalid.Param", f"{key} must be between {low} and {high}.")
    cron = changes.get("CronExpress")
    if cron is not None and len(cron.split()) not in (6, 7):
        raise Invalid("Invalid.Param", f"CronExpress {cron!r} must have 6 or 7 fields.")
    for key in (*_JSON_FIELDS, "AdvancedSettings"):
        text = changes.get(key)
        if text:
            try:
                json.loads(text)
            except ValueError:
                raise Invalid("Invalid.Param", f"{key} must be JSON text.") from None


def _apply(file: File, changes: Mapping[str, Any], principal: Principal, now: int) -> None:
    _check_schedule(changes)
    simple = {
        "FileName": "name",
        "Content": "content",
        "FileDescription": "description",
        "Owner": "owner",
        "AutoParsing": "auto_parsing",
        "ConnectionName": "connection_name",
        "AdvancedSettings": "advanced_settings",
    }
    for wire, attr in simple.items():
        value = changes.get(wire)
        if value is not None:
            setattr(file, attr, value)
    for key in SCHEDULE_DEFAULTS:
        value = changes.get(key)
        if value is not None:
            file.config[key] = value
    start, end = file.config.get("StartEffectDate") or 0, file.config.get("EndEffectDate") or 0
    if start and end and start > end:
        raise Invalid("Invalid.Param", "StartEffectDate must not be later than EndEffectDate.")
    file.commit_status = 0
    file.last_edit_user = principal.user_id
    file.last_edit_time = now


def _place(
    tx: Tx,
    project: Project,
    principal: Principal,
    file: File,
    changes: Mapping[str, Any],
    now: int,
) -> None:
    """Move the file into FileFolderPath (see core/folders.py); an empty path is no change."""
    path = changes.get("FileFolderPath")
    if not path:
        return
    folder = place_file(
        tx, project, principal, path, bool(changes.get("CreateFolderIfNotExists")), now
    )
    file.folder_path, file.business_id = folder.path, folder.business_id


def _unique_name(tx: Tx, project: Project, name: str, file_id: int | None) -> None:
    other = tx.file_by_name(project.id, name)
    if other is not None and other.id != file_id:
        raise Invalid(
            "Invalid.File.NameExists",
            f"A file named {name} already exists in workspace {project.identifier} "
            f"(FileId {other.id}).",
        )


def add_file(
    tx: Tx,
    project: Project,
    principal: Principal,
    file_type: int,
    changes: Mapping[str, Any],
    now: int,
    config: Mapping[str, Any] | None = None,
) -> File:
    """Insert a new file in the caller's transaction; ``config`` adds configuration keys
    kept verbatim beside the schedule fields (the FlowSpec extras of a 2024 node)."""
    name = changes.get("FileName") or ""
    _check_name(name)
    if not is_known(file_type):
        raise Invalid("Invalid.Param", f"FileType {file_type} is not a supported file type.")
    _unique_name(tx, project, name, None)
    file = File(
        id=0,
        project_id=project.id,
        name=name,
        file_type=file_type,
        owner=principal.user_id,
        create_user=principal.user_id,
        create_time=now,
        config={**SCHEDULE_DEFAULTS, **(config or {})},
    )
    _apply(file, changes, principal, now)
    _place(tx, project, principal, file, changes, now)
    file.id = tx.insert_file(file)
    if file.auto_parsing:
        apply_auto_parsing(tx, project, file, changes, now)
        tx.update_file(file)
    return file


def create_file(
    core: Core, principal: Principal, ref: ProjectRef, file_type: int, changes: Mapping[str, Any]
) -> int:
    name = changes.get("FileName") or ""
    _check_name(name)
    if not is_known(file_type):
        raise Invalid("Invalid.Param", f"FileType {file_type} is not a supported file type.")
    now = core.clock()
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ref)
        return add_file(tx, project, principal, file_type, changes, now).id


def find_file(tx: Tx, project: Project, file_id: int | None, node_id: int | None = None) -> File:
    """The file named by FileId (or NodeId) in this workspace; deleted files included."""
    if file_id is None and node_id is None:
        raise Invalid("Invalid.Param", "Specify FileId or NodeId.")
    file = tx.file(file_id) if file_id is not None else tx.file_by_node(project.id, node_id or 0)
    if (
        file is None
        or file.project_id != project.id
        or file.deleted_status == DeletedStatus.DELETED
    ):
        what = f"FileId {file_id}" if file_id is not None else f"NodeId {node_id}"
        raise NotFound("InvalidFile.NotFound", f"The file ({what}) does not exist.")
    if node_id is not None and file.node_id != node_id:
        raise Invalid("Invalid.Param", f"FileId {file_id} and NodeId {node_id} do not match.")
    return file


def change_file(
    tx: Tx,
    project: Project,
    principal: Principal,
    file: File,
    changes: Mapping[str, Any],
    now: int,
) -> None:
    """Apply ``changes`` to a live file in the caller's transaction (UpdateFile's rules)."""
    if file.deleted_status != DeletedStatus.NORMAL:
        raise Invalid("Invalid.File.Deleted", f"The file {file.id} has been deleted.")
    if changes.get("FileName") is not None:
        _check_name(changes["FileName"])
        _unique_name(tx, project, changes["FileName"], file.id)
    _apply(file, changes, principal, now)
    _place(tx, project, principal, file, changes, now)
    apply_auto_parsing(tx, project, file, changes, now)
    tx.update_file(file)


def update_file(
    core: Core, principal: Principal, ref: ProjectRef, file_id: int, changes: Mapping[str, Any]
) -> None:
    if changes.get("FileName") is not None:
        _check_name(changes["FileName"])
    now = core.clock()
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ref)
        change_file(tx, project, principal, find_file(tx, project, file_id), changes, now)


def get_file(
    core: Core, principal: Principal, ref: ProjectRef, file_id: int | None, node_id: int | None
) -> tuple[Project, File]:
    with core.store.transaction() as tx:
        project = resolve_project(tx, principal, ref)
        return project, find_file(tx, project, file_id, node_id)


def list_files(
    core: Core, principal: Principal, ref: ProjectRef, flt: FileFilter, page: Page
) -> tuple[list[File], int]:
    if flt.file_ids is not None and len(flt.file_ids) > 50:
        raise Invalid("Invalid.Param", "FileIdIn accepts at most 50 file IDs.")
    with core.store.transaction() as tx:
        project = resolve_project(tx, principal, ref)
        return tx.list_files(project.id, flt, page)


def list_versions(
    core: Core, principal: Principal, ref: ProjectRef, file_id: int, page: Page
) -> tuple[File, list[FileVersion], int]:
    with core.store.transaction() as tx:
        project = resolve_project(tx, principal, ref)
        file = find_file(tx, project, file_id)
        versions, total = tx.list_versions(file.id, page)
        return file, versions, total


def get_version(
    core: Core, principal: Principal, ref: ProjectRef, file_id: int, version: int
) -> tuple[File, FileVersion]:
    with core.store.transaction() as tx:
        project = resolve_project(tx, principal, ref)
        file = find_file(tx, project, file_id)
        found = tx.version(file.id, version)
        if found is None:
            raise NotFound(
                "InvalidFileVersion.NotFound",
                f"The file {file_id} has no version {version}.",
            )
        return file, found
