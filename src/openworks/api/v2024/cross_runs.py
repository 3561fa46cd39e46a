"""2024-05-18 handlers (cross_project_pipeline): deployment environments and cross-workspace
pipeline runs. Their responses use the ``{Success, Data{…}}`` envelope (the request id is
the top-level RequestId; Data's own RequestId is left out). The domain is
:mod:`openworks.core.cross_runs`; the documents :mod:`openworks.presenters.cross_run`.
"""

from __future__ import annotations

from typing import Any

from openworks.core import cross_runs as runs
from openworks.core.cross_model import RunFilter
from openworks.presenters import cross_run as present

from ..registry import Call, Params, handles, page_of, paged, project_ref

__all__: list[str] = []

V2024 = "2024-05-18"


def _data(call: Call, data: dict[str, Any]) -> dict[str, Any]:
    return {"Success": True, "Data": data}


@handles("ListCrossProjectDeploymentEnvironments", version=V2024)
def list_environments(call: Call, p: Params) -> dict[str, Any]:
    page = page_of(p, max_size=100)
    found, _ = runs.list_environments(call.core, call.principal, project_ref(p))
    docs = [present.environment(e, t) for e, t in found]
    shown = docs[page.offset : page.offset + page.size]
    return _data(call, paged("DeploymentEnvironments", shown, page, len(docs)))


@handles("ListCrossProjectDeploymentCandidates", version=V2024)
def list_candidates(call: Call, p: Params) -> dict[str, Any]:
    page = page_of(p, max_size=100)
    flt = runs.CandidateFilter(
        p.get("ObjectId"),
        p.get("ObjectType"),
        p.get("Keyword"),
        p.get("CommitUser"),
        p.get("CommitTimeFrom"),
        p.get("CommitTimeTo"),
        p.get("ChangeType"),
    )
    found, total = runs.list_candidates(
        call.core, call.principal, project_ref(p), p["DeploymentEnvironmentId"], flt, page
    )
    docs = [present.candidate(c) for c in found]
    return _data(call, paged("DeploymentCandidates", docs, page, total))


@handles("CreateCrossProjectPipelineRun", version=V2024)
def create_run(call: Call, p: Params) -> dict[str, Any]:
    run_id = runs.create_run(
        call.core,
        call.principal,
        project_ref(p),
        p["DeploymentEnvironmentId"],
        p["Type"],
        [str(i) for i in p["ObjectIds"]],
        p.get("Description"),
    )
    return _data(call, {"PipelineRunId": run_id})


@handles("GetCrossProjectPipelineRun", version=V2024)
def get_run(call: Call, p: Params) -> dict[str, Any]:
    run = runs.get_run(call.core, call.principal, project_ref(p), p["PipelineRunId"])
    return _data(call, present.run(run))


@handles("ListCrossProjectPipelineRuns", version=V2024)
def list_runs(call: Call, p: Params) -> dict[str, Any]:
    page = page_of(p, max_size=100)
    object_id = p.get("ObjectId")
    digits = object_id is not None and object_id.isascii() and object_id.isdigit()
    if object_id is not None and not (digits and len(object_id) < 19):
        return _data(call, paged("PipelineRuns", [], page, 0)) if _checked(call, p) else {}
    flt = RunFilter(
        p.get("DeploymentEnvironmentId"),
        p.get("Creator"),
        p.get("Executor"),
        int(object_id) if object_id is not None else None,
        p.get("ObjectType"),
        p.get("Status"),
        p.get("CreateTimeFrom"),
        p.get("CreateTimeTo"),
    )
    found, total = runs.list_runs(call.core, call.principal, project_ref(p), flt, page)
    return _data(call, paged("PipelineRuns", [present.run(r) for r in found], page, total))


def _checked(call: Call, p: Params) -> bool:
    """Check the caller may read the workspace (an impossible ObjectId lists nothing)."""
    runs.list_runs(call.core, call.principal, project_ref(p), RunFilter(), page_of({}))
    return True


@handles("ListCrossProjectPipelineRunItems", version=V2024)
def list_items(call: Call, p: Params) -> dict[str, Any]:
    page = page_of(p, max_size=100)
    found, total = runs.list_items(
        call.core, call.principal, project_ref(p), p["PipelineRunId"], page
    )
    return _data(call, paged("PipelineRunItems", [present.item(i) for i in found], page, total))


@handles("ExecCrossProjectPipelineRun", version=V2024)
def exec_run(call: Call, p: Params) -> dict[str, Any]:
    runs.exec_run(call.core, call.principal, project_ref(p), p["PipelineRunId"])
    return _data(call, {})


@handles("AbolishCrossProjectPipelineRun", version=V2024)
def abolish_run(call: Call, p: Params) -> dict[str, Any]:
    runs.abolish_run(call.core, call.principal, project_ref(p), p["PipelineRunId"], p.get("Reason"))
    return _data(call, {})
