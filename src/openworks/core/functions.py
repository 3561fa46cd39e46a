"""Functions (UDFs): files of FileType 17 (ODPS_FUNCTION) whose ``config["Function"]``
holds their fields, made by 2020 CreateUdfFile/UpdateUdfFile or 2024 CreateFunction….

::

    config["Function"] = {"className", "functionType" (MATH|AGGREGATE|STRING|DATE|
                          ANALYTIC|OTHER), "resources": [resource file names],
                          "cmdDescription", "parameterDescription", "returnValue",
                          "example", "armResource", "embeddedCode", "embeddedCodeType",
                          "embeddedResourceType"}        (UdfDescription = FileDescription)

    check_record ─ className and functionType and ≥ 1 resource     (Invalid.Function.*)
    resolve_resources(tx) ─ every name is a live resource file (12-15) of the workspace,
                            else Invalid.Function.UnknownResource naming the missing ones
    missing_resources(tx, project, function, env) ─▶ names not deployed to env
                            (the deploy rule; pure over the store, called by checks)

The 2024 operations share find/get/list/move/rename/delete with resources
(:mod:`.spec_resources`); the FlowSpec mapping is :mod:`.flowspec_objects`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import flowspec
from .access import ProjectRef, resolve_project
from .context import Core
from .errors import Invalid
from .files import add_file, change_file, find_file, split_names
from .flowspec_fields import EXTRAS_KEY
from .flowspec_objects import (
    FUNCTION_FILE_TYPE,
    FUNCTION_KEY,
    FUNCTION_TYPES,
    first_object,
    function_record,
    object_fields,
    render_function,
)
from .function_deps import is_function, missing_resources
from .model import File, Principal, Project
from .ports import Tx
from .resources import is_resource
from .spec_resources import Write, apply_fields, find_object, object_id, placement

__all__ = [
    "check_record",
    "create_function",
    "create_udf_file",
    "function_writer",
    "is_function",
    "missing_resources",
    "render",
    "resolve_resources",
    "udf_record",
    "update_function",
    "update_udf_file",
]

MAX_TEXT = 4096
_TEXT_FIELDS = (
    "className",
    "cmdDescription",
    "parameterDescription",
    "returnValue",
    "example",
    "armResource",
    "embeddedCodeType",
    "embeddedResourceType",
)


def check_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record with its type normalised; raises for what a function cannot lack."""
    out = dict(record)
    class_name = str(out.get("className") or "").strip()
    if not class_name:
        raise Invalid(
            "Invalid.Function.ClassName", "A function needs ClassName (className): its class."
        )
    out["className"] = class_name
    kind = str(out.get("functionType") or "").strip().upper()
    if kind not in FUNCTION_TYPES:
        raise Invalid(
            "Invalid.Function.Type",
            f"FunctionType must be one of {', '.join(FUNCTION_TYPES)}, not "
            f"{out.get('functionType')!r}.",
        )
    out["functionType"] = kind
    names = list(out.get("resources") or [])
    if not names:
        raise Invalid(
            "Invalid.Function.Resources",
            "A function needs at least one resource (Resources, or fileResources in FlowSpec).",
        )
    for key in _TEXT_FIELDS:
        if len(str(out.get(key) or "")) > MAX_TEXT:
            raise Invalid("Invalid.Param", f"The function's {key} is longer than {MAX_TEXT}.")
    if len(str(out.get("embeddedCode") or "")) > 1_048_576:
        raise Invalid("Invalid.Param", "The function's embeddedCode is larger than 1 MiB.")
    return out


def resolve_resources(tx: Tx, project: Project, names: list[str]) -> list[File]:
    """The live resource files named; every unknown name → Invalid.Function.UnknownResource."""
    found, unknown = [], []
    for name in names:
        file = tx.file_by_name(project.id, name)
        if file is None or not is_resource(file.file_type):
            unknown.append(name)
        else:
            found.append(file)
    if unknown:
        raise Invalid(
            "Invalid.Function.UnknownResource",
            f"The function names resources that workspace {project.identifier} does not "
            f"have: {', '.join(unknown)}.",
        )
    return found


# -- 2020 CreateUdfFile / UpdateUdfFile ------------------------------------------------


def udf_record(params: Mapping[str, Any]) -> dict[str, Any]:
    """The Function record of CreateUdfFile/UpdateUdfFile parameters (absent: None)."""
    return {
        "className": params.get("ClassName"),
        "functionType": params.get("FunctionType"),
        "resources": split_names(params.get("Resources")),
        "cmdDescription": params.get("CmdDescription"),
        "parameterDescription": params.get("ParameterDescription"),
        "returnValue": params.get("ReturnValue"),
        "example": params.get("Example"),
    }


def create_udf_file(
    core: Core,
    principal: Principal,
    ref: ProjectRef,
    changes: Mapping[str, Any],
    record: Mapping[str, Any],
) -> int:
    checked = check_record({k: v for k, v in record.items() if v is not None})
    now = core.clock()
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ref)
        resolve_resources(tx, project, checked["resources"])
        config = {FUNCTION_KEY: checked}
        return add_file(tx, project, principal, FUNCTION_FILE_TYPE, changes, now, config).id


def update_udf_file(
    core: Core,
    principal: Principal,
    ref: ProjectRef,
    file_id: str,
    changes: Mapping[str, Any],
    record: Mapping[str, Any],
) -> None:
    """UpdateUdfFile: the given fields replace the function's; absent ones are kept."""
    number = object_id(file_id, "Function")
    now = core.clock()
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ref)
        file = find_file(tx, project, number)
        if not is_function(file.file_type):
            raise Invalid(
                "Invalid.Function.NotFunction",
                f"The file {number} is not a function (FileType {file.file_type}).",
            )
        given = {k: v for k, v in record.items() if v is not None and v != []}
        checked = check_record({**function_record(file.config), **given})
        resolve_resources(tx, project, checked["resources"])
        file.config[FUNCTION_KEY] = checked
        change_file(tx, project, principal, file, changes, now)


# -- 2024 CreateFunction / UpdateFunction ----------------------------------------------


def render(file: File, number: int) -> dict[str, Any]:
    return render_function(file, number)


def function_writer(principal: Principal) -> Write:
    """Writes a merged FlowSpec function over its file (record checked, resources known)."""

    def write(
        tx: Tx, project: Project, file: File, doc: Mapping[str, Any], obj: dict[str, Any], now: int
    ) -> None:
        fields = object_fields(doc, obj, "Function")
        checked = check_record({**function_record(file.config), **fields.function})
        resolve_resources(tx, project, checked["resources"])
        file.config[FUNCTION_KEY] = checked
        apply_fields(tx, project, principal, file, fields, now)

    return write


def _function_doc(spec: str) -> tuple[dict[str, Any], dict[str, Any]]:
    doc = flowspec.load(spec)
    flowspec.require_kind(doc, ("Function",), "spec kind and request not match")
    return doc, first_object(doc, "Function")


def create_function(core: Core, principal: Principal, ref: ProjectRef, spec: str) -> int:
    doc, obj = _function_doc(spec)
    fields = object_fields(doc, obj, "Function")
    if not fields.name:
        raise Invalid("Invalid.FlowSpec.Name", "The function has no name (functions[0].name).")
    record = check_record({"functionType": "OTHER", **fields.function})
    moved, kept_folder = placement(fields)
    extras = dict(fields.extras)
    if kept_folder:
        extras["folder"] = kept_folder
    changes = {**fields.changes, **moved}
    now = core.clock()
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ref)
        resolve_resources(tx, project, record["resources"])
        config = {FUNCTION_KEY: record, EXTRAS_KEY: extras}
        return add_file(tx, project, principal, FUNCTION_FILE_TYPE, changes, now, config).id


def update_function(
    core: Core, principal: Principal, ref: ProjectRef, text: str, spec: str
) -> None:
    """UpdateFunction: incremental, like UpdateNode (the patch merges into the function)."""
    number = object_id(text, "Function")
    doc, patch = _function_doc(spec)
    if patch.get("id") not in (None, "", text, number):
        raise Invalid(
            "Invalid.FlowSpec.Field",
            f"spec.functions[0].id {patch.get('id')!r} is not the function being updated.",
        )
    now = core.clock()
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ref)
        file = find_object(tx, project, number, "Function")
        current = render(file, file.id)
        merged = flowspec.merge(current, patch)
        if "fileResources" in patch:
            merged["fileResources"] = patch["fileResources"]
        script = patch.get("script") if isinstance(patch.get("script"), dict) else {}
        if isinstance(patch.get("name"), str) and "path" not in (script or {}):
            folder = current["script"]["path"].rpartition("/")[0]
            merged["script"]["path"] = f"{folder}/{patch['name']}" if folder else patch["name"]
        function_writer(principal)(tx, project, file, doc, merged, now)
