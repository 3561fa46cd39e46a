"""Workspace operations: CreateProject, GetProject, ListProjects."""

from __future__ import annotations

import time
from typing import Any

from openworks.core import projects
from openworks.core.model import Project
from openworks.protocol.params import INT64_RANGE

from .registry import Call, Params, handles, page_of, paged, project_ref

__all__: list[str] = []


def _gmt(ms: int) -> str:
    # DataWorks renders these as RFC 1123 dates, e.g. "Tue, 16 Jun 2020 03:10:19 GMT".
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(ms / 1000))


def _tenant_id(account_id: str) -> int | None:
    """A numeric account id as the Long TenantId; other ids (or out of range) are null."""
    if not (account_id.isascii() and account_id.isdigit()) or len(account_id) > 19:
        return None
    number = int(account_id)
    return number if number <= INT64_RANGE[1] else None


def project_document(p: Project) -> dict[str, Any]:
    return {
        "Appkey": None,
        "BaseProject": False,
        "DefaultDiResourceGroupIdentifier": None,
        "Destination": 2,
        "DevStorageQuota": None,
        "DevelopmentType": 4,
        "DisableDevelopment": p.disable_development,
        "EnvTypes": p.env_types,
        "GmtCreate": _gmt(p.create_time),
        "GmtModified": _gmt(p.modify_time),
        "IsAllowDownload": p.is_allow_download,
        "IsDefault": 0,
        "MaxFlowNode": 500,
        "ProdStorageQuota": None,
        "ProjectDescription": p.description,
        "ProjectId": p.id,
        "ProjectIdentifier": p.identifier,
        "ProjectMode": p.mode,
        "ProjectName": p.name,
        "ProjectOwnerBaseId": p.owner_id,
        "ProtectedMode": 0,
        "ResidentArea": "private",
        "ResourceManagerResourceGroupId": p.resource_group_id,
        "SchedulerMaxRetryTimes": 3,
        "SchedulerRetryInterval": 120_000,
        "Status": p.status,
        "TablePrivacyMode": 0,
        "Tags": p.tags,
        "TenantId": _tenant_id(p.account_id),
        "UseProxyOdpsAccount": True,
    }


@handles("CreateProject")
def create_project(call: Call, p: Params) -> dict[str, Any]:
    spec = projects.NewProject(
        identifier=p["ProjectIdentifier"],
        name=p["ProjectName"],
        mode=p.get("ProjectMode"),
        description=p.get("ProjectDescription"),
        disable_development=p.get("DisableDevelopment"),
        is_allow_download=p.get("IsAllowDownload"),
        resource_group_id=p.get("ResourceManagerResourceGroupId"),
        tags=p.get("Tags") or (),
        client_token=p.get("ClientToken"),
    )
    return {"Data": projects.create_project(call.core, call.principal, spec)}


@handles("GetProject")
def get_project(call: Call, p: Params) -> dict[str, Any]:
    project = projects.get_project(call.core, call.principal, project_ref(p))
    return {"Data": project_document(project)}


@handles("ListProjects")
def list_projects(call: Call, p: Params) -> dict[str, Any]:
    page = page_of(p)
    found, total = projects.list_projects(call.core, call.principal, page, p.get("Tags") or ())
    listed = [
        {
            **project_document(x),
            "ProjectStatus": x.status,
            "ProjectStatusCode": "AVAILABLE" if x.status == 0 else "DELETED",
        }
        for x in found
    ]
    return {"PageResult": paged("ProjectList", listed, page, total)}
