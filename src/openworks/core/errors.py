"""Domain errors: what went wrong in DataWorks terms, without HTTP.

Each error carries a DataWorks-style ``code`` and a ``kind``; the api layer turns the kind
into an HTTP status::

    DomainError
     ├── Invalid     (kind "invalid")    a request that breaks a rule: bad value, wrong state
     ├── NotFound    (kind "not_found")  the object does not exist (or is not visible)
     └── Forbidden   (kind "forbidden")  the caller may not do this
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
