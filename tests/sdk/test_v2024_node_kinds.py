"""ListNodes lists nodes only (issue 15): resources (FileType 12-15) and functions (17) are
files too, but the 2024 node operations neither list nor find them; ListResources and
ListFunctions do. Through the 2024 SDK (three dialects) over a workspace made in 2020."""

from __future__ import annotations

import json

import pytest

from .clients import CallFailed, CommonClient2024, Tea2024Client, TeaClient
from .conftest import unique

Client24 = Tea2024Client | CommonClient2024


def test_resources_and_functions_are_not_nodes(client24: Client24, tea: TeaClient) -> None:
    pid = int(
        tea.call(
            "CreateProject", ProjectIdentifier=unique("ws"), ProjectName="kinds", ProjectMode=3
        )["Data"]
    )
    folder = f"Business Flow/{unique('wf')}/MaxCompute"
    lib = unique("lib") + ".jar"
    rid = tea.call(
        "CreateResourceFile", ProjectId=pid, FileName=lib, FileType=13, FileFolderPath=folder,
        OriginResourceName=lib, RegisterToCalcEngine=False, ResourceFile="data:;base64,UEsDBA==",
    )["Data"]  # fmt: skip
    fname = unique("f_sum")
    function = {
        "name": fname, "type": "MATH", "className": "com.x.Sum",
        "fileResources": [{"name": lib}], "datasource": {"name": "odps_first", "type": "odps"},
        "script": {"path": f"{folder}/{fname}".replace("Business Flow", "业务流程"),
                   "runtime": {"command": "ODPS_FUNCTION"}},
    }  # fmt: skip
    spec = json.dumps({"version": "1.1.0", "kind": "Function", "spec": {"functions": [function]}})
    fid = int(client24.call("CreateFunction", ProjectId=pid, Spec=spec)["Id"])
    name = unique("ods")
    nid = tea.call(
        "CreateFile", ProjectId=pid, FileName=name, FileType=10, Content="SELECT 1;",
        FileFolderPath=folder,
    )["Data"]  # fmt: skip

    listed = client24.call("ListNodes", ProjectId=pid)["PagingInfo"]
    assert [int(n["Id"]) for n in listed["Nodes"]] == [nid] and int(listed["TotalCount"]) == 1
    by_name = client24.call("ListNodes", ProjectId=pid, Name=lib)["PagingInfo"]
    assert int(by_name["TotalCount"]) == 0
    for other, kind in ((rid, "resource"), (fid, "function")):
        for action, extra in (("GetNode", {}), ("ListNodeDependencies", {}),
                              ("RenameNode", {"Name": "x"}), ("DeleteNode", {})):  # fmt: skip
            with pytest.raises(CallFailed) as err:
                client24.call(action, ProjectId=pid, Id=str(other), **extra)
            assert (err.value.code, err.value.status) == ("5801488441564725286", 404), (
                kind,
                action,
            )
    # they are where they belong
    resources = client24.call("ListResources", ProjectId=pid)["PagingInfo"]
    assert [int(r["Id"]) for r in resources["Resources"]] == [rid]
    functions = client24.call("ListFunctions", ProjectId=pid)["PagingInfo"]
    assert [int(f["Id"]) for f in functions["Functions"]] == [fid]
    # and still files to 2020 (DeleteNode above deleted nothing)
    files = tea.call("ListFiles", ProjectId=pid, PageSize=100)["Data"]["Files"]
    assert sorted(f["FileId"] for f in files) == sorted([rid, fid, nid])
