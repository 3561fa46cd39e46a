"""The operation table: every DataWorks 2020-05-18 operation, read from the wire contract.

``operations.json`` (next to this module) is the project's copy of the contract extracted
from the official SDK models. Each entry becomes an :class:`Operation`: its parameters as
:class:`~openworks.protocol.params.ParamSpec` (decoding and validation), its response tree
(rendering, see :mod:`openworks.api.shape`) and its access class (read or write, derived
from the name as DataWorks counts it for rate limits and roles).

The contract says only "int" for numbers and "str" for comma-separated lists; the tables
below add what the official reference states, so every parameter arrives bounded: the
width of each integer (Long 64-bit, Integer 32-bit), paging ranges, which strings are lists
of integers and how many elements a list may have (see docs/security.md, "Parameter
bounds").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from openworks.protocol.params import INT32_RANGE, MAX_ITEMS, ParamSpec

__all__ = [
    "API_VERSION",
    "INTEGER",
    "INT_LISTS",
    "LONG",
    "MAX_LIST_ITEMS",
    "MAX_TAGS",
    "PAGE_NUMBER_MAX",
    "PAGE_SIZE_MAX",
    "READ_PREFIXES",
    "TEXT_LIMITS",
    "Operation",
    "operations",
]

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
# Texts stored in a column narrower than the short limit: longer is InvalidParameter on
# both backends (SQLite would keep them, PostgreSQL refuse them with a 500).
TEXT_LIMITS: dict[str, int] = {
    "Owner": 64,  # files.owner, businesses.owner, nodes.owner
    "ConnectionName": 256,  # files.connection_name
    "ClientToken": 128,  # projects.client_token
    "ResourceManagerResourceGroupId": 128,  # projects.resource_group_id
}

# Our own facts over the generated contract, which types every number as "int": the width
# of each integer parameter as the official API reference declares it. Ids and times are
# Long (signed 64-bit); paging, codes, counts and durations are Integer (signed 32-bit,
# also the width of their database columns). Every "int" of the contract must be listed in
# one of the two (a test checks), so a new parameter cannot arrive unbounded.
LONG = frozenset(
    {
        "ProjectId",
        "FileId",
        "DeploymentId",
        "NodeId",
        "BusinessId",
        "ResourceGroupId",
        "StartEffectDate",
        "EndEffectDate",
        "EndCreateTime",
        "EndExecuteTime",
    }
)
INTEGER = frozenset(
    {
        "PageNumber",
        "PageSize",
        "FileType",
        "FileVersion",
        "Status",
        "ProjectMode",
        "AutoRerunTimes",
        "AutoRerunIntervalMillis",
        "Timeout",
        "IsAllowDownload",
    }
)
# Narrower ranges the semantics state: pages are numbered from 1; a page holds at most 100
# (the reference: "default 10, maximum 100"). The largest offset, (2^31 - 2) * 100, is far
# inside a 64-bit SQL parameter.
PAGE_NUMBER_MAX = INT32_RANGE[1]
PAGE_SIZE_MAX = 100
_INT_RANGES: dict[str, tuple[int, int]] = {
    "PageNumber": (1, PAGE_NUMBER_MAX),
    "PageSize": (1, PAGE_SIZE_MAX),
}
# Contract strings that carry comma-separated integers ("10,23"): typed as lists of the
# element's width, at most MAX_LIST_ITEMS elements (FileIdIn: the domain allows 50).
MAX_LIST_ITEMS = MAX_ITEMS  # 1,000
INT_LISTS: dict[str, int] = {"FileTypes": 32, "FileIdIn": 64}
# Resource tags: at most 20 per request, as for Alibaba Cloud resource tags.
MAX_TAGS = 20
_MAX_ITEMS: dict[str, int] = {"Tags": MAX_TAGS}


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
    kind = raw["type"]
    bits = 64
    if kind == "int":
        if name not in LONG and name not in INTEGER:
            raise ValueError(f"integer parameter {name} is neither Long nor Integer")
        bits = 64 if name in LONG else 32
    elif kind == "str" and name in INT_LISTS:
        kind, bits = "int_list", INT_LISTS[name]
    low, high = _INT_RANGES.get(name, (None, None))
    return ParamSpec(
        name=name,
        type=kind,
        required=bool(raw.get("required")),
        one_of=tuple(one_of) if one_of else None,
        items=raw.get("items"),
        max_length=_LONG_LIMIT if name in _LONG_TEXT else TEXT_LIMITS.get(name, _SHORT_LIMIT),
        bits=bits,
        minimum=low if kind == "int" else None,
        maximum=high if kind == "int" else None,
        max_items=_MAX_ITEMS.get(name, MAX_LIST_ITEMS),
    )


@cache
def operations() -> dict[str, Operation]:
    """Every operation of the contract by name."""
    raw = json.loads(CONTRACT.read_text(encoding="utf-8"))
    return {
        name: Operation(name, tuple(_param(p) for p in entry["params"]), entry["response"])
        for name, entry in raw.items()
    }
