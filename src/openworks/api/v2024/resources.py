"""2024-05-18 resource operations (group ``resource``): resources in FlowSpec.

A resource IS a 2020 resource file (FileType 12-15, :mod:`openworks.core.spec_resources`);
its ``Id`` is the decimal FileId, its bytes live in the blob store::

    CreateResource(Spec, ResourceFile) ─▶ Id     GetResource ─▶ Resource{…, Spec}
    UpdateResource(Id, Spec, ResourceFile) ─▶ Success
    ListResources(Name, Owner, Type) ─▶ PagingInfo{Resources[…], PageNumber…}
    DeleteResource / MoveResource(Path) / RenameResource(Name) ─▶ Success
"""

from __future__ import annotations

from typing import Any

from openworks.core import resources, spec_resources
from openworks.core.errors import Invalid
from openworks.core.flowspec_objects import RESOURCE_TYPE_NAMES
from openworks.presenters.flowspec import object_entry, resource_spec, resource_summary

from ..registry import Call, Params, handles, page_of, paged, project_ref

__all__: list[str] = []

V2024 = "2024-05-18"
_MAX_PAGE = 100
_KIND = "Resource"
_TYPES = {name: code for code, name in RESOURCE_TYPE_NAMES.items()}


@handles("CreateResource", version=V2024)
def create_resource(call: Call, p: Params) -> dict[str, Any]:
    number = spec_resources.create_resource(
        call.core, call.principal, project_ref(p), p["Spec"], p.get("ResourceFile")
    )
    return {"Id": str(number)}


@handles("GetResource", version=V2024)
def get_resource(call: Call, p: Params) -> dict[str, Any]:
    project, f = spec_resources.get_object(
        call.core, call.principal, project_ref(p), p["Id"], _KIND
    )
    link = resources.download_link(call.core, f, call.core.clock())
    return {"Resource": {**object_entry(project, f), "Spec": resource_spec(f, link)}}


@handles("UpdateResource", version=V2024)
def update_resource(call: Call, p: Params) -> dict[str, Any]:
    spec_resources.update_resource(
        call.core, call.principal, project_ref(p), p["Id"], p["Spec"], p.get("ResourceFile")
    )
    return {"Success": True}


@handles("ListResources", version=V2024)
def list_resources(call: Call, p: Params) -> dict[str, Any]:
    wanted = p.get("Type")
    types = None
    if wanted:
        code = _TYPES.get(wanted.strip().lower())
        if code is None:
            raise Invalid("Invalid.Param", "Type must be Python, Jar, Archive or File.")
        types = (code,)
    query = spec_resources.ObjectQuery(name=p.get("Name"), owner=p.get("Owner"), file_types=types)
    page = page_of(p, max_size=_MAX_PAGE)
    project, found, total = spec_resources.list_objects(
        call.core, call.principal, project_ref(p), _KIND, query, page
    )
    return {
        "PagingInfo": paged("Resources", [resource_summary(project, f) for f in found], page, total)
    }


@handles("DeleteResource", version=V2024)
def delete_resource(call: Call, p: Params) -> dict[str, Any]:
    spec_resources.delete_object(call.core, call.principal, project_ref(p), p["Id"], _KIND)
    return {"Success": True}


@handles("MoveResource", version=V2024)
def move_resource(call: Call, p: Params) -> dict[str, Any]:
    write = spec_resources.resource_writer(call.core, call.principal)
    spec_resources.move_object(
        call.core,
        call.principal,
        project_ref(p),
        p["Id"],
        _KIND,
        p["Path"],
        write,
        spec_resources.render,
    )
    return {"Success": True}


@handles("RenameResource", version=V2024)
def rename_resource(call: Call, p: Params) -> dict[str, Any]:
    write = spec_resources.resource_writer(call.core, call.principal)
    spec_resources.rename_object(
        call.core,
        call.principal,
        project_ref(p),
        p["Id"],
        _KIND,
        p["Name"],
        write,
        spec_resources.render,
    )
    return {"Success": True}
