"""What the console accepts in paths and query strings, checked before anything runs.

The console validates like the API, with the same integer conversion
(:func:`openworks.protocol.params.to_int`: optional sign and ASCII digits only, within the
type's range), so no value can reach the database that it cannot hold::

    any query name or value    no NUL (U+0000), at most MAX_QUERY_VALUE characters ─▶ else 400
    ids in the path            ASCII digits, a signed 64-bit value (workspace, package,
                               file ids are Long in the API)                        ─▶ else 404
    integers in the query      to_int, 32-bit (page, version) or 64-bit (times)   ─▶ else 400

A malformed id in a path names nothing, hence 404; a malformed query value is a bad request,
hence 400. Neither is ever a 500.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import QueryParams

from openworks.protocol.errors import ClientError
from openworks.protocol.params import to_int

__all__ = ["MAX_QUERY_VALUE", "Refused", "check_query", "path_id", "query_int"]

MAX_QUERY_VALUE = 4096  # characters, as the API's text parameters


class Refused(Exception):
    """A request the console answers with an error page (status, title, message)."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


def check_query(query: QueryParams) -> None:
    """Refuse a query string with NUL anywhere or with an over-long name or value."""
    for name, value in query.multi_items():
        if "\x00" in name or "\x00" in value:  # PostgreSQL text cannot hold it
            raise Refused(400, "Bad request", "The address must not contain the NUL character.")
        if len(name) > MAX_QUERY_VALUE or len(value) > MAX_QUERY_VALUE:
            raise Refused(
                400, "Bad request", f"A query value may hold {MAX_QUERY_VALUE} characters."
            )


def path_id(params: Mapping[str, object], name: str, what: str) -> int:
    """The id named ``name`` in the path, or a 404 page for ``what`` ("workspace"...)."""
    text = params.get(name)
    if isinstance(text, str) and text.isascii() and text.isdigit():
        try:
            return to_int(name, text, 64)
        except ClientError:
            pass
    raise Refused(404, "Not found", f"No such {what}.")


def query_int(name: str, text: str, bits: int = 32) -> int:
    """A query value as a ``bits``-bit integer, or a 400 page that says what is wrong."""
    try:
        return to_int(name, text, bits)
    except ClientError as err:
        raise Refused(400, "Bad request", err.message) from None
