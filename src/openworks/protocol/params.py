"""Request parameters: decoding the wire form, then typing the operation's parameters.

Two steps, both raising only :class:`~openworks.protocol.errors.ApiError`::

    RawRequest ──decode_params──> {"Action": "...", "PageSize": "10", ...}   (all strings)
                                           │
    [ParamSpec, ...] ──coerce_params───────┘──> {"PageSize": 10, "Tags": [...]}  (typed,
                                                 declared names only)

``decode_params`` merges the query string and the form body. The body is read as a form
when its ``content-type`` media type is ``application/x-www-form-urlencoded`` (parameters
such as ``charset`` are ignored), or when there is **no** ``content-type`` at all and the
non-empty body looks like a form: it contains ``=`` and only bytes that a form encoder
emits (letters, digits, ``%+=&._~*-!'()/:,;@$?``). Any other body (JSON, XML, binary...)
contributes no parameters. A name may appear several times, in the query, the body or
both, as long as every occurrence carries the same value.

``coerce_params`` keeps only the declared parameters (common parameters such as
``Action`` or ``Signature`` and unknown names are ignored) and converts them:

============  ===============================================================
``str``       as received (an empty string is a value)
``int``       optional sign and ASCII decimal digits (no superscript, full-width or
              other Unicode digits), within the signed ``bits`` range (32 for the
              contract's Integer, 64 for Long) and ``minimum``/``maximum`` if set
``int_list``  a string of comma-separated ``int`` values (spaces around elements
              and one trailing comma allowed), each within the same range, at most
              ``max_items`` of them; typed as ``list[int]``
``bool``      ``true`` / ``false`` in any letter case (SDKs send ``True``)
``float``     decimal or exponent notation, finite
``list``      JSON array (compact or ``json.dumps`` style) of at most ``max_items``
              elements; with ``items`` every element is an object whose declared
              fields are type-checked (``int`` fields: signed 64-bit) and whose other
              keys are dropped (``null`` fields are dropped too)
``dict``      JSON object
``any``       as received
============  ===============================================================

Every text is first held to ``max_length`` characters, so no conversion ever works on
more than that. Out-of-range values are ``InvalidParameter`` with the range in the message
("must be between 1 and 100"); nothing unbounded reaches a handler or the database.

No name or value may contain NUL (U+0000), nor a list or dict value its JSON escape:
PostgreSQL text cannot hold it, so both backends refuse it alike. For every type except ``str`` an
empty string counts as absent. ``required`` and
``one_of`` (at least one of the group present) are then checked, in declaration order.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import orjson

from .encoding import parse_form
from .errors import invalid_parameter, missing_parameter
from .request import RawRequest

__all__ = [
    "COMMON_PARAMETERS",
    "INT32_RANGE",
    "INT64_RANGE",
    "MAX_ITEMS",
    "PARAM_TYPES",
    "ParamSpec",
    "coerce_params",
    "decode_params",
    "int_range",
    "to_int",
    "to_int_list",
]

COMMON_PARAMETERS: frozenset[str] = frozenset(
    {
        "Action",
        "Version",
        "Format",
        "RegionId",
        "AccessKeyId",
        "SignatureMethod",
        "SignatureVersion",
        "SignatureNonce",
        "SignatureType",
        "Timestamp",
        "Signature",
        "SecurityToken",
        "BearerToken",
    }
)

PARAM_TYPES: frozenset[str] = frozenset(
    {"str", "int", "int_list", "bool", "float", "list", "dict", "any"}
)
# Most elements of a list parameter (JSON array or comma-separated) unless it says fewer.
MAX_ITEMS = 1000
_ITEM_TYPES = frozenset({"str", "int", "bool", "float", "any"})
_FORM_TYPE = "application/x-www-form-urlencoded"
_FORMISH = re.compile(rb"[A-Za-z0-9%+=&._~*\-!'()/:,;@$?]+")
_INT = re.compile(r"[+-]?[0-9]+", re.ASCII)
_FLOAT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1


_NUL = "must not contain the NUL character (U+0000)"
_JSON_TYPES = ("list", "dict")


def _body_is_form(raw: RawRequest) -> bool:
    if not raw.body:
        return False
    content_type = raw.headers.get("content-type")
    if content_type is not None:
        return content_type.split(";", 1)[0].strip().lower() == _FORM_TYPE
    return b"=" in raw.body and _FORMISH.fullmatch(raw.body) is not None


def decode_params(raw: RawRequest) -> dict[str, str]:
    """Merge query-string and form-body parameters into one ``name -> value`` map."""
    pairs = parse_form(raw.query_string)
    if _body_is_form(raw):
        pairs += parse_form(raw.body)
    merged: dict[str, str] = {}
    for name, value in pairs:
        if "\x00" in value or "\x00" in name:
            raise invalid_parameter(name.replace("\x00", ""), _NUL)
        seen = merged.setdefault(name, value)
        if seen != value:
            raise invalid_parameter(name, "given more than once with different values")
    return merged


INT32_RANGE: tuple[int, int] = (-(2**31), 2**31 - 1)
INT64_RANGE: tuple[int, int] = (_INT_MIN, _INT_MAX)


def int_range(bits: int, minimum: int | None = None, maximum: int | None = None) -> tuple[int, int]:
    """The signed ``bits``-bit range (32 or 64), narrowed to ``minimum``/``maximum``."""
    low, high = INT32_RANGE if bits == 32 else INT64_RANGE
    return (low if minimum is None else max(low, minimum)), (
        high if maximum is None else min(high, maximum)
    )


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """Declaration of one operation parameter."""

    name: str
    type: str
    required: bool = False
    one_of: tuple[str, ...] | None = None
    items: Mapping[str, str] | str | None = None
    """A ``list``'s elements: objects with these typed fields, or scalars of one type."""
    max_length: int = 1_048_576
    bits: int = 64
    minimum: int | None = None
    maximum: int | None = None
    max_items: int = MAX_ITEMS

    def __post_init__(self) -> None:
        if self.type not in PARAM_TYPES:
            raise ValueError(f"unknown parameter type {self.type!r} for {self.name}")
        kinds = {self.items} if isinstance(self.items, str) else set((self.items or {}).values())
        if not kinds <= _ITEM_TYPES:
            raise ValueError(f"unknown item type in {self.name}: {self.items!r}")
        if self.bits not in (32, 64):
            raise ValueError(f"{self.name}: bits must be 32 or 64, not {self.bits}")
        low, high = int_range(self.bits, self.minimum, self.maximum)
        if low > high:
            raise ValueError(f"{self.name}: empty range {low}..{high}")
        if self.max_items < 0:
            raise ValueError(f"{self.name}: max_items must be 0 or more")

    @property
    def bounds(self) -> tuple[int, int]:
        """The accepted range of an ``int`` (or each ``int_list`` element)."""
        return int_range(self.bits, self.minimum, self.maximum)


def to_int(
    name: str,
    text: str,
    bits: int = 64,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    """``text`` as a signed ``bits``-bit integer (32 or 64), optionally narrowed to
    ``minimum``..``maximum``: optional sign and ASCII digits only (no superscript or
    full-width digits), else ``InvalidParameter`` naming ``name`` (with the range when the
    number is out of it). The one conversion the API, the console and the CLI share."""
    low, high = int_range(bits, minimum, maximum)
    if _INT.fullmatch(text) is None:
        raise invalid_parameter(name, "must be an integer")
    digits = text.lstrip("+-").lstrip("0")
    if len(digits) > 19:  # also keeps int() away from its digit limit
        raise invalid_parameter(name, f"must be between {low} and {high}")
    number = (-1 if text.startswith("-") else 1) * int(digits or "0")
    if not low <= number <= high:
        raise invalid_parameter(name, f"must be between {low} and {high}")
    return number


def to_int_list(
    name: str,
    text: str,
    bits: int = 64,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    max_items: int = MAX_ITEMS,
) -> list[int]:
    """Comma-separated integers (``"10, 23,"``), each as :func:`to_int` reads it, at most
    ``max_items`` of them; blank text is an empty list."""
    parts = text.split(",", max_items + 1)
    if not parts[-1].strip():
        parts.pop()  # one trailing comma, or blank text
    if len(parts) > max_items:
        raise invalid_parameter(name, f"must list at most {max_items} integers")
    numbers = []
    for part in parts:
        element = part.strip()
        if _INT.fullmatch(element) is None:
            raise invalid_parameter(name, "must be a comma-separated list of integers")
        numbers.append(to_int(name, element, bits, minimum=minimum, maximum=maximum))
    return numbers


def _to_int(spec: ParamSpec, text: str) -> int:
    return to_int(spec.name, text, spec.bits, minimum=spec.minimum, maximum=spec.maximum)


def _to_int_list(spec: ParamSpec, text: str) -> list[int]:
    return to_int_list(
        spec.name,
        text,
        spec.bits,
        minimum=spec.minimum,
        maximum=spec.maximum,
        max_items=spec.max_items,
    )


def _to_bool(name: str, text: str) -> bool:
    folded = text.lower() if text.isascii() else ""
    if folded == "true":
        return True
    if folded == "false":
        return False
    raise invalid_parameter(name, "must be true or false")


def _to_float(name: str, text: str) -> float:
    if _FLOAT.fullmatch(text) is None:
        raise invalid_parameter(name, "must be a number")
    number = float(text)
    if not math.isfinite(number):
        raise invalid_parameter(name, "is out of range")
    return number


def _parse_json(name: str, text: str) -> object:
    try:
        return orjson.loads(text)
    except (ValueError, TypeError, RecursionError):
        raise invalid_parameter(name, "must be valid JSON text") from None


def _item_ok(kind: str, value: object) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            and INT64_RANGE[0] <= value <= INT64_RANGE[1]
        )
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return True


def _to_list(spec: ParamSpec, text: str) -> list[object]:
    value = _parse_json(spec.name, text)
    if not isinstance(value, list):
        raise invalid_parameter(spec.name, "must be a JSON array")
    if len(value) > spec.max_items:
        raise invalid_parameter(spec.name, f"must have at most {spec.max_items} elements")
    if spec.items is None:
        return value
    if isinstance(spec.items, str):
        return [_scalar_item(spec, spec.items, index, v) for index, v in enumerate(value, 1)]
    result: list[object] = []
    for index, element in enumerate(value, start=1):
        if not isinstance(element, dict):
            raise invalid_parameter(spec.name, f"element {index} must be a JSON object")
        kept: dict[str, object] = {}
        for field, kind in spec.items.items():
            field_value = element.get(field)
            if field_value is None:
                continue
            if not _item_ok(kind, field_value):
                raise invalid_parameter(
                    spec.name, f"field {field} of element {index} must be of type {kind}"
                )
            kept[field] = field_value
        result.append(kept)
    return result


def _scalar_item(spec: ParamSpec, kind: str, index: int, value: object) -> object:
    """One element of a list of scalars. A ``str`` element may arrive as a JSON integer
    (ids were Long before the 2024 SDK 8.0.0): it becomes its decimal text."""
    if kind == "str" and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        low, high = spec.bounds
        if not low <= value <= high:
            raise invalid_parameter(spec.name, f"element {index} must be between {low} and {high}")
        return value
    if not _item_ok(kind, value):
        raise invalid_parameter(spec.name, f"element {index} must be of type {kind}")
    if isinstance(value, str) and len(value) > spec.max_length:
        raise invalid_parameter(
            spec.name, f"element {index} must be at most {spec.max_length} characters"
        )
    return value


def _to_dict(name: str, text: str) -> dict[str, object]:
    value = _parse_json(name, text)
    if not isinstance(value, dict):
        raise invalid_parameter(name, "must be a JSON object")
    return value


def _convert(spec: ParamSpec, text: str) -> object:
    if spec.type == "int":
        return _to_int(spec, text)
    if spec.type == "int_list":
        return _to_int_list(spec, text)
    if spec.type == "bool":
        return _to_bool(spec.name, text)
    if spec.type == "float":
        return _to_float(spec.name, text)
    if spec.type == "list":
        return _to_list(spec, text)
    if spec.type == "dict":
        return _to_dict(spec.name, text)
    return text


def coerce_params(specs: Sequence[ParamSpec], params: Mapping[str, str]) -> dict[str, object]:
    """Type the declared parameters of one operation; see the module docstring."""
    result: dict[str, object] = {}
    for spec in specs:
        if spec.name in COMMON_PARAMETERS:
            continue
        text = params.get(spec.name)
        if text is None or (text == "" and spec.type != "str"):
            continue
        if len(text) > spec.max_length:
            raise invalid_parameter(spec.name, f"is longer than {spec.max_length} characters")
        if "\x00" in text or (spec.type in _JSON_TYPES and "\\u0000" in text.lower()):
            raise invalid_parameter(spec.name, _NUL)
        result[spec.name] = _convert(spec, text)
    for spec in specs:
        if spec.name in COMMON_PARAMETERS:
            continue
        if spec.required and spec.name not in result:
            raise missing_parameter(spec.name)
        group = spec.one_of
        if group and not any(name in result for name in group):
            raise missing_parameter(" or ".join(group))
    return result
