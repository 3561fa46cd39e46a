"""What an overlay says: our facts about the operations of one API version.

The generated contract (``api/contracts/<version>.json``) gives each operation's wire shape:
its parameters with their placement and a coarse type, its response tree. Everything else
the server needs to know about an operation is written once, in the version's overlay
(``api/versions/v<version>.py``), in the terms of this module:

- per operation (:class:`Op`): read or write (DataWorks counts them apart for rate limits),
  the permission rule (:class:`~openworks.core.roles.Rule`) and the parameters the server
  requires although the contract leaves them optional;
- per parameter name (:class:`ParamRules`): the width of each integer, narrower ranges,
  which strings are comma-separated integers, how long a text and how many elements a
  list may be.

An operation is served in a version when the contract has it, the overlay has a line for
it and a handler is registered for it (:func:`openworks.api.registry.handles`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from openworks.core.roles import Rule
from openworks.protocol.params import MAX_ITEMS, ParamSpec

__all__ = ["Access", "Op", "Overlay", "ParamRules"]


class Access(StrEnum):
    """Whether an operation reads or writes, as DataWorks counts it (rate limits, audit)."""

    READ = "read"
    WRITE = "write"


@dataclass(frozen=True, slots=True)
class Op:
    """One operation's line in an overlay."""

    access: Access
    rule: Rule
    required: frozenset[str] = frozenset()
    """Parameters the server requires that the contract declares optional."""
    project_param: str = "ProjectId"
    """The parameter that names the workspace (2024's GetProject, UpdateProject... say
    ``Id``): the workspace the permission rule is checked in."""


def _empty() -> Mapping[str, Any]:
    return {}


@dataclass(frozen=True, slots=True)
class ParamRules:
    """Bounds per parameter name, over the contract's coarse types (``int``, ``str``...).

    Every ``int`` parameter of an operation in the table must be named in :attr:`long`
    (signed 64-bit) or :attr:`integer` (signed 32-bit), so no number arrives unbounded.
    """

    long: frozenset[str] = frozenset()
    integer: frozenset[str] = frozenset()
    ranges: Mapping[str, tuple[int, int]] = field(default_factory=_empty)
    """Narrower ranges than the width (paging)."""
    int_lists: Mapping[str, int] = field(default_factory=_empty)
    """Contract strings that carry comma-separated integers, with the element's width."""
    max_items: Mapping[str, int] = field(default_factory=_empty)
    """Lists with fewer elements allowed than :attr:`list_items`."""
    text_limits: Mapping[str, int] = field(default_factory=_empty)
    """Texts stored in a column narrower than :attr:`text_limit`."""
    long_text: frozenset[str] = frozenset()
    """Texts that may reach :attr:`long_text_limit` (file content, descriptions)."""
    text_limit: int = 4_096
    long_text_limit: int = 1_048_576
    list_items: int = MAX_ITEMS

    def spec(self, raw: Mapping[str, Any], required: bool) -> ParamSpec:
        """The typed, bounded parameter for one ``params[]`` entry of the contract."""
        name: str = raw["name"]
        kind: str = raw["type"]
        one_of = raw.get("one_of")
        bits = 64
        if kind == "int":
            if name not in self.long and name not in self.integer:
                raise ValueError(f"integer parameter {name} is neither Long nor Integer")
            bits = 64 if name in self.long else 32
        elif kind == "str" and name in self.int_lists:
            kind, bits = "int_list", self.int_lists[name]
        low, high = self.ranges.get(name, (None, None))
        if name in self.long_text:
            max_length = self.long_text_limit
        else:
            max_length = self.text_limits.get(name, self.text_limit)
        return ParamSpec(
            name=name,
            type=kind,
            required=required or bool(raw.get("required")),
            one_of=tuple(one_of) if one_of else None,
            items=raw.get("items"),
            max_length=max_length,
            bits=bits,
            minimum=low if kind == "int" else None,
            maximum=high if kind == "int" else None,
            max_items=self.max_items.get(name, self.list_items),
        )


@dataclass(frozen=True, slots=True)
class Overlay:
    """Our facts about one API version: a line per operation served, bounds per parameter."""

    version: str
    operations: Mapping[str, Op]
    params: ParamRules
