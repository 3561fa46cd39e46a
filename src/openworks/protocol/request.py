"""The transport-neutral view of one HTTP request.

The HTTP adapter builds a :class:`RawRequest` from whatever server it runs on and hands
it to the protocol layer; nothing here reads sockets. Raw bytes are kept because the
signatures are computed over exactly what was received::

    RawRequest
    ├── method        "POST"
    ├── path          "/"                   (no query)
    ├── query_string  b"PageSize=10&..."    (still percent-encoded)
    ├── headers       {"host": "...", ...}  (lower-cased names)
    └── body          b"DeploymentId=1&..."
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["RawRequest"]


@dataclass(frozen=True, slots=True)
class RawRequest:
    """One received request, before any decoding."""

    method: str
    """Request method as received, e.g. ``"GET"`` or ``"POST"``."""
    path: str
    """Path without the query string, e.g. ``"/"``."""
    query_string: bytes
    """Raw query string (no leading ``?``), still percent-encoded."""
    headers: Mapping[str, str]
    """Header names lower-cased; a repeated header has its values joined with ``","``."""
    body: bytes
    """Raw body bytes."""
