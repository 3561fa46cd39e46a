"""CreateUdfFile / UpdateUdfFile (2020-05-18): functions (UDFs), files of FileType 17
whose ``config["Function"]`` holds ClassName, FunctionType, Resources and the
descriptions (core/functions.py); 2024 reads them as FlowSpec ``kind: Function``."""

from __future__ import annotations

from typing import Any

from openworks.core import functions

from .registry import Call, Params, handles, project_ref

__all__: list[str] = []


def _changes(p: Params) -> dict[str, Any]:
    changes = {
        "FileName": p.get("FileName"),
        "FileFolderPath": p.get("FileFolderPath"),
        "CreateFolderIfNotExists": p.get("CreateFolderIfNotExists"),
        "FileDescription": p.get("UdfDescription"),
    }
    return {k: v for k, v in changes.items() if v is not None}


@handles("CreateUdfFile")
def create_udf_file(call: Call, p: Params) -> dict[str, Any]:
    file_id = functions.create_udf_file(
        call.core, call.principal, project_ref(p), _changes(p), functions.udf_record(p)
    )
    return {"Data": file_id}


@handles("UpdateUdfFile")
def update_udf_file(call: Call, p: Params) -> dict[str, Any]:
    functions.update_udf_file(
        call.core,
        call.principal,
        project_ref(p),
        p["FileId"],
        _changes(p),
        functions.udf_record(p),
    )
    return {}
