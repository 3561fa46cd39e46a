"""2024-05-18 function operations (group ``function``): UDFs in FlowSpec.

A function IS a 2020 function file (FileType 17, :mod:`openworks.core.functions`); its
``Id`` is the decimal FileId and it names the resources it needs::

    CreateFunction(Spec) ─▶ Id        GetFunction ─▶ Function{…, Spec}
    UpdateFunction(Id, Spec) ─▶ Success
    ListFunctions(Name, Owner, Type) ─▶ PagingInfo{Functions[…], PageNumber…}
    DeleteFunction / MoveFunction(Path) / RenameFunction(Name) ─▶ Success
"""

from __future__ import annotations

from typing import Any

from openworks.core import functions, spec_resources
from openworks.core.errors import Invalid
from openworks.core.flowspec_objects import FUNCTION_TYPES, function_record
from openworks.core.model import File
from openworks.presenters.flowspec import function_spec, function_summary, object_entry

from ..registry import Call, Params, handles, page_of, paged, project_ref

__all__: list[str] = []

V2024 = "2024-05-18"
_MAX_PAGE = 100
_KIND = "Function"


@handles("CreateFunction", version=V2024)
def create_function(call: Call, p: Params) -> dict[str, Any]:
    number = functions.create_function(call.core, call.principal, project_ref(p), p["Spec"])
    return {"Id": str(number)}


@handles("GetFunction", version=V2024)
def get_function(call: Call, p: Params) -> dict[str, Any]:
    project, f = spec_resources.get_object(
        call.core, call.principal, project_ref(p), p["Id"], _KIND
    )
    return {"Function": {**object_entry(project, f), "Spec": function_spec(f)}}


@handles("UpdateFunction", version=V2024)
def update_function(call: Call, p: Params) -> dict[str, Any]:
    functions.update_function(call.core, call.principal, project_ref(p), p["Id"], p["Spec"])
    return {"Success": True}


@handles("ListFunctions", version=V2024)
def list_functions(call: Call, p: Params) -> dict[str, Any]:
    wanted = (p.get("Type") or "").strip().upper()
    if wanted and wanted not in FUNCTION_TYPES:
        raise Invalid(
            "Invalid.Param", "Type must be Math, Aggregate, String, Date, Analytic or Other."
        )

    def accept(f: File) -> bool:
        return not wanted or function_record(f.config).get("functionType") == wanted

    query = spec_resources.ObjectQuery(name=p.get("Name"), owner=p.get("Owner"), accept=accept)
    page = page_of(p, max_size=_MAX_PAGE)
    project, found, total = spec_resources.list_objects(
        call.core, call.principal, project_ref(p), _KIND, query, page
    )
    return {
        "PagingInfo": paged("Functions", [function_summary(project, f) for f in found], page, total)
    }


@handles("DeleteFunction", version=V2024)
def delete_function(call: Call, p: Params) -> dict[str, Any]:
    spec_resources.delete_object(call.core, call.principal, project_ref(p), p["Id"], _KIND)
    return {"Success": True}


@handles("MoveFunction", version=V2024)
def move_function(call: Call, p: Params) -> dict[str, Any]:
    spec_resources.move_object(
        call.core,
        call.principal,
        project_ref(p),
        p["Id"],
        _KIND,
        p["Path"],
        functions.function_writer(call.principal),
        functions.render,
    )
    return {"Success": True}


@handles("RenameFunction", version=V2024)
def rename_function(call: Call, p: Params) -> dict[str, Any]:
    spec_resources.rename_object(
        call.core,
        call.principal,
        project_ref(p),
        p["Id"],
        _KIND,
        p["Name"],
        functions.function_writer(call.principal),
        functions.render,
    )
    return {"Success": "true"}
