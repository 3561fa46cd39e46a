"""Domain errors: what went wrong in DataWorks terms, without HTTP.

Each error carries a DataWorks-style ``code`` and a ``kind``; the api layer turns the kind
into an HTTP status::

    DomainError
     ├── Invalid     (kind "invalid")    a request that breaks a rule: bad value, wrong state
     ├── NotFound    (kind "not_found")  the object does not exist (or is not visible)
     └── Forbidden   (kind "forbidden")  the caller may not do this

A NotFound's code ends in ``.NotFound`` (``InvalidFile.NotFound``): HTTP 404 is what clients
take for "not found" together with that suffix. The documented exceptions, 400 with their
own codes, are raised as Invalid (docs/behaviour.md, "Not found");
tests/sdk/test_error_codes.py holds the source to the list there.
"""

from __future__ import annotations

__all__ = ["DomainError", "Forbidden", "Invalid", "NotFound"]


class DomainError(Exception):
    kind = "invalid"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Invalid(DomainError):
    kind = "invalid"


class NotFound(DomainError):
    kind = "not_found"


class Forbidden(DomainError):
    kind = "forbidden"
