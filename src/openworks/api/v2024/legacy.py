"""2024-05-18: the 2020 DataStudio file and package operations this version still carries.

Wire-identical to 2020 (the overlay gives them their 2020 lines), so the 2020 handler
functions are registered again for 2024-05-18, one line each. Two package reads are
renamed, one is new::

    GetDeploymentPackage        = GetDeployment   (api/deployments.py)
    ListDeploymentPackages      = ListDeployments
    ListDeploymentPackageFiles    one row per package item (presenters/package_files.py)
    ListFiles                     2020's handler; 2024 declares CommitStatus (0/1) too
"""

from __future__ import annotations

import calendar
import time
from typing import Any

from openworks.core.package_file_model import PackageFileFilter
from openworks.core.package_files import list_package_files
from openworks.presenters.package_files import CHANGE_TYPE_CODE, package_file
from openworks.protocol.errors import invalid_parameter

from .. import deployments, extensions, files, folders, functions, resources
from ..registry import Call, Params, handles, page_of, paged, project_ref

__all__: list[str] = []

V = "2024-05-18"
_DAY_MS = 86_400_000

handles("SubmitFile", version=V)(deployments.submit_file)
handles("DeployFile", version=V)(deployments.deploy_file)
handles("GetDeploymentPackage", version=V)(deployments.get_deployment)
handles("ListDeploymentPackages", version=V)(deployments.list_deployments)
handles("CreateFile", version=V)(files.create_file)
handles("UpdateFile", version=V)(files.update_file)
handles("GetFile", version=V)(files.get_file)
handles("ListFiles", version=V)(files.list_files)
handles("DeleteFile", version=V)(files.delete_file)
handles("ListFileVersions", version=V)(files.list_file_versions)
handles("GetFileVersion", version=V)(files.get_file_version)
handles("CreateFolder", version=V)(folders.create_folder)
handles("UpdateFolder", version=V)(folders.update_folder)
handles("GetFolder", version=V)(folders.get_folder)
handles("ListFolders", version=V)(folders.list_folders)
handles("DeleteFolder", version=V)(folders.delete_folder)
handles("CreateBusiness", version=V)(folders.create_business)
handles("GetBusiness", version=V)(folders.get_business)
handles("ListBusiness", version=V)(folders.list_business)
handles("UpdateBusiness", version=V)(folders.update_business)
handles("DeleteBusiness", version=V)(folders.delete_business)
handles("GetIDEEventDetail", version=V)(extensions.get_ide_event_detail)
handles("UpdateIDEEventResult", version=V)(extensions.update_ide_event_result)
handles("CreateResourceFile", version=V)(resources.create_resource_file)
handles("CreateUdfFile", version=V)(functions.create_udf_file)
handles("UpdateUdfFile", version=V)(functions.update_udf_file)
handles("EstablishRelationTableToBusiness", version=V)(folders.establish_relation_table_to_business)

_CHANGE_TYPE_NAME = {code: name for name, code in CHANGE_TYPE_CODE.items()}


def _day(p: Params, name: str) -> int | None:
    """A ``yyyy-MM-dd`` date parameter as the milliseconds of its midnight (UTC)."""
    text: str | None = p.get(name)
    if not text:
        return None
    try:
        day = time.strptime(text, "%Y-%m-%d")
    except ValueError:
        raise invalid_parameter(name, "must be a date as yyyy-MM-dd") from None
    return calendar.timegm(day) * 1000


def _file_ids(p: Params) -> list[int]:
    ids: list[str] = p.get("FileIds") or []
    if not all(i.isascii() and i.isdigit() and len(i) <= 18 for i in ids):
        raise invalid_parameter("FileIds", "must be a JSON array of file IDs (digits)")
    return [int(i) for i in ids]


def _change_type(p: Params) -> str | None:
    code: int | None = p.get("ChangeType")
    if code is None:
        return None
    if code not in _CHANGE_TYPE_NAME:
        raise invalid_parameter("ChangeType", "must be 0 (added), 1 (updated) or 2 (deleted)")
    return _CHANGE_TYPE_NAME[code]


@handles("ListDeploymentPackageFiles", version=V)
def list_deployment_package_files(call: Call, p: Params) -> dict[str, Any]:
    page = page_of(p)
    until = _day(p, "CommitTo")
    flt = PackageFileFilter(
        file_ids=_file_ids(p),
        file_name=p.get("FileName"),
        file_type=p.get("FileType"),
        change_type=_change_type(p),
        commit_user=p.get("CommitUserId"),
        commit_from=_day(p, "CommitFrom"),
        commit_to=None if until is None else until + _DAY_MS,
        business_id=p.get("BusinessId"),
    )
    project, found, total = list_package_files(call.core, call.principal, project_ref(p), flt, page)
    if p.get("SolutionId") is not None:  # openworks has no solutions: nothing is in one
        found, total = [], 0
    rows = [package_file(project, row) for row in found]
    return {"PagingInfo": paged("DeploymentPackageFiles", rows, page, total)}
