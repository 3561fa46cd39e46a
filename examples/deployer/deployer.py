"""A small DataWorks deployer, written the way the official SDK sample does it.

``deploy_sql`` creates (or updates) an ODPS SQL node, submits it, polls GetDeployment
until the commit package finishes, then deploys it to production and polls again. It
knows nothing of openworks: point its client at Alibaba Cloud or at an openworks server.
"""

from __future__ import annotations

import time

from alibabacloud_dataworks_public20200518 import models
from alibabacloud_dataworks_public20200518.client import Client

__all__ = ["DeploymentFailed", "DeploymentTimeout", "deploy_sql", "wait_for_deployment"]

ODPS_SQL = 10


class DeploymentFailed(Exception):
    """The package ended with Status 2 (or another failure status)."""

    def __init__(self, deployment_id: int, status: int, message: str) -> None:
        super().__init__(f"deployment {deployment_id} failed (Status {status}): {message}")
        self.deployment_id = deployment_id
        self.status = status
        self.message = message


class DeploymentTimeout(Exception):
    """The package was still running after the last poll."""


def wait_for_deployment(
    client: Client,
    project_id: int,
    deployment_id: int,
    max_polls: int = 10,
    interval: float = 0.2,
) -> None:
    """Poll GetDeployment up to ``max_polls`` times until Status 1 (success)."""
    for _ in range(max_polls):
        request = models.GetDeploymentRequest(project_id=project_id, deployment_id=deployment_id)
        deployment = client.get_deployment(request).body.data.deployment
        if deployment.status == 1:
            return
        if deployment.status != 0:
            raise DeploymentFailed(deployment_id, deployment.status, deployment.error_message)
        time.sleep(interval)
    raise DeploymentTimeout(f"deployment {deployment_id} still running after {max_polls} polls")


def deploy_sql(
    client: Client,
    project_id: int,
    name: str,
    sql: str,
    max_polls: int = 10,
    interval: float = 0.2,
) -> int:
    """Create, submit and deploy an ODPS SQL node; its FileId."""
    created = client.create_file(
        models.CreateFileRequest(
            project_id=project_id,
            file_name=name,
            file_type=ODPS_SQL,
            content=sql,
        )
    )
    file_id = int(created.body.data)
    submitted = client.submit_file(
        models.SubmitFileRequest(project_id=project_id, file_id=file_id, comment="deployer")
    )
    wait_for_deployment(client, project_id, int(submitted.body.data), max_polls, interval)
    deployed = client.deploy_file(
        models.DeployFileRequest(project_id=project_id, file_id=file_id, comment="deployer")
    )
    wait_for_deployment(client, project_id, int(deployed.body.data), max_polls, interval)
    return file_id
