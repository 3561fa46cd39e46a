"""Cross-workspace pipeline runs through the official 2024 SDK: an environment configured
with ``openworks environments add``, a workflow with its node, resource and function
promoted from one workspace into another and deployed there (read back through 2020
GetFile / GetNode and 2024 GetNode), a second run after a change updating the same copies,
and bad input answered 4xx with nothing written."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from .clients import CallFailed, Tea2024Client, TeaClient
from .conftest import RunningServer, poll, unique
from .security_helpers import cli_json, new_user

FINAL = {"Success", "Fail", "Termination"}


def workspace(tea: TeaClient, mode: int = 3) -> int:
    data = tea.call(
        "CreateProject", ProjectIdentifier=unique("x"), ProjectName="cross", ProjectMode=mode
    )
    return int(data["Data"])


def environment(server: RunningServer, source: int, target: int) -> int:
    made = cli_json(server, "environments", "add", str(source), str(target), "--name", "promote")
    assert (made["SourceProjectId"], made["TargetProjectId"]) == (source, target)
    return int(made["DeploymentEnvironmentId"])


def deploy(tea: TeaClient, pid: int, fid: int) -> None:
    data = poll(tea, pid, tea.call("SubmitFile", ProjectId=pid, FileId=fid)["Data"])
    assert data["Data"]["Deployment"]["Status"] == 1, data
    data = poll(tea, pid, tea.call("DeployFile", ProjectId=pid, FileId=fid)["Data"])
    assert data["Data"]["Deployment"]["Status"] == 1, data


def wait(tea24: Tea2024Client, pid: int, run_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        run = tea24.call("GetCrossProjectPipelineRun", ProjectId=pid, PipelineRunId=run_id)
        data = dict(run["Data"])
        if data["Status"] in FINAL or time.monotonic() > deadline:
            return data
        time.sleep(0.1)


def items(tea24: Tea2024Client, pid: int, run_id: str) -> dict[str, dict[str, Any]]:
    got = tea24.call("ListCrossProjectPipelineRunItems", ProjectId=pid, PipelineRunId=run_id)
    return {i["ObjectName"]: i for i in got["Data"]["PipelineRunItems"]}


def by_name(tea: TeaClient, pid: int, name: str) -> dict[str, Any]:
    listed = tea.call("ListFiles", ProjectId=pid, Keyword=name, PageSize=100)["Data"]["Files"]
    (found,) = [f for f in listed if f["FileName"] == name]
    return dict(tea.call("GetFile", ProjectId=pid, FileId=found["FileId"])["Data"]["File"])


@pytest.fixture
def setup(server: RunningServer, tea: TeaClient) -> dict[str, Any]:
    """A source workspace with a deployed workflow (node, text resource, function)."""
    source, target = workspace(tea), workspace(tea)
    env = environment(server, source, target)
    wf = unique("wf")
    path = f"Business Flow/{wf}/MaxCompute"
    node = unique("n")
    nid = tea.call(
        "CreateFile", ProjectId=source, FileName=node, FileType=10, Content="SELECT 1;",
        FileFolderPath=path, CreateFolderIfNotExists=True,
    )["Data"]  # fmt: skip
    res = unique("r") + ".txt"
    rid = tea.call(
        "CreateResourceFile", ProjectId=source, FileName=res, FileType=15,
        FileFolderPath=path, OriginResourceName=res, RegisterToCalcEngine=False,
        Content="hello bytes",
    )["Data"]  # fmt: skip
    fn = unique("f")
    fid = tea.call(
        "CreateUdfFile", ProjectId=source, FileName=fn, FileFolderPath=path,
        ClassName="com.x.Upper", FunctionType="STRING", Resources=res,
    )["Data"]  # fmt: skip
    for file_id in (rid, nid, fid):
        deploy(tea, source, int(file_id))
    biz = tea.call("ListBusiness", ProjectId=source, Keyword=wf, PageNumber=1, PageSize=10)
    wf_id = int(biz["Data"]["Business"][0]["BusinessId"])
    return {"source": source, "target": target, "env": env, "wf": wf, "wf_id": wf_id,
            "node": (node, int(nid)), "res": (res, int(rid)), "fn": (fn, int(fid))}  # fmt: skip


def listed_after(tea24: Tea2024Client, s: dict[str, Any], run_id: str) -> dict[str, Any]:
    return items(tea24, s["source"], run_id)


def run(tea24: Tea2024Client, s: dict[str, Any], object_id: int) -> str:
    made = tea24.call(
        "CreateCrossProjectPipelineRun", ProjectId=s["source"],
        DeploymentEnvironmentId=s["env"], Type="Online", ObjectIds=[str(object_id)],
        Description="promote",
    )  # fmt: skip
    assert made["Success"] is True
    return str(made["Data"]["PipelineRunId"])


def test_promote_a_workflow_then_update_it(
    tea: TeaClient, tea24: Tea2024Client, setup: dict[str, Any]
) -> None:
    s = setup
    envs = tea24.call("ListCrossProjectDeploymentEnvironments", ProjectId=s["source"])["Data"]
    assert [(e["DeploymentEnvironmentId"], e["TargetProjectId"]) for e in
            envs["DeploymentEnvironments"]] == [(s["env"], s["target"])]  # fmt: skip
    cands = tea24.call(
        "ListCrossProjectDeploymentCandidates", ProjectId=s["source"],
        DeploymentEnvironmentId=s["env"], PageSize=100,
    )["Data"]  # fmt: skip
    kinds = {
        c["ObjectName"]: (c["ObjectType"], c["ChangeType"]) for c in cands["DeploymentCandidates"]
    }
    assert kinds == {
        s["wf"]: ("WorkflowDefinition", "Create"),
        s["node"][0]: ("Node", "Create"),
        s["res"][0]: ("Resource", "Create"),
        s["fn"][0]: ("Function", "Create"),
    }

    first = run(tea24, s, s["wf_id"])
    ready = tea24.call("GetCrossProjectPipelineRun", ProjectId=s["source"], PipelineRunId=first)
    assert ready["Data"]["Status"] == "Ready" and ready["Data"]["ChangeType"] == "Create"
    listed = items(tea24, s["source"], first)
    assert (
        listed[s["wf"]]["IsRoot"] is True and listed[s["wf"]]["ObjectType"] == "WorkflowDefinition"
    )
    for key in ("node", "res", "fn"):
        item = listed[s[key][0]]
        assert item["IsRoot"] is False and item["ParentObjectId"] == str(s["wf_id"])
        assert (item["ObjectId"], item["ObjectVersion"], item["ChangeType"]) == (
            str(s[key][1]),
            "1",  # the source's deployed version
            "Create",
        )
    tea24.call("ExecCrossProjectPipelineRun", ProjectId=s["source"], PipelineRunId=first)
    done = wait(tea24, s["source"], first)
    assert done["Status"] == "Success", done
    assert done["Executor"] and done["FinishTime"] >= done["ExecuteTime"]

    copies = {k: by_name(tea, s["target"], s[k][0]) for k in ("node", "res", "fn")}
    for key, copy in copies.items():
        assert copy["FileId"] != s[key][1]  # the target's own ids
    node = copies["node"]
    assert node["Content"] == "SELECT 1;"
    biz = tea.call(
        "ListBusiness", ProjectId=s["target"], Keyword=s["wf"], PageNumber=1, PageSize=10
    )
    (flow,) = biz["Data"]["Business"]
    assert {c["BusinessId"] for c in copies.values()} == {flow["BusinessId"]}
    assert listed_after(tea24, s, first)[s["wf"]]["Status"] == "Success"
    prod = tea.call("GetNode", NodeId=node["NodeId"], ProjectEnv="PROD")["Data"]
    assert prod["NodeName"] == s["node"][0]
    got = tea24.call("GetNode", Id=str(node["FileId"]), ProjectId=s["target"])["Node"]
    assert got["Name"] == s["node"][0] and got["ProjectId"] == s["target"]
    assert copies["res"]["Content"] == "hello bytes"

    # a change in the source (deployed), then a second run: the same copies, new versions
    tea.call("UpdateFile", ProjectId=s["source"], FileId=s["node"][1], Content="SELECT 2;")
    deploy(tea, s["source"], s["node"][1])
    second = run(tea24, s, s["wf_id"])
    assert items(tea24, s["source"], second)[s["node"][0]]["ChangeType"] == "Update"
    tea24.call("ExecCrossProjectPipelineRun", ProjectId=s["source"], PipelineRunId=second)
    assert wait(tea24, s["source"], second)["Status"] == "Success"
    again = by_name(tea, s["target"], s["node"][0])
    assert again["FileId"] == node["FileId"] and again["Content"] == "SELECT 2;"
    versions = tea.call("ListFileVersions", ProjectId=s["target"], FileId=node["FileId"])
    assert len(versions["Data"]["FileVersions"]) == 2  # one new version of the copy per run
    listed = tea24.call("ListCrossProjectPipelineRuns", ProjectId=s["source"], Status="Success")
    assert {r["PipelineRunId"] for r in listed["Data"]["PipelineRuns"]} == {first, second}
    total = tea.call("ListFiles", ProjectId=s["target"], PageSize=100)["Data"]["TotalCount"]
    assert total == 3  # updated, not duplicated


def fails(call: Any) -> CallFailed:
    with pytest.raises(CallFailed) as caught:
        call()
    return caught.value


def test_bad_input_is_a_clear_4xx(
    server: RunningServer, tea: TeaClient, tea24: Tea2024Client, setup: dict[str, Any]
) -> None:
    s = setup
    base = {"ProjectId": s["source"], "Type": "Online", "ObjectIds": [str(s["wf_id"])]}
    # an environment not configured (or of another source workspace)
    err = fails(
        lambda: tea24.call("CreateCrossProjectPipelineRun", DeploymentEnvironmentId=987654, **base)
    )
    assert (err.status, err.code) == (404, "InvalidDeploymentEnvironment.NotFound")
    other = {**base, "ProjectId": s["target"]}
    err = fails(
        lambda: tea24.call(
            "CreateCrossProjectPipelineRun", DeploymentEnvironmentId=s["env"], **other
        )
    )
    assert (err.status, err.code) == (404, "InvalidDeploymentEnvironment.NotFound")
    # an unknown object, an object not deployed, two objects, Offline
    env = {**base, "DeploymentEnvironmentId": s["env"]}
    err = fails(
        lambda: tea24.call("CreateCrossProjectPipelineRun", **{**env, "ObjectIds": ["424242"]})
    )
    assert (err.status, err.code) == (404, "InvalidObject.NotFound")
    draft = tea.call(
        "CreateFile", ProjectId=s["source"], FileName=unique("d"), FileType=10, Content="x"
    )["Data"]
    err = fails(
        lambda: tea24.call("CreateCrossProjectPipelineRun", **{**env, "ObjectIds": [str(draft)]})
    )
    assert (err.status, err.code) == (400, "Invalid.CrossProjectPipelineRun.NotDeployed")
    err = fails(
        lambda: tea24.call("CreateCrossProjectPipelineRun", **{**env, "ObjectIds": ["1", "2"]})
    )
    assert (err.status, err.code) == (400, "Invalid.Param")
    err = fails(lambda: tea24.call("CreateCrossProjectPipelineRun", **{**env, "Type": "Offline"}))
    assert (err.status, err.code) == (400, "Invalid.Param")
    # a developer (not admin) of both workspaces
    dev = new_user(server, "dev")
    for pid in (s["source"], s["target"]):
        tea.call(
            "CreateProjectMember", ProjectId=pid, UserId=dev.user_id, RoleCode="role_project_dev"
        )
    theirs = Tea2024Client(server.endpoint, dev.key_id, dev.secret)
    err = fails(lambda: theirs.call("CreateCrossProjectPipelineRun", **env))
    assert (err.status, err.code) == (403, "Invalid.Tenant.UserIsNotProjectOwnerOrAdmin")
    # an admin of the source only: refused for the target
    admin = new_user(server, "adm")
    tea.call(
        "CreateProjectMember",
        ProjectId=s["source"],
        UserId=admin.user_id,
        RoleCode="role_project_admin",
    )
    tea.call(
        "CreateProjectMember",
        ProjectId=s["target"],
        UserId=admin.user_id,
        RoleCode="role_project_dev",
    )
    half = Tea2024Client(server.endpoint, admin.key_id, admin.secret)
    err = fails(lambda: half.call("CreateCrossProjectPipelineRun", **env))
    assert (err.status, err.code) == (403, "Invalid.Tenant.UserIsNotProjectOwnerOrAdmin")
    assert "workspace" in err.message
    # nothing was written: no run, no file in the target
    runs = tea24.call("ListCrossProjectPipelineRuns", ProjectId=s["source"])["Data"]
    assert runs["TotalCount"] == 0
    assert tea.call("ListFiles", ProjectId=s["target"], PageSize=10)["Data"]["TotalCount"] == 0
    # abolish a Ready run; then it cannot run
    made = run(tea24, s, s["wf_id"])
    tea24.call(
        "AbolishCrossProjectPipelineRun", ProjectId=s["source"], PipelineRunId=made, Reason="no"
    )
    assert wait(tea24, s["source"], made)["Status"] == "Termination"
    err = fails(
        lambda: tea24.call("ExecCrossProjectPipelineRun", ProjectId=s["source"], PipelineRunId=made)
    )
    assert (err.status, err.code) == (400, "Invalid.PipelineRun.NotReady")
    err = fails(
        lambda: tea24.call(
            "GetCrossProjectPipelineRun", ProjectId=s["source"], PipelineRunId="nope"
        )
    )
    assert (err.status, err.code) == (404, "InvalidPipelineRun.NotFound")


def test_environments_cli_refuses_bad_pairs(server: RunningServer, tea: TeaClient) -> None:
    source, target = workspace(tea), workspace(tea)
    env = environment(server, source, target)
    again = server.cli("environments", "add", str(source), str(target), "--name", "twice")
    assert again.returncode == 1 and "Invalid.DeploymentEnvironment.Exists" in again.stderr
    same = server.cli("environments", "add", str(source), str(source), "--name", "self")
    assert same.returncode == 1 and "SameWorkspace" in same.stderr
    # a workspace of another account is as one that does not exist: no cross-tenant pair
    other = cli_json(server, "accounts", "create", unique("acct"))
    theirs = TeaClient(server.endpoint, other["AccessKeyId"], other["AccessKeySecret"])
    foreign = workspace(theirs)
    cross = server.cli("environments", "add", str(source), str(foreign), "--name", "cross")
    assert cross.returncode == 1 and "Invalid.Tenant.ProjectNotExists" in cross.stderr
    listed = server.cli("environments", "list", "--workspace", str(source))
    assert [json.loads(line)["DeploymentEnvironmentId"] for line in listed.stdout.splitlines()] == [
        env
    ]
    removed = server.cli("environments", "remove", str(env))
    assert removed.returncode == 0, removed.stderr
    assert server.cli("environments", "list", "--workspace", str(source)).stdout == ""
    audit = server.cli("audit", "--workspace", str(source), "--source", "cli", "--json")
    rows = [json.loads(line) for line in audit.stdout.splitlines()]
    actions = [(r["Action"], r["Code"]) for r in rows if r["Action"].startswith("environments.")]
    assert ("environments.add", "OK") in actions and ("environments.remove", "OK") in actions
    assert ("environments.add", "Invalid.DeploymentEnvironment.Exists") in actions
