"""The ASGI application: ``/`` to the pipeline, everything else through Starlette's routes.

::

    App.__call__ ─┬─ http, path "/" ─┬─ GET, POST, HEAD ──▶ the pipeline (server/pipeline.py):
                  │                  │                      no routing, middleware, Request
                  │                  │                      or Response (about 30 µs a call)
                  │                  └─ other methods ───▶ 405 (Allow: GET, HEAD, POST)
                  └─ anything else ──▶ Starlette: /_openworks/… (test control, --control
                                       only), /healthz, /readyz, /metrics, /console/…,
                                       /resources/sha256/… (server/downloads.py)

``/`` is served here once; no route of the router matches it. ``/healthz`` says the process
runs (liveness); ``/readyz`` that it can serve: the database and Redis (when configured)
answer (openworks.readiness). ``/metrics`` is off, open or behind a bearer token
(openworks.metrics). The console (``/console/…``) is imported on its first request
(server/console_mount.py). The lifespan sizes the thread pool, lends the event loop a
connection for inline reads, starts the worker and freezes start-up objects out of the
collector.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from openworks import serving
from openworks.config import Settings, configure_logging
from openworks.metrics import Exporter
from openworks.readiness import Readiness
from openworks.store import SqlStore

from .console_mount import ConsoleMount
from .downloads import download_routes
from .fastpaths import API_THREADS, choose_fast_paths
from .pipeline import build_pipeline, operation_table
from .service import Service, build_service

__all__ = ["API_METHODS", "App", "app_from_env", "create_app"]

API_METHODS = frozenset({"GET", "POST", "HEAD"})  # HEAD: as Starlette routes it with GET
_NOT_ALLOWED = PlainTextResponse(
    "Method Not Allowed", status_code=405, headers={"Allow": "GET, HEAD, POST"}
)


class App(Starlette):
    """Starlette for ``/healthz``, ``/readyz``, ``/metrics``, the console and test control;
    API calls on ``/`` go straight to :attr:`api`, the pipeline's ASGI function."""

    api: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        api = self.api
        if api is not None and scope["type"] == "http" and scope["path"] == "/":
            if scope["method"] in API_METHODS:
                await api(scope, receive, send)
            else:
                await _NOT_ALLOWED(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(service: Service) -> Starlette:
    """The application of one process: the pipeline on ``/`` and the routes around it."""
    settings = service.settings
    table = operation_table()
    fast = choose_fast_paths(settings, service.nonces, table)
    exporter = Exporter(settings, service.engine, sorted({op.name for op in table}))
    serving.on_refusal(exporter.api.refused_status)  # 431/408 answered by the HTTP layer
    readiness = Readiness(service.engine, settings.redis_url, settings.redis_timeout)

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> Response:
        ready, checks = await readiness.check()
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
            headers={"cache-control": "no-store"},
        )

    async def metrics(request: Request) -> Response:
        if not exporter.authorized(request.headers.get("authorization")):
            return PlainTextResponse(
                "A bearer token is required (OPENWORKS_METRICS_TOKEN).\n",
                status_code=401,
                headers={"www-authenticate": 'Bearer realm="openworks metrics"'},
            )
        content, content_type = await exporter.scrape(request.headers.get("accept", ""))
        return Response(
            content, headers={"content-type": content_type, "cache-control": "no-store"}
        )

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        # Handlers are CPU-bound Python under one GIL: more threads than pooled database
        # connections only adds hand-offs and pool waits.
        anyio.to_thread.current_default_thread_limiter().total_tokens = API_THREADS
        store = service.core.store
        if fast.inline_reads and isinstance(store, SqlStore):
            store.keep_connection()  # this (the event loop's) thread runs the reads
        if settings.run_worker:
            service.worker.start()
        # Everything built so far lives as long as the process: keep it out of the cyclic
        # collector's full passes, which otherwise stall requests for tens of milliseconds.
        gc.freeze()
        try:
            yield
        finally:
            service.worker.stop()
            service.close()  # the audit rows still queued are written
            if isinstance(store, SqlStore):
                store.release_connection()

    # -- web console (issue 8): pages under /console, imported on their first request ---
    console = ConsoleMount(service)
    # -- test control (issue 9): /_openworks/ only with --control, matched first ---------
    control: list[BaseRoute] = []
    if settings.control:
        from openworks.test_control_routes import control_routes

        control = control_routes(service)
    routes: list[BaseRoute] = [
        *control,
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
    if exporter.mode != "off":  # off: /metrics is not there (404)
        routes.append(Route("/metrics", metrics, methods=["GET"]))
    routes.extend(download_routes(service.core))  # resource bytes by signed link
    routes.append(console)
    app = App(routes=routes, lifespan=lifespan)
    app.api = build_pipeline(service, exporter.api, fast)
    app.state.service = service
    return app


def app_from_env() -> Starlette:
    """ASGI factory for ``serve --workers N``: settings from ``OPENWORKS_*`` variables."""
    settings = Settings.from_env()
    configure_logging("info", settings.log_format)
    serving.configure(settings.read_timeout)
    return create_app(build_service(settings))
