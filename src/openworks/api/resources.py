"""CreateResourceFile (2020-05-18): a file of FileType 12-15 whose bytes go to the blob
store (core/resources.py); GetFile's ``ResourceDownloadLink`` serves them back."""

from __future__ import annotations

from typing import Any

from openworks.core import resources

from .registry import Call, Params, handles, project_ref

__all__: list[str] = []

_FIELDS = ("FileName", "FileFolderPath", "FileDescription", "Owner")


@handles("CreateResourceFile")
def create_resource_file(call: Call, p: Params) -> dict[str, Any]:
    changes = {key: p[key] for key in _FIELDS if key in p}
    resource = resources.ResourceInput(
        origin_name=p["OriginResourceName"],
        register_to_calc_engine=bool(p["RegisterToCalcEngine"]),
        content=p.get("Content"),
        resource_file=p.get("ResourceFile"),
        storage_url=p.get("StorageURL"),
        upload_mode=p.get("UploadMode"),
    )
    file_id = resources.create_resource_file(
        call.core, call.principal, project_ref(p), p["FileType"], changes, resource
    )
    return {"Data": file_id}
