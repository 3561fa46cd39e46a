"""The ASGI application: the request pipeline, ``/healthz``, ``/readyz``, ``/metrics`` and
the worker's lifetime.

One API request goes through::

    request id ─▶ body limit ─▶ decode params ─▶ action + version ─▶ authenticate
        ─▶ type params (operation table) ─▶ handler (thread pool) ─▶ render JSON / XML

Every failure on the way is an :class:`~openworks.protocol.errors.ApiError` rendered as the
Alibaba Cloud error envelope; anything else is logged with the request id and answered with
``InternalError.System``. One log line per request: action, status, milliseconds, request
id, account; never a secret (with ``--log-format json`` the same as fields, and the code).
Every answered call is counted for ``/metrics`` (openworks.metrics): one counter and one
histogram child, bound once per label set, about 1 µs.

``/healthz`` says the process runs (liveness); ``/readyz`` that it can serve: the database
and Redis (when configured) answer (openworks.readiness).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_thread
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from openworks import serving
from openworks.api import API_VERSION, HANDLERS, Call, dispatch, operations
from openworks.api.spec import Operation
from openworks.core.context import Core
from openworks.core.model import Principal
from openworks.protocol import (
    ApiError,
    ClientError,
    Credential,
    CredentialLookup,
    MemoryNonceCache,
    NonceCache,
    RawRequest,
    api_not_found,
    authenticate,
    coerce_params,
    decode_params,
    identify,
    internal_error,
    invalid_version,
    missing_parameter,
    new_request_id,
    render_error,
    render_success,
    response_format,
)
from openworks.protocol.throttle import InflightGate, Limiter, overloaded
from openworks.security import Security
from openworks.store import SqlStore, make_engine, migrate
from openworks.store.db import is_sqlite
from openworks.store.identity import (
    ensure_account,
    ensure_key,
    lookup_key,
    seal_plaintext_secrets,
)
from openworks.store.secrets import SecretBox, load_server_key
from openworks.worker import Worker

from .config import Settings, configure_logging
from .metrics import Exporter, exposure
from .readiness import Readiness
from .throttling import admit, build_limiter

__all__ = ["App", "KeyCache", "Service", "app_from_env", "build_service", "create_app"]

log = logging.getLogger("openworks.access")

# Threads that run handlers that write (and every handler on PostgreSQL); few, because
# handlers are CPU-bound Python under one GIL. The database pool is sized above this.
API_THREADS = 4
errlog = logging.getLogger("openworks.error")


class KeyCache:
    """AccessKey lookups, remembered for ``ttl`` seconds (a disabled key stops within it).

    Bounded in bytes, not only entries: at most ``max_bytes`` of key ids and secrets
    (misses included), the oldest entries evicted first. Key ids reach it only after
    :func:`~openworks.protocol.signing.identify` checked their shape (≤ 128 characters).
    """

    _OVERHEAD = 256  # bytes of tuple, Credential and dict slot per entry, roughly

    def __init__(
        self, engine: Engine, box: SecretBox, ttl: float = 2.0, max_bytes: int = 4 << 20
    ) -> None:
        self.engine = engine
        self.box = box
        self.ttl = ttl
        self.max_bytes = max_bytes
        self._cache: dict[str, tuple[float, Credential | None, int]] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def size_bytes(self) -> int:
        """Estimated bytes held (key ids, secrets and per-entry overhead)."""
        return self._bytes

    def __call__(self, access_key_id: str) -> Credential | None:
        now = time.monotonic()
        hit = self._cache.get(access_key_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        record = lookup_key(self.engine, self.box, access_key_id)
        credential = None
        if record is not None:
            principal = Principal(record.account_id, record.user_id, record.user_name)
            credential = Credential(record.access_key_id, record.secret, record.active, principal)
        size = (
            self._OVERHEAD + 2 * len(access_key_id) + (len(credential.secret) if credential else 0)
        )
        with self._lock:
            old = self._cache.pop(access_key_id, None)
            if old is not None:
                self._bytes -= old[2]
            while self._cache and self._bytes + size > self.max_bytes:
                _oldest, evicted = self._pop_oldest()
                self._bytes -= evicted[2]
            self._cache[access_key_id] = (now + self.ttl, credential, size)
            self._bytes += size
        return credential

    def _pop_oldest(self) -> tuple[str, tuple[float, Credential | None, int]]:
        oldest = next(iter(self._cache))
        return oldest, self._cache.pop(oldest)

    def clear(self) -> None:
        """Forget every remembered lookup (test control's reset removes keys)."""
        with self._lock:
            self._cache.clear()
            self._bytes = 0


@dataclass
class Service:
    """Everything one server process holds."""

    settings: Settings
    engine: Engine
    core: Core
    worker: Worker
    keys: KeyCache
    nonces: NonceCache
    root_key_id: str
    dev_key: bool
    limiter: Limiter | None = None  # per-account rate limits; None = throttling off
    security: Security | None = None  # STS credentials and the audit trail


def make_nonce_cache(settings: Settings, engine: Engine) -> NonceCache:
    """The replay cache this process shares with its siblings (see Settings.nonce_store)."""
    store = settings.resolved_nonce_store()
    if store == "redis":
        from openworks.store.nonces import RedisNonceCache

        return RedisNonceCache.from_url(settings.redis_url or "", settings.redis_timeout)
    if store == "database":
        from openworks.store.nonces import DatabaseNonceCache

        return DatabaseNonceCache(engine)
    return MemoryNonceCache()


def build_service(settings: Settings) -> Service:
    """Open the database, apply migrations, register the root key, prepare the worker."""
    key_id, secret, dev = settings.root_key()
    exposure(settings)  # an unusable --metrics / token: ConfigError before anything opens
    limiter = build_limiter(settings)
    engine = make_engine(settings.database_url)
    migrate(engine)
    box = SecretBox(load_server_key(settings.database_url))  # secrets sealed at rest
    seal_plaintext_secrets(engine, box)
    ensure_account(engine, settings.account_id)
    ensure_key(engine, box, settings.account_id, key_id, secret)
    core = Core(SqlStore(engine, box))
    worker = Worker(core)
    core.on_package = worker.notify
    return Service(
        settings,
        engine,
        core,
        worker,
        KeyCache(engine, box),
        make_nonce_cache(settings, engine),
        key_id,
        dev,
        limiter=limiter,
        security=Security(engine, box),
    )


def _headers(scope: MutableMapping[str, Any]) -> dict[str, str]:
    """Header names lower-cased; a repeated header's values joined with commas."""
    headers: dict[str, str] = {}
    for name, value in scope["headers"]:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        headers[key] = f"{headers[key]},{text}" if key in headers else text
    return headers


def _too_large(limit: int) -> ClientError:
    return ClientError(
        "RequestBodyTooLarge", f"The request body exceeds the limit of {limit} bytes.", 413
    )


class _Disconnected(Exception):
    """The client went away before its request body arrived."""


def _body_timeout(seconds: float) -> ClientError:
    return ClientError(
        "RequestTimeout", f"The request body did not arrive within {seconds:g} seconds.", 408
    )


async def _read_body(receive: Receive, declared: str | None, limit: int, timeout: float) -> bytes:
    """The whole body, at most ``limit`` bytes, within ``timeout`` seconds of the first
    chunk's wait (the server's own request deadline also bounds it, see serving.py)."""
    if declared and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    message = await receive()  # the common case: the whole body in one message, at once
    chunks: list[bytes] = []
    size = 0
    deadline = time.monotonic() + timeout
    while True:
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _body_timeout(timeout)
        with anyio.move_on_after(remaining) as scope:
            message = await receive()
        if scope.cancelled_caught:
            raise _body_timeout(timeout)


async def _respond(
    send: Send, status: int, content_type: str, content: bytes, headers: dict[str, str]
) -> None:
    raw = [
        (b"content-type", content_type.encode("latin-1")),
        (b"content-length", str(len(content)).encode("latin-1")),
        *((k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": content})


def _leaves(tree: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(tree, dict):
        for name, value in tree.items():
            if isinstance(value, dict | list):
                yield from _leaves(value)
            else:
                yield name, value
    elif isinstance(tree, list) and tree:
        yield from _leaves(tree[0])


def _small_read(name: str, response: dict[str, Any]) -> bool:
    """A Get of bounded size: no file content in its answer, no bare text ``Data``."""
    if not name.startswith("Get") or not isinstance(response.get("Data"), dict | list):
        return False
    return not any(leaf.endswith("Content") for leaf, _ in _leaves(response))


def _run(
    operation: Operation, call: Call, typed: dict[str, Any], request_id: str, fmt: str
) -> tuple[dict[str, Any], tuple[bytes, str]]:
    """The handler and the rendering of its answer (both CPU work: in a thread unless the
    read is small, see ``create_app``)."""
    document = dispatch(operation, call, typed)
    document["RequestId"] = request_id
    return document, render_success(operation.name, document, fmt)


class _AsAsgi:
    """Marks a function as a plain ASGI app for Starlette's Route (not request/response)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


class App(Starlette):
    """Starlette for ``/healthz``, the console and test control; API calls (GET or POST on
    ``/``) go straight to the pipeline's ASGI function, without routing, middleware or
    Request/Response objects (about 30 µs a call)."""

    api: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        api = self.api
        if (
            api is not None
            and scope["type"] == "http"
            and scope["path"] == "/"
            and scope["method"] in ("GET", "POST")
        ):
            await api(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(service: Service) -> Starlette:
    settings = service.settings
    table = operations()
    gate = InflightGate(settings.max_inflight)
    # SQLite reads (WAL) never wait for writers; the small ones run on the event loop,
    # skipping the thread hand-off and threads racing for the GIL around every sqlite3
    # call (measured: 12 threads cost 2.7x the CPU per read of one). Lists (counts over
    # many rows) and reads that carry file content go to threads like every write, so
    # that no call can hold the loop for long (issue 13).
    # Authentication on the loop only where it never waits on the network: nonces in this
    # process's memory, keys looked up in SQLite on a cache miss.
    auth_inline = isinstance(service.nonces, MemoryNonceCache) and is_sqlite(settings.database_url)
    inline = (
        frozenset(name for name, op in table.items() if _small_read(name, op.response))
        if is_sqlite(settings.database_url)
        else frozenset()
    )

    exporter = Exporter(settings, service.engine, list(table))
    observe = exporter.api.observe  # counters and histogram (openworks.metrics)
    serving.on_refusal(exporter.api.refused_status)  # 431/408 answered by the HTTP layer
    readiness = Readiness(service.engine, settings.redis_url, settings.redis_timeout)
    structured = settings.log_format == "json"

    async def api(scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        request_id = new_request_id()
        fmt, action, account = "JSON", "-", "-"
        headers = _headers(scope)
        host = headers.get("host", "")
        extra: dict[str, str] = {}
        audited: tuple[Principal, str, dict[str, Any]] | None = None  # writes: audit trail
        result: dict[str, Any] | None = None
        code = "OK"
        entered = False
        try:
            # The body first, under its deadline: a client trickling its body in holds no
            # in-flight slot (issue 13), only its own connection.
            length = headers.get("content-length")
            body = await _read_body(receive, length, settings.max_body_bytes, settings.read_timeout)
            entered = gate.try_enter()  # throttling: bound on requests in flight
            if not entered:
                raise overloaded(gate.limit)
            query = scope.get("query_string", b"")
            raw = RawRequest(scope["method"], scope["path"], query, headers, body)
            params = decode_params(raw)
            fmt = response_format(params)
            # The operation that runs is the one the signature covers: ACS3's signed
            # x-acs-action / x-acs-version headers, v1's signed parameters (signing.py).
            signed = identify(raw, params)
            action = signed.action or "-"
            if action == "-":
                raise missing_parameter("Action")
            operation = table.get(action)
            if operation is None or action not in HANDLERS:
                raise api_not_found(action)
            version = signed.version or ""
            if version != API_VERSION:
                raise invalid_version(version)
            keys: CredentialLookup = service.keys
            if service.security is not None:  # STS tokens (openworks.security)
                keys = service.security.lookup(service.keys, raw, params)
            if auth_inline:
                credential, _ = authenticate(
                    raw, params, keys, service.nonces, time.time(), signed=signed
                )
            else:  # the replay check (and a key lookup) waits on the network
                credential, _ = await run_in_threadpool(
                    functools.partial(
                        authenticate, raw, params, keys, service.nonces, time.time(), signed=signed
                    )
                )
            principal = credential.principal
            assert isinstance(principal, Principal)
            account = principal.account_id
            # throttling: per-account limits. An admitted call counts toward the daily cap
            # even when it fails further down, as DataWorks counts it.
            if service.limiter is not None:
                await admit(service.limiter, account, action, operation.is_read)
            if not operation.is_read:
                declared = {p.name: params[p.name] for p in operation.params if p.name in params}
                audited = (principal, credential.access_key_id, declared)
            typed = coerce_params(operation.params, params)
            if audited is not None:
                audited = (principal, credential.access_key_id, dict(typed))
            call = Call(service.core, principal)
            if action in inline:
                document, (content, content_type) = _run(operation, call, typed, request_id, fmt)
            else:
                document, (content, content_type) = await run_in_threadpool(
                    _run, operation, call, typed, request_id, fmt
                )
            result = document
            status = 200
        except _Disconnected:
            exporter.api.refused("body_disconnected")
            return
        except ApiError as err:
            code = err.code
            status, extra, content = render_error(err, request_id, host, fmt)
            content_type = extra.pop("content-type")
        except Exception:
            errlog.exception("unexpected error, request %s action %s", request_id, action)
            code = "InternalError.System"
            status, extra, content = render_error(internal_error(), request_id, host, fmt)
            content_type = extra.pop("content-type")
        finally:
            if entered:
                gate.leave()
        if audited is not None and service.security is not None:
            who, key_id, audit_params = audited
            await run_in_threadpool(
                functools.partial(
                    service.security.audit,
                    principal=who,
                    access_key_id=key_id,
                    action=action,
                    params=audit_params,
                    status=status,
                    code=code,
                    request_id=request_id,
                    document=result,
                )
            )
            exporter.api.sync_audit()  # a failed audit write, counted by store/audit.py
        elapsed = (time.perf_counter() - started) * 1000
        observe(action, code, status, elapsed / 1000)
        if structured:  # the fields of a JSON log line (logformat.py); 3 µs, so only then
            log.info(
                "%s %d %.1fms %s account=%s", action, status, elapsed, request_id, account,
                extra={"request_id": request_id, "action": action, "account": account,
                       "status": status, "code": code, "ms": round(elapsed, 1)},
            )  # fmt: skip
        else:
            log.info("%s %d %.1fms %s account=%s", action, status, elapsed, request_id, account)
        await _respond(
            send, status, content_type, content, {"x-acs-request-id": request_id, **extra}
        )

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
        if inline and isinstance(store, SqlStore):
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
            if isinstance(store, SqlStore):
                store.release_connection()

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/", _AsAsgi(api), methods=["GET", "POST"]),  # what App.__call__ skips to
    ]
    if exporter.mode != "off":  # off: /metrics is not there (404)
        routes.append(Route("/metrics", metrics, methods=["GET"]))
    app = App(routes=routes, lifespan=lifespan)
    app.api = api
    app.state.service = service
    # -- web console (issue 8): pages under /console ------------------------------------
    from openworks.console import console_routes

    app.router.routes.extend(console_routes(service))
    # -- end web console ---------------------------------------------------------------
    # -- test control (issue 9): /_openworks/ only with --control ----------------------
    if settings.control:
        from openworks.control import control_routes

        app.router.routes[:0] = control_routes(service)
    # -- end test control --------------------------------------------------------------
    return app


def app_from_env() -> Starlette:
    """ASGI factory for ``serve --workers N``: settings from ``OPENWORKS_*`` variables."""
    settings = Settings.from_env()
    configure_logging("info", settings.log_format)
    serving.configure(settings.read_timeout)
    return create_app(build_service(settings))
