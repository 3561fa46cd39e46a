"""Wire documents of 2024 snapshots (committed file versions, :mod:`openworks.core.snapshots`).

::

    ListSnapshots entry {Id, Namespace, ObjectId, Type, Version, Comment, Creator, CreateTime}
    GetSnapshot          the same + Content {Content, Spec, StageCode}, ContentUrl (null)

``Id`` is ``"<ObjectId>:<Version>"``, ``Namespace`` the workspace id, ``Creator`` and
``CreateTime`` the version's commit user and time (ms). ``Spec`` is the version as
FlowSpec of its kind — ``Resource`` for a resource file, ``Function`` for a function, else
``Node`` (:func:`openworks.presenters.flowspec.version_spec`) — ``Content`` its script.
"""

from __future__ import annotations

from typing import Any

from openworks.core.flowspec_objects import (
    FUNCTION_FILE_TYPE,
    object_text,
    render_function,
    render_resource,
)
from openworks.core.model import FileVersion, Project
from openworks.core.resources import is_resource
from openworks.core.snapshots import snapshot_id, snapshot_type, stage_code

from .flowspec import version_spec

__all__ = ["snapshot", "snapshot_summary"]


def snapshot_summary(project: Project, v: FileVersion) -> dict[str, Any]:
    """A ListSnapshots entry."""
    return {
        "Id": snapshot_id(v),
        "Namespace": str(project.id),
        "ObjectId": str(v.file_id),
        "Type": snapshot_type(v),
        "Version": v.version,
        "Comment": v.comment,
        "Creator": v.commit_user,
        "CreateTime": v.commit_time,
    }


def _spec(project: Project, v: FileVersion) -> str:
    if is_resource(v.file_type):
        return object_text("Resource", render_resource(v, v.file_id), v.config)
    if v.file_type == FUNCTION_FILE_TYPE:
        return object_text("Function", render_function(v, v.file_id), v.config)
    return version_spec(project, v)


def snapshot(project: Project, v: FileVersion) -> dict[str, Any]:
    """GetSnapshot's ``Snapshot``: the entry with its content (never a ContentUrl)."""
    return {
        **snapshot_summary(project, v),
        "Content": {
            "Content": v.content,
            "Spec": _spec(project, v),
            "StageCode": stage_code(v),
        },
        "ContentUrl": None,
    }
