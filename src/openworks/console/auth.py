"""Signing in and out of the console.

::

    GET  /console/login   sets a short-lived ``ow_login`` cookie holding a random token and
                          renders both sign-in forms with that token (login CSRF)
    POST /console/login   token must equal the cookie ─▶ AccessKey pair  ─┐
                                                     └▶ name + password ─┴▶ new session:
                          cookie ``ow_session`` (HttpOnly, SameSite=Lax, Secure over HTTPS),
                          303 to where the user was going
    POST /console/logout  CSRF-checked; deletes the session row and the cookie

A wrong AccessKey ID, a wrong secret, a disabled key or user, or a wrong password all get
the same answer (401, "not valid"), so the page does not tell which part was wrong. After
10 failures within 5 minutes for one identity or one client address, sign-ins for it are
refused (429) until the window has passed (:mod:`openworks.console.attempts`).
"""

from __future__ import annotations

import hmac
import secrets

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from openworks.core.model import Principal
from openworks.store.console_auth import check_password, end_session, start_session

from .attempts import SignInAttempts
from .inputs import check_query
from .web import SESSION_COOKIE, Console, Refused, SignedIn, read_form, safe_next

__all__ = ["LOGIN_COOKIE", "SESSION_HOURS", "login_form", "login_submit", "logout"]

LOGIN_COOKIE = "ow_login"
SESSION_HOURS = 12
# Failed sign-ins per identity and per client address (see console/attempts.py).
ATTEMPTS = SignInAttempts(limit=10, window=300.0)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


async def _render_login(
    console: Console, request: Request, status: int = 200, error: str | None = None
) -> Response:
    token = request.cookies.get(LOGIN_COOKIE) or ""
    if len(token) < 32 or len(token) > 100:
        token = secrets.token_urlsafe(32)
    response = await console.page(
        "login.html",
        status,
        session=None,
        csrf=token,
        error=error,
        next=safe_next(request.query_params.get("next")),
    )
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=3600,
        path="/console",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    return response


async def login_form(console: Console, request: Request) -> Response:
    try:
        check_query(request.query_params)
    except Refused as err:
        return await console.error(err)
    if await console.session_of(request) is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), 303)
    return await _render_login(console, request)


def _authenticate(console: Console, form: dict[str, str]) -> tuple[str, str | None] | None:
    """(user id, AccessKey id or None) for valid credentials, else None."""
    service = console.service
    key_id = form.get("access_key_id", "").strip()
    if key_id:
        credential = service.keys(key_id) if len(key_id) <= 128 else None
        secret = form.get("access_key_secret", "")
        if credential is None or not credential.active:
            return None
        if not hmac.compare_digest(secret.encode(), credential.secret.encode()):
            return None
        if not isinstance(credential.principal, Principal):
            return None
        return credential.principal.user_id, key_id
    name = form.get("user_name", "").strip()
    password = form.get("password", "")
    if not name or not password or len(name) > 128 or len(password) > 1024:
        return None
    user = check_password(service.engine, service.settings.account_id, name, password)
    return (user.user_id, None) if user is not None else None


async def login_submit(console: Console, request: Request) -> Response:
    try:
        check_query(request.query_params)
        form = await read_form(request)
    except Refused as err:
        return await console.error(err)
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    sent = form.get("csrf", "")
    if not cookie or not hmac.compare_digest(sent.encode(), cookie.encode()):
        return await console.error(
            Refused(
                403,
                "Form expired",
                "The sign-in form's security token is missing or does not match. "
                "Reload the sign-in page and try again.",
            )
        )
    identity = form.get("access_key_id", "").strip() or form.get("user_name", "").strip()
    address = request.client.host if request.client else ""
    wait = ATTEMPTS.wait_seconds(identity, address)
    if wait > 0:
        minutes = max(1, round(wait / 60))
        return await _render_login(
            console, request, 429,
            f"Too many failed sign-ins. Try again in about {minutes} minute(s).",
        )  # fmt: skip
    found = await run_in_threadpool(_authenticate, console, form)
    if found is None:
        ATTEMPTS.failed(identity, address)
        what = (
            "AccessKey ID or AccessKey Secret"
            if form.get("access_key_id")
            else "user name or password"
        )
        return await _render_login(console, request, 401, f"The {what} is not valid.")
    ATTEMPTS.succeeded(identity)
    user_id, key_id = found
    lifetime = SESSION_HOURS * 3600
    token, _csrf = await run_in_threadpool(
        start_session, console.service.engine, user_id, key_id, lifetime * 1000
    )
    response = RedirectResponse(safe_next(form.get("next")), 303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=lifetime,
        path="/console",
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    response.delete_cookie(LOGIN_COOKIE, path="/console")
    return response


async def logout(console: Console, signed: SignedIn) -> Response:
    await run_in_threadpool(end_session, console.service.engine, signed.token)
    response = RedirectResponse("/console/login", 303)
    response.delete_cookie(
        SESSION_COOKIE,
        path="/console",
        httponly=True,
        samesite="lax",
        secure=_secure(signed.request),
    )
    return response
