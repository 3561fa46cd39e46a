"""A scheduling node: its configuration as GetFile and GetIDEEventDetail show it, and the
node itself as GetNode, ListNodes and GetNodeParents/Children show it.

:func:`node_configuration` is GetFile's ``NodeConfiguration``, built from a file's name
and scheduling settings; an extension's view of a committed version
(:func:`committed_node_configuration`) is a subset of the same fields, with
ResourceGroupId typed as a Long.
"""

from __future__ import annotations

from typing import Any

import orjson

from openworks.core.files import split_names
from openworks.core.model import Node, Project
from openworks.core.nodes import NodeView, scheduler_type
from openworks.core.packages import node_outputs
from openworks.protocol.errors import ApiError
from openworks.protocol.params import to_int

from .labels import PROGRAM_TYPE

__all__ = [
    "committed_node_configuration",
    "node",
    "node_configuration",
    "relative",
    "repeatable",
]

_REPEAT_MODES = {"FAILURE_ALLOWED": 0, "ALL_ALLOWED": 1, "ALL_DENIED": 2}


def _json_list(text: str | None) -> list[Any]:
    if not text:
        return []
    value = orjson.loads(text)
    return value if isinstance(value, list) else [value]


def _str_bool(value: Any) -> str | None:
    return None if value is None else ("true" if value else "false")


def _int_or_none(value: Any) -> int | None:
    """A stored setting as a Long, or None (ASCII digits only: ``"²".isdigit()`` is true)."""
    text = str(value) if value is not None else ""
    try:
        return to_int("ResourceGroupId", text, 64)
    except ApiError:
        return None


def node_configuration(
    project: Project, name: str, config: dict[str, Any], auto_parsing: bool
) -> dict[str, Any]:
    """GetFile's ``NodeConfiguration`` of a file (or version) called ``name``."""
    c = config
    parse = "AUTO" if auto_parsing else "MANUAL"
    return {
        "ApplyScheduleImmediately": _str_bool(c.get("ApplyScheduleImmediately")),
        "AutoRerunIntervalMillis": c.get("AutoRerunIntervalMillis"),
        "AutoRerunTimes": c.get("AutoRerunTimes"),
        "CronExpress": c.get("CronExpress"),
        "CycleType": c.get("CycleType"),
        "DependentNodeIdList": c.get("DependentNodeIdList"),
        "DependentType": c.get("DependentType"),
        "EndEffectDate": c.get("EndEffectDate"),
        "IgnoreParentSkipRunningProperty": _str_bool(c.get("IgnoreParentSkipRunningProperty")),
        "ImageId": c.get("ImageId"),
        "InputList": [
            {"Input": input_name, "ParseType": parse}
            for input_name in split_names(c.get("InputList"))
        ],
        "InputParameters": _json_list(c.get("InputParameters")),
        "OutputList": [
            {"Output": output, "RefTableName": None} for output in node_outputs(project, name, c)
        ],
        "OutputParameters": _json_list(c.get("OutputParameters")),
        "ParaValue": c.get("ParaValue"),
        "RerunMode": c.get("RerunMode"),
        "ResourceGroupId": c.get("ResourceGroupId"),
        "SchedulerType": c.get("SchedulerType"),
        "StartEffectDate": c.get("StartEffectDate"),
        "StartImmediately": c.get("StartImmediately"),
        "Stop": c.get("Stop"),
        "Timeout": c.get("Timeout"),
    }


# The fields of NodeConfiguration that GetIDEEventDetail's CommittedFile carries.
_COMMITTED_FIELDS = (
    "AutoRerunIntervalMillis",
    "AutoRerunTimes",
    "CronExpress",
    "CycleType",
    "DependentNodeIdList",
    "DependentType",
    "InputList",
    "OutputList",
    "ParaValue",
    "RerunMode",
    "ResourceGroupId",
    "SchedulerType",
)


def committed_node_configuration(
    project: Project, name: str, config: dict[str, Any], auto_parsing: bool
) -> dict[str, Any]:
    """GetIDEEventDetail's ``NodeConfiguration`` of a committed version."""
    full = node_configuration(project, name, config, auto_parsing)
    full["ResourceGroupId"] = _int_or_none(config.get("ResourceGroupId"))
    return {key: full[key] for key in _COMMITTED_FIELDS}


def repeatable(n: Node) -> bool:
    return n.config.get("RerunMode") != "ALL_DENIED"


def node(view: NodeView, repeatability: bool | str) -> dict[str, Any]:
    """GetNode's ``Data`` and a ListNodes entry (GetNode types Repeatability as a string,
    ListNodes as a boolean: the caller says which)."""
    n, c = view.node, view.node.config
    return {
        "BaselineId": None,
        "BusinessId": view.business_id,
        "Connection": view.connection,
        "CreateTime": view.create_time,
        "CronExpress": c.get("CronExpress"),
        "DeployDate": n.modify_time,
        "Description": view.description,
        "DqcDescription": None,
        "DqcType": 0,
        "FileId": n.file_id,
        "FileType": n.file_type,
        "FileVersion": n.file_version,
        "ModifyTime": n.modify_time,
        "NodeId": n.node_id,
        "NodeName": n.name,
        "OwnerId": n.owner,
        "ParamValues": c.get("ParaValue"),
        "Priority": 1,
        "ProgramType": PROGRAM_TYPE.get(n.file_type),
        "ProjectId": n.project_id,
        "RelatedFlowId": view.business_id,
        "RepeatInterval": c.get("AutoRerunIntervalMillis"),
        "RepeatMode": _REPEAT_MODES.get(str(c.get("RerunMode"))),
        "Repeatability": repeatability,
        "ResGroupIdentifier": c.get("ResourceGroupIdentifier"),
        "ResGroupName": c.get("ResourceGroupIdentifier"),
        "SchedulerType": scheduler_type(n),
    }


def relative(n: Node) -> dict[str, Any]:
    """One entry of GetNodeParents / GetNodeChildren."""
    return {
        "BaselineId": None,
        "CronExpress": n.config.get("CronExpress"),
        "NodeId": n.node_id,
        "NodeName": n.name,
        "OwnerId": n.owner,
        "Priority": 1,
        "ProgramType": PROGRAM_TYPE.get(n.file_type),
        "ProjectId": n.project_id,
        "Repeatability": repeatable(n),
        "SchedulerType": scheduler_type(n),
        "StepType": "0",
    }
