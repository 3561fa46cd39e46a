"""2024-05-18 snapshot operations (group ``snapshot``): the version history of an object.

A snapshot IS a committed 2020 file version (:mod:`openworks.core.snapshots`)::

    ListSnapshots(Namespace = workspace id, ObjectId = FileId, Type, paging)
        ─▶ PagingInfo{Snapshots[…], PageNumber, PageSize, TotalCount}   (newest first)
    GetSnapshot(Id = "<FileId>:<version>") ─▶ Snapshot{…, Content{Content, Spec, StageCode}}

Neither names a ProjectId: the object's workspace is checked inside the core call.
"""

from __future__ import annotations

from typing import Any

from openworks.core import snapshots
from openworks.presenters.snapshot import snapshot, snapshot_summary

from ..registry import Call, Params, handles, page_of, paged

__all__: list[str] = []

V2024 = "2024-05-18"
_MAX_PAGE = 100


@handles("ListSnapshots", version=V2024)
def list_snapshots(call: Call, p: Params) -> dict[str, Any]:
    page = page_of(p, max_size=_MAX_PAGE)
    found = snapshots.list_snapshots(
        call.core, call.principal, p["Namespace"], p["ObjectId"], p["Type"], page
    )
    return {
        "PagingInfo": paged(
            "Snapshots",
            [snapshot_summary(found.project, v) for v in found.versions],
            page,
            found.total,
        )
    }


@handles("GetSnapshot", version=V2024)
def get_snapshot(call: Call, p: Params) -> dict[str, Any]:
    project, version = snapshots.get_snapshot(call.core, call.principal, p["Id"])
    return {"Snapshot": snapshot(project, version)}
