"""Folder, workflow and file-type operations.

CreateFolder, UpdateFolder, GetFolder, ListFolders, DeleteFolder; CreateBusiness,
GetBusiness, ListBusiness, UpdateBusiness, DeleteBusiness; ListFileType;
EstablishRelationTableToBusiness (a table shown in a workflow, core/table_relations.py).
"""

from __future__ import annotations

from typing import Any

from openworks.core import folders, table_relations
from openworks.core.access import resolve_project
from openworks.core.filetypes import localized
from openworks.core.folder_model import Business, Folder

from .registry import Call, Params, handles, page_of, paged, project_ref

__all__: list[str] = []


def _folder(f: Folder) -> dict[str, Any]:
    return {"FolderId": f.id, "FolderPath": f.path}


@handles("CreateFolder")
def create_folder(call: Call, p: Params) -> dict[str, Any]:
    folder_id = folders.create_folder(call.core, call.principal, project_ref(p), p["FolderPath"])
    return {"Data": folder_id}


@handles("GetFolder")
def get_folder(call: Call, p: Params) -> dict[str, Any]:
    found = folders.get_folder(
        call.core, call.principal, project_ref(p), p.get("FolderId"), p.get("FolderPath")
    )
    return {"Data": _folder(found)}


@handles("ListFolders")
def list_folders(call: Call, p: Params) -> dict[str, Any]:
    page = page_of(p)
    found, total = folders.list_folders(
        call.core, call.principal, project_ref(p), p["ParentFolderPath"], page
    )
    return {"Data": paged("Folders", [_folder(f) for f in found], page, total)}


@handles("UpdateFolder")
def update_folder(call: Call, p: Params) -> dict[str, Any]:
    folders.update_folder(call.core, call.principal, project_ref(p), p["FolderId"], p["FolderName"])
    return {}


@handles("DeleteFolder")
def delete_folder(call: Call, p: Params) -> dict[str, Any]:
    folders.delete_folder(call.core, call.principal, project_ref(p), p["FolderId"])
    return {}


def _business(b: Business, project_id: int | str) -> dict[str, Any]:
    return {
        "BusinessId": b.id,
        "BusinessName": b.name,
        "Description": b.description,
        "Owner": b.owner,
        "ProjectId": project_id,
        "UseType": b.use_type,
    }


@handles("CreateBusiness")
def create_business(call: Call, p: Params) -> dict[str, Any]:
    business_id = folders.create_business(
        call.core,
        call.principal,
        project_ref(p),
        p["BusinessName"],
        p.get("Description"),
        p.get("Owner"),
        p.get("UseType"),
    )
    return {"BusinessId": business_id}


@handles("GetBusiness")
def get_business(call: Call, p: Params) -> dict[str, Any]:
    b = folders.get_business(call.core, call.principal, project_ref(p), p["BusinessId"])
    # The contract types GetBusiness.Data.ProjectId as a string (ListBusiness: an integer).
    return {"Data": _business(b, str(b.project_id))}


@handles("ListBusiness")
def list_business(call: Call, p: Params) -> dict[str, Any]:
    page = page_of(p)
    found, total = folders.list_business(
        call.core, call.principal, project_ref(p), p.get("Keyword"), page
    )
    return {"Data": paged("Business", [_business(b, b.project_id) for b in found], page, total)}


@handles("UpdateBusiness")
def update_business(call: Call, p: Params) -> dict[str, Any]:
    folders.update_business(
        call.core,
        call.principal,
        project_ref(p),
        p["BusinessId"],
        p.get("BusinessName"),
        p.get("Description"),
        p.get("Owner"),
    )
    return {}


@handles("DeleteBusiness")
def delete_business(call: Call, p: Params) -> dict[str, Any]:
    folders.delete_business(call.core, call.principal, project_ref(p), p["BusinessId"])
    return {}


@handles("EstablishRelationTableToBusiness")
def establish_relation_table_to_business(call: Call, p: Params) -> dict[str, Any]:
    table_relations.establish(
        call.core,
        call.principal,
        project_ref(p),
        p["BusinessId"],
        p.get("FolderId"),
        p["TableGuid"],
    )
    return {}


@handles("ListFileType")
def list_file_type(call: Call, p: Params) -> dict[str, Any]:
    page = page_of(p)
    with call.core.store.transaction() as tx:
        resolve_project(tx, call.principal, project_ref(p))
    rows = localized(p.get("Locale"), p.get("Keyword"))
    chosen = rows[page.offset : page.offset + page.size]
    return {
        "NodeTypeInfoList": paged(
            "NodeTypeInfo",
            [{"NodeType": code, "NodeTypeName": name} for code, name in chosen],
            page,
            len(rows),
        )
    }
