"""Tests of the example deployer, using only the fixtures of the openworks pytest plugin."""

from __future__ import annotations

import json

import pytest
from alibabacloud_dataworks_public20200518 import models
from deployer import DeploymentFailed, DeploymentTimeout, deploy_sql, wait_for_deployment


def test_deploys_a_node_to_production(dataworks_client, dataworks_workspace):
    file_id = deploy_sql(dataworks_client, dataworks_workspace, "daily_orders", "select 1;")

    node = dataworks_client.get_file(
        models.GetFileRequest(project_id=dataworks_workspace, file_id=file_id)
    ).body.data.file
    assert node.file_name == "daily_orders"
    listed = dataworks_client.list_deployments(
        models.ListDeploymentsRequest(project_id=dataworks_workspace, status=1)
    ).body.data
    assert listed.total_count == 2  # the commit and the production deployment


def test_reports_a_failed_package(openworks_server, dataworks_client, dataworks_workspace):
    openworks_server.fail_next(message="ODPS-0130071: semantic analysis exception")

    with pytest.raises(DeploymentFailed) as failed:
        deploy_sql(dataworks_client, dataworks_workspace, "broken", "select nope;")

    assert failed.value.status == 2
    assert "ODPS-0130071" in failed.value.message
    deployment = dataworks_client.get_deployment(
        models.GetDeploymentRequest(
            project_id=dataworks_workspace, deployment_id=failed.value.deployment_id
        )
    ).body.data
    assert [item.status for item in deployment.deployed_items] == [2]


def test_times_out_when_the_package_stays_in_status_0(
    openworks_server, dataworks_client, dataworks_workspace
):
    openworks_server.set_mode("manual")

    with pytest.raises(DeploymentTimeout):
        deploy_sql(dataworks_client, dataworks_workspace, "slow", "select 1;", max_polls=3)

    # The package is still waiting; once released, the same poll succeeds.
    held = dataworks_client.list_deployments(
        models.ListDeploymentsRequest(project_id=dataworks_workspace, status=0)
    ).body.data.deployments
    assert len(held) == 1
    assert openworks_server.release() == [held[0].id]
    wait_for_deployment(dataworks_client, dataworks_workspace, held[0].id)


def test_the_legacy_sdk_sees_the_same_server(legacy_dataworks_client, dataworks_workspace):
    from aliyunsdkdataworks_public.request.v20200518.GetProjectRequest import GetProjectRequest

    request = GetProjectRequest()
    request.set_ProjectId(dataworks_workspace)
    body = json.loads(legacy_dataworks_client.do_action_with_exception(request))
    assert body["Data"]["ProjectId"] == dataworks_workspace
    assert body["Data"]["ProjectMode"] == 3


@pytest.mark.openworks_seed(7)
def test_ids_are_reproducible_from_a_seed(openworks_server, dataworks_client):
    first = _workspace_and_file(openworks_server, dataworks_client)
    openworks_server.seed(7)
    assert _workspace_and_file(openworks_server, dataworks_client) == first


def _workspace_and_file(server, client):
    project_id = server.create_workspace("seeded")
    created = client.create_file(
        models.CreateFileRequest(project_id=project_id, file_name="n", file_type=10, content="")
    )
    return project_id, int(created.body.data)
