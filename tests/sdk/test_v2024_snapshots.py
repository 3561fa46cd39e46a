"""2024 snapshots through the official 2024 SDK: the rows of 2020 ListFileVersions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .clients import CallFailed, CommonClient2024, Tea2024Client, TeaClient
from .conftest import RunningServer, poll, unique
from .security_helpers import cli_json, failure

Client24 = Tea2024Client | CommonClient2024
ALL = "Saved,Deployed,UnDeployed"


def done(tea: TeaClient, pid: int, package_id: int) -> None:
    data = poll(tea, pid, package_id)["Data"]
    assert data["Deployment"]["Status"] == 1, data


def workspace(tea: TeaClient, mode: int = 3) -> int:
    made = tea.call(
        "CreateProject", ProjectIdentifier=unique("snap"), ProjectName="snapshots", ProjectMode=mode
    )
    return int(made["Data"])


def versions(tea: TeaClient, pid: int, fid: int) -> list[dict[str, Any]]:
    data = tea.call("ListFileVersions", ProjectId=pid, FileId=fid, PageSize=100)["Data"]
    return list(data["FileVersions"])


def snapshots(client: Client24, pid: int, fid: int, kinds: str = ALL, **paging: Any) -> dict:
    return dict(
        client.call("ListSnapshots", Namespace=str(pid), ObjectId=str(fid), Type=kinds, **paging)[
            "PagingInfo"
        ]
    )


EXPECTED_TYPE = {
    ("COMMITTED", "CREATE"): "Saved",
    ("COMMITTED", "UPDATE"): "Saved",
    ("DEPLOYED", "CREATE"): "Deployed",
    ("DEPLOYED", "UPDATE"): "Deployed",
    ("DEPLOYED", "DELETE"): "UnDeployed",
}


def same_rows(listed: list[dict], rows: list[dict], pid: int, fid: int) -> None:
    assert [s["Version"] for s in listed] == [r["FileVersion"] for r in rows]
    for s, r in zip(listed, rows, strict=True):
        assert s["Id"] == f"{fid}:{r['FileVersion']}"
        assert (s["Namespace"], s["ObjectId"]) == (str(pid), str(fid))
        assert s["Type"] == EXPECTED_TYPE[(r["Status"], r["ChangeType"])]
        assert (s["Comment"], s["Creator"], s["CreateTime"]) == (
            r["Comment"], r["CommitUser"], r["CommitTime"],
        )  # fmt: skip


def test_snapshots_follow_file_versions(client24: Client24, tea: TeaClient) -> None:
    pid = workspace(tea)
    name = unique("snap_node")
    fid = tea.call(
        "CreateFile", ProjectId=pid, FileName=name, FileType=10, Content="SELECT 1;",
        CronExpress="00 10 01 * * ?",
    )["Data"]  # fmt: skip
    assert snapshots(client24, pid, fid) == {
        "Snapshots": [], "PageNumber": 1, "PageSize": 10, "TotalCount": 0,
    }  # fmt: skip
    done(tea, pid, tea.call("SubmitFile", ProjectId=pid, FileId=fid, Comment="first")["Data"])
    tea.call("UpdateFile", ProjectId=pid, FileId=fid, Content="SELECT 2;")
    done(tea, pid, tea.call("SubmitFile", ProjectId=pid, FileId=fid, Comment="second")["Data"])
    done(tea, pid, tea.call("DeployFile", ProjectId=pid, FileId=fid)["Data"])

    rows = versions(tea, pid, fid)
    listed = snapshots(client24, pid, fid, PageSize=50)
    assert listed["TotalCount"] == 2 and listed["PageSize"] == 50
    same_rows(listed["Snapshots"], rows, pid, fid)
    assert [s["Type"] for s in listed["Snapshots"]] == ["Deployed", "Saved"]

    # Type filters (several values, either spelling), paging over the filtered rows
    assert [s["Version"] for s in snapshots(client24, pid, fid, "Deployed")["Snapshots"]] == [2]
    assert [s["Version"] for s in snapshots(client24, pid, fid, '["Saved"]')["Snapshots"]] == [1]
    page2 = snapshots(client24, pid, fid, "Saved, Deployed", PageSize=1, PageNumber=2)
    assert (page2["TotalCount"], [s["Version"] for s in page2["Snapshots"]]) == (2, [1])

    # GetSnapshot: the version with its script and its FlowSpec
    got = client24.call("GetSnapshot", Id=f"{fid}:2")["Snapshot"]
    assert {k: got[k] for k in listed["Snapshots"][0]} == listed["Snapshots"][0]
    assert got["Content"]["Content"] == "SELECT 2;" and got["Content"]["StageCode"] == "PROD"
    assert got.get("ContentUrl") is None
    spec = json.loads(got["Content"]["Spec"])
    assert spec["kind"] == "Node"
    node = spec["spec"]["nodes"][0]
    assert (node["id"], node["name"], node["script"]["content"]) == (str(fid), name, "SELECT 2;")
    assert node["trigger"]["cron"] == "00 10 01 * * ?"
    first = client24.call("GetSnapshot", Id=f"{fid}:1")["Snapshot"]
    assert (first["Type"], first["Content"]["StageCode"], first["Comment"]) == (
        "Saved", "DEV", "first",
    )  # fmt: skip
    assert json.loads(first["Content"]["Spec"])["spec"]["nodes"][0]["script"]["content"] == (
        "SELECT 1;"
    )

    # deleting the file and deploying the deletion: an UnDeployed snapshot
    gone = tea.call("DeleteFile", ProjectId=pid, FileId=fid)["DeploymentId"]
    done(tea, pid, gone)
    done(tea, pid, tea.call("DeployFile", ProjectId=pid, FileId=fid)["Data"])
    rows = versions(tea, pid, fid)
    listed = snapshots(client24, pid, fid)
    same_rows(listed["Snapshots"], rows, pid, fid)
    assert listed["Snapshots"][0]["Type"] == "UnDeployed"
    assert [s["Version"] for s in snapshots(client24, pid, fid, "UnDeployed")["Snapshots"]] == [3]


def test_snapshots_of_a_2024_node_and_a_basic_workspace(
    tea24: Tea2024Client, tea: TeaClient
) -> None:
    pid = workspace(tea, mode=2)
    name = unique("basic_node")
    spec = {
        "version": "1.1.0",
        "kind": "Node",
        "spec": {
            "nodes": [
                {
                    "name": name,
                    "script": {
                        "path": name, "runtime": {"command": "ODPS_SQL"}, "content": "select 7;",
                    },
                    "trigger": {"type": "Scheduler", "cron": "00 00 03 * * ?"},
                }
            ]
        },
    }  # fmt: skip
    node_id = tea24.call(
        "CreateNode", ProjectId=pid, Scene="DATAWORKS_PROJECT", Spec=json.dumps(spec)
    )["Id"]
    done(tea, pid, tea.call("SubmitFile", ProjectId=pid, FileId=int(node_id))["Data"])
    listed = snapshots(tea24, pid, int(node_id))
    same_rows(listed["Snapshots"], versions(tea, pid, int(node_id)), pid, int(node_id))
    assert [s["Type"] for s in listed["Snapshots"]] == ["Deployed"]  # basic: straight to PROD
    got = tea24.call("GetSnapshot", Id=listed["Snapshots"][0]["Id"])["Snapshot"]
    assert json.loads(got["Content"]["Spec"])["spec"]["nodes"][0]["name"] == name

    # a workflow definition has no versions of its own: no snapshots
    wf = tea.call("CreateBusiness", ProjectId=pid, BusinessName=unique("wf"))["BusinessId"]
    assert snapshots(tea24, pid, wf)["TotalCount"] == 0


def test_unknown_foreign_and_bad_snapshot_requests(
    client24: Client24, tea: TeaClient, server: RunningServer
) -> None:
    pid = workspace(tea)
    fid = tea.call("CreateFile", ProjectId=pid, FileName=unique("s"), FileType=10, Content="x")[
        "Data"
    ]
    done(tea, pid, tea.call("SubmitFile", ProjectId=pid, FileId=fid)["Data"])

    def fails(action: str, **params: Any) -> CallFailed:
        return failure(lambda: client24.call(action, **params))

    for params in (
        {"Namespace": str(pid), "ObjectId": "987654321987", "Type": ALL},
        {"Namespace": "987654321", "ObjectId": str(fid), "Type": ALL},  # not its namespace
    ):
        missing = fails("ListSnapshots", **params)
        assert (missing.code, missing.status) == ("InvalidObject.NotFound", 404), params
    for sid in (f"{fid}:99", "987654321987:1"):
        missing = fails("GetSnapshot", Id=sid)
        assert (missing.code, missing.status) == ("InvalidSnapshot.NotFound", 404)
    for params in (
        {"Namespace": str(pid), "ObjectId": str(fid), "Type": "Bogus"},
        {"Namespace": str(pid), "ObjectId": str(fid), "Type": "[1]"},
        {"Namespace": str(pid), "ObjectId": "abc", "Type": ALL},
        {"Namespace": "ws_name", "ObjectId": str(fid), "Type": ALL},
    ):
        bad = fails("ListSnapshots", **params)
        assert (bad.code, bad.status) == ("Invalid.Param", 400), params
    for sid in ("abc", f"{fid}", f"{fid}:x", f":{fid}", f"{fid}:1:2"):
        bad = fails("GetSnapshot", Id=sid)
        assert (bad.code, bad.status) == ("Invalid.Param", 400), sid

    # another account sees nothing: the same not-found as a missing object
    other = cli_json(server, "accounts", "create", unique("acct"))
    stranger = Tea2024Client(server.endpoint, other["AccessKeyId"], other["AccessKeySecret"])
    hidden = failure(
        lambda: stranger.call("ListSnapshots", Namespace=str(pid), ObjectId=str(fid), Type=ALL)
    )
    assert (hidden.code, hidden.status) == ("InvalidObject.NotFound", 404)
    hidden = failure(lambda: stranger.call("GetSnapshot", Id=f"{fid}:1"))
    assert (hidden.code, hidden.status) == ("InvalidSnapshot.NotFound", 404)


@pytest.mark.parametrize("missing", ["Namespace", "ObjectId", "Type"])
def test_list_snapshots_needs_its_parameters(tea24: Tea2024Client, missing: str) -> None:
    params = {"Namespace": "1", "ObjectId": "1", "Type": ALL}
    params.pop(missing)
    err = failure(lambda: tea24.call("ListSnapshots", **params))
    assert err.status == 400 and missing in err.message


def test_a_resource_snapshot_is_a_resource_spec(tea24: Tea2024Client, tea: TeaClient) -> None:
    pid = workspace(tea)
    name = unique("res") + ".py"
    fid = int(
        tea.call(
            "CreateResourceFile", ProjectId=pid, FileName=name, FileType=12,
            FileFolderPath="Business Flow/resources/MaxCompute", OriginResourceName=name,
            RegisterToCalcEngine=False, Content="print(1)\n",
        )["Data"]
    )  # fmt: skip
    done(tea, pid, tea.call("SubmitFile", ProjectId=pid, FileId=fid, Comment="res")["Data"])
    listed = snapshots(tea24, pid, fid)
    same_rows(listed["Snapshots"], versions(tea, pid, fid), pid, fid)
    got = tea24.call("GetSnapshot", Id=f"{fid}:1")["Snapshot"]
    spec = json.loads(got["Content"]["Spec"])
    assert spec["kind"] == "Resource"
    (item,) = spec["spec"]["fileResources"]
    assert (item["id"], item["name"], item["type"]) == (str(fid), name, "python")
    assert item["file"]["size"] == len(b"print(1)\n")
