"""``openworks deployments list|show|wait``: deployment packages in the terminal.

``show`` and ``wait`` also take a pipeline run id (a UUID) and ``list --runs`` lists a
workspace's pipeline runs: those go to :mod:`openworks.cli.runs_view`.

Adds commands to the ``deployments`` group of :mod:`openworks.cli.deployments`. ``list``
takes the filters of ListDeployments; ``show`` prints one package as GetDeployment would
(JSON); ``wait`` polls until the package leaves Status 0 and exits 0 on success, 1 on
failure or rejection, 2 when the timeout passes first. ``show`` and ``wait`` find the
package's workspace themselves (a package ID is unique); ``--workspace`` only narrows.

A package held for approval (``approval.required=true``) is shown as ``WAITING FOR
APPROVAL``, with who may approve it: the account's root user and the workspace's owners,
administrators and deployers (:func:`openworks.core.approvals.reviewers`, the rule the
approval itself applies). ``show`` and ``wait`` say so on stderr too.
"""

from __future__ import annotations

import json
import sys
import time

import click

from openworks.core.access import ProjectRef, resolve_project
from openworks.core.approvals import Reviewer, awaiting_approval, reviewers
from openworks.core.context import Core
from openworks.core.errors import NotFound
from openworks.core.model import Package, PackageStatus, Principal, Project
from openworks.core.packages import list_deployments
from openworks.core.ports import DeploymentFilter, Page
from openworks.presenters.deployment import card, status_name
from openworks.presenters.labels import PACKAGE_STATUS_NAME

from .common import DATABASE_URL, INT32, INT64, PAGE_NUMBER, PAGE_SIZE, Seconds
from .deployments import deployments
from .domain import open_core, project_ref, run
from .runs_view import DEPLOYMENT_OR_RUN, RUN_STATUSES, print_runs, show_run, wait_run, who

__all__ = [
    "deployments_list",
    "deployments_show",
    "deployments_wait",
    "find_deployment",
    "waiting_note",
]

WORKSPACE = click.option(
    "--workspace", "workspace_id", required=True, help="Workspace ID or identifier."
)
IN_WORKSPACE = click.option(
    "--workspace",
    "workspace_id",
    default=None,
    help="Workspace ID or identifier (optional: the package's own workspace is found).",
)


def find_deployment(
    core: Core, principal: Principal, package_id: int, ref: ProjectRef | None
) -> tuple[Package, Project, list[Reviewer]]:
    """The package (in ``ref``'s workspace if given, else wherever it is in the caller's
    account), its workspace, and who may approve it if it waits for approval."""
    with core.store.transaction() as tx:
        package = tx.package(package_id)
        if ref is not None:
            project = resolve_project(tx, principal, ref)
            if package is None or package.project_id != project.id:
                raise NotFound(
                    "InvalidDeployment.NotFound",
                    f"The deployment package {package_id} does not exist in workspace "
                    f"{project.identifier}.",
                )
        else:
            found = tx.project(package.project_id) if package is not None else None
            if (
                package is None
                or found is None
                or found.account_id != principal.account_id
                or found.status == 1
            ):
                raise NotFound(
                    "InvalidDeployment.NotFound",
                    f"The deployment package {package_id} does not exist.",
                )
            project = resolve_project(tx, principal, ProjectRef(id=found.id))  # membership
        team = reviewers(tx, project) if awaiting_approval(package) else []
        return package, project, team


_who = who


def _team(core: Core, principal: Principal, ref: ProjectRef) -> list[Reviewer]:
    with core.store.transaction() as tx:
        return reviewers(tx, resolve_project(tx, principal, ref))


def waiting_note(package_id: int, team: list[Reviewer]) -> str:
    return (
        f"deployment {package_id} is waiting for approval by the root user or a workspace "
        f"owner, administrator or deployer: {_who(team)}. Decide with `openworks deployments "
        f"approve {package_id} [--user NAME]` or `... reject {package_id} --reason TEXT`."
    )


def _status(value: str | None, runs: bool) -> int | str | None:
    """--status: a package Status (32-bit integer), or with --runs a run Status word."""
    if value is None:
        return None
    ctx = click.get_current_context()
    param = next(p for p in ctx.command.params if p.name == "status")
    if not runs:
        return INT32.convert(value, param, ctx)
    for word in RUN_STATUSES:
        if value.strip().lower() == word.lower():
            return word
    raise click.BadParameter(
        f"{value[:40]!r} is not a pipeline run status: one of {', '.join(RUN_STATUSES)}.",
        ctx,
        param,
    )


def _package_only(runs: bool, object_id: str | None, **given: object) -> None:
    """Refuse filters that do not apply: package filters with --runs, --object without."""
    ctx = click.get_current_context()
    if runs:
        used = [f"--{name.replace('_', '-')}" for name, value in given.items() if value]
        if used:
            raise click.UsageError(f"{', '.join(used)} filter packages, not runs (--runs).", ctx)
    elif object_id is not None:
        raise click.UsageError("--object filters pipeline runs: add --runs.", ctx)


@deployments.command("list")
@WORKSPACE
@click.option(
    "--runs", is_flag=True, help="List pipeline runs (API 2024-05-18) instead of packages."
)
@click.option(
    "--status",
    default=None,
    help="Packages: 0 ready, 1 success, 2 failed, 6 rejected. Runs (--runs): Init, Running, "
    "Success, Fail, Termination or Cancel.",
)
@click.option("--object", "object_id", default=None, help="Runs only: the node ID deployed.")
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
    runs: bool,
    status: str | None,
    object_id: str | None,
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
    """List a workspace's packages, newest first (the filters of ListDeployments), or with
    --runs its pipeline runs with their stages (the filters of ListPipelineRuns)."""
    chosen = _status(status, runs)
    _package_only(
        runs,
        object_id,
        executor=executor,
        keyword=keyword,
        end_create_time=end_create_time,
        end_execute_time=end_execute_time,
    )
    core, principal = open_core(database_url)
    ref = project_ref(workspace_id)
    page = Page(page_number, page_size)
    if runs:
        word = chosen if isinstance(chosen, str) else None
        print_runs(core, principal, ref, creator, object_id, word, page, as_json)
        return
    code = chosen if isinstance(chosen, int) else None
    flt = DeploymentFilter(creator, executor, keyword, code, end_create_time, end_execute_time)
    rows, total = run(lambda: list_deployments(core, principal, ref, flt, page))
    waiting = [p.id for p in rows if awaiting_approval(p)]
    team = run(lambda: _team(core, principal, ref)) if waiting else []
    if as_json:
        documents = [card(p, team=team) for p in rows]
        click.echo(json.dumps({"TotalCount": total, "Deployments": documents}, indent=2))
        return
    click.echo(f"{'ID':>10}  {'STATUS':<20}  {'ENV':<5}  {'CREATOR':<18}  NAME")
    for package in rows:
        envs = f"{package.from_env}->{package.to_env}"
        click.echo(
            f"{package.id:>10}  {status_name(package):<20}  {envs:<5}  "
            f"{package.creator_id:<18}  {package.name}"
        )
    click.echo(f"{len(rows)} of {total} (page {page_number})")
    if waiting:
        click.echo(
            f"waiting for approval: {', '.join(map(str, waiting))}; may approve or reject: "
            f"{_who(team)} (`openworks deployments approve ID [--user NAME]`)"
        )


@deployments.command("show")
@DEPLOYMENT_OR_RUN
@IN_WORKSPACE
@DATABASE_URL
def deployments_show(
    deployment_id: int | str, workspace_id: str | None, database_url: str | None
) -> None:
    """Print one package and its items as JSON (its workspace is found from the ID), or a
    pipeline run (a UUID) with its stages, packages and items.

    A package held for approval has StatusName "WAITING FOR APPROVAL" and lists its
    Reviewers; a note on stderr says who may decide and how."""
    core, principal = open_core(database_url)
    ref = project_ref(workspace_id) if workspace_id is not None else None
    if isinstance(deployment_id, str):
        show_run(core, principal, deployment_id, ref)
        return
    package, project, team = run(lambda: find_deployment(core, principal, deployment_id, ref))
    click.echo(json.dumps(card(package, project, team), indent=2))
    if team:
        click.echo(waiting_note(deployment_id, team), err=True)


@deployments.command("wait")
@DEPLOYMENT_OR_RUN
@IN_WORKSPACE
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
    deployment_id: int | str,
    workspace_id: str | None,
    timeout: float,
    interval: float,
    database_url: str | None,
) -> None:
    """Wait until the package (or pipeline run) finishes; exit 0 on success, 1 on failure
    (a run: Fail, Termination or Cancel), 2 on timeout.

    A package or run stage waiting for approval is said so once on stderr (with who may
    approve), as is each run stage that waits to be executed."""
    core, principal = open_core(database_url)
    ref = project_ref(workspace_id) if workspace_id is not None else None
    if isinstance(deployment_id, str):
        wait_run(core, principal, deployment_id, ref, timeout, interval)
        return
    deadline = time.monotonic() + timeout
    told = False
    while True:
        package, _project, team = run(lambda: find_deployment(core, principal, deployment_id, ref))
        if package.status != PackageStatus.READY:
            break
        if team and not told:
            click.echo(waiting_note(deployment_id, team), err=True)
            told = True
        if time.monotonic() >= deadline:
            state = "waiting for approval" if team else "READY"
            click.echo(f"deployment {deployment_id}: still {state} after {timeout:g} s", err=True)
            sys.exit(2)
        time.sleep(max(0.05, min(interval, deadline - time.monotonic())))
    name = PACKAGE_STATUS_NAME.get(package.status, str(package.status))
    detail = f": {package.error_message}" if package.error_message else ""
    click.echo(f"deployment {deployment_id}: {name}{detail}")
    if package.status != PackageStatus.SUCCESS:
        sys.exit(1)
