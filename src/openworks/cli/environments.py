"""``openworks environments``: deployment environments for cross-workspace runs.

An environment is a source ─▶ target pair of workspaces of the account; an owner or
administrator of both configures it (``--user NAME`` acts as that user; default the
account's root). 2024 ``ListCrossProjectDeploymentEnvironments`` lists those of a source
workspace, and ``CreateCrossProjectPipelineRun`` deploys along one
(:mod:`openworks.core.cross_runs`). ``add`` and ``remove`` are recorded in ``openworks
audit`` (source ``cli``).
"""

from __future__ import annotations

import json

import click

from openworks.core.cross_envs import add_environment, list_environments, remove_environment
from openworks.core.cross_model import Environment

from . import main
from .common import DATABASE_URL
from .domain import open_session, project_ref, run

__all__ = ["environments"]

USER = click.option("--user", "user_name", default=None, help="Act as this user of the account.")


def _document(env: Environment) -> dict[str, object]:
    return {
        "DeploymentEnvironmentId": env.id,
        "Name": env.name,
        "SourceProjectId": env.source_project_id,
        "TargetProjectId": env.target_project_id,
        "Status": env.status,
        "Creator": env.creator,
    }


@main.group()
def environments() -> None:
    """Deployment environments: source ─▶ target workspace pairs for cross-workspace runs."""


@environments.command("add")
@click.argument("source")
@click.argument("target")
@click.option("--name", required=True, help="Display name of the environment.")
@USER
@DATABASE_URL
def environments_add(
    source: str, target: str, name: str, user_name: str | None, database_url: str | None
) -> None:
    """Add the environment SOURCE ─▶ TARGET (workspace IDs or identifiers); prints it."""
    session = open_session(database_url, user_name)
    source_ref, target_ref = project_ref(source), project_ref(target)
    params = {"Source": source, "Target": target, "Name": name}

    def add() -> Environment:
        with session.audited("environments.add", params, source_ref) as change:
            env = add_environment(session.core, session.principal, source_ref, target_ref, name)
            change.workspace(env.source_project_id)
            change.result.update(
                DeploymentEnvironmentId=env.id, TargetProjectId=env.target_project_id
            )
            return env

    click.echo(json.dumps(_document(run(add))))


@environments.command("list")
@click.option("--workspace", "workspace_id", default=None, help="Only those of this source.")
@USER
@DATABASE_URL
def environments_list(
    workspace_id: str | None, user_name: str | None, database_url: str | None
) -> None:
    """One JSON line per environment of the account (or of one source workspace)."""
    session = open_session(database_url, user_name)
    ref = project_ref(workspace_id) if workspace_id else None
    for env in run(lambda: list_environments(session.core, session.principal, ref)):
        click.echo(json.dumps(_document(env)))


@environments.command("remove")
@click.argument("environment_id", type=click.IntRange(1, 2**63 - 1))
@USER
@DATABASE_URL
def environments_remove(
    environment_id: int, user_name: str | None, database_url: str | None
) -> None:
    """Remove an environment (refused while one of its runs is not finished)."""
    session = open_session(database_url, user_name)

    def remove() -> Environment:
        params = {"DeploymentEnvironmentId": environment_id}
        with session.audited("environments.remove", params) as change:
            env = remove_environment(session.core, session.principal, environment_id)
            change.workspace(env.source_project_id)
            return env

    run(remove)
    click.echo(f"removed {environment_id}")
