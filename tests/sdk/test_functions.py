"""Functions (UDFs) through the official SDKs: 2020 CreateUdfFile/UpdateUdfFile (Tea and
the legacy request classes) and 2024 Create/Get/Update/List/Move/Rename/Delete Function;
a function made in one version reads in the other; bad input is a clear 400."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from .clients import CallFailed, CommonClient2024, LegacyClient, Tea2024Client, TeaClient
from .conftest import unique
from .test_checks import call

Client = TeaClient | LegacyClient
Client24 = Tea2024Client | CommonClient2024


@pytest.fixture
def pid(tea: TeaClient) -> int:
    data = tea.call(
        "CreateProject", ProjectIdentifier=unique("ws"), ProjectName="udf", ProjectMode=3
    )
    return int(data["Data"])


def resource(tea: TeaClient, pid: int) -> str:
    name = unique("lib") + ".jar"
    tea.call(
        "CreateResourceFile",
        ProjectId=pid,
        FileName=name,
        FileType=13,
        FileFolderPath="Business Flow/udf/MaxCompute",
        OriginResourceName=name,
        RegisterToCalcEngine=False,
        ResourceFile="data:;base64,UEsDBA==",
    )
    return name


def spec(item: dict[str, Any], kind: str = "Function") -> str:
    return json.dumps({"version": "1.1.0", "kind": kind, "spec": {"functions": [item]}})


def first(text: str) -> dict[str, Any]:
    return json.loads(text)["spec"]["functions"][0]


def count(client: Client24, pid: int) -> int:
    return int(client.call("ListFunctions", ProjectId=pid)["PagingInfo"]["TotalCount"])


def test_udf_made_in_2020_reads_in_2024(
    client: Client, tea: TeaClient, tea24: Tea2024Client, pid: int
) -> None:
    lib = resource(tea, pid)
    name = unique("f_upper")
    fid = int(
        call(
            client,
            "CreateUdfFile",
            ProjectId=pid,
            FileName=name,
            FileFolderPath="Business Flow/udf/MaxCompute",
            CreateFolderIfNotExists=True,
            ClassName="com.x.Upper",
            FunctionType="STRING",
            Resources=lib,
            CmdDescription="f_upper(s)",
            ParameterDescription="s: string",
            ReturnValue="string",
            Example="f_upper('a')",
            UdfDescription="upper case",
        )["Data"]
    )
    f = tea.call("GetFile", ProjectId=pid, FileId=fid)["Data"]["File"]
    assert (f["FileType"], f["FileName"], f["FileDescription"]) == (17, name, "upper case")
    got = tea24.call("GetFunction", Id=str(fid), ProjectId=pid)["Function"]
    item = first(got["Spec"])
    assert item["className"] == "com.x.Upper" and item["type"] == "STRING"
    assert item["fileResources"] == [{"name": lib}]
    assert (item["usageDescription"], item["argumentsDescription"]) == ("f_upper(s)", "s: string")
    assert (item["returnValueDescription"], item["usageExample"]) == ("string", "f_upper('a')")
    assert item["script"]["runtime"]["command"] == "ODPS_FUNCTION"
    call(
        client,
        "UpdateUdfFile",
        ProjectId=pid,
        FileId=str(fid),
        ClassName="com.x.Lower",
        FunctionType="string",
        Resources=lib,
    )
    item = first(tea24.call("GetFunction", Id=str(fid))["Function"]["Spec"])
    assert item["className"] == "com.x.Lower" and item["usageExample"] == "f_upper('a')"
    with pytest.raises(CallFailed) as err:
        call(
            client,
            "UpdateUdfFile",
            ProjectId=pid,
            FileId=str(fid),
            ClassName="c",
            FunctionType="MATH",
            Resources="nowhere.jar",
        )
    assert (err.value.status, err.value.code) == (400, "Invalid.Function.UnknownResource")
    assert "nowhere.jar" in err.value.message


def test_function_in_2024_reads_in_2020_and_back(
    client24: Client24, tea: TeaClient, pid: int
) -> None:
    lib = resource(tea, pid)
    name = unique("f_sum")
    item = {
        "name": name,
        "type": "MATH",
        "className": "com.x.Sum",
        "fileResources": [{"name": lib}],
        "usageDescription": "f_sum(a, b)",
        "script": {
            "path": f"业务流程/udf/MaxCompute/{name}",
            "runtime": {"command": "ODPS_FUNCTION"},
        },
        "datasource": {"name": "odps_first", "type": "odps"},
        "runtimeResource": {"resourceGroupId": "6591"},
    }
    fid = client24.call("CreateFunction", ProjectId=pid, Spec=spec(item))["Id"]
    f = tea.call("GetFile", ProjectId=pid, FileId=int(fid))["Data"]["File"]
    assert (f["FileType"], f["FileName"]) == (17, name)
    back = first(client24.call("GetFunction", Id=fid, ProjectId=pid)["Function"]["Spec"])
    assert back["datasource"] == {"name": "odps_first", "type": "odps"}
    assert back["script"]["path"] == f"业务流程/udf/MaxCompute/{name}"
    client24.call(
        "UpdateFunction",
        ProjectId=pid,
        Id=fid,
        Spec=spec({"returnValueDescription": "bigint", "type": "Aggregate"}),
    )
    listed = client24.call("ListFunctions", ProjectId=pid, Type="Aggregate")["PagingInfo"]
    entry = listed["Functions"][0]
    assert (entry["Id"], entry["ClassName"], entry["FileResource"]) == (fid, "com.x.Sum", lib)
    assert (entry["Type"], entry["ReturnValueDescription"]) == ("Aggregate", "bigint")
    assert entry["RuntimeResource"]["ResourceGroupId"] == "6591"
    new_name = unique("f_total")
    client24.call("RenameFunction", ProjectId=pid, Id=fid, Name=new_name)
    client24.call("MoveFunction", ProjectId=pid, Id=fid, Path="业务流程/udf2/MaxCompute")
    moved = first(client24.call("GetFunction", Id=fid)["Function"]["Spec"])
    assert moved["script"]["path"] == f"业务流程/udf2/MaxCompute/{new_name}"
    assert moved["className"] == "com.x.Sum" and moved["fileResources"] == [{"name": lib}]
    client24.call("DeleteFunction", ProjectId=pid, Id=fid)
    with pytest.raises(CallFailed) as err:
        client24.call("GetFunction", ProjectId=pid, Id=fid)
    assert (err.value.status, err.value.code) == (404, "InvalidFunction.NotFound")


@pytest.mark.parametrize(
    ("item", "kind", "code"),
    [
        (
            {"className": "a.B", "fileResources": [{"name": "ghost.jar"}]},
            "Function",
            "Invalid.Function.UnknownResource",
        ),
        ({"fileResources": [{"name": "LIB"}]}, "Function", "Invalid.Function.ClassName"),
        ({"className": "a.B", "fileResources": []}, "Function", "Invalid.Function.Resources"),
        (
            {"className": "a.B", "type": "SUM", "fileResources": [{"name": "LIB"}]},
            "Function",
            "Invalid.Function.Type",
        ),
        (
            {"className": "a.B", "fileResources": [{"name": "LIB"}]},
            "Resource",
            "Invalid.FlowSpec.Kind",
        ),
        (
            {
                "className": "a.B",
                "fileResources": [{"name": "LIB"}],
                "script": {"runtime": {"command": "ODPS_SQL"}},
            },
            "Function",
            "Invalid.FlowSpec.Command",
        ),
    ],
)
def test_bad_function_is_a_clear_400_and_writes_nothing(
    tea24: Tea2024Client, tea: TeaClient, pid: int, item: dict[str, Any], kind: str, code: str
) -> None:
    lib = resource(tea, pid)
    item = json.loads(json.dumps({"name": unique("bad"), **item}).replace('"LIB"', f'"{lib}"'))
    with pytest.raises(CallFailed) as err:
        tea24.call("CreateFunction", ProjectId=pid, Spec=spec(item, kind))
    assert (err.value.status, err.value.code) == (400, code), err.value.message
    if code == "Invalid.Function.UnknownResource":
        assert "ghost.jar" in err.value.message
    assert count(tea24, pid) == 0


def test_bad_udf_file_is_a_clear_400(client: Client, tea: TeaClient, pid: int) -> None:
    lib = resource(tea, pid)
    base = {
        "ProjectId": pid,
        "FileName": unique("u"),
        "ClassName": "a.B",
        "FunctionType": "MATH",
        "Resources": lib,
    }
    for change, code in (
        ({"Resources": f"{lib},ghost.jar"}, "Invalid.Function.UnknownResource"),
        ({"FunctionType": "SUM"}, "Invalid.Function.Type"),
        ({"ClassName": " "}, "Invalid.Function.ClassName"),
    ):
        with pytest.raises(CallFailed) as err:
            call(client, "CreateUdfFile", **{**base, **change})
        assert (err.value.status, err.value.code) == (400, code), err.value.message
    files = tea.call("ListFiles", ProjectId=pid, FileTypes="17")["Data"]["TotalCount"]
    assert files == 0


def test_udf_and_resource_file_at_2024(client24: Client24, pid: int) -> None:
    name = unique("lib24") + ".py"
    rid = client24.call(
        "CreateResourceFile",
        ProjectId=pid,
        FileName=name,
        FileType=12,
        FileFolderPath="Business Flow/udf24/MaxCompute",
        OriginResourceName=name,
        RegisterToCalcEngine=False,
        Content="def f(): pass\n",
    )["Data"]
    fid = client24.call(
        "CreateUdfFile",
        ProjectId=pid,
        FileName=unique("f24"),
        FileFolderPath="Business Flow/udf24/MaxCompute",
        CreateFolderIfNotExists=True,
        ClassName="m.F",
        FunctionType="OTHER",
        Resources=name,
    )["Data"]
    item = first(client24.call("GetFunction", Id=str(fid))["Function"]["Spec"])
    assert item["fileResources"] == [{"name": name}] and int(rid) > 0


# -- deploying a function before its resources -------------------------------------------------


def _udf(tea: TeaClient, pid: int, lib: str) -> int:
    return int(
        tea.call(
            "CreateUdfFile",
            ProjectId=pid,
            FileName=unique("f_need"),
            FileFolderPath="Business Flow/udf/MaxCompute",
            CreateFolderIfNotExists=True,
            ClassName="com.x.Need",
            FunctionType="STRING",
            Resources=lib,
        )["Data"]
    )


def _final(tea: TeaClient, pid: int, deployment_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 15
    while True:
        got = tea.call("GetDeployment", ProjectId=pid, DeploymentId=deployment_id)["Data"]
        if got["Deployment"]["Status"] != 0 or time.monotonic() > deadline:
            return dict(got["Deployment"])
        time.sleep(0.05)


def test_a_function_deployed_before_its_resource_fails_its_checks(tea: TeaClient, pid: int) -> None:
    lib = resource(tea, pid)  # created, never committed
    fid = _udf(tea, pid, lib)
    commit = tea.call("SubmitFile", ProjectId=pid, FileId=fid)["Data"]
    committed = _final(tea, pid, commit)
    # a commit to development is checked but not blocked (as for every 2020 check)
    assert committed["CheckingStatus"] == 7 and committed["Status"] == 1
    # so its version cannot be deployed: DeployFile names the missing resource
    with pytest.raises(CallFailed) as refused:
        tea.call("DeployFile", ProjectId=pid, FileId=fid)
    assert refused.value.code == "Invalid.Deploy.CheckFailed"
    assert lib in refused.value.message and "function-resources" in refused.value.message


def test_a_function_deployed_to_production_before_its_resource_is_blocked(
    tea: TeaClient, pid: int
) -> None:
    lib = resource(tea, pid)
    lib_id = tea.call("ListFiles", ProjectId=pid, Keyword=lib)["Data"]["Files"][0]["FileId"]
    assert (
        _final(tea, pid, tea.call("SubmitFile", ProjectId=pid, FileId=lib_id)["Data"])["Status"]
        == 1
    )  # in development, not in production
    fid = _udf(tea, pid, lib)
    committed = _final(tea, pid, tea.call("SubmitFile", ProjectId=pid, FileId=fid)["Data"])
    assert committed["Status"] == 1 and committed.get("CheckingStatus") is None
    blocked = _final(tea, pid, tea.call("DeployFile", ProjectId=pid, FileId=fid)["Data"])
    assert (blocked["Status"], blocked["CheckingStatus"]) == (2, 7)
    assert lib in blocked["ErrorMessage"] and "production" in blocked["ErrorMessage"]


def test_a_function_after_its_resource_deploys(tea: TeaClient, pid: int) -> None:
    lib = resource(tea, pid)
    lib_id = tea.call("ListFiles", ProjectId=pid, Keyword=lib)["Data"]["Files"][0]["FileId"]
    for step in ("SubmitFile", "DeployFile"):
        done = _final(tea, pid, tea.call(step, ProjectId=pid, FileId=lib_id)["Data"])
        assert done["Status"] == 1, done
    fid = _udf(tea, pid, lib)
    for step in ("SubmitFile", "DeployFile"):
        done = _final(tea, pid, tea.call(step, ProjectId=pid, FileId=fid)["Data"])
        assert done["Status"] == 1 and done.get("CheckingStatus") is None, done


def test_a_pipeline_run_of_a_function_fails_its_check_stage(
    tea: TeaClient, tea24: Tea2024Client, pid: int
) -> None:
    lib = resource(tea, pid)
    fid = _udf(tea, pid, lib)
    run_id = tea24.call("CreatePipelineRun", ProjectId=pid, Type="Online", ObjectIds=[str(fid)])[
        "Id"
    ]
    tea24.call("ExecPipelineRunStage", ProjectId=pid, Id=run_id, Code="DEV_CHECK")
    deadline = time.monotonic() + 15
    while True:
        run = tea24.call("GetPipelineRun", ProjectId=pid, Id=run_id)["Pipeline"]
        if run["Status"] != "Running" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    stages = {s["Code"]: s["Status"] for s in run["Stages"]}
    assert (run["Status"], stages["DEV_CHECK"]) == ("Fail", "Fail")
    assert lib in run["Message"]
