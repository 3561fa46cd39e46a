"""``openworks deployments``: review packages waiting for approval."""

from __future__ import annotations

import json

import click

from openworks.core.approvals import approve_package, reject_package
from openworks.core.model import Package

from . import main
from .common import DATABASE_URL, INT64
from .domain import open_core, run

__all__ = ["deployments"]

USER = click.option(
    "--user", default=None, help="Review as this user of the account (default: the root user)."
)


def _document(package: Package) -> dict[str, object]:
    return {
        "DeploymentId": package.id,
        "Status": package.status,
        "HandlerId": package.handler_id,
        "ErrorMessage": package.error_message,
    }


@main.group()
def deployments() -> None:
    """Deployment packages."""


@deployments.command("approve")
@click.argument("deployment_id", type=INT64)
@USER
@DATABASE_URL
def deployments_approve(deployment_id: int, user: str | None, database_url: str | None) -> None:
    """Approve a package waiting for approval; it is executed at once."""
    core, principal = open_core(database_url, user)
    package = run(lambda: approve_package(core, principal, deployment_id))
    click.echo(json.dumps(_document(package)))


@deployments.command("reject")
@click.argument("deployment_id", type=INT64)
@click.option("--reason", required=True, help="Shown as the package's ErrorMessage.")
@USER
@DATABASE_URL
def deployments_reject(
    deployment_id: int, reason: str, user: str | None, database_url: str | None
) -> None:
    """Reject a package waiting for approval (Status 6, items 6 REJECT)."""
    core, principal = open_core(database_url, user)
    package = run(lambda: reject_package(core, principal, deployment_id, reason))
    click.echo(json.dumps(_document(package)))
