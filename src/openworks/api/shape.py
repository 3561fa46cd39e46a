"""Fit a handler's result to the operation's response tree from the contract.

Every field of the tree is present in the answer: values the handler did not give are
``null``; a missing nested object becomes an object of nulls (so SDK models always find
their keys); a missing array becomes ``[]``. Keys the tree does not know are dropped, so a
handler cannot leak internal fields onto the wire.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["Shaper", "compile_shape", "shape"]


Shaper = Callable[[Any], dict[str, Any]]
_SHAPERS: dict[int, tuple[Mapping[str, Any], Shaper]] = {}

_VALUE, _OBJECT, _OBJECTS, _VALUES = range(4)


def _mapping(value: Any) -> Mapping[str, Any] | None:
    return value if type(value) is dict or isinstance(value, Mapping) else None


def compile_shape(tree: Mapping[str, Any]) -> Shaper:
    """A function that shapes values to ``tree``: the tree is walked once, here, instead of
    on every response."""
    steps: list[tuple[str, int, Shaper | None]] = []
    for key, kind in tree.items():
        if isinstance(kind, dict):
            steps.append((key, _OBJECT, compile_shape(kind)))
        elif isinstance(kind, list):
            element = kind[0] if kind else "any"
            if isinstance(element, dict):
                steps.append((key, _OBJECTS, compile_shape(element)))
            else:
                steps.append((key, _VALUES, None))
        else:
            steps.append((key, _VALUE, None))

    def run(value: Any) -> dict[str, Any]:
        source = _mapping(value) or {}
        out: dict[str, Any] = {}
        for key, step, sub in steps:
            given = source.get(key)
            if step == _VALUE:
                out[key] = given
            elif step == _OBJECT:
                out[key] = sub(given)  # type: ignore[misc]
            else:
                items = given if isinstance(given, list) else []
                out[key] = [sub(i) for i in items] if step == _OBJECTS else list(items)  # type: ignore[misc]
        return out

    return run


def shape(tree: Mapping[str, Any], value: Mapping[str, Any] | None) -> dict[str, Any]:
    """``value`` fitted to ``tree`` (the tree's compiled shaper is kept for the next call)."""
    entry = _SHAPERS.get(id(tree))
    if entry is None or entry[0] is not tree:
        entry = (tree, compile_shape(tree))
        _SHAPERS[id(tree)] = entry
    return entry[1](value)
