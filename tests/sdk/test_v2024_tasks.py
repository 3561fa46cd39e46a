"""2024 scheduler tasks through the official 2024 SDK: the nodes deployment made."""

from __future__ import annotations

from typing import Any

from .clients import CommonClient2024, Tea2024Client, TeaClient
from .conftest import RunningServer, poll, unique
from .security_helpers import cli_json, failure

Client24 = Tea2024Client | CommonClient2024


def done(tea: TeaClient, pid: int, package_id: int) -> None:
    data = poll(tea, pid, package_id)["Data"]
    assert data["Deployment"]["Status"] == 1, data


def workspace(tea: TeaClient) -> tuple[int, str]:
    ident = unique("task")
    made = tea.call("CreateProject", ProjectIdentifier=ident, ProjectName="tasks", ProjectMode=3)
    return int(made["Data"]), ident


def node_id(tea: TeaClient, pid: int, fid: int) -> int:
    return int(tea.call("GetFile", ProjectId=pid, FileId=fid)["Data"]["File"]["NodeId"])


def tasks(client: Client24, pid: int, **params: Any) -> dict:
    return dict(client.call("ListTasks", ProjectId=pid, PageSize=100, **params)["PagingInfo"])


def names(listing: dict) -> list[str]:
    assert listing["TotalCount"] == len(listing["Tasks"])
    return [t["Name"] for t in listing["Tasks"]]


def test_tasks_appear_on_deployment_with_the_deployed_schedule(
    client24: Client24, tea: TeaClient
) -> None:
    pid, ws = workspace(tea)
    wf_name = unique("wf")
    wf = tea.call("CreateBusiness", ProjectId=pid, BusinessName=wf_name)["BusinessId"]
    up_name, down_name = unique("up"), unique("down")
    up = tea.call(
        "CreateFile", ProjectId=pid, FileName=up_name, FileType=10, Content="SELECT 1;",
        InputList=f"{ws}_root", CronExpress="00 05 01 * * ?", RerunMode="ALL_DENIED",
    )["Data"]  # fmt: skip
    down = tea.call(
        "CreateFile", ProjectId=pid, FileName=down_name, FileType=6, Content="echo $bizdate",
        InputList=f"{ws}.{up_name}", CronExpress="00 30 02 * * ?", RerunMode="FAILURE_ALLOWED",
        AutoRerunTimes=3, AutoRerunIntervalMillis=120000, ParaValue="bizdate=$bizdate",
        StartImmediately=True, ResourceGroupId=12345, FileFolderPath=f"业务流程/{wf_name}/通用",
        CreateFolderIfNotExists=True,
    )["Data"]  # fmt: skip
    assert tasks(client24, pid, ProjectEnv="Dev")["TotalCount"] == 0

    for fid in (up, down):
        done(tea, pid, tea.call("SubmitFile", ProjectId=pid, FileId=fid)["Data"])
    up_task, down_task = node_id(tea, pid, up), node_id(tea, pid, down)

    # committed: Dev has both tasks, Prod none
    assert sorted(names(tasks(client24, pid, ProjectEnv="Dev"))) == sorted([up_name, down_name])
    assert tasks(client24, pid)["TotalCount"] == 0  # Prod is the default
    missing = failure(lambda: client24.call("GetTask", Id=down_task, ProjectEnv="Prod"))
    assert (missing.code, missing.status) == ("InvalidTask.NotFound", 404)
    dev = client24.call("GetTask", Id=down_task, ProjectEnv="Dev")["Task"]
    assert (dev["Id"], dev["EnvType"], dev["ProjectEnv"]) == (down_task, "Dev", "Dev")

    for fid in (up, down):
        done(tea, pid, tea.call("DeployFile", ProjectId=pid, FileId=fid)["Data"])
    task = client24.call("GetTask", Id=down_task)["Task"]
    assert (task["Id"], task["Name"], task["Type"], task["ProjectId"]) == (
        down_task, down_name, "DIDE_SHELL", pid,
    )  # fmt: skip
    assert (task["EnvType"], task["WorkflowId"], task["Priority"]) == ("Prod", wf, 1)
    assert task["Trigger"]["Cron"] == "00 30 02 * * ?"
    assert (task["Trigger"]["Type"], task["Trigger"]["Recurrence"]) == ("Scheduler", "Normal")
    assert (task["RerunMode"], task["RerunTimes"], task["RerunInterval"]) == (
        "FailureAllowed", 3, 120,
    )  # fmt: skip
    assert task["InstanceMode"] == "Immediately"
    assert task["RuntimeResource"]["ResourceGroupId"] == "12345"
    assert task["Script"] == {"Content": "echo $bizdate", "Parameters": "bizdate=$bizdate"}
    assert task["Dependencies"] == [
        {"Type": "Normal", "UpstreamOutput": f"{ws}.{up_name}", "UpstreamTaskId": str(up_task)}
    ]
    assert {"Output": f"{ws}.{down_name}"} in task["Outputs"]["TaskOutputs"]
    first = client24.call("GetTask", Id=up_task, ProjectEnv="Prod")["Task"]
    assert first["RerunMode"] == "AllDenied" and first["InstanceMode"] == "T+1"
    # the workspace root is no task: the dependency names the output only
    (root,) = first["Dependencies"]
    assert (root["Type"], root["UpstreamOutput"]) == ("Normal", f"{ws}_root")
    assert root.get("UpstreamTaskId") is None

    # the 2024 node names the same task
    assert client24.call("GetNode", Id=str(down))["Node"]["TaskId"] == down_task

    # a committed but undeployed change reaches Dev only: Prod keeps the deployed schedule
    tea.call("UpdateFile", ProjectId=pid, FileId=down, CronExpress="00 45 03 * * ?")
    done(tea, pid, tea.call("SubmitFile", ProjectId=pid, FileId=down)["Data"])
    assert client24.call("GetTask", Id=down_task, ProjectEnv="Dev")["Task"]["Trigger"]["Cron"] == (
        "00 45 03 * * ?"
    )
    assert client24.call("GetTask", Id=down_task)["Task"]["Trigger"]["Cron"] == "00 30 02 * * ?"

    # ListTasks: filters and order
    listed = tasks(client24, pid)
    assert [t["Id"] for t in listed["Tasks"]] == sorted([up_task, down_task], reverse=True)
    entry = next(t for t in listed["Tasks"] if t["Id"] == down_task)
    assert entry["ScriptParameters"] == "bizdate=$bizdate" and entry["ProjectEnv"] == "Prod"
    assert entry["Trigger"] == task["Trigger"] and entry["WorkflowId"] == wf
    assert [t["Id"] for t in tasks(client24, pid, SortBy="Id Asc")["Tasks"]] == sorted(
        [up_task, down_task]
    )
    assert names(tasks(client24, pid, Name=down_name[:8].upper() + down_name[8:])) == [down_name]
    assert names(tasks(client24, pid, TaskType="ODPS_SQL")) == [up_name]
    assert names(tasks(client24, pid, Ids=[up_task])) == [up_name]
    assert names(tasks(client24, pid, WorkflowId=wf)) == [down_name]
    assert names(tasks(client24, pid, RuntimeResource="12345")) == [down_name]
    assert names(tasks(client24, pid, TriggerType="Manual")) == []
    assert len(names(tasks(client24, pid, TriggerRecurrence="Normal"))) == 2
    paged = client24.call("ListTasks", ProjectId=pid, PageSize=1, PageNumber=2)["PagingInfo"]
    assert (paged["TotalCount"], [t["Id"] for t in paged["Tasks"]]) == (
        2,
        [min(up_task, down_task)],
    )

    # a production node taken offline is paused
    tea.call("OfflineNode", ProjectId=pid, NodeId=down_task)
    assert client24.call("GetTask", Id=down_task)["Task"]["Trigger"]["Recurrence"] == "Pause"
    assert names(tasks(client24, pid, TriggerRecurrence="Pause")) == [down_name]


def test_unknown_foreign_and_bad_task_requests(
    client24: Client24, tea: TeaClient, server: RunningServer
) -> None:
    pid, _ = workspace(tea)
    fid = tea.call("CreateFile", ProjectId=pid, FileName=unique("t"), FileType=10, Content="x")[
        "Data"
    ]
    done(tea, pid, tea.call("SubmitFile", ProjectId=pid, FileId=fid)["Data"])
    task_id = node_id(tea, pid, fid)

    missing = failure(lambda: client24.call("GetTask", Id=987654321987, ProjectEnv="Dev"))
    assert (missing.code, missing.status) == ("InvalidTask.NotFound", 404)
    for env in ("Test", "LOCAL"):
        bad = failure(lambda env=env: client24.call("GetTask", Id=task_id, ProjectEnv=env))
        assert (bad.code, bad.status) == ("Invalid.Param", 400)
        bad = failure(lambda env=env: client24.call("ListTasks", ProjectId=pid, ProjectEnv=env))
        assert (bad.code, bad.status) == ("Invalid.Param", 400)
    for params in (
        {"SortBy": "Name Desc"},
        {"SortBy": "Id Sideways"},
        {"TriggerType": "Cron"},
        {"TriggerRecurrence": "Always"},
    ):
        bad = failure(lambda params=params: client24.call("ListTasks", ProjectId=pid, **params))
        assert (bad.code, bad.status) == ("Invalid.Param", 400), params
    # either letter case of ProjectEnv
    assert client24.call("GetTask", Id=task_id, ProjectEnv="DEV")["Task"]["Id"] == task_id

    other = cli_json(server, "accounts", "create", unique("acct"))
    stranger = Tea2024Client(server.endpoint, other["AccessKeyId"], other["AccessKeySecret"])
    hidden = failure(lambda: stranger.call("GetTask", Id=task_id, ProjectEnv="Dev"))
    assert (hidden.code, hidden.status) == ("InvalidTask.NotFound", 404)
    foreign = failure(lambda: stranger.call("ListTasks", ProjectId=pid, ProjectEnv="Dev"))
    assert (foreign.code, foreign.status) == ("Invalid.Tenant.ProjectNotExists", 400)
