"""2024-05-18 workspaces through the official 2024 SDK (ACS3, v2) and core's CommonRequest:
Create/Get/List/Update/DeleteProject, the same workspace through 2020 and 2024, and the
refusals (unknown or deleted Id, downgrade, bad filters, missing permission)."""

from __future__ import annotations

from typing import Any

import pytest

from .clients import CallFailed, CommonClient2024, Tea2024Client, TeaClient
from .conftest import DEV_KEY, RunningServer, poll, unique
from .security_helpers import failure, new_user

Client24 = Tea2024Client | CommonClient2024
ROOT = "1000000000000001"  # the dev key's account root user


def create(client: Client24, standard: bool | None = True, **extra: Any) -> int:
    params: dict[str, Any] = {"Name": unique("p24"), "DisplayName": "made at 2024", **extra}
    if standard is not None:
        params["DevEnvironmentEnabled"] = standard
    made = client.call("CreateProject", **params)
    assert made["Id"] == made["ProjectId"] and isinstance(made["Id"], int)
    return int(made["Id"])


def test_create_get_list_update_delete(client24: Client24) -> None:
    project_id = create(
        client24,
        Description="first",
        AliyunResourceGroupId="rg-1",
        AliyunResourceTags=[{"Key": "team", "Value": "data"}],
    )
    project = client24.call("GetProject", Id=project_id)["Project"]
    assert project["Id"] == project_id and project["DisplayName"] == "made at 2024"
    assert project["Status"] == "Available" and project["DevEnvironmentEnabled"] is True
    assert project["DevRoleDisabled"] is False and project["PaiTaskEnabled"] is False
    assert project["Owner"] == ROOT
    assert project["Description"] == "first" and project["AliyunResourceGroupId"] == "rg-1"
    assert project["AliyunResourceTags"] == [{"Key": "team", "Value": "data"}]

    listed = client24.call("ListProjects", Names=[project["Name"]])["PagingInfo"]
    assert listed["TotalCount"] == 1 and listed["Projects"] == [project]
    assert (listed["PageNumber"], listed["PageSize"]) == (1, 10)
    by_id = client24.call("ListProjects", Ids=[project_id], Status="Available")["PagingInfo"]
    assert [p["Id"] for p in by_id["Projects"]] == [project_id]
    none = client24.call("ListProjects", Ids=[project_id], DevEnvironmentEnabled=False)
    assert none["PagingInfo"]["TotalCount"] == 0
    tagged = client24.call(
        "ListProjects", Ids=[project_id], AliyunResourceTags=[{"Key": "team", "Value": "data"}]
    )
    assert tagged["PagingInfo"]["TotalCount"] == 1

    client24.call("UpdateProject", Id=project_id, DisplayName="renamed", Description="second")
    project = client24.call("GetProject", Id=project_id)["Project"]
    assert (project["DisplayName"], project["Description"]) == ("renamed", "second")

    client24.call("DeleteProject", Id=project_id)
    for action in ("GetProject", "UpdateProject", "DeleteProject"):
        gone = failure(lambda action=action: client24.call(action, Id=project_id))
        assert (gone.code, gone.status) == ("Invalid.Tenant.ProjectNotExists", 400)
    assert client24.call("ListProjects", Ids=[project_id])["PagingInfo"]["TotalCount"] == 0


def test_basic_becomes_standard_but_not_back(client24: Client24) -> None:
    project_id = create(client24, standard=False)
    assert client24.call("GetProject", Id=project_id)["Project"]["DevEnvironmentEnabled"] is False
    client24.call("UpdateProject", Id=project_id, DevEnvironmentEnabled=True)
    assert client24.call("GetProject", Id=project_id)["Project"]["DevEnvironmentEnabled"] is True
    back = failure(
        lambda: client24.call("UpdateProject", Id=project_id, DevEnvironmentEnabled=False)
    )
    assert (back.code, back.status) == ("Invalid.Param", 400)
    assert "standard" in back.message


def test_default_mode_is_standard_and_names_are_checked(client24: Client24) -> None:
    project_id = create(client24, standard=None)
    assert client24.call("GetProject", Id=project_id)["Project"]["DevEnvironmentEnabled"] is True
    bad = failure(lambda: client24.call("CreateProject", Name="1bad", DisplayName="x"))
    assert (bad.code, bad.status) == ("Invalid.Param", 400) and "Name must" in bad.message
    name = client24.call("GetProject", Id=project_id)["Project"]["Name"]
    twice = failure(lambda: client24.call("CreateProject", Name=name, DisplayName="again"))
    assert twice.code == "Invalid.Tenant.ProjectAlreadyExists"


def test_refusals(client24: Client24) -> None:
    project_id = create(client24)
    unknown = failure(lambda: client24.call("GetProject", Id=987654321))
    assert (unknown.code, unknown.status) == ("Invalid.Tenant.ProjectNotExists", 400)
    status = failure(lambda: client24.call("ListProjects", Status="Sleeping"))
    assert (status.code, status.status) == ("InvalidParameter", 400)
    forbid = failure(lambda: client24.call("UpdateProject", Id=project_id, Status="Forbidden"))
    assert (forbid.code, forbid.status) == ("InvalidParameter", 400)
    pai = failure(
        lambda: client24.call(
            "CreateProject", Name=unique("p"), DisplayName="x", PaiTaskEnabled=True
        )
    )
    assert (pai.code, pai.status) == ("InvalidParameter", 400)
    role = failure(lambda: client24.call("UpdateProject", Id=project_id, DevRoleDisabled=True))
    assert role.code == "Invalid.Param"


def test_malformed_json_array(server: RunningServer) -> None:
    common = CommonClient2024(server.endpoint, *DEV_KEY)
    for value in ("[1,", "{}", '["a"]', "1"):
        bad = failure(lambda value=value: common.call("ListProjects", Ids=value))
        assert (bad.code, bad.status) == ("InvalidParameter", 400), value


def test_one_workspace_through_both_versions(tea24: Tea2024Client, tea: TeaClient) -> None:
    # 2024 -> 2020
    project_id = create(tea24, standard=False, Description="from 2024", DevRoleDisabled=True)
    old = tea.call("GetProject", ProjectId=project_id)["Data"]
    new = tea24.call("GetProject", Id=project_id)["Project"]
    assert old["ProjectIdentifier"] == new["Name"] and old["ProjectName"] == new["DisplayName"]
    assert old["ProjectMode"] == 2 and old["ProjectDescription"] == "from 2024"
    assert old["DisableDevelopment"] is True and old["ProjectOwnerBaseId"] == new["Owner"]
    # 2020 -> 2024
    made = tea.call(
        "CreateProject",
        ProjectIdentifier=unique("p20"),
        ProjectName="made at 2020",
        ProjectMode=3,
        ProjectDescription="from 2020",
        Tags=[{"Key": "k", "Value": "v"}],
    )
    old_id = int(made["Data"])
    seen = tea24.call("GetProject", Id=old_id)["Project"]
    assert seen["DisplayName"] == "made at 2020" and seen["DevEnvironmentEnabled"] is True
    assert seen["Description"] == "from 2020" and seen["AliyunResourceTags"] == [
        {"Key": "k", "Value": "v"}
    ]
    assert tea.call("GetProject", ProjectId=old_id)["Data"]["ProjectIdentifier"] == seen["Name"]
    # an update through 2024 shows in 2020; a deletion too
    tea24.call("UpdateProject", Id=project_id, DevEnvironmentEnabled=True, DisplayName="up")
    old = tea.call("GetProject", ProjectId=project_id)["Data"]
    assert (old["ProjectMode"], old["ProjectName"]) == (3, "up")
    tea24.call("DeleteProject", Id=project_id)
    gone = failure(lambda: tea.call("GetProject", ProjectId=project_id))
    assert gone.code == "Invalid.Tenant.ProjectNotExists"


def held_for_approval(tea: TeaClient, server: RunningServer, project_id: int) -> tuple[int, int]:
    """A file of the workspace and its DeployFile package waiting for a reviewer."""
    done = server.cli("workspace", "set", str(project_id), "approval.required=true")
    assert done.returncode == 0, done.stderr
    file_id = tea.call(
        "CreateFile", ProjectId=project_id, FileName=unique("f"), FileType=10, Content="select 1"
    )["Data"]
    submitted = tea.call("SubmitFile", ProjectId=project_id, FileId=file_id)["Data"]
    assert poll(tea, project_id, submitted)["Data"]["Deployment"]["Status"] == 1
    deploy = tea.call("DeployFile", ProjectId=project_id, FileId=file_id)["Data"]
    return file_id, deploy


def test_delete_waits_for_packages_in_flight(
    tea24: Tea2024Client, tea: TeaClient, server: RunningServer
) -> None:
    project_id = create(tea24)
    _, deploy = held_for_approval(tea, server, project_id)
    busy = failure(lambda: tea24.call("DeleteProject", Id=project_id))
    assert (busy.code, busy.status) == ("Invalid.Project.PackagesInFlight", 400)
    rejected = server.cli("deployments", "reject", str(deploy), "--reason", "no")
    assert rejected.returncode == 0, rejected.stderr
    tea24.call("DeleteProject", Id=project_id)


def test_permissions(server: RunningServer, tea24: Tea2024Client) -> None:
    project_id = create(tea24)
    dev = new_user(server, "dev24")
    tea24.call(
        "CreateProjectMember",
        ProjectId=project_id,
        UserId=dev.user_id,
        RoleCodes=["role_project_dev"],
    )
    as_dev = Tea2024Client(server.endpoint, dev.key_id, dev.secret)
    assert as_dev.call("GetProject", Id=project_id)["Project"]["Id"] == project_id
    for action, extra in (("UpdateProject", {"DisplayName": "no"}), ("DeleteProject", {})):
        denied = failure(
            lambda action=action, extra=extra: as_dev.call(action, Id=project_id, **extra)
        )
        assert (denied.code, denied.status) == ("Invalid.Tenant.UserIsNotProjectOwnerOrAdmin", 403)
    outsider = Tea2024Client(server.endpoint, *_key(new_user(server, "out24")))
    with pytest.raises(CallFailed) as caught:
        outsider.call("GetProject", Id=project_id)
    assert caught.value.code == "Invalid.Tenant.UserNotInProject"
    # a user's own workspaces: any user of the account may create and list
    mine = create(outsider)
    assert outsider.call("GetProject", Id=mine)["Project"]["Owner"] != ROOT


def _key(user: Any) -> tuple[str, str]:
    return user.key_id, user.secret


def test_unknown_parameters_are_ignored(server: RunningServer) -> None:
    # Terraform's provider adds RegionId to every 2024 call; the gateway ignores it
    common = CommonClient2024(server.endpoint, *DEV_KEY)
    project_id = int(
        common.call("CreateProject", Name=unique("tf"), DisplayName="t", RegionId="cn-shanghai")[
            "Id"
        ]
    )
    got = common.call("GetProject", Id=project_id, RegionId="cn-shanghai", NotAParameter="x")
    assert got["Project"]["Id"] == project_id
    runs = common.call("ListPipelineRuns", ProjectId=project_id, RegionId="cn-shanghai")
    assert runs["PagingInfo"]["TotalCount"] == 0
