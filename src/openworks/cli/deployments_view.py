"""``openworks deployments list|show|wait``: deployment packages in the terminal.

Adds commands to the ``deployments`` group of :mod:`openworks.cli.deployments`. ``list``
takes the filters of ListDeployments; ``show`` prints one package as GetDeployment would
(JSON); ``wait`` polls until the package leaves Status 0 and exits 0 on success, 1 on
failure or rejection, 2 when the timeout passes first.
"""

from __future__ import annotations

import json
import sys
import time

import click

from openworks.core.model import Package, PackageStatus
from openworks.core.packages import get_deployment, list_deployments
from openworks.core.ports import DeploymentFilter, Page

from .common import DATABASE_URL, INT32, INT64, PAGE_NUMBER, PAGE_SIZE, Seconds
from .deployments import deployments
from .domain import open_core, project_ref, run

__all__ = ["deployments_list", "deployments_show", "deployments_wait"]

WORKSPACE = click.option(
    "--workspace", "workspace_id", required=True, help="Workspace ID or identifier."
)
_STATUS = {0: "READY", 1: "SUCCESS", 2: "FAILED", 6: "REJECTED"}


def _document(package: Package) -> dict[str, object]:
    return {
        "DeploymentId": package.id,
        "Name": package.name,
        "Status": package.status,
        "CheckingStatus": package.checking_status,
        "FromEnvironment": package.from_env,
        "ToEnvironment": package.to_env,
        "CreatorId": package.creator_id,
        "HandlerId": package.handler_id,
        "CreateTime": package.create_time,
        "ExecuteTime": package.execute_time,
        "ErrorMessage": package.error_message,
        "DeployedItems": [
            {"FileId": i.file_id, "FileVersion": i.file_version, "Status": i.status}
            for i in package.items
        ],
    }


@deployments.command("list")
@WORKSPACE
@click.option(
    "--status", type=INT32, default=None, help="0 ready, 1 success, 2 failed, 6 rejected."
)
@click.option("--creator", default=None, help="Creator user ID.")
@click.option("--executor", default=None, help="Executor (handler) user ID.")
@click.option("--keyword", default=None, help="Part of the package name.")
@click.option("--end-create-time", type=INT64, default=None, help="Created at or before (ms).")
@click.option("--end-execute-time", type=INT64, default=None, help="Executed at or before (ms).")
@click.option("--page-number", type=PAGE_NUMBER, default=1, show_default=True)
@click.option("--page-size", type=PAGE_SIZE, default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@DATABASE_URL
def deployments_list(
    workspace_id: str,
    status: int | None,
    creator: str | None,
    executor: str | None,
    keyword: str | None,
    end_create_time: int | None,
    end_execute_time: int | None,
    page_number: int,
    page_size: int,
    as_json: bool,
    database_url: str | None,
) -> None:
    """List a workspace's packages, newest first (the filters of ListDeployments)."""
    core, principal = open_core(database_url)
    flt = DeploymentFilter(creator, executor, keyword, status, end_create_time, end_execute_time)
    rows, total = run(
        lambda: list_deployments(
            core, principal, project_ref(workspace_id), flt, Page(page_number, page_size)
        )
    )
    if as_json:
        documents = [_document(p) for p in rows]
        click.echo(json.dumps({"TotalCount": total, "Deployments": documents}, indent=2))
        return
    click.echo(f"{'ID':>10}  {'STATUS':<8}  {'ENV':<5}  {'CREATOR':<18}  NAME")
    for package in rows:
        status_name = _STATUS.get(package.status, str(package.status))
        envs = f"{package.from_env}->{package.to_env}"
        click.echo(
            f"{package.id:>10}  {status_name:<8}  {envs:<5}  {package.creator_id:<18}  "
            f"{package.name}"
        )
    click.echo(f"{len(rows)} of {total} (page {page_number})")


@deployments.command("show")
@click.argument("deployment_id", type=INT64)
@WORKSPACE
@DATABASE_URL
def deployments_show(deployment_id: int, workspace_id: str, database_url: str | None) -> None:
    """Print one package and its items as JSON."""
    core, principal = open_core(database_url)
    package = run(lambda: get_deployment(core, principal, project_ref(workspace_id), deployment_id))
    click.echo(json.dumps(_document(package), indent=2))


@deployments.command("wait")
@click.argument("deployment_id", type=INT64)
@WORKSPACE
@click.option(
    "--timeout", default=600.0, type=Seconds(), show_default=True, help="Seconds before giving up."
)
@click.option(
    "--interval",
    default=1.0,
    type=Seconds(0.01, 3600),
    show_default=True,
    help="Seconds between polls.",
)
@DATABASE_URL
def deployments_wait(
    deployment_id: int,
    workspace_id: str,
    timeout: float,
    interval: float,
    database_url: str | None,
) -> None:
    """Wait until the package finishes; exit 0 on success, 1 on failure, 2 on timeout."""
    core, principal = open_core(database_url)
    ref = project_ref(workspace_id)
    deadline = time.monotonic() + timeout
    while True:
        package = run(lambda: get_deployment(core, principal, ref, deployment_id))
        if package.status != PackageStatus.READY:
            break
        if time.monotonic() >= deadline:
            click.echo(f"deployment {deployment_id}: still READY after {timeout:g} s", err=True)
            sys.exit(2)
        time.sleep(max(0.05, min(interval, deadline - time.monotonic())))
    name = _STATUS.get(package.status, str(package.status))
    detail = f": {package.error_message}" if package.error_message else ""
    click.echo(f"deployment {deployment_id}: {name}{detail}")
    if package.status != PackageStatus.SUCCESS:
        sys.exit(1)
