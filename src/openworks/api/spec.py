"""The operation table: every DataWorks 2020-05-18 operation, read from the wire contract.

``operations.json`` (next to this module) is the project's copy of the contract extracted
from the official SDK models. Each entry becomes an :class:`Operation`: its parameters as
:class:`~openworks.protocol.params.ParamSpec` (decoding and validation), its response tree
(rendering, see :mod:`openworks.api.shape`) and its access class (read or write, derived
from the name as DataWorks counts it for rate limits and roles).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from openworks.protocol.params import ParamSpec

__all__ = ["API_VERSION", "READ_PREFIXES", "Operation", "operations"]

API_VERSION = "2020-05-18"
READ_PREFIXES = ("Get", "List", "Check", "Search", "Query", "Describe")
CONTRACT = Path(__file__).with_name("operations.json")

# Longest accepted text per parameter; file content may be large, names may not.
_LONG_TEXT = {
    "Content",
    "FileDescription",
    "InputParameters",
    "OutputParameters",
    "AdvancedSettings",
    "ProjectDescription",
    "Comment",
    "CheckResultTip",
    "CheckMessage",
}
_SHORT_LIMIT = 4_096
_LONG_LIMIT = 1_048_576


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    params: tuple[ParamSpec, ...]
    response: dict[str, Any]

    @property
    def is_read(self) -> bool:
        # CheckFileDeployment reports a result (a write) despite its name.
        return self.name.startswith(READ_PREFIXES) and self.name != "CheckFileDeployment"


def _param(raw: dict[str, Any]) -> ParamSpec:
    one_of = raw.get("one_of")
    name = raw["name"]
    return ParamSpec(
        name=name,
        type=raw["type"],
        required=bool(raw.get("required")),
        one_of=tuple(one_of) if one_of else None,
        items=raw.get("items"),
        max_length=_LONG_LIMIT if name in _LONG_TEXT else _SHORT_LIMIT,
    )


@cache
def operations() -> dict[str, Operation]:
    """Every operation of the contract by name."""
    raw = json.loads(CONTRACT.read_text(encoding="utf-8"))
    return {
        name: Operation(name, tuple(_param(p) for p in entry["params"]), entry["response"])
        for name, entry in raw.items()
    }
