"""2020 file fields → FlowSpec node and document (API 2024-05-18): the inverse of
:mod:`.flowspec_fields`. Pure: no store, no clock::

    file_node(project, file) ─┐                    (path: script_path; outputs: node_outputs)
    version_node(project, v) ─┴─▶ render_node(2020 fields, config) ──▶ node
                                      ▲ merge(kept node, rendered fields)
                                      └── config[EXTRAS_KEY] = {"node", "version", "metadata"}
    node_text(node, config) ──▶ document("Node", kept version, {"nodes": [node]}, kept)

Every modelled field is rendered from the 2020 fields (they win over the kept extras); what
the spec gave and 2020 does not model comes back verbatim from ``config[EXTRAS_KEY]``, as do
the document's ``version`` and ``metadata``. ``inputs``/``outputs`` items and
``script.parameters`` keep the extra keys of the kept item with the same data/name.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

import orjson

from .files import split_names
from .flowspec_fields import (
    DEFAULT_VERSION,
    EXTRAS_KEY,
    RERUN_MODES,
    TIME_FORMAT,
    command_of,
    time_zone,
)
from .lifecycle import node_outputs
from .model import File, FileVersion, Project

__all__ = [
    "document",
    "file_node",
    "merge",
    "node_text",
    "render_node",
    "script_path",
    "version_node",
]

_RERUN_BACK = {v: k for k, v in RERUN_MODES.items()}


def merge(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``patch``: objects merge key by key, anything else replaces."""
    out = copy.deepcopy(dict(base))
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def document(kind: str, version: str, spec: dict[str, Any], extras: Mapping[str, Any]) -> str:
    doc: dict[str, Any] = {"version": version, "kind": kind}
    if "metadata" in extras:
        doc["metadata"] = extras["metadata"]
    doc["spec"] = spec
    return orjson.dumps(doc).decode()


def _from_millis(millis: Any, zone: tzinfo) -> str | None:
    if not isinstance(millis, int):
        return None
    moment = datetime.fromtimestamp(millis / 1000, tz=UTC).astimezone(zone)
    return moment.strftime(TIME_FORMAT)


def _items(names: list[str], kept: Any, extra: Mapping[str, Any]) -> list[dict[str, Any]]:
    """nodeOutputs items for ``names``, each the kept item of the same data if any."""
    verbatim = {}
    if isinstance(kept, dict) and isinstance(kept.get("nodeOutputs"), list):
        verbatim = {i.get("data"): i for i in kept["nodeOutputs"] if isinstance(i, dict)}
    return [{**extra, **verbatim.get(n, {}), "data": n} for n in names]


def _render_parameters(text: str, kept: Any) -> list[dict[str, Any]]:
    verbatim = {}
    if isinstance(kept, list):
        verbatim = {i.get("name"): i for i in kept if isinstance(i, dict)}
    out = []
    for token in text.split():
        name, sep, value = token.partition("=")
        item: dict[str, Any] = {**verbatim.get(name, {}), "name": name}
        if sep:
            item["value"] = value
        else:
            item.pop("value", None)
        out.append(item)
    return out


def render_node(
    *,
    node_id: int,
    name: str,
    file_type: int,
    content: str,
    path: str,
    owner: str,
    description: str,
    config: Mapping[str, Any],
    connection_name: str | None,
    inputs: list[str],
    outputs: list[str],
) -> dict[str, Any]:
    """A FlowSpec node from a file's (or version's) 2020 fields, extras merged back."""
    extras = config.get(EXTRAS_KEY) or {}
    kept: dict[str, Any] = copy.deepcopy(extras.get("node") or {})
    c = config
    kept_trigger = kept.get("trigger") if isinstance(kept.get("trigger"), dict) else {}
    zone = time_zone(kept_trigger.get("timezone") if isinstance(kept_trigger, dict) else None)
    scheduler = str(c.get("SchedulerType") or "NORMAL")
    recurrence = (
        "Skip"
        if scheduler == "SKIP"
        else "Pause"
        if (scheduler == "PAUSE" or c.get("Stop"))
        else "Normal"
    )
    trigger: dict[str, Any] = {
        "type": "Manual" if scheduler == "MANUAL" else "Scheduler",
        "cron": c.get("CronExpress"),
        "startTime": _from_millis(c.get("StartEffectDate"), zone),
        "endTime": _from_millis(c.get("EndEffectDate"), zone),
    }
    script: dict[str, Any] = {
        "path": path,
        "runtime": {"command": command_of(file_type)},
        "content": content,
    }
    kept_script = kept.get("script") if isinstance(kept.get("script"), dict) else {}
    para = str(c.get("ParaValue") or "")
    if para or "parameters" in (kept_script or {}):
        script["parameters"] = _render_parameters(para, None)
    node: dict[str, Any] = {
        "id": str(node_id),
        "name": name,
        "owner": owner,
        "description": description,
        "recurrence": recurrence,
        "instanceMode": "Immediately" if c.get("StartImmediately") else "T+1",
        "rerunMode": _RERUN_BACK.get(str(c.get("RerunMode")), "Allowed"),
        "rerunTimes": c.get("AutoRerunTimes"),
        "rerunInterval": c.get("AutoRerunIntervalMillis"),
        "timeout": c.get("Timeout"),
        "script": script,
        "trigger": {k: v for k, v in trigger.items() if v is not None},
        "inputs": {
            "nodeOutputs": _items(inputs, kept.get("inputs"), {"artifactType": "NodeOutput"})
        },
        "outputs": {
            "nodeOutputs": _items(outputs, kept.get("outputs"), {"artifactType": "NodeOutput"})
        },
    }
    if connection_name:
        node["datasource"] = {"name": connection_name}
    resource = {
        "resourceGroup": c.get("ResourceGroupIdentifier"),
        "resourceGroupId": c.get("ResourceGroupId"),
    }
    if any(resource.values()):
        node["runtimeResource"] = {k: str(v) for k, v in resource.items() if v}
    rendered = merge(kept, node)
    if "parameters" in script and isinstance(kept_script, dict):
        rendered["script"]["parameters"] = _render_parameters(para, kept_script.get("parameters"))
    return rendered


def _kept(config: Mapping[str, Any]) -> dict[str, Any]:
    extras = config.get(EXTRAS_KEY)
    return extras if isinstance(extras, dict) else {}


def script_path(folder_path: str, name: str, config: Mapping[str, Any]) -> str:
    """``<folder>/<name>``: the 2020 folder, else the directory the spec gave, else the name."""
    folder = folder_path or str(_kept(config).get("folder") or "")
    return f"{folder}/{name}" if folder else name


def _source_node(
    project: Project, source: File | FileVersion, node_id: int, connection_name: str | None
) -> dict[str, Any]:
    """:func:`render_node` of a file or a version: the fields both carry."""
    return render_node(
        node_id=node_id,
        name=source.name,
        file_type=source.file_type,
        content=source.content,
        path=script_path(source.folder_path, source.name, source.config),
        owner=source.owner,
        description=source.description,
        config=source.config,
        connection_name=connection_name,
        inputs=split_names(str(source.config.get("InputList") or "")),
        outputs=node_outputs(project, source.name, source.config),
    )


def file_node(project: Project, file: File) -> dict[str, Any]:
    """The FlowSpec node of a file's working copy (ids filled in)."""
    return _source_node(project, file, file.id, file.connection_name)


def version_node(project: Project, version: FileVersion) -> dict[str, Any]:
    """The FlowSpec node of one committed version (its data source from the kept spec:
    versions do not snapshot ConnectionName)."""
    source = _kept(version.config).get("node", {}).get("datasource", {})
    name = source.get("name") if isinstance(source, dict) else None
    return _source_node(project, version, version.file_id, name)


def node_text(node: dict[str, Any], config: Mapping[str, Any]) -> str:
    """The FlowSpec document (kind Node) of one rendered node, in the version it was given."""
    kept = _kept(config)
    return document("Node", str(kept.get("version") or DEFAULT_VERSION), {"nodes": [node]}, kept)
