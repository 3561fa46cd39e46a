"""Handlers and their registry: typed parameters in, a response document out.

A handler is a plain function ``(call, params) -> document`` registered for one operation
of one API version with :func:`handles` (by default 2020-05-18). ``params`` holds the
operation's declared parameters, already typed by the protocol layer (absent ones are
missing from the mapping). The document holds the response fields the handler knows
(``Data``, ``DeploymentId``…); :func:`dispatch` runs the handler under the operation's
permission rule, adds the success envelope and fits it to the contract's response tree.

:func:`resolve` maps the pair (Action, Version) of a call to the operation it runs::

    Version known? ─ no ─▶ Action served in some version? ─ no ─▶ InvalidApi.NotFound (404)
        │                                  └─ yes ─▶ InvalidVersion (400)
        └─ yes ─▶ in the version's table and a handler registered? ─ no ─▶ InvalidApi.NotFound
                       └─ yes ─▶ the Operation (its version's parameters, response, rule)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from openworks.core.access import ProjectRef, enforcing
from openworks.core.context import Core
from openworks.core.errors import DomainError
from openworks.core.model import Principal
from openworks.core.ports import Page
from openworks.protocol.errors import (
    ApiError,
    ClientError,
    api_not_found,
    invalid_parameter,
    invalid_version,
)

from .shape import shape
from .spec import API_VERSION, VERSIONS, Operation, table
from .versions.v2020_05_18 import PAGE_NUMBER_MAX, PAGE_SIZE_MAX

__all__ = [
    "HANDLERS",
    "Call",
    "Handler",
    "dispatch",
    "handlers",
    "handles",
    "page_of",
    "paged",
    "project_ref",
    "resolve",
    "to_api_error",
]

Params = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Call:
    core: Core
    principal: Principal


Handler = Callable[[Call, Params], dict[str, Any]]
_BY_VERSION: dict[str, dict[str, Handler]] = {version: {} for version in VERSIONS}
HANDLERS: dict[str, Handler] = _BY_VERSION[API_VERSION]
"""The 2020-05-18 handlers by operation name (the same mapping as ``handlers()``)."""

_STATUS_BY_KIND = {"invalid": 400, "not_found": 404, "forbidden": 403}


def handlers(version: str = API_VERSION) -> dict[str, Handler]:
    """The handlers registered for one API version, by operation name."""
    return _BY_VERSION[version]


def handles(name: str, version: str = API_VERSION) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of ``name`` in ``version``."""
    if version not in _BY_VERSION:
        raise ValueError(f"unknown API version {version!r} (known: {', '.join(VERSIONS)})")
    registered = _BY_VERSION[version]

    def register(func: Handler) -> Handler:
        if name in registered:
            raise RuntimeError(f"two handlers for {name} ({version})")
        registered[name] = func
        return func

    return register


def _served(action: str, version: str) -> Operation | None:
    operation = table(version).get(action)
    if operation is None or action not in _BY_VERSION[version]:
        return None
    return operation


def resolve(action: str, version: str) -> Operation:
    """The operation that the pair (Action, Version) names; see the module docstring.

    For a version the server does not know, the action is looked for first (as before
    versions were tables): an action no version serves is ``InvalidApi.NotFound``.
    """
    if version in _BY_VERSION:
        operation = _served(action, version)
        if operation is None:
            raise api_not_found(action)
        return operation
    if not any(_served(action, known) is not None for known in _BY_VERSION):
        raise api_not_found(action)
    raise invalid_version(version)


def project_ref(params: Params, key: str = "ProjectId") -> ProjectRef:
    """The workspace a call names: ``key`` (ProjectId, or 2024's ``Id`` on project
    operations) and/or ProjectIdentifier."""
    return ProjectRef(params.get(key), params.get("ProjectIdentifier"))


def page_of(params: Params, default_size: int = 10, max_size: int = PAGE_SIZE_MAX) -> Page:
    """The requested page. The operation table already bounds both numbers (the overlay); the
    checks here keep a handler safe whatever calls it: the offset always fits 64 bits."""
    number = params.get("PageNumber", 1)
    size = params.get("PageSize", default_size)
    if not 1 <= number <= PAGE_NUMBER_MAX:
        raise invalid_parameter("PageNumber", f"must be between 1 and {PAGE_NUMBER_MAX}")
    if not 1 <= size <= max_size:
        raise invalid_parameter("PageSize", f"must be between 1 and {max_size}")
    return Page(number, size)


def paged(items_key: str, items: list[Any], page: Page, total: int) -> dict[str, Any]:
    """The paging block every list operation answers: its items and where they stand."""
    return {
        items_key: items,
        "PageNumber": page.number,
        "PageSize": page.size,
        "TotalCount": total,
    }


def to_api_error(err: DomainError) -> ApiError:
    return ClientError(err.code, err.message, _STATUS_BY_KIND.get(err.kind, 400))


def dispatch(operation: Operation, call: Call, params: Params) -> dict[str, Any]:
    """Run the operation's handler; the shaped document without ``RequestId``."""
    handler = _BY_VERSION[operation.version][operation.name]
    try:
        # Every operation runs under its permission rule (the version's overlay); fail closed.
        writes = not operation.is_read
        ref = project_ref(params, operation.project_param)
        with enforcing(call.core, call.principal, operation.name, ref, writes, operation.rule):
            result = handler(call, params)
    except DomainError as err:
        raise to_api_error(err) from None
    document = {"HttpStatusCode": 200, "Success": True, **result}
    return shape(operation.response, document)
