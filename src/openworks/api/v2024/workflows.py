"""2024-05-18 workflow definitions (group ``workflow_definition``) over business flows.

A workflow definition IS a 2020 Business (:mod:`openworks.core.spec_workflows`); its
``Id`` is the decimal BusinessId, and its nodes are files with that workflow as container.
ImportWorkflowDefinition answers an AsyncJob that is already final (the import runs
inside the call): ``Status`` Success/Fail, ``Progress`` 100, ``Completed`` true, and
``Response`` the JSON text ``{"workflowId": "<Id>", "nodeIds": ["<Id>", …]}``.
"""

from __future__ import annotations

from typing import Any

import orjson

from openworks.core import spec_workflows
from openworks.presenters.flowspec import workflow_spec, workflow_summary

from ..registry import Call, Params, handles, page_of, paged, project_ref

__all__: list[str] = []

V2024 = "2024-05-18"
_IMPORT_JOB = "ImportWorkflowDefinition"


@handles("CreateWorkflowDefinition", version=V2024)
def create_workflow_definition(call: Call, p: Params) -> dict[str, Any]:
    number = spec_workflows.create_workflow(call.core, call.principal, project_ref(p), p["Spec"])
    return {"Id": str(number)}


@handles("ImportWorkflowDefinition", version=V2024)
def import_workflow_definition(call: Call, p: Params) -> dict[str, Any]:
    job = spec_workflows.import_workflow(
        call.core, call.principal, project_ref(p), p["Spec"], bool(p.get("DryRun"))
    )
    response = {
        "workflowId": None if job.workflow_id is None else str(job.workflow_id),
        "nodeIds": [str(n) for n in job.node_ids],
        "dryRun": bool(p.get("DryRun")),
    }
    return {
        "AsyncJob": {
            "Id": job.id,
            "Type": _IMPORT_JOB,
            "CreateTime": job.create_time,
            "Status": "Success" if job.ok else "Fail",
            "Progress": 100,
            "Completed": True,
            "Error": job.error or None,
            "Response": orjson.dumps(response).decode() if job.ok else None,
        }
    }


@handles("GetWorkflowDefinition", version=V2024)
def get_workflow_definition(call: Call, p: Params) -> dict[str, Any]:
    project, business, files = spec_workflows.get_workflow(
        call.core, call.principal, project_ref(p), p["Id"]
    )
    with_content = p.get("IncludeScriptContent") is not False
    return {
        "WorkflowDefinition": {
            "Id": str(business.id),
            "ProjectId": project.id,
            "Name": business.name,
            "Owner": business.owner,
            "CreateTime": business.create_time,
            "ModifyTime": business.modify_time,
            "WorkflowId": business.id,
            "Spec": workflow_spec(project, business, files, with_content),
        }
    }


@handles("UpdateWorkflowDefinition", version=V2024)
def update_workflow_definition(call: Call, p: Params) -> dict[str, Any]:
    spec_workflows.update_workflow(call.core, call.principal, project_ref(p), p["Id"], p["Spec"])
    return {"Success": True}


@handles("ListWorkflowDefinitions", version=V2024)
def list_workflow_definitions(call: Call, p: Params) -> dict[str, Any]:
    page = page_of(p, max_size=100)
    project, found, total = spec_workflows.list_workflows(
        call.core,
        call.principal,
        project_ref(p),
        p.get("Type"),
        p.get("Name"),
        p.get("Owner"),
        page,
    )
    return {
        "PagingInfo": paged(
            "WorkflowDefinitions", [workflow_summary(project, b) for b in found], page, total
        )
    }


@handles("DeleteWorkflowDefinition", version=V2024)
def delete_workflow_definition(call: Call, p: Params) -> dict[str, Any]:
    spec_workflows.delete_workflow(call.core, call.principal, project_ref(p), p["Id"])
    return {"Success": True}


@handles("MoveWorkflowDefinition", version=V2024)
def move_workflow_definition(call: Call, p: Params) -> dict[str, Any]:
    spec_workflows.move_workflow(call.core, call.principal, project_ref(p), p["Id"], p["Path"])
    return {"Success": True}


@handles("RenameWorkflowDefinition", version=V2024)
def rename_workflow_definition(call: Call, p: Params) -> dict[str, Any]:
    spec_workflows.rename_workflow(call.core, call.principal, project_ref(p), p["Id"], p["Name"])
    return {"Success": True}
