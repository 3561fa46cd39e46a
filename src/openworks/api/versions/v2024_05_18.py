"""The overlay of DataWorks 2024-05-18 over ``contracts/2024-05-18.json``: an empty face.

The contract holds 89 operations; none is served yet, so every 2024-05-18 call answers
``InvalidApi.NotFound`` (404), as for an action the version does not have. Serving one is a
line in :data:`OPERATIONS` (read or write, permission rule, parameters required beyond the
contract), the bounds of its parameters in :data:`PARAMS` (every ``int`` parameter named in
``long`` or ``integer``) and a handler registered with
``@handles("Name", version="2024-05-18")``. Several names (GetProject, ListProjects,
GetNode...) mean other operations than in 2020-05-18: their lines here are their own.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..overlay import Op, Overlay, ParamRules

__all__ = ["OPERATIONS", "OVERLAY", "PARAMS", "VERSION"]

VERSION = "2024-05-18"

OPERATIONS: Mapping[str, Op] = {}

PARAMS = ParamRules()

OVERLAY = Overlay(version=VERSION, operations=OPERATIONS, params=PARAMS)
