"""A workspace (DataWorks calls it a project): GetProject, ListProjects and the CLI's
``openworks workspaces list|show``."""

from __future__ import annotations

import time
from typing import Any

from openworks.core.member_model import Member
from openworks.core.model import Project
from openworks.protocol.params import INT64_RANGE

from .labels import WORKSPACE_MODE

__all__ = [
    "listed_project",
    "member_entry",
    "mode_name",
    "project_document",
    "tenant_id",
    "workspace_details",
    "workspace_summary",
]


def _gmt(ms: int) -> str:
    # DataWorks renders these as RFC 1123 dates, e.g. "Tue, 16 Jun 2020 03:10:19 GMT".
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(ms / 1000))


def _iso(ms: int) -> str | None:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000)) if ms else None


def tenant_id(account_id: str) -> int | None:
    """A numeric account id as the Long TenantId; other ids (or out of range) are null."""
    if not (account_id.isascii() and account_id.isdigit()) or len(account_id) > 19:
        return None
    number = int(account_id)
    return number if number <= INT64_RANGE[1] else None


def project_document(p: Project) -> dict[str, Any]:
    """GetProject's ``Data``."""
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
        "TenantId": tenant_id(p.account_id),
        "UseProxyOdpsAccount": True,
    }


def listed_project(p: Project) -> dict[str, Any]:
    """One entry of ListProjects' ``ProjectList``: GetProject's fields plus the status."""
    return {
        **project_document(p),
        "ProjectStatus": p.status,
        "ProjectStatusCode": "AVAILABLE" if p.status == 0 else "DELETED",
    }


def mode_name(p: Project) -> str:
    return WORKSPACE_MODE.get(p.mode, str(p.mode))


def workspace_summary(p: Project) -> dict[str, Any]:
    """``openworks workspaces list --json``: the fields that find a workspace."""
    return {
        "ProjectId": p.id,
        "ProjectIdentifier": p.identifier,
        "ProjectName": p.name,
        "ProjectMode": p.mode,
        "Mode": mode_name(p),
        "EnvTypes": p.env_types,
        "ProjectOwnerBaseId": p.owner_id,
    }


def member_entry(m: Member) -> dict[str, Any]:
    """One entry of ``Members`` in ``openworks workspaces show``."""
    return {
        "UserId": m.user.id,
        "UserName": m.user.name,
        "Roles": sorted(m.roles),
        "Disabled": m.user.disabled,
    }


def workspace_details(
    p: Project, members: list[Member], settings: dict[str, str]
) -> dict[str, Any]:
    """``openworks workspaces show``: the summary, description, status, tags, creation
    time, members and effective settings."""
    return {
        **workspace_summary(p),
        "ProjectDescription": p.description,
        "Status": p.status,
        "Tags": p.tags,
        "CreateTime": _iso(p.create_time),
        "Members": [member_entry(m) for m in members],
        "Settings": settings,
    }
