"""Strict ``application/x-www-form-urlencoded`` decoding and RFC 3986 encoding.

Both signature schemes depend on these two directions being exact::

    b"a=x+y%2F%E4%B8%AD&b="  --parse_form-->  [("a", "x y/中"), ("b", "")]
    "x y/中"                  --percent_encode-->  "x%20y%2F%E4%B8%AD"

Decoding rules (query string and form body alike):

* pairs are separated by ``&``; empty segments (``a=1&&b=2``) are skipped;
* a segment without ``=`` is a name with an empty value (``SignatureType`` == ``SignatureType=``);
* ``+`` is a space, ``%XX`` a byte; a ``%`` not followed by two hex digits is rejected;
* the decoded bytes must be valid UTF-8; an empty name is rejected.

Every rejection is an :class:`~openworks.protocol.errors.ClientError` (``InvalidParameter``).
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote_to_bytes

from .errors import invalid_parameter

__all__ = ["parse_form", "percent_encode"]

_BAD_PERCENT = re.compile(rb"%(?![0-9A-Fa-f]{2})")


def _decode(part: bytes, name: str | None) -> str:
    try:
        if b"%" not in part and b"+" not in part:  # nothing escaped: most names and values
            return part.decode("utf-8")
        if _BAD_PERCENT.search(part):
            raise invalid_parameter(_label(name), "contains a malformed percent-escape")
        return unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        raise invalid_parameter(_label(name), "is not valid UTF-8 after percent-decoding") from None


def _label(name: str | None) -> str:
    return name if name is not None else "(parameter name)"


def parse_form(data: bytes) -> list[tuple[str, str]]:
    """Decode a query string or form body into ``(name, value)`` pairs, in order."""
    pairs: list[tuple[str, str]] = []
    for segment in data.split(b"&"):
        if not segment:
            continue
        raw_name, _, raw_value = segment.partition(b"=")
        name = _decode(raw_name, None)
        if not name:
            raise invalid_parameter("(parameter name)", "a parameter name is empty")
        pairs.append((name, _decode(raw_value, name)))
    return pairs


def percent_encode(text: str) -> str:
    """RFC 3986 encoding: UTF-8, keep only ``A-Z a-z 0-9 - _ . ~``, uppercase hex."""
    return quote(text, safe="~", encoding="utf-8", errors="surrogatepass")
