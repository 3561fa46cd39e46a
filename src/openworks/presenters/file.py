"""A DataStudio file: GetFile/ListFiles, one committed version, and a version as an
extension's event saw it (GetIDEEventDetail).

The folder ID of a file is not a field of the file: the caller looks it up and sets
``FileFolderId`` on :func:`file_summary`'s document.
"""

from __future__ import annotations

from typing import Any

import orjson

from openworks.core.model import File, FileVersion, Project

from .node import committed_node_configuration

__all__ = [
    "committed_file",
    "deleted_file",
    "file_summary",
    "file_version",
    "resource_download_link",
]


def file_summary(f: File) -> dict[str, Any]:
    """GetFile's ``File`` and a ListFiles entry (``FileFolderId`` left to the caller)."""
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


def resource_download_link(link: str | None) -> dict[str, Any]:
    """GetFile's ``ResourceDownloadLink``: a signed link to a resource's bytes on openworks
    itself (server/downloads.py), ``None`` for a file that is not a resource."""
    return {"downloadLink": link}


def _camel(key: str) -> str:
    return key[:1].lower() + key[1:]


def file_version(f: File, v: FileVersion) -> dict[str, Any]:
    """GetFileVersion's ``Data`` and a ListFileVersions entry."""
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


def deleted_file(f: File, v: FileVersion) -> dict[str, Any]:
    """GetIDEEventDetail's ``DeletedFile``: the version that deleted the file."""
    return {
        "BusinessId": f.business_id,
        "Content": v.content,
        "CurrentVersion": v.version,
        "DataSourceName": f.connection_name,
        "FileId": f.id,
        "FileName": v.name,
        "FileType": v.file_type,
        "FolderId": v.folder_path,
        "NodeId": v.node_id,
        "Owner": v.owner,
        "ParentFileId": f.parent_id,
        "UseType": v.use_type,
    }


def committed_file(project: Project, f: File, v: FileVersion) -> dict[str, Any]:
    """GetIDEEventDetail's ``CommittedFile``: the version the event is about."""
    return {
        "ChangeType": v.change_type,
        "Comment": v.comment,
        "Committor": v.commit_user,
        "Content": v.content,
        "FileId": f.id,
        "FileName": v.name,
        "FileType": v.file_type,
        "NodeId": v.node_id,
        "UseType": v.use_type,
        "FilePropertyContent": {
            "BusinessId": f.business_id,
            "CurrentVersion": v.version,
            "DataSourceName": f.connection_name,
            "FolderId": v.folder_path,
            "Owner": v.owner,
            "ParentFileId": f.parent_id,
        },
        "NodeConfiguration": committed_node_configuration(
            project, v.name, v.config, f.auto_parsing
        ),
    }
