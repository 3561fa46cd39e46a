"""``openworks workspace``: per-workspace settings of checks and approvals.

Keys: ``checks.builtin`` (built-in checks, see ``openworks.core.builtin_checks``),
``checks.timeout`` (seconds, default 600) and ``approval.required`` (true/false).
``set`` is recorded in ``openworks audit`` (source ``cli``). To list workspaces and find
their IDs: ``openworks workspaces list|show`` (:mod:`openworks.cli.workspaces`).
"""

from __future__ import annotations

import json

import click

from openworks.core.workspace_settings import set_settings, show_settings

from . import main
from .common import DATABASE_URL
from .domain import open_core, open_session, project_ref, run

__all__ = ["workspace"]


@main.group()
def workspace() -> None:
    """Settings of one workspace (by ID or identifier)."""


@workspace.command("set")
@click.argument("workspace_id")
@click.argument("assignments", nargs=-1, required=True)
@DATABASE_URL
def workspace_set(
    workspace_id: str, assignments: tuple[str, ...], database_url: str | None
) -> None:
    """Set KEY=VALUE pairs (an empty VALUE restores the default); prints the settings."""
    changes: dict[str, str] = {}
    for pair in assignments:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="ASSIGNMENTS")
        changes[key.strip()] = value
    session = open_session(database_url)
    ref = project_ref(workspace_id)

    def apply() -> dict[str, str]:
        with session.audited("workspace.set", {"Settings": changes}, ref) as change:
            project = session.project(ref)
            change.workspace(project.id, project.identifier)
            result = set_settings(session.core, session.principal, ref, changes)
            change.result.update(Settings=result)
            return result

    result = run(apply)
    click.echo(json.dumps(result, indent=2, sort_keys=True))


@workspace.command("show")
@click.argument("workspace_id")
@DATABASE_URL
def workspace_show(workspace_id: str, database_url: str | None) -> None:
    """Print the workspace's effective settings as JSON."""
    core, principal = open_core(database_url)
    result = run(lambda: show_settings(core, principal, project_ref(workspace_id)))
    click.echo(json.dumps(result, indent=2, sort_keys=True))
