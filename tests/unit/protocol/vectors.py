"""Loading the captured SDK requests (data/signature_vectors.json) as RawRequests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from openworks.protocol import RawRequest

DATA = Path(__file__).parent / "data" / "signature_vectors.json"
VECTORS: list[dict[str, Any]] = json.loads(DATA.read_text(encoding="utf-8"))["vectors"]


def raw_from_vector(vector: dict[str, Any]) -> RawRequest:
    path, _, query = vector["path"].partition("?")
    headers: dict[str, str] = {}
    for name, value in vector["headers"]:
        key = name.lower()
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    return RawRequest(
        method=vector["method"],
        path=path,
        query_string=query.encode("ascii"),
        headers=headers,
        body=vector["body"].encode("utf-8"),
    )


def replace_header(raw: RawRequest, name: str, value: str | None) -> RawRequest:
    headers = dict(raw.headers)
    if value is None:
        headers.pop(name, None)
    else:
        headers[name] = value
    return RawRequest(raw.method, raw.path, raw.query_string, headers, raw.body)
