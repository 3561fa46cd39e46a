"""Fit a handler's result to the operation's response tree from the contract.

Every field of the tree is present in the answer: values the handler did not give are
``null``; a missing nested object becomes an object of nulls (so SDK models always find
their keys); a missing array becomes ``[]``. Keys the tree does not know are dropped, so a
handler cannot leak internal fields onto the wire.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["shape"]


def shape(tree: Mapping[str, Any], value: Mapping[str, Any] | None) -> dict[str, Any]:
    source = value or {}
    out: dict[str, Any] = {}
    for key, kind in tree.items():
        given = source.get(key)
        if isinstance(kind, dict):
            out[key] = shape(kind, given if isinstance(given, Mapping) else None)
        elif isinstance(kind, list):
            element = kind[0] if kind else "any"
            items = given if isinstance(given, list) else []
            if isinstance(element, dict):
                out[key] = [shape(element, i if isinstance(i, Mapping) else None) for i in items]
            else:
                out[key] = list(items)
        else:
            out[key] = given
    return out
