"""``openworks workspaces list|show``: which workspaces there are, and their IDs.

::

    openworks workspaces list [--json]          every workspace of the account, by ID
    openworks workspaces show ID|IDENTIFIER     one workspace as JSON: the fields of
                                                GetProject that matter here, its members
                                                and roles, its effective settings

Both act as the account's root user (``OPENWORKS_ACCOUNT_ID``), as ``ListProjects`` does
for the root AccessKey. Settings are changed with ``openworks workspace set``.
"""

from __future__ import annotations

import json

import click

from openworks.core.access import ProjectRef, resolve_project
from openworks.core.context import Core
from openworks.core.member_model import Member
from openworks.core.model import Principal, Project
from openworks.core.ports import Page
from openworks.core.projects import list_projects
from openworks.core.workspace_settings import show_settings
from openworks.presenters.workspace import mode_name, workspace_details, workspace_summary

from . import main
from .common import DATABASE_URL
from .domain import open_core, project_ref, run

__all__ = ["workspaces"]


def _all(core: Core, principal: Principal) -> list[Project]:
    found: list[Project] = []
    page = Page(1, 100)
    while True:
        rows, total = list_projects(core, principal, page)
        found.extend(rows)
        if not rows or page.number * page.size >= total:
            return found
        page = Page(page.number + 1, page.size)


def _details(core: Core, principal: Principal, ref: ProjectRef) -> dict[str, object]:
    with core.store.transaction() as tx:
        project = resolve_project(tx, principal, ref)
        members: list[Member] = []
        page = Page(1, 100)
        while True:
            rows, total = tx.list_members(project.id, page)
            members.extend(rows)
            if not rows or page.number * page.size >= total:
                break
            page = Page(page.number + 1, page.size)
    settings = show_settings(core, principal, ProjectRef(id=project.id))
    return workspace_details(project, members, settings)


@main.group()
def workspaces() -> None:
    """Workspaces of the account: list them (with their IDs), show one."""


@workspaces.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@DATABASE_URL
def workspaces_list(as_json: bool, database_url: str | None) -> None:
    """Every workspace of the account: ID, identifier, mode, owner, name."""
    core, principal = open_core(database_url)
    found = run(lambda: _all(core, principal))
    if as_json:
        documents = [workspace_summary(p) for p in found]
        click.echo(json.dumps({"TotalCount": len(found), "Workspaces": documents}, indent=2))
        return
    if not found:
        click.echo(
            f"no workspaces in account {principal.account_id} yet: create one with the API's "
            "CreateProject (ProjectIdentifier, ProjectName)"
        )
        return
    click.echo(f"{'ID':>10}  {'IDENTIFIER':<24}  {'MODE':<8}  {'OWNER':<18}  NAME")
    for p in found:
        mode = mode_name(p)
        click.echo(f"{p.id:>10}  {p.identifier:<24}  {mode:<8}  {p.owner_id:<18}  {p.name}")
    click.echo(f"{len(found)} workspace(s) in account {principal.account_id}")


@workspaces.command("show")
@click.argument("workspace_id", metavar="WORKSPACE")
@DATABASE_URL
def workspaces_show(workspace_id: str, database_url: str | None) -> None:
    """Print one workspace (by ID or identifier) with its members and settings as JSON."""
    core, principal = open_core(database_url)
    ref = project_ref(workspace_id)
    click.echo(json.dumps(run(lambda: _details(core, principal, ref)), indent=2))
