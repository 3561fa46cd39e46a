"""The files of deployment packages as 2024 ListDeploymentPackageFiles shows them.

One entry per package item (every openworks package carries one file version)::

    Id          the package ID (GetDeploymentPackage's DeploymentId)
    Status      the package's progress in DataWorks' file-version codes:
                checks running 2, checks failed 4, approval rejected 21,
                to DEV: in flight 10, done 11; to PROD: in flight 100, done 101;
                failed 200
    ChangeType  0 CREATE, 1 UPDATE, 2 DELETE
    CommitTime  "yyyy-MM-dd HH:mm:ss" (UTC)
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from openworks.core.model import (
    ChangeType,
    CheckingStatus,
    Env,
    PackageStatus,
    Project,
)
from openworks.core.package_file_model import PackageFile

from .node import node_configuration
from .workspace import tenant_id

__all__ = ["CHANGE_TYPE_CODE", "package_file", "package_file_status"]

CHANGE_TYPE_CODE: dict[str, int] = {
    ChangeType.CREATE: 0,
    ChangeType.UPDATE: 1,
    ChangeType.DELETE: 2,
}
CHECKING, CHECK_REJECTED, REVIEW_FAILED, CANCELLED = 2, 4, 21, 200
_IN_FLIGHT: dict[int, int] = {Env.DEV: 10, Env.PROD: 100}
_DONE: dict[int, int] = {Env.DEV: 11, Env.PROD: 101}


def package_file_status(row: PackageFile) -> int:
    package = row.package
    if package.checking_status == CheckingStatus.CHECKING:
        return CHECKING
    if package.checking_status == CheckingStatus.FAILED:
        return CHECK_REJECTED
    if package.status == PackageStatus.READY:
        return _IN_FLIGHT.get(package.to_env, _IN_FLIGHT[Env.PROD])
    if package.status == PackageStatus.SUCCESS:
        return _DONE.get(package.to_env, _DONE[Env.PROD])
    if package.status == PackageStatus.REJECTED:
        return REVIEW_FAILED
    return CANCELLED


def _when(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms / 1000))


def package_file(project: Project, row: PackageFile) -> dict[str, Any]:
    """One entry of ListDeploymentPackageFiles' ``DeploymentPackageFiles``."""
    v = row.version
    configuration = node_configuration(project, v.name, v.config, row.auto_parsing)
    return {
        "ChangeType": CHANGE_TYPE_CODE.get(v.change_type),
        "Comment": v.comment,
        "CommitTime": _when(v.commit_time),
        "CommitUser": v.commit_user,
        "CommitUserName": row.commit_user_name,
        "FileId": v.file_id,
        "FileName": v.name,
        "FileType": v.file_type,
        "FileVersion": v.version,
        "Id": row.package.id,
        "IsSameAsProductionVersion": row.prod_version == v.version,
        "NodeConfiguration": orjson.dumps(configuration).decode(),
        "NodeId": v.node_id,
        "ProjectId": project.id,
        "SmokeTestStatus": None,
        "Status": package_file_status(row),
        "TenantId": tenant_id(project.account_id),
        "UseType": v.use_type,
    }
