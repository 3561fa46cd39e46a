"""FlowSpec node → 2020 file fields (API 2024-05-18), and the vocabulary both directions
share (commands, time zones, rerun modes, :data:`EXTRAS_KEY`). Pure: no store, no clock.

What a node says, as the 2020 fields of a file (:func:`node_fields` → :class:`NodeFields`)::

    {"id": "<FileId>", "name": FileName, "owner": Owner, "description": FileDescription,
     "script": {"path": <folder>/<name>, "runtime": {"command": FileType},
                "content": Content, "parameters": [{name, value}] ↔ ParaValue},
     "trigger": {"type": Scheduler|Manual, "cron": CronExpress,
                 "startTime"/"endTime": Start/EndEffectDate, "timezone"},
     "recurrence": Normal|Pause|Skip ↔ SchedulerType (+ Stop),
     "instanceMode": T+1|Immediately ↔ StartImmediately,
     "rerunMode"/"rerunTimes"/"rerunInterval" ↔ RerunMode/AutoRerunTimes/…Millis,
     "timeout": Timeout, "datasource": {"name": ConnectionName},
     "runtimeResource": {"resourceGroup": ResourceGroupIdentifier, "resourceGroupId"},
     "inputs": {"nodeOutputs": [{"data"}]} ↔ InputList,           (+ spec.dependencies)
     "outputs": {"nodeOutputs": [{"data"}]} ↔ OutputList}

Everything else in the node (and the document's ``metadata``/``version``) is *extra*: kept
verbatim in the file's config under :data:`EXTRAS_KEY` (so it is versioned) and merged
back when the node is rendered (:mod:`.flowspec_render`). docs/flowspec.md has the full
table. A field of the wrong type or value raises ``Invalid.FlowSpec.Field``; a bad
``script.path`` ``Invalid.FlowSpec.Path``; an unknown command ``Invalid.FlowSpec.Command``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from .errors import Invalid
from .filetypes import FILE_TYPES

__all__ = [
    "DEFAULT_TIMEZONE",
    "DEFAULT_VERSION",
    "EXTRAS_KEY",
    "RERUN_MODES",
    "TIME_FORMAT",
    "NodeFields",
    "command_of",
    "file_type_of",
    "node_fields",
    "time_zone",
]

_T = TypeVar("_T")

EXTRAS_KEY = "FlowSpec"
DEFAULT_VERSION = "1.1.0"
DEFAULT_TIMEZONE = "Asia/Shanghai"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_COMMANDS = {t.type_name: t.code for t in FILE_TYPES.values()}
# FlowSpec spellings of commands whose 2020 type name differs.
_COMMAND_ALIASES = {"PYODPS": 221, "PYODPS3": 1221, "PYTHON": 1221, "SHELL": 6, "VIRTUAL_NODE": 99}
_RERUN = {"Allowed": "ALL_ALLOWED", "Denied": "ALL_DENIED", "FailureAllowed": "FAILURE_ALLOWED"}
RERUN_MODES: Mapping[str, str] = _RERUN
_INSTANCE = {"T+1": False, "Immediately": True}
_RECURRENCES = ("Normal", "Pause", "Skip")
_TRIGGERS = ("Scheduler", "Manual")


# -- typed field access ----------------------------------------------------------------


def _typed(where: Mapping[str, Any], key: str, label: str, kind: type[_T], noun: str) -> _T | None:
    value = where.get(key)
    if value is not None and not isinstance(value, kind):
        raise Invalid("Invalid.FlowSpec.Field", f"{label} must be {noun}.")
    return value


def _obj(node: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = _typed(node, key, key, dict, "an object")
    return {} if value is None else value


def _str(where: Mapping[str, Any], key: str, label: str) -> str | None:
    return _typed(where, key, label, str, "a string")


def _int(where: Mapping[str, Any], key: str, label: str) -> int | None:
    value = where.get(key)
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and value.isascii():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise Invalid("Invalid.FlowSpec.Field", f"{label} must be an integer.")
    return value


def _choice(where: Mapping[str, Any], key: str, allowed: tuple[str, ...], label: str) -> str | None:
    value = _str(where, key, label)
    if value is not None and value not in allowed:
        raise Invalid(
            "Invalid.FlowSpec.Field", f"{label} must be one of {', '.join(allowed)}, not {value!r}."
        )
    return value


def time_zone(name: str | None) -> tzinfo:
    """The zone ``trigger.timezone`` names (Asia/Shanghai when absent; UTC+8 if the zone
    database lacks it); an unknown name is ``Invalid.FlowSpec.Field``."""
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ValueError, OSError):
        if name:
            raise Invalid(
                "Invalid.FlowSpec.Field", f"trigger.timezone {name!r} is not a known time zone."
            ) from None
        return timezone(timedelta(hours=8))


def _to_millis(text: str | None, zone: tzinfo, label: str) -> int | None:
    if text is None:
        return None
    try:
        moment = datetime.strptime(text.strip(), TIME_FORMAT).replace(tzinfo=zone)
    except ValueError:
        raise Invalid(
            "Invalid.FlowSpec.Field", f"{label} must look like 1970-01-01 00:00:00."
        ) from None
    return int(moment.timestamp() * 1000)


def file_type_of(command: str) -> int:
    code = _COMMANDS.get(command) or _COMMAND_ALIASES.get(command.upper())
    if code is None:
        raise Invalid(
            "Invalid.FlowSpec.Command",
            f"script.runtime.command {command!r} is not a supported node type.",
        )
    return code


def command_of(file_type: int) -> str:
    known = FILE_TYPES.get(file_type)
    return known.type_name if known else str(file_type)


# -- node → 2020 fields ----------------------------------------------------------------


@dataclass(slots=True)
class NodeFields:
    """What a FlowSpec node says in 2020 terms. ``changes`` holds 2020 field names
    (FileName, Content, CronExpress…) only for the fields the node gives; ``folder`` is
    the directory part of ``script.path`` (None: no path given)."""

    name: str | None
    file_type: int | None
    folder: str | None
    path: str | None
    changes: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)


def _outputs(where: Mapping[str, Any], label: str) -> list[dict[str, Any]] | None:
    if where.get("nodeOutputs") is None:
        return None
    items = where["nodeOutputs"]
    if not isinstance(items, list) or not all(
        isinstance(i, dict) and isinstance(i.get("data"), str) and i["data"].strip() for i in items
    ):
        raise Invalid(
            "Invalid.FlowSpec.Field",
            f"{label}.nodeOutputs must be a list of objects with a 'data' string.",
        )
    return items


def _parameters(script: Mapping[str, Any]) -> str | None:
    items = script.get("parameters")
    if items is None:
        return None
    if not isinstance(items, list) or not all(
        isinstance(i, dict) and isinstance(i.get("name"), str) and i["name"] for i in items
    ):
        raise Invalid(
            "Invalid.FlowSpec.Field", "script.parameters must be a list of objects with a 'name'."
        )
    parts = []
    for item in items:
        value = item.get("value")
        parts.append(item["name"] if value is None else f"{item['name']}={value}")
    return " ".join(parts)


def _dependency_inputs(doc: Mapping[str, Any], node: Mapping[str, Any]) -> list[str] | None:
    """Outputs named by spec.dependencies (2.0.0; in a workflow, the workflow's) for this
    node: entries whose nodeId is the node's id or name, or the only entry of a one-node
    document."""
    spec = doc.get("spec", {})
    entries = spec.get("dependencies")
    if entries is None:
        return None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise Invalid("Invalid.FlowSpec.Field", "dependencies must be a list of objects.")
    mine = {str(node.get("id") or ""), str(node.get("name") or "")} - {""}
    lone = len(entries) == 1 and len(spec.get("nodes") or []) <= 1
    found: list[str] = []
    for entry in entries:
        if not lone and str(entry.get("nodeId") or "") not in mine:
            continue
        depends = entry.get("depends") or []
        if not isinstance(depends, list):
            raise Invalid("Invalid.FlowSpec.Field", "dependencies[].depends must be a list.")
        for dep in depends:
            output = dep.get("output") if isinstance(dep, dict) else None
            if isinstance(output, str) and output.strip():
                found.append(output.strip())
    return found


def _schedule(node: Mapping[str, Any], changes: dict[str, Any]) -> None:
    trigger = _obj(node, "trigger")
    zone = time_zone(_str(trigger, "timezone", "trigger.timezone"))
    kind = _choice(trigger, "type", _TRIGGERS, "trigger.type")
    recurrence = _choice(node, "recurrence", _RECURRENCES, "recurrence")
    cron = _str(trigger, "cron", "trigger.cron")
    if cron is not None:
        changes["CronExpress"] = cron
    for key, wire in (("startTime", "StartEffectDate"), ("endTime", "EndEffectDate")):
        millis = _to_millis(_str(trigger, key, f"trigger.{key}"), zone, f"trigger.{key}")
        if millis is not None:
            changes[wire] = millis
    if kind is not None or recurrence is not None:
        manual = kind == "Manual"
        scheduler = {"Pause": "PAUSE", "Skip": "SKIP"}.get(recurrence or "", "NORMAL")
        changes["SchedulerType"] = "MANUAL" if manual else scheduler
        changes["Stop"] = recurrence == "Pause"
    mode = _choice(node, "rerunMode", tuple(_RERUN), "rerunMode")
    if mode is not None:
        changes["RerunMode"] = _RERUN[mode]
    instance = _choice(node, "instanceMode", tuple(_INSTANCE), "instanceMode")
    if instance is not None:
        changes["StartImmediately"] = _INSTANCE[instance]
    for key, wire in (
        ("rerunTimes", "AutoRerunTimes"),
        ("rerunInterval", "AutoRerunIntervalMillis"),
        ("timeout", "Timeout"),
    ):
        number = _int(node, key, key)
        if number is not None:
            changes[wire] = number


def _io(doc: Mapping[str, Any], node: Mapping[str, Any], auto: str | None) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    inputs = _outputs(_obj(node, "inputs"), "inputs")
    names = None if inputs is None else [i["data"].strip() for i in inputs]
    extra = _dependency_inputs(doc, node)
    if extra is not None:
        names = [*(names or []), *extra]
    if names is not None:
        changes["InputList"] = ",".join(dict.fromkeys(names))
    outputs = _outputs(_obj(node, "outputs"), "outputs")
    if outputs is not None:
        declared = [o["data"].strip() for o in outputs]
        changes["OutputList"] = ",".join(n for n in dict.fromkeys(declared) if n != auto)
    return changes


def node_fields(
    doc: Mapping[str, Any], node: Mapping[str, Any], project_identifier: str
) -> NodeFields:
    """The 2020 view of one FlowSpec node; absent fields stay absent from ``changes``."""
    name = _str(node, "name", "name")
    script = _obj(node, "script")
    runtime = _obj(script, "runtime")
    command = _str(runtime, "command", "script.runtime.command")
    path = _str(script, "path", "script.path")
    folder = None
    if path is not None:
        path = path.strip().strip("/")
        if name is not None and path.rsplit("/", 1)[-1] != name:
            raise Invalid(
                "Invalid.FlowSpec.Path",
                f"Script path must end with node name: {path!r} vs {name!r}.",
            )
        folder = path.rsplit("/", 1)[0] if "/" in path else ""
    changes: dict[str, Any] = {}
    if name is not None:
        changes["FileName"] = name
    for where, key, wire in (
        (script, "content", "Content"),
        (node, "owner", "Owner"),
        (node, "description", "FileDescription"),
    ):
        value = _str(where, key, key if where is node else f"script.{key}")
        if value is not None:
            changes[wire] = value
    parameters = _parameters(script)
    if parameters is not None:
        changes["ParaValue"] = parameters
    _schedule(node, changes)
    source = _str(_obj(node, "datasource"), "name", "datasource.name")
    if source is not None:
        changes["ConnectionName"] = source
    resource = _obj(node, "runtimeResource")
    for key, wire in (
        ("resourceGroup", "ResourceGroupIdentifier"),
        ("resourceGroupId", "ResourceGroupId"),
    ):
        value = resource.get(key)
        if value is not None:
            changes[wire] = str(value)
    auto = f"{project_identifier}.{name}" if name else None
    changes.update(_io(doc, node, auto))
    return NodeFields(
        name=name,
        file_type=file_type_of(command) if command is not None else None,
        folder=folder,
        path=path,
        changes=changes,
        extras=_extras(doc, node),
    )


# Leaves of a node that 2020 models (removed from the kept extras).
_MODELED: dict[str, tuple[str, ...]] = {
    "": (
        "id", "name", "owner", "description", "recurrence", "instanceMode", "rerunMode",
        "rerunTimes", "rerunInterval", "timeout",
    ),
    "script": ("content", "path", "id"),
    "script.runtime": ("command",),
    "trigger": ("type", "cron", "startTime", "endTime"),
    "datasource": ("name",),
    "runtimeResource": ("resourceGroup", "resourceGroupId"),
}  # fmt: skip


def _extras(doc: Mapping[str, Any], node: Mapping[str, Any]) -> dict[str, Any]:
    """The node minus what 2020 models, plus the document's version and metadata.
    ``inputs``/``outputs`` keep their verbatim items so extra keys of an item survive."""
    kept = copy.deepcopy(dict(node))
    for path, keys in _MODELED.items():
        where: Any = kept
        for part in path.split(".") if path else ():
            where = where.get(part) if isinstance(where, dict) else None
        if isinstance(where, dict):
            for key in keys:
                where.pop(key, None)
    for key in ("script", "trigger", "datasource", "runtimeResource"):
        if key in kept and isinstance(kept[key], dict):
            if key == "script" and kept[key].get("runtime") == {}:
                del kept[key]["runtime"]
            if not kept[key]:
                del kept[key]
    extras: dict[str, Any] = {"node": kept, "version": doc.get("version", DEFAULT_VERSION)}
    if isinstance(doc.get("metadata"), dict):
        extras["metadata"] = doc["metadata"]
    return extras
