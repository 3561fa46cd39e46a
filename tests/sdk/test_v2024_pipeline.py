"""Pipeline runs (2024-05-18) over the package lifecycle, through the official SDKs.

Files are made with the 2020 SDK; runs are driven the way DataWorks' own client does:
poll GetPipelineRun, execute the first Init stage whose predecessors all succeeded, stop
on a final status.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from .clients import CallFailed, CommonClient2024, Tea2024Client, TeaClient
from .conftest import DEV_KEY, RunningServer, unique
from .security_helpers import new_user

Client24 = Tea2024Client | CommonClient2024
FINAL = {"Success", "Fail", "Termination", "Cancel"}
ROOT = "1000000000000001"
STANDARD = ["BUILD_PACKAGE", "DEV_CHECK", "DEV", "PROD_CHECK", "PROD"]


def workspace(tea: TeaClient, server: RunningServer, mode: int = 3, **settings: str) -> int:
    pid = int(
        tea.call(
            "CreateProject", ProjectIdentifier=unique("pl"), ProjectName="pipeline",
            ProjectMode=mode,
        )["Data"]
    )  # fmt: skip
    if settings:
        pairs = [f"{k.replace('_', '.', 1)}={v}" for k, v in settings.items()]
        done = server.cli("workspace", "set", str(pid), *pairs)
        assert done.returncode == 0, done.stderr
    return pid


def new_file(tea: TeaClient, pid: int, content: str = "SELECT 1;") -> int:
    return int(
        tea.call("CreateFile", ProjectId=pid, FileName=unique("n"), FileType=10, Content=content)[
            "Data"
        ]
    )


def create(client: Client24, pid: int, fid: int | str, **extra: Any) -> str:
    params: dict[str, Any] = {"ProjectId": pid, "Type": "Online", "ObjectIds": [str(fid)]}
    return str(client.call("CreatePipelineRun", **(params | extra))["Id"])


def get(client: Client24, pid: int, run_id: str) -> dict[str, Any]:
    return dict(client.call("GetPipelineRun", ProjectId=pid, Id=run_id)["Pipeline"])


def statuses(run: dict[str, Any]) -> dict[str, str]:
    return {s["Code"]: s["Status"] for s in run["Stages"]}


def wait(client: Client24, pid: int, run_id: str, done: Any, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        run = get(client, pid, run_id)
        if done(run) or time.monotonic() > deadline:
            return run
        time.sleep(0.05)


def settled(run: dict[str, Any]) -> bool:
    return run["Status"] in FINAL or not any(s["Status"] == "Running" for s in run["Stages"])


def drive(client: Client24, pid: int, run_id: str, timeout: float = 30) -> dict[str, Any]:
    """The generic client loop of DataWorks' deploy guide."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = get(client, pid, run_id)
        if run["Status"] in FINAL:
            return run
        stages = run["Stages"]
        for i, stage in enumerate(stages):
            if stage["Status"] == "Init" and all(p["Status"] == "Success" for p in stages[:i]):
                client.call("ExecPipelineRunStage", ProjectId=pid, Id=run_id, Code=stage["Code"])
                break
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} did not finish: {get(client, pid, run_id)}")


def refused(call: Any, code: str, status: int = 400) -> CallFailed:
    with pytest.raises(CallFailed) as caught:
        call()
    assert (caught.value.code, caught.value.status) == (code, status), caught.value
    return caught.value


def packages(tea: TeaClient, pid: int) -> list[dict[str, Any]]:
    """The workspace's packages (2020 ListDeployments, then GetDeployment), newest first."""
    data = tea.call("ListDeployments", ProjectId=pid, PageSize=100)["Data"]
    found = []
    for row in data["Deployments"]:
        one = tea.call("GetDeployment", ProjectId=pid, DeploymentId=row["Id"])["Data"]
        found.append({"Id": row["Id"], **one["Deployment"]})
    return found


# -- the client loop -------------------------------------------------------------------------


def test_standard_workspace_deploys_a_node_stage_by_stage(
    client24: Client24, tea: TeaClient, server: RunningServer
) -> None:
    pid = workspace(tea, server)
    fid = new_file(tea, pid)
    run_id = create(client24, pid, fid, Description="first deploy")
    first = get(client24, pid, run_id)
    assert first["Status"] == "Running" and first["Creator"] == ROOT
    assert [s["Code"] for s in first["Stages"]] == STANDARD
    assert [s["Step"] for s in first["Stages"]] == [1, 2, 3, 4, 5]
    assert [s["Type"] for s in first["Stages"]] == ["Build", "Check", "Deploy", "Check", "Deploy"]
    assert statuses(first) == dict.fromkeys(STANDARD, "Init") | {"BUILD_PACKAGE": "Success"}
    assert first["Description"] == "first deploy" and first["Stages"][0]["Detail"]["checkerList"]

    done = drive(client24, pid, run_id)
    assert done["Status"] == "Success" and set(statuses(done).values()) == {"Success"}
    assert done["ModifyTime"] >= done["CreateTime"]
    file = tea.call("GetFile", ProjectId=pid, FileId=fid)["Data"]["File"]
    assert file["CommitStatus"] == 1 and file["CurrentVersion"] == 1

    # one history: the run's two packages are 2020 packages
    made = packages(tea, pid)
    assert sorted((p["FromEnvironment"], p["ToEnvironment"], p["Status"]) for p in made) == [
        (0, 1, 1),
        (1, 2, 1),
    ]
    one = tea.call("GetDeployment", ProjectId=pid, DeploymentId=made[0]["Id"])["Data"]
    assert one["Deployment"]["Status"] == 1

    items = client24.call("ListPipelineRunItems", ProjectId=pid, PipelineRunId=run_id)
    listed = items["PagingInfo"]["PipelineRunItems"]
    assert [(i["Id"], i["Type"], i["Status"], i["Version"]) for i in listed] == [
        (str(fid), "Node", "Success", 1)
    ]
    assert json.loads(listed[0]["Spec"])["kind"] == "Node"


def test_basic_workspace_has_three_stages(tea24: Tea2024Client, tea: TeaClient, server) -> None:
    pid = workspace(tea, server, mode=2)
    fid = new_file(tea, pid)
    run_id = create(tea24, pid, fid)
    assert [s["Code"] for s in get(tea24, pid, run_id)["Stages"]] == [
        "BUILD_PACKAGE",
        "PROD_CHECK",
        "PROD",
    ]
    assert drive(tea24, pid, run_id)["Status"] == "Success"
    made = packages(tea, pid)
    assert [(p["FromEnvironment"], p["ToEnvironment"], p["Status"]) for p in made] == [(0, 2, 1)]
    # nothing left to deploy: BUILD_PACKAGE fails with a clear message
    again = get(tea24, pid, create(tea24, pid, fid))
    assert again["Status"] == "Fail" and "Nothing to deploy" in again["Message"]
    assert again["Stages"][0]["Status"] == "Fail"


def test_auto_mode_until_dev_then_all(tea24: Tea2024Client, tea: TeaClient, server) -> None:
    pid = workspace(tea, server)
    fid = new_file(tea, pid)
    run_id = create(tea24, pid, fid, RunMode="Auto", AutoRunUntilStage="DEV")
    run = wait(tea24, pid, run_id, lambda r: statuses(r)["DEV"] == "Success")
    assert statuses(run) == {
        "BUILD_PACKAGE": "Success", "DEV_CHECK": "Success", "DEV": "Success",
        "PROD_CHECK": "Init", "PROD": "Init",
    }  # fmt: skip
    assert run["Status"] == "Running"
    assert drive(tea24, pid, run_id)["Status"] == "Success"

    tea.call("UpdateFile", ProjectId=pid, FileId=fid, Content="SELECT 2;")
    auto = create(tea24, pid, fid, RunMode="Auto")
    done = wait(tea24, pid, auto, lambda r: r["Status"] in FINAL)
    assert done["Status"] == "Success", done
    assert tea.call("GetFile", ProjectId=pid, FileId=fid)["Data"]["File"]["CurrentVersion"] == 2


# -- offline and abolish -----------------------------------------------------------------------


def _deployed(client: Client24, tea: TeaClient, server: RunningServer, mode: int = 3) -> tuple:
    pid = workspace(tea, server, mode=mode)
    fid = new_file(tea, pid)
    assert drive(client, pid, create(client, pid, fid))["Status"] == "Success"
    return pid, fid


def test_offline_takes_the_node_out_and_deletes_it(tea24: Tea2024Client, tea, server) -> None:
    pid, fid = _deployed(tea24, tea, server)
    run_id = create(tea24, pid, fid, Type="Offline")
    run = get(tea24, pid, run_id)
    assert [(s["Code"], s["Type"]) for s in run["Stages"]] == [
        ("OfflineCheck", "Check"), ("PROD_CHECK", "Check"), ("PROD", "Offline"),
        ("DeleteNode", "Delete"),
    ]  # fmt: skip
    assert drive(tea24, pid, run_id)["Status"] == "Success"
    refused(lambda: tea.call("GetFile", ProjectId=pid, FileId=fid), "InvalidFile.NotFound", 404)
    newest = packages(tea, pid)[0]  # the deletion, to production
    assert (newest["FromEnvironment"], newest["ToEnvironment"], newest["Status"]) == (0, 2, 1)


def test_abolish_before_delete_node_keeps_the_node(tea24: Tea2024Client, tea, server) -> None:
    pid, fid = _deployed(tea24, tea, server, mode=2)
    run_id = create(tea24, pid, fid, Type="Offline")
    for code in ("PROD_CHECK", "PROD"):
        tea24.call("ExecPipelineRunStage", ProjectId=pid, Id=run_id, Code=code)
        wait(tea24, pid, run_id, lambda r, c=code: statuses(r)[c] != "Running")
    assert tea24.call("AbolishPipelineRun", ProjectId=pid, Id=run_id)["Success"] is True
    run = get(tea24, pid, run_id)
    assert run["Status"] == "Cancel" and statuses(run)["DeleteNode"] == "Cancel"
    assert statuses(run)["PROD"] == "Success"
    file = tea.call("GetFile", ProjectId=pid, FileId=fid)["Data"]["File"]
    assert file["FileId"] == fid  # undeployed, not deleted
    refused(
        lambda: tea24.call("AbolishPipelineRun", ProjectId=pid, Id=run_id),
        "Invalid.PipelineRun.AlreadyFinished",
    )
    # an Offline run of a node no longer in production fails its first stage
    again = get(tea24, pid, create(tea24, pid, fid, Type="Offline"))
    assert again["Status"] == "Fail" and "not in production" in again["Message"]


def test_abolish_fails_the_held_package(tea24: Tea2024Client, tea, server) -> None:
    pid = workspace(tea, server)
    fid = new_file(tea, pid)
    run_id = create(tea24, pid, fid)
    tea24.call("ExecPipelineRunStage", ProjectId=pid, Id=run_id, Code="DEV_CHECK")
    wait(tea24, pid, run_id, lambda r: statuses(r)["DEV_CHECK"] == "Success")
    tea24.call("AbolishPipelineRun", ProjectId=pid, Id=run_id)
    run = get(tea24, pid, run_id)
    assert run["Status"] == "Cancel"
    assert statuses(run) == {
        "BUILD_PACKAGE": "Success", "DEV_CHECK": "Success", "DEV": "Cancel",
        "PROD_CHECK": "Cancel", "PROD": "Cancel",
    }  # fmt: skip
    (package,) = packages(tea, pid)
    assert package["Status"] == 2 and "abolished" in package["ErrorMessage"]
    # the working copy may be committed again by a new run
    assert drive(tea24, pid, create(tea24, pid, fid))["Status"] == "Success"


# -- refusals -----------------------------------------------------------------------------------


def test_every_out_of_order_exec_is_refused_and_changes_nothing(
    client24: Client24, tea: TeaClient, server: RunningServer
) -> None:
    pid = workspace(tea, server)
    fid = new_file(tea, pid)
    run_id = create(client24, pid, fid)
    before = get(client24, pid, run_id)

    def exec_(code: str) -> Any:
        return lambda: client24.call("ExecPipelineRunStage", ProjectId=pid, Id=run_id, Code=code)

    refused(exec_("DEV"), "Invalid.PipelineRun.StageNotReady")  # skip
    refused(exec_("PROD"), "Invalid.PipelineRun.StageNotReady")
    refused(exec_("BUILD_PACKAGE"), "Invalid.PipelineRun.StageNotReady")  # repeat
    refused(exec_("DeleteNode"), "Invalid.PipelineRun.UnknownStage")
    refused(exec_("NOPE"), "Invalid.PipelineRun.UnknownStage")
    assert get(client24, pid, run_id) == before and packages(tea, pid) == []
    missing = "00000000-0000-4000-8000-000000000000"
    refused(
        lambda: client24.call("ExecPipelineRunStage", ProjectId=pid, Id=missing, Code="DEV"),
        "InvalidPipelineRun.NotFound",
        404,
    )
    client24.call("AbolishPipelineRun", ProjectId=pid, Id=run_id)
    refused(exec_("DEV_CHECK"), "Invalid.PipelineRun.AlreadyFinished")  # on a final run


def test_get_reads_a_run_of_its_own_workspace_only(
    client24: Client24, tea: TeaClient, server: RunningServer
) -> None:
    # GetPipelineRun reads the workspace and the run in one statement: a run of another
    # workspace, an unknown run and an unknown or deleted workspace each keep their answer
    pid, other = workspace(tea, server), workspace(tea, server)
    run_id = create(client24, pid, new_file(tea, pid))
    assert get(client24, pid, run_id)["Id"] == run_id
    refused(lambda: get(client24, other, run_id), "InvalidPipelineRun.NotFound", 404)
    missing = "00000000-0000-4000-8000-000000000000"
    refused(lambda: get(client24, pid, missing), "InvalidPipelineRun.NotFound", 404)
    refused(lambda: get(client24, 987654321, run_id), "Invalid.Tenant.ProjectNotExists")
    client24.call("DeleteProject", Id=other)
    refused(lambda: get(client24, other, run_id), "Invalid.Tenant.ProjectNotExists")


def test_bad_creations(tea24: Tea2024Client, tea: TeaClient, server: RunningServer) -> None:
    pid = workspace(tea, server)
    fid = new_file(tea, pid)
    unknown = refused(lambda: create(tea24, pid, 999999999999), "InvalidObject.NotFound", 404)
    assert "999999999999" in unknown.message
    refused(lambda: create(tea24, pid, fid, Type="Sideways"), "Invalid.Param")
    refused(lambda: create(tea24, pid, fid, RunMode="Fast"), "Invalid.Param")
    refused(
        lambda: create(tea24, pid, fid, RunMode="Auto", AutoRunUntilStage="NOPE"),
        "Invalid.PipelineRun.UnknownStage",
    )
    first = create(tea24, pid, fid)
    busy = refused(lambda: create(tea24, pid, fid), "Invalid.PipelineRun.ObjectBusy")
    assert first in busy.message


def test_a_developer_cannot_run_the_prod_stage(tea: TeaClient, server: RunningServer) -> None:
    pid = workspace(tea, server)
    dev = new_user(server, "dev")
    tea.call("CreateProjectMember", ProjectId=pid, UserId=dev.user_id, RoleCode="role_project_dev")
    client = Tea2024Client(server.endpoint, dev.key_id, dev.secret)
    fid = new_file(tea, pid)
    run_id = create(client, pid, fid)
    for code in ("DEV_CHECK", "DEV", "PROD_CHECK"):
        client.call("ExecPipelineRunStage", ProjectId=pid, Id=run_id, Code=code)
        wait(client, pid, run_id, lambda r, c=code: statuses(r)[c] == "Success")
    denied = refused(
        lambda: client.call("ExecPipelineRunStage", ProjectId=pid, Id=run_id, Code="PROD"),
        "Forbidden.Access",
        403,
    )
    assert "deploy permission" in denied.message
    assert statuses(get(client, pid, run_id))["PROD"] == "Init"
    refused(
        lambda: create(client, pid, new_file(tea, pid), RunMode="Auto"), "Forbidden.Access", 403
    )
    # an O&M member runs the PROD stage, not the development ones
    ops = new_user(server, "ops")
    tea.call("CreateProjectMember", ProjectId=pid, UserId=ops.user_id, RoleCode="role_project_pe")
    operator = Tea2024Client(server.endpoint, ops.key_id, ops.secret)
    other = create(client, pid, new_file(tea, pid))
    denied = refused(
        lambda: operator.call("ExecPipelineRunStage", ProjectId=pid, Id=other, Code="DEV_CHECK"),
        "Forbidden.Access",
        403,
    )
    assert "develop permission" in denied.message
    operator.call("ExecPipelineRunStage", ProjectId=pid, Id=run_id, Code="PROD")
    done = wait(operator, pid, run_id, lambda r: r["Status"] != "Running")
    assert done["Status"] == "Success"


# -- checks and approvals ----------------------------------------------------------------------


def test_a_failing_check_fails_the_stage_and_the_run(tea24, tea, server) -> None:
    pid = workspace(tea, server, checks_builtin="forbid-pattern(MAX_PT)")
    fid = new_file(tea, pid, "SELECT MAX_PT('t');")
    run = drive(tea24, pid, create(tea24, pid, fid))
    assert run["Status"] == "Fail" and "MAX_PT" in run["Message"]
    assert statuses(run)["DEV_CHECK"] == "Fail" and statuses(run)["DEV"] == "Init"
    (package,) = packages(tea, pid)
    assert package["Status"] == 2 and package["CheckingStatus"] == 7  # blocked, not committed


def test_a_rejected_approval_terminates_the_run(tea24, tea, server) -> None:
    pid = workspace(tea, server, approval_required="true")
    fid = new_file(tea, pid)
    run_id = create(tea24, pid, fid, RunMode="Auto")
    run = wait(tea24, pid, run_id, lambda r: statuses(r)["PROD"] == "Running")
    time.sleep(0.5)
    assert statuses(get(tea24, pid, run_id))["PROD"] == "Running"  # held for a reviewer
    prod = next(p for p in packages(tea, pid) if p["ToEnvironment"] == 2)
    done = server.cli("deployments", "reject", str(prod["Id"]), "--reason", "not today")
    assert done.returncode == 0, done.stderr
    run = get(tea24, pid, run_id)
    assert run["Status"] == "Termination" and run["Message"] == "not today"
    assert statuses(run)["PROD"] == "Termination"


# -- one history ---------------------------------------------------------------------------------


def test_2020_packages_are_listed_as_runs(tea24: Tea2024Client, tea, server) -> None:
    pid = workspace(tea, server)
    fid = new_file(tea, pid)
    submit = tea.call("SubmitFile", ProjectId=pid, FileId=fid)["Data"]
    listed = wait(
        tea24,
        pid,
        tea24.call("ListPipelineRuns", ProjectId=pid, ObjectId=str(fid))["PagingInfo"][
            "PipelineRuns"
        ][0]["Id"],
        lambda r: r["Status"] in FINAL,
    )
    assert listed["Status"] == "Success"
    assert [s["Code"] for s in listed["Stages"]] == ["BUILD_PACKAGE", "DEV_CHECK", "DEV"]
    assert tea.call("GetDeployment", ProjectId=pid, DeploymentId=submit)["Data"]
    tea.call("DeployFile", ProjectId=pid, FileId=fid)
    page = tea24.call("ListPipelineRuns", ProjectId=pid, PageSize=1)["PagingInfo"]
    assert page["TotalCount"] == 2 and len(page["PipelineRuns"]) == 1
    newest = page["PipelineRuns"][0]
    assert [s["Code"] for s in newest["Stages"]] == ["PROD_CHECK", "PROD"]
    wait(tea24, pid, newest["Id"], lambda r: r["Status"] in FINAL)
    done = tea24.call("ListPipelineRuns", ProjectId=pid, Status="Success")["PagingInfo"]
    assert done["TotalCount"] == 2
    assert (
        tea24.call("ListPipelineRuns", ProjectId=pid, Creator="nobody")["PagingInfo"]["TotalCount"]
        == 0
    )


def test_old_sdk_names_are_aliases(server: RunningServer, tea: TeaClient) -> None:
    old = CommonClient2024(server.endpoint, *DEV_KEY)
    pid = workspace(tea, server, mode=2)
    fid = new_file(tea, pid)
    run_id = old.call("CreateDeployment", ProjectId=pid, Type="Online", ObjectIds=[str(fid)])["Id"]
    got = old.call("GetDeployment", ProjectId=pid, Id=run_id)["Pipeline"]
    assert got["Id"] == run_id and got["Stages"][0]["Code"] == "BUILD_PACKAGE"
    old.call("ExecDeploymentStage", ProjectId=pid, Id=run_id, Code="PROD_CHECK")
    listed = old.call("ListDeployments", ProjectId=pid)["PagingInfo"]
    assert [d["Id"] for d in listed["Deployments"]] == [run_id]
    assert old.call("AbolishDeployment", ProjectId=pid, Id=run_id)["Success"] is True
    assert old.call("GetDeployment", ProjectId=pid, Id=run_id)["Pipeline"]["Status"] == "Cancel"


# -- workflow definitions as run objects -------------------------------------------------------


def new_workflow(client: Client24, pid: int, nodes: int = 2) -> tuple[str, list[str]]:
    """A workflow definition (2024) with ``nodes`` shell nodes in it; (its id, node ids)."""
    name = unique("wf")
    spec = {"name": name, "script": {"path": name, "runtime": {"command": "WORKFLOW"}}}
    wid = str(
        client.call(
            "CreateWorkflowDefinition",
            ProjectId=pid,
            Spec=json.dumps({"version": "2.0.0", "kind": "CycleWorkflow",
                             "spec": {"workflows": [spec]}}),
        )["Id"]
    )  # fmt: skip
    ids = []
    for _ in range(nodes):
        node = {"name": (n := unique("wn")), "script": {"path": n, "content": "echo 1",
                "runtime": {"command": "DIDE_SHELL"}}}  # fmt: skip
        ids.append(
            str(
                client.call(
                    "CreateNode", ProjectId=pid, Scene="DATAWORKS_PROJECT", ContainerId=wid,
                    Spec=json.dumps({"version": "1.1.0", "kind": "Node",
                                     "spec": {"nodes": [node]}}),
                )["Id"]
            )
        )  # fmt: skip
    return wid, ids


def items(client: Client24, pid: int, run_id: str) -> list[dict[str, Any]]:
    page = client.call("ListPipelineRunItems", ProjectId=pid, PipelineRunId=run_id)
    return list(page["PagingInfo"]["PipelineRunItems"])


def test_a_workflow_deploys_its_nodes(
    client24: Client24, tea: TeaClient, server: RunningServer
) -> None:
    pid = workspace(tea, server)
    wid, (a, b) = new_workflow(client24, pid)
    run_id = create(client24, pid, wid)
    before = items(client24, pid, run_id)
    assert [(i["Id"], i["Type"], i["Status"]) for i in before] == [
        (wid, "WorkflowDefinition", "Init"), (a, "Node", "Init"), (b, "Node", "Init"),
    ]  # fmt: skip
    assert drive(client24, pid, run_id)["Status"] == "Success"

    listed = items(client24, pid, run_id)
    assert [(i["Id"], i["Type"], i["Status"], i.get("Version")) for i in listed] == [
        (wid, "WorkflowDefinition", "Success", None), (a, "Node", "Success", 1),
        (b, "Node", "Success", 1),
    ]  # fmt: skip
    workflow = json.loads(listed[0]["Spec"])
    assert workflow["kind"] == "CycleWorkflow"
    assert [n["id"] for n in workflow["spec"]["workflows"][0]["nodes"]] == [a, b]
    assert json.loads(listed[1]["Spec"])["kind"] == "Node"

    # one history: one package per environment, each with both nodes
    made = packages(tea, pid)
    assert sorted((p["FromEnvironment"], p["ToEnvironment"], p["Status"]) for p in made) == [
        (0, 1, 1),
        (1, 2, 1),
    ]
    for package in made:
        got = tea.call("GetDeployment", ProjectId=pid, DeploymentId=package["Id"])["Data"]
        assert sorted(i["FileId"] for i in got["DeployedItems"]) == [int(a), int(b)]
    for node in (a, b):
        file = tea.call("GetFile", ProjectId=pid, FileId=int(node))["Data"]["File"]
        assert file["CommitStatus"] == 1 and file["CurrentVersion"] == 1
    listed_runs = tea24_list(client24, pid, wid)
    assert [r["Id"] for r in listed_runs] == [run_id]

    # nothing left to deploy: BUILD_PACKAGE fails
    again = get(client24, pid, create(client24, pid, wid))
    assert again["Status"] == "Fail" and "Nothing to deploy" in again["Message"]


def tea24_list(client: Client24, pid: int, object_id: str) -> list[dict[str, Any]]:
    page = client.call("ListPipelineRuns", ProjectId=pid, ObjectId=object_id)
    return list(page["PagingInfo"]["PipelineRuns"])


def test_a_workflow_deploys_only_its_changed_nodes(tea24, tea, server) -> None:
    pid = workspace(tea, server, mode=2)
    wid, (_a, b) = new_workflow(tea24, pid)
    assert drive(tea24, pid, create(tea24, pid, wid))["Status"] == "Success"
    tea.call("UpdateFile", ProjectId=pid, FileId=int(b), Content="echo 2")
    run_id = create(tea24, pid, wid, RunMode="Auto")
    done = wait(tea24, pid, run_id, lambda r: r["Status"] in FINAL)
    assert done["Status"] == "Success", done
    assert [(i["Id"], i.get("Version")) for i in items(tea24, pid, run_id)] == [
        (wid, None),
        (b, 2),
    ]
    newest = packages(tea, pid)[0]
    assert (newest["FromEnvironment"], newest["ToEnvironment"]) == (0, 2)


def test_workflow_run_refusals(tea24: Tea2024Client, tea: TeaClient, server) -> None:
    pid = workspace(tea, server)
    wid, (a, _b) = new_workflow(tea24, pid)
    offline = refused(
        lambda: create(tea24, pid, wid, Type="Offline"),
        "Invalid.PipelineRun.OfflineWorkflow",
    )
    assert wid in offline.message
    # one active run per object: a node's run blocks its workflow's, and back
    node_run = create(tea24, pid, a)
    busy = refused(lambda: create(tea24, pid, wid), "Invalid.PipelineRun.ObjectBusy")
    assert node_run in busy.message
    tea24.call("AbolishPipelineRun", ProjectId=pid, Id=node_run)
    wf_run = create(tea24, pid, wid)
    busy = refused(lambda: create(tea24, pid, a), "Invalid.PipelineRun.ObjectBusy")
    assert wf_run in busy.message
    # an empty workflow has nothing to deploy
    empty, _ = new_workflow(tea24, pid, nodes=0)
    run = get(tea24, pid, create(tea24, pid, empty))
    assert run["Status"] == "Fail" and "has no nodes" in run["Message"]


def test_delete_project_waits_for_an_active_run(tea24: Tea2024Client, tea, server) -> None:
    pid = workspace(tea, server)
    run_id = create(tea24, pid, new_file(tea, pid))  # waits at DEV_CHECK: no package in flight
    busy = refused(lambda: tea24.call("DeleteProject", Id=pid), "Invalid.Project.PipelineRunActive")
    assert run_id in busy.message
    tea24.call("AbolishPipelineRun", ProjectId=pid, Id=run_id)
    tea24.call("DeleteProject", Id=pid)
    refused(lambda: get(tea24, pid, run_id), "Invalid.Tenant.ProjectNotExists")
