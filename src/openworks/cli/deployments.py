"""``openworks deployments``: review packages waiting for approval.

``approve`` and ``reject`` take a package id or a pipeline run id (a UUID): for a run they
act on its package that waits for approval (:func:`openworks.cli.runs_view.waiting_in_run`).

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
from .common import DATABASE_URL
from .domain import Session, open_session, run
from .runs_view import DEPLOYMENT_OR_RUN, waiting_in_run

__all__ = ["deployments"]

USER = click.option(
    "--user", default=None, help="Review as this user of the account (default: the root user)."
)


@main.group()
def deployments() -> None:
    """Deployment packages and pipeline runs."""


def _target(session: Session, given: int | str) -> tuple[int, dict[str, object]]:
    """The package to decide on, and the audit parameters naming what was given."""
    if isinstance(given, int):
        return given, {"DeploymentId": given}
    package_id = run(lambda: waiting_in_run(session.core, session.principal, given))
    return package_id, {"PipelineRunId": given, "DeploymentId": package_id}


@deployments.command("approve")
@DEPLOYMENT_OR_RUN
@USER
@DATABASE_URL
def deployments_approve(
    deployment_id: int | str, user: str | None, database_url: str | None
) -> None:
    """Approve a package waiting for approval (or a pipeline run's); it is executed at once."""
    session = open_session(database_url, user)
    deployment_id, params = _target(session, deployment_id)

    def approve() -> Package:
        with session.audited("deployments.approve", params) as change:
            change.project_id = session.package_workspace(deployment_id)
            package = approve_package(session.core, session.principal, deployment_id)
            change.workspace(package.project_id)
            change.result.update(Status=package.status, ErrorMessage=package.error_message)
            return package

    package = run(approve)
    click.echo(json.dumps(decision(package)))


@deployments.command("reject")
@DEPLOYMENT_OR_RUN
@click.option("--reason", required=True, help="Shown as the package's ErrorMessage.")
@USER
@DATABASE_URL
def deployments_reject(
    deployment_id: int | str, reason: str, user: str | None, database_url: str | None
) -> None:
    """Reject a package waiting for approval (Status 6, items 6 REJECT), or a pipeline
    run's (the run ends Termination)."""
    session = open_session(database_url, user)
    deployment_id, params = _target(session, deployment_id)
    params["Reason"] = reason

    def reject() -> Package:
        with session.audited("deployments.reject", params) as change:
            change.project_id = session.package_workspace(deployment_id)
            package = reject_package(session.core, session.principal, deployment_id, reason)
            change.workspace(package.project_id)
            change.result.update(Status=package.status)
            return package

    package = run(reject)
    click.echo(json.dumps(decision(package)))
