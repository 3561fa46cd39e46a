"""What every console page shares: templates, sessions, CSRF, forms and error pages.

A signed-in request goes through::

    query string: no NUL, no over-long value (console/inputs.py), else 400
        ─▶ cookie ow_session ─▶ session row (unexpired, user enabled, AccessKey still active)
        ─▶ POST? form body (size-limited, no NUL) ─▶ CSRF token == the session's, else 403
        ─▶ page function: ids from the path (64-bit, else 404), domain calls in the thread
           pool, with the session's Principal, under the role-matrix rule of the API
           operation the page mirrors (ListDeployments, GetDeployment, ListFiles,
           ListFileVersions…); CPU-heavy work (diffs) in a thread of its own small pool
        ─▶ HTML rendered in the thread pool, or an error page: NotFound 404 ·
           Forbidden / not a member 403 · Invalid 400

Nothing that reads the database, renders a template or computes over file contents runs
on the event loop, so ``/healthz`` and the API keep answering while a page is built.

No session: a GET is redirected to the sign-in page (remembering where it was going), a POST
is refused with 403. Every response carries a strict Content-Security-Policy (scripts and
styles only from ``/console/static``) and ``Cache-Control: no-store``.
"""

from __future__ import annotations

import hmac
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import anyio
import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from openworks.api import rule_of
from openworks.core.access import ProjectRef, enforcing
from openworks.core.errors import DomainError, Forbidden, NotFound
from openworks.core.model import Principal
from openworks.store.console_auth import ConsoleSession, find_session

from . import labels
from .inputs import Refused, check_query

if TYPE_CHECKING:
    from openworks.server.service import Service

__all__ = [
    "MAX_FORM_BYTES",
    "SECURITY_HEADERS",
    "SESSION_COOKIE",
    "Console",
    "Page",
    "Refused",
    "SignedIn",
    "read_form",
    "safe_next",
]

SESSION_COOKIE = "ow_session"
MAX_FORM_BYTES = 64 * 1024
# Threads for work that may take long (line diffs): at most this many at once, apart from
# the pool that domain calls and the API share, so diffs cannot hold up API calls.
HEAVY_THREADS = 2
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}
TEMPLATES = Path(__file__).with_name("templates")

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The request's session, its Principal for domain calls, and its parsed form."""

    request: Request
    session: ConsoleSession
    token: str
    form: Mapping[str, str]

    @property
    def principal(self) -> Principal:
        user = self.session.user
        return Principal(user.account_id, user.user_id, user.name)

    @property
    def csrf(self) -> str:
        return self.session.csrf


Page = Callable[[SignedIn], Awaitable[Response]]


def safe_next(target: str | None) -> str:
    """A redirect target inside the console, or the workspace list."""
    if (
        target
        and target.startswith("/console/")
        and not any(c in target for c in ("\\", "\n", "\r"))
    ):
        return target
    return "/console/w"


def _status_of(err: DomainError) -> int:
    if isinstance(err, NotFound) or err.code == "Invalid.Tenant.ProjectNotExists":
        return 404
    if isinstance(err, Forbidden) or err.code == "Invalid.Tenant.UserNotInProject":
        return 403
    return 400


class Console:
    """The console's shared state: the service it shows and the template environment."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self._heavy: anyio.CapacityLimiter | None = None  # made in the event loop
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES),
            autoescape=jinja2.select_autoescape(["html"]),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals.update(
            PACKAGE_STATUS=labels.PACKAGE_STATUS,
            CHECKING=labels.CHECKING,
            ENVIRONMENTS=labels.ENVIRONMENTS,
            ITEM_STATUS=labels.ITEM_STATUS,
            CHECK_RESULT=labels.CHECK_RESULT,
            badge=labels.badge,
            item_tone=labels.item_tone,
            checking_tone=labels.checking_tone,
            check_result_tone=labels.check_result_tone,
            is_final=labels.is_final,
            file_type_name=labels.file_type_name,
            when=labels.when,
            RUN_STATUS=labels.RUN_STATUS,
            run_tone=labels.run_tone,
            stage_look=labels.stage_look,
            stage_info=labels.stage_info,
        )

    # -- rendering -----------------------------------------------------------------------

    def render(self, template: str, **context: Any) -> str:
        """The template rendered here and now (call it from a worker thread)."""
        return self.env.get_template(template).render(**context)

    async def html(self, template: str, **context: Any) -> str:
        """The template rendered in the thread pool: a page with a long file, a long diff
        or many rows takes a while, and the event loop must keep serving meanwhile."""
        return await run_in_threadpool(partial(self.render, template, **context))

    async def page(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        """The rendered template as a response, rendered and encoded in the thread pool."""

        def build() -> HTMLResponse:
            return HTMLResponse(self.render(template, **context), status, headers=SECURITY_HEADERS)

        return await run_in_threadpool(build)

    async def error(self, err: Refused, session: ConsoleSession | None = None) -> HTMLResponse:
        return await self.page(
            "error.html", err.status, title=err.title, message=err.message, session=session
        )

    async def heavy(self, fn: Callable[[], T]) -> T:
        """Run CPU-heavy ``fn`` in a thread, at most ``HEAVY_THREADS`` at once."""
        if self._heavy is None:
            self._heavy = anyio.CapacityLimiter(HEAVY_THREADS)
        return await anyio.to_thread.run_sync(fn, limiter=self._heavy)

    # -- domain calls ----------------------------------------------------------------------

    async def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a domain function in the thread pool; domain errors become error pages."""
        try:
            return await run_in_threadpool(fn, *args, **kwargs)
        except DomainError as err:
            status = _status_of(err)
            title = {404: "Not found", 403: "Not allowed"}.get(status, "Request refused")
            raise Refused(status, title, f"{err.message} ({err.code})") from err

    async def read(
        self,
        signed: SignedIn,
        operation: str,
        ref: ProjectRef,
        load: Callable[[], T],
        version: str | None = None,
    ) -> T:
        """Run ``load`` under the role matrix rule of the API operation it mirrors (of API
        ``version``; default 2020-05-18)."""
        core, principal = self.service.core, signed.principal
        rule = rule_of(operation) if version is None else rule_of(operation, version)

        def run() -> T:
            with enforcing(core, principal, operation, ref, writes=False, rule=rule):
                return load()

        return await self.call(run)

    # -- sessions ------------------------------------------------------------------------

    def _session(self, token: str | None) -> ConsoleSession | None:
        if not token or len(token) > 200:
            return None
        session = find_session(self.service.engine, token)
        if session is None:
            return None
        if session.access_key_id is not None:
            credential = self.service.keys(session.access_key_id)
            if (
                credential is None
                or not credential.active
                or not isinstance(credential.principal, Principal)
                or credential.principal.user_id != session.user.user_id
            ):
                return None
        return session

    async def session_of(self, request: Request) -> tuple[ConsoleSession, str] | None:
        token = request.cookies.get(SESSION_COOKIE)
        session = await run_in_threadpool(self._session, token)
        return (session, token) if session is not None and token else None

    def signed_in(self, page: Page) -> Callable[[Request], Awaitable[Response]]:
        """Wrap a page: require a session; for POST, parse the form and check its CSRF token."""

        async def endpoint(request: Request) -> Response:
            try:
                check_query(request.query_params)
            except Refused as err:
                return await self.error(err)
            found = await self.session_of(request)
            if found is None:
                if request.method == "GET":
                    target = request.url.path
                    if request.url.query:
                        target += "?" + request.url.query
                    query = urllib.parse.urlencode({"next": target})
                    return RedirectResponse(f"/console/login?{query}", 303)
                return await self.error(
                    Refused(403, "Not signed in", "Sign in before submitting a form.")
                )
            session, token = found
            form: Mapping[str, str] = {}
            try:
                if request.method == "POST":
                    form = await read_form(request)
                    sent = form.get("csrf", "")
                    if not hmac.compare_digest(sent.encode(), session.csrf.encode()):
                        raise Refused(
                            403,
                            "Form expired",
                            "The form's security token is missing or does not match your "
                            "session. Reload the page and try again.",
                        )
                return await page(SignedIn(request, session, token, form))
            except Refused as err:
                return await self.error(err, session)

        return endpoint


async def read_form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body as a dict (first value of each name)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise Refused(415, "Unsupported form", "Forms must be sent URL-encoded.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            raise Refused(413, "Form too large", f"A form may hold {MAX_FORM_BYTES} bytes.")
        chunks.append(chunk)
    try:
        text = b"".join(chunks).decode("utf-8")
        pairs = urllib.parse.parse_qsl(text, keep_blank_values=True, max_num_fields=50)
    except (UnicodeDecodeError, ValueError):
        raise Refused(400, "Bad form", "The form could not be read.") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if "\x00" in name or "\x00" in value:  # PostgreSQL text cannot hold it
            raise Refused(400, "Bad form", "Form fields must not contain the NUL character.")
        form.setdefault(name, value)
    return form
