"""FlowSpec kinds ``Resource`` and ``Function`` (API 2024-05-18) ↔ 2020 files. Pure.

A resource is a file of FileType 12-15 (core/resources.py), a function (UDF) a file of
FileType 17 whose configuration ``config["Function"]`` holds its fields::

    {"kind": "Resource", "spec": {"fileResources": [{            file (FileType 12-15)
        "id": FileId, "name": FileName, "owner", "description",
        "type": python|jar|archive|file  ◀─┐ one of them gives
        "script": {"path": <folder>/<name>,  │ the FileType
                   "runtime": {"command": ODPS_PYTHON|ODPS_JAR|ODPS_ARCHIVE|ODPS_FILE},
                   "content": Content},      (text resource; bytes otherwise ResourceFile)
        "file": {"storage": {"type": "openworks"}, "name", "size", "sha256",
                 "downloadLink"}}]}}          (rendered only; ignored on input)

    {"kind": "Function", "spec": {"functions": [{                 file (FileType 17)
        "id", "name", "owner", "description" (= UdfDescription),
        "type": MATH|AGGREGATE|STRING|DATE|ANALYTIC|OTHER   → Function.functionType
        "className", "fileResources": [{"name"}]            → className, resources
        "usageDescription" → cmdDescription, "argumentsDescription" → parameterDescription,
        "returnValueDescription" → returnValue, "usageExample" → example,
        "armResource", "embeddedCode", "embeddedCodeType", "resourceType"
        "script": {"path", "runtime": {"command": "ODPS_FUNCTION"}, "content"}}]}}

Everything else (``datasource``, ``runtimeResource``, ``metadata``, unknown keys) is kept
verbatim under ``config["FlowSpec"]`` exactly as for nodes (flowspec_render merges it
back), so it is versioned with the file. Errors are the FlowSpec ones (docs/flowspec.md).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import Invalid
from .flowspec_fields import DEFAULT_VERSION, EXTRAS_KEY, command_of
from .flowspec_render import document, merge, script_path
from .model import File, FileVersion

__all__ = [
    "FUNCTION_COMMAND",
    "FUNCTION_FILE_TYPE",
    "FUNCTION_KEY",
    "FUNCTION_TYPES",
    "LIST_KEYS",
    "RESOURCE_TYPE_NAMES",
    "ObjectFields",
    "first_object",
    "function_record",
    "object_fields",
    "object_text",
    "render_function",
    "render_resource",
]

FUNCTION_FILE_TYPE = 17
FUNCTION_COMMAND = "ODPS_FUNCTION"
FUNCTION_KEY = "Function"
FUNCTION_TYPES = ("MATH", "AGGREGATE", "STRING", "DATE", "ANALYTIC", "OTHER")
RESOURCE_TYPE_NAMES = {12: "python", 13: "jar", 14: "archive", 15: "file"}
LIST_KEYS = {"Resource": "fileResources", "Function": "functions"}
# spec key of a function → key of config["Function"] (the 2020 CreateUdfFile field)
_FUNCTION_TEXTS = {
    "className": "className",
    "usageDescription": "cmdDescription",
    "argumentsDescription": "parameterDescription",
    "returnValueDescription": "returnValue",
    "usageExample": "example",
    "armResource": "armResource",
    "embeddedCode": "embeddedCode",
    "embeddedCodeType": "embeddedCodeType",
    "resourceType": "embeddedResourceType",
}
_COMMON = ("id", "name", "owner", "description", "type")
_RESOURCE_KEYS = (*_COMMON, "file")
_FUNCTION_KEYS = (*_COMMON, "fileResources", *_FUNCTION_TEXTS)


@dataclass(slots=True)
class ObjectFields:
    """What a Resource or Function object says in 2020 terms (absent = not given).
    ``changes`` has FileName/Owner/FileDescription/Content; ``function`` the given keys
    of the ``Function`` record; ``extras`` what is kept verbatim."""

    name: str | None
    file_type: int | None
    folder: str | None
    content: str | None
    changes: dict[str, Any] = field(default_factory=dict)
    function: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)


def _bad(message: str) -> Invalid:
    return Invalid("Invalid.FlowSpec.Field", message)


def _text(obj: Mapping[str, Any], key: str, label: str) -> str | None:
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and key == "id":
        return str(value)
    raise _bad(f"{label} must be a string.")


def _obj(obj: Mapping[str, Any], key: str, label: str) -> dict[str, Any]:
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _bad(f"{label} must be an object.")
    return value


def first_object(doc: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """``spec.fileResources[0]`` / ``spec.functions[0]`` (the others are ignored)."""
    key = LIST_KEYS[kind]
    items = doc["spec"].get(key)
    if not isinstance(items, list) or not items:
        raise Invalid("Invalid.FlowSpec.NoNode", f"Spec has no spec.{key}: give one.")
    if not isinstance(items[0], dict):
        raise _bad(f"spec.{key}[0] must be an object.")
    return items[0]


def _file_type(kind: str, command: str | None, type_name: str | None) -> int | None:
    if kind == "Function":
        if command not in (None, FUNCTION_COMMAND):
            raise Invalid(
                "Invalid.FlowSpec.Command",
                f"A function's script.runtime.command is {FUNCTION_COMMAND}, not {command!r}.",
            )
        return FUNCTION_FILE_TYPE
    by_command = {command_of(code): code for code in RESOURCE_TYPE_NAMES}
    by_name = {name: code for code, name in RESOURCE_TYPE_NAMES.items()}
    from_command = by_command.get(command) if command is not None else None
    if command is not None and from_command is None:
        raise Invalid(
            "Invalid.FlowSpec.Command",
            f"script.runtime.command {command!r} is not a resource type ({', '.join(by_command)}).",
        )
    from_name = by_name.get(type_name.lower()) if type_name is not None else None
    if type_name is not None and from_name is None:
        raise _bad(f"type {type_name!r} must be one of {', '.join(by_name)}.")
    if from_command and from_name and from_command != from_name:
        raise Invalid(
            "Invalid.FlowSpec.Command",
            f"type {type_name!r} does not match script.runtime.command {command!r}.",
        )
    return from_command or from_name


def _function_fields(obj: Mapping[str, Any], label: str) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for key, target in _FUNCTION_TEXTS.items():
        value = _text(obj, key, f"{label}.{key}")
        if value is not None:
            record[target] = value
    kind = _text(obj, "type", f"{label}.type")
    if kind is not None:
        record["functionType"] = kind
    items = obj.get("fileResources")
    if items is not None:
        if not isinstance(items, list):
            raise _bad(f"{label}.fileResources must be a list of {{name}} objects.")
        names = []
        for item in items:
            name = item.get("name") if isinstance(item, dict) else item
            if not isinstance(name, str) or not name.strip():
                raise _bad(f"{label}.fileResources items must name a resource ('name').")
            names.append(name.strip())
        record["resources"] = list(dict.fromkeys(names))
    return record


def object_fields(doc: Mapping[str, Any], obj: Mapping[str, Any], kind: str) -> ObjectFields:
    """The 2020 view of one Resource or Function object."""
    label = f"spec.{LIST_KEYS[kind]}[0]"
    name = _text(obj, "name", f"{label}.name")
    script = _obj(obj, "script", f"{label}.script")
    runtime = _obj(script, "runtime", f"{label}.script.runtime")
    command = _text(runtime, "command", f"{label}.script.runtime.command")
    type_name = _text(obj, "type", f"{label}.type") if kind == "Resource" else None
    path = _text(script, "path", f"{label}.script.path")
    content = _text(script, "content", f"{label}.script.content")
    folder = None
    if path is not None:
        clean = path.strip().strip("/")
        if not name or not (clean == name or clean.endswith(f"/{name}")):
            raise Invalid(
                "Invalid.FlowSpec.Path",
                f"script.path {path!r} must end with the name {name!r}.",
            )
        folder = clean[: -len(name)].rstrip("/")
    out = ObjectFields(name, _file_type(kind, command, type_name), folder, content)
    for key, wire in (("name", "FileName"), ("owner", "Owner"), ("description", "FileDescription")):
        value = _text(obj, key, f"{label}.{key}")
        if value is not None:
            out.changes[wire] = value
    if content is not None:
        out.changes["Content"] = content
    if kind == "Function":
        out.function = _function_fields(obj, label)
    kept = copy.deepcopy(dict(obj))
    for key in _RESOURCE_KEYS if kind == "Resource" else _FUNCTION_KEYS:
        kept.pop(key, None)
    kept_script = kept.pop("script", None) or {}
    kept_script = {k: v for k, v in kept_script.items() if k not in ("path", "content")}
    rest = {k: v for k, v in (kept_script.pop("runtime", None) or {}).items() if k != "command"}
    if rest:
        kept_script["runtime"] = rest
    if kept_script:
        kept["script"] = kept_script
    out.extras = {"node": kept, "version": str(doc.get("version") or DEFAULT_VERSION)}
    if "metadata" in doc:
        out.extras["metadata"] = doc["metadata"]
    return out


def _kept_node(config: Mapping[str, Any]) -> dict[str, Any]:
    extras = config.get(EXTRAS_KEY)
    node = extras.get("node") if isinstance(extras, dict) else None
    return copy.deepcopy(node) if isinstance(node, dict) else {}


def _base(source: File | FileVersion, object_id: int) -> dict[str, Any]:
    return {
        "id": str(object_id),
        "name": source.name,
        "owner": source.owner,
        "description": source.description,
        "script": {
            "path": script_path(source.folder_path, source.name, source.config),
            "runtime": {"command": command_of(source.file_type)},
            "content": source.content,
        },
    }


def render_resource(
    source: File | FileVersion, object_id: int, link: str | None = None
) -> dict[str, Any]:
    """The FlowSpec ``fileResources`` item of a resource file or version."""
    rendered = _base(source, object_id)
    rendered["type"] = RESOURCE_TYPE_NAMES.get(source.file_type, "file")
    record = source.config.get("Resource")
    if isinstance(record, dict):
        described = {
            "storage": {"type": "openworks"},
            "name": record.get("originResourceName") or source.name,
            "size": record.get("size"),
            "sha256": record.get("digest"),
        }
        if link:
            described["downloadLink"] = link
        rendered["file"] = described
    return merge(_kept_node(source.config), rendered)


def function_record(config: Mapping[str, Any]) -> dict[str, Any]:
    record = config.get(FUNCTION_KEY)
    return dict(record) if isinstance(record, dict) else {}


def render_function(source: File | FileVersion, object_id: int) -> dict[str, Any]:
    """The FlowSpec ``functions`` item of a function file or version."""
    record = function_record(source.config)
    kept = _kept_node(source.config)
    rendered = _base(source, object_id)
    rendered["type"] = record.get("functionType")
    for key, target in _FUNCTION_TEXTS.items():
        if record.get(target) is not None:
            rendered[key] = record[target]
    kept_items = kept.pop("fileResources", None)
    verbatim = {}
    if isinstance(kept_items, list):
        verbatim = {i.get("name"): i for i in kept_items if isinstance(i, dict)}
    rendered["fileResources"] = [
        {**verbatim.get(n, {}), "name": n} for n in record.get("resources") or []
    ]
    return merge(kept, {k: v for k, v in rendered.items() if v is not None})


def object_text(kind: str, obj: dict[str, Any], config: Mapping[str, Any]) -> str:
    """The FlowSpec document of one rendered object, in the version it was written with."""
    extras = config.get(EXTRAS_KEY)
    kept = extras if isinstance(extras, dict) else {}
    version = str(kept.get("version") or DEFAULT_VERSION)
    return document(kind, version, {LIST_KEYS[kind]: [obj]}, kept)
