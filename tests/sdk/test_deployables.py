"""Everything a deployment carries, together (issue 16): a resource uploaded as bytes, a
function registered from it, a SQL node that calls the function — each deployed by its own
2024 pipeline run in the order DataWorks needs, the bytes read back through the download
link byte for byte, and the three visible as deployed through both API versions."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import urllib.request
from typing import Any

from .clients import Tea2024Client, TeaClient
from .conftest import unique


def _run(tea24: Tea2024Client, pid: int, object_id: int | str) -> dict[str, Any]:
    """Deploy one object by the generic client loop; the final run."""
    run_id = tea24.call(
        "CreatePipelineRun", ProjectId=pid, Type="Online", ObjectIds=[str(object_id)]
    )["Id"]
    deadline = time.monotonic() + 30
    while True:
        run = tea24.call("GetPipelineRun", ProjectId=pid, Id=run_id)["Pipeline"]
        if run["Status"] in ("Success", "Fail", "Termination", "Cancel"):
            return dict(run)
        assert time.monotonic() < deadline, run
        for stage in run["Stages"]:
            if stage["Status"] == "Init":
                earlier = [s for s in run["Stages"] if s["Step"] < stage["Step"]]
                if all(s["Status"] == "Success" for s in earlier):
                    tea24.call("ExecPipelineRunStage", ProjectId=pid, Id=run_id, Code=stage["Code"])
                break
        time.sleep(0.05)


def test_resource_function_and_node_deploy_together(tea: TeaClient, tea24: Tea2024Client) -> None:
    pid = int(tea24.call("CreateProject", Name=unique("carry"), DisplayName="carry")["Id"])
    payload = os.urandom(3000) + b"\x00\xff" * 100  # binary bytes: a jar in spirit
    lib = unique("udf_lib") + ".jar"
    resource_spec = {
        "version": "1.1.0",
        "kind": "Resource",
        "spec": {
            "fileResources": [
                {
                    "name": lib,
                    "type": "jar",
                    "script": {"path": f"carry/{lib}", "runtime": {"command": "ODPS_JAR"}},
                }
            ]
        },
    }
    data_url = "data:application/java-archive;base64," + base64.b64encode(payload).decode()
    resource_id = tea24.call(
        "CreateResource", ProjectId=pid, Spec=json.dumps(resource_spec), ResourceFile=data_url
    )["Id"]
    function = unique("f_mask")
    function_spec = {
        "version": "1.1.0",
        "kind": "Function",
        "spec": {
            "functions": [
                {
                    "name": function,
                    "type": "STRING",
                    "className": "com.example.Mask",
                    "fileResources": [{"name": lib}],
                    "script": {
                        "path": f"carry/{function}",
                        "runtime": {"command": "ODPS_FUNCTION"},
                    },
                }
            ]
        },
    }
    function_id = tea24.call("CreateFunction", ProjectId=pid, Spec=json.dumps(function_spec))["Id"]
    node = unique("ods_masked")
    node_spec = {
        "version": "1.1.0",
        "kind": "Node",
        "spec": {
            "nodes": [
                {
                    "name": node,
                    "script": {
                        "path": f"carry/{node}",
                        "runtime": {"command": "ODPS_SQL"},
                        "content": f"SELECT {function}(phone) FROM ods_user;",
                    },
                    "trigger": {"type": "Scheduler", "cron": "00 00 02 * * ?"},
                }
            ]
        },
    }
    node_id = tea24.call(
        "CreateNode", ProjectId=pid, Scene="DATAWORKS_PROJECT", Spec=json.dumps(node_spec)
    )["Id"]

    # the function before its resource: its check stage names the missing resource
    early = _run(tea24, pid, function_id)
    assert early["Status"] == "Fail" and lib in early["Message"]
    for object_id in (resource_id, function_id, node_id):
        run = _run(tea24, pid, object_id)
        assert run["Status"] == "Success", run

    # the bytes, byte for byte, through the download link 2020 GetFile gives
    file = tea.call("GetFile", ProjectId=pid, FileId=int(resource_id))["Data"]
    with urllib.request.urlopen(file["ResourceDownloadLink"]["downloadLink"], timeout=10) as got:
        body = got.read()
    assert hashlib.sha256(body).hexdigest() == hashlib.sha256(payload).hexdigest()
    # all three in production, seen by both versions
    for object_id in (resource_id, function_id, node_id):
        assert (
            tea.call("GetFile", ProjectId=pid, FileId=int(object_id))["Data"]["File"][
                "CommitStatus"
            ]
            == 1
        )
    task_id = tea24.call("GetNode", Id=node_id, ProjectId=pid)["Node"]["TaskId"]
    task = tea24.call("GetTask", Id=int(task_id), ProjectEnv="Prod")["Task"]
    assert task["Name"] == node
    snapshots = tea24.call(
        "ListSnapshots", Namespace=str(pid), ObjectId=str(function_id), Type="Deployed"
    )
    assert snapshots["PagingInfo"]["TotalCount"] >= 1
