"""FlowSpec text and the structured 2024 documents of nodes and workflow definitions.

::

    file / file version ──▶ node_spec ──▶ {"version", "kind": "Node", "spec": {"nodes": [n]}}
                                   │            = file_spec / version_spec (GetNode's Spec,
                                   │              ListPipelineRunItems' Spec)
                                   └──▶ node_summary (a ListNodes / ListNodeDependencies entry)
    business flow + its files ──▶ workflow_spec (GetWorkflowDefinition's Spec)
    resource file ──▶ resource_spec / resource_summary (GetResource / ListResources)
    function file ──▶ function_spec / function_summary (GetFunction / ListFunctions)

The field mapping lives in :mod:`openworks.core.flowspec`; docs/flowspec.md has the table.
"""

from __future__ import annotations

from typing import Any

import orjson

from openworks.core.flowspec_fields import DEFAULT_VERSION, command_of
from openworks.core.flowspec_objects import (
    RESOURCE_TYPE_NAMES,
    function_record,
    object_text,
    render_function,
    render_resource,
)
from openworks.core.flowspec_render import file_node, node_text, version_node
from openworks.core.folder_model import Business
from openworks.core.model import File, FileVersion, Project

__all__ = [
    "WORKFLOW_COMMAND",
    "file_spec",
    "function_spec",
    "function_summary",
    "node_spec",
    "node_summary",
    "object_entry",
    "resource_spec",
    "resource_summary",
    "version_spec",
    "workflow_kind",
    "workflow_spec",
    "workflow_summary",
]

WORKFLOW_COMMAND = "WORKFLOW"


def node_spec(project: Project, file: File) -> dict[str, Any]:
    """The FlowSpec node of a file's working copy (ids filled in)."""
    return file_node(project, file)


def file_spec(project: Project, file: File) -> str:
    """FlowSpec JSON text of the file's working copy (what GetNode returns as Spec)."""
    return node_text(file_node(project, file), file.config)


def version_spec(project: Project, version: FileVersion) -> str:
    """FlowSpec JSON text (kind Node) of one committed file version, ids filled in."""
    return node_text(version_node(project, version), version.config)


def node_summary(project: Project, file: File, task_id: int | None) -> dict[str, Any]:
    """A ListNodes / ListNodeDependencies entry: the node's fields without its Spec."""
    n = node_spec(project, file)
    trigger, script = n.get("trigger", {}), n.get("script", {})
    resource = n.get("runtimeResource") or {}
    source = n.get("datasource") or {}

    def outputs(where: str) -> dict[str, Any]:
        items = (n.get(where) or {}).get("nodeOutputs") or []
        return {
            "NodeOutputs": [
                {"Data": i.get("data"), "RefTableName": i.get("refTableName")} for i in items
            ]
        }

    return {
        "CreateTime": file.create_time,
        "ModifyTime": file.last_edit_time or file.create_time,
        "Id": str(file.id),
        "Name": file.name,
        "Owner": file.owner,
        "Description": file.description,
        "ProjectId": project.id,
        "TaskId": task_id,
        "Recurrence": n.get("recurrence"),
        "DataSource": {"Name": source.get("name"), "Type": source.get("type")},
        "RuntimeResource": {
            "ResourceGroup": resource.get("resourceGroup"),
            "ResourceGroupId": resource.get("resourceGroupId"),
        },
        "Script": {
            "Id": str(file.id),
            "Path": script.get("path"),
            "Runtime": {"Command": command_of(file.file_type)},
        },
        "Strategy": {
            "InstanceMode": n.get("instanceMode"),
            "RerunInterval": n.get("rerunInterval"),
            "RerunMode": n.get("rerunMode"),
            "RerunTimes": n.get("rerunTimes"),
            "Timeout": n.get("timeout"),
        },
        "Trigger": {
            "Cron": trigger.get("cron"),
            "StartTime": trigger.get("startTime"),
            "EndTime": trigger.get("endTime"),
            "Timezone": trigger.get("timezone"),
            "Type": trigger.get("type"),
        },
        "Inputs": outputs("inputs"),
        "Outputs": outputs("outputs"),
        "Tags": [],
    }


def workflow_kind(business: Business) -> str:
    return "ManualWorkflow" if business.use_type == "MANUAL_BIZ" else "CycleWorkflow"


def _workflow_path(business: Business) -> str:
    root = "手动业务流程" if business.use_type == "MANUAL_BIZ" else "业务流程"
    return f"{root}/{business.name}"


def workflow_spec(
    project: Project, business: Business, files: list[File], with_content: bool = True
) -> str:
    """GetWorkflowDefinition's Spec: the workflow and the nodes in it."""
    nodes = []
    for f in files:
        n = node_spec(project, f)
        if not with_content:
            n.get("script", {}).pop("content", None)
        nodes.append(n)
    workflow = {
        "id": str(business.id),
        "name": business.name,
        "owner": business.owner,
        "description": business.description,
        "script": {
            "path": _workflow_path(business),
            "runtime": {"command": WORKFLOW_COMMAND},
        },
        "trigger": {"type": "Manual" if business.use_type == "MANUAL_BIZ" else "Scheduler"},
        "nodes": nodes,
    }
    return orjson.dumps(
        {
            "version": DEFAULT_VERSION,
            "kind": workflow_kind(business),
            "spec": {"workflows": [workflow]},
        }
    ).decode()


def workflow_summary(project: Project, business: Business) -> dict[str, Any]:
    """A ListWorkflowDefinitions entry."""
    return {
        "CreateTime": business.create_time,
        "ModifyTime": business.modify_time,
        "Id": str(business.id),
        "Name": business.name,
        "Owner": business.owner,
        "Description": business.description,
        "ProjectId": project.id,
        "Type": workflow_kind(business),
        "Script": {
            "Id": str(business.id),
            "Path": _workflow_path(business),
            "Runtime": {"Command": WORKFLOW_COMMAND},
        },
    }


# -- resources and functions -----------------------------------------------------------


def resource_spec(file: File, link: str | None) -> str:
    """GetResource's Spec (kind Resource); ``file`` carries the bytes' digest, size and
    the signed download link."""
    return object_text("Resource", render_resource(file, file.id, link), file.config)


def function_spec(file: File) -> str:
    """GetFunction's Spec (kind Function)."""
    return object_text("Function", render_function(file, file.id), file.config)


def object_entry(project: Project, file: File) -> dict[str, Any]:
    """Fields a GetResource / GetFunction object and a listing entry share."""
    return {
        "CreateTime": file.create_time,
        "ModifyTime": file.last_edit_time or file.create_time,
        "Id": str(file.id),
        "Name": file.name,
        "Owner": file.owner,
        "ProjectId": project.id,
    }


def _script(item: dict[str, Any], file: File) -> dict[str, Any]:
    return {
        "Id": str(file.id),
        "Path": item["script"]["path"],
        "Runtime": {"Command": command_of(file.file_type)},
    }


def _source(item: dict[str, Any]) -> dict[str, Any]:
    source = item.get("datasource") if isinstance(item.get("datasource"), dict) else {}
    return {"Name": (source or {}).get("name"), "Type": (source or {}).get("type")}


def resource_summary(project: Project, file: File) -> dict[str, Any]:
    """A ListResources entry (bytes are local to openworks: SourceType Local)."""
    item = render_resource(file, file.id)
    return {
        **object_entry(project, file),
        "Type": RESOURCE_TYPE_NAMES.get(file.file_type, "file").capitalize(),
        "Script": _script(item, file),
        "DataSource": _source(item),
        "SourceType": "Local",
        "SourcePath": None,
        "TargetType": None,
        "TargetPath": None,
    }


def function_summary(project: Project, file: File) -> dict[str, Any]:
    """A ListFunctions entry."""
    item = render_function(file, file.id)
    record = function_record(file.config)
    runtime = item.get("runtimeResource") if isinstance(item.get("runtimeResource"), dict) else {}
    group = (runtime or {}).get("resourceGroupId")
    return {
        **object_entry(project, file),
        "Type": str(record.get("functionType") or "OTHER").capitalize(),
        "ClassName": record.get("className"),
        "Description": file.description,
        "CommandDescription": record.get("cmdDescription"),
        "ParameterDescription": record.get("parameterDescription"),
        "ReturnValueDescription": record.get("returnValue"),
        "ExampleDescription": record.get("example"),
        "FileResource": ",".join(record.get("resources") or []),
        "ArmResource": record.get("armResource"),
        "EmbeddedCode": record.get("embeddedCode"),
        "EmbeddedCodeType": record.get("embeddedCodeType"),
        "EmbeddedResourceType": record.get("embeddedResourceType"),
        "DatabaseName": None,
        "DataSource": _source(item),
        "RuntimeResource": {"ResourceGroupId": None if group is None else str(group)},
        "Script": _script(item, file),
    }
