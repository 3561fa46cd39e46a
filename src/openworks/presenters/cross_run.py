"""Wire documents of cross-workspace deployment (API 2024-05-18, ``{Success, Data}``)."""

from __future__ import annotations

from typing import Any

from openworks.core.cross_model import CrossItem, CrossRun, Environment
from openworks.core.cross_runs import Candidate
from openworks.core.model import Project

__all__ = ["candidate", "environment", "item", "run"]


def environment(env: Environment, target: Project | None) -> dict[str, Any]:
    return {
        "DeploymentEnvironmentId": env.id,
        "Name": env.name,
        "SourceProjectId": env.source_project_id,
        "TargetProjectId": env.target_project_id,
        "TargetProjectName": target.identifier if target is not None else "",
        "Status": env.status,
    }


def run(r: CrossRun) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "PipelineRunId": r.id,
        "DeploymentEnvironmentId": r.environment_id,
        "Status": r.status,
        "ObjectId": str(r.object_id),
        "ObjectName": r.object_name,
        "ObjectType": r.object_type,
        "ObjectVersion": r.object_version,
        "ChangeType": r.change_type,
        "Description": r.description,
        "Creator": r.creator,
        "CreateTime": r.create_time,
        "ErrorCode": r.error_code,
        "ErrorMessage": r.error_message,
    }
    for key, value in (
        ("Executor", r.executor),
        ("ExecuteTime", r.execute_time),
        ("FinishTime", r.finish_time),
        ("Abolisher", r.abolisher),
        ("AbolishTime", r.abolish_time),
    ):
        if value:
            doc[key] = value
    return doc


def item(i: CrossItem) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "ObjectId": str(i.object_id),
        "ObjectName": i.name,
        "ObjectType": i.object_type,
        "ObjectVersion": str(i.version) if i.version is not None else "",
        "ChangeType": i.change_type,
        "IsRoot": i.is_root,
        "Status": i.status,
        "ErrorCode": i.error_code,
        "ErrorMessage": i.error_message,
    }
    if i.parent_id is not None:
        doc["ParentObjectId"] = str(i.parent_id)
    return doc


def candidate(c: Candidate) -> dict[str, Any]:
    return {
        "ObjectId": str(c.object_id),
        "ObjectName": c.name,
        "ObjectType": c.object_type,
        "ObjectVersion": str(c.version) if c.version is not None else "",
        "ChangeType": c.change_type,
        "CommitTime": c.commit_time,
        "CommitUser": c.commit_user,
    }
