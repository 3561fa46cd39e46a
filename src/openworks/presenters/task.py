"""Wire documents of 2024 scheduler tasks (deployed nodes, :mod:`openworks.core.tasks`).

::

    ListTasks entry {Id, Name, Type, Owner, ProjectId, ProjectEnv, WorkflowId, Description,
                     Trigger{Type, Cron, StartTime, EndTime, Recurrence}, RerunMode,
                     RerunTimes, RerunInterval (s), Timeout, InstanceMode, Priority,
                     RuntimeResource{ResourceGroupId, Image, Cu}, DataSource{Name},
                     ScriptParameters, Create/ModifyTime, Create/ModifyUser, BaselineId}
    GetTask          the same + EnvType, Script{Content, Parameters}, Dependencies[],
                     Inputs{Variables}, Outputs{TaskOutputs, Variables}, Tags, SubTasks

Every field comes from the node row (what deployment wrote: name, owner, script, schedule,
inputs/outputs) and its deployed version (description, committer); the FlowSpec rendering
(:func:`openworks.core.flowspec_render.render_node`) gives the trigger's time strings and
the data source, so a task and its snapshot say the same thing.
"""

from __future__ import annotations

from typing import Any

import orjson

from openworks.core.flowspec_fields import command_of
from openworks.core.flowspec_render import render_node, script_path
from openworks.core.model import Env, Project
from openworks.core.tasks import TaskView, recurrence, trigger_type

__all__ = ["task", "task_summary"]

_RERUN = {
    "ALL_ALLOWED": "AllAllowed",
    "ALL_DENIED": "AllDenied",
    "FAILURE_ALLOWED": "FailureAllowed",
}
_ENV = {Env.DEV: "Dev", Env.PROD: "Prod"}
# 2020 OutputParameters Type: 1 constant, 2 variable
_OUTPUT_TYPES = {1: "Constant", 2: "System", "1": "Constant", "2": "System"}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _dicts(text: Any) -> list[dict[str, Any]]:
    if not isinstance(text, str) or not text.strip():
        return []
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return []
    items = value if isinstance(value, list) else [value]
    return [i for i in items if isinstance(i, dict)]


def _rendered(project: Project, view: TaskView) -> dict[str, Any]:
    n, v = view.node, view.version
    folder = v.folder_path if v is not None else ""
    return render_node(
        node_id=n.file_id,
        name=n.name,
        file_type=n.file_type,
        content=n.content,
        path=script_path(folder, n.name, n.config),
        owner=n.owner,
        description=v.description if v is not None else "",
        config=n.config,
        connection_name=view.file.connection_name if view.file is not None else None,
        inputs=list(n.inputs),
        outputs=list(n.outputs),
    )


def task_summary(project: Project, view: TaskView) -> dict[str, Any]:
    """A ListTasks entry."""
    n, c = view.node, view.node.config
    spec = _rendered(project, view)
    trigger, source = spec.get("trigger") or {}, spec.get("datasource") or {}
    interval = _int(c.get("AutoRerunIntervalMillis"))
    group = c.get("ResourceGroupId") or c.get("ResourceGroupIdentifier")
    return {
        "Id": n.node_id,
        "Name": n.name,
        "Type": command_of(n.file_type),
        "Owner": n.owner,
        "ProjectId": n.project_id,
        "ProjectEnv": _ENV[view.env],
        "WorkflowId": view.file.business_id if view.file is not None else None,
        "Description": view.version.description if view.version is not None else "",
        "BaselineId": None,
        "Priority": _int(c.get("Priority")) or 1,
        "Timeout": _int(c.get("Timeout")),
        "InstanceMode": "Immediately" if c.get("StartImmediately") else "T+1",
        "RerunMode": _RERUN.get(str(c.get("RerunMode")), "AllAllowed"),
        "RerunTimes": _int(c.get("AutoRerunTimes")),
        "RerunInterval": interval // 1000 if interval is not None else None,
        "Trigger": {
            "Type": trigger_type(n),
            "Cron": c.get("CronExpress"),
            "StartTime": trigger.get("startTime"),
            "EndTime": trigger.get("endTime"),
            "Recurrence": recurrence(n),
        },
        "RuntimeResource": {
            "ResourceGroupId": str(group) if group else None,
            "Image": c.get("ImageId"),
            "Cu": None,
        },
        "DataSource": {"Name": source.get("name")},
        "ScriptParameters": c.get("ParaValue"),
        "CreateTime": view.create_time,
        "CreateUser": view.file.create_user if view.file is not None else n.owner,
        "ModifyTime": n.modify_time,
        "ModifyUser": view.version.commit_user if view.version is not None else n.owner,
    }


def task(project: Project, view: TaskView) -> dict[str, Any]:
    """GetTask's ``Task``: the entry with its script, dependencies, inputs and outputs."""
    n, c = view.node, view.node.config
    return {
        **task_summary(project, view),
        "EnvType": _ENV[view.env],
        "Script": {"Content": n.content, "Parameters": c.get("ParaValue")},
        "Dependencies": [
            {
                "Type": "Normal",
                "UpstreamOutput": output,
                "UpstreamTaskId": str(upstream) if upstream is not None else None,
            }
            for output, upstream in view.upstream
        ],
        "Inputs": {
            "Variables": [
                {
                    "Name": p.get("ParameterName"),
                    "Type": "PassThrough",
                    "Value": p.get("ValueSource"),
                }
                for p in _dicts(c.get("InputParameters"))
            ]
        },
        "Outputs": {
            "TaskOutputs": [{"Output": o} for o in n.outputs],
            "Variables": [
                {
                    "Name": p.get("ParameterName"),
                    "Type": _OUTPUT_TYPES.get(p.get("Type"), "Constant"),
                    "Value": p.get("Value"),
                }
                for p in _dicts(c.get("OutputParameters"))
            ],
        },
        "Tags": [],
        "SubTasks": {"SubTasks": [], "Type": None},
    }
