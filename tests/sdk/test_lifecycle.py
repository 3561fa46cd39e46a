"""The DataStudio lifecycle end to end, through each official client path."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .clients import CallFailed, LegacyClient, TeaClient
from .conftest import poll, unique

Client = TeaClient | LegacyClient
ROOT = "1000000000000001"
SEED_DEPLOYMENT_FIELDS = {
    "Status", "ErrorMessage", "FromEnvironment", "ToEnvironment", "CheckingStatus",
    "CreateTime", "HandlerId", "CreatorId", "ExecuteTime", "Name",
}  # fmt: skip


def deployed(client: Client, project_id: int, deployment_id: int) -> dict:
    data = poll(client, project_id, deployment_id)["Data"]
    assert data["Deployment"]["Status"] == 1, data
    return data


def versions(client: Client, project_id: int, file_id: int) -> list[dict]:
    data = client.call("ListFileVersions", ProjectId=project_id, FileId=file_id, PageSize=100)
    return list(data["Data"]["FileVersions"])


def test_standard_workspace_full_lifecycle(client: Client, new_project: Callable[..., int]) -> None:
    pid = new_project(mode=3)
    project = client.call("GetProject", ProjectId=pid)["Data"]
    assert project["ProjectMode"] == 3 and project["EnvTypes"] == ["DEV", "PROD"]

    name = unique("ods_user_info_d")
    fid = client.call(
        "CreateFile", ProjectId=pid, FileName=name, FileType=10, Content="SELECT 1;",
        CronExpress="00 05 00 * * ?", FileFolderPath="Business Flow/demo/MaxCompute",
        CreateFolderIfNotExists=True,
    )["Data"]  # fmt: skip
    before = client.call("GetFile", ProjectId=pid, FileId=fid)["Data"]["File"]
    assert before["CommitStatus"] == 0 and before.get("NodeId") is None

    # commit: package LOCAL(0) -> DEV(1)
    submit_id = client.call("SubmitFile", ProjectId=pid, FileId=fid, Comment="first")["Data"]
    data = deployed(client, pid, submit_id)
    dep = data["Deployment"]
    assert (dep["FromEnvironment"], dep["ToEnvironment"]) == (0, 1)
    assert dep["CreatorId"] == ROOT and dep["HandlerId"] == ROOT
    assert dep["Name"].startswith(f"{name}-") and dep["Name"].endswith(f"_{ROOT}")
    assert dep["ExecuteTime"] >= dep["CreateTime"] > 0
    assert data["DeployedItems"] == [{"FileId": fid, "FileVersion": 1, "Status": 1}]
    committed = client.call("GetFile", ProjectId=pid, FileId=fid)["Data"]["File"]
    assert committed["CommitStatus"] == 1 and committed["CurrentVersion"] == 1
    node_id = committed["NodeId"]
    assert node_id

    # nothing changed: a second submit is refused
    with pytest.raises(CallFailed) as refused:
        client.call("SubmitFile", ProjectId=pid, FileId=fid)
    assert refused.value.code == "Invalid.File.NoChange" and refused.value.status == 400

    # deploy: package DEV(1) -> PROD(2), addressed by NodeId this time
    deploy_id = client.call("DeployFile", ProjectId=pid, NodeId=node_id)["Data"]
    data = deployed(client, pid, deploy_id)
    assert (data["Deployment"]["FromEnvironment"], data["Deployment"]["ToEnvironment"]) == (1, 2)
    assert versions(client, pid, fid)[0]["IsCurrentProd"] is True
    with pytest.raises(CallFailed) as again:
        client.call("DeployFile", ProjectId=pid, FileId=fid)
    assert again.value.code == "Invalid.Deploy.NothingToDeploy"

    # update -> uncommitted; submit -> version 2 (UPDATE); deploy
    client.call("UpdateFile", ProjectId=pid, FileId=fid, Content="SELECT 2;")
    assert client.call("GetFile", ProjectId=pid, FileId=fid)["Data"]["File"]["CommitStatus"] == 0
    submit2 = client.call("SubmitFile", ProjectId=pid, FileId=fid)["Data"]
    assert deployed(client, pid, submit2)["DeployedItems"][0]["FileVersion"] == 2
    listed = versions(client, pid, fid)
    assert [v["FileVersion"] for v in listed] == [2, 1]
    assert [v["ChangeType"] for v in listed] == ["UPDATE", "CREATE"]
    assert listed[0]["IsCurrentProd"] is False and listed[1]["IsCurrentProd"] is True
    deployed(client, pid, client.call("DeployFile", ProjectId=pid, FileId=fid)["Data"])
    v2 = client.call("GetFileVersion", ProjectId=pid, FileId=fid, FileVersion=2)["Data"]
    assert v2["IsCurrentProd"] is True and v2["FileContent"] == "SELECT 2;"
    assert v2["Status"] == "DEPLOYED" and v2["NodeId"] == node_id

    # delete: a DELETE version and a package out of DEV; then DeployFile takes it out of PROD
    delete_id = client.call("DeleteFile", ProjectId=pid, FileId=fid)["DeploymentId"]
    data = deployed(client, pid, delete_id)
    assert (data["Deployment"]["FromEnvironment"], data["Deployment"]["ToEnvironment"]) == (0, 1)
    assert versions(client, pid, fid)[0]["ChangeType"] == "DELETE"
    undeploy_id = client.call("DeployFile", ProjectId=pid, FileId=fid)["Data"]
    data = deployed(client, pid, undeploy_id)
    assert data["DeployedItems"][0]["FileVersion"] == 3
    gone = client.call("GetFile", ProjectId=pid, FileId=fid)["Data"]["File"]
    assert gone["DeletedStatus"] == "RECYCLE_BIN"
    assert client.call("ListFiles", ProjectId=pid, Keyword=name)["Data"]["TotalCount"] == 0
    assert not any(v["IsCurrentProd"] for v in versions(client, pid, fid))

    listed_packages = client.call("ListDeployments", ProjectId=pid, PageSize=100)["Data"]
    ids = [d["Id"] for d in listed_packages["Deployments"]]
    assert ids == [undeploy_id, delete_id, ids[2], submit2, deploy_id, submit_id]
    assert listed_packages["TotalCount"] == 6


def test_basic_workspace_lifecycle(client: Client, new_project: Callable[..., int]) -> None:
    pid = new_project(mode=2)
    assert client.call("GetProject", ProjectId=pid)["Data"]["EnvTypes"] == ["PROD"]
    fid = client.call(
        "CreateFile", ProjectId=pid, FileName=unique("basic"), FileType=6, Content="echo 1"
    )["Data"]
    # SubmitFile in basic mode is production: LOCAL(0) -> PROD(2)
    data = deployed(client, pid, client.call("SubmitFile", ProjectId=pid, FileId=fid)["Data"])
    assert (data["Deployment"]["FromEnvironment"], data["Deployment"]["ToEnvironment"]) == (0, 2)
    assert versions(client, pid, fid)[0]["IsCurrentProd"] is True

    # the official sample's basic path: UpdateFile then DeployFile alone commits and ships
    client.call("UpdateFile", ProjectId=pid, FileId=fid, Content="echo 2")
    data = deployed(client, pid, client.call("DeployFile", ProjectId=pid, FileId=fid)["Data"])
    assert (data["Deployment"]["FromEnvironment"], data["Deployment"]["ToEnvironment"]) == (0, 2)
    assert data["DeployedItems"][0]["FileVersion"] == 2
    with pytest.raises(CallFailed) as nothing:
        client.call("DeployFile", ProjectId=pid, FileId=fid)
    assert nothing.value.code == "Invalid.Deploy.NothingToDeploy"

    data = deployed(
        client, pid, client.call("DeleteFile", ProjectId=pid, FileId=fid)["DeploymentId"]
    )
    assert data["Deployment"]["ToEnvironment"] == 2


def test_never_committed_file_is_deleted_at_once(
    client: Client, new_project: Callable[..., int]
) -> None:
    pid = new_project()
    name = unique("scratch")
    fid = client.call("CreateFile", ProjectId=pid, FileName=name, FileType=10)["Data"]
    assert client.call("DeleteFile", ProjectId=pid, FileId=fid).get("DeploymentId") is None
    with pytest.raises(CallFailed) as missing:
        client.call("GetFile", ProjectId=pid, FileId=fid)
    assert missing.value.code == "InvalidFile.NotFound" and missing.value.status == 404
    # the name is free again
    client.call("CreateFile", ProjectId=pid, FileName=name, FileType=10)


def test_missing_upstream_fails_commit_then_deploy(
    client: Client, new_project: Callable[..., int]
) -> None:
    pid = new_project()
    ident = client.call("GetProject", ProjectId=pid)["Data"]["ProjectIdentifier"]
    up_name, down_name = unique("up"), unique("down")
    up = client.call("CreateFile", ProjectId=pid, FileName=up_name, FileType=10)["Data"]
    down = client.call(
        "CreateFile", ProjectId=pid, FileName=down_name, FileType=10,
        InputList=f"{ident}.{up_name}",
    )["Data"]  # fmt: skip

    failed = poll(client, pid, client.call("SubmitFile", ProjectId=pid, FileId=down)["Data"])
    dep = failed["Data"]["Deployment"]
    assert dep["Status"] == 2 and f"{ident}.{up_name}" in dep["ErrorMessage"]
    assert failed["Data"]["DeployedItems"][0]["Status"] == 2  # ERROR while committing
    assert versions(client, pid, down)[0]["Status"] == "CANCELLED"
    # the failed commit left the file uncommitted, so it can be submitted again later
    assert client.call("GetFile", ProjectId=pid, FileId=down)["Data"]["File"]["CommitStatus"] == 0

    deployed(client, pid, client.call("SubmitFile", ProjectId=pid, FileId=up)["Data"])
    deployed(client, pid, client.call("SubmitFile", ProjectId=pid, FileId=down)["Data"])
    # upstream is only in DEV: deploying downstream to PROD fails with DEPLOY_ERROR (4)
    failed = poll(client, pid, client.call("DeployFile", ProjectId=pid, FileId=down)["Data"])
    assert failed["Data"]["Deployment"]["Status"] == 2
    assert failed["Data"]["DeployedItems"][0]["Status"] == 4
    assert "production" in failed["Data"]["Deployment"]["ErrorMessage"]
    # after the upstream reaches PROD, the same version deploys
    deployed(client, pid, client.call("DeployFile", ProjectId=pid, FileId=up)["Data"])
    deployed(client, pid, client.call("DeployFile", ProjectId=pid, FileId=down)["Data"])
    # removing the upstream while the downstream depends on it fails the package
    refused = poll(client, pid, client.call("DeleteFile", ProjectId=pid, FileId=up)["DeploymentId"])
    assert refused["Data"]["Deployment"]["Status"] == 2
    assert down_name in refused["Data"]["Deployment"]["ErrorMessage"]
    restored = client.call("GetFile", ProjectId=pid, FileId=up)["Data"]["File"]
    assert restored["DeletedStatus"] == "NORMAL"


def test_deploy_refused_before_commit_succeeds(
    client: Client, new_project: Callable[..., int]
) -> None:
    pid = new_project()
    fid = client.call("CreateFile", ProjectId=pid, FileName=unique("f"), FileType=10)["Data"]
    with pytest.raises(CallFailed) as never:
        client.call("DeployFile", ProjectId=pid, FileId=fid)
    assert never.value.code == "Invalid.Deploy.NotCommitted"


def test_get_deployment_answers_every_seed_field(legacy: LegacyClient, server: object) -> None:
    pid = int(
        legacy.call("CreateProject", ProjectIdentifier=unique("seed"), ProjectName="seed")["Data"]
    )
    fid = legacy.call("CreateFile", ProjectId=pid, FileName=unique("f"), FileType=10)["Data"]
    dep_id = legacy.call("SubmitFile", ProjectId=pid, FileId=fid)["Data"]
    body = poll(legacy, pid, dep_id)  # legacy returns the raw JSON body: nulls included
    assert set(body) >= {"HttpStatusCode", "ErrorMessage", "RequestId", "ErrorCode", "Success"}
    assert body["Success"] is True and body["HttpStatusCode"] == 200
    assert set(body["Data"]["Deployment"]) == SEED_DEPLOYMENT_FIELDS
    assert body["Data"]["Deployment"]["CheckingStatus"] is None
    assert set(body["Data"]["DeployedItems"][0]) == {"FileId", "FileVersion", "Status"}


def test_project_identifier_selects_workspace(
    client: Client, new_project: Callable[..., int]
) -> None:
    pid = new_project()
    other = new_project()
    ident = client.call("GetProject", ProjectId=pid)["Data"]["ProjectIdentifier"]
    fid = client.call("CreateFile", ProjectIdentifier=ident, FileName=unique("f"), FileType=10)
    assert client.call("GetFile", ProjectId=pid, FileId=fid["Data"])["Data"]["File"]["FileId"]
    with pytest.raises(CallFailed) as mismatch:
        client.call("GetProject", ProjectId=other, ProjectIdentifier=ident)
    assert mismatch.value.code == "Invalid.Param"
    with pytest.raises(CallFailed) as missing:
        client.call("GetDeployment", DeploymentId=1)
    assert missing.value.code == "MissingParameter"
    assert "ProjectId" in missing.value.message
    with pytest.raises(CallFailed) as absent:
        client.call("GetProject", ProjectId=999_999_999)
    assert absent.value.code == "Invalid.Tenant.ProjectNotExists"
