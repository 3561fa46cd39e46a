"""``openworks deployments``: review packages waiting for approval.

Each decision is recorded in ``openworks audit`` (source ``cli``, see
:mod:`openworks.cli.audited`).
"""

from __future__ import annotations

import json

import click

from openworks.core.approvals import approve_package, reject_package
from openworks.core.model import Package
from openworks.presenters.deployment import decision

from . import main
from .common import DATABASE_URL, INT64
from .domain import open_session, run

__all__ = ["deployments"]

USER = click.option(
    "--user", default=None, help="Review as this user of the account (default: the root user)."
)


@main.group()
def deployments() -> None:
    """Deployment packages."""


@deployments.command("approve")
@click.argument("deployment_id", type=INT64)
@USER
@DATABASE_URL
def deployments_approve(deployment_id: int, user: str | None, database_url: str | None) -> None:
    """Approve a package waiting for approval; it is executed at once."""
    session = open_session(database_url, user)

    def approve() -> Package:
        with session.audited("deployments.approve", {"DeploymentId": deployment_id}) as change:
            change.project_id = session.package_workspace(deployment_id)
            package = approve_package(session.core, session.principal, deployment_id)
            change.workspace(package.project_id)
            change.result.update(Status=package.status, ErrorMessage=package.error_message)
            return package

    package = run(approve)
    click.echo(json.dumps(decision(package)))


@deployments.command("reject")
@click.argument("deployment_id", type=INT64)
@click.option("--reason", required=True, help="Shown as the package's ErrorMessage.")
@USER
@DATABASE_URL
def deployments_reject(
    deployment_id: int, reason: str, user: str | None, database_url: str | None
) -> None:
    """Reject a package waiting for approval (Status 6, items 6 REJECT)."""
    session = open_session(database_url, user)
    params = {"DeploymentId": deployment_id, "Reason": reason}

    def reject() -> Package:
        with session.audited("deployments.reject", params) as change:
            change.project_id = session.package_workspace(deployment_id)
            package = reject_package(session.core, session.principal, deployment_id, reason)
            change.workspace(package.project_id)
            change.result.update(Status=package.status)
            return package

    package = run(reject)
    click.echo(json.dumps(decision(package)))
