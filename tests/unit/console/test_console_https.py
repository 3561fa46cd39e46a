"""Over HTTPS the console's cookies are Secure; every page carries the security headers."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx

from openworks.app import build_service, create_app
from openworks.config import DEV_ACCESS_KEY_ID, DEV_ACCESS_KEY_SECRET, Settings


async def _walk(app: object) -> None:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="https://console.test") as client:
        form = await client.get("/console/login")
        assert form.status_code == 200
        assert "default-src 'none'" in form.headers["content-security-policy"]
        assert form.headers["cache-control"] == "no-store"
        login_cookie = form.headers["set-cookie"]
        assert "Secure" in login_cookie and "HttpOnly" in login_cookie
        assert "SameSite=strict" in login_cookie
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert token is not None
        signed = await client.post(
            "/console/login",
            data={
                "csrf": token.group(1),
                "access_key_id": DEV_ACCESS_KEY_ID,
                "access_key_secret": DEV_ACCESS_KEY_SECRET,
                "next": "https://elsewhere.example/",
            },
        )
        assert signed.status_code == 303
        assert signed.headers["location"] == "/console/w"  # no open redirect
        session = next(
            c for c in signed.headers.get_list("set-cookie") if c.startswith("ow_session=")
        )
        assert "Secure" in session and "HttpOnly" in session and "SameSite=lax" in session
        assert "Path=/console" in session
        page = await client.get("/console/w")
        assert page.status_code == 200 and "Workspaces" in page.text
        static = await client.get("/console/static/console.css")
        assert static.status_code == 200 and "text/css" in static.headers["content-type"]
        wrong_type = await client.post(
            "/console/logout", content=b"{}", headers={"content-type": "application/json"}
        )
        assert wrong_type.status_code == 415


def test_cookies_are_secure_over_https(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/https.db", run_worker=False)
    asyncio.run(_walk(create_app(build_service(settings))))
