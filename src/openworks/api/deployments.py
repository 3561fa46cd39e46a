"""Deployment operations: SubmitFile, DeployFile, GetDeployment, ListDeployments."""

from __future__ import annotations

from typing import Any

from openworks.core import packages
from openworks.core.ports import DeploymentFilter
from openworks.presenters import deployment as present

from .registry import Call, Params, handles, page_of, paged, project_ref

__all__: list[str] = []


@handles("SubmitFile")
def submit_file(call: Call, p: Params) -> dict[str, Any]:
    package_id = packages.submit_file(
        call.core,
        call.principal,
        project_ref(p),
        p["FileId"],
        p.get("Comment"),
        skip_checks=bool(p.get("SkipAllDeployFileExtensions")),
    )
    return {"Data": package_id}


@handles("DeployFile")
def deploy_file(call: Call, p: Params) -> dict[str, Any]:
    package_id = packages.deploy_file(
        call.core,
        call.principal,
        project_ref(p),
        p.get("FileId"),
        p.get("NodeId"),
        p.get("Comment"),
    )
    return {"Data": package_id}


@handles("GetDeployment")
def get_deployment(call: Call, p: Params) -> dict[str, Any]:
    pkg = packages.get_deployment(call.core, call.principal, project_ref(p), p["DeploymentId"])
    return {"Data": present.deployment(pkg)}


@handles("ListDeployments")
def list_deployments(call: Call, p: Params) -> dict[str, Any]:
    page = page_of(p)
    flt = DeploymentFilter(
        creator=p.get("Creator"),
        executor=p.get("Executor"),
        keyword=p.get("Keyword"),
        status=p.get("Status"),
        end_create_time=p.get("EndCreateTime"),
        end_execute_time=p.get("EndExecuteTime"),
    )
    found, total = packages.list_deployments(call.core, call.principal, project_ref(p), flt, page)
    return {
        "Data": paged(
            "Deployments",
            [present.deployment_row(d) for d in found],
            page,
            total,
        )
    }
