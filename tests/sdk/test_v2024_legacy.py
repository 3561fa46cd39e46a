"""The 2020 DataStudio operations at version 2024-05-18 through the official 2024 SDK
(ACS3, v2) and core's CommonRequest: files, versions, folders, workflows, a SubmitFile →
GetDeploymentPackage → DeployFile round trip read back through 2020, ListFiles'
CommitStatus, ListDeploymentPackageFiles and the renamed package reads."""

from __future__ import annotations

import time
from typing import Any

from .clients import CommonClient2024, Tea2024Client, TeaClient
from .conftest import RunningServer, unique
from .security_helpers import failure, new_user
from .test_v2024_projects import held_for_approval

Client24 = Tea2024Client | CommonClient2024
ROOT = "1000000000000001"


def bare(value: Any) -> Any:
    """A wire document without its nulls (the Tea SDK's to_map drops them, the core
    SDK's JSON keeps them)."""
    if isinstance(value, dict):
        return {k: bare(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [bare(v) for v in value]
    return value


def workspace(client: Client24, standard: bool = True) -> int:
    made = client.call(
        "CreateProject", Name=unique("l24"), DisplayName="legacy", DevEnvironmentEnabled=standard
    )
    return int(made["Id"])


def final(client: Client24, project_id: int, package_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        data = client.call("GetDeploymentPackage", ProjectId=project_id, DeploymentId=package_id)[
            "Data"
        ]
        if data["Deployment"]["Status"] != 0 or time.monotonic() > deadline:
            return dict(data)
        time.sleep(0.02)


def test_files_folders_and_workflows(client24: Client24) -> None:
    pid = workspace(client24)
    flow = unique("wf")
    business_id = client24.call("CreateBusiness", ProjectId=pid, BusinessName=flow)["BusinessId"]
    assert (
        client24.call("GetBusiness", ProjectId=pid, BusinessId=business_id)["Data"]["BusinessName"]
        == flow
    )
    client24.call("UpdateBusiness", ProjectId=pid, BusinessId=business_id, Description="d")
    listed = client24.call("ListBusiness", ProjectId=pid, PageNumber=1, PageSize=10)["Data"]
    assert [b["BusinessId"] for b in listed["Business"]] == [business_id]

    folder_id = client24.call(
        "CreateFolder", ProjectId=pid, FolderPath=f"业务流程/{flow}/MaxCompute/a"
    )["Data"]
    got = client24.call("GetFolder", ProjectId=pid, FolderId=folder_id)["Data"]
    assert got["FolderPath"] == f"业务流程/{flow}/MaxCompute/a"
    client24.call("UpdateFolder", ProjectId=pid, FolderId=folder_id, FolderName="b")
    folders = client24.call(
        "ListFolders",
        ProjectId=pid,
        ParentFolderPath=f"业务流程/{flow}/MaxCompute",
        PageNumber=1,
        PageSize=10,
    )["Data"]["Folders"]
    assert [f["FolderPath"] for f in folders] == [f"业务流程/{flow}/MaxCompute/b"]

    name = unique("f")
    file_id = client24.call(
        "CreateFile",
        ProjectId=pid,
        FileName=name,
        FileType=10,
        Content="select 1",
        FileFolderPath=f"业务流程/{flow}/MaxCompute/b",
    )["Data"]
    client24.call("UpdateFile", ProjectId=pid, FileId=file_id, Content="select 2")
    file = client24.call("GetFile", ProjectId=pid, FileId=file_id)["Data"]["File"]
    assert file["Content"] == "select 2" and file["BusinessId"] == business_id
    files = client24.call("ListFiles", ProjectId=pid, Keyword=name)["Data"]
    assert [f["FileId"] for f in files["Files"]] == [file_id]

    client24.call("DeleteFile", ProjectId=pid, FileId=file_id)
    client24.call("DeleteFolder", ProjectId=pid, FolderId=folder_id)
    client24.call("DeleteBusiness", ProjectId=pid, BusinessId=business_id)
    gone = failure(lambda: client24.call("GetBusiness", ProjectId=pid, BusinessId=business_id))
    assert gone.status in (400, 404)


def test_round_trip_reads_the_same_through_2020(client24: Client24, tea: TeaClient) -> None:
    pid = workspace(client24)
    file_id = client24.call(
        "CreateFile", ProjectId=pid, FileName=unique("f"), FileType=10, Content="select 1"
    )["Data"]
    submitted = client24.call("SubmitFile", ProjectId=pid, FileId=file_id, Comment="c1")["Data"]
    data = final(client24, pid, submitted)
    assert data["Deployment"]["Status"] == 1 and data["Deployment"]["ToEnvironment"] == 1
    assert tea.call("GetDeployment", ProjectId=pid, DeploymentId=submitted)["Data"] == bare(data)
    deployed = client24.call("DeployFile", ProjectId=pid, FileId=file_id)["Data"]
    data = final(client24, pid, deployed)
    assert data["Deployment"]["Status"] == 1 and data["Deployment"]["ToEnvironment"] == 2
    assert data["DeployedItems"] == [{"FileId": file_id, "FileVersion": 1, "Status": 1}]

    new = client24.call("ListDeploymentPackages", ProjectId=pid)["Data"]
    old = tea.call("ListDeployments", ProjectId=pid)["Data"]
    assert bare(new) == old and [d["Id"] for d in new["Deployments"]] == [deployed, submitted]
    versions = client24.call("ListFileVersions", ProjectId=pid, FileId=file_id)["Data"]
    assert bare(versions) == tea.call("ListFileVersions", ProjectId=pid, FileId=file_id)["Data"]
    one = client24.call("GetFileVersion", ProjectId=pid, FileId=file_id, FileVersion=1)["Data"]
    assert one["IsCurrentProd"] is True and one["Comment"] == "c1"
    new_file = client24.call("GetFile", ProjectId=pid, FileId=file_id)["Data"]
    assert bare(new_file) == tea.call("GetFile", ProjectId=pid, FileId=file_id)["Data"]


def test_list_files_commit_status(client24: Client24, tea: TeaClient) -> None:
    pid = workspace(client24)
    committed = client24.call(
        "CreateFile", ProjectId=pid, FileName=unique("c"), FileType=10, Content="select 1"
    )["Data"]
    changed = client24.call(
        "CreateFile", ProjectId=pid, FileName=unique("u"), FileType=10, Content="select 1"
    )["Data"]
    final(client24, pid, client24.call("SubmitFile", ProjectId=pid, FileId=committed)["Data"])

    def ids(**flt: Any) -> list[int]:
        files = client24.call("ListFiles", ProjectId=pid, **flt)["Data"]["Files"]
        return [f["FileId"] for f in files]

    assert ids(CommitStatus=1) == [committed] and ids(CommitStatus=0) == [changed]
    assert ids() == [committed, changed]
    bad = failure(lambda: client24.call("ListFiles", ProjectId=pid, CommitStatus=2))
    assert (bad.code, bad.status) == ("InvalidParameter", 400)
    # 2020 has no CommitStatus: every file, as before
    old = tea.call("ListFiles", ProjectId=pid)["Data"]["Files"]
    assert [f["FileId"] for f in old] == [committed, changed]


def test_list_deployment_package_files(client24: Client24, server: RunningServer) -> None:
    pid = workspace(client24)
    first = unique("a")
    a = client24.call("CreateFile", ProjectId=pid, FileName=first, FileType=10, Content="select 1")[
        "Data"
    ]
    b = client24.call(
        "CreateFile", ProjectId=pid, FileName=unique("b"), FileType=6, Content="echo 1"
    )["Data"]
    sub_a = client24.call("SubmitFile", ProjectId=pid, FileId=a, Comment="first")["Data"]
    final(client24, pid, sub_a)
    dep_a = client24.call("DeployFile", ProjectId=pid, FileId=a)["Data"]
    final(client24, pid, dep_a)
    sub_b = client24.call("SubmitFile", ProjectId=pid, FileId=b)["Data"]
    final(client24, pid, sub_b)
    client24.call("UpdateFile", ProjectId=pid, FileId=a, Content="select 2")
    sub_a2 = client24.call("SubmitFile", ProjectId=pid, FileId=a)["Data"]
    final(client24, pid, sub_a2)

    def rows(**flt: Any) -> list[dict[str, Any]]:
        info = client24.call("ListDeploymentPackageFiles", ProjectId=pid, PageSize=100, **flt)
        found: list[dict[str, Any]] = info["PagingInfo"]["DeploymentPackageFiles"]
        assert info["PagingInfo"]["TotalCount"] == len(found)
        return found

    every = rows()
    assert [r["Id"] for r in every] == [sub_a2, sub_b, dep_a, sub_a]
    newest = every[0]
    assert (newest["FileId"], newest["FileVersion"], newest["ChangeType"]) == (a, 2, 1)
    assert newest["Status"] == 11 and newest["IsSameAsProductionVersion"] is False
    assert newest["CommitUser"] == ROOT and newest["ProjectId"] == pid
    assert newest["FileName"] == first and newest["FileType"] == 10
    assert len(newest["CommitTime"]) == 19 and newest["CommitTime"][4] == "-"
    assert '"CronExpress"' in newest["NodeConfiguration"] and newest["NodeId"] > 0
    deployed = every[2]
    assert (deployed["Status"], deployed["ChangeType"], deployed["FileVersion"]) == (101, 0, 1)
    assert deployed["IsSameAsProductionVersion"] is True and every[3]["Comment"] == "first"

    assert [r["Id"] for r in rows(FileIds=[str(b)])] == [sub_b]
    assert [r["Id"] for r in rows(FileType=10, ChangeType=0)] == [dep_a, sub_a]
    assert [r["Id"] for r in rows(FileName=first.upper())] == [sub_a2, dep_a, sub_a]
    assert len(rows(CommitUserId=ROOT)) == 4 and rows(CommitUserId="nobody") == []
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert len(rows(CommitFrom=today, CommitTo=today)) == 4
    assert rows(CommitTo="2000-01-01") == [] and rows(SolutionId=1) == []
    page = client24.call("ListDeploymentPackageFiles", ProjectId=pid, PageSize=3, PageNumber=2)
    assert [r["Id"] for r in page["PagingInfo"]["DeploymentPackageFiles"]] == [sub_a]
    assert page["PagingInfo"]["TotalCount"] == 4

    for flt in ({"ChangeType": 3}, {"CommitFrom": "10/04/2025"}, {"FileIds": ["x"]}):
        bad = failure(
            lambda flt=flt: client24.call("ListDeploymentPackageFiles", ProjectId=pid, **flt)
        )
        assert (bad.code, bad.status) == ("InvalidParameter", 400), flt


def test_package_file_statuses_of_held_packages(
    tea24: Tea2024Client, tea: TeaClient, server: RunningServer
) -> None:
    pid = workspace(tea24)
    _, deploy = held_for_approval(tea, server, pid)
    first = tea24.call("ListDeploymentPackageFiles", ProjectId=pid)["PagingInfo"]
    row = first["DeploymentPackageFiles"][0]
    assert (row["Id"], row["Status"]) == (deploy, 100)
    assert server.cli("deployments", "reject", str(deploy), "--reason", "r").returncode == 0
    row = tea24.call("ListDeploymentPackageFiles", ProjectId=pid)["PagingInfo"]
    assert row["DeploymentPackageFiles"][0]["Status"] == 21


def test_packages_not_found_and_denied(server: RunningServer, tea24: Tea2024Client) -> None:
    pid = workspace(tea24)
    missing = failure(
        lambda: tea24.call("GetDeploymentPackage", ProjectId=pid, DeploymentId=987654321)
    )
    assert (missing.code, missing.status) == ("InvalidDeployment.NotFound", 404)
    event = failure(lambda: tea24.call("GetIDEEventDetail", ProjectId=pid, MessageId="nope"))
    assert (event.code, event.status) == ("InvalidMessage.NotFound", 404)
    answer = failure(lambda: tea24.call("UpdateIDEEventResult", MessageId="nope", CheckResult="OK"))
    assert (answer.code, answer.status) == ("InvalidMessage.NotFound", 404)

    guest = new_user(server, "g24")
    tea24.call(
        "CreateProjectMember", ProjectId=pid, UserId=guest.user_id, RoleCodes=["role_project_guest"]
    )
    as_guest = Tea2024Client(server.endpoint, guest.key_id, guest.secret)
    assert (
        as_guest.call("ListDeploymentPackageFiles", ProjectId=pid)["PagingInfo"]["TotalCount"] == 0
    )
    denied = failure(lambda: as_guest.call("CreateFile", ProjectId=pid, FileName="x1", FileType=10))
    assert (denied.code, denied.status) == ("Forbidden.Access", 403)
    outsider = new_user(server, "x24")
    as_outsider = Tea2024Client(server.endpoint, outsider.key_id, outsider.secret)
    not_member = failure(lambda: as_outsider.call("ListDeploymentPackageFiles", ProjectId=pid))
    assert not_member.code == "Invalid.Tenant.UserNotInProject"
