"""The API pipeline: one call on ``/`` through named steps, composed once.

Each stage of a call is a plain function of this module (or of server/admission.py), with
its inputs as arguments and its outcome as a return value or an
:class:`~openworks.protocol.errors.ApiError`, so that each can be tested alone. The naming
follows LocalStack's handler chain; the composition does not walk a list of handlers per
request: :func:`build_pipeline` binds the process's settings once and calls the steps in
one straight line, so a call costs what its steps cost::

    read_body ─▶ take_slot ─▶ decode ─▶ identify ─▶ resolve_operation ─▶ authenticate
    (413, 408)  (429 System)  (400)    (signature    (Action known,       (timestamp, key,
                                        present)      Version)             signature, nonce)
        ─▶ admit ─▶ type_params ─▶ handle: dispatch ─▶ render
          (429)     (400)           (the handler       (JSON,
                                     under its rule)    XML)

    an ApiError at any step ─▶ render_failure; anything else ─▶ logged, InternalError.System
    the in-flight slot given back, then ─▶ audit (writes) ─▶ observe ─▶ log_access ─▶ respond
                                          (group commit: openworks.store.audit_writer)

Where authenticate ... handle run, chosen once by server/fastpaths.py (``[ ]``: one hop to
a thread; the rest, and every other step, on the event loop)::

    inline_auth, an inline read    authenticate ─▶ admit ─▶ type_params ─▶ handle
    inline_auth, any other call    authenticate ─▶ admit ─▶ type_params ─▶ [handle]
    no inline_auth (PostgreSQL)   [authenticate ─▶ admit ─▶ type_params ─▶ handle]
                                   (authenticate_and_handle)
    no inline_auth, inline read   [authenticate] ─▶ admit ─▶ type_params ─▶ handle
    (SQLite, nonces in Redis)

In the one hop of ``authenticate_and_handle`` the limiter is asked from the thread (a
blocking one belongs off the loop anyway; MemoryLimiter takes its lock); what the call
established before a step failed (its account, a write's audit note) comes back to the
loop in its :class:`Progress`, so the answer, audit row and metrics are those of the
steps one by one.

The order is the one docs/behaviour.md ("Order of checks") promises a client. A failure
is rendered as the Alibaba Cloud error envelope in the caller's format. A write is
audited once its answer is computed (openworks.security). Every answered call is counted
for ``/metrics`` (``observe``: one counter and one histogram child, bound once per label
set, about 1 µs) and logged on one line: action, status, milliseconds, request id,
account; never a secret (with ``--log-format json`` the same as fields, and the code).

Which shortcuts a process takes (inline reads, inline authentication, the JSON fields) is
decided once in server/fastpaths.py and only read here.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from openworks.api import VERSIONS, Call, Operation, operations, resolve
from openworks.api import dispatch as run_handler
from openworks.core.model import Principal
from openworks.metrics import ApiMetrics
from openworks.protocol import (
    ApiError,
    ClientError,
    Credential,
    CredentialLookup,
    NonceCache,
    RawRequest,
    Signed,
    coerce_params,
    decode_params,
    identify,
    internal_error,
    missing_parameter,
    new_request_id,
    render_error,
    render_success,
    response_format,
)
from openworks.protocol import authenticate as verify_request
from openworks.protocol.throttle import InflightGate
from openworks.security import Security

from .admission import admit, take_slot
from .fastpaths import FastPaths
from .service import Service

__all__ = [
    "AuditNote",
    "Disconnected",
    "Progress",
    "admit",
    "audit",
    "authenticate",
    "build_pipeline",
    "decode",
    "handle",
    "header_map",
    "identify",
    "log_access",
    "operation_table",
    "read_body",
    "render",
    "render_failure",
    "resolve_operation",
    "respond",
    "take_slot",
    "type_params",
    "typed_for",
    "whose",
]

log = logging.getLogger("openworks.access")
INLINE_AUDIT_CHARS = 64 * 1024
"""Parameters up to this many characters have their audit row made on the event loop
(well under a millisecond); larger ones in a thread."""
errlog = logging.getLogger("openworks.error")


# -- read_body ------------------------------------------------------------------------------


class Disconnected(Exception):
    """The client went away before its request body arrived."""


def _too_large(limit: int) -> ClientError:
    return ClientError(
        "RequestBodyTooLarge", f"The request body exceeds the limit of {limit} bytes.", 413
    )


def _body_timeout(seconds: float) -> ClientError:
    return ClientError(
        "RequestTimeout", f"The request body did not arrive within {seconds:g} seconds.", 408
    )


def header_map(scope: MutableMapping[str, Any]) -> dict[str, str]:
    """Header names lower-cased; a repeated header's values joined with commas."""
    headers: dict[str, str] = {}
    for name, value in scope["headers"]:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        headers[key] = f"{headers[key]},{text}" if key in headers else text
    return headers


async def read_body(receive: Receive, declared: str | None, limit: int, timeout: float) -> bytes:
    """The whole body, at most ``limit`` bytes, within ``timeout`` seconds of the first
    chunk's wait (the server's own request deadline also bounds it, see serving.py).
    ``declared``: the Content-Length header, refused at once when over the limit."""
    if declared and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    message = await receive()  # the common case: the whole body in one message, at once
    chunks: list[bytes] = []
    size = 0
    deadline = time.monotonic() + timeout
    while True:
        if message["type"] == "http.disconnect":
            raise Disconnected
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


# -- decode, resolve_operation ----------------------------------------------------------------


def decode(
    scope: MutableMapping[str, Any], headers: dict[str, str], body: bytes
) -> tuple[RawRequest, dict[str, str], str]:
    """The request as the protocol layer sees it, its parameters (query string and form
    body) and the answer's format (``JSON`` or ``XML``)."""
    raw = RawRequest(scope["method"], scope["path"], scope.get("query_string", b""), headers, body)
    params = decode_params(raw)
    return raw, params, response_format(params)


@functools.cache
def operation_table() -> tuple[Operation, ...]:
    """Every operation of every served API version, read once per process."""
    return tuple(op for version in VERSIONS for op in operations(version).values())


def resolve_operation(signed: Signed) -> Operation:
    """The operation a call runs: the one its signature covers (ACS3's signed
    ``x-acs-action`` / ``x-acs-version`` headers, v1's signed parameters; signing.py).

    The only place that maps (Action, Version) to an operation: ``Action`` present, then
    :func:`openworks.api.resolve` on the pair — the version's own table and handlers
    (``InvalidApi.NotFound``; every 2024-05-18 action until that face is served), an
    unknown version ``InvalidVersion``.
    """
    action = signed.action
    if not action:
        raise missing_parameter("Action")
    return resolve(action, signed.version or "")


# -- authenticate ---------------------------------------------------------------------------


def authenticate(
    raw: RawRequest,
    params: Mapping[str, str],
    signed: Signed,
    keys: CredentialLookup,
    nonces: NonceCache,
    security: Security | None,
) -> Credential:
    """The caller's credential: timestamp, AccessKey (or STS token), signature, nonce. On
    the event loop where nothing of it waits on the network (fastpaths.py), else in a
    thread, with the steps after it (the module docstring)."""
    lookup = keys
    if security is not None:  # STS tokens (openworks.security)
        lookup = security.lookup(keys, raw, params)
    credential, _ = verify_request(raw, params, lookup, nonces, time.time(), signed=signed)
    return credential


# -- type_params, dispatch, render ----------------------------------------------------------


def type_params(operation: Operation, params: Mapping[str, str]) -> dict[str, Any]:
    """The operation's declared parameters, typed; required ones present (``coerce_params``)."""
    return coerce_params(operation.params, params)


def render(
    operation: Operation, document: dict[str, Any], request_id: str, fmt: str
) -> tuple[bytes, str]:
    """A success document with its ``RequestId``, as ``(body, content type)``."""
    document["RequestId"] = request_id
    return render_success(operation.name, document, fmt)


def handle(
    operation: Operation, call: Call, typed: dict[str, Any], request_id: str, fmt: str
) -> tuple[dict[str, Any], tuple[bytes, str]]:
    """dispatch (the handler, under its permission rule) and render: both CPU work, so
    they make one hop to a thread together, or none for an inline read."""
    document = run_handler(operation, call, typed)
    return document, render(operation, document, request_id, fmt)


def render_failure(
    err: ApiError, request_id: str, host: str, fmt: str
) -> tuple[int, str, bytes, dict[str, str]]:
    """The error envelope: ``(status, content type, body, extra headers)``."""
    status, extra, content = render_error(err, request_id, host, fmt)
    content_type = extra.pop("content-type")
    return status, content_type, content, extra


# -- audit, log_access, respond -------------------------------------------------------------


@dataclass(slots=True)
class AuditNote:
    """A write's audit record in the making: who called, the parameters as sent, and the
    typed ones once typing succeeded (then those are recorded); ``size``: the characters
    sent in those parameters (what bounding the row will walk)."""

    principal: Principal
    access_key_id: str
    sent: dict[str, Any]
    version: str
    project_param: str  # the parameter naming the workspace (2024 project operations: Id)
    size: int
    typed: dict[str, Any] | None = None

    @classmethod
    def of(
        cls, credential: Credential, principal: Principal, operation: Operation,
        params: Mapping[str, str],
    ) -> AuditNote:  # fmt: skip
        declared = {p.name: params[p.name] for p in operation.params if p.name in params}
        return cls(
            principal,
            credential.access_key_id,
            declared,
            operation.version,
            operation.project_param,
            sum(map(len, declared.values())),
        )

    @property
    def params(self) -> dict[str, Any]:
        return self.sent if self.typed is None else self.typed


@dataclass(slots=True)
class Progress:
    """What a call has established so far, kept when a later step fails, wherever the
    steps ran: the caller's account (for the access log), a write's audit note and the
    handler's document (for the audit row)."""

    account: str = "-"
    note: AuditNote | None = None
    document: dict[str, Any] | None = None


def whose(progress: Progress, credential: Credential) -> Principal:
    """The authenticated caller; its account noted."""
    principal = credential.principal
    assert isinstance(principal, Principal)
    progress.account = principal.account_id
    return principal


def typed_for(
    progress: Progress, credential: Credential, principal: Principal, operation: Operation,
    params: Mapping[str, str], security: Security | None,
) -> dict[str, Any]:  # fmt: skip
    """type_params, a write's audit note taken first (a write refused here is audited with
    the parameters as sent) and given the typed ones after."""
    if security is not None and not operation.is_read:
        progress.note = AuditNote.of(credential, principal, operation, params)
    typed = type_params(operation, params)
    if progress.note is not None:
        progress.note.typed = dict(typed)
    return typed


async def audit(
    security: Security,
    note: AuditNote,
    action: str,
    status: int,
    code: str,
    request_id: str,
    document: dict[str, Any] | None,
) -> None:
    """One audit row for a write, answered or refused; never raises. The row is made here
    and committed by the process's audit writer together with the rows due at the same
    time (openworks.store.audit_writer); this returns once it is committed. A row of large
    parameters is made in a thread (bounding walks what was sent: ~20 ms for 4 MiB of
    text), a small one on the loop. A full queue: the call waits in a thread for room."""
    entry = security.audit_entry(
        principal=note.principal,
        access_key_id=note.access_key_id,
        action=action,
        params=note.params,
        version=note.version,
        project_param=note.project_param,
        status=status,
        code=code,
        request_id=request_id,
        document=document,
    )
    writer = security.writer
    if note.size <= INLINE_AUDIT_CHARS:
        item = writer.queued(entry)
    else:
        item = await run_in_threadpool(writer.queued, entry)
    if not writer.offer(item):
        await run_in_threadpool(writer.put, item)
    await asyncio.wrap_future(item.future)


def log_access(
    action: str, status: int, code: str, ms: float, request_id: str, account: str,
    json_fields: bool,
) -> None:  # fmt: skip
    """The call's access-log line; ``json_fields``: with the fields of a JSON line
    (logformat.py), 3 µs a call, so only when the log format is JSON."""
    if json_fields:
        log.info(
            "%s %d %.1fms %s account=%s", action, status, ms, request_id, account,
            extra={"request_id": request_id, "action": action, "account": account,
                   "status": status, "code": code, "ms": round(ms, 1)},
        )  # fmt: skip
    else:
        log.info("%s %d %.1fms %s account=%s", action, status, ms, request_id, account)


async def respond(
    send: Send, status: int, content_type: str, content: bytes, headers: dict[str, str]
) -> None:
    """The answer, in two ASGI messages (no Response object)."""
    raw = [
        (b"content-type", content_type.encode("latin-1")),
        (b"content-length", str(len(content)).encode("latin-1")),
        *((k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": content})


# -- the composition -------------------------------------------------------------------------


def build_pipeline(service: Service, metrics: ApiMetrics, fast: FastPaths) -> ASGIApp:
    """The pipeline as one ASGI function: the steps above, in order, with this process's
    settings (frozen) and fast paths bound once; the service's parts are read per call."""
    settings = service.settings
    gate = InflightGate(settings.max_inflight)
    max_body, read_timeout = settings.max_body_bytes, settings.read_timeout
    inline_reads, inline_auth, json_fields = fast.inline_reads, fast.inline_auth, fast.json_fields
    observe = metrics.observe

    def authenticate_and_handle(
        progress: Progress, raw: RawRequest, params: Mapping[str, str], signed: Signed,
        action: str, operation: Operation, request_id: str, fmt: str,
    ) -> tuple[bytes, str]:  # fmt: skip
        """authenticate ─▶ admit ─▶ type_params ─▶ handle, in one hop to a thread: for a
        process whose authentication waits on the network (no ``inline_auth``)."""
        security = service.security
        credential = authenticate(raw, params, signed, service.keys, service.nonces, security)
        principal = whose(progress, credential)
        if service.limiter is not None:  # already off the loop: asked here (module docstring)
            service.limiter.admit(progress.account, action, operation.is_read)
        typed = typed_for(progress, credential, principal, operation, params, security)
        call = Call(service.core, principal)
        progress.document, rendered = handle(operation, call, typed, request_id, fmt)
        return rendered

    async def pipeline(scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        request_id = new_request_id()
        fmt, action = "JSON", "-"
        headers = header_map(scope)
        extra: dict[str, str] = {}
        progress = Progress()  # the account, a write's audit note, the document
        code = "OK"
        entered = False
        try:
            # The body first, under its deadline: a client trickling its body in holds no
            # in-flight slot (issue 13), only its own connection.
            body = await read_body(receive, headers.get("content-length"), max_body, read_timeout)
            take_slot(gate)
            entered = True
            raw, params, fmt = decode(scope, headers, body)
            signed = identify(raw, params)
            action = signed.action or "-"
            operation = resolve_operation(signed)
            if not inline_auth and operation not in inline_reads:  # one hop for the rest
                content, content_type = await run_in_threadpool(
                    authenticate_and_handle,
                    progress, raw, params, signed, action, operation, request_id, fmt,
                )  # fmt: skip
            else:  # the steps one by one, each on the loop or in a thread
                security = service.security
                if inline_auth:
                    credential = authenticate(
                        raw, params, signed, service.keys, service.nonces, security
                    )
                else:  # the replay check (and a key lookup) waits on the network
                    credential = await run_in_threadpool(
                        authenticate, raw, params, signed, service.keys, service.nonces, security
                    )
                principal = whose(progress, credential)
                if service.limiter is not None:
                    await admit(service.limiter, progress.account, action, operation.is_read)
                typed = typed_for(progress, credential, principal, operation, params, security)
                call = Call(service.core, principal)
                if operation in inline_reads:
                    progress.document, (content, content_type) = handle(
                        operation, call, typed, request_id, fmt
                    )
                else:
                    progress.document, (content, content_type) = await run_in_threadpool(
                        handle, operation, call, typed, request_id, fmt
                    )
            status = 200
        except Disconnected:
            metrics.refused("body_disconnected")
            return
        except ApiError as err:
            code = err.code
            status, content_type, content, extra = render_failure(
                err, request_id, headers.get("host", ""), fmt
            )
        except Exception:
            errlog.exception("unexpected error, request %s action %s", request_id, action)
            code = "InternalError.System"
            status, content_type, content, extra = render_failure(
                internal_error(), request_id, headers.get("host", ""), fmt
            )
        finally:
            if entered:
                gate.leave()
        note = progress.note  # a write's audit row
        if note is not None and service.security is not None:
            await audit(service.security, note, action, status, code, request_id, progress.document)
            metrics.sync_audit()  # a failed audit write, counted by store/audit.py
        elapsed = (time.perf_counter() - started) * 1000
        observe(action, code, status, elapsed / 1000)
        log_access(action, status, code, elapsed, request_id, progress.account, json_fields)
        await respond(
            send, status, content_type, content, {"x-acs-request-id": request_id, **extra}
        )

    return pipeline
