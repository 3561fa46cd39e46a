"""The request pipeline composed, in process: unexpected errors and the body limit."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from openworks.api import registry
from openworks.config import Settings
from openworks.server import build_service, create_app
from tests.dbutil import fresh_database_url, postgres_base
from tests.unit.protocol.signer import sign_v1, v1_query

KEY, SECRET = "openworks-dev-key", "openworks-dev-secret"


def post(app: object, action: str, body: dict[str, str] | None = None,
         extra: bytes = b"") -> httpx.Response:  # fmt: skip
    raw = sign_v1(SECRET, v1_query(KEY, uuid.uuid4().hex, time.time(), action), body)

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as c:
            return await c.post(
                "/?" + raw.query_string.decode(), content=raw.body + extra,
                headers=dict(raw.headers),
            )  # fmt: skip

    return asyncio.run(go())


@pytest.fixture
def app(tmp_path: Path) -> Iterator[object]:
    url = fresh_database_url("app") if postgres_base() else f"sqlite:///{tmp_path / 'a.db'}"
    service = build_service(Settings(database_url=url, max_body_bytes=2048))
    yield create_app(service)
    service.engine.dispose()


def test_unexpected_error_is_internal_error_without_details(
    app: object, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(call: object, params: object) -> dict[str, object]:
        raise RuntimeError("secret internals: /etc/passwd")

    monkeypatch.setitem(registry.HANDLERS, "ListProjects", broken)
    with caplog.at_level(logging.ERROR, logger="openworks.error"):
        response = post(app, "ListProjects")
    document = json.loads(response.content)
    assert response.status_code == 500 and document["Code"] == "InternalError.System"
    assert "passwd" not in response.text and "Traceback" not in response.text
    assert any(document["RequestId"] in r.getMessage() for r in caplog.records)
    assert any(r.exc_info for r in caplog.records)


def test_body_over_the_limit_is_413(app: object) -> None:
    response = post(app, "ListProjects", {"PageSize": "1"}, extra=b"&x=" + b"a" * 4096)
    document = json.loads(response.content)
    assert response.status_code == 413 and document["Code"] == "RequestBodyTooLarge"
    assert document["RequestId"]
