"""Response bodies: success documents and the Alibaba Cloud error envelope.

::

    render_success(action, document, fmt) -> (body, content-type)
        JSON  application/json;charset=utf-8   orjson
        XML   application/xml;charset=utf-8    <{action}Response>...</{action}Response>

    render_error(err, request_id, host_id, fmt) -> (status, headers, body)
        JSON  application/json;charset=utf-8   error_document(...)
        XML   text/xml;charset=utf-8 (exact)   <Error>...</Error>

Error document fields: ``RequestId``, ``HostId``, ``Code``, ``Message``, ``Recommend``,
``HttpStatusCode``, ``ErrorCode`` (= Code), ``ErrorMessage`` (= Message), ``Success``
(false).

XML mapping: a mapping becomes nested elements; a list repeats its element once per item
(``<Items>a</Items><Items>b</Items>``, nested lists are flattened the same way); ``None``
omits the element; booleans are ``true``/``false``; other scalars use ``str()``. Text is
escaped (``& < >`` and carriage return) and characters that XML 1.0 cannot carry are
replaced by U+FFFD. Keys that are not XML names (this renderer accepts
``[A-Za-z_][A-Za-z0-9._-]*``) are **skipped** with their whole subtree, so the output
is always well-formed; an action that is not an XML name gives the root ``<Response>``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from urllib.parse import quote

import orjson

from .errors import ApiError

__all__ = [
    "ERROR_XML_CONTENT_TYPE",
    "JSON_CONTENT_TYPE",
    "XML_CONTENT_TYPE",
    "error_document",
    "new_request_id",
    "render_error",
    "render_success",
    "response_format",
]

JSON_CONTENT_TYPE = "application/json;charset=utf-8"
XML_CONTENT_TYPE = "application/xml;charset=utf-8"
ERROR_XML_CONTENT_TYPE = "text/xml;charset=utf-8"
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
_XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9._-]*")
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})


def new_request_id() -> str:
    """A fresh request id in the service's style (upper-case UUID 4).

    122 bits from the ``random`` module (seeded from the OS at import and again in a forked
    child), not ``uuid.uuid4()``: an id only has to be unique, and the system call behind
    ``uuid4`` costs more than the rest of this function on every request.
    """
    n = random.getrandbits(128) & _V4_CLEAR | _V4_SET
    h = f"{n:032X}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_V4_CLEAR = ~((0xF << 76) | (0x3 << 62))  # version nibble and variant bits
_V4_SET = (0x4 << 76) | (0x2 << 62)


def response_format(params: Mapping[str, str]) -> str:
    """``"XML"`` if the ``Format`` parameter asks for it, else ``"JSON"``."""
    fmt = params.get("Format", "")
    return "XML" if fmt.isascii() and fmt.lower() == "xml" else "JSON"


def _xml_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = value if isinstance(value, str) else str(value)
    return _XML_ILLEGAL.sub("\ufffd", text).translate(_XML_ESCAPES)


def _xml_element(name: str, value: object, out: list[str]) -> None:
    if value is None or _XML_NAME.fullmatch(name) is None:
        return
    if isinstance(value, list | tuple):
        for item in value:
            _xml_element(name, item, out)
        return
    out.append(f"<{name}>")
    if isinstance(value, Mapping):
        _xml_children(value, out)
    else:
        out.append(_xml_text(value))
    out.append(f"</{name}>")


def _xml_children(document: Mapping[str, object], out: list[str]) -> None:
    for key, value in document.items():
        _xml_element(str(key), value, out)


def _xml_document(root: str, document: Mapping[str, object]) -> bytes:
    out = [_XML_DECLARATION, f"<{root}>"]
    _xml_children(document, out)
    out.append(f"</{root}>")
    return "".join(out).encode("utf-8")


def render_success(action: str, document: Mapping[str, object], fmt: str) -> tuple[bytes, str]:
    """Serialise a success document; returns ``(body, content-type)``."""
    if fmt == "XML":
        root = f"{action}Response" if _XML_NAME.fullmatch(action) else "Response"
        return _xml_document(root, document), XML_CONTENT_TYPE
    return orjson.dumps(document), JSON_CONTENT_TYPE


def error_document(
    err: ApiError,
    request_id: str,
    host_id: str,
    product: str = "dataworks-public",
) -> dict[str, object]:
    """The error envelope both SDK families read (``Code``/``Message``/``RequestId``...)."""
    recommend = (
        f"https://api.aliyun.com/troubleshoot?q={quote(err.code, safe='')}"
        f"&product={quote(product, safe='')}&requestId={quote(request_id, safe='')}"
    )
    return {
        "RequestId": request_id,
        "HostId": host_id,
        "Code": err.code,
        "Message": err.message,
        "Recommend": recommend,
        "HttpStatusCode": err.status,
        "ErrorCode": err.code,
        "ErrorMessage": err.message,
        "Success": False,
    }


def render_error(
    err: ApiError,
    request_id: str,
    host_id: str,
    fmt: str,
    *,
    product: str = "dataworks-public",
) -> tuple[int, dict[str, str], bytes]:
    """Serialise an error; returns ``(status, headers, body)``."""
    document = error_document(err, request_id, host_id, product)
    if fmt == "XML":
        body, content_type = _xml_document("Error", document), ERROR_XML_CONTENT_TYPE
    else:
        body, content_type = orjson.dumps(document), JSON_CONTENT_TYPE
    headers = {**err.headers, "content-type": content_type}
    return err.status, headers, body
