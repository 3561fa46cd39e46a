"""Handlers and their registry: typed parameters in, a response document out.

A handler is a plain function ``(call, params) -> document`` registered for one operation
name with :func:`handles`. ``params`` holds the operation's declared parameters, already
typed by the protocol layer (absent ones are missing from the mapping). The document holds
the response fields the handler knows (``Data``, ``DeploymentId``…); :func:`dispatch`
adds the success envelope and fits it to the contract's response tree.
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
from openworks.protocol.errors import ApiError, ClientError, invalid_parameter

from .shape import shape
from .spec import PAGE_NUMBER_MAX, PAGE_SIZE_MAX, Operation

__all__ = [
    "HANDLERS",
    "Call",
    "Handler",
    "dispatch",
    "handles",
    "page_of",
    "paged",
    "project_ref",
    "to_api_error",
]

Params = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Call:
    core: Core
    principal: Principal


Handler = Callable[[Call, Params], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}

_STATUS_BY_KIND = {"invalid": 400, "not_found": 404, "forbidden": 403}


def handles(name: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        if name in HANDLERS:
            raise RuntimeError(f"two handlers for {name}")
        HANDLERS[name] = func
        return func

    return register


def project_ref(params: Params) -> ProjectRef:
    return ProjectRef(params.get("ProjectId"), params.get("ProjectIdentifier"))


def page_of(params: Params, default_size: int = 10, max_size: int = PAGE_SIZE_MAX) -> Page:
    """The requested page. The operation table already bounds both numbers (api.spec); the
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
    handler = HANDLERS[operation.name]
    try:
        # Every operation runs under its permission rule (core.roles.MATRIX); fail closed.
        writes = not operation.is_read
        with enforcing(call.core, call.principal, operation.name, project_ref(params), writes):
            result = handler(call, params)
    except DomainError as err:
        raise to_api_error(err) from None
    document = {"HttpStatusCode": 200, "Success": True, **result}
    return shape(operation.response, document)
