"""Nodes per environment, dependencies from AutoParsing, and the production view."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .clients import CallFailed, LegacyClient, TeaClient
from .conftest import poll, unique

Client = TeaClient | LegacyClient

EXTRACT = "INSERT OVERWRITE TABLE ods_orders PARTITION (ds='${bizdate}') SELECT 1 AS id;"
TRANSFORM = (
    "INSERT OVERWRITE TABLE dwd_orders PARTITION (ds='${bizdate}')\n"
    "SELECT id FROM ods_orders WHERE ds='${bizdate}';"
)
REPORT = (
    "WITH d AS (SELECT id FROM dwd_orders)\n"
    "INSERT OVERWRITE TABLE rpt_orders SELECT count(*) FROM d JOIN ods_orders o ON d.id = o.id;"
)


def run(client: Client, pid: int, package_id: int, status: int = 1) -> dict:
    data = poll(client, pid, package_id)["Data"]
    assert data["Deployment"]["Status"] == status, data
    return data


def node_names(client: Client, pid: int, env: str, **flt: object) -> set[str]:
    data = client.call("ListNodes", ProjectId=pid, ProjectEnv=env, PageSize=100, **flt)["Data"]
    assert data["TotalCount"] == len(data["Nodes"])
    return {n["NodeName"] for n in data["Nodes"]}


def test_three_node_workflow(client: Client, new_project: Callable[..., int]) -> None:
    pid = new_project(mode=3)
    ws = client.call("GetProject", ProjectId=pid)["Data"]["ProjectIdentifier"]
    wf = unique("wf")
    biz = client.call("CreateBusiness", ProjectId=pid, BusinessName=wf)["BusinessId"]
    client.call("CreateFolder", ProjectId=pid, FolderPath=f"Business Flow/{wf}/MaxCompute/etl")
    names = {k: unique(k) for k in ("extract", "transform", "report")}
    ids: dict[str, int] = {}
    for key, sql in (("extract", EXTRACT), ("transform", TRANSFORM), ("report", REPORT)):
        extra = {"InputList": f"{ws}_root"} if key == "extract" else {}
        ids[key] = client.call(
            "CreateFile", ProjectId=pid, FileName=names[key], FileType=10, Content=sql,
            FileFolderPath=f"业务流程/{wf}/folderMaxCompute/etl", AutoParsing=True, **extra,
        )["Data"]  # fmt: skip

    conf = client.call("GetFile", ProjectId=pid, FileId=ids["report"])["Data"]
    assert conf["File"]["BusinessId"] == biz and conf["File"]["AutoParsing"] is True
    inputs = sorted(conf["NodeConfiguration"]["InputList"], key=lambda i: i["Input"])
    assert inputs == [
        {"Input": f"{ws}.dwd_orders", "ParseType": "AUTO"},
        {"Input": f"{ws}.ods_orders", "ParseType": "AUTO"},
    ]
    outs = client.call("GetFile", ProjectId=pid, FileId=ids["transform"])["Data"]
    outputs = [o["Output"] for o in outs["NodeConfiguration"]["OutputList"]]
    assert outputs == [f"{ws}.{names['transform']}", f"{ws}.dwd_orders"]

    # commit in dependency order: DEV gets the nodes, PROD nothing yet
    for key in ("extract", "transform", "report"):
        run(client, pid, client.call("SubmitFile", ProjectId=pid, FileId=ids[key])["Data"])
    assert node_names(client, pid, "DEV") == set(names.values())
    assert node_names(client, pid, "PROD") == set()

    # the report cannot go to production before its upstream
    bad = client.call("DeployFile", ProjectId=pid, FileId=ids["report"])["Data"]
    data = run(client, pid, bad, status=2)
    assert data["DeployedItems"][0]["Status"] == 4
    message = data["Deployment"]["ErrorMessage"]
    assert "production" in message and names["report"] in message
    assert f"{ws}.dwd_orders" in message or f"{ws}.ods_orders" in message
    assert node_names(client, pid, "PROD") == set()

    for key in ("extract", "transform", "report"):
        run(client, pid, client.call("DeployFile", ProjectId=pid, FileId=ids[key])["Data"])
        if key == "extract":
            assert node_names(client, pid, "PROD") == {names["extract"]}
    assert node_names(client, pid, "PROD") == set(names.values())
    assert node_names(client, pid, "PROD", BizName=wf, NodeName="transform") == {names["transform"]}

    node_of = {
        k: client.call("GetFile", ProjectId=pid, FileId=i)["Data"]["File"]["NodeId"]
        for k, i in ids.items()
    }
    node = client.call("GetNode", NodeId=node_of["transform"], ProjectEnv="PROD")["Data"]
    assert (node["NodeName"], node["FileType"], node["ProgramType"]) == (
        names["transform"], 10, "ODPS_SQL",
    )  # fmt: skip
    assert (node["ProjectId"], node["BusinessId"], node["SchedulerType"]) == (pid, biz, "NORMAL")
    assert node["FileVersion"] == 1 and node["CronExpress"] == "00 00 00 * * ?"

    def relatives(action: str, key: str) -> set[str]:
        data = client.call(action, NodeId=node_of[key], ProjectEnv="PROD")["Data"]
        assert all(n["StepType"] == "0" and n["ProjectId"] == pid for n in data["Nodes"])
        return {n["NodeName"] for n in data["Nodes"]}

    assert relatives("GetNodeParents", "report") == {names["extract"], names["transform"]}
    assert relatives("GetNodeChildren", "extract") == {names["transform"], names["report"]}
    assert relatives("GetNodeParents", "extract") == set()

    # an uncommitted edit does not reach the environments
    client.call("UpdateFile", ProjectId=pid, FileId=ids["transform"], Content=TRANSFORM + "\n--x")
    for env in ("DEV", "PROD"):
        code = client.call("GetNodeCode", NodeId=node_of["transform"], ProjectEnv=env)["Data"]
        assert code == TRANSFORM

    # a node with children cannot leave DEV
    gone = client.call("DeleteFile", ProjectId=pid, FileId=ids["extract"])["DeploymentId"]
    data = run(client, pid, gone, status=2)
    assert data["DeployedItems"][0]["Status"] == 2
    message = data["Deployment"]["ErrorMessage"]
    assert names["transform"] in message and names["report"] in message
    assert names["extract"] in node_names(client, pid, "DEV")

    # offline: out of scheduling in PROD; a later deploy brings it back
    report_node = node_of["report"]
    client.call("OfflineNode", ProjectId=pid, NodeId=report_node)
    prod = client.call("GetNode", NodeId=report_node, ProjectEnv="PROD")["Data"]
    dev = client.call("GetNode", NodeId=report_node, ProjectEnv="DEV")["Data"]
    assert (prod["SchedulerType"], dev["SchedulerType"]) == ("PAUSE", "NORMAL")
    assert node_names(client, pid, "PROD", SchedulerType="PAUSE") == {names["report"]}
    client.call("UpdateFile", ProjectId=pid, FileId=ids["report"], Content=REPORT + "\n--v2")
    run(client, pid, client.call("SubmitFile", ProjectId=pid, FileId=ids["report"])["Data"])
    run(client, pid, client.call("DeployFile", ProjectId=pid, FileId=ids["report"])["Data"])
    prod = client.call("GetNode", NodeId=report_node, ProjectEnv="PROD")["Data"]
    assert (prod["SchedulerType"], prod["FileVersion"]) == ("NORMAL", 2)
    code = client.call("GetNodeCode", NodeId=report_node, ProjectEnv="PROD")["Data"]
    assert code.endswith("--v2")


def test_node_errors(client: Client, new_project: Callable[..., int]) -> None:
    pid = new_project(mode=3)
    with pytest.raises(CallFailed) as err:
        client.call("GetNode", NodeId=999_999_999_999, ProjectEnv="PROD")
    assert (err.value.code, err.value.status) == ("InvalidNode.NotFound", 404)
    with pytest.raises(CallFailed) as err:
        client.call("GetNodeCode", NodeId=1, ProjectEnv="TEST")
    assert (err.value.code, err.value.status) == ("Invalid.Param", 400)
    with pytest.raises(CallFailed) as err:
        client.call("OfflineNode", ProjectId=pid, NodeId=999_999_999_999)
    assert (err.value.code, err.value.status) == ("InvalidNode.NotFound", 404)


def test_auto_parsing_keeps_lists_on_bad_sql(
    client: Client, new_project: Callable[..., int]
) -> None:
    pid = new_project(mode=3)
    ws = client.call("GetProject", ProjectId=pid)["Data"]["ProjectIdentifier"]
    fid = client.call(
        "CreateFile", ProjectId=pid, FileName=unique("p"), FileType=10, AutoParsing=True,
        Content="INSERT INTO TABLE b SELECT * FROM a;",
    )["Data"]  # fmt: skip
    client.call("UpdateFile", ProjectId=pid, FileId=fid, Content="SELECT ( FROM WHERE")
    conf = client.call("GetFile", ProjectId=pid, FileId=fid)["Data"]
    assert conf["File"]["Content"] == "SELECT ( FROM WHERE"
    assert [i["Input"] for i in conf["NodeConfiguration"]["InputList"]] == [f"{ws}.a"]
    assert f"{ws}.b" in [o["Output"] for o in conf["NodeConfiguration"]["OutputList"]]
