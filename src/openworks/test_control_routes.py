"""The test-control API under the reserved prefix ``/_openworks/`` (``serve --control``).

Mounted only when ``Settings.control`` is on (``openworks serve --control`` or
``OPENWORKS_CONTROL=1``; always in :mod:`openworks.testing`). Every request must carry the
root AccessKey as HTTP Basic credentials (``Authorization: Basic base64(id:secret)``,
``curl -u ID:SECRET``); both halves are compared in constant time. Bodies are JSON objects.

=========================  ====================================================  =========
route                      body                                                  answers
=========================  ====================================================  =========
GET  /_openworks/state     —                                                     the state
POST /_openworks/reset     —                                                     the state
POST /_openworks/seed      {"seed": n}              reset, IDs restart from n    the state
POST /_openworks/mode      {"mode": "instant"|"delay"|"manual", "delay_ms": n}   the state
POST /_openworks/release   {"deployment_id": id} or {} for every held package    released
POST /_openworks/fail-next {"n": 1, "message": "...", "item_status": 2}          the state
=========================  ====================================================  =========

Errors are ``{"Code", "Message", "RequestId"}`` with 400 (bad body), 401 (credentials) or
404 (unknown route under the prefix).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import MetaData
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from openworks.core import test_control as control
from openworks.core.errors import DomainError
from openworks.protocol import new_request_id
from openworks.store.test_control_reset import MAX_SEED, reset_database

if TYPE_CHECKING:
    from openworks.server.service import Service

__all__ = ["PREFIX", "control_routes"]

PREFIX = "/_openworks"
Handler = Callable[[dict[str, Any]], Any]


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _json(document: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(document), status, headers, media_type="application/json")


def _authorized(request: Request, key_id: str, secret: str) -> bool:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        given_id, sep, given_secret = base64.b64decode(value, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    ok_id = hmac.compare_digest(given_id.encode(), key_id.encode())
    ok_secret = hmac.compare_digest(given_secret.encode(), secret.encode())
    return bool(sep) and ok_id and ok_secret


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > 64 * 1024:
        raise _Refused(400, "InvalidBody", "The control request body is too large.")
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise _Refused(400, "InvalidBody", "The body must be a JSON object.") from None
    if not isinstance(body, dict):
        raise _Refused(400, "InvalidBody", "The body must be a JSON object.")
    return body


def _int(body: dict[str, Any], name: str, default: int | None = None) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Refused(400, "InvalidBody", f"{name} must be an integer.")
    return value


def control_routes(service: Service) -> list[BaseRoute]:
    core = service.core
    root_id, root_secret, _dev = service.settings.root_key()
    tables = MetaData()  # reflected once, on the first reset

    def state_document() -> dict[str, Any]:
        return asdict(control.control_state(core))

    def reset(seed: int) -> dict[str, Any]:
        if not 0 <= seed <= MAX_SEED:
            raise _Refused(400, "InvalidBody", f"seed must be between 0 and {MAX_SEED}.")
        reset_database(service.engine, service.settings.account_id, root_id, seed, tables)
        service.keys.clear()
        return state_document()

    def do_state(_body: dict[str, Any]) -> Any:
        return state_document()

    def do_reset(_body: dict[str, Any]) -> Any:
        return reset(control.control_state(core).seed)

    def do_seed(body: dict[str, Any]) -> Any:
        return reset(_int(body, "seed"))

    def do_mode(body: dict[str, Any]) -> Any:
        mode = body.get("mode")
        if not isinstance(mode, str):
            raise _Refused(400, "InvalidBody", "mode must be instant, delay or manual.")
        return asdict(control.set_mode(core, mode, _int(body, "delay_ms", 0)))

    def do_release(body: dict[str, Any]) -> Any:
        wanted = body.get("deployment_id")
        package_id = None if wanted is None else _int(body, "deployment_id")
        return {"released": control.release(core, package_id)}

    def do_fail_next(body: dict[str, Any]) -> Any:
        message = body.get("message", "")
        if not isinstance(message, str):
            raise _Refused(400, "InvalidBody", "message must be a string.")
        n, item_status = _int(body, "n", 1), _int(body, "item_status", 2)
        return asdict(control.fail_next(core, n, message, item_status))

    def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            request_id = new_request_id()
            try:
                if not _authorized(request, root_id, root_secret):
                    raise _Refused(
                        401,
                        "InvalidCredentials",
                        "The control API needs the root AccessKey as HTTP Basic credentials.",
                    )
                body = await _body(request)
                result = await run_in_threadpool(handler, body)
            except _Refused as err:
                headers = {"WWW-Authenticate": 'Basic realm="openworks"'}
                return _json(
                    {"Code": err.code, "Message": err.message, "RequestId": request_id},
                    err.status,
                    headers if err.status == 401 else None,
                )
            except DomainError as err:
                document = {"Code": err.code, "Message": err.message, "RequestId": request_id}
                return _json(document, 400)
            service.worker.notify()
            return _json(result)

        return run

    async def unknown(request: Request) -> Response:
        return _json(
            {
                "Code": "NotFound",
                "Message": f"No control route {request.method} {request.url.path}.",
                "RequestId": new_request_id(),
            },
            404,
        )

    table: list[tuple[str, str, Handler]] = [
        ("GET", "state", do_state),
        ("POST", "reset", do_reset),
        ("POST", "seed", do_seed),
        ("POST", "mode", do_mode),
        ("POST", "release", do_release),
        ("POST", "fail-next", do_fail_next),
    ]
    routes: list[BaseRoute] = [
        Route(f"{PREFIX}/{name}", endpoint(handler), methods=[method])
        for method, name, handler in table
    ]
    routes.append(Route(PREFIX + "/{rest:path}", unknown, methods=["GET", "POST"]))
    return routes
