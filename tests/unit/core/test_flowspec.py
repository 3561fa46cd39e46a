"""The pure FlowSpec mapping: parse, validate, 2020 fields both ways, extras kept."""

from __future__ import annotations

import json
from typing import Any

import pytest

from openworks.core import flowspec
from openworks.core.errors import Invalid
from openworks.core.files import SCHEDULE_DEFAULTS
from openworks.core.model import File, Project

PROJECT = Project(1, "acc", "ws", "W", 3, "u")
NODE: dict[str, Any] = {
    "name": "n1",
    "owner": "u2",
    "description": "d",
    "recurrence": "Pause",
    "instanceMode": "Immediately",
    "rerunMode": "Denied",
    "rerunTimes": 2,
    "rerunInterval": 60000,
    "timeout": 7,
    "script": {
        "path": "业务流程/wf/MaxCompute/n1",
        "runtime": {"command": "ODPS_SQL", "engine": "x"},
        "content": "select 1;",
        "parameters": [{"name": "a", "value": "1", "type": "Constant"}, {"name": "b"}],
    },
    "trigger": {
        "type": "Scheduler",
        "cron": "00 00 01 * * ?",
        "startTime": "2024-01-01 00:00:00",
        "endTime": "2030-01-01 00:00:00",
        "timezone": "UTC",
        "delaySeconds": 5,
    },
    "datasource": {"name": "ds", "type": "odps"},
    "runtimeResource": {"resourceGroup": "rg", "resourceGroupId": "42"},
    "inputs": {"nodeOutputs": [{"data": "p.x", "refTableName": "t"}]},
    "outputs": {"nodeOutputs": [{"data": "ws.n1"}, {"data": "mine"}]},
    "unknown": {"deep": [1, {"k": "v"}]},
}


def doc(node: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {
        "version": "2.0.0",
        "kind": "Node",
        "metadata": {"m": 1},
        "spec": {"nodes": [node], **top},
    }


def test_node_to_2020_fields() -> None:
    f = flowspec.node_fields(doc(NODE), NODE, "ws")
    assert (f.name, f.file_type, f.folder) == ("n1", 10, "业务流程/wf/MaxCompute")
    c = f.changes
    assert c["Content"] == "select 1;" and c["Owner"] == "u2" and c["FileDescription"] == "d"
    assert (c["SchedulerType"], c["Stop"], c["StartImmediately"]) == ("PAUSE", True, True)
    assert (c["RerunMode"], c["AutoRerunTimes"], c["AutoRerunIntervalMillis"]) == (
        "ALL_DENIED",
        2,
        60000,
    )
    assert c["CronExpress"] == "00 00 01 * * ?" and c["StartEffectDate"] == 1704067200000
    assert c["ParaValue"] == "a=1 b" and c["ConnectionName"] == "ds" and c["Timeout"] == 7
    assert (c["ResourceGroupIdentifier"], c["ResourceGroupId"]) == ("rg", "42")
    assert c["InputList"] == "p.x" and c["OutputList"] == "mine"  # the automatic output dropped
    kept = f.extras["node"]
    assert kept["unknown"] == {"deep": [1, {"k": "v"}]} and kept["trigger"] == {
        "timezone": "UTC",
        "delaySeconds": 5,
    }
    assert kept["script"]["runtime"] == {"engine": "x"} and "content" not in kept["script"]
    assert f.extras["version"] == "2.0.0" and f.extras["metadata"] == {"m": 1}


def _file(f: flowspec.NodeFields) -> File:
    config = {**SCHEDULE_DEFAULTS, **{k: v for k, v in f.changes.items() if k in SCHEDULE_DEFAULTS}}
    config[flowspec.EXTRAS_KEY] = f.extras
    return File(
        9,
        1,
        f.name or "",
        f.file_type or 0,
        f.changes["Owner"],
        "u",
        0,
        content=f.changes["Content"],
        folder_path=f.folder or "",
        description=f.changes["FileDescription"],
        config=config,
        connection_name=f.changes["ConnectionName"],
    )


def test_round_trip_spec_to_file_to_spec_keeps_everything() -> None:
    rendered = flowspec.file_node(PROJECT, _file(flowspec.node_fields(doc(NODE), NODE, "ws")))
    expected = json.loads(json.dumps(NODE))
    expected["id"] = "9"
    for item in expected["inputs"]["nodeOutputs"] + expected["outputs"]["nodeOutputs"]:
        item.setdefault("artifactType", "NodeOutput")
    assert rendered == expected
    text = json.loads(
        flowspec.node_text(rendered, _file(flowspec.node_fields(doc(NODE), NODE, "ws")).config)
    )
    assert text["version"] == "2.0.0" and text["metadata"] == {"m": 1}


def test_round_trip_2020_file_to_spec_to_fields() -> None:
    file = File(3, 1, "f", 6, "u", "u", 0, content="echo", config=dict(SCHEDULE_DEFAULTS))
    file.config.update(InputList="a.b", ParaValue="x=1", SchedulerType="SKIP")
    node = flowspec.file_node(PROJECT, file)
    assert node["script"] == {
        "path": "f",
        "runtime": {"command": "DIDE_SHELL"},
        "content": "echo",
        "parameters": [{"name": "x", "value": "1"}],
    }
    back = flowspec.node_fields({"spec": {}}, node, "ws").changes
    for key in (
        "InputList",
        "ParaValue",
        "SchedulerType",
        "CronExpress",
        "RerunMode",
        "AutoRerunTimes",
        "StartEffectDate",
        "EndEffectDate",
        "StartImmediately",
    ):
        assert back[key] == file.config[key], key
    assert back["OutputList"] == ""


def test_dependencies_2_0_0_become_inputs() -> None:
    node = {"name": "d", "id": "7"}
    deps = [
        {"nodeId": "7", "depends": [{"type": "Normal", "output": "u.o"}]},
        {"nodeId": "other", "depends": [{"output": "no"}]},
    ]
    assert (
        flowspec.node_fields(doc(node, dependencies=deps), node, "ws").changes["InputList"] == "u.o"
    )


def test_merge_is_deep_for_objects_only() -> None:
    merged = flowspec.merge({"a": {"b": 1, "c": [1]}, "d": 1}, {"a": {"c": [2]}, "e": 3})
    assert merged == {"a": {"b": 1, "c": [2]}, "d": 1, "e": 3}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "Invalid.FlowSpec.Json"),
        ("nope", "Invalid.FlowSpec.Json"),
        ("[]", "Invalid.FlowSpec.Json"),
        ('{"version": "3.0.0", "spec": {}}', "Invalid.FlowSpec.Version"),
        ('{"version": "1.1.0"}', "Invalid.FlowSpec.Field"),
        ('{"spec": ' * 40 + "{}" + "}" * 40, "Invalid.FlowSpec.Json"),
        ("x" * (flowspec.MAX_SPEC_BYTES + 1), "Invalid.FlowSpec.Json"),
    ],
)
def test_load_rejects(text: str, code: str) -> None:
    with pytest.raises(Invalid) as err:
        flowspec.load(text)
    assert err.value.code == code


@pytest.mark.parametrize(
    ("node", "code"),
    [
        ({"name": "a", "script": {"path": "x/b"}}, "Invalid.FlowSpec.Path"),
        ({"name": "a", "script": {"runtime": {"command": "NOPE"}}}, "Invalid.FlowSpec.Command"),
        ({"name": "a", "rerunTimes": "many"}, "Invalid.FlowSpec.Field"),
        ({"name": "a", "recurrence": "Sometimes"}, "Invalid.FlowSpec.Field"),
        ({"name": "a", "trigger": {"startTime": "yesterday"}}, "Invalid.FlowSpec.Field"),
        ({"name": "a", "inputs": {"nodeOutputs": [{"x": 1}]}}, "Invalid.FlowSpec.Field"),
        ({"name": 5}, "Invalid.FlowSpec.Field"),
    ],
)
def test_bad_nodes(node: dict[str, Any], code: str) -> None:
    with pytest.raises(Invalid) as err:
        flowspec.node_fields(doc(node), node, "ws")
    assert err.value.code == code


def test_kind_and_first_node() -> None:
    d = flowspec.load(json.dumps(doc({"name": "a"}) | {"kind": "CycleWorkflow"}))
    with pytest.raises(Invalid, match="spec kind and request not match"):
        flowspec.require_kind(d, ("Node",), "spec kind and request not match")
    with pytest.raises(Invalid) as err:
        flowspec.first_node({"spec": {"nodes": []}})
    assert err.value.code == "Invalid.FlowSpec.NoNode"
