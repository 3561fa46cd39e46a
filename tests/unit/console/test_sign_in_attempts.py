"""Failed console sign-ins are limited per identity and per client address."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx

from openworks.app import build_service, create_app
from openworks.config import DEV_ACCESS_KEY_ID, DEV_ACCESS_KEY_SECRET, Settings
from openworks.console import auth
from openworks.console.attempts import SignInAttempts


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_limit_per_identity_and_window() -> None:
    clock = Clock()
    attempts = SignInAttempts(limit=3, window=60, clock=clock)
    for _ in range(3):
        assert attempts.wait_seconds("Alice", "10.0.0.1") == 0
        attempts.failed("Alice", "10.0.0.1")
    assert attempts.wait_seconds("alice", "10.0.0.2") == 60  # same identity, any address
    assert attempts.wait_seconds("bob", "10.0.0.1") == 60  # same address, any identity
    assert attempts.wait_seconds("bob", "10.0.0.3") == 0
    clock.now += 59
    assert attempts.wait_seconds("alice", "10.0.0.2") == 1
    clock.now += 1
    assert attempts.wait_seconds("alice", "10.0.0.1") == 0


def test_success_clears_the_identity() -> None:
    attempts = SignInAttempts(limit=2, window=60, clock=Clock())
    attempts.failed("carol", "a")
    attempts.succeeded("carol")
    attempts.failed("carol", "b")
    assert attempts.wait_seconds("carol", "c") == 0


async def _sign_in(client: httpx.AsyncClient, secret: str) -> httpx.Response:
    form = await client.get("/console/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token is not None
    data = {"csrf": token.group(1), "access_key_id": DEV_ACCESS_KEY_ID,
            "access_key_secret": secret}  # fmt: skip
    return await client.post("/console/login", data=data)


def test_console_refuses_after_ten_failures_even_with_the_right_secret(
    tmp_path: Path,
) -> None:
    service = build_service(Settings(database_url=f"sqlite:///{tmp_path / 'c.db'}"))
    original = auth.ATTEMPTS
    auth.ATTEMPTS = SignInAttempts(limit=10, window=300)

    async def run() -> list[int]:
        transport = httpx.ASGITransport(app=create_app(service))
        async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as c:
            codes = [(await _sign_in(c, "wrong")).status_code for _ in range(10)]
            codes.append((await _sign_in(c, DEV_ACCESS_KEY_SECRET)).status_code)
            return codes

    try:
        codes = asyncio.run(run())
    finally:
        auth.ATTEMPTS = original
        service.engine.dispose()
    assert codes[:10] == [401] * 10
    assert codes[10] == 429
