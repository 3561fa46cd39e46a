"""2024 workflow definitions (2020 business flows) and their nodes, through the 2024 SDK."""

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
        "CreateProject", ProjectIdentifier=unique("ws"), ProjectName="2024 flows", ProjectMode=3
    )
    return int(data["Data"])


def wf_spec(name: str, kind: str = "CycleWorkflow", **workflow: Any) -> str:
    body = {"name": name, "script": {"path": name, "runtime": {"command": "WORKFLOW"}}}
    return json.dumps(
        {"version": "2.0.0", "kind": kind, "spec": {"workflows": [{**body, **workflow}]}}
    )


def shell(name: str, **more: Any) -> dict[str, Any]:
    return {
        "name": name,
        "script": {"path": name, "runtime": {"command": "DIDE_SHELL"}, "content": "echo 1"},
        **more,
    }


def test_create_get_list_rename_delete(client24: Client24, tea: TeaClient, pid: int) -> None:
    name = unique("wf")
    wid = client24.call(
        "CreateWorkflowDefinition",
        ProjectId=pid,
        Spec=wf_spec(name, nodes=[shell(unique("ignored"))]),
    )["Id"]
    biz = tea.call("GetBusiness", ProjectId=pid, BusinessId=int(wid))["Data"]
    assert biz["BusinessName"] == name and biz["UseType"] == "NORMAL"
    got = client24.call("GetWorkflowDefinition", ProjectId=pid, Id=wid)["WorkflowDefinition"]
    assert got["Name"] == name and got["WorkflowId"] == int(wid)
    doc = json.loads(got["Spec"])
    assert doc["kind"] == "CycleWorkflow" and doc["spec"]["workflows"][0]["nodes"] == []

    # a node created in the workflow has it as container
    node_id = client24.call(
        "CreateNode",
        ProjectId=pid,
        Scene="DATAWORKS_PROJECT",
        ContainerId=wid,
        Spec=json.dumps(
            {"version": "1.1.0", "kind": "Node", "spec": {"nodes": [shell(unique("n"))]}}
        ),
    )["Id"]
    f = tea.call("GetFile", ProjectId=pid, FileId=int(node_id))["Data"]["File"]
    assert f["BusinessId"] == int(wid)
    listed = client24.call("ListNodes", ProjectId=pid, ContainerId=wid)["PagingInfo"]["Nodes"]
    assert [n["Id"] for n in listed] == [node_id]
    nodes = json.loads(
        client24.call("GetWorkflowDefinition", ProjectId=pid, Id=wid)["WorkflowDefinition"]["Spec"]
    )["spec"]["workflows"][0]["nodes"]
    assert [n["id"] for n in nodes] == [node_id]

    page = client24.call("ListWorkflowDefinitions", ProjectId=pid, Name=name)["PagingInfo"]
    assert [w["Id"] for w in page["WorkflowDefinitions"]] == [wid]
    assert page["WorkflowDefinitions"][0]["Type"] == "CycleWorkflow"
    manual = client24.call("ListWorkflowDefinitions", ProjectId=pid, Type="ManualWorkflow")
    assert wid not in [w["Id"] for w in manual["PagingInfo"]["WorkflowDefinitions"]]

    new = unique("wf2")
    client24.call("RenameWorkflowDefinition", ProjectId=pid, Id=wid, Name=new)
    assert (
        tea.call("GetBusiness", ProjectId=pid, BusinessId=int(wid))["Data"]["BusinessName"] == new
    )
    client24.call(
        "UpdateWorkflowDefinition",
        ProjectId=pid,
        Id=wid,
        Spec=wf_spec(new, description="described"),
    )
    assert tea.call("GetBusiness", ProjectId=pid, BusinessId=int(wid))["Data"]["Description"] == (
        "described"
    )
    with pytest.raises(CallFailed) as err:
        client24.call("MoveWorkflowDefinition", ProjectId=pid, Id=wid, Path="somewhere/else")
    assert err.value.status == 400
    client24.call("MoveWorkflowDefinition", ProjectId=pid, Id=wid, Path="Business Flow")
    client24.call("DeleteNode", ProjectId=pid, Id=node_id)
    client24.call("DeleteWorkflowDefinition", ProjectId=pid, Id=wid)
    with pytest.raises(CallFailed) as err:
        client24.call("GetWorkflowDefinition", ProjectId=pid, Id=wid)
    assert err.value.status == 404


def test_import_creates_and_updates_nodes(client24: Client24, tea: TeaClient, pid: int) -> None:
    name, a, b = unique("imp"), unique("a"), unique("b")
    deps = [{"nodeId": b, "depends": [{"type": "Normal", "output": f"{a}_out"}]}]
    nodes = [shell(a, outputs={"nodeOutputs": [{"data": f"{a}_out"}]}), shell(b)]
    text = wf_spec(name, nodes=nodes, dependencies=deps)

    dry = client24.call("ImportWorkflowDefinition", ProjectId=pid, Spec=text, DryRun=True)
    assert dry["AsyncJob"]["Status"] == "Success" and dry["AsyncJob"]["Completed"] is True
    assert (
        client24.call("ListWorkflowDefinitions", ProjectId=pid, Name=name)["PagingInfo"][
            "TotalCount"
        ]
        == 0
    )

    job = client24.call("ImportWorkflowDefinition", ProjectId=pid, Spec=text)["AsyncJob"]
    assert (job["Status"], job["Progress"]) == ("Success", 100)
    made = json.loads(job["Response"])
    wid, (a_id, b_id) = made["workflowId"], made["nodeIds"]
    conf = tea.call("GetFile", ProjectId=pid, FileId=int(b_id))["Data"]
    assert conf["File"]["BusinessId"] == int(wid)
    assert [i["Input"] for i in conf["NodeConfiguration"]["InputList"]] == [f"{a}_out"]
    ups = client24.call("ListNodeDependencies", ProjectId=pid, Id=b_id)["PagingInfo"]["Nodes"]
    assert [n["Id"] for n in ups] == [a_id]

    # import again with ids: updates, no new nodes
    again = wf_spec(name, id=wid, nodes=[{"id": a_id, "script": {"content": "echo 2"}}])
    job = client24.call("ImportWorkflowDefinition", ProjectId=pid, Spec=again)["AsyncJob"]
    assert json.loads(job["Response"])["nodeIds"] == [a_id]
    assert tea.call("GetFile", ProjectId=pid, FileId=int(a_id))["Data"]["File"]["Content"] == (
        "echo 2"
    )

    bad = wf_spec(
        unique("bad"),
        nodes=[
            shell(unique("ok")),
            {"name": "x", "script": {"path": "y", "runtime": {"command": "DIDE_SHELL"}}},
        ],
    )
    failed = client24.call("ImportWorkflowDefinition", ProjectId=pid, Spec=bad, DryRun=True)
    assert failed["AsyncJob"]["Status"] == "Fail"
    assert "$.spec.workflows[0].nodes[1]" in failed["AsyncJob"]["Error"]
    with pytest.raises(CallFailed) as err:
        client24.call("ImportWorkflowDefinition", ProjectId=pid, Spec=bad)
    assert (err.value.status, err.value.code) == (400, "Invalid.FlowSpec.Path")


def test_manual_workflow_scene(tea24: Tea2024Client, pid: int) -> None:
    wid = tea24.call(
        "CreateWorkflowDefinition", ProjectId=pid, Spec=wf_spec(unique("m"), "ManualWorkflow")
    )["Id"]
    node = json.dumps({"kind": "Node", "spec": {"nodes": [shell(unique("mn"))]}})
    with pytest.raises(CallFailed) as err:
        tea24.call("CreateNode", ProjectId=pid, Scene="DATAWORKS_MANUAL_WORKFLOW", Spec=node)
    assert err.value.status == 400
    nid = tea24.call(
        "CreateNode", ProjectId=pid, Scene="DATAWORKS_MANUAL_WORKFLOW", ContainerId=wid, Spec=node
    )["Id"]
    found = tea24.call("ListNodes", ProjectId=pid, Scene="DataworksManualWorkflow")
    assert [n["Id"] for n in found["PagingInfo"]["Nodes"]] == [nid]
    kinds = tea24.call("ListWorkflowDefinitions", ProjectId=pid, Type="ManualWorkflow")
    assert [w["Id"] for w in kinds["PagingInfo"]["WorkflowDefinitions"]] == [wid]
