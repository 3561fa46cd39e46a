"""FlowSpec documents (API 2024-05-18): parse, validate, and map a node to and from the
fields of a 2020 file. Pure: no store, no clock.

A document and the part of it that is a 2020 file::

    {"version": "1.1.0" | "2.0.0", "kind": "Node", "metadata": {…}, "spec": {
        "nodes": [ {                                   ◀── only nodes[0] is used
            "id": "<FileId>", "name": FileName, "owner": Owner, "description": FileDescription,
            "script": {"path": <folder>/<name>, "runtime": {"command": FileType},
                       "content": Content, "parameters": [{name, value}] ↔ ParaValue},
            "trigger": {"type": Scheduler|Manual, "cron": CronExpress,
                        "startTime"/"endTime": Start/EndEffectDate, "timezone"},
            "recurrence": Normal|Pause|Skip ↔ SchedulerType (+ Stop),
            "instanceMode": T+1|Immediately ↔ StartImmediately,
            "rerunMode"/"rerunTimes"/"rerunInterval" ↔ RerunMode/AutoRerunTimes/…Millis,
            "timeout": Timeout, "datasource": {"name": ConnectionName},
            "runtimeResource": {"resourceGroup": ResourceGroupIdentifier, "resourceGroupId"},
            "inputs": {"nodeOutputs": [{"data"}]} ↔ InputList,
            "outputs": {"nodeOutputs": [{"data"}]} ↔ OutputList } ],
        "dependencies": [{"nodeId", "depends": [{"type": "Normal", "output"}]}]  (2.0.0)
    }}

Everything else in the node (and the document's ``metadata``/``version``) is *extra*: kept
verbatim in the file's config under :data:`EXTRAS_KEY` (so it is versioned) and merged
back when the node is rendered. docs/flowspec.md has the full table.

Errors (all 400)::

    Invalid.FlowSpec.Json       not JSON, not an object, too large or nested too deep
    Invalid.FlowSpec.Version    version is not 1.x.x or 2.x.x
    Invalid.FlowSpec.Kind       wrong kind for the operation (UpdateNode: "spec kind and
                                request not match")
    Invalid.FlowSpec.NoNode     spec.nodes (or spec.workflows) missing or empty
    Invalid.FlowSpec.Field      a field has the wrong type or value (the message names it)
    Invalid.FlowSpec.Name       the name is missing
    Invalid.FlowSpec.Path       script.path does not end with the name
    Invalid.FlowSpec.Command    script.runtime.command unknown (or missing on create)
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from .errors import Invalid
from .files import split_names
from .filetypes import FILE_TYPES
from .lifecycle import node_outputs
from .model import File, FileVersion, Project

__all__ = [
    "DEFAULT_VERSION",
    "EXTRAS_KEY",
    "MAX_DEPTH",
    "MAX_SPEC_BYTES",
    "RERUN_MODES",
    "NodeFields",
    "command_of",
    "document",
    "file_node",
    "file_type_of",
    "first_node",
    "load",
    "merge",
    "node_fields",
    "node_text",
    "render_node",
    "require_kind",
    "script_path",
    "version_node",
    "workflows_of",
]

EXTRAS_KEY = "FlowSpec"
DEFAULT_VERSION = "1.1.0"
MAX_SPEC_BYTES = 1_048_576
MAX_DEPTH = 32
DEFAULT_TIMEZONE = "Asia/Shanghai"
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_COMMANDS = {t.type_name: t.code for t in FILE_TYPES.values()}
# FlowSpec spellings of commands whose 2020 type name differs.
_COMMAND_ALIASES = {"PYODPS": 221, "PYODPS3": 1221, "PYTHON": 1221, "SHELL": 6, "VIRTUAL_NODE": 99}
_RERUN = {"Allowed": "ALL_ALLOWED", "Denied": "ALL_DENIED", "FailureAllowed": "FAILURE_ALLOWED"}
_RERUN_BACK = {v: k for k, v in _RERUN.items()}
RERUN_MODES: Mapping[str, str] = _RERUN
_INSTANCE = {"T+1": False, "Immediately": True}
_RECURRENCES = ("Normal", "Pause", "Skip")
_TRIGGERS = ("Scheduler", "Manual")


# -- the document ----------------------------------------------------------------------


def _depth(value: Any) -> int:
    """The nesting depth of a parsed JSON value, without recursion (linear)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


def load(text: str | None) -> dict[str, Any]:
    """The FlowSpec document in ``text``: a JSON object of at most 1 MiB and 32 levels,
    with a 1.x.x or 2.x.x ``version`` (``1.1.0`` when absent)."""
    if not text or not text.strip():
        raise Invalid("Invalid.FlowSpec.Json", "Spec is empty; it must be a FlowSpec JSON object.")
    if len(text.encode()) > MAX_SPEC_BYTES:
        raise Invalid("Invalid.FlowSpec.Json", f"Spec is larger than {MAX_SPEC_BYTES} bytes.")
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError as err:
        raise Invalid("Invalid.FlowSpec.Json", f"Spec is not valid JSON: {err}.") from None
    if not isinstance(doc, dict):
        raise Invalid(
            "Invalid.FlowSpec.Json", "Spec must be a JSON object with version, kind and spec."
        )
    if _depth(doc) > MAX_DEPTH:
        raise Invalid("Invalid.FlowSpec.Json", f"Spec is nested deeper than {MAX_DEPTH} levels.")
    version = doc.get("version", DEFAULT_VERSION)
    if not isinstance(version, str) or version.split(".")[0] not in ("1", "2"):
        raise Invalid(
            "Invalid.FlowSpec.Version",
            f"FlowSpec version {version!r} is not supported (1.1.0, 2.0.0).",
        )
    if not isinstance(doc.get("spec"), dict):
        raise Invalid("Invalid.FlowSpec.Field", "Spec has no 'spec' object.")
    return doc


def require_kind(doc: Mapping[str, Any], kinds: tuple[str, ...], message: str = "") -> str:
    kind = doc.get("kind")
    if kind not in kinds:
        raise Invalid(
            "Invalid.FlowSpec.Kind",
            message or f"FlowSpec kind {kind!r} is not accepted here (expected {kinds[0]}).",
        )
    return str(kind)


def _objects(doc: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    items = doc["spec"].get(key)
    if not isinstance(items, list) or not items:
        raise Invalid("Invalid.FlowSpec.NoNode", f"Spec has no spec.{key}: give at least one.")
    if not all(isinstance(item, dict) for item in items):
        raise Invalid("Invalid.FlowSpec.Field", f"Every element of spec.{key} must be an object.")
    return items


def first_node(doc: Mapping[str, Any]) -> dict[str, Any]:
    """``spec.nodes[0]`` (the others are ignored, as DataWorks does)."""
    return _objects(doc, "nodes")[0]


def workflows_of(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    return _objects(doc, "workflows")


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


# -- typed field access ----------------------------------------------------------------


def _obj(node: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = node.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Invalid("Invalid.FlowSpec.Field", f"{key} must be an object.")
    return value


def _str(where: Mapping[str, Any], key: str, label: str) -> str | None:
    value = where.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid("Invalid.FlowSpec.Field", f"{label} must be a string.")
    return value


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


def _zone(name: str | None) -> tzinfo:
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
        moment = datetime.strptime(text.strip(), _TIME_FORMAT).replace(tzinfo=zone)
    except ValueError:
        raise Invalid(
            "Invalid.FlowSpec.Field", f"{label} must look like 1970-01-01 00:00:00."
        ) from None
    return int(moment.timestamp() * 1000)


def _from_millis(millis: Any, zone: tzinfo) -> str | None:
    if not isinstance(millis, int):
        return None
    moment = datetime.fromtimestamp(millis / 1000, tz=UTC).astimezone(zone)
    return moment.strftime(_TIME_FORMAT)


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
    zone = _zone(_str(trigger, "timezone", "trigger.timezone"))
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


# -- 2020 fields → node ----------------------------------------------------------------


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
    zone = _zone(kept_trigger.get("timezone") if isinstance(kept_trigger, dict) else None)
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


def file_node(project: Project, file: File) -> dict[str, Any]:
    """The FlowSpec node of a file's working copy (ids filled in)."""
    return render_node(
        node_id=file.id,
        name=file.name,
        file_type=file.file_type,
        content=file.content,
        path=script_path(file.folder_path, file.name, file.config),
        owner=file.owner,
        description=file.description,
        config=file.config,
        connection_name=file.connection_name,
        inputs=split_names(str(file.config.get("InputList") or "")),
        outputs=node_outputs(project, file.name, file.config),
    )


def version_node(project: Project, version: FileVersion) -> dict[str, Any]:
    """The FlowSpec node of one committed version (its data source from the kept spec:
    versions do not snapshot ConnectionName)."""
    source = _kept(version.config).get("node", {}).get("datasource", {})
    return render_node(
        node_id=version.file_id,
        name=version.name,
        file_type=version.file_type,
        content=version.content,
        path=script_path(version.folder_path, version.name, version.config),
        owner=version.owner,
        description=version.description,
        config=version.config,
        connection_name=source.get("name") if isinstance(source, dict) else None,
        inputs=split_names(str(version.config.get("InputList") or "")),
        outputs=node_outputs(project, version.name, version.config),
    )


def node_text(node: dict[str, Any], config: Mapping[str, Any]) -> str:
    """The FlowSpec document (kind Node) of one rendered node, in the version it was given."""
    kept = _kept(config)
    return document("Node", str(kept.get("version") or DEFAULT_VERSION), {"nodes": [node]}, kept)
