"""The operation tables: one per API version, the generated contract read through its overlay.

For each version the server knows (:data:`VERSIONS`):

- ``contracts/<version>.json`` is the wire contract extracted from the official SDK models
  (generated, do not edit; a copy of the shared contract). ``contracts/2020-05-18.added.json``
  holds two more 2020 operations, GetNodeParents and GetNodeChildren, extracted the same way
  from the same SDK (``alibabacloud-dataworks-public20200518`` 10.1.1) outside the shared
  contract's selection of 46.
- the overlay (:mod:`openworks.api.versions`) is the only other place where an operation's
  facts live: read or write, permission rule, parameters required beyond the contract, and
  the bounds of every parameter (:mod:`openworks.api.overlay`).

:func:`table` joins the two: an :class:`Operation` for each operation of the contract that
has a line in the overlay, with its parameters as :class:`~openworks.protocol.params.ParamSpec`
(decoding and validation), its response tree (rendering, see :mod:`openworks.api.shape`),
its access class and its permission rule. The same action name may be two operations in two
versions (GetProject, ListProjects, GetNode...): dispatch is on the pair (Action, Version),
see :func:`openworks.api.registry.resolve`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from openworks.core.roles import Rule
from openworks.protocol.params import ParamSpec

from .overlay import Access, Overlay
from .versions import OVERLAYS

__all__ = [
    "API_VERSION",
    "CONTRACTS",
    "VERSIONS",
    "Operation",
    "contract",
    "contract_files",
    "matrix",
    "operations",
    "rule_of",
    "table",
]

API_VERSION = "2020-05-18"
"""The version the existing handlers serve (``handles(name)`` registers for it)."""
VERSIONS: tuple[str, ...] = tuple(OVERLAYS)
CONTRACTS = Path(__file__).with_name("contracts")


@dataclass(frozen=True, slots=True, eq=False)
class Operation:
    """One operation of one API version (compared and hashed by identity: one per table)."""

    name: str
    version: str
    params: tuple[ParamSpec, ...]
    response: dict[str, Any]
    is_read: bool
    rule: Rule
    project_param: str = "ProjectId"
    """The parameter naming the workspace the rule is checked in (see ``overlay.Op``)."""


def contract_files(version: str) -> tuple[Path, ...]:
    """The contract of a version: the generated copy, then operations added the same way."""
    files = [CONTRACTS / f"{version}.json"]
    added = CONTRACTS / f"{version}.added.json"
    if added.exists():
        files.append(added)
    return tuple(files)


@cache
def contract(version: str) -> Mapping[str, Mapping[str, Any]]:
    """Every operation of a version's contract by name, as the JSON says."""
    entries: dict[str, Mapping[str, Any]] = {}
    for path in contract_files(version):
        for name, entry in json.loads(path.read_text(encoding="utf-8")).items():
            if name in entries:
                raise ValueError(f"{name} is in the contract of {version} twice ({path.name})")
            entries[name] = entry
    return entries


def build(overlay: Overlay, entries: Mapping[str, Mapping[str, Any]]) -> dict[str, Operation]:
    """The table of one version: each operation of the contract that the overlay serves."""
    unknown = sorted(set(overlay.operations) - set(entries))
    if unknown:
        raise ValueError(
            f"overlay {overlay.version} names operations not in its contract: {unknown}"
        )
    table: dict[str, Operation] = {}
    for name, op in overlay.operations.items():
        entry = entries[name]
        declared = {p["name"] for p in entry["params"]}
        if not op.required <= declared:
            extra = sorted(op.required - declared)
            raise ValueError(f"{overlay.version} {name} requires undeclared parameters {extra}")
        params = tuple(overlay.params.spec(p, p["name"] in op.required) for p in entry["params"])
        table[name] = Operation(
            name,
            overlay.version,
            params,
            entry["response"],
            op.access is Access.READ,
            op.rule,
            op.project_param,
        )
    return table


@cache
def table(version: str) -> Mapping[str, Operation]:
    """The operations of a known version by name (KeyError for an unknown version)."""
    overlay = OVERLAYS[version]
    if not overlay.operations:
        return {}  # an empty face: nothing to read from its contract yet
    return build(overlay, contract(version))


def operations(version: str = API_VERSION) -> Mapping[str, Operation]:
    """Every operation of a version's table by name (by default 2020-05-18)."""
    return table(version)


def rule_of(name: str, version: str = API_VERSION) -> Rule | None:
    """The permission rule of an operation, None when the version's table lacks it."""
    operation = table(version).get(name)
    return operation.rule if operation is not None else None


def matrix(version: str = API_VERSION) -> dict[str, Rule]:
    """The role matrix of a version (docs/security.md): each operation's rule by name."""
    return {name: operation.rule for name, operation in table(version).items()}
