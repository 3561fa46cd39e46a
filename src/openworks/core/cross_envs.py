"""Deployment environments: the source ─▶ target workspace pairs cross runs deploy along.

::

    add(source, target, name)   an admin (or owner) of BOTH workspaces, same account;
                                one environment per pair; source ≠ target
    list(workspace)             the environments whose SOURCE is the workspace (2024
                                ListCrossProjectDeploymentEnvironments); or all of the account
    remove(id)                  an admin of both; refused while a run of it is not final;
                                its mappings and runs go with it
    find(tx, source, id)        the environment ``id`` of source workspace ``source``, else
                                404 InvalidDeploymentEnvironment.NotFound (not configured)

A workspace of another account answers as one that does not exist, so a cross-tenant pair
cannot be configured; :func:`pair` re-checks the accounts whenever a run uses it.
"""

from __future__ import annotations

from .access import ProjectRef, authorize_project, resolve_project
from .context import Core
from .cross_model import Environment
from .errors import Forbidden, Invalid, NotFound
from .model import Principal, Project
from .ports import Tx
from .roles import Permission, Rule, permits

__all__ = [
    "add_environment",
    "find_environment",
    "list_environments",
    "pair",
    "refuse_unless_admin",
    "remove_environment",
]

MAX_NAME = 128


def refuse_unless_admin(tx: Tx, principal: Principal, project: Project, what: str) -> None:
    """Refuse unless the caller is an owner or administrator of the workspace."""
    roles = tx.member_roles(project.id, principal.user_id)
    if not permits(Rule(Permission.MANAGE), project.mode, roles, principal.is_root):
        raise Forbidden(
            "Invalid.Tenant.UserIsNotProjectOwnerOrAdmin",
            f"{what} needs the workspace owner or administrator role in workspace "
            f"{project.identifier}.",
        )


def _not_configured(env_id: int, project: Project) -> NotFound:
    return NotFound(
        "InvalidDeploymentEnvironment.NotFound",
        f"No deployment environment {env_id} is configured for source workspace "
        f"{project.identifier}; an administrator of both workspaces adds one with "
        "`openworks environments add SOURCE TARGET --name NAME`.",
    )


def find_environment(tx: Tx, source: Project, env_id: int) -> Environment:
    env = tx.cross().environment(env_id)
    if env is None or env.source_project_id != source.id:
        raise _not_configured(env_id, source)
    return env


def pair(tx: Tx, principal: Principal, source: Project, env: Environment) -> Project:
    """The environment's target workspace (checked: same account as the source, live, and
    the caller may act there under the running operation's rule), else a clear 4xx."""
    target = tx.project(env.target_project_id)
    if target is None or target.status == 1 or target.account_id != source.account_id:
        raise Invalid(
            "Invalid.DeploymentEnvironment.Target",
            f"The target workspace {env.target_project_id} of deployment environment "
            f"{env.id} does not exist in the account of workspace {source.identifier}.",
        )
    return authorize_project(tx, principal, target)


def add_environment(
    core: Core, principal: Principal, source_ref: ProjectRef, target_ref: ProjectRef, name: str
) -> Environment:
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise Invalid("Invalid.Param", f"The environment name must be 1 to {MAX_NAME} characters.")
    with core.store.transaction(write=True) as tx:
        source = resolve_project(tx, principal, source_ref)
        target = resolve_project(tx, principal, target_ref)
        if source.id == target.id:
            raise Invalid(
                "Invalid.DeploymentEnvironment.SameWorkspace",
                "The source and the target of a deployment environment must differ.",
            )
        for project in (source, target):
            refuse_unless_admin(tx, principal, project, "Adding a deployment environment")
        store = tx.cross()
        existing = store.environment_by_pair(source.id, target.id)
        if existing is not None:
            raise Invalid(
                "Invalid.DeploymentEnvironment.Exists",
                f"Deployment environment {existing.id} ({existing.name}) already goes from "
                f"{source.identifier} to {target.identifier}.",
            )
        env = Environment(
            0, principal.account_id, name, source.id, target.id, principal.user_id, core.clock()
        )
        store.insert_environment(env)
        return env


def list_environments(
    core: Core, principal: Principal, source_ref: ProjectRef | None
) -> list[Environment]:
    """The environments of source workspace ``source_ref`` (or of the whole account)."""
    with core.store.transaction() as tx:
        source = resolve_project(tx, principal, source_ref) if source_ref else None
        return tx.cross().environments(principal.account_id, source.id if source else None)


def remove_environment(core: Core, principal: Principal, env_id: int) -> Environment:
    with core.store.transaction(write=True) as tx:
        store = tx.cross()
        env = store.environment(env_id)
        if env is None or env.account_id != principal.account_id:
            raise NotFound(
                "InvalidDeploymentEnvironment.NotFound",
                f"No deployment environment {env_id} exists in this account.",
            )
        for project_id in (env.source_project_id, env.target_project_id):
            project = tx.project(project_id)
            if project is not None:
                refuse_unless_admin(tx, principal, project, "Removing a deployment environment")
        busy = store.active_runs(env.id)
        if busy:
            raise Invalid(
                "Invalid.DeploymentEnvironment.Busy",
                f"Cross-workspace run {busy[0].id} of environment {env.id} is still "
                f"{busy[0].status}; abolish it or wait for it to finish first.",
            )
        store.delete_environment(env.id)
        return env
