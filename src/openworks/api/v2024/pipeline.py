"""2024-05-18 handlers (pipeline): pipeline runs over the package lifecycle.

Each handler also serves the name older 2024 SDKs gave the operation at the same version
(stacked ``@handles``): CreateDeployment, GetDeployment, ListDeployments (its list is
``Deployments``), ExecDeploymentStage and AbolishDeployment. The domain is
:mod:`openworks.core.pipeline_runs`; the documents :mod:`openworks.presenters.pipeline`.
"""

from __future__ import annotations

from typing import Any

from openworks.core import pipeline_runs as runs
from openworks.presenters import pipeline as present

from ..registry import Call, Params, handles, page_of, paged, project_ref

__all__: list[str] = []

V2024 = "2024-05-18"


@handles("CreatePipelineRun", version=V2024)
@handles("CreateDeployment", version=V2024)
def create_pipeline_run(call: Call, p: Params) -> dict[str, Any]:
    run_id = runs.create_run(
        call.core,
        call.principal,
        project_ref(p),
        p["Type"],
        [str(i) for i in p["ObjectIds"]],
        p.get("Description"),
        p.get("RunMode"),
        p.get("AutoRunUntilStage"),
    )
    return {"Id": run_id}


@handles("GetPipelineRun", version=V2024)
@handles("GetDeployment", version=V2024)
def get_pipeline_run(call: Call, p: Params) -> dict[str, Any]:
    view = runs.get_run(call.core, call.principal, project_ref(p), p["Id"])
    return {"Pipeline": present.pipeline(view)}


def _list(call: Call, p: Params, key: str) -> dict[str, Any]:
    page = page_of(p, max_size=100)
    found, total = runs.list_runs(
        call.core,
        call.principal,
        project_ref(p),
        p.get("Creator"),
        p.get("ObjectId"),
        p.get("Status"),
        page,
    )
    return {"PagingInfo": paged(key, [present.pipeline(v) for v in found], page, total)}


@handles("ListPipelineRuns", version=V2024)
def list_pipeline_runs(call: Call, p: Params) -> dict[str, Any]:
    return _list(call, p, "PipelineRuns")


@handles("ListDeployments", version=V2024)
def list_deployments(call: Call, p: Params) -> dict[str, Any]:
    return _list(call, p, "Deployments")


@handles("ListPipelineRunItems", version=V2024)
def list_pipeline_run_items(call: Call, p: Params) -> dict[str, Any]:
    page = page_of(p, max_size=100)
    project, items, total = runs.list_items(
        call.core, call.principal, project_ref(p), p["PipelineRunId"], page
    )
    docs = [present.item(project, i) for i in items]
    return {"PagingInfo": paged("PipelineRunItems", docs, page, total)}


@handles("ExecPipelineRunStage", version=V2024)
@handles("ExecDeploymentStage", version=V2024)
def exec_pipeline_run_stage(call: Call, p: Params) -> dict[str, Any]:
    runs.exec_stage(call.core, call.principal, project_ref(p), p["Id"], p["Code"])
    return {"Success": True}


@handles("AbolishPipelineRun", version=V2024)
@handles("AbolishDeployment", version=V2024)
def abolish_pipeline_run(call: Call, p: Params) -> dict[str, Any]:
    runs.abolish_run(call.core, call.principal, project_ref(p), p["Id"])
    return {"Success": True}
