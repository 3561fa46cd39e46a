"""Wire documents of pipeline runs (API 2024-05-18) from :mod:`openworks.core.pipeline_runs`.

::

    Pipeline {Id, ProjectId, Creator, CreateTime, ModifyTime, Description, Message, Status,
              Stages [{Code, Name, Description, Type, Step, Status, Message, Detail}]}
    PipelineRunItem {Id, Name, Type, Status, Spec, Version, Message, CreateTime, ModifyTime}

A stage's Message is absent while it is Init (as DataWorks); BUILD_PACKAGE's Detail lists
the checkers it ran, every other Detail is ``{}``.

For the CLI (``openworks deployments show|list --runs``): :func:`run_card` is the Pipeline
document plus the run's object, its packages, whether it waits for approval (and who may
decide) and its items; :func:`step_line` draws the stages as ``BUILD_PACKAGE✓ DEV… PROD·``
(marks of :data:`openworks.presenters.labels.STAGE_LOOKS`).
"""

from __future__ import annotations

from typing import Any

from openworks.core import run_stages
from openworks.core.model import Project
from openworks.core.pipeline_runs import ItemView, RunView
from openworks.core.run_reads import RunDetail

from .deployment import reviewer, status_name
from .flowspec import version_spec, workflow_spec
from .labels import stage_look

__all__ = ["item", "pipeline", "run_card", "step_line"]

_BUILD_DETAIL = {
    "checkerList": [
        {"code": "BuildPackageChecker", "name": "Build package check"},
        {"code": "NodeParentDependency", "name": "Downstream dependency check"},
        {"code": "NodeInProcess", "name": "Offline process check"},
    ]
}


def _stage(view: run_stages.StageView, offline: bool) -> dict[str, Any]:
    info = run_stages.info(view.code, offline)
    doc: dict[str, Any] = {
        "Code": view.code,
        "Name": info.name,
        "Description": info.description,
        "Type": info.type,
        "Step": view.step,
        "Status": view.status,
        "Detail": _BUILD_DETAIL if view.code == run_stages.BUILD else {},
    }
    if view.status != run_stages.INIT:
        doc["Message"] = view.message or ""
    return doc


def pipeline(view: RunView) -> dict[str, Any]:
    run, derived = view.run, view.derived
    offline = run.type == "Offline"
    return {
        "Id": run.id,
        "ProjectId": run.project_id,
        "Creator": run.creator,
        "CreateTime": run.create_time,
        "ModifyTime": run.modify_time,
        "Description": run.description,
        "Message": derived.message,
        "Status": derived.status,
        "Stages": [_stage(s, offline) for s in derived.stages],
    }


def item(project: Project, view: ItemView) -> dict[str, Any]:
    """A node (Spec of its version), or a workflow (Spec: the workflow and its nodes)."""
    doc: dict[str, Any] = {
        "Id": str(view.file_id),
        "Name": view.name,
        "Type": view.kind,
        "Status": view.status,
        "Message": view.message,
        "CreateTime": view.create_time,
        "ModifyTime": view.modify_time,
    }
    if view.version is not None:
        doc["Version"] = view.version.version
        doc["Spec"] = version_spec(project, view.version)
    elif view.workflow is not None:
        doc["Spec"] = workflow_spec(project, view.workflow, list(view.nodes), False)
    return doc


def step_line(detail: RunDetail) -> str:
    """``BUILD_PACKAGE✓ DEV_CHECK✓ DEV… PROD_CHECK· PROD·``."""
    marks = []
    for view in detail.view.derived.stages:
        _state, mark, _words = stage_look(view.status, view.code in detail.held)
        marks.append(f"{view.code}{mark}")
    return " ".join(marks)


def run_card(detail: RunDetail, items: list[ItemView] | None = None) -> dict[str, Any]:
    """The CLI's document of a run (see the module docstring); Items only when given."""
    run = detail.run
    waiting = detail.waiting
    document: dict[str, Any] = {"ProjectIdentifier": detail.project.identifier}
    document.update(pipeline(detail.view))
    document.update(
        {
            "Type": run.type,
            "ObjectId": str(run.object_id),
            "RunMode": run.run_mode,
            "Packages": [
                {
                    "DeploymentId": p.id,
                    "FromEnvironment": p.from_env,
                    "ToEnvironment": p.to_env,
                    "Status": p.status,
                    "StatusName": status_name(p),
                }
                for p in detail.packages
            ],
            "WaitingForApproval": waiting is not None,
        }
    )
    if waiting is not None:
        document["WaitingDeploymentId"] = waiting.id
        document["Reviewers"] = [reviewer(r) for r in detail.reviewers]
    if items is not None:
        document["Items"] = [item(detail.project, v) for v in items]
    return document
