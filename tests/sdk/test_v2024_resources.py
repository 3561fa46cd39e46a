"""2024 resources in FlowSpec through the official 2024 SDK (three dialects), read back
through 2020 GetFile and its download link, byte for byte; bad input is a clear 400."""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.request
from typing import Any

import pytest

from .clients import CallFailed, CommonClient2024, Tea2024Client, TeaClient
from .conftest import unique

Client24 = Tea2024Client | CommonClient2024


@pytest.fixture
def pid(tea: TeaClient) -> int:
    data = tea.call(
        "CreateProject", ProjectIdentifier=unique("ws"), ProjectName="2024 res", ProjectMode=3
    )
    return int(data["Data"])


def spec(item: dict[str, Any], kind: str = "Resource") -> str:
    return json.dumps({"version": "1.1.0", "kind": kind, "spec": {"fileResources": [item]}})


def jar(name: str, **more: Any) -> dict[str, Any]:
    return {
        "name": name,
        "type": "jar",
        "script": {
            "path": f"业务流程/wf_{name[:-4]}/MaxCompute/{name}",
            "runtime": {"command": "ODPS_JAR"},
        },
        "datasource": {"name": "odps_first", "type": "odps"},
        **more,
    }


def data_url(data: bytes) -> str:
    return "data:application/java-archive;base64," + base64.b64encode(data).decode()


def first(text: str) -> dict[str, Any]:
    return json.loads(text)["spec"]["fileResources"][0]


def fetch(link: str) -> bytes:
    with urllib.request.urlopen(link, timeout=10) as answer:
        return answer.read()


def total(client: Client24, pid: int, **query: Any) -> int:
    return int(client.call("ListResources", ProjectId=pid, **query)["PagingInfo"]["TotalCount"])


def test_resource_created_in_2024_reads_in_2020_and_back(
    client24: Client24, tea: TeaClient, pid: int
) -> None:
    name = unique("r") + ".jar"
    data = bytes(range(256)) * 7
    rid = client24.call(
        "CreateResource", ProjectId=pid, Spec=spec(jar(name)), ResourceFile=data_url(data)
    )["Id"]
    got = client24.call("GetResource", Id=rid, ProjectId=pid)["Resource"]
    assert (got["Id"], got["Name"], got["ProjectId"]) == (rid, name, pid)
    item = first(got["Spec"])
    assert json.loads(got["Spec"])["kind"] == "Resource"
    assert item["type"] == "jar" and item["script"]["runtime"]["command"] == "ODPS_JAR"
    assert item["script"]["path"] == f"业务流程/wf_{name[:-4]}/MaxCompute/{name}"
    assert item["datasource"] == {"name": "odps_first", "type": "odps"}
    described = item["file"]
    assert described["sha256"] == hashlib.sha256(data).hexdigest()
    assert described["size"] == len(data) and described["name"] == name
    assert fetch(described["downloadLink"]) == data
    f = tea.call("GetFile", ProjectId=pid, FileId=int(rid))["Data"]
    assert (f["File"]["FileType"], f["File"]["FileName"]) == (13, name)
    assert fetch(f["ResourceDownloadLink"]["downloadLink"]) == data
    # without ProjectId the resource names its workspace
    assert client24.call("GetResource", Id=rid)["Resource"]["Name"] == name


def test_update_rename_move_list_delete(tea24: Tea2024Client, tea: TeaClient, pid: int) -> None:
    name = unique("p") + ".py"
    item = {
        "name": name,
        "script": {"path": name, "runtime": {"command": "ODPS_PYTHON"}, "content": "print(1)\n"},
    }
    rid = tea24.call("CreateResource", ProjectId=pid, Spec=spec(item))["Id"]
    first_link = first(tea24.call("GetResource", Id=rid, ProjectId=pid)["Resource"]["Spec"])
    assert fetch(first_link["file"]["downloadLink"]) == b"print(1)\n"
    patch = {"script": {"content": "print(2)\n"}, "description": "v2"}
    tea24.call("UpdateResource", ProjectId=pid, Id=rid, Spec=spec(patch))
    now = first(tea24.call("GetResource", Id=rid, ProjectId=pid)["Resource"]["Spec"])
    assert fetch(now["file"]["downloadLink"]) == b"print(2)\n"
    assert now["description"] == "v2" and now["type"] == "python"
    assert tea.call("GetFile", ProjectId=pid, FileId=int(rid))["Data"]["File"]["Content"] == (
        "print(2)\n"
    )
    new_name = unique("q") + ".py"
    tea24.call("RenameResource", ProjectId=pid, Id=rid, Name=new_name)
    with pytest.raises(CallFailed) as err:
        tea24.call("RenameResource", ProjectId=pid, Id=rid, Name="x.jar")
    assert (err.value.status, err.value.code) == (400, "Invalid.Resource.FileName")
    tea24.call("MoveResource", ProjectId=pid, Id=rid, Path="业务流程/wf_m/MaxCompute")
    moved = first(tea24.call("GetResource", Id=rid, ProjectId=pid)["Resource"]["Spec"])
    assert moved["script"]["path"] == f"业务流程/wf_m/MaxCompute/{new_name}"
    assert fetch(moved["file"]["downloadLink"]) == b"print(2)\n"
    listed = tea24.call("ListResources", ProjectId=pid, Type="Python", Name=new_name[:6])
    entry = listed["PagingInfo"]["Resources"][0]
    assert (entry["Id"], entry["Type"], entry["Script"]["Runtime"]["Command"]) == (
        rid,
        "Python",
        "ODPS_PYTHON",
    )
    assert total(tea24, pid, Type="Jar") == 0
    tea24.call("DeleteResource", ProjectId=pid, Id=rid)
    with pytest.raises(CallFailed) as gone:
        tea24.call("GetResource", ProjectId=pid, Id=rid)
    assert (gone.value.status, gone.value.code) == (404, "InvalidResource.NotFound")


def test_a_2020_resource_reads_as_2024(tea: TeaClient, tea24: Tea2024Client, pid: int) -> None:
    name = unique("t") + ".txt"
    fid = tea.call(
        "CreateResourceFile",
        ProjectId=pid,
        FileName=name,
        FileType=15,
        FileFolderPath="Business Flow/res/MaxCompute",
        OriginResourceName=name,
        RegisterToCalcEngine=False,
        Content="hello",
    )["Data"]
    item = first(tea24.call("GetResource", Id=str(fid), ProjectId=pid)["Resource"]["Spec"])
    assert item["type"] == "file" and item["script"]["runtime"]["command"] == "ODPS_FILE"
    assert fetch(item["file"]["downloadLink"]) == b"hello"


@pytest.mark.parametrize(
    ("item", "kind", "resource_file", "code"),
    [
        ({"name": "k.jar", "type": "jar"}, "Node", "data:,x", "Invalid.FlowSpec.Kind"),
        ({"name": "m.jar", "type": "jar"}, "Resource", None, "Invalid.Resource.Missing"),
        ({"name": "g.jar", "type": "jar"}, "Resource", "data:;base64,@@@", "Invalid.Resource.Url"),
        ({"name": "e.zip", "type": "jar"}, "Resource", "data:,x", "Invalid.Resource.FileName"),
        (
            {"name": "c.jar", "script": {"runtime": {"command": "ODPS_SQL"}}},
            "Resource",
            "data:,x",
            "Invalid.FlowSpec.Command",
        ),
        ({"name": "n.jar"}, "Resource", "data:,x", "Invalid.FlowSpec.Command"),
        ({"name": "u.jar", "type": "jar"}, "Resource", "http://evil/x.jar", "Invalid.Resource.Url"),
        ({"type": "jar"}, "Resource", "data:,x", "Invalid.FlowSpec.Name"),
    ],
)
def test_bad_input_is_a_clear_400_and_writes_nothing(
    tea24: Tea2024Client,
    pid: int,
    item: dict[str, Any],
    kind: str,
    resource_file: str | None,
    code: str,
) -> None:
    params: dict[str, Any] = {"ProjectId": pid, "Spec": spec(item, kind)}
    if resource_file is not None:
        params["ResourceFile"] = resource_file
    with pytest.raises(CallFailed) as err:
        tea24.call("CreateResource", **params)
    assert (err.value.status, err.value.code) == (400, code), err.value.message
    assert total(tea24, pid) == 0


def test_oversized_bytes_are_refused(tea24: Tea2024Client, pid: int) -> None:
    big = data_url(b"\x00" * (2 * 1024 * 1024))
    with pytest.raises(CallFailed) as err:
        tea24.call("CreateResource", ProjectId=pid, Spec=spec(jar("big.jar")), ResourceFile=big)
    assert 400 <= err.value.status < 500, err.value
    assert total(tea24, pid) == 0
