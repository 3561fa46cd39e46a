"""2024 nodes in FlowSpec through the official 2024 SDK (three dialects), read back in 2020."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .clients import CallFailed, CommonClient2024, Tea2024Client, TeaClient
from .conftest import unique

Client24 = Tea2024Client | CommonClient2024


@pytest.fixture
def pid(tea: TeaClient) -> int:
    data = tea.call(
        "CreateProject", ProjectIdentifier=unique("ws"), ProjectName="2024 nodes", ProjectMode=3
    )
    return int(data["Data"])


def spec(node: dict[str, Any], version: str = "1.1.0", kind: str = "Node", **top: Any) -> str:
    return json.dumps({"version": version, "kind": kind, "spec": {"nodes": [node], **top}})


def sql_node(name: str, **more: Any) -> dict[str, Any]:
    return {
        "name": name,
        "recurrence": "Normal",
        "timeout": 3600,
        "instanceMode": "Immediately",
        "rerunMode": "FailureAllowed",
        "rerunTimes": 5,
        "rerunInterval": 180000,
        "datasource": {"name": "odps_first", "type": "odps"},
        "script": {
            "path": f"业务流程/wf_{name}/MaxCompute/{name}",
            "runtime": {"command": "ODPS_SQL"},
            "content": "select 1;",
            "parameters": [{"name": "bizdate", "value": "$bizdate", "scope": "NodeParameter"}],
        },
        "trigger": {
            "type": "Scheduler",
            "cron": "00 30 02 * * ?",
            "startTime": "2024-01-01 00:00:00",
            "endTime": "9999-01-01 00:00:00",
            "timezone": "Asia/Shanghai",
        },
        "runtimeResource": {"resourceGroup": "S_res_group_1"},
        "inputs": {"nodeOutputs": [{"data": "up.table_a", "artifactType": "NodeOutput"}]},
        "outputs": {"nodeOutputs": [{"data": "out_x", "artifactType": "NodeOutput"}]},
        "customField": {"kept": [1, 2]},
        **more,
    }


def first(text: str) -> dict[str, Any]:
    return json.loads(text)["spec"]["nodes"][0]


def test_node_created_in_2024_reads_in_2020_and_back(
    client24: Client24, tea: TeaClient, pid: int
) -> None:
    name = unique("n")
    node_id = client24.call(
        "CreateNode", ProjectId=pid, Scene="DATAWORKS_PROJECT", Spec=spec(sql_node(name))
    )["Id"]
    assert node_id.isdigit()
    data = tea.call("GetFile", ProjectId=pid, FileId=int(node_id))["Data"]
    f, conf = data["File"], data["NodeConfiguration"]
    assert (f["FileName"], f["FileType"], f["Content"]) == (name, 10, "select 1;")
    assert f["ConnectionName"] == "odps_first" and f["BusinessId"] is not None
    assert conf["CronExpress"] == "00 30 02 * * ?"
    assert [i["Input"] for i in conf["InputList"]] == ["up.table_a"]
    assert "out_x" in [o["Output"] for o in conf["OutputList"]]
    assert (conf["RerunMode"], conf["AutoRerunTimes"], conf["AutoRerunIntervalMillis"]) == (
        "FAILURE_ALLOWED",
        5,
        180000,
    )
    assert conf["ParaValue"] == "bizdate=$bizdate" and conf["StartImmediately"] is True
    assert conf["Timeout"] == 3600 and conf["StartEffectDate"] == 1704038400000

    node = client24.call("GetNode", Id=node_id, ProjectId=pid)["Node"]
    assert node["Id"] == node_id and node["Name"] == name and node["ProjectId"] == pid
    n = first(node["Spec"])
    assert n["id"] == node_id and n["customField"] == {"kept": [1, 2]}
    assert n["script"]["path"] == f"业务流程/wf_{name}/MaxCompute/{name}"
    assert n["trigger"]["startTime"] == "2024-01-01 00:00:00"
    assert n["trigger"]["timezone"] == "Asia/Shanghai"
    assert n["datasource"] == {"name": "odps_first", "type": "odps"}
    assert n["script"]["parameters"][0]["scope"] == "NodeParameter"
    assert [o["data"] for o in n["inputs"]["nodeOutputs"]] == ["up.table_a"]
    # without ProjectId the node names its workspace
    assert client24.call("GetNode", Id=node_id)["Node"]["ProjectId"] == pid

    # a 2020 edit shows in 2024
    tea.call(
        "UpdateFile",
        ProjectId=pid,
        FileId=int(node_id),
        Content="select 2;",
        CronExpress="00 00 05 * * ?",
    )
    n = first(client24.call("GetNode", Id=node_id, ProjectId=pid)["Node"]["Spec"])
    assert n["script"]["content"] == "select 2;" and n["trigger"]["cron"] == "00 00 05 * * ?"


def test_file_created_in_2020_is_a_flowspec_node(
    client24: Client24, tea: TeaClient, pid: int
) -> None:
    name = unique("f")
    file_id = tea.call(
        "CreateFile",
        ProjectId=pid,
        FileName=name,
        FileType=6,
        Content="echo hi",
        InputList="a.b",
        RerunMode="ALL_DENIED",
        SchedulerType="SKIP",
    )["Data"]
    n = first(client24.call("GetNode", Id=str(file_id), ProjectId=pid)["Node"]["Spec"])
    assert n["script"]["runtime"]["command"] == "DIDE_SHELL" and n["script"]["path"] == name
    assert (n["rerunMode"], n["recurrence"]) == ("Denied", "Skip")
    assert [o["data"] for o in n["inputs"]["nodeOutputs"]] == ["a.b"]
    nodes = client24.call("ListNodes", ProjectId=pid, Name=name)["PagingInfo"]["Nodes"]
    assert [x["Id"] for x in nodes] == [str(file_id)]
    assert nodes[0]["Script"]["Runtime"]["Command"] == "DIDE_SHELL"
    assert nodes[0]["Strategy"]["RerunMode"] == "Denied" and nodes[0]["Recurrence"] == "Skip"


def test_update_is_incremental_and_rename_move_delete(
    client24: Client24, tea: TeaClient, pid: int
) -> None:
    name = unique("u")
    node_id = client24.call(
        "CreateNode", ProjectId=pid, Scene="DATAWORKS_PROJECT", Spec=spec(sql_node(name))
    )["Id"]
    patch = {"id": node_id, "script": {"content": "select 42;"}}
    assert client24.call("UpdateNode", ProjectId=pid, Id=node_id, Spec=spec(patch, "2.0.0"))[
        "Success"
    ]
    n = first(client24.call("GetNode", Id=node_id, ProjectId=pid)["Node"]["Spec"])
    assert n["script"]["content"] == "select 42;" and n["trigger"]["cron"] == "00 30 02 * * ?"
    assert n["customField"] == {"kept": [1, 2]} and n["rerunTimes"] == 5

    new = unique("renamed")
    client24.call("RenameNode", ProjectId=pid, Id=node_id, Name=new)
    assert (
        tea.call("GetFile", ProjectId=pid, FileId=int(node_id))["Data"]["File"]["FileName"] == new
    )
    client24.call("MoveNode", ProjectId=pid, Id=node_id, Path=f"业务流程/wf_{name}/MaxCompute/sub")
    f = tea.call("GetFile", ProjectId=pid, FileId=int(node_id))["Data"]["File"]
    n = first(client24.call("GetNode", Id=node_id, ProjectId=pid)["Node"]["Spec"])
    assert n["script"]["path"] == f"业务流程/wf_{name}/MaxCompute/sub/{new}"
    assert f["FileName"] == new

    client24.call("DeleteNode", ProjectId=pid, Id=node_id)
    with pytest.raises(CallFailed) as err:
        client24.call("GetNode", Id=node_id, ProjectId=pid)
    assert err.value.code == "5801488441564725286" and err.value.status == 404


def test_dependencies_from_inputs_and_spec_dependencies(client24: Client24, pid: int) -> None:
    up = unique("up")
    up_id = client24.call(
        "CreateNode",
        ProjectId=pid,
        Scene="DATAWORKS_PROJECT",
        Spec=spec(
            {
                "name": up,
                "script": {"path": up, "runtime": {"command": "DIDE_SHELL"}},
                "outputs": {"nodeOutputs": [{"data": f"{up}_out"}]},
            }
        ),
    )["Id"]
    down = unique("down")
    deps = [{"nodeId": down, "depends": [{"type": "Normal", "output": f"{up}_out"}]}]
    down_id = client24.call(
        "CreateNode",
        ProjectId=pid,
        Scene="DATAWORKS_PROJECT",
        Spec=spec(
            {"name": down, "script": {"path": down, "runtime": {"command": "DIDE_SHELL"}}},
            "2.0.0",
            dependencies=deps,
        ),
    )["Id"]
    found = client24.call("ListNodeDependencies", ProjectId=pid, Id=down_id)["PagingInfo"]
    assert [x["Id"] for x in found["Nodes"]] == [up_id] and found["TotalCount"] == "1"


BAD: dict[str, tuple[str, str]] = {
    "not json": ("{nope", "Invalid.FlowSpec.Json"),
    "not an object": ("[1]", "Invalid.FlowSpec.Json"),
    "wrong kind": (
        json.dumps({"version": "1.1.0", "kind": "CycleWorkflow", "spec": {}}),
        "Invalid.FlowSpec.Kind",
    ),
    "no nodes": (
        json.dumps({"version": "1.1.0", "kind": "Node", "spec": {"nodes": []}}),
        "Invalid.FlowSpec.NoNode",
    ),
    "no name": (spec({"script": {"runtime": {"command": "ODPS_SQL"}}}), "Invalid.FlowSpec.Name"),
    "path": (
        spec({"name": "a", "script": {"path": "x/b", "runtime": {"command": "ODPS_SQL"}}}),
        "Invalid.FlowSpec.Path",
    ),
    "command": (
        spec({"name": "a", "script": {"runtime": {"command": "NOPE"}}}),
        "Invalid.FlowSpec.Command",
    ),
    "deep": ("[" * 40 + "]" * 40, "Invalid.FlowSpec.Json"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_specs_get_a_clear_400(tea24: Tea2024Client, pid: int, case: str) -> None:
    text, code = BAD[case]
    with pytest.raises(CallFailed) as err:
        tea24.call("CreateNode", ProjectId=pid, Scene="DATAWORKS_PROJECT", Spec=text)
    assert (err.value.status, err.value.code) == (400, code), err.value


def test_duplicate_name_command_change_and_update_kind(tea24: Tea2024Client, pid: int) -> None:
    name = unique("d")
    node_id = tea24.call(
        "CreateNode", ProjectId=pid, Scene="DATAWORKS_PROJECT", Spec=spec(sql_node(name))
    )["Id"]
    with pytest.raises(CallFailed) as err:
        tea24.call(
            "CreateNode",
            ProjectId=pid,
            Scene="DATAWORKS_PROJECT",
            Spec=spec({"name": name, "script": {"runtime": {"command": "ODPS_SQL"}}}),
        )
    assert (err.value.status, err.value.code) == (400, "Invalid.File.NameExists")
    with pytest.raises(CallFailed) as err:
        tea24.call(
            "UpdateNode",
            ProjectId=pid,
            Id=node_id,
            Spec=spec({"script": {"runtime": {"command": "DIDE_SHELL"}}}),
        )
    assert (err.value.status, err.value.code) == (400, "Invalid.FlowSpec.Command")
    with pytest.raises(CallFailed) as err:
        tea24.call(
            "UpdateNode",
            ProjectId=pid,
            Id=node_id,
            Spec=spec({"script": {"content": "x"}}, kind="CycleWorkflow"),
        )
    assert (err.value.status, err.value.code) == (400, "Invalid.FlowSpec.Kind")
    assert "spec kind and request not match" in err.value.message
