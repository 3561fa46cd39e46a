"""FlowSpec documents (API 2024-05-18): parse and validate a document, pick its nodes or
workflows. Pure: no store, no clock.

A document::

    {"version": "1.1.0" | "2.0.0", "kind": "Node" | …, "metadata": {…}, "spec": {
        "nodes": [ {node}, … ]          ◀── only nodes[0] is used     (first_node)
        "workflows": [ {workflow}, … ]                                 (workflows_of)
        "dependencies": [{"nodeId", "depends": [{"type": "Normal", "output"}]}]  (2.0.0)
    }}

    load(text) ──▶ doc ──▶ require_kind ──▶ first_node / workflows_of
                                              │
           node_fields (flowspec_fields) ◀────┘   node ──▶ 2020 file fields
           render_node / node_text (flowspec_render)   2020 file fields ──▶ node, document

The mapping of a node to and from the fields of a 2020 file lives in
:mod:`.flowspec_fields` (node → fields, and the vocabulary both directions share) and
:mod:`.flowspec_render` (fields → node and document). This module re-exports their public
names, so callers keep using ``flowspec.<name>``. docs/flowspec.md has the full table.

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

from collections.abc import Mapping
from typing import Any

import orjson

from .errors import Invalid
from .flowspec_fields import (
    DEFAULT_VERSION,
    EXTRAS_KEY,
    RERUN_MODES,
    NodeFields,
    command_of,
    file_type_of,
    node_fields,
)
from .flowspec_render import (
    document,
    file_node,
    merge,
    node_text,
    render_node,
    script_path,
    version_node,
)

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

MAX_SPEC_BYTES = 1_048_576
MAX_DEPTH = 32


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
