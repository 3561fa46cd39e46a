"""The web console's place in the application, loaded on its first request.

``openworks.console`` (Jinja2 and the pages' modules, about 40 ms of imports) is not needed
to answer the API, ``/healthz`` or ``/metrics``, so a server does not import it at start.
:class:`ConsoleMount` is one route in the application's list that claims ``/console`` and
every path under it; the first request there (or the first ``url_path_for`` of a console
route) imports the console and builds its routes (``console_routes``) into a
:class:`~starlette.routing.Router`, which then answers this and every later request with the
request's own scope, as the routes would in the application's list: the same matches, 404,
405 and trailing-slash redirects. Building runs in the event loop with no ``await`` in it,
so it happens once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette._utils import get_route_path
from starlette.datastructures import URLPath
from starlette.routing import BaseRoute, Match, Router
from starlette.types import Receive, Scope, Send

if TYPE_CHECKING:
    from .service import Service

__all__ = ["PREFIX", "ConsoleMount"]

PREFIX = "/console"


class ConsoleMount(BaseRoute):
    """``/console`` and ``/console/…``: the console's routes, built when first used."""

    def __init__(self, service: Service) -> None:
        self._service = service
        self._router: Router | None = None

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] not in ("http", "websocket"):
            return Match.NONE, {}
        path = get_route_path(scope)  # what Starlette's own routes match
        if path == PREFIX or path.startswith(PREFIX + "/"):
            return Match.FULL, {}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        return self.router().url_path_for(name, **path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.router()(scope, receive, send)

    def router(self) -> Router:
        """The console's routes (``openworks.console.console_routes``), imported and built
        on the first call."""
        if self._router is None:
            from openworks.console import console_routes

            self._router = Router(routes=console_routes(self._service))
        return self._router
